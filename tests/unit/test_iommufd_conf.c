/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Conformance of the iommufd driver against the emulated fault FD: the
 * kernel selftest's flow, then what a real PRI source does that the
 * selftest does not (multi-record groups, PASIDs interleaved, 2048 groups
 * outstanding, reused cookies, flag bit 2, a first group bigger than the
 * read, partial writes, stop with groups outstanding, malformed reads).
 * Every case ends with the emulator's verdict: each group answered exactly
 * once, nothing unknown or duplicated, and every descriptor back in the pool.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_log.h>
#include <rte_mempool.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "test_common.h"

#define POOL_N 8191
#define REC sizeof(struct pfdk_iommu_hwpt_pgfault)
#define LAST PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE
#define PV PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID

static struct rte_mempool *pool;
static unsigned int dev_seq;

static uint16_t
dev_up(const char *args)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	char devargs[256];
	int id;

	snprintf(devargs, sizeof(devargs), "iommufd%u,emu=1%s%s", dev_seq++,
		 args[0] ? "," : "", args);
	id = pfdk_fault_dev_create(devargs);
	if (id < 0)
		fail_msg("create %s: %s", devargs, strerror(-id));
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	return (uint16_t)id;
}

static struct pfdk_iommufd_emu *
emu(uint16_t id)
{
	struct pfdk_iommufd_emu *e = pfdk_iommufd_emu_get(id);

	assert_non_null(e);
	return e;
}

static struct pfdk_iommufd_emu_check
echeck(uint16_t id)
{
	struct pfdk_iommufd_emu_check c;

	pfdk_iommufd_emu_check_get(emu(id), &c);
	return c;
}

static struct pfdk_iommufd_xstats
xstats(uint16_t id)
{
	struct pfdk_iommufd_xstats x;

	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	return x;
}

static struct pfdk_fault_stats
stats(uint16_t id)
{
	struct pfdk_fault_stats s;

	assert_int_equal(pfdk_fault_stats_get(id, &s), 0);
	return s;
}

/* One group: @n records on @pasid from @addr, all with @extra flags. */
static void
inject(uint16_t id, unsigned int n, uint32_t pasid, uint32_t grpid,
       uint64_t addr, uint32_t extra)
{
	struct pfdk_iommu_hwpt_pgfault r[64];
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].flags = PV | extra | (i == n - 1 ? LAST : 0);
		r[i].dev_id = 1;
		r[i].pasid = pasid;
		r[i].grpid = grpid;
		r[i].perm = PFDK_IOMMU_PGFAULT_PERM_READ | PFDK_IOMMU_PGFAULT_PERM_WRITE;
		r[i].addr = addr + (uint64_t)i * 4096;
	}
	assert_int_equal(pfdk_iommufd_emu_inject(emu(id), r, n), 1);
}

/* Receive until @want records came, @burst at a time. */
static unsigned int
recv_n(uint16_t id, struct pfdk_fault **f, unsigned int want, uint16_t burst)
{
	unsigned int got = 0, loops = 0;

	while (got < want && loops++ < 100000)
		got += pfdk_fault_recv_burst(id, 0, f + got,
					     (uint16_t)RTE_MIN(burst, want - got));
	assert_int_equal(got, want);
	return got;
}

static void
respond(uint16_t id, struct pfdk_fault **f, unsigned int n)
{
	assert_int_equal(pfdk_fault_respond_burst(id, 0, f, (uint16_t)n), n);
}

