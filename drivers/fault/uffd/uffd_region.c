/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Region table and resolution of the uffd driver.
 *
 * The table is read on every resolve, on any lcore, and written rarely: by
 * the control thread (register, unregister) and by the queue's owner when
 * it reads a REMAP or UNMAP event. Readers take no lock: a seqcount tells
 * them to retry when a writer was at work (writers serialise on a
 * spinlock), which keeps the resolve path free of shared-line writes.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_pause.h>

#include "uffd_priv.h"

/* Per-lcore page-sized scratch for stores that build pages, one extra
 * (under a trylock) for a non-EAL thread, and a zero source for hugetlb
 * pages, which have no ZEROPAGE ioctl. Virtual memory only until touched.
 */
static void *scratch[RTE_MAX_LCORE + 1];
static rte_spinlock_t foreign_lock = RTE_SPINLOCK_INITIALIZER;
static void *zero_2m;

int
uffd_scratch_init(void)
{
	unsigned int i;

	if (zero_2m != NULL)
		return 0;
	for (i = 0; i <= RTE_MAX_LCORE; i++) {
		if (i < RTE_MAX_LCORE && !rte_lcore_is_enabled(i))
			continue;
		scratch[i] = mmap(NULL, UFFD_PAGE_2M, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (scratch[i] == MAP_FAILED) {
			scratch[i] = NULL;
			return -ENOMEM;
		}
	}
	zero_2m = mmap(NULL, UFFD_PAGE_2M, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zero_2m == MAP_FAILED) {
		zero_2m = NULL;
		return -ENOMEM;
	}
	return 0;
}

static inline uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void
region_load(const struct uffd_region *r, struct uffd_region *out)
{
	out->start = ld(&r->start);
	out->end = ld(&r->end);
	out->store_off = ld(&r->store_off);
	out->store = ld(&r->store);
	out->page_size = ld(&r->page_size);
	out->mode = ld(&r->mode);
	out->fault_around = ld(&r->fault_around);
}

static void
region_store(struct uffd_region *r, const struct uffd_region *in)
{
	st(&r->start, in->start);
	st(&r->end, in->end);
	st(&r->store_off, in->store_off);
	st(&r->store, in->store);
	st(&r->page_size, in->page_size);
	st(&r->mode, in->mode);
	st(&r->fault_around, in->fault_around);
}

int
uffd_region_find(const struct uffd_dev *ud, uint64_t addr,
		 struct uffd_region *out)
{
	uint32_t s, i, n;
	int found;

	do {
		const struct uffd_region *tab;
		uint32_t cap;

		while ((s = __atomic_load_n(&ud->seq, __ATOMIC_ACQUIRE)) & 1)
			rte_pause();
		found = 0;
		/* cap before regions: the array loaded has at least cap entries. */
		cap = __atomic_load_n(&ud->cap, __ATOMIC_ACQUIRE);
		tab = __atomic_load_n(&ud->regions, __ATOMIC_ACQUIRE);
		n = RTE_MIN(__atomic_load_n(&ud->nb_slots, __ATOMIC_RELAXED), cap);
		for (i = 0; i < n; i++) {
			const struct uffd_region *r = &tab[i];

			if (addr >= ld(&r->start) && addr < ld(&r->end) &&
			    ld(&r->start) != 0) {
				region_load(r, out);
				found = 1;
				break;
			}
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&ud->seq, __ATOMIC_RELAXED) != s);
	/* A torn copy is impossible here, but a half-valid one is caught. */
	return found && addr >= out->start && addr < out->end;
}

static void
write_begin(struct uffd_dev *ud)
{
	rte_spinlock_lock(&ud->wlock);
	__atomic_store_n(&ud->seq, ud->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
write_end(struct uffd_dev *ud)
{
	__atomic_store_n(&ud->seq, ud->seq + 1, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&ud->wlock);
}

int
uffd_table_init(struct uffd_dev *ud, uint32_t cap)
{
	ud->regions = uffd_arr_alloc((size_t)cap * sizeof(*ud->regions));
	if (ud->regions == NULL)
		return -ENOMEM;
	ud->cap = cap;
	ud->nb_slots = 0;
	ud->nb_retired = 0;
	return 0;
}

void
uffd_table_free(struct uffd_dev *ud)
{
	uint32_t i;

	for (i = 0; i < ud->nb_retired; i++)
		uffd_arr_free(ud->retired[i], (size_t)ud->retired_cap[i] * sizeof(*ud->regions));
	ud->nb_retired = 0;
	uffd_arr_free(ud->regions, (size_t)ud->cap * sizeof(*ud->regions));
	ud->regions = NULL;
	ud->cap = 0;
}

/* A new device's table, a copy of @src's (a fork child inherits them). */
int
uffd_table_copy(struct uffd_dev *dst, struct uffd_dev *src)
{
	struct uffd_region *tab;
	int ret = 0;

	/*
	 * Under src's writer lock, which src's queue reader takes for an
	 * UNMAP or REMAP: no malloc here either (uffd_arr_alloc()).
	 */
	rte_spinlock_lock(&src->wlock);
	tab = uffd_arr_alloc((size_t)src->cap * sizeof(*tab));
	if (tab != NULL) {
		memcpy(tab, src->regions, (size_t)src->nb_slots * sizeof(*tab));
		write_begin(dst);
		dst->retired_cap[dst->nb_retired] = dst->cap;
		dst->retired[dst->nb_retired++] = dst->regions;
		__atomic_store_n(&dst->regions, tab, __ATOMIC_RELEASE);
		__atomic_store_n(&dst->cap, src->cap, __ATOMIC_RELEASE);
		__atomic_store_n(&dst->nb_slots, src->nb_slots, __ATOMIC_RELAXED);
		write_end(dst);
	} else {
		ret = -ENOMEM;
	}
	rte_spinlock_unlock(&src->wlock);
	return ret;
}

/*
 * Writer only (inside write_begin/end): double the table. The old array
 * stays allocated until close: a reader may be copying from it (it
 * retries, seeing the sequence move). The queue's reader grows it while
 * it handles an UNMAP or REMAP, possibly with a fork() waiting for it to
 * read the FORK event behind: hence uffd_arr_alloc(), never malloc.
 */
static int
table_grow(struct uffd_dev *ud)
{
	uint32_t cap = ud->cap * 2;
	struct uffd_region *tab;

	if (ud->nb_retired == UFFD_TABLE_GROWTHS)
		return -ENOMEM;
	tab = uffd_arr_alloc((size_t)cap * sizeof(*tab));
	if (tab == NULL)
		return -ENOMEM;
	memcpy(tab, ud->regions, (size_t)ud->nb_slots * sizeof(*tab));
	ud->retired_cap[ud->nb_retired] = ud->cap;
	ud->retired[ud->nb_retired++] = ud->regions;
	__atomic_store_n(&ud->regions, tab, __ATOMIC_RELEASE);
	__atomic_store_n(&ud->cap, cap, __ATOMIC_RELEASE);
	return 0;
}

/* Writer only: a free slot (the table grows if none is), or -1. */
static int
slot_alloc(struct uffd_dev *ud)
{
	uint32_t i;

	for (i = 0; i < ud->nb_slots; i++)
		if (ud->regions[i].start == 0)
			return (int)i;
	if (i == ud->cap && table_grow(ud) < 0)
		return -1;
	__atomic_store_n(&ud->nb_slots, i + 1, __ATOMIC_RELAXED);
	return (int)i;
}

static void
slot_put(struct uffd_dev *ud, const struct uffd_region *r)
{
	int i = slot_alloc(ud);

	if (i < 0) {
		/*
		 * Out of memory only. The range stays registered with the
		 * kernel: its faults are handed to the kernel (uffd_unknown()).
		 */
		if (uffd_note(ud, UFFD_NOTE_TABLE_LOST)) { /* logged later: event path */
			__atomic_store_n(&ud->note_lost_start, r->start, __ATOMIC_RELAXED);
			__atomic_store_n(&ud->note_lost_end, r->end, __ATOMIC_RELAXED);
		}
		return;
	}
	region_store(&ud->regions[i], r);
}

/*
 * Drop [a, b) from every region (UNMAP), or move it to @to (REMAP): the
 * pieces outside [a, b) stay, the piece inside goes or moves with its
 * store offset, so a page keeps its contents' source wherever it lives.
 * A REMAP's length is the old one: a part the move grew is not in the
 * table (the kernel registers it; uffd_unknown() hands it back).
 */
void
uffd_table_cut(struct uffd_dev *ud, uint64_t a, uint64_t b, bool move,
	       uint64_t to)
{
	struct uffd_region pieces[3];
	unsigned int np, i, k, n;

	write_begin(ud);
	n = ud->nb_slots;
	for (i = 0; i < n; i++) {
		struct uffd_region r = ud->regions[i], p;

		if (r.start == 0 || r.end <= a || r.start >= b)
			continue;
		np = 0;
		if (r.start < a) {
			p = r;
			p.end = a;
			pieces[np++] = p;
		}
		if (r.end > b) {
			p = r;
			p.start = b;
			p.store_off = r.store_off + (b - r.start);
			pieces[np++] = p;
		}
		if (move) {
			p = r;
			p.start = RTE_MAX(r.start, a);
			p.end = RTE_MIN(r.end, b);
			p.store_off = r.store_off + (p.start - r.start);
			p.start = p.start - a + to;
			p.end = p.end - a + to;
			pieces[np++] = p;
		}
		/* No piece overlaps [a, b): a later pass of this loop skips them. */
		memset(&p, 0, sizeof(p));
		region_store(&ud->regions[i], &p);
		for (k = 0; k < np; k++)
			slot_put(ud, &pieces[k]);
	}
	write_end(ud);
}

static int
overlaps(const struct uffd_dev *ud, uint64_t start, uint64_t end)
{
	uint32_t i;

	for (i = 0; i < ud->nb_slots; i++)
		if (ud->regions[i].start != 0 && ud->regions[i].start < end &&
		    ud->regions[i].end > start)
			return 1;
	return 0;
}

/* UFFDIO_REGISTER one range; checks the kernel gives the ioctls we need. */
int
uffd_register_range(struct uffd_dev *ud, const struct uffd_region *r)
{
	struct uffdio_register reg = {
		.range = { .start = r->start, .len = r->end - r->start },
	};
	uint64_t need = 1ull << _UFFDIO_WAKE;

	if (r->mode & PFDK_UFFD_MODE_MISSING) {
		reg.mode |= UFFDIO_REGISTER_MODE_MISSING;
		need |= 1ull << _UFFDIO_COPY;
	}
	if (r->mode & PFDK_UFFD_MODE_WP) {
		reg.mode |= UFFDIO_REGISTER_MODE_WP;
		need |= 1ull << _UFFDIO_WRITEPROTECT;
	}
	if (r->mode & PFDK_UFFD_MODE_MINOR) {
		reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
		need |= 1ull << _UFFDIO_CONTINUE;
	}
	if (r->mode & PFDK_UFFD_MODE_MOVE)
		need |= 1ull << _UFFDIO_MOVE;
	if (ioctl(ud->fd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	if ((reg.ioctls & need) != need) {
		uffd_unregister_range(ud, r->start, r->end);
		return -EINVAL;
	}
	return 0;
}

int
uffd_unregister_range(struct uffd_dev *ud, uint64_t start, uint64_t end)
{
	struct uffdio_range rg = { .start = start, .len = end - start };

	return ioctl(ud->fd, UFFDIO_UNREGISTER, &rg) < 0 ? -errno : 0;
}

int
pfdk_uffd_region_register(uint16_t dev_id, void *addr, size_t len,
			  uint32_t mode, const struct pfdk_store *store,
			  size_t page_size)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	struct uffd_region r;
	int ret;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if ((page_size != UFFD_PAGE_4K && page_size != UFFD_PAGE_2M) ||
	    addr == NULL || len == 0 || ((uintptr_t)addr | len) & (page_size - 1) ||
	    mode == 0 || (mode & ~(PFDK_UFFD_MODE_MISSING | PFDK_UFFD_MODE_WP |
				   PFDK_UFFD_MODE_MINOR | PFDK_UFFD_MODE_MOVE)) ||
	    ((mode & PFDK_UFFD_MODE_MISSING) && store == NULL) ||
	    ((mode & PFDK_UFFD_MODE_MOVE) &&
	     (!(mode & PFDK_UFFD_MODE_MISSING) || page_size != UFFD_PAGE_4K))) {
		PFDK_FAULT_LOG(ERR, "uffd: register %p+%zu mode %#x page %zu: bad arguments (page 4096 or 2 MiB, aligned; MISSING needs a store; MOVE needs MISSING and 4 KiB pages)",
			       addr, len, mode, page_size);
		return -EINVAL;
	}
	if ((mode & PFDK_UFFD_MODE_MOVE) && !(ud->features & UFFD_FEATURE_MOVE)) {
		PFDK_FAULT_LOG(ERR, "uffd: register %p+%zu: MOVE: this kernel lacks UFFD_FEATURE_MOVE (Linux 6.8+)",
			       addr, len);
		return -EINVAL;
	}
	r.start = (uintptr_t)addr;
	r.end = r.start + len;
	r.store_off = 0;
	r.store = (uintptr_t)store;
	r.page_size = page_size;
	r.mode = mode;
	r.fault_around = UFFD_FA_DEVICE;
	rte_spinlock_lock(&ud->wlock);
	ret = overlaps(ud, r.start, r.end) ? -EINVAL : 0;
	rte_spinlock_unlock(&ud->wlock);
	if (ret < 0) {
		PFDK_FAULT_LOG(ERR, "uffd: register %p+%zu: overlaps a region", addr, len);
		return ret;
	}
	if (ud->registered && !ud->client_registers) {
		ret = uffd_register_range(ud, &r);
		if (ret < 0) {
			PFDK_FAULT_LOG(ERR, "uffd: UFFDIO_REGISTER %p+%zu mode %#x: %s (MINOR needs shmem or hugetlbfs; WP and hugetlbfs need the kernel's features, enabled: %#" PRIx64 ")",
				       addr, len, mode, strerror(-ret), ud->features);
			return ret;
		}
	}
	write_begin(ud);
	ret = slot_alloc(ud);
	if (ret >= 0)
		region_store(&ud->regions[ret], &r);
	write_end(ud);
	if (ret < 0) {
		if (ud->registered && !ud->client_registers)
			uffd_unregister_range(ud, r.start, r.end);
		return -ENOMEM;
	}
	return 0;
}

int
pfdk_uffd_region_fault_around(uint16_t dev_id, void *addr, int pages)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	uint64_t a = (uintptr_t)addr;
	uint32_t i;
	int ret = -ENOENT;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if (pages < -1 || pages > PFDK_UFFD_FAULT_AROUND_MAX)
		return -EINVAL;
	write_begin(ud);
	for (i = 0; i < ud->nb_slots; i++) {
		struct uffd_region *r = &ud->regions[i];

		if (r->start != 0 && a >= r->start && a < r->end) {
			st(&r->fault_around, pages < 0 ? UFFD_FA_DEVICE : (uint64_t)pages);
			ret = 0;
			break;
		}
	}
	write_end(ud);
	return ret;
}

int
pfdk_uffd_region_unregister(uint16_t dev_id, void *addr, size_t len)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	uint64_t a = (uintptr_t)addr, b = a + len;
	uint32_t i;
	int n = 0;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	for (i = 0; i < ud->nb_slots; i++) {
		struct uffd_region r = ud->regions[i];

		if (r.start == 0 || r.start < a || r.end > b)
			continue;
		if (ud->registered)
			uffd_unregister_range(ud, r.start, r.end);
		memset(&r, 0, sizeof(r));
		write_begin(ud);
		region_store(&ud->regions[i], &r);
		write_end(ud);
		n++;
	}
	return n;
}

int
pfdk_uffd_wp_range(uint16_t dev_id, void *addr, size_t len, int protect)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	return ioctl(ud->fd, UFFDIO_WRITEPROTECT, &wp) < 0 ? -errno : 0;
}

int
pfdk_uffd_regions(uint16_t dev_id, struct pfdk_uffd_region_info *out,
		  unsigned int n)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	struct uffd_region r;
	unsigned int i, k = 0;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if (out == NULL && n != 0)
		return -EINVAL;
	rte_spinlock_lock(&ud->wlock);
	for (i = 0; i < ud->nb_slots; i++) {
		region_load(&ud->regions[i], &r);
		if (r.start == 0)
			continue;
		if (k < n) {
			out[k].start = r.start;
			out[k].len = r.end - r.start;
			out[k].store_off = r.store_off;
			out[k].page_size = (uint32_t)r.page_size;
			out[k].mode = (uint32_t)r.mode;
			out[k].store = (const struct pfdk_store *)(uintptr_t)r.store;
		}
		k++;
	}
	rte_spinlock_unlock(&ud->wlock);
	return (int)k;
}

