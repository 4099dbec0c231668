/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench: fault rates and latencies of PFDK layouts, each row run
 * in this process, so rows compare within one run on one machine.
 *
 *   pfdk-faultbench [EAL args] -- [options]      (no arguments: the default)
 *   pfdk-faultbench [options]                    (EAL lcores from the profile)
 *
 * This build measures the sim source; the uffd and iommufd sources and the
 * hand-written baselines (classic, epoll-many, sigbus, native) come with
 * their drivers and are refused with a clear message until then.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_sim.h"

extern const char pfdk_default_profile[];

#define MAX_ROWS 64
#define MAX_MODES 8
#define MAX_BURSTS 8
#define MAX_REPEAT 99

struct opts {
	const char *source;
	const char *devargs;
	const char *profile;
	const char *json;
	uint64_t faults;
	unsigned int repeat;
	unsigned int nb_modes;
	char modes[MAX_MODES][32];
	unsigned int nb_bursts;
	uint16_t bursts[MAX_BURSTS];
};

/* The PFDK rows: a layout and an engine, or the profile's own (-1). */
static const struct mode_def {
	const char *name;
	int layout;
	int engine;
} mode_defs[] = {
	{ "pfdk", -1, -1 },
	{ "pfdk-rtc", PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY },
	{ "pfdk-pipeline", PFDK_LAYOUT_PIPELINE, PFDK_ENGINE_BUSY },
	{ "pfdk-colocated", PFDK_LAYOUT_COLOCATED, PFDK_ENGINE_EPOLL },
	{ "pfdk-busy", PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY },
	{ "pfdk-epoll", PFDK_LAYOUT_RTC, PFDK_ENGINE_EPOLL },
	{ "pfdk-uring", PFDK_LAYOUT_RTC, PFDK_ENGINE_URING },
	{ "pfdk-uring-nosqpoll", PFDK_LAYOUT_RTC, PFDK_ENGINE_URING_NOSQPOLL },
};

static const struct mode_def *
mode_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(mode_defs); i++)
		if (strcmp(mode_defs[i].name, name) == 0)
			return &mode_defs[i];
	return NULL;
}

struct row {
	char mode[32];
	const char *source;
	uint16_t burst;
	uint64_t faults;
	double faults_per_s;
	double ns_per_fault;
	double p50_us, p90_us, p99_us, p999_us, max_us;
	uint64_t lost;
	uint64_t duplicated;
	uint64_t backpressure; /* ring-full events + pool-short receives */
	uint64_t retried;
};

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args] -- [options]\n"
	       "  --source sim          what faults (uffd and iommufd: not in this build)\n"
	       "  --devargs STR         device string replacing the profile's first device\n"
	       "  --profile FILE        deployment profile (default: the embedded config/default.ini)\n"
	       "  --modes LIST          rows: pfdk (the profile as is), pfdk-rtc, pfdk-pipeline,\n"
	       "                        pfdk-colocated, and rtc with an engine: pfdk-busy,\n"
	       "                        pfdk-epoll, pfdk-uring (SQ thread on main_cpu),\n"
	       "                        pfdk-uring-nosqpoll (default: rtc, pipeline, colocated)\n"
	       "  --faults N            faults per row (default 10000000)\n"
	       "  --burst LIST          burst sizes, comma separated (default: the profile's and 64)\n"
	       "  --repeat K            K runs per row, medians reported (default 3)\n"
	       "  --json FILE           write {\"machine\": {...}, \"results\": [...]}\n"
	       "  --help\n", prog);
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

