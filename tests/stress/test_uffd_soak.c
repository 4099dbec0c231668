/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * userfaultfd soak: 8 faulting threads over 64 uffds, random access, while
 * other threads zap pages (MADV_DONTNEED: REMOVE), reshape the regions
 * (mremap shrink, move, grow in place, grow and move; munmap holes, more
 * than the region table has slots: UNMAP/REMAP) and fork in storms (FORK),
 * through pools and rings small enough to force backpressure, in every
 * layout and engine the machine allows. Every page read is compared byte
 * for byte with its store; at the end nothing is lost (every fault
 * received was answered once), nothing hangs, and stop returns.
 *
 * Each layout/engine runs in a child process of its own (this program run
 * with --config NAME), so a hang in one is reported and the others still
 * run; the parent prints one line per configuration and fails if any did.
 * In the child a monitor thread is the watchdog: a thread that makes no
 * progress for PFDK_SOAK_HANG_SECONDS, or a stop that does not return,
 * ends the child with a message naming the configuration, the thread,
 * what it was doing, and the pipeline's and driver's counters.
 *
 * Environment knobs (all optional):
 *   PFDK_SOAK_SECONDS       total run time over all configurations (150)
 *   PFDK_SOAK_HANG_SECONDS  no progress for this long is a hang (20)
 *   PFDK_SOAK_CONFIGS       comma list of configurations (all that fit)
 *   PFDK_SOAK_EVENTS        comma list of dontneed, shrink, move, grow,
 *                           growmove, holes, fork; "all" (default), "none"
 *   PFDK_SOAK_BURST, PFDK_SOAK_POOL, PFDK_SOAK_RING
 *                           burst (4), node pool (4), node ring (8)
 *   PFDK_SOAK_HOLES         munmap holes per holes scenario (64, <= 64)
 *   PFDK_SOAK_NOFILE        soft RLIMIT_NOFILE to run under (the inherited
 *                           one; fork storms run at any limit)
 * The defaults are hostile on purpose: a burst smaller than the faulting
 * threads lets faults held back by a pending event fill a poller's stage.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "pfdk_fault.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "test_common.h"

#define NDEV 64
#define NFAULTERS 8
#define PG 4096ul
#define RPAGES 256                     /* registered pages per uffd */
#define SPAGES (RPAGES / 2)            /* stable half: never reshaped */
#define MPAGES (RPAGES - SPAGES)       /* mutable half */
#define GPAGES 64                      /* guard after it: grow in place */
#define MAXSEG (MPAGES / 2 + 4)

/* ---- configurations -------------------------------------------------- */

struct soak_cfg {
	const char *name;
	const char *layout;
	const char *engine;     /* engine line(s) of the poller */
	unsigned int poller_cpu;
	int resolver_cpu;       /* -1: none */
	unsigned int min_cpus;
	const char *why;        /* reason it needs min_cpus */
};

/*
 * Faulting threads run on CPU 0; on 2 CPUs at most one thread spins, on
 * CPU 1. A configuration with two spinners needs a third CPU.
 */
static const struct soak_cfg cfgs[] = {
	{ "rtc-busy", "rtc", "busy", 1, -1, 2, NULL },
	{ "rtc-epoll", "rtc", "epoll", 1, -1, 2, NULL },
	{ "rtc-uring-nosqpoll", "rtc", "uring-nosqpoll", 1, -1, 2, NULL },
	{ "rtc-uring", "rtc", "uring\nsqpoll_cpu = 2", 1, -1, 3,
	  "the SQPOLL thread and the poller would spin on both CPUs" },
	{ "colocated-epoll", "colocated", "epoll", 0, -1, 2, NULL },
	{ "pipeline-epoll", "pipeline", "epoll", 0, 1, 2, NULL },
	{ "pipeline-busy", "pipeline", "busy", 2, 1, 3,
	  "a busy poller and a resolver would spin on both CPUs" },
	{ "pipeline-uring-nosqpoll", "pipeline", "uring-nosqpoll", 2, 1, 3,
	  "a uring poller and a resolver would spin on both CPUs" },
};

enum { EV_DONTNEED, EV_SHRINK, EV_MOVE, EV_GROW, EV_GROWMOVE, EV_HOLES, EV_FORK, EV_N };
static const char *const ev_names[EV_N] = {
	"dontneed", "shrink", "move", "grow", "growmove", "holes", "fork",
};

static unsigned int
env_uint(const char *name, unsigned int def, unsigned int lo, unsigned int hi)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi) {
		fprintf(stderr, "soak: %s=%s: want a number in %u..%u\n", name, v, lo, hi);
		exit(1);
	}
	return (unsigned int)x;
}

/* Is @name in the comma list @list? */
static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

static unsigned int
events_mask(void)
{
	const char *v = getenv("PFDK_SOAK_EVENTS");
	unsigned int m = 0, i;

	if (v == NULL || *v == '\0' || strcmp(v, "all") == 0)
		return (1u << EV_N) - 1;
	if (strcmp(v, "none") == 0)
		return 0;
	for (i = 0; i < EV_N; i++)
		if (in_list(v, ev_names[i]))
			m |= 1u << i;
	if (m == 0) {
		fprintf(stderr, "soak: PFDK_SOAK_EVENTS=%s names no event (all, none, or of:", v);
		for (i = 0; i < EV_N; i++)
			fprintf(stderr, " %s", ev_names[i]);
		fprintf(stderr, ")\n");
		exit(1);
	}
	return m;
}

/* ---- the model: what every mapped page must hold --------------------- */

/* A piece of a device's mutable half, wherever it lives now. */
struct seg {
	uint8_t *addr;
	size_t len;
	uint64_t off;  /* store offset of addr */
	bool unknown;  /* grown by mremap: store, zero or SIGBUS are all defined */
};

