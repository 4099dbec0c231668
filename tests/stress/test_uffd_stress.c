/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * userfaultfd stress: over a million faults from 8 threads on 16 uffds,
 * in the rtc layout (busy, and io_uring multishot reads) and in the
 * pipeline layout,
 * through pools far smaller than the faults in flight, with every byte of
 * every page checked after each round. Memory is reused between rounds
 * with madvise(DONTNEED), so each round also sends REMOVE events through
 * the poller while other threads fault. Zero lost (every fault received is
 * answered, no outstanding ones), zero hung (the watchdog fails the program
 * rather than letting it hang CI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../functional/test_uffd_common.h"

#define NDEV 16
#define NTHREADS 8
#define REGION_PAGES 1024
#define MIN_FAULTS 1000000ull
#define ROUNDS ((MIN_FAULTS + NDEV * REGION_PAGES - 1) / (NDEV * REGION_PAGES))

struct worker {
	uint8_t *mem[NDEV / NTHREADS];
	unsigned int rounds;
	const struct pfdk_store *s;
	uint64_t bad;
	pthread_t th;
};

/* Fault in both regions of this thread, check them, zap them; repeat. */
static void *
stress_thread(void *arg)
{
	struct worker *w = arg;
	const size_t len = REGION_PAGES * PAGE_4K;
	uint8_t *want = malloc(PAGE_4K);
	unsigned int r, k;
	size_t i;

	if (want == NULL)
		abort();
	for (r = 0; r < w->rounds; r++) {
		for (k = 0; k < RTE_DIM(w->mem); k++) {
			struct ut_touch t = { w->mem[k], PAGE_4K, REGION_PAGES,
					      0, 1, (r & 1) != 0, false, 0 };

			ut_touch_main(&t);
			for (i = 0; i < REGION_PAGES; i++) {
				pfdk_store_read(w->s, i * PAGE_4K, want, PAGE_4K);
				if (memcmp(w->mem[k] + i * PAGE_4K, want, PAGE_4K) != 0)
					w->bad++;
			}
			if (madvise(w->mem[k], len, MADV_DONTNEED) != 0)
				w->bad++;
		}
	}
	free(want);
	return NULL;
}

static void
stress(const char *layout, unsigned int pool, unsigned int burst,
       unsigned int rounds)
{
	struct pfdk_store *s = pfdk_store_pattern_create(1234);
	struct pfdk_pipeline *p = ut_pipeline(layout, NDEV, pool, burst);
	const size_t len = REGION_PAGES * PAGE_4K;
	struct worker w[NTHREADS];
	uint64_t copies = 0, removes = 0, nodesc = 0, bad = 0, faults = 0;
	pthread_attr_t attr;
	cpu_set_t cpus;
	uint8_t *mem[NDEV];
	unsigned int d, t;

	assert_non_null(s);
	for (d = 0; d < NDEV; d++) {
		mem[d] = ut_map_anon(len);
		assert_int_equal(pfdk_uffd_region_register(ut_dev(p, (uint16_t)d),
			mem[d], len, PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	}
	assert_int_equal(pfdk_pipeline_start(p), 0);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	for (t = 0; t < NTHREADS; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].s = s;
		w[t].rounds = rounds;
		for (d = 0; d < RTE_DIM(w[t].mem); d++)
			w[t].mem[d] = mem[t * RTE_DIM(w[t].mem) + d];
		assert_int_equal(pthread_create(&w[t].th, &attr, stress_thread, &w[t]), 0);
	}
	for (t = 0; t < NTHREADS; t++) {
		pthread_join(w[t].th, NULL);
		bad += w[t].bad;
	}
	pthread_attr_destroy(&attr);
	ut_stop_check(p, NDEV, (uint64_t)rounds * NDEV * REGION_PAGES);
	for (d = 0; d < NDEV; d++) {
		struct pfdk_uffd_stats x = ut_xstats(ut_dev(p, (uint16_t)d));
		struct pfdk_fault_stats fs;

		assert_int_equal(pfdk_fault_stats_get(ut_dev(p, (uint16_t)d), &fs), 0);
		copies += x.copies;
		removes += x.ev_remove;
		nodesc += fs.nodesc;
		faults += fs.received;
	}
	print_message("  %s: %" PRIu64 " faults on %d uffds from %d threads, %" PRIu64
		      " copies, %" PRIu64 " REMOVE events, pool-short %" PRIu64 "\n",
		      layout, faults, NDEV, NTHREADS, copies, removes, nodesc);
	assert_int_equal(bad, 0);
	assert_int_equal(copies, (uint64_t)rounds * NDEV * REGION_PAGES);
	assert_int_equal(removes, (uint64_t)rounds * NDEV);
	/*
	 * Read mode asks only for descriptors for the messages it holds, and
	 * with one CPU of faulters they come one per read: shortage needs the
	 * deterministic parse test (uffd_mem parse_short_pool) instead.
	 */
	if (strcmp(layout, "rtc-uring") != 0)
		assert_true(nodesc > 0);
	pfdk_pipeline_destroy(p);
	for (d = 0; d < NDEV; d++)
		munmap(mem[d], len);
	pfdk_store_free(s);
}

/*
 * 16 queues share a pool smaller than one burst: every receive finds it
 * short, and in the pipeline layout descriptors held in the ring and by
 * the resolver starve the poller.
 */
static void rtc_million(void **st) { (void)st; stress("rtc", 12, 32, ROUNDS); }

static void pipeline_million(void **st) { (void)st; stress("pipeline", 8, 16, ROUNDS); }

/* The io_uring engine's multishot reads, REMOVE events among the faults. */
static void uring_million(void **st) { (void)st; stress("rtc-uring", 4, 32, ROUNDS); }

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rtc_million),
		cmocka_unit_test(pipeline_million),
		cmocka_unit_test(uring_million),
	};

	(void)argc;
	test_watchdog("test_uffd_stress", 900);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
