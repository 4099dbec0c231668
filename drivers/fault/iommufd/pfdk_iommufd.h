/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_IOMMUFD_H
#define PFDK_IOMMUFD_H

/**
 * @file
 * The iommufd IO-page-fault driver, "iommufd", and its emulated fault FD.
 *
 * The kernel hands IO page faults (PCIe PRI page requests) to user space on
 * one fault FD: read() gives 40-byte records, whole page-request groups at a
 * time; write() takes 8-byte responses, exactly one per group, keyed by the
 * group's cookie (DESIGN.md 3.1). The driver maps each record to a struct
 * pfdk_fault, tracks groups by cookie while they live, and posts one
 * response per group when all its records have come back through
 * pfdk_fault_respond_burst(), INVALID if any of them was INVALID.
 *
 * @code
 *   fault FD ──read(n*40 B)──▶ read buffer ──parse──▶ group table (by cookie)
 *     ▲                           │ records of complete groups
 *     │                           ▼
 *     └──write(m*8 B)── responses ◀── respond_burst: group done? ◀── resolver
 * @endcode
 *
 * One device has one queue (one fault FD has one reader). Ways in (devargs):
 * - "iommufd0,fault_fd=N": adopt a fault FD the process inherited or got
 *   over a UNIX socket. The caller keeps owning it (close it after close).
 *   It must be a fault queue (anonymous inode "anon_inode:[iommufd-pgfault]",
 *   open read-write), else create fails with -EINVAL (-EBADF if not open)
 *   and a message saying what the fd is; it is made O_NONBLOCK.
 *   "test_peer=1" waives the check, for a test playing the kernel over a
 *   socketpair.
 * - "iommufd0,iommu_fd=N,dev_id=D,pt_id=P,data_type=T,data=HEX": allocate
 *   a fault queue (IOMMU_FAULT_QUEUE_ALLOC) and a fault-capable nested HWPT
 *   (IOMMU_HWPT_ALLOC with IOMMU_HWPT_FAULT_ID_VALID, data type T, driver
 *   data HEX: bytes in memory order, at most 128) over the NEST_PARENT HWPT P
 *   of device D, in the iommufd N the device is bound to (what a VMM has).
 *   On Linux 6.12 only a nested HWPT can take FAULT_ID_VALID: without
 *   data_type= (a paging HWPT) it fails EOPNOTSUPP, said so in the log.
 *   "iommu=/dev/iommu" opens a new iommufd instead, which has no device
 *   objects until one is bound in it (VFIO_DEVICE_BIND_IOMMUFD): ENOENT, and
 *   the log points to iommu_fd=. Attaching the device to the new HWPT is the
 *   application's step (pfdk_iommufd_info_get() gives the HWPT id); close
 *   destroys the HWPT and the fault queue (fd closed first: an open fd keeps
 *   the fault object busy). Every failing ioctl is logged by name with its
 *   errno's name and what it means here.
 * - "iommufd0,emu=1[,groups=G,pasids=P,total=T,rate=R,flag2=1,seed=S,
 *   depth=D]": an in-process emulation of the kernel side (below).
 *
 * Common keys: range=LO:HI (repeatable, hex allowed, HI exclusive): IOVA
 * ranges for the default resolve policy pfdk_iommufd_resolve();
 * outstanding=N: most groups the queue tracks at once (default 4096;
 * reading stops while that many are unanswered); rbuf=N: first read size in
 * records (default 32; grows when a group does not fit).
 *
 * Groups of any size up to min(8192, outstanding) records are answered
 * exactly once, when every record is back; a record passed back twice is
 * a duplicate at any index and never completes a group early. Groups of
 * more than 64 records take one of the queue's 127 record maps; while none
 * is free, such groups wait in the kernel (docs/iommufd.md).
 *
 * Emulated devices keep every rule of the kernel at the read()/write()
 * boundary: read() returns 0 when empty, count must be a multiple of 40
 * (else -ESPIPE, as drivers/iommu/iommufd's fault.c answers), whole groups
 * only, oldest first, and when the first group does not fit -EINVAL, or 0
 * with nofit=1 (what mainline's fault.c does: the group stays queued and
 * the FD stays readable; the driver then grows its read); cookies are the
 * lowest free value from 1 and are
 * reused once answered; write() count must be a multiple of 8 (else
 * -ESPIPE), entries are
 * taken in order, and the first bad one (unknown or answered cookie, code
 * not 0/1) stops it: the bytes taken so far are returned, or -EINVAL if
 * none. Its readiness FD (an eventfd) is readable exactly when groups wait.
 * Groups come from pfdk_iommufd_emu_inject() (exact records, any thread),
 * pfdk_iommufd_emu_generate(), or, with total=T, from a generator that keeps
 * up to D groups (default 64) waiting, at R groups/s (0: as fast as read).
 */

