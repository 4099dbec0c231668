/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's iommufd source: its device checks and setup, the
 * kernel's mock device (--mock) with its trigger thread and the
 * hand-written fault-FD handlers (fd-spin, fd-poll, fd-epoll), and the
 * fault-FD I/O counters. The PFDK rows run as the sim's (sim_source.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "pfdk_fault.h"
#include "pfdk_hist.h"
#include "pfdk_iommufd.h"
#include "pfdk_profile.h"

#include "faultbench.h"
#include "iommufd_mock.h"

/*
 * The iommufd source serves one device with one queue (one fault FD has one
 * reader): the emulator ("emu=1", total= from --faults as for sim) or an
 * inherited fault FD ("fault_fd=N", no end of its own: --faults N groups,
 * hang-up or a signal end a row). Refused before the EAL starts, the reason
 * in @p err; *real set for fault_fd=.
 */
static int
devices_check(const struct pfdk_profile *base, const char *devargs,
		      bool *real, char *err, size_t errlen)
{
	const char *da = devargs != NULL ? devargs : base->devices[0].devargs;
	const char *from = devargs != NULL ? "--devargs" : base->path;
	size_t nlen = strcspn(da, ",");
	char val[32];
	bool emu, fd;

	if (base->nb_devices != 1 || base->devices[0].nb_queues != 1) {
		snprintf(err, errlen, "--source iommufd: %s has %u devices (the first with %u "
			 "queues); the iommufd source serves one device with one queue (one "
			 "fault FD has one reader)", base->path, base->nb_devices,
			 base->nb_devices ? base->devices[0].nb_queues : 0);
		return -1;
	}
	while (nlen > 0 && da[nlen - 1] >= '0' && da[nlen - 1] <= '9')
		nlen--;
	if (nlen != 7 || strncmp(da, "iommufd", 7) != 0) {
		snprintf(err, errlen, "--source iommufd: device '%.*s' (%s) is not an iommufd "
			 "device (e.g. --devargs iommufd0,emu=1 or iommufd0,fault_fd=N)",
			 (int)strcspn(da, ","), da, from);
		return -1;
	}
	emu = fb_devargs_value(da, "emu", val, sizeof(val)) && strcmp(val, "0") != 0;
	fd = fb_devargs_value(da, "fault_fd", val, sizeof(val));
	if (emu == fd) {
		snprintf(err, errlen, "--source iommufd: device '%.*s' (%s): give emu=1 (the "
			 "emulated fault FD) or fault_fd=N (a fault FD this process inherited), "
			 "one of them", (int)strcspn(da, ","), da, from);
		return -1;
	}
	if (emu && fb_devargs_value(da, "total", val, sizeof(val)) &&
	    strspn(val, "0") == strlen(val)) {
		snprintf(err, errlen, "--source iommufd: device '%.*s' (%s): total=0 emits "
			 "nothing by itself, so a row would never finish; give total=N > 0 or "
			 "leave it out (--faults sets it)", (int)strcspn(da, ","), da, from);
		return -1;
	}
	if (fd && fb_devargs_value(da, "total", val, sizeof(val))) {
		snprintf(err, errlen, "--source iommufd: device '%.*s' (%s): total= is the "
			 "emulator's; a real fault FD ends with --faults N groups, hang-up or "
			 "SIGINT/SIGTERM", (int)strcspn(da, ","), da, from);
		return -1;
	}
	*real = fd;
	return 0;
}

/*
 * iommufd fault_fd= rows: groups to answer per row (--faults; 0: until
 * hang-up or a signal).
 */
bool fb_iommufd_real;
uint64_t fb_iommufd_groups;

/*
 * --mock: the kernel's mock device, set up once for the bench, and the
 * device thread of a row: it triggers fb_iommufd_groups single-record groups,
 * fault i at MOCK_BASE + i pages (resolve_sim() answers every 64th page
 * INVALID), paced at --rate, and stops early when the row does.
 */
#define MOCK_BASE 0x100000000ull
static struct iommufd_mock mock;
bool fb_mock_on;
static uint64_t mock_rate;
static uint64_t *mock_t;      /* TSC before fault i's trigger: latency from it */
static struct pfdk_hist *mock_hist; /* trigger to the handler's answer, per row */