struct sdev {
	uint16_t id;
	struct pfdk_store *s;
	uint8_t *base;           /* stable half, then mutable half, then guard */
	pthread_rwlock_t lock;   /* the mutable half's mappings and segs */
	unsigned int nseg;
	struct seg seg[MAXSEG];
	uint8_t *extra;          /* a mapping to drop on restore (move target) */
	size_t extra_len;
	bool guard_gone;         /* the guard's addresses were taken by another map */
	bool retired;            /* its mutable half could not be restored */
};

/* What a thread is doing, for the watchdog's message. */
struct tstate {
	const char *role;
	unsigned int idx;
	uint64_t progress;       /* atomic */
	const char *what;        /* atomic */
	uint64_t dev;            /* atomic */
	uint64_t addr;           /* atomic */
	bool done;               /* atomic */
	pthread_t th;
};

enum phase { PH_RUN, PH_JOIN, PH_VERIFY, PH_STOP, PH_DONE };
static const char *const phase_names[] = { "run", "join", "verify", "stop", "done" };

static struct {
	const struct soak_cfg *cfg;
	struct pfdk_pipeline *p;
	struct sdev dev[NDEV];
	unsigned int events;
	unsigned int hang_secs;
	unsigned int holes;
	uint32_t stop;          /* atomic */
	uint32_t hot;           /* atomic: device being reshaped */
	uint32_t phase;         /* atomic */
	uint64_t phase_t0;      /* atomic: ns when the phase began */
	struct tstate t[NFAULTERS + 3];
	unsigned int nt;
	/* results (atomic adds) */
	uint64_t verified, failures, tail_store, tail_zero, tail_sigbus;
	uint64_t sc[EV_N], skipped, forks, reg_retries;
	char fail_msg[512];
} G;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
t_at(struct tstate *t, const char *what, unsigned int dev, const void *addr)
{
	__atomic_store_n(&t->what, what, __ATOMIC_RELAXED);
	__atomic_store_n(&t->dev, dev, __ATOMIC_RELAXED);
	__atomic_store_n(&t->addr, (uint64_t)(uintptr_t)addr, __ATOMIC_RELAXED);
}

static void
t_tick(struct tstate *t)
{
	__atomic_fetch_add(&t->progress, 1, __ATOMIC_RELEASE);
}

static bool
stopping(void)
{
	return __atomic_load_n(&G.stop, __ATOMIC_ACQUIRE) != 0;
}

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Record a failure (the first message is kept) and stop the run. */
static void
fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&G.failures, 1, __ATOMIC_ACQ_REL) == 0) {
		va_start(ap, fmt);
		vsnprintf(G.fail_msg, sizeof(G.fail_msg), fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&G.stop, 1, __ATOMIC_RELEASE);
}

/* ---- counters and the watchdog ---------------------------------------- */

static void
print_counters(FILE *o)
{
	struct pfdk_uffd_stats x, sx = { 0 };
	struct pfdk_fault_stats fs, sf = { 0 };
	struct pfdk_lcore_stats ls;
	unsigned int d, shown = 0;
	uint64_t *a, *b;
	size_t i;

	pfdk_pipeline_stats(G.p, &ls, NULL);
	for (d = 0; d < NDEV; d++) {
		if (pfdk_uffd_stats_get(G.dev[d].id, &x) != 0 ||
		    pfdk_fault_stats_get(G.dev[d].id, &fs) != 0)
			continue;
		a = (uint64_t *)&sx;
		b = (uint64_t *)&x;
		for (i = 0; i < sizeof(x) / sizeof(uint64_t); i++)
			a[i] += b[i];
		a = (uint64_t *)&sf;
		b = (uint64_t *)&fs;
		for (i = 0; i < sizeof(fs) / sizeof(uint64_t); i++)
			a[i] += b[i];
		if ((fs.outstanding != 0 || x.stale != 0) && shown++ < 6)
			fprintf(o, "  uffd%u: received %" PRIu64 " responded %" PRIu64
				" outstanding %" PRIu64 " deferred %" PRIu64 " stale %" PRIu64
				" regions %d\n", d, fs.received, fs.responded, fs.outstanding,
				x.deferred, x.stale, pfdk_uffd_regions(G.dev[d].id, NULL, 0));
	}
	fprintf(o, "  pipeline: received %" PRIu64 " responded %" PRIu64 " inflight %" PRIu64
		" retried %" PRIu64 " backpressure %" PRIu64 " idle %" PRIu64 " sleeps %" PRIu64
		" engine posted %" PRIu64 " reads %" PRIu64 "\n",
		ls.received, ls.responded, ls.inflight, ls.retried, ls.backpressure,
		ls.idle, ls.sleeps, ls.engine_arms, ls.engine_reads);
	fprintf(o, "  devices: received %" PRIu64 " responded %" PRIu64 " outstanding %" PRIu64
		" nodesc %" PRIu64 " errors %" PRIu64 " aborted %" PRIu64 " invalid %" PRIu64 "\n",
		sf.received, sf.responded, sf.outstanding, sf.nodesc, sf.errors, sf.aborted,
		sf.invalid);
	fprintf(o, "  uffd: copies %" PRIu64 " zeropages %" PRIu64 " exists %" PRIu64
		" deferred %" PRIu64 " stale %" PRIu64 " poisons %" PRIu64 " wakes %" PRIu64
		" drained %" PRIu64 "\n", sx.copies, sx.zeropages, sx.exists, sx.deferred,
		sx.stale, sx.poisons, sx.wakes, sx.drained);
	fprintf(o, "  events: fork %" PRIu64 " (child uffds dropped %" PRIu64 ", reads at the fd limit %"
		PRIu64 ") remap %" PRIu64 " remove %" PRIu64 " unmap %" PRIu64 "\n", sx.ev_fork,
		sx.fork_dropped, sx.fork_nofd, sx.ev_remap, sx.ev_remove, sx.ev_unmap);
	fprintf(o, "  test: pages verified %" PRIu64 "; scenarios dontneed %" PRIu64
		" shrink %" PRIu64 " move %" PRIu64 " grow %" PRIu64 " growmove %" PRIu64
		" holes %" PRIu64 " (skipped %" PRIu64 "), forks %" PRIu64
		"; grown pages read as store %" PRIu64 " zero %" PRIu64 " SIGBUS %" PRIu64 "\n",
		G.verified, G.sc[EV_DONTNEED], G.sc[EV_SHRINK], G.sc[EV_MOVE], G.sc[EV_GROW],
		G.sc[EV_GROWMOVE], G.sc[EV_HOLES], G.skipped, G.forks, G.tail_store,
		G.tail_zero, G.tail_sigbus);
}