/* The verdict every case ends with; closes the device. */
static void
finish(uint16_t id, uint64_t groups)
{
	struct pfdk_iommufd_emu_check c;

	assert_int_equal(pfdk_fault_stop(id), 0);
	c = echeck(id);
	assert_int_equal(c.answered, groups);
	assert_int_equal(c.outstanding, 0);
	assert_int_equal(c.duplicates, 0);
	assert_int_equal(c.unknown, 0);
	assert_int_equal(c.bad_code, 0);
	assert_int_equal(c.bad_count, 0);
	assert_int_equal(stats(id).outstanding, 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* tools/testing/selftests/iommu: one LAST_PAGE fault, grpid 2, R|W. */
static void
test_selftest_flow(void **state)
{
	uint16_t id = dev_up("");
	struct pfdk_fault *f;
	struct pfdk_iommufd_emu_check c;

	(void)state;
	inject(id, 1, 1, 2, 0xdead000, 0);
	assert_int_equal(recv_n(id, &f, 1, 32), 1);
	assert_int_equal(f->kind, PFDK_FAULT_KIND_IO);
	assert_int_equal(f->cookie, 1);
	assert_int_equal(f->grpid, 2);
	assert_int_equal(f->perm, PFDK_FAULT_PERM_READ | PFDK_FAULT_PERM_WRITE);
	assert_int_equal(f->flags, PFDK_FAULT_F_LAST_PAGE | PFDK_FAULT_F_PASID_VALID);
	assert_int_equal(f->pasid, 1);
	assert_int_equal(f->addr, 0xdead000);
	assert_int_equal(f->len, 4096);
	assert_int_equal(f->dev_id, id);
	assert_int_equal(f->queue_id, 0);
	assert_true(f->tsc != 0);
	f->status = PFDK_FAULT_RESP_SUCCESS;
	respond(id, &f, 1);
	c = echeck(id);
	assert_int_equal(c.answered_success, 1);
	assert_int_equal(stats(id).groups, 1);
	/* Empty now: read() said 0, and recv says 0. */
	assert_int_equal(pfdk_fault_recv_burst(id, 0, &f, 1), 0);
	finish(id, 1);
}

/* One response per group, only after its last record is back. */
static void
test_multi_record_groups(void **state)
{
	uint16_t id = dev_up("");
	struct pfdk_fault *f[16];
	unsigned int i;

	(void)state;
	inject(id, 3, 1, 1, 0x100000, 0);
	inject(id, 1, 1, 2, 0x200000, 0);
	inject(id, 5, 2, 3, 0x300000, 0);
	/* Bursts of 4 split the groups across calls. */
	recv_n(id, f, 9, 4);
	for (i = 0; i < 9; i++)
		assert_int_equal(f[i]->flags & PFDK_FAULT_F_LAST_PAGE,
				 (i == 2 || i == 3 || i == 8) ? PFDK_FAULT_F_LAST_PAGE : 0);
	assert_int_equal(f[0]->cookie, f[2]->cookie);
	assert_int_equal(f[4]->cookie, f[8]->cookie);
	f[6]->status = PFDK_FAULT_RESP_INVALID;
	/* Records one by one, out of order: answers only at each group's end. */
	respond(id, &f[1], 1);
	respond(id, &f[0], 1);
	assert_int_equal(echeck(id).answered, 0);
	respond(id, &f[2], 1);
	assert_int_equal(echeck(id).answered, 1);
	respond(id, &f[4], 4);
	assert_int_equal(echeck(id).answered, 1);
	respond(id, &f[8], 1);
	assert_int_equal(echeck(id).answered, 2);
	respond(id, &f[3], 1);
	assert_int_equal(echeck(id).answered_invalid, 1); /* the 5-record group */
	assert_int_equal(stats(id).responded, 9);
	finish(id, 3);
}

/* Generated groups over 4 PASIDs, answered in a scrambled order. */
static void
test_interleaved_pasids(void **state)
{
	uint16_t id = dev_up("groups=4,pasids=4");
	static struct pfdk_fault *f[1024];
	unsigned int n, i, seen = 0;
	uint64_t records;

	(void)state;
	assert_int_equal(pfdk_iommufd_emu_generate(emu(id), 200), 200);
	records = echeck(id).records_queued;
	n = recv_n(id, f, (unsigned int)records, 32);
	for (i = 0; i < n; i++)
		seen |= 1u << f[i]->pasid;
	assert_int_equal(seen, 0x1e); /* PASIDs 1..4 all came */
	for (i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)rand() % (i + 1);
		struct pfdk_fault *t = f[i];

		f[i] = f[j];
		f[j] = t;
	}
	for (i = 0; i < n; i += 7)
		respond(id, &f[i], RTE_MIN(7u, n - i));
	assert_int_equal(echeck(id).answered, 200);
	finish(id, 200);
}

static void
test_2048_outstanding(void **state)
{
	uint16_t id = dev_up("");
	static struct pfdk_fault *f[2048];
	static uint8_t seen[2049];
	unsigned int i;

	(void)state;
	for (i = 0; i < 2048; i++)
		inject(id, 1, 1 + i % 8, i & 0x1ff, 0x1000000 + i * 4096ull, 0);
	recv_n(id, f, 2048, 64);
	assert_int_equal(stats(id).outstanding, 2048);
	assert_int_equal(echeck(id).outstanding, 2048);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 2048; i++) {
		assert_in_range(f[i]->cookie, 1, 2048);
		assert_int_equal(seen[f[i]->cookie]++, 0);
	}
	for (i = 2048; i > 0; i -= 32)
		respond(id, &f[i - 32], 32);
	assert_int_equal(echeck(id).answered, 2048);
	finish(id, 2048);
}

