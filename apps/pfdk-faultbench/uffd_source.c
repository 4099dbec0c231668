/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uffd source: M regions (one userfaultfd each), T faulting threads on
 * the faulters' CPU touching every page once in the chosen order, each
 * first touch timed in the faulting thread (rdtsc around it). What resolves
 * the faults is the row: a PFDK pipeline over M uffd devices, a
 * hand-written handler (baselines.c), or nothing at all (native: fresh
 * anonymous memory, the kernel's own first-touch cost).
 *
 * Work split: with T >= M, region r is shared by the threads t with
 * t % M == r (page j to the (j % s)-th of its s threads); with T < M,
 * thread r % T owns region r. The order is then applied to each thread's
 * own list: seq, random (a shuffle) or stride:K (every K-th page, then the
 * next offset, ...).
 *
 * Access (--access): each first touch reads the page's first word or
 * writes a marker into it, the same pages on every row, native included,
 * so the floor does what the rows do. (A native read maps the shared zero
 * page and allocates nothing; a native write allocates and zeroes a page,
 * as a uffd row's UFFDIO_COPY allocates and fills one: write is the
 * default for that reason.)
 *
 * Verification: the word each thread read at first touch must be the
 * store's word for that page (zero for native), a written page must hold
 * its marker, and every 64th page (and the last) is compared byte for
 * byte with pfdk_store_read() (zeros for native) beyond the first word.
 * A page that fails counts as lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "faultbench.h"
#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_pipeline.h"
#include "pfdk_store.h"
#include "pfdk_uffd.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE_2M (2ul << 20)
#define VERIFY_EVERY 64
#define HANG_S 300 /* a touching phase longer than this has lost a fault */
#define TOUCH_MARK 0x6e61746976650000ull /* written at a write first touch */

int
fb_uffd_available(char *why, size_t len)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		snprintf(why, len, "userfaultfd(2): %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int
fb_uffd_parse_pattern(const char *s, struct fb_uffd_opts *u)
{
	char *end;
	unsigned long k;

	if (strcmp(s, "seq") == 0) {
		u->pattern = FB_PAT_SEQ;
		return 0;
	}
	if (strcmp(s, "random") == 0) {
		u->pattern = FB_PAT_RANDOM;
		return 0;
	}
	if (strncmp(s, "stride:", 7) == 0) {
		errno = 0;
		k = strtoul(s + 7, &end, 10);
		if (errno || *end || end == s + 7 || k < 1 || k > (1ul << 30))
			return -1;
		u->pattern = FB_PAT_STRIDE;
		u->stride = (unsigned int)k;
		return 0;
	}
	return -1;
}

int
fb_access_parse(const char *s, struct fb_uffd_opts *u)
{
	char *end;
	unsigned long w;

	if (strcmp(s, "read") == 0 || strcmp(s, "write") == 0) {
		u->access = s[0] == 'r' ? FB_ACC_READ : FB_ACC_WRITE;
		return 0;
	}
	if (strcmp(s, "mix") == 0) {
		u->access = FB_ACC_MIX;
		u->write_pct = 50;
		return 0;
	}
	if (strncmp(s, "mix:", 4) != 0 || s[4] < '0' || s[4] > '9')
		return -1;
	errno = 0;
	w = strtoul(s + 4, &end, 10);
	if (errno || (*end != '\0' && strcmp(end, "%") != 0) || w > 100)
		return -1;
	u->access = FB_ACC_MIX;
	u->write_pct = (unsigned int)w;
	return 0;
}

const char *
fb_access_name(const struct fb_uffd_opts *u, char *buf, size_t len)
{
	if (u->access == FB_ACC_MIX)
		snprintf(buf, len, "mix:%u", u->write_pct);
	else
		snprintf(buf, len, "%s", u->access == FB_ACC_READ ? "read" : "write");
	return buf;
}

/*
 * Mode "pfdk": @p base as it is written (layout, main_cpu, nodes, and every
 * lcore's role, cpu, node, engine and sqpoll_cpu), with only its devices
 * replaced by uffd0..uffdM-1, so what is measured is the profile's own
 * placement: pfdk-tune compares candidate placements through this row.
 *
 * The queues go to the pollers in balanced contiguous blocks (poller k of P
 * gets M/P, the first M%P one more) written as "uffd[A-B]:0": as many per
 * poller as a round robin would give, and one entry per poller, so even 64
 * uffds fit rte_cfgfile's value length and the text goes through the
 * profile checker like any profile (a refused placement is a skipped row
 * with the checker's reason).
 *
 * Once checked (so messages name the profile's own [lcore.ID]), the lcore
 * ids become 3, 4, ...: the EAL pins by lcore id, over the union of every
 * row's lcores, and the generated rows use 1 (other_cpu) and 2 (fault_cpu);
 * this row's lcores must neither take their CPUs nor lend theirs.
 */
/*
 * Devices owned by engine = inthread pollers get devargs sigbus=1 (and
 * fault_around=@p fault_around when not 0): what in-thread resolution
 * needs, set before the profile is validated so the driver checks see it.
 */
static void
inthread_devargs(struct pfdk_profile *p, unsigned int fault_around)
{
	unsigned int i, q;

	for (i = 0; i < p->nb_lcores; i++) {
		const struct pfdk_profile_lcore *lc = &p->lcores[i];

		if (lc->role != PFDK_ROLE_POLLER || lc->engine != PFDK_ENGINE_INTHREAD)
			continue;
		for (q = 0; q < lc->nb_queues; q++) {
			struct pfdk_profile_device *d = &p->devices[lc->queues[q].dev];
			size_t len;

			if (d->devargs[0] == '\0')
				memcpy(d->devargs, d->name, sizeof(d->name));
			if (strstr(d->devargs, "sigbus=") != NULL)
				continue; /* one device may own several queues */
			len = strlen(d->devargs);
			snprintf(d->devargs + len, sizeof(d->devargs) - len, ",sigbus=1");
			len = strlen(d->devargs);
			if (fault_around > 0)
				snprintf(d->devargs + len, sizeof(d->devargs) - len,
					 ",fault_around=%u", fault_around);
		}
	}
}

/* Device uffdN, one queue, devargs "uffdN" and then @p opts (",k=v..."). */
static void
uffd_device(struct pfdk_profile *p, unsigned int n, const char *opts)
{
	struct pfdk_profile_device *d = &p->devices[p->nb_devices++];

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "uffd%u", n);
	snprintf(d->devargs, sizeof(d->devargs), "uffd%u%s", n, opts);
	d->nb_queues = 1;
}

static int
row_profile_as_is(const struct pfdk_profile *base, uint16_t burst,
		  const struct fb_uffd_opts *u, unsigned int fault_around,
		  struct pfdk_profile *out, char *err, size_t errlen)
{
	struct pfdk_profile_check chk = { .ncpus = u->check_ncpus, .nnodes = u->check_nnodes };
	unsigned int i, q, np = 0, k = 0, lo = 0, n;
	const char *opts;

	for (i = 0; i < base->nb_lcores; i++)
		np += base->lcores[i].role == PFDK_ROLE_POLLER;
	if (np == 0) {
		snprintf(err, errlen, "%s: no poller to own the uffd queues", base->name);
		return -1;
	}
	if (np > u->uffds) {
		snprintf(err, errlen,
			 "%s: %u pollers for %u uffd(s): each poller owns at least one queue (give --uffds %u or more)",
			 base->name, np, u->uffds, np);
		return -1;
	}
	if (base->nb_lcores + 3u > RTE_MAX_LCORE) {
		snprintf(err, errlen, "%s: %u lcores do not fit beside the generated rows' (RTE_MAX_LCORE %d)",
			 base->name, base->nb_lcores, RTE_MAX_LCORE);
		return -1;
	}
	if (u->uffds > PFDK_PROFILE_MAX_DEVICES) {
		snprintf(err, errlen, "%u uffds: a profile holds %d devices at most",
			 u->uffds, PFDK_PROFILE_MAX_DEVICES);
		return -1;
	}
	/* @p base's layout, nodes and lcores; its devices replaced */
	*out = *base;
	snprintf(out->path, sizeof(out->path), "profile '%.*s' on uffd0..uffd%u",
		 PFDK_PROFILE_NAME_LEN, base->name, u->uffds - 1);
	out->burst = burst;
	/* A uffd profile's device options (sigbus=, fault_around=) carry over. */
	opts = "";
	if (base->nb_devices > 0 && strncmp(base->devices[0].devargs, "uffd", 4) == 0 &&
	    strchr(base->devices[0].devargs, ',') != NULL)
		opts = strchr(base->devices[0].devargs, ',');
	out->nb_devices = 0;
	for (i = 0; i < u->uffds; i++)
		uffd_device(out, i, opts);
	/*
	 * Poller k of P owns a contiguous block of M/P uffds (the first M%P
	 * one more): the writer names each block uffd[A-B]:0.
	 */
	for (i = 0; i < out->nb_lcores; i++) {
		struct pfdk_profile_lcore *lc = &out->lcores[i];

		if (lc->role != PFDK_ROLE_POLLER)
			continue;
		n = u->uffds / np + (k < u->uffds % np);
		if (n > PFDK_PROFILE_MAX_QUEUES)
			n = PFDK_PROFILE_MAX_QUEUES; /* the validator says which */
		lc->nb_queues = (uint16_t)n;
		for (q = 0; q < n; q++)
			lc->queues[q] = (struct pfdk_profile_queue){
				.dev = (uint16_t)(lo + q), .queue = 0 };
		lo += n;
		k++;
	}
	inthread_devargs(out, fault_around);
	if (pfdk_profile_validate(out, &chk, err, errlen) < 0)
		return -1;
	for (i = 0; i < out->nb_lcores; i++)
		out->lcores[i].lcore_id = 3 + i;
	return 0;
}

/* A mode naming only a layout or only an engine: the rest from @p base. */
static void
row_defaults(const struct pfdk_profile *base, int *layout, int *engine)
{
	unsigned int i;

	if (*layout < 0)
		*layout = (int)base->layout;
	if (*engine >= 0)
		return;
	*engine = PFDK_ENGINE_BUSY;
	for (i = 0; i < base->nb_lcores; i++)
		if (base->lcores[i].role == PFDK_ROLE_POLLER) {
			*engine = (int)base->lcores[i].engine;
			break;
		}
	if (*layout == PFDK_LAYOUT_COLOCATED)
		*engine = PFDK_ENGINE_EPOLL;
}

/*
 * Node 0 always (the pipeline's pools start there), and the lcores' nodes,
 * each one set as @p nd (the base profile's first node).
 */
static void
row_nodes(struct pfdk_profile *out, const struct pfdk_profile_node *nd,
	  const struct fb_uffd_opts *u)
{
	int nodes[3], nb = 0;
	unsigned int i;

	nodes[nb++] = 0;
	if (u->fault_node > 0)
		nodes[nb++] = u->fault_node;
	if (u->other_node > 0 && u->other_node != u->fault_node)
		nodes[nb++] = u->other_node;
	for (i = 0; i < (unsigned int)nb; i++) {
		out->nodes[i] = *nd;
		out->nodes[i].node = nodes[i];
	}
	out->nb_nodes = (uint16_t)nb;
}

int
fb_uffd_row_profile(const struct pfdk_profile *base, int layout, int engine,
		    uint16_t burst, const struct fb_uffd_opts *u,
		    unsigned int fault_around, struct pfdk_profile *out,
		    char *err, size_t errlen)
{
	const struct pfdk_profile_node *nd = &base->nodes[0];
	struct pfdk_profile_check chk = { .ncpus = u->check_ncpus, .nnodes = u->check_nnodes };
	struct pfdk_profile_lcore *lc;
	unsigned int d, poller_id, poller_cpu;
	int sq = -1;

	if (layout < 0 && engine < 0)
		return row_profile_as_is(base, burst, u, fault_around, out, err, errlen);
	if (u->uffds > PFDK_PROFILE_MAX_DEVICES || u->uffds > PFDK_PROFILE_MAX_QUEUES) {
		snprintf(err, errlen, "%u uffds: a poller owns %d queues at most",
			 u->uffds, PFDK_PROFILE_MAX_QUEUES);
		return -1;
	}
	row_defaults(base, &layout, &engine);
	/*
	 * Placed from the topology (main.c): other_cpu is the best CPU for a
	 * handler of the faulters, on their node, off their cores. rtc: the
	 * poller on other_cpu. colocated: an epoll poller beside the
	 * faulters. pipeline: an epoll poller beside the faulters and the
	 * (spinning) resolver on other_cpu, so only one CPU ever spins. Each
	 * lcore's node is its CPU's.
	 */
	if (layout == PFDK_LAYOUT_RTC) {
		poller_id = 1;
		poller_cpu = (unsigned int)u->other_cpu;
	} else {
		poller_id = 2;
		poller_cpu = (unsigned int)u->fault_cpu;
		engine = PFDK_ENGINE_EPOLL;
	}
	if (engine == PFDK_ENGINE_URING)
		sq = u->fault_cpu; /* the SQ thread beside the faulters */
	memset(out, 0, sizeof(*out));
	snprintf(out->path, sizeof(out->path), "uffd row (generated)");
	snprintf(out->name, sizeof(out->name), "uffd-%s-%s",
		 pfdk_layout_name((enum pfdk_layout)layout),
		 pfdk_engine_name((enum pfdk_engine)engine));
	out->layout = (enum pfdk_layout)layout;
	out->burst = burst;
	out->main_cpu = u->fault_cpu;
	row_nodes(out, nd, u);
	/* every uffd's queue owned by the one poller, written uffd[0-M]:0 */
	for (d = 0; d < u->uffds; d++)
		uffd_device(out, d, "");
	lc = &out->lcores[out->nb_lcores++];
	lc->lcore_id = poller_id;
	lc->role = PFDK_ROLE_POLLER;
	lc->cpu = (int)poller_cpu;
	lc->node = (int)poller_cpu == u->fault_cpu ? u->fault_node : u->other_node;
	lc->engine = (enum pfdk_engine)engine;
	lc->sqpoll_cpu = sq;
	for (d = 0; d < u->uffds; d++)
		lc->queues[lc->nb_queues++] = (struct pfdk_profile_queue){
			.dev = (uint16_t)d, .queue = 0 };
	if (layout == PFDK_LAYOUT_PIPELINE) {
		lc = &out->lcores[out->nb_lcores++];
		lc->lcore_id = 1;
		lc->role = PFDK_ROLE_RESOLVER;
		lc->cpu = u->other_cpu;
		lc->node = u->other_node;
		lc->sqpoll_cpu = -1;
	}
	inthread_devargs(out, fault_around);
	return pfdk_profile_validate(out, &chk, err, errlen) < 0 ? -1 : 0;
}

/* ---- memory ---- */

static void *
map_pages(size_t len, size_t page)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	void *p;

	if (page == PAGE_2M)
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
fb_uffd_warm(const struct fb_uffd_opts *u)
{
	size_t len = (size_t)u->pages * u->page_size, i;
	volatile uint8_t *p;

	/* Host memory behind the guest's free pages: back it once. */
	len = RTE_MIN(len, (size_t)4 << 30);
	p = map_pages(len, 4096);
	if (p == NULL)
		return;
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap((void *)(uintptr_t)p, len);
	if (u->page_size == PAGE_2M) {
		p = map_pages(len, PAGE_2M);
		if (p != NULL) {
			for (i = 0; i < len; i += PAGE_2M)
				p[i] = 1;
			munmap((void *)(uintptr_t)p, len);
		}
	}
}

/* ---- faulting threads ---- */

struct region {
	uint8_t *base;
	size_t npages;
	struct pfdk_store *store;
	uint64_t *seen; /* word read (or written) at first touch, per page */
};

struct toucher {
	struct region *reg;
	size_t page;
	bool native;
	const struct fb_uffd_opts *u; /* the access of each page */
	uint32_t *list; /* (region << 22 | page) would limit sizes: two arrays */
	uint32_t *list_reg;
	size_t n;
	pthread_barrier_t *go;
	uint64_t t_start, t_end;
	double cpu_s;   /* this thread's CPU over its touching loop */
	int (*init)(void);   /* in-thread rows: per-thread state, before touching */
	void (*fini)(void);
	struct pfdk_hist *hist;
	pthread_t th;
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *
toucher_main(void *arg)
{
	struct toucher *t = arg;
	double cpu0;
	size_t i;

	/* As an application would, before the thread's first fault. */
	if (t->init != NULL && t->init() < 0) {
		fprintf(stderr, "faulting thread: per-thread fault state: out of memory\n");
		fflush(NULL);
		_exit(1);
	}
	pthread_barrier_wait(t->go);
	/* Thread clock read outside the loop only: the loop stays as it was. */
	cpu0 = fb_cpu_s(CLOCK_THREAD_CPUTIME_ID);
	t->t_start = rte_rdtsc();
	/* Interrupted (checked every 64 pages): stop between faults. */
	for (i = 0; i < t->n && ((i & 63) != 0 || fb_stop_signal == 0); i++) {
		struct region *r = &t->reg[t->list_reg[i]];
		size_t j = t->list[i];
		volatile uint64_t *w = (volatile uint64_t *)(r->base + j * t->page);
		uint64_t a, b, v;

		/* The same access on every row, native included: a fair floor. */
		if (fb_access_writes(t->u, t->list_reg[i], j)) {
			v = TOUCH_MARK | j;
			a = rte_rdtsc();
			*w = v;
			b = rte_rdtsc();
		} else {
			a = rte_rdtsc();
			v = *w;
			b = rte_rdtsc();
		}
		r->seen[j] = v;
		pfdk_hist_record(t->hist, b - a);
	}
	t->t_end = rte_rdtsc();
	t->cpu_s = fb_cpu_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	if (t->fini != NULL)
		t->fini();
	return NULL;
}

/* Give every thread its pages, then order them. */
static int
plan(struct toucher *t, const struct fb_uffd_opts *u, struct region *reg,
     size_t per)
{
	unsigned int T = u->threads, M = u->uffds, r, k;
	size_t j, cap;

	for (k = 0; k < T; k++) {
		cap = (T >= M) ? per / ((T - (k % M) + M - 1) / M) + 1
			       : per * ((M - k + T - 1) / T);
		t[k].list = malloc(cap * sizeof(uint32_t));
		t[k].list_reg = malloc(cap * sizeof(uint32_t));
		t[k].n = 0;
		if (t[k].list == NULL || t[k].list_reg == NULL)
			return -1;
	}
	for (r = 0; r < M; r++) {
		for (j = 0; j < reg[r].npages; j++) {
			struct toucher *x;

			if (T >= M) {
				unsigned int s = (T - r + M - 1) / M;

				x = &t[r + (unsigned int)(j % s) * M];
			} else {
				x = &t[r % T];
			}
			x->list[x->n] = (uint32_t)j;
			x->list_reg[x->n] = r;
			x->n++;
		}
	}
	for (k = 0; k < T; k++) {
		struct toucher *x = &t[k];
		uint64_t seed = 0x9e3779b97f4a7c15ull * (k + 1);
		size_t i, n = x->n;

		if (u->pattern == FB_PAT_RANDOM) {
			for (i = n; i > 1; i--) {
				size_t m = xorshift(&seed) % i;
				uint32_t a = x->list[i - 1], b = x->list_reg[i - 1];

				x->list[i - 1] = x->list[m];
				x->list_reg[i - 1] = x->list_reg[m];
				x->list[m] = a;
				x->list_reg[m] = b;
			}
		} else if (u->pattern == FB_PAT_STRIDE && u->stride > 1 && n > 1) {
			uint32_t *l = malloc(n * sizeof(*l)), *lr = malloc(n * sizeof(*lr));
			size_t o, q = 0;

			if (l == NULL || lr == NULL) {
				free(l);
				free(lr);
				return -1;
			}
			for (o = 0; o < u->stride && o < n; o++)
				for (i = o; i < n; i += u->stride) {
					l[q] = x->list[i];
					lr[q++] = x->list_reg[i];
				}
			free(x->list);
			free(x->list_reg);
			x->list = l;
			x->list_reg = lr;
		}
	}
	return 0;
}

/* Check what was read at first touch, and sampled pages byte for byte. */
static uint64_t
verify(struct region *reg, const struct fb_uffd_opts *u, size_t page, bool native)
{
	unsigned int M = u->uffds;
	uint8_t *want = malloc(page);
	uint64_t bad = 0, w;
	unsigned int r;
	size_t j;

	if (want == NULL)
		return UINT64_MAX;
	for (r = 0; r < M; r++) {
		struct region *g = &reg[r];

		for (j = 0; j < g->npages; j++) {
			const uint8_t *pg = g->base + j * page;
			bool sample = j % VERIFY_EVERY == 0 || j + 1 == g->npages;
			bool wr = fb_access_writes(u, r, j);

			/*
			 * The first word: the mark written, else what the page
			 * holds (zero for native: the shared zero page). The rest
			 * of a sampled page: the store's bytes, or zeros.
			 */
			if (native)
				w = 0;
			else if (pfdk_store_read(g->store, j * page, &w, sizeof(w)) < 0) {
				bad++;
				continue;
			}
			if (wr)
				w = TOUCH_MARK | j;
			if (g->seen[j] != w || *(const uint64_t *)pg != w) {
				bad++;
				continue;
			}
			if (!sample)
				continue;
			if (native)
				memset(want, 0, page);
			else if (pfdk_store_read(g->store, j * page, want, page) < 0) {
				bad++;
				continue;
			}
			memcpy(want, &w, sizeof(w));
			bad += memcmp(pg, want, page) != 0;
		}
	}
	free(want);
	return bad;
}

static int
wait_touchers(struct toucher *t, unsigned int n, const char *mode)
{
	struct timespec dl;
	unsigned int k;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HANG_S;
	for (k = 0; k < n; k++)
		if (pthread_timedjoin_np(t[k].th, NULL, &dl) != 0) {
			/* A thread still sleeping in a fault: nothing can free it. */
			fprintf(stderr, "%s: faulting threads hung for %d s: a fault was lost\n",
				mode, HANG_S);
			fflush(NULL);
			_exit(1);
		}
	return 0;
}

/* ---- one run ---- */

struct handler {
	struct pfdk_pipeline *pipe; /* PFDK rows */
	struct bl_handler bl;       /* classic, classic-colocated, epoll-many, sigbus */
	struct bl_region *blr;
	bool is_bl;
	bool inthread;              /* a poller has engine = inthread */
	bool around;                /* devices with fault_around=: EEXIST is expected */
};

/* A PFDK row: the pipeline over @p prof, each uffd device owning its region, started. */
static int
handler_setup_pipeline(struct handler *h, const struct pfdk_profile *prof,
		       const struct fb_uffd_opts *u, struct region *reg, const char *mode)
{
	struct pfdk_pipeline_conf pc = {
		.profile = prof,
		.resolve = pfdk_uffd_resolve_burst,
	};
	unsigned int d;
	int ret;

	for (d = 0; d < prof->nb_lcores; d++)
		h->inthread |= prof->lcores[d].role == PFDK_ROLE_POLLER &&
			prof->lcores[d].engine == PFDK_ENGINE_INTHREAD;
	for (d = 0; d < prof->nb_devices; d++)
		h->around |= strstr(prof->devices[d].devargs, "fault_around=") != NULL;
	pfdk_uffd_inthread_stats_reset();
	h->pipe = pfdk_pipeline_create(&pc);
	if (h->pipe == NULL) {
		fprintf(stderr, "%s: pipeline: %s\n", mode, rte_strerror(rte_errno));
		return -1;
	}
	for (d = 0; d < u->uffds; d++) {
		ret = pfdk_uffd_region_register(
			(uint16_t)pfdk_pipeline_dev_id(h->pipe, (uint16_t)d),
			reg[d].base, reg[d].npages * u->page_size,
			PFDK_UFFD_MODE_MISSING, reg[d].store, u->page_size);
		if (ret < 0) {
			fprintf(stderr, "%s: region %u: %s\n", mode, d, strerror(-ret));
			return -1;
		}
	}
	ret = pfdk_pipeline_start(h->pipe);
	if (ret < 0) {
		fprintf(stderr, "%s: start: %s\n", mode, strerror(-ret));
		return -1;
	}
	return 0;
}

/*
 * A baseline row (@p mode names which): one userfaultfd per region,
 * registered, and the hand-written handler started on its CPU.
 */
static int
handler_setup_baseline(struct handler *h, const struct fb_uffd_opts *u, struct region *reg,
		       const char *mode)
{
	unsigned int d;
	int ret;

	h->is_bl = true;
	h->blr = calloc(u->uffds, sizeof(*h->blr));
	if (h->blr == NULL)
		return -1;
	for (d = 0; d < u->uffds; d++)
		h->blr[d].uffd = -1;
	for (d = 0; d < u->uffds; d++) {
		h->blr[d] = (struct bl_region){
			.base = reg[d].base, .len = reg[d].npages * u->page_size,
			.store = reg[d].store,
			.uffd = bl_uffd_open(strcmp(mode, "sigbus") == 0 ?
					     UFFD_FEATURE_SIGBUS : 0),
		};
		if (h->blr[d].uffd < 0) {
			fprintf(stderr, "%s: userfaultfd: %s\n", mode,
				strerror(-h->blr[d].uffd));
			return -1;
		}
		ret = bl_uffd_register(h->blr[d].uffd, h->blr[d].base, h->blr[d].len);
		if (ret < 0) {
			fprintf(stderr, "%s: UFFDIO_REGISTER: %s\n", mode, strerror(-ret));
			return -1;
		}
	}
	h->bl.kind = strcmp(mode, "epoll-many") == 0 ? BL_EPOLL :
		strcmp(mode, "sigbus") == 0 ? BL_SIGBUS : BL_CLASSIC;
	h->bl.cpu = strcmp(mode, "classic-colocated") == 0 ? u->fault_cpu : u->other_cpu;
	h->bl.page = u->page_size;
	h->bl.nreg = u->uffds;
	h->bl.reg = h->blr;
	ret = bl_start(&h->bl);
	if (ret < 0) {
		fprintf(stderr, "%s: handler thread: %s\n", mode, strerror(-ret));
		return -1;
	}
	return 0;
}

/* What resolves the row's faults: a PFDK pipeline, a baseline, or nothing (native). */
static int
handler_setup(struct handler *h, const struct pfdk_profile *prof,
	      const struct fb_uffd_opts *u, struct region *reg, struct row *r)
{
	if (prof != NULL)
		return handler_setup_pipeline(h, prof, u, reg, r->mode);
	if (strcmp(r->mode, "native") == 0)
		return 0;
	return handler_setup_baseline(h, u, reg, r->mode);
}

/* Stop the handler; lost/duplicated/backpressure from its counters. */
static void
handler_stop(struct handler *h, const struct fb_uffd_opts *u, struct row *r)
{
	unsigned int d;

	if (h->pipe != NULL) {
		struct pfdk_lcore_stats ls;

		pfdk_pipeline_stop(h->pipe);
		pfdk_pipeline_stats(h->pipe, &ls, NULL);
		r->backpressure = ls.backpressure;
		r->retried = ls.retried;
		for (d = 0; d < u->uffds; d++) {
			int id = pfdk_pipeline_dev_id(h->pipe, (uint16_t)d);
			struct pfdk_fault_stats fs;
			struct pfdk_uffd_stats x;

			pfdk_fault_stats_get((uint16_t)id, &fs);
			pfdk_uffd_stats_get((uint16_t)id, &x);
			r->lost += fs.aborted + fs.outstanding + fs.errors + x.poisons +
				(fs.received > fs.responded ? fs.received - fs.responded : 0);
			/* With fault-around a queued fault may find its page filled. */
			if (!h->around)
				r->duplicated += x.exists;
			r->backpressure += fs.nodesc;
		}
		if (h->inthread) {
			struct pfdk_uffd_inthread_stats it;

			pfdk_uffd_inthread_stats_get(&it, NULL);
			/* A chained SIGBUS would have killed us; count it anyway. */
			r->lost += it.errors + it.chained;
			if (!h->around)
				r->duplicated += it.exists;
			r->retried += it.retries;
		}
	} else if (h->is_bl) {
		bl_stop(&h->bl);
		r->lost += h->bl.errors;
		r->duplicated += h->bl.exists;
	}
}

static void
handler_free(struct handler *h, const struct fb_uffd_opts *u)
{
	unsigned int d;

	if (h->pipe != NULL)
		pfdk_pipeline_destroy(h->pipe);
	if (h->blr != NULL) {
		if (h->bl.running)
			bl_stop(&h->bl);
		for (d = 0; d < u->uffds; d++)
			if (h->blr[d].uffd >= 0)
				close(h->blr[d].uffd);
		free(h->blr);
	}
}

/*
 * Map the M regions of @p per pages each, with their stores and first-touch
 * words. Returns 0, -1 on error, or 1 when 2 MiB pages are missing: the row
 * is skipped, not failed (@p r says why).
 */
static int
regions_map(struct region *reg, const struct fb_uffd_opts *u, size_t per, struct row *r)
{
	unsigned int M = u->uffds, d;
	size_t len = per * u->page_size;

	for (d = 0; d < M; d++) {
		reg[d].npages = per;
		reg[d].base = map_pages(len, u->page_size);
		if (reg[d].base == NULL) {
			if (u->page_size == PAGE_2M) {
				snprintf(r->skip_reason, sizeof(r->skip_reason),
					 "no 2 MiB hugetlb pages for %zu MiB (%s); reserve with "
					 "'echo N > /proc/sys/vm/nr_hugepages'",
					 (size_t)M * len >> 20, strerror(errno));
				r->skipped = true;
				return 1;
			}
			fprintf(stderr, "%s: mmap %zu bytes: %s\n", r->mode, len,
				strerror(errno));
			return -1;
		}
		reg[d].store = pfdk_store_pattern_create(0x5eed0000ull + d);
		reg[d].seen = calloc(per, sizeof(uint64_t));
		if (reg[d].store == NULL || reg[d].seen == NULL)
			return -1;
	}
	return 0;
}

/* Unmap the regions (each @p len bytes) however far regions_map() got. */
static void
regions_free(struct region *reg, unsigned int M, size_t len)
{
	unsigned int d;

	for (d = 0; d < M; d++) {
		if (reg[d].base != NULL)
			munmap(reg[d].base, len);
		pfdk_store_free(reg[d].store);
		free(reg[d].seen);
	}
}

/*
 * Start the T faulting threads, thread k on the k-th faulter CPU (round
 * robin), all held at @p go until the last one is up. Rows resolving in the
 * faulting thread (in-thread pollers, the sigbus baseline) need per-thread
 * state: the thread sets it up before the barrier and drops it at the end.
 */
static void
touchers_start(struct toucher *t, const struct fb_uffd_opts *u, struct region *reg,
	       bool native, const struct handler *h, pthread_barrier_t *go, const char *mode)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	unsigned int k;

	for (k = 0; k < u->threads; k++) {
		CPU_ZERO(&cpus);
		CPU_SET(u->faulter_cpu[k % u->nb_faulter_cpus], &cpus);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
		t[k].u = u;
		t[k].reg = reg;
		t[k].page = u->page_size;
		t[k].native = native;
		t[k].go = go;
		if (h->inthread) {
			t[k].init = pfdk_uffd_inthread_thread_init;
			t[k].fini = pfdk_uffd_inthread_thread_fini;
		} else if (h->is_bl && h->bl.kind == BL_SIGBUS) {
			t[k].init = bl_sigbus_thread_init;
			t[k].fini = bl_sigbus_thread_fini;
		}
		t[k].hist = calloc(1, sizeof(struct pfdk_hist));
		if (t[k].hist == NULL ||
		    pthread_create(&t[k].th, &attr, toucher_main, &t[k]) != 0) {
			/* Threads already started wait at the barrier forever. */
			fprintf(stderr, "%s: faulting thread %u: cannot start\n", mode, k);
			fflush(NULL);
			_exit(1);
		}
		pthread_attr_destroy(&attr);
	}
}

/* Free each faulting thread's page lists and histogram. */
static void
touchers_free(struct toucher *t, unsigned int T)
{
	unsigned int k;

	for (k = 0; k < T; k++) {
		free(t[k].list);
		free(t[k].list_reg);
		free(t[k].hist);
	}
}

/*
 * Over the threads that had pages: the touching phase's span (first start
 * @p t0 to last end @p t1), every first touch's latency into @p all, and
 * the faulters' own CPU seconds (returned).
 */
static double
touchers_merge(const struct toucher *t, unsigned int T, struct pfdk_hist *all,
	       uint64_t *t0, uint64_t *t1)
{
	double fcpu = 0;
	unsigned int k;

	*t0 = UINT64_MAX;
	*t1 = 0;
	for (k = 0; k < T; k++) {
		if (t[k].n == 0)
			continue;
		*t0 = RTE_MIN(*t0, t[k].t_start);
		*t1 = RTE_MAX(*t1, t[k].t_end);
		fcpu += t[k].cpu_s;
		pfdk_hist_merge(all, t[k].hist);
	}
	return fcpu;
}

/*
 * The row's result from a finished run: pages that fail verification count
 * as lost, then rate, latency percentiles and CPU split. @p pcpu is the
 * process CPU seconds over the touching phase; @p all the merged histogram,
 * also added to the row's own when it keeps one.
 */
static void
row_result(struct row *r, const struct toucher *t, struct region *reg,
	   const struct fb_uffd_opts *u, bool native, double pcpu, struct pfdk_hist *all)
{
	uint64_t t0, t1, hz = rte_get_tsc_hz(), bad;
	struct pfdk_hist_summary s;
	double fcpu;

	fcpu = touchers_merge(t, u->threads, all, &t0, &t1);
	bad = verify(reg, u, u->page_size, native);
	if (bad) {
		fprintf(stderr, "%s: %" PRIu64 " page(s) failed verification\n", r->mode, bad);
		r->lost += bad;
	}
	pfdk_hist_summarize(all, &s);
	r->faults = all->count;
	r->faults_per_s = t1 > t0 ? (double)r->faults * (double)hz / (double)(t1 - t0) : 0;
	r->ns_per_fault = r->faults_per_s > 0 ? 1e9 / r->faults_per_s : 0;
	r->p50_us = (double)s.p50 * 1e6 / (double)hz;
	r->p90_us = (double)s.p90 * 1e6 / (double)hz;
	r->p99_us = (double)s.p99 * 1e6 / (double)hz;
	r->p999_us = (double)s.p999 * 1e6 / (double)hz;
	r->max_us = (double)s.max * 1e6 / (double)hz;
	r->wall_s = t1 > t0 ? (double)(t1 - t0) / (double)hz : 0;
	r->cpu_faulters_s = fcpu;
	/* Clock granularity can put the faulters a hair above the process. */
	r->cpu_handler_s = RTE_MAX(pcpu - fcpu, 0.0);
	if (r->hist != NULL)
		pfdk_hist_merge(r->hist, all);
}

int
fb_uffd_run_once(const struct pfdk_profile *prof, const struct fb_uffd_opts *u,
		 struct row *r)
{
	unsigned int M = u->uffds, T = u->threads;
	size_t per = (size_t)((u->pages + M - 1) / M), len = per * u->page_size;
	bool native = strcmp(r->mode, "native") == 0;
	struct region *reg = calloc(M, sizeof(*reg));
	struct toucher *t = calloc(T, sizeof(*t));
	struct handler h = { 0 };
	struct pfdk_hist *all = calloc(1, sizeof(*all));
	pthread_barrier_t go;
	double pcpu0, pcpu1;
	int ret = -1;

	r->threads = T;
	r->uffds = M;
	r->page_size = (uint32_t)u->page_size;
	r->lost = r->duplicated = r->backpressure = r->retried = 0;
	if (reg == NULL || t == NULL || all == NULL)
		goto out;
	ret = regions_map(reg, u, per, r);
	if (ret != 0)
		goto out; /* -1, or 1: skipped */
	ret = -1;
	if (plan(t, u, reg, per) < 0)
		goto out;
	if (handler_setup(&h, prof, u, reg, r) < 0)
		goto out;

	/*
	 * Process CPU around the touching phase: every thread of the process
	 * (PFDK lcores, a baseline's handler, an io_uring SQ thread) adds to
	 * it, so less the faulters' own loops it is what handling cost.
	 */
	pcpu0 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	pthread_barrier_init(&go, NULL, T);
	touchers_start(t, u, reg, native, &h, &go, r->mode);
	wait_touchers(t, T, r->mode);
	pcpu1 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	pthread_barrier_destroy(&go);
	handler_stop(&h, u, r);
	if (fb_stop_signal != 0) {
		/* Pages left untouched are not lost: the run is discarded. */
		ret = 2;
		goto out;
	}
	row_result(r, t, reg, u, native, pcpu1 - pcpu0, all);
	ret = 0;
out:
	handler_free(&h, u);
	if (t != NULL)
		touchers_free(t, T);
	if (reg != NULL)
		regions_free(reg, M, len);
	free(reg);
	free(t);
	free(all);
	return ret;
}
