/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_FAULT_H
#define PFDK_FAULT_H

/**
 * @file
 * Fault devices: the PFDK device class.
 *
 * A fault device is anything that hands page faults to user space: a
 * userfaultfd, an iommufd fault queue, the synthetic "sim" device. Devices
 * are created from a devargs string, "<driver><n>,key=value,...", for
 * example "sim0,rate=1000000,groups=4" or "iommufd0,fault_fd=7". Each device
 * has one or more queues; each queue belongs to exactly one lcore, which
 * both receives faults from it and posts their responses.
 *
 * @code
 *   pfdk_fault_dev_create("sim0,groups=4")      -> dev_id
 *   pfdk_fault_configure(dev_id, {nb_queues})
 *   pfdk_fault_queue_setup(dev_id, q, {pool})   for each queue
 *   pfdk_fault_start(dev_id)
 *     loop on the queue's lcore:
 *       n = pfdk_fault_recv_burst(dev_id, q, faults, 32)
 *       ... resolve, set faults[i]->status ...
 *       pfdk_fault_respond_burst(dev_id, q, faults, n)
 *   pfdk_fault_stop(dev_id)     answers what is still outstanding: INVALID
 *   pfdk_fault_close(dev_id)
 * @endcode
 *
 * Faults arrive as descriptors (struct pfdk_fault) taken from the queue's
 * mempool. Every record is answered by passing its descriptor back to
 * pfdk_fault_respond_burst(), which takes ownership of the descriptors it
 * accepts and returns them to the pool. Page-request groups (several records
 * answered by one response, as in PCIe PRI) are handled by the driver: it
 * posts the group's one response when the last of its records has been
 * passed back, with INVALID if any record was INVALID. So a resolver never
 * needs to know how records group, and records of one group may be resolved
 * by different lcores.
 *
 * Control calls return 0 or a negative errno and log through the "pfdk.fault"
 * logtype. The burst calls are inline, one indirect call each, and never
 * check their arguments unless built with PFDK_FAULT_DEBUG.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of fault devices. */
#define PFDK_FAULT_MAX_DEVS 64
/** Largest number of queues per device. */
#define PFDK_FAULT_MAX_QUEUES 64
/** Longest device name, with NUL. */
#define PFDK_FAULT_NAME_LEN 32

/** @name Fault permissions (pfdk_fault::perm); the iommufd values. */
/**@{*/
#define PFDK_FAULT_PERM_READ  (1u << 0)
#define PFDK_FAULT_PERM_WRITE (1u << 1)
#define PFDK_FAULT_PERM_EXEC  (1u << 2)
#define PFDK_FAULT_PERM_PRIV  (1u << 3)
/**@}*/

/** @name Fault flags (pfdk_fault::flags). */
/**@{*/
#define PFDK_FAULT_F_PASID_VALID (1u << 0) /**< pasid is meaningful */
#define PFDK_FAULT_F_LAST_PAGE   (1u << 1) /**< last record of its group */
/**@}*/

/** What kind of fault (pfdk_fault::kind). */
enum pfdk_fault_kind {
	PFDK_FAULT_KIND_MISSING = 0, /**< no page: fill it (uffd MISSING) */
	PFDK_FAULT_KIND_MINOR,       /**< page cache has it: map it (uffd MINOR) */
	PFDK_FAULT_KIND_WP,          /**< write to a write-protected page */
	PFDK_FAULT_KIND_IO,          /**< device page request (PRI / iommufd) */
};

/** Response codes (pfdk_fault::status); the iommufd values. */
enum pfdk_fault_resp {
	PFDK_FAULT_RESP_SUCCESS = 0, /**< page is valid now: retry the access */
	PFDK_FAULT_RESP_INVALID = 1, /**< do not retry: the access fails */
};

/**
 * A fault descriptor: one cache line, taken from a per-node mempool by the
 * driver on receive and returned to it on respond.
 */