#include <stdint.h>
#include <sys/types.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd_uapi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most range= keys one device takes. */
#define PFDK_IOMMUFD_MAX_RANGES 16

/**
 * The fault-FD I/O a device does: the real one is read()/write() on the
 * fault FD; the emulated one calls the emulator. Exposed so tests and fuzz
 * targets can put a scripted kernel under the driver.
 */
struct pfdk_iommufd_io {
	/** read(2): bytes read, 0 when empty, or -errno. */
	ssize_t (*read)(void *ctx, void *buf, size_t count);
	/** write(2): bytes taken, or -errno. */
	ssize_t (*write)(void *ctx, const void *buf, size_t count);
	/** FD that polls readable when groups wait, or -ENOTSUP. */
	int (*readiness_fd)(void *ctx);
	/**
	 * Optional: an fd an engine may write the responses to itself (an
	 * io_uring WRITE on the ring that also waits on the queue), or
	 * -ENOTSUP. NULL or -ENOTSUP: the driver always calls write.
	 */
	int (*write_fd)(void *ctx);
	/**
	 * Optional, with write_fd: what write would have returned for
	 * @p buf / @p count, given that the engine's write of them on write_fd
	 * returned @p res. NULL: @p res itself (write_fd is the fault FD, whose
	 * write from io_uring follows write(2)'s rules). An emulated kernel
	 * behind another kind of fd applies the responses here.
	 */
	ssize_t (*write_result)(void *ctx, const void *buf, size_t count, ssize_t res);
	/**
	 * Optional: an fd an engine may read the records from itself (an
	 * io_uring multishot read), with read(2)'s rules: whole records of
	 * whole groups. NULL or -ENOTSUP: only the driver reads.
	 */
	int (*read_fd)(void *ctx);
};

/** What a device is bound to. */
struct pfdk_iommufd_info {
	int fault_fd;      /**< the fault FD; -1 for an emulated device */
	int iommu_fd;      /**< the iommufd (hardware path), else -1 */
	uint32_t fault_id; /**< fault object (hardware path), else 0 */
	uint32_t hwpt_id;  /**< HWPT delivering to it (hardware path), else 0 */
	int emulated;      /**< 1 for emu=1 */
	unsigned int nb_ranges; /**< range= keys */
	uint64_t range_lo[PFDK_IOMMUFD_MAX_RANGES]; /**< inclusive */
	uint64_t range_hi[PFDK_IOMMUFD_MAX_RANGES]; /**< exclusive */
};

/** @return 0, -ENODEV, or -EINVAL (not an iommufd device, NULL). */
int pfdk_iommufd_info_get(uint16_t dev_id, struct pfdk_iommufd_info *info);

/** Driver counters beyond struct pfdk_fault_stats (all in its errors). */
struct pfdk_iommufd_xstats {
	uint64_t malformed;   /**< records dropped or groups cut: not what the kernel sends */
	uint64_t rejected;    /**< response entries the FD refused (partial writes) */
	uint64_t stale;       /**< descriptors passed back for a group already answered */
	uint64_t duplicates;  /**< a record of a live group passed back twice */
	uint64_t bad_status;  /**< status neither SUCCESS nor INVALID (answered INVALID) */
	uint64_t unknown_flags; /**< records with flag bits beyond PASID_VALID|LAST_PAGE */
	uint64_t grows;       /**< reads retried bigger: the first group did not fit */
	uint64_t read_errors; /**< reads failing other than "does not fit" */
	uint64_t writes;      /**< write() calls */
	uint64_t write_pending; /**< responses waiting for a write that failed */
	uint64_t ring_writes; /**< writes an engine made (io_uring), not in writes */
	uint64_t ring_fallbacks; /**< queues taken back from the engine: its writes refused */
};

