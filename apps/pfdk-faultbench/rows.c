/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's rows: every row kind in one table (fb_mode_defs[]:
 * name, kind, run function), its lookups, and the runs of a row: a pass,
 * --duration's passes, a run of --repeat's, the medians over them, and
 * the progress line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "pfdk_hist.h"
#include "pfdk_profile.h"

#include "faultbench.h"

struct fb_uffd_opts fb_uffd;
double fb_duration_s;

/* A PFDK row: on the uffd source's regions, else on a sim or iommufd pipeline. */
static int
run_pfdk(const struct pfdk_profile *prof, struct row *r)
{
	if (strcmp(r->source, "uffd") == 0)
		return fb_uffd_run_once(prof, &fb_uffd, r);
	return fb_sim_run_once(prof, r); /* sim and iommufd */
}

/* A hand-written uffd handler: its own thread (or none), no profile. */
static int
run_baseline(const struct pfdk_profile *prof, struct row *r)
{
	RTE_SET_USED(prof);
	return fb_uffd_run_once(NULL, &fb_uffd, r);
}

/*
 * Every row kind, in --help's order: its name, kind and run function;
 * layout, engine, uffd_only, def_sim, def_uffd and a baseline's engine;
 * its --help line. What the lists (--help, the errors' mode lists, the
 * default --modes, the JSON's "engine" of a baseline) say of a row and
 * what runs it come from here: adding a row is one entry.
 */
const struct fb_mode_def fb_mode_defs[] = {
	{ "pfdk", FB_ROW_PFDK, run_pfdk,
	  -1, -1, false, false, false, NULL,
	  "the profile's own layout, lcores and engines" },
	{ "pfdk-rtc", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY, false, true, true, NULL,
	  "run to completion: one busy poller resolves and answers" },
	{ "pfdk-pipeline", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_PIPELINE, PFDK_ENGINE_BUSY, false, true, false, NULL,
	  "pollers hand faults through a ring to resolvers" },
	{ "pfdk-colocated", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_COLOCATED, PFDK_ENGINE_EPOLL, false, true, true, NULL,
	  "an epoll poller on the faulters' CPU" },
	{ "pfdk-busy", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY, false, false, false, NULL,
	  "rtc, non-blocking read spin" },
	{ "pfdk-epoll", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_EPOLL, false, false, false, NULL,
	  "rtc, epoll (sleeps)" },
	{ "pfdk-uring", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_URING, false, false, false, NULL,
	  "rtc, io_uring with SQPOLL (SQ thread beside main_cpu)" },
	{ "pfdk-uring-nosqpoll", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_URING_NOSQPOLL, false, false, false, NULL,
	  "rtc, io_uring, completion queue spun" },
	/* uffd only: SIGBUS in the faulting thread; -fa adds fault-around. */
	{ "pfdk-inthread", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_INTHREAD, true, false, true, NULL,
	  "the faulting thread resolves its own fault (SIGBUS)" },
	{ "pfdk-inthread-fa", FB_ROW_PFDK, run_pfdk,
	  PFDK_LAYOUT_RTC, PFDK_ENGINE_INTHREAD, true, false, false, NULL,
	  "pfdk-inthread filling --fault-around pages after each fault" },
	/* The hand-written handlers PFDK is measured against (uffd only). */
	{ "classic", FB_ROW_BASELINE, run_baseline,
	  -1, -1, true, false, true, "poll+read, other CPU",
	  "poll()+read()+UFFDIO_COPY thread on the handler CPU" },
	{ "classic-colocated", FB_ROW_BASELINE, run_baseline,
	  -1, -1, true, false, true, "poll+read, faulters' CPU",
	  "the same thread on the faulters' CPU" },
	{ "epoll-many", FB_ROW_BASELINE, run_baseline,
	  -1, -1, true, false, true, "epoll+read",
	  "one epoll thread over every uffd" },
	{ "sigbus", FB_ROW_BASELINE, run_baseline,
	  -1, -1, true, false, true, "sigbus in the faulting thread",
	  "UFFD_FEATURE_SIGBUS, COPY in the faulting thread's handler" },
	{ "native", FB_ROW_BASELINE, run_baseline,
	  -1, -1, true, false, true, "kernel first touch",
	  "no userfaultfd: the kernel's own first touch (the floor)" },
	/* The hand-written fault-FD handlers, --mock rows beside PFDK's. */
	{ "fd-spin", FB_ROW_FD_BASELINE, fb_fd_baseline_run,
	  -1, -1, false, false, false, "spin read+write",
	  "non-blocking read() spun, write() per burst" },
	{ "fd-poll", FB_ROW_FD_BASELINE, fb_fd_baseline_run,
	  -1, -1, false, false, false, "poll+read+write",
	  "poll() then read() and write() per burst" },
	{ "fd-epoll", FB_ROW_FD_BASELINE, fb_fd_baseline_run,
	  -1, -1, false, false, false, "epoll+read+write",
	  "epoll_wait() then read() and write() per burst" },
};

