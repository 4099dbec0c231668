/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iommufd driver against Linux's own fault queue: run in the kernel
 * rig's guest (tests/kernel/run.sh), where CONFIG_IOMMUFD_TEST's mock
 * device raises IO page faults on command. Each case sets up as the
 * kernel's selftest does (tools/testing/selftests/iommu/iommufd.c): an
 * IOAS, a mock device on it, a NEST_PARENT HWPT, a fault queue, a nested
 * HWPT (IOMMU_HWPT_DATA_SELFTEST) delivering to it, and the device moved
 * onto that HWPT. A "device" thread then fires IOMMU_TEST_OP_TRIGGER_IOPF
 * while PFDK (fault_fd= of the real queue) serves the fault FD.
 *
 * Nothing here trusts PFDK's own counters alone: every record is checked
 * against the trigger that made it (address, PASID, group, permissions)
 * and counted once, and after each case, with PFDK gone, one more fault is
 * raised and read by hand: it must be the only record and carry cookie 1,
 * the lowest free cookie, so no group is left unanswered in the kernel.
 * (TRIGGER_IOPF makes single-record groups, so groups = records here.)
 *
 * Without /dev/iommu or the mock device (any host kernel not built for
 * the rig) it exits 77 with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "test_common.h"
#include "iommufd_mock.h"

/* The mock device and its fault queue (iommufd_mock.h). */
#define rig iommufd_mock

#define REC sizeof(struct pfdk_iommu_hwpt_pgfault)
#define RESP sizeof(struct pfdk_iommu_hwpt_page_response)

/* Trigger i faults at BASE + i pages; the device's range covers the odd pages' half. */
#define BASE    0x100000000ull
#define PROBE   0xc0ffee000ull
#define RANGE_LO BASE
#define RANGE_HI (BASE + (1ull << 40))

static struct rte_mempool *pool;

/* What a failing case leaves behind, for teardown() to clean up. */
static char *logbuf;  /* the driver's log during a bulk case */
static size_t loglen;
static FILE *logf;
static struct rig *cur_rig;
static struct pfdk_pipeline *cur_pipe;

#define iocmd mock_iocmd
#define test_cmd mock_test_cmd
#define destroy mock_destroy
#define replace mock_replace
#define hwpt_alloc mock_hwpt_alloc
#define trigger mock_trigger

/* /dev/iommu, IOAS, mock device: what every case starts from. <0: -errno. */
static int
rig_base(struct rig *r)
{
	int ret = mock_base(r, NULL);

	cur_rig = ret == 0 ? r : NULL;
	return ret;
}

/* The selftest's path to a fault-capable domain, every step asserted. */
static void
rig_open(struct rig *r)
{
	const char *step = NULL;
	uint32_t id;
	int ret;

	assert_int_equal(rig_base(r), 0);
	/* What the allocate path must not try: a fault-capable paging HWPT. */
	assert_int_equal(hwpt_alloc(r, PFDK_IOMMU_HWPT_ALLOC_NEST_PARENT |
				    PFDK_IOMMU_HWPT_FAULT_ID_VALID, r->ioas, 0,
				    PFDK_IOMMU_HWPT_DATA_NONE, NULL, 0, &id), -EOPNOTSUPP);
	ret = mock_attach(r, &step);
	if (ret != 0)
		fail_msg("mock_attach: %s: %s", step, strerror(-ret));
	assert_int_not_equal(r->fault_id, 0);
	assert_true(r->fault_fd > 0);
	/* The fault fd is O_CLOEXEC (measured on 6.12). */
	assert_true(fcntl(r->fault_fd, F_GETFD) & FD_CLOEXEC);
	{
		struct pfdk_iommu_hwpt_selftest data = { .iotlb = PFDK_IOMMU_TEST_IOTLB_DEFAULT };

		assert_int_equal(hwpt_alloc(r, PFDK_IOMMU_HWPT_FAULT_ID_VALID, r->parent,
					    UINT32_MAX, PFDK_IOMMU_HWPT_DATA_SELFTEST, &data,
					    sizeof(data), &id), -ENOENT);
	}
	assert_int_equal(destroy(r->fd, r->iopf_hwpt), -EBUSY);
}

/* The selftest's teardown, in its order. */
static void
rig_close(struct rig *r)
{
	const char *step = NULL;
	int ret = mock_close(r, &step);

	if (ret != 0)
		fail_msg("mock_close: %s: %s", step, strerror(-ret));
	cur_rig = NULL;
}

/*
 * After a failed case: drop its PFDK objects and its iommufd (closing it
 * destroys every object in it), so the next case starts clean.
 */
