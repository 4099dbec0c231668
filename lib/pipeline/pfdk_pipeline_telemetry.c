/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /pfdk/lcores and /pfdk/latency for DPDK's telemetry socket, read by
 * /usr/bin/dpdk-telemetry.py. Counters are untorn single-writer values;
 * histograms are copied while their lcore writes them, so a percentile may
 * lag by the faults of that instant: fine for monitoring.
 */
#include <stdlib.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "pfdk_hist.h"
#include "pfdk_pipeline_priv.h"

static void
lcores_one(const struct pfdk_pipeline *p, void *arg)
{
	struct rte_tel_data *d = arg;
	struct pfdk_lcore_stats st;
	uint16_t w;

	for (w = 0; w < pfdk_pipeline_worker_count(p); w++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		unsigned int lcore;
		enum pfdk_role role;
		char name[16];

		if (c == NULL)
			return;
		pfdk_pipeline_worker_lcore(p, w, &lcore, &role);
		pfdk_pipeline_worker_stats(p, w, &st, NULL);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "role", pfdk_role_name(role));
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
#undef TEL_U64
		snprintf(name, sizeof(name), "%u", lcore);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
}

static int
telemetry_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_dict(d);
	pfdk_pipeline_foreach_live(lcores_one, d);
	return 0;
}

struct latency_acc {
	struct pfdk_hist all;
	struct pfdk_hist one;
};

static void
latency_one(const struct pfdk_pipeline *p, void *arg)
{
	struct latency_acc *a = arg;
	struct pfdk_lcore_stats st;
	uint16_t w;

	for (w = 0; w < pfdk_pipeline_worker_count(p); w++) {
		pfdk_pipeline_worker_stats(p, w, &st, &a->one);
		pfdk_hist_merge(&a->all, &a->one);
	}
}

static int
telemetry_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct pfdk_hist_summary s;
	struct latency_acc *a;
	double ns = 1e9 / (double)rte_get_tsc_hz();

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	a = malloc(sizeof(*a)); /* 30 KiB: not on the telemetry thread's stack */
	if (a == NULL)
		return -ENOMEM;
	pfdk_hist_reset(&a->all);
	pfdk_pipeline_foreach_live(latency_one, a);
	pfdk_hist_summarize(&a->all, &s);
	free(a);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", s.count);
	rte_tel_data_add_dict_u64(d, "mean_ns", (uint64_t)(s.mean * ns));
	rte_tel_data_add_dict_u64(d, "p50_ns", (uint64_t)((double)s.p50 * ns));
	rte_tel_data_add_dict_u64(d, "p90_ns", (uint64_t)((double)s.p90 * ns));
	rte_tel_data_add_dict_u64(d, "p99_ns", (uint64_t)((double)s.p99 * ns));
	rte_tel_data_add_dict_u64(d, "p999_ns", (uint64_t)((double)s.p999 * ns));
	rte_tel_data_add_dict_u64(d, "max_ns", (uint64_t)((double)s.max * ns));
	return 0;
}

RTE_INIT(pfdk_pipeline_init_telemetry)
{
	rte_telemetry_register_cmd("/pfdk/lcores", telemetry_lcores,
		"Returns each PFDK worker lcore's counters. Takes no parameters");
	rte_telemetry_register_cmd("/pfdk/latency", telemetry_latency,
		"Returns receive-to-response latency percentiles (ns) of all pollers. Takes no parameters");
}