/** @return 0, -ENODEV, or -EINVAL. Exact when stopped; untorn while running. */
int pfdk_iommufd_xstats_get(uint16_t dev_id, struct pfdk_iommufd_xstats *xs);

/**
 * Replace the fault-FD I/O of a device that is not started (tests, fuzzing).
 * pfdk_iommufd_io_get() first to wrap the current one.
 * @return 0, -ENODEV, -EINVAL (not iommufd, NULL), -EBUSY (started).
 */
int pfdk_iommufd_io_set(uint16_t dev_id, const struct pfdk_iommufd_io *io,
			void *ctx);

/** Current I/O of a device. @return 0, -ENODEV, -EINVAL. */
int pfdk_iommufd_io_get(uint16_t dev_id, const struct pfdk_iommufd_io **io,
			void **ctx);

/**
 * Is [addr, addr + len) inside one of device @p dev_id's ranges? (len 0
 * counts as 1.) Safe from any lcore while the device exists.
 * @return 1 inside, 0 outside (or no such iommufd device).
 */
int pfdk_iommufd_in_range(uint16_t dev_id, uint64_t addr, uint32_t len);

/** Default policy's hook: fill the page before SUCCESS is answered. */
struct pfdk_iommufd_policy {
	/**
	 * Optional. Make @p f's page valid (populate the IOAS mapping, copy
	 * from a store). @return 0 (answer SUCCESS), -EAGAIN (not now: offer
	 * it again later), other < 0 (answer INVALID).
	 */
	int (*fill)(void *arg, const struct pfdk_fault *f);
	void *arg; /**< passed to fill */
};

/**
 * Default resolve policy, a pfdk_resolve_burst_t: INVALID for a fault
 * outside its device's range= ranges (or from a device that is not
 * iommufd), SUCCESS inside them once @p ctx's fill (if any) succeeded.
 *
 * @param ctx
 *   NULL or a struct pfdk_iommufd_policy.
 * @return
 *   k: faults[0..k) have their status set; the rest wait (fill said -EAGAIN).
 */
uint16_t pfdk_iommufd_resolve(void *ctx, struct pfdk_fault **faults,
			      uint16_t nb);

/* ------------------------------------------------------------------ */
/* The emulated fault FD                                                */

struct pfdk_iommufd_emu;

/** Emulator configuration; zero fields take the defaults. */
struct pfdk_iommufd_emu_conf {
	uint32_t max_group_records; /**< generated groups: 1..G records (default 1, at most 256) */
	uint32_t pasids;        /**< generated PASIDs 1..P; 0 = PASID_VALID clear (default 0) */
	uint64_t total;         /**< records to generate by itself; 0 = none (inject only) */
	uint64_t rate;          /**< groups/s for the generator; 0 = as fast as read */
	uint32_t depth;         /**< groups the generator keeps waiting (default 64) */
	uint32_t flag2;         /**< set undocumented flag bit 2 on generated records */
	uint64_t seed;          /**< generator seed (default 1) */
	uint32_t dev_id;        /**< iommufd device id written in records (default 1) */
	uint32_t pending_records; /**< room for unread records (default 65536) */
	uint32_t max_cookies;   /**< most groups read and unanswered (default 65536) */
	uint32_t nofit_empty;   /**< 1: a first group that does not fit reads as 0 (mainline) */
	uint32_t ring_write;    /**< engines' writes: enum pfdk_iommufd_emu_ring_write */
};

/**
 * How an emulator takes the responses an engine writes itself (io_uring
 * WRITE on pfdk_iommufd_emu_write_fd()): the emulated kernel is no file, so
 * the bytes travel through a pipe and pfdk_iommufd_emu_write_result()
 * applies them with the kernel's write() rules.
 */
enum pfdk_iommufd_emu_ring_write {
	PFDK_IOMMUFD_EMU_RW_PIPE = 0, /**< through a pipe (default) */
	PFDK_IOMMUFD_EMU_RW_NONE,     /**< no fd: the driver always writes */
	PFDK_IOMMUFD_EMU_RW_REFUSE,   /**< an fd whose writes fail (EBADF): tests the fallback */
};

