/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_FAULTBENCH_H
#define PFDK_FAULTBENCH_H

/*
 * Internal to pfdk-faultbench: a result row, the uffd source (uffd_source.c:
 * regions, faulting threads, verification, the PFDK rows) and the
 * hand-written handlers it is compared with (baselines.c); the topology
 * (topo.c), the report (report.c), the options (opts.c), the row table
 * and its runs (rows.c), the sim and iommufd sources (sim_source.c,
 * iommufd_source.c) and the placement (place.c). main.c orchestrates.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pfdk_eal.h"
#include "pfdk_profile.h"

struct pfdk_fault;
struct pfdk_hist;
struct pfdk_iommufd_io;
struct pfdk_store;

#define FB_MODE_LEN 32
#define FB_MAX_REPEAT 99

/* Per-run values of a row (medians, min and max over them). */
enum { RV_FPS, RV_NS, RV_P50, RV_P90, RV_P99, RV_P999, RV_MAX, RV_WALL,
	RV_HCPU, RV_FCPU, RV_N };

struct row {
	char mode[FB_MODE_LEN];
	const char *source;
	uint16_t burst;          /* 0: not a PFDK row */
	uint64_t faults;
	double faults_per_s;
	double ns_per_fault;
	double p50_us, p90_us, p99_us, p999_us, max_us;
	uint64_t lost;
	uint64_t duplicated;
	uint64_t backpressure;   /* ring-full events + pool-short receives */
	uint64_t retried;
	unsigned int threads;    /* uffd: faulting threads (0 for sim) */
	unsigned int uffds;      /* uffd: userfaultfds (0 for sim) */
	uint32_t page_size;      /* uffd: bytes (0 for sim) */
	double ratio_classic;    /* faults/s over classic's, 0 = no classic row */
	double ratio_native;     /* faults/s over native's, 0 = no native row */
	double wall_s;           /* uffd: touching phase; sim: the run */
	double cpu_handler_s;    /* process CPU in wall_s less the faulters' */
	double cpu_faulters_s;   /* faulting threads' own CPU (0 for sim) */
	/*
	 * --plot: latencies (TSC cycles) of every run of the row merged in
	 * here by the run; NULL when no plot is wanted.
	 */
	struct pfdk_hist *hist;
	char layout[16];         /* rtc, pipeline, colocated; "baseline" */
	char engine[48];         /* the pollers' engines ("busy", "epoll+busy"), or the baseline's */
	int fault_around;        /* uffd: pages filled after each fault; -1 for sim */
	unsigned int nruns;      /* runs that finished */
	unsigned int pt;         /* sweep point (--threads x --uffds), from 0 */
	unsigned int passes;     /* --duration: passes of the last run */
	double v[RV_N][FB_MAX_REPEAT]; /* each run's values, in run order */
	double lo[RV_N], hi[RV_N];     /* min and max over the runs */
	int close_to_best;       /* faults/s range overlaps the best row's: 1; 0; -1 unknown */
	bool skipped;            /* the row did not run (skip_reason says why) */
	bool error;              /* ... because it failed: the bench exits 1 */
	char skip_reason[600];
};

/*
 * SIGINT or SIGTERM received (its number), else 0: runs stop early, the
 * run in progress is discarded once its faults are answered, and the
 * table and JSON show the runs that finished.
 */
extern volatile sig_atomic_t fb_stop_signal;

