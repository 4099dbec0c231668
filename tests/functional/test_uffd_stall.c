/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A poller must always be able to read events, whatever it holds.
 *
 * While a REMOVE (or UNMAP, REMAP) event is unread, every UFFDIO_COPY and
 * UFFDIO_POISON on the uffd returns EAGAIN, and the kernel's read() hands
 * out every pending fault before any event. A poller whose stage (or pool)
 * is full of such deferred faults must still read on to the event, or no
 * fault is ever served and stop never returns.
 *
 * Manual cases (one thread steps the workers): as many faulting threads
 * as twice the burst block in the kernel first, then a thread calls
 * madvise(MADV_DONTNEED) and blocks until its event is read; the workers
 * are stepped until every thread is done, with a bound that turns a hang
 * into a failure with a message. Gate cases: two devices on one poller,
 * one holding the whole pool with faults that wait for an event of the
 * other, which has no descriptor (or parked faults and none). Threaded cases: 64 threads fault 16384
 * pages with burst 32 while a MADV_DONTNEED loop runs beside them, through
 * each layout and engine; every byte is verified and stop must return.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_uffd_common.h"

/* Bound on a case that should finish in well under a second. */
#define HANG_S 30

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Thread @tid of this process sleeps (S) or waits uninterruptibly (D). */
static bool
task_blocked(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

/* One thread, one page: touch it (read); record a SIGBUS if it gets one. */
struct faulter {
	volatile uint8_t *page;
	pthread_t th;
	pid_t tid;      /* atomic */
	int done;       /* atomic */
	int sigbus;
};

static __thread sigjmp_buf bus_jmp;

static void
on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static void *
faulter_main(void *arg)
{
	struct faulter *f = arg;

	__atomic_store_n(&f->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (sigsetjmp(bus_jmp, 1) == 0)
		(void)f->page[64];
	else
		f->sigbus = 1;
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct dontneed {
	void *addr;
	size_t len;
	pthread_t th;
	pid_t tid;      /* atomic */
	int done;       /* atomic */
	int ret;
};

static void *
dontneed_main(void *arg)
{
	struct dontneed *d = arg;

	__atomic_store_n(&d->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	d->ret = madvise(d->addr, d->len, MADV_DONTNEED);
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait until the thread published its tid and blocks in the kernel. */
static void
wait_blocked(const pid_t *tid, const int *done, const char *what)
{
	double t0 = now_s();
	pid_t t;

	while ((t = __atomic_load_n(tid, __ATOMIC_ACQUIRE)) == 0 || !task_blocked(t)) {
		if (__atomic_load_n(done, __ATOMIC_ACQUIRE))
			fail_msg("%s finished before it was blocked: no uffd wait?", what);
		if (now_s() - t0 > HANG_S)
			fail_msg("%s never blocked", what);
		usleep(200);
	}
}

static int
fail_lookup(void *ctx, uint64_t off, void *dst, size_t len)
{
	(void)ctx;
	(void)off;
	(void)dst;
	(void)len;
	return -EIO; /* the store cannot serve: INVALID, POISON in respond */
}

/*
 * One blocked faulting thread per page of @mem[0..n), then a thread
 * blocked in madvise(DONTNEED) of page n: its REMOVE event queues behind
 * every fault.
 */
static void
block_all(uint8_t *mem, struct faulter *f, unsigned int n, struct dontneed *dn)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		f[i].page = mem + (size_t)i * PAGE_4K;
		assert_int_equal(pthread_create(&f[i].th, NULL, faulter_main, &f[i]), 0);
		wait_blocked(&f[i].tid, &f[i].done, "faulting thread");
	}
	*dn = (struct dontneed){ mem + (size_t)n * PAGE_4K, PAGE_4K, 0, 0, 0, 0 };
	assert_int_equal(pthread_create(&dn->th, NULL, dontneed_main, dn), 0);
	wait_blocked(&dn->tid, &dn->done, "madvise thread");
}

struct mcase {
	const char *layout;
	unsigned int pool;
	unsigned int burst;
	unsigned int threads;
	bool fail;           /* store refuses every page: the POISON path */
};

/*
 * Deferred faults fill the stage (or the pool) while the event that defers
 * them waits behind more faults: step until everything is served.
 */
static void
manual_case(const struct mcase *mc)
{
	const size_t pages = mc->threads + 1;
	struct sigaction sa = { .sa_handler = on_bus }, old;
	struct pfdk_store *s = mc->fail ? pfdk_store_callback_create(fail_lookup, NULL) :
		pfdk_store_pattern_create(21);
	struct faulter *f = calloc(mc->threads, sizeof(*f));
	struct dontneed dn = { 0 };
	struct pfdk_uffd_stats x;
	struct pfdk_fault_stats fs;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	unsigned int i, nw, served = 0;
	uint64_t steps = 0;
	double t0;
	uint8_t *mem;
	uint16_t dev;

	assert_non_null(s);
	assert_non_null(f);
	p = ut_pipeline_flags(mc->layout, 1, mc->pool, mc->burst, PFDK_PIPELINE_F_MANUAL);
	dev = ut_dev(p, 0);
	nw = pfdk_pipeline_worker_count(p);
	mem = ut_map_anon(pages * PAGE_4K);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, pages * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	if (mc->fail)
		sigaction(SIGBUS, &sa, &old);
	for (i = 0; i < nw; i++) /* engines set up (uring: reads posted) */
		assert_true(pfdk_pipeline_worker_step(p, (uint16_t)i) >= 0);
	block_all(mem, f, mc->threads, &dn);

	t0 = now_s();
	while (served < mc->threads || !__atomic_load_n(&dn.done, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < nw; i++)
			assert_true(pfdk_pipeline_worker_step(p, (uint16_t)i) >= 0);
		if (++steps % 256 == 0) {
			usleep(50); /* let the woken threads run */
			if (now_s() - t0 > HANG_S)
				fail_msg("%s pool %u burst %u: %u of %u faults served, madvise %s, after %" PRIu64
					 " steps: the poller never reached the event behind its faults",
					 mc->layout, mc->pool, mc->burst, served, mc->threads,
					 dn.done ? "returned" : "blocked", steps);
		}
		for (served = 0, i = 0; i < mc->threads; i++)
			served += (unsigned int)__atomic_load_n(&f[i].done, __ATOMIC_ACQUIRE);
	}
	for (i = 0; i < mc->threads; i++)
		pthread_join(f[i].th, NULL);
	pthread_join(dn.th, NULL);
	if (mc->fail)
		sigaction(SIGBUS, &old, NULL);
	assert_int_equal(dn.ret, 0);
	x = ut_xstats(dev);
	print_message("  %s pool %u burst %u%s: %u faults in %" PRIu64 " steps; deferred %" PRIu64
		      " parked %" PRIu64 " poisons %" PRIu64 " remove %" PRIu64 "\n",
		      mc->layout, mc->pool, mc->burst, mc->fail ? " (store fails)" : "",
		      mc->threads, steps, x.deferred, x.parked, x.poisons, x.ev_remove);
	/*
	 * The case happened: the event sat behind more faults than the
	 * stage or pool holds, so reaching it meant reading faults ahead.
	 */
	assert_true(x.parked > 0);
	assert_int_equal(x.ev_remove, 1);
	for (i = 0; i < mc->threads; i++) {
		if (mc->fail && (pfdk_uffd_features(dev) & UFFD_FEATURE_POISON)) {
			assert_int_equal(f[i].sigbus, 1);
		} else {
			assert_int_equal(f[i].sigbus, 0);
			if (!mc->fail)
				ut_verify(mem + (size_t)i * PAGE_4K, PAGE_4K, 1, s, i * PAGE_4K);
		}
	}
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	pfdk_pipeline_stats(p, &ls, NULL);
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	/* Every fault came out exactly once and was answered; none aborted. */
	assert_int_equal(fs.received, mc->threads);
	assert_int_equal(fs.responded, fs.received);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.invalid, mc->fail ? mc->threads : 0);
	assert_int_equal(ls.inflight, 0);
	assert_int_equal(ls.responded, mc->threads);
	pfdk_pipeline_destroy(p);
	munmap(mem, pages * PAGE_4K);
	pfdk_store_free(s);
	free(f);
}

/* Stage full of deferred faults (64 faults, burst 32). */
static void manual_rtc_full(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc", 256, 32, 64, false }); }
/* Pool empty before the stage is full (16 descriptors, burst 32). */
static void manual_rtc_pool(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc", 16, 32, 64, false }); }
/* Faults parked: the epoll engine must not wait on an fd that hides them. */
static void manual_colocated_full(void **st)
{ (void)st; manual_case(&(struct mcase){ "colocated", 256, 32, 64, false }); }
/* Resolver defers, the poller's ring stage fills. */
static void manual_pipeline_full(void **st)
{ (void)st; manual_case(&(struct mcase){ "pipeline", 64, 32, 96, false }); }
/* The engine's buffers: parsed and freed with the stage full. */
static void manual_uring_full(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc-uring", 256, 32, 64, false }); }
/*
 * More faults ahead of the event than the engine's buffers hold (8 of 32
 * records per queue): the engine reads on only as buffers are parsed.
 */
static void manual_uring_bufs(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc-uring", 512, 32, 320, false }); }
static void manual_uring_pool(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc-uring", 16, 32, 64, false }); }
/* POISON in respond meets the pending event. */
static void manual_rtc_poison(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc", 256, 32, 64, true }); }
static void manual_uring_poison(void **st)
{ (void)st; manual_case(&(struct mcase){ "rtc-uring", 256, 32, 64, true }); }

/*
 * Stop with faults parked: one step receives a full stage (deferred) and
 * parks the rest to reach the event; stop finishes the stage, and the
 * device's stop serves the parked faults from the store. None is lost
 * (after stop the range is unregistered: a lost one would read zero),
 * none answered twice, none aborted.
 */
static void
manual_stop_parked(void **state)
{
	const unsigned int n = 64, pages = n + 1;
	struct pfdk_store *s = pfdk_store_pattern_create(23);
	struct faulter *f = calloc(n, sizeof(*f));
	struct pfdk_fault_stats fs;
	struct pfdk_uffd_stats x;
	struct dontneed dn;
	struct pfdk_pipeline *p;
	struct timespec dl;
	unsigned int i;
	uint8_t *mem;
	uint16_t dev;

	(void)state;
	assert_non_null(s);
	assert_non_null(f);
	p = ut_pipeline_flags("rtc", 1, 256, 32, PFDK_PIPELINE_F_MANUAL);
	dev = ut_dev(p, 0);
	mem = ut_map_anon(pages * PAGE_4K);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, pages * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	block_all(mem, f, n, &dn);
	assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);
	x = ut_xstats(dev);
	assert_int_equal(x.parked, n - 32);
	assert_int_equal(x.ev_remove, 1);
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HANG_S;
	for (i = 0; i < n; i++)
		if (pthread_timedjoin_np(f[i].th, NULL, &dl) != 0)
			fail_msg("faulting thread %u hangs after stop", i);
	pthread_join(dn.th, NULL);
	assert_int_equal(dn.ret, 0);
	for (i = 0; i < n; i++)
		ut_verify(mem + (size_t)i * PAGE_4K, PAGE_4K, 1, s, (uint64_t)i * PAGE_4K);
	x = ut_xstats(dev);
	assert_int_equal(pfdk_fault_stats_get(dev, &fs), 0);
	print_message("  stop: %" PRIu64 " received and answered by the pipeline, %" PRIu64
		      " parked served by stop\n", fs.responded, x.drained);
	assert_int_equal(fs.received, 32);
	assert_int_equal(fs.responded, 32);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(x.drained, n - 32);
	assert_int_equal(x.copies, n);
	pfdk_pipeline_destroy(p);
	munmap(mem, pages * PAGE_4K);
	pfdk_store_free(s);
	free(f);
}

/*
 * Two devices on one poller, A (queue 0) and B (queue 1), and a pool of
 * exactly the faults held on A. A resolve gate defers A's faults until a
 * madvise(DONTNEED) of B's region has returned, which needs B's REMOVE
 * event read. B never gets a descriptor: its queue must read ahead all the
 * same, or madvise blocks and A's faults are deferred for good.
 */
#define GATE_POOL 4

struct gate {
	uint16_t dev_a;
	const int *open;        /* atomic: the madvise returned */
	uint64_t deferred;      /* calls that held A's faults back */
};

static uint16_t
gate_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	struct gate *g = ctx;

	/* A stage holds the faults of one queue: faults[0] says which. */
	if (nb != 0 && faults[0]->dev_id == g->dev_a &&
	    !__atomic_load_n(g->open, __ATOMIC_ACQUIRE)) {
		g->deferred++;
		return 0;
	}
	return pfdk_uffd_resolve_burst(NULL, faults, nb);
}

/* rtc busy poller on CPU 1 over uffd0 (A) and uffd1 (B); @g resolves. */
static struct pfdk_pipeline *
gate_pipeline(unsigned int pool, struct gate *g)
{
	static struct pfdk_profile prof;
	struct pfdk_profile_check chk = { .ncpus = 2 };
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = gate_resolve,
		.resolve_ctx = g,
		.flags = PFDK_PIPELINE_F_MANUAL,
	};
	char ini[1024], err[512];
	struct pfdk_pipeline *p;
	int len;

	len = snprintf(ini, sizeof(ini),
		       "[pfdk]\nname = gate\nlayout = rtc\nburst = 32\nmain_cpu = 0\n"
		       "[node.0]\npool_size = %u\npool_cache = 0\nring_size = 64\n"
		       "[device.uffd0]\ndevargs = uffd0\n[device.uffd1]\ndevargs = uffd1\n"
		       "[lcore.1]\nrole = poller\ncpu = 1\nengine = busy\n"
		       "queues = uffd0:0, uffd1:0\n", pool);
	if (pfdk_profile_load_string("gate", ini, (size_t)len, &prof, &chk, err,
				     sizeof(err)) < 0)
		fail_msg("profile: %s\n%s", err, ini);
	p = pfdk_pipeline_create(&pc);
	if (p == NULL)
		fail_msg("pipeline_create: %s", rte_strerror(rte_errno));
	return p;
}

/*
 * @b_parked faulting threads on B are first read (4 served, the rest
 * parked by the read-ahead behind a short read); then GATE_POOL threads
 * fault on A and one calls madvise(DONTNEED) on B; step until all are done.
 */
static void
gate_case(unsigned int b_parked)
{
	const unsigned int na = GATE_POOL, nb = GATE_POOL + b_parked;
	const size_t pages_b = nb + 1;
	struct pfdk_store *s = pfdk_store_pattern_create(24);
	struct faulter fa[GATE_POOL], *fb = calloc(nb, sizeof(*fb));
	struct dontneed dn = { 0 };
	struct gate g = { 0 };
	struct pfdk_fault_stats fs;
	struct pfdk_uffd_stats xa, xb;
	struct pfdk_pipeline *p;
	unsigned int i, served;
	uint64_t steps = 0;
	uint8_t *ma, *mb;
	uint16_t a, b;
	double t0;

	assert_non_null(s);
	assert_non_null(fb);
	memset(fa, 0, sizeof(fa));
	g.open = &dn.done;
	p = gate_pipeline(GATE_POOL, &g);
	a = ut_dev(p, 0);
	b = ut_dev(p, 1);
	g.dev_a = a;
	ma = ut_map_anon(na * PAGE_4K);
	mb = ut_map_anon(pages_b * PAGE_4K);
	assert_int_equal(pfdk_uffd_region_register(a, ma, na * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_uffd_region_register(b, mb, pages_b * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);

	if (b_parked != 0) {
		/* B: the pool's worth read and served, the rest parked. */
		for (i = 0; i < nb; i++) {
			fb[i].page = mb + (size_t)i * PAGE_4K;
			assert_int_equal(pthread_create(&fb[i].th, NULL, faulter_main, &fb[i]), 0);
			wait_blocked(&fb[i].tid, &fb[i].done, "faulting thread on B");
		}
		assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);
		xb = ut_xstats(b);
		assert_int_equal(xb.parked, b_parked);
	}
	/* A takes every descriptor; B's REMOVE queues behind its parked faults. */
	for (i = 0; i < na; i++) {
		fa[i].page = ma + (size_t)i * PAGE_4K;
		assert_int_equal(pthread_create(&fa[i].th, NULL, faulter_main, &fa[i]), 0);
		wait_blocked(&fa[i].tid, &fa[i].done, "faulting thread on A");
	}
	dn = (struct dontneed){ mb + (size_t)nb * PAGE_4K, PAGE_4K, 0, 0, 0, 0 };
	assert_int_equal(pthread_create(&dn.th, NULL, dontneed_main, &dn), 0);
	wait_blocked(&dn.tid, &dn.done, "madvise thread");

	t0 = now_s();
	for (;;) {
		served = 0;
		for (i = 0; i < na; i++)
			served += (unsigned int)__atomic_load_n(&fa[i].done, __ATOMIC_ACQUIRE);
		for (i = 0; i < nb && b_parked != 0; i++)
			served += (unsigned int)__atomic_load_n(&fb[i].done, __ATOMIC_ACQUIRE);
		if (served == na + (b_parked ? nb : 0) &&
		    __atomic_load_n(&dn.done, __ATOMIC_ACQUIRE))
			break;
		assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);
		if (++steps % 256 == 0) {
			usleep(50);
			if (now_s() - t0 > HANG_S)
				fail_msg("%s: madvise on B %s, %u faults done, B's REMOVE events read %" PRIu64
					 ", after %" PRIu64 " steps: B (no descriptor%s) was never read",
					 b_parked ? "parked faults, no descriptors" : "pool empty",
					 dn.done ? "returned" : "blocked", served,
					 ut_xstats(b).ev_remove, steps,
					 b_parked ? ", faults parked" : "");
		}
	}
	for (i = 0; i < na; i++)
		pthread_join(fa[i].th, NULL);
	for (i = 0; i < nb && b_parked != 0; i++)
		pthread_join(fb[i].th, NULL);
	pthread_join(dn.th, NULL);
	assert_int_equal(dn.ret, 0);
	xa = ut_xstats(a);
	xb = ut_xstats(b);
	assert_int_equal(pfdk_fault_stats_get(b, &fs), 0);
	print_message("  %s: %" PRIu64 " steps, A deferred by the gate %" PRIu64
		      " times, B nodesc %" PRIu64 " parked %" PRIu64 " remove %" PRIu64 "\n",
		      b_parked ? "parked + no descriptors" : "pool empty", steps,
		      g.deferred, fs.nodesc, xb.parked, xb.ev_remove);
	/* The case happened: A held the pool while B had no descriptor. */
	assert_true(g.deferred > 0);
	assert_true(fs.nodesc > 0);
	assert_int_equal(xb.ev_remove, 1);
	assert_int_equal(xa.copies, na);
	for (i = 0; i < na; i++)
		ut_verify(ma + (size_t)i * PAGE_4K, PAGE_4K, 1, s, (uint64_t)i * PAGE_4K);
	if (b_parked != 0) {
		assert_int_equal(xb.copies, nb);
		for (i = 0; i < nb; i++)
			ut_verify(mb + (size_t)i * PAGE_4K, PAGE_4K, 1, s, (uint64_t)i * PAGE_4K);
	}
	ut_stop_check(p, 2, na + (b_parked ? nb : 0));
	pfdk_pipeline_destroy(p);
	munmap(ma, na * PAGE_4K);
	munmap(mb, pages_b * PAGE_4K);
	pfdk_store_free(s);
	free(fb);
}

/* B has no descriptor at all (regression: 118b81f). */
static void manual_gate_pool_empty(void **st) { (void)st; gate_case(0); }
/* B has parked faults and no descriptor for them (regression: 118b81f). */
static void manual_gate_parked(void **st) { (void)st; gate_case(2); }

/* Threaded: DONTNEED in a loop beside 64 faulting threads. */
struct zapper {
	uint8_t *mem;
	size_t pages;
	int stop;          /* atomic */
	uint64_t calls;
	int errors;
};

static void *
zapper_main(void *arg)
{
	struct zapper *z = arg;
	uint64_t seed = 0x2545f4914f6cdd1dull;

	while (!__atomic_load_n(&z->stop, __ATOMIC_ACQUIRE)) {
		size_t at = ut_rand(&seed) % (z->pages - 16);

		if (madvise(z->mem + at * PAGE_4K, 16 * PAGE_4K, MADV_DONTNEED) != 0)
			z->errors++;
		z->calls++;
		sched_yield();
	}
	return NULL;
}

static void
threaded_case(const char *layout)
{
	const size_t pages = 16384;
	const unsigned int nth = 64;
	struct pfdk_store *s = pfdk_store_pattern_create(22);
	struct ut_touch *t;
	struct zapper z = { 0 };
	struct pfdk_uffd_stats x;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	pthread_t zt;
	pthread_attr_t attr;
	cpu_set_t cpus;
	struct timespec dl;
	unsigned int i;
	uint8_t *mem;
	uint16_t dev;

	assert_non_null(s);
	p = ut_pipeline(layout, 1, 256, 32);
	dev = ut_dev(p, 0);
	mem = ut_map_anon(pages * PAGE_4K);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, pages * PAGE_4K,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	z = (struct zapper){ mem, pages, 0, 0, 0 };
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&zt, &attr, zapper_main, &z), 0);
	pthread_attr_destroy(&attr);
	t = ut_touch_start(mem, PAGE_4K, pages, nth, true, false);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 120;
	for (i = 0; i < nth; i++)
		if (pthread_timedjoin_np(t[i].th, NULL, &dl) != 0)
			fail_msg("%s: faulting thread %u of %u hangs after 120 s (remove events %" PRIu64
				 ", deferred %" PRIu64 ")", layout, i, nth,
				 ut_xstats(dev).ev_remove, ut_xstats(dev).deferred);
	__atomic_store_n(&z.stop, 1, __ATOMIC_RELEASE);
	pthread_join(zt, NULL);
	assert_int_equal(z.errors, 0);
	/* Zapped pages refault here and are served again: all bytes are the store's. */
	ut_verify(mem, PAGE_4K, pages, s, 0);
	x = ut_xstats(dev);
	ut_stop_check(p, 1, pages);
	pfdk_pipeline_stats(p, &ls, NULL);
	print_message("  %s: %" PRIu64 " faults, %" PRIu64 " madvise, remove %" PRIu64
		      " deferred %" PRIu64 " parked %" PRIu64 " serviced %" PRIu64 "\n",
		      layout, ls.received, z.calls, x.ev_remove, x.deferred, x.parked,
		      ls.serviced);
	assert_true(x.ev_remove > 0);
	pfdk_pipeline_destroy(p);
	munmap(mem, pages * PAGE_4K);
	pfdk_store_free(s);
	free(t);
}

/*
 * FORK events at the file descriptor limit. Each FORK event installs the
 * child's uffd in this process; at RLIMIT_NOFILE the kernel cannot, the
 * read fails (EMFILE) and the event stays queued, so fork() waits, and the
 * devices keep up to 64 child uffds each. The soft limit is lowered (and
 * put back) to FORK_ROOM free descriptors; a thread forks while faults are
 * served on every device: first FORK_N1 forks (the driver keeps child
 * uffds, and closes some when they come near the limit), then the test
 * takes every descriptor left, and FORK_N2 more forks each meet EMFILE.
 * Every fork must return.
 */
#define FORK_DEVS 4
#define FORK_N1 16
#define FORK_N2 48
#define FORK_PAGES 4096
#define FORK_ROOM 96 /* free descriptors under the lowered limit */

struct forker {
	pthread_t th;
	unsigned int n;         /* forks to do */
	unsigned int done;      /* atomic: forks returned */
	int errors;
};

static void *
forker_main(void *arg)
{
	struct forker *k = arg;
	unsigned int i;
	int st;

	for (i = 0; i < k->n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
			k->errors++;
		__atomic_store_n(&k->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The lowest free descriptor number: what the next open() returns. */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

/* Fork @n times from a thread of its own; fail if a fork hangs. */
static void
fork_n(unsigned int n, const uint16_t *dev, rlim_t limit)
{
	struct forker k = { .n = n };
	struct timespec dl;
	pthread_attr_t attr;
	cpu_set_t cpus;
	unsigned int d;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&k.th, &attr, forker_main, &k), 0);
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HANG_S;
	if (pthread_timedjoin_np(k.th, NULL, &dl) != 0) {
		struct pfdk_fault_stats fs;
		uint64_t errors = 0, ev_fork = 0;

		for (d = 0; d < FORK_DEVS; d++) {
			pfdk_fault_stats_get(dev[d], &fs);
			errors += fs.errors;
			ev_fork += ut_xstats(dev[d]).ev_fork;
		}
		fail_msg("fork %u of %u hangs after %d s with %lu open files allowed: %" PRIu64
			 " FORK events read, %" PRIu64 " read errors: an event that cannot install its fd is never read",
			 __atomic_load_n(&k.done, __ATOMIC_ACQUIRE) + 1, n, HANG_S,
			 (unsigned long)limit, ev_fork, errors);
	}
	assert_int_equal(k.errors, 0);
	assert_int_equal(k.done, n);
}

static void
fork_at_fd_limit(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(25);
	struct ut_touch t[FORK_DEVS];
	struct pfdk_uffd_stats x;
	struct pfdk_pipeline *p;
	struct rlimit rl, low;
	pthread_attr_t attr;
	cpu_set_t cpus;
	struct timespec dl;
	uint64_t ev_fork = 0, dropped = 0, nofd = 0, kept1 = 0;
	uint8_t *mem[FORK_DEVS];
	uint16_t dev[FORK_DEVS];
	int held[FORK_ROOM], nheld = 0, fd;
	unsigned int d;

	(void)state;
	assert_non_null(s);
	p = ut_pipeline("rtc", FORK_DEVS, 256, 32);
	for (d = 0; d < FORK_DEVS; d++) {
		dev[d] = ut_dev(p, (uint16_t)d);
		mem[d] = ut_map_anon(FORK_PAGES * PAGE_4K);
		assert_int_equal(pfdk_uffd_region_register(dev[d], mem[d], FORK_PAGES * PAGE_4K,
			PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	}
	if (!(pfdk_uffd_features(dev[0]) & UFFD_FEATURE_EVENT_FORK)) {
		print_message("  skipped: no UFFD_FEATURE_EVENT_FORK (needs CAP_SYS_PTRACE)\n");
		pfdk_pipeline_destroy(p);
		skip();
	}
	assert_int_equal(pfdk_pipeline_start(p), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)lowest_free_fd() + FORK_ROOM;
	assert_true(low.rlim_cur <= rl.rlim_cur);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	for (d = 0; d < FORK_DEVS; d++) {
		t[d] = (struct ut_touch){ mem[d], PAGE_4K, FORK_PAGES, 0, 1, true, false, 0 };
		assert_int_equal(pthread_create(&t[d].th, &attr, ut_touch_main, &t[d]), 0);
	}
	pthread_attr_destroy(&attr);
	fork_n(FORK_N1, dev, low.rlim_cur);
	for (d = 0; d < FORK_DEVS; d++) {
		x = ut_xstats(dev[d]);
		kept1 += x.ev_fork - x.fork_dropped;
	}
	/* The application takes every descriptor the child uffds left. */
	while (nheld < FORK_ROOM && (fd = dup(0)) >= 0)
		held[nheld++] = fd;
	assert_true(nheld < FORK_ROOM && errno == EMFILE);
	fork_n(FORK_N2, dev, low.rlim_cur);

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HANG_S;
	for (d = 0; d < FORK_DEVS; d++)
		if (pthread_timedjoin_np(t[d].th, NULL, &dl) != 0)
			fail_msg("faulting thread on uffd%u hangs after the forks", d);
	while (nheld > 0)
		close(held[--nheld]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (d = 0; d < FORK_DEVS; d++) {
		ut_verify(mem[d], PAGE_4K, FORK_PAGES, s, 0);
		x = ut_xstats(dev[d]);
		ev_fork += x.ev_fork;
		dropped += x.fork_dropped;
		nofd += x.fork_nofd;
	}
	print_message("  %u forks over %u uffds, %u descriptors free: %" PRIu64
		      " kept after %u forks; %" PRIu64 " FORK events, %" PRIu64
		      " reads met EMFILE, %" PRIu64 " child uffds closed to make room\n",
		      FORK_N1 + FORK_N2, FORK_DEVS, FORK_ROOM, kept1, FORK_N1, ev_fork,
		      nofd, dropped);
	/* Every fork's event was read on every uffd: none was left queued. */
	assert_int_equal(ev_fork, (uint64_t)(FORK_N1 + FORK_N2) * FORK_DEVS);
	/* Both ways happened: kept uffds near the limit, and reads at it. */
	assert_true(kept1 > 0 && kept1 < (uint64_t)FORK_N1 * FORK_DEVS);
	assert_true(nofd > 0);
	ut_stop_check(p, FORK_DEVS, (uint64_t)FORK_DEVS * FORK_PAGES);
	pfdk_pipeline_destroy(p);
	for (d = 0; d < FORK_DEVS; d++)
		munmap(mem[d], FORK_PAGES * PAGE_4K);
	pfdk_store_free(s);
}

static void threaded_rtc(void **st) { (void)st; threaded_case("rtc"); }
static void threaded_rtc_epoll(void **st) { (void)st; threaded_case("rtc-epoll"); }
static void threaded_colocated(void **st) { (void)st; threaded_case("colocated"); }
static void threaded_pipeline(void **st) { (void)st; threaded_case("pipeline"); }
static void threaded_rtc_uring(void **st) { (void)st; threaded_case("rtc-uring"); }

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manual_rtc_full),
		cmocka_unit_test(manual_rtc_pool),
		cmocka_unit_test(manual_colocated_full),
		cmocka_unit_test(manual_pipeline_full),
		cmocka_unit_test(manual_uring_full),
		cmocka_unit_test(manual_uring_pool),
		cmocka_unit_test(manual_uring_bufs),
		cmocka_unit_test(manual_rtc_poison),
		cmocka_unit_test(manual_uring_poison),
		cmocka_unit_test(manual_stop_parked),
		cmocka_unit_test(manual_gate_pool_empty),
		cmocka_unit_test(manual_gate_parked),
		cmocka_unit_test(threaded_rtc),
		cmocka_unit_test(threaded_rtc_epoll),
		cmocka_unit_test(threaded_colocated),
		cmocka_unit_test(threaded_pipeline),
		cmocka_unit_test(threaded_rtc_uring),
		cmocka_unit_test(fork_at_fd_limit),
	};

	/* One case by name (a glob), e.g. to run it alone against old code. */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	test_watchdog("test_uffd_stall", 600);
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
