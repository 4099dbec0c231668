/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * userfaultfd events while the pipeline runs: fork (the child's uffd is
 * adopted and served), madvise(DONTNEED) -> REMOVE (pages refill from the
 * store), mremap -> REMAP (the region table follows the move), munmap with
 * a fault in flight -> UNMAP (the stale fault is woken, never filled), and
 * stop while threads still fault (none hangs).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_uffd_common.h"

#define PAGES 1024

struct fixture {
	struct pfdk_store *s;
	struct pfdk_pipeline *p;
	uint16_t dev;
	uint8_t *mem;
	size_t len;
};

static void
fx_setup(struct fixture *fx, const char *layout, size_t pages,
	 struct pfdk_store *s)
{
	fx->s = s;
	assert_non_null(fx->s);
	fx->p = ut_pipeline(layout, 1, 256, 32);
	fx->dev = ut_dev(fx->p, 0);
	fx->len = pages * PAGE_4K;
	fx->mem = ut_map_anon(fx->len);
	assert_int_equal(pfdk_uffd_region_register(fx->dev, fx->mem, fx->len,
		PFDK_UFFD_MODE_MISSING, fx->s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(fx->p), 0);
}

static void
fx_teardown(struct fixture *fx)
{
	pfdk_pipeline_destroy(fx->p);
	if (fx->mem != NULL)
		munmap(fx->mem, fx->len);
	pfdk_store_free(fx->s);
}

/* Serve an adopted child device from this thread until @pid exits. */
static int
serve_child(uint16_t dev, pid_t pid)
{
	struct pfdk_fault_conf dc = { .nb_queues = 1 };
	struct rte_mempool *pool = pfdk_fault_pool_create("child_pool", 63, 0,
							  SOCKET_ID_ANY);
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	struct pfdk_fault *f[16];
	int status = -1;
	uint16_t n, k;

	assert_non_null(pool);
	assert_int_equal(pfdk_fault_configure(dev, &dc), 0);
	assert_int_equal(pfdk_fault_queue_setup(dev, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start(dev), 0);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		n = pfdk_fault_recv_burst(dev, 0, f, RTE_DIM(f));
		k = pfdk_uffd_resolve_burst(NULL, f, n);
		assert_int_equal(k, n);
		assert_int_equal(pfdk_fault_respond_burst(dev, 0, f, n), n);
		if (n == 0)
			usleep(100);
	}
	assert_int_equal(pfdk_fault_close(dev), 0);
	rte_mempool_free(pool);
	return status;
}

/* The child faults the pages its parent never touched: its own uffd. */
static void
fork_child(void **state)
{
	struct fixture fx;
	uint8_t want[PAGE_4K];
	int status, child;
	size_t i;
	pid_t pid;

	(void)state;
	fx_setup(&fx, "rtc", PAGES, pfdk_store_pattern_create(3));
	if (!(pfdk_uffd_features(fx.dev) & UFFD_FEATURE_EVENT_FORK)) {
		fx_teardown(&fx);
		skip();
		return;
	}
	ut_touch_run(fx.mem, PAGE_4K, PAGES / 2, 1, false, false);
	pid = fork(); /* returns once the poller has read the FORK event */
	assert_true(pid >= 0);
	if (pid == 0) {
		for (i = 0; i < PAGES; i++) {
			pfdk_store_read(fx.s, i * PAGE_4K, want, PAGE_4K);
			if (memcmp(fx.mem + i * PAGE_4K, want, PAGE_4K) != 0)
				_exit(10);
		}
		_exit(0);
	}
	child = pfdk_uffd_fork_adopt(fx.dev, "uffd9");
	assert_true(child >= 0);
	assert_int_equal(pfdk_uffd_fork_adopt(fx.dev, "uffd10"), -EAGAIN);
	status = serve_child((uint16_t)child, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ut_xstats(fx.dev).ev_fork, 1);
	ut_stop_check(fx.p, 1, PAGES / 2);
	fx_teardown(&fx);
}

/* DONTNEED zaps pages (REMOVE); touching them again refills from the store. */
static void
remove_case(const char *layout)
{
	struct fixture fx;
	struct pfdk_uffd_stats x;

	fx_setup(&fx, layout, PAGES, pfdk_store_pattern_create(4));
	ut_touch_run(fx.mem, PAGE_4K, PAGES, 8, true, false);
	ut_verify(fx.mem, PAGE_4K, PAGES, fx.s, 0);
	assert_int_equal(madvise(fx.mem, fx.len / 2, MADV_DONTNEED), 0);
	ut_touch_run(fx.mem, PAGE_4K, PAGES, 8, true, false);
	ut_stop_check(fx.p, 1, PAGES + PAGES / 2);
	ut_verify(fx.mem, PAGE_4K, PAGES, fx.s, 0);
	x = ut_xstats(fx.dev);
	assert_true(x.ev_remove >= 1);
	assert_int_equal(x.copies, PAGES + PAGES / 2);
	fx_teardown(&fx);
}

static void madvise_remove(void **st) { (void)st; remove_case("pipeline"); }
/* Events arrive in the engine's read buffers, between the faults. */
static void madvise_remove_uring(void **st) { (void)st; remove_case("rtc-uring"); }

/* mremap the second half elsewhere: the table splits and follows. */
static void
mremap_moves(void **state)
{
	struct pfdk_uffd_region_info ri[4];
	struct fixture fx;
	size_t half = PAGES / 2 * PAGE_4K;
	uint8_t *dst, *moved;
	int n;

	(void)state;
	fx_setup(&fx, "rtc", PAGES, pfdk_store_pattern_create(6));
	ut_touch_run(fx.mem, PAGE_4K, PAGES / 4, 1, false, false);
	dst = ut_map_anon(half); /* a place to move to */
	moved = mremap(fx.mem + half, half, half, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	assert_true(moved == dst);
	fx.len = half; /* the first half stays where it was */
	n = pfdk_uffd_regions(fx.dev, ri, RTE_DIM(ri));
	assert_int_equal(n, 2);
	ut_touch_run(fx.mem, PAGE_4K, PAGES / 2, 8, true, false);
	ut_touch_run(moved, PAGE_4K, PAGES / 2, 8, true, false);
	ut_stop_check(fx.p, 1, PAGES - PAGES / 4);
	ut_verify(fx.mem, PAGE_4K, PAGES / 2, fx.s, 0);
	ut_verify(moved, PAGE_4K, PAGES / 2, fx.s, half);
	assert_int_equal(ut_xstats(fx.dev).ev_remap, 1);
	munmap(moved, half);
	fx_teardown(&fx);
}

/*
 * munmap with a fault in flight: the resolver is held inside the store
 * while the page's range is unmapped; the fault must be woken (and the
 * thread take SIGSEGV on its retry), never filled into a stale range.
 */
static int release_fill; /* atomics: the test thread and a resolver lcore */
static int fill_entered;

static int
slow_fill(void *ctx, uint64_t off, void *dst, size_t len)
{
	(void)ctx;
	if (off == 0) {
		__atomic_store_n(&fill_entered, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&release_fill, __ATOMIC_ACQUIRE))
			usleep(100);
	}
	memset(dst, 0x33, len);
	return PFDK_STORE_DATA;
}

static __thread sigjmp_buf segv_jmp;

static void
on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

static void *
segv_thread(void *arg)
{
	volatile uint8_t *mem = arg;

	if (sigsetjmp(segv_jmp, 1) == 0) {
		(void)mem[0];
		return (void *)0;
	}
	return (void *)1;
}

static void
munmap_in_flight(void **state)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	struct fixture fx;
	pthread_t th;
	void *got;