/* CPU seconds consumed so far by @p clk (a thread or the process). */
static inline double
fb_cpu_s(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Access orders of the faulting threads. */
enum fb_pattern { FB_PAT_SEQ = 0, FB_PAT_RANDOM, FB_PAT_STRIDE };

/* How the faulting threads touch each page (the first touch is timed). */
enum fb_access { FB_ACC_READ = 0, FB_ACC_WRITE, FB_ACC_MIX };

#define FB_MAX_CPUS CPU_SETSIZE

/* The uffd workload. */
struct fb_uffd_opts {
	unsigned int threads;   /* faulting threads, over faulter_cpus */
	unsigned int uffds;     /* separate userfaultfds (regions) */
	uint64_t pages;         /* pages per run, over all regions */
	size_t page_size;       /* 4096 or 2 MiB (hugetlb) */
	enum fb_pattern pattern;
	unsigned int stride;    /* FB_PAT_STRIDE: visit every stride-th page first */
	enum fb_access access;
	unsigned int write_pct; /* FB_ACC_MIX: percent of pages written */
	/* Faulting thread k runs on faulter_cpu[k % nb_faulter_cpus]. */
	unsigned int nb_faulter_cpus;
	int faulter_cpu[64];
	int fault_cpu;          /* faulter_cpu[0]: main_cpu of generated rows */
	int fault_node;         /* its NUMA node */
	int other_cpu;          /* handlers of non-colocated rows (topology pick) */
	int other_node;
	unsigned int check_ncpus;  /* the machine rows are checked for (0: here) */
	unsigned int check_nnodes;
	unsigned int fault_around; /* pfdk-inthread-fa rows: pages after each fault */
};

/* "read", "write", "mix" (50 %) or "mix:W" (W % written); 0 or -1. */
int fb_access_parse(const char *s, struct fb_uffd_opts *u);

/* "write", "read" or "mix:W" into @p buf. */
const char *fb_access_name(const struct fb_uffd_opts *u, char *buf, size_t len);

/* Is page @p j of region @p r written (else read) at first touch? */
static inline bool
fb_access_writes(const struct fb_uffd_opts *u, unsigned int r, size_t j)
{
	uint64_t h;

	if (u->access != FB_ACC_MIX)
		return u->access == FB_ACC_WRITE;
	/* A fixed hash: every run and every row writes the same pages. */
	h = ((uint64_t)j + ((uint64_t)r << 40)) * 0x9e3779b97f4a7c15ull;
	return (h >> 32) % 100 < u->write_pct;
}

/* ---- topo.c ---- */

/* The CPUs, nodes and cores rows are placed on. */
struct fb_topo {
	cpu_set_t online;
	cpu_set_t allowed;      /* online and in this process's affinity mask */
	unsigned int ncpus;     /* highest online CPU + 1 */
	unsigned int nnodes;    /* highest node + 1 */
	int node[FB_MAX_CPUS];
	int core[FB_MAX_CPUS];  /* core_id */
	int pkg[FB_MAX_CPUS];   /* physical_package_id */
	bool fake;              /* read under $PFDK_SYSFS_ROOT */
};

/* "0-3,8,10-11" into @p set; 0 or -1 (empty, garbage, a CPU >= FB_MAX_CPUS). */
int fb_cpulist_parse(const char *s, cpu_set_t *set);

/* @p set as a list ("0-3,8"); 0 or -1 when @p len is too short. */
int fb_cpulist_format(const cpu_set_t *set, char *buf, size_t len);

/* Read the topology (sysfs, or $PFDK_SYSFS_ROOT/sys); 0 or -1. */
int fb_topo_load(struct fb_topo *t);

/*
 * The best allowed CPU outside @p avoid (and inside @p within when not
 * NULL) for a handler serving faulters on @p avoid: on @p near's node,
 * then not an SMT sibling of a CPU in @p avoid, then the lowest number.
 * @return the CPU, or -1 when none is left.
 */
int fb_topo_pick(const struct fb_topo *t, const cpu_set_t *avoid, int near,
		 const cpu_set_t *within);

/* ---- report.c: table, JSON, plot ---- */

/* What the table, the JSON and the plot say about the run as a whole. */
struct fb_report {
	const char *source;
	bool uffd;
	const struct fb_uffd_opts *u;    /* uffd source: the workload */
	const char *faulter_cpus;        /* uffd: as a list */
	const struct pfdk_profile *prof;
	const char *profile_file;        /* NULL: the embedded default */
	const char *devargs;
	uint64_t faults;                 /* sim: faults per row */
	unsigned int repeat;
	int argc;                        /* the command line, as typed */
	char **argv;
	const char *plot_kind;           /* "percentile" or "cdf" */
	bool sweep;                      /* rows of several --threads/--uffds points */
	unsigned int nb_threads, nb_uffds; /* the sweep's lists */
	unsigned int threads[16], uffds[16];
	double duration_s;               /* --duration, 0 without */
	char timestamp[32];              /* start, UTC, ISO 8601 */
	char workload[1024];              /* one line: titles and headers */
};

/*
 * A sweep's summary: faults/s of every row (mode, burst) at every point
 * (columns), after the per-point tables.
 */
void fb_print_sweep(const struct row *rows, unsigned int n, unsigned int npoints);

/* A sweep's throughput plot (faults/s against threads or uffds); 0 or -1. */
int fb_write_sweep_plot(const char *png, const struct fb_report *rep,
			const struct row *rows, unsigned int n);

/* Mark rows whose faults/s over the runs overlaps the best row's. */
void fb_mark_spread(struct row *rows, unsigned int n);

void fb_print_table(const struct fb_report *rep, const struct row *rows, unsigned int n);

/* --json into @p fd (opened by fb_out_check()); 0 or -1 (reason printed). */
int fb_write_json(int fd, const char *path, const struct fb_report *rep,
		  const struct row *rows, unsigned int n);

/*
 * --json and --plot before anything runs: @p path opened for writing
 * (created when missing, never truncated here). @return the fd, or -1 with
 * the reason printed; *created tells whether it is new.
 */
int fb_out_check(const char *opt, const char *path, bool *created);

/* --plot: 0 (drawn, or no gnuplot: a message) or -1. */
int fb_write_plot(const char *png, const struct fb_report *rep, const struct row *rows,
		  unsigned int n);

/* ---- uffd_source.c ---- */

/* 0 when this process may create a userfaultfd, else -1 with @why set. */
int fb_uffd_available(char *why, size_t len);

/* "seq", "random", "stride:K"; 0 or -1. */
int fb_uffd_parse_pattern(const char *s, struct fb_uffd_opts *u);

/* A baseline row name (classic, classic-colocated, epoll-many, native)? */
bool fb_is_baseline(const char *mode);

/*
 * The profile of a PFDK row on the uffd source, one [device.uffdN] per
 * uffd. Mode "pfdk" (@p layout and @p engine both < 0): @p base as written
 * (layout, main_cpu, nodes, every lcore's placement and engine), its
 * devices replaced and the uffd queues split over its pollers. Other
 * modes: @p base's pool, the mode's layout and engine, one poller owning
 * every queue, laid out for two CPUs (spinning lcores only on other_cpu).
 * Devices owned by engine = inthread pollers get devargs sigbus=1 (and
 * fault_around=@p fault_around when not 0) before the profile is validated
 * with pfdk_profile_validate(), the driver checks included: -1 with the
 * reason in @p err if refused.
 */
int fb_uffd_row_profile(const struct pfdk_profile *base, int layout, int engine,
			uint16_t burst, const struct fb_uffd_opts *u,
			unsigned int fault_around, struct pfdk_profile *out,
			char *err, size_t errlen);

/* Touch and release a scratch region as large as one run's memory. */
void fb_uffd_warm(const struct fb_uffd_opts *u);

/*
 * One run of a uffd row: @p prof for PFDK rows, NULL for baselines.
 * @return 0 (row filled), 1 (skipped: r->skip_reason), 2 (interrupted by
 * fb_stop_signal: the faulting threads stopped touching, every fault they
 * took was answered, nothing measured), -1 (failed).
 */
int fb_uffd_run_once(const struct pfdk_profile *prof, const struct fb_uffd_opts *u,
		     struct row *r);

/* ---- baselines.c ---- */

/* Region handed to a hand-written handler. */
struct bl_region {
	uint8_t *base;
	size_t len;
	const struct pfdk_store *store;
	int uffd;
};

enum bl_kind { BL_CLASSIC = 0, BL_EPOLL, BL_SIGBUS };

struct bl_handler {
	enum bl_kind kind;
	int cpu;
	size_t page;
	unsigned int nreg;
	struct bl_region *reg;
	int stopfd;
	pthread_t th;
	bool running;
	/* Results (read after bl_stop). */
	uint64_t copies;
	uint64_t exists;   /* fault for a page already there: duplicated */
	uint64_t errors;   /* COPY failures other than EEXIST/EAGAIN */
	uint64_t events;   /* non-pagefault messages */
};

/* A non-blocking userfaultfd after UFFDIO_API with @features; -errno. */
int bl_uffd_open(uint64_t features);

/* Register [addr, addr+len) MISSING; 0 or -errno. */
int bl_uffd_register(int uffd, void *addr, size_t len);

/* Start the handler thread over h->reg[0..nreg); 0 or -errno. */
int bl_start(struct bl_handler *h);

/* Stop and join it (the faulting threads are done). */
void bl_stop(struct bl_handler *h);

/* sigbus: a faulting thread's scratch page, before its first fault. */
int bl_sigbus_thread_init(void);
void bl_sigbus_thread_fini(void);

/* ---- opts.c: the command line ---- */

#define FB_MAX_ROWS 128
#define FB_MAX_POINTS 16 /* --threads x --uffds sweep points */
#define FB_MAX_MODES 16
#define FB_MAX_BURSTS 8

/* The bench's options (after "--", or every argument without it). */
struct fb_opts {
	const char *source;
	const char *devargs;
	const char *profile;
	const char *json;
	const char *plot;   /* --plot: PNG of the rows' latencies */
	const char *plot_kind; /* --plot-kind percentile|cdf */
	uint64_t faults;
	unsigned int repeat;
	unsigned int nb_modes;
	char modes[FB_MAX_MODES][32];
	unsigned int nb_bursts;
	uint16_t bursts[FB_MAX_BURSTS];
	const char *faulter_cpus; /* --faulter-cpus LIST */
	unsigned int nb_threads, nb_uffds; /* --threads / --uffds lists */
	unsigned int threads[FB_MAX_POINTS], uffds[FB_MAX_POINTS];
	double duration_s;  /* --duration: passes per run until this much measured time */
	bool dry_run;       /* --dry-run: print the rows' placement, run nothing */
	bool sim_only;      /* --faults or --devargs given */
	bool faults_given;  /* --faults given */
	bool repeat_given;  /* --repeat given */
	bool mock;          /* --mock: the kernel's iommufd mock device */
	uint64_t rate;      /* --rate: mock triggers per second (0: flat out) */
	bool uffd_only;     /* a uffd workload option given */
	struct fb_uffd_opts u;
};

/*
 * Parse the bench's options into @p o (its defaults already set), pick the
 * source when none is given and check the options against it and the modes
 * against the row table. --help and --version print and exit(0).
 * @return 0, or -1 with the reason printed (exit status 2).
 */
int fb_opts_parse(int argc, char **argv, struct fb_opts *o);

/* ---- rows.c: the row kinds and their runs ---- */

/* What runs a row. */
enum fb_row_kind {
	FB_ROW_PFDK,        /* a PFDK pipeline: fb_uffd_run_once() or fb_sim_run_once() */
	FB_ROW_BASELINE,    /* a hand-written uffd handler: fb_uffd_run_once(NULL) */
	FB_ROW_FD_BASELINE, /* a hand-written fault-FD handler: fb_fd_baseline_run() */
};

/* A row kind (--modes name): one line of fb_mode_defs[]. */
struct fb_mode_def {
	const char *name;
	enum fb_row_kind kind;
	/* One pass of the row (@p prof: its profile; baselines have none): as fb_uffd_run_once(). */
	int (*run)(const struct pfdk_profile *prof, struct row *r);
	int layout;         /* FB_ROW_PFDK: the layout and engine, or the profile's (-1) */
	int engine;
	bool uffd_only;     /* FB_ROW_PFDK: --source uffd only */
	bool def_sim;       /* in the default --modes of the sim and iommufd sources */
	bool def_uffd;      /* in the default --modes of the uffd source */
	const char *bl_engine; /* baselines: the row's "engine" */
	const char *help;   /* --help's line */
};

/* Every row kind, in --help's order. */
extern const struct fb_mode_def fb_mode_defs[];
extern const unsigned int fb_nb_mode_defs;

/* The row kind named @p name, or NULL. */
const struct fb_mode_def *fb_row_find(const char *name);

/* A PFDK row's layout and engine; NULL for a baseline or an unknown name. */
const struct fb_mode_def *fb_mode_find(const char *name);

/* Which fault-FD handler @p m is (0: spin, 1: poll, 2: epoll), or -1. */
int fb_fd_baseline_find(const char *m);

/* Every PFDK mode (and baseline with @p uffd_only) for messages: "pfdk, pfdk-rtc, ...". */
void fb_mode_names(char *buf, size_t len, bool uffd_only);

/* No --modes: the source's default rows into @p o. */
void fb_default_modes(struct fb_opts *o, bool uffd);

/* The uffd workload the rows run: the point of the sweep being run. */
extern struct fb_uffd_opts fb_uffd;

/* --duration: passes per run until this much measured time (0: one pass). */
extern double fb_duration_s;

/*
 * The layout and engine a row runs (from its profile @p v; a baseline's
 * own handler), and its fault-around, for the JSON.
 */
void fb_row_describe(struct row *r, const struct pfdk_profile *v, bool baseline, bool uffd);

/*
 * Run @p r once more (its run @p k of @p repeat): 0, 1 (skipped: the
 * reason in @p r), 2 (interrupted: nothing measured), or -1 (failed: not
 * run, the reason in @p r). Correctness counters add up over runs: one
 * loss is a loss.
 */
int fb_row_run(const struct pfdk_profile *prof, unsigned int k, unsigned int repeat,
	       struct row *r);

/* Medians (and min, max) over the row's @p n runs. */
void fb_row_finish(struct row *r, unsigned int n);

/* faults/s against the classic and native rows of the same run (one point's rows). */
void fb_set_ratios(struct row *rows, unsigned int n);

/*
 * The progress line on stderr over @p nrows rows; fb_progress_row() before
 * a row's run; fb_progress_end() takes the terminal's line away before
 * other output (@p keep false) or ends it with a newline.
 */
void fb_progress_start(unsigned int nrows);
void fb_progress_row(unsigned int row);
void fb_progress_end(bool keep);

/* ---- sim_source.c: the sim source, and the PFDK rows of sim and iommufd ---- */

/* A pipeline row with no record emitted and no group answered for this long has failed. */
#define FB_STALL_S 10u

/* The sim resolver: every 64th page is outside the "mapped" range. */
uint16_t fb_sim_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb);

