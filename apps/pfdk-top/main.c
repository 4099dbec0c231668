/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-top: a live view of a running PFDK process (pfdk-faultbench, or an
 * application using the libraries) through DPDK's telemetry socket.
 *
 *   pfdk-top [--file-prefix P | --socket PATH] [-i S] [--count N | --once]
 *
 * Once an interval it asks the process, over the socket
 * <runtime dir>/dpdk_telemetry.v2 (SOCK_SEQPACKET, one JSON reply per
 * command, the protocol dpdk-telemetry.py speaks), for /pfdk/info,
 * /pfdk/devs, /pfdk/stats,<id> of each device, /pfdk/lcore_list and
 * /pfdk/lcores,<lcore> of each worker (a reply holds 16 KiB at most),
 * /pfdk/latency (cumulative and ",window"), and prints per-device and
 * per-lcore rates over the interval (the difference of two samples over
 * the time between them), each lcore's busy % (busy over total TSC cycles
 * of its loop in the interval), and the latency percentiles of the faults
 * responded in the interval, each poller's and all together. The window is the process's: one pfdk-top at
 * a time sees all of it; two share it.
 * A device or lcore that is not in both samples (a pipeline came or went:
 * the bench makes one per run) shows its counters without rates.
 *
 * The runtime directory is the EAL's: /var/run/dpdk/<prefix> for root,
 * else $XDG_RUNTIME_DIR/dpdk/<prefix> (or /tmp/dpdk/<prefix>); the prefix
 * is the EAL's --file-prefix, "rte" by default.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef PFDK_VERSION
#define PFDK_VERSION "unknown"
#endif

#define REPLY_MAX (1 << 16)   /* DPDK 22.11 replies are at most 16 KiB */
#define MAX_DEVS 64
#define MAX_LCORES 128

/* ---- a minimal JSON reader: enough for telemetry's replies ---- */

static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Past the JSON value at @p p; NULL if malformed. */
static const char *
skip_value(const char *p)
{
	int depth = 0;

	p = ws(p);
	do {
		if (*p == '\0')
			return NULL;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return NULL;
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			p++;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (depth > 0) {
			p++;
		} else {
			/* A number, true, false or null at the top. */
			while (*p != '\0' && *p != ',' && *p != '}' && *p != ']' &&
			       *p != ' ' && *p != '\n')
				p++;
		}
		if (depth > 0)
			p = ws(p);
	} while (depth > 0);
	return p;
}

/*
 * Call @p fn for every member of the object at @p obj: its key and a
 * pointer to its value. Stops at a malformed text.
 */
static void
members(const char *obj, void (*fn)(const char *key, const char *val, void *arg), void *arg)
{
	const char *p = ws(obj), *k;
	char key[64];
	size_t n;

	if (*p != '{')
		return;
	p = ws(p + 1);
	while (*p == '"') {
		k = p + 1;
		p = strchr(k, '"');
		if (p == NULL)
			return;
		n = (size_t)(p - k) < sizeof(key) - 1 ? (size_t)(p - k) : sizeof(key) - 1;
		memcpy(key, k, n);
		key[n] = '\0';
		p = ws(p + 1);
		if (*p != ':')
			return;
		p = ws(p + 1);
		fn(key, p, arg);
		p = skip_value(p);
		if (p == NULL)
			return;
		p = ws(p);
		if (*p != ',')
			return;
		p = ws(p + 1);
	}
}

struct find {
	const char *key;
	const char *val;
};

static void
find_cb(const char *key, const char *val, void *arg)
{
	struct find *f = arg;

	if (f->val == NULL && strcmp(key, f->key) == 0)
		f->val = val;
}

/* The value of member @p key of the object at @p obj, or NULL. */
static const char *
get(const char *obj, const char *key)
{
	struct find f = { key, NULL };

	if (obj == NULL)
		return NULL;
	members(obj, find_cb, &f);
	return f.val;
}

static double
num(const char *obj, const char *key)
{
	const char *v = get(obj, key);

	return v != NULL && (*v == '-' || (*v >= '0' && *v <= '9')) ? strtod(v, NULL) : NAN;
}

static void
str(const char *obj, const char *key, char *buf, size_t len)
{
	const char *v = get(obj, key);
	size_t n = 0;

	buf[0] = '\0';
	if (v == NULL || *v != '"')
		return;
	for (v++; *v != '"' && *v != '\0' && n + 1 < len; v++)
		buf[n++] = *v;
	buf[n] = '\0';
}

