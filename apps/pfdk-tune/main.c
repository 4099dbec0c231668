/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune: propose core layouts for this machine, measure each with
 * pfdk-faultbench on the workload the user names, rank them, and write the
 * winner as a profile whose comments carry the measurements.
 *
 *   pfdk-tune [--bench PATH] [--out FILE] [--faults N] [--repeat K]
 *             [-- faultbench workload options, e.g. --threads 4 --uffds 64]
 *
 * Each trial is "pfdk-faultbench --modes pfdk --profile CANDIDATE.ini
 * --repeat K --json FILE" plus the workload: row "pfdk" runs the profile as
 * written (on the uffd source with its devices replaced by the workload's
 * uffds), so the candidates' CPUs, engines and SQ threads are what differ.
 *
 * The workload: the uffd source when the options after "--" say so
 * (--source uffd, or any of --threads, --pages, --page-size, --uffds,
 * --pattern), the sim source when they say that (--source sim, --devargs,
 * --faults) or when pfdk-tune's own --faults is given, and otherwise the
 * uffd source with faultbench's defaults where userfaultfd works, sim where
 * it does not. --faults (the sim fault count) is passed to sim only.
 *
 * Candidates come from the topology (libnuma, sysfs) and are checked by the
 * profile validator against this machine before anything runs, so a layout
 * that cannot work (an SQ thread on its own poller's CPU, as many spinners
 * as CPUs) is listed as refused, with the validator's reason. main_cpu is
 * CPU 0 in every candidate: the uffd source's faulting threads run there,
 * so "colocated" means a poller beside them and "rtc" one on another CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

extern const char pfdk_default_profile[];

/* What the trials run on: the machine, and the command line each trial shares. */
static void
header_print(const struct tune *tu)
{
	const struct topo *t = &tu->t;
	int k;

	printf("pfdk-tune: %d CPUs online, %d NUMA node(s), isolated CPUs: %s, "
	       "CPU 0 siblings: %s\n", t->ncpus, t->nnodes, t->isolated[0] ? t->isolated : "none",
	       t->siblings0[0] ? t->siblings0 : "?");
	printf("pfdk-tune: each trial: %s --modes pfdk --profile CANDIDATE --repeat %u",
	       tu->o.bench, tu->o.repeat);
	for (k = 0; k < tu->w.argc; k++)
		printf(" %s", tu->w.argv[k]);
	printf("\n");
}

/*
 * The candidates for this machine and workload, then the shipped default:
 * measured the same way, it is the bar to clear; its devices are the
 * source's too, so it is deployable if it wins. 0, or -1 with the reason
 * printed.
 */
