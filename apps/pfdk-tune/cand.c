/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune's candidates: this machine's topology, the source's devices,
 * and the layouts worth measuring, each checked by the profile validator.
 */
#include <numa.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>

#include "tune.h"

static void
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void
tune_topo_read(struct topo *t)
{
	t->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	t->nnodes = numa_available() < 0 ? 1 : numa_num_configured_nodes();
	read_line("/sys/devices/system/cpu/isolated", t->isolated, sizeof(t->isolated));
	read_line("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list",
		  t->siblings0, sizeof(t->siblings0));
}

/*
 * The devices of the measured source, in @p devs (devices[] only), so the
 * profile written is deployable for that workload. uffd: uffd0..uffdM-1 (M
 * from the workload's --uffds, the largest of a list), as the bench names
 * them; @p sigbus the same with sigbus=1 (in-thread tune_candidates). sim with
 * --devargs: that device. Else the base profile's devices.
 */
void
tune_source_devices(bool uffd, const struct workload *w, const struct pfdk_profile *base,
		    struct pfdk_profile *devs, struct pfdk_profile *sigbus)
{
	unsigned long m = 1, v;
	const char *p;
	unsigned int i;

	memset(devs, 0, sizeof(*devs));
	if (uffd) {
		for (p = w->uffds; p != NULL && *p != '\0'; p += strspn(p, ",")) {
			v = strtoul(p, (char **)(uintptr_t)&p, 10);
			if (v > m && v <= PFDK_PROFILE_MAX_DEVICES)
				m = v;
			if (*p != ',')
				break;
		}
		for (i = 0; i < m; i++) {
			struct pfdk_profile_device *d = &devs->devices[devs->nb_devices++];

			snprintf(d->name, sizeof(d->name), "uffd%u", i);
			snprintf(d->devargs, sizeof(d->devargs), "uffd%u", i);
			d->nb_queues = 1;
		}
		*sigbus = *devs;
		for (i = 0; i < m; i++)
			snprintf(sigbus->devices[i].devargs, sizeof(sigbus->devices[i].devargs),
				 "uffd%u,sigbus=1", i);
		return;
	}
	if (w->devargs != NULL) {
		struct pfdk_profile_device *d = &devs->devices[devs->nb_devices++];
		size_t nl = strcspn(w->devargs, ",");

		snprintf(d->name, sizeof(d->name), "%.*s", (int)nl, w->devargs);
		snprintf(d->devargs, sizeof(d->devargs), "%s", w->devargs);
		d->nb_queues = 1;
	} else {
		devs->nb_devices = base->nb_devices;
		memcpy(devs->devices, base->devices, sizeof(devs->devices));
	}
	*sigbus = *devs;
}

/* @p p's devices replaced by @p devs's, every poller owning all their queues. */
void
tune_with_devices(struct pfdk_profile *p, const struct pfdk_profile *devs)
{
	unsigned int i, d, q;

	p->nb_devices = devs->nb_devices;
	memcpy(p->devices, devs->devices, sizeof(p->devices));
	for (i = 0; i < p->nb_lcores; i++) {
		struct pfdk_profile_lcore *lc = &p->lcores[i];

		if (lc->role != PFDK_ROLE_POLLER)
			continue;
		lc->nb_queues = 0;
		for (d = 0; d < p->nb_devices; d++)
			for (q = 0; q < p->devices[d].nb_queues &&
			     lc->nb_queues < PFDK_PROFILE_MAX_QUEUES; q++)
				lc->queues[lc->nb_queues++] = (struct pfdk_profile_queue){
					.dev = (uint16_t)d, .queue = (uint16_t)q };
	}
}

/* One lcore of a candidate: a poller when @p engine >= 0, else a resolver. */
struct cand_lcore {
	int cpu;
	int engine;
	int sqpoll_cpu; /* -1: none */
};