/* ---- the socket ---- */

static int
tel_connect(const char *path, char *info, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pfdk-top: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "pfdk-top: %s: %s (is a PFDK process running with telemetry, "
			"and that --file-prefix?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The server speaks first: {"version": ..., "pid": ..., "max_output_len": ...}. */
	n = recv(fd, info, len - 1, 0);
	if (n <= 0) {
		fprintf(stderr, "pfdk-top: %s: no greeting from the process\n", path);
		close(fd);
		return -1;
	}
	info[n] = '\0';
	return fd;
}

/* Send @p cmd, the reply into @p buf; the value of the reply's one member, or NULL. */
static const char *
tel_cmd(int fd, const char *cmd, char *buf, size_t len)
{
	ssize_t n;

	if (send(fd, cmd, strlen(cmd), 0) < 0)
		return NULL;
	n = recv(fd, buf, len - 1, 0);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* {"/pfdk/stats": {...}}: the command's name without its parameters. */
	{
		char key[64];
		size_t k = strcspn(cmd, ",");

		snprintf(key, sizeof(key), "%.*s", (int)k, cmd);
		return get(buf, key);
	}
}

/* ---- samples ---- */

/*
 * The earlier values of a record, or NULL when there are none or a counter
 * went down: a new pipeline that reuses the device name or lcore id
 * starts from zero, and its totals are not a rate.
 */
static const double *
earlier(const double *prev, const double *now, unsigned int n)
{
	unsigned int k;

	for (k = 0; prev != NULL && k < n; k++)
		if (!isnan(now[k]) && !isnan(prev[k]) && now[k] < prev[k])
			return NULL;
	return prev;
}

enum { D_RECV, D_RESP, D_GROUPS, D_INVALID, D_NODESC, D_ERRORS, D_OUTST, D_N };
static const char *const dev_keys[D_N] = {
	"received", "responded", "groups", "invalid", "nodesc", "errors", "outstanding",
};
/* Counters first: earlier() checks those before L_INFLIGHT (a gauge). */
enum { L_RECV, L_RESOLVED, L_RESP, L_RETRIED, L_BACKPR, L_IDLE, L_SLEEPS, L_BUSY, L_TOTAL,
       L_INFLIGHT, L_CPU, L_N };
static const char *const lc_keys[L_N] = {
	"received", "resolved", "responded", "retried", "backpressure", "idle", "sleeps",
	"busy_cycles", "total_cycles", "inflight", "cpu",
};
static const char *const lat_keys[] = {
	"count", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns",
};
#define LAT_N (sizeof(lat_keys) / sizeof(lat_keys[0]))

struct sample {
	double t;              /* CLOCK_MONOTONIC seconds */
	unsigned int ndev, nlc;
	struct {
		int id;
		char name[32], driver[16], state[16];
		double q;
		double v[D_N];
	} dev[MAX_DEVS];
	struct {
		char id[16], role[16], engine[16], queues[64];
		double v[L_N];
		double win[3];     /* p50, p99, p999 ns of the interval; NAN: none */
	} lc[MAX_LCORES];
	char profile[96];      /* the live pipelines' "name (layout)" */
	double lat[LAT_N];     /* count, p50, p90, p99, p999, max (ns), mean */
	bool have_lat;
	double win[LAT_N];     /* the same, of the faults since the last sample */
	bool have_win;
};

static void
info_cb(const char *key, const char *val, void *arg)
{
	struct sample *s = arg;
	char name[48], layout[16];
	size_t n = strlen(s->profile);

	(void)key;
	str(val, "profile", name, sizeof(name));
	str(val, "layout", layout, sizeof(layout));
	snprintf(s->profile + n, sizeof(s->profile) - n, "%s%s (%s)", n ? ", " : "",
		 name, layout);
}

static void
lc_cb(const char *key, const char *val, void *arg)
{
	struct sample *s = arg;
	unsigned int k;

	if (s->nlc == MAX_LCORES)
		return;
	/* An lcore key is its id: a few digits; a longer one is cut, not a bug. */
	snprintf(s->lc[s->nlc].id, sizeof(s->lc[0].id), "%.*s",
		 (int)sizeof(s->lc[0].id) - 1, key);
	str(val, "role", s->lc[s->nlc].role, sizeof(s->lc[0].role));
	str(val, "engine", s->lc[s->nlc].engine, sizeof(s->lc[0].engine));
	str(val, "queues", s->lc[s->nlc].queues, sizeof(s->lc[0].queues));
	for (k = 0; k < L_N; k++)
		s->lc[s->nlc].v[k] = num(val, lc_keys[k]);
	s->nlc++;
}

