/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The background push both modes share: sweep a client's regions (the
 * driver's table, so REMAP, UNMAP and REMOVE are already applied) in
 * address order and fill every page not yet present, PAGERD_PUSH_BYTES per
 * step, with DONTWAKE and one UFFDIO_WAKE per range filled.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <rte_common.h>

#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "pagerd.h"

/* Zero bytes for hugetlb runs: hugetlbfs has no UFFDIO_ZEROPAGE. */
static const uint8_t *zeros;

int
pagerd_fill_wake(int fd, uint64_t a, const void *src, uint64_t len, uint64_t *done)
{
	int ret;

	if (src == NULL) {
		struct uffdio_zeropage z = {
			.range = { .start = a, .len = len },
			.mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE,
		};

		ret = ioctl(fd, UFFDIO_ZEROPAGE, &z);
		*done = ret == 0 ? len : z.zeropage > 0 ? (uint64_t)z.zeropage : 0;
	} else {
		struct uffdio_copy cp = {
			.dst = a,
			.src = (uintptr_t)src,
			.len = len,
			.mode = UFFDIO_COPY_MODE_DONTWAKE,
		};

		ret = ioctl(fd, UFFDIO_COPY, &cp);
		*done = ret == 0 ? len : cp.copy > 0 ? (uint64_t)cp.copy : 0;
	}
	ret = ret < 0 ? errno : 0;
	if (*done > 0) {
		/* A fault raised on these pages meanwhile wakes now, once. */
		struct uffdio_range w = { .start = a, .len = *done };

		ioctl(fd, UFFDIO_WAKE, &w);
	}
	return ret;
}

/*
 * The source of the run at region offset @p off: up to @p max bytes whose
 * pages the store gives as one contiguous extent (or all zero).
 * @return 0 with *@p src (NULL: zero) and *@p len set, or -errno.
 */
static int
run_of(const struct pfdk_uffd_region_info *r, uint64_t off, uint64_t max, void *scratch,
       const void **src, uint64_t *len)
{
	const void *s0 = NULL, *s;
	uint64_t pg = r->page_size, n;
	int k0, k;

	k0 = pfdk_store_lookup(r->store, r->store_off + off, pg, scratch, &s0);
	if (k0 < 0)
		return k0;
	if (k0 == PFDK_STORE_DATA && s0 == scratch) {
		*src = scratch; /* made for this page: one page at a time */
		*len = pg;
		return 0;
	}
	for (n = pg; n < max; n += pg) {
		k = pfdk_store_lookup(r->store, r->store_off + off + n, pg, scratch, &s);
		if (k != k0 || (k == PFDK_STORE_DATA && s != (const uint8_t *)s0 + n))
			break;
	}
	*src = k0 == PFDK_STORE_ZERO ? NULL : s0;
	*len = n;
	return 0;
}

bool
pagerd_push_due(struct pagerd_push *ps, const struct pagerd_q *q, uint64_t now_ms, int *wait_ms)
{
	uint64_t in = ps->started ? 0 : pagerd_q_quiet_in(q, now_ms);

	if (in > 0) {
		if (*wait_ms < 0 || in < (uint64_t)*wait_ms)
			*wait_ms = (int)RTE_MIN(in, (uint64_t)INT32_MAX);
		return false;
	}
	ps->started = true;
	return true;
}

int
pagerd_push_step(struct pagerd_push *ps, uint16_t dev)
{
	const struct pfdk_uffd_region_info *r = NULL;
	struct pfdk_uffd_stats st;
	uint64_t a, len, done = 0;
	const void *src;
	int n, i, err;

	n = pfdk_uffd_regions(dev, ps->rt, ps->rtcap);
	if (n < 0)
		return n;
	if (n > (int)ps->rtcap) {
		void *p = realloc(ps->rt, (size_t)n * 2 * sizeof(*ps->rt));

		if (p == NULL)
			return -ENOMEM;
		ps->rt = p;
		ps->rtcap = (unsigned int)n * 2;
		n = pfdk_uffd_regions(dev, ps->rt, ps->rtcap);
	}
	for (i = 0; i < n && i < (int)ps->rtcap; i++)
		if (ps->rt[i].start + ps->rt[i].len > ps->addr &&
		    (r == NULL || ps->rt[i].start < r->start))
			r = &ps->rt[i];
	if (r == NULL) {
		/* A REMAP during the sweep may have moved a range behind it. */
		if (pfdk_uffd_stats_get(dev, &st) == 0 && st.ev_remap != ps->remaps) {
			ps->remaps = st.ev_remap;
			ps->addr = 0;
			return 1;
		}
		return 0;
	}
	if (ps->scratch == NULL) {
		ps->scratch = mmap(NULL, PAGERD_PUSH_BYTES, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ps->scratch == MAP_FAILED) {
			ps->scratch = NULL;
			return -ENOMEM;
		}
	}
	a = RTE_ALIGN_FLOOR(RTE_MAX(ps->addr, r->start), (uint64_t)r->page_size);
	a = RTE_MAX(a, r->start);
	if (ps->present_until != NULL) {
		uint64_t e = ps->present_until(ps->present_arg, a);

		if (e > a) {
			ps->addr = RTE_MIN(RTE_ALIGN_FLOOR(e, (uint64_t)r->page_size),
					   r->start + r->len);
			if (ps->addr > a)
				return 1;
		}
	}
	len = RTE_MIN(r->start + r->len - a, (uint64_t)PAGERD_PUSH_BYTES);
	err = run_of(r, a - r->start, len, ps->scratch, &src, &len);
	if (err < 0) {
		ps->addr = a + r->page_size; /* the store cannot serve it: left to faults */
		return 1;
	}
	if (src == NULL && r->page_size != PAGERD_SMALL_PAGE) {
		if (zeros == NULL) {
			void *z = mmap(NULL, PAGERD_PUSH_BYTES, PROT_READ,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (z == MAP_FAILED)
				return -ENOMEM;
			zeros = z;
		}
		src = zeros;
	}
	err = pagerd_fill_wake(pfdk_uffd_fd(dev), a, src, len, &done);
	ps->pushed += done / r->page_size;
	ps->addr = a + done;
	switch (err) {
	case 0:
		return 1;
	case EEXIST: /* present (faulted or pushed): skip that page */
		ps->addr += r->page_size;
		return 1;
	case EAGAIN: /* an event first; the table may change */
		return -EAGAIN;
	case ESRCH:
		return -ESRCH;
	default:
		/* ENOENT: unmapped since (the table follows once the event is read). */
		if (err != ENOENT)
			LOG("device %u: background fill at %#" PRIx64 ": %s; left to faults",
			    dev, a, strerror(err));
		ps->addr = a + len;
		return 1;
	}
}

void
pagerd_push_free(struct pagerd_push *ps)
{
	free(ps->rt);
	if (ps->scratch != NULL)
		munmap(ps->scratch, PAGERD_PUSH_BYTES);
	memset(ps, 0, sizeof(*ps));
}
