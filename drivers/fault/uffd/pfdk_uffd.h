/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_UFFD_H
#define PFDK_UFFD_H

/**
 * @file
 * The userfaultfd fault driver, "uffd".
 *
 * One device is one userfaultfd with one queue. Devargs:
 * - "uffd0": create a userfaultfd (userfaultfd(2) with O_NONBLOCK|O_CLOEXEC,
 *   else /dev/userfaultfd + USERFAULTFD_IOC_NEW; when neither is allowed,
 *   unprivileged, with UFFD_USER_MODE_ONLY);
 * - "uffd0,fd=N": adopt the process's userfaultfd N; the device owns it
 *   from then on and closes it on close.
 * - "uffd0,sigbus=1": UFFD_FEATURE_SIGBUS, no events: faults are resolved
 *   in the faulting thread (pfdk_uffd_inthread_enable(), below; a profile
 *   poller with engine = inthread does it for the devices it owns).
 * - "uffd0,fault_around=N": on a missing-page fault also fill up to N
 *   following pages of the region (0..PFDK_UFFD_FAULT_AROUND_MAX, default
 *   0), in-thread and polled alike; pfdk_uffd_region_fault_around()
 *   overrides it per region.
 * - "uffd0,unknown_zero=1": a fault on a registered page that no region
 *   covers gets UFFDIO_ZEROPAGE instead of being handed to the kernel (see
 *   below), and a REMOVE (MADV_DONTNEED) drops its range from the table,
 *   so it reads as zero afterwards; fork children adopted with
 *   pfdk_uffd_fork_adopt() inherit it.
 * - "uffd0,fd=N,register=0": the client registers its ranges itself, maybe
 *   after it handed the uffd over (CRIU's restorer registers its lazy
 *   areas once they are mapped in place, after it sent the uffd):
 *   pfdk_uffd_region_register() only adds the region to the table, and
 *   start registers nothing. Stop still unregisters the regions it knows,
 *   so no faulter hangs. Fork children inherit it. Needs fd=.
 *
 * The UFFDIO_API handshake asks for the features the kernel offers among
 * THREAD_ID, MISSING_HUGETLBFS/SHMEM, MINOR_HUGETLBFS/SHMEM,
 * PAGEFAULT_FLAG_WP, WP_HUGETLBFS_SHMEM, EVENT_FORK/REMAP/REMOVE/UNMAP,
 * POISON and MOVE. Without CAP_SYS_PTRACE the kernel refuses EVENT_FORK
 * (EPERM): the handshake then asks again without it, so an unprivileged
 * user gets a working device that does not follow fork children
 * (pfdk_uffd_features() tells).
 *
 * @code
 *   dev = pfdk_fault_dev_create("uffd0")      (or a profile's [device.uffd0])
 *   pfdk_uffd_region_register(dev, addr, len, MISSING, store, 4096)
 *   pipeline with .resolve = pfdk_uffd_resolve_burst
 *     poller:   recv_burst   read() uffd_msg -> descriptors; events handled inside
 *     resolver: resolve      COPY / ZEROPAGE / CONTINUE / WP clear, all DONTWAKE
 *     poller:   respond      INVALID -> POISON; one UFFDIO_WAKE per address range
 * @endcode
 *
 * Resolution is split so it scales with resolver lcores: the expensive part
 * (copying the page in) runs in pfdk_uffd_resolve_burst() on any lcore with
 * *_MODE_DONTWAKE; respond_burst, on the queue's owner, sorts the burst
 * and wakes every contiguous range of faulting addresses with one ioctl.
 *
 * Response codes. SUCCESS means "the page is valid: wake the faulter",
 * whoever made it valid. INVALID means the page cannot be served: the
 * driver poisons it (UFFDIO_POISON, so the faulting thread gets SIGBUS when
 * it retries), or where the kernel lacks POISON fills it with zeros; either
 * way the thread is woken. A write-protect fault cannot be failed by
 * userfaultfd (the page exists): INVALID there lifts the protection like
 * SUCCESS and is only counted.
 *
 * Events never come out as faults: FORK queues the child's userfaultfd for
 * pfdk_uffd_fork_adopt(); REMAP moves, UNMAP drops the range in the region
 * table, so no fault is resolved against a stale range; REMOVE is counted
 * (the pages refault and are filled from the store again). A resolve that
 * finds an event pending (EAGAIN) is left unresolved and offered again;
 * the queue reads on past the faults ahead of the event (read() returns
 * them first), keeping them in a backlog (pfdk_fault_queue_service()).
 *
 * A fault on a page the kernel has registered with the uffd but no region
 * covers (the part an mremap grew: the kernel extends the registration,
 * with no event when growing in place and a REMAP event carrying the old
 * length when moving) cannot be served from a store: the driver
 * unregisters that page, which wakes the thread, and its retry gets the
 * kernel's default page (counted unknown). It never loops. With devargs
 * "unknown_zero=1" such a page gets UFFDIO_ZEROPAGE instead and stays
 * registered (CRIU's rule for pages no pagemap entry covers); hugetlb
 * pages, which have no ZEROPAGE, still take the unregister.
 *
 * Stop: pending faults are read and served from their stores, then every
 * region is unregistered, which wakes any later faulter: after stop such a
 * thread gets the kernel's default page (zero for anonymous memory, the page
 * cache for shmem) instead of hanging. Start registers the regions again.
 */

