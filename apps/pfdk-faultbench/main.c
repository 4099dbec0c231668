/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench: fault rates and latencies of PFDK layouts, each row run
 * in this process, so rows compare within one run on one machine.
 *
 *   pfdk-faultbench [EAL args] -- [options]      (no arguments: the default)
 *   pfdk-faultbench [options]                    (EAL lcores from the profile)
 *
 * Sources: sim (the synthetic device) and uffd (faulting threads on
 * userfaultfd regions, uffd_source.c), where the PFDK rows run beside the
 * hand-written baselines classic, classic-colocated, epoll-many and native
 * (baselines.c). uffd is the default where userfaultfd works and no
 * sim-only option (--faults, --devargs) is given. pfdk-inthread rows (the
 * faulting threads resolve their own faults, engine = inthread) and the
 * hand-written sigbus baseline need the uffd source. iommufd runs the
 * PFDK rows on one iommufd device: the in-process emulator by default
 * ("iommufd0,emu=1", total= from --faults), or a real fault FD the bench
 * inherited (--devargs iommufd0,fault_fd=N), served until --faults groups
 * are answered, the FD hangs up, or SIGINT/SIGTERM.
 *
 * This file orchestrates: options (opts.c), profile and source setup,
 * placement (place.c), the rows (rows.c: the row table and its runs; the
 * sources in sim_source.c, iommufd_source.c, uffd_source.c), the EAL,
 * the rounds, and the report (report.c).
 */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_profile.h"

#include "faultbench.h"

extern const char pfdk_default_profile[];

volatile sig_atomic_t fb_stop_signal;
static struct timespec stop_signal_at;

/*
 * The first SIGINT/SIGTERM asks the bench to stop. Wrappers deliver one
 * more at once (timeout(1) signals the child and then its whole process
 * group), so only a signal a second or more after the first kills, for a
 * stop that hangs. Only async-signal-safe calls here.
 */
static void
on_stop_signal(int sig)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (fb_stop_signal == 0) {
		stop_signal_at = now;
		fb_stop_signal = sig;
		return;
	}
	if (now.tv_sec - stop_signal_at.tv_sec >= 2 ||
	    (now.tv_sec - stop_signal_at.tv_sec == 1 &&
	     now.tv_nsec >= stop_signal_at.tv_nsec)) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

static void report_workload(struct fb_report *rep, bool all_points);

/* "1,2,4" */
static const char *
uint_list(const unsigned int *v, unsigned int n, char *buf, size_t len)
{
	size_t k = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s%u", i ? "," : "", v[i]);
	return buf;
}

/* Point @p pt of the sweep into fb_uffd: threads outer, uffds inner. */
static void
point_set(const struct fb_opts *o, unsigned int pt)
{
	fb_uffd.threads = o->threads[pt / o->nb_uffds];
	fb_uffd.uffds = o->uffds[pt % o->nb_uffds];
}

