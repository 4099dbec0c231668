/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_COUNTER_H
#define PFDK_COUNTER_H

/**
 * @file
 * Single-writer counters readable from other threads.
 *
 * Every counter in PFDK has one writer (the lcore that owns the queue or
 * the ring consumer). The writer adds with a relaxed atomic store of its own
 * plain read, which compiles to an ordinary add on x86 and arm64 (no locked
 * instruction), while a reader on another lcore gets untorn values and the
 * thread sanitizer sees no race.
 */

#include <stdint.h>

/** Add @p n to @p *c; only the counter's owner may call it. */
static inline void
pfdk_counter_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/** Subtract @p n from a gauge (e.g. outstanding); owner only. */
static inline void
pfdk_counter_sub(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c - n, __ATOMIC_RELAXED);
}

/** Read a counter from any thread. */
static inline uint64_t
pfdk_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif /* PFDK_COUNTER_H */
