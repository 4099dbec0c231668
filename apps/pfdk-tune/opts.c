/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune's command line: its own options, --check, the workload options
 * after "--" and the source they name, and the paths checked before any
 * trial runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#include "tune.h"

#ifndef PFDK_VERSION
#define PFDK_VERSION "unknown"
#endif

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

static void
usage(const char *prog)
{
	printf("usage: %s [--bench PATH] [--out FILE] [--faults N] [--repeat K] "
	       "[-- workload options]\n"
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
int
tune_check_files(const char *const *files, unsigned int nfiles, unsigned int ncpus,
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
			 (unsigned int)sysconf(_SC_NPROCESSORS_ONLN),
			 nnodes ? "" : "this machine's ",
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
int
tune_workload_parse(char **extra, int nextra, struct workload *w, unsigned int *repeat)
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
					"(--modes pfdk, --profile CANDIDATE, --json FILE, "
					"the profile's burst)\n",
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

/* Our bench sits beside us in the build tree and when installed. */
static void
bench_default(char *bench, size_t len)
{
	char *slash;
	/* Room kept for the longer name that replaces ours. */
	ssize_t n = readlink("/proc/self/exe", bench, len - 48);

	if (n < 0) {
		strcpy(bench, "pfdk-faultbench");
		return;
	}
	bench[n] = '\0'; /* readlink() does not end the string */
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
int
tune_opts_parse(int argc, char **argv, struct tune_opts *o)
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
int
tune_workload_source(struct tune *tu)
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
int
tune_paths_check(const char *bench, const char *out)
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