/*
 * MODE_MOVE: move [src, src + len) to @dst. Bytes moved (> 0), 0 if @dst
 * was present, -EBUSY for pages the kernel will not move (the caller
 * copies them), -ENODATA if the source was moved out already, or another
 * -errno.
 */
static int64_t
fill_move(struct uffd_dev *ud, uint64_t dst, const uint8_t *src, uint64_t len,
	  uint64_t dontwake, bool *cut)
{
	struct uffdio_move mv = {
		.dst = dst,
		.src = (uintptr_t)src,
		.len = len,
		.mode = dontwake ? UFFDIO_MOVE_MODE_DONTWAKE : 0,
	};
	unsigned char vec = 0;

	if (ioctl(ud->fd, UFFDIO_MOVE, &mv) == 0)
		return (int64_t)len;
	if (mv.move > 0) {
		*cut = true;
		return mv.move;
	}
	switch (errno) {
	case EEXIST:
		return 0;
	case ENOENT:
		/* A hole at the source: moved out before, its bytes are gone. */
		if (mincore((void *)((uintptr_t)src & ~(uintptr_t)(UFFD_PAGE_4K - 1)),
			    UFFD_PAGE_4K, &vec) == 0 && !(vec & 1))
			return -ENODATA;
		return -ENOENT;
	case EBUSY:
	case EINVAL: /* e.g. a source the kernel cannot move from */
		return -EBUSY;
	default:
		return -errno;
	}
}

