/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-thread (UFFD_FEATURE_SIGBUS) resolution: every byte of every page
 * faulted in by 1 and 8 threads, sequential and random, with and without
 * fault-around, from pattern, image and zero stores; a SIGBUS outside PFDK
 * regions still kills (in a child) or reaches the application's own
 * handler; read(2) into an unresolved page gives EFAULT and
 * pfdk_uffd_prefault() fixes it.
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

#define PAGES 2048

static uint16_t
sig_dev(void)
{
	static unsigned int n;
	char name[32];
	int id;

	snprintf(name, sizeof(name), "uffd%u,sigbus=1", n++);
	id = pfdk_fault_dev_create(name);
	if (id < 0)
		fail_msg("pfdk_fault_dev_create(%s): %s", name, strerror(-id));
	assert_true(pfdk_uffd_features((uint16_t)id) & UFFD_FEATURE_SIGBUS);
	/* No events in SIGBUS mode: nobody would read them. */
	assert_false(pfdk_uffd_features((uint16_t)id) & UFFD_FEATURE_EVENT_UNMAP);
	return (uint16_t)id;
}

static struct pfdk_uffd_inthread_stats
it_stats(void)
{
	struct pfdk_uffd_inthread_stats st;

	assert_int_equal(pfdk_uffd_inthread_stats_get(&st, NULL), 0);
	return st;
}

/* @pages 4 KiB anonymous pages served from @s, touched by @n threads. */
static void
run_case(struct pfdk_store *s, size_t pages, unsigned int nthreads, bool random,
	 uint32_t around, bool write)
{
	struct pfdk_uffd_inthread_conf conf = { .fault_around = around };
	size_t len = pages * PAGE_4K;
	void *mem = ut_map_anon(len);
	uint16_t dev = sig_dev();
	struct pfdk_uffd_inthread_stats st;
	struct pfdk_hist lat;
	struct pfdk_hist_summary sum;

	assert_non_null(s);
	pfdk_uffd_inthread_stats_reset();
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, &conf), 0);
	ut_touch_run(mem, PAGE_4K, pages, nthreads, random, write);
	st = it_stats();
	pfdk_hist_reset(&lat);
	assert_int_equal(pfdk_uffd_inthread_stats_get(&st, &lat), 0);
	pfdk_hist_summarize(&lat, &sum);
	print_message("  %u thread(s) %s around %u: %" PRIu64 " faults, %" PRIu64
		      " pages (%" PRIu64 " around, %" PRIu64 " zero), %" PRIu64
		      " eexist, %" PRIu64 " cut, p50 %" PRIu64 " cyc\n", nthreads,
		      random ? "random" : "seq", around, st.faults, st.pages,
		      st.around, st.zeropages, st.exists, st.cut_short, sum.p50);
	/* Every page filled exactly once, no fault failed or chained. */
	assert_int_equal(st.pages, pages);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.chained, 0);
	assert_int_equal(sum.count, st.faults);
	if (around == 0) {
		assert_int_equal(st.around, 0);
		assert_int_equal(st.faults, pages + st.exists);
	} else if (!random && nthreads == 1) {
		/* A sequential scan takes about 1/(1 + N) of the faults. */
		assert_true(st.faults <= pages / (around + 1) + 1);
	}
	assert_int_equal(pfdk_uffd_inthread_disable(dev), 0);
	assert_int_equal(pfdk_uffd_inthread_disable(dev), -EINVAL);
	if (!write)
		ut_verify(mem, PAGE_4K, pages, s, 0);
	assert_int_equal(pfdk_fault_close(dev), 0);
	munmap(mem, len);
}

static void
pattern_case(unsigned int nthreads, bool random, uint32_t around)
{
	struct pfdk_store *s = pfdk_store_pattern_create(42 + around);

	run_case(s, PAGES, nthreads, random, around, false);
	pfdk_store_free(s);
}

