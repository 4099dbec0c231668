/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's command line: --help, one handler per option (a table
 * getopt_long() is built from), and the checks of the options against the
 * source and of --modes against the row table (rows.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "pfdk_eal.h"
#include "pfdk_profile.h"
#include "pfdk_uffd.h"

#include "faultbench.h"


static void
usage(const char *prog)
{
	unsigned int i;

	printf("usage: %s [EAL args] -- [options]\n"
	       "  --source uffd|sim|iommufd  what faults (default: uffd where userfaultfd\n"
	       "                        works, else sim); iommufd: the emulated fault FD\n"
	       "                        (iommufd0,emu=1), or --devargs iommufd0,fault_fd=N:\n"
	       "                        an inherited fault FD served until --faults N groups,\n"
	       "                        hang-up, or SIGINT/SIGTERM\n"
	       "  --devargs STR         device string replacing the profile's first device\n"
	       "  --profile FILE        deployment profile (default: the embedded "
	       "config/default.ini)\n"
	       "  --modes LIST          rows, comma separated (every mode is listed below;\n"
	       "                        default sim: pfdk-rtc, pfdk-pipeline, pfdk-colocated;\n"
	       "                        uffd: pfdk-rtc, pfdk-colocated, pfdk-inthread and the\n"
	       "                        baselines)\n"
	       "  --threads LIST        uffd: faulting threads (default 1); a list (1,2,4,8)\n"
	       "                        is a sweep: every row at each point, a table per\n"
	       "                        point and a faults/s summary (and plot)\n"
	       "  --pages N             uffd: pages per run, over all uffds (default 16384)\n"
	       "  --page-size 4k|2m     uffd: page size; 2m is hugetlb (default 4k)\n"
	       "  --uffds LIST          uffd: separate userfaultfds/regions (default 1); a list\n"
	       "                        sweeps, as --threads does (points: threads x uffds)\n"
	       "  --pattern P           uffd: seq, random or stride:K (default seq)\n"
	       "  --access A            uffd: first touch of each page: read, write, mix (half\n"
	       "                        written) or mix:W (W%% written); every row and the\n"
	       "                        native floor do the same (default write)\n"
	       "  --faulter-cpus LIST   uffd: CPUs of the faulting threads, thread k on the\n"
	       "                        k-th (round robin), e.g. 0 or 0-3,8 (default: the\n"
	       "                        profile's main_cpu); generated rows' handlers go to\n"
	       "                        a CPU on the faulters' node, off their cores\n"
	       "  --fault-around N      uffd: pages filled after each fault in pfdk-inthread-fa\n"
	       "                        rows (default 31, at most 511)\n"
	       "  --mock                iommufd: set up the kernel's mock device\n"
	       "                        (CONFIG_IOMMUFD_TEST, the kernel rig) and serve its real\n"
	       "                        fault queue; a device thread triggers --faults groups\n"
	       "                        per row (default 20000)\n"
	       "  --rate R              --mock: triggers per second (default: as fast as it can)\n"
	       "  --faults N            sim, iommufd emu: faults per row (default 10000000);\n"
	       "                        iommufd fault_fd: groups per row (default: no limit)\n"
	       "  --burst LIST          burst sizes, comma separated (default: the "
	       "profile's and 64)\n"
	       "  --repeat K            K runs per row, medians reported (default 3)\n"
	       "  --duration S          each run repeats its pages (uffd) or faults (sim) in\n"
	       "                        passes until S seconds were measured (decimal);\n"
	       "                        without it a run is one pass\n"
	       "  --json FILE           write {\"machine\": {...}, \"results\": [...]}\n"
	       "  --plot FILE.png       latency of every row, drawn with gnuplot (Debian:\n"
	       "                        gnuplot-nox)\n"
	       "  --plot-kind K         percentile: latency (log) by percentile on a\n"
	       "                        log(1/(1-p)) axis to 99.999%% (default); cdf: the\n"
	       "                        fraction of faults below each latency\n"
	       "  --dry-run             print each row's CPUs, nodes and engines; run nothing\n"
	       "  -h, --help            this text; --version: the version\n", prog);
	printf(
	       "Modes (--modes; * uffd source only):\n");
	for (i = 0; i < fb_nb_mode_defs; i++)
		printf("  %-20s%s %s\n", fb_mode_defs[i].name,
		       fb_mode_defs[i].kind == FB_ROW_FD_BASELINE ? "+" :
		       fb_mode_defs[i].uffd_only ? "*" : " ", fb_mode_defs[i].help);
	printf("  (+: --source iommufd --mock only)\n");
	printf("EAL args: any; -l/-c/--lcores are kept and extended with the lcores the\n"
	       "rows need (the map is printed; a row needing a CPU outside them is not run);\n"
	       "--no-pci is added unless -a/-b name PCI devices.\n"
	       "Exit: 0; 1 a row failed or lost/duplicated a fault; 2 bad arguments;\n"
	       "130/143 stopped by SIGINT/SIGTERM (the runs that finished are reported).\n");
}

static int
parse_list(const char *arg, char out[][32], unsigned int max, unsigned int *n)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == max || strlen(tok) >= 32)
			return -1;
		strcpy(out[(*n)++], tok);
	}
	return *n ? 0 : -1;
}

