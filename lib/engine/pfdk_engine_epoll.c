/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine = epoll: the poller reads the queues epoll reports readable and
 * sleeps in epoll_wait when a pass found nothing. The event names the
 * queue; the pipeline's stop eventfd is in the set so a stop wakes it.
 *
 * engine = inthread waits the same way: its poller receives nothing (the
 * faulting threads resolve their own faults) and only sleeps. It is an
 * engine here because the profile names it one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "pfdk_engine_ops.h"
#include "pfdk_fault.h"

/* How long an epoll worker sleeps at most: bounds a missed wake-up. */
#define EPOLL_TIMEOUT_MS 100

#define EPOLL_MAX_QUEUES 64 /* PFDK_PROFILE_MAX_QUEUES */

struct engine_epoll {
	int epfd;
	uint16_t nb_q;
	unsigned int lcore_id;
	uint8_t ready[EPOLL_MAX_QUEUES];
};

static int
epoll_setup(struct pfdk_engine_ctx *e, const struct pfdk_engine_conf *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
	struct engine_epoll *ep;
	bool shared = false;
	uint16_t i;
	int fd;

	if (c->nb_queues > EPOLL_MAX_QUEUES)
		return -EINVAL;
	ep = rte_zmalloc("pfdk_epoll", sizeof(*ep), RTE_CACHE_LINE_SIZE);
	if (ep == NULL)
		return -ENOMEM;
	e->priv = ep;
	ep->nb_q = c->nb_queues;
	ep->lcore_id = c->lcore_id;
	ep->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0)
		return -errno;
	if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, c->stop_fd, &ev) < 0)
		return -errno;
	for (i = 0; i < c->nb_queues; i++) {
		fd = pfdk_fault_queue_fd(c->queues[i].dev_id, c->queues[i].queue_id);
		if (fd < 0) {
			ENGINE_LOG(ERR, "lcore %u: engine epoll needs a readiness fd; device %u has none",
				   c->lcore_id, c->queues[i].dev_id);
			return fd;
		}
		/* The event names the queue: only ready queues are read. */
		ev.data.u32 = i;
		if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			if (errno != EEXIST)
				return -errno;
			shared = true; /* one fd, several queues */
		}
		ep->ready[i] = 1; /* look before waiting */
	}
	/*
	 * A shared fd reports one queue only, and MANUAL stepping never
	 * waits in epoll: then read every queue each pass.
	 */
	e->ready = shared || c->manual ? NULL : ep->ready;
	return 0;
}

static void
epoll_empty(struct pfdk_engine_ctx *e, uint16_t i)
{
	e->ready[i] = 0;
	e->nb_waiting++;
}

/* Wait (bounded) or only look; mark the queues epoll reports readable. */
static void
epoll_idle(struct pfdk_engine_ctx *e, bool sleep)
{
	struct engine_epoll *ep = e->priv;
	struct epoll_event ev[EPOLL_MAX_QUEUES + 1];
	int n, k;

	n = epoll_wait(ep->epfd, ev, RTE_DIM(ev), sleep ? EPOLL_TIMEOUT_MS : 0);
	if (n < 0 && errno != EINTR)
		ENGINE_LOG(ERR, "lcore %u: epoll_wait: %s", ep->lcore_id,
			   strerror(errno));
	if (e->ready == NULL)
		return;
	for (k = 0; k < n; k++) {
		uint32_t q = ev[k].data.u32;

		if (q < ep->nb_q && !e->ready[q]) {
			e->ready[q] = 1;
			e->nb_waiting--;
		}
	}
}

static void
epoll_fini(struct pfdk_engine_ctx *e)
{
	struct engine_epoll *ep = e->priv;

	if (ep == NULL)
		return;
	if (ep->epfd >= 0)
		close(ep->epfd);
	rte_free(ep);
	e->priv = NULL;
	e->ready = NULL;
}

PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_epoll = {
	.name = "epoll",
	.sleeps = true,
	.setup = epoll_setup,
	.empty = epoll_empty,
	.idle = epoll_idle,
	.fini = epoll_fini,
};

PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_inthread = {
	.name = "inthread",
	.sleeps = true,
	.setup = epoll_setup,
	.empty = epoll_empty,
	.idle = epoll_idle,
	.fini = epoll_fini,
};