	(void)state;
	__atomic_store_n(&release_fill, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fill_entered, 0, __ATOMIC_RELEASE);
	fx_setup(&fx, "pipeline", PAGES,
		 pfdk_store_callback_create(slow_fill, NULL));
	sigaction(SIGSEGV, &sa, &old);
	assert_int_equal(pthread_create(&th, NULL, segv_thread, fx.mem), 0);
	while (!__atomic_load_n(&fill_entered, __ATOMIC_ACQUIRE))
		usleep(100);
	/* The first half goes while its fault is held. */
	assert_int_equal(munmap(fx.mem, fx.len / 2), 0);
	/*
	 * munmap() returns once its UNMAP event is read, which is before the
	 * poller has cut the table and counted it: wait (bounded) for that.
	 */
	for (int i = 0; i < 5000 && ut_xstats(fx.dev).ev_unmap < 1; i++)
		usleep(1000);
	assert_int_equal(ut_xstats(fx.dev).ev_unmap, 1);
	assert_int_equal(pfdk_uffd_regions(fx.dev, NULL, 0), 1);
	__atomic_store_n(&release_fill, 1, __ATOMIC_RELEASE); /* the one resolver is held: let it go first */
	pthread_join(th, &got);
	ut_touch_run(fx.mem + fx.len / 2, PAGE_4K, PAGES / 2, 8, true, false);
	sigaction(SIGSEGV, &old, NULL);
	assert_int_equal((intptr_t)got, 1);
	ut_stop_check(fx.p, 1, PAGES / 2 + 1);
	assert_int_equal(ut_xstats(fx.dev).ev_unmap, 1);
	assert_true(ut_xstats(fx.dev).stale >= 1);
	munmap(fx.mem + fx.len / 2, fx.len / 2);
	fx.mem = NULL;
	fx_teardown(&fx);
}

