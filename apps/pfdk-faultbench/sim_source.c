/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's sim source: the synthetic devices' checks and row
 * profiles, and the run of a PFDK row on a pipeline, the sim's and the
 * iommufd source's (emulated, inherited or --mock fault FD): start, wait
 * for every fault to be answered (or a stall, a signal), collect.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_iommufd.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_sim.h"

#include "faultbench.h"

uint16_t
fb_sim_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint16_t i;

	RTE_SET_USED(ctx);
	for (i = 0; i < nb; i++)
		faults[i]->status = ((faults[i]->addr >> 12) & 63) == 63 ?
			PFDK_FAULT_RESP_INVALID : PFDK_FAULT_RESP_SUCCESS;
	return nb;
}

bool
fb_devargs_value(const char *da, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = strchr(da, ',');

	while (p != NULL) {
		p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(val, len, "%.*s", (int)strcspn(p + klen + 1, ","),
				 p + klen + 1);
			return true;
		}
		p = strchr(p, ',');
	}
	return false;
}

/*
 * The sim source measures until every queue has emitted its total= faults
 * and every group is answered, so each device must be a sim device with a
 * finite total: a uffd or iommufd device (from --devargs or a profile such
 * as config/examples/inthread.ini) never reports "exhausted", total=0
 * never ends, and a total= that does not fit the devargs buffer would be
 * cut off. Refused here, before the EAL starts, with the reason in @p err.
 */
int
fb_sim_devices_check(const struct pfdk_profile *base, const char *devargs,
		     uint64_t faults, char *err, size_t errlen)
{
	unsigned int i, nq = 0;
	char val[32], tail[48];

	for (i = 0; i < base->nb_devices; i++)
		nq += base->devices[i].nb_queues;
	for (i = 0; i < base->nb_devices; i++) {
		const char *da = i == 0 && devargs != NULL ? devargs : base->devices[i].devargs;
		const char *from = i == 0 && devargs != NULL ? "--devargs" : base->path;
		size_t nlen = strcspn(da, ",");

		while (nlen > 0 && da[nlen - 1] >= '0' && da[nlen - 1] <= '9')
			nlen--;
		if (nlen != 3 || strncmp(da, "sim", 3) != 0) {
			snprintf(err, errlen, "--source sim: device '%.*s' (%s) is not a sim "
				 "device; the sim source needs sim devices (e.g. --devargs sim0), "
				 "or use --source uffd", (int)strcspn(da, ","), da, from);
			return -1;
		}
		if (fb_devargs_value(da, "total", val, sizeof(val))) {
			if (strcmp(val, "0") == 0 || strspn(val, "0") == strlen(val)) {
				snprintf(err, errlen, "--source sim: device '%.*s' (%s): total=0 "
					 "emits without end, so a row would never finish; give "
					 "total=N > 0 or leave it out (--faults sets it)",
					 (int)strcspn(da, ","), da, from);
				return -1;
			}
			continue;
		}
		snprintf(tail, sizeof(tail), ",total=%" PRIu64, (faults + nq - 1) / nq);
		if (strlen(da) + strlen(tail) >= PFDK_PROFILE_DEVARGS_LEN) {
			snprintf(err, errlen, "--source sim: device '%.*s' (%s): devargs of "
				 "%zu characters leave no room for the '%s' the bench adds "
				 "(at most %d in all); shorten them or give total= yourself",
				 (int)strcspn(da, ","), da, from, strlen(da), tail,
				 PFDK_PROFILE_DEVARGS_LEN - 1);
			return -1;
		}
	}
	return 0;
}

/*
 * The profile for a row: the mode's layout, with a resolver added on the
 * main CPU for the pipeline when the profile has none (the main lcore
 * sleeps while a row runs, so that CPU is free), and each sim device told
 * how many faults to emit (fb_sim_devices_check() has made sure it fits).
 */
