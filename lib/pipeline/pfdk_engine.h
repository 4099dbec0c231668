/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_ENGINE_H
#define PFDK_ENGINE_H

/**
 * @file
 * @internal
 * The io_uring engine of a poller: how it learns which of its queues have
 * faults without a syscall per queue per pass.
 *
 * One ring per poller. A queue is read while it is ready; when a receive
 * finds it empty (and the poller has nothing in flight, so a short receive
 * for lack of descriptors or credit never counts as empty) the poller arms
 * a one-shot POLL_ADD on the queue's readiness fd and stops reading it. The
 * completion queue is reaped by spinning, with no syscall; a completion
 * makes the queue ready again. With IORING_SETUP_SQPOLL the kernel's SQ
 * thread (pinned with SQ_AFF to the profile's sqpoll_cpu) takes the arm
 * submissions and sleeps after sq_thread_idle when there are none.
 *
 * One-shot rather than multishot on purpose: a multishot poll reports only
 * transitions to readable (measured here on a timerfd: one completion,
 * then none while the fd stays readable), so a queue left readable after
 * a short read would never be reported again. A one-shot poll armed on a
 * readable fd completes at once: level semantics, nothing forgotten.
 */

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "pfdk_fault.h"

/** @internal Engine state of one poller. */
struct pfdk_engine_uring {
	struct io_uring ring;
	bool up;                             /**< ring initialised */
	uint16_t nb_fds;                     /**< queues watched */
	int fds[PFDK_FAULT_MAX_QUEUES];      /**< readiness fd per queue */
	uint8_t ready[PFDK_FAULT_MAX_QUEUES]; /**< a completion said readable */
	uint64_t arms;                       /**< polls armed */
	uint64_t errors;                     /**< failed completions */
};

/**
 * @internal Create the ring and arm a multishot poll on each fd.
 * @param sqpoll_cpu
 *   CPU of the SQ thread, or -1 for no SQPOLL (the poller submits itself).
 * @return 0, or a negative errno (logged).
 */
int pfdk_engine_uring_init(struct pfdk_engine_uring *e, const int *fds,
			   uint16_t nb_fds, int sqpoll_cpu, unsigned int lcore_id);

/** @internal Queue @p i was found empty: arm its poll, stop reading it. */
void pfdk_engine_uring_wait(struct pfdk_engine_uring *e, uint16_t i);

/** @internal Reap completions: mark their queues ready. */
void pfdk_engine_uring_reap(struct pfdk_engine_uring *e);

/** @internal Tear the ring down (its polls go with it). */
void pfdk_engine_uring_fini(struct pfdk_engine_uring *e);

#endif /* PFDK_ENGINE_H */