static int
sample(int fd, struct sample *s, char *buf)
{
	struct timespec ts;
	const char *v, *p;
	char cmd[64];
	unsigned int k;
	int ids[MAX_DEVS], nid = 0;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	v = tel_cmd(fd, "/pfdk/devs", buf, REPLY_MAX);
	if (v == NULL)
		return -1;
	/* [0, 1, ...] */
	for (p = ws(v); *p == '[' || *p == ',' || *p == ' '; p++)
		if (p[1] >= '0' && p[1] <= '9' && nid < MAX_DEVS)
			ids[nid++] = (int)strtol(p + 1, NULL, 10);
	for (k = 0; k < (unsigned int)nid; k++) {
		unsigned int j;

		snprintf(cmd, sizeof(cmd), "/pfdk/stats,%d", ids[k]);
		v = tel_cmd(fd, cmd, buf, REPLY_MAX);
		if (v == NULL || *ws(v) != '{')
			continue; /* gone since /pfdk/devs */
		s->dev[s->ndev].id = ids[k];
		str(v, "name", s->dev[s->ndev].name, sizeof(s->dev[0].name));
		str(v, "driver", s->dev[s->ndev].driver, sizeof(s->dev[0].driver));
		str(v, "state", s->dev[s->ndev].state, sizeof(s->dev[0].state));
		s->dev[s->ndev].q = num(v, "queues");
		for (j = 0; j < D_N; j++)
			s->dev[s->ndev].v[j] = num(v, dev_keys[j]);
		s->ndev++;
	}
	v = tel_cmd(fd, "/pfdk/info", buf, REPLY_MAX);
	if (v != NULL)
		members(v, info_cb, s);
	/*
	 * One lcore per reply: DPDK drops what does not fit in 16 KiB, about
	 * 25 lcores of /pfdk/lcores. A process without /pfdk/lcore_list
	 * (older) answers null to it: read /pfdk/lcores whole then.
	 */
	v = tel_cmd(fd, "/pfdk/lcore_list", buf, REPLY_MAX);
	if (v != NULL && *ws(v) == '[') {
		int lids[MAX_LCORES], nl = 0;

		for (p = ws(v); *p == '[' || *p == ',' || *p == ' '; p++)
			if (p[1] >= '0' && p[1] <= '9' && nl < MAX_LCORES)
				lids[nl++] = (int)strtol(p + 1, NULL, 10);
		for (k = 0; k < (unsigned int)nl; k++) {
			snprintf(cmd, sizeof(cmd), "/pfdk/lcores,%d", lids[k]);
			v = tel_cmd(fd, cmd, buf, REPLY_MAX);
			if (v != NULL && *ws(v) == '{')
				members(v, lc_cb, s);
		}
	} else {
		v = tel_cmd(fd, "/pfdk/lcores", buf, REPLY_MAX);
		if (v != NULL)
			members(v, lc_cb, s);
	}
	v = tel_cmd(fd, "/pfdk/latency", buf, REPLY_MAX);
	if (v != NULL && *ws(v) == '{') {
		s->have_lat = true;
		for (k = 0; k < LAT_N; k++)
			s->lat[k] = num(v, lat_keys[k]);
	}
	/* An older process answers null: the cumulative line only. */
	v = tel_cmd(fd, "/pfdk/latency,window", buf, REPLY_MAX);
	if (v != NULL && *ws(v) == '{') {
		s->have_win = true;
		for (k = 0; k < LAT_N; k++)
			s->win[k] = num(v, lat_keys[k]);
	}
	/* Each poller's own window: "lcore_<id>": {count, p50_ns, ...}. */
	for (k = 0; k < s->nlc; k++) {
		const char *w = NULL;

		if (s->have_win) {
			snprintf(cmd, sizeof(cmd), "lcore_%s", s->lc[k].id);
			w = get(v, cmd);
		}
		s->lc[k].win[0] = w != NULL && num(w, "count") > 0 ? num(w, "p50_ns") : NAN;
		s->lc[k].win[1] = w != NULL && num(w, "count") > 0 ? num(w, "p99_ns") : NAN;
		s->lc[k].win[2] = w != NULL && num(w, "count") > 0 ? num(w, "p999_ns") : NAN;
	}
	return 0;
}