int
fb_sim_row_profile(const struct pfdk_profile *base, const char *mode, uint16_t burst,
		   uint64_t faults, const char *devargs, struct pfdk_profile *p)
{
	const struct fb_mode_def *md = fb_mode_find(mode);
	unsigned int i, nq = 0, max_id = 0;
	bool has_resolver = false;
	char val[32];

	memcpy(p, base, sizeof(*p));
	p->burst = burst;
	if (devargs != NULL && p->nb_devices > 0)
		snprintf(p->devices[0].devargs, sizeof(p->devices[0].devargs),
			 "%s", devargs);
	for (i = 0; i < p->nb_devices; i++)
		nq += p->devices[i].nb_queues;
	for (i = 0; i < p->nb_devices; i++) {
		struct pfdk_profile_device *d = &p->devices[i];
		size_t len = strlen(d->devargs);
		int n;

		if (fb_devargs_value(d->devargs, "total", val, sizeof(val)) ||
		    fb_devargs_value(d->devargs, "fault_fd", val, sizeof(val)))
			continue;
		n = snprintf(d->devargs + len, sizeof(d->devargs) - len,
			     ",total=%" PRIu64, (faults + nq - 1) / nq);
		if (n < 0 || (size_t)n >= sizeof(d->devargs) - len)
			return -1;
	}
	if (md->layout >= 0)
		p->layout = (enum pfdk_layout)md->layout;
	/* Drop resolvers outside the pipeline; set each poller's engine. */
	for (i = 0; i < p->nb_lcores; i++) {
		struct pfdk_profile_lcore *lc = &p->lcores[i];

		max_id = RTE_MAX(max_id, lc->lcore_id);
		if (lc->role == PFDK_ROLE_RESOLVER) {
			if (p->layout != PFDK_LAYOUT_PIPELINE) {
				memmove(lc, lc + 1, (p->nb_lcores - i - 1) * sizeof(*lc));
				p->nb_lcores--;
				i--;
				continue;
			}
			has_resolver = true;
		} else if (md->engine >= 0) {
			lc->engine = (enum pfdk_engine)md->engine;
			/* The SQ thread beside the sleeping main lcore. */
			lc->sqpoll_cpu = -1;
			if (lc->engine == PFDK_ENGINE_URING)
				lc->sqpoll_cpu = p->main_cpu != lc->cpu ?
					p->main_cpu : -1;
			if (lc->sqpoll_cpu < 0 && lc->engine == PFDK_ENGINE_URING)
				lc->engine = PFDK_ENGINE_URING_NOSQPOLL;
		}
	}
	if (p->layout == PFDK_LAYOUT_PIPELINE && !has_resolver) {
		struct pfdk_profile_lcore *lc;

		if (p->nb_lcores == PFDK_PROFILE_MAX_LCORES)
			return -1;
		lc = &p->lcores[p->nb_lcores++];
		memset(lc, 0, sizeof(*lc));
		lc->lcore_id = max_id + 1;
		lc->cpu = p->main_cpu;
		lc->role = PFDK_ROLE_RESOLVER;
		lc->sqpoll_cpu = -1;
		lc->node = p->nodes[0].node;
	}
	return 0;
}

/*
 * A device's progress in the sim check's terms. sim: its own checks.
 * iommufd emu: what the emulated kernel saw (a queue is exhausted once the
 * generator emitted its total and nothing waits to be read). iommufd
 * fault_fd: the driver's counters (the kernel side is not visible); never
 * exhausted, a row ends on its groups, hang-up or a signal.
 */