/* A late copy of an answered record must not count for the cookie's next group. */
static void
test_cookie_reuse(void **state)
{
	uint16_t id = dev_up("");
	struct pfdk_fault *a, *b, *late;
	void *p;

	(void)state;
	inject(id, 1, 1, 1, 0x1000, 0);
	recv_n(id, &a, 1, 1);
	assert_int_equal(rte_mempool_get(pool, &p), 0);
	late = p;
	memcpy(late, a, sizeof(*a));
	respond(id, &a, 1);
	inject(id, 2, 1, 2, 0x2000, 0);
	recv_n(id, &b, 1, 1);
	assert_int_equal(b->cookie, late->cookie); /* reused */
	respond(id, &late, 1);
	assert_int_equal(xstats(id).stale, 1);
	assert_int_equal(echeck(id).answered, 1);
	respond(id, &b, 1);
	assert_int_equal(echeck(id).answered, 1); /* one record of two back */
	recv_n(id, &b, 1, 1);
	respond(id, &b, 1);
	finish(id, 2);
}

static void
test_flag2(void **state)
{
	uint16_t id = dev_up("");
	struct pfdk_fault *f[4];

	(void)state;
	inject(id, 3, 7, 1, 0x1000, 1u << 2);
	recv_n(id, f, 3, 4);
	assert_int_equal(f[0]->flags, PFDK_FAULT_F_PASID_VALID);
	assert_int_equal(f[2]->flags, PFDK_FAULT_F_PASID_VALID | PFDK_FAULT_F_LAST_PAGE);
	assert_int_equal(xstats(id).unknown_flags, 3);
	assert_int_equal(xstats(id).malformed, 0);
	respond(id, f, 3);
	finish(id, 1);
}

/*
 * Mainline's fault.c reads a first group that does not fit as 0 (nofit=1
 * makes the emulator do so): the driver sees the FD still readable, grows
 * its read until the 64-record group fits, and loses nothing. Without the
 * readiness check the group would never be read.
 */
static void
test_too_small_first_read_mainline(void **state)
{
	uint16_t id = dev_up("rbuf=1,nofit=1");
	struct pfdk_fault *f[72];

	(void)state;
	inject(id, 64, 1, 1, 0x100000, 0);
	inject(id, 1, 1, 2, 0x900000, 0);
	assert_int_equal(pfdk_fault_recv_burst(id, 0, f, 8), 8);
	assert_true(xstats(id).grows >= 3);
	assert_true(echeck(id).too_small >= 3);
	assert_int_equal(xstats(id).read_errors, 0);
	recv_n(id, f + 8, 57, 8);
	assert_int_equal(f[63]->flags & PFDK_FAULT_F_LAST_PAGE, PFDK_FAULT_F_LAST_PAGE);
	assert_int_not_equal(f[64]->cookie, f[0]->cookie);
	respond(id, f, 65);
	finish(id, 2);
}

/* A 40-record group and a first read of 32: -EINVAL, grow, nothing lost. */
static void
test_too_small_first_read(void **state)
{
	uint16_t id = dev_up("rbuf=1");
	struct pfdk_fault *f[64];

	(void)state;
	inject(id, 40, 1, 1, 0x100000, 0);
	inject(id, 1, 1, 2, 0x900000, 0);
	assert_int_equal(pfdk_fault_recv_burst(id, 0, f, 32), 32);
	assert_true(xstats(id).grows >= 1);
	assert_true(echeck(id).too_small >= 1);
	recv_n(id, f + 32, 9, 32);
	assert_int_equal(f[39]->flags & PFDK_FAULT_F_LAST_PAGE, PFDK_FAULT_F_LAST_PAGE);
	assert_int_not_equal(f[40]->cookie, f[0]->cookie);
	respond(id, f, 41);
	finish(id, 2);
}

/* Counts the driver's write() calls. */
struct count_io {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	unsigned int writes;
};

static ssize_t
count_read(void *ctx, void *buf, size_t count)
{
	struct count_io *s = ctx;

	return s->io->read(s->ctx, buf, count);
}