/*
 * The value of key @p key in the devargs @p da ("name,k=v,..."), copied
 * into @p val; false when the key is absent. Whole keys only ("xtotal=1"
 * is not "total").
 */
bool fb_devargs_value(const char *da, const char *key, char *val, size_t len);

/*
 * --source sim: every device a sim device with a finite total= that fits
 * (@p devargs replacing the first device's); 0, or -1 with the reason in
 * @p err, before the EAL starts.
 */
int fb_sim_devices_check(const struct pfdk_profile *base, const char *devargs,
			 uint64_t faults, char *err, size_t errlen);

/*
 * The profile @p p of a sim or iommufd row of PFDK mode @p mode: its
 * layout and engines, @p burst, @p devargs for the first device and
 * total= from @p faults where no total= or fault_fd= is given. 0, or -1
 * when it does not fit (lcores or devargs).
 */
int fb_sim_row_profile(const struct pfdk_profile *base, const char *mode, uint16_t burst,
		       uint64_t faults, const char *devargs, struct pfdk_profile *p);

/*
 * One run of a PFDK row on the sim or iommufd source: as fb_uffd_run_once()
 * (0, 2 interrupted, -1 failed with r->skip_reason).
 */
int fb_sim_run_once(const struct pfdk_profile *prof, struct row *r);

