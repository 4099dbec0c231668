/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_UFFD_PRIV_H
#define PFDK_UFFD_PRIV_H

/*
 * Internal to the uffd driver: uAPI definitions our distribution headers
 * (linux-libc-dev 6.1) lack, and the device state shared by uffd.c (device
 * life cycle, receive, respond, events) and uffd_region.c (region table,
 * resolve).
 */
#include <stdbool.h>
#include <stdint.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "pfdk_fault_driver.h"
#include "pfdk_uffd.h"

/* PFDK_FAULT_LOG() here logs as "pfdk.fault.uffd" (registered in uffd.c). */
extern int pfdk_uffd_logtype;
#undef PFDK_FAULT_LOGTYPE
#define PFDK_FAULT_LOGTYPE pfdk_uffd_logtype

/*
 * Values from the kernel's include/uapi/linux/userfaultfd.h (ABI facts:
 * they never change once released). POISON arrived in 6.6, MOVE in 6.8.
 */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
#ifndef UFFDIO_MOVE
#define _UFFDIO_MOVE (0x05)
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
#define UFFDIO_MOVE_MODE_DONTWAKE ((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ((__u64)1 << 1)
	__u64 mode;
	__s64 move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif

/* Sizes and offsets the kernel checks: catch a wrong definition here. */
_Static_assert(sizeof(struct uffd_msg) == 32, "uffd_msg is 32 bytes");
_Static_assert(sizeof(struct uffdio_poison) == 32, "uffdio_poison is 32 bytes");
_Static_assert(sizeof(struct uffdio_move) == 40, "uffdio_move is 40 bytes");
_Static_assert(offsetof(struct uffdio_poison, updated) == 24, "poison.updated");
_Static_assert(offsetof(struct uffdio_move, move) == 32, "move.move");
_Static_assert(UFFDIO_POISON == 0xc020aa08u, "UFFDIO_POISON number");
_Static_assert(UFFDIO_MOVE == 0xc028aa05u, "UFFDIO_MOVE number");

#define UFFD_PAGE_4K 4096u
#define UFFD_PAGE_2M (2u << 20)
#define UFFD_MAX_BURST 512 /* messages read at once */
#define UFFD_FORK_SLOTS 64
#define UFFD_TABLE_GROWTHS 24 /* doublings of the region table: 2^30 regions */

/*
 * A region. Readers copy it without a lock (seqcount in struct uffd_dev),
 * so every field is read and written with relaxed atomics.
 */
struct uffd_region {
	uint64_t start;      /* 0 = slot free */
	uint64_t end;
	uint64_t store_off;
	uint64_t store;      /* const struct pfdk_store * */
	uint64_t page_size;
	uint64_t mode;
	uint64_t fault_around; /* pages; UFFD_FA_DEVICE: the device's value */
};

#define UFFD_FA_DEVICE UINT64_MAX

/* pfdk_fault::drv: the resolving ioctl woke the faulter already. */
#define UFFD_DRV_WOKEN 1ull

/*
 * The driver's counters (xstats, and resolve-side failures for the class's
 * errors), one set per lcore: resolvers on several lcores, the poller and
 * the event path all count, and a shared atomic would bounce one cache
 * line between them per fault. Each EAL lcore adds to its own set alone;
 * every thread without an lcore id (in-thread resolution in the faulting
 * threads, a control thread) shares the last set, with atomic adds. Read
 * by summing.
 */
#define UFFD_XS_N (sizeof(struct pfdk_uffd_stats) / sizeof(uint64_t))
#define XS_ERRORS UFFD_XS_N /* resolve-side ioctl failures: the class's errors */
struct uffd_xstats {
	uint64_t v[UFFD_XS_N + 1];
} __rte_cache_aligned;
#define UFFD_XS_SETS (RTE_MAX_LCORE + 1)
#define XS(field) (offsetof(struct pfdk_uffd_stats, field) / sizeof(uint64_t))

/*
 * Backlog: page-fault messages read from the kernel but not handed out yet,
 * oldest first. The kernel's read() returns every pending fault before any
 * event, so a poller that must reach an event (every fill returns EAGAIN
 * until it is read) while it cannot take more faults reads them here. Its
 * size is bounded by the faults that wait at once (one per faulting thread,
 * plus the refaults of threads a signal interrupted); it starts at
 * UFFD_BACKLOG_INIT and doubles on this slow path when full.
 */
