/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_TEST_UFFD_COMMON_H
#define PFDK_TEST_UFFD_COMMON_H

/*
 * Shared by the userfaultfd tests: a pipeline over N uffd devices laid out
 * for 2 CPUs (spinning lcores only on CPU 1, faulting threads on CPU 0),
 * faulting threads, and a byte-by-byte check of every faulted page against
 * its store. Include after cmocka.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include <liburing.h>

#include <rte_errno.h>

#include "pfdk_fault.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "test_common.h"

#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14) /* Linux 6.6 uAPI */
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16) /* Linux 6.8 uAPI */
#endif

#define PAGE_4K 4096ul
#define PAGE_2M (2ul << 20)

/* EAL lcores of every uffd test: lcore 1 on CPU 1, lcore 2 on CPU 0. */
#define UT_LCORES "0@0,1@1,2@0"

/*
 * rtc:       lcore 1 polls (busy) on CPU 1.
 * rtc-epoll: lcore 1 polls (epoll) on CPU 1.
 * colocated: lcore 2 polls (epoll) on CPU 0, beside the faulting threads.
 * pipeline:  lcore 2 polls (epoll) on CPU 0, lcore 1 resolves on CPU 1.
 * rtc-fa:    rtc, devices with fault_around=7.
 * rtc-uring: lcore 1 polls (io_uring, no SQPOLL) on CPU 1: multishot reads
 *            into provided buffers where the kernel has them.
 * rtc-uring-sq: the same with an SQPOLL thread on CPU 0 (two spinners on
 *            two CPUs: allowed here, a test's own placement).
 * inthread:  lcore 2 (engine inthread) on CPU 0, devices with sigbus=1:
 *            the faulting threads resolve their own faults.
 * inthread-nosigbus: the same with plain devices (start must refuse it).
 */
static inline struct pfdk_pipeline *
ut_pipeline_flags(const char *layout, unsigned int ndev, unsigned int pool,
		  unsigned int burst, uint32_t flags)
{
	static struct pfdk_profile prof;
	struct pfdk_profile_check chk = {
		.ncpus = strcmp(layout, "rtc-uring-sq") == 0 ? 4 : 2,
		/* the loader refuses it; the pipeline's own refusal is tested */
		.no_driver_checks = strcmp(layout, "inthread-nosigbus") == 0,
	};
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = pfdk_uffd_resolve_burst,
		.flags = flags,
	};
	bool inthread = strncmp(layout, "inthread", 8) == 0;
	bool epoll = strncmp(layout, "rtc", 3) != 0 || strcmp(layout, "rtc-epoll") == 0;
	const char *engine = strcmp(layout, "rtc-uring") == 0 ? "uring-nosqpoll" :
		strcmp(layout, "rtc-uring-sq") == 0 ? "uring\nsqpoll_cpu = 0" :
		inthread ? "inthread" : epoll ? "epoll" : "busy";
	bool on_cpu0 = strcmp(layout, "colocated") == 0 ||
		strcmp(layout, "pipeline") == 0 || inthread;
	const char *lay = strncmp(layout, "rtc", 3) == 0 || inthread ? "rtc" : layout;
	const char *extra = strcmp(layout, "rtc-fa") == 0 ? ",fault_around=7" :
		strcmp(layout, "inthread") == 0 ? ",sigbus=1" : "";
	char ini[8192], err[512];
	size_t len = 0;
	unsigned int d;
	struct pfdk_pipeline *p;

#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = uffd\nlayout = %s\nburst = %u\nmain_cpu = 0\n", lay, burst);
	ADD("[node.0]\npool_size = %u\npool_cache = 0\nring_size = 64\n", pool);
	for (d = 0; d < ndev; d++)
		ADD("[device.uffd%u]\ndevargs = uffd%u%s\n", d, d, extra);
	ADD("[lcore.%u]\nrole = poller\ncpu = %u\nengine = %s\nqueues = ",
	    on_cpu0 ? 2 : 1, on_cpu0 ? 0 : 1, engine);
	for (d = 0; d < ndev; d++)
		ADD("%suffd%u:0", d ? ", " : "", d);
	ADD("\n");
	if (strcmp(layout, "pipeline") == 0)
		ADD("[lcore.1]\nrole = resolver\ncpu = 1\n");
#undef ADD
	if (pfdk_profile_load_string("uffd", ini, len, &prof, &chk, err,
				     sizeof(err)) < 0)
		fail_msg("profile: %s\n%s", err, ini);
	p = pfdk_pipeline_create(&pc);
	if (p == NULL)
		fail_msg("pipeline_create: %s", rte_strerror(rte_errno));
	return p;
}

static inline struct pfdk_pipeline *
ut_pipeline(const char *layout, unsigned int ndev, unsigned int pool,
	    unsigned int burst)
{
	return ut_pipeline_flags(layout, ndev, pool, burst, 0);
}

static inline uint16_t
ut_dev(struct pfdk_pipeline *p, uint16_t i)
{
	int id = pfdk_pipeline_dev_id(p, i);

	assert_true(id >= 0);
	return (uint16_t)id;
}

/*
 * The engine read the queues itself (multishot reads), where this kernel
 * has them: otherwise it polled. True if it did either as expected.
 */