/* ---- iommufd_source.c ---- */

/* fault_fd= rows: a real fault FD, and the groups to answer per row (0: no limit). */
extern bool fb_iommufd_real;
extern uint64_t fb_iommufd_groups;

/* --mock: the kernel's mock device is set up. */
extern bool fb_mock_on;

/*
 * --source iommufd before the EAL starts: --mock's device, the default
 * devargs, the device check, and --repeat/--faults as a real FD takes
 * them. 0, or -1 with the reason printed (exit status 2).
 */
int fb_iommufd_setup(struct fb_opts *o, const struct pfdk_profile *prof);

/* --mock's teardown (nothing without --mock); 0, or -1 with the reason printed. */
int fb_mock_close(void);

/* fb_sim_resolve(), and the latency from fault i's trigger to this answer. */
uint16_t fb_mock_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb);

/* --mock's device thread of a row: fb_iommufd_groups triggers, paced at --rate. */
struct fb_mock_thread {
	pthread_t th;
	uint64_t n, sent;   /* to trigger; triggered */
	volatile int stop;  /* the row is over */
	int err;            /* a trigger failed: -errno */
};

/* Start @p t (n set); pthread_create()'s result. */
int fb_mock_thread_start(struct fb_mock_thread *t);

/* Stop and join it. */
void fb_mock_thread_stop(struct fb_mock_thread *t);

