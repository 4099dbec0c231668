/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pipeline setup and teardown: pools, rings, devices and workers from a
 * profile, then start, stop and statistics. The workers' steps, the fast
 * path, are in pfdk_pipeline_worker.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "pfdk_counter.h"
#include "pfdk_engine_ops.h"
#include "pfdk_pipeline.h"
#include "pfdk_pipeline_priv.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_pipeline_logtype, pipeline, INFO);

static unsigned int instances;

/* Pipelines telemetry may read; guarded against destroy. */
static struct pfdk_pipeline *live[PFDK_PIPELINE_MAX_LIVE];
static rte_spinlock_t live_lock = RTE_SPINLOCK_INITIALIZER;

static void
live_set(struct pfdk_pipeline *p, bool add)
{
	unsigned int i;

	rte_spinlock_lock(&live_lock);
	for (i = 0; i < PFDK_PIPELINE_MAX_LIVE; i++) {
		if (add && live[i] == NULL) {
			live[i] = p;
			break;
		}
		if (!add && live[i] == p) {
			live[i] = NULL;
			break;
		}
	}
	rte_spinlock_unlock(&live_lock);
}

void
pfdk_pipeline_foreach_live(void (*fn)(const struct pfdk_pipeline *, void *),
			   void *arg)
{
	unsigned int i;

	rte_spinlock_lock(&live_lock);
	for (i = 0; i < PFDK_PIPELINE_MAX_LIVE; i++)
		if (live[i] != NULL)
			fn(live[i], arg);
	rte_spinlock_unlock(&live_lock);
}


static struct worker *
worker_create(struct pfdk_pipeline *p, const struct pfdk_profile_lcore *lc,
	      uint16_t idx, int socket)
{
	uint16_t burst = p->prof.burst;
	struct pfdk_fault **slots;
	struct worker *w;
	size_t sz;
	uint16_t i;

	/* One allocation: the worker, its queues and all holding areas. */
	sz = sizeof(*w) + lc->nb_queues * sizeof(struct wqueue) +
		(lc->nb_queues + 1) * burst * sizeof(struct pfdk_fault *);
	w = rte_zmalloc_socket("pfdk_worker", sz, RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	w->p = p;
	w->lcore_id = lc->lcore_id;
	w->role = lc->role;
	w->eng.ops = pfdk_engine_ops_get(lc->engine);
	w->idx = idx;
	w->burst = burst;
	w->nb_wq = lc->nb_queues;
	w->wq = (struct wqueue *)(w + 1);
	slots = (struct pfdk_fault **)(w->wq + w->nb_wq);
	w->st.held = slots;
	for (i = 0; i < w->nb_wq; i++) {
		w->wq[i].dev_id = (uint16_t)p->dev_ids[lc->queues[i].dev];
		w->wq[i].queue_id = lc->queues[i].queue;
		w->wq[i].st.held = slots + (size_t)(i + 1) * burst;
		p->owner[w->wq[i].dev_id][w->wq[i].queue_id] =
			(uint32_t)idx << 16 | i;
	}
	pfdk_hist_reset(&w->hist);
	return w;
}

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->eng.ops->fini != NULL)
		w->eng.ops->fini(&w->eng);
	rte_ring_free(w->done);
	rte_free(w);
}

/* A poller's engine, for the queues it owns. */
static int
worker_engine_setup(struct pfdk_pipeline *p, struct worker *w,
		    const struct pfdk_profile_lcore *lc)
{
	struct pfdk_engine_queue qs[PFDK_PROFILE_MAX_QUEUES];
	struct pfdk_engine_conf conf = {
		.queues = qs,
		.nb_queues = w->nb_wq,
		.burst = w->burst,
		.lcore_id = w->lcore_id,
		.sqpoll_cpu = lc->sqpoll_cpu,
		.stop_fd = p->stop_efd,
		.manual = (p->flags & PFDK_PIPELINE_F_MANUAL) != 0,
	};
	uint16_t i;

	if (w->eng.ops->setup == NULL)
		return 0;
	if (w->nb_wq > RTE_DIM(qs))
		return -EINVAL;
	for (i = 0; i < w->nb_wq; i++) {
		qs[i].dev_id = w->wq[i].dev_id;
		qs[i].queue_id = w->wq[i].queue_id;
	}
	return w->eng.ops->setup(&w->eng, &conf);
}

/* Profile node -> EAL socket id; a node this host lacks falls back to any. */
static int
node_socket(int node)
{
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_socket_id_by_idx(i) == node)
			return node;
	PIPE_LOG(WARNING, "NUMA node %d not present here: its pool and ring go on any node",
		 node);
	return SOCKET_ID_ANY;
}