#include <stddef.h>
#include <stdint.h>

#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Regions a device's table starts with. It grows (doubling) as
 * registrations and splits by munmap/mremap need: no limit but memory.
 */
#define PFDK_UFFD_MAX_REGIONS 64

/** @name Region modes (may be combined). */
/**@{*/
#define PFDK_UFFD_MODE_MISSING (1u << 0) /**< fill missing pages from the store */
#define PFDK_UFFD_MODE_WP      (1u << 1) /**< write-protect faults */
#define PFDK_UFFD_MODE_MINOR   (1u << 2) /**< map page-cache pages (CONTINUE) */
/**
 * With MISSING: fill by moving the store's page into place (UFFDIO_MOVE,
 * Linux 6.8+: no copy, the page itself changes hands) rather than copying
 * it. For an image store over the application's own private anonymous
 * memory (pfdk_store_image_from_memory()) which it hands over: each page
 * is served once and its source reads as zero afterwards (snapshot
 * restore, post-copy migration). A page the kernel will not move (shared
 * with a fork child, pinned, part of a huge page it cannot split: EBUSY)
 * is copied instead; one already moved out (its destination zapped by
 * MADV_DONTNEED and touched again) cannot be served again: INVALID.
 * 4 KiB pages, anonymous regions.
 */
#define PFDK_UFFD_MODE_MOVE    (1u << 3)
/**@}*/

/** Driver counters beyond pfdk_fault_stats. */
struct pfdk_uffd_stats {
	uint64_t copies;      /**< faults filled by UFFDIO_COPY */
	uint64_t zeropages;   /**< faults filled by UFFDIO_ZEROPAGE */
	uint64_t continues;   /**< minor faults mapped by UFFDIO_CONTINUE */
	uint64_t wp_clears;   /**< write protections lifted */
	uint64_t poisons;     /**< pages poisoned (INVALID) */
	uint64_t exists;      /**< fills that found the page present (EEXIST) */
	uint64_t deferred;    /**< resolves put off by a pending event (EAGAIN) */
	uint64_t stale;       /**< faults on a range that went away (unmapped): only woken */
	uint64_t wakes;       /**< UFFDIO_WAKE calls (one per range per burst) */
	uint64_t ev_fork;     /**< FORK events */
	uint64_t ev_remap;    /**< REMAP events */
	uint64_t ev_remove;   /**< REMOVE events */
	uint64_t ev_unmap;    /**< UNMAP events */
	uint64_t fork_dropped; /**< child uffds closed: fork queue full, or near the open-file limit */
	uint64_t drained;     /**< faults served by stop */
	uint64_t around;      /**< neighbour pages filled by fault-around */
	uint64_t woken;       /**< faults woken by their own fill (no neighbour in the burst) */
	uint64_t moves;       /**< faults filled by UFFDIO_MOVE (MODE_MOVE) */
	uint64_t parked;      /**< faults read ahead to reach an event, handed out later (backlog) */
	uint64_t unknown;     /**< faults on a registered range no region covers: range unregistered (unknown_zero=1: zero-filled) */
	uint64_t fork_nofd;   /**< reads that met EMFILE/ENFILE (a FORK event could not install its fd) */
};

