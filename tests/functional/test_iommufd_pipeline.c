/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iommufd driver end to end through lib/pipeline: an emulated fault FD
 * generates PRI-like groups (up to 8 records, 4 PASIDs, flag bit 2 set),
 * the default policy answers SUCCESS inside the device's range and INVALID
 * outside, and every group must be answered exactly once by the emulated
 * kernel's count: zero lost, zero duplicated, nothing left for stop.
 * Pools and rings are small, so pool shortages, ring backpressure and
 * "fill later" retries all happen. Manual cases step the workers in a
 * fixed order; thread cases run them on lcores. The io_uring cases check
 * how the responses went out: as WRITE SQEs on the ring (through the
 * emulator's pipe, ring_write=1), by write(2) where the emulator offers no
 * fd (ring_write=0), and by write(2) again after the ring's write is
 * refused (ring_write=2: the fallback, once, with nothing lost).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "test_common.h"

#define RECORDS 200000ull

struct scenario {
	const char *layout;
	unsigned int resolvers;
	bool threads;
	const char *engine; /* NULL: busy */
	unsigned int ring_write; /* the emulator's ring_write= (1 default) */
	bool sqpoll;             /* engine uring: its SQ thread on CPU 0 */
};

/* Every 5th fill says "not now": the pipeline must offer it again. */
static int
fill(void *arg, const struct pfdk_fault *f)
{
	uint64_t *calls = arg;

	(void)f;
	return __atomic_add_fetch(calls, 1, __ATOMIC_RELAXED) % 5 == 0 ? -EAGAIN : 0;
}

/*
 * Load @p ini and create its pipeline, resolving with the default iommufd
 * policy and fill() (its calls counted in @p calls, which must outlive
 * the pipeline). One pipeline at a time: the profile and policy are here.
 */
static struct pfdk_pipeline *
pipeline_of(const char *ini, size_t len, uint64_t *calls, uint32_t flags)
{
	static struct pfdk_profile prof;
	static struct pfdk_iommufd_policy pol;
	struct pfdk_profile_check chk = { .ncpus = 64 };
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = pfdk_iommufd_resolve,
		.resolve_ctx = &pol,
		.flags = flags,
	};
	struct pfdk_pipeline *p;
	char err[512];

	pol = (struct pfdk_iommufd_policy){ fill, calls };
	if (pfdk_profile_load_string("test_iommufd_pipeline", ini, len, &prof, &chk,
				     err, sizeof(err)) < 0)
		fail_msg("profile: %s\n%s", err, ini);
	p = pfdk_pipeline_create(&pc);
	if (p == NULL)
		fail_msg("pipeline_create: %s", rte_strerror(rte_errno));
	return p;
}

