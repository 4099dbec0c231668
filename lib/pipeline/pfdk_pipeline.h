/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PIPELINE_H
#define PFDK_PIPELINE_H

/**
 * @file
 * Lcore roles, rings and pools laid out from a profile.
 *
 * @code
 *  rtc / colocated                  pipeline
 *  ───────────────                  ────────
 *  poller lcore:                    poller lcore           resolver lcores (same node)
 *   recv_burst ─▶ resolve ─▶         recv_burst ─▶ node ring (MP/MC) ─▶ resolve
 *   respond_burst                    respond_burst ◀─ poller's done ring (MP/SC) ◀─┘
 * @endcode
 *
 * Every device queue has one owner, the poller the profile gives it to: it
 * alone receives from and responds on that queue. In the pipeline layout
 * resolvers send resolved faults back to the owner through the owner's done
 * ring, so responses for a queue are never posted from two lcores.
 *
 * Nothing is dropped under pressure: a poller receives only into free room
 * of a bounded holding area; what the node ring will not take, what the
 * resolver has not resolved, what the device will not accept as a response,
 * each stays held and is offered again on the next step (counted as
 * backpressure or retried). A short pool leaves faults in the device
 * (pfdk_fault_stats::nodesc).
 *
 * Call order: pfdk_pipeline_create() (creates pools, rings and the
 * profile's devices, sets up queues) → pfdk_pipeline_start() (starts
 * devices, launches the lcores) → ... → pfdk_pipeline_stop() (stops
 * receiving, answers everything in flight, then stops devices) →
 * pfdk_pipeline_destroy().
 *
 * Live pipelines are visible through rte_telemetry: /pfdk/lcores (each
 * worker's counters) and /pfdk/latency (receive-to-response percentiles of
 * all pollers, in ns); /pfdk/devs and /pfdk/stats come from the devices.
 *
 * With PFDK_PIPELINE_F_MANUAL nothing is launched: the caller steps each
 * worker itself with pfdk_pipeline_worker_step(), in any fixed order, from
 * one thread, which makes layout tests deterministic.
 */

#include <stdbool.h>
#include <stdint.h>

#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Resolve a burst of faults: make each page valid (or decide it cannot be)
 * and set faults[i]->status to PFDK_FAULT_RESP_SUCCESS or _INVALID.
 *
 * Called on poller lcores (rtc, colocated) or resolver lcores (pipeline),
 * possibly on several lcores at once: it must be thread safe and must not
 * block for long.
 *
 * @param ctx
 *   pfdk_pipeline_conf::resolve_ctx.
 * @param faults
 *   The faults; the callback may reorder the array.
 * @param nb
 *   How many.
 * @return
 *   k: faults[0..k) are resolved and will be answered; faults[k..nb) are not
 *   and will be offered again on a later call (e.g. the store is busy).
 */
typedef uint16_t (*pfdk_resolve_burst_t)(void *ctx, struct pfdk_fault **faults,
					 uint16_t nb);

/** Pipeline flags. */
#define PFDK_PIPELINE_F_MANUAL (1u << 0) /**< launch nothing: caller steps workers */

/** Pipeline configuration. */
struct pfdk_pipeline_conf {
	const struct pfdk_profile *profile; /**< copied; devices are created from it */
	pfdk_resolve_burst_t resolve;       /**< required */
	void *resolve_ctx;                  /**< passed to resolve */
	uint32_t flags;                     /**< PFDK_PIPELINE_F_* */
};

