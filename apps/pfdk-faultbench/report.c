/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What pfdk-faultbench reports: the table (medians, the spread over the
 * runs, rows within the best row's spread marked), the JSON (schema in
 * docs/faultbench-json.md) and the latency plot drawn by gnuplot
 * (percentiles on a log(1/(1-p)) axis, HdrHistogram style, or CDFs).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "pfdk_eal.h"
#include "pfdk_hist.h"
#include "pfdk_profile.h"

#include "faultbench.h"

#ifndef PFDK_VERSION
#define PFDK_VERSION "unknown"
#endif

/* Version of the JSON layout (docs/faultbench-json.md); 1 had no such field. */
#define FB_JSON_SCHEMA 2

static const char *const rv_names[RV_N] = {
	"faults_per_s", "ns_per_fault", "p50_us", "p90_us", "p99_us", "p999_us",
	"max_us", "wall_s", "cpu_handler_s", "cpu_faulters_s",
};

void
fb_mark_spread(struct row *rows, unsigned int n)
{
	const struct row *best = NULL;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!rows[i].skipped && (best == NULL || rows[i].faults_per_s > best->faults_per_s))
			best = &rows[i];
	for (i = 0; i < n; i++) {
		struct row *r = &rows[i];

		/* One run has no spread: nothing can be said. */
		if (r->skipped || best == NULL || r->nruns < 2 || best->nruns < 2)
			r->close_to_best = -1;
		else
			r->close_to_best = r->hi[RV_FPS] >= best->lo[RV_FPS];
	}
}

/* Same mode and burst: one line of a sweep. */
static bool
same_row(const struct row *a, const struct row *b)
{
	return strcmp(a->mode, b->mode) == 0 && a->burst == b->burst;
}

void
fb_print_sweep(const struct row *rows, unsigned int n, unsigned int npoints)
{
	unsigned int i, j, p;

	printf("\nsweep: faults/s (median) per point; x: over the row's first point\n%-26s",
	       "mode");
	for (p = 0; p < npoints; p++)
		for (j = 0; j < n; j++)
			if (rows[j].pt == p) {
				char h[32];

				snprintf(h, sizeof(h), "thr=%u,uffds=%u", rows[j].threads,
					 rows[j].uffds);
				printf(" %22s", h);
				break;
			}
	printf("\n");
	for (i = 0; i < n && rows[i].pt == 0; i++) {
		char name[48];
		double first = 0;

		if (rows[i].burst)
			snprintf(name, sizeof(name), "%s/%u", rows[i].mode, rows[i].burst);
		else
			snprintf(name, sizeof(name), "%s", rows[i].mode);
		printf("%-26s", name);
		for (p = 0; p < npoints; p++) {
			const struct row *r = NULL;
			char c[40];

			for (j = 0; j < n && r == NULL; j++)
				if (rows[j].pt == p && same_row(&rows[j], &rows[i]))
					r = &rows[j];
			if (r == NULL || r->skipped) {
				printf(" %22s", "not run");
				continue;
			}
			if (first == 0)
				first = r->faults_per_s;
			snprintf(c, sizeof(c), "%.0f (x%.2f)", r->faults_per_s,
				 first > 0 ? r->faults_per_s / first : 0);
			printf(" %22s", c);
		}
		printf("\n");
	}
}

