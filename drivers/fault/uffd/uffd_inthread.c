/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-thread resolution (UFFD_FEATURE_SIGBUS): the faulting thread's SIGBUS
 * handler fills the page from the region's store and returns. See
 * pfdk_uffd.h for the model and the limits.
 *
 * Everything reachable from the handler is async-signal-safe: the device
 * table and the thread list are read with atomics, the region lookup is
 * the polled path's seqcount read, stores are lock-free, counters and the
 * histogram are the thread's own (single writer, summed by readers), and
 * the only calls are ioctl(2), sigaction(2), raise(3), memcpy/memset and,
 * for a thread that skipped pfdk_uffd_inthread_thread_init(), one mmap(2).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "uffd_priv.h"

#define IT_MAX_DEVS 64
#define IT_SCRATCH UFFD_PAGE_2M /* uffd_fill()'s scratch: one 2 MiB page */

_Static_assert(PFDK_UFFD_FAULT_AROUND_MAX + 1 <= UFFD_FILL_MAX,
	       "one fill covers a fault-around range");


/* One thread's state: written by that thread only (handler included). */
struct it_thread {
	struct it_thread *next;  /* list of all, pushed with CAS, never popped */
	uint32_t busy;           /* 1 = owned by a live thread */
	uint8_t *scratch;        /* IT_SCRATCH bytes, page aligned */
	uint32_t hint;           /* devs[] slot of this thread's last fault */
	uint32_t active;         /* in a fill: a nested fault is not ours to serve */
	uint64_t st[sizeof(struct pfdk_uffd_inthread_stats) / sizeof(uint64_t)];
	struct pfdk_hist lat;
};

#define ST(field) (offsetof(struct pfdk_uffd_inthread_stats, field) / sizeof(uint64_t))
#define IT_BLOCK (RTE_ALIGN_CEIL(sizeof(struct it_thread), UFFD_PAGE_4K) + IT_SCRATCH)

/* Devices the handler serves (struct uffd_dev *), 0 in a free slot. */
static uint64_t devs[IT_MAX_DEVS];
static struct it_thread *threads;       /* all states ever set up */
static uint32_t nb_enabled;             /* control thread only */
static struct sigaction old_action;     /* written before the handler is installed */
static rte_spinlock_t ctl_lock = RTE_SPINLOCK_INITIALIZER; /* control paths only */

static __thread struct it_thread *self __attribute__((tls_model("initial-exec")));