int
uffd_fill(struct uffd_dev *ud, const struct uffd_region *r, uint64_t addr,
	  unsigned int n, uint8_t *scr, uint64_t dontwake, bool *zero, bool *cut,
	  bool *moved)
{
	const struct pfdk_store *store = (const void *)(uintptr_t)r->store;
	uint64_t ps = r->page_size, off = r->store_off + (addr - r->start);
	const uint8_t *src[UFFD_FILL_MAX]; /* NULL: zero page */
	const uint8_t *from;
	bool direct = true;
	unsigned int i;
	int ret;

	*zero = true;
	*cut = false;
	*moved = false;
	n = RTE_MIN(n, (unsigned int)(UFFD_PAGE_2M / ps));
	for (i = 0; i < n; i++) {
		uint8_t *slot = scr + i * ps;
		const void *p = NULL;

		ret = pfdk_store_lookup(store, off + i * ps, ps, slot, &p);
		if (ret < 0) {
			if (i == 0) /* EAGAIN means "event pending" to callers */
				return ret == -EAGAIN ? -EIO : ret;
			n = i; /* serve what comes before a page the store refuses */
			break;
		}
		src[i] = ret == PFDK_STORE_ZERO ? NULL : p;
		*zero = *zero && src[i] == NULL;
		/* One run of the store's own memory (an image) needs no copy. */
		direct = direct && src[i] != NULL && src[i] != slot &&
			src[i] == src[0] + (uint64_t)i * ps;
	}
	if (*zero && ps == UFFD_PAGE_4K) {
		struct uffdio_zeropage z = {
			.range = { .start = addr, .len = (uint64_t)n * ps },
			.mode = dontwake ? UFFDIO_ZEROPAGE_MODE_DONTWAKE : 0,
		};

		if (ioctl(ud->fd, UFFDIO_ZEROPAGE, &z) == 0)
			return (int)n;
		if (z.zeropage > 0) {
			*cut = true;
			return (int)((uint64_t)z.zeropage / ps);
		}
		return errno == EEXIST ? 0 : -errno;
	}
	if (!*zero && direct && (r->mode & PFDK_UFFD_MODE_MOVE)) {
		ret = fill_move(ud, addr, src[0], (uint64_t)n * ps, dontwake, cut);
		if (ret != -EBUSY) {
			*moved = ret > 0;
			return ret > 0 ? (int)((uint64_t)ret / ps) : ret;
		}
		/* The kernel will not move these: copy them. */
	}
	if (*zero) {
		from = zero_2m; /* hugetlb: no ZEROPAGE ioctl */
	} else if (direct) {
		from = src[0];
	} else {
		/* Mixed: gather every page into its scratch slot. */
		for (i = 0; i < n; i++) {
			uint8_t *slot = scr + i * ps;

			if (src[i] == NULL)
				memset(slot, 0, ps);
			else if (src[i] != slot)
				memcpy(slot, src[i], ps);
		}
		from = scr;
	}
	{
		struct uffdio_copy c = {
			.dst = addr,
			.src = (uintptr_t)from,
			.len = (uint64_t)n * ps,
			.mode = dontwake ? UFFDIO_COPY_MODE_DONTWAKE : 0,
		};

		if (ioctl(ud->fd, UFFDIO_COPY, &c) == 0)
			return (int)n;
		if (c.copy > 0) {
			*cut = true; /* a present page stopped it (EAGAIN: partial) */
			return (int)((uint64_t)c.copy / ps);
		}
		return errno == EEXIST ? 0 : -errno;
	}
}