static void
run(const struct scenario *sc)
{
	uint64_t calls = 0;
	struct pfdk_iommufd_emu_check c;
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats fs;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	struct pfdk_iommufd_emu *e;
	char ini[2048];
	size_t len = 0;
	unsigned int i, loops = 0;
	uint16_t id, w;

#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = iommufd\nlayout = %s\nburst = 32\nmain_cpu = 0\n", sc->layout);
	ADD("[node.0]\npool_size = 48\npool_cache = 0\nring_size = 16\n");
	/* IOVAs are generated in 4..8 GiB: the range covers half. */
	ADD("[device.iommufd40]\ndevargs = iommufd40,emu=1,groups=8,pasids=4,total=%llu,"
	    "flag2=1,seed=7,depth=64,outstanding=256,range=0x100000000:0x180000000,"
	    "ring_write=%u\nqueues = 1\n", RECORDS, sc->ring_write);
	ADD("[lcore.1]\nrole = poller\ncpu = 1\nengine = %s\nqueues = iommufd40:0\n%s",
	    sc->engine ? sc->engine : "busy", sc->sqpoll ? "sqpoll_cpu = 0\n" : "");
	for (i = 0; i < sc->resolvers; i++)
		ADD("[lcore.%u]\nrole = resolver\ncpu = 0\n", 2 + i);
#undef ADD
	p = pipeline_of(ini, len, &calls, sc->threads ? 0 : PFDK_PIPELINE_F_MANUAL);
	id = (uint16_t)pfdk_pipeline_dev_id(p, 0);
	e = pfdk_iommufd_emu_get(id);
	assert_non_null(e);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	for (;;) {
		if (sc->threads) {
			usleep(1000);
		} else {
			for (w = 0; w < pfdk_pipeline_worker_count(p); w++)
				assert_true(pfdk_pipeline_worker_step(p, w) >= 0);
		}
		pfdk_iommufd_emu_check_get(e, &c);
		if (c.exhausted && c.pending == 0 && c.outstanding == 0)
			break;
		if (++loops > 50000000)
			fail_msg("no progress: %" PRIu64 " of %llu records read", c.records_read, RECORDS);
	}
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	pfdk_iommufd_emu_check_get(e, &c);
	assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	pfdk_pipeline_stats(p, &ls, NULL);
	print_message("  %-8s %s: %" PRIu64 " records, %" PRIu64 " groups (%" PRIu64
		      " invalid), pool-short %" PRIu64 ", ring-full %" PRIu64
		      ", retried %" PRIu64 ", writes %" PRIu64 ", ring writes %" PRIu64
		      " (posted %" PRIu64 "), fallbacks %" PRIu64 ", io_uring_enter %" PRIu64 "\n",
		      sc->layout, sc->threads ? "threads" : "manual ", c.records_read,
		      c.answered, c.answered_invalid, fs.nodesc, ls.backpressure,
		      ls.retried, x.writes, x.ring_writes, ls.engine_writes,
		      x.ring_fallbacks, ls.engine_enters);
	/* Zero lost: all generated, all read, each group answered. */
	assert_int_equal(c.records_queued, RECORDS);
	assert_int_equal(c.records_read, RECORDS);
	assert_int_equal(c.answered, c.groups_queued);
	assert_int_equal(fs.groups, c.groups_queued);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.outstanding, 0);
	/* Zero duplicated, nothing malformed or refused. */
	assert_int_equal(c.duplicates + c.unknown + c.bad_code + c.bad_count, 0);
	assert_int_equal(fs.errors, 0);
	assert_int_equal(x.unknown_flags, RECORDS); /* flag bit 2, masked */
	assert_true(c.answered_invalid > 0 && c.answered_success > 0);
	assert_int_equal(ls.received, RECORDS);
	assert_int_equal(ls.responded, RECORDS);
	assert_int_equal(ls.inflight, 0);
	assert_true(ls.retried > 0);
	/* How the responses went out. */
	if (sc->engine == NULL || sc->ring_write == 0) {
		/* The driver's write(2): the engine writes nothing. */
		assert_int_equal(x.ring_writes + ls.engine_writes + x.ring_fallbacks, 0);
		assert_true(x.writes > 0);
	} else if (sc->ring_write == 1) {
		/* Every response by a WRITE SQE, none by write(2). */
		assert_int_equal(x.writes, 0);
		assert_int_equal(x.ring_fallbacks, 0);
		assert_true(x.ring_writes > 0);
		assert_int_equal(x.ring_writes, ls.engine_writes);
		/* One enter per pass at most, and passes with writes enter. */
		assert_true(ls.engine_enters > 0 || sc->sqpoll);
	} else {
		/* The refused ring write: taken back once, then write(2). */
		assert_int_equal(x.ring_fallbacks, 1);
		assert_int_equal(x.ring_writes, 1);
		assert_int_equal(ls.engine_writes, 1);
		assert_true(x.writes > 0);
	}
	pfdk_pipeline_destroy(p);
}

static void
manual_rtc(void **state)
{
	const struct scenario sc = { "rtc", 0, false, .ring_write = 1 };

	(void)state;
	run(&sc);
}

static void
manual_pipeline(void **state)
{
	const struct scenario sc = { "pipeline", 2, false, .ring_write = 1 };

	(void)state;
	run(&sc);
}

static void
threads_rtc(void **state)
{
	const struct scenario sc = { "rtc", 0, true, .ring_write = 1 };

	(void)state;
	run(&sc);
}

static void
threads_pipeline(void **state)
{
	const struct scenario sc = { "pipeline", 1, true, .ring_write = 1 };

	(void)state;
	run(&sc);
}

