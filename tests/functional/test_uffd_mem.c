/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * userfaultfd end to end through the pipeline on real lcores: each case
 * faults every page of a region in from a store and checks every byte.
 * Memory kinds (anonymous, memfd shmem, hugetlbfs 2 MiB), modes (MISSING,
 * MINOR + CONTINUE, WP), 1 and 8 faulting threads, sequential and random
 * order, layouts rtc (busy and epoll), pipeline and colocated, and the
 * INVALID path (POISON -> SIGBUS in the faulting thread).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_uffd_common.h"

#define PAGES 2048

/* One region of @pages 4 KiB anonymous pages, pattern store, @n threads. */
static void
anon_case(const char *layout, unsigned int nthreads, bool random)
{
	struct pfdk_store *s = pfdk_store_pattern_create(42);
	struct pfdk_pipeline *p = ut_pipeline(layout, 1, 256, 32);
	size_t len = PAGES * PAGE_4K;
	void *mem = ut_map_anon(len);
	struct pfdk_uffd_stats x;
	uint16_t dev = ut_dev(p, 0);

	assert_non_null(s);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, nthreads, random, false);
	ut_stop_check(p, 1, PAGES);
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	x = ut_xstats(dev);
	assert_int_equal(x.copies, PAGES);
	/* Every fault woken: by its own fill, or in its range's one WAKE. */
	assert_true(x.woken >= 1 || x.wakes >= 1);
	assert_true(x.woken <= PAGES);
	print_message("  %s %u thread(s) %s: %" PRIu64 " copies, %" PRIu64
		      " eexist, %" PRIu64 " range wakes, %" PRIu64 " woken by their fill\n",
		      layout, nthreads, random ? "random" : "seq", x.copies, x.exists,
		      x.wakes, x.woken);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
}

/*
 * Fault-around on the polled path (devargs fault_around=7): a sequential
 * scan takes about 1/8 of the faults; random access from 8 threads races
 * neighbour fills with queued faults (EEXIST, then the wake). Every page
 * is filled exactly once either way.
 */
static void
around_case(unsigned int nthreads, bool random)
{
	struct pfdk_store *s = pfdk_store_pattern_create(43);
	struct pfdk_pipeline *p = ut_pipeline("rtc-fa", 1, 256, 32);
	size_t len = PAGES * PAGE_4K;
	void *mem = ut_map_anon(len);
	struct pfdk_uffd_stats x;
	struct pfdk_fault_stats fs;
	uint16_t dev = ut_dev(p, 0);

	assert_non_null(s);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, nthreads, random, false);
	ut_stop_check(p, 1, 1);
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	x = ut_xstats(dev);
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	print_message("  fault_around=7 %u thread(s) %s: %" PRIu64 " faults, %" PRIu64
		      " copies, %" PRIu64 " around, %" PRIu64 " eexist\n", nthreads,
		      random ? "random" : "seq", fs.received, x.copies, x.around, x.exists);
	assert_int_equal(x.copies + x.around, PAGES);
	assert_int_equal(fs.received, x.copies + x.exists + x.stale);
	if (!random && nthreads == 1)
		assert_true(fs.received <= PAGES / 8 + 1);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
}

/*
 * The io_uring engine: multishot reads into provided buffers, parsed by
 * the driver, with and without an SQ thread. Small pools make parse run
 * out of descriptors mid-buffer (the rest stays for the next pass).
 */
static void
uring_case(const char *layout, unsigned int nthreads, bool random)
{
	struct pfdk_store *s = pfdk_store_pattern_create(46);
	struct pfdk_pipeline *p = ut_pipeline(layout, 2, 12, 8);
	size_t len = PAGES * PAGE_4K;
	uint8_t *mem = ut_map_anon(2 * len);
	struct pfdk_uffd_stats x;
	uint16_t d;

	assert_non_null(s);
	for (d = 0; d < 2; d++)
		assert_int_equal(pfdk_uffd_region_register(ut_dev(p, d), mem + d * len,
			len, PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, nthreads, random, false);
	/* A restart posts again the reads the stop cancelled. */
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem + len, PAGE_4K, PAGES, nthreads, random, false);
	assert_true(ut_engine_read(p));
	ut_stop_check(p, 2, 2 * PAGES);
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	ut_verify(mem + len, PAGE_4K, PAGES, s, 0); /* each region is its store's image */
	for (d = 0; d < 2; d++) {
		x = ut_xstats(ut_dev(p, d));
		assert_int_equal(x.copies, PAGES);
	}
	pfdk_pipeline_destroy(p);
	munmap(mem, 2 * len);
	pfdk_store_free(s);
}

