/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune: propose core layouts for this machine, measure each with
 * pfdk-faultbench on the workload the user names, rank them, and write the
 * winner as a profile whose comments carry the measurements.
 *
 *   pfdk-tune [--bench PATH] [--out FILE] [--faults N] [--repeat K]
 *             [-- faultbench workload options, e.g. --devargs sim0,groups=4]
 *
 * Candidates come from the topology (libnuma, sysfs) and are checked by the
 * profile validator against this machine before anything runs, so a layout
 * that cannot work (an SQ thread on its own poller's CPU, as many spinners
 * as CPUs) is listed as refused, with the validator's reason.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfdk_profile.h"

extern const char pfdk_default_profile[];

#define MAX_CAND 16
#define INI_LEN 4096

struct topo {
	int ncpus;
	int nnodes;
	char isolated[256];
	char siblings0[64];
};

struct cand {
	char name[48];
	char ini[INI_LEN];
	char refused[512]; /* validator's reason; empty if accepted */
	bool ran;
	double faults_per_s;
	double p50_us, p99_us, p999_us;
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

/* The [device.*] sections of the base profile, as INI text. */
static void
devices_ini(const struct pfdk_profile *base, char *buf, size_t len)
{
	size_t n = 0;
	uint16_t i;

	buf[0] = '\0';
	for (i = 0; i < base->nb_devices; i++)
		n += (size_t)snprintf(buf + n, len - n, "[device.%s]\ndevargs = %s\nqueues = %u\n",
				      base->devices[i].name, base->devices[i].devargs,
				      base->devices[i].nb_queues);
}

/* "dev:0, dev:1, ..." for every queue of every device. */
static void
all_queues(const struct pfdk_profile *base, char *buf, size_t len)
{
	size_t n = 0;
	uint16_t i, q;

	buf[0] = '\0';
	for (i = 0; i < base->nb_devices; i++)
		for (q = 0; q < base->devices[i].nb_queues; q++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s:%u", n ? ", " : "",
					      base->devices[i].name, q);
}

static void
cand_add(struct cand *c, unsigned int *nc, const char *name, const char *devs,
	 const char *layout, const char *lcores, int ncpus)
{
	struct pfdk_profile_check chk = { .ncpus = (unsigned int)ncpus };
	static struct pfdk_profile prof;
	struct cand *x;

	if (*nc == MAX_CAND)
		return;
	x = &c[(*nc)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->ini, sizeof(x->ini),
		 "[pfdk]\nname = %s\nlayout = %s\nburst = 32\nmain_cpu = 0\n\n"
		 "[node.0]\npool_size = 4095\npool_cache = 64\nring_size = 1024\n\n%s\n%s",
		 name, layout, devs, lcores);
	if (pfdk_profile_load_string(name, x->ini, strlen(x->ini), &prof, &chk,
				     x->refused, sizeof(x->refused)) == 0)
		x->refused[0] = '\0';
}

/* Layouts worth measuring on a machine of this shape. */
static unsigned int
candidates(const struct topo *t, const struct pfdk_profile *base, struct cand *c)
{
	char devs[2048], q[1024], lc[1536];
	int last = t->ncpus - 1;
	unsigned int n = 0;

	devices_ini(base, devs, sizeof(devs));
	all_queues(base, q, sizeof(q));
#define LCORE(id, role, extra) \
	"[lcore." #id "]\nrole = " role "\ncpu = %d\n" extra
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = busy\nqueues = %s\n"), last, q);
	cand_add(c, &n, "rtc-busy", devs, "rtc", lc, t->ncpus);
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = uring-nosqpoll\nqueues = %s\n"), last, q);
	cand_add(c, &n, "rtc-uring", devs, "rtc", lc, t->ncpus);
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = uring\nsqpoll_cpu = %d\nqueues = %s\n"),
		 last, last > 0 ? last - 1 : 0, q);
	cand_add(c, &n, "rtc-uring-sqpoll", devs, "rtc", lc, t->ncpus);
	/* The SQ thread on its own poller's CPU: shown refused, with the reason. */
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = uring\nsqpoll_cpu = %d\nqueues = %s\n"),
		 last, last, q);
	cand_add(c, &n, "rtc-uring-sq-same-cpu", devs, "rtc", lc, t->ncpus);
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = epoll\nqueues = %s\n"), 0, q);
	cand_add(c, &n, "colocated-cpu0", devs, "colocated", lc, t->ncpus);
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = epoll\nqueues = %s\n"), last, q);
	cand_add(c, &n, "colocated-cpu-last", devs, "colocated", lc, t->ncpus);
	snprintf(lc, sizeof(lc), LCORE(1, "poller", "engine = busy\nqueues = %s\n")
		 "\n" LCORE(2, "resolver", ""), last, q, last > 1 ? last - 1 : 0);
	cand_add(c, &n, "pipeline-1p1r", devs, "pipeline", lc, t->ncpus);