static inline bool
ut_engine_read(struct pfdk_pipeline *p)
{
	struct io_uring_probe *pr = io_uring_get_probe();
	bool mshot = pr != NULL && io_uring_opcode_supported(pr, 49 /* READ_MULTISHOT */);
	struct pfdk_lcore_stats ls;

	io_uring_free_probe(pr);
	pfdk_pipeline_stats(p, &ls, NULL);
	print_message("  engine: %" PRIu64 " posted, %" PRIu64 " read completions%s\n",
		      ls.engine_arms, ls.engine_reads,
		      mshot ? "" : " (no multishot read in this kernel: polled)");
	return mshot ? ls.engine_reads > 0 : ls.engine_arms > 0;
}

/* Stop, then check nothing was lost, hung, aborted or failed. */
static inline void
ut_stop_check(struct pfdk_pipeline *p, unsigned int ndev, uint64_t min_faults)
{
	struct pfdk_lcore_stats ls;
	uint64_t received = 0;
	unsigned int d;

	assert_int_equal(pfdk_pipeline_stop(p), 0);
	pfdk_pipeline_stats(p, &ls, NULL);
	for (d = 0; d < ndev; d++) {
		struct pfdk_fault_stats fs;

		assert_int_equal(pfdk_fault_stats_get(ut_dev(p, d), &fs), 0);
		assert_int_equal(fs.received, fs.responded);
		assert_int_equal(fs.outstanding, 0);
		assert_int_equal(fs.aborted, 0);
		assert_int_equal(fs.errors, 0);
		received += fs.received;
	}
	assert_int_equal(ls.received, received);
	assert_int_equal(ls.responded, received);
	assert_int_equal(ls.inflight, 0);
	assert_true(received >= min_faults);
}

/* Faulting threads. */
struct ut_touch {
	volatile uint8_t *base;
	size_t page;
	size_t npages;
	unsigned int idx;
	unsigned int nthreads;
	bool random;
	bool write;
	pthread_t th;
};

static inline uint64_t
ut_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline void
ut_touch_page(const struct ut_touch *t, size_t i)
{
	volatile uint8_t *pg = t->base + i * t->page;

	if (t->write)
		pg[8] = (uint8_t)(pg[8] ^ 0x5a); /* read + write: WP sees a write */
	else
		(void)pg[(i * 64) % t->page];
}

static void *
ut_touch_main(void *arg)
{
	struct ut_touch *t = arg;
	size_t n = 0, i, *order;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (t->idx + 1);

	order = malloc(sizeof(*order) * (t->npages / t->nthreads + 1));
	if (order == NULL)
		abort();
	for (i = t->idx; i < t->npages; i += t->nthreads)
		order[n++] = i;
	if (t->random) {
		/* A shared hot set first: several threads on one page (EEXIST). */
		size_t hot = RTE_MIN(t->npages, (size_t)64);

		if (!t->write)
			for (i = 0; i < hot; i++)
				ut_touch_page(t, ut_rand(&seed) % hot);
		for (i = n; i > 1; i--) {
			size_t j = ut_rand(&seed) % i, x = order[i - 1];

			order[i - 1] = order[j];
			order[j] = x;
		}
	}
	for (i = 0; i < n; i++)
		ut_touch_page(t, order[i]);
	free(order);
	return NULL;
}

/*
 * Start @n threads on CPU 0 over the region; @return them (calloc'd: the
 * caller joins and frees).
 */
static inline struct ut_touch *
ut_touch_start(void *base, size_t page, size_t npages, unsigned int n,
	       bool random, bool write)
{
	struct ut_touch *t = calloc(n, sizeof(*t));
	pthread_attr_t attr;
	cpu_set_t cpus;
	unsigned int i;

	assert_non_null(t);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	for (i = 0; i < n; i++) {
		t[i] = (struct ut_touch){ base, page, npages, i, n, random, write, 0 };
		assert_int_equal(pthread_create(&t[i].th, &attr, ut_touch_main, &t[i]), 0);
	}
	pthread_attr_destroy(&attr);
	return t;
}

/* Run @n threads on CPU 0 over the region, wait for them. */
static inline void
ut_touch_run(void *base, size_t page, size_t npages, unsigned int n,
	     bool random, bool write)
{
	struct ut_touch *t = ut_touch_start(base, page, npages, n, random, write);
	unsigned int i;

	for (i = 0; i < n; i++)
		pthread_join(t[i].th, NULL);
	free(t);
}

/* Every byte of every page equals what the store serves at its offset. */
static inline void
ut_verify(const void *base, size_t page, size_t npages,
	  const struct pfdk_store *s, uint64_t store_off)
{
	uint8_t *want = malloc(page);
	size_t i;

	assert_non_null(want);
	for (i = 0; i < npages; i++) {
		const uint8_t *got = (const uint8_t *)base + i * page;

		assert_int_equal(pfdk_store_read(s, store_off + i * page, want, page), 0);
		if (memcmp(got, want, page) != 0) {
			size_t b = 0;
			unsigned int w;

			while (got[b] == want[b])
				b++;
			w = want[b];
			free(want);
			fail_msg("page %zu byte %zu: got %#x, store has %#x", i, b,
				 got[b], w);
		}
	}
	free(want);
}

static inline void *
ut_map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* A memfd of @len bytes mapped shared; *fd receives the memfd. */
static inline void *
ut_map_memfd(size_t len, int *fd)
{
	void *p;

	*fd = memfd_create("pfdk_uffd_test", MFD_CLOEXEC);
	assert_true(*fd >= 0);
	assert_int_equal(ftruncate(*fd, (off_t)len), 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static inline struct pfdk_uffd_stats
ut_xstats(uint16_t dev)
{
	struct pfdk_uffd_stats x;

	assert_int_equal(pfdk_uffd_stats_get(dev, &x), 0);
	return x;
}

#endif /* PFDK_TEST_UFFD_COMMON_H */