static int
teardown(void **state)
{
	static const char *const names[] = { "iommufd50", "iommufd51", "iommufd52", "iommufd53",
					     "iommufd54", "iommufd55" };
	unsigned int i;
	int id;

	(void)state;
	if (logf != NULL) {
		rte_openlog_stream(NULL);
		fclose(logf);
		free(logbuf);
		logf = NULL;
		logbuf = NULL;
	}
	if (cur_pipe != NULL) {
		pfdk_pipeline_stop(cur_pipe);
		pfdk_pipeline_destroy(cur_pipe);
		cur_pipe = NULL;
	}
	for (i = 0; i < RTE_DIM(names); i++) {
		id = pfdk_fault_get_dev_id(names[i]);
		if (id >= 0)
			pfdk_fault_close((uint16_t)id);
	}
	if (cur_rig != NULL) {
		if (cur_rig->fault_fd >= 0)
			close(cur_rig->fault_fd);
		if (cur_rig->fd >= 0)
			close(cur_rig->fd);
		cur_rig = NULL;
	}
	return 0;
}

/* Fault number i of a run: what the trigger sends, what must come back. */
static inline uint32_t f_pasid(uint64_t i) { return (uint32_t)(i % 3); } /* 0: no PASID */
static inline uint32_t f_grpid(uint64_t i) { return (uint32_t)(i & 0x1ff); }
static inline uint32_t
f_perm(uint64_t i)
{
	static const uint32_t p[4] = {
		PFDK_IOMMU_PGFAULT_PERM_READ,
		PFDK_IOMMU_PGFAULT_PERM_READ | PFDK_IOMMU_PGFAULT_PERM_WRITE,
		PFDK_IOMMU_PGFAULT_PERM_WRITE,
		PFDK_IOMMU_PGFAULT_PERM_READ | PFDK_IOMMU_PGFAULT_PERM_EXEC |
			PFDK_IOMMU_PGFAULT_PERM_PRIV,
	};

	return p[i % 4];
}
/* Odd faults inside the range (SUCCESS), even ones below it (INVALID). */
static inline uint64_t
f_addr(uint64_t i)
{
	return (i & 1) ? BASE + i * 4096 : BASE - (i + 1) * 4096;
}

/* After a case, PFDK gone: one fault must read back alone with cookie 1. */
static void
kernel_clean(const struct rig *r, uint32_t want_cookie)
{
	struct pfdk_iommu_hwpt_pgfault rec[64];
	struct pfdk_iommu_hwpt_page_response resp;
	ssize_t n;

	n = read(r->fault_fd, rec, sizeof(rec));
	if (n != 0)
		fail_msg("kernel: %zd byte(s) still queued after the case (first cookie %u, addr 0x%" PRIx64 ")",
			 n, n >= (ssize_t)REC ? rec[0].cookie : 0, n >= (ssize_t)REC ? rec[0].addr : 0);
	assert_int_equal(trigger(r, 0, 0x1ff, PFDK_IOMMU_PGFAULT_PERM_READ, PROBE), 0);
	n = read(r->fault_fd, rec, sizeof(rec));
	assert_int_equal(n, REC);
	assert_int_equal(rec[0].addr, PROBE);
	if (rec[0].cookie != want_cookie)
		fail_msg("kernel: the probe fault got cookie %u, not %u: %u group(s) below it are still outstanding",
			 rec[0].cookie, want_cookie, rec[0].cookie - want_cookie);
	resp.cookie = rec[0].cookie;
	resp.code = PFDK_IOMMUFD_PAGE_RESP_SUCCESS;
	assert_int_equal(write(r->fault_fd, &resp, sizeof(resp)), RESP);
	assert_int_equal(read(r->fault_fd, rec, sizeof(rec)), 0);
}

/* -------------------------------------------------------------------- */