/* Readiness through io_uring polls on the emulator's eventfd (DESIGN 3.1:
 * read() returns 0 when empty, so an engine must wait on poll, not read).
 */
static void
threads_rtc_uring(void **state)
{
	const struct scenario sc = { "rtc", 0, true, "uring-nosqpoll", 1, false };

	(void)state;
	run(&sc);
}

/* The same, the workers stepped in a fixed order: responses by WRITE SQEs. */
static void
manual_rtc_uring(void **state)
{
	const struct scenario sc = { "rtc", 0, false, "uring-nosqpoll", 1, false };

	(void)state;
	run(&sc);
}

/* Resolvers hand the faults back: writes posted from the pipeline step. */
static void
manual_pipeline_uring(void **state)
{
	const struct scenario sc = { "pipeline", 2, false, "uring-nosqpoll", 1, false };

	(void)state;
	run(&sc);
}

/* The SQ thread submits the writes. */
static void
threads_rtc_uring_sqpoll(void **state)
{
	const struct scenario sc = { "rtc", 0, true, "uring", 1, true };

	(void)state;
	run(&sc);
}

/* No fd for the engine to write to: the driver keeps its write(2). */
static void
manual_rtc_uring_nofd(void **state)
{
	const struct scenario sc = { "rtc", 0, false, "uring-nosqpoll", 0, false };

	(void)state;
	run(&sc);
}

/* The ring's write refused (EBADF): fall back to write(2), nothing lost. */
static void
manual_rtc_uring_refused(void **state)
{
	const struct scenario sc = { "rtc", 0, false, "uring-nosqpoll", 2, false };

	(void)state;
	run(&sc);
}

/* Counts the driver's own read(2) calls on the fd (the engine's are not). */
struct rd_count {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	uint64_t reads;
};

static struct rd_count rdc;

static ssize_t
rdc_read(void *ctx, void *buf, size_t count)
{
	struct rd_count *c = ctx;

	c->reads++;
	return c->io->read(c->ctx, buf, count);
}

static ssize_t
rdc_write(void *ctx, const void *buf, size_t count)
{
	struct rd_count *c = ctx;

	return c->io->write(c->ctx, buf, count);
}

static int
rdc_fd(void *ctx)
{
	struct rd_count *c = ctx;

	return c->io->readiness_fd(c->ctx);
}

static int
rdc_write_fd(void *ctx)
{
	struct rd_count *c = ctx;

	return c->io->write_fd(c->ctx);
}

static int
rdc_read_fd(void *ctx)
{
	struct rd_count *c = ctx;

	return c->io->read_fd(c->ctx);
}

static const struct pfdk_iommufd_io rdc_io = {
	.read = rdc_read,
	.write = rdc_write,
	.readiness_fd = rdc_fd,
	.write_fd = rdc_write_fd,
	.read_fd = rdc_read_fd,
};

#define PEER_GROUPS 3000u

/*
 * The io_uring engine reads an inherited fault FD itself (a socketpair
 * playing the kernel, test_peer=1): multishot reads into provided buffers,
 * parsed by the driver. Hostile on purpose: groups of 1..5 records (a
 * 5-record group straddles the engine's 8-record buffers, as a stream
 * socket may cut it), 8 outstanding groups at most (records wait in the
 * engine's buffers for credit), a pool of 7 descriptors for bursts of 8, every 5th fill
 * refused. Every group must be answered exactly once, with INVALID for
 * the ones outside the range, and the driver must never read(2) the fd.
 */