/** A region as the driver tracks it now (after moves and unmaps). */
struct pfdk_uffd_region_info {
	uint64_t start;     /**< first byte */
	uint64_t len;       /**< bytes */
	uint64_t store_off; /**< store offset of start */
	uint32_t page_size; /**< 4096 or 2 MiB */
	uint32_t mode;      /**< PFDK_UFFD_MODE_* */
	const struct pfdk_store *store; /**< the store it was registered with */
};

/**
 * Register [addr, addr + len) with the device's userfaultfd and serve it
 * from @p store. Works for anonymous, shmem/memfd and hugetlbfs memory.
 * The store offset of @p addr is 0 (a region is its store's image).
 *
 * @param mode
 *   PFDK_UFFD_MODE_* (MINOR needs shmem or hugetlbfs; MOVE needs MISSING,
 *   4 KiB pages and a kernel with UFFD_FEATURE_MOVE).
 * @param store
 *   Required with MISSING; the caller keeps it alive until unregister or
 *   close.
 * @param page_size
 *   4096, or 2 MiB for hugetlbfs; @p addr and @p len must be multiples.
 * @return
 *   0, or -ENODEV (no such device), -EINVAL (not a uffd device, bad
 *   arguments, a mode the kernel lacks, overlap), -ENOMEM (no memory to
 *   grow the region table), or UFFDIO_REGISTER's error.
 */
int pfdk_uffd_region_register(uint16_t dev_id, void *addr, size_t len,
			      uint32_t mode, const struct pfdk_store *store,
			      size_t page_size);

/**
 * Fault-around for one region: on a missing-page fault at page P, fill up
 * to @p pages following pages of the region too, in the same UFFDIO_COPY
 * (pages already present cut the range short, so it is EEXIST-safe), so a
 * sequential scan takes about 1/(pages + 1) of the faults. Applies to the
 * in-thread handler and to the polled resolve path (pfdk_uffd_resolve_burst;
 * the faulting page is woken, neighbours were never waited on). Any thread.
 *
 * @param addr
 *   An address inside the region.
 * @param pages
 *   0..PFDK_UFFD_FAULT_AROUND_MAX, or -1 for the device's devargs value.
 * @return
 *   0, or -ENODEV, -EINVAL (not a uffd device, out of range), -ENOENT (no
 *   region covers @p addr).
 */
int pfdk_uffd_region_fault_around(uint16_t dev_id, void *addr, int pages);

/**
 * Unregister every region fully inside [addr, addr + len); waiters wake
 * and get the kernel's default behaviour.
 * @return Number of regions removed, or -ENODEV / -EINVAL.
 */
int pfdk_uffd_region_unregister(uint16_t dev_id, void *addr, size_t len);

/**
 * Write-protect (or unprotect) a range of a WP region.
 * @return 0, or -ENODEV / -EINVAL, or UFFDIO_WRITEPROTECT's error.
 */
int pfdk_uffd_wp_range(uint16_t dev_id, void *addr, size_t len, int protect);

/**
 * Copy the region table (any thread).
 * @return Number of regions (may exceed @p n; only @p n are written), or
 *   -ENODEV / -EINVAL.
 */
int pfdk_uffd_regions(uint16_t dev_id, struct pfdk_uffd_region_info *out,
		      unsigned int n);