static void __attribute__((noreturn))
hang(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
hang(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "\nsoak[%s]: HANG (phase %s): ", G.cfg->name,
		phase_names[__atomic_load_n(&G.phase, __ATOMIC_RELAXED)]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  counters now (approximate while running):\n");
	print_counters(stderr);
	fprintf(stderr, "soak[%s]: FAIL: watchdog (a fault or a worker hangs)\n",
		G.cfg->name);
	fflush(stderr);
	_exit(3);
}

static void
set_phase(enum phase ph)
{
	__atomic_store_n(&G.phase_t0, now_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&G.phase, ph, __ATOMIC_RELEASE);
}

/* Every thread stalled for a while, and where: the hang's whole picture. */
static void
stuck_report(const uint64_t *since, uint64_t t)
{
	unsigned int i;

	fflush(stdout);
	for (i = 0; i < G.nt; i++) {
		const struct tstate *s = &G.t[i];

		if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) ||
		    t - since[i] < 2000000000ull)
			continue;
		fprintf(stderr, "soak[%s]: stalled %3.0f s: %s thread %u: %s, uffd%" PRIu64
			" address %#" PRIx64 "\n", G.cfg->name, (double)(t - since[i]) / 1e9,
			s->role, s->idx, __atomic_load_n(&s->what, __ATOMIC_RELAXED),
			__atomic_load_n(&s->dev, __ATOMIC_RELAXED),
			__atomic_load_n(&s->addr, __ATOMIC_RELAXED));
	}
}

static void *
monitor_main(void *arg)
{
	uint64_t last[RTE_DIM(G.t)], since[RTE_DIM(G.t)], limit = G.hang_secs * 1000000000ull;
	unsigned int i;

	(void)arg;
	for (i = 0; i < G.nt; i++) {
		last[i] = 0;
		since[i] = now_ns();
	}
	for (;;) {
		uint64_t t = now_ns();
		enum phase ph = __atomic_load_n(&G.phase, __ATOMIC_ACQUIRE);

		if (ph == PH_DONE)
			return NULL;
		if (ph == PH_STOP || ph == PH_VERIFY) {
			if (t - __atomic_load_n(&G.phase_t0, __ATOMIC_RELAXED) > 4 * limit)
				hang("%s has not returned after %u s",
				     ph == PH_STOP ? "pfdk_pipeline_stop()" :
				     "the final check of every page", 4 * G.hang_secs);
		} else {
			for (i = 0; i < G.nt; i++) {
				struct tstate *s = &G.t[i];
				uint64_t p = __atomic_load_n(&s->progress, __ATOMIC_ACQUIRE);

				if (p != last[i] || __atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
					last[i] = p;
					since[i] = t;
				} else if (t - since[i] > limit) {
					stuck_report(since, t);
					hang("%s thread %u made no progress for %u s: %s, uffd%" PRIu64
					     " address %#" PRIx64, s->role, s->idx, G.hang_secs,
					     __atomic_load_n(&s->what, __ATOMIC_RELAXED),
					     __atomic_load_n(&s->dev, __ATOMIC_RELAXED),
					     __atomic_load_n(&s->addr, __ATOMIC_RELAXED));
				}
			}
		}
		usleep(200 * 1000);
	}
}

/* ---- page checks ------------------------------------------------------ */

static __thread sigjmp_buf tl_jmp;
static __thread volatile int tl_armed;

static void
on_fault_signal(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	(void)uc;
	if (tl_armed) {
		tl_armed = 0;
		siglongjmp(tl_jmp, sig);
	}
	n = snprintf(msg, sizeof(msg), "\nsoak[%s]: FAIL: signal %d at %p on a page "
		     "that must be served\n", G.cfg->name, sig, si->si_addr);
	if (write(STDERR_FILENO, msg, (size_t)n) < 0)
		_exit(4);
	_exit(4);
}

/* The page at @pg must hold the store's bytes at @off. */
static void
check_page(struct sdev *d, const uint8_t *pg, uint64_t off, uint8_t *want)
{
	size_t b;

	(void)*(const volatile uint8_t *)pg; /* the fault */
	pfdk_store_read(d->s, off, want, PG);
	if (memcmp(pg, want, PG) == 0) {
		__atomic_fetch_add(&G.verified, 1, __ATOMIC_RELAXED);
		return;
	}
	for (b = 0; pg[b] == want[b]; b++)
		;
	fail("uffd%u page %p (store offset %#" PRIx64 ") byte %zu: got %#x, store has %#x",
	     (unsigned int)(d - G.dev), (const void *)pg, off, b, pg[b], want[b]);
}

/*
 * A page mremap grew into: no fill is promised, but a defined outcome is:
 * the store's continuation, zeros (the kernel's default), or SIGBUS
 * (poisoned). Anything else, or no answer at all, is a failure.
 */
static void
check_grown(struct sdev *d, const uint8_t *pg, uint64_t off, uint8_t *want)
{
	static const uint8_t zero[PG];
	int sig;

	sig = sigsetjmp(tl_jmp, 1);
	if (sig != 0) {
		__atomic_fetch_add(&G.tail_sigbus, 1, __ATOMIC_RELAXED);
		return;
	}
	tl_armed = 1;
	(void)*(const volatile uint8_t *)pg;
	tl_armed = 0;
	pfdk_store_read(d->s, off, want, PG);
	if (memcmp(pg, want, PG) == 0)
		__atomic_fetch_add(&G.tail_store, 1, __ATOMIC_RELAXED);
	else if (memcmp(pg, zero, PG) == 0)
		__atomic_fetch_add(&G.tail_zero, 1, __ATOMIC_RELAXED);
	else
		fail("uffd%u grown page %p: neither the store's bytes nor zeros",
		     (unsigned int)(d - G.dev), (const void *)pg);
}