void
fb_print_table(const struct fb_report *rep, const struct row *rows, unsigned int n)
{
	unsigned int i, close = 0;
	const struct row *best = NULL;

	for (i = 0; i < n; i++)
		if (!rows[i].skipped && (best == NULL || rows[i].faults_per_s > best->faults_per_s))
			best = &rows[i];
	printf("\n%s\n", rep->workload);
	/* Sim rows have no faulting threads: no uffd-only columns. */
	printf("%-20s %-6s %5s %10s %12s %7s %8s %9s %9s %9s %9s %10s %5s %5s %8s",
	       "mode", "source", "burst", "faults", "faults/s", "spread", "ns/fault",
	       "p50_us", "p90_us", "p99_us", "p99.9_us", "max_us", "lost",
	       "dup", "backpr");
	if (rep->uffd)
		printf(" %4s %5s %4s %8s %8s %5s %5s\n", "thr", "uffds", "page",
		       "x_classic", "x_native", "hcpu%", "fcpu%");
	else
		printf(" %5s\n", "hcpu%");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char xc[16] = "-", xn[16] = "-", bs[8] = "-", sp[16] = "-";
		char hc[16] = "-", fc[16] = "-";

		if (r->burst)
			snprintf(bs, sizeof(bs), "%u", r->burst);
		if (r->skipped) {
			printf("%-20s %-6s %5s not run: %s\n", r->mode, r->source, bs, r->skip_reason);
			continue;
		}
		if (r->ratio_classic > 0)
			snprintf(xc, sizeof(xc), "%.2f", r->ratio_classic);
		if (r->ratio_native > 0)
			snprintf(xn, sizeof(xn), "%.2f", r->ratio_native);
		/* Half the min-max range over the median; '~': within the best row's. */
		if (r->nruns >= 2 && r->faults_per_s > 0)
			snprintf(sp, sizeof(sp), "%s%.0f%%", r->close_to_best == 1 && r != best ?
				 "~" : "", (r->hi[RV_FPS] - r->lo[RV_FPS]) / 2 /
				 r->faults_per_s * 100);
		close += r->close_to_best == 1 && r != best;
		/* CPU over wall time: a thread spinning all along is 100. */
		if (r->wall_s > 0) {
			snprintf(hc, sizeof(hc), "%.0f", r->cpu_handler_s / r->wall_s * 100);
			snprintf(fc, sizeof(fc), "%.0f", r->cpu_faulters_s / r->wall_s * 100);
		}
		printf("%-20s %-6s %5s %10" PRIu64 " %12.0f %7s %8.1f %9.2f %9.2f %9.2f %9.2f %10.2f %5" PRIu64
		       " %5" PRIu64 " %8" PRIu64,
		       r->mode, r->source, bs, r->faults, r->faults_per_s, sp,
		       r->ns_per_fault, r->p50_us, r->p90_us, r->p99_us,
		       r->p999_us, r->max_us, r->lost, r->duplicated,
		       r->backpressure);
		if (rep->uffd)
			printf(" %4u %5u %4s %8s %8s %5s %5s\n", r->threads, r->uffds,
			       r->page_size >= (2u << 20) ? "2m" : "4k", xc, xn, hc, fc);
		else
			printf(" %5s\n", hc);
	}
	if (close > 0)
		printf("~: faults/s over the runs overlaps the best row's (%s%s%.0u): the "
		       "difference is within run-to-run spread\n", best->mode,
		       best->burst ? " burst " : "", best->burst);
}