static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || *end || s[0] == '-' || *v < min || *v > max) ? -1 : 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "source", required_argument, NULL, 's' },
		{ "devargs", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'p' },
		{ "modes", required_argument, NULL, 'm' },
		{ "faults", required_argument, NULL, 'f' },
		{ "burst", required_argument, NULL, 'b' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char list[MAX_BURSTS][32];
	unsigned int i;
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->source = optarg; break;
		case 'd': o->devargs = optarg; break;
		case 'p': o->profile = optarg; break;
		case 'j': o->json = optarg; break;
		case 'm':
			if (parse_list(optarg, o->modes, MAX_MODES, &o->nb_modes)) {
				fprintf(stderr, "--modes %s: expected up to %d comma-separated modes\n",
					optarg, MAX_MODES);
				return -1;
			}
			break;
		case 'f':
			if (parse_uint(optarg, 1, UINT64_MAX / 2, &o->faults)) {
				fprintf(stderr, "--faults %s: expected a positive integer\n", optarg);
				return -1;
			}
			break;
		case 'r':
			if (parse_uint(optarg, 1, MAX_REPEAT, &v)) {
				fprintf(stderr, "--repeat %s: expected 1..%d\n", optarg, MAX_REPEAT);
				return -1;
			}
			o->repeat = (unsigned int)v;
			break;
		case 'b':
			if (parse_list(optarg, list, MAX_BURSTS, &o->nb_bursts))
				goto bad_burst;
			for (i = 0; i < o->nb_bursts; i++) {
				if (parse_uint(list[i], 1, PFDK_PROFILE_MAX_BURST, &v))
					goto bad_burst;
				o->bursts[i] = (uint16_t)v;
			}
			break;
		case 'h': usage(argv[0]); exit(0);
		default: usage(argv[0]); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (strcmp(o->source, "sim") != 0) {
		fprintf(stderr, "--source %s: this build has only the sim source; "
			"uffd and iommufd come with their drivers\n", o->source);
		return -1;
	}
	for (i = 0; i < o->nb_modes; i++) {
		const char *m = o->modes[i];

		if (mode_find(m) == NULL) {
			fprintf(stderr, "--modes: '%s' is not a mode of this build "
				"(pfdk, pfdk-rtc, pfdk-pipeline, pfdk-colocated, pfdk-busy, "
				"pfdk-epoll, pfdk-uring, pfdk-uring-nosqpoll; the baselines "
				"need the uffd source)\n", m);
			return -1;
		}
	}
	return 0;
bad_burst:
	fprintf(stderr, "--burst %s: expected up to %d sizes in 1..%d\n", optarg,
		MAX_BURSTS, PFDK_PROFILE_MAX_BURST);
	return -1;
}

/* The sim resolver: every 64th page is outside the "mapped" range. */
static uint16_t
resolve_sim(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint16_t i;

	RTE_SET_USED(ctx);
	for (i = 0; i < nb; i++)
		faults[i]->status = ((faults[i]->addr >> 12) & 63) == 63 ?
			PFDK_FAULT_RESP_INVALID : PFDK_FAULT_RESP_SUCCESS;
	return nb;
}

/*
 * The profile for a row: the mode's layout, with a resolver added on the
 * main CPU for the pipeline when the profile has none (the main lcore
 * sleeps while a row runs, so that CPU is free), and each sim device told
 * how many faults to emit.
 */