static void
manual_rtc_uring_reads(void **state)
{
	uint64_t calls = 0;
	static uint8_t answered[PEER_GROUPS + 1];
	struct pfdk_iommu_hwpt_pgfault rec[5];
	struct pfdk_iommu_hwpt_page_response rsp[64];
	struct pfdk_fault_stats fs;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	uint32_t sent = 0, done = 0, inflight = 0, k, j;
	char ini[1024];
	uint64_t loops = 0;
	void *ctx;
	int sv[2];
	uint16_t id;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	snprintf(ini, sizeof(ini),
		 "[pfdk]\nname = peer\nlayout = rtc\nburst = 8\nmain_cpu = 0\n"
		 "[node.0]\npool_size = 7\npool_cache = 0\nring_size = 16\n"
		 "[device.iommufd41]\ndevargs = iommufd41,fault_fd=%d,test_peer=1,outstanding=8,"
		 "range=0x100000000:0x180000000\nqueues = 1\n"
		 "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring-nosqpoll\nqueues = iommufd41:0\n",
		 sv[0]);
	p = pipeline_of(ini, strlen(ini), &calls, PFDK_PIPELINE_F_MANUAL);
	id = (uint16_t)pfdk_pipeline_dev_id(p, 0);
	assert_int_equal(pfdk_iommufd_io_get(id, &rdc.io, &ctx), 0);
	rdc.ctx = ctx;
	rdc.reads = 0;
	assert_int_equal(pfdk_iommufd_io_set(id, &rdc_io, &rdc), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	while (done < PEER_GROUPS) {
		/* Up to 24 groups owed: 3x what the driver may track. */
		while (sent < PEER_GROUPS && inflight < 24) {
			uint32_t c = sent + 1, nr = 1 + c % 5;

			for (j = 0; j < nr; j++) {
				memset(&rec[j], 0, sizeof(rec[j]));
				rec[j].flags = j + 1 == nr ? PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0;
				rec[j].grpid = c & 0x1ff;
				rec[j].perm = PFDK_IOMMU_PGFAULT_PERM_READ;
				/* Every 7th group outside the range: INVALID. */
				rec[j].addr = (c % 7 == 0 ? 0x200000000ull : 0x100000000ull) +
					      ((uint64_t)c << 16) + ((uint64_t)j << 12);
				rec[j].cookie = c;
			}
			n = write(sv[1], rec, nr * sizeof(rec[0]));
			if (n < 0 && errno == EAGAIN)
				break;
			assert_int_equal(n, (ssize_t)(nr * sizeof(rec[0])));
			sent++;
			inflight++;
		}
		assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);
		n = read(sv[1], rsp, sizeof(rsp));
		if (n > 0) {
			assert_int_equal(n % (ssize_t)sizeof(rsp[0]), 0);
			for (k = 0; k < (uint32_t)n / sizeof(rsp[0]); k++) {
				uint32_t c = rsp[k].cookie;

				if (c == 0 || c > sent)
					fail_msg("unknown cookie %u", c);
				if (answered[c]++ != 0)
					fail_msg("cookie %u answered twice", c);
				assert_int_equal(rsp[k].code, c % 7 == 0 ?
						 PFDK_IOMMUFD_PAGE_RESP_INVALID :
						 PFDK_IOMMUFD_PAGE_RESP_SUCCESS);
				done++;
				inflight--;
			}
		}
		if (++loops > 20000000)
			fail_msg("no progress: %u of %u groups answered, %u sent", done, sent,
				 PEER_GROUPS);
	}
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
	pfdk_pipeline_stats(p, &ls, NULL);
	print_message("  peer: %u groups, engine reads %" PRIu64 ", driver reads %" PRIu64
		      ", pool-short %" PRIu64 ", full %" PRIu64 ", io_uring_enter %" PRIu64 "\n",
		      done, ls.engine_reads, rdc.reads, fs.nodesc, fs.full, ls.engine_enters);
	assert_int_equal(fs.groups, PEER_GROUPS);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.outstanding, 0);
	assert_true(ls.engine_reads > 0);
	assert_int_equal(rdc.reads, 0);
	/* The shortages this test is for did happen. */
	assert_true(fs.full > 0 && fs.nodesc > 0);
	pfdk_pipeline_destroy(p);
	close(sv[1]);
	close(sv[0]);
}

/*
 * A peer that sends a group bigger than the driver's carry (8192 records
 * without LAST_PAGE, then a one-record group) through the engine's reads:
 * the open group is closed as it stands when it fills the carry and
 * answered once, the next group too, and the engine's buffers never stop
 * draining (before the carry checks were shared, they did).
 */
#define BIG_RECS 8192u