/* The run as a whole, for the table, the JSON and the plot's title. */
static void
fill_report(struct fb_report *rep, const struct fb_opts *o, const struct pfdk_profile *prof,
	    int argc, char **argv, bool uffd)
{
	time_t now = time(NULL);
	struct tm tm;

	rep->source = o->source;
	rep->uffd = uffd;
	rep->u = uffd ? &fb_uffd : NULL;
	rep->faulter_cpus = uffd ? fb_faulter_list : NULL;
	rep->prof = prof;
	rep->profile_file = o->profile;
	rep->devargs = o->devargs;
	rep->faults = o->faults;
	rep->repeat = o->repeat;
	rep->argc = argc;
	rep->argv = argv;
	rep->plot_kind = o->plot_kind;
	gmtime_r(&now, &tm);
	strftime(rep->timestamp, sizeof(rep->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	rep->sweep = uffd && o->nb_threads * o->nb_uffds > 1;
	rep->nb_threads = o->nb_threads;
	rep->nb_uffds = o->nb_uffds;
	memcpy(rep->threads, o->threads, sizeof(rep->threads));
	memcpy(rep->uffds, o->uffds, sizeof(rep->uffds));
	rep->duration_s = o->duration_s;
	report_workload(rep, true);
}

/*
 * The workload line: of the point fb_uffd is set to, or with
 * @p all_points a sweep's lists (the plots' titles).
 */
static void
report_workload(struct fb_report *rep, bool all_points)
{
	char acc[16], dur[48] = "", thr[128], uf[128];

	if (rep->duration_s > 0)
		snprintf(dur, sizeof(dur), ", runs of %g s", rep->duration_s);
	if (all_points) {
		uint_list(rep->threads, rep->nb_threads, thr, sizeof(thr));
		uint_list(rep->uffds, rep->nb_uffds, uf, sizeof(uf));
	} else {
		snprintf(thr, sizeof(thr), "%u", fb_uffd.threads);
		snprintf(uf, sizeof(uf), "%u", fb_uffd.uffds);
	}
	if (rep->uffd)
		snprintf(rep->workload, sizeof(rep->workload),
			 "uffd: %s thread(s) on CPU %s, %" PRIu64 " pages of %s, %s uffd(s), "
			 "pattern %s, access %s, %u run(s)%s, profile %s",
			 thr, fb_faulter_list, fb_uffd.pages,
			 fb_uffd.page_size == 4096 ? "4k" : "2m", uf,
			 fb_uffd.pattern == FB_PAT_SEQ ? "seq" :
			 fb_uffd.pattern == FB_PAT_RANDOM ? "random" : "stride",
			 fb_access_name(&fb_uffd, acc, sizeof(acc)), rep->repeat, dur,
			 rep->prof->name);
	else
		snprintf(rep->workload, sizeof(rep->workload),
			 "%s: %" PRIu64 " faults per pass, %u run(s)%s, profile %s", rep->source,
			 rep->faults, rep->repeat, dur, rep->prof->name);
}

/* What main()'s steps share: the options, the rows, the report. */
struct bench {
	struct fb_opts o;
	bool uffd;                   /* --source uffd */
	int argc;                    /* the command line */
	char **argv;
	int dashdash;                /* index of "--" in argv, 0 without */
	struct pfdk_profile prof;
	struct pfdk_profile variants[FB_MAX_ROWS]; /* each row's profile */
	struct row rows[FB_MAX_ROWS];
	unsigned int nruns[FB_MAX_ROWS];           /* each row's finished runs */
	unsigned int nrows, npoints;
	struct fb_report rep;
	char lcores[2048], main_lcore[16];         /* the EAL's, as its arguments */
	int json_fd;
	bool json_created;
	bool failed;                 /* exit 1 */
};

/* The options after "--" (every argument without it); 0 or -1. */
static int
parse_cmdline(struct bench *b)
{
	char *app_argv[b->argc + 1];
	int app_argc = 0, i;

	for (b->dashdash = 1; b->dashdash < b->argc; b->dashdash++)
		if (strcmp(b->argv[b->dashdash], "--") == 0)
			break;
	/* Without "--" every argument is ours and the EAL gets the profile's. */
	if (b->dashdash == b->argc)
		b->dashdash = 0;
	app_argv[app_argc++] = b->argv[0];
	for (i = b->dashdash + 1; i < b->argc; i++)
		app_argv[app_argc++] = b->argv[i];
	app_argv[app_argc] = NULL;
	return fb_opts_parse(app_argc, app_argv, &b->o);
}

/* The profile, the source's devices and the bursts; 0 or -1 (reason printed). */
static int
setup_source(struct bench *b)
{
	struct fb_opts *o = &b->o;
	char err[512];
	int ret;

	if (o->profile != NULL)
		/* --source uffd replaces the profile's devices with its own */
		ret = pfdk_profile_load(o->profile, &b->prof,
			&(struct pfdk_profile_check){ .no_driver_checks = b->uffd },
			err, sizeof(err));
	else
		ret = pfdk_profile_load_string("config/default.ini (embedded)",
					       pfdk_default_profile,
					       strlen(pfdk_default_profile), &b->prof,
					       NULL, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (o->devargs != NULL && pfdk_fault_devargs_check(o->devargs, err, sizeof(err)) < 0) {
		fprintf(stderr, "--devargs %s: %s\n", o->devargs, err);
		return -1;
	}
	if (strcmp(o->source, "iommufd") == 0) {
		if (fb_iommufd_setup(o, &b->prof) < 0)
			return -1;
	} else if (!b->uffd && fb_sim_devices_check(&b->prof, o->devargs, o->faults, err,
						    sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (o->nb_bursts == 0) {
		o->bursts[o->nb_bursts++] = b->prof.burst;
		if (b->prof.burst != 64 && !b->uffd && !fb_iommufd_real)
			o->bursts[o->nb_bursts++] = 64;
	}
	return 0;
}

/* The EAL's lcore options, the uffd workload's CPUs and the sweep points; 0 or -1. */
static int
setup_placement(struct bench *b)
{
	int uargc = b->dashdash > 1 ? b->dashdash : 1;
	struct fb_opts *o = &b->o;
	char err[512];

	if (fb_eal_args_check(uargc, b->argv) < 0)
		return -1;
	if (pfdk_eal_lcores_parse(uargc, b->argv, b->prof.main_cpu, &fb_lmap, err,
				  sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (b->uffd && fb_place_uffd(o, &b->prof) < 0)
		return -1;
	/* Sweep points: threads x uffds (one point without lists, and for sim). */
	if (o->nb_threads == 0)
		o->threads[o->nb_threads++] = o->u.threads;
	if (o->nb_uffds == 0)
		o->uffds[o->nb_uffds++] = o->u.uffds;
	b->npoints = b->uffd ? o->nb_threads * o->nb_uffds : 1;
	if (b->npoints > FB_MAX_POINTS) {
		fprintf(stderr, "--threads x --uffds: %u points, at most %d\n", b->npoints,
			FB_MAX_POINTS);
		return -1;
	}
	return 0;
}

/*
 * Row @p b->nrows: mode @p m at point @p pt with burst @p burst (0 for a
 * baseline @p bl) and its profile; 0 or -1 (a sim profile that does not fit).
 */
static int
add_row(struct bench *b, const char *m, unsigned int pt, uint16_t burst, bool bl)
{
	struct pfdk_profile *v = &b->variants[b->nrows];
	const struct fb_mode_def *md = fb_mode_find(m);
	struct row *r = &b->rows[b->nrows];
	char err[512];

	if (bl) {
		memset(v, 0, sizeof(*v));
	} else if (b->uffd) {
		/* A layout the validator refuses here is a skipped row. */
		if (fb_uffd_row_profile(&b->prof, md->layout, md->engine, burst, &fb_uffd,
					strcmp(m, "pfdk-inthread-fa") == 0 ?
					fb_uffd.fault_around : 0, v, err, sizeof(err)) < 0) {
			r->skipped = true;
			snprintf(r->skip_reason, sizeof(r->skip_reason), "layout refused: %s",
				 err);
			memset(v, 0, sizeof(*v));
		}
	} else if (fb_sim_row_profile(&b->prof, m, burst, b->o.faults, b->o.devargs, v) < 0) {
		fprintf(stderr, "%s: the row's profile does not fit (lcores or devargs)\n", m);
		return -1;
	}
	snprintf(r->mode, sizeof(r->mode), "%s", m);
	r->source = b->o.source;
	r->pt = pt;
	/* Shown for rows that do not run too (the sweep summary). */
	r->threads = b->uffd ? fb_uffd.threads : 0;
	r->uffds = b->uffd ? fb_uffd.uffds : 0;
	fb_row_describe(r, v, bl, b->uffd);
	r->burst = bl ? 0 : burst;
	b->nrows++;
	return 0;
}

/* Every row's profile, point after point: each mode at each burst (baselines once). */
static int
build_rows(struct bench *b)
{
	const struct fb_opts *o = &b->o;
	unsigned int pt, i, j;

	for (pt = 0; pt < b->npoints; pt++)
	for (i = 0; i < o->nb_modes; i++) {
		bool bl = (b->uffd && fb_is_baseline(o->modes[i])) ||
			  (fb_mock_on && fb_fd_baseline_find(o->modes[i]) >= 0);

		point_set(o, pt);
		for (j = 0; j < (bl ? 1 : o->nb_bursts); j++) {
			if (b->nrows == FB_MAX_ROWS) {
				fprintf(stderr, "too many rows\n");
				return -1;
			}
			if (add_row(b, o->modes[i], pt, o->bursts[j], bl) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * --plot's histograms, and the output files before anything runs: a bad
 * path costs no run. 0, or the exit status.
 */
static int
open_outputs(struct bench *b)
{
	const struct fb_opts *o = &b->o;
	bool plot_created = false;
	unsigned int i;
	int fd;

	/* --plot: each row's latencies, merged over its runs (~15 KiB each). */
	for (i = 0; o->plot != NULL && i < b->nrows; i++) {
		b->rows[i].hist = calloc(1, sizeof(*b->rows[i].hist));
		if (b->rows[i].hist == NULL) {
			fprintf(stderr, "--plot: out of memory\n");
			return 1;
		}
	}
	if (o->json != NULL) {
		b->json_fd = fb_out_check("--json", o->json, &b->json_created);
		if (b->json_fd < 0)
			return 2;
	}
	if (o->plot != NULL) {
		fd = fb_out_check("--plot", o->plot, &plot_created);
		if (fd < 0) {
			if (b->json_created)
				unlink(o->json);
			return 2;
		}
		close(fd);
		/* gnuplot makes it; none is left behind if nothing is drawn. */
		if (plot_created)
			unlink(o->plot);
	}
	return 0;
}

/* The EAL with the rows' lcores (@p eal: room for its arguments); 0, or the exit status. */
static int
start_eal(struct bench *b, char **eal, int eal_len)
{
	int neal, i;

	neal = fb_eal_args_build(b->argv, b->dashdash, eal, eal_len, b->lcores,
				 sizeof(b->lcores), b->main_lcore, sizeof(b->main_lcore));
	rte_errno = 0;
	if (neal >= 0 && pfdk_init(neal, eal) >= 0)
		return 0;
	if (neal < 0)
		fprintf(stderr, "EAL arguments: the lcore map does not fit (%u lcores)\n",
			fb_lmap.nb);
	else
		fprintf(stderr, "EAL init failed: %s; EAL arguments:",
			rte_errno != 0 ? rte_strerror(rte_errno) :
			"cause not reported (see the EAL's messages above)");
	for (i = 1; neal > 0 && i < neal; i++)
		fprintf(stderr, " %s", eal[i]);
	fprintf(stderr, "\n");
	if (b->json_created)
		unlink(b->o.json);
	return neal < 0 ? 2 : 1;
}

/*
 * SIGINT/SIGTERM: the runs stop, what finished is reported. A later
 * signal kills as usual, should stopping itself hang.
 */
static void
catch_stop_signals(void)
{
	struct sigaction sa;

	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The first line: profile, source, workload, TSC. */
static void
print_header(const struct bench *b)
{
	const struct fb_opts *o = &b->o;
	char access_buf[16], tl[128], ul[128];

	if (b->uffd)
		printf("pfdk-faultbench: profile '%s' (%s), source uffd, %" PRIu64
		       " pages of %s, %s faulting thread(s) on CPU %s, %s uffd(s), "
		       "pattern %s, access %s, handler CPU %d, %u run(s) per row "
		       "(medians), TSC %.2f GHz\n",
		       b->prof.name, o->profile ? o->profile : "embedded default",
		       (o->u.pages + o->u.uffds - 1) / o->u.uffds * o->u.uffds,
		       o->u.page_size == 4096 ? "4 KiB" : "2 MiB",
		       uint_list(o->threads, o->nb_threads, tl, sizeof(tl)),
		       fb_faulter_list, uint_list(o->uffds, o->nb_uffds, ul, sizeof(ul)),
		       o->u.pattern == FB_PAT_SEQ ? "seq" :
		       o->u.pattern == FB_PAT_RANDOM ? "random" : "stride",
		       fb_access_name(&fb_uffd, access_buf, sizeof(access_buf)),
		       fb_uffd.other_cpu, o->repeat, (double)rte_get_tsc_hz() / 1e9);
	else
		printf("pfdk-faultbench: profile '%s' (%s), source %s, %" PRIu64
		       " faults per row, %u run(s) per row (medians), %s memory, TSC %.2f GHz\n",
		       b->prof.name, o->profile ? o->profile : "embedded default", o->source,
		       o->faults, o->repeat, pfdk_has_hugepages() ? "hugepage" : "ordinary",
		       (double)rte_get_tsc_hz() / 1e9);
}

/* Run @p k of every row, until one is interrupted. */
static void
run_round(struct bench *b, unsigned int k)
{
	unsigned int i;
	int ret;

	for (i = 0; i < b->nrows && fb_stop_signal == 0; i++) {
		struct row *r = &b->rows[i];

		if (r->skipped)
			continue;
		fb_progress_end(false); /* this output line in its place */
		fb_progress_row(i);
		if (k == 0 && r->burst)
			printf("running %-20s burst %-3u ...\n", r->mode, r->burst);
		else if (k == 0)
			printf("running %-20s ...\n", r->mode);
		fflush(stdout);
		point_set(&b->o, r->pt);
		ret = fb_row_run(&b->variants[i], k, b->o.repeat, r);
		if (ret == 2)
			return;
		if (ret != 0) {
			/* Not run (the reason in the table); the other rows still run. */
			fb_progress_end(false);
			printf("skip: %s: %s\n", r->mode, r->skip_reason);
			b->failed |= ret < 0;
		} else {
			b->nruns[i]++;
		}
		if (r->lost || r->duplicated)
			b->failed = true;
	}
}

/*
 * Rounds: every row once, then every row again, so a drift of the
 * machine (another tenant, host memory, CPU clocks) spreads over all
 * rows instead of favouring the ones that ran first. Then each row's
 * medians over the runs that finished.
 */
static void
run_rows(struct bench *b)
{
	unsigned int i, k;

	fb_print_lcore_map(b->lcores, b->variants, b->rows, b->nrows);
	fb_progress_start(b->nrows);
	if (b->uffd)
		fb_uffd_warm(&fb_uffd);
	for (k = 0; k < b->o.repeat && fb_stop_signal == 0; k++) {
		if (k > 0) {
			fb_progress_end(false);
			printf("round %u/%u ...\n", k + 1, b->o.repeat);
		}
		run_round(b, k);
	}
	/* Interrupted: rows with no finished run were not run; the others show theirs. */
	for (i = 0; i < b->nrows; i++) {
		struct row *r = &b->rows[i];

		if (!r->skipped && b->nruns[i] == 0) {
			r->skipped = true;
			snprintf(r->skip_reason, sizeof(r->skip_reason),
				 "interrupted by %s before a run finished",
				 fb_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
		}
		if (!r->skipped)
			fb_row_finish(r, b->nruns[i]);
	}
	fb_progress_end(true);
	if (fb_stop_signal != 0)
		printf("\ninterrupted by %s: the table shows the runs that finished\n",
		       fb_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* The tables (one per point), the sweep's summary, --json and --plot. */
static void
report(struct bench *b)
{
	const struct fb_opts *o = &b->o;
	struct row *rows = b->rows;
	unsigned int i, pt, start;

	/* A table per point: ratios and spread are within a point. */
	for (start = 0, pt = 0; pt < b->npoints; pt++) {
		for (i = start; i < b->nrows && rows[i].pt == pt; i++)
			;
		point_set(o, pt);
		report_workload(&b->rep, false);
		fb_set_ratios(rows + start, i - start);
		fb_mark_spread(rows + start, i - start);
		fb_print_table(&b->rep, rows + start, i - start);
		start = i;
	}
	if (b->npoints > 1)
		fb_print_sweep(rows, b->nrows, b->npoints);
	report_workload(&b->rep, true);
	if (o->json != NULL && fb_write_json(b->json_fd, o->json, &b->rep, rows, b->nrows) < 0)
		b->failed = true;
	fflush(stdout); /* the table before anything gnuplot says */
	if (o->plot != NULL && fb_write_plot(o->plot, &b->rep, rows, b->nrows) < 0)
		b->failed = true;
	if (o->plot != NULL && b->npoints > 1) {
		char tp[PATH_MAX];
		size_t len = strlen(o->plot);

		/* FILE.png: FILE-throughput.png beside it. */
		if (len > 4 && strcmp(o->plot + len - 4, ".png") == 0)
			len -= 4;
		snprintf(tp, sizeof(tp), "%.*s-throughput.png", (int)len, o->plot);
		if (fb_write_sweep_plot(tp, &b->rep, rows, b->nrows) < 0)
			b->failed = true;
	}
}

int
main(int argc, char **argv)
{
	static struct bench b = {
		.o = {
			.source = NULL, /* uffd where it works, else sim */
			.faults = 10000000,
			.repeat = 3,
			.u = {
				.threads = 1,
				.uffds = 1,
				.pages = 16384,
				.page_size = 4096,
				.pattern = FB_PAT_SEQ,
				.access = FB_ACC_WRITE,
				.fault_around = 31,
			},
		},
		.json_fd = -1,
	};
	char *eal[argc + 16];
	unsigned int i;
	int ret;

	b.argc = argc;
	b.argv = argv;
	if (parse_cmdline(&b) < 0)
		return 2;
	b.uffd = strcmp(b.o.source, "uffd") == 0;
	fb_duration_s = b.o.duration_s;
	if (b.o.nb_modes == 0)
		fb_default_modes(&b.o, b.uffd);
	if (setup_source(&b) < 0 || setup_placement(&b) < 0 || build_rows(&b) < 0)
		return 2;
	fb_place_rows(b.variants, b.rows, b.nrows);
	fill_report(&b.rep, &b.o, &b.prof, argc, argv, b.uffd);
	if (b.o.dry_run) {
		fb_print_dry_run(&b.o, b.variants, b.rows, b.nrows, b.uffd);
		return 0;
	}
	ret = open_outputs(&b);
	if (ret == 0)
		ret = start_eal(&b, eal, (int)RTE_DIM(eal));
	if (ret != 0)
		return ret;
	catch_stop_signals();
	print_header(&b);
	run_rows(&b);
	report(&b);
	for (i = 0; i < b.nrows; i++)
		free(b.rows[i].hist);
	pfdk_cleanup();
	if (fb_mock_close() < 0)
		b.failed = true;
	if (b.failed)
		fprintf(stderr, "pfdk-faultbench: FAILED (a row failed to run, or lost or "
			"duplicated a fault, or --json/--plot could not be written)\n");
	if (fb_stop_signal != 0)
		return 128 + fb_stop_signal;
	return b.failed ? 1 : 0;
}