/* The row's latencies from each trigger: emptied before a run, read after it. */
void fb_mock_hist_reset(void);
const struct pfdk_hist *fb_mock_hist_get(void);

/* A hand-written handler of the mock's fault FD (@p prof unused); as fb_sim_run_once(). */
int fb_fd_baseline_run(const struct pfdk_profile *prof, struct row *r);

/*
 * The driver's fault-FD I/O wrapped to count its calls: on a real FD each
 * is one read(2)/write(2). Set between pipeline create and start (the
 * device is configured, not started); the queue's one lcore updates it,
 * the main thread reads it after stop.
 */
struct fb_io_count {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	uint64_t reads, empty, writes;
	uint64_t ring_writes; /* the engine's io_uring writes: no syscall of ours */
};

/* Count device @p id's fault-FD calls into @p c; false when it cannot be wrapped. */
bool fb_io_count_attach(uint16_t id, struct fb_io_count *c);

/* Has a real fault FD hung up (or gone)? */
bool fb_iommufd_hung_up(uint16_t id);

/* ---- place.c: CPUs, lcores, EAL arguments ---- */

/*
 * The EAL's lcores: the user's lcore options (-l, -c, --lcores,
 * --main-lcore) as typed, extended with what the rows need; without any,
 * the main lcore on the profile's main_cpu. Filled before the rows are
 * placed, written into the EAL arguments after.
 */