/*
 * MODE_MOVE: an image store over the test's own anonymous memory, handed
 * over (never touched again); pages are moved in, not copied (no page is
 * left at the source), every byte checked against a copy kept aside. A
 * page refaulted after DONTNEED has no source left: INVALID, so the access
 * gets SIGBUS rather than zeros.
 */
static sigjmp_buf mv_jmp;

static void
on_mv_bus(int sig)
{
	(void)sig;
	siglongjmp(mv_jmp, 1);
}

static void
move_case(const char *layout, unsigned int nthreads)
{
	size_t len = PAGES * PAGE_4K, i, moved_out = 0;
	struct pfdk_store *pat = pfdk_store_pattern_create(47), *s;
	unsigned char vec[PAGES];
	uint8_t *src = ut_map_anon(len), *want = malloc(len);
	struct pfdk_pipeline *p = ut_pipeline(layout, 1, 256, 32);
	uint8_t *mem = ut_map_anon(len);
	uint16_t dev = ut_dev(p, 0);
	struct sigaction sa = { .sa_handler = on_mv_bus }, old;
	struct pfdk_uffd_stats x;
	volatile uint8_t *v = mem;
	int hit;

	assert_non_null(pat);
	assert_non_null(want);
	if (!(pfdk_uffd_features(dev) & UFFD_FEATURE_MOVE)) {
		print_message("  SKIP: this kernel lacks UFFD_FEATURE_MOVE (Linux 6.8+)\n");
		pfdk_pipeline_destroy(p);
		skip();
	}
	assert_int_equal(pfdk_store_read(pat, 0, want, len), 0);
	memcpy(src, want, len);
	s = pfdk_store_image_from_memory(src, len);
	assert_non_null(s);
	/* MOVE without MISSING, or on 2 MiB pages: refused. */
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len, PFDK_UFFD_MODE_MOVE,
						   s, PAGE_4K), -EINVAL);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING | PFDK_UFFD_MODE_MOVE, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, nthreads, true, false);
	assert_memory_equal(mem, want, len);
	/* Moved out: no page there any more (mincore; reading would map zeros). */
	assert_int_equal(mincore(src, len, vec), 0);
	for (i = 0; i < PAGES; i++)
		moved_out += !(vec[i] & 1);
	/*
	 * The pipeline still runs (the zap below needs it), and a poller
	 * counts a fill after the ioctl that woke the faulting thread: the
	 * last counts may trail the touchers by a moment. Seen in CI as
	 * 2047 of 2048; other cases stop the pipeline before they count.
	 */
	for (i = 0; i < 2000; i++) {
		x = ut_xstats(dev);
		if (x.moves + x.copies >= PAGES)
			break;
		usleep(1000);
	}
	print_message("  %s %u thread(s): %" PRIu64 " moved, %" PRIu64 " copied, %zu sources now empty\n",
		      layout, nthreads, x.moves, x.copies, moved_out);
	assert_int_equal(x.moves + x.copies, PAGES);
	assert_true(x.moves > 0);
	assert_true(moved_out >= x.moves);
	/* Zap one page and touch it again: its bytes are gone. */
	assert_int_equal(madvise(mem, PAGE_4K, MADV_DONTNEED), 0);
	sigaction(SIGBUS, &sa, &old);
	hit = sigsetjmp(mv_jmp, 1);
	if (hit == 0)
		(void)v[0];
	sigaction(SIGBUS, &old, NULL);
	assert_int_equal(hit, 1);
	assert_true(ut_xstats(dev).poisons >= 1);
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	pfdk_pipeline_destroy(p);
	pfdk_store_free(s);
	pfdk_store_free(pat);
	munmap(mem, len);
	munmap(src, len);
	free(want);
}

static void move_rtc_1(void **st) { (void)st; move_case("rtc", 1); }
static void move_colocated_8(void **st) { (void)st; move_case("colocated", 8); }

/*
 * pfdk_fault_parse_burst() on a pool with fewer descriptors than messages:
 * it fills what it can, handles events in order, and reports consumed up
 * to the first message it could not take; the rest is offered again.
 */