static int
dev_check(const char *source, uint16_t id, struct pfdk_sim_check *c)
{
	struct pfdk_iommufd_emu_check ec;
	struct pfdk_iommufd_emu *emu;
	struct pfdk_fault_stats fs;
	int ret;

	if (strcmp(source, "iommufd") != 0)
		return pfdk_sim_check_get(id, c);
	ret = pfdk_fault_stats_get(id, &fs);
	if (ret < 0)
		return ret;
	memset(c, 0, sizeof(*c));
	c->aborted = fs.aborted;
	emu = pfdk_iommufd_emu_get(id);
	if (emu == NULL) {
		c->records_emitted = fs.received;
		c->groups_answered = fs.groups - fs.aborted;
		c->groups_emitted = fs.groups + fs.outstanding;
		c->outstanding = fs.outstanding;
		return 0;
	}
	pfdk_iommufd_emu_check_get(emu, &ec);
	c->records_emitted = ec.records_read;
	c->groups_emitted = ec.groups_read;
	c->groups_answered = ec.answered;
	c->groups_invalid = ec.answered_invalid;
	c->duplicates = ec.duplicates;
	c->stale = ec.unknown;
	c->bad_code = ec.bad_code;
	c->outstanding = ec.outstanding;
	c->exhausted = ec.exhausted && ec.pending == 0;
	return 0;
}

/* A pipeline run of a sim or iommufd row, from start to the last check. */
struct sim_run {
	struct pfdk_pipeline *pipe;
	unsigned int nq;            /* queues over the devices */
	uint64_t t0, t1;            /* TSC: start, end of the wait */
	double pcpu0, pcpu1;        /* process CPU at t0, t1 */
	bool done, stalled, hup;
	struct fb_io_count ioc;     /* fault_fd=: the driver's fault-FD calls */
	bool counted;
	struct fb_mock_thread mt;   /* --mock: the device thread */
	bool mt_on;
};

/* Create and start the row's pipeline (and --mock's device thread); 0 or -1. */
static int
sim_start(const struct pfdk_profile *prof, struct row *r, struct sim_run *sr)
{
	struct pfdk_pipeline_conf pc = {
		.profile = prof,
		.resolve = fb_mock_on ? fb_mock_resolve : fb_sim_resolve,
	};
	unsigned int i;
	int ret;

	sr->pipe = pfdk_pipeline_create(&pc);
	if (sr->pipe == NULL) {
		snprintf(r->skip_reason, sizeof(r->skip_reason), "pipeline: %s",
			 rte_strerror(rte_errno));
		fprintf(stderr, "%s: %s\n", r->mode, r->skip_reason);
		return -1;
	}
	for (i = 0; i < prof->nb_devices; i++)
		sr->nq += prof->devices[i].nb_queues;
	if (fb_mock_on)
		fb_mock_hist_reset();
	/* Count the driver's read()/write() calls: syscalls on a real FD. */
	if (fb_iommufd_real && prof->nb_devices == 1)
		sr->counted = fb_io_count_attach((uint16_t)pfdk_pipeline_dev_id(sr->pipe, 0),
						 &sr->ioc);
	/* No faulting threads here: the whole process is the handler. */
	sr->pcpu0 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	sr->t0 = rte_rdtsc();
	ret = pfdk_pipeline_start(sr->pipe);
	if (ret < 0) {
		snprintf(r->skip_reason, sizeof(r->skip_reason), "pipeline start: %s",
			 strerror(-ret));
		fprintf(stderr, "%s: %s\n", r->mode, r->skip_reason);
		pfdk_pipeline_destroy(sr->pipe);
		return -1;
	}
	if (fb_mock_on) {
		ret = fb_mock_thread_start(&sr->mt);
		if (ret != 0) {
			snprintf(r->skip_reason, sizeof(r->skip_reason), "device thread: %s",
				 strerror(ret));
			pfdk_pipeline_stop(sr->pipe);
			pfdk_pipeline_destroy(sr->pipe);
			return -1;
		}
		sr->mt_on = true;
	}
	return 0;
}

/*
 * Sleep while the workers run; done when every queue emitted all and
 * every group was answered. A device that cannot report, or no
 * progress at all for FB_STALL_S, fails the row instead of waiting
 * for ever (stop then answers what is outstanding).
 */
