/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune's measuring: one trial runs pfdk-faultbench on a candidate and
 * reads its --json file back; the rounds run the trials until one
 * candidate is ahead beyond run-to-run spread or --max-rounds is spent.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tune.h"

/* Field @key of JSON object @o as a number; -1 when absent or null. */
static double
json_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Add the trial's per-run faults/s (the row's "per_run" arrays) to the
 * candidate's runs, then its median, min and max over all of them: more
 * rounds narrow what "faster" means instead of replacing it.
 */
static void
runs_add(struct cand *x, const json_t *row)
{
	const json_t *arr = json_object_get(json_object_get(row, "per_run"), "faults_per_s");
	double sorted[MAX_RUNS];
	unsigned int n;
	size_t i;

	if (!json_is_array(arr)) {
		/* A version 1 bench: its median stands for one run. */
		if (x->nruns < MAX_RUNS)
			x->runs[x->nruns++] = x->faults_per_s;
	} else {
		for (i = 0; i < json_array_size(arr) && x->nruns < MAX_RUNS; i++) {
			const json_t *v = json_array_get(arr, i);

			if (json_is_number(v))
				x->runs[x->nruns++] = json_number_value(v);
		}
	}
	n = x->nruns;
	if (n == 0)
		return;
	memcpy(sorted, x->runs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_dbl);
	x->fps_min = sorted[0];
	x->fps_max = sorted[n - 1];
	x->faults_per_s = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/*
 * The trial's row from the bench's --json file (docs/faultbench-json.md):
 * its numbers, or why it did not run. The bench's table is for people and
 * never read here. @return 0 if the row ran, -1 with x->failed set if not.
 */
static int
trial_result(const char *path, struct cand *x)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	const json_t *res, *row;
	const char *status, *reason;
	int ret = -1;

	if (root == NULL) {
		snprintf(x->failed, sizeof(x->failed),
			 "the bench's JSON cannot be read: %s (line %d)", err.text, err.line);
		return -1;
	}
	res = json_object_get(root, "results");
	/* One row: the trial asked for --modes pfdk and one burst. */
	if (!json_is_array(res) || json_array_size(res) != 1 ||
	    !json_is_object(row = json_array_get(res, 0))) {
		snprintf(x->failed, sizeof(x->failed),
			 "the bench's JSON has %zu result rows, expected 1",
			 json_is_array(res) ? json_array_size(res) : 0);
		goto out;
	}
	status = json_string_value(json_object_get(row, "status"));
	if (status != NULL && strcmp(status, "ok") != 0) {
		reason = json_string_value(json_object_get(row, "reason"));
		snprintf(x->failed, sizeof(x->failed), "skipped by pfdk-faultbench: %.600s",
			 reason ? reason : status);
		goto out;
	}
	x->faults_per_s = json_num(row, "faults_per_s");
	if (x->faults_per_s > 0)
		runs_add(x, row);
	x->p50_us = json_num(row, "p50_us");
	x->p99_us = json_num(row, "p99_us");
	x->p999_us = json_num(row, "p999_us");
	x->lost = (uint64_t)json_integer_value(json_object_get(row, "lost"));
	x->dup = (uint64_t)json_integer_value(json_object_get(row, "duplicated"));
	x->ran = x->nruns > 0;
	if (x->ran)
		ret = 0;
	else
		snprintf(x->failed, sizeof(x->failed), "no faults/s in the bench's JSON");
out:
	json_decref(root);
	return ret;
}

/* A failed trial's output, on our stderr: the bench's own words. */
static void
dump(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "    | %s", line);
	fclose(f);
}

/*
 * One trial: "BENCH --profile INI --modes pfdk --burst B --repeat K --json
 * FILE WORKLOAD...", the numbers read back from the JSON. The bench's
 * output goes to a scratch file: its table and the EAL's start-up notes are
 * noise for a trial that ran, and the file holds a skipped row's reason; a
 * trial that failed shows it whole.
 */