static void t1_seq(void **st) { (void)st; pattern_case(1, false, 0); }
static void t1_random(void **st) { (void)st; pattern_case(1, true, 0); }
static void t8_seq(void **st) { (void)st; pattern_case(8, false, 0); }
static void t8_random(void **st) { (void)st; pattern_case(8, true, 0); }
static void t1_seq_around(void **st) { (void)st; pattern_case(1, false, 15); }
static void t1_random_around(void **st) { (void)st; pattern_case(1, true, 15); }
static void t8_seq_around(void **st) { (void)st; pattern_case(8, false, 7); }
static void t8_random_around(void **st) { (void)st; pattern_case(8, true, 63); }
static void t1_seq_around_max(void **st)
{
	(void)st;
	pattern_case(1, false, PFDK_UFFD_FAULT_AROUND_MAX);
}

/* Image store (shorter than the region: tail page built, then zero pages). */
static void
image_and_zero(void **state)
{
	size_t ilen = 300 * PAGE_4K + 1000, i;
	uint8_t *img = malloc(ilen);
	struct pfdk_store *s;

	(void)state;
	assert_non_null(img);
	for (i = 0; i < ilen; i++)
		img[i] = (uint8_t)(i * 13 + (i >> 12));
	s = pfdk_store_image_from_memory(img, ilen);
	run_case(s, 512, 1, false, 31, false);
	run_case(s, 512, 8, true, 31, false);
	run_case(s, 512, 1, true, 0, false);
	pfdk_store_free(s);
	s = pfdk_store_zero_create();
	run_case(s, 512, 1, false, 15, false);
	assert_int_equal(it_stats().zeropages, 512);
	run_case(s, 512, 8, true, 0, true);
	pfdk_store_free(s);
	free(img);
}

/* A thread that set up its state first; and a fault on a write. */
static void
thread_init_write(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(5);
	void *mem = ut_map_anon(64 * PAGE_4K);
	uint16_t dev = sig_dev();
	uint8_t *p = mem, want[PAGE_4K];

	(void)state;
	assert_int_equal(pfdk_uffd_inthread_thread_init(), 0);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, 64 * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, NULL), 0);
	p[5 * PAGE_4K + 17] = 0xab; /* write fault: filled, then written */
	assert_int_equal(pfdk_store_read(s, 5 * PAGE_4K, want, PAGE_4K), 0);
	want[17] = 0xab;
	assert_memory_equal(p + 5 * PAGE_4K, want, PAGE_4K);
	assert_int_equal(pfdk_fault_close(dev), 0); /* disables too */
	assert_int_equal(pfdk_uffd_inthread_disable(dev), -ENODEV);
	pfdk_uffd_inthread_thread_fini();
	munmap(mem, 64 * PAGE_4K);
	pfdk_store_free(s);
}

/* A mapping of a one-page file, two pages long: page 1 is beyond EOF. */
static uint8_t *
map_truncated(void)
{
	char path[] = "/tmp/pfdk_sigbusXXXXXX";
	int fd = mkstemp(path);
	uint8_t *p;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 2 * PAGE_4K, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	return p;
}

/* SIGBUS outside PFDK regions, no handler before ours: the process dies. */
static void
chained_default_kills(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(9);
	void *mem = ut_map_anon(16 * PAGE_4K);
	uint8_t *bad = map_truncated();
	struct sigaction dfl = { .sa_handler = SIG_DFL }, cm;
	uint16_t dev;
	int status;
	pid_t pid;

	(void)state;
	/* cmocka catches SIGBUS itself: make the default the one before ours. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGBUS, &dfl, &cm);
	dev = sig_dev();
	assert_int_equal(pfdk_uffd_region_register(dev, mem, 16 * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, NULL), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile uint8_t x = bad[PAGE_4K]; /* beyond EOF: SIGBUS */

		(void)x;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	/* A SIGBUS sent (not a fault) is chained too. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		kill(getpid(), SIGBUS);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	assert_int_equal(it_stats().chained, 0); /* the children's counts stay theirs */
	assert_int_equal(pfdk_fault_close(dev), 0);
	sigaction(SIGBUS, &cm, NULL);
	munmap(bad, 2 * PAGE_4K);
	munmap(mem, 16 * PAGE_4K);
	pfdk_store_free(s);
}