static void
sim_wait(const struct pfdk_profile *prof, struct row *r, struct sim_run *sr)
{
	uint64_t last = UINT64_MAX, t_prog = sr->t0, hz = rte_get_tsc_hz();
	struct pfdk_sim_check c, all;
	unsigned int i;
	int ret;

	do {
		usleep(200);
		memset(&all, 0, sizeof(all));
		for (i = 0; i < prof->nb_devices; i++) {
			ret = dev_check(r->source, (uint16_t)pfdk_pipeline_dev_id(sr->pipe, i), &c);
			if (ret < 0) {
				snprintf(r->skip_reason, sizeof(r->skip_reason),
					 "device %s: no check (%s)",
					 prof->devices[i].name, strerror(-ret));
				sr->stalled = true;
				break;
			}
			all.exhausted += c.exhausted;
			all.outstanding += c.outstanding;
			all.records_emitted += c.records_emitted;
			all.groups_answered += c.groups_answered;
		}
		sr->done = all.exhausted == sr->nq && all.outstanding == 0;
		if (fb_iommufd_real) {
			/* An idle inherited FD is no stall: the other side may be quiet. */
			sr->hup = fb_iommufd_hung_up((uint16_t)pfdk_pipeline_dev_id(sr->pipe, 0));
			sr->done = sr->hup || fb_stop_signal != 0 ||
				   (fb_iommufd_groups != 0 &&
				    all.groups_answered >= fb_iommufd_groups);
			if (fb_mock_on && sr->mt.err != 0) {
				snprintf(r->skip_reason, sizeof(r->skip_reason),
					 "IOMMU_TEST_OP_TRIGGER_IOPF: %s", strerror(-sr->mt.err));
				sr->stalled = true;
			}
			if (!fb_mock_on)
				t_prog = rte_rdtsc();
		}
		if (all.records_emitted + all.groups_answered != last) {
			last = all.records_emitted + all.groups_answered;
			t_prog = rte_rdtsc();
		} else if (!sr->done && rte_rdtsc() - t_prog > FB_STALL_S * hz) {
			snprintf(r->skip_reason, sizeof(r->skip_reason),
				 "no progress for %u s (%" PRIu64 " records emitted, %" PRIu64
				 " groups outstanding, %" PRIu64 "/%u queues done)",
				 FB_STALL_S, all.records_emitted, all.outstanding,
				 all.exhausted, sr->nq);
			sr->stalled = true;
		}
	} while (!sr->done && !sr->stalled && fb_stop_signal == 0);
	sr->t1 = rte_rdtsc();
	sr->pcpu1 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	if (sr->mt_on)
		fb_mock_thread_stop(&sr->mt);
}

/*
 * The finished run's counts over the devices into @p all, its latencies
 * into @p s and r->hist, and the pipeline destroyed; 0 or -1.
 */
static int
sim_collect(const struct pfdk_profile *prof, struct row *r, struct sim_run *sr,
	    struct pfdk_sim_check *all, struct pfdk_lcore_stats *ls,
	    struct pfdk_hist_summary *s)
{
	struct pfdk_sim_check c;
	struct pfdk_fault_stats fs;
	struct pfdk_hist *h;
	unsigned int i;

	memset(all, 0, sizeof(*all));
	r->backpressure = 0;
	for (i = 0; i < prof->nb_devices; i++) {
		int id = pfdk_pipeline_dev_id(sr->pipe, i);

		dev_check(r->source, (uint16_t)id, &c);
		pfdk_fault_stats_get((uint16_t)id, &fs);
		all->records_emitted += c.records_emitted;
		all->groups_emitted += c.groups_emitted;
		all->groups_answered += c.groups_answered;
		all->duplicates += c.duplicates + c.stale + c.bad_code;
		all->aborted += c.aborted;
		r->backpressure += fs.nodesc;
	}
	h = malloc(sizeof(*h));
	if (h == NULL) {
		pfdk_pipeline_destroy(sr->pipe);
		return -1;
	}
	pfdk_pipeline_stats(sr->pipe, ls, h);
	if (fb_mock_on)
		memcpy(h, fb_mock_hist_get(), sizeof(*h)); /* from the trigger, as the baselines */
	pfdk_hist_summarize(h, s);
	if (r->hist != NULL)
		pfdk_hist_merge(r->hist, h);
	free(h);
	pfdk_pipeline_destroy(sr->pipe);
	return 0;
}