/**
 * The resolve callback for uffd devices (a pfdk_resolve_burst_t): fills
 * every fault from its region's store and sets its status. A fault with an
 * adjacent page in the burst is filled with *_MODE_DONTWAKE, and respond
 * wakes each contiguous range once; a fault alone is filled with the wake
 * in the same ioctl (one syscall instead of two; respond skips it). Faults an event holds up (EAGAIN) are moved to the end and
 * left unresolved. Thread safe; any EAL lcore, or one non-EAL thread at a
 * time.
 *
 * @param ctx
 *   Unused (NULL): the device comes from each fault's dev_id, so one
 *   pipeline may serve many uffd devices.
 * @return
 *   Number resolved: faults[0..k) are, faults[k..nb) are to offer again.
 */
uint16_t pfdk_uffd_resolve_burst(void *ctx, struct pfdk_fault **faults,
				 uint16_t nb);

/**
 * Create a device for the next child userfaultfd the device saw in a FORK
 * event, with a copy of the parent's region table (the child inherited the
 * registrations). Control thread only.
 *
 * @param name
 *   Device name for the child, e.g. "uffd7".
 * @return
 *   The child's dev_id, -EAGAIN (no child pending), -ENODEV, -EINVAL, or
 *   pfdk_fault_dev_create()'s error.
 */
int pfdk_uffd_fork_adopt(uint16_t dev_id, const char *name);

/**
 * @name In-thread (SIGBUS) resolution
 *
 * A device created with devargs "uffdN,sigbus=1" does the UFFDIO_API
 * handshake with UFFD_FEATURE_SIGBUS and without the EVENT_* features
 * (nobody reads the uffd: an unread event would block the thread that
 * caused it). A missing page in one of its MISSING regions then raises
 * SIGBUS in the faulting thread; after pfdk_uffd_inthread_enable() the
 * driver's SA_SIGINFO handler resolves it right there with UFFDIO_COPY (or
 * ZEROPAGE) from the region's store and returns, and the access is retried.
 * No queue, pipeline or lcore is involved; such a device is never started.
 *
 * Async-signal safety: from the signal to the ioctl the handler takes no
 * lock, allocates nothing and calls no stdio; the region lookup is the
 * seqcount read of the polled path and the store lookup is lock-free
 * (zero, image and pattern stores; a callback store is safe only if its
 * callback is). Per-thread state (a 2 MiB scratch, counters, a latency
 * histogram) is set up by pfdk_uffd_inthread_thread_init(); a thread that
 * did not call it gets it on its first fault with one mmap(2) syscall.
 *
 * Chaining: a SIGBUS whose address no enabled device's MISSING region
 * covers, one the store cannot serve, or one the kernel refuses to fill
 * goes to the handler installed before PFDK's; if that was SIG_DFL/SIG_IGN,
 * the default is restored and the access retried, so the process dies of
 * SIGBUS as it would without PFDK.
 *
 * Limits:
 * - With UFFD_FEATURE_SIGBUS the kernel sends no fault messages, so an
 *   access the kernel makes on the thread's behalf (read(2)/recv(2) into a
 *   missing page, a futex or an O_DIRECT buffer there) fails with EFAULT
 *   instead of waiting. Call pfdk_uffd_prefault() on the range first.
 * - No events: munmap/mremap/fork are not tracked. Unregister a region
 *   before unmapping it (a fill on an address that is no longer registered
 *   fails with ENOENT and the signal is chained, never filled wrongly).
 * - Region table writers (register/unregister) must not run in a signal
 *   handler of a thread that faults on PFDK memory.
 * - Disable (or close the device) only when no thread can fault on it.
 */
/**@{*/

/** Most neighbouring pages one fault resolves (fault-around). */
#define PFDK_UFFD_FAULT_AROUND_MAX 511

/** pfdk_uffd_inthread_enable() options. */
struct pfdk_uffd_inthread_conf {
	/**
	 * Fault-around: on a fault at page P also fill up to this many
	 * following pages of the region (0 = off, at most
	 * PFDK_UFFD_FAULT_AROUND_MAX) with the same UFFDIO_COPY. Pages that
	 * are present already cut the range short (EEXIST-safe); the faulting
	 * page is always served. It sets the device's value (devargs
	 * fault_around=); pfdk_uffd_region_fault_around() overrides it.
	 */
	uint32_t fault_around;
};