/* The selftest's own check, by hand, plus the read/write facts PFDK relies on. */
static void
selftest_flow(void **state)
{
	struct pfdk_iommu_hwpt_pgfault rec[2];
	struct pfdk_iommu_hwpt_page_response resp;
	struct rig r;

	(void)state;
	rig_open(&r);
	assert_int_equal(read(r.fault_fd, rec, sizeof(rec)), 0);        /* empty: 0 */
	errno = 0;
	assert_int_equal(read(r.fault_fd, rec, REC - 8), -1);           /* not n*40 */
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(trigger(&r, 1, 2, PFDK_IOMMU_PGFAULT_PERM_READ |
				 PFDK_IOMMU_PGFAULT_PERM_WRITE, 0xdeadbeaf), 0);
	errno = 0;
	assert_int_equal(read(r.fault_fd, rec, 0), -1);  /* the group does not fit */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(read(r.fault_fd, rec, sizeof(rec)), REC);
	assert_int_equal(rec[0].flags, PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID |
			 PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(rec[0].dev_id, r.idev);
	assert_int_equal(rec[0].pasid, 1);
	assert_int_equal(rec[0].grpid, 2);
	assert_int_equal(rec[0].perm, PFDK_IOMMU_PGFAULT_PERM_READ | PFDK_IOMMU_PGFAULT_PERM_WRITE);
	assert_int_equal(rec[0].addr, 0xdeadbeaf);
	assert_int_equal(rec[0].length, 0);
	assert_int_equal(rec[0].cookie, 1);
	resp.cookie = rec[0].cookie;
	resp.code = PFDK_IOMMUFD_PAGE_RESP_SUCCESS;
	errno = 0;
	assert_int_equal(write(r.fault_fd, &resp, RESP - 1), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(write(r.fault_fd, &resp, sizeof(resp)), RESP);
	errno = 0;
	assert_int_equal(write(r.fault_fd, &resp, sizeof(resp)), -1);  /* answered */
	assert_int_equal(errno, EINVAL);
	kernel_clean(&r, 1);
	rig_close(&r);
}

/* --- PFDK serving the queue ---------------------------------------- */

struct device_thread {
	const struct rig *r;
	uint64_t n;
	volatile int done;
	int err;
	pthread_t th;
};

static void *
device_run(void *arg)
{
	struct device_thread *d = arg;
	uint64_t i;

	for (i = 0; i < d->n; i++) {
		int ret = trigger(d->r, f_pasid(i), f_grpid(i), f_perm(i), f_addr(i));

		if (ret < 0) {
			d->err = ret;
			break;
		}
	}
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
device_start(struct device_thread *d, const struct rig *r, uint64_t n)
{
	d->r = r;
	d->n = n;
	d->done = 0;
	d->err = 0;
	assert_int_equal(pthread_create(&d->th, NULL, device_run, d), 0);
}

static void
device_join(struct device_thread *d)
{
	pthread_join(d->th, NULL);
	assert_int_equal(d->err, 0);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What the faults PFDK handed out must be; each seen once. */
struct seen {
	uint8_t *map;
	uint64_t n, got, bad;
};

static void
seen_check(struct seen *s, const struct pfdk_fault *f, uint16_t dev_id)
{
	uint64_t i;

	if (f->addr >= BASE)
		i = (f->addr - BASE) / 4096;
	else
		i = (BASE - f->addr) / 4096 - 1;
	if (i >= s->n || f_addr(i) != f->addr || f->pasid != f_pasid(i) ||
	    f->grpid != f_grpid(i) || f->perm != f_perm(i) ||
	    !(f->flags & PFDK_FAULT_F_LAST_PAGE) ||
	    !!(f->flags & PFDK_FAULT_F_PASID_VALID) != (f_pasid(i) != 0) ||
	    f->kind != PFDK_FAULT_KIND_IO || f->dev_id != dev_id) {
		if (s->bad++ < 4)
			print_message("  bad fault: addr 0x%" PRIx64 " pasid %u grpid %u perm %u flags %u\n",
				      f->addr, f->pasid, f->grpid, f->perm, f->flags);
		return;
	}
	if (s->map[i]++ != 0 && s->bad++ < 4)
		print_message("  fault %" PRIu64 " handed out twice\n", i);
	s->got++;
}

static int
pfdk_dev(const char *name, const struct rig *r, const char *extra)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	char devargs[256];
	int id;

	snprintf(devargs, sizeof(devargs), "%s,fault_fd=%d,range=0x%llx:0x%llx%s%s",
		 name, r->fault_fd, RANGE_LO, RANGE_HI, extra[0] ? "," : "", extra);
	id = pfdk_fault_dev_create(devargs);
	if (id < 0)
		fail_msg("%s: %d", devargs, id);
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	return id;
}

/*
 * The driver's log during a bulk case, kept to be checked: with
 * single-record groups nothing may say a group did not fit or was dropped.
 */
static void
log_capture(void)
{
	logf = open_memstream(&logbuf, &loglen);
	assert_non_null(logf);
	rte_openlog_stream(logf);
}

static void
log_verdict(void)
{
	rte_openlog_stream(NULL);
	fclose(logf);
	logf = NULL;
	if (loglen != 0)
		print_message("%s", logbuf);
	if (strstr(logbuf, "record(s)") != NULL || strstr(logbuf, "dropped") != NULL)
		fail_msg("the driver misread the fault queue (above)");
	free(logbuf);
	logbuf = NULL;
}

/* Served, counted, checked: the verdict shared by every bulk case. */
static void
verdict(const char *what, uint16_t id, const struct seen *s, double secs)
{
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats fs;

	assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	print_message("  %-28s %" PRIu64 " groups (%" PRIu64 " invalid), %.0f groups/s (TCG: relative), "
		      "full %" PRIu64 ", grows %" PRIu64 ", malformed %" PRIu64 ", rejected %" PRIu64
		      ", aborted %" PRIu64 "\n", what, fs.groups, fs.invalid,
		      secs > 0 ? (double)fs.groups / secs : 0.0, fs.full, x.grows, x.malformed,
		      x.rejected, fs.aborted);
	assert_int_equal(s->bad, 0);
	assert_int_equal(s->got, s->n);
	assert_int_equal(fs.received, s->n);
	assert_int_equal(fs.groups, s->n);
	assert_int_equal(fs.invalid, s->n / 2 + s->n % 2); /* the even ones */
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(fs.errors, 0);
	assert_int_equal(x.malformed, 0);
	assert_int_equal(x.rejected, 0);
	assert_int_equal(x.stale + x.duplicates + x.read_errors, 0);
	/* Single-record groups always fit a read: nothing ever needed to grow. */
	assert_int_equal(x.grows, 0);
	log_verdict();
}

/*
 * @n faults through raw bursts on this thread while the device thread
 * fires them; pfdk_iommufd_resolve answers by range.
 */
/*
 * Serve @n faults through raw bursts on this thread while the device
 * thread fires them; pfdk_iommufd_resolve answers by range. Returns the
 * seconds it took.
 */
static double
serve_raw(const struct rig *r, uint16_t id, struct seen *s, uint16_t burst)
{
	struct pfdk_fault *f[64];
	struct device_thread d;
	double t0, idle = 0;

	t0 = now_s();
	device_start(&d, r, s->n);
	while (s->got + s->bad < s->n) {
		uint16_t k = pfdk_fault_recv_burst(id, 0, f, burst), i, m;

		if (k == 0) {
			/* Everything fired and nothing comes for 5 s: lost. */
			if (!__atomic_load_n(&d.done, __ATOMIC_ACQUIRE))
				continue;
			if (idle == 0)
				idle = now_s();
			else if (now_s() - idle > 5)
				break;
			continue;
		}
		idle = 0;
		for (i = 0; i < k; i++)
			seen_check(s, f[i], id);
		m = pfdk_iommufd_resolve(NULL, f, k);
		assert_int_equal(m, k);
		assert_int_equal(pfdk_fault_respond_burst(id, 0, f, k), k);
	}
	device_join(&d);
	if (s->got + s->bad < s->n)
		print_message("  %" PRIu64 " of %" PRIu64 " faults never came out of PFDK\n",
			      s->n - s->got - s->bad, s->n);
	return now_s() - t0;
}

static void
raw_case(const char *what, uint64_t n, const char *extra, uint16_t burst)
{
	struct seen s = { .n = n };
	struct rig r;
	double secs;
	int id;

	rig_open(&r);
	s.map = calloc(n, 1);
	assert_non_null(s.map);
	log_capture();
	id = pfdk_dev("iommufd50", &r, extra);
	secs = serve_raw(&r, (uint16_t)id, &s, burst);
	verdict(what, (uint16_t)id, &s, secs);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	free(s.map);
	kernel_clean(&r, 1);
	rig_close(&r);
}

#define N_BULK 20000

static void
raw_bursts(void **state)
{
	(void)state;
	raw_case("raw bursts of 32", N_BULK, "", 32);
}

static void
raw_burst_1(void **state)
{
	(void)state;
	raw_case("raw bursts of 1, rbuf=1", N_BULK / 4, "rbuf=1", 1);
}

/* Defect 1: a small credit lost groups when a fault landed mid-read. */
static void
credit_4(void **state)
{
	(void)state;
	raw_case("outstanding=4", N_BULK, "outstanding=4", 32);
}

static void
credit_16(void **state)
{
	(void)state;
	raw_case("outstanding=16", N_BULK, "outstanding=16", 32);
}

/* Through lib/pipeline, the poller on its own lcore. */
static void
pipeline_case(const char *layout, const char *engine, unsigned int resolvers, uint64_t n,
	      const char *extra)
{
	static struct pfdk_profile prof;
	struct pfdk_profile_check chk = { .ncpus = 64 };
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = pfdk_iommufd_resolve,
	};
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats fs;
	struct pfdk_lcore_stats ls;
	struct device_thread d;
	struct pfdk_pipeline *p;
	struct rig r;
	char ini[2048], err[512], what[64];
	size_t len = 0;
	double t0, last = 0;
	uint64_t prev = 0;
	unsigned int i;
	uint16_t id;

	rig_open(&r);
#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = kernel\nlayout = %s\nburst = 32\nmain_cpu = 0\n", layout);
	ADD("[device.iommufd60]\ndevargs = iommufd60,fault_fd=%d,range=0x%llx:0x%llx%s%s\nqueues = 1\n",
	    r.fault_fd, RANGE_LO, RANGE_HI, extra[0] ? "," : "", extra);
	ADD("[lcore.1]\nrole = poller\ncpu = 1\nengine = %s\nqueues = iommufd60:0\n%s", engine,
	    strcmp(engine, "uring") == 0 ? "sqpoll_cpu = 0\n" : "");
	for (i = 0; i < resolvers; i++)
		ADD("[lcore.%u]\nrole = resolver\ncpu = 0\n", 2 + i);
#undef ADD
	if (pfdk_profile_load_string("test_iommufd_kernel", ini, len, &prof, &chk,
				     err, sizeof(err)) < 0)
		fail_msg("profile: %s\n%s", err, ini);
	p = pfdk_pipeline_create(&pc);
	if (p == NULL)
		fail_msg("pipeline_create: %s", rte_strerror(rte_errno));
	cur_pipe = p;
	id = (uint16_t)pfdk_pipeline_dev_id(p, 0);
	log_capture();
	assert_int_equal(pfdk_pipeline_start(p), 0);
	t0 = now_s();
	device_start(&d, &r, n);
	for (;;) {
		usleep(2000);
		assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
		if (fs.groups >= n)
			break;
		if (fs.groups != prev || !__atomic_load_n(&d.done, __ATOMIC_ACQUIRE)) {
			prev = fs.groups;
			last = now_s();
		} else if (now_s() - last > 5) {
			break; /* no progress for 5 s after the last trigger */
		}
	}
	device_join(&d);
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	pfdk_pipeline_stats(p, &ls, NULL);
	snprintf(what, sizeof(what), "pipeline %s/%s%s%s", layout, engine, extra[0] ? " " : "", extra);
	print_message("  %-28s %" PRIu64 " groups (%" PRIu64 " invalid), %.0f groups/s (TCG: relative), "
		      "full %" PRIu64 ", grows %" PRIu64 ", malformed %" PRIu64 ", aborted %" PRIu64
		      ", write(2) %" PRIu64 ", ring writes %" PRIu64 ", fallbacks %" PRIu64
		      ", io_uring_enter %" PRIu64 "\n",
		      what, fs.groups, fs.invalid, (double)fs.groups / (now_s() - t0), fs.full,
		      x.grows, x.malformed, fs.aborted, x.writes, x.ring_writes,
		      x.ring_fallbacks, ls.engine_enters);
	assert_int_equal(fs.received, n);
	assert_int_equal(fs.groups, n);
	assert_int_equal(fs.invalid, n / 2 + n % 2);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(fs.errors, 0);
	assert_int_equal(x.malformed + x.rejected + x.stale + x.duplicates + x.read_errors, 0);
	assert_int_equal(ls.received, n);
	assert_int_equal(ls.responded, n);
	assert_int_equal(ls.inflight, 0);
	/* Single-record groups always fit a read: nothing ever needed to grow. */
	assert_int_equal(x.grows, 0);
	if (strncmp(engine, "uring", 5) == 0) {
		/* The real fault FD takes io_uring WRITEs: no write(2) at all. */
		assert_int_equal(x.ring_fallbacks, 0);
		assert_int_equal(x.writes, 0);
		assert_true(x.ring_writes > 0);
		assert_int_equal(x.ring_writes, ls.engine_writes);
		/*
		 * And reads the records through the ring (a multishot read
		 * behind a linked poll): reads with records completed there.
		 */
		assert_true(ls.engine_reads > 0);
	} else {
		assert_int_equal(x.ring_writes, 0);
	}
	log_verdict();
	pfdk_pipeline_destroy(p);
	cur_pipe = NULL;
	kernel_clean(&r, 1);
	rig_close(&r);
}

static void
pipeline_rtc_busy(void **state)
{
	(void)state;
	pipeline_case("rtc", "busy", 0, N_BULK, "");
}

static void
pipeline_pipeline_busy(void **state)
{
	(void)state;
	pipeline_case("pipeline", "busy", 1, N_BULK, "");
}

static void
pipeline_rtc_epoll(void **state)
{
	(void)state;
	pipeline_case("rtc", "epoll", 0, N_BULK / 2, "");
}

static void
pipeline_colocated_epoll(void **state)
{
	(void)state;
	pipeline_case("colocated", "epoll", 0, N_BULK / 2, "");
}

/* Defect 1 again, with groups held by the resolver while the poller reads. */
static void
pipeline_credit_4(void **state)
{
	(void)state;
	pipeline_case("pipeline", "busy", 1, N_BULK * 2, "outstanding=4");
}

static void
pipeline_credit_16(void **state)
{
	(void)state;
	pipeline_case("pipeline", "busy", 1, N_BULK * 2, "outstanding=16");
}

static void
pipeline_rtc_uring(void **state)
{
	(void)state;
	pipeline_case("rtc", "uring-nosqpoll", 0, N_BULK / 2, "");
}

/* The SQ thread (CPU 0) submits the response writes. */
static void
pipeline_rtc_uring_sqpoll(void **state)
{
	(void)state;
	pipeline_case("rtc", "uring", 0, N_BULK / 2, "");
}

/*
 * The ring's reads with little credit: records the engine read wait in
 * its buffers until groups are answered (never more tracked than 4).
 */
static void
pipeline_rtc_uring_credit_4(void **state)
{
	(void)state;
	pipeline_case("rtc", "uring-nosqpoll", 0, N_BULK / 2, "outstanding=4");
}

/* --- The allocate path (defect 3) ------------------------------------ */

/* The mock driver's nested-HWPT data: iotlb = IOMMU_TEST_IOTLB_DEFAULT, in memory order. */
static const char *
selftest_data_hex(char *buf, size_t len)
{
	struct pfdk_iommu_hwpt_selftest data = { .iotlb = PFDK_IOMMU_TEST_IOTLB_DEFAULT };
	const uint8_t *b = (const uint8_t *)&data;
	size_t i;

	for (i = 0; i < sizeof(data) && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, len - 2 * i, "%02x", b[i]);
	return buf;
}

static int
create_started(const char *devargs)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	int id = pfdk_fault_dev_create(devargs);

	if (id < 0)
		return id;
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	return id;
}

/* The lowest free object id of @r's iommufd (a fault queue made and destroyed). */
static uint32_t
next_obj_id(const struct rig *r)
{
	struct pfdk_iommu_fault_alloc fa = { .size = sizeof(fa) };

	assert_int_equal(iocmd(r->fd, PFDK_IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	close((int)fa.out_fault_fd);
	assert_int_equal(destroy(r->fd, fa.out_fault_id), 0);
	return fa.out_fault_id;
}

/*
 * What a VMM has: its iommufd, the device's id there, a NEST_PARENT HWPT
 * and the IOMMU driver's data for the nested one. PFDK allocates the fault
 * queue and the nested HWPT, the application attaches the device, faults
 * are served, and close destroys both objects (nothing left behind).
 */
static void
alloc_nested(void **state)
{
	struct pfdk_iommufd_info info;
	struct seen s = { .n = 2000 };
	struct rig r;
	char devargs[256], hex[16];
	double secs;
	int id;

	(void)state;
	assert_int_equal(rig_base(&r), 0);
	assert_int_equal(hwpt_alloc(&r, PFDK_IOMMU_HWPT_ALLOC_NEST_PARENT, r.ioas, 0,
				    PFDK_IOMMU_HWPT_DATA_NONE, NULL, 0, &r.parent), 0);
	snprintf(devargs, sizeof(devargs),
		 "iommufd53,iommu_fd=%d,dev_id=%u,pt_id=%u,data_type=0x%x,data=%s,range=0x%llx:0x%llx",
		 r.fd, r.idev, r.parent, PFDK_IOMMU_HWPT_DATA_SELFTEST,
		 selftest_data_hex(hex, sizeof(hex)), RANGE_LO, RANGE_HI);
	log_capture();
	id = create_started(devargs);
	if (id < 0)
		fail_msg("%s: %d", devargs, id);
	assert_int_equal(pfdk_iommufd_info_get((uint16_t)id, &info), 0);
	assert_int_not_equal(info.hwpt_id, 0);
	assert_int_not_equal(info.fault_id, 0);
	assert_int_equal(info.iommu_fd, r.fd);
	/* Attaching is the application's step. */
	assert_int_equal(replace(&r, info.hwpt_id), 0);
	s.map = calloc(s.n, 1);
	assert_non_null(s.map);
	secs = serve_raw(&r, (uint16_t)id, &s, 32);
	verdict("allocated nested HWPT", (uint16_t)id, &s, secs);
	free(s.map);
	/* Stopped, the queue is the kernel's again: nothing outstanding. */
	assert_int_equal(pfdk_fault_stop((uint16_t)id), 0);
	r.fault_fd = info.fault_fd;
	kernel_clean(&r, 1);
	r.fault_fd = -1;
	assert_int_equal(replace(&r, r.parent), 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	/* Both objects went with the device. */
	assert_int_equal(destroy(r.fd, info.hwpt_id), -ENOENT);
	assert_int_equal(destroy(r.fd, info.fault_id), -ENOENT);
	assert_int_equal(replace(&r, r.ioas), 0);
	assert_int_equal(destroy(r.fd, r.parent), 0);
	close(r.fd);
	cur_rig = NULL;
}

/* @devargs fails with @err, the log saying @what, and leaves no object in @r's iommufd. */
static void
alloc_refused(const struct rig *r, const char *devargs, int err, const char *what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint32_t before = next_obj_id(r);
	int id;

	assert_non_null(f);
	rte_openlog_stream(f);
	id = pfdk_fault_dev_create(devargs);
	rte_openlog_stream(NULL);
	fclose(f);
	print_message("  %s -> %d: %s", devargs, id, buf);
	assert_int_equal(id, err);
	/* Its fault queue was destroyed, not left in the caller's iommufd. */
	if (next_obj_id(r) != before)
		fail_msg("the failed create left its fault queue (object %u) in the caller's iommufd", before);
	if (strstr(buf, what) == NULL)
		fail_msg("the message does not say '%s'", what);
	free(buf);
}

static void
alloc_errors(void **state)
{
	struct rig r;
	char devargs[256], hex[16];

	(void)state;
	assert_int_equal(rig_base(&r), 0);
	assert_int_equal(hwpt_alloc(&r, PFDK_IOMMU_HWPT_ALLOC_NEST_PARENT, r.ioas, 0,
				    PFDK_IOMMU_HWPT_DATA_NONE, NULL, 0, &r.parent), 0);
	/* A paging HWPT over the IOAS: EOPNOTSUPP on 6.12, whatever the IOMMU does. */
	snprintf(devargs, sizeof(devargs), "iommufd54,iommu_fd=%d,dev_id=%u,pt_id=%u",
		 r.fd, r.idev, r.ioas);
	alloc_refused(&r, devargs, -EOPNOTSUPP, "NEST_PARENT");
	/* Nested data over something that is not a NEST_PARENT HWPT (6.12: EOPNOTSUPP). */
	snprintf(devargs, sizeof(devargs), "iommufd54,iommu_fd=%d,dev_id=%u,pt_id=%u,data_type=0x%x,data=%s",
		 r.fd, r.idev, r.ioas, PFDK_IOMMU_HWPT_DATA_SELFTEST,
		 selftest_data_hex(hex, sizeof(hex)));
	alloc_refused(&r, devargs, -EOPNOTSUPP, "NEST_PARENT");
	/* A data type the mock driver does not know. */
	snprintf(devargs, sizeof(devargs), "iommufd54,iommu_fd=%d,dev_id=%u,pt_id=%u,data_type=0x%x,data=%s",
		 r.fd, r.idev, r.parent, PFDK_IOMMU_HWPT_DATA_SELFTEST + 1,
		 selftest_data_hex(hex, sizeof(hex)));
	alloc_refused(&r, devargs, -EOPNOTSUPP, "data_type");
	assert_true(pfdk_fault_get_dev_id("iommufd54") < 0);
	assert_int_equal(destroy(r.fd, r.parent), 0);
	close(r.fd);
	cur_rig = NULL;
}

/* iommu=/dev/iommu opens a new iommufd: it has no devices, and says so. */
static void
alloc_fresh_iommufd(void **state)
{
	struct rig r;
	char devargs[256], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int id;

	(void)state;
	assert_int_equal(rig_base(&r), 0);
	snprintf(devargs, sizeof(devargs), "iommufd55,iommu=/dev/iommu,dev_id=%u,pt_id=%u",
		 r.idev, r.ioas);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rte_openlog_stream(f);
	id = pfdk_fault_dev_create(devargs);
	rte_openlog_stream(NULL);
	fclose(f);
	print_message("  %s -> %d: %s", devargs, id, buf);
	assert_int_equal(id, -ENOENT);
	if (strstr(buf, "iommu_fd=") == NULL)
		fail_msg("the message does not point to iommu_fd=");
	free(buf);
	close(r.fd);
	cur_rig = NULL;
}

/* Stop with groups read and unanswered: stop answers them, the kernel is clean. */
static void
stop_outstanding(void **state)
{
	struct pfdk_fault *f[64];
	struct pfdk_fault_stats fs;
	struct rig r;
	unsigned int got = 0, i, tries = 0;
	int id;

	(void)state;
	rig_open(&r);
	id = pfdk_dev("iommufd51", &r, "");
	for (i = 0; i < 40; i++)
		assert_int_equal(trigger(&r, f_pasid(i), f_grpid(i), f_perm(i), f_addr(i)), 0);
	while (got < 40 && tries++ < 1000000)
		got += pfdk_fault_recv_burst((uint16_t)id, 0, &f[got], (uint16_t)(64 - got));
	assert_int_equal(got, 40);
	assert_int_equal(pfdk_fault_stop((uint16_t)id), 0);
	rte_mempool_put_bulk(pool, (void **)f, got);
	assert_int_equal(pfdk_fault_stats_get((uint16_t)id, &fs), 0);
	assert_int_equal(fs.aborted, 40);
	assert_int_equal(fs.groups, 0);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	kernel_clean(&r, 1);
	rig_close(&r);
}

/*
 * The device is moved off the fault-capable HWPT while PFDK holds 20
 * groups: the kernel answers them INVALID itself, so PFDK's responses come
 * too late and are refused, counted, never sent again; nothing is
 * answered twice and the queue is clean once the device is back.
 */
static void
replace_outstanding(void **state)
{
	struct pfdk_fault *f[64];
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats fs;
	struct rig r;
	unsigned int got = 0, i, tries = 0;
	int id;

	(void)state;
	rig_open(&r);
	id = pfdk_dev("iommufd51", &r, "");
	for (i = 0; i < 20; i++)
		assert_int_equal(trigger(&r, f_pasid(i), f_grpid(i), f_perm(i), f_addr(i)), 0);
	while (got < 20 && tries++ < 1000000)
		got += pfdk_fault_recv_burst((uint16_t)id, 0, &f[got], (uint16_t)(64 - got));
	assert_int_equal(got, 20);
	assert_int_equal(replace(&r, r.parent), 0);
	assert_int_equal(pfdk_iommufd_resolve(NULL, f, (uint16_t)got), got);
	assert_int_equal(pfdk_fault_respond_burst((uint16_t)id, 0, f, (uint16_t)got), got);
	assert_int_equal(pfdk_fault_stats_get((uint16_t)id, &fs), 0);
	assert_int_equal(pfdk_iommufd_xstats_get((uint16_t)id, &x), 0);
	print_message("  replace with 20 outstanding: %" PRIu64 " responses refused, %" PRIu64 " writes\n",
		      x.rejected, x.writes);
	assert_int_equal(x.rejected, 20);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	assert_int_equal(replace(&r, r.iopf_hwpt), 0);
	kernel_clean(&r, 1);
	rig_close(&r);
}

/*
 * Defect 2: cookie 0 is a value the kernel hands out. 6.12's write()
 * refuses {cookie 0} but its xa_erase(..., 0) frees the reserved index 0
 * when a group is outstanding; the next group then gets cookie 0. PFDK
 * must serve it like any other.
 */
static void
cookie_zero(void **state)
{
	struct pfdk_iommu_hwpt_pgfault rec[4];
	struct pfdk_iommu_hwpt_page_response resp[1] = { { 0, PFDK_IOMMUFD_PAGE_RESP_SUCCESS } };
	struct pfdk_fault *f[4];
	struct pfdk_fault_stats fs;
	struct pfdk_iommufd_xstats x;
	struct rig r;
	unsigned int got = 0, tries = 0;
	int id;

	(void)state;
	rig_open(&r);
	assert_int_equal(trigger(&r, 0, 1, PFDK_IOMMU_PGFAULT_PERM_READ, f_addr(1)), 0);
	assert_int_equal(read(r.fault_fd, rec, sizeof(rec)), REC);
	assert_int_equal(rec[0].cookie, 1);
	errno = 0;
	assert_int_equal(write(r.fault_fd, resp, RESP), -1);    /* {cookie 0}: refused */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(trigger(&r, 0, 3, PFDK_IOMMU_PGFAULT_PERM_READ, f_addr(3)), 0);
	/* Answer cookie 1 by hand, then let PFDK read the next group. */
	resp[0].cookie = 1;
	assert_int_equal(write(r.fault_fd, resp, RESP), RESP);
	id = pfdk_dev("iommufd52", &r, "");
	while (got == 0 && tries++ < 1000000)
		got = pfdk_fault_recv_burst((uint16_t)id, 0, f, 4);
	if (got == 0) {
		assert_int_equal(pfdk_iommufd_xstats_get((uint16_t)id, &x), 0);
		fail_msg("the group with cookie 0 never came out of PFDK (malformed %" PRIu64 ")",
			 x.malformed);
	}
	assert_int_equal(got, 1);
	if (f[0]->cookie != 0)
		skip(); /* a kernel without the bug: nothing to see */
	assert_int_equal(f[0]->addr, f_addr(3));
	assert_int_equal(pfdk_iommufd_resolve(NULL, f, 1), 1);
	assert_int_equal(f[0]->status, PFDK_FAULT_RESP_SUCCESS);
	assert_int_equal(pfdk_fault_respond_burst((uint16_t)id, 0, f, 1), 1);
	assert_int_equal(pfdk_fault_stats_get((uint16_t)id, &fs), 0);
	assert_int_equal(fs.groups, 1);
	assert_int_equal(fs.errors, 0);
	assert_int_equal(fs.outstanding, 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	/* Answered: index 0 is free again, so the probe gets cookie 0. */
	kernel_clean(&r, 0);
	rig_close(&r);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(selftest_flow, teardown),
		cmocka_unit_test_teardown(raw_bursts, teardown),
		cmocka_unit_test_teardown(raw_burst_1, teardown),
		cmocka_unit_test_teardown(credit_4, teardown),
		cmocka_unit_test_teardown(credit_16, teardown),
		cmocka_unit_test_teardown(pipeline_rtc_busy, teardown),
		cmocka_unit_test_teardown(pipeline_pipeline_busy, teardown),
		cmocka_unit_test_teardown(pipeline_rtc_epoll, teardown),
		cmocka_unit_test_teardown(pipeline_colocated_epoll, teardown),
		cmocka_unit_test_teardown(pipeline_credit_4, teardown),
		cmocka_unit_test_teardown(pipeline_credit_16, teardown),
		cmocka_unit_test_teardown(pipeline_rtc_uring, teardown),
		cmocka_unit_test_teardown(pipeline_rtc_uring_sqpoll, teardown),
		cmocka_unit_test_teardown(pipeline_rtc_uring_credit_4, teardown),
		cmocka_unit_test_teardown(stop_outstanding, teardown),
		cmocka_unit_test_teardown(replace_outstanding, teardown),
		cmocka_unit_test_teardown(cookie_zero, teardown),
		cmocka_unit_test_teardown(alloc_nested, teardown),
		cmocka_unit_test_teardown(alloc_errors, teardown),
		cmocka_unit_test_teardown(alloc_fresh_iommufd, teardown),
	};
	struct rig r;
	int ret;

	(void)argc;
	ret = rig_base(&r);
	if (ret < 0) {
		printf("SKIP: %s (%s): run it in the kernel rig (tests/kernel/run.sh), a kernel with CONFIG_IOMMUFD_TEST\n",
		       ret == -ENOENT ? "no /dev/iommu" : "no iommufd mock device",
		       strerror(-ret));
		return TEST_SKIP;
	}
	close(r.fd);
	test_watchdog("test_iommufd_kernel", 1200);
	test_eal_init(argv[0], "0@0,1@1,2@0");
	pool = pfdk_fault_pool_create("kernel_rig", 1023, 0, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