/* ---- threads ---------------------------------------------------------- */

static void
pin_cpu0(void)
{
	cpu_set_t c;

	CPU_ZERO(&c);
	CPU_SET(0, &c);
	pthread_setaffinity_np(pthread_self(), sizeof(c), &c);
}

static void *
faulter_main(void *arg)
{
	struct tstate *t = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (t->idx + 1);
	uint8_t *want = malloc(PG);

	if (want == NULL)
		abort();
	pin_cpu0();
	while (!stopping()) {
		/* A quarter of the accesses go where the reshaping is. */
		unsigned int di = (rnd(&seed) & 3) == 0 ?
			__atomic_load_n(&G.hot, __ATOMIC_RELAXED) :
			(unsigned int)(rnd(&seed) % NDEV);
		struct sdev *d = &G.dev[di];

		if (rnd(&seed) & 1) {
			size_t p = rnd(&seed) % SPAGES;

			t_at(t, "reading a page of the stable half", di, d->base + p * PG);
			check_page(d, d->base + p * PG, p * PG, want);
		} else {
			pthread_rwlock_rdlock(&d->lock);
			if (d->nseg != 0) {
				const struct seg *s = &d->seg[rnd(&seed) % d->nseg];
				size_t p = rnd(&seed) % (s->len / PG);

				t_at(t, s->unknown ? "reading a page mremap grew into" :
				     "reading a page of the reshaped half", di, s->addr + p * PG);
				if (s->unknown)
					check_grown(d, s->addr + p * PG, s->off + p * PG, want);
				else
					check_page(d, s->addr + p * PG, s->off + p * PG, want);
			}
			pthread_rwlock_unlock(&d->lock);
		}
		t_tick(t);
	}
	free(want);
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void *
dontneed_main(void *arg)
{
	struct tstate *t = arg;
	uint64_t seed = 77;

	pin_cpu0();
	while (!stopping()) {
		unsigned int di = (rnd(&seed) & 1) ? __atomic_load_n(&G.hot, __ATOMIC_RELAXED) :
			(unsigned int)(rnd(&seed) % NDEV);
		struct sdev *d = &G.dev[di];
		size_t n = 1 + rnd(&seed) % 32, p;

		if (rnd(&seed) & 1) {
			p = rnd(&seed) % (SPAGES - n + 1);
			t_at(t, "madvise(DONTNEED) on the stable half", di, d->base + p * PG);
			if (madvise(d->base + p * PG, n * PG, MADV_DONTNEED) != 0)
				fail("madvise(DONTNEED) uffd%u: %s", di, strerror(errno));
			__atomic_fetch_add(&G.sc[EV_DONTNEED], 1, __ATOMIC_RELAXED);
		} else if (pthread_rwlock_tryrdlock(&d->lock) == 0) {
			if (d->nseg != 0) {
				const struct seg *s = &d->seg[rnd(&seed) % d->nseg];

				n = RTE_MIN(n, s->len / PG);
				p = rnd(&seed) % (s->len / PG - n + 1);
				t_at(t, "madvise(DONTNEED) on the reshaped half", di,
				     s->addr + p * PG);
				if (madvise(s->addr + p * PG, n * PG, MADV_DONTNEED) != 0)
					fail("madvise(DONTNEED) uffd%u: %s", di, strerror(errno));
				__atomic_fetch_add(&G.sc[EV_DONTNEED], 1, __ATOMIC_RELAXED);
			}
			pthread_rwlock_unlock(&d->lock);
		}
		t_tick(t);
		usleep(200);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Fork storms: children exit at once (they touch nothing). Each fork
 * sends a FORK event on all 64 uffds and waits for them to be read; the
 * child uffds wait in the driver's fork queue until it is full, then are
 * closed by it.
 */
static void *
fork_main(void *arg)
{
	struct tstate *t = arg;
	uint64_t seed = 99;
	unsigned int i, n;

	pin_cpu0();
	while (!stopping()) {
		n = 1 + (unsigned int)(rnd(&seed) % 4);
		for (i = 0; i < n; i++) {
			pid_t pid;
			int st;

			t_at(t, "fork() (waits for its FORK events to be read)", 0, NULL);
			pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid < 0) {
				fail("fork: %s", strerror(errno));
				break;
			}
			t_at(t, "waitpid() for a fork child", 0, NULL);
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				fail("fork child %d did not exit cleanly (status %#x)", (int)pid, st);
			__atomic_fetch_add(&G.forks, 1, __ATOMIC_RELAXED);
			t_tick(t);
		}
		usleep(10000);
		t_tick(t);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Map anonymous memory at exactly @a, never over someone else's. */
static bool
map_at(void *a, size_t len, int prot, bool replace)
{
	void *r = mmap(a, len, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		       (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE), -1, 0);

	if (r == MAP_FAILED)
		return false;
	if (r != a) { /* old kernels treat NOREPLACE as a hint */
		munmap(r, len);
		return false;
	}
	return true;
}

static uint8_t *
mut_of(const struct sdev *d)
{
	return d->base + SPAGES * PG;
}

/* Does a region of @d's table overlap [a, a + len)? */
static bool
overlaps(const struct sdev *d, const uint8_t *a, size_t len)
{
	struct pfdk_uffd_region_info ri[PFDK_UFFD_MAX_REGIONS];
	uint64_t lo = (uintptr_t)a, hi = lo + len;
	int n = pfdk_uffd_regions(d->id, ri, RTE_DIM(ri)), i;

	for (i = 0; i < RTE_MIN(n, (int)RTE_DIM(ri)); i++)
		if (ri[i].start < hi && ri[i].start + ri[i].len > lo)
			return true;
	return false;
}

/*
 * Put the mutable half back as one fresh registered range (store offset 0
 * of the new region, as pfdk_uffd_region_register() defines). Write lock.
 * Mapping over the old pages unmaps them in one step (UNMAP events), so
 * nobody else can take the addresses in between.
 */
static void
restore(struct sdev *d, struct tstate *t)
{
	uint8_t *mut = mut_of(d);
	unsigned int tries;
	int ret;

	t_at(t, "restore: mmap(MAP_FIXED) over the reshaped half", (unsigned int)(d - G.dev), mut);
	if (d->extra != NULL) {
		munmap(d->extra, d->extra_len);
		d->extra = NULL;
	}
	if (!map_at(mut, MPAGES * PG, PROT_READ | PROT_WRITE, true))
		fail("restore uffd%u: mmap: %s", (unsigned int)(d - G.dev), strerror(errno));
	if (!d->guard_gone && !map_at(mut + MPAGES * PG, GPAGES * PG, PROT_NONE, true))
		fail("restore uffd%u guard: mmap: %s", (unsigned int)(d - G.dev), strerror(errno));
	t_at(t, "restore: pfdk_uffd_region_register()", (unsigned int)(d - G.dev), mut);
	/*
	 * munmap/mmap return once the poller has read their UNMAP events; it
	 * may not have cut its table yet: wait for that (2 s at most).
	 */
	for (tries = 0; tries < 2000 && overlaps(d, mut, MPAGES * PG); tries++) {
		__atomic_fetch_add(&G.reg_retries, 1, __ATOMIC_RELAXED);
		usleep(1000);
	}
	ret = pfdk_uffd_region_register(d->id, mut, MPAGES * PG,
					PFDK_UFFD_MODE_MISSING, d->s, PG);
	if (ret != 0)
		fail("restore uffd%u: pfdk_uffd_region_register(%p, %u pages): %s, "
		     "%d regions in the table: it is out of step with the kernel",
		     (unsigned int)(d - G.dev), (void *)mut, (unsigned int)MPAGES, strerror(-ret),
		     pfdk_uffd_regions(d->id, NULL, 0));
	d->nseg = 1;
	d->seg[0] = (struct seg){ mut, MPAGES * PG, 0, false };
}

/* A hole left by a move or shrink: hold the addresses until restore. */
static bool
hold(struct sdev *d, uint8_t *a, size_t len)
{
	if (map_at(a, len, PROT_NONE, false))
		return true;
	d->retired = true; /* someone else mapped there: never map over it */
	d->nseg = 0;
	return false;
}

/* One reshaping of device @d's mutable half (write lock held). */
static void
reshape(struct sdev *d, unsigned int ev, struct tstate *t)
{
	unsigned int di = (unsigned int)(d - G.dev), i;
	struct seg s0 = d->seg[0];
	uint8_t *mut = mut_of(d), *r;
	size_t half = MPAGES / 2 * PG;

	switch (ev) {
	case EV_SHRINK:
		t_at(t, "mremap shrink", di, mut);
		r = mremap(mut, MPAGES * PG, half, 0);
		if (r != mut) {
			fail("mremap shrink uffd%u: %s", di, strerror(errno));
			return;
		}
		d->seg[0].len = half;
		hold(d, mut + half, half);
		break;
	case EV_MOVE: {
		uint8_t *dst = mmap(NULL, half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (dst == MAP_FAILED) {
			fail("mmap: %s", strerror(errno));
			return;
		}
		t_at(t, "mremap move (second half of the range elsewhere)", di, mut + half);
		r = mremap(mut + half, half, half, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (r != dst) {
			fail("mremap move uffd%u: %s", di, strerror(errno));
			munmap(dst, half);
			return;
		}
		d->extra = dst;
		d->extra_len = half;
		d->nseg = 2;
		d->seg[0].len = half;
		d->seg[1] = (struct seg){ dst, half, s0.off + half, false };
		if (!hold(d, mut + half, half))
			return;
		break;
	}
	case EV_GROW:
		if (d->guard_gone) {
			__atomic_fetch_add(&G.skipped, 1, __ATOMIC_RELAXED);
			return;
		}
		t_at(t, "mremap grow in place", di, mut);
		munmap(mut + MPAGES * PG, GPAGES * PG);
		r = mremap(mut, MPAGES * PG, (MPAGES + GPAGES) * PG, 0);
		if (r != mut) {
			/* Someone mapped into the guard's place meanwhile. */
			if (!map_at(mut + MPAGES * PG, GPAGES * PG, PROT_NONE, false))
				d->guard_gone = true;
			__atomic_fetch_add(&G.skipped, 1, __ATOMIC_RELAXED);
			return;
		}
		d->nseg = 2;
		d->seg[1] = (struct seg){ mut + MPAGES * PG, GPAGES * PG,
					  s0.off + MPAGES * PG, true };
		break;
	case EV_GROWMOVE:
		/* The guard is mapped: growing must move. */
		t_at(t, "mremap grow and move", di, mut);
		r = mremap(mut, MPAGES * PG, 2 * MPAGES * PG, MREMAP_MAYMOVE);
		if (r == MAP_FAILED) {
			fail("mremap grow+move uffd%u: %s", di, strerror(errno));
			return;
		}
		d->extra = r;
		d->extra_len = 2 * MPAGES * PG;
		d->nseg = 2;
		d->seg[0].addr = r;
		d->seg[1] = (struct seg){ r + MPAGES * PG, MPAGES * PG,
					  s0.off + MPAGES * PG, true };
		if (!hold(d, mut, MPAGES * PG))
			return;
		break;
	case EV_HOLES: {
		unsigned int n = RTE_MIN(G.holes, (unsigned int)(MPAGES / 2));

		d->nseg = 0;
		for (i = 0; i < MPAGES; i += 2)
			d->seg[d->nseg++] = (struct seg){ mut + i * PG,
				i / 2 < n ? PG : (MPAGES - i) * PG, s0.off + i * PG, false };
		for (i = 0; i < n; i++) {
			uint8_t *h = mut + (2 * i + 1) * PG;

			t_at(t, "munmap a one-page hole", di, h);
			if (munmap(h, PG) != 0) {
				fail("munmap uffd%u: %s", di, strerror(errno));
				return;
			}
			if (!hold(d, h, PG))
				return;
		}
		while (d->nseg > n + 1)
			d->nseg--; /* the tail after the last hole is one segment */
		break;
	}
	}
	__atomic_fetch_add(&G.sc[ev], 1, __ATOMIC_RELAXED);
}

static void *
reshaper_main(void *arg)
{
	struct tstate *t = arg;
	unsigned int order[EV_N], n = 0, k = 0, i;
	uint64_t seed = 55;

	pin_cpu0();
	for (i = EV_SHRINK; i <= EV_HOLES; i++)
		if (G.events & (1u << i))
			order[n++] = i;
	while (!stopping() && n != 0) {
		unsigned int di = (unsigned int)(rnd(&seed) % NDEV);
		struct sdev *d = &G.dev[di];

		if (d->retired)
			continue;
		__atomic_store_n(&G.hot, di, __ATOMIC_RELAXED);
		t_at(t, "waiting for the readers of a device (pthread_rwlock_wrlock)", di, NULL);
		pthread_rwlock_wrlock(&d->lock);
		reshape(d, order[k++ % n], t);
		pthread_rwlock_unlock(&d->lock);
		t_tick(t);
		t_at(t, "letting the faulting threads at it", di, NULL);
		usleep(20000);
		t_at(t, "waiting for the readers of a device (pthread_rwlock_wrlock)", di, NULL);
		pthread_rwlock_wrlock(&d->lock);
		if (!d->retired)
			restore(d, t);
		pthread_rwlock_unlock(&d->lock);
		t_tick(t);
	}
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- one configuration (the child) ------------------------------------ */

static struct pfdk_pipeline *
soak_pipeline(const struct soak_cfg *c, unsigned int burst, unsigned int pool,
	      unsigned int ring)
{
	static struct pfdk_profile prof;
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = pfdk_uffd_resolve_burst,
	};
	unsigned int poller = c->resolver_cpu >= 0 ? 2 : 1, d;
	char ini[8192], err[512];
	size_t len = 0;
	struct pfdk_pipeline *p;

#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = soak-%s\nlayout = %s\nburst = %u\nmain_cpu = 0\n",
	    c->name, c->layout, burst);
	ADD("[node.0]\npool_size = %u\npool_cache = 0\nring_size = %u\n", pool, ring);
	for (d = 0; d < NDEV; d++)
		ADD("[device.uffd%u]\ndevargs = uffd%u\n", d, d);
	ADD("[lcore.%u]\nrole = poller\ncpu = %u\nengine = %s\nqueues = uffd[0-%u]:0\n",
	    poller, c->poller_cpu, c->engine, NDEV - 1);
	if (c->resolver_cpu >= 0)
		ADD("[lcore.1]\nrole = resolver\ncpu = %d\n", c->resolver_cpu);
#undef ADD
	if (pfdk_profile_load_string("soak", ini, len, &prof, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "soak[%s]: profile: %s\n%s", c->name, err, ini);
		exit(1);
	}
	p = pfdk_pipeline_create(&pc);
	if (p == NULL) {
		int e = rte_errno;

		fprintf(stderr, "soak[%s]: pipeline_create: %s\n", c->name, rte_strerror(e));
		exit(e == EPERM || e == ENOSYS || e == EACCES ? TEST_SKIP : 1);
	}
	return p;
}

static int
run_config(const struct soak_cfg *c, const char *prog, unsigned int seconds)
{
	struct sigaction sa = { .sa_sigaction = on_fault_signal, .sa_flags = SA_SIGINFO };
	unsigned int burst = env_uint("PFDK_SOAK_BURST", 4, 1, PFDK_PROFILE_MAX_BURST);
	unsigned int pool = env_uint("PFDK_SOAK_POOL", 4, 1, 1u << 20);
	unsigned int ring = env_uint("PFDK_SOAK_RING", 8, 2, 1u << 20);
	char lcores[64];
	struct pfdk_lcore_stats ls;
	struct pfdk_uffd_stats x;
	struct pfdk_fault_stats fs;
	uint64_t received = 0, t0, remap = 0, unmap = 0, removes = 0, forks = 0;
	pthread_t mon;
	struct rlimit rl;
	unsigned int d, i;
	uint8_t *want;
	bool bad = false;
	pthread_rwlockattr_t rwa;

	/* Readers come all the time: the reshaper must still get its turn. */
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	G.cfg = c;
	G.events = events_mask();
	G.hang_secs = env_uint("PFDK_SOAK_HANG_SECONDS", 20, 1, 3600);
	G.holes = env_uint("PFDK_SOAK_HOLES", 64, 1, MPAGES / 2);
	/*
	 * Child uffds wait in 64 fork queues of 64 (4096 fds). Fork storms run
	 * whatever the open-file limit: near it the driver closes kept child
	 * uffds, and a FORK event that cannot install its fd (EMFILE) makes it
	 * close more and read again. PFDK_SOAK_NOFILE lowers the soft limit to
	 * run the storms there on purpose.
	 */
	if (getenv("PFDK_SOAK_NOFILE") != NULL && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = env_uint("PFDK_SOAK_NOFILE", 1024, 256, 1u << 20);
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			fprintf(stderr, "soak[%s]: PFDK_SOAK_NOFILE=%lu: %s\n", c->name,
				(unsigned long)rl.rlim_cur, strerror(errno));
			return 1;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		printf("soak[%s]: open files limited to %lu\n", c->name, (unsigned long)rl.rlim_cur);
	if (c->resolver_cpu >= 0)
		snprintf(lcores, sizeof(lcores), "0@0,1@%d,2@%u", c->resolver_cpu, c->poller_cpu);
	else
		snprintf(lcores, sizeof(lcores), "0@0,1@%u", c->poller_cpu);
	test_eal_init(prog, lcores);
	G.p = soak_pipeline(c, burst, pool, ring);
	for (d = 0; d < NDEV; d++) {
		struct sdev *s = &G.dev[d];
		int ret;

		s->id = (uint16_t)pfdk_pipeline_dev_id(G.p, (uint16_t)d);
		s->s = pfdk_store_pattern_create(1000 + d); /* a page served from the wrong uffd shows */
		s->base = mmap(NULL, (RPAGES + GPAGES) * PG, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->s == NULL || s->base == MAP_FAILED ||
		    !map_at(s->base, RPAGES * PG, PROT_READ | PROT_WRITE, true)) {
			fprintf(stderr, "soak[%s]: setup: %s\n", c->name, strerror(errno));
			return 1;
		}
		pthread_rwlock_init(&s->lock, &rwa);
		s->nseg = 1;
		s->seg[0] = (struct seg){ mut_of(s), MPAGES * PG, SPAGES * PG, false };
		ret = pfdk_uffd_region_register(s->id, s->base, RPAGES * PG,
						PFDK_UFFD_MODE_MISSING, s->s, PG);
		if (ret != 0) {
			fprintf(stderr, "soak[%s]: region_register: %s\n", c->name, strerror(-ret));
			return 1;
		}
	}
	if ((G.events & (1u << EV_FORK)) &&
	    !(pfdk_uffd_features(G.dev[0].id) & UFFD_FEATURE_EVENT_FORK)) {
		printf("soak[%s]: this kernel or user has no UFFD_FEATURE_EVENT_FORK: no fork storms\n",
		       c->name);
		G.events &= ~(1u << EV_FORK);
	}
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	if (pfdk_pipeline_start(G.p) != 0) {
		fprintf(stderr, "soak[%s]: pipeline_start failed\n", c->name);
		return 1;
	}
	printf("soak[%s]: %u s, %u faulting threads, %d uffds, burst %u, pool %u, ring %u, "
	       "hang after %u s, events:", c->name, seconds, NFAULTERS, NDEV, burst, pool,
	       ring, G.hang_secs);
	for (i = 0; i < EV_N; i++)
		if (G.events & (1u << i))
			printf(" %s", ev_names[i]);
	printf("%s\n", G.events ? "" : " none");
	fflush(stdout);

	set_phase(PH_RUN);
	for (i = 0; i < NFAULTERS; i++)
		G.t[G.nt++] = (struct tstate){ .role = "faulting", .idx = i };
	G.t[G.nt++] = (struct tstate){ .role = "madvise(DONTNEED)", .idx = 0,
				       .done = !(G.events & (1u << EV_DONTNEED)) };
	G.t[G.nt++] = (struct tstate){ .role = "reshaping (mremap/munmap)", .idx = 0 };
	G.t[G.nt++] = (struct tstate){ .role = "fork", .idx = 0,
				       .done = !(G.events & (1u << EV_FORK)) };
	pthread_create(&mon, NULL, monitor_main, NULL);
	t0 = now_ns();
	for (i = 0; i < NFAULTERS; i++)
		pthread_create(&G.t[i].th, NULL, faulter_main, &G.t[i]);
	if (G.events & (1u << EV_DONTNEED))
		pthread_create(&G.t[NFAULTERS].th, NULL, dontneed_main, &G.t[NFAULTERS]);
	pthread_create(&G.t[NFAULTERS + 1].th, NULL, reshaper_main, &G.t[NFAULTERS + 1]);
	if (G.events & (1u << EV_FORK))
		pthread_create(&G.t[NFAULTERS + 2].th, NULL, fork_main, &G.t[NFAULTERS + 2]);

	while (!stopping() && now_ns() - t0 < (uint64_t)seconds * 1000000000ull)
		usleep(100 * 1000);
	set_phase(PH_JOIN);
	__atomic_store_n(&G.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NFAULTERS + 3; i++)
		if (i < NFAULTERS || i == NFAULTERS + 1 ||
		    (i == NFAULTERS && (G.events & (1u << EV_DONTNEED))) ||
		    (i == NFAULTERS + 2 && (G.events & (1u << EV_FORK))))
			pthread_join(G.t[i].th, NULL);

	/* Every page of every device, as it is now (the reshaper restored its last). */
	set_phase(PH_VERIFY);
	want = malloc(PG);
	for (d = 0; d < NDEV && want != NULL; d++) {
		struct sdev *s = &G.dev[d];

		for (i = 0; i < SPAGES; i++)
			check_page(s, s->base + i * PG, i * PG, want);
		for (i = 0; i < s->nseg; i++) {
			size_t k;

			for (k = 0; k < s->seg[i].len; k += PG)
				if (!s->seg[i].unknown)
					check_page(s, s->seg[i].addr + k, s->seg[i].off + k, want);
		}
	}
	free(want);

	set_phase(PH_STOP);
	if (pfdk_pipeline_stop(G.p) != 0)
		fail("pfdk_pipeline_stop failed");
	set_phase(PH_DONE);
	pthread_join(mon, NULL);

	/* Nothing lost, nothing answered twice, nothing left. */
	pfdk_pipeline_stats(G.p, &ls, NULL);
	for (d = 0; d < NDEV; d++) {
		if (pfdk_fault_stats_get(G.dev[d].id, &fs) != 0 ||
		    pfdk_uffd_stats_get(G.dev[d].id, &x) != 0) {
			bad = true;
			continue;
		}
		if (fs.received != fs.responded || fs.outstanding != 0 || fs.aborted != 0 ||
		    fs.errors != 0) {
			fprintf(stderr, "soak[%s]: uffd%u: received %" PRIu64 " responded %" PRIu64
				" outstanding %" PRIu64 " aborted %" PRIu64 " errors %" PRIu64 "\n",
				c->name, d, fs.received, fs.responded, fs.outstanding,
				fs.aborted, fs.errors);
			bad = true;
		}
		received += fs.received;
		remap += x.ev_remap;
		unmap += x.ev_unmap;
		removes += x.ev_remove;
		forks += x.ev_fork;
	}
	printf("soak[%s]: %.1f s, %" PRIu64 " faults\n", c->name,
	       (double)(now_ns() - t0) / 1e9, received);
	print_counters(stdout);
	if (ls.received != received || ls.responded != received || ls.inflight != 0) {
		fprintf(stderr, "soak[%s]: pipeline counted received %" PRIu64 " responded %" PRIu64
			" inflight %" PRIu64 ", devices received %" PRIu64 "\n", c->name,
			ls.received, ls.responded, ls.inflight, received);
		bad = true;
	}
	if (G.failures != 0) {
		fprintf(stderr, "soak[%s]: %" PRIu64 " failure(s), the first: %s\n", c->name,
			G.failures, G.fail_msg);
		bad = true;
	}
	/* The run did what it says: faults, and each enabled event seen. */
	if (received == 0 || G.verified == 0 ||
	    ((G.events & (1u << EV_DONTNEED)) && removes == 0) ||
	    ((G.sc[EV_MOVE] | G.sc[EV_GROWMOVE]) != 0 && remap == 0) ||
	    ((G.sc[EV_HOLES] | G.sc[EV_SHRINK]) != 0 && unmap == 0) ||
	    (G.forks != 0 && forks == 0)) {
		fprintf(stderr, "soak[%s]: the run did not reach what it should: faults %" PRIu64
			", REMOVE %" PRIu64 ", REMAP %" PRIu64 ", UNMAP %" PRIu64 ", FORK %" PRIu64
			"\n", c->name, received, removes, remap, unmap, forks);
		bad = true;
	}
	pfdk_pipeline_destroy(G.p);
	for (d = 0; d < NDEV; d++) {
		/* A retired slot's holes may hold another's mapping now: leave it. */
		if (!G.dev[d].retired)
			munmap(G.dev[d].base, (RPAGES + GPAGES) * PG);
		if (G.dev[d].extra != NULL)
			munmap(G.dev[d].extra, G.dev[d].extra_len);
		pfdk_store_free(G.dev[d].s);
	}
	printf("soak[%s]: %s\n", c->name, bad ? "FAIL" : "PASS");
	return bad ? 1 : 0;
}

/* ---- the parent: one child per configuration -------------------------- */

static int
run_child(const char *prog, const struct soak_cfg *c, unsigned int seconds,
	  unsigned int hang_secs)
{
	char secs[16];
	uint64_t deadline = now_ns() + (uint64_t)(seconds + 6 * hang_secs + 120) * 1000000000ull;
	int st;
	pid_t pid, w;

	snprintf(secs, sizeof(secs), "%u", seconds);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/proc/self/exe", prog, "--config", c->name, "--seconds", secs,
		      (char *)NULL);
		_exit(127);
	}
	while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
		if (now_ns() > deadline) {
			fprintf(stderr, "soak[%s]: FAIL: still running past its limit: killed\n",
				c->name);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 1;
		}
		usleep(100 * 1000);
	}
	if (w < 0)
		return -1;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "soak[%s]: FAIL: killed by signal %d\n", c->name, WTERMSIG(st));
		return 1;
	}
	return WEXITSTATUS(st);
}

int
main(int argc, char **argv)
{
	const char *only = getenv("PFDK_SOAK_CONFIGS");
	unsigned int total = env_uint("PFDK_SOAK_SECONDS", 150, 1, 7 * 24 * 3600);
	unsigned int hang_secs = env_uint("PFDK_SOAK_HANG_SECONDS", 20, 1, 3600);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc[RTE_DIM(cfgs)];
	unsigned int i, nrun = 0, nfail = 0;

	if (argc == 5 && strcmp(argv[1], "--config") == 0 && strcmp(argv[3], "--seconds") == 0) {
		for (i = 0; i < RTE_DIM(cfgs); i++)
			if (strcmp(cfgs[i].name, argv[2]) == 0)
				return run_config(&cfgs[i], argv[0], (unsigned int)atoi(argv[4]));
		fprintf(stderr, "soak: no configuration %s\n", argv[2]);
		return 1;
	}
	events_mask(); /* refuse a bad list before anything runs */
	for (i = 0; i < RTE_DIM(cfgs); i++) {
		rc[i] = -2; /* not chosen */
		if (only != NULL && *only != '\0' && !in_list(only, cfgs[i].name))
			continue;
		if (ncpu < (long)cfgs[i].min_cpus) {
			printf("soak[%s]: SKIP: needs %u CPUs, %ld online: %s\n", cfgs[i].name,
			       cfgs[i].min_cpus, ncpu, cfgs[i].why);
			rc[i] = TEST_SKIP;
			continue;
		}
		rc[i] = -1;
		nrun++;
	}
	if (nrun == 0) {
		printf("soak: no configuration to run (PFDK_SOAK_CONFIGS=%s)\n", only ? only : "");
		return only != NULL && *only != '\0' ? 1 : TEST_SKIP;
	}
	for (i = 0; i < RTE_DIM(cfgs); i++)
		if (rc[i] == -1)
			rc[i] = run_child(argv[0], &cfgs[i], RTE_MAX(total / nrun, 5u), hang_secs);
	printf("soak: summary\n");
	for (i = 0; i < RTE_DIM(cfgs); i++) {
		if (rc[i] == -2)
			continue;
		printf("  %-24s %s\n", cfgs[i].name, rc[i] == 0 ? "PASS" :
		       rc[i] == TEST_SKIP ? "SKIP" : "FAIL");
		if (rc[i] != 0 && rc[i] != TEST_SKIP)
			nfail++;
	}
	if (nfail != 0)
		return 1;
	for (i = 0; i < RTE_DIM(cfgs); i++)
		if (rc[i] == 0)
			return 0;
	return TEST_SKIP;
}
