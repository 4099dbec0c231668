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
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_iommufd.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_sim.h"
#include "pfdk_uffd.h"

#include "faultbench.h"
#include "iommufd_mock.h"

extern const char pfdk_default_profile[];






static struct fb_topo topo;          /* the uffd source: where rows are placed */
static char faulter_list[256];       /* fb_uffd's faulter CPUs as a list */

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














/*
 * The EAL's lcores: the user's lcore options (-l, -c, --lcores,
 * --main-lcore) as typed, extended with what the rows need; without any,
 * the main lcore on the profile's main_cpu. Filled before the rows are
 * placed, written into the EAL arguments after.
 */
static struct pfdk_eal_lcores lmap;

/*
 * Give each row's lcores EAL lcores pinned to the CPUs the row asks for
 * (pfdk_eal_lcore_pick(): the row's own id where it fits). A row that
 * cannot be placed (its CPU is outside the user's -l/-c/--lcores) is not
 * run, with the reason.
 */
static void
place_rows(struct pfdk_profile *variants, struct row *rows, unsigned int nrows)
{
	char err[256];
	unsigned int i, k;
	int id;

	for (i = 0; i < nrows; i++) {
		struct pfdk_profile *v = &variants[i];
		uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };

		for (k = 0; k < v->nb_lcores && !rows[i].skipped; k++) {
			id = pfdk_eal_lcore_pick(&lmap, v->lcores[k].cpu,
						 v->lcores[k].lcore_id, taken, err,
						 sizeof(err));
			if (id < 0) {
				rows[i].skipped = true;
				snprintf(rows[i].skip_reason, sizeof(rows[i].skip_reason),
					 "its %s lcore %s", pfdk_role_name(v->lcores[k].role), err);
				break;
			}
			v->lcores[k].lcore_id = (unsigned int)id;
			taken[id / 64] |= 1ull << (id % 64);
		}
	}
}

/* Print the lcore map: the EAL's, then each row's (the user sees where rows run). */
static void
print_lcore_map(const char *lcores, const struct pfdk_profile *variants,
		const struct row *rows, unsigned int nrows)
{
	char added[512];
	unsigned int i, k;

	if (pfdk_eal_lcores_format(&lmap, true, added, sizeof(added)) < 0)
		snprintf(added, sizeof(added), "...");
	printf("lcores: EAL --lcores %s, main lcore %u (%s%s%s%s)\n", lcores,
	       lmap.main_lcore, lmap.given ? "your " : "from the profile",
	       lmap.given ? lmap.spec : "", lmap.given && added[0] ? ", added for the rows: " : "",
	       lmap.given ? added : "");
	printf("lcores per row:");
	for (i = 0; i < nrows; i++) {
		const struct pfdk_profile *v = &variants[i];

		if (rows[i].skipped || v->nb_lcores == 0)
			continue;
		printf(" %s", rows[i].mode);
		if (rows[i].burst)
			printf("/%u", rows[i].burst);
		for (k = 0; k < v->nb_lcores; k++)
			printf("%s%u@%d", k ? "," : " ", v->lcores[k].lcore_id, v->lcores[k].cpu);
		printf(";");
	}
	printf("\n");
}

/*
 * The uffd workload's CPUs, from the machine's topology (topo.c): the
 * faulting threads on --faulter-cpus, else on the profile's main_cpu (or
 * the first CPU the user's lcore option gives, when it leaves main_cpu
 * out); the generated rows' handler CPU (other_cpu) on the faulters' NUMA
 * node and off their physical cores where the machine has such a CPU,
 * among the CPUs the lcore option gives when it gives them. The same
 * placement on 2 CPUs as on 16 cores and 2 nodes, no --lcores needed.
 */
