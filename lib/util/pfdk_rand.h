/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_RAND_H
#define PFDK_RAND_H

/**
 * @file
 * xorshift64*: a tiny, fast, reproducible generator for synthetic workloads
 * (the sim driver, the iommufd emulator, tests). Not for anything that needs
 * unpredictability. State must be non-zero; one state per thread.
 */

#include <stdint.h>

/** Next value of the sequence in @p *state (non-zero). */
static inline uint64_t
pfdk_rand64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif /* PFDK_RAND_H */