/* MISSING: fill the page, and fault-around neighbours, from the store. */
static int
fill_missing(struct uffd_dev *ud, const struct uffd_region *r,
	     struct pfdk_fault *f, uint64_t dontwake, uint8_t *scr)
{
	uint64_t n = 1 + uffd_region_fa(ud, r);
	bool zero, cut, moved;
	int ret;

	/* Neighbours only for a one-page fault, never past the region. */
	if (f->len != r->page_size)
		n = 1;
	n = RTE_MIN(n, (r->end - f->addr) / r->page_size);
	ret = uffd_fill(ud, r, f->addr, (unsigned int)n, scr, dontwake, &zero, &cut,
			&moved);
	if (ret == 0)
		return -EEXIST;
	if (ret < 0)
		return ret;
	uffd_xs_add(ud, moved ? XS(moves) : zero && r->page_size == UFFD_PAGE_4K ?
		    XS(zeropages) : XS(copies), 1);
	uffd_xs_add(ud, XS(around), (uint64_t)ret - 1);
	return 0;
}

/*
 * A fault no region covers. Either its range went away after the fault
 * was raised (an UNMAP or REMAP read since: the retry meets whatever is
 * mapped now), or the kernel has the page registered with this uffd and
 * the table does not: the part an mremap grew (the kernel extends the
 * registration to it, with no event when it grows in place and a REMAP
 * carrying the old length when it moves), or a range the table had no
 * memory for. PFDK has nothing to fill such a page with, and a plain wake
 * would only make the thread fault again, forever: hand the page back to
 * the kernel by unregistering it (the kernel splits the VMA and merges the
 * unregistered pieces again), which also wakes the thread; its retry gets
 * the kernel's own page (zero for anonymous memory, the page cache for
 * shmem). An unregister that finds nothing mapped leaves the thread to
 * the retry's SIGSEGV (counted stale).
 */