/*
 * @p s as a JSON string: quote, backslash and control characters escaped,
 * bytes that are not UTF-8 written as U+FFFD, so any devargs, path or
 * profile name gives valid JSON.
 */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k;

	fputc('"', f);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80) {
			fputc(*p++, f);
			continue;
		}
		/* A well-formed UTF-8 sequence (no overlongs, no surrogates) passes. */
		n = (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			(*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
		for (k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				break;
		if (n == 0 || k < n || (n == 3 && *p == 0xe0 && p[1] < 0xa0) ||
		    (n == 3 && *p == 0xed && p[1] >= 0xa0) ||
		    (n == 4 && *p == 0xf0 && p[1] < 0x90) ||
		    (n == 4 && *p == 0xf4 && p[1] >= 0x90)) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/*
 * --json and --plot are checked before anything runs: @p path opened for
 * writing (created when missing, never truncated here). @return the fd,
 * or -1 with the reason printed; *created tells whether it is new.
 */
int
fb_out_check(const char *opt, const char *path, bool *created)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	*created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		*created = fd >= 0;
	}
	if (fd < 0)
		fprintf(stderr, "%s %s: cannot write it: %s (nothing was run)\n", opt, path,
			strerror(errno));
	return fd;
}

/* @p s as a gnuplot single-quoted string: only ' is special (doubled). */
static void
gp_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/*
 * One gnuplot data block: (latency us, fraction of faults <= it) at the
 * top of every non-empty bucket, so the curve is exact at those points.
 */
static void
plot_cdf(FILE *f, const struct pfdk_hist *h, double us_per_cycle)
{
	uint64_t seen = 0, lo, hi;
	unsigned int b;
	bool first = true;

	for (b = 0; b < PFDK_HIST_BUCKETS; b++) {
		if (h->buckets[b] == 0)
			continue;
		if (first) {
			/* Start at 0 where the fastest fault was (log x: > 0 only). */
			lo = RTE_MAX(pfdk_hist_bucket_low(b), h->min);
			if (lo > 0)
				fprintf(f, "%.6g 0\n", (double)lo * us_per_cycle);
			first = false;
		}
		seen += h->buckets[b];
		hi = b + 1 < PFDK_HIST_BUCKETS ? pfdk_hist_bucket_low(b + 1) - 1 : h->max;
		hi = RTE_MIN(hi, h->max);
		fprintf(f, "%.6g %.6f\n", (double)hi * us_per_cycle,
			(double)seen / (double)h->count);
	}
	fputs("\n\n", f); /* ends the block: the next row is the next index */
}

/* A temporary file for --plot; NULL (reason printed) when none. */
static FILE *
plot_tmp(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, len, "%s/pfdk-faultbench-XXXXXX",
		 dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "--plot: temporary file %s: %s\n", path, strerror(errno));
		path[0] = '\0';
		return NULL;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		fprintf(stderr, "--plot: temporary file %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		path[0] = '\0';
	}
	return f;
}

/*
 * The temporary data and script files of a plot into @png (paths in
 * @data and @script, @len bytes each), the script begun with the terminal
 * and the output. @return 0, or -1 (reason printed); either way the
 * caller closes and unlinks what was set.
 */
static int
plot_begin(const char *png, char *data, char *script, size_t len, FILE **df, FILE **sf)
{
	data[0] = script[0] = '\0';
	*df = plot_tmp(data, len);
	*sf = *df != NULL ? plot_tmp(script, len) : NULL;
	if (*sf == NULL)
		return -1;
	/* pngcairo draws better; plain png (libgd) where cairo is missing. */
	fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	      "  set terminal pngcairo noenhanced size 1280,720\n"
	      "} else {\n"
	      "  set terminal png noenhanced size 1280,720\n"
	      "}\nset output ", *sf);
	gp_quote(*sf, png);
	return 0;
}

/*
 * Close a plot's files (always) and run gnuplot on @script.
 * @return 0 when @png is written; 1 when gnuplot is missing (said when
 *   @say_missing: the table and JSON are complete anyway); -1 on an error
 *   (said).
 */
static int
plot_render(const char *png, FILE *df, FILE *sf, char *script, bool say_missing)
{
	extern char **environ;
	char *argv[] = { (char *)(uintptr_t)"gnuplot", script, NULL };
	pid_t pid;
	int err, st;

	err = fclose(df);
	err |= fclose(sf);
	if (err != 0) {
		fprintf(stderr, "--plot: writing temporary files: %s\n", strerror(errno));
		return -1;
	}
	err = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
	if (err == ENOENT) {
		if (say_missing)
			fprintf(stderr, "--plot: gnuplot not found; install it with "
				"'apt-get install gnuplot-nox' (no plot written; the table "
				"and JSON are complete)\n");
		return 1;
	}
	if (err != 0) {
		fprintf(stderr, "--plot: cannot run gnuplot: %s\n", strerror(err));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "--plot: waitpid: %s\n", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "--plot %s: gnuplot failed (see its message above)\n", png);
		return -1;
	}
	return 0;
}

