/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_FAULT_DRIVER_H
#define PFDK_FAULT_DRIVER_H

/**
 * @file
 * Interface between the fault device class and its drivers.
 *
 * A driver fills a struct pfdk_fault_driver (name, parameter string, parse
 * and probe functions) and registers it from a constructor with
 * PFDK_FAULT_DRIVER_REGISTER(). pfdk_fault_dev_create() splits the devargs,
 * checks every key against the parameter string, lets the driver parse the
 * values into its own configuration (parse has no side effects, so devargs
 * can be checked or fuzzed without an EAL), allocates the device and calls
 * probe, which sets dev->ops and dev->dev_private.
 *
 * Device states: CREATED -> (configure) CONFIGURED -> (queue setup, start)
 * STARTED -> (stop) CONFIGURED -> ... -> (close) freed. The class checks
 * the state before calling an op, so ops need not.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_common.h>
#include <rte_kvargs.h>
#include <rte_mempool.h>

#include "pfdk_counter.h"
#include "pfdk_fault.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pfdk_fault_dev;

/**
 * A queue's counters, owned by the class (DPDK's struct eth_queue_stats):
 * the driver embeds one in its queue state, points dev->queue_stats[q] at
 * it in queue_setup, and bumps it on its fast path with pfdk_counter_add()
 * (only the queue's owner lcore writes it); the class sums them over the
 * queues for pfdk_fault_stats_get() and zeroes them for
 * pfdk_fault_stats_reset(). Fields mean what pfdk_fault_stats' do.
 */
struct pfdk_fault_queue_stats {
	uint64_t received;    /**< records handed out */
	uint64_t responded;   /**< records passed back */
	uint64_t groups;      /**< responses posted (one per group) */
	uint64_t invalid;     /**< of which INVALID */
	uint64_t nodesc;      /**< receives short of descriptors */
	uint64_t full;        /**< receives the source held back */
	uint64_t errors;      /**< responses the source rejected */
	uint64_t aborted;     /**< groups answered INVALID by stop */
	uint64_t outstanding; /**< gauge, not a counter: reset keeps it */
};

/** Device states. */
enum pfdk_fault_dev_state {
	PFDK_FAULT_DEV_UNUSED = 0,  /**< slot free */
	PFDK_FAULT_DEV_CREATED,     /**< probed, not configured */
	PFDK_FAULT_DEV_CONFIGURED,  /**< configured or stopped */
	PFDK_FAULT_DEV_STARTED,     /**< bursts flow */
};

/**
 * Driver operations; all but the fast-path pair are called with the state
 * checked. Those marked optional may be NULL.
 */