struct pfdk_fault {
	uint64_t addr;      /**< faulting address: user VA or IOVA */
	uint64_t tsc;       /**< rte_rdtsc() when the driver received it */
	uint64_t drv;       /**< driver-private token; do not touch */
	uint64_t user;      /**< free for the resolver and the application */
	uint32_t len;       /**< bytes affected (page size); 0 if unknown */
	uint32_t pasid;     /**< PASID, when PFDK_FAULT_F_PASID_VALID */
	uint32_t grpid;     /**< page-request group index */
	uint32_t cookie;    /**< the source's response token (iommufd cookie) */
	uint32_t tid;       /**< faulting thread id, 0 when unknown */
	uint16_t dev_id;    /**< device that received it */
	uint16_t queue_id;  /**< queue that received it; its owner responds */
	uint8_t perm;       /**< PFDK_FAULT_PERM_* */
	uint8_t kind;       /**< enum pfdk_fault_kind */
	uint8_t flags;      /**< PFDK_FAULT_F_* */
	uint8_t status;     /**< enum pfdk_fault_resp, set by the resolver */
	uint32_t rsvd;      /**< zero */
} __rte_cache_aligned;

/** Device information. */
struct pfdk_fault_info {
	const char *driver_name; /**< e.g. "sim" */
	const char *dev_name;    /**< e.g. "sim0" */
	uint16_t max_queues;     /**< most queues configure accepts */
	uint16_t nb_queues;      /**< queues configured */
	int socket_id;           /**< NUMA node of the device, or SOCKET_ID_ANY */
	uint32_t max_group_records; /**< most records in one group; 1 = none */
};

/** Device configuration. */
struct pfdk_fault_conf {
	uint16_t nb_queues; /**< 1..max_queues */
};

/** Queue configuration. */
struct pfdk_fault_queue_conf {
	struct rte_mempool *pool; /**< descriptors come from (and go back to) here */
	int socket_id;            /**< where the queue's state is allocated */
};

/** Device counters, summed over queues. */
struct pfdk_fault_stats {
	uint64_t received;   /**< records handed out by recv_burst */
	uint64_t responded;  /**< records passed back through respond_burst */
	uint64_t groups;     /**< responses posted (one per group) */
	uint64_t invalid;    /**< of which with code INVALID */
	uint64_t nodesc;     /**< receive attempts short of descriptors */
	uint64_t full;       /**< receive attempts the source held back (queue credit) */
	uint64_t errors;     /**< responses the source rejected */
	uint64_t aborted;    /**< groups answered INVALID by stop */
	uint64_t outstanding; /**< groups received and not yet answered */
};

/**
 * Create a device from a devargs string.
 *
 * @param devargs
 *   "<driver><n>[,key=value...]"; keys are the driver's (pfdk_fault_driver_params()).
 * @return
 *   Device id (>= 0), or:
 *   - -EINVAL: malformed string, unknown driver, key or value (logged).
 *   - -EEXIST: a device of that name exists.
 *   - -ENOSPC: PFDK_FAULT_MAX_DEVS devices exist.
 *   - -ENOMEM, or the driver's own errors.
 */
int pfdk_fault_dev_create(const char *devargs);

/**
 * Check a devargs string without creating anything: syntax, driver, keys
 * (each known to the driver and given once) and values. Needs no EAL.
 *
 * @param[out] err
 *   Reason on failure.
 * @return
 *   0, or -EINVAL with @p err filled.
 */
int pfdk_fault_devargs_check(const char *devargs, char *err, size_t errlen);

/** What a devargs string promises, known before any device exists. */
struct pfdk_fault_devargs_info {
	char name[PFDK_FAULT_NAME_LEN]; /**< device name, e.g. "sim0" */
	const char *driver;             /**< driver name, e.g. "sim" */
	/**
	 * Most queues pfdk_fault_configure() will accept on the device: the
	 * driver's answer for these devargs, else PFDK_FAULT_MAX_QUEUES for a
	 * driver with a queues= parameter (its value, when given) and 1 for
	 * one without.
	 */
	uint16_t max_queues;
	/**
	 * The device can resolve in the faulting threads
	 * (pfdk_fault_inthread_set()): its driver takes sigbus=<0|1> and the
	 * devargs say sigbus=1.
	 */
	bool inthread;
};

