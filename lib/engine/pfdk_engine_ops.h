/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_ENGINE_OPS_H
#define PFDK_ENGINE_OPS_H

/**
 * @file
 * @internal
 * What an engine implements and what a poller owns of it; not installed.
 *
 * A poller owns one struct pfdk_engine_ctx. Its step calls, per pass,
 * reap (if the engine has one); per queue, the inline
 * pfdk_engine_ready() / pfdk_engine_reads() / pfdk_engine_peek() on the
 * fields the engine publishes, and empty / consume when they apply; after
 * a respond on a queue the engine writes for (pfdk_engine_writes()), write;
 * when
 * a pass found nothing, idle (sleeping engines); when the pipeline stops,
 * drained / stop. Everything the engine keeps for itself is behind priv.
 * The fast-path fields are read inline, so a step costs no indirect call
 * for an engine that has nothing to do there (busy has no op at all).
 *
 * Adding an engine: one file defining a PFDK_ENGINE_INTERNAL const struct
 * pfdk_engine_ops pfdk_engine_NAME, its line in the registry
 * (pfdk_engine.c) and its name in lib/engine/meson.build.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_log.h>

#include "pfdk_engine.h"

/** @internal Log type of the engines, registered in pfdk_engine.c. */
extern int pfdk_engine_logtype;
#define ENGINE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfdk_engine_logtype, \
		"pfdk.engine: " fmt "\n", ##__VA_ARGS__)

struct pfdk_engine_ctx;

/** @internal One queue the poller owns, as the engine is told of it. */
struct pfdk_engine_queue {
	uint16_t dev_id;
	uint16_t queue_id;
};

/** @internal What setup gets. */
struct pfdk_engine_conf {
	const struct pfdk_engine_queue *queues; /**< the poller's queues */
	uint16_t nb_queues;
	uint16_t burst;          /**< records a read buffer holds */
	unsigned int lcore_id;   /**< for messages */
	int sqpoll_cpu;          /**< engines with sqpoll: the SQ thread's CPU */
	int stop_fd;             /**< readable when the pipeline stops */
	bool manual;             /**< stepped by a test: never waits */
};

/**
 * @internal Read mode, per queue: what an engine that reads for the
 * driver has read and not yet handed over. The engine keeps it current;
 * the poller reads it inline.
 */
struct pfdk_engine_rview {
	const uint8_t *buf; /**< unparsed bytes of the oldest buffer, or NULL */
	uint32_t len;       /**< their length */
	bool rd;            /**< the engine reads this queue */
};

/** @internal The engine's own counters (pfdk_engine_ops::stats). */
struct pfdk_engine_stats {
	uint64_t arms;   /**< polls or multishot reads posted */
	uint64_t reads;  /**< read completions carrying records */
	uint64_t enters; /**< io_uring_enter(2) calls the engine made */
	uint64_t writes; /**< response writes posted on the ring */
};

/** @internal An engine: a name, two properties and its operations. */
struct pfdk_engine_ops {
	const char *name;   /**< `engine =` value */
	bool sleeps;        /**< the poller sleeps when idle (never spins) */
	bool sqpoll;        /**< takes sqpoll_cpu (and needs it) */
	/** Set the engine up for the poller's queues; 0 or -errno (logged). */
	int (*setup)(struct pfdk_engine_ctx *e, const struct pfdk_engine_conf *c);
	/** The pipeline (re)starts: post again what the last stop cancelled. */
	void (*start)(struct pfdk_engine_ctx *e);
	/** Start of a pass: collect completions; ready[] and rv[] change. */
	void (*reap)(struct pfdk_engine_ctx *e);
	/** Queue @p i was found empty: stop reading it until it is ready. */
	void (*empty)(struct pfdk_engine_ctx *e, uint16_t i);
	/** Read mode: @p n bytes of what rv[i] shows were parsed. */
	void (*consume)(struct pfdk_engine_ctx *e, uint16_t i, uint32_t n);
	/**
	 * Write mode (wr[i] set): queue @p i's driver holds responses; post
	 * their write (pfdk_fault_write_take()), or leave them for the
	 * completion of the one in flight. Results go back to the driver
	 * (pfdk_fault_write_done()) from reap.
	 */
	void (*write)(struct pfdk_engine_ctx *e, uint16_t i);
	/**
	 * A pass found nothing (sleeping engines) or a look is due: wait up
	 * to the engine's bound when @p sleep, else only look; mark ready
	 * queues.
	 */
	void (*idle)(struct pfdk_engine_ctx *e, bool sleep);
	/** Stopping: post no more reads, cancel the posted ones. */
	void (*stop)(struct pfdk_engine_ctx *e);
	/**
	 * After stop: nothing posted, everything read handed over and every
	 * response write completed.
	 */
	bool (*drained)(const struct pfdk_engine_ctx *e);
	/** The engine's own counters. */
	void (*stats)(const struct pfdk_engine_ctx *e, struct pfdk_engine_stats *s);
	/** Release what setup took; also after a failed or no setup. */
	void (*fini)(struct pfdk_engine_ctx *e);
};

/** @internal The engine object a poller owns. */
struct pfdk_engine_ctx {
	const struct pfdk_engine_ops *ops;
	/**
	 * Queues worth reading (1) or known empty (0), or NULL: read every
	 * queue every pass. Set by the engine (its completions or events),
	 * cleared by empty.
	 */
	uint8_t *ready;
	struct pfdk_engine_rview *rv; /**< read mode, or NULL: never reads */
	/**
	 * Write mode, per queue: 1 where the engine writes the driver's
	 * responses (handed off with pfdk_fault_queue_write_handoff()); NULL:
	 * it writes none, drivers write their own.
	 */
	uint8_t *wr;
	uint16_t nb_waiting; /**< queues marked empty that only idle finds again */
	bool stopping;       /**< stop was called and start not since */
	void *priv;          /**< the engine's own state */
};

/**
 * @internal Engines' ops and the registry's lookup stay out of the
 * library's exported symbols (the version script exports pfdk_*): mark an
 * engine's ops with it.
 */
#define PFDK_ENGINE_INTERNAL __attribute__((visibility("hidden")))

/** @internal Registry: the engine at index @p e, or NULL. */
PFDK_ENGINE_INTERNAL
const struct pfdk_engine_ops *pfdk_engine_ops_get(enum pfdk_engine e);

/** @internal Queue @p i may have faults: read it. */
static inline bool
pfdk_engine_ready(const struct pfdk_engine_ctx *e, uint16_t i)
{
	return e->ready == NULL || e->ready[i];
}

/** @internal Queue @p i is read through the engine (or has bytes left). */
static inline bool
pfdk_engine_reads(const struct pfdk_engine_ctx *e, uint16_t i)
{
	return e->rv != NULL && (e->rv[i].rd || e->rv[i].buf != NULL);
}

/** @internal Queue @p i's responses are written through the engine. */
static inline bool
pfdk_engine_writes(const struct pfdk_engine_ctx *e, uint16_t i)
{
	return e->wr != NULL && e->wr[i];
}

/** @internal Read mode: queue @p i's unparsed bytes, or NULL when none. */
static inline const void *
pfdk_engine_peek(const struct pfdk_engine_ctx *e, uint16_t i, uint32_t *len)
{
	*len = e->rv[i].len;
	return e->rv[i].buf;
}

#endif /* PFDK_ENGINE_OPS_H */