/** What the emulated kernel saw. */
struct pfdk_iommufd_emu_check {
	uint64_t groups_queued;    /**< groups injected or generated */
	uint64_t records_queued;   /**< their records */
	uint64_t groups_read;      /**< groups read() handed out (cookies issued) */
	uint64_t records_read;     /**< records read() handed out */
	uint64_t answered;         /**< responses accepted */
	uint64_t answered_success; /**< of which SUCCESS */
	uint64_t answered_invalid; /**< of which INVALID */
	uint64_t duplicates;       /**< responses for a cookie already answered (not reissued) */
	uint64_t unknown;          /**< responses for a cookie never issued */
	uint64_t bad_code;         /**< responses with a code not 0/1 */
	uint64_t bad_count;        /**< reads/writes with a count of the wrong multiple */
	uint64_t too_small;        /**< reads whose first group did not fit (-EINVAL) */
	uint64_t empty_reads;      /**< reads that returned 0 */
	uint64_t pending;          /**< groups waiting to be read */
	uint64_t outstanding;      /**< groups read and not answered */
	uint32_t max_cookie;       /**< highest cookie ever issued */
	int exhausted;             /**< the generator emitted its total */
};

/**
 * Create an emulator (needs no EAL). @return it, or NULL with errno set
 * (EINVAL, ENOMEM, or eventfd's error).
 */
struct pfdk_iommufd_emu *pfdk_iommufd_emu_create(const struct pfdk_iommufd_emu_conf *conf);

/** Free an emulator; groups still outstanding are dropped. */
void pfdk_iommufd_emu_free(struct pfdk_iommufd_emu *emu);

/** The kernel's read(): see the file comment. @return bytes, 0, or -errno. */
ssize_t pfdk_iommufd_emu_read(struct pfdk_iommufd_emu *emu, void *buf,
			      size_t count);

/** The kernel's write(): see the file comment. @return bytes or -EINVAL. */
ssize_t pfdk_iommufd_emu_write(struct pfdk_iommufd_emu *emu, const void *buf,
			       size_t count);

/** The readiness eventfd: readable exactly when groups wait. */
int pfdk_iommufd_emu_fd(const struct pfdk_iommufd_emu *emu);

/**
 * The fd an engine writes responses to (see enum
 * pfdk_iommufd_emu_ring_write), created on the first call. Control thread.
 * @return the fd, -ENOTSUP (PFDK_IOMMUFD_EMU_RW_NONE), or pipe2()'s -errno.
 */
int pfdk_iommufd_emu_write_fd(struct pfdk_iommufd_emu *emu);

/**
 * An engine's write of @p buf / @p count on pfdk_iommufd_emu_write_fd()
 * returned @p res: take those bytes out of the pipe and answer as the
 * kernel's write() of @p buf would (see pfdk_iommufd_emu_write()).
 * @return bytes taken, -EINVAL, or @p res when it is an error (nothing
 *   reached the emulator).
 */
ssize_t pfdk_iommufd_emu_write_result(struct pfdk_iommufd_emu *emu,
				      const void *buf, size_t count, ssize_t res);

/**
 * Queue whole groups, as the IOMMU would: records up to and including each
 * LAST_PAGE record form one group; cookies are ignored (read() assigns
 * them). Safe from one producer thread beside the reader.
 * @return groups queued, or -EINVAL (n == 0, or records after the last
 *   LAST_PAGE), -ENOSPC (no room for all of them; nothing queued).
 */
int pfdk_iommufd_emu_inject(struct pfdk_iommufd_emu *emu,
			    const struct pfdk_iommu_hwpt_pgfault *recs,
			    unsigned int n);

/**
 * Queue @p groups groups from the generator (its sizes, PASIDs,
 * permissions, flag2), regardless of total and depth.
 * @return groups queued (fewer when out of room).
 */
unsigned int pfdk_iommufd_emu_generate(struct pfdk_iommufd_emu *emu,
				       unsigned int groups);

/** Read the emulator's checks (any thread). */
void pfdk_iommufd_emu_check_get(struct pfdk_iommufd_emu *emu,
				struct pfdk_iommufd_emu_check *check);

/** I/O vector that drives @p emu (ctx = the emulator). */
extern const struct pfdk_iommufd_io pfdk_iommufd_emu_io;

/**
 * Emulator of an "emu=1" device.
 * @return it, or NULL (no such device, or not emulated).
 */
struct pfdk_iommufd_emu *pfdk_iommufd_emu_get(uint16_t dev_id);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_IOMMUFD_H */