/* "model name" of /proc/cpuinfo (x86), else "Processor"/"cpu model", else NULL. */
static int
cpu_model(char *buf, size_t len)
{
	static const char *const keys[] = { "model name", "Processor", "cpu model" };
	char line[512];
	unsigned int k;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		for (k = 0; k < RTE_DIM(keys); k++) {
			size_t kl = strlen(keys[k]);
			char *v;

			if (strncmp(line, keys[k], kl) != 0 || (v = strchr(line, ':')) == NULL)
				continue;
			v += 1 + strspn(v + 1, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(buf, len, "%s", v);
			fclose(f);
			return 0;
		}
	fclose(f);
	return -1;
}

static void
json_key_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, "\"%s\": ", key);
	if (v != NULL)
		json_str(f, v);
	else
		fputs("null", f);
}

/* The numbers of a row that did not run: null, not zeros. */
static const char *const json_null_fields[] = {
	"faults", "faults_per_s", "ns_per_fault", "p50_us", "p90_us", "p99_us",
	"p999_us", "max_us", "lost", "duplicated", "backpressure", "retried",
	"threads", "uffds", "page_size", "ratio_classic", "ratio_native",
	"wall_s", "cpu_handler_s", "cpu_faulters_s", "runs", "passes", "per_run",
	"within_spread_of_best",
};

/* min/max beside these medians */
static const int rv_ranged[] = { RV_FPS, RV_P50, RV_P90, RV_P99, RV_P999, RV_MAX };

/* The "bench" object: name, version, command line, timestamp. */
static void
json_bench(FILE *f, const struct fb_report *rep)
{
	int a;

	fprintf(f, "{\n  \"schema_version\": %d,\n  \"bench\": {\"name\": \"pfdk-faultbench\", ",
		FB_JSON_SCHEMA);
	json_key_str(f, "version", PFDK_VERSION);
	fputs(", \"command_line\": [", f);
	for (a = 0; a < rep->argc; a++) {
		fputs(a ? ", " : "", f);
		json_str(f, rep->argv[a]);
	}
	fputs("], ", f);
	json_key_str(f, "timestamp", rep->timestamp);
}

/* The "machine" object: host, kernel, CPUs, TSC, hugepages, the profile. */
static void
json_machine(FILE *f, const struct fb_report *rep, const struct utsname *un)
{
	char model[256];

	fputs("},\n  \"machine\": {", f);
	json_key_str(f, "host", un->nodename);
	fputs(", ", f);
	json_key_str(f, "kernel", un->release);
	fputs(", ", f);
	json_key_str(f, "cpu_model", cpu_model(model, sizeof(model)) == 0 ? model : NULL);
	fprintf(f, ", \"cpus\": %ld, \"tsc_hz\": %" PRIu64 ", \"hugepages\": %s, ",
		sysconf(_SC_NPROCESSORS_ONLN), rte_get_tsc_hz(),
		pfdk_has_hugepages() ? "true" : "false");
	json_key_str(f, "profile", rep->prof->name);
	fputs(", ", f);
	json_key_str(f, "profile_file", rep->profile_file);
	fputs(", ", f);
	json_key_str(f, "devargs", rep->devargs);
}

/* The "workload" object: the uffd workload's fields, null for the other sources. */
static void
json_workload(FILE *f, const struct fb_report *rep)
{
	const struct fb_uffd_opts *u = rep->u;
	char acc[16];
	unsigned int q;

	fputs("},\n  \"workload\": {", f);
	json_key_str(f, "source", rep->source);
	fprintf(f, ", \"repeat\": %u, \"duration_s\": ", rep->repeat);
	if (rep->duration_s > 0)
		fprintf(f, "%g", rep->duration_s);
	else
		fputs("null", f);
	if (u != NULL) {
		fprintf(f, ", \"pages\": %" PRIu64 ", \"page_size\": %zu, \"threads\": %u, "
			"\"uffds\": %u, ", u->pages, u->page_size, u->threads, u->uffds);
		if (u->pattern == FB_PAT_STRIDE)
			fprintf(f, "\"pattern\": \"stride:%u\", ", u->stride);
		else
			fprintf(f, "\"pattern\": \"%s\", ", u->pattern == FB_PAT_SEQ ? "seq" : "random");
		json_key_str(f, "access", fb_access_name(u, acc, sizeof(acc)));
		fputs(", ", f);
		json_key_str(f, "faulter_cpus", rep->faulter_cpus);
		/* A sweep's points: threads outer, uffds inner (rows carry theirs). */
		fputs(", \"threads_list\": [", f);
		for (q = 0; q < rep->nb_threads; q++)
			fprintf(f, "%s%u", q ? ", " : "", rep->threads[q]);
		fputs("], \"uffds_list\": [", f);
		for (q = 0; q < rep->nb_uffds; q++)
			fprintf(f, "%s%u", q ? ", " : "", rep->uffds[q]);
		fputs("]", f);
		fprintf(f, ", \"handler_cpu\": %d, \"fault_around\": %u, \"faults\": null",
			u->other_cpu, u->fault_around);
	} else {
		fprintf(f, ", \"pages\": null, \"page_size\": null, \"threads\": null, "
			"\"uffds\": null, \"pattern\": null, \"access\": null, "
			"\"faulter_cpus\": null, \"threads_list\": null, \"uffds_list\": null, "
			"\"handler_cpu\": null, \"fault_around\": null, "
			"\"faults\": %" PRIu64, rep->faults);
	}
}