static sigjmp_buf app_jmp;
static volatile sig_atomic_t app_hits;

static void
app_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	app_hits++;
	siglongjmp(app_jmp, 1);
}

/* The application's handler, installed before PFDK's, still gets its own. */
static void
chained_app_handler(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(11);
	struct sigaction sa = { .sa_sigaction = app_sigbus, .sa_flags = SA_SIGINFO }, old;
	uint8_t *mem = ut_map_anon(16 * PAGE_4K);
	uint8_t *bad = map_truncated();
	uint16_t dev;

	(void)state;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	dev = sig_dev();
	pfdk_uffd_inthread_stats_reset();
	assert_int_equal(pfdk_uffd_region_register(dev, mem, 16 * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, NULL), 0);
	app_hits = 0;
	if (sigsetjmp(app_jmp, 1) == 0) {
		volatile uint8_t x = bad[PAGE_4K];

		(void)x;
		fail_msg("no SIGBUS beyond EOF");
	}
	assert_int_equal(app_hits, 1);
	ut_touch_run(mem, PAGE_4K, 16, 1, false, false); /* PFDK still serves */
	ut_verify(mem, PAGE_4K, 16, s, 0);
	assert_int_equal(it_stats().chained, 1);
	assert_int_equal(it_stats().pages, 16);
	assert_int_equal(pfdk_fault_close(dev), 0);
	/* The last disable put the application's handler back. */
	{
		struct sigaction cur;

		sigaction(SIGBUS, NULL, &cur);
		assert_true(cur.sa_sigaction == app_sigbus);
	}
	sigaction(SIGBUS, &old, NULL);
	munmap(bad, 2 * PAGE_4K);
	munmap(mem, 16 * PAGE_4K);
	pfdk_store_free(s);
}

/* read(2) into a missing page: EFAULT; prefault, then it works. */
static void
efault_and_prefault(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(13);
	size_t len = 32 * PAGE_4K;
	uint8_t *mem = ut_map_anon(len), msg[PAGE_4K];
	uint16_t dev = sig_dev();
	int pfd[2], i;

	(void)state;
	for (i = 0; i < (int)sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 3 + 1);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, NULL), 0);
	pfdk_uffd_inthread_stats_reset();
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	errno = 0;
	assert_int_equal(read(pfd[0], mem + 3 * PAGE_4K, sizeof(msg)), -1);
	assert_int_equal(errno, EFAULT);
	/* The kernel's access raised no signal and filled nothing. */
	assert_int_equal(it_stats().faults, 0);
	/* Pages 2..5 (partly): 4 filled; again: nothing left to fill. */
	assert_int_equal(pfdk_uffd_prefault(dev, mem + 2 * PAGE_4K + 100,
					    3 * PAGE_4K), 4);
	assert_int_equal(pfdk_uffd_prefault(dev, mem + 2 * PAGE_4K, 4 * PAGE_4K), 0);
	/* A range with present pages in the middle: only the missing ones. */
	assert_int_equal(pfdk_uffd_prefault(dev, mem, 8 * PAGE_4K), 4);
	assert_int_equal(it_stats().prefaulted, 8);
	assert_int_equal(it_stats().faults, 0);
	ut_verify(mem, PAGE_4K, 8, s, 0);
	assert_int_equal(read(pfd[0], mem + 3 * PAGE_4K, sizeof(msg)),
			 (ssize_t)sizeof(msg));
	assert_memory_equal(mem + 3 * PAGE_4K, msg, sizeof(msg));
	/* Outside any region: nothing to do. */
	assert_int_equal(pfdk_uffd_prefault(dev, msg, sizeof(msg)), 0);
	assert_int_equal(pfdk_uffd_prefault(dev, mem, 0), 0);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(pfdk_fault_close(dev), 0);
	munmap(mem, len);
	pfdk_store_free(s);
}