/* Single-writer counter: plain add, published with a relaxed store. */
static inline void
it_add(struct it_thread *t, size_t idx, uint64_t n)
{
	__atomic_store_n(&t->st[idx], __atomic_load_n(&t->st[idx], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Take a free state, or map a new one. Async-signal-safe. */
static struct it_thread *
it_thread_get(void)
{
	struct it_thread *t, *head;
	void *m;

	if (self != NULL)
		return self;
	for (t = __atomic_load_n(&threads, __ATOMIC_ACQUIRE); t != NULL; t = t->next) {
		uint32_t zero = 0;

		if (__atomic_load_n(&t->busy, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&t->busy, &zero, 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			self = t;
			return t;
		}
	}
	m = mmap(NULL, IT_BLOCK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	t = m; /* zero-filled: counters 0, histogram empty */
	t->busy = 1;
	t->scratch = (uint8_t *)m + RTE_ALIGN_CEIL(sizeof(*t), UFFD_PAGE_4K);
	t->st[ST(threads)] = 1;
	head = __atomic_load_n(&threads, __ATOMIC_RELAXED);
	do {
		t->next = head;
	} while (!__atomic_compare_exchange_n(&threads, &head, t, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	self = t;
	return t;
}

/*
 * Fill [addr, addr + n pages) in @t's scratch; pages, 0 (present) or
 * -errno. @dontwake: in SIGBUS mode no thread ever sleeps on a fault, so
 * the kernel's wake-up check after the copy is skipped.
 */
static int
it_fill(struct uffd_dev *ud, const struct uffd_region *r, struct it_thread *t,
	uint64_t addr, unsigned int n, uint64_t dontwake, bool *cut)
{
	bool zero, moved;
	int ret;

	ret = uffd_fill(ud, r, addr, n, t->scratch, dontwake, &zero, cut, &moved);
	if (ret > 0 && zero && r->page_size == UFFD_PAGE_4K)
		it_add(t, ST(zeropages), (uint64_t)ret);
	if (ret > 0 && moved)
		it_add(t, ST(moves), 1);
	return ret;
}

/* Restore what was there before us and let it have the signal. */
static void
it_chain(int sig, siginfo_t *si, void *uc)
{
	if (old_action.sa_flags & SA_SIGINFO) {
		if (old_action.sa_sigaction != NULL) {
			old_action.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (old_action.sa_handler != SIG_DFL && old_action.sa_handler != SIG_IGN) {
		old_action.sa_handler(sig);
		return;
	}
	/* Default: die of SIGBUS. A fault re-executes and traps again. */
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig); /* sent, not a fault: pending until we return */
}

/*
 * The enabled device whose MISSING region covers @addr, or NULL. A thread
 * faults on the same device again and again: its last slot is tried first,
 * so the 64-slot scan runs only when the thread moves to another device.
 */
static struct uffd_dev *
it_find(struct it_thread *t, uint64_t addr, struct uffd_region *r)
{
	uint32_t i, h = t != NULL ? t->hint : 0;

	for (i = 0; i < IT_MAX_DEVS; i++) {
		uint32_t k = (h + i) % IT_MAX_DEVS;
		uint64_t p = __atomic_load_n(&devs[k], __ATOMIC_ACQUIRE);
		struct uffd_dev *ud = (void *)(uintptr_t)p;

		if (p == 0 || !uffd_region_find(ud, addr, r) ||
		    !(r->mode & PFDK_UFFD_MODE_MISSING))
			continue;
		if (t != NULL)
			t->hint = k;
		return ud;
	}
	return NULL;
}

static void
it_handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t t0 = rte_rdtsc(), addr = (uintptr_t)si->si_addr;
	int saved_errno = errno;
	struct it_thread *t = self;
	struct uffd_region r;
	struct uffd_dev *ud;
	unsigned int n;
	bool cut;
	int ret;

	if (si->si_code != BUS_ADRERR)
		goto chain;
	/*
	 * SA_NODEFER lets a SIGBUS in here: only a store that reads memory an
	 * in-thread device serves could raise one. Serving it would reuse the
	 * scratch under our feet, so it goes to the previous handler (a crash
	 * that points at the bug rather than a wrong page).
	 */
	if (t != NULL && t->active)
		goto chain_counted;
	ud = it_find(t, addr, &r);
	if (ud == NULL)
		goto chain;
	if (t == NULL) {
		t = it_thread_get(); /* a thread that skipped thread_init() */
		if (t == NULL)
			goto chain;
	}
	addr &= ~(r.page_size - 1);
	n = (unsigned int)RTE_MIN(1 + uffd_region_fa(ud, &r), (r.end - addr) / r.page_size);
	t->active = 1;
	ret = it_fill(ud, &r, t, addr, n, 1, &cut);
	if (ret < 0 && ret != -EAGAIN && n > 1) /* never fail the page for its neighbours */
		ret = it_fill(ud, &r, t, addr, 1, 1, &cut);
	t->active = 0;
	if (ret == -EAGAIN) {
		/* The mm is changing under us: return, the access faults again. */
		it_add(t, ST(retries), 1);
		errno = saved_errno;
		return;
	}
	if (ret < 0) {
		it_add(t, ST(errors), 1);
		goto chain_counted;
	}
	it_add(t, ST(faults), 1);
	if (ret == 0) {
		it_add(t, ST(exists), 1);
	} else {
		it_add(t, ST(pages), (uint64_t)ret);
		it_add(t, ST(around), (uint64_t)ret - 1);
		if (cut)
			it_add(t, ST(cut_short), 1);
	}
	pfdk_hist_record(&t->lat, rte_rdtsc() - t0);
	errno = saved_errno;
	return;
chain:
	t = it_thread_get(); /* NULL if it cannot map one: then uncounted */
chain_counted:
	if (t != NULL)
		it_add(t, ST(chained), 1);
	errno = saved_errno;
	it_chain(sig, si, uc);
}

int
pfdk_uffd_inthread_enable(uint16_t dev_id, const struct pfdk_uffd_inthread_conf *conf)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	struct sigaction sa;
	uint64_t fa;
	int i, slot = -1, ret = 0;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	fa = conf ? conf->fault_around : ud->fault_around;
	if (!(ud->features & UFFD_FEATURE_SIGBUS) || fa > PFDK_UFFD_FAULT_AROUND_MAX) {
		PFDK_FAULT_LOG(ERR, "uffd%u: in-thread mode needs devargs sigbus=1 and fault_around <= %u",
			       dev_id, PFDK_UFFD_FAULT_AROUND_MAX);
		return -EINVAL;
	}
	rte_spinlock_lock(&ctl_lock);
	for (i = 0; i < IT_MAX_DEVS; i++) {
		uint64_t p = __atomic_load_n(&devs[i], __ATOMIC_RELAXED);

		if (p == (uintptr_t)ud) {
			/* Enabled already: just update fault-around. */
			__atomic_store_n(&ud->fault_around, (uint32_t)fa, __ATOMIC_RELAXED);
			goto out;
		}
		if (p == 0 && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		ret = -ENOSPC;
		goto out;
	}
	if (nb_enabled == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = it_handler;
		/*
		 * SA_NODEFER: the blocked mask stays as it is, so delivery and
		 * sigreturn skip the kernel's two signal-mask updates (each one
		 * takes the siglock): cheaper per fault than the usual handler.
		 */
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, NULL, &old_action) < 0 ||
		    sigaction(SIGBUS, &sa, NULL) < 0) {
			ret = -errno;
			goto out;
		}
	}
	nb_enabled++;
	/* The device's value, as devargs fault_around= would set it. */
	__atomic_store_n(&ud->fault_around, (uint32_t)fa, __ATOMIC_RELAXED);
	__atomic_store_n(&devs[slot], (uintptr_t)ud, __ATOMIC_RELEASE);
out:
	rte_spinlock_unlock(&ctl_lock);
	return ret;
}

static int
it_forget(struct uffd_dev *ud)
{
	int i, ret = -EINVAL;

	rte_spinlock_lock(&ctl_lock);
	for (i = 0; i < IT_MAX_DEVS; i++) {
		if (__atomic_load_n(&devs[i], __ATOMIC_RELAXED) != (uintptr_t)ud)
			continue;
		__atomic_store_n(&devs[i], 0, __ATOMIC_RELEASE);
		if (--nb_enabled == 0)
			sigaction(SIGBUS, &old_action, NULL);
		ret = 0;
	}
	rte_spinlock_unlock(&ctl_lock);
	return ret;
}

void
uffd_inthread_forget(struct uffd_dev *ud)
{
	it_forget(ud);
}

int
pfdk_uffd_inthread_disable(uint16_t dev_id)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	return it_forget(ud);
}

int
pfdk_uffd_inthread_thread_init(void)
{
	return it_thread_get() != NULL ? 0 : -ENOMEM;
}

void
pfdk_uffd_inthread_thread_fini(void)
{
	struct it_thread *t = self;

	if (t == NULL)
		return;
	self = NULL;
	__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
}

int
pfdk_uffd_inthread_stats_get(struct pfdk_uffd_inthread_stats *st, struct pfdk_hist *lat)
{
	uint64_t *out = (uint64_t *)st;
	struct it_thread *t;
	size_t i;

	if (st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (t = __atomic_load_n(&threads, __ATOMIC_ACQUIRE); t != NULL; t = t->next) {
		for (i = 0; i < RTE_DIM(t->st); i++)
			out[i] += __atomic_load_n(&t->st[i], __ATOMIC_RELAXED);
		if (lat != NULL)
			pfdk_hist_merge(lat, &t->lat);
	}
	return 0;
}

void
pfdk_uffd_inthread_stats_reset(void)
{
	struct it_thread *t;
	size_t i;

	for (t = __atomic_load_n(&threads, __ATOMIC_ACQUIRE); t != NULL; t = t->next) {
		for (i = 0; i < RTE_DIM(t->st); i++)
			if (i != ST(threads))
				__atomic_store_n(&t->st[i], 0, __ATOMIC_RELAXED);
		pfdk_hist_reset(&t->lat);
	}
}

int
pfdk_uffd_prefault(uint16_t dev_id, void *addr, size_t len)
{
	struct uffd_dev *ud = uffd_dev_of(dev_id);
	uint64_t a = (uintptr_t)addr, end = a + len;
	struct it_thread *t;
	struct uffd_region r;
	int total = 0, ret;
	bool cut;

	if (ud == NULL)
		return pfdk_fault_dev_get(dev_id) ? -EINVAL : -ENODEV;
	if (len == 0 || end < a)
		return len == 0 ? 0 : -EINVAL;
	t = it_thread_get();
	if (t == NULL)
		return -ENOMEM;
	a &= ~(uint64_t)(UFFD_PAGE_4K - 1);
	while (a < end) {
		uint64_t stop;
		unsigned int n;

		if (!uffd_region_find(ud, a, &r) || !(r.mode & PFDK_UFFD_MODE_MISSING)) {
			a += UFFD_PAGE_4K; /* not ours: the kernel handles it */
			continue;
		}
		a &= ~(r.page_size - 1);
		stop = RTE_MIN(end, r.end);
		n = (unsigned int)RTE_MIN((stop - a + r.page_size - 1) / r.page_size,
					  (uint64_t)(IT_SCRATCH / r.page_size));
		ret = it_fill(ud, &r, t, a, n, 0, &cut); /* polled devices have waiters */
		if (ret < 0)
			return ret;
		if (ret == 0) {
			a += r.page_size; /* present: skip it */
			continue;
		}
		it_add(t, ST(pages), (uint64_t)ret);
		it_add(t, ST(prefaulted), (uint64_t)ret);
		total += ret;
		a += (uint64_t)ret * r.page_size;
	}
	return total;
}

/*
 * Telemetry: /pfdk/inthread, the handler's counters summed over threads
 * and its time per fault (signal to return; from the threads' own
 * histograms, read while they may still write: approximate then).
 */
static int
telemetry_inthread(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct pfdk_uffd_inthread_stats st;
	struct pfdk_hist_summary sum;
	struct pfdk_hist *lat;
	double ns = 1e9 / (double)rte_get_tsc_hz();

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	lat = malloc(sizeof(*lat)); /* not on the telemetry thread's stack */
	if (lat == NULL)
		return -ENOMEM;
	pfdk_hist_reset(lat);
	pfdk_uffd_inthread_stats_get(&st, lat);
	pfdk_hist_summarize(lat, &sum);
	free(lat);
	rte_tel_data_start_dict(d);
#define TEL_U64(f) rte_tel_data_add_dict_u64(d, #f, st.f)
	TEL_U64(faults);
	TEL_U64(pages);
	TEL_U64(around);
	TEL_U64(zeropages);
	TEL_U64(moves);
	TEL_U64(exists);
	TEL_U64(cut_short);
	TEL_U64(prefaulted);
	TEL_U64(retries);
	TEL_U64(chained);
	TEL_U64(errors);
	TEL_U64(threads);
#undef TEL_U64
	rte_tel_data_add_dict_u64(d, "p50_ns", (uint64_t)((double)sum.p50 * ns));
	rte_tel_data_add_dict_u64(d, "p99_ns", (uint64_t)((double)sum.p99 * ns));
	rte_tel_data_add_dict_u64(d, "p999_ns", (uint64_t)((double)sum.p999 * ns));
	rte_tel_data_add_dict_u64(d, "max_ns", (uint64_t)((double)sum.max * ns));
	return 0;
}

RTE_INIT(uffd_inthread_init_telemetry)
{
	rte_telemetry_register_cmd("/pfdk/inthread", telemetry_inthread,
		"Returns the in-thread (SIGBUS) handler's counters and time per fault. Takes no parameters");
}