/**
 * Check a devargs string as pfdk_fault_devargs_check() does and say what
 * the device it describes will accept, without creating it (for checking
 * a profile at load). Needs no EAL.
 *
 * @param[out] info
 *   Filled on success.
 * @param[out] err
 *   Reason on failure.
 * @return
 *   0, or -EINVAL (-ENOMEM) with @p err filled.
 */
int pfdk_fault_devargs_info(const char *devargs,
			    struct pfdk_fault_devargs_info *info,
			    char *err, size_t errlen);

/** Look a device up by name. @return dev_id, or -ENODEV. */
int pfdk_fault_get_dev_id(const char *name);

/** Number of devices that exist. */
uint16_t pfdk_fault_count(void);

/**
 * Parameter string of a registered driver, e.g. "rate=<uint> groups=<1-64>".
 * @return NULL if no such driver.
 */
const char *pfdk_fault_driver_params(const char *driver);

/** @return 0 with @p info filled, or -ENODEV / -EINVAL. */
int pfdk_fault_info_get(uint16_t dev_id, struct pfdk_fault_info *info);

/**
 * Configure a created or stopped device.
 * @return 0, or -ENODEV, -EINVAL (nb_queues), -EBUSY (started).
 */
int pfdk_fault_configure(uint16_t dev_id, const struct pfdk_fault_conf *conf);

/**
 * Set up one queue of a configured, stopped device.
 * @return 0, or -ENODEV, -EINVAL (queue id, no pool), -EBUSY, -ENOMEM.
 */
int pfdk_fault_queue_setup(uint16_t dev_id, uint16_t queue_id,
			   const struct pfdk_fault_queue_conf *conf);

/**
 * Start receiving. Every queue must be set up.
 * @return 0, or -ENODEV, -EINVAL (queue not set up), -EBUSY (started).
 */
int pfdk_fault_start(uint16_t dev_id);

/**
 * Stop: after it returns the burst calls do nothing, and every group that
 * was received and not answered has been answered (counted in
 * pfdk_fault_stats::aborted): INVALID, or for uffd served from the region's
 * store and unregistered (docs/uffd.md), so no faulting context is left
 * waiting. Descriptors the application still holds must not be responded
 * to after. Control thread, once no lcore polls the device any more (stop
 * does not wait for a burst running elsewhere; pfdk_pipeline_stop() stops
 * its lcores first).
 * @return 0, or -ENODEV.
 */
int pfdk_fault_stop(uint16_t dev_id);

/** Stop if started, then free the device. @return 0, or -ENODEV. */
int pfdk_fault_close(uint16_t dev_id);

/** @return 0 with @p stats filled, or -ENODEV / -EINVAL. */
int pfdk_fault_stats_get(uint16_t dev_id, struct pfdk_fault_stats *stats);

/** @return 0, or -ENODEV. */
int pfdk_fault_stats_reset(uint16_t dev_id);

/**
 * File descriptor that polls readable (EPOLLIN) when the queue may have
 * faults, for blocking engines. Level-triggered: it stays readable as long
 * as the queue holds faults (engines stop reading a queue on a short or
 * empty receive and rely on this). Owned by the device.
 * @return the fd, or -ENODEV, -EINVAL, -ENOTSUP (the driver has none).
 */
int pfdk_fault_queue_fd(uint16_t dev_id, uint16_t queue_id);

/** Where a queue's records can be read by someone other than the driver. */
struct pfdk_fault_read_info {
	int fd;            /**< read(2) on it returns whole records */
	uint32_t rec_size; /**< bytes per record; reads are multiples of it */
};

/**
 * For engines that read a queue's fd themselves (io_uring with provided
 * buffers, pre-posted or multishot reads) and hand the bytes to
 * pfdk_fault_parse_burst() instead of calling pfdk_fault_recv_burst(). A
 * queue is read one way or the other, never both.
 * @return 0 with @p info filled, or -ENODEV, -EINVAL, -ENOTSUP (the driver
 *   reads its queues itself only).
 */
int pfdk_fault_queue_read_info(uint16_t dev_id, uint16_t queue_id,
			       struct pfdk_fault_read_info *info);