/* A row that did not run: its reason, every number null. */
static void
json_row_skipped(FILE *f, const struct row *r)
{
	unsigned int k;

	fputs("\"status\": \"not run\", \"reason\": ", f);
	json_str(f, r->skip_reason);
	for (k = 0; k < RTE_DIM(json_null_fields); k++)
		fprintf(f, ", \"%s\": null", json_null_fields[k]);
	for (k = 0; k < RTE_DIM(rv_ranged); k++)
		fprintf(f, ", \"%s_min\": null, \"%s_max\": null",
			rv_names[rv_ranged[k]], rv_names[rv_ranged[k]]);
	fputs("}", f);
}

/* A row that ran: medians, ratios (uffd), CPU, min and max, each run's values. */
static void
json_row_ok(FILE *f, const struct fb_uffd_opts *u, const struct row *r)
{
	char xc[32] = "null", xn[32] = "null";
	unsigned int k, q;

	if (r->ratio_classic > 0)
		snprintf(xc, sizeof(xc), "%.3f", r->ratio_classic);
	if (r->ratio_native > 0)
		snprintf(xn, sizeof(xn), "%.3f", r->ratio_native);
	fprintf(f, "\"status\": \"ok\", "
		/* Medians, min, max and each run: one precision, so they compare. */
		"\"faults\": %" PRIu64 ", \"faults_per_s\": %.6f, "
		"\"ns_per_fault\": %.6f, \"p50_us\": %.6f, \"p90_us\": %.6f, "
		"\"p99_us\": %.6f, \"p999_us\": %.6f, \"max_us\": %.6f, "
		"\"lost\": %" PRIu64 ", \"duplicated\": %" PRIu64 ", "
		"\"backpressure\": %" PRIu64 ", \"retried\": %" PRIu64 ", ",
		r->faults, r->faults_per_s,
		r->ns_per_fault, r->p50_us, r->p90_us, r->p99_us,
		r->p999_us, r->max_us, r->lost, r->duplicated,
		r->backpressure, r->retried);
	if (u != NULL)
		fprintf(f, "\"threads\": %u, \"uffds\": %u, \"page_size\": %u, "
			"\"ratio_classic\": %s, \"ratio_native\": %s, ",
			r->threads, r->uffds, r->page_size, xc, xn);
	else
		fputs("\"threads\": null, \"uffds\": null, \"page_size\": null, "
		      "\"ratio_classic\": null, \"ratio_native\": null, ", f);
	fprintf(f, "\"wall_s\": %.6f, \"cpu_handler_s\": %.6f, ",
		r->wall_s, r->cpu_handler_s);
	if (u != NULL)
		fprintf(f, "\"cpu_faulters_s\": %.6f", r->cpu_faulters_s);
	else
		fputs("\"cpu_faulters_s\": null", f);
	for (k = 0; k < RTE_DIM(rv_ranged); k++)
		fprintf(f, ", \"%s_min\": %.6f, \"%s_max\": %.6f",
			rv_names[rv_ranged[k]], r->lo[rv_ranged[k]],
			rv_names[rv_ranged[k]], r->hi[rv_ranged[k]]);
	fprintf(f, ", \"runs\": %u, \"passes\": %u, \"per_run\": {", r->nruns, r->passes);
	for (k = 0; k < RV_N; k++) {
		if (u == NULL && k == RV_FCPU)
			continue;
		fprintf(f, "%s\"%s\": [", k ? ", " : "", rv_names[k]);
		for (q = 0; q < r->nruns; q++)
			fprintf(f, "%s%.6f", q ? ", " : "", r->v[k][q]);
		fputs("]", f);
	}
	fprintf(f, "}, \"within_spread_of_best\": %s}",
		r->close_to_best < 0 ? "null" : r->close_to_best ? "true" : "false");
}

