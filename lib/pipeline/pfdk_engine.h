/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_ENGINE_H
#define PFDK_ENGINE_H

/**
 * @file
 * @internal
 * The io_uring engine of a poller: how it learns which of its queues have
 * faults without a syscall per queue per pass. One ring per poller, its
 * completion queue reaped by spinning.
 *
 * Read mode (a queue whose driver exposes a read fd and a parse op, on a
 * kernel with IORING_OP_READ_MULTISHOT and provided-buffer rings): one
 * multishot read stays posted on the queue's fd; each completion is a
 * buffer of whole records, kept in the queue's list until the poller has
 * parsed all of it (records read are gone from the kernel: a buffer is
 * given back to the ring only when empty). A multishot that ends (no
 * buffer left: -ENOBUFS, or any error) is posted again on the next reap.
 * The steady state has no syscall: no read(2) per receive and no re-arm.
 *
 * Poll mode (the other queues, or an older kernel): a queue is read with
 * the driver's receive while it is ready; when a receive finds it empty
 * (and the poller has nothing in flight, so a short receive for lack of
 * descriptors or credit never counts as empty) the poller arms a one-shot
 * POLL_ADD on the queue's readiness fd and stops reading it until the
 * completion. One-shot rather than multishot on purpose: a multishot poll
 * reports only transitions to readable (measured here on a timerfd: one
 * completion, then none while the fd stays readable), so a queue left
 * readable after a short read would never be reported again.
 *
 * With IORING_SETUP_SQPOLL the kernel's SQ thread (pinned with SQ_AFF to
 * the profile's sqpoll_cpu) takes the submissions and runs the completion
 * work. Without it the ring is SINGLE_ISSUER | DEFER_TASKRUN |
 * TASKRUN_FLAG where the kernel has them: completion work waits for the
 * poller (no IPI into its spinning CPU) and the poller enters the kernel
 * only when the ring's TASKRUN flag says there is work. SINGLE_ISSUER
 * rings are created disabled and enabled by the thread that steps the
 * poller, which is then their only issuer.
 */

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "pfdk_fault.h"

/** @internal A queue's state in the engine. */
struct pfdk_engine_q {
	int fd;              /**< readiness fd (poll mode) or read fd (read mode) */
	bool rd;             /**< read mode */
	bool armed;          /**< read mode: a multishot is posted */
	uint16_t head;       /**< read mode: first filled buffer, or UINT16_MAX */
	uint16_t tail;       /**< read mode: last filled buffer */
	uint32_t off;        /**< read mode: bytes of head already parsed */
};

/** @internal Engine state of one poller. */
struct pfdk_engine_uring {
	struct io_uring ring;
	bool up;                             /**< ring initialised */
	bool enabled;                        /**< issuer thread set (or not needed) */
	bool disabled;                       /**< created R_DISABLED */
	bool taskrun;                        /**< TASKRUN_FLAG: enter when flagged */
	bool stopping;                       /**< multishots cancelled */
	uint16_t nb_fds;                     /**< queues watched */
	uint16_t nb_rd;                      /**< of which in read mode */
	uint8_t ready[PFDK_FAULT_MAX_QUEUES]; /**< poll mode: look at it */
	struct pfdk_engine_q q[PFDK_FAULT_MAX_QUEUES];
	/* Provided buffers (read mode). */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	uint32_t buf_size;                   /**< bytes per buffer (whole records) */
	uint16_t nb_bufs;                    /**< power of 2 */
	uint16_t held;                       /**< filled, in a queue's list */
	uint16_t *next;                      /**< per buffer: next in its queue's list */
	uint32_t *len;                       /**< per buffer: bytes read into it */
	uint64_t arms;                       /**< polls or multishots posted */
	uint64_t reads;                      /**< read completions with data */
	uint64_t nobufs;                     /**< multishots ended for lack of buffers */
	uint64_t errors;                     /**< failed completions */
};

/** @internal What the engine may read itself, per queue. */
struct pfdk_engine_queue_conf {
	int poll_fd;        /**< readiness fd (poll mode) */
	int read_fd;        /**< read fd, or -1: poll mode only */
	uint32_t rec_size;  /**< record size of read_fd */
};

/**
 * @internal Create the ring; queues with a read fd get read mode where the
 * kernel can (@p burst records per buffer), the others poll mode.
 * @param sqpoll_cpu
 *   CPU of the SQ thread, or -1 for no SQPOLL (the poller submits itself).
 * @return 0, or a negative errno (logged).
 */
int pfdk_engine_uring_init(struct pfdk_engine_uring *e,
			   const struct pfdk_engine_queue_conf *qc,
			   uint16_t nb_fds, int sqpoll_cpu, uint16_t burst,
			   unsigned int lcore_id);

/** @internal Poll-mode queue @p i was found empty: arm its poll, stop reading it. */
void pfdk_engine_uring_wait(struct pfdk_engine_uring *e, uint16_t i);

/** @internal Reap completions: ready queues, filled buffers; re-post reads. */
void pfdk_engine_uring_reap(struct pfdk_engine_uring *e);

/** @internal Queue @p i is read through the engine (or has bytes left in it). */
static inline bool
pfdk_engine_uring_reads(const struct pfdk_engine_uring *e, uint16_t i)
{
	return e->q[i].rd || e->q[i].head != UINT16_MAX;
}

/**
 * @internal Read mode: the unparsed bytes of queue @p i's oldest buffer,
 * or NULL when it has none.
 */
static inline const void *
pfdk_engine_uring_peek(const struct pfdk_engine_uring *e, uint16_t i, uint32_t *len)
{
	const struct pfdk_engine_q *q = &e->q[i];

	if (q->head == UINT16_MAX)
		return NULL;
	*len = e->len[q->head] - q->off;
	return e->bufs + (size_t)q->head * e->buf_size + q->off;
}

/** @internal Read mode: @p n bytes of what peek gave were parsed. */
void pfdk_engine_uring_consume(struct pfdk_engine_uring *e, uint16_t i, uint32_t n);

/**
 * @internal Stop posting reads and cancel the posted ones; what was read
 * already stays to be parsed. Issuer thread.
 */
void pfdk_engine_uring_stop(struct pfdk_engine_uring *e);

/** @internal After stop: no read posted any more and every buffer parsed. */
bool pfdk_engine_uring_drained(const struct pfdk_engine_uring *e);

/** @internal Tear the ring down (its polls go with it). */
void pfdk_engine_uring_fini(struct pfdk_engine_uring *e);

#endif /* PFDK_ENGINE_H */