static void
manual_rtc_uring_big_group(void **state)
{
	uint64_t calls = 0;
	static struct pfdk_iommu_hwpt_pgfault rec[BIG_RECS + 1];
	struct pfdk_iommu_hwpt_page_response rsp[8];
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats fs;
	size_t off = 0, total = sizeof(rec);
	char ini[1024];
	unsigned int answered[2] = { 0, 0 };
	uint64_t loops = 0;
	struct pfdk_pipeline *p;
	uint32_t k;
	int sv[2];
	uint16_t id;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	snprintf(ini, sizeof(ini),
		 "[pfdk]\nname = big\nlayout = rtc\nburst = 32\nmain_cpu = 0\n"
		 "[node.0]\npool_size = 255\npool_cache = 0\nring_size = 16\n"
		 "[device.iommufd42]\ndevargs = iommufd42,fault_fd=%d,test_peer=1,outstanding=16384,"
		 "range=0x100000000:0x180000000\nqueues = 1\n"
		 "[lcore.1]\nrole = poller\ncpu = 1\nengine = uring-nosqpoll\nqueues = iommufd42:0\n",
		 sv[0]);
	for (k = 0; k <= BIG_RECS; k++) {
		memset(&rec[k], 0, sizeof(rec[k]));
		rec[k].perm = PFDK_IOMMU_PGFAULT_PERM_READ;
		rec[k].addr = 0x100000000ull + ((uint64_t)k << 12);
		rec[k].cookie = k < BIG_RECS ? 77 : 78;
		rec[k].flags = k < BIG_RECS ? 0 : PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE;
	}
	p = pipeline_of(ini, strlen(ini), &calls, PFDK_PIPELINE_F_MANUAL);
	id = (uint16_t)pfdk_pipeline_dev_id(p, 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	while (answered[0] + answered[1] < 2) {
		if (off < total) {
			/* Whole records per write: a stream socket keeps them whole here. */
			size_t want = RTE_MIN(total - off, (size_t)256 * sizeof(rec[0]));

			n = write(sv[1], (const uint8_t *)rec + off, want);
			if (n > 0)
				off += (size_t)n;
			else
				assert_true(n < 0 && errno == EAGAIN);
		}
		assert_true(pfdk_pipeline_worker_step(p, 0) >= 0);
		n = read(sv[1], rsp, sizeof(rsp));
		for (k = 0; n > 0 && k < (uint32_t)n / sizeof(rsp[0]); k++) {
			assert_true(rsp[k].cookie == 77 || rsp[k].cookie == 78);
			if (answered[rsp[k].cookie - 77]++ != 0)
				fail_msg("cookie %u answered twice", rsp[k].cookie);
			assert_int_equal(rsp[k].code, PFDK_IOMMUFD_PAGE_RESP_SUCCESS);
		}
		if (++loops > 20000000)
			fail_msg("no progress: %zu of %zu bytes sent, answered %u/%u", off, total,
				 answered[0], answered[1]);
	}
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	assert_int_equal(pfdk_fault_stats_get(id, &fs), 0);
	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	assert_int_equal(fs.groups, 2);
	assert_int_equal(fs.aborted, 0);
	assert_int_equal(fs.received, BIG_RECS + 1);
	assert_true(x.malformed >= 1); /* the cut-short group is said so */
	pfdk_pipeline_destroy(p);
	close(sv[1]);
	close(sv[0]);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manual_rtc),
		cmocka_unit_test(manual_pipeline),
		cmocka_unit_test(threads_rtc),
		cmocka_unit_test(threads_pipeline),
		cmocka_unit_test(threads_rtc_uring),
		cmocka_unit_test(manual_rtc_uring),
		cmocka_unit_test(manual_pipeline_uring),
		cmocka_unit_test(threads_rtc_uring_sqpoll),
		cmocka_unit_test(manual_rtc_uring_nofd),
		cmocka_unit_test(manual_rtc_uring_refused),
		cmocka_unit_test(manual_rtc_uring_reads),
		cmocka_unit_test(manual_rtc_uring_big_group),
	};

	(void)argc;
	test_watchdog("test_iommufd_pipeline", 600);
	/* Lcore 1 polls on CPU 1; resolvers share CPU 0 with the sleeping main. */
	test_eal_init(argv[0], "0@0,1@1,2@0,3@0");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
