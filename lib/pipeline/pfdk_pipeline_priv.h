/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PIPELINE_PRIV_H
#define PFDK_PIPELINE_PRIV_H

/* @internal Shared by the pipeline's own files; not installed. */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#include "pfdk_engine_ops.h"
#include "pfdk_pipeline.h"

struct rte_mempool;
struct rte_ring;

/** @internal Log type of the pipeline, registered in pfdk_pipeline.c. */
extern int pfdk_pipeline_logtype;
#define PIPE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfdk_pipeline_logtype, \
		"pfdk.pipeline: " fmt "\n", ##__VA_ARGS__)

/** Most pipelines alive at once that telemetry reports. */
#define PFDK_PIPELINE_MAX_LIVE 16

/**
 * @internal Call @p fn on each live pipeline, under the lock that
 * pfdk_pipeline_destroy() takes first: @p fn must not block.
 */
void pfdk_pipeline_foreach_live(void (*fn)(const struct pfdk_pipeline *, void *),
				void *arg);

/*
 * Faults a worker holds for one purpose, in order: held[0..nb_resolved)
 * are resolved and wait to be passed on, held[nb_resolved..nb_held) wait
 * to be resolved. Capacity is the burst size.
 */
struct stage {
	struct pfdk_fault **held;
	uint16_t nb_held;
	uint16_t nb_resolved;
};

/* A device queue owned by a poller. */
struct wqueue {
	uint16_t dev_id;
	uint16_t queue_id;
	struct stage st; /* rtc: received; pipeline: back from resolvers */
	/*
	 * Pipeline: a resolver deferred faults of this queue (the driver
	 * refused them for now, e.g. an event pending): the owning poller
	 * services the queue (atomic; set by resolvers, cleared by the owner).
	 */
	uint32_t want_service;
};

/** @internal One lcore's worker: what it owns, its counters, its latencies. */
struct worker {
	struct pfdk_pipeline *p;
	unsigned int lcore_id;
	enum pfdk_role role;
	uint16_t idx;
	uint16_t burst;
	uint16_t nb_wq;
	bool finished;
	uint32_t exited;        /* launched loop returned (atomic) */
	struct wqueue *wq;
	struct rte_ring *ring;  /* node ring (pipeline) */
	struct rte_ring *done;  /* pipeline poller: resolved faults come back */
	struct stage st;        /* pipeline: poller's unqueued / resolver's work */
	struct pfdk_engine_ctx eng; /* how it waits (pollers; resolvers: busy) */
	struct pfdk_lcore_stats stats;
	struct pfdk_hist hist;  /* receive -> response, TSC cycles */
} __rte_cache_aligned;

/** @internal Everything a pipeline created from its profile. */
struct pfdk_pipeline {
	struct pfdk_profile prof;
	pfdk_resolve_burst_t resolve;
	void *resolve_ctx;
	uint32_t flags;
	unsigned int instance;
	bool started;
	uint32_t stopping;        /* atomic */
	uint32_t pollers_done;    /* atomic */
	uint32_t nb_pollers;
	int stop_efd;
	struct rte_mempool *pools[PFDK_PROFILE_MAX_NODES];
	struct rte_ring *rings[PFDK_PROFILE_MAX_NODES];
	int dev_ids[PFDK_PROFILE_MAX_DEVICES];
	uint16_t nb_workers;
	struct worker *workers[PFDK_PROFILE_MAX_LCORES];
	/* (worker << 16 | wqueue) owning each device queue, for resolvers. */
	uint32_t owner[PFDK_FAULT_MAX_DEVS][PFDK_FAULT_MAX_QUEUES];
};

/**
 * @internal Launched loop of one worker lcore (rte_eal_remote_launch()):
 * steps until the pipeline stops and the worker has nothing left.
 */
int pipe_worker_main(void *arg);

#endif /* PFDK_PIPELINE_PRIV_H */
