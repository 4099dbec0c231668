/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Workers and their steps. A step is one non-blocking pass over what a
 * worker owns; the launched loop and the MANUAL test driver both call it,
 * so the deterministic tests exercise the exact code the lcores run.
 *
 * This is the fast path, apart from setup and teardown (pfdk_pipeline.c)
 * so that everything a step calls stays static inline in one unit.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "pfdk_counter.h"
#include "pfdk_engine_ops.h"
#include "pfdk_pipeline.h"
#include "pfdk_pipeline_priv.h"

static inline bool
stopping(const struct pfdk_pipeline *p)
{
	return __atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE) != 0;
}

/* Drop the first @n held faults (passed on). */
static inline void
stage_consume(struct stage *s, uint16_t n)
{
	if (n == 0)
		return;
	s->nb_held -= n;
	s->nb_resolved = s->nb_resolved > n ? s->nb_resolved - n : 0;
	if (s->nb_held != 0)
		memmove(s->held, s->held + n, s->nb_held * sizeof(*s->held));
}

/* Resolve what is held and not yet resolved. */
static inline uint16_t
stage_resolve(struct worker *w, struct stage *s)
{
	uint16_t todo = s->nb_held - s->nb_resolved, r;

	if (todo == 0)
		return 0;
	r = w->p->resolve(w->p->resolve_ctx, s->held + s->nb_resolved, todo);
	if (unlikely(r > todo))
		r = todo; /* a callback bug must not make us answer twice */
	s->nb_resolved += r;
	pfdk_counter_add(&w->stats.resolved, r);
	if (r < todo)
		pfdk_counter_add(&w->stats.retried, 1);
	return r;
}

/* Respond the resolved prefix of a queue's stage; record latencies. */
static inline uint16_t
wq_respond(struct worker *w, struct wqueue *q)
{
	uint64_t tsc[PFDK_PROFILE_MAX_BURST];
	struct stage *s = &q->st;
	uint16_t n = s->nb_resolved, sent, i;
	uint64_t now;

	if (n == 0)
		return 0;
	/* The descriptors belong to the driver once accepted: read first. */
	for (i = 0; i < n; i++)
		tsc[i] = s->held[i]->tsc;
	sent = pfdk_fault_respond_burst(q->dev_id, q->queue_id, s->held, n);
	/* The burst's grouped responses, written through the engine's ring. */
	if (sent != 0 && pfdk_engine_writes(&w->eng, (uint16_t)(q - w->wq)))
		w->eng.ops->write(&w->eng, (uint16_t)(q - w->wq));
	now = rte_rdtsc();
	for (i = 0; i < sent; i++)
		pfdk_hist_record(&w->hist, now - tsc[i]);
	stage_consume(s, sent);
	pfdk_counter_add(&w->stats.responded, sent);
	pfdk_counter_sub(&w->stats.inflight, sent);
	if (sent < n)
		pfdk_counter_add(&w->stats.retried, 1);
	return sent;
}

/*
 * Read mode: parse what the engine read for queue @i into @s; with no
 * buffer, the driver's parked faults are still offered. Bytes left for
 * lack of room or descriptors are then offered with no room at all (the
 * driver's service call, pfdk_fault_parse_burst()): it parks the faults and
 * handles the events behind them now, since an event may be what the held
 * faults wait for, and the buffers go back to the kernel.
 */
static inline uint16_t
wq_parse(struct worker *w, uint16_t i, struct stage *s)
{
	const struct wqueue *q = &w->wq[i];
	struct pfdk_engine_ctx *e = &w->eng;
	const void *buf;
	uint32_t len, used;
	uint16_t n = 0, k;

	while (s->nb_held < w->burst) {
		buf = pfdk_engine_peek(e, i, &len);
		if (buf == NULL)
			len = 0;
		k = pfdk_fault_parse_burst(q->dev_id, q->queue_id, buf, len,
					  s->held + s->nb_held,
					  w->burst - s->nb_held, &used);
		s->nb_held += k;
		n += k;
		if (buf == NULL)
			break;
		e->ops->consume(e, i, used);
		if (used < len)
			break; /* no descriptor */
	}
	while ((buf = pfdk_engine_peek(e, i, &len)) != NULL) {
		pfdk_fault_parse_burst(q->dev_id, q->queue_id, buf, len,
				      s->held, 0, &used);
		e->ops->consume(e, i, used);
		if (used < len)
			break; /* the driver cannot keep more: next pass */
	}
	pfdk_counter_add(&w->stats.received, n);
	pfdk_counter_add(&w->stats.inflight, n);
	return n;
}