static int
trial(const char *bench, const char *ini, uint16_t burst, unsigned int repeat,
      char **wl, int nwl, struct cand *x)
{
	char prof[] = "/tmp/pfdk-tune-XXXXXX.ini", json[PATH_MAX], out[PATH_MAX];
	char *argv[16 + nwl], rp[16], bs[8];
	int fd, argc = 0, st, i;
	pid_t pid;

	fd = mkstemps(prof, 4);
	if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini)) {
		perror("pfdk-tune: profile");
		if (fd >= 0) {
			close(fd);
			unlink(prof);
		}
		snprintf(x->failed, sizeof(x->failed), "cannot write the profile");
		return -1;
	}
	close(fd);
	snprintf(json, sizeof(json), "%s.json", prof);
	snprintf(out, sizeof(out), "%s.out", prof);
	snprintf(rp, sizeof(rp), "%u", repeat);
	snprintf(bs, sizeof(bs), "%u", burst);
	argv[argc++] = (char *)(uintptr_t)bench;
	argv[argc++] = (char *)(uintptr_t)"--profile";
	argv[argc++] = prof;
	argv[argc++] = (char *)(uintptr_t)"--modes";
	argv[argc++] = (char *)(uintptr_t)"pfdk";
	/* One row: the sim source would add a burst-64 row by default. */
	argv[argc++] = (char *)(uintptr_t)"--burst";
	argv[argc++] = bs;
	argv[argc++] = (char *)(uintptr_t)"--repeat";
	argv[argc++] = rp;
	argv[argc++] = (char *)(uintptr_t)"--json";
	argv[argc++] = json;
	for (i = 0; i < nwl; i++)
		argv[argc++] = wl[i];
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (freopen(out, "w", stdout) == NULL || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(127);
		execv(bench, argv);
		perror(bench);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (pid > 0 && WIFEXITED(st))
			snprintf(x->failed, sizeof(x->failed),
				 "pfdk-faultbench exited with status %d (its output is above)",
				 WEXITSTATUS(st));
		else
			snprintf(x->failed, sizeof(x->failed), "pfdk-faultbench did not finish");
		dump(out);
		unlink(prof);
		unlink(json);
		unlink(out);
		/* 2: the bench refused its command line, which every trial shares. */
		return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2 ? -2 : -1;
	}
	trial_result(json, x);
	unlink(prof);
	unlink(json);
	unlink(out);
	return x->ran ? 0 : -1;
}

int
tune_cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->ran != y->ran)
		return x->ran ? -1 : 1;
	if (x->faults_per_s != y->faults_per_s)
		return x->faults_per_s > y->faults_per_s ? -1 : 1;
	return x->p999_us < y->p999_us ? -1 : x->p999_us > y->p999_us;
}

/* One trial of candidate @p x with the workload. @return as trial(). */
static int
cand_trial(const struct tune *tu, struct cand *x)
{
	return trial(tu->o.bench, x->ini, tu->base.burst, tu->o.repeat, tu->w.argv, tu->w.argc,
		     x);
}

/*
 * Round 1: every candidate the validator accepted, once. 0, or -1 when the
 * bench refused the workload options (every trial would).
 */
int
tune_round_first(struct tune *tu)
{
	struct cand *c = tu->c;
	unsigned int i;
	int ret;

	for (i = 0; i < tu->ncand; i++) {
		if (c[i].refused[0]) {
			printf("  %-*s refused: %s\n", NAME_W, c[i].name, c[i].refused);
			continue;
		}
		printf("  %-*s measuring ...\n", NAME_W, c[i].name);
		ret = cand_trial(tu, &c[i]);
		if (ret == -2) {
			fprintf(stderr,
				"pfdk-tune: pfdk-faultbench refused the workload options\n");
			return -1;
		}
		if (ret < 0)
			printf("  %-*s %s\n", NAME_W, c[i].name, c[i].failed);
	}
	return 0;
}

/*
 * While the leader's faults/s range over its runs reaches the next one's,
 * run the leader and every candidate within its range again: their runs add
 * up until one is ahead of all (its slowest run faster than their fastest)
 * or --max-rounds is spent, which is a tie. Sets tu->round.
 */
void
tune_rounds_more(struct tune *tu)
{
	struct cand *c = tu->c;
	unsigned int i, ncand = tu->ncand;
	double lead_min;

	for (tu->round = 1; tu->round < tu->o.max_rounds; tu->round++) {
		qsort(c, ncand, sizeof(c[0]), tune_cmp_cand);
		if (!c[0].ran || ncand < 2 || !c[1].ran || c[0].fps_min > c[1].fps_max)
			break;
		lead_min = c[0].fps_min;
		printf("round %u: %s is not ahead of the rest beyond run-to-run spread; "
		       "again:", tu->round + 1, c[0].name);
		for (i = 0; i < ncand; i++)
			if (c[i].ran && c[i].fps_max >= lead_min)
				printf(" %s", c[i].name);
		printf("\n");
		for (i = 0; i < ncand; i++) {
			if (!c[i].ran || c[i].fps_max < lead_min)
				continue;
			printf("  %-*s measuring (round %u) ...\n", NAME_W, c[i].name,
			       tu->round + 1);
			if (cand_trial(tu, &c[i]) < 0)
				printf("  %-*s %s\n", NAME_W, c[i].name, c[i].failed);
		}
	}
}