/*
 * The profile's engine = inthread: the pipeline hands its devices to the
 * faulting threads at start and takes them back at stop.
 */
static void
profile_case(unsigned int nthreads, bool random)
{
	struct pfdk_store *s = pfdk_store_pattern_create(44);
	struct pfdk_pipeline *p = ut_pipeline("inthread", 1, 64, 32);
	size_t len = PAGES * PAGE_4K;
	void *mem = ut_map_anon(len);
	uint16_t dev = ut_dev(p, 0);
	struct pfdk_uffd_inthread_stats st;
	struct pfdk_fault_stats fs;

	assert_non_null(s);
	pfdk_uffd_inthread_stats_reset();
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, nthreads, random, false);
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	/* Stop took the device back: enabled no more. */
	assert_int_equal(pfdk_uffd_inthread_disable(dev), -EINVAL);
	st = it_stats();
	assert_int_equal(st.pages, PAGES);
	assert_int_equal(st.errors + st.chained, 0);
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	assert_int_equal(fs.received, 0); /* nothing went through a queue */
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
}

static void profile_1_seq(void **st) { (void)st; profile_case(1, false); }
static void profile_8_random(void **st) { (void)st; profile_case(8, true); }

/* engine = inthread over a device created without sigbus=1: start refuses. */
static void
profile_needs_sigbus(void **state)
{
	struct pfdk_pipeline *p = ut_pipeline("inthread-nosigbus", 2, 64, 32);

	(void)state;
	assert_int_equal(pfdk_pipeline_start(p), -EINVAL);
	/* Nothing half-enabled was left behind; a plain device stays plain. */
	assert_int_equal(pfdk_uffd_inthread_disable(ut_dev(p, 0)), -EINVAL);
	pfdk_pipeline_destroy(p);
}

/* Per-region fault-around overrides the device's (devargs) value. */
static void
region_around(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(45);
	size_t len = PAGES * PAGE_4K;
	uint8_t *mem = ut_map_anon(len);
	struct pfdk_uffd_inthread_stats st;
	int dev = pfdk_fault_dev_create("uffd80,sigbus=1,fault_around=3");
	char err[256];

	(void)state;
	assert_true(dev >= 0);
	assert_int_equal(pfdk_fault_devargs_check("uffd1,fault_around=512", err,
						  sizeof(err)), -EINVAL);
	/* Two regions: the first keeps the device's 3, the second gets 15. */
	assert_int_equal(pfdk_uffd_region_register((uint16_t)dev, mem, len / 2,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_region_register((uint16_t)dev, mem + len / 2,
		len / 2, PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_region_fault_around((uint16_t)dev, mem + len / 2, 15), 0);
	assert_int_equal(pfdk_uffd_region_fault_around((uint16_t)dev, mem + len / 2,
						       PFDK_UFFD_FAULT_AROUND_MAX + 1), -EINVAL);
	assert_int_equal(pfdk_uffd_region_fault_around((uint16_t)dev, mem - PAGE_4K, 1),
			 -ENOENT);
	assert_int_equal(pfdk_uffd_inthread_enable((uint16_t)dev, NULL), 0);
	pfdk_uffd_inthread_stats_reset();
	ut_touch_run(mem, PAGE_4K, PAGES / 2, 1, false, false);
	st = it_stats();
	assert_int_equal(st.faults, PAGES / 2 / 4);
	pfdk_uffd_inthread_stats_reset();
	ut_touch_run(mem + len / 2, PAGE_4K, PAGES / 2, 1, false, false);
	st = it_stats();
	assert_int_equal(st.faults, PAGES / 2 / 16);
	ut_verify(mem, PAGE_4K, PAGES / 2, s, 0);
	ut_verify(mem + len / 2, PAGE_4K, PAGES / 2, s, 0); /* each region is its store's image */
	assert_int_equal(pfdk_fault_close((uint16_t)dev), 0);
	munmap(mem, len);
	pfdk_store_free(s);
}

/* MODE_MOVE in the faulting thread: pages moved in, every byte checked. */
static void
move_inthread(void **state)
{
	size_t len = PAGES * PAGE_4K;
	struct pfdk_store *pat = pfdk_store_pattern_create(48), *s;
	uint8_t *src = ut_map_anon(len), *want = malloc(len), *mem = ut_map_anon(len);
	uint16_t dev = sig_dev();
	struct pfdk_uffd_inthread_stats st;

	(void)state;
	assert_non_null(want);
	if (!(pfdk_uffd_features(dev) & UFFD_FEATURE_MOVE)) {
		print_message("  SKIP: this kernel lacks UFFD_FEATURE_MOVE (Linux 6.8+)\n");
		assert_int_equal(pfdk_fault_close(dev), 0);
		skip();
	}
	assert_int_equal(pfdk_store_read(pat, 0, want, len), 0);
	memcpy(src, want, len);
	s = pfdk_store_image_from_memory(src, len);
	assert_non_null(s);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING | PFDK_UFFD_MODE_MOVE, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, &(struct pfdk_uffd_inthread_conf){
		.fault_around = 3 }), 0);
	pfdk_uffd_inthread_stats_reset();
	ut_touch_run(mem, PAGE_4K, PAGES, 8, true, false);
	st = it_stats();
	print_message("  8 threads random, fault-around 3: %" PRIu64 " faults, %" PRIu64
		      " moved, %" PRIu64 " pages\n", st.faults, st.moves, st.pages);
	assert_int_equal(st.pages, PAGES);
	assert_true(st.moves > 0);
	assert_int_equal(st.errors + st.chained, 0);
	assert_memory_equal(mem, want, len);
	assert_int_equal(pfdk_fault_close(dev), 0);
	pfdk_store_free(s);
	pfdk_store_free(pat);
	munmap(mem, len);
	munmap(src, len);
	free(want);
}