/*
 * A decimal number in [min, max]: digits only ("010" is ten, not octal
 * eight; no sign, no spaces, no 0x), and no overflow.
 */
static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || *end || *v < min || *v > max) ? -1 : 0;
}

/* "1,2,4": up to FB_MAX_POINTS decimal numbers in [min, max]; 0 or -1. */
static int
parse_uint_list(const char *arg, uint64_t min, uint64_t max, unsigned int *out,
		unsigned int *n)
{
	char list[FB_MAX_POINTS][32];
	unsigned int i;
	uint64_t v;

	if (strlen(arg) >= 256 || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,") != NULL ||
	    parse_list(arg, list, FB_MAX_POINTS, n) < 0)
		return -1;
	for (i = 0; i < *n; i++) {
		if (parse_uint(list[i], min, max, &v) < 0)
			return -1;
		out[i] = (unsigned int)v;
	}
	return 0;
}


/*
 * One handler per option: @p arg is its argument (NULL for a flag).
 * 0, or -1 with the reason printed.
 */
static int
opt_source(struct fb_opts *o, const char *arg)
{
	o->source = arg;
	return 0;
}

static int
opt_devargs(struct fb_opts *o, const char *arg)
{
	o->devargs = arg;
	o->sim_only = true;
	return 0;
}

static int
opt_profile(struct fb_opts *o, const char *arg)
{
	o->profile = arg;
	return 0;
}

static int
opt_modes(struct fb_opts *o, const char *arg)
{
	if (parse_list(arg, o->modes, FB_MAX_MODES, &o->nb_modes)) {
		fprintf(stderr, "--modes %s: expected up to %d comma-separated modes\n",
			arg, FB_MAX_MODES);
		return -1;
	}
	return 0;
}

static int
opt_faults(struct fb_opts *o, const char *arg)
{
	if (parse_uint(arg, 1, UINT64_MAX / 2, &o->faults)) {
		fprintf(stderr, "--faults %s: expected a decimal number > 0\n", arg);
		return -1;
	}
	o->sim_only = true;
	o->faults_given = true;
	return 0;
}

static int
opt_burst(struct fb_opts *o, const char *arg)
{
	char list[FB_MAX_BURSTS][32];
	unsigned int i;
	uint64_t v;

	if (parse_list(arg, list, FB_MAX_BURSTS, &o->nb_bursts))
		goto bad_burst;
	for (i = 0; i < o->nb_bursts; i++) {
		if (parse_uint(list[i], 1, PFDK_PROFILE_MAX_BURST, &v))
			goto bad_burst;
		o->bursts[i] = (uint16_t)v;
	}
	return 0;
bad_burst:
	fprintf(stderr, "--burst %s: expected up to %d sizes in 1..%d\n", arg,
		FB_MAX_BURSTS, PFDK_PROFILE_MAX_BURST);
	return -1;
}