static void
parse_short_pool(void **state)
{
	struct rte_mempool *pool = pfdk_fault_pool_create("parse_pool", 3, 0, SOCKET_ID_ANY);
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	struct pfdk_fault_conf dc = { .nb_queues = 1 };
	struct pfdk_fault_read_info ri;
	struct pfdk_fault_stats fs;
	struct uffd_msg m[5];
	struct pfdk_fault *f[8];
	uint32_t used;
	int id = pfdk_fault_dev_create("uffd77");
	uint16_t dev, n, i;

	(void)state;
	assert_non_null(pool);
	assert_true(id >= 0);
	dev = (uint16_t)id;
	assert_int_equal(pfdk_fault_configure(dev, &dc), 0);
	assert_int_equal(pfdk_fault_queue_setup(dev, 0, &qc), 0);
	assert_int_equal(pfdk_fault_queue_read_info(dev, 0, &ri), 0);
	assert_int_equal(ri.rec_size, sizeof(struct uffd_msg));
	assert_int_equal(ri.fd, pfdk_uffd_fd(dev));
	assert_int_equal(pfdk_fault_start(dev), 0);
	/* fault, REMOVE (no region: only counted), fault, fault, fault */
	memset(m, 0, sizeof(m));
	for (i = 0; i < 5; i++) {
		m[i].event = UFFD_EVENT_PAGEFAULT;
		m[i].arg.pagefault.address = 0x10000000ull + i * PAGE_4K;
	}
	m[1].event = UFFD_EVENT_REMOVE;
	m[1].arg.remove.start = 0x20000000ull;
	m[1].arg.remove.end = 0x20001000ull;
	/* Three descriptors, four faults asked for: the pool halves to two. */
	n = pfdk_fault_parse_burst(dev, 0, m, sizeof(m), f, 8, &used);
	assert_int_equal(n, 2);
	assert_int_equal(used, 3 * sizeof(struct uffd_msg));
	assert_int_equal(f[0]->addr, m[0].arg.pagefault.address);
	assert_int_equal(f[1]->addr, m[2].arg.pagefault.address);
	assert_int_equal(ut_xstats(dev).ev_remove, 1);
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	assert_int_equal(fs.nodesc, 1);
	assert_int_equal(fs.received, 2);
	/* Nothing left in the pool but one: the next message takes it. */
	n = pfdk_fault_parse_burst(dev, 0, &m[3], 2 * sizeof(struct uffd_msg), f + 2, 8, &used);
	assert_int_equal(n, 1);
	assert_int_equal(used, sizeof(struct uffd_msg));
	assert_int_equal(pfdk_fault_respond_burst(dev, 0, f, 3), 3);
	n = pfdk_fault_parse_burst(dev, 0, &m[4], sizeof(struct uffd_msg), f, 8, &used);
	assert_int_equal(n, 1);
	assert_int_equal(used, sizeof(struct uffd_msg));
	assert_int_equal(f[0]->addr, m[4].arg.pagefault.address);
	assert_int_equal(pfdk_fault_respond_burst(dev, 0, f, 1), 1);
	/* No descriptor at all: an event ahead of a fault still goes through. */
	{
		struct uffd_msg ev_then_fault[2] = { m[1], m[0] };
		void *all[3];

		assert_int_equal(rte_mempool_get_bulk(pool, all, 3), 0);
		n = pfdk_fault_parse_burst(dev, 0, ev_then_fault, sizeof(ev_then_fault),
					  f, 8, &used);
		assert_int_equal(n, 0);
		assert_int_equal(used, sizeof(struct uffd_msg));
		assert_int_equal(ut_xstats(dev).ev_remove, 2);
		rte_mempool_put_bulk(pool, all, 3);
	}
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	assert_int_equal(fs.received, 4);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(pfdk_fault_close(dev), 0);
	rte_mempool_free(pool);
}

/*
 * An epoll poller kept busy by one queue still serves another: 64 threads
 * fault on uffd0 while one fault comes on uffd1; it must be answered while
 * uffd0's load is still running. (This guards against a quiet queue left
 * until the load ends; the finer effect of re-learning readiness only when
 * idle, a ms-long tail with 64 busy uffds, shows in the bench's p99.9.)
 */
struct busy_load {
	uint8_t *mem;
	size_t pages;
	uint32_t done; /* atomic: the load finished */
};