static int
pools_and_rings(struct pfdk_pipeline *p)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t i;

	for (i = 0; i < p->prof.nb_nodes; i++) {
		const struct pfdk_profile_node *nd = &p->prof.nodes[i];
		int socket = node_socket(nd->node);

		if (nd->pool_cache * 3 / 2 > nd->pool_size) {
			PIPE_LOG(ERR, "%s: [node.%d] pool_cache %u needs pool_size >= %u",
				 p->prof.path, nd->node, nd->pool_cache,
				 nd->pool_cache * 3 / 2);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "pfdk%u_pool%d", p->instance, nd->node);
		p->pools[i] = pfdk_fault_pool_create(name, nd->pool_size,
						     nd->pool_cache, socket);
		if (p->pools[i] == NULL) {
			PIPE_LOG(ERR, "pool %s (%u descriptors): %s", name,
				 nd->pool_size, rte_strerror(rte_errno));
			return -rte_errno;
		}
		if (p->prof.layout != PFDK_LAYOUT_PIPELINE)
			continue;
		snprintf(name, sizeof(name), "pfdk%u_ring%d", p->instance, nd->node);
		p->rings[i] = rte_ring_create(name, nd->ring_size, socket, 0);
		if (p->rings[i] == NULL) {
			PIPE_LOG(ERR, "ring %s (%u slots): %s", name, nd->ring_size,
				 rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

static int
node_index(const struct pfdk_profile *prof, int node)
{
	uint16_t i;

	for (i = 0; i < prof->nb_nodes; i++)
		if (prof->nodes[i].node == node)
			return i;
	return -1;
}

static int
devices_create(struct pfdk_pipeline *p)
{
	uint16_t i, j, k;
	int ret;

	for (i = 0; i < p->prof.nb_devices; i++) {
		const struct pfdk_profile_device *d = &p->prof.devices[i];
		struct pfdk_fault_conf dc = { .nb_queues = d->nb_queues };

		ret = pfdk_fault_dev_create(d->devargs);
		if (ret < 0)
			return ret;
		p->dev_ids[i] = ret;
		ret = pfdk_fault_configure((uint16_t)p->dev_ids[i], &dc);
		if (ret < 0)
			return ret;
	}
	/* Each queue lives on its poller's node and takes from its pool. */
	for (j = 0; j < p->prof.nb_lcores; j++) {
		const struct pfdk_profile_lcore *lc = &p->prof.lcores[j];
		int ni = node_index(&p->prof, lc->node);

		for (k = 0; k < lc->nb_queues; k++) {
			struct pfdk_fault_queue_conf qc = {
				.pool = p->pools[ni],
				.socket_id = p->pools[ni]->socket_id,
			};

			ret = pfdk_fault_queue_setup(
				(uint16_t)p->dev_ids[lc->queues[k].dev],
				lc->queues[k].queue, &qc);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int
workers_create(struct pfdk_pipeline *p)
{
	uint16_t j;
	int ret;

	for (j = 0; j < p->prof.nb_lcores; j++) {
		const struct pfdk_profile_lcore *lc = &p->prof.lcores[j];
		int ni = node_index(&p->prof, lc->node);
		struct worker *w;
		char name[RTE_RING_NAMESIZE];

		/* A profile built or edited by hand may name no engine. */
		if (pfdk_engine_ops_get(lc->engine) == NULL) {
			PIPE_LOG(ERR, "lcore %u: engine %d is not in the registry",
				 lc->lcore_id, (int)lc->engine);
			return -EINVAL;
		}
		w = worker_create(p, lc, j, p->pools[ni]->socket_id);
		if (w == NULL)
			return -ENOMEM;
		p->workers[p->nb_workers++] = w;
		w->ring = p->rings[ni];
		if (lc->role == PFDK_ROLE_POLLER) {
			p->nb_pollers++;
			if (p->prof.layout == PFDK_LAYOUT_PIPELINE) {
				snprintf(name, sizeof(name), "pfdk%u_done%u",
					 p->instance, lc->lcore_id);
				w->done = rte_ring_create(name,
					p->prof.nodes[ni].ring_size,
					p->pools[ni]->socket_id, RING_F_SC_DEQ);
				if (w->done == NULL)
					return -rte_errno;
			}
			/* inthread: nothing is received; the poller sleeps. */
			ret = worker_engine_setup(p, w, lc);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

struct pfdk_pipeline *
pfdk_pipeline_create(const struct pfdk_pipeline_conf *conf)
{
	struct pfdk_pipeline *p;
	uint16_t i;
	int ret;

	if (conf == NULL || conf->profile == NULL || conf->resolve == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	p = rte_zmalloc("pfdk_pipeline", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memcpy(&p->prof, conf->profile, sizeof(p->prof));
	p->resolve = conf->resolve;
	p->resolve_ctx = conf->resolve_ctx;
	p->flags = conf->flags;
	p->instance = instances++;
	for (i = 0; i < PFDK_PROFILE_MAX_DEVICES; i++)
		p->dev_ids[i] = -1;
	p->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->stop_efd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = pools_and_rings(p);
	if (ret == 0)
		ret = devices_create(p);
	if (ret == 0)
		ret = workers_create(p);
	if (ret < 0)
		goto fail;
	live_set(p, true);
	return p;
fail:
	pfdk_pipeline_destroy(p);
	rte_errno = -ret;
	return NULL;
}

/* A poller of engine = inthread: its devices resolve in the faulting threads. */
static bool
inthread_poller(const struct pfdk_pipeline *p, const struct worker *w)
{
	return w->role == PFDK_ROLE_POLLER &&
		p->prof.lcores[w->idx].engine == PFDK_ENGINE_INTHREAD;
}

/*
 * Hand the devices of engine = inthread pollers to their faulting threads
 * (or take them back). All or nothing: a failure undoes what was done.
 */
static int
inthread_set(struct pfdk_pipeline *p, bool enable)
{
	uint16_t i, q;
	int ret;

	for (i = 0; i < p->nb_workers; i++) {
		const struct worker *w = p->workers[i];

		if (!inthread_poller(p, w))
			continue;
		for (q = 0; q < w->nb_wq; q++) {
			ret = pfdk_fault_inthread_set(w->wq[q].dev_id, enable);
			if (ret == 0 || !enable)
				continue;
			PIPE_LOG(ERR, "lcore %u: engine inthread: device %u: %s (a uffd device needs devargs sigbus=1)",
				 w->lcore_id, w->wq[q].dev_id, strerror(-ret));
			while (q-- > 0)
				pfdk_fault_inthread_set(w->wq[q].dev_id, false);
			while (i-- > 0) {
				w = p->workers[i];
				if (!inthread_poller(p, w))
					continue;
				for (q = 0; q < w->nb_wq; q++)
					pfdk_fault_inthread_set(w->wq[q].dev_id, false);
			}
			return ret;
		}
	}
	return 0;
}

int
pfdk_pipeline_start(struct pfdk_pipeline *p)
{
	uint16_t i;
	int ret;

	if (p == NULL)
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	if (!(p->flags & PFDK_PIPELINE_F_MANUAL)) {
		/* Check every lcore first, so a launch cannot fail half way. */
		for (i = 0; i < p->nb_workers; i++) {
			unsigned int id = p->workers[i]->lcore_id;

			if (!rte_lcore_is_enabled(id) || id == rte_get_main_lcore()) {
				PIPE_LOG(ERR, "%s: lcore %u is not a worker lcore of this EAL (map it with --lcores, see pfdk_profile_eal_lcores())",
					 p->prof.path, id);
				return -EINVAL;
			}
			if (rte_eal_get_lcore_state(id) != WAIT) {
				PIPE_LOG(ERR, "lcore %u is busy", id);
				return -EBUSY;
			}
		}
	}
	for (i = 0; i < p->prof.nb_devices; i++) {
		ret = pfdk_fault_start((uint16_t)p->dev_ids[i]);
		if (ret < 0) {
			while (i-- > 0)
				pfdk_fault_stop((uint16_t)p->dev_ids[i]);
			return ret;
		}
	}
	ret = inthread_set(p, true);
	if (ret < 0) {
		for (i = 0; i < p->prof.nb_devices; i++)
			pfdk_fault_stop((uint16_t)p->dev_ids[i]);
		return ret;
	}
	__atomic_store_n(&p->stopping, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->pollers_done, 0, __ATOMIC_RELEASE);
	for (i = 0; i < p->nb_workers; i++) {
		p->workers[i]->finished = false;
		p->workers[i]->exited = 0;
		/* A restart posts the reads the last stop cancelled. */
		if (p->workers[i]->eng.ops->start != NULL)
			p->workers[i]->eng.ops->start(&p->workers[i]->eng);
	}
	p->started = true;
	if (p->flags & PFDK_PIPELINE_F_MANUAL)
		return 0;
	for (i = 0; i < p->nb_workers; i++) {
		ret = rte_eal_remote_launch(pipe_worker_main, p->workers[i],
					    p->workers[i]->lcore_id);
		if (ret < 0) {
			/* Checked idle above; nothing else launches on them. */
			PIPE_LOG(CRIT, "lcore %u: launch: %s",
				 p->workers[i]->lcore_id, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void
pfdk_pipeline_request_stop(struct pfdk_pipeline *p)
{
	uint64_t one = 1;

	__atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
	/* Wake sleepers; the counter stays readable until destroy. */
	if (write(p->stop_efd, &one, sizeof(one)) < 0)
		PIPE_LOG(WARNING, "stop eventfd: %s", strerror(errno));
}

int
pfdk_pipeline_stop(struct pfdk_pipeline *p)
{
	uint16_t i;
	bool busy;

	if (p == NULL)
		return -EINVAL;
	if (!p->started)
		return 0;
	pfdk_pipeline_request_stop(p);
	if (p->flags & PFDK_PIPELINE_F_MANUAL) {
		do {
			busy = false;
			for (i = 0; i < p->nb_workers; i++)
				if (pfdk_pipeline_worker_step(p, i) >= 0)
					busy = true;
		} while (busy);
	} else {
		for (i = 0; i < p->nb_workers; i++) {
			rte_eal_wait_lcore(p->workers[i]->lcore_id);
			while (!__atomic_load_n(&p->workers[i]->exited,
						__ATOMIC_ACQUIRE))
				rte_pause();
		}
	}
	inthread_set(p, false);
	for (i = 0; i < p->prof.nb_devices; i++)
		pfdk_fault_stop((uint16_t)p->dev_ids[i]);
	p->started = false;
	return 0;
}

void
pfdk_pipeline_destroy(struct pfdk_pipeline *p)
{
	uint16_t i;

	if (p == NULL)
		return;
	live_set(p, false);
	pfdk_pipeline_stop(p);
	for (i = 0; i < p->nb_workers; i++)
		worker_free(p->workers[i]);
	for (i = 0; i < PFDK_PROFILE_MAX_DEVICES; i++)
		if (p->dev_ids[i] >= 0)
			pfdk_fault_close((uint16_t)p->dev_ids[i]);
	for (i = 0; i < PFDK_PROFILE_MAX_NODES; i++) {
		rte_ring_free(p->rings[i]);
		rte_mempool_free(p->pools[i]);
	}
	if (p->stop_efd >= 0)
		close(p->stop_efd);
	rte_free(p);
}

uint16_t
pfdk_pipeline_worker_count(const struct pfdk_pipeline *p)
{
	return p ? p->nb_workers : 0;
}

int
pfdk_pipeline_worker_lcore(const struct pfdk_pipeline *p, uint16_t w,
			   unsigned int *lcore_id, enum pfdk_role *role)
{
	if (p == NULL || w >= p->nb_workers)
		return -EINVAL;
	if (lcore_id != NULL)
		*lcore_id = p->workers[w]->lcore_id;
	if (role != NULL)
		*role = p->workers[w]->role;
	return 0;
}

int
pfdk_pipeline_dev_id(const struct pfdk_pipeline *p, uint16_t i)
{
	if (p == NULL || i >= p->prof.nb_devices)
		return -1;
	return p->dev_ids[i];
}

static void
stats_copy(const struct worker *w, struct pfdk_lcore_stats *s)
{
	const uint64_t *src = (const uint64_t *)&w->stats;
	uint64_t *dst = (uint64_t *)s;
	size_t i;

	for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] = pfdk_counter_read(&src[i]);
	/* The engine's own counters (same single writer). */
	if (w->eng.ops->stats != NULL) {
		struct pfdk_engine_stats es;

		memset(&es, 0, sizeof(es));
		w->eng.ops->stats(&w->eng, &es);
		s->engine_arms = es.arms;
		s->engine_reads = es.reads;
		s->engine_enters = es.enters;
		s->engine_writes = es.writes;
	}
}

int
pfdk_pipeline_worker_stats(const struct pfdk_pipeline *p, uint16_t w,
			   struct pfdk_lcore_stats *stats, struct pfdk_hist *hist)
{
	if (p == NULL || w >= p->nb_workers || stats == NULL)
		return -EINVAL;
	stats_copy(p->workers[w], stats);
	if (hist != NULL)
		memcpy(hist, &p->workers[w]->hist, sizeof(*hist));
	return 0;
}

void
pfdk_pipeline_stats(const struct pfdk_pipeline *p,
		    struct pfdk_lcore_stats *stats, struct pfdk_hist *hist)
{
	struct pfdk_lcore_stats one;
	uint16_t i;
	size_t k;

	memset(stats, 0, sizeof(*stats));
	if (hist != NULL)
		pfdk_hist_reset(hist);
	for (i = 0; i < p->nb_workers; i++) {
		stats_copy(p->workers[i], &one);
		for (k = 0; k < sizeof(one) / sizeof(uint64_t); k++)
			((uint64_t *)stats)[k] += ((uint64_t *)&one)[k];
		if (hist != NULL)
			pfdk_hist_merge(hist, &p->workers[i]->hist);
	}
}

void
pfdk_pipeline_stats_reset(struct pfdk_pipeline *p)
{
	uint16_t i;

	for (i = 0; i < p->nb_workers; i++) {
		struct worker *w = p->workers[i];
		uint64_t inflight = w->stats.inflight;

		memset(&w->stats, 0, sizeof(w->stats));
		w->stats.inflight = inflight; /* a gauge, not a counter */
		pfdk_hist_reset(&w->hist);
	}
}