/** Where a queue's responses can be written by someone other than the driver. */
struct pfdk_fault_write_info {
	int fd;              /**< write(2) on it takes whole entries */
	uint32_t entry_size; /**< bytes per response entry */
};

/**
 * Hand a queue's response writes to an engine (io_uring WRITE on the same
 * fd the faults are read from), or take them back. While handed off, the
 * driver's respond only queues the grouped responses; the engine writes
 * the bytes pfdk_fault_write_take() gives it, at most one write in flight
 * per queue, and passes the write's result to pfdk_fault_write_done(),
 * which applies it exactly as the driver's own write(2) would have been
 * (a short write: the entries after it are handled as the driver's
 * partial-write rule says; none is lost or sent twice). Control thread,
 * with the device configured or started and no burst call running on the
 * queue; the engine takes them back (@p on false) before it goes away,
 * with no write in flight.
 *
 * @param[out] info
 *   With @p on: the fd and the entry size (may be NULL when taking back).
 * @return 0, or -ENODEV, -EINVAL, -ENOTSUP (the driver writes its queues
 *   itself only, or this queue's source has no fd to write to).
 */
int pfdk_fault_queue_write_handoff(uint16_t dev_id, uint16_t queue_id, bool on,
				   struct pfdk_fault_write_info *info);

/**
 * Resolve the device's faults in the faulting threads themselves (the
 * profile's engine = inthread), or stop doing so. Only drivers whose faults
 * are raised in the process's own threads can (uffd created with
 * sigbus=1); nothing is then received on the device's queues. Control
 * thread.
 * @return 0, or -ENODEV, -ENOTSUP (the driver cannot), or the driver's
 *   error (e.g. -EINVAL: the device was not created for it).
 */
int pfdk_fault_inthread_set(uint16_t dev_id, bool enable);

/** Print the device's state and counters. @return 0 or -ENODEV. */
int pfdk_fault_dump(uint16_t dev_id, FILE *f);

/**
 * Create a descriptor pool on @p socket_id, in hugepage memory when the EAL
 * has hugepages. A thin wrapper over rte_mempool_create() with the
 * descriptor's size; free it with rte_mempool_free().
 *
 * @return
 *   The pool, or NULL with rte_errno set (rte_mempool_create's errors).
 */
struct rte_mempool *pfdk_fault_pool_create(const char *name, unsigned int n,
					   unsigned int cache_size,
					   int socket_id);

#include "pfdk_fault_core.h"

/**
 * For an engine the queue's writes are handed to
 * (pfdk_fault_queue_write_handoff()): the oldest responses not yet
 * written. They are in flight from now until pfdk_fault_write_done(): the
 * bytes stay where @p buf points, unchanged, and no other take returns
 * any. Call only on the queue's owner lcore.
 *
 * @param[out] buf
 *   Set when the return is > 0.
 * @return
 *   Bytes to write (whole entries), 0 (nothing to write, or a write is in
 *   flight), or -ENOTSUP: the queue's writes are not (or no longer)
 *   handed off; the driver writes them itself.
 */
static inline int32_t
pfdk_fault_write_take(uint16_t dev_id, uint16_t queue_id, const void **buf)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES ||
	    buf == NULL)
		return -ENOTSUP;
#endif
	return o->write_take(o->queues[queue_id], buf);
}

/**
 * The write of what pfdk_fault_write_take() returned completed with @p res
 * (bytes the fd took, or -errno): the driver applies it. Where the fd
 * refuses the engine's writes themselves (an error that write(2) does not
 * give), the driver takes the queue's writes back: the next take says
 * -ENOTSUP. Call only on the queue's owner lcore, once per take.
 */
static inline void
pfdk_fault_write_done(uint16_t dev_id, uint16_t queue_id, int32_t res)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES)
		return;
#endif
	o->write_done(o->queues[queue_id], res);
}

/**
 * Receive up to @p nb faults from a queue. Call only on the queue's lcore.
 *
 * @param[out] faults
 *   Filled with descriptors now owned by the caller.
 * @return
 *   Number received (0..nb). Fewer than asked can mean the queue is empty,
 *   or the pool is short of descriptors (counted as nodesc): the faults
 *   stay in the device and come later, nothing is lost.
 */