static int
uffd_unknown(struct uffd_dev *ud, struct pfdk_fault *f, uint64_t dontwake)
{
	uint64_t a = f->addr & ~(uint64_t)(UFFD_PAGE_4K - 1);
	int ret;

	if (ud->unknown_zero) {
		/*
		 * unknown_zero=1 (CRIU's rule: a registered page no pagemap
		 * entry covers was never touched, so it reads as zero): fill it
		 * with the zero page and keep the range registered. EAGAIN is an
		 * event pending: offer the fault again. Refused otherwise
		 * (hugetlb has no ZEROPAGE): fall back to the unregister below.
		 */
		struct uffdio_zeropage z = {
			.range = { .start = a, .len = UFFD_PAGE_4K },
			.mode = dontwake ? UFFDIO_ZEROPAGE_MODE_DONTWAKE : 0,
		};

		if (ioctl(ud->fd, UFFDIO_ZEROPAGE, &z) == 0 || errno == EEXIST) {
			uffd_xs_add(ud, XS(unknown), 1);
			return 0;
		}
		if (errno == EAGAIN)
			return -EAGAIN;
		if (errno == ENOENT || errno == ESRCH) {
			uffd_xs_add(ud, XS(stale), 1);
			return 0;
		}
	}
	ret = uffd_unregister_range(ud, a, a + UFFD_PAGE_4K);

	if (ret == -EINVAL) {
		/*
		 * hugetlb: the range must be whole huge pages (its VMA is
		 * huge-page aligned, so the 2 MiB around the page is inside
		 * it). Any other EINVAL is an incompatible VMA, which the
		 * kernel refuses again before it changes anything.
		 */
		a = f->addr & ~(uint64_t)(UFFD_PAGE_2M - 1);
		ret = uffd_unregister_range(ud, a, a + UFFD_PAGE_2M);
	}
	if (ret == 0) {
		uffd_xs_add(ud, XS(unknown), 1);
		PFDK_FAULT_LOG(DEBUG, "uffd: fault at 0x%" PRIx64 " in no region: page handed to the kernel",
			       f->addr);
	} else {
		uffd_xs_add(ud, XS(stale), 1);
	}
	return 1; /* the unregister woke the thread */
}

