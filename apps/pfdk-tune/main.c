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
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#include <rte_common.h>

#include "pfdk_profile.h"

extern const char pfdk_default_profile[];

#ifndef PFDK_VERSION
#define PFDK_VERSION "unknown"
#endif

#define MAX_CAND 16
#define CHECK_MAX_CPUS 4096
#define CHECK_MAX_NODES 1024
#define CHECK_MAX_FILES 32
#define INI_LEN 8192
#define NAME_W 26 /* name column of the tables */

struct topo {
	int ncpus;
	int nnodes;
	char isolated[256];
	char siblings0[64];
};

#define MAX_RUNS 512 /* per candidate, over all rounds */

struct cand {
	char name[48];
	char ini[INI_LEN];  /* the candidate, as pfdk_profile_format() writes it */
	bool inthread;      /* its poller resolves in the faulting threads */
	char refused[512]; /* validator's reason; empty if accepted */
	char failed[640];  /* why an accepted one has no numbers */
	bool ran;
	double faults_per_s;  /* median over every run of every round */
	double fps_min, fps_max;
	unsigned int nruns;
	double runs[MAX_RUNS]; /* faults/s of each run */
	double p50_us, p99_us, p999_us; /* the latest trial's medians */
	uint64_t lost, dup;
};

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

static void
topo_read(struct topo *t)
{
	t->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	t->nnodes = numa_available() < 0 ? 1 : numa_num_configured_nodes();
	read_line("/sys/devices/system/cpu/isolated", t->isolated, sizeof(t->isolated));
	read_line("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list",
		  t->siblings0, sizeof(t->siblings0));
}

/* The workload the trials run: the bench options after "--", completed. */
struct workload {
	const char *source;  /* --source given after "--", else NULL */
	const char *faults;  /* --faults given after "--", else NULL */
	bool sim_opt;        /* --devargs or --faults after "--" */
	const char *uffds;   /* --uffds after "--" (a list: the largest counts) */
	const char *devargs; /* --devargs after "--" */
	bool uffd_opt;       /* a uffd workload option after "--" */
	int argc;
	char **argv;         /* what every trial passes on */
};

/*
 * The devices of the measured source, in @p devs (devices[] only), so the
 * profile written is deployable for that workload. uffd: uffd0..uffdM-1 (M
 * from the workload's --uffds, the largest of a list), as the bench names
 * them; @p sigbus the same with sigbus=1 (in-thread candidates). sim with
 * --devargs: that device. Else the base profile's devices.
 */
static void
source_devices(bool uffd, const struct workload *w, const struct pfdk_profile *base,
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
static void
with_devices(struct pfdk_profile *p, const struct pfdk_profile *devs)
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
	with_devices(&prof, devs);
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
static unsigned int
candidates(const struct topo *t, const struct pfdk_profile *base, bool uffd,
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

/* A decimal number in [min, max] ("010" is ten); 0 or -1. */
static int
parse_dec(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || *v < min || *v > max ? -1 : 0;
}

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

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->ran != y->ran)
		return x->ran ? -1 : 1;
	if (x->faults_per_s != y->faults_per_s)
		return x->faults_per_s > y->faults_per_s ? -1 : 1;
	return x->p999_us < y->p999_us ? -1 : x->p999_us > y->p999_us;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--bench PATH] [--out FILE] [--faults N] [--repeat K] [-- workload options]\n"
	       "       %s --check FILE [--check FILE ...] [--cpus N] [--nodes M]\n"
	       "       %s -h | --help | --version\n"
	       "modes:\n"
	       "  tune (default)  measure candidate layouts, write the fastest as a profile\n"
	       "  --check FILE    validate a profile for a host of N CPUs and M NUMA nodes\n"
	       "                  (default: this machine's), as the loader would there; no\n"
	       "                  EAL, nothing run. Exit 0 valid, 1 refused (the reason is\n"
	       "                  printed: file, section, key, line), 2 bad arguments\n"
	       "  --cpus N        with --check: CPUs 0..N-1 exist (1..%d)\n"
	       "  --nodes M       with --check: NUMA nodes 0..M-1 exist (1..%d)\n"
	       "tune options:\n"
	       "  --bench PATH   pfdk-faultbench to run (default: next to this program)\n"
	       "  --out FILE     winning profile (default pfdk-tuned.ini)\n"
	       "  --faults N     sim workload only: faults per trial (default 2000000)\n"
	       "  --repeat K     runs per trial, medians (default 3)\n"
	       "  --max-rounds R rounds of trials at most (default 3): while the leader's\n"
	       "                 faults/s range over its runs reaches another's, both run\n"
	       "                 again; still overlapping after R rounds is reported a tie\n"
	       "  after --: faultbench options naming the workload, passed to every trial:\n"
	       "    uffd: --source uffd, --threads T, --pages N, --page-size 4k|2m,\n"
	       "          --uffds M, --pattern seq|random|stride:K, --access A,\n"
	       "          --faulter-cpus LIST\n"
	       "    sim:  --source sim, --devargs STR, --faults N\n"
	       "  The workload is uffd if those options say so, sim if they (or --faults\n"
	       "  before --) say so, else uffd with faultbench's defaults where userfaultfd\n"
	       "  works and sim where it does not. Each trial runs\n"
	       "  pfdk-faultbench --modes pfdk --profile CANDIDATE --repeat K --json FILE\n"
	       "  and the workload; config/default.ini runs the same way, as the bar.\n",
	       prog, prog, prog, CHECK_MAX_CPUS, CHECK_MAX_NODES);
}