#undef LCORE
	return n;
}

/* The number after "key": in a JSON text, or -1. */
static double
json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(js, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static int
trial(const char *bench, const char *ini, uint64_t faults, unsigned int repeat,
      char **extra, int nextra, struct cand *x)
{
	char prof[] = "/tmp/pfdk-tune-XXXXXX.ini", json[PATH_MAX], fs[32], rp[16];
	char *argv[32 + nextra], js[1 << 16];
	int fd, argc = 0, st, i;
	size_t n;
	pid_t pid;
	FILE *f;

	fd = mkstemps(prof, 4);
	if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini)) {
		perror("pfdk-tune: profile");
		return -1;
	}
	close(fd);
	snprintf(json, sizeof(json), "%s.json", prof);
	snprintf(fs, sizeof(fs), "%" PRIu64, faults);
	snprintf(rp, sizeof(rp), "%u", repeat);
	argv[argc++] = (char *)(uintptr_t)bench;
	argv[argc++] = (char *)(uintptr_t)"--profile";
	argv[argc++] = prof;
	argv[argc++] = (char *)(uintptr_t)"--modes";
	argv[argc++] = (char *)(uintptr_t)"pfdk";
	argv[argc++] = (char *)(uintptr_t)"--burst";
	argv[argc++] = (char *)(uintptr_t)"32";
	argv[argc++] = (char *)(uintptr_t)"--faults";
	argv[argc++] = fs;
	argv[argc++] = (char *)(uintptr_t)"--repeat";
	argv[argc++] = rp;
	argv[argc++] = (char *)(uintptr_t)"--json";
	argv[argc++] = json;
	for (i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The bench's table is noise here; its errors are not. */
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(bench, argv);
		perror(bench);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unlink(prof);
		unlink(json);
		return -1;
	}
	f = fopen(json, "r");
	n = f ? fread(js, 1, sizeof(js) - 1, f) : 0;
	if (f)
		fclose(f);
	js[n] = '\0';
	unlink(prof);
	unlink(json);
	x->faults_per_s = json_num(js, "faults_per_s");
	x->p50_us = json_num(js, "p50_us");
	x->p99_us = json_num(js, "p99_us");
	x->p999_us = json_num(js, "p999_us");
	x->lost = (uint64_t)json_num(js, "lost");
	x->dup = (uint64_t)json_num(js, "duplicated");
	x->ran = x->faults_per_s > 0;
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
	       "  --bench PATH   pfdk-faultbench to run (default: next to this program)\n"
	       "  --out FILE     winning profile (default pfdk-tuned.ini)\n"
	       "  --faults N     faults per trial (default 2000000)\n"
	       "  --repeat K     runs per trial, medians (default 3)\n"
	       "  after --: faultbench options naming the workload (--devargs, --source, ...)\n",
	       prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "faults", required_argument, NULL, 'f' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cand c[MAX_CAND + 1];
	static struct pfdk_profile base;
	char bench[PATH_MAX], err[512], *slash;
	const char *out = "pfdk-tuned.ini";
	uint64_t faults = 2000000;
	unsigned int repeat = 3, nc, i, ncand;
	struct pfdk_profile_check chk = { 0 };
	struct cand *def, *win;
	struct topo t;
	int opt, nextra = 0;
	char **extra = NULL;
	FILE *f;

	/* Our bench sits beside us in the build tree and when installed. */
	if (readlink("/proc/self/exe", bench, sizeof(bench) - 32) < 0)
		strcpy(bench, "pfdk-faultbench");
	else {
		bench[sizeof(bench) - 33] = '\0';
		slash = strrchr(bench, '/');
		if (slash != NULL && strstr(bench, "/apps/pfdk-tune"))
			strcpy(strstr(bench, "/apps/pfdk-tune"), "/apps/pfdk-faultbench/pfdk-faultbench");
		else if (slash != NULL)
			strcpy(slash + 1, "pfdk-faultbench");
	}
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'b': snprintf(bench, sizeof(bench), "%s", optarg); break;
		case 'o': out = optarg; break;
		case 'f': faults = strtoull(optarg, NULL, 0); break;
		case 'r': repeat = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (faults == 0 || repeat == 0 || repeat > 99) {
		fprintf(stderr, "pfdk-tune: --faults must be > 0 and --repeat 1..99\n");
		return 2;
	}
	extra = argv + optind;
	nextra = argc - optind;
	if (access(bench, X_OK) != 0) {
		fprintf(stderr, "pfdk-tune: %s: %s (give --bench PATH)\n", bench, strerror(errno));
		return 2;
	}
	topo_read(&t);
	printf("pfdk-tune: %d CPUs online, %d NUMA node(s), isolated CPUs: %s, CPU 0 siblings: %s\n",
	       t.ncpus, t.nnodes, t.isolated[0] ? t.isolated : "none",
	       t.siblings0[0] ? t.siblings0 : "?");
	if (pfdk_profile_load_string("config/default.ini (embedded)", pfdk_default_profile,
				     strlen(pfdk_default_profile), &base, &chk, err,
				     sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	nc = candidates(&t, &base, c);
	/* The shipped default, measured the same way, is the bar to clear. */
	def = &c[nc];
	memset(def, 0, sizeof(*def));
	snprintf(def->name, sizeof(def->name), "default.ini");
	snprintf(def->ini, sizeof(def->ini), "%s", pfdk_default_profile);
	ncand = nc + 1;
	for (i = 0; i < ncand; i++) {
		if (c[i].refused[0]) {
			printf("  %-22s refused: %s\n", c[i].name, c[i].refused);
			continue;
		}
		printf("  %-22s measuring ...\n", c[i].name);
		if (trial(bench, c[i].ini, faults, repeat, extra, nextra, &c[i]) < 0)
			printf("  %-22s failed to run (see the bench's messages above)\n", c[i].name);
	}
	def = NULL;
	qsort(c, ncand, sizeof(c[0]), cmp_cand);
	printf("\n%-4s %-22s %12s %9s %9s %9s %5s %5s\n", "rank", "layout", "faults/s",
	       "p50_us", "p99_us", "p99.9_us", "lost", "dup");
	for (i = 0; i < ncand && c[i].ran; i++) {
		printf("%-4u %-22s %12.0f %9.2f %9.2f %9.2f %5" PRIu64 " %5" PRIu64 "\n", i + 1,
		       c[i].name, c[i].faults_per_s, c[i].p50_us, c[i].p99_us, c[i].p999_us,
		       c[i].lost, c[i].dup);
		if (strcmp(c[i].name, "default.ini") == 0)
			def = &c[i];
	}
	win = &c[0];
	if (!win->ran) {
		fprintf(stderr, "pfdk-tune: no layout ran\n");
		return 1;
	}
	f = fopen(out, "w");
	if (f == NULL) {
		fprintf(stderr, "pfdk-tune: %s: %s\n", out, strerror(errno));
		return 1;
	}
	fprintf(f, "; Written by pfdk-tune on a %d-CPU, %d-node machine: the fastest of %u\n"
		"; layouts measured with pfdk-faultbench (--faults %" PRIu64 " --repeat %u",
		t.ncpus, t.nnodes, ncand, faults, repeat);
	for (i = 0; i < (unsigned int)nextra; i++)
		fprintf(f, " %s", extra[i]);
	fprintf(f, ").\n; %s: %.0f faults/s, p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
		win->name, win->faults_per_s, win->p50_us, win->p99_us, win->p999_us);
	if (def != NULL)
		fprintf(f, "; config/default.ini on the same workload: %.0f faults/s, p99.9 %.2f us\n",
			def->faults_per_s, def->p999_us);
	fprintf(f, "\n%s", win->ini);
	fclose(f);
	printf("\nwinner: %s, written to %s\n", win->name, out);
	return 0;
}
