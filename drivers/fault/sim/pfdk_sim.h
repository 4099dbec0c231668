/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_SIM_H
#define PFDK_SIM_H

/**
 * @file
 * The synthetic fault device, "sim": PFDK's null driver and test fixture.
 *
 * It emits PRI-like faults without any hardware: page-request groups of
 * 1..groups records (all but the last without LAST_PAGE), PASIDs, random
 * R/W/X permissions, at a given rate or as fast as the poller asks. Cookies
 * are slot numbers from 1 and are reused once a group is answered, as the
 * kernel's iommufd cookies are. It checks every response: a record passed
 * back twice, a response for a group that no longer exists (stale cookie)
 * and a code that is neither SUCCESS nor INVALID are counted, never
 * accepted, so a test can prove zero lost and zero duplicated responses.
 *
 * Devargs keys (all optional):
 * - rate=N          faults per second per queue; 0 (default) = as fast as asked
 * - groups=G        records per group drawn from 1..G (default 1, at most 64)
 * - pasids=P        PASIDs drawn from 1..P (default 16)
 * - outstanding=O   groups a queue may have unanswered, like a PRI queue's
 *                   credit (default 2048, at most 65536)
 * - total=T         records per queue, then the queue goes quiet (0 = no end)
 * - seed=S          random seed (default 1), queue q uses S + q
 * - queues=Q        most queues (default 16)
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What the simulator saw, summed over a device's queues. */
struct pfdk_sim_check {
	uint64_t records_emitted;  /**< records handed out */
	uint64_t groups_emitted;   /**< groups begun */
	uint64_t groups_answered;  /**< groups completed by respond */
	uint64_t groups_invalid;   /**< of which answered INVALID */
	uint64_t duplicates;       /**< records passed back twice */
	uint64_t stale;            /**< responses for a cookie not live (or reused) */
	uint64_t bad_code;         /**< responses with a code not 0/1 (answered INVALID) */
	uint64_t aborted;          /**< groups answered INVALID by stop */
	uint64_t outstanding;      /**< groups begun and not answered */
	uint64_t exhausted;        /**< queues that emitted their total */
};

/**
 * Read a sim device's checks (any thread; values are untorn).
 * @return 0, -ENODEV (no device), -EINVAL (not a sim device or NULL).
 */
int pfdk_sim_check_get(uint16_t dev_id, struct pfdk_sim_check *check);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_SIM_H */