/* 0 when this process may create a userfaultfd, else -1 with @p why set. */
static int
uffd_usable(char *why, size_t len)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	/* What the bench tries too: user-mode-only faults need no privilege. */
	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		snprintf(why, len, "userfaultfd(2): %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * --check: each file loaded as the loader would on a host of @p ncpus CPUs
 * and @p nnodes nodes (0: this machine's), driver checks included; a line
 * per file, "FILE: ok ..." or the loader's reason. 0 when all are valid,
 * else 1.
 */
static int
check_files(const char *const *files, unsigned int nfiles, unsigned int ncpus,
	    unsigned int nnodes)
{
	struct pfdk_profile_check chk = { .ncpus = ncpus, .nnodes = nnodes };
	static struct pfdk_profile p;
	char err[512], host[64];
	unsigned int i, k, np, nr, spin;
	int bad = 0;

	if (ncpus != 0 || nnodes != 0)
		snprintf(host, sizeof(host), "a host of %s%u CPUs and %s%u node(s)",
			 ncpus ? "" : "this machine's ", ncpus ? ncpus :
			 (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), nnodes ? "" : "this machine's ",
			 nnodes ? nnodes : (numa_available() < 0 ? 1u :
					    (unsigned int)numa_num_configured_nodes()));
	else
		snprintf(host, sizeof(host), "this machine");
	for (i = 0; i < nfiles; i++) {
		if (pfdk_profile_load(files[i], &p, &chk, err, sizeof(err)) < 0) {
			printf("%s: refused for %s: %s\n", files[i], host, err);
			bad = 1;
			continue;
		}
		np = nr = spin = 0;
		for (k = 0; k < p.nb_lcores; k++) {
			const struct pfdk_profile_lcore *lc = &p.lcores[k];

			np += lc->role == PFDK_ROLE_POLLER;
			nr += lc->role == PFDK_ROLE_RESOLVER;
			spin += lc->role == PFDK_ROLE_RESOLVER ||
				lc->engine == PFDK_ENGINE_BUSY || lc->engine == PFDK_ENGINE_URING ||
				lc->engine == PFDK_ENGINE_URING_NOSQPOLL;
			spin += lc->role == PFDK_ROLE_POLLER && lc->engine == PFDK_ENGINE_URING &&
				lc->sqpoll_cpu >= 0;
		}
		printf("%s: ok for %s: profile '%s', layout %s, %u device(s), %u poller(s), "
		       "%u resolver(s), %u spinning thread(s), %u node(s) configured\n",
		       files[i], host, p.name, pfdk_layout_name(p.layout), p.nb_devices, np, nr,
		       spin, p.nb_nodes);
	}
	return bad;
}


/*
 * Sort the options after "--": what they say of the source, and the ones
 * pfdk-tune sets itself (a second --profile or --json would measure the
 * wrong thing). --repeat there is taken as pfdk-tune's own. Options the
 * table does not know pass through for the bench to judge.
 */
static int
workload_parse(char **extra, int nextra, struct workload *w, unsigned int *repeat)
{
	enum { ANY, SIM, UFFD, OURS };
	static const struct {
		const char *name;
		int kind;
	} opts[] = {
		{ "source", ANY }, { "devargs", SIM }, { "faults", SIM },
		{ "threads", UFFD }, { "pages", UFFD }, { "page-size", UFFD },
		{ "uffds", UFFD }, { "pattern", UFFD }, { "access", UFFD },
		{ "faulter-cpus", UFFD }, { "fault-around", UFFD }, { "repeat", OURS },
		{ "profile", OURS }, { "modes", OURS }, { "json", OURS },
		{ "burst", OURS },
	};
	const char *a, *eq, *val;
	unsigned long v;
	size_t nlen, k;
	char *end;
	int i;

	w->argv = calloc((size_t)nextra + 8, sizeof(*w->argv));
	if (w->argv == NULL)
		return -1;
	for (i = 0; i < nextra; i++) {
		a = extra[i];
		w->argv[w->argc++] = extra[i];
		if (strncmp(a, "--", 2) != 0)
			continue;
		eq = strchr(a, '=');
		nlen = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (strlen(opts[k].name) == nlen && strncmp(a + 2, opts[k].name, nlen) == 0)
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			continue;
		val = eq != NULL ? eq + 1 : i + 1 < nextra ? extra[i + 1] : NULL;
		if (val == NULL) {
			fprintf(stderr, "pfdk-tune: %s needs a value\n", a);
			return -1;
		}
		if (eq == NULL)
			w->argv[w->argc++] = extra[++i];
		switch (opts[k].kind) {
		case OURS:
			if (strcmp(opts[k].name, "repeat") != 0) {
				fprintf(stderr, "pfdk-tune: --%s: pfdk-tune sets it for each trial "
					"(--modes pfdk, --profile CANDIDATE, --json FILE, the profile's burst)\n",
					opts[k].name);
				return -1;
			}
			errno = 0;
			v = strtoul(val, &end, 10);
			if (errno || *end || v < 1 || v > 99) {
				fprintf(stderr, "pfdk-tune: --repeat %s: expected 1..99\n", val);
				return -1;
			}
			*repeat = (unsigned int)v;
			w->argc -= eq != NULL ? 1 : 2; /* pfdk-tune passes its own */
			break;
		case ANY:
			w->source = val;
			break;
		case SIM:
			w->sim_opt = true;
			if (strcmp(opts[k].name, "faults") == 0)
				w->faults = val;
			else
				w->devargs = val;
			break;
		default:
			w->uffd_opt = true;
			if (strcmp(opts[k].name, "uffds") == 0)
				w->uffds = val;
			break;
		}
	}
	return 0;
}

/* pfdk-tune's own options: the ones before "--". */
struct tune_opts {
	char bench[PATH_MAX];    /* the pfdk-faultbench every trial runs */
	const char *out;         /* where the winner is written */
	uint64_t faults;         /* the sim workload's fault count */
	bool faults_set;         /* --faults given (it picks the sim source) */
	unsigned int repeat;     /* runs per trial */
	unsigned int max_rounds; /* rounds of trials at most */
	const char *check[CHECK_MAX_FILES]; /* --check mode: the files */
	unsigned int ncheck, check_cpus, check_nodes;
};

/* One run of pfdk-tune: its options, workload, candidates and rounds. */
struct tune {
	struct tune_opts o;
	struct workload w;
	const char *src; /* the workload's source, "uffd" or "sim" */
	char fs[32];     /* the --faults value passed to a sim workload */
	struct topo t;
	struct pfdk_profile base;         /* config/default.ini, with the source's devices */
	struct pfdk_profile devs, devs_sb; /* the source's devices, and in SIGBUS mode */
	struct cand c[MAX_CAND + 1];      /* the candidates, then default.ini */
	unsigned int ncand;
	unsigned int round; /* rounds run */
};

/* Our bench sits beside us in the build tree and when installed. */
static void
bench_default(char *bench, size_t len)
{
	char *slash;

	if (readlink("/proc/self/exe", bench, len - 32) < 0) {
		strcpy(bench, "pfdk-faultbench");
		return;
	}
	bench[len - 33] = '\0';
	slash = strrchr(bench, '/');
	if (slash != NULL && strstr(bench, "/apps/pfdk-tune"))
		strcpy(strstr(bench, "/apps/pfdk-tune"), "/apps/pfdk-faultbench/pfdk-faultbench");
	else if (slash != NULL)
		strcpy(slash + 1, "pfdk-faultbench");
}

/* --cpus N or --nodes M (@p opt 'C' or 'N') into @p o; 0, or -1 with the reason printed. */
static int
opt_check_host(int opt, const char *arg, struct tune_opts *o)
{
	uint64_t v;

	if (parse_dec(arg, 1, opt == 'C' ? CHECK_MAX_CPUS : CHECK_MAX_NODES, &v) < 0) {
		fprintf(stderr, "pfdk-tune: --%s %s: expected a decimal number in 1..%d\n",
			opt == 'C' ? "cpus" : "nodes", arg,
			opt == 'C' ? CHECK_MAX_CPUS : CHECK_MAX_NODES);
		return -1;
	}
	if (opt == 'C')
		o->check_cpus = (unsigned int)v;
	else
		o->check_nodes = (unsigned int)v;
	return 0;
}

/*
 * One option of getopt_long() into @p o. @return -1 to go on, else the exit
 * status: 0 for --help and --version, 2 for a bad option or value.
 */
static int
opt_one(int opt, const char *prog, struct tune_opts *o)
{
	uint64_t v;

	switch (opt) {
	case 'c':
		if (o->ncheck == CHECK_MAX_FILES) {
			fprintf(stderr, "pfdk-tune: --check: at most %d files\n", CHECK_MAX_FILES);
			return 2;
		}
		o->check[o->ncheck++] = optarg;
		return -1;
	case 'C':
	case 'N':
		return opt_check_host(opt, optarg, o) < 0 ? 2 : -1;
	case 'V': printf("pfdk-tune (PFDK) %s\n", PFDK_VERSION); return 0;
	case 'R':
		if (parse_dec(optarg, 1, 10, &v) < 0) {
			fprintf(stderr, "pfdk-tune: --max-rounds %s: expected a decimal number "
				"in 1..10\n", optarg);
			return 2;
		}
		o->max_rounds = (unsigned int)v;
		return -1;
	case 'b': snprintf(o->bench, sizeof(o->bench), "%s", optarg); return -1;
	case 'o': o->out = optarg; return -1;
	case 'f':
		if (parse_dec(optarg, 1, UINT64_MAX / 2, &v) < 0) {
			fprintf(stderr, "pfdk-tune: --faults %s: expected a decimal number > 0\n",
				optarg);
			return 2;
		}
		o->faults = v;
		o->faults_set = true;
		return -1;
	case 'r':
		if (parse_dec(optarg, 1, 99, &v) < 0) {
			fprintf(stderr, "pfdk-tune: --repeat %s: expected a decimal number "
				"in 1..99\n", optarg);
			return 2;
		}
		o->repeat = (unsigned int)v;
		return -1;
	case 'h': usage(prog); return 0;
	default: usage(prog); return 2;
	}
}

/*
 * The options before "--" into @p o, defaults first; optind is left at the
 * workload's. @return -1 to go on, else the exit status (as opt_one()).
 */
static int
opts_parse(int argc, char **argv, struct tune_opts *o)
{
	static const struct option lo[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "faults", required_argument, NULL, 'f' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check", required_argument, NULL, 'c' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "nodes", required_argument, NULL, 'N' },
		{ "max-rounds", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret;

	bench_default(o->bench, sizeof(o->bench));
	o->out = "pfdk-tuned.ini";
	o->faults = 2000000;
	o->repeat = 3;
	o->max_rounds = 3;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		ret = opt_one(opt, argv[0], o);
		if (ret >= 0)
			return ret;
	}
	if ((o->check_cpus || o->check_nodes) && o->ncheck == 0) {
		fprintf(stderr, "pfdk-tune: --cpus and --nodes go with --check FILE\n");
		return 2;
	}
	if (o->ncheck > 0 && optind < argc) {
		fprintf(stderr, "pfdk-tune: --check runs nothing: unexpected '%s'\n", argv[optind]);
		return 2;
	}
	return -1;
}

/*
 * The workload's source (see the top of this file), put on its command line
 * when it was not there, so the bench cannot choose differently; a sim
 * workload gets pfdk-tune's --faults. 0, or -1 with the reason printed.
 */
static int
workload_source(struct tune *tu)
{
	struct workload *w = &tu->w;
	char why[128];

	tu->src = w->source;
	if (tu->src == NULL) {
		if (w->uffd_opt) {
			tu->src = "uffd";
		} else if (w->sim_opt || tu->o.faults_set) {
			tu->src = "sim";
		} else if (uffd_usable(why, sizeof(why)) == 0) {
			tu->src = "uffd";
		} else {
			printf("pfdk-tune: sim workload: userfaultfd is not usable here "
			       "(%s)\n", why);
			tu->src = "sim";
		}
		memmove(w->argv + 2, w->argv, (size_t)w->argc * sizeof(*w->argv));
		w->argv[0] = (char *)(uintptr_t)"--source";
		w->argv[1] = (char *)(uintptr_t)tu->src;
		w->argc += 2;
	}
	if (strcmp(tu->src, "sim") == 0) {
		if (w->faults == NULL) {
			snprintf(tu->fs, sizeof(tu->fs), "%" PRIu64, tu->o.faults);
			w->argv[w->argc++] = (char *)(uintptr_t)"--faults";
			w->argv[w->argc++] = tu->fs;
		} else if (tu->o.faults_set) {
			fprintf(stderr, "pfdk-tune: --faults given before and after --\n");
			return -1;
		}
	} else if (tu->o.faults_set) {
		fprintf(stderr, "pfdk-tune: --faults is the sim workload's size; the %s "
			"workload's is --pages (after --)\n", tu->src);
		return -1;
	}
	return 0;
}

/*
 * The bench runs and --out can be written, checked before the trials: a
 * path that cannot be written costs no run. 0, or -1 with the reason printed.
 */
static int
paths_check(const char *bench, const char *out)
{
	int fd;

	if (access(bench, X_OK) != 0) {
		fprintf(stderr, "pfdk-tune: %s: %s (give --bench PATH)\n", bench, strerror(errno));
		return -1;
	}
	fd = open(out, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			unlink(out); /* written at the end; none if no layout runs */
	}
	if (fd < 0) {
		fprintf(stderr, "pfdk-tune: --out %s: cannot write it: %s (nothing was run)\n",
			out, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

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
	source_devices(uffd, &tu->w, &tu->base, &tu->devs, &tu->devs_sb);
	nc = candidates(&tu->t, &tu->base, uffd, &tu->devs, &tu->devs_sb, tu->c);
	def = &tu->c[nc];
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "default.ini");
	with_devices(&tu->base, &tu->devs);
	if (pfdk_profile_format(&tu->base, def->ini, sizeof(def->ini)) < 0)
		snprintf(def->refused, sizeof(def->refused),
			 "config/default.ini: profile larger than %zu bytes", sizeof(def->ini));
	tu->ncand = nc + 1;
	return 0;
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
static int
round_first(struct tune *tu)
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
static void
rounds_more(struct tune *tu)
{
	struct cand *c = tu->c;
	unsigned int i, ncand = tu->ncand;
	double lead_min;

	for (tu->round = 1; tu->round < tu->o.max_rounds; tu->round++) {
		qsort(c, ncand, sizeof(c[0]), cmp_cand);
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
	qsort(c, tu->ncand, sizeof(c[0]), cmp_cand);
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

	ret = opts_parse(argc, argv, &tu.o);
	if (ret >= 0)
		return ret;
	if (tu.o.ncheck > 0)
		return check_files(tu.o.check, tu.o.ncheck, tu.o.check_cpus, tu.o.check_nodes);
	if (workload_parse(argv + optind, argc - optind, &tu.w, &tu.o.repeat) < 0 ||
	    workload_source(&tu) < 0 || paths_check(tu.o.bench, tu.o.out) < 0)
		return 2;
	topo_read(&tu.t);
	header_print(&tu);
	if (cands_make(&tu) < 0)
		return 1;
	if (round_first(&tu) < 0)
		return 2;
	rounds_more(&tu);
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