struct pfdk_fault_dev_ops {
	/** Fill what the class does not know (max_queues, socket, ...). */
	void (*dev_info_get)(const struct pfdk_fault_dev *dev,
			     struct pfdk_fault_info *info);
	/** Optional: accept nb_queues; may allocate per-queue arrays. */
	int (*dev_configure)(struct pfdk_fault_dev *dev,
			     const struct pfdk_fault_conf *conf);
	/** Allocate queue state on conf->socket_id; store it in dev->queues[q]. */
	int (*queue_setup)(struct pfdk_fault_dev *dev, uint16_t q,
			   const struct pfdk_fault_queue_conf *conf);
	/** Free dev->queues[q] (device stopped). */
	void (*queue_release)(struct pfdk_fault_dev *dev, uint16_t q);
	/** Start the source. */
	int (*dev_start)(struct pfdk_fault_dev *dev);
	/** Stop the source and answer every outstanding group INVALID. */
	int (*dev_stop)(struct pfdk_fault_dev *dev);
	/** Free dev_private's contents (queues already released). */
	void (*dev_close)(struct pfdk_fault_dev *dev);
	/**
	 * Optional: add what the queues' pfdk_fault_queue_stats do not hold
	 * (counters kept outside the queues) to @p stats, which the class has
	 * filled with their sums.
	 */
	void (*stats_get)(const struct pfdk_fault_dev *dev,
			  struct pfdk_fault_stats *stats);
	/** Optional: zero the driver's own counters (xstats); the class zeroes the queues'. */
	void (*stats_reset)(struct pfdk_fault_dev *dev);
	/** Optional: readiness fd of queue q, or -ENOTSUP. */
	int (*queue_fd)(const struct pfdk_fault_dev *dev, uint16_t q);
	/**
	 * Optional, with parse: the fd whose read(2) returns queue q's
	 * records, and the record size (pfdk_fault_queue_read_info()).
	 */
	int (*queue_read_info)(const struct pfdk_fault_dev *dev, uint16_t q,
			       struct pfdk_fault_read_info *info);
	/**
	 * Optional, with write_take and write_done: hand queue q's response
	 * writes to an engine (@p on) or take them back
	 * (pfdk_fault_queue_write_handoff()).
	 */
	int (*queue_write_handoff)(struct pfdk_fault_dev *dev, uint16_t q, bool on,
				   struct pfdk_fault_write_info *info);
	/** Optional: resolve in the faulting threads (pfdk_fault_inthread_set). */
	int (*inthread_set)(struct pfdk_fault_dev *dev, bool enable);
	/** Optional: driver-specific lines for pfdk_fault_dump(). */
	void (*dump)(const struct pfdk_fault_dev *dev, FILE *f);
	pfdk_fault_recv_t recv;       /**< fast path: receive burst */
	pfdk_fault_respond_t respond; /**< fast path: respond burst */
	/**
	 * Optional fast path, with queue_read_info: records an engine read
	 * from that fd into descriptors (pfdk_fault_parse_burst()). Same rules
	 * as recv: descriptors from the queue's pool, nothing read is lost.
	 */
	pfdk_fault_parse_burst_t parse_burst;
	/**
	 * Optional fast path (pfdk_fault_queue_service()), for drivers whose
	 * source holds its events behind its faults (uffd: read() returns
	 * every pending fault first). With @p read: read the source now,
	 * whatever the caller holds and whether or not descriptors are left,
	 * handle every event, and keep ("park") the faults read on the way;
	 * recv and parse hand parked faults out first, oldest first, and stop
	 * answers any still parked. Return the number parked: the queue's fd
	 * does not show them. Drivers without events that block their own
	 * responses leave it NULL (a dummy returns 0).
	 */
	pfdk_fault_service_t service;
	/**
	 * Optional fast path, with queue_write_handoff (pfdk_fault_write_take()
	 * and pfdk_fault_write_done()): while a queue's writes are handed off,
	 * respond queues the responses and never writes; take hands out the
	 * oldest unwritten bytes (at most one write in flight, so the kernel
	 * sees the responses in order), done applies the write's result with
	 * the same rules as the driver's own write(2) path.
	 */
	pfdk_fault_write_take_t write_take;
	pfdk_fault_write_done_t write_done; /**< see write_take */
};

/** A device instance, owned by the class. */
struct pfdk_fault_dev {
	char name[PFDK_FAULT_NAME_LEN];          /**< "sim0" */
	uint16_t dev_id;                         /**< index */
	enum pfdk_fault_dev_state state;         /**< see enum */
	uint16_t nb_queues;                      /**< configured queues */
	int socket_id;                           /**< where dev_private lives */
	const struct pfdk_fault_driver *driver;  /**< who drives it */
	const struct pfdk_fault_dev_ops *ops;    /**< set by probe */
	void *dev_private;                       /**< set by probe */
	void *queues[PFDK_FAULT_MAX_QUEUES];     /**< set by queue_setup */
	/** Set by queue_setup: the queue's counters, in its own state. */
	struct pfdk_fault_queue_stats *queue_stats[PFDK_FAULT_MAX_QUEUES];
};