static int
place_uffd(const struct fb_opts *o, const struct pfdk_profile *prof)
{
	struct fb_uffd_opts *u = &fb_uffd;
	cpu_set_t fset;
	char list[256];
	int c;

	if (fb_topo_load(&topo) < 0) {
		fprintf(stderr, "cannot read the CPU topology (%s/sys/devices/system/cpu)\n",
			topo.fake ? getenv("PFDK_SYSFS_ROOT") : "");
		return -1;
	}
	*u = o->u;
	u->nb_faulter_cpus = 0;
	if (o->faulter_cpus != NULL) {
		fb_cpulist_parse(o->faulter_cpus, &fset);
		for (c = 0; c < FB_MAX_CPUS; c++) {
			if (!CPU_ISSET(c, &fset))
				continue;
			if (!CPU_ISSET(c, &topo.allowed)) {
				fprintf(stderr, "--faulter-cpus %s: CPU %d is not online or not "
					"in this process's CPU mask\n", o->faulter_cpus, c);
				return -1;
			}
			if (lmap.given && !CPU_ISSET(c, &lmap.allowed)) {
				fprintf(stderr, "--faulter-cpus %s: CPU %d is not among the "
					"CPUs of the EAL lcore option (%s)\n", o->faulter_cpus,
					c, lmap.spec);
				return -1;
			}
			u->faulter_cpu[u->nb_faulter_cpus++] = c;
		}
	} else {
		c = prof->main_cpu;
		if (lmap.given && !CPU_ISSET(c, &lmap.allowed))
			for (c = 0; c < FB_MAX_CPUS && !CPU_ISSET(c, &lmap.allowed); c++)
				;
		u->faulter_cpu[u->nb_faulter_cpus++] = c;
		CPU_ZERO(&fset);
		CPU_SET(c, &fset);
	}
	u->fault_cpu = u->faulter_cpu[0];
	u->fault_node = topo.node[u->fault_cpu];
	u->other_cpu = fb_topo_pick(&topo, &fset, u->fault_cpu,
				    lmap.given ? &lmap.allowed : NULL);
	/*
	 * None among the CPUs given (-l 0): the best CPU of the machine, so
	 * the rows that need one are "not run" with the CPU named; on a
	 * one-CPU machine, the faulters' own.
	 */
	if (u->other_cpu < 0)
		u->other_cpu = fb_topo_pick(&topo, &fset, u->fault_cpu, NULL);
	if (u->other_cpu < 0)
		u->other_cpu = u->fault_cpu;
	u->other_node = topo.node[u->other_cpu];
	if (topo.fake) {
		/* Rows are checked against the machine described, not this one. */
		u->check_ncpus = topo.ncpus;
		u->check_nnodes = topo.nnodes;
	}
	fb_cpulist_format(&fset, list, sizeof(list));
	snprintf(faulter_list, sizeof(faulter_list), "%s", list);
	return 0;
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
	rep->faulter_cpus = uffd ? faulter_list : NULL;
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
			 thr, faulter_list, fb_uffd.pages,
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

/*
 * --dry-run: each row's lcores (role, CPU, node, engine), the faulting
 * threads' CPUs and the handler CPU of the baselines; nothing runs.
 */
static void
print_dry_run(const struct fb_opts *o, const struct pfdk_profile *variants,
	      const struct row *rows, unsigned int nrows, bool uffd)
{
	unsigned int i, k;

	if (uffd)
		printf("dry run: %u CPU(s), %u node(s)%s; faulting threads on CPU %s "
		       "(node %d); handler CPU %d (node %d)\n",
		       (unsigned int)CPU_COUNT(&topo.online), topo.nnodes,
		       topo.fake ? " (from $PFDK_SYSFS_ROOT)" : "", faulter_list,
		       fb_uffd.fault_node, fb_uffd.other_cpu, fb_uffd.other_node);
	else
		printf("dry run: source %s, rows as the profile places them\n", o->source);
	for (i = 0; i < nrows; i++) {
		const struct pfdk_profile *v = &variants[i];

		printf("row %-20s", rows[i].mode);
		if (rows[i].burst)
			printf(" burst %-3u", rows[i].burst);
		if (rows[i].skipped) {
			printf(" not run: %s\n", rows[i].skip_reason);
			continue;
		}
		if (v->nb_lcores == 0) {
			/* A baseline: a hand-written handler thread, or none. */
			if (strcmp(rows[i].mode, "native") == 0 || strcmp(rows[i].mode, "sigbus") == 0)
				printf(" handler: none (in the faulting threads)\n");
			else
				printf(" handler thread on CPU %d\n",
				       strcmp(rows[i].mode, "classic-colocated") == 0 ?
				       fb_uffd.fault_cpu : fb_uffd.other_cpu);
			continue;
		}
		for (k = 0; k < v->nb_lcores; k++) {
			const struct pfdk_profile_lcore *lc = &v->lcores[k];

			printf(" %s cpu %d node %d", pfdk_role_name(lc->role), lc->cpu, lc->node);
			if (lc->role == PFDK_ROLE_POLLER)
				printf(" engine %s", pfdk_engine_name(lc->engine));
			printf(k + 1 < v->nb_lcores ? ";" : "");
		}
		printf("\n");
	}
}

/*
 * EAL arguments: the bench's defaults first (so the user's own --log-level
 * comes later and wins), --no-pci unless the user asked for PCI devices
 * (PFDK's devices are not PCI devices: the scan only costs), then the
 * user's arguments with their lcore options replaced by the map.
 */
static int
build_eal_args(char **argv, int dashdash, char **eal, int eal_len, char *lcores,
	       size_t lcores_len, char *main_lcore, size_t main_len)
{
	int uargc = dashdash > 1 ? dashdash : 1, n = 0, m, i;
	char *tmp[uargc + 4 + 1];

	if (pfdk_eal_lcores_format(&lmap, false, lcores, lcores_len) < 0)
		return -1;
	snprintf(main_lcore, main_len, "%u", lmap.main_lcore);
	m = pfdk_eal_args_lcores(uargc, argv, lcores, main_lcore, tmp, (int)RTE_DIM(tmp));
	if (m < 0 || eal_len < m + 3 + 1)
		return -1;
	eal[n++] = tmp[0];
	eal[n++] = (char *)(uintptr_t)"--log-level=lib.eal:warning";
	eal[n++] = (char *)(uintptr_t)"--log-level=lib.telemetry:warning";
	if (!pfdk_eal_args_want_pci(uargc, argv))
		eal[n++] = (char *)(uintptr_t)"--no-pci";
	for (i = 1; i < m; i++)
		eal[n++] = tmp[i];
	eal[n] = NULL;
	return n;
}

/*
 * EAL options the bench cannot honour, refused before the EAL starts:
 * the bench creates its own devices and pools, so it must be the primary
 * process (a secondary waits for a primary that is not there).
 */
static int
eal_args_check(int uargc, char **argv)
{
	int i;

	for (i = 1; i < uargc; i++) {
		const char *v = NULL;

		if (strncmp(argv[i], "--proc-type=", 12) == 0)
			v = argv[i] + 12;
		else if (strcmp(argv[i], "--proc-type") == 0 && i + 1 < uargc)
			v = argv[i + 1];
		if (v != NULL && strcmp(v, "primary") != 0) {
			fprintf(stderr, "EAL option --proc-type %s: pfdk-faultbench creates its "
				"own devices and pools and runs as the primary process only\n", v);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fb_opts o = {
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
	};
	static struct pfdk_profile prof, variants[FB_MAX_ROWS];
	static struct row rows[FB_MAX_ROWS];
	static unsigned int nruns[FB_MAX_ROWS];
	char err[512], lcores[2048], main_lcore[16], access_buf[16], tl[128], ul[128];
	static struct fb_report rep;
	char *eal[argc + 16];
	unsigned int i, j, k, nrows = 0, pt, npoints, start;
	int dashdash, neal, ret, json_fd = -1, fd;
	bool json_created = false, plot_created = false;
	struct sigaction sa;
	bool failed = false, uffd;

	for (dashdash = 1; dashdash < argc; dashdash++)
		if (strcmp(argv[dashdash], "--") == 0)
			break;
	/* Without "--" every argument is ours and the EAL gets the profile's. */
	if (dashdash == argc)
		dashdash = 0;
	{
		char *app_argv[argc + 1];
		int app_argc = 0;

		app_argv[app_argc++] = argv[0];
		for (i = (unsigned int)dashdash + 1; i < (unsigned int)argc; i++)
			app_argv[app_argc++] = argv[i];
		app_argv[app_argc] = NULL;
		if (fb_opts_parse(app_argc, app_argv, &o) < 0)
			return 2;
	}
	uffd = strcmp(o.source, "uffd") == 0;
	fb_duration_s = o.duration_s;
	if (o.nb_modes == 0)
		fb_default_modes(&o, uffd);
	if (o.profile != NULL)
		/* --source uffd replaces the profile's devices with its own */
		ret = pfdk_profile_load(o.profile, &prof,
			&(struct pfdk_profile_check){ .no_driver_checks = uffd },
			err, sizeof(err));
	else
		ret = pfdk_profile_load_string("config/default.ini (embedded)",
					       pfdk_default_profile,
					       strlen(pfdk_default_profile), &prof,
					       NULL, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (o.devargs != NULL && pfdk_fault_devargs_check(o.devargs, err, sizeof(err)) < 0) {
		fprintf(stderr, "--devargs %s: %s\n", o.devargs, err);
		return 2;
	}
	if (strcmp(o.source, "iommufd") == 0) {
		if (fb_iommufd_setup(&o, &prof) < 0)
			return 2;
	} else if (!uffd && fb_sim_devices_check(&prof, o.devargs, o.faults, err,
						 sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (o.nb_bursts == 0) {
		o.bursts[o.nb_bursts++] = prof.burst;
		if (prof.burst != 64 && !uffd && !fb_iommufd_real)
			o.bursts[o.nb_bursts++] = 64;
	}
	if (eal_args_check(dashdash > 1 ? dashdash : 1, argv) < 0)
		return 2;
	if (pfdk_eal_lcores_parse(dashdash > 1 ? dashdash : 1, argv, prof.main_cpu,
				  &lmap, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (uffd && place_uffd(&o, &prof) < 0)
		return 2;
	/* Sweep points: threads x uffds (one point without lists, and for sim). */
	if (o.nb_threads == 0)
		o.threads[o.nb_threads++] = o.u.threads;
	if (o.nb_uffds == 0)
		o.uffds[o.nb_uffds++] = o.u.uffds;
	npoints = uffd ? o.nb_threads * o.nb_uffds : 1;
	if (npoints > FB_MAX_POINTS) {
		fprintf(stderr, "--threads x --uffds: %u points, at most %d\n", npoints, FB_MAX_POINTS);
		return 2;
	}
	/* Every row's profile, point after point. */
	for (pt = 0; pt < npoints; pt++)
	for (i = 0; i < o.nb_modes; i++) {
		bool bl = (uffd && fb_is_baseline(o.modes[i])) ||
			  (fb_mock_on && fb_fd_baseline_find(o.modes[i]) >= 0);

		point_set(&o, pt);

		for (j = 0; j < (bl ? 1 : o.nb_bursts); j++) {
			struct pfdk_profile *v = &variants[nrows];
			const struct fb_mode_def *md = fb_mode_find(o.modes[i]);

			if (nrows == FB_MAX_ROWS) {
				fprintf(stderr, "too many rows\n");
				return 2;
			}
			if (bl) {
				memset(v, 0, sizeof(*v));
			} else if (uffd) {
				/* A layout the validator refuses here is a skipped row. */
				if (fb_uffd_row_profile(&prof, md->layout, md->engine,
						o.bursts[j], &fb_uffd,
						strcmp(o.modes[i], "pfdk-inthread-fa") == 0 ?
						fb_uffd.fault_around : 0, v, err,
						sizeof(err)) < 0) {
					rows[nrows].skipped = true;
					snprintf(rows[nrows].skip_reason,
						 sizeof(rows[nrows].skip_reason),
						 "layout refused: %s", err);
					memset(v, 0, sizeof(*v));
				}
			} else if (fb_sim_row_profile(&prof, o.modes[i], o.bursts[j],
					o.faults, o.devargs, v) < 0) {
				fprintf(stderr, "%s: the row's profile does not fit (lcores "
					"or devargs)\n", o.modes[i]);
				return 2;
			}
			snprintf(rows[nrows].mode, sizeof(rows[nrows].mode), "%s", o.modes[i]);
			rows[nrows].source = o.source;
			rows[nrows].pt = pt;
			/* Shown for rows that do not run too (the sweep summary). */
			rows[nrows].threads = uffd ? fb_uffd.threads : 0;
			rows[nrows].uffds = uffd ? fb_uffd.uffds : 0;
			fb_row_describe(&rows[nrows], v, bl, uffd);
			rows[nrows].burst = bl ? 0 : o.bursts[j];
			nrows++;
		}
	}
	place_rows(variants, rows, nrows);
	fill_report(&rep, &o, &prof, argc, argv, uffd);
	if (o.dry_run) {
		print_dry_run(&o, variants, rows, nrows, uffd);
		return 0;
	}
	/* --plot: each row's latencies, merged over its runs (~15 KiB each). */
	for (i = 0; o.plot != NULL && i < nrows; i++) {
		rows[i].hist = calloc(1, sizeof(*rows[i].hist));
		if (rows[i].hist == NULL) {
			fprintf(stderr, "--plot: out of memory\n");
			return 1;
		}
	}
	/* The output files before anything runs: a bad path costs no run. */
	if (o.json != NULL) {
		json_fd = fb_out_check("--json", o.json, &json_created);
		if (json_fd < 0)
			return 2;
	}
	if (o.plot != NULL) {
		fd = fb_out_check("--plot", o.plot, &plot_created);
		if (fd < 0) {
			if (json_created)
				unlink(o.json);
			return 2;
		}
		close(fd);
		/* gnuplot makes it; none is left behind if nothing is drawn. */
		if (plot_created)
			unlink(o.plot);
	}
	neal = build_eal_args(argv, dashdash, eal, (int)RTE_DIM(eal), lcores,
			      sizeof(lcores), main_lcore, sizeof(main_lcore));
	rte_errno = 0;
	if (neal < 0 || pfdk_init(neal, eal) < 0) {
		if (neal < 0)
			fprintf(stderr, "EAL arguments: the lcore map does not fit (%u lcores)\n",
				lmap.nb);
		else
			fprintf(stderr, "EAL init failed: %s; EAL arguments:",
				rte_errno != 0 ? rte_strerror(rte_errno) :
				"cause not reported (see the EAL's messages above)");
		for (i = 1; neal > 0 && i < (unsigned int)neal; i++)
			fprintf(stderr, " %s", eal[i]);
		fprintf(stderr, "\n");
		if (json_created)
			unlink(o.json);
		return neal < 0 ? 2 : 1;
	}
	/*
	 * SIGINT/SIGTERM: the runs stop, what finished is reported. A later
	 * signal kills as usual, should stopping itself hang.
	 */
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (uffd)
		printf("pfdk-faultbench: profile '%s' (%s), source uffd, %" PRIu64
		       " pages of %s, %s faulting thread(s) on CPU %s, %s uffd(s), "
		       "pattern %s, access %s, handler CPU %d, %u run(s) per row "
		       "(medians), TSC %.2f GHz\n",
		       prof.name, o.profile ? o.profile : "embedded default",
		       (o.u.pages + o.u.uffds - 1) / o.u.uffds * o.u.uffds,
		       o.u.page_size == 4096 ? "4 KiB" : "2 MiB",
		       uint_list(o.threads, o.nb_threads, tl, sizeof(tl)),
		       faulter_list, uint_list(o.uffds, o.nb_uffds, ul, sizeof(ul)),
		       o.u.pattern == FB_PAT_SEQ ? "seq" :
		       o.u.pattern == FB_PAT_RANDOM ? "random" : "stride",
		       fb_access_name(&fb_uffd, access_buf, sizeof(access_buf)),
		       fb_uffd.other_cpu, o.repeat, (double)rte_get_tsc_hz() / 1e9);
	else
		printf("pfdk-faultbench: profile '%s' (%s), source %s, %" PRIu64
		       " faults per row, %u run(s) per row (medians), %s memory, TSC %.2f GHz\n",
		       prof.name, o.profile ? o.profile : "embedded default", o.source,
		       o.faults, o.repeat, pfdk_has_hugepages() ? "hugepage" : "ordinary",
		       (double)rte_get_tsc_hz() / 1e9);
	print_lcore_map(lcores, variants, rows, nrows);
	fb_progress_start(nrows);
	if (uffd)
		fb_uffd_warm(&fb_uffd);
	/*
	 * Rounds: every row once, then every row again, so a drift of the
	 * machine (another tenant, host memory, CPU clocks) spreads over all
	 * rows instead of favouring the ones that ran first.
	 */
	for (k = 0; k < o.repeat && fb_stop_signal == 0; k++) {
		if (k > 0) {
			fb_progress_end(false);
			printf("round %u/%u ...\n", k + 1, o.repeat);
		}
		for (i = 0; i < nrows && fb_stop_signal == 0; i++) {
			if (rows[i].skipped)
				continue;
			fb_progress_end(false); /* this output line in its place */
			fb_progress_row(i);
			if (k == 0 && rows[i].burst)
				printf("running %-20s burst %-3u ...\n", rows[i].mode, rows[i].burst);
			else if (k == 0)
				printf("running %-20s ...\n", rows[i].mode);
			fflush(stdout);
			point_set(&o, rows[i].pt);
			ret = fb_row_run(&variants[i], k, o.repeat, &rows[i]);
			if (ret == 2)
				break;
			if (ret != 0) {
				/* Not run (the reason in the table); the other rows still run. */
				fb_progress_end(false);
				printf("skip: %s: %s\n", rows[i].mode, rows[i].skip_reason);
				failed |= ret < 0;
			} else {
				nruns[i]++;
			}
			if (rows[i].lost || rows[i].duplicated)
				failed = true;
		}
	}
	/* Interrupted: rows with no finished run were not run; the others show theirs. */
	for (i = 0; i < nrows; i++) {
		if (!rows[i].skipped && nruns[i] == 0) {
			rows[i].skipped = true;
			snprintf(rows[i].skip_reason, sizeof(rows[i].skip_reason),
				 "interrupted by %s before a run finished",
				 fb_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
		}
		if (!rows[i].skipped)
			fb_row_finish(&rows[i], nruns[i]);
	}
	fb_progress_end(true);
	if (fb_stop_signal != 0)
		printf("\ninterrupted by %s: the table shows the runs that finished\n",
		       fb_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
	/* A table per point: ratios and spread are within a point. */
	for (start = 0, pt = 0; pt < npoints; pt++) {
		for (i = start; i < nrows && rows[i].pt == pt; i++)
			;
		point_set(&o, pt);
		report_workload(&rep, false);
		fb_set_ratios(rows + start, i - start);
		fb_mark_spread(rows + start, i - start);
		fb_print_table(&rep, rows + start, i - start);
		start = i;
	}
	if (npoints > 1)
		fb_print_sweep(rows, nrows, npoints);
	report_workload(&rep, true);
	if (o.json != NULL && fb_write_json(json_fd, o.json, &rep, rows, nrows) < 0)
		failed = true;
	fflush(stdout); /* the table before anything gnuplot says */
	if (o.plot != NULL && fb_write_plot(o.plot, &rep, rows, nrows) < 0)
		failed = true;
	if (o.plot != NULL && npoints > 1) {
		char tp[PATH_MAX];
		size_t len = strlen(o.plot);

		/* FILE.png: FILE-throughput.png beside it. */
		if (len > 4 && strcmp(o.plot + len - 4, ".png") == 0)
			len -= 4;
		snprintf(tp, sizeof(tp), "%.*s-throughput.png", (int)len, o.plot);
		if (fb_write_sweep_plot(tp, &rep, rows, nrows) < 0)
			failed = true;
	}
	for (i = 0; i < nrows; i++)
		free(rows[i].hist);
	pfdk_cleanup();
	if (fb_mock_close() < 0)
		failed = true;
	if (failed)
		fprintf(stderr, "pfdk-faultbench: FAILED (a row failed to run, or lost or "
			"duplicated a fault, or --json/--plot could not be written)\n");
	if (fb_stop_signal != 0)
		return 128 + fb_stop_signal;
	return failed ? 1 : 0;
}