#define UFFD_BACKLOG_INIT 1024u /* messages, a power of 2 */

struct uffd_queue {
	struct rte_mempool *pool;
	struct uffd_dev *ud;
	uint16_t dev_id;
	uint16_t queue_id;
	int socket_id;
	struct pfdk_fault_queue_stats st; /* class's; owner lcore writes */
	struct uffd_msg *bl;        /* backlog ring, bl_cap entries */
	uint32_t bl_cap;            /* power of 2 */
	uint32_t bl_head;           /* next to hand out (free-running) */
	uint32_t bl_tail;           /* next free (free-running) */
	struct uffd_msg msgs[UFFD_MAX_BURST];
} __rte_cache_aligned;

static inline uint32_t
uffd_bl_count(const struct uffd_queue *q)
{
	return q->bl_tail - q->bl_head;
}

struct uffd_dev {
	int fd;
	uint16_t dev_id;
	uint64_t features;            /* enabled by the handshake */
	bool registered;              /* regions registered with the kernel */
	uint32_t seq;                 /* region table seqcount: odd = writing */
	rte_spinlock_t wlock;         /* serialises table writers */
	uint32_t nb_slots;            /* high-water mark of regions[] */
	/*
	 * The region table grows as registrations and splits need (doubling
	 * from PFDK_UFFD_MAX_REGIONS). A lock-free reader may still copy from
	 * the array a growth replaced, so replaced arrays are kept until
	 * close. Writers publish regions before cap; readers load cap first.
	 */
	uint32_t cap;                 /* entries in regions[] (atomic) */
	struct uffd_region *regions;  /* atomic */
	struct uffd_region *retired[UFFD_TABLE_GROWTHS];
	uint32_t retired_cap[UFFD_TABLE_GROWTHS]; /* entries of each, for munmap */
	uint32_t nb_retired;
	struct rte_ring *forks;       /* child uffds from FORK events */
	struct uffd_xstats *xs;       /* UFFD_XS_SETS sets, by lcore id */
	uint32_t fault_around;        /* pages: devargs fault_around=, or the in-thread enable's conf */
	/*
	 * What the event path would log, noted instead (atomic): rte_log
	 * writes through stdio and syslog, which take locks (and malloc) a
	 * forking thread may hold while it waits for this queue's reader.
	 * uffd_notes_flush() logs them from a control call.
	 */
	uint32_t notes;               /* UFFD_NOTE_* bits */
	uint64_t note_lost_start;     /* first range the table had no room for */
	uint64_t note_lost_end;
	uint32_t note_event;          /* first unknown event type */
	int note_nofd_err;            /* errno of a FORK event left unread */
	bool unknown_zero;            /* devargs unknown_zero=1: see uffd_unknown() */
	bool client_registers;        /* devargs register=0: no UFFDIO_REGISTER of ours */
};

#define UFFD_NOTE_TABLE_LOST (1u << 0)
#define UFFD_NOTE_EVENT (1u << 1)
#define UFFD_NOTE_NOFD (1u << 2)

/* Note @bit once; @return true for the first noter, who fills the fields. */
static inline bool
uffd_note(struct uffd_dev *ud, uint32_t bit)
{
	return !(__atomic_fetch_or(&ud->notes, bit, __ATOMIC_ACQ_REL) & bit);
}

/* Log and clear what the event path noted (control paths only). */
void uffd_notes_flush(struct uffd_dev *ud);

