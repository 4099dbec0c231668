/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_FAULT_CORE_H
#define PFDK_FAULT_CORE_H

/**
 * @file
 * @internal
 * Fast-path objects of the fault device class. Applications include
 * pfdk_fault.h, never this file directly.
 *
 * One cache-aligned object per device id holds what the inline burst calls
 * need. Slots of devices that do not exist, or are not started, point at
 * dummy functions that return 0, so the fast path never tests for NULL.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

struct pfdk_fault;
struct pfdk_fault_driver;

/** @internal Driver receive function. */
typedef uint16_t (*pfdk_fault_recv_t)(void *queue, struct pfdk_fault **faults,
				      uint16_t nb);
/** @internal Driver respond function. */
typedef uint16_t (*pfdk_fault_respond_t)(void *queue,
					 struct pfdk_fault **faults,
					 uint16_t nb);

/** @internal Driver's parse: records an engine read into descriptors. */
typedef uint16_t (*pfdk_fault_parse_burst_t)(void *queue, const void *buf,
				       uint32_t len, struct pfdk_fault **faults,
				       uint16_t nb, uint32_t *consumed);
/** @internal Driver's service: read ahead to reach events; count parked faults. */
typedef uint32_t (*pfdk_fault_service_t)(void *queue, bool read);
/** @internal Driver's write take: the bytes an engine writes next for it. */
typedef int32_t (*pfdk_fault_write_take_t)(void *queue, const void **buf);
/** @internal Driver's write done: what the engine's write returned. */
typedef void (*pfdk_fault_write_done_t)(void *queue, int32_t res);

/** @internal Fast-path object of one device. */

struct pfdk_fault_fp_object {
	/**
	 * The device's dev_private, first (rte_dmadev_core.h), from probe to
	 * close whatever the state, so a driver's per-fault calls (uffd's
	 * resolvers) reach their device without the control-plane registry.
	 */
	void *dev_private;
	/** Who dev_private belongs to (set before it is read, see above). */
	const struct pfdk_fault_driver *driver;
	void **queues;                /**< driver's per-queue state, by queue id */
	pfdk_fault_recv_t recv;       /**< receive burst */
	pfdk_fault_respond_t respond; /**< respond burst */
	pfdk_fault_parse_burst_t parse_burst; /**< parse read records (optional op) */
	pfdk_fault_service_t service; /**< read ahead, parked count (optional op) */
	pfdk_fault_write_take_t write_take; /**< responses to write (optional op) */
	pfdk_fault_write_done_t write_done; /**< their write's result (optional op) */
} __rte_cache_aligned;

/** @internal PFDK_FAULT_MAX_DEVS objects, indexed by device id. */
extern struct pfdk_fault_fp_object *pfdk_fault_fp_objs;

#endif /* PFDK_FAULT_CORE_H */