/** A driver. */
struct pfdk_fault_driver {
	TAILQ_ENTRY(pfdk_fault_driver) next; /**< registry link */
	const char *name;   /**< devargs prefix: "sim" matches "sim0", "sim12" */
	/**
	 * Accepted keys and the form of their values, space separated:
	 * "rate=<uint> groups=<1-64>". Keys not listed are rejected.
	 */
	const char *params;
	/** Size of the configuration parse_devargs() fills. */
	size_t conf_size;
	/**
	 * Parse the key/value pairs (already checked against params) into
	 * @p conf (conf_size bytes, zeroed). No side effects.
	 * @return 0, or -EINVAL with @p err filled.
	 */
	int (*parse_devargs)(const struct rte_kvargs *kv, void *conf, char *err,
			     size_t errlen);
	/**
	 * Bring up the device from @p conf: set dev->ops and dev->dev_private.
	 * @return 0, or a negative errno (logged by the driver).
	 */
	int (*probe)(struct pfdk_fault_dev *dev, const void *conf);
	/**
	 * Optional: most queues a device probed from @p conf accepts, as its
	 * dev_info_get() will say. Lets a profile be checked without a device;
	 * when NULL, see pfdk_fault_devargs_info::max_queues.
	 */
	uint16_t (*conf_max_queues)(const void *conf);
	/**
	 * Optional: keys of @p params that may be given more than once,
	 * space separated ("range"); any other key given twice is refused
	 * (rte_kvargs_get() would silently take the first).
	 */
	const char *repeatable;
};

/** @internal Add a driver to the registry; use PFDK_FAULT_DRIVER_REGISTER. */
void pfdk_fault_driver_register(struct pfdk_fault_driver *drv);

