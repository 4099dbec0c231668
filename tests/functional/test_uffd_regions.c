/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The region table follows the kernel's registrations, and a fault on a
 * page the kernel has registered but no region covers gets the documented
 * outcome (the page is handed back to the kernel, docs/uffd.md) instead
 * of a wake that makes the thread fault again forever:
 * - mremap growing a region in place (the kernel sends no event and
 *   extends the registration to the new part);
 * - mremap growing and moving it (REMAP with the old length; the moved
 *   part keeps its store offsets, the grown part is the kernel's);
 * - more munmap holes than the table's initial size (it grows).
 * Faulting threads are joined with a deadline, so a loop is a failure with
 * a message; the faults received are bounded by the pages touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_uffd_common.h"

#define PAGES 256
#define JOIN_S 60

/* Threads over [base, base + npages) on CPU 0, joined with a deadline. */
static void
touch_bounded(void *base, size_t npages, unsigned int n, const char *what, uint16_t dev)
{
	struct ut_touch *t = ut_touch_start(base, PAGE_4K, npages, n, false, false);
	struct timespec dl;
	unsigned int i;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += JOIN_S;
	for (i = 0; i < n; i++)
		if (pthread_timedjoin_np(t[i].th, NULL, &dl) != 0)
			fail_msg("%s: a faulting thread hangs after %d s (stale %" PRIu64
				 ", unknown %" PRIu64 "): it faults again and again", what, JOIN_S,
				 ut_xstats(dev).stale, ut_xstats(dev).unknown);
	free(t);
}

static void
assert_zero(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			fail_msg("byte %zu: %#x, the kernel's page is zero", i, p[i]);
}

/* Faults received stay near the pages touched: nothing looped. */
static void
assert_bounded(uint16_t dev, uint64_t touched)
{
	struct pfdk_fault_stats fs;

	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	print_message("  %" PRIu64 " faults received for %" PRIu64 " pages; unknown %" PRIu64
		      " stale %" PRIu64 "\n", fs.received, touched, ut_xstats(dev).unknown,
		      ut_xstats(dev).stale);
	assert_true(fs.received <= touched + 16);
}

/* mremap grows the region in place: no event, the tail registered. */
static void
grow_in_place(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(31);
	struct pfdk_uffd_region_info ri[4];
	struct pfdk_pipeline *p;
	uint8_t *room, *mem, *g;
	uint16_t dev;

	(void)state;
	p = ut_pipeline("rtc", 1, 256, 32);
	dev = ut_dev(p, 0);
	/* A region with free address space after it. */
	room = mmap(NULL, 2 * PAGES * PAGE_4K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(room != MAP_FAILED);
	assert_int_equal(munmap(room + PAGES * PAGE_4K, PAGES * PAGE_4K), 0);
	mem = mmap(room, PAGES * PAGE_4K, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_true(mem == room);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, PAGES * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	touch_bounded(mem, PAGES / 2, 4, "before growing", dev);
	g = mremap(mem, PAGES * PAGE_4K, 2 * PAGES * PAGE_4K, 0);
	if (g == MAP_FAILED) {
		pfdk_pipeline_destroy(p);
		munmap(mem, PAGES * PAGE_4K);
		pfdk_store_free(s);
		skip(); /* the space after was taken meanwhile */
	}
	assert_true(g == mem);
	/* The table keeps what it knows: the old length. */
	assert_int_equal(pfdk_uffd_regions(dev, ri, RTE_DIM(ri)), 1);
	assert_int_equal(ri[0].len, PAGES * PAGE_4K);
	touch_bounded(mem, 2 * PAGES, 4, "grown in place", dev);
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	assert_zero(mem + PAGES * PAGE_4K, PAGES * PAGE_4K);
	assert_bounded(dev, 2 * PAGES);
	assert_true(ut_xstats(dev).unknown >= 1);
	assert_true(ut_xstats(dev).unknown <= PAGES);
	ut_stop_check(p, 1, PAGES);
	pfdk_pipeline_destroy(p);
	munmap(mem, 2 * PAGES * PAGE_4K);
	pfdk_store_free(s);
}

/* mremap must move to grow: REMAP (old length), the tail registered. */
static void
grow_and_move(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(32);
	struct pfdk_uffd_region_info ri[4];
	struct pfdk_pipeline *p;
	uint8_t *mem, *moved;
	uint16_t dev;

	(void)state;
	p = ut_pipeline("rtc", 1, 256, 32);
	dev = ut_dev(p, 0);
	mem = ut_map_anon((PAGES + 1) * PAGE_4K);
	/* A page of other protection after it: it cannot grow in place. */
	assert_int_equal(mprotect(mem + PAGES * PAGE_4K, PAGE_4K, PROT_NONE), 0);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, PAGES * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	touch_bounded(mem, PAGES / 2, 4, "before moving", dev);
	moved = mremap(mem, PAGES * PAGE_4K, 2 * PAGES * PAGE_4K, MREMAP_MAYMOVE);
	assert_true(moved != MAP_FAILED);
	assert_true(moved != mem);
	assert_int_equal(ut_xstats(dev).ev_remap, 1);
	assert_int_equal(pfdk_uffd_regions(dev, ri, RTE_DIM(ri)), 1);
	assert_int_equal(ri[0].start, (uintptr_t)moved);
	assert_int_equal(ri[0].len, PAGES * PAGE_4K);
	assert_int_equal(ri[0].store_off, 0);
	touch_bounded(moved, 2 * PAGES, 4, "grown and moved", dev);
	ut_verify(moved, PAGE_4K, PAGES, s, 0);
	assert_zero(moved + PAGES * PAGE_4K, PAGES * PAGE_4K);
	assert_bounded(dev, 2 * PAGES);
	assert_true(ut_xstats(dev).unknown >= 1);
	assert_true(ut_xstats(dev).unknown <= PAGES);
	ut_stop_check(p, 1, PAGES);
	pfdk_pipeline_destroy(p);
	munmap(moved, 2 * PAGES * PAGE_4K);
	munmap(mem + PAGES * PAGE_4K, PAGE_4K);
	pfdk_store_free(s);
}

/* 127 holes: 128 pieces, twice the table's first size; all tracked. */
static void
many_holes(void **state)
{
	const size_t pages = 512, stride = 4, pieces = pages / stride;
	struct pfdk_store *s = pfdk_store_pattern_create(33);
	struct pfdk_uffd_region_info *ri = calloc(pieces + 1, sizeof(*ri));
	struct pfdk_pipeline *p;
	uint8_t *mem;
	uint16_t dev;
	size_t i;
	int n;

	(void)state;
	assert_non_null(ri);
	p = ut_pipeline("rtc", 1, 256, 32);
	dev = ut_dev(p, 0);
	mem = ut_map_anon(pages * PAGE_4K);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, pages * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	/* Page 0 of every 4 after the first goes: 127 UNMAP events. */
	for (i = 1; i < pieces; i++)
		assert_int_equal(munmap(mem + i * stride * PAGE_4K, PAGE_4K), 0);
	/*
	 * munmap() returns once its UNMAP event is read, which is before the
	 * poller has cut the table and counted it: wait (bounded) for that.
	 */
	for (i = 0; i < 5000 && ut_xstats(dev).ev_unmap < pieces - 1; i++)
		usleep(1000);
	assert_int_equal(ut_xstats(dev).ev_unmap, pieces - 1);
	n = pfdk_uffd_regions(dev, ri, (unsigned int)pieces + 1);
	assert_true(pieces > PFDK_UFFD_MAX_REGIONS);
	assert_int_equal(n, pieces);
	for (i = 0; i < pieces; i++) {
		uint8_t *piece = mem + (i * stride + (i != 0)) * PAGE_4K;
		size_t np = i != 0 ? stride - 1 : stride;

		touch_bounded(piece, np, 1, "split region", dev);
		ut_verify(piece, PAGE_4K, np, s, (uint64_t)(piece - mem));
	}
	assert_bounded(dev, pages - (pieces - 1));
	assert_int_equal(ut_xstats(dev).unknown, 0);
	ut_stop_check(p, 1, pages - (pieces - 1));
	pfdk_pipeline_destroy(p);
	for (i = 0; i < pieces; i++)
		munmap(mem + (i * stride + (i != 0)) * PAGE_4K,
		       (i != 0 ? stride - 1 : stride) * PAGE_4K);
	pfdk_store_free(s);
	free(ri);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grow_in_place),
		cmocka_unit_test(grow_and_move),
		cmocka_unit_test(many_holes),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	test_watchdog("test_uffd_regions", 300);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