/* Add @n to counter @idx (XS(field) or XS_ERRORS) of the caller's set. */
static inline void
uffd_xs_add(struct uffd_dev *ud, size_t idx, uint64_t n)
{
	unsigned int l = rte_lcore_id();
	uint64_t *c;

	if (n == 0)
		return;
	if (unlikely(l >= RTE_MAX_LCORE)) {
		c = &ud->xs[RTE_MAX_LCORE].v[idx];
		__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
		return;
	}
	/* One writer: no locked add; relaxed so that readers see whole values. */
	c = &ud->xs[l].v[idx];
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Counter @idx summed over the lcores' sets. */
static inline uint64_t
uffd_xs_sum(const struct uffd_dev *ud, size_t idx)
{
	uint64_t s = 0;
	unsigned int l;

	for (l = 0; l < UFFD_XS_SETS; l++)
		s += __atomic_load_n(&ud->xs[l].v[idx], __ATOMIC_RELAXED);
	return s;
}

/*
 * Memory the event path may need: the region table (it grows when an
 * UNMAP or REMAP splits regions) and the backlog (it grows while faults
 * wait behind an event). Both come from anonymous mmap(2), never from
 * malloc(3) or rte_malloc: a thread in fork() holds every glibc malloc
 * arena lock (and the arena list lock) while the kernel waits for this
 * queue's reader to read the FORK event, so a reader that enters malloc
 * then (rte_malloc does when its heap grows) waits for the forking thread,
 * which waits for it: both hang. mmap(2) takes no user-space lock, and the
 * kernel takes no mmap_lock of the parent while it waits for an event
 * (fork, munmap, mremap and madvise drop it before they wait), so it
 * cannot be held against us. Pages are zero and placed on first touch,
 * i.e. on the node of the queue's reader that fills them.
 * @return the zeroed array, or NULL (out of memory).
 */
static inline void *
uffd_arr_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void
uffd_arr_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
}

/* uffd_region.c */
int uffd_region_find(const struct uffd_dev *ud, uint64_t addr,
		     struct uffd_region *out);
void uffd_table_cut(struct uffd_dev *ud, uint64_t a, uint64_t b, bool move,
		    uint64_t to);
int uffd_table_init(struct uffd_dev *ud, uint32_t cap);
int uffd_table_copy(struct uffd_dev *dst, struct uffd_dev *src);
void uffd_table_free(struct uffd_dev *ud);
int uffd_register_range(struct uffd_dev *ud, const struct uffd_region *r);
int uffd_unregister_range(struct uffd_dev *ud, uint64_t start, uint64_t end);
int uffd_resolve_one(struct uffd_dev *ud, struct pfdk_fault *f, bool wake);
int uffd_scratch_init(void);

/* Most pages one fill covers: one 2 MiB scratch of 4 KiB pages. */
#define UFFD_FILL_MAX (UFFD_PAGE_2M / UFFD_PAGE_4K)

/*
 * Fill up to @n pages from @addr (page aligned, inside @r) from the
 * region's store with one UFFDIO_COPY, or one ZEROPAGE when all are zero
 * 4 KiB pages, building pages in @scr (2 MiB) when the store has no run of
 * its own bytes for them. A present page cuts the range short (*cut).
 * MODE_MOVE regions move the store's pages in (*moved) where the kernel
 * will, and copy them where it will not.
 * @return Pages filled (>= 1); 0 if the first page was present (EEXIST);
 *   or a negative errno for the first page (-EAGAIN: an event is pending;
 *   a store failure is never -EAGAIN; -ENODATA: moved out already).
 */
int uffd_fill(struct uffd_dev *ud, const struct uffd_region *r, uint64_t addr,
	      unsigned int n, uint8_t *scr, uint64_t dontwake, bool *zero,
	      bool *cut, bool *moved);

/* Fault-around pages for a fill in @r: the region's, else the device's. */
static inline uint64_t
uffd_region_fa(const struct uffd_dev *ud, const struct uffd_region *r)
{
	return r->fault_around != UFFD_FA_DEVICE ? r->fault_around :
		__atomic_load_n(&ud->fault_around, __ATOMIC_RELAXED);
}

/* uffd_inthread.c: drop the device from the SIGBUS handler's table. */
void uffd_inthread_forget(struct uffd_dev *ud);

/* uffd.c */
struct uffd_dev *uffd_dev_of(uint16_t dev_id);

extern struct pfdk_fault_driver uffd_driver;

/*
 * uffd_dev_of() for the per-fault path: the device's fast-path object
 * holds its dev_private, so no registry lookup per fault. NULL when
 * @dev_id is not (or no longer) a uffd device.
 */
static inline struct uffd_dev *
uffd_fp_dev(uint16_t dev_id)
{
	const struct pfdk_fault_fp_object *o;

	if (unlikely(dev_id >= PFDK_FAULT_MAX_DEVS))
		return NULL;
	o = &pfdk_fault_fp_objs[dev_id];
	if (unlikely(__atomic_load_n(&o->driver, __ATOMIC_ACQUIRE) != &uffd_driver))
		return NULL;
	return o->dev_private;
}

#endif /* PFDK_UFFD_PRIV_H */