static ssize_t
count_write(void *ctx, const void *buf, size_t count)
{
	struct count_io *s = ctx;

	s->writes++;
	return s->io->write(s->ctx, buf, count);
}

static const struct pfdk_iommufd_io count_ops = { count_read, count_write, NULL };

/*
 * Ten groups received, and groups 2 and 6 answered behind the driver's
 * back, so that the kernel refuses the driver's own answer to each.
 */
static void
ten_with_two_answered(uint16_t id, struct pfdk_fault **f)
{
	struct pfdk_iommu_hwpt_page_response other = { .code = PFDK_IOMMUFD_PAGE_RESP_SUCCESS };
	unsigned int i;

	for (i = 0; i < 10; i++)
		inject(id, 1, 1, i, 0x1000 * (i + 1), 0);
	recv_n(id, f, 10, 16);
	for (i = 2; i < 10; i += 4) {
		other.cookie = f[i]->cookie;
		assert_int_equal(pfdk_iommufd_emu_write(emu(id), &other, sizeof(other)), 8);
	}
}

static void
test_partial_write(void **state)
{
	struct pfdk_iommu_hwpt_page_response other;
	struct count_io cio;
	struct pfdk_fault *f[16];
	uint16_t id = dev_up("");
	unsigned int i;

	(void)state;
	/* Someone else answers one group first: our batch is cut there. */
	for (i = 0; i < 4; i++)
		inject(id, 1, 1, i, 0x1000 * (i + 1), 0);
	recv_n(id, f, 4, 4);
	other.cookie = f[1]->cookie;
	other.code = PFDK_IOMMUFD_PAGE_RESP_SUCCESS;
	assert_int_equal(pfdk_iommufd_emu_write(emu(id), &other, sizeof(other)), 8);
	respond(id, f, 4);
	assert_int_equal(xstats(id).rejected, 1);
	assert_int_equal(echeck(id).answered, 4);
	assert_int_equal(echeck(id).duplicates, 1); /* the refused entry, once */
	assert_int_equal(stats(id).groups, 4);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_close(id), 0);

	/*
	 * Two refused in one batch of 10: write() stops at each, the driver
	 * skips exactly that entry (never writes it again) and goes on: three
	 * writes, every other group answered once.
	 */
	id = dev_up("");
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_iommufd_io_get(id, &cio.io, &cio.ctx), 0);
	cio.writes = 0;
	assert_int_equal(pfdk_iommufd_io_set(id, &count_ops, &cio), 0);
	assert_int_equal(pfdk_fault_start(id), 0);
	ten_with_two_answered(id, f);
	respond(id, f, 10);
	assert_int_equal(cio.writes, 3);
	assert_int_equal(xstats(id).rejected, 2);
	assert_int_equal(echeck(id).duplicates, 2);
	assert_int_equal(echeck(id).answered, 10);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* Stand in for an engine's WRITE: the bytes the driver hands out, on its fd. */
static int32_t
engine_write(uint16_t id, int fd, int32_t expect)
{
	const void *buf = NULL;
	int32_t n = pfdk_fault_write_take(id, 0, &buf);
	ssize_t w;

	assert_int_equal(n, expect);
	if (n <= 0)
		return n;
	/* One write in flight: nothing more until its result is in. */
	assert_int_equal(pfdk_fault_write_take(id, 0, &buf), 0);
	w = write(fd, buf, (size_t)n);
	pfdk_fault_write_done(id, 0, w < 0 ? -errno : (int32_t)w);
	return n;
}

/*
 * Writes handed to an engine: respond writes nothing itself; the engine's
 * write is cut at each refused entry as write(2) is, the refused entry is
 * skipped, the rest goes with the next take, in order, each once.
 */