static int
opt_repeat(struct fb_opts *o, const char *arg)
{
	uint64_t v;

	if (parse_uint(arg, 1, FB_MAX_REPEAT, &v)) {
		fprintf(stderr, "--repeat %s: expected a decimal number in 1..%d\n", arg,
			FB_MAX_REPEAT);
		return -1;
	}
	o->repeat = (unsigned int)v;
	o->repeat_given = true;
	return 0;
}

static int
opt_json(struct fb_opts *o, const char *arg)
{
	o->json = arg;
	return 0;
}

static int
opt_plot(struct fb_opts *o, const char *arg)
{
	if (arg[0] == '\0') {
		fprintf(stderr, "--plot: expected a file name (FILE.png)\n");
		return -1;
	}
	o->plot = arg;
	return 0;
}

static int
opt_threads(struct fb_opts *o, const char *arg)
{
	if (parse_uint_list(arg, 1, 1024, o->threads, &o->nb_threads)) {
		fprintf(stderr, "--threads %s: expected up to %d decimal numbers in "
			"1..1024, comma separated\n", arg, FB_MAX_POINTS);
		return -1;
	}
	o->u.threads = o->threads[0];
	o->uffd_only = true;
	return 0;
}

static int
opt_pages(struct fb_opts *o, const char *arg)
{
	uint64_t v;

	if (parse_uint(arg, 1, 1ull << 26, &v)) {
		fprintf(stderr, "--pages %s: expected a decimal number in 1..%llu\n", arg,
			1ull << 26);
		return -1;
	}
	o->u.pages = v;
	o->uffd_only = true;
	return 0;
}

static int
opt_page_size(struct fb_opts *o, const char *arg)
{
	if (strcmp(arg, "4k") == 0) {
		o->u.page_size = 4096;
	} else if (strcmp(arg, "2m") == 0) {
		o->u.page_size = 2ul << 20;
	} else {
		fprintf(stderr, "--page-size %s: expected 4k or 2m\n", arg);
		return -1;
	}
	o->uffd_only = true;
	return 0;
}

static int
opt_uffds(struct fb_opts *o, const char *arg)
{
	unsigned int i;

	if (parse_uint_list(arg, 1, PFDK_PROFILE_MAX_DEVICES, o->uffds, &o->nb_uffds)) {
		fprintf(stderr, "--uffds %s: expected up to %d decimal numbers in 1..%d "
			"(devices per profile), comma separated\n",
			arg, FB_MAX_POINTS, PFDK_PROFILE_MAX_DEVICES);
		return -1;
	}
	o->u.uffds = o->uffds[o->nb_uffds - 1];
	for (i = 0; i < o->nb_uffds; i++)
		o->u.uffds = RTE_MAX(o->u.uffds, o->uffds[i]);
	o->uffd_only = true;
	return 0;
}

static int
opt_pattern(struct fb_opts *o, const char *arg)
{
	if (fb_uffd_parse_pattern(arg, &o->u) < 0) {
		fprintf(stderr, "--pattern %s: expected seq, random or stride:K\n", arg);
		return -1;
	}
	o->uffd_only = true;
	return 0;
}

static int
opt_fault_around(struct fb_opts *o, const char *arg)
{
	uint64_t v;

	if (parse_uint(arg, 0, PFDK_UFFD_FAULT_AROUND_MAX, &v)) {
		fprintf(stderr, "--fault-around %s: expected a decimal number in 0..%d\n", arg,
			PFDK_UFFD_FAULT_AROUND_MAX);
		return -1;
	}
	o->u.fault_around = (unsigned int)v;
	o->uffd_only = true;
	return 0;
}

static int
opt_access(struct fb_opts *o, const char *arg)
{
	if (fb_access_parse(arg, &o->u) < 0) {
		fprintf(stderr, "--access %s: expected read, write, mix or mix:W "
			"(W %% of pages written, 0..100)\n", arg);
		return -1;
	}
	o->uffd_only = true;
	return 0;
}

static int
opt_faulter_cpus(struct fb_opts *o, const char *arg)
{
	cpu_set_t set;

	if (fb_cpulist_parse(arg, &set) < 0 || CPU_COUNT(&set) > 64) {
		fprintf(stderr, "--faulter-cpus %s: expected a CPU list such as "
			"0 or 0-3,8 (up to 64 CPUs, each below %d)\n", arg, FB_MAX_CPUS);
		return -1;
	}
	o->faulter_cpus = arg;
	o->uffd_only = true;
	return 0;
}