/** Per-lcore counters. */
struct pfdk_lcore_stats {
	uint64_t received;     /**< records received (pollers) */
	uint64_t resolved;     /**< records this lcore resolved */
	uint64_t responded;    /**< records responded (pollers) */
	uint64_t retried;      /**< resolve or respond calls that left work held */
	uint64_t backpressure; /**< ring enqueues cut short: ring full */
	uint64_t idle;         /**< steps that found no work */
	uint64_t sleeps;       /**< blocking waits (epoll engine) */
	uint64_t inflight;     /**< received and not yet responded (pollers) */
	uint64_t engine_arms;  /**< io_uring: polls or multishot reads posted */
	uint64_t engine_reads; /**< io_uring: read completions carrying records */
	uint64_t serviced;     /**< pollers: queues serviced while their faults waited
				(pfdk_fault_queue_service()) */
	uint64_t busy_cycles;  /**< TSC cycles of loop passes that did work */
	uint64_t total_cycles; /**< TSC cycles of all loop passes (busy % over an
				interval: delta busy / delta total of two reads) */
	uint64_t engine_enters; /**< io_uring: io_uring_enter(2) calls (submit, task work) */
	uint64_t engine_writes; /**< io_uring: response writes posted on the ring */
};

struct pfdk_pipeline;

/**
 * Build a pipeline: per-node pools (and rings, pipeline layout), the
 * profile's devices (created, configured, queues set up on their poller's
 * node pool) and worker state. Nothing runs yet.
 *
 * @return
 *   The pipeline, or NULL with rte_errno set: EINVAL (bad conf), ENOMEM,
 *   EEXIST (a device of the profile exists), or a device's own error.
 */
struct pfdk_pipeline *pfdk_pipeline_create(const struct pfdk_pipeline_conf *conf);

/**
 * Start the devices and, unless MANUAL, launch every worker on its lcore.
 * @return 0, or -EBUSY (an lcore is busy or started already), -EINVAL
 *   (an lcore of the profile is not enabled in the EAL), a device's error.
 */
int pfdk_pipeline_start(struct pfdk_pipeline *p);

/**
 * Ask the workers to stop receiving. They go on until everything they
 * received has been answered, then return. Safe from any thread.
 */
void pfdk_pipeline_request_stop(struct pfdk_pipeline *p);

/**
 * Stop: request_stop, wait for the workers (MANUAL: step them until done),
 * then stop every device (which answers INVALID anything still outstanding
 * in the device; after a clean drain there is none).
 * @return 0, or -EINVAL.
 */
int pfdk_pipeline_stop(struct pfdk_pipeline *p);

/** Stop if needed, close devices, free pools, rings and workers. */
void pfdk_pipeline_destroy(struct pfdk_pipeline *p);

/** Number of workers (the profile's [lcore.*] sections, in order). */
uint16_t pfdk_pipeline_worker_count(const struct pfdk_pipeline *p);

/**
 * One step of worker @p w (MANUAL mode, one thread).
 * @return
 *   Work done (>= 0: faults moved), or -1 once the worker has finished
 *   after a stop request.
 */
int pfdk_pipeline_worker_step(struct pfdk_pipeline *p, uint16_t w);

/**
 * Lcore and role of worker @p w.
 * @return 0, or -EINVAL.
 */
int pfdk_pipeline_worker_lcore(const struct pfdk_pipeline *p, uint16_t w,
			       unsigned int *lcore_id, enum pfdk_role *role);

/** Device id of profile device @p i, or -1. */
int pfdk_pipeline_dev_id(const struct pfdk_pipeline *p, uint16_t i);

/**
 * Counters of worker @p w; with @p hist non-NULL also a copy of its latency
 * histogram (TSC cycles from receive to response; pollers only). Exact once
 * the pipeline is stopped; approximate while it runs.
 * @return 0, or -EINVAL.
 */
int pfdk_pipeline_worker_stats(const struct pfdk_pipeline *p, uint16_t w,
			       struct pfdk_lcore_stats *stats,
			       struct pfdk_hist *hist);

/** Sum of all workers' counters and histograms (@p hist may be NULL). */
void pfdk_pipeline_stats(const struct pfdk_pipeline *p,
			 struct pfdk_lcore_stats *stats, struct pfdk_hist *hist);

/** Zero all worker counters and histograms (pipeline stopped or quiet). */
void pfdk_pipeline_stats_reset(struct pfdk_pipeline *p);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_PIPELINE_H */