static void
test_partial_write_handoff(void **state)
{
	struct pfdk_fault_write_info wi;
	struct pfdk_fault *f[16];
	const void *buf;
	uint16_t id = dev_up("");
	unsigned int i;

	(void)state;
	assert_int_equal(pfdk_fault_queue_write_handoff(id, 0, true, &wi), 0);
	assert_int_equal(wi.entry_size, 8);
	ten_with_two_answered(id, f);
	respond(id, f, 10);
	assert_int_equal(xstats(id).writes, 0); /* queued for the engine */
	assert_int_equal(echeck(id).answered, 2);
	engine_write(id, wi.fd, 10 * 8);  /* cut at entry 2: 0, 1 taken, 2 skipped */
	assert_int_equal(xstats(id).rejected, 1);
	engine_write(id, wi.fd, 7 * 8);   /* 3..9, cut at 6 */
	engine_write(id, wi.fd, 3 * 8);   /* 7..9 */
	engine_write(id, wi.fd, 0);       /* nothing left */
	assert_int_equal(xstats(id).rejected, 2);
	assert_int_equal(xstats(id).ring_writes, 3);
	assert_int_equal(xstats(id).writes, 0);
	assert_int_equal(echeck(id).duplicates, 2); /* each refused entry once */
	assert_int_equal(echeck(id).answered, 10);
	assert_int_equal(stats(id).outstanding, 0);
	/* Taken back with a write in flight: refused, nothing is resent. */
	inject(id, 1, 1, 1, 0x1000, 0);
	recv_n(id, f, 1, 16);
	respond(id, f, 1);
	assert_true(pfdk_fault_write_take(id, 0, &buf) == 8);
	assert_int_equal(pfdk_fault_queue_write_handoff(id, 0, false, NULL), -EBUSY);
	assert_int_equal(write(wi.fd, buf, 8), 8);
	pfdk_fault_write_done(id, 0, 8);
	assert_int_equal(pfdk_fault_queue_write_handoff(id, 0, false, NULL), 0);
	assert_int_equal(pfdk_fault_write_take(id, 0, &buf), -ENOTSUP);
	assert_int_equal(echeck(id).answered, 11);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_close(id), 0);

	/* An emulator with no fd for engines: the driver keeps its writes. */
	id = dev_up("ring_write=0");
	assert_int_equal(pfdk_fault_queue_write_handoff(id, 0, true, &wi), -ENOTSUP);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_close(id), 0);

	/*
	 * An fd that refuses the engine's writes (EBADF, where write(2) takes
	 * them): the driver writes that batch itself and takes the queue back.
	 */
	id = dev_up("ring_write=2");
	assert_int_equal(pfdk_fault_queue_write_handoff(id, 0, true, &wi), 0);
	for (i = 0; i < 3; i++)
		inject(id, 1, 1, i, 0x1000 * (i + 1), 0);
	recv_n(id, f, 3, 16);
	respond(id, f, 3);
	assert_int_equal(echeck(id).answered, 0);
	engine_write(id, wi.fd, 3 * 8);
	assert_int_equal(xstats(id).ring_fallbacks, 1);
	assert_int_equal(xstats(id).writes, 1);
	assert_int_equal(echeck(id).answered, 3);
	assert_int_equal(pfdk_fault_write_take(id, 0, &buf), -ENOTSUP);
	inject(id, 1, 1, 4, 0x5000, 0);
	recv_n(id, f, 1, 16);
	respond(id, f, 1); /* written by the driver again */
	assert_int_equal(echeck(id).answered, 4);
	assert_int_equal(echeck(id).duplicates + echeck(id).unknown, 0);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* Stop answers INVALID every group read: handed out, half back, or carried. */