uint16_t
fb_mock_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint64_t now = rte_rdtsc();
	uint16_t i;

	for (i = 0; i < nb; i++) {
		uint64_t k = (faults[i]->addr - MOCK_BASE) >> 12;

		if (faults[i]->addr >= MOCK_BASE && k < fb_iommufd_groups)
			pfdk_hist_record(mock_hist, now - mock_t[k]);
	}
	return fb_sim_resolve(ctx, faults, nb);
}

static void *
mock_run(void *arg)
{
	struct fb_mock_thread *t = arg;
	struct timespec ts;
	double t0;
	uint64_t i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
	for (i = 0; i < t->n && !__atomic_load_n(&t->stop, __ATOMIC_RELAXED); i++) {
		int ret;

		while (mock_rate != 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (((double)ts.tv_sec + ts.tv_nsec * 1e-9 - t0) * (double)mock_rate >=
			    (double)i)
				break;
		}
		mock_t[i] = rte_rdtsc();
		ret = mock_trigger(&mock, 0, (uint32_t)(i & 0x1ff), PFDK_IOMMU_PGFAULT_PERM_READ,
				   MOCK_BASE + (i << 12));
		if (ret < 0) {
			t->err = ret;
			break;
		}
		__atomic_store_n(&t->sent, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int
fb_mock_thread_start(struct fb_mock_thread *t)
{
	return pthread_create(&t->th, NULL, mock_run, t);
}

void
fb_mock_thread_stop(struct fb_mock_thread *t)
{
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
	pthread_join(t->th, NULL);
}

void
fb_mock_hist_reset(void)
{
	pfdk_hist_reset(mock_hist);
}

const struct pfdk_hist *
fb_mock_hist_get(void)
{
	return mock_hist;
}

/*
 * Answer the @p k records in @p rec read at TSC @p now: each group with
 * fb_sim_resolve()'s rule, a fault seen twice (or not triggered) counted in
 * @p dup, the responses written in order (a short write leaves the rest to
 * the next write). 0, or -1 with the reason in @p r.
 */
static int
fd_answer(int fd, const struct pfdk_iommu_hwpt_pgfault *rec, size_t k, uint64_t now,
	  uint8_t *seen, uint64_t *dup, uint64_t *nwrite, struct row *r)
{
	struct pfdk_iommu_hwpt_page_response resp[32];
	size_t i, off;

	for (i = 0; i < k; i++) {
		uint64_t x = (rec[i].addr - MOCK_BASE) >> 12;

		if (rec[i].addr < MOCK_BASE || x >= fb_iommufd_groups || seen[x]++ != 0)
			(*dup)++;
		else
			pfdk_hist_record(mock_hist, now - mock_t[x]);
		resp[i].cookie = rec[i].cookie;
		resp[i].code = ((rec[i].addr >> 12) & 63) == 63 ?
			PFDK_IOMMUFD_PAGE_RESP_INVALID : PFDK_IOMMUFD_PAGE_RESP_SUCCESS;
	}
	for (off = 0; off < k; ) {
		ssize_t w = write(fd, resp + off, (k - off) * sizeof(resp[0]));

		(*nwrite)++;
		if (w <= 0) {
			snprintf(r->skip_reason, sizeof(r->skip_reason), "write: %s",
				 w < 0 ? strerror(errno) : "nothing taken");
			return -1;
		}
		off += (size_t)w / sizeof(resp[0]);
	}
	return 0;
}

/* A finished fd-* run into @p r: @p answered groups in @p tsc cycles, @p cpu_s process CPU. */
static void
fd_fill(struct row *r, uint64_t answered, uint64_t dup, uint64_t tsc, double cpu_s)
{
	double hz = (double)rte_get_tsc_hz();
	struct pfdk_hist_summary hs;

	pfdk_hist_summarize(mock_hist, &hs);
	if (r->hist != NULL)
		pfdk_hist_merge(r->hist, mock_hist);
	r->faults = answered;
	r->wall_s = (double)tsc / hz;
	r->faults_per_s = (double)answered / r->wall_s;
	r->ns_per_fault = 1e9 / r->faults_per_s;
	r->p50_us = (double)hs.p50 * 1e6 / hz;
	r->p90_us = (double)hs.p90 * 1e6 / hz;
	r->p99_us = (double)hs.p99 * 1e6 / hz;
	r->p999_us = (double)hs.p999 * 1e6 / hz;
	r->max_us = (double)hs.max * 1e6 / hz;
	r->lost = fb_iommufd_groups - RTE_MIN(answered, fb_iommufd_groups);
	r->duplicated = dup;
	r->cpu_handler_s = RTE_MAX(cpu_s, 0.0);
	r->cpu_faulters_s = 0;
}

/*
 * A hand-written handler of the mock's fault FD on the main thread: read
 * up to 32 records (the real FD reads 0 when empty), answer each group
 * with resolve_sim()'s rule, write the burst's responses (the kernel takes
 * them in order and stops at the first bad entry: a short write leaves the
 * rest to the next write, and an entry it refuses is an error here, ours
 * are all valid). fd-poll and fd-epoll sleep until readable first. Counts
 * its own syscalls; faults seen twice or never answered are reported.
 */
int
fb_fd_baseline_run(const struct pfdk_profile *prof, struct row *r)
{
	struct pfdk_iommu_hwpt_pgfault rec[32];
	struct fb_mock_thread mt = { .n = fb_iommufd_groups };
	uint64_t answered = 0, nread = 0, nwrite = 0, nwait = 0, dup = 0;
	uint64_t t0, t1, last, hz = rte_get_tsc_hz();
	int b = fb_fd_baseline_find(r->mode), fd = mock.fault_fd, ep = -1, ret = 0;
	uint8_t *seen = calloc(fb_iommufd_groups, 1);
	double c0, c1;

	RTE_SET_USED(prof);
	if (seen == NULL)
		return -1;
	if (b == 2) {
		struct epoll_event ev = { .events = EPOLLIN };

		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			snprintf(r->skip_reason, sizeof(r->skip_reason), "epoll: %s",
				 strerror(errno));
			ret = -1;
			goto out;
		}
	}
	pfdk_hist_reset(mock_hist);
	c0 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = last = rte_rdtsc();
	if (fb_mock_thread_start(&mt) != 0) {
		snprintf(r->skip_reason, sizeof(r->skip_reason), "device thread: cannot start");
		ret = -1;
		goto out;
	}
	while (answered < fb_iommufd_groups && fb_stop_signal == 0) {
		uint64_t now;
		ssize_t n;
		size_t k;

		if (b == 1) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			nwait++;
			poll(&pfd, 1, 100);
		} else if (b == 2) {
			struct epoll_event ev;

			nwait++;
			epoll_wait(ep, &ev, 1, 100);
		}
		n = read(fd, rec, sizeof(rec));
		nread++;
		now = rte_rdtsc();
		if (n < 0 && errno != EAGAIN) {
			snprintf(r->skip_reason, sizeof(r->skip_reason), "read: %s",
				 strerror(errno));
			ret = -1;
			break;
		}
		if (n <= 0) {
			if (mt.err != 0 || now - last > FB_STALL_S * hz) {
				snprintf(r->skip_reason, sizeof(r->skip_reason),
					 "%s after %" PRIu64 " groups", mt.err != 0 ?
					 "TRIGGER_IOPF failed" : "no fault for 10 s", answered);
				ret = -1;
				break;
			}
			continue;
		}
		k = (size_t)n / sizeof(rec[0]);
		if (fd_answer(fd, rec, k, now, seen, &dup, &nwrite, r) < 0) {
			ret = -1;
			break;
		}
		answered += k;
		last = now;
	}
	t1 = rte_rdtsc();
	c1 = fb_cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	fb_mock_thread_stop(&mt);
	if (ret == 0 && fb_stop_signal != 0)
		ret = 2;
	if (ret != 0)
		goto out;
	fd_fill(r, answered, dup, t1 - t0, c1 - c0);
	printf("%s: syscalls per group: read %.2f, write %.2f, %s %.2f\n", r->mode,
	       (double)nread / (double)answered, (double)nwrite / (double)answered,
	       b == 2 ? "epoll_wait" : "poll", (double)nwait / (double)answered);
out:
	if (ep >= 0)
		close(ep);
	free(seen);
	return ret;
}

static ssize_t
io_count_read(void *ctx, void *buf, size_t count)
{
	struct fb_io_count *c = ctx;
	ssize_t n = c->io->read(c->ctx, buf, count);

	c->reads++;
	c->empty += n == 0;
	return n;
}

static ssize_t
io_count_write(void *ctx, const void *buf, size_t count)
{
	struct fb_io_count *c = ctx;

	c->writes++;
	return c->io->write(c->ctx, buf, count);
}

static int
io_count_fd(void *ctx)
{
	struct fb_io_count *c = ctx;

	return c->io->readiness_fd != NULL ? c->io->readiness_fd(c->ctx) : -ENOTSUP;
}

/* The engine's writes (io_uring WRITE on the same fd) pass through as they are. */
static int
io_count_write_fd(void *ctx)
{
	struct fb_io_count *c = ctx;

	return c->io->write_fd != NULL ? c->io->write_fd(c->ctx) : -ENOTSUP;
}

static ssize_t
io_count_write_result(void *ctx, const void *buf, size_t count, ssize_t res)
{
	struct fb_io_count *c = ctx;

	c->ring_writes++;
	return c->io->write_result != NULL ?
		c->io->write_result(c->ctx, buf, count, res) : res;
}

/* The engine's reads (io_uring multishot on the same fd) pass through too. */
static int
io_count_read_fd(void *ctx)
{
	struct fb_io_count *c = ctx;

	return c->io->read_fd != NULL ? c->io->read_fd(c->ctx) : -ENOTSUP;
}

static const struct pfdk_iommufd_io io_count_io = {
	.read = io_count_read,
	.write = io_count_write,
	.readiness_fd = io_count_fd,
	.write_fd = io_count_write_fd,
	.write_result = io_count_write_result,
	.read_fd = io_count_read_fd,
};

bool
fb_io_count_attach(uint16_t id, struct fb_io_count *c)
{
	void *ctx;

	if (pfdk_iommufd_io_get(id, &c->io, &ctx) != 0)
		return false;
	c->ctx = ctx;
	return pfdk_iommufd_io_set(id, &io_count_io, c) == 0;
}

bool
fb_iommufd_hung_up(uint16_t id)
{
	struct pfdk_iommufd_info info;
	struct pollfd pfd = { .events = 0 };

	if (pfdk_iommufd_info_get(id, &info) < 0 || info.fault_fd < 0)
		return false;
	pfd.fd = info.fault_fd;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* --mock: the mock device, its fault FD as the device, --faults triggers per row. */
static int
mock_setup(struct fb_opts *o)
{
	static char mock_da[64];
	const char *step = NULL;
	int ret;

	ret = mock_open(&mock, &step);
	if (ret < 0) {
		fprintf(stderr, "--mock: %s: %s (the mock device needs a kernel "
			"with CONFIG_IOMMUFD_TEST, e.g. the kernel rig's: "
			"tests/kernel/run.sh)\n", step, strerror(-ret));
		return -1;
	}
	fb_mock_on = true;
	mock_rate = o->rate;
	if (!o->faults_given)
		o->faults = 20000;
	mock_t = calloc(o->faults, sizeof(*mock_t));
	mock_hist = calloc(1, sizeof(*mock_hist));
	if (mock_t == NULL || mock_hist == NULL) {
		fprintf(stderr, "--mock: no memory for %" PRIu64 " trigger times\n",
			o->faults);
		return -1;
	}
	snprintf(mock_da, sizeof(mock_da), "iommufd0,fault_fd=%d", mock.fault_fd);
	o->devargs = mock_da;
	if (!o->faults_given)
		o->faults = 20000;
	o->faults_given = true;
	return 0;
}

int
fb_iommufd_setup(struct fb_opts *o, const struct pfdk_profile *prof)
{
	char err[512];

	if (o->mock && mock_setup(o) < 0)
		return -1;
	if (o->devargs == NULL)
		o->devargs = "iommufd0,emu=1";
	if (devices_check(prof, o->devargs, &fb_iommufd_real, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (fb_iommufd_real && o->duration_s > 0) {
		fprintf(stderr, "--duration: a fault_fd= row ends on --faults N groups, "
			"hang-up or a signal\n");
		return -1;
	}
	/* A real FD is served once per row unless --repeat asks for more. */
	if (fb_iommufd_real && !o->repeat_given)
		o->repeat = 1;
	fb_iommufd_groups = fb_iommufd_real && o->faults_given ? o->faults : 0;
	return 0;
}

int
fb_mock_close(void)
{
	const char *step = NULL;
	int ret;

	if (!fb_mock_on)
		return 0;
	ret = mock_close(&mock, &step);
	if (ret < 0) {
		fprintf(stderr, "--mock: teardown: %s: %s\n", step, strerror(-ret));
		return -1;
	}
	return 0;
}