static int
row_profile(const struct pfdk_profile *base, const char *mode, uint16_t burst,
	    uint64_t faults, const char *devargs, struct pfdk_profile *p)
{
	const struct mode_def *md = mode_find(mode);
	unsigned int i, nq = 0, max_id = 0;
	bool has_resolver = false;

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

		if (strncmp(d->devargs, "sim", 3) == 0 && !strstr(d->devargs, "total="))
			snprintf(d->devargs + len, sizeof(d->devargs) - len,
				 "%stotal=%" PRIu64, strchr(d->devargs, ',') ? "," : ",",
				 (faults + nq - 1) / nq);
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

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
run_once(const struct pfdk_profile *prof, struct row *r)
{
	struct pfdk_pipeline_conf pc = {
		.profile = prof,
		.resolve = resolve_sim,
	};
	struct pfdk_pipeline *pipe;
	struct pfdk_lcore_stats ls;
	struct pfdk_hist *h;
	struct pfdk_hist_summary s;
	struct pfdk_sim_check c, all = { 0 };
	struct pfdk_fault_stats fs;
	uint64_t t0, t1, hz = rte_get_tsc_hz();
	unsigned int i, nq = 0;
	bool done;
	int ret;

	pipe = pfdk_pipeline_create(&pc);
	if (pipe == NULL) {
		fprintf(stderr, "%s: pipeline: %s\n", r->mode, rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < prof->nb_devices; i++)
		nq += prof->devices[i].nb_queues;
	t0 = rte_rdtsc();
	ret = pfdk_pipeline_start(pipe);
	if (ret < 0) {
		fprintf(stderr, "%s: start: %s\n", r->mode, strerror(-ret));
		pfdk_pipeline_destroy(pipe);
		return -1;
	}
	/* Sleep while the workers run; done when every queue emitted all and
	 * every group was answered.
	 */
	do {
		usleep(200);
		memset(&all, 0, sizeof(all));
		for (i = 0; i < prof->nb_devices; i++) {
			pfdk_sim_check_get((uint16_t)pfdk_pipeline_dev_id(pipe, i), &c);
			all.exhausted += c.exhausted;
			all.outstanding += c.outstanding;
		}
		done = all.exhausted == nq && all.outstanding == 0;
	} while (!done);
	t1 = rte_rdtsc();
	pfdk_pipeline_stop(pipe);

	memset(&all, 0, sizeof(all));
	r->backpressure = 0;
	for (i = 0; i < prof->nb_devices; i++) {
		int id = pfdk_pipeline_dev_id(pipe, i);

		pfdk_sim_check_get((uint16_t)id, &c);
		pfdk_fault_stats_get((uint16_t)id, &fs);
		all.records_emitted += c.records_emitted;
		all.groups_emitted += c.groups_emitted;
		all.groups_answered += c.groups_answered;
		all.duplicates += c.duplicates + c.stale + c.bad_code;
		all.aborted += c.aborted;
		r->backpressure += fs.nodesc;
	}
	h = malloc(sizeof(*h));
	if (h == NULL) {
		pfdk_pipeline_destroy(pipe);
		return -1;
	}
	pfdk_pipeline_stats(pipe, &ls, h);
	pfdk_hist_summarize(h, &s);
	free(h);
	pfdk_pipeline_destroy(pipe);

	r->faults = all.records_emitted;
	r->faults_per_s = (double)r->faults * (double)hz / (double)(t1 - t0);
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
	return 0;
}

static int
run_row(const struct pfdk_profile *prof, unsigned int repeat, struct row *r)
{
	double v[7][MAX_REPEAT];
	unsigned int k;
	struct row one;

	for (k = 0; k < repeat; k++) {
		one = *r;
		if (run_once(prof, &one) < 0)
			return -1;
		v[0][k] = one.faults_per_s;
		v[1][k] = one.ns_per_fault;
		v[2][k] = one.p50_us;
		v[3][k] = one.p90_us;
		v[4][k] = one.p99_us;
		v[5][k] = one.p999_us;
		v[6][k] = one.max_us;
		/* Correctness counters add up over repeats: one loss is a loss. */
		r->faults += one.faults;
		r->lost += one.lost;
		r->duplicated += one.duplicated;
		r->backpressure += one.backpressure;
		r->retried += one.retried;
	}
	r->faults /= repeat;
	r->faults_per_s = median(v[0], repeat);
	r->ns_per_fault = median(v[1], repeat);
	r->p50_us = median(v[2], repeat);
	r->p90_us = median(v[3], repeat);
	r->p99_us = median(v[4], repeat);
	r->p999_us = median(v[5], repeat);
	r->max_us = median(v[6], repeat);
	return 0;
}

static void
print_table(const struct row *rows, unsigned int n)
{
	unsigned int i;

	printf("\n%-20s %-6s %5s %10s %12s %8s %9s %9s %9s %9s %10s %5s %5s %8s\n",
	       "mode", "source", "burst", "faults", "faults/s", "ns/fault",
	       "p50_us", "p90_us", "p99_us", "p99.9_us", "max_us", "lost",
	       "dup", "backpr");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%-20s %-6s %5u %10" PRIu64 " %12.0f %8.1f %9.2f %9.2f %9.2f %9.2f %10.2f %5" PRIu64
		       " %5" PRIu64 " %8" PRIu64 "\n",
		       r->mode, r->source, r->burst, r->faults, r->faults_per_s,
		       r->ns_per_fault, r->p50_us, r->p90_us, r->p99_us,
		       r->p999_us, r->max_us, r->lost, r->duplicated,
		       r->backpressure);
	}
}