/*
 * Stop while a thread faults: it finishes; pages hold the store or zero.
 * uring: faults already read into the engine's buffers are served, and
 * the posted reads are cancelled before the poller finishes.
 */
static void
stop_case(const char *layout)
{
	const size_t n = 8192;
	struct fixture fx;
	struct ut_touch t = { 0 };
	uint8_t *want = malloc(PAGE_4K), zero[64] = { 0 };
	struct pfdk_fault_stats fs;
	size_t i, served = 0;

	assert_non_null(want);
	fx_setup(&fx, layout, n, pfdk_store_pattern_create(9));
	t = (struct ut_touch){ fx.mem, PAGE_4K, n, 0, 1, false, false, 0 };
	assert_int_equal(pthread_create(&t.th, NULL, ut_touch_main, &t), 0);
	usleep(2000);
	assert_int_equal(pfdk_pipeline_stop(fx.p), 0);
	pthread_join(t.th, NULL);
	assert_int_equal(pfdk_fault_stats_get(fx.dev, &fs), 0);
	assert_int_equal(fs.received, fs.responded);
	assert_int_equal(fs.outstanding, 0);
	for (i = 0; i < n; i++) {
		const uint8_t *pg = fx.mem + i * PAGE_4K;

		pfdk_store_read(fx.s, i * PAGE_4K, want, PAGE_4K);
		if (memcmp(pg, want, PAGE_4K) == 0)
			served++;
		else
			assert_memory_equal(pg, zero, sizeof(zero));
	}
	print_message("  stopped after %zu of %zu pages served; drained %" PRIu64 "\n",
		      served, n, ut_xstats(fx.dev).drained);
	assert_true(served >= fs.received);
	free(want);
	fx_teardown(&fx);
}

static void stop_while_faulting(void **st) { (void)st; stop_case("rtc"); }
static void stop_while_faulting_uring(void **st) { (void)st; stop_case("rtc-uring"); }

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fork_child),
		cmocka_unit_test(madvise_remove),
		cmocka_unit_test(mremap_moves),
		cmocka_unit_test(munmap_in_flight),
		cmocka_unit_test(stop_while_faulting),
		cmocka_unit_test(stop_while_faulting_uring),
		cmocka_unit_test(madvise_remove_uring),
	};

	(void)argc;
	test_watchdog("test_uffd_events", 300);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