const unsigned int fb_nb_mode_defs = RTE_DIM(fb_mode_defs);

const struct fb_mode_def *
fb_row_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < fb_nb_mode_defs; i++)
		if (strcmp(fb_mode_defs[i].name, name) == 0)
			return &fb_mode_defs[i];
	return NULL;
}

/* Which fault-FD handler @p m is (0: spin, 1: poll, 2: epoll), or -1. */
int
fb_fd_baseline_find(const char *m)
{
	const struct fb_mode_def *md = fb_row_find(m);
	int b = 0;

	if (md == NULL || md->kind != FB_ROW_FD_BASELINE)
		return -1;
	while (md > fb_mode_defs && md[-1].kind == FB_ROW_FD_BASELINE) {
		md--;
		b++;
	}
	return b;
}

bool
fb_is_baseline(const char *mode)
{
	const struct fb_mode_def *md = fb_row_find(mode);

	return md != NULL && md->kind == FB_ROW_BASELINE;
}

/* Every mode's name, for messages: "pfdk, pfdk-rtc, ...". */
void
fb_mode_names(char *buf, size_t len, bool uffd_only)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < fb_nb_mode_defs; i++)
		if ((fb_mode_defs[i].kind == FB_ROW_PFDK &&
		     fb_mode_defs[i].uffd_only == uffd_only) ||
		    (fb_mode_defs[i].kind == FB_ROW_BASELINE && uffd_only))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? ", " : "", fb_mode_defs[i].name);
}

/* A PFDK row's layout and engine; NULL for a baseline or an unknown name. */
const struct fb_mode_def *
fb_mode_find(const char *name)
{
	const struct fb_mode_def *md = fb_row_find(name);

	return md != NULL && md->kind == FB_ROW_PFDK ? md : NULL;
}

void
fb_default_modes(struct fb_opts *o, bool uffd)
{
	unsigned int i;

	for (i = 0; i < fb_nb_mode_defs; i++)
		if (uffd ? fb_mode_defs[i].def_uffd : fb_mode_defs[i].def_sim)
			strcpy(o->modes[o->nb_modes++], fb_mode_defs[i].name);
}

/* One pass of @p r: its kind's run function. */
static int
run_once(const struct pfdk_profile *prof, struct row *r)
{
	return fb_row_find(r->mode)->run(prof, r);
}

/*
 * The layout and engine a row runs (from its profile; a baseline's own
 * handler), and its fault-around, for the JSON.
 */