/* What a real fault FD's row says besides the table: stop's answers, hang-up, syscalls. */
static void
sim_report_fd(const struct row *r, const struct sim_run *sr, struct pfdk_sim_check *all,
	      const struct pfdk_lcore_stats *ls)
{
	if (fb_iommufd_real && all->aborted != 0) {
		/*
		 * Groups still in flight when the row ended (the other side kept
		 * faulting): stop answered them INVALID, each once. Not lost, and
		 * not the handler's answers: said so, not counted.
		 */
		printf("%s: %" PRIu64 " groups in flight at the end answered INVALID by stop\n",
		       r->mode, all->aborted);
		all->groups_answered += all->aborted;
		all->aborted = 0;
	}
	if (sr->hup)
		printf("%s: the fault FD hung up\n", r->mode);
	if (sr->counted && all->groups_answered != 0)
		printf("%s: syscalls per group: read %.2f (%.2f empty), write %.2f, "
		       "io_uring_enter %.2f (the driver's fault-FD calls and the engine's "
		       "enters; epoll_wait not counted); ring reads %.2f, ring writes %.2f "
		       "per group\n",
		       r->mode, (double)sr->ioc.reads / (double)all->groups_answered,
		       (double)sr->ioc.empty / (double)all->groups_answered,
		       (double)sr->ioc.writes / (double)all->groups_answered,
		       (double)ls->engine_enters / (double)all->groups_answered,
		       (double)ls->engine_reads / (double)all->groups_answered,
		       (double)sr->ioc.ring_writes / (double)all->groups_answered);
}

int
fb_sim_run_once(const struct pfdk_profile *prof, struct row *r)
{
	struct sim_run sr = { .mt = { .n = fb_iommufd_groups } };
	uint64_t hz = rte_get_tsc_hz();
	struct pfdk_lcore_stats ls;
	struct pfdk_hist_summary s;
	struct pfdk_sim_check all;

	if (sim_start(prof, r, &sr) < 0)
		return -1;
	sim_wait(prof, r, &sr);
	/* Stop answers what is outstanding (INVALID): no group is left waiting. */
	pfdk_pipeline_stop(sr.pipe);
	if (sr.stalled) {
		fprintf(stderr, "%s: %s\n", r->mode, r->skip_reason);
		pfdk_pipeline_destroy(sr.pipe);
		return -1;
	}
	if (!sr.done) {
		/* Interrupted: a partial run is not a measurement. */
		pfdk_pipeline_destroy(sr.pipe);
		return 2;
	}
	if (sim_collect(prof, r, &sr, &all, &ls, &s) < 0)
		return -1;
	sim_report_fd(r, &sr, &all, &ls);
	r->faults = all.records_emitted;
	r->faults_per_s = (double)r->faults * (double)hz / (double)(sr.t1 - sr.t0);
	r->ns_per_fault = 1e9 / r->faults_per_s;
	r->p50_us = (double)s.p50 * 1e6 / (double)hz;
	r->p90_us = (double)s.p90 * 1e6 / (double)hz;
	r->p99_us = (double)s.p99 * 1e6 / (double)hz;
	r->p999_us = (double)s.p999 * 1e6 / (double)hz;
	r->max_us = (double)s.max * 1e6 / (double)hz;
	/* Aborted groups were answered by stop, not by the handler: lost. */
	r->lost = all.groups_emitted - all.groups_answered + all.aborted;
	r->duplicated = all.duplicates;
	r->backpressure += ls.backpressure;
	r->retried = ls.retried;
	r->wall_s = (double)(sr.t1 - sr.t0) / (double)hz;
	r->cpu_handler_s = RTE_MAX(sr.pcpu1 - sr.pcpu0, 0.0);
	r->cpu_faulters_s = 0;
	return 0;
}