/* Receive into the free room of @s from the worker's queue @i. */
static inline uint16_t
wq_recv(struct worker *w, uint16_t i, struct stage *s)
{
	const struct wqueue *q = &w->wq[i];
	struct pfdk_engine_ctx *e = &w->eng;
	uint16_t n, want;

	if (pfdk_engine_reads(e, i))
		return wq_parse(w, i, s);
	if (s->nb_held >= w->burst)
		return 0;
	if (!pfdk_engine_ready(e, i))
		return 0;
	want = w->burst - s->nb_held;
	n = pfdk_fault_recv_burst(q->dev_id, q->queue_id, s->held + s->nb_held, want);
	s->nb_held += n;
	pfdk_counter_add(&w->stats.received, n);
	pfdk_counter_add(&w->stats.inflight, n);
	if (e->ready == NULL)
		return n;
	/*
	 * Empty with nothing of ours in flight: read it no more until its
	 * engine says it is readable (a poll completion, an epoll event). Short
	 * for lack of descriptors or credit is not empty, and neither is a
	 * queue whose driver parked faults (its fd does not show them).
	 */
	if (n == 0 && w->stats.inflight == 0 &&
	    pfdk_fault_queue_service(q->dev_id, q->queue_id, false) == 0)
		e->ops->empty(e, i);
	return n;
}

/*
 * After a pass over queue @i: faults of it went nowhere (still in its
 * stage after respond: deferred or refused; or a resolver reported it
 * deferred them). The driver may hold back an event they wait for behind
 * faults we have no room to receive: let it read ahead. A queue the
 * engine reads is read on, and its buffers parsed, whatever the stage
 * holds, until the engine stops.
 */