static int
opt_dry_run(struct fb_opts *o, const char *arg)
{
	RTE_SET_USED(arg);
	o->dry_run = true;
	return 0;
}

static int
opt_duration(struct fb_opts *o, const char *arg)
{
	char *end;

	errno = 0;
	o->duration_s = arg[0] >= '0' && arg[0] <= '9' ? strtod(arg, &end) : -1;
	if (o->duration_s <= 0 || errno || *end || o->duration_s > 86400) {
		fprintf(stderr, "--duration %s: expected seconds > 0 (e.g. 2 or 0.5), "
			"at most 86400\n", arg);
		return -1;
	}
	return 0;
}

static int
opt_plot_kind(struct fb_opts *o, const char *arg)
{
	if (strcmp(arg, "percentile") != 0 && strcmp(arg, "cdf") != 0) {
		fprintf(stderr, "--plot-kind %s: expected percentile or cdf\n", arg);
		return -1;
	}
	o->plot_kind = arg;
	return 0;
}

static int
opt_mock(struct fb_opts *o, const char *arg)
{
	RTE_SET_USED(arg);
	o->mock = true;
	return 0;
}

static int
opt_rate(struct fb_opts *o, const char *arg)
{
	if (parse_uint(arg, 1, 1000000000, &o->rate)) {
		fprintf(stderr, "--rate %s: expected faults per second in 1..1e9\n", arg);
		return -1;
	}
	return 0;
}

/*
 * The long options, in getopt_long()'s order: each one's handler, or
 * (--help, --version) its own return value for parse_args() to act on.
 */
#define OPT_HELP 'h'
#define OPT_VERSION 'V'
#define OPT_BASE 256 /* getopt_long() returns OPT_BASE + the option's index */

static const struct opt_def {
	const char *name;
	int has_arg;
	int (*fn)(struct fb_opts *o, const char *arg); /* NULL: --help, --version */
	int val;                                         /* fn == NULL: returned as is */
} opt_defs[] = {
	{ "source", required_argument, opt_source, 0 },
	{ "devargs", required_argument, opt_devargs, 0 },
	{ "profile", required_argument, opt_profile, 0 },
	{ "modes", required_argument, opt_modes, 0 },
	{ "faults", required_argument, opt_faults, 0 },
	{ "burst", required_argument, opt_burst, 0 },
	{ "repeat", required_argument, opt_repeat, 0 },
	{ "json", required_argument, opt_json, 0 },
	{ "plot", required_argument, opt_plot, 0 },
	{ "threads", required_argument, opt_threads, 0 },
	{ "pages", required_argument, opt_pages, 0 },
	{ "page-size", required_argument, opt_page_size, 0 },
	{ "uffds", required_argument, opt_uffds, 0 },
	{ "pattern", required_argument, opt_pattern, 0 },
	{ "fault-around", required_argument, opt_fault_around, 0 },
	{ "access", required_argument, opt_access, 0 },
	{ "faulter-cpus", required_argument, opt_faulter_cpus, 0 },
	{ "dry-run", no_argument, opt_dry_run, 0 },
	{ "duration", required_argument, opt_duration, 0 },
	{ "plot-kind", required_argument, opt_plot_kind, 0 },
	{ "mock", no_argument, opt_mock, 0 },
	{ "rate", required_argument, opt_rate, 0 },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
};