static void
test_stop_outstanding(void **state)
{
	uint16_t id = dev_up("rbuf=8"); /* reads of 8 records: D does not fit */
	struct pfdk_fault *f[16];
	struct pfdk_iommufd_emu_check c;

	(void)state;
	inject(id, 4, 1, 1, 0x10000, 0);  /* half its records come back */
	inject(id, 1, 2, 2, 0x20000, 0);  /* held by the application */
	inject(id, 3, 3, 3, 0x30000, 0);  /* read, two records carried */
	inject(id, 2, 3, 4, 0x40000, 0);  /* never read */
	assert_int_equal(pfdk_fault_recv_burst(id, 0, f, 6), 6);
	respond(id, f, 2);
	assert_int_equal(pfdk_fault_stop(id), 0);
	c = echeck(id);
	assert_int_equal(c.answered_invalid, 3);
	assert_int_equal(c.answered, 3);
	assert_int_equal(stats(id).aborted, 3);
	assert_int_equal(c.pending, 1);
	/* The application's descriptors go back to the pool by hand after stop. */
	rte_mempool_put_bulk(pool, (void **)&f[2], 4);
	c = echeck(id);
	assert_int_equal(c.outstanding, 0);
	assert_int_equal(c.duplicates + c.unknown, 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* A kernel gone wrong: reads cut short or replayed. */
enum bad_mode { CUT_RECORD, REPLAY, CUT_GROUP };

struct bad_io {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	enum bad_mode mode;
	struct pfdk_iommu_hwpt_pgfault saved;
	int reads;
};

static ssize_t
bad_read(void *ctx, void *buf, size_t count)
{
	struct bad_io *b = ctx;
	struct pfdk_iommu_hwpt_pgfault *r = buf;
	ssize_t n;

	if (b->mode == REPLAY && b->reads == 1 && count >= REC) {
		b->reads++;
		r[0] = b->saved; /* a live cookie again */
		return REC;
	}
	n = b->io->read(b->ctx, buf, count);
	if (n <= 0)
		return n;
	b->reads++;
	switch (b->mode) {
	case CUT_RECORD:
		return n - 60; /* a record and a half */
	case REPLAY:
		b->saved = r[0];
		return n;
	case CUT_GROUP:
		/* Drop the first group's LAST_PAGE record: the next cookie cuts it. */
		memmove(&r[1], &r[2], (size_t)n - 2 * REC);
		return n - (ssize_t)REC;
	}
	return n;
}

static ssize_t
bad_write(void *ctx, const void *buf, size_t count)
{
	struct bad_io *b = ctx;

	return b->io->write(b->ctx, buf, count);
}

static void
malformed_case(enum bad_mode mode, unsigned int answered_by_us,
	       unsigned int aborted, unsigned int answered, unsigned int lost)
{
	struct bad_io b = { .mode = mode };
	const struct pfdk_iommufd_io ops = { bad_read, bad_write, NULL };
	struct pfdk_fault *f[16];
	struct pfdk_iommufd_emu_check c;
	uint16_t id = dev_up("");
	unsigned int n = 0, loops = 0;

	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_iommufd_io_get(id, &b.io, &b.ctx), 0);
	assert_int_equal(pfdk_iommufd_io_set(id, &ops, &b), 0);
	assert_int_equal(pfdk_fault_start(id), 0);
	inject(id, 2, 1, 1, 0x10000, 0);
	inject(id, 1, 1, 2, 0x20000, 0);
	while (loops++ < 10 && n < 16)
		n += pfdk_fault_recv_burst(id, 0, f + n, (uint16_t)(16 - n));
	respond(id, f, n);
	assert_true(xstats(id).malformed >= 1);
	assert_int_equal(echeck(id).answered, answered_by_us);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(stats(id).aborted, aborted);
	c = echeck(id);
	assert_int_equal(c.answered, answered);
	/* A record cut before its cookie cannot be answered by anyone. */
	assert_int_equal(c.outstanding, lost);
	assert_int_equal(c.duplicates + c.unknown + c.bad_code, 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

static void
test_malformed(void **state)
{
	(void)state;
	/*
	 * 1.5 records: the first group stays open (answered INVALID at stop);
	 * the cut record's group, its cookie lost with it, cannot be answered.
	 */
	malformed_case(CUT_RECORD, 0, 1, 1, 1);
	/* Read 1 gave both groups; read 2 replays a live cookie: dropped. */
	malformed_case(REPLAY, 2, 0, 2, 0);
	/* The first group lost its LAST_PAGE: closed when the next cookie starts. */
	malformed_case(CUT_GROUP, 2, 0, 2, 0);
}

/*
 * Linux 6.12 can hand out cookie 0 (after a refused {cookie 0} write while
 * a group is outstanding, its xa_erase frees the reserved index): a group
 * with cookie 0 is served like any other. The wrapper plays that kernel:
 * the first group read gets cookie 0, and a response to 0 goes to the
 * emulator as the group's own cookie.
 */
struct zero_io {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	uint32_t renamed; /* the emulator's cookie behind 0, once renamed */
	int done;
};

static ssize_t
zero_read(void *ctx, void *buf, size_t count)
{
	struct zero_io *z = ctx;
	struct pfdk_iommu_hwpt_pgfault *r = buf;
	ssize_t n = z->io->read(z->ctx, buf, count), i;

	if (n <= 0 || z->done)
		return n;
	z->done = 1;
	z->renamed = r[0].cookie;
	for (i = 0; i < n / (ssize_t)REC && r[i].cookie == z->renamed; i++)
		r[i].cookie = 0;
	return n;
}

static ssize_t
zero_write(void *ctx, const void *buf, size_t count)
{
	struct zero_io *z = ctx;
	struct pfdk_iommu_hwpt_page_response resp[64];
	size_t i;

	assert_true(count <= sizeof(resp));
	memcpy(resp, buf, count);
	for (i = 0; i < count / sizeof(resp[0]); i++)
		if (resp[i].cookie == 0)
			resp[i].cookie = z->renamed;
	return z->io->write(z->ctx, resp, count);
}

static void
test_cookie_zero(void **state)
{
	struct zero_io z = { 0 };
	const struct pfdk_iommufd_io ops = { zero_read, zero_write, NULL };
	struct pfdk_fault *f[8];
	uint16_t id = dev_up("");
	unsigned int i;

	(void)state;
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_iommufd_io_get(id, &z.io, &z.ctx), 0);
	assert_int_equal(pfdk_iommufd_io_set(id, &ops, &z), 0);
	assert_int_equal(pfdk_fault_start(id), 0);
	inject(id, 3, 1, 1, 0x10000, 0);
	inject(id, 1, 1, 2, 0x20000, 0);
	recv_n(id, f, 4, 8);
	for (i = 0; i < 3; i++)
		assert_int_equal(f[i]->cookie, 0);
	assert_int_not_equal(f[3]->cookie, 0);
	respond(id, f, 4);
	assert_int_equal(xstats(id).malformed, 0);
	assert_int_equal(stats(id).groups, 2);
	finish(id, 2);
}

/*
 * A read finds the queue empty, then a fault lands before the driver's
 * readiness poll: the poll says readable, which is not "the first group
 * did not fit". The driver must read again at the same size, not grow
 * (and, with a small outstanding=, not log that a group never fits).
 */
struct race_io {
	const struct pfdk_iommufd_io *io;
	void *ctx;
	uint16_t id;
	int fired;
};

static ssize_t
race_read(void *ctx, void *buf, size_t count)
{
	struct race_io *z = ctx;
	ssize_t n = z->io->read(z->ctx, buf, count);

	if (n == 0 && !z->fired) {
		z->fired = 1;
		inject(z->id, 1, 1, 7, 0x30000, 0); /* lands after the empty read */
	}
	return n;
}

static ssize_t
race_write(void *ctx, const void *buf, size_t count)
{
	struct race_io *z = ctx;

	return z->io->write(z->ctx, buf, count);
}

static int
race_readiness(void *ctx)
{
	struct race_io *z = ctx;

	return z->io->readiness_fd(z->ctx);
}

static void
race_case(const char *args)
{
	struct race_io z = { 0 };
	const struct pfdk_iommufd_io ops = { race_read, race_write, race_readiness };
	struct pfdk_fault *f[8];
	FILE *log;
	char *logbuf = NULL;
	size_t loglen = 0;

	z.id = dev_up(args);
	assert_int_equal(pfdk_fault_stop(z.id), 0);
	assert_int_equal(pfdk_iommufd_io_get(z.id, &z.io, &z.ctx), 0);
	assert_int_equal(pfdk_iommufd_io_set(z.id, &ops, &z), 0);
	assert_int_equal(pfdk_fault_start(z.id), 0);
	log = open_memstream(&logbuf, &loglen);
	assert_non_null(log);
	rte_openlog_stream(log);
	recv_n(z.id, f, 1, 8);
	rte_openlog_stream(NULL);
	fclose(log);
	assert_int_equal(z.fired, 1);
	assert_int_equal(f[0]->grpid, 7);
	respond(z.id, f, 1);
	if (strstr(logbuf, "record(s)") != NULL)
		fail_msg("a fault that landed after an empty read was taken for a group that does not fit: %s",
			 logbuf);
	free(logbuf);
	assert_int_equal(xstats(z.id).grows, 0);
	finish(z.id, 1);
}

static void
test_empty_read_race(void **state)
{
	(void)state;
	race_case("");               /* default outstanding=4096: no grow */
	race_case("outstanding=16"); /* credit below rbuf=: no "raise outstanding=" */
	race_case("outstanding=4");
}

/* The default policy: SUCCESS inside range=, INVALID outside; fill may defer. */
static int
fill_defer_third(void *arg, const struct pfdk_fault *f)
{
	unsigned int *calls = arg;

	(void)f;
	return ++*calls == 3 ? -EAGAIN : 0;
}

static void
test_policy(void **state)
{
	uint16_t id = dev_up("range=0x10000:0x12000,range=0x100000:0x101000");
	struct pfdk_iommufd_info info;
	unsigned int calls = 0;
	struct pfdk_iommufd_policy pol = { fill_defer_third, &calls };
	struct pfdk_fault *f[8];

	(void)state;
	assert_int_equal(pfdk_iommufd_info_get(id, &info), 0);
	assert_int_equal(info.nb_ranges, 2);
	assert_int_equal(info.emulated, 1);
	inject(id, 3, 1, 1, 0x10000, 0);   /* 0x10000, 0x11000 in; 0x12000 out */
	inject(id, 2, 1, 2, 0x100000, 0);  /* 0x100000 in, 0x101000 out */
	recv_n(id, f, 5, 8);
	assert_int_equal(pfdk_iommufd_resolve(NULL, f, 5), 5);
	assert_int_equal(f[0]->status, PFDK_FAULT_RESP_SUCCESS);
	assert_int_equal(f[1]->status, PFDK_FAULT_RESP_SUCCESS);
	assert_int_equal(f[2]->status, PFDK_FAULT_RESP_INVALID);
	assert_int_equal(f[3]->status, PFDK_FAULT_RESP_SUCCESS);
	assert_int_equal(f[4]->status, PFDK_FAULT_RESP_INVALID);
	/* With a fill hook that says "not now" on its third call. */
	assert_int_equal(pfdk_iommufd_resolve(&pol, f, 5), 3);
	assert_int_equal(pfdk_iommufd_resolve(&pol, f + 3, 2), 2);
	respond(id, f, 5);
	assert_int_equal(echeck(id).answered_invalid, 2);
	/* Not an iommufd address space at all: INVALID. */
	assert_int_equal(pfdk_iommufd_in_range(PFDK_FAULT_MAX_DEVS - 1, 0x10000, 0), 0);
	finish(id, 2);
}

/* A pool that runs dry leaves groups in the FD or the carry: nothing lost. */
static void
test_pool_short(void **state)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct rte_mempool *small = pfdk_fault_pool_create("iommufd_small", 7, 0, SOCKET_ID_ANY);
	struct pfdk_fault_queue_conf qc = { .pool = small, .socket_id = SOCKET_ID_ANY };
	struct pfdk_fault *f[7], *keep[2];
	unsigned int nkeep = 0;
	uint64_t records = 0;
	unsigned int loops = 0;
	int id = pfdk_fault_dev_create("iommufd90,emu=1,groups=5,total=3000,rbuf=16");

	(void)state;
	assert_non_null(small);
	assert_true(id >= 0);
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	while (records < 3000 && loops++ < 100000) {
		uint16_t n = pfdk_fault_recv_burst((uint16_t)id, 0, f, 7), i;

		records += n;
		for (i = 0; i < n; i++)
			f[i]->status = (f[i]->addr >> 12) & 1;
		/* Two are held for a round: the next recv finds the pool short. */
		if (nkeep != 0)
			respond((uint16_t)id, keep, nkeep);
		nkeep = 0;
		if (n > 2) {
			keep[0] = f[0];
			keep[1] = f[1];
			nkeep = 2;
		}
		respond((uint16_t)id, f + nkeep, n - nkeep);
	}
	if (nkeep != 0)
		respond((uint16_t)id, keep, nkeep);
	assert_true(stats((uint16_t)id).nodesc > 0);
	assert_int_equal(records, 3000);
	assert_true(echeck((uint16_t)id).answered == echeck((uint16_t)id).groups_queued);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	assert_int_equal(rte_mempool_avail_count(small), 7);
	rte_mempool_free(small);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selftest_flow),
		cmocka_unit_test(test_multi_record_groups),
		cmocka_unit_test(test_interleaved_pasids),
		cmocka_unit_test(test_2048_outstanding),
		cmocka_unit_test(test_cookie_reuse),
		cmocka_unit_test(test_flag2),
		cmocka_unit_test(test_too_small_first_read),
		cmocka_unit_test(test_too_small_first_read_mainline),
		cmocka_unit_test(test_partial_write),
		cmocka_unit_test(test_partial_write_handoff),
		cmocka_unit_test(test_stop_outstanding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cookie_zero),
		cmocka_unit_test(test_empty_read_race),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_pool_short),
	};
	int ret;

	(void)argc;
	test_watchdog("test_iommufd_conf", 60);
	test_eal_init(argv[0], "0@0");
	pool = pfdk_fault_pool_create("iommufd_conf", POOL_N, 0, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ret = cmocka_run_group_tests_name("iommufd_conf", tests, NULL, NULL);
	rte_mempool_free(pool);
	pfdk_cleanup();
	return ret;
}