void
fb_row_describe(struct row *r, const struct pfdk_profile *v, bool baseline, bool uffd)
{
	unsigned int i;
	size_t n = 0;

	r->fault_around = uffd ? 0 : -1;
	if (baseline) {
		snprintf(r->layout, sizeof(r->layout), "baseline");
		const struct fb_mode_def *md = fb_row_find(r->mode);

		if (md != NULL && md->bl_engine != NULL)
			snprintf(r->engine, sizeof(r->engine), "%s", md->bl_engine);
		return;
	}
	if (v->nb_lcores == 0)
		return; /* refused: not run */
	snprintf(r->layout, sizeof(r->layout), "%s", pfdk_layout_name(v->layout));
	for (i = 0; i < v->nb_lcores; i++) {
		const char *e = pfdk_engine_name(v->lcores[i].engine);

		if (v->lcores[i].role != PFDK_ROLE_POLLER)
			continue;
		/* Each engine once: "busy", "epoll+busy". */
		if (n > 0 && strstr(r->engine, e) != NULL)
			continue;
		n += (size_t)snprintf(r->engine + n,
				      n < sizeof(r->engine) ? sizeof(r->engine) - n : 0,
				      "%s%s", n ? "+" : "", e);
	}
	for (i = 0; uffd && i < v->nb_devices; i++) {
		const char *fa = strstr(v->devices[i].devargs, "fault_around=");

		if (fa != NULL)
			r->fault_around = atoi(fa + 13);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @p v[0..n), and its min and max; @p v keeps its (run) order. */
static double
median(const double *v, unsigned int n, double *lo, double *hi)
{
	double s[FB_MAX_REPEAT];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

#define PROGRESS_AFTER_S 3.0 /* short benches stay quiet */
#define PROGRESS_EVERY_S 2.0 /* at most this often into a log */

/*
 * The progress line on stderr: rewritten in place on a terminal, else
 * whole lines, rate-limited so a log stays readable.
 */
static struct {
	double t0;           /* bench start, CLOCK_MONOTONIC seconds */
	double last;         /* last line written (not on a terminal) */
	unsigned int row;    /* the row running, from 0 */
	unsigned int nrows;
	bool tty;            /* stderr is a terminal */
	bool shown;          /* a line is on the terminal, not ended */
} prog;

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
fb_progress_start(unsigned int nrows)
{
	prog.t0 = mono_s();
	prog.last = 0;
	prog.nrows = nrows;
	prog.tty = isatty(STDERR_FILENO) == 1;
	prog.shown = false;
}

/* Before run @p k of @p repeat of the row prog.row. */
static void
progress_run(const struct row *r, unsigned int k, unsigned int repeat)
{
	double now = mono_s(), el = now - prog.t0;

	if (el < PROGRESS_AFTER_S)
		return;
	if (!prog.tty && prog.last > 0 && now - prog.last < PROGRESS_EVERY_S)
		return;
	prog.last = now;
	/* \033[K: clear what a longer previous line left on the right. */
	fprintf(stderr, "%sprogress: row %u/%u %s run %u/%u, elapsed %.0f s%s",
		prog.tty ? "\r" : "", prog.row + 1, prog.nrows, r->mode, k + 1,
		repeat, el, prog.tty ? "\033[K" : "\n");
	fflush(stderr);
	prog.shown = prog.tty;
}

/*
 * Take the terminal's progress line away (@p keep false: erased, so a
 * line of output takes its place) or end it with a newline.
 */
void
fb_progress_end(bool keep)
{
	if (!prog.shown)
		return;
	fputs(keep ? "\n" : "\r\033[K", stderr);
	fflush(stderr);
	prog.shown = false;
}

void
fb_progress_row(unsigned int row)
{
	prog.row = row;
}

/*
 * One run: one pass (run_once()), or with --duration passes back to back
 * until their measured time (uffd: touching phases; sim: the runs) reaches
 * it, the run's numbers over all its passes: faults and times summed,
 * latencies from the merged histogram. An interrupted pass discards the
 * run, as without --duration.
 */
static int
run_timed(const struct pfdk_profile *prof, struct row *r)
{
	struct pfdk_hist *acc, *keep = r->hist;
	struct pfdk_hist_summary s;
	double wall = 0, hcpu = 0, fcpu = 0, hz = (double)rte_get_tsc_hz();
	uint64_t faults = 0;
	struct row pass;
	int ret;

	r->passes = 1;
	if (fb_duration_s <= 0)
		return run_once(prof, r);
	acc = calloc(1, sizeof(*acc));
	if (acc == NULL)
		return -1;
	r->passes = 0;
	do {
		pass = *r;
		pass.hist = acc;
		pass.faults = pass.lost = pass.duplicated = pass.backpressure = pass.retried = 0;
		ret = run_once(prof, &pass);
		if (ret != 0) {
			memcpy(r->skip_reason, pass.skip_reason, sizeof(r->skip_reason));
			r->skipped = pass.skipped;
			free(acc);
			return ret;
		}
		faults += pass.faults;
		wall += pass.wall_s;
		hcpu += pass.cpu_handler_s;
		fcpu += pass.cpu_faulters_s;
		r->lost += pass.lost;
		r->duplicated += pass.duplicated;
		r->backpressure += pass.backpressure;
		r->retried += pass.retried;
		r->passes++;
	} while (wall < fb_duration_s && fb_stop_signal == 0);
	if (fb_stop_signal != 0) {
		free(acc);
		return 2;
	}
	pfdk_hist_summarize(acc, &s);
	r->threads = pass.threads;
	r->uffds = pass.uffds;
	r->page_size = pass.page_size;
	r->faults = faults;
	r->wall_s = wall;
	r->faults_per_s = wall > 0 ? (double)faults / wall : 0;
	r->ns_per_fault = r->faults_per_s > 0 ? 1e9 / r->faults_per_s : 0;
	r->p50_us = (double)s.p50 * 1e6 / hz;
	r->p90_us = (double)s.p90 * 1e6 / hz;
	r->p99_us = (double)s.p99 * 1e6 / hz;
	r->p999_us = (double)s.p999 * 1e6 / hz;
	r->max_us = (double)s.max * 1e6 / hz;
	r->cpu_handler_s = hcpu;
	r->cpu_faulters_s = fcpu;
	if (keep != NULL)
		pfdk_hist_merge(keep, acc);
	free(acc);
	return 0;
}

/*
 * Run @p r once more (its run @p k): 0, 1 (skipped: the reason in @p r),
 * 2 (interrupted: nothing measured), or -1 (failed: not run, the reason in
 * @p r). Correctness counters add up over runs: one loss is a loss.
 */
int
fb_row_run(const struct pfdk_profile *prof, unsigned int k, unsigned int repeat,
	   struct row *r)
{
	double (*v)[FB_MAX_REPEAT] = r->v;
	struct row one;
	int ret;

	progress_run(r, k, repeat);
	one = *r;
	one.faults = one.lost = one.duplicated = one.backpressure = one.retried = 0;
	one.skip_reason[0] = '\0';
	ret = run_timed(prof, &one);
	r->passes = one.passes;
	if (ret == 2)
		return 2;
	if (ret != 0) {
		r->skipped = true;
		r->error = ret < 0;
		if (one.skip_reason[0] != '\0')
			memcpy(r->skip_reason, one.skip_reason, sizeof(r->skip_reason));
		else
			snprintf(r->skip_reason, sizeof(r->skip_reason),
				 "failed in run %u (see the messages above)", k + 1);
		return ret < 0 ? -1 : 1;
	}
	r->threads = one.threads;
	r->uffds = one.uffds;
	r->page_size = one.page_size;
	v[RV_FPS][k] = one.faults_per_s;
	v[RV_NS][k] = one.ns_per_fault;
	v[RV_P50][k] = one.p50_us;
	v[RV_P90][k] = one.p90_us;
	v[RV_P99][k] = one.p99_us;
	v[RV_P999][k] = one.p999_us;
	v[RV_MAX][k] = one.max_us;
	v[RV_WALL][k] = one.wall_s;
	v[RV_HCPU][k] = one.cpu_handler_s;
	v[RV_FCPU][k] = one.cpu_faulters_s;
	r->faults += one.faults;
	r->lost += one.lost;
	r->duplicated += one.duplicated;
	r->backpressure += one.backpressure;
	r->retried += one.retried;
	return 0;
}

/* Medians (and min, max) over the row's @p n runs. */
void
fb_row_finish(struct row *r, unsigned int n)
{
	double med[RV_N];
	unsigned int k;

	if (n == 0)
		return;
	r->nruns = n;
	for (k = 0; k < RV_N; k++)
		med[k] = median(r->v[k], n, &r->lo[k], &r->hi[k]);
	r->faults /= n;
	r->faults_per_s = med[RV_FPS];
	r->ns_per_fault = med[RV_NS];
	r->p50_us = med[RV_P50];
	r->p90_us = med[RV_P90];
	r->p99_us = med[RV_P99];
	r->p999_us = med[RV_P999];
	r->max_us = med[RV_MAX];
	r->wall_s = med[RV_WALL];
	r->cpu_handler_s = med[RV_HCPU];
	r->cpu_faulters_s = med[RV_FCPU];
}

/* faults/s against the classic and native rows of the same run. */
void
fb_set_ratios(struct row *rows, unsigned int n)
{
	double classic = 0, native = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (rows[i].skipped)
			continue;
		if (strcmp(rows[i].mode, "classic") == 0)
			classic = rows[i].faults_per_s;
		else if (strcmp(rows[i].mode, "native") == 0)
			native = rows[i].faults_per_s;
	}
	for (i = 0; i < n; i++) {
		rows[i].ratio_classic = classic > 0 ? rows[i].faults_per_s / classic : 0;
		rows[i].ratio_native = native > 0 ? rows[i].faults_per_s / native : 0;
	}
}