static int
write_json(const char *path, const struct pfdk_profile *prof,
	   const struct row *rows, unsigned int n)
{
	FILE *f = fopen(path, "w");
	struct utsname u;
	unsigned int i;

	if (f == NULL) {
		fprintf(stderr, "--json %s: %s\n", path, strerror(errno));
		return -1;
	}
	uname(&u);
	fprintf(f, "{\n  \"machine\": {\"host\": \"%s\", \"kernel\": \"%s\", "
		"\"cpus\": %ld, \"tsc_hz\": %" PRIu64 ", \"hugepages\": %s, "
		"\"profile\": \"%s\"},\n  \"results\": [\n",
		u.nodename, u.release, sysconf(_SC_NPROCESSORS_ONLN),
		rte_get_tsc_hz(), pfdk_has_hugepages() ? "true" : "false",
		prof->name);
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		fprintf(f, "    {\"mode\": \"%s\", \"source\": \"%s\", \"burst\": %u, "
			"\"faults\": %" PRIu64 ", \"faults_per_s\": %.1f, "
			"\"ns_per_fault\": %.2f, \"p50_us\": %.3f, \"p90_us\": %.3f, "
			"\"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f, "
			"\"lost\": %" PRIu64 ", \"duplicated\": %" PRIu64 ", "
			"\"backpressure\": %" PRIu64 ", \"retried\": %" PRIu64 "}%s\n",
			r->mode, r->source, r->burst, r->faults, r->faults_per_s,
			r->ns_per_fault, r->p50_us, r->p90_us, r->p99_us,
			r->p999_us, r->max_us, r->lost, r->duplicated,
			r->backpressure, r->retried, i + 1 < n ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* EAL arguments: the user's if any, else the profile's lcores. */
static int
build_eal_args(char **argv, int dashdash, const struct pfdk_profile *lc_prof,
	       char **eal, char *lcores, size_t lcores_len)
{
	int n = 0, i;

	eal[n++] = argv[0];
	for (i = 1; i < dashdash; i++)
		eal[n++] = argv[i];
	if (dashdash <= 1) {
		if (pfdk_profile_eal_lcores(lc_prof, lcores, lcores_len) < 0)
			return -1;
		eal[n++] = (char *)(uintptr_t)"--lcores";
		eal[n++] = lcores;
		eal[n++] = (char *)(uintptr_t)"--log-level=lib.eal:warning";
		eal[n++] = (char *)(uintptr_t)"--log-level=lib.telemetry:warning";
		/* PFDK's devices are not DPDK PCI devices: skip the bus scan. */
		eal[n++] = (char *)(uintptr_t)"--no-pci";
	}
	eal[n] = NULL;
	return n;
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.source = "sim",
		.faults = 10000000,
		.repeat = 3,
	};
	static struct pfdk_profile prof, variants[MAX_ROWS], lcore_union;
	static struct row rows[MAX_ROWS];
	char err[512], lcores[1024];
	char *eal[argc + 8];
	unsigned int i, j, nrows = 0;
	int dashdash, neal, ret;
	bool failed = false;

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
		if (parse_opts(app_argc, app_argv, &o) < 0)
			return 2;
	}
	if (o.nb_modes == 0) {
		static const char *const def[] = {
			"pfdk-rtc", "pfdk-pipeline", "pfdk-colocated",
		};
		for (i = 0; i < RTE_DIM(def); i++)
			strcpy(o.modes[o.nb_modes++], def[i]);
	}
	if (o.profile != NULL)
		ret = pfdk_profile_load(o.profile, &prof, NULL, err, sizeof(err));
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
	if (o.nb_bursts == 0) {
		o.bursts[o.nb_bursts++] = prof.burst;
		if (prof.burst != 64)
			o.bursts[o.nb_bursts++] = 64;
	}
	/* Every row's profile, and the union of their lcores for the EAL. */
	memcpy(&lcore_union, &prof, sizeof(prof));
	for (i = 0; i < o.nb_modes; i++) {
		for (j = 0; j < o.nb_bursts; j++) {
			struct pfdk_profile *v = &variants[nrows];
			unsigned int k;

			if (nrows == MAX_ROWS || row_profile(&prof, o.modes[i], o.bursts[j],
					o.faults, o.devargs, v) < 0) {
				fprintf(stderr, "too many rows\n");
				return 2;
			}
			snprintf(rows[nrows].mode, sizeof(rows[nrows].mode), "%s", o.modes[i]);
			rows[nrows].source = o.source;
			rows[nrows].burst = o.bursts[j];
			nrows++;
			for (k = 0; k < v->nb_lcores; k++) {
				unsigned int m;

				for (m = 0; m < lcore_union.nb_lcores; m++)
					if (lcore_union.lcores[m].lcore_id == v->lcores[k].lcore_id)
						break;
				if (m == lcore_union.nb_lcores &&
				    m < PFDK_PROFILE_MAX_LCORES)
					lcore_union.lcores[lcore_union.nb_lcores++] = v->lcores[k];
			}
		}
	}
	neal = build_eal_args(argv, dashdash,
			      &lcore_union, eal, lcores, sizeof(lcores));
	if (neal < 0 || pfdk_init(neal, eal) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("pfdk-faultbench: profile '%s' (%s), source %s, %" PRIu64
	       " faults per row, %u run(s) per row (medians), %s memory, TSC %.2f GHz\n",
	       prof.name, o.profile ? o.profile : "embedded default", o.source,
	       o.faults, o.repeat, pfdk_has_hugepages() ? "hugepage" : "ordinary",
	       (double)rte_get_tsc_hz() / 1e9);
	for (i = 0; i < nrows; i++) {
		printf("running %-20s burst %-3u ...\n", rows[i].mode, rows[i].burst);
		fflush(stdout);
		if (run_row(&variants[i], o.repeat, &rows[i]) < 0) {
			failed = true;
			break;
		}
		if (rows[i].lost || rows[i].duplicated)
			failed = true;
	}
	if (!failed || i > 0)
		print_table(rows, i < nrows ? i : nrows);
	if (o.json != NULL && write_json(o.json, &prof, rows, nrows) < 0)
		failed = true;
	pfdk_cleanup();
	if (failed)
		fprintf(stderr, "pfdk-faultbench: FAILED (a row did not run, or lost or duplicated a fault)\n");
	return failed ? 1 : 0;
}