static void
cand_add(struct cand *c, unsigned int *nc, const char *name,
	 const struct pfdk_profile *devs, enum pfdk_layout layout,
	 const struct cand_lcore *lcs, unsigned int nl, int ncpus, uint16_t burst)
{
	struct pfdk_profile_check chk = { .ncpus = (unsigned int)ncpus };
	static struct pfdk_profile prof;
	struct cand *x;
	unsigned int i;

	if (*nc == MAX_CAND)
		return;
	x = &c[(*nc)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	memset(&prof, 0, sizeof(prof));
	snprintf(prof.path, sizeof(prof.path), "%s", name);
	snprintf(prof.name, sizeof(prof.name), "%s", name);
	prof.layout = layout;
	prof.burst = burst;
	prof.main_cpu = 0;
	prof.nb_nodes = 1;
	prof.nodes[0] = (struct pfdk_profile_node){ .node = 0, .pool_size = 4095,
		.pool_cache = 64, .ring_size = 1024 };
	for (i = 0; i < nl; i++) {
		struct pfdk_profile_lcore *lc = &prof.lcores[prof.nb_lcores++];

		lc->lcore_id = i + 1;
		lc->cpu = lcs[i].cpu;
		lc->role = lcs[i].engine >= 0 ? PFDK_ROLE_POLLER : PFDK_ROLE_RESOLVER;
		lc->engine = lcs[i].engine >= 0 ? (enum pfdk_engine)lcs[i].engine :
			PFDK_ENGINE_BUSY;
		lc->sqpoll_cpu = lcs[i].sqpoll_cpu;
	}
	tune_with_devices(&prof, devs);
	if (pfdk_profile_validate(&prof, &chk, x->refused, sizeof(x->refused)) == 0)
		x->refused[0] = '\0';
	x->inthread = prof.lcores[0].engine == PFDK_ENGINE_INTHREAD;
	if (pfdk_profile_format(&prof, x->ini, sizeof(x->ini)) < 0 && x->refused[0] == '\0')
		snprintf(x->refused, sizeof(x->refused), "%s: profile larger than %zu bytes",
			 name, sizeof(x->ini));
}

/*
 * Layouts worth measuring on a machine of this shape. CPU 0 is main_cpu,
 * where the uffd source's faulting threads run; "last" is the CPU farthest
 * from it. On 2 CPUs that leaves: a busy, epoll or uring poller on CPU 1
 * (rtc), an epoll poller on CPU 0 beside the faulters (colocated), and an
 * epoll poller on CPU 0 feeding a resolver on CPU 1 (pipeline). The rest
 * spin on both CPUs (an SQPOLL thread or a resolver on CPU 0 beside a
 * spinning poller) or put the SQ thread on its own poller's CPU: they are
 * listed refused, with the validator's reason, and run on larger machines.
 * A uffd workload adds engine = inthread: the faulting threads resolve
 * their own faults (SIGBUS), the poller only sleeps.
 */
unsigned int
tune_candidates(const struct topo *t, const struct pfdk_profile *base, bool uffd,
		const struct pfdk_profile *devs, const struct pfdk_profile *devs_sigbus,
		struct cand *c)
{
	char name[48];
	int last = t->ncpus - 1, prev = last > 1 ? last - 1 : 0;
	uint16_t b = base->burst;
	unsigned int n = 0;

#define POLLER(cpu, engine, sq) { (cpu), PFDK_ENGINE_##engine, (sq) }
#define RESOLVER(cpu) { (cpu), -1, -1 }
#define CAND(layout, ...) do { \
		const struct cand_lcore lcs_[] = { __VA_ARGS__ }; \
		cand_add(c, &n, name, devs, PFDK_LAYOUT_##layout, lcs_, \
			 RTE_DIM(lcs_), t->ncpus, b); \
	} while (0)
	snprintf(name, sizeof(name), "rtc-busy@%d", last);
	CAND(RTC, POLLER(last, BUSY, -1));
	snprintf(name, sizeof(name), "rtc-epoll@%d", last);
	CAND(RTC, POLLER(last, EPOLL, -1));
	snprintf(name, sizeof(name), "rtc-uring-nosqpoll@%d", last);
	CAND(RTC, POLLER(last, URING_NOSQPOLL, -1));
	/* The SQ thread beside the faulters: two spinners, refused on 2 CPUs. */
	snprintf(name, sizeof(name), "rtc-uring@%d,sq@0", last);
	CAND(RTC, POLLER(last, URING, 0));
	if (prev > 0) {
		snprintf(name, sizeof(name), "rtc-uring@%d,sq@%d", last, prev);
		CAND(RTC, POLLER(last, URING, prev));
	}
	/* The SQ thread on its own poller's CPU: shown refused, with the reason. */
	snprintf(name, sizeof(name), "rtc-uring@%d,sq@%d", last, last);
	CAND(RTC, POLLER(last, URING, last));
	snprintf(name, sizeof(name), "colocated-epoll@0");
	CAND(COLOCATED, POLLER(0, EPOLL, -1));
	if (uffd) {
		/* In-thread resolution needs SIGBUS mode on its devices. */
		const struct cand_lcore lcs[] = { POLLER(0, INTHREAD, -1) };

		snprintf(name, sizeof(name), "colocated-inthread@0");
		cand_add(c, &n, name, devs_sigbus, PFDK_LAYOUT_COLOCATED, lcs,
			 RTE_DIM(lcs), t->ncpus, b);
	}
	/* The pipeline's only spinner is its resolver, away from the faulters. */
	snprintf(name, sizeof(name), "pipeline-epoll@0,res@%d", last);
	CAND(PIPELINE, POLLER(0, EPOLL, -1), RESOLVER(last));
	snprintf(name, sizeof(name), "pipeline-busy@%d,res@%d", last, prev);
	CAND(PIPELINE, POLLER(last, BUSY, -1), RESOLVER(prev));
#undef CAND
#undef RESOLVER
#undef POLLER
	return n;
}
