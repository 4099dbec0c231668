/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <rte_log.h>

#include "pfdk_engine.h"

RTE_LOG_REGISTER_SUFFIX(pfdk_engine_logtype, engine, INFO);
#define ENGINE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfdk_engine_logtype, \
		"pfdk.engine: " fmt "\n", ##__VA_ARGS__)

/* The SQ thread sleeps after this long without submissions. */
#define SQ_THREAD_IDLE_MS 10

static int
arm(struct pfdk_engine_uring *e, uint16_t i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (sqe == NULL) {
		/* Full SQ: push what is queued, then there is room. */
		io_uring_submit(&e->ring);
		sqe = io_uring_get_sqe(&e->ring);
		if (sqe == NULL)
			return -EBUSY;
	}
	io_uring_prep_poll_add(sqe, e->fds[i], POLLIN);
	io_uring_sqe_set_data64(sqe, i);
	return 0;
}

int
pfdk_engine_uring_init(struct pfdk_engine_uring *e, const int *fds,
		       uint16_t nb_fds, int sqpoll_cpu, unsigned int lcore_id)
{
	struct io_uring_params p;
	unsigned int entries = 1;
	uint16_t i;
	int ret;

	memset(e, 0, sizeof(*e));
	memset(&p, 0, sizeof(p));
	if (nb_fds > PFDK_FAULT_MAX_QUEUES)
		return -EINVAL;
	while (entries < 2u * nb_fds)
		entries <<= 1;
	if (sqpoll_cpu >= 0) {
		/*
		 * Without SQ_AFF the SQ thread inherits the poller's affinity
		 * and competes with it: measured at 125 faults/s.
		 */
		p.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
		p.sq_thread_cpu = (uint32_t)sqpoll_cpu;
		p.sq_thread_idle = SQ_THREAD_IDLE_MS;
	}
	ret = io_uring_queue_init_params(entries, &e->ring, &p);
	if (ret < 0) {
		ENGINE_LOG(ERR, "lcore %u: io_uring setup (%s, sq cpu %d): %s",
			   lcore_id, sqpoll_cpu >= 0 ? "SQPOLL" : "no SQPOLL",
			   sqpoll_cpu, strerror(-ret));
		return ret;
	}
	e->up = true;
	e->nb_fds = nb_fds;
	for (i = 0; i < nb_fds; i++) {
		e->fds[i] = fds[i];
		/* Ready at start: look before waiting. */
		e->ready[i] = 1;
	}
	return 0;
}

void
pfdk_engine_uring_wait(struct pfdk_engine_uring *e, uint16_t i)
{
	e->ready[i] = 0;
	if (arm(e, i) < 0) {
		/* No SQE: stay ready, i.e. fall back to polling the queue. */
		e->ready[i] = 1;
		e->errors++;
		return;
	}
	e->arms++;
	io_uring_submit(&e->ring);
}

void
pfdk_engine_uring_reap(struct pfdk_engine_uring *e)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&e->ring, head, cqe) {
		uint16_t i = (uint16_t)io_uring_cqe_get_data64(cqe);

		n++;
		if (i >= e->nb_fds)
			continue;
		if (cqe->res < 0)
			e->errors++;
		/* Readable, or the poll failed: either way look at the queue. */
		e->ready[i] = 1;
	}
	if (n != 0)
		io_uring_cq_advance(&e->ring, n);
}

void
pfdk_engine_uring_fini(struct pfdk_engine_uring *e)
{
	if (e->up)
		io_uring_queue_exit(&e->ring);
	e->up = false;
}