static inline uint16_t
pfdk_fault_recv_burst(uint16_t dev_id, uint16_t queue_id,
		      struct pfdk_fault **faults, uint16_t nb)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES ||
	    faults == NULL)
		return 0;
#endif
	return o->recv(o->queues[queue_id], faults, nb);
}

/**
 * Answer up to @p nb faults, each with its status. Call only on the
 * lcore that owns the queue the faults came from.
 *
 * @return
 *   Number accepted: those descriptors belong to the driver now. The rest
 *   (a transient refusal, e.g. the source's write would block) stay the
 *   caller's, to pass again; none of them was answered.
 */
static inline uint16_t
pfdk_fault_respond_burst(uint16_t dev_id, uint16_t queue_id,
			 struct pfdk_fault **faults, uint16_t nb)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES ||
	    faults == NULL)
		return 0;
#endif
	return o->respond(o->queues[queue_id], faults, nb);
}

/**
 * Turn records read from the queue's read fd (pfdk_fault_queue_read_info())
 * into up to @p nb descriptors, as pfdk_fault_recv_burst() would have:
 * descriptors come from the queue's pool, events the driver handles
 * itself are consumed without one. Call only on the queue's owner lcore.
 *
 * @param buf, len
 *   Whole records, in the order they were read.
 * @param[out] consumed
 *   Bytes of @p buf used up. The rest (no descriptor, or @p nb reached)
 *   must be offered again, first, in a later call: a record read from
 *   the kernel exists nowhere else. Drivers that park faults
 *   (pfdk_fault_queue_service()) hand parked faults out first (@p buf
 *   may be NULL with @p len 0 to take only those) and, with @p nb = 0
 *   (the engine's service call, for bytes left for lack of room or
 *   descriptors), consume every record: events handled, faults parked.
 * @return Number of descriptors filled.
 */
static inline uint16_t
pfdk_fault_parse_burst(uint16_t dev_id, uint16_t queue_id, const void *buf,
		      uint32_t len, struct pfdk_fault **faults, uint16_t nb,
		      uint32_t *consumed)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES ||
	    faults == NULL || consumed == NULL) {
		/* Refused: nothing consumed, when there is somewhere to say so. */
		if (consumed != NULL)
			*consumed = 0;
		return 0;
	}
#endif
	return o->parse_burst(o->queues[queue_id], buf, len, faults, nb, consumed);
}

/**
 * Service a queue that cannot be received from: its owner holds as many
 * faults as it can (a full stage, an empty pool) or is stopping. Some
 * sources queue events behind their faults and refuse to resolve anything
 * until the event is read (uffd: every UFFDIO_COPY returns EAGAIN while a
 * REMOVE, UNMAP or REMAP event is pending, and read() returns the pending
 * faults before the event): with @p read the driver reads the source now,
 * handles its events and parks the faults it read on the way; later
 * pfdk_fault_recv_burst() and pfdk_fault_parse_burst() calls hand them out
 * first, in order, and pfdk_fault_stop() answers any still parked. Nothing
 * is lost and nothing is answered twice. Call only on the queue's owner
 * lcore (with @p read false: any time, only counting).
 *
 * A poller calls it with @p read when a pass over a queue made no progress
 * while it holds faults of that queue, and before it waits on the queue's
 * fd it checks that nothing is parked (the fd does not show parked
 * faults). Drivers whose responses no event can block do nothing here.
 *
 * @return Faults parked in the queue now (0 for drivers without a backlog,
 *   and for devices not started).
 */
static inline uint32_t
pfdk_fault_queue_service(uint16_t dev_id, uint16_t queue_id, bool read)
{
	const struct pfdk_fault_fp_object *o = &pfdk_fault_fp_objs[dev_id];

#ifdef PFDK_FAULT_DEBUG
	if (dev_id >= PFDK_FAULT_MAX_DEVS || queue_id >= PFDK_FAULT_MAX_QUEUES)
		return 0;
#endif
	return o->service(o->queues[queue_id], read);
}

#ifdef __cplusplus
}
#endif

#endif /* PFDK_FAULT_H */