/** Register @p drv (a struct pfdk_fault_driver) under @p nm at load time. */
#define PFDK_FAULT_DRIVER_REGISTER(nm, drv) \
	RTE_INIT(pfdk_fault_driver_init_##nm) \
	{ \
		(drv).name = RTE_STR(nm); \
		pfdk_fault_driver_register(&(drv)); \
	}

/** The device behind @p dev_id, or NULL. For drivers' own APIs. */
struct pfdk_fault_dev *pfdk_fault_dev_get(uint16_t dev_id);

/**
 * Parse an unsigned integer value of key @p key, within [min, max]; the key
 * is optional: @p val is left alone when absent.
 * @return 0, or -EINVAL with @p err filled.
 */
int pfdk_fault_kv_uint(const struct rte_kvargs *kv, const char *key,
		       uint64_t *val, uint64_t min, uint64_t max, char *err,
		       size_t errlen);

/**
 * Take descriptors for a receive burst of up to @p n records from @p pool:
 * all @p n, or, when the pool is short, the largest n >> k it can give.
 * Each try is all-or-nothing (rte_mempool_get_bulk()), so nothing is ever
 * half-taken and put back, and halving lets a nearly empty pool still hand
 * out a few descriptors instead of none. A short burst counts once in
 * @p nodesc (the queue's pfdk_fault_stats::nodesc counter; owner only).
 * Inline and allocation-free: drivers call it on their receive path.
 *
 * @return
 *   Descriptors now in faults[0 .. ret), 0 when the pool has none.
 */
static inline uint16_t
pfdk_fault_desc_take(struct rte_mempool *pool, struct pfdk_fault **faults,
		     uint16_t n, uint64_t *nodesc)
{
	if (likely(rte_mempool_get_bulk(pool, (void **)faults, n) == 0))
		return n;
	pfdk_counter_add(nodesc, 1);
	do {
		n >>= 1;
	} while (n != 0 && rte_mempool_get_bulk(pool, (void **)faults, n) != 0);
	return n;
}

/**
 * Exactly-once state of one page-request group, for drivers whose source
 * takes one response per group (a PRI group: iommufd, sim). The driver
 * keeps these in its own table (by slot or by cookie) and lets
 * pfdk_fault_group_return() decide what each returned descriptor means,
 * so every such driver answers the same way: a group is answered once,
 * when its last record is back, with INVALID if any record was INVALID.
 */
struct pfdk_fault_group {
	uint32_t gen;      /**< generation, never 0 while live; 0: the slot is free */
	uint32_t nrec;     /**< records handed out so far */
	uint32_t returned; /**< records passed back */
	uint8_t closed;    /**< no more records come: nrec is final */
	uint8_t code;      /**< PFDK_FAULT_RESP_INVALID once any record was */
	uint64_t mask;     /**< which of records 0..63 were passed back */
	/**
	 * Records 64 and up, or NULL: a driver whose groups may be bigger
	 * gives the group a zeroed map of (most records / 64) words, bit
	 * idx % 64 of word idx / 64 (word 0 unused), before it hands out
	 * record 64, and takes it back when the group is answered.
	 */
	uint64_t *big;
};

/** What a returned descriptor was to its group (pfdk_fault_group_return()). */
enum pfdk_fault_group_ret {
	PFDK_FAULT_GROUP_STALE,     /**< another generation: its group was answered */
	PFDK_FAULT_GROUP_DUPLICATE, /**< that record was passed back before */
	PFDK_FAULT_GROUP_TAKEN,     /**< counted; more records are due */
	PFDK_FAULT_GROUP_DONE,      /**< the last one: answer the group once, with code */
};

/** Start group @p g as generation @p gen (not 0), with no records yet. */
static inline void
pfdk_fault_group_begin(struct pfdk_fault_group *g, uint32_t gen)
{
	g->gen = gen;
	g->nrec = 0;
	g->returned = 0;
	g->closed = 0;
	g->code = PFDK_FAULT_RESP_SUCCESS;
	g->mask = 0;
	g->big = NULL;
}

/**
 * Record @p idx of generation @p gen of group @p g comes back with
 * @p status. A status that is neither SUCCESS nor INVALID (a resolver bug)
 * counts as INVALID and sets @p *bad_status: the source must not be left
 * waiting for an answer it would refuse. The caller answers the group on
 * PFDK_FAULT_GROUP_DONE and frees its slot (gen = 0); STALE and DUPLICATE
 * change nothing.
 */
static inline enum pfdk_fault_group_ret
pfdk_fault_group_return(struct pfdk_fault_group *g, uint32_t gen, uint32_t idx,
			uint8_t status, bool *bad_status)
{
	uint64_t *w, bit;

	if (unlikely(g->gen == 0 || g->gen != gen))
		return PFDK_FAULT_GROUP_STALE;
	if (unlikely(idx >= g->nrec))
		return PFDK_FAULT_GROUP_DUPLICATE; /* never handed out: not ours */
	if (likely(idx < 64)) {
		w = &g->mask;
		bit = 1ull << idx;
	} else {
		w = &g->big[idx / 64];
		bit = 1ull << (idx % 64);
	}
	if (unlikely(*w & bit))
		return PFDK_FAULT_GROUP_DUPLICATE;
	*w |= bit;
	*bad_status = status > PFDK_FAULT_RESP_INVALID;
	if (unlikely(status != PFDK_FAULT_RESP_SUCCESS))
		g->code = PFDK_FAULT_RESP_INVALID;
	if (++g->returned == g->nrec && g->closed)
		return PFDK_FAULT_GROUP_DONE;
	return PFDK_FAULT_GROUP_TAKEN;
}

/** The class's logtype, "pfdk.fault". */
extern int pfdk_fault_logtype;
/*
 * The logtype PFDK_FAULT_LOG() uses, looked up where the macro is used: a
 * driver's private header redefines it (#undef, then #define) to its own
 * "pfdk.fault.<driver>" logtype, so --log-level=pfdk.fault.uffd:debug
 * selects one driver and pfdk.fault.*:debug all of them.
 */
#ifndef PFDK_FAULT_LOGTYPE
#define PFDK_FAULT_LOGTYPE pfdk_fault_logtype
#endif
/** Log through PFDK_FAULT_LOGTYPE (the class's, or the driver's own). */
#define PFDK_FAULT_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, PFDK_FAULT_LOGTYPE, "pfdk.fault: " fmt "\n", \
		##__VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* PFDK_FAULT_DRIVER_H */