static void
rate(char *buf, size_t len, double now, double before, double dt)
{
	if (isnan(now))
		snprintf(buf, len, "-");
	else if (isnan(before) || dt <= 0 || now < before)
		snprintf(buf, len, "(%.0f)", now); /* no earlier sample: the total */
	else
		snprintf(buf, len, "%.0f", (now - before) / dt);
}

static void
show(const char *path, long pid, const struct sample *a, const struct sample *b)
{
	double dt = b->t - a->t;
	unsigned int i, j, k;
	char c[D_N][24], t[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	printf("\npfdk-top %s  pid %ld  profile %s  %s  interval %.2f s  (rates per second; "
	       "(N): a total, no earlier sample)\n", t, pid,
	       b->profile[0] != '\0' ? b->profile : "-", path, dt);
	printf("%-4s %-12s %-8s %-8s %3s %10s %10s %10s %9s %9s %7s %6s\n", "dev", "name",
	       "driver", "state", "q", "recv/s", "resp/s", "groups/s", "invalid/s",
	       "nodesc/s", "errors", "outst");
	if (b->ndev == 0)
		printf("  (no fault devices: between runs, or none created yet)\n");
	for (i = 0; i < b->ndev; i++) {
		const double *prev = NULL;

		for (j = 0; j < a->ndev; j++)
			if (a->dev[j].id == b->dev[i].id &&
			    strcmp(a->dev[j].name, b->dev[i].name) == 0)
				prev = a->dev[j].v;
		/* outstanding goes up and down: not a counter */
		prev = earlier(prev, b->dev[i].v, D_OUTST);
		for (k = 0; k < D_N; k++)
			rate(c[k], sizeof(c[k]), b->dev[i].v[k], prev ? prev[k] : NAN, dt);
		printf("%-4d %-12s %-8s %-8s %3.0f %10s %10s %10s %9s %9s %7.0f %6.0f\n",
		       b->dev[i].id, b->dev[i].name, b->dev[i].driver, b->dev[i].state,
		       b->dev[i].q, c[D_RECV], c[D_RESP], c[D_GROUPS], c[D_INVALID],
		       c[D_NODESC], b->dev[i].v[D_ERRORS], b->dev[i].v[D_OUTST]);
	}
	printf("%-5s %4s %-9s %-8s %-14s %10s %10s %10s %6s %9s %9s %10s %9s %8s %8s %8s %8s\n",
	       "lcore", "cpu", "role", "engine", "queues", "recv/s", "resolved/s", "resp/s",
	       "busy%", "retried/s", "backpr/s", "idle/s", "sleeps/s", "inflight", "p50us",
	       "p99us", "p99.9us");
	for (i = 0; i < b->nlc; i++) {
		const double *prev = NULL;
		char l[L_N][24], busy[16], cpu[8], pct[3][16];

		for (j = 0; j < a->nlc; j++)
			if (strcmp(a->lc[j].id, b->lc[i].id) == 0 &&
			    strcmp(a->lc[j].role, b->lc[i].role) == 0)
				prev = a->lc[j].v;
		prev = earlier(prev, b->lc[i].v, L_INFLIGHT);
		for (k = 0; k < L_N; k++)
			rate(l[k], sizeof(l[k]), b->lc[i].v[k], prev ? prev[k] : NAN, dt);
		/* Busy % of the interval: cycles of passes that did work. */
		if (prev != NULL && b->lc[i].v[L_TOTAL] > prev[L_TOTAL])
			snprintf(busy, sizeof(busy), "%.1f",
				 100.0 * (b->lc[i].v[L_BUSY] - prev[L_BUSY]) /
				 (b->lc[i].v[L_TOTAL] - prev[L_TOTAL]));
		else
			snprintf(busy, sizeof(busy), "-");
		if (isnan(b->lc[i].v[L_CPU]))
			snprintf(cpu, sizeof(cpu), "-");
		else
			snprintf(cpu, sizeof(cpu), "%.0f", b->lc[i].v[L_CPU]);
		for (k = 0; k < 3; k++)
			if (isnan(b->lc[i].win[k]))
				snprintf(pct[k], sizeof(pct[k]), "-");
			else
				snprintf(pct[k], sizeof(pct[k]), "%.2f", b->lc[i].win[k] / 1e3);
		printf("%-5s %4s %-9s %-8s %-14s %10s %10s %10s %6s %9s %9s %10s %9s %8.0f %8s %8s %8s\n",
		       b->lc[i].id, cpu, b->lc[i].role,
		       b->lc[i].engine[0] ? b->lc[i].engine : "-",
		       b->lc[i].queues[0] ? b->lc[i].queues : "-", l[L_RECV], l[L_RESOLVED],
		       l[L_RESP], busy, l[L_RETRIED], l[L_BACKPR], l[L_IDLE], l[L_SLEEPS],
		       b->lc[i].v[L_INFLIGHT], pct[0], pct[1], pct[2]);
	}
	if (b->have_win)
		printf("interval latency (receive to response, all pollers): %.0f faults, "
		       "p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
		       b->win[0], b->win[1] / 1e3, b->win[3] / 1e3, b->win[4] / 1e3,
		       b->win[5] / 1e3);
	if (b->have_lat && b->lat[0] > 0)
		printf("latency (receive to response, all pollers, since they started): %.0f "
		       "faults, p50 %.2f us, p90 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
		       b->lat[0], b->lat[1] / 1e3, b->lat[2] / 1e3, b->lat[3] / 1e3,
		       b->lat[4] / 1e3, b->lat[5] / 1e3);
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--file-prefix P | --socket PATH] [-i S] [--count N | --once]\n"
	       "  --file-prefix P   the EAL --file-prefix of the process (default rte)\n"
	       "  --socket PATH     the telemetry socket itself\n"
	       "                    (default <runtime dir>/dpdk_telemetry.v2)\n"
	       "  -i, --interval S  seconds between samples, decimal (default 1)\n"
	       "  --count N         print N intervals, then exit (default: until SIGINT)\n"
	       "  --once            one interval, then exit (--count 1; for scripts)\n"
	       "  -h, --help        this text; --version: the version\n"
	       "Shows the profile, each fault device's and each PFDK lcore's rates over\n"
	       "the interval, each lcore's CPU, engine, queues and busy %%, and the\n"
	       "pollers' latency percentiles over the interval and since the start.\n"
	       "Exit 0; 1 the process went away or never answered; 2 bad arguments.\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sample s[2];
	static char buf[REPLY_MAX], info[1024];
	const char *prefix = "rte", *sock = NULL, *run;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64], *end;
	double interval = 1;
	long count = -1, n, pid;
	struct timespec ts;
	struct sigaction sa;
	int c, fd, cur = 0;

	while ((c = getopt_long(argc, argv, "hi:", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL) {
				fprintf(stderr, "--file-prefix %s: expected a name (no '/')\n", optarg);
				return 2;
			}
			prefix = optarg;
			break;
		case 's': sock = optarg; break;
		case 'i':
			errno = 0;
			interval = optarg[0] >= '0' && optarg[0] <= '9' ? strtod(optarg, &end) : -1;
			if (interval < 0.05 || errno || *end || interval > 3600) {
				fprintf(stderr, "--interval %s: expected seconds in 0.05..3600\n", optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			count = optarg[0] >= '0' && optarg[0] <= '9' ? strtol(optarg, &end, 10) : -1;
			if (count < 1 || errno || *end) {
				fprintf(stderr, "--count %s: expected a decimal number > 0\n", optarg);
				return 2;
			}
			break;
		case 'o': count = 1; break;
		case 'h': usage(argv[0]); return 0;
		case 'V': printf("pfdk-top (PFDK) %s\n", PFDK_VERSION); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (sock != NULL) {
		snprintf(path, sizeof(path), "%s", sock);
	} else {
		/* Where the EAL puts its runtime directory (eal_create_runtime_dir). */
		run = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
		if (run == NULL)
			run = "/tmp";
		snprintf(path, sizeof(path), "%s/dpdk/%s/dpdk_telemetry.v2", run, prefix);
	}
	fd = tel_connect(path, info, sizeof(info));
	if (fd < 0)
		return 1;
	pid = (long)num(info, "pid");
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (sample(fd, &s[cur], buf) < 0) {
		fprintf(stderr, "pfdk-top: %s: the process does not answer /pfdk/devs (not a "
			"PFDK process?)\n", path);
		close(fd);
		return 1;
	}
	for (n = 0; (count < 0 || n < count) && !stop; n++) {
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
			;
		if (stop)
			break;
		if (sample(fd, &s[cur ^ 1], buf) < 0) {
			fprintf(stderr, "pfdk-top: %s: the process went away\n", path);
			close(fd);
			return 1;
		}
		show(path, pid, &s[cur], &s[cur ^ 1]);
		cur ^= 1;
	}
	close(fd);
	return 0;
}