static void *
busy_load_main(void *arg)
{
	struct busy_load *b = arg;

	ut_touch_run(b->mem, PAGE_4K, b->pages, 64, false, false);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
epoll_no_starvation(void **state)
{
	const size_t load_pages = 65536;
	struct pfdk_store *s = pfdk_store_pattern_create(49);
	struct pfdk_pipeline *p = ut_pipeline("rtc-epoll", 2, 256, 32);
	uint8_t *load = ut_map_anon(load_pages * PAGE_4K), *one = ut_map_anon(PAGE_4K);
	struct busy_load b = { load, load_pages, 0 };
	pthread_t th;
	uint32_t load_done;
	uint64_t seen;

	(void)state;
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 0), load, load_pages * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 1), one, PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	assert_int_equal(pthread_create(&th, NULL, busy_load_main, &b), 0);
	/* Let the load build up, then fault once on the quiet queue. */
	while (ut_xstats(ut_dev(p, 0)).copies < 1024)
		usleep(100);
	seen = *(volatile uint64_t *)one;
	load_done = __atomic_load_n(&b.done, __ATOMIC_ACQUIRE);
	pthread_join(th, NULL);
	print_message("  quiet queue answered %s the busy one's load ended\n",
		      load_done ? "after" : "before");
	assert_int_equal(load_done, 0);
	ut_stop_check(p, 2, load_pages + 1);
	ut_verify(one, PAGE_4K, 1, s, 0);
	assert_int_equal(seen, *(const uint64_t *)one);
	pfdk_pipeline_destroy(p);
	munmap(load, load_pages * PAGE_4K);
	munmap(one, PAGE_4K);
	pfdk_store_free(s);
}

static void rtc_1_seq(void **st) { (void)st; anon_case("rtc", 1, false); }
static void uring_1_seq(void **st) { (void)st; uring_case("rtc-uring", 1, false); }
static void uring_8_random(void **st) { (void)st; uring_case("rtc-uring", 8, true); }
static void uring_sq_8_random(void **st) { (void)st; uring_case("rtc-uring-sq", 8, true); }
static void around_1_seq(void **st) { (void)st; around_case(1, false); }
static void around_8_random(void **st) { (void)st; around_case(8, true); }
static void rtc_8_random(void **st) { (void)st; anon_case("rtc", 8, true); }
static void rtc_epoll_8_seq(void **st) { (void)st; anon_case("rtc-epoll", 8, false); }
static void pipeline_1_random(void **st) { (void)st; anon_case("pipeline", 1, true); }
static void pipeline_8_random(void **st) { (void)st; anon_case("pipeline", 8, true); }
static void colocated_8_random(void **st) { (void)st; anon_case("colocated", 8, true); }
static void colocated_1_seq(void **st) { (void)st; anon_case("colocated", 1, false); }

/* memfd shmem, MISSING, four devices with zero, image, pattern, callback. */
static int
cb_fill(void *ctx, uint64_t off, void *dst, size_t len)
{
	(void)ctx;
	memset(dst, (int)((off / len) & 0xff) | 1, len);
	return PFDK_STORE_DATA;
}

static void
shmem_stores(void **state)
{
	struct pfdk_pipeline *p = ut_pipeline("rtc", 4, 256, 32);
	size_t len = 512 * PAGE_4K, i;
	uint8_t *img = malloc(len - 1000); /* a tail page past the image end */
	struct pfdk_store *s[4];
	void *mem[4];
	int fd[4];

	(void)state;
	assert_non_null(img);
	for (i = 0; i < len - 1000; i++)
		img[i] = (uint8_t)(i * 7 + (i >> 12));
	s[0] = pfdk_store_zero_create();
	s[1] = pfdk_store_image_from_memory(img, len - 1000);
	s[2] = pfdk_store_pattern_create(7);
	s[3] = pfdk_store_callback_create(cb_fill, NULL);
	for (i = 0; i < 4; i++) {
		assert_non_null(s[i]);
		mem[i] = ut_map_memfd(len, &fd[i]);
		assert_int_equal(pfdk_uffd_region_register(ut_dev(p, (uint16_t)i),
			mem[i], len, PFDK_UFFD_MODE_MISSING, s[i], PAGE_4K), 0);
	}
	assert_int_equal(pfdk_pipeline_start(p), 0);
	for (i = 0; i < 4; i++)
		ut_touch_run(mem[i], PAGE_4K, 512, 8, i & 1, false);
	ut_stop_check(p, 4, 4 * 512);
	for (i = 0; i < 4; i++) {
		ut_verify(mem[i], PAGE_4K, 512, s[i], 0);
		if (i == 0)
			assert_int_equal(ut_xstats(ut_dev(p, 0)).zeropages, 512);
		else
			assert_int_equal(ut_xstats(ut_dev(p, (uint16_t)i)).copies, 512);
	}
	pfdk_pipeline_destroy(p);
	for (i = 0; i < 4; i++) {
		munmap(mem[i], len);
		close(fd[i]);
		pfdk_store_free(s[i]);
	}
	free(img);
}