static inline void
wq_service(struct worker *w, uint16_t i)
{
	struct wqueue *q = &w->wq[i];

	if (q->st.nb_held == 0 &&
	    !__atomic_load_n(&q->want_service, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&q->want_service, 0, __ATOMIC_RELAXED);
	if (pfdk_engine_reads(&w->eng, i) && !w->eng.stopping)
		return;
	pfdk_fault_queue_service(q->dev_id, q->queue_id, true);
	pfdk_counter_add(&w->stats.serviced, 1);
}

/* Faults parked in any of the worker's queues: it must not sleep. */
static inline bool
wq_parked(const struct worker *w)
{
	uint16_t i;

	for (i = 0; i < w->nb_wq; i++)
		if (pfdk_fault_queue_service(w->wq[i].dev_id, w->wq[i].queue_id,
					     false) != 0)
			return true;
	return false;
}

/* Queue @i may be received from: not stopping, or bytes already read. */
static inline bool
wq_open(const struct worker *w, uint16_t i, bool stop)
{
	return !stop || pfdk_engine_reads(&w->eng, i);
}

/*
 * An engine that learns of readable queues only when asked (epoll): a
 * poller kept busy by some queues never goes idle, where it would learn
 * that the others became readable. After a step with work, if any queue
 * is marked empty, look (without sleeping) so none starves.
 */
static inline void
engine_refresh(struct worker *w, int work)
{
	struct pfdk_engine_ctx *e = &w->eng;

	if (work > 0 && e->nb_waiting != 0)
		e->ops->idle(e, false);
}

/* Start of a pass: the engine's completions. */
static inline void
engine_reap(struct worker *w)
{
	struct pfdk_engine_ctx *e = &w->eng;

	if (e->ops->reap != NULL)
		e->ops->reap(e);
}

static int
poller_finish(struct worker *w)
{
	if (!stopping(w->p) || w->stats.inflight != 0)
		return 0;
	/*
	 * Records the engine read are nowhere else: cancel the posted reads,
	 * then finish only when their last completions are in and parsed.
	 */
	if (w->eng.ops->drained != NULL && !w->eng.ops->drained(&w->eng)) {
		w->eng.ops->stop(&w->eng);
		return 0;
	}
	w->finished = true;
	__atomic_fetch_add(&w->p->pollers_done, 1, __ATOMIC_RELEASE);
	return -1;
}

/* rtc and colocated: receive, resolve, respond, queue by queue. */
static int
poller_rtc_step(struct worker *w)
{
	bool stop = stopping(w->p);
	int work = 0;
	uint16_t i;

	engine_reap(w);
	for (i = 0; i < w->nb_wq; i++) {
		struct wqueue *q = &w->wq[i];

		if (wq_open(w, i, stop))
			work += wq_recv(w, i, &q->st);
		stage_resolve(w, &q->st);
		work += wq_respond(w, q);
		wq_service(w, i);
	}
	engine_refresh(w, work);
	if (work == 0 && poller_finish(w) < 0)
		return -1;
	return work;
}

/* pipeline: answer what came back, then receive and pass to the ring. */
static int
poller_pipeline_step(struct worker *w)
{
	struct pfdk_fault *back[PFDK_PROFILE_MAX_BURST];
	struct pfdk_pipeline *p = w->p;
	uint16_t i, n, room = w->burst, e;
	int work = 0;

	/* Take back no more than every queue can hold, so none overflows. */
	for (i = 0; i < w->nb_wq; i++)
		room = RTE_MIN(room, w->burst - w->wq[i].st.nb_held);
	n = (uint16_t)rte_ring_sc_dequeue_burst(w->done, (void **)back, room,
						NULL);
	for (i = 0; i < n; i++) {
		uint32_t o = p->owner[back[i]->dev_id][back[i]->queue_id];
		struct stage *s = &w->wq[o & 0xffff].st;

		s->held[s->nb_held++] = back[i];
		s->nb_resolved++;
	}
	for (i = 0; i < w->nb_wq; i++)
		work += wq_respond(w, &w->wq[i]);

	engine_reap(w);
	/* Every queue: a full stage still lets the engine's buffers be parsed. */
	for (i = 0; i < w->nb_wq; i++)
		if (wq_open(w, i, stopping(p)))
			work += wq_recv(w, i, &w->st);
	engine_refresh(w, work);
	if (w->st.nb_held != 0) {
		e = (uint16_t)rte_ring_mp_enqueue_burst(w->ring,
				(void **)w->st.held, w->st.nb_held, NULL);
		if (e < w->st.nb_held)
			pfdk_counter_add(&w->stats.backpressure, 1);
		stage_consume(&w->st, e);
		work += e;
	}
	for (i = 0; i < w->nb_wq; i++)
		wq_service(w, i);
	if (work == 0 && poller_finish(w) < 0)
		return -1;
	return work;
}

/*
 * pipeline: faults the resolve left unresolved (deferred): tell the owner
 * of their queue, which alone may service it (wq_service()).
 */
static inline void
resolver_deferred(struct worker *w, const struct stage *s)
{
	struct pfdk_pipeline *p = w->p;
	uint16_t i;

	for (i = s->nb_resolved; i < s->nb_held; i++) {
		const struct pfdk_fault *f = s->held[i];
		uint32_t o = p->owner[f->dev_id][f->queue_id];
		struct wqueue *q = &p->workers[o >> 16]->wq[o & 0xffff];

		if (!__atomic_load_n(&q->want_service, __ATOMIC_RELAXED))
			__atomic_store_n(&q->want_service, 1, __ATOMIC_RELAXED);
	}
}

/* pipeline: drain the node ring, resolve, send each fault to its owner. */
static int
resolver_step(struct worker *w)
{
	struct pfdk_pipeline *p = w->p;
	struct stage *s = &w->st;
	uint16_t sent = 0;
	int work = 0;

	if (s->nb_held < w->burst) {
		uint16_t n = (uint16_t)rte_ring_mc_dequeue_burst(w->ring,
				(void **)(s->held + s->nb_held),
				w->burst - s->nb_held, NULL);
		s->nb_held += n;
		work += n;
	}
	work += stage_resolve(w, s);
	resolver_deferred(w, s);
	while (sent < s->nb_resolved) {
		const struct pfdk_fault *f = s->held[sent];
		uint32_t o = p->owner[f->dev_id][f->queue_id];
		struct rte_ring *done = p->workers[o >> 16]->done;
		uint16_t run = 1, e;

		/* Consecutive faults for one owner go in one enqueue. */
		while (sent + run < s->nb_resolved &&
		       s->held[sent + run]->dev_id == f->dev_id &&
		       s->held[sent + run]->queue_id == f->queue_id)
			run++;
		e = (uint16_t)rte_ring_mp_enqueue_burst(done,
				(void **)(s->held + sent), run, NULL);
		sent += e;
		if (e < run) {
			pfdk_counter_add(&w->stats.backpressure, 1);
			break;
		}
	}
	stage_consume(s, sent);
	work += sent;
	if (work == 0 && s->nb_held == 0 && stopping(p) &&
	    __atomic_load_n(&p->pollers_done, __ATOMIC_ACQUIRE) == p->nb_pollers) {
		w->finished = true;
		return -1;
	}
	return work;
}

static int
worker_step(struct worker *w)
{
	int r;

	if (w->finished)
		return -1;
	if (w->role == PFDK_ROLE_RESOLVER)
		r = resolver_step(w);
	else if (w->p->prof.layout == PFDK_LAYOUT_PIPELINE)
		r = poller_pipeline_step(w);
	else
		r = poller_rtc_step(w);
	if (r == 0)
		pfdk_counter_add(&w->stats.idle, 1);
	return r;
}

int
pfdk_pipeline_worker_step(struct pfdk_pipeline *p, uint16_t w)
{
	if (p == NULL || w >= p->nb_workers)
		return -1;
	return worker_step(p->workers[w]);
}

/*
 * A blocking engine sleeps only when nothing it received is in flight:
 * resolved faults coming back through the done ring do not wake it. While
 * faults are in flight it keeps spinning, looking (without sleeping) for
 * queues that became readable.
 */
static void
worker_idle(struct worker *w)
{
	struct pfdk_engine_ctx *e = &w->eng;

	if (w->role == PFDK_ROLE_POLLER && e->ops->sleeps) {
		if (w->stats.inflight == 0 && !stopping(w->p) && !wq_parked(w)) {
			pfdk_counter_add(&w->stats.sleeps, 1);
			e->ops->idle(e, true);
			return;
		}
		if (e->ready != NULL)
			e->ops->idle(e, false);
	}
	rte_pause();
}

int
pipe_worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t prev = rte_rdtsc(), now;
	int r;

	/*
	 * Busy measure as DPDK's lcore usage: one TSC read a pass; a pass that
	 * did work counts as busy, one that idled (or slept) only as total.
	 */
	while ((r = worker_step(w)) >= 0) {
		if (r == 0)
			worker_idle(w);
		now = rte_rdtsc();
		if (r > 0)
			pfdk_counter_add(&w->stats.busy_cycles, now - prev);
		pfdk_counter_add(&w->stats.total_cycles, now - prev);
		prev = now;
	}
	/*
	 * Publish everything this lcore wrote before stop() touches devices.
	 * rte_eal_wait_lcore() orders it too, but inside DPDK, where the
	 * thread sanitizer cannot see it.
	 */
	__atomic_store_n(&w->exited, 1, __ATOMIC_RELEASE);
	return 0;
}