/*
 * Resolve one fault: 0 done (status set), -EAGAIN an event is pending (try
 * again after the owner reads it). @wake: ioctls wake the faulter
 * themselves (stop's drain) instead of leaving it to respond's WAKE.
 */
int
uffd_resolve_one(struct uffd_dev *ud, struct pfdk_fault *f, bool wake)
{
	uint64_t dontwake = wake ? 0 : 1;
	struct uffd_region r;
	void *scr = NULL;
	unsigned int lc;
	int ret;

	f->status = PFDK_FAULT_RESP_SUCCESS;
	if (!uffd_region_find(ud, f->addr, &r)) {
		ret = uffd_unknown(ud, f, dontwake);
		if (ret == 0 && wake) {
			f->drv |= UFFD_DRV_WOKEN;
			uffd_xs_add(ud, XS(woken), 1);
		}
		return ret < 0 ? ret : 0;
	}
	if (f->kind == PFDK_FAULT_KIND_WP) {
		struct uffdio_writeprotect wp = {
			.range = { .start = f->addr, .len = f->len },
			.mode = dontwake ? UFFDIO_WRITEPROTECT_MODE_DONTWAKE : 0,
		};

		ret = ioctl(ud->fd, UFFDIO_WRITEPROTECT, &wp) < 0 ? -errno : 0;
		if (ret == 0)
			uffd_xs_add(ud, XS(wp_clears), 1);
	} else if (f->kind == PFDK_FAULT_KIND_MINOR) {
		struct uffdio_continue c = {
			.range = { .start = f->addr, .len = f->len },
			.mode = dontwake ? UFFDIO_CONTINUE_MODE_DONTWAKE : 0,
		};

		ret = ioctl(ud->fd, UFFDIO_CONTINUE, &c) < 0 ? -errno : 0;
		if (ret == 0)
			uffd_xs_add(ud, XS(continues), 1);
	} else {
		lc = rte_lcore_id();
		if (lc >= RTE_MAX_LCORE || scratch[lc] == NULL) {
			if (!rte_spinlock_trylock(&foreign_lock))
				return -EAGAIN;
			lc = RTE_MAX_LCORE;
		}
		scr = scratch[lc];
		ret = fill_missing(ud, &r, f, dontwake, scr);
		if (lc == RTE_MAX_LCORE)
			rte_spinlock_unlock(&foreign_lock);
	}
	switch (ret) {
	case 0:
		if (wake) {
			f->drv |= UFFD_DRV_WOKEN; /* respond has no wake left to do */
			uffd_xs_add(ud, XS(woken), 1);
		}
		return 0;
	case -EEXIST:
		/* Another fault on the page filled it; its waiter still needs the wake. */
		uffd_xs_add(ud, XS(exists), 1);
		return 0;
	case -EAGAIN:
		uffd_xs_add(ud, XS(deferred), 1);
		return -EAGAIN;
	case -ENOENT:
	case -ESRCH:
		/* The VMA or the mm went away under us: nothing left to fill. */
		uffd_xs_add(ud, XS(stale), 1);
		return 0;
	default:
		/* The store or the kernel cannot serve it: fail the access. */
		uffd_xs_add(ud, XS_ERRORS, 1);
		f->status = PFDK_FAULT_RESP_INVALID;
		return 0;
	}
}