/* Devargs and argument checks. */
static void
bad_args(void **state)
{
	struct pfdk_uffd_inthread_conf c = { .fault_around = PFDK_UFFD_FAULT_AROUND_MAX + 1 };
	char err[256];
	uint16_t dev = sig_dev();
	int plain = pfdk_fault_dev_create("uffd90");

	(void)state;
	assert_true(plain >= 0);
	assert_int_equal(pfdk_uffd_inthread_enable((uint16_t)plain, NULL), -EINVAL);
	assert_int_equal(pfdk_uffd_inthread_enable(dev, &c), -EINVAL);
	assert_int_equal(pfdk_fault_devargs_check("uffd1,sigbus=2", err, sizeof(err)), -EINVAL);
	assert_int_equal(pfdk_fault_devargs_check("uffd1,sigbus=1", err, sizeof(err)), 0);
	assert_int_equal(pfdk_uffd_inthread_disable(dev), -EINVAL);
	assert_int_equal(pfdk_uffd_stats_get(dev, &(struct pfdk_uffd_stats){0}), 0);
	assert_int_equal(pfdk_fault_close((uint16_t)plain), 0);
	assert_int_equal(pfdk_fault_close(dev), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t1_seq),
		cmocka_unit_test(t1_random),
		cmocka_unit_test(t8_seq),
		cmocka_unit_test(t8_random),
		cmocka_unit_test(t1_seq_around),
		cmocka_unit_test(t1_random_around),
		cmocka_unit_test(t8_seq_around),
		cmocka_unit_test(t8_random_around),
		cmocka_unit_test(t1_seq_around_max),
		cmocka_unit_test(image_and_zero),
		cmocka_unit_test(thread_init_write),
		cmocka_unit_test(chained_default_kills),
		cmocka_unit_test(chained_app_handler),
		cmocka_unit_test(efault_and_prefault),
		cmocka_unit_test(bad_args),
		cmocka_unit_test(profile_1_seq),
		cmocka_unit_test(profile_8_random),
		cmocka_unit_test(profile_needs_sigbus),
		cmocka_unit_test(region_around),
		cmocka_unit_test(move_inthread),
	};

	(void)argc;
	test_watchdog("test_uffd_inthread", 300);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
