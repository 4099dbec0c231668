/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /pfdk/info, /pfdk/lcores and /pfdk/latency for DPDK's telemetry socket,
 * read by pfdk-top and /usr/bin/dpdk-telemetry.py. Counters are untorn
 * single-writer values; histograms are copied while their lcore writes
 * them, so a percentile may lag by the faults of that instant: fine for
 * monitoring.
 *
 * DPDK 22.11 caps a reply at 16 KiB and drops, silently, what does not
 * fit: /pfdk/lcores with every lcore holds about 25 of them. Past that a
 * client reads /pfdk/lcore_list and then /pfdk/lcores,<lcore> one by one
 * (pfdk-top does, always), the way /ethdev/list and /ethdev/stats,<id>
 * split ethdev's.
 *
 * /pfdk/latency,window keeps one earlier copy of the merged histogram (the
 * previous windowed call's) and answers the percentiles of what was
 * recorded since: one window for the whole process, so two clients asking
 * for windows each see part of the faults. DPDK serves each client on its
 * own thread; a mutex orders the calls.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "pfdk_engine_ops.h"
#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_pipeline_priv.h"

/* "sim0:0,1 sim1:2": each device the worker polls and its queues. */
static void
queues_string(const struct worker *wk, char *buf, size_t len)
{
	struct pfdk_fault_info info;
	size_t n = 0;
	uint16_t i;
	int k;

	buf[0] = '\0';
	for (i = 0; i < wk->nb_wq && n < len; i++) {
		bool same = i > 0 && wk->wq[i - 1].dev_id == wk->wq[i].dev_id;

		if (same) {
			k = snprintf(buf + n, len - n, ",%u", wk->wq[i].queue_id);
		} else {
			if (pfdk_fault_info_get(wk->wq[i].dev_id, &info) != 0 ||
			    info.dev_name == NULL)
				info.dev_name = "?";
			k = snprintf(buf + n, len - n, "%s%s:%u", i > 0 ? " " : "",
				     info.dev_name, wk->wq[i].queue_id);
		}
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* Where a worker runs and what it runs: profile, CPU, engine, queues. */
static void
lcore_placement(const struct pfdk_pipeline *p, uint16_t w, unsigned int lcore,
		struct rte_tel_data *c)
{
	const struct worker *wk = p->workers[w];
	char q[RTE_TEL_MAX_STRING_LEN];

	rte_tel_data_add_dict_string(c, "profile", p->prof.name);
	rte_tel_data_add_dict_int(c, "lcore", (int)lcore);
	/* The first CPU of the lcore's EAL cpuset (--lcores 1@3: 3). */
	rte_tel_data_add_dict_int(c, "cpu", rte_lcore_to_cpu_id((int)lcore));
	rte_tel_data_add_dict_int(c, "socket", (int)rte_lcore_to_socket_id(lcore));
	rte_tel_data_add_dict_string(c, "engine",
		wk->role == PFDK_ROLE_POLLER && wk->eng.ops != NULL ?
		wk->eng.ops->name : "-");
	queues_string(wk, q, sizeof(q));
	rte_tel_data_add_dict_string(c, "queues", q[0] != '\0' ? q : "-");
}

/* What /pfdk/lcores fills: every lcore, or the one asked for. */
struct lcores_arg {
	struct rte_tel_data *d;
	long only; /* -1: all */
};

static void
lcores_one(const struct pfdk_pipeline *p, void *arg)
{
	struct lcores_arg *a = arg;
	struct rte_tel_data *d = a->d;
	struct pfdk_lcore_stats st;
	uint16_t w;

	for (w = 0; w < pfdk_pipeline_worker_count(p); w++) {
		struct rte_tel_data *c;
		unsigned int lcore;
		enum pfdk_role role;
		char name[16];

		pfdk_pipeline_worker_lcore(p, w, &lcore, &role);
		if (a->only >= 0 && (long)lcore != a->only)
			continue;
		c = rte_tel_data_alloc();
		if (c == NULL)
			return;
		pfdk_pipeline_worker_stats(p, w, &st, NULL);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "role", pfdk_role_name(role));
		lcore_placement(p, w, lcore, c);
#define TEL_U64(f) rte_tel_data_add_dict_u64(c, #f, st.f)
		TEL_U64(received);
		TEL_U64(resolved);
		TEL_U64(responded);
		TEL_U64(retried);
		TEL_U64(backpressure);
		TEL_U64(idle);
		TEL_U64(sleeps);
		TEL_U64(inflight);
		TEL_U64(engine_arms);
		TEL_U64(engine_reads);
		TEL_U64(serviced);
		TEL_U64(busy_cycles);
		TEL_U64(total_cycles);
		TEL_U64(engine_enters);
		TEL_U64(engine_writes);
#undef TEL_U64
		snprintf(name, sizeof(name), "%u", lcore);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
}

/* "7" -> 7; anything else (sign, junk, past RTE_MAX_LCORE) -> -1. */
static long
lcore_param(const char *params)
{
	char *end;
	long v;

	if (params == NULL || params[0] < '0' || params[0] > '9')
		return -1;
	errno = 0;
	v = strtol(params, &end, 10);
	if (errno != 0 || *end != '\0' || v >= RTE_MAX_LCORE)
		return -1;
	return v;
}

static int
telemetry_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct lcores_arg a = { .d = d, .only = -1 };

	RTE_SET_USED(cmd);
	if (params != NULL && params[0] != '\0') {
		a.only = lcore_param(params);
		if (a.only < 0)
			return -EINVAL; /* the client reads null */
	}
	rte_tel_data_start_dict(d);
	pfdk_pipeline_foreach_live(lcores_one, &a);
	return 0;
}

static void
lcore_list_one(const struct pfdk_pipeline *p, void *arg)
{
	struct rte_tel_data *d = arg;
	uint16_t w;

	for (w = 0; w < pfdk_pipeline_worker_count(p); w++) {
		unsigned int lcore;
		enum pfdk_role role;

		pfdk_pipeline_worker_lcore(p, w, &lcore, &role);
		rte_tel_data_add_array_int(d, (int)lcore);
	}
}

static int
telemetry_lcore_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	pfdk_pipeline_foreach_live(lcore_list_one, d);
	return 0;
}

struct latency_acc {
	struct pfdk_hist all;
	struct pfdk_hist one;
	struct pfdk_hist win;
	struct rte_tel_data *d; /* windowed call: the reply, for "lcore_<id>" */
};

/*
 * Per lcore id, the previous windowed call's copy of that lcore's
 * histogram and the pipeline it belonged to; allocated on first use and
 * kept (reachable) for the life of the process. Under win_lock.
 */
struct lcore_win {
	unsigned int instance;
	struct pfdk_hist h;
};
static struct lcore_win *win_lc[RTE_MAX_LCORE];

static void add_summary(struct rte_tel_data *d, const struct pfdk_hist *h, bool brief);

/* One worker's window: "lcore_<id>": {count, p50_ns, p99_ns, p999_ns, max_ns}. */
static void
lcore_window(const struct pfdk_pipeline *p, unsigned int lcore, struct latency_acc *a)
{
	struct lcore_win *lw;
	struct rte_tel_data *c;
	char key[24];

	if (lcore >= RTE_MAX_LCORE)
		return;
	lw = win_lc[lcore];
	if (lw == NULL) {
		lw = malloc(sizeof(*lw));
		if (lw == NULL)
			return; /* out of memory: no "lcore_<id>" this time */
		lw->instance = p->instance;
		pfdk_hist_reset(&lw->h);
		win_lc[lcore] = lw;
	}
	/* Another pipeline on this lcore since: its window is all it has. */
	if (lw->instance != p->instance)
		memcpy(&a->win, &a->one, sizeof(a->win));
	else
		pfdk_hist_delta(&a->win, &a->one, &lw->h);
	memcpy(&lw->h, &a->one, sizeof(lw->h));
	lw->instance = p->instance;
	c = rte_tel_data_alloc();
	if (c == NULL)
		return;
	rte_tel_data_start_dict(c);
	add_summary(c, &a->win, true);
	snprintf(key, sizeof(key), "lcore_%u", lcore);
	rte_tel_data_add_dict_container(a->d, key, c, 0);
}

static void
latency_one(const struct pfdk_pipeline *p, void *arg)
{
	struct latency_acc *a = arg;
	struct pfdk_lcore_stats st;
	uint16_t w;

	for (w = 0; w < pfdk_pipeline_worker_count(p); w++) {
		pfdk_pipeline_worker_stats(p, w, &st, &a->one);
		pfdk_hist_merge(&a->all, &a->one);
		/* Only pollers time faults (receive to response). */
		if (a->d != NULL && p->workers[w]->role == PFDK_ROLE_POLLER)
			lcore_window(p, p->workers[w]->lcore_id, a);
	}
}

/* The previous windowed call: its merged histogram and when it was taken. */
static pthread_mutex_t win_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pfdk_hist *win_prev;
static uint64_t win_prev_ns;

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Percentiles in ns; @p brief: count, p50, p99, p999, max only. */
static void
add_summary(struct rte_tel_data *d, const struct pfdk_hist *h, bool brief)
{
	struct pfdk_hist_summary s;
	double ns = 1e9 / (double)rte_get_tsc_hz();

	pfdk_hist_summarize(h, &s);
	rte_tel_data_add_dict_u64(d, "count", s.count);
	if (!brief)
		rte_tel_data_add_dict_u64(d, "mean_ns", (uint64_t)(s.mean * ns));
	rte_tel_data_add_dict_u64(d, "p50_ns", (uint64_t)((double)s.p50 * ns));
	if (!brief)
		rte_tel_data_add_dict_u64(d, "p90_ns", (uint64_t)((double)s.p90 * ns));
	rte_tel_data_add_dict_u64(d, "p99_ns", (uint64_t)((double)s.p99 * ns));
	rte_tel_data_add_dict_u64(d, "p999_ns", (uint64_t)((double)s.p999 * ns));
	rte_tel_data_add_dict_u64(d, "max_ns", (uint64_t)((double)s.max * ns));
}

/*
 * /pfdk/latency: percentiles since the pollers started (or their stats
 * were reset). /pfdk/latency,window: of the faults responded since the
 * previous windowed call (the first call: since the start), from_ns..to_ns,
 * all pollers together and, as "lcore_<id>", each poller's own.
 */
static int
telemetry_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct latency_acc *a;
	bool window = false;
	uint64_t now_ns, tsc;

	RTE_SET_USED(cmd);
	if (params != NULL && params[0] != '\0') {
		if (strcmp(params, "window") != 0)
			return -EINVAL;
		window = true;
	}
	a = malloc(sizeof(*a)); /* 45 KiB: not on the telemetry thread's stack */
	if (a == NULL)
		return -ENOMEM;
	pfdk_hist_reset(&a->all);
	a->d = NULL;
	rte_tel_data_start_dict(d);
	if (window) {
		pthread_mutex_lock(&win_lock);
		a->d = d; /* the per-lcore windows go in as latency_one() meets them */
	}
	pfdk_pipeline_foreach_live(latency_one, a);
	now_ns = realtime_ns();
	tsc = rte_rdtsc();
	rte_tel_data_add_dict_u64(d, "timestamp_ns", now_ns);
	rte_tel_data_add_dict_u64(d, "tsc", tsc);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	if (!window) {
		add_summary(d, &a->all, false);
		free(a);
		return 0;
	}
	if (win_prev == NULL) {
		win_prev = malloc(sizeof(*win_prev));
		if (win_prev == NULL) {
			pthread_mutex_unlock(&win_lock);
			free(a);
			return -ENOMEM;
		}
		pfdk_hist_reset(win_prev);
		win_prev_ns = 0;
	}
	/* A reset or a new pipeline since: the window is what is there now. */
	rte_tel_data_add_dict_int(d, "restarted",
				  pfdk_hist_delta(&a->win, &a->all, win_prev) != 0);
	rte_tel_data_add_dict_u64(d, "from_ns", win_prev_ns);
	rte_tel_data_add_dict_u64(d, "to_ns", now_ns);
	add_summary(d, &a->win, false);
	memcpy(win_prev, &a->all, sizeof(*win_prev));
	win_prev_ns = now_ns;
	pthread_mutex_unlock(&win_lock);
	free(a);
	return 0;
}