/** Counters of the in-thread handler, summed over threads. */
struct pfdk_uffd_inthread_stats {
	uint64_t faults;      /**< SIGBUS resolved by PFDK */
	uint64_t pages;       /**< pages filled (fault-around and prefault included) */
	uint64_t around;      /**< of which neighbours filled by fault-around */
	uint64_t zeropages;   /**< of which by UFFDIO_ZEROPAGE */
	uint64_t exists;      /**< faulting page found present (another thread filled it) */
	uint64_t cut_short;   /**< fault-around ranges cut by a present page */
	uint64_t prefaulted;  /**< pages filled by pfdk_uffd_prefault() */
	uint64_t chained;     /**< signals passed to the previous handler */
	uint64_t errors;      /**< fills the store or kernel refused (then chained) */
	uint64_t threads;     /**< per-thread states set up */
	uint64_t retries;     /**< fills the kernel refused with EAGAIN: access retried */
	uint64_t moves;       /**< of the faults, filled by UFFDIO_MOVE (MODE_MOVE) */
};

/**
 * Serve the device's regions in the faulting thread (see above). Installs
 * the process's SIGBUS handler on the first call. Control thread.
 * @param conf
 *   NULL: keep the device's fault-around (devargs fault_around=).
 * @return
 *   0, or -ENODEV, -EINVAL (not a uffd device created with sigbus=1, bad
 *   conf), -ENOSPC (too many devices), -ENOMEM, or sigaction's error.
 */
int pfdk_uffd_inthread_enable(uint16_t dev_id,
			      const struct pfdk_uffd_inthread_conf *conf);

/**
 * Stop serving the device in-thread; the last disable restores the
 * previous SIGBUS action. Closing the device disables it too.
 * @return 0, or -ENODEV / -EINVAL (not enabled).
 */
int pfdk_uffd_inthread_disable(uint16_t dev_id);

/**
 * Set up the calling thread's state (scratch, counters, histogram) before
 * its first fault. Optional but recommended; not in a signal handler.
 * @return 0, or -ENOMEM.
 */
int pfdk_uffd_inthread_thread_init(void);

/** Give the calling thread's state back for reuse (its counts stay summed). */
void pfdk_uffd_inthread_thread_fini(void);

/**
 * Sum the per-thread counters and, if @p lat is not NULL, merge the
 * per-thread histograms of handler time (TSC cycles from handler entry to
 * the page filled) into @p lat (not reset first). Exact once the faulting
 * threads are quiescent (joined); approximate while they run.
 * @return 0, or -EINVAL.
 */
int pfdk_uffd_inthread_stats_get(struct pfdk_uffd_inthread_stats *st,
				 struct pfdk_hist *lat);

/** Zero every thread's counters and histogram (threads quiescent). */
void pfdk_uffd_inthread_stats_reset(void);

/**
 * Fill every missing page of [addr, addr + len) (rounded out to pages)
 * that lies in a MISSING region of the device from its store, without a
 * fault: for ranges about to be handed to a syscall in SIGBUS mode. Present
 * pages are skipped. Works on any uffd device. Not in a signal handler.
 * @return
 *   Number of pages filled, or -ENODEV, -EINVAL, or the store's or
 *   UFFDIO_COPY's error.
 */
int pfdk_uffd_prefault(uint16_t dev_id, void *addr, size_t len);

/**@}*/

/** The device's userfaultfd, or -ENODEV / -EINVAL. */
int pfdk_uffd_fd(uint16_t dev_id);

/**
 * Kernel features the handshake enabled (UFFD_FEATURE_*): what was asked
 * and granted, e.g. without EVENT_FORK for a caller lacking CAP_SYS_PTRACE;
 * 0 on error.
 */
uint64_t pfdk_uffd_features(uint16_t dev_id);

/** @return 0 with @p st filled, or -ENODEV / -EINVAL. */
int pfdk_uffd_stats_get(uint16_t dev_id, struct pfdk_uffd_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_UFFD_H */