/* One element of "results" (@p first: the array's first). */
static void
json_row(FILE *f, const struct fb_uffd_opts *u, const struct row *r, bool first)
{
	char acc[16];

	fprintf(f, "%s    {\"mode\": ", first ? "" : ",\n");
	json_str(f, r->mode);
	fputs(", \"source\": ", f);
	json_str(f, r->source);
	fprintf(f, ", \"burst\": %u, ", r->burst);
	json_key_str(f, "layout", r->layout[0] ? r->layout : NULL);
	fputs(", ", f);
	json_key_str(f, "engine", r->engine[0] ? r->engine : NULL);
	fputs(", ", f);
	/* The workload each row ran: uffd only. */
	if (u != NULL) {
		if (u->pattern == FB_PAT_STRIDE)
			fprintf(f, "\"pattern\": \"stride:%u\", ", u->stride);
		else
			fprintf(f, "\"pattern\": \"%s\", ",
				u->pattern == FB_PAT_SEQ ? "seq" : "random");
		json_key_str(f, "access", fb_access_name(u, acc, sizeof(acc)));
		fprintf(f, ", \"fault_around\": %d, ", RTE_MAX(r->fault_around, 0));
	} else {
		fputs("\"pattern\": null, \"access\": null, \"fault_around\": null, ", f);
	}
	if (r->skipped)
		json_row_skipped(f, r);
	else
		json_row_ok(f, u, r);
}