static int
cands_make(struct tune *tu)
{
	struct pfdk_profile_check chk = { 0 };
	bool uffd = strcmp(tu->src, "uffd") == 0;
	char err[512];
	struct cand *def;
	unsigned int nc;

	if (pfdk_profile_load_string("config/default.ini (embedded)", pfdk_default_profile,
				     strlen(pfdk_default_profile), &tu->base, &chk, err,
				     sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	tune_source_devices(uffd, &tu->w, &tu->base, &tu->devs, &tu->devs_sb);
	nc = tune_candidates(&tu->t, &tu->base, uffd, &tu->devs, &tu->devs_sb, tu->c);
	def = &tu->c[nc];
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "default.ini");
	tune_with_devices(&tu->base, &tu->devs);
	if (pfdk_profile_format(&tu->base, def->ini, sizeof(def->ini)) < 0)
		snprintf(def->refused, sizeof(def->refused),
			 "config/default.ini: profile larger than %zu bytes", sizeof(def->ini));
	tu->ncand = nc + 1;
	return 0;
}

/*
 * The ranking, sorted into tu->c: what ran, fastest first; then what did
 * not, and why. @p nran: how many ran. @return default.ini's entry if it
 * ran, else NULL.
 */
static const struct cand *
ranking_print(struct tune *tu, unsigned int *nran)
{
	const struct cand *def = NULL;
	struct cand *c = tu->c;
	unsigned int i;

	*nran = 0;
	qsort(c, tu->ncand, sizeof(c[0]), tune_cmp_cand);
	printf("\n%-4s %-*s %12s %9s %9s %9s %5s %5s %5s %12s %12s\n", "rank", NAME_W, "layout",
	       "faults/s", "p50_us", "p99_us", "p99.9_us", "lost", "dup", "runs", "min/s", "max/s");
	for (i = 0; i < tu->ncand; i++) {
		if (!c[i].ran) {
			printf("%-4s %-*s %s: %s\n", "-", NAME_W, c[i].name,
			       c[i].refused[0] ? "refused" : "not run",
			       c[i].refused[0] ? c[i].refused : c[i].failed);
			continue;
		}
		(*nran)++;
		printf("%-4u %-*s %12.0f %9.2f %9.2f %9.2f %5" PRIu64 " %5" PRIu64
		       " %5u %12.0f %12.0f\n",
		       i + 1, NAME_W, c[i].name, c[i].faults_per_s, c[i].p50_us, c[i].p99_us,
		       c[i].p999_us, c[i].lost, c[i].dup, c[i].nruns, c[i].fps_min, c[i].fps_max);
		if (strcmp(c[i].name, "default.ini") == 0)
			def = &c[i];
	}
	return def;
}

/* How the winner (ranked first, and it ran) compares with the runner-up, in @p verdict. */
static void
verdict_make(const struct tune *tu, char *verdict, size_t len)
{
	const struct cand *win = &tu->c[0], *next = &tu->c[1];
	bool other = tu->ncand > 1 && next->ran;

	if (other && win->fps_min <= next->fps_max)
		snprintf(verdict, len, "tie: %s and %s are within run-to-run spread "
			 "after %u round(s) (faults/s %.0f-%.0f and %.0f-%.0f); %s has the "
			 "higher median", win->name, next->name, tu->round, win->fps_min,
			 win->fps_max, next->fps_min, next->fps_max, win->name);
	else if (other)
		snprintf(verdict, len, "separated: %s's slowest run (%.0f faults/s) "
			 "beats %s's fastest (%.0f) after %u round(s)", win->name, win->fps_min,
			 next->name, next->fps_max, tu->round);
	else
		snprintf(verdict, len, "only %s ran", win->name);
}

/*
 * The winner (tu->c[0]) as a profile in --out, its comments carrying how it
 * was measured, its numbers, @p verdict and @p def's (default.ini's, NULL if
 * it did not run) numbers; @p nran layouts ran. 0, or -1 with the reason
 * printed.
 */
static int
winner_write(const struct tune *tu, const struct cand *def, unsigned int nran,
	     const char *verdict)
{
	const struct cand *win = &tu->c[0];
	FILE *f = fopen(tu->o.out, "w");
	int k;

	if (f == NULL) {
		fprintf(stderr, "pfdk-tune: %s: %s\n", tu->o.out, strerror(errno));
		return -1;
	}
	fprintf(f, "; Written by pfdk-tune on a %d-CPU, %d-node machine: the fastest of %u\n"
		"; layouts measured with pfdk-faultbench (--modes pfdk --repeat %u",
		tu->t.ncpus, tu->t.nnodes, nran, tu->o.repeat);
	for (k = 0; k < tu->w.argc; k++)
		fprintf(f, " %s", tu->w.argv[k]);
	fprintf(f, ").\n; %s: %.0f faults/s, p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
		win->name, win->faults_per_s, win->p50_us, win->p99_us, win->p999_us);
	fprintf(f, "; %s\n", verdict);
	if (def != NULL)
		fprintf(f, "; config/default.ini on the same workload: %.0f faults/s, "
			"p99.9 %.2f us\n", def->faults_per_s, def->p999_us);
	if (strcmp(tu->src, "uffd") == 0)
		fprintf(f, "; The devices are the measured workload's: uffd0..uffdM-1, one per\n"
			"; userfaultfd the application registers (pfdk_uffd_region_register()).\n");
	if (win->inthread)
		fprintf(f, "; engine = inthread: the uffd devices have sigbus=1, and kernel\n"
			"; accesses to the regions (read(2) into them) need pfdk_uffd_prefault()\n"
			"; first: docs/uffd.md, SIGBUS mode.\n");
	fprintf(f, "\n%s", win->ini);
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	/* static: it is large, and w.argv stays reachable on early exits (LeakSanitizer) */
	static struct tune tu;
	const struct cand *def;
	char verdict[512];
	unsigned int nran;
	int ret;

	ret = tune_opts_parse(argc, argv, &tu.o);
	if (ret >= 0)
		return ret;
	if (tu.o.ncheck > 0)
		return tune_check_files(tu.o.check, tu.o.ncheck, tu.o.check_cpus, tu.o.check_nodes);
	if (tune_workload_parse(argv + optind, argc - optind, &tu.w, &tu.o.repeat) < 0 ||
	    tune_workload_source(&tu) < 0 || tune_paths_check(tu.o.bench, tu.o.out) < 0)
		return 2;
	tune_topo_read(&tu.t);
	header_print(&tu);
	if (cands_make(&tu) < 0)
		return 1;
	if (tune_round_first(&tu) < 0)
		return 2;
	tune_rounds_more(&tu);
	def = ranking_print(&tu, &nran);
	if (!tu.c[0].ran) {
		fprintf(stderr, "pfdk-tune: no layout ran\n");
		return 1;
	}
	verdict_make(&tu, verdict, sizeof(verdict));
	printf("\n%s\n", verdict);
	if (winner_write(&tu, def, nran, verdict) < 0)
		return 1;
	free(tu.w.argv);
	printf("\nwinner: %s, written to %s\n", tu.c[0].name, tu.o.out);
	return 0;
}