/* /pfdk/info: each live pipeline's profile, keyed by instance. */
static void
info_one(const struct pfdk_pipeline *p, void *arg)
{
	struct rte_tel_data *d = arg, *c = rte_tel_data_alloc();
	char key[16];

	if (c == NULL)
		return;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "profile", p->prof.name);
	rte_tel_data_add_dict_string(c, "path", p->prof.path);
	rte_tel_data_add_dict_string(c, "layout", pfdk_layout_name(p->prof.layout));
	rte_tel_data_add_dict_int(c, "burst", p->prof.burst);
	rte_tel_data_add_dict_int(c, "devices", p->prof.nb_devices);
	rte_tel_data_add_dict_int(c, "workers", p->nb_workers);
	snprintf(key, sizeof(key), "%u", p->instance);
	rte_tel_data_add_dict_container(d, key, c, 0);
}

static int
telemetry_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	pfdk_pipeline_foreach_live(info_one, d);
	return 0;
}

RTE_INIT(pfdk_pipeline_init_telemetry)
{
	rte_telemetry_register_cmd("/pfdk/lcores", telemetry_lcores,
		"Returns each PFDK worker lcore's counters (one reply holds about 25). Parameter: int lcore_id, that lcore only");
	rte_telemetry_register_cmd("/pfdk/lcore_list", telemetry_lcore_list,
		"Returns the lcore ids of the PFDK workers. Takes no parameters");
	rte_telemetry_register_cmd("/pfdk/latency", telemetry_latency,
		"Returns pollers' latency percentiles (ns) since start. Parameter: window, since the previous windowed call");
	rte_telemetry_register_cmd("/pfdk/info", telemetry_info,
		"Returns each live PFDK pipeline's profile name, path and layout. Takes no parameters");
}