extern struct pfdk_eal_lcores fb_lmap;

/* fb_uffd's faulter CPUs as a list (fb_place_uffd()). */
extern char fb_faulter_list[256];

/*
 * The uffd workload's CPUs (fb_uffd from @p o): faulters on --faulter-cpus
 * or main_cpu, the handler CPU from the topology; 0, or -1 with the
 * reason printed.
 */
int fb_place_uffd(const struct fb_opts *o, const struct pfdk_profile *prof);

/* Each row's lcores on EAL lcores of fb_lmap; a row that cannot be placed is not run. */
void fb_place_rows(struct pfdk_profile *variants, struct row *rows, unsigned int nrows);

/* The lcore map: the EAL's (@p lcores), then each row's. */
void fb_print_lcore_map(const char *lcores, const struct pfdk_profile *variants,
			const struct row *rows, unsigned int nrows);

/* --dry-run: each row's lcores, the faulting threads' and handler CPUs. */
void fb_print_dry_run(const struct fb_opts *o, const struct pfdk_profile *variants,
		      const struct row *rows, unsigned int nrows, bool uffd);

/*
 * The EAL's arguments into @p eal (NULL-terminated, @p eal_len entries):
 * the bench's defaults, then the user's (argv before @p dashdash) with
 * fb_lmap's lcores (written into @p lcores, @p main_lcore). The count, or
 * -1 when the map does not fit.
 */
int fb_eal_args_build(char **argv, int dashdash, char **eal, int eal_len, char *lcores,
		      size_t lcores_len, char *main_lcore, size_t main_len);

/* EAL options the bench cannot honour (a secondary process); 0, or -1 with the reason. */
int fb_eal_args_check(int uargc, char **argv);

#endif /* PFDK_FAULTBENCH_H */