/* getopt_long() over opt_defs[]; 0 or -1. */
static int
parse_args(int argc, char **argv, struct fb_opts *o)
{
	struct option lo[RTE_DIM(opt_defs) + 1];
	unsigned int i;
	int c;

	for (i = 0; i < RTE_DIM(opt_defs); i++)
		lo[i] = (struct option){ opt_defs[i].name, opt_defs[i].has_arg, NULL,
			opt_defs[i].fn != NULL ? OPT_BASE + (int)i : opt_defs[i].val };
	memset(&lo[i], 0, sizeof(lo[i]));
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage(argv[0]);
			exit(0);
		}
		if (c == OPT_VERSION) {
			printf("pfdk-faultbench (PFDK) %s\n", PFDK_VERSION);
			exit(0);
		}
		if (c < OPT_BASE || c >= OPT_BASE + (int)RTE_DIM(opt_defs)) {
			usage(argv[0]);
			return -1;
		}
		if (opt_defs[c - OPT_BASE].fn(o, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* The source: --source, else uffd where it works and no sim-only option is given. */
static int
check_source(struct fb_opts *o)
{
	if (o->source == NULL) {
		char why[128];

		if (o->sim_only) {
			o->source = "sim";
		} else if (fb_uffd_available(why, sizeof(why)) == 0) {
			o->source = "uffd";
		} else {
			printf("pfdk-faultbench: source sim: userfaultfd is not usable here (%s)\n",
			       why);
			o->source = "sim";
		}
	}
	if (strcmp(o->source, "sim") != 0 && strcmp(o->source, "uffd") != 0 &&
	    strcmp(o->source, "iommufd") != 0) {
		fprintf(stderr, "--source %s: expected uffd, sim or iommufd\n", o->source);
		return -1;
	}
	return 0;
}

/* The options that belong to one source only. */
static int
check_source_opts(const struct fb_opts *o)
{
	if ((o->mock || o->rate != 0) && strcmp(o->source, "iommufd") != 0) {
		fprintf(stderr, "--mock and --rate need --source iommufd\n");
		return -1;
	}
	if (o->rate != 0 && !o->mock) {
		fprintf(stderr, "--rate: the emulator takes rate= in --devargs; --rate is "
			"--mock's\n");
		return -1;
	}
	if (o->mock && o->devargs != NULL) {
		fprintf(stderr, "--mock: the bench sets up the mock device's fault queue "
			"itself; --devargs is not for it\n");
		return -1;
	}
	if (strcmp(o->source, "uffd") == 0) {
		char why[128];

		if (o->devargs != NULL) {
			fprintf(stderr, "--devargs: the uffd source builds its own devices "
				"(one per --uffds)\n");
			return -1;
		}
		if (fb_uffd_available(why, sizeof(why)) < 0) {
			fprintf(stderr, "--source uffd: %s\n", why);
			return -1;
		}
		if (o->u.pages < o->u.uffds) {
			fprintf(stderr, "--pages %" PRIu64 ": fewer than --uffds %u\n",
				o->u.pages, o->u.uffds);
			return -1;
		}
	} else if (o->uffd_only) {
		fprintf(stderr, "--threads, --pages, --page-size, --uffds, --pattern, "
			"--access, --faulter-cpus and --fault-around need --source uffd\n");
		return -1;
	}
	return 0;
}

/* Every --modes name is a row of this source. */
static int
check_modes(const struct fb_opts *o)
{
	unsigned int i;

	for (i = 0; i < o->nb_modes; i++) {
		const char *m = o->modes[i];

		if (strcmp(o->source, "uffd") == 0 && fb_is_baseline(m))
			continue;
		if (o->mock && fb_fd_baseline_find(m) >= 0)
			continue;
		if (fb_fd_baseline_find(m) >= 0) {
			fprintf(stderr, "--modes: '%s' is a hand-written handler of the mock "
				"device's fault FD: it needs --source iommufd --mock\n", m);
			return -1;
		}
		if (fb_mode_find(m) == NULL ||
		    (strcmp(o->source, "uffd") != 0 && strncmp(m, "pfdk-inthread", 13) == 0)) {
			char any[256], uo[256];

			fb_mode_names(any, sizeof(any), false);
			fb_mode_names(uo, sizeof(uo), true);
			fprintf(stderr, "--modes: '%s' is not a mode of this build and "
				"source (%s; %s need --source uffd; fd-spin, fd-poll, fd-epoll "
				"need --source iommufd --mock)\n", m, any, uo);
			return -1;
		}
	}
	return 0;
}

int
fb_opts_parse(int argc, char **argv, struct fb_opts *o)
{
	if (parse_args(argc, argv, o) < 0 || check_source(o) < 0 ||
	    check_source_opts(o) < 0 || check_modes(o) < 0)
		return -1;
	return 0;
}
