/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-tune's internals, shared by its files: main.c runs the steps,
 * opts.c reads the command line, cand.c proposes the candidate layouts,
 * rounds.c measures them with pfdk-faultbench.
 */
#ifndef PFDK_TUNE_H
#define PFDK_TUNE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "pfdk_profile.h"

#define MAX_CAND 16
#define CHECK_MAX_CPUS 4096
#define CHECK_MAX_NODES 1024
#define CHECK_MAX_FILES 32
#define INI_LEN 8192
#define NAME_W 26 /* name column of the tables */
#define MAX_RUNS 512 /* per candidate, over all rounds */

/* The machine the candidates are made for. */
struct topo {
	int ncpus;
	int nnodes;
	char isolated[256];
	char siblings0[64];
};

/* One candidate layout: its profile, and what measuring it gave. */
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

/* This machine's CPUs, nodes, isolated CPUs and CPU 0's siblings, into @p t. */
void tune_topo_read(struct topo *t);

/*
 * The measured source's devices (uffd: uffd0..uffdM-1, M from the
 * workload's --uffds; sim: its --devargs, else @p base's) into @p devs, and
 * the same in SIGBUS mode into @p sigbus.
 */
void tune_source_devices(bool uffd, const struct workload *w, const struct pfdk_profile *base,
			 struct pfdk_profile *devs, struct pfdk_profile *sigbus);

/* @p p's devices replaced by @p devs's, every poller owning all their queues. */
void tune_with_devices(struct pfdk_profile *p, const struct pfdk_profile *devs);

/*
 * The layouts worth measuring on machine @p t, validated, into @p c
 * (MAX_CAND at most); @p uffd adds the in-thread one. @return their number.
 */
unsigned int tune_candidates(const struct topo *t, const struct pfdk_profile *base, bool uffd,
			     const struct pfdk_profile *devs,
			     const struct pfdk_profile *devs_sigbus, struct cand *c);

/* qsort() order of candidates: what ran first, faster first, then lower p99.9. */
int tune_cmp_cand(const void *a, const void *b);

/*
 * Round 1: every candidate the validator accepted, once. 0, or -1 when the
 * bench refused the workload options (every trial would).
 */
int tune_round_first(struct tune *tu);

/* Further rounds while the leader is not ahead beyond run-to-run spread; sets tu->round. */
void tune_rounds_more(struct tune *tu);

/*
 * --check: each of @p files validated for a host of @p ncpus CPUs and
 * @p nnodes nodes (0: this machine's). 0 when all are valid, else 1.
 */
int tune_check_files(const char *const *files, unsigned int nfiles, unsigned int ncpus,
		     unsigned int nnodes);

/*
 * The options before "--" into @p o, defaults first; optind is left at the
 * workload's. @return -1 to go on, else the exit status.
 */
int tune_opts_parse(int argc, char **argv, struct tune_opts *o);

/*
 * The options after "--" into @p w (--repeat there into @p repeat). 0, or
 * -1 with the reason printed.
 */
int tune_workload_parse(char **extra, int nextra, struct workload *w, unsigned int *repeat);

/* The workload's source chosen and put on its command line. 0, or -1 with the reason printed. */
int tune_workload_source(struct tune *tu);

/* The bench runs and --out can be written. 0, or -1 with the reason printed. */
int tune_paths_check(const char *bench, const char *out);

#endif /* PFDK_TUNE_H */