/* An image file through pfdk_store_image_create(), in pipeline layout. */
static void
image_file(void **state)
{
	char path[] = "/tmp/pfdk_uffd_imgXXXXXX";
	size_t len = 256 * PAGE_4K, i;
	uint8_t *buf = malloc(len);
	struct pfdk_store *s;
	struct pfdk_pipeline *p;
	void *mem;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i ^ (i >> 9));
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	s = pfdk_store_image_create(path, SOCKET_ID_ANY);
	unlink(path);
	assert_non_null(s);
	p = ut_pipeline("pipeline", 1, 256, 32);
	mem = ut_map_anon(len);
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 0), mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, 256, 8, true, false);
	ut_stop_check(p, 1, 256);
	assert_memory_equal(mem, buf, len);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
	free(buf);
}

#define HP_NR "/proc/sys/vm/nr_hugepages"
#define HP_FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

static long
read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int
write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* hugetlbfs 2 MiB pages; reserves a few when root and gives them back. */
static void
hugetlb_2m(void **state)
{
	const size_t n = 8, len = n * PAGE_2M;
	long nr = read_long(HP_NR), reserved = 0;
	struct pfdk_store *s;
	struct pfdk_pipeline *p;
	void *mem;

	(void)state;
	if (read_long(HP_FREE) < (long)n && nr >= 0 &&
	    write_long(HP_NR, nr + (long)n) == 0)
		reserved = (long)n;
	if (read_long(HP_FREE) < (long)n) {
		if (reserved)
			write_long(HP_NR, nr);
		skip(); /* cmocka prints the case as SKIPPED */
		return;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED) {
		if (reserved)
			write_long(HP_NR, nr);
		print_message("  no hugetlb mapping: %s\n", strerror(errno));
		skip();
		return;
	}
	s = pfdk_store_pattern_create(2);
	p = ut_pipeline("rtc", 1, 256, 32);
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 0), mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_2M), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_2M, n, 2, true, false);
	ut_stop_check(p, 1, n);
	ut_verify(mem, PAGE_2M, n, s, 0);
	assert_int_equal(ut_xstats(ut_dev(p, 0)).copies, n);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
	if (reserved)
		write_long(HP_NR, nr);
}

/* MINOR: the page cache has the bytes (written through an alias). */
static void
minor_continue(void **state)
{
	const size_t n = 512, len = n * PAGE_4K;
	struct pfdk_store *s = pfdk_store_pattern_create(11);
	struct pfdk_pipeline *p = ut_pipeline("rtc", 1, 256, 32);
	uint8_t *alias, *mem;
	int fd;

	(void)state;
	alias = ut_map_memfd(len, &fd);
	assert_int_equal(pfdk_store_read(s, 0, alias, len), 0);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mem != MAP_FAILED);
	if (!(pfdk_uffd_features(ut_dev(p, 0)) & UFFD_FEATURE_MINOR_SHMEM)) {
		pfdk_pipeline_destroy(p);
		print_message("  kernel lacks UFFD_FEATURE_MINOR_SHMEM\n");
		skip();
		return;
	}
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 0), mem, len,
		PFDK_UFFD_MODE_MINOR, NULL, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, n, 8, true, false);
	ut_stop_check(p, 1, n);
	ut_verify(mem, PAGE_4K, n, s, 0);
	assert_true(ut_xstats(ut_dev(p, 0)).continues >= n);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	munmap(alias, len);
	close(fd);
	pfdk_store_free(s);
}