int
fb_write_json(int fd, const char *path, const struct fb_report *rep,
	      const struct row *rows, unsigned int n)
{
	FILE *f = NULL;
	struct utsname un;
	unsigned int i;

	if (ftruncate(fd, 0) == 0)
		f = fdopen(fd, "w");
	if (f == NULL) {
		fprintf(stderr, "--json %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	uname(&un);
	json_bench(f, rep);
	json_machine(f, rep, &un);
	json_workload(f, rep);
	fputs("},\n  \"results\": [\n", f);
	for (i = 0; i < n; i++)
		json_row(f, rep->u, &rows[i], i == 0);
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "--json %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * One percentile data block: (1/(1-p), latency us) steps, HdrHistogram's
 * percentile distribution: from the fraction of faults below a bucket to
 * the fraction at its top, the latency is the bucket's top (capped at the
 * maximum). The last step (p = 1) goes to x = 1e7, past the axis's end at
 * 99.999 % (1e5), so the curve reaches the right border.
 */
static void
plot_percentiles(FILE *f, const struct pfdk_hist *h, double us_per_cycle)
{
	uint64_t seen = 0, hi;
	unsigned int b;
	double p0 = 0, p1, y;

	for (b = 0; b < PFDK_HIST_BUCKETS; b++) {
		if (h->buckets[b] == 0)
			continue;
		seen += h->buckets[b];
		p1 = (double)seen / (double)h->count;
		hi = b + 1 < PFDK_HIST_BUCKETS ? pfdk_hist_bucket_low(b + 1) - 1 : h->max;
		hi = RTE_MIN(hi, h->max);
		y = RTE_MAX((double)hi * us_per_cycle, 1e-3);
		fprintf(f, "%.9g %.6g\n", 1.0 / (1.0 - p0), y);
		fprintf(f, "%.9g %.6g\n", seen == h->count ? 1e7 : 1.0 / (1.0 - p1), y);
		p0 = p1;
	}
	fputs("\n\n", f);
}

/* Distinct colours, in order (Okabe-Ito, then darker tones); dashes after. */
static const char *const plot_colours[] = {
	"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
	"#000000", "#882255", "#117733", "#999933", "#332288", "#b8a000",
};

int
fb_write_plot(const char *png, const struct fb_report *rep, const struct row *rows,
	      unsigned int n)
{
	double us = 1e6 / (double)rte_get_tsc_hz();
	char data[PATH_MAX], script[PATH_MAX];
	FILE *df = NULL, *sf = NULL;
	unsigned int i, nplot = 0;
	bool cdf = rep->plot_kind != NULL && strcmp(rep->plot_kind, "cdf") == 0;
	int ret = -1, err;

	if (plot_begin(png, data, script, sizeof(data), &df, &sf) < 0)
		goto out;
	fputs("\nset title ", sf);
	{
		char t[1200];

		snprintf(t, sizeof(t), "pfdk-faultbench: fault latency %s\\n%s",
			 cdf ? "CDF" : "by percentile", rep->workload);
		/* \n inside single quotes is literal: the title is double-quoted text. */
		fputs("\"", sf);
		for (i = 0; t[i] != '\0'; i++) {
			if (t[i] == '"' || (t[i] == '\\' && t[i + 1] != 'n'))
				fputc('\\', sf);
			fputc(t[i], sf);
		}
		fputs("\"\n", sf);
	}
	/* The legend right of the plot area: never over the curves. */
	fputs("set key outside right top vertical Left reverse noopaque\n"
	      "set grid xtics ytics mytics\nset logscale y\n", sf);
	if (cdf)
		fputs("set logscale x\nset xlabel 'latency (us)'\n"
		      "set ylabel 'fraction of faults <= x'\nset yrange [0:1]\n"
		      "unset logscale y\n", sf);
	else
		fputs("set logscale x\nset xrange [1:100000]\n"
		      /* a tic label is a format: %% is one % */
		      "set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, "
		      "'99.99%%' 10000, '99.999%%' 100000)\n"
		      "set xlabel 'percentile (log scale of 1/(1-p))'\n"
		      "set ylabel 'fault latency (us, log scale)'\n", sf);
	fputs("plot ", sf);
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char title[FB_MODE_LEN + 48];

		if (r->skipped || r->hist == NULL || r->hist->count == 0)
			continue;
		if (cdf)
			plot_cdf(df, r->hist, us);
		else
			plot_percentiles(df, r->hist, us);
		/* %.*s: the mode is a FB_MODE_LEN array, so the title fits. */
		if (r->burst)
			snprintf(title, sizeof(title), "%.*s burst %u", FB_MODE_LEN - 1,
				 r->mode, r->burst);
		else
			snprintf(title, sizeof(title), "%.*s", FB_MODE_LEN - 1, r->mode);
		if (rep->sweep)
			snprintf(title + strlen(title), sizeof(title) - strlen(title),
				 " (%u thr, %u uffd)", r->threads, r->uffds);
		fprintf(sf, "%s", nplot ? ", \\\n  " : "");
		gp_quote(sf, data);
		fprintf(sf, " index %u with lines lw 2 lc rgb '%s' dt %u title ", nplot,
			plot_colours[nplot % RTE_DIM(plot_colours)],
			1 + nplot / (unsigned int)RTE_DIM(plot_colours));
		gp_quote(sf, title);
		nplot++;
	}
	fputc('\n', sf);
	if (nplot == 0) {
		fprintf(stderr, "--plot %s: no row ran, nothing to draw\n", png);
		ret = 0;
		goto out;
	}
	err = plot_render(png, df, sf, script, true);
	df = sf = NULL;
	if (err < 0)
		goto out;
	if (err == 0)
		printf("plot: %s (latency %s of %u row(s))\n", png, cdf ? "CDF" : "percentiles", nplot);
	ret = 0;
out:
	if (df != NULL)
		fclose(df);
	if (sf != NULL)
		fclose(sf);
	if (data[0] != '\0')
		unlink(data);
	if (script[0] != '\0')
		unlink(script);
	return ret;
}

int
fb_write_sweep_plot(const char *png, const struct fb_report *rep, const struct row *rows,
		    unsigned int n)
{
	bool by_threads = rep->nb_threads > 1;
	char data[PATH_MAX], script[PATH_MAX], t[720];
	FILE *df = NULL, *sf = NULL;
	unsigned int i, j, nplot = 0;
	int ret = -1, err;

	if (plot_begin(png, data, script, sizeof(data), &df, &sf) < 0)
		goto out;
	/* The workload without the points' own threads/uffds. */
	{
		char acc[16];

		snprintf(t, sizeof(t), "pfdk-faultbench: faults/s against %s (medians; bars: "
			 "min-max over the runs)\\nuffd: %" PRIu64 " pages of %s, faulters on CPU %s, "
			 "pattern %s, access %s, %u run(s), profile %s",
			 by_threads ? "faulting threads" : "uffds", rep->u->pages,
			 rep->u->page_size == 4096 ? "4k" : "2m", rep->faulter_cpus,
			 rep->u->pattern == FB_PAT_SEQ ? "seq" :
			 rep->u->pattern == FB_PAT_RANDOM ? "random" : "stride",
			 fb_access_name(rep->u, acc, sizeof(acc)), rep->repeat, rep->prof->name);
	}
	/* Double quotes: "\n" breaks the line; the names hold no quote or backslash. */
	fprintf(sf, "\nset title \"%s\"", t);
	fprintf(sf, "\nset key outside right top vertical Left reverse noopaque\n"
		"set grid\nset logscale x 2\nset xlabel '%s'\nset ylabel 'faults/s'\n"
		"set yrange [0:*]\nset offsets graph 0.05, graph 0.05, 0, 0\nplot ",
		by_threads ? "faulting threads (--threads)" : "userfaultfds (--uffds)");
	/* One curve per (mode, burst) of the first point, and per uffds when both vary. */
	for (i = 0; i < n && rows[i].pt == 0; i++) {
		char title[FB_MODE_LEN + 32];
		unsigned int pts = 0;

		for (j = 0; j < n; j++) {
			const struct row *r = &rows[j];

			if (!same_row(r, &rows[i]) || r->skipped)
				continue;
			/* threads sweep: a curve per uffds value too (only the first here). */
			if (by_threads && r->uffds != rows[i].uffds)
				continue;
			fprintf(df, "%u %.1f %.1f %.1f\n", by_threads ? r->threads : r->uffds,
				r->faults_per_s, r->lo[RV_FPS], r->hi[RV_FPS]);
			pts++;
		}
		fputs("\n\n", df);
		if (rows[i].burst)
			snprintf(title, sizeof(title), "%.*s burst %u", FB_MODE_LEN - 1,
				 rows[i].mode, rows[i].burst);
		else
			snprintf(title, sizeof(title), "%.*s", FB_MODE_LEN - 1, rows[i].mode);
		if (pts == 0) {
			/* Keep the index numbering: the block is written, not plotted. */
			nplot++;
			continue;
		}
		fprintf(sf, "%s", nplot ? ", \\\n  " : "");
		gp_quote(sf, data);
		fprintf(sf, " index %u with yerrorlines lw 2 pt 7 lc rgb '%s' title ", nplot,
			plot_colours[i % RTE_DIM(plot_colours)]);
		gp_quote(sf, title);
		nplot++;
	}
	fputc('\n', sf);
	/* A missing gnuplot was said once already, by the latency plot. */
	err = plot_render(png, df, sf, script, false);
	df = sf = NULL;
	if (err < 0)
		goto out;
	if (err == 0)
		printf("plot: %s (faults/s of %u row(s) over the sweep)\n", png, nplot);
	ret = 0;
out:
	if (df != NULL)
		fclose(df);
	if (sf != NULL)
		fclose(sf);
	if (data[0] != '\0')
		unlink(data);
	if (script[0] != '\0')
		unlink(script);
	return ret;
}
