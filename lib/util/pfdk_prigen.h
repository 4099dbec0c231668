/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PRIGEN_H
#define PFDK_PRIGEN_H

/**
 * @file
 * The synthetic PRI group generator that the sim driver (a fault device)
 * and the iommufd emulator (a kernel fault queue) share: one set of knobs
 * and one way of drawing a group, so the two synthetic sources produce
 * the same workloads from the same seed. Each draws the shape of a group
 * (records, PASID, permissions, first page) from one 64-bit value:
 *
 * - records: 1 + x % max_records;
 * - PASID: 1 + (x >> 8) % pasids, or 0 without PASIDs;
 * - permissions: read always, write and exec from bits 61-62, and
 *   privileged one time in 8 (bits 40-42) where the source has it;
 * - first page: (x >> 20) % (pages - max_records), so the group's pages
 *   stay inside the address space.
 *
 * Header-only and allocation-free; the state is the caller's (one per
 * queue or emulated device). Permission bits are the iommufd values,
 * which pfdk_fault's PFDK_FAULT_PERM_* share.
 */

#include <stdbool.h>
#include <stdint.h>

#include "pfdk_rand.h"

#define PFDK_PRIGEN_PERM_READ  (1u << 0)
#define PFDK_PRIGEN_PERM_WRITE (1u << 1)
#define PFDK_PRIGEN_PERM_EXEC  (1u << 2)
#define PFDK_PRIGEN_PERM_PRIV  (1u << 3)

/** The knobs, and the sequence's state. */
struct pfdk_prigen {
	uint64_t rng;          /**< pfdk_rand64() state, non-zero */
	uint32_t max_records;  /**< largest group, >= 1 */
	uint32_t pasids;       /**< PASIDs drawn from 1..pasids; 0: none */
	uint64_t pages;        /**< address space, in pages, > max_records */
	bool priv;             /**< draw the privileged permission too */
};

/** One group's shape. */
struct pfdk_prigen_group {
	uint32_t nrec;   /**< records, 1..max_records */
	uint32_t pasid;  /**< 0 when the source has no PASIDs */
	uint32_t perm;   /**< PFDK_PRIGEN_PERM_* */
	uint64_t page;   /**< first page, 0..pages - max_records - 1 */
};

/** Draw the next group of @p g's sequence into @p out. */
static inline void
pfdk_prigen_next(struct pfdk_prigen *g, struct pfdk_prigen_group *out)
{
	uint64_t x = pfdk_rand64(&g->rng);

	out->nrec = 1 + (uint32_t)(x % g->max_records);
	out->pasid = g->pasids != 0 ? 1 + (uint32_t)((x >> 8) % g->pasids) : 0;
	/* Never a request without access: read, plus the others at random. */
	out->perm = PFDK_PRIGEN_PERM_READ |
		    (uint32_t)((x >> 60) & (PFDK_PRIGEN_PERM_WRITE | PFDK_PRIGEN_PERM_EXEC));
	if (g->priv && ((x >> 40) & 7) == 0)
		out->perm |= PFDK_PRIGEN_PERM_PRIV;
	out->page = (x >> 20) % (g->pages - g->max_records);
}

#endif /* PFDK_PRIGEN_H */