/* WP: every first write to a protected page faults and is let through. */
static void
write_protect(void **state)
{
	const size_t n = 512, len = n * PAGE_4K;
	struct pfdk_store *s = pfdk_store_pattern_create(5);
	struct pfdk_pipeline *p = ut_pipeline("pipeline", 1, 256, 32);
	uint8_t *mem = ut_map_anon(len), *want = malloc(len);
	uint16_t dev = ut_dev(p, 0);
	size_t i;

	(void)state;
	assert_non_null(want);
	assert_int_equal(pfdk_store_read(s, 0, mem, len), 0); /* populate */
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_WP, NULL, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_wp_range(dev, mem, len, 1), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, n, 8, true, true);
	ut_stop_check(p, 1, n);
	assert_int_equal(pfdk_store_read(s, 0, want, len), 0);
	for (i = 0; i < n; i++)
		want[i * PAGE_4K + 8] ^= 0x5a;
	assert_memory_equal(mem, want, len);
	assert_true(ut_xstats(dev).wp_clears >= n);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	free(want);
	pfdk_store_free(s);
}

/* INVALID: a page the store refuses is poisoned: the access gets SIGBUS. */
static __thread sigjmp_buf bus_jmp;
static __thread volatile int bus_armed;

static void
on_sigbus(int sig)
{
	(void)sig;
	if (bus_armed)
		siglongjmp(bus_jmp, 1);
	abort();
}

static int
refuse_fill(void *ctx, uint64_t off, void *dst, size_t len)
{
	(void)ctx;
	if (off / len == 3)
		return -EIO;
	memset(dst, 0x77, len);
	return PFDK_STORE_DATA;
}

static void *
bus_thread(void *arg)
{
	volatile uint8_t *mem = arg;
	intptr_t got = 0;

	bus_armed = 1;
	if (sigsetjmp(bus_jmp, 1) == 0)
		(void)mem[3 * PAGE_4K];
	else
		got = 1;
	bus_armed = 0;
	return (void *)got;
}

static void
invalid_poisons(void **state)
{
	struct pfdk_store *s = pfdk_store_callback_create(refuse_fill, NULL);
	struct pfdk_pipeline *p = ut_pipeline("rtc", 1, 256, 32);
	uint8_t *mem = ut_map_anon(8 * PAGE_4K);
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	struct pfdk_fault_stats fs;
	pthread_t th;
	void *got;

	(void)state;
	if (!(pfdk_uffd_features(ut_dev(p, 0)) & UFFD_FEATURE_POISON)) {
		pfdk_pipeline_destroy(p);
		print_message("  kernel lacks UFFD_FEATURE_POISON\n");
		skip();
		return;
	}
	assert_int_equal(pfdk_uffd_region_register(ut_dev(p, 0), mem,
		8 * PAGE_4K, PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	sigaction(SIGBUS, &sa, &old);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	assert_int_equal(mem[0], 0x77);
	assert_int_equal(pthread_create(&th, NULL, bus_thread, mem), 0);
	pthread_join(th, &got);
	assert_int_equal((intptr_t)got, 1);
	assert_int_equal(mem[7 * PAGE_4K], 0x77);
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	sigaction(SIGBUS, &old, NULL);
	assert_int_equal(pfdk_fault_stats_get(ut_dev(p, 0), &fs), 0);
	assert_int_equal(fs.invalid, 1);
	assert_int_equal(ut_xstats(ut_dev(p, 0)).poisons, 1);
	pfdk_pipeline_destroy(p);
	munmap(mem, 8 * PAGE_4K);
	pfdk_store_free(s);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rtc_1_seq),
		cmocka_unit_test(parse_short_pool),
		cmocka_unit_test(epoll_no_starvation),
		cmocka_unit_test(move_rtc_1),
		cmocka_unit_test(move_colocated_8),
		cmocka_unit_test(uring_1_seq),
		cmocka_unit_test(uring_8_random),
		cmocka_unit_test(uring_sq_8_random),
		cmocka_unit_test(around_1_seq),
		cmocka_unit_test(around_8_random),
		cmocka_unit_test(rtc_8_random),
		cmocka_unit_test(rtc_epoll_8_seq),
		cmocka_unit_test(pipeline_1_random),
		cmocka_unit_test(pipeline_8_random),
		cmocka_unit_test(colocated_1_seq),
		cmocka_unit_test(colocated_8_random),
		cmocka_unit_test(shmem_stores),
		cmocka_unit_test(image_file),
		cmocka_unit_test(hugetlb_2m),
		cmocka_unit_test(minor_continue),
		cmocka_unit_test(write_protect),
		cmocka_unit_test(invalid_poisons),
	};

	(void)argc;
	test_watchdog("test_uffd_mem", 300);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