/* @a and @b are pages next to each other on one device. */
static inline bool
adjacent(const struct pfdk_fault *a, const struct pfdk_fault *b)
{
	return a->dev_id == b->dev_id &&
		(a->addr + a->len == b->addr || b->addr + b->len == a->addr);
}

uint16_t
pfdk_uffd_resolve_burst(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint16_t i = 0, k = nb;

	RTE_SET_USED(ctx);
	/* Deferred faults rotate to the tail: faults[0..k) are resolved. */
	while (i < k) {
		struct pfdk_fault *f = faults[i];
		struct uffd_dev *ud = uffd_fp_dev(f->dev_id);
		bool alone;

		if (unlikely(ud == NULL)) {
			f->status = PFDK_FAULT_RESP_INVALID;
			i++;
			continue;
		}
		/*
		 * A fault with a neighbour in the burst waits for respond's
		 * one wake per range; one alone is woken by its own fill.
		 * (Burst order: a sequential scan's faults come in order.)
		 */
		alone = !(i > 0 && adjacent(faults[i - 1], f)) &&
			!(i + 1 < k && adjacent(f, faults[i + 1]));
		if (uffd_resolve_one(ud, f, alone) == -EAGAIN) {
			faults[i] = faults[--k];
			faults[k] = f;
			continue;
		}
		i++;
	}
	return k;
}
