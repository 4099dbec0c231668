/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_ENGINE_H
#define PFDK_ENGINE_H

/**
 * @file
 * Engines: how a poller waits for faults on its queues.
 *
 * An engine is a table of operations (pfdk_engine_ops.h, internal) in
 * its own file, found by name in one registry (pfdk_engine.c), after
 * DPDK testpmd's struct fwd_engine and fwd_engines[]. A profile's
 * `engine =` is parsed through the registry; an engine is named by its
 * index there, which is what the constants below are.
 */

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Index of an engine in the registry: the engines PFDK ships. */
enum pfdk_engine {
	PFDK_ENGINE_BUSY = 0,        /**< spin on non-blocking receive */
	PFDK_ENGINE_EPOLL,           /**< sleep in epoll_wait when idle */
	PFDK_ENGINE_URING,           /**< io_uring with an SQPOLL thread */
	PFDK_ENGINE_URING_NOSQPOLL,  /**< io_uring, submissions by the poller */
	/**
	 * The faulting threads resolve their own faults (uffd devices created
	 * with sigbus=1: pfdk_fault_inthread_set()); the poller only sleeps.
	 */
	PFDK_ENGINE_INTHREAD,
};

/** Engines in the registry (valid indices are 0 .. count - 1). */
unsigned int pfdk_engine_count(void);

/**
 * Look an engine up by name.
 *
 * @return
 *   Its index, or -1 when no engine has that name.
 */
int pfdk_engine_by_name(const char *name);

/** Name of an engine, or "unknown" for an index not in the registry. */
const char *pfdk_engine_name(enum pfdk_engine e);

/** True for engines whose poller sleeps when idle (never spins). */
bool pfdk_engine_sleeps(enum pfdk_engine e);

/** True for engines that take a profile's sqpoll_cpu (and need it). */
bool pfdk_engine_sqpoll(enum pfdk_engine e);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_ENGINE_H */
