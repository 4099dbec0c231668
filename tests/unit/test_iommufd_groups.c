/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page-request groups of more than 64 records, against the emulated fault
 * FD: a group is answered exactly once, only when every one of its records
 * came back, and a record passed back twice (a replay) at any index never
 * counts twice, so it cannot answer the group before its LAST_PAGE record
 * did. More large groups than the queue has record maps for wait in the
 * FD (backpressure) and are all answered.
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

#include <cmocka.h>

#include <rte_mempool.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "test_common.h"

#define POOL_N 8191
#define LAST PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE

static struct rte_mempool *pool;
static struct pfdk_fault *f[POOL_N];
static unsigned int dev_seq;

static uint16_t
dev_up(void)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	char devargs[64];
	int id;

	snprintf(devargs, sizeof(devargs), "iommufd%u,emu=1", dev_seq++);
	id = pfdk_fault_dev_create(devargs);
	assert_true(id >= 0);
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	return (uint16_t)id;
}

static struct pfdk_iommufd_emu_check
echeck(uint16_t id)
{
	struct pfdk_iommufd_emu_check c;

	pfdk_iommufd_emu_check_get(pfdk_iommufd_emu_get(id), &c);
	return c;
}

/* One group of @n records, grpid @grpid. */
static void
inject(uint16_t id, unsigned int n, uint32_t grpid)
{
	struct pfdk_iommu_hwpt_pgfault *r = calloc(n, sizeof(*r));
	unsigned int i;

	assert_non_null(r);
	for (i = 0; i < n; i++) {
		r[i].flags = i == n - 1 ? LAST : 0;
		r[i].dev_id = 1;
		r[i].grpid = grpid;
		r[i].perm = PFDK_IOMMU_PGFAULT_PERM_READ;
		r[i].addr = 0x100000000ull + ((uint64_t)grpid << 24) + (uint64_t)i * 4096;
	}
	assert_int_equal(pfdk_iommufd_emu_inject(pfdk_iommufd_emu_get(id), r, n), 1);
	free(r);
}

static unsigned int
recv_all(uint16_t id, struct pfdk_fault **out, unsigned int want)
{
	unsigned int got = 0, loops = 0;

	while (got < want && loops++ < 100000)
		got += pfdk_fault_recv_burst(id, 0, out + got,
					     (uint16_t)RTE_MIN(32u, want - got));
	return got;
}

static void
respond(uint16_t id, struct pfdk_fault **d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i += 32)
		assert_int_equal(pfdk_fault_respond_burst(id, 0, d + i,
			(uint16_t)RTE_MIN(32u, n - i)), RTE_MIN(32u, n - i));
}

/* A second descriptor for record @src: what a replaying resolver hands back. */
static struct pfdk_fault *
replay_of(const struct pfdk_fault *src)
{
	void *d;

	assert_int_equal(rte_mempool_get(pool, &d), 0);
	memcpy(d, src, sizeof(struct pfdk_fault));
	return d;
}

static void
finish(uint16_t id, uint64_t groups, uint64_t dups)
{
	struct pfdk_iommufd_emu_check c;
	struct pfdk_iommufd_xstats x;
	struct pfdk_fault_stats s;

	assert_int_equal(pfdk_iommufd_xstats_get(id, &x), 0);
	assert_int_equal(x.duplicates, dups);
	assert_int_equal(pfdk_fault_stop(id), 0);
	assert_int_equal(pfdk_fault_stats_get(id, &s), 0);
	assert_int_equal(s.aborted, 0);
	assert_int_equal(s.outstanding, 0);
	c = echeck(id);
	assert_int_equal(c.answered, groups);
	assert_int_equal(c.answered_success, groups);
	assert_int_equal(c.outstanding + c.pending, 0);
	assert_int_equal(c.duplicates + c.unknown + c.bad_code + c.bad_count, 0);
	assert_int_equal(pfdk_fault_close(id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/*
 * One group of @n records; replays of the records at @rep[] are handed
 * back right after their originals; the LAST_PAGE record comes back last.
 */
static void
group_case(unsigned int n, const unsigned int *rep, unsigned int nrep)
{
	uint16_t id = dev_up();
	unsigned int i, r, done = 0;

	inject(id, n, 5);
	assert_int_equal(recv_all(id, f, n), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(f[i]->cookie, f[0]->cookie);
		assert_int_equal(!!(f[i]->flags & PFDK_FAULT_F_LAST_PAGE), i == n - 1);
	}
	for (r = 0; r < nrep; r++) {
		struct pfdk_fault *dup;

		assert_true(rep[r] < n - 1);
		respond(id, f + done, rep[r] + 1 - done);
		done = rep[r] + 1;
		dup = replay_of(f[rep[r]]);
		respond(id, &dup, 1);
		assert_int_equal(echeck(id).answered, 0);
	}
	respond(id, f + done, n - 1 - done);
	/* All but LAST_PAGE, and the replays: not answered yet. */
	assert_int_equal(echeck(id).answered, 0);
	respond(id, &f[n - 1], 1);
	assert_int_equal(echeck(id).answered, 1);
	finish(id, 1, nrep);
}

static void
test_100_replay_70(void **state)
{
	static const unsigned int rep[] = { 70 };

	(void)state;
	group_case(100, rep, 1);
}

static void
test_4000_replays(void **state)
{
	static const unsigned int rep[] = { 0, 63, 64, 1000, 3998 };

	(void)state;
	group_case(4000, rep, RTE_DIM(rep));
}

/* Records passed back out of order, the replay after LAST_PAGE's original. */
static void
test_100_out_of_order(void **state)
{
	uint16_t id = dev_up();
	struct pfdk_fault *dup;
	unsigned int i;

	(void)state;
	inject(id, 100, 9);
	assert_int_equal(recv_all(id, f, 100), 100);
	respond(id, &f[99], 1); /* LAST_PAGE first */
	for (i = 98; i >= 71; i--)
		respond(id, &f[i], 1);
	dup = replay_of(f[80]);
	respond(id, &dup, 1);
	respond(id, f, 70);
	assert_int_equal(echeck(id).answered, 0); /* record 70 still out */
	respond(id, &f[70], 1);
	assert_int_equal(echeck(id).answered, 1);
	finish(id, 1, 1);
}

/*
 * 200 groups of 65 records, all held: more large groups than the queue
 * has record maps for. The reader stops (backpressure) with the rest in
 * the FD; once answered, the rest are read. Exactly once, none lost.
 */
static void
test_many_big_groups(void **state)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct rte_mempool *big = pfdk_fault_pool_create("iommufd_groups_big", 16383, 0,
							 SOCKET_ID_ANY);
	struct pfdk_fault_queue_conf qc = { .pool = big, .socket_id = SOCKET_ID_ANY };
	static struct pfdk_fault *held[16383];
	unsigned int g, got = 0, first = 0, rounds = 0;
	struct pfdk_fault_stats s;
	int id = pfdk_fault_dev_create("iommufd99,emu=1,outstanding=16384");

	(void)state;
	assert_non_null(big);
	assert_true(id >= 0);
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	for (g = 0; g < 200; g++)
		inject((uint16_t)id, 65, g);
	while (got < 200 * 65 && rounds++ < 100) {
		unsigned int n = 0, idle = 0;

		/* Receive until nothing more comes, holding everything. */
		while (idle < 64 && n < RTE_DIM(held)) {
			uint16_t k = pfdk_fault_recv_burst((uint16_t)id, 0, held + n,
				(uint16_t)RTE_MIN(32u, RTE_DIM(held) - n));

			n += k;
			idle = k ? 0 : idle + 1;
		}
		if (first == 0)
			first = n;
		respond((uint16_t)id, held, n);
		got += n;
	}
	assert_int_equal(got, 200 * 65);
	assert_true(first < 200 * 65); /* held back, not dropped */
	assert_int_equal(pfdk_fault_stats_get((uint16_t)id, &s), 0);
	assert_true(s.full > 0);
	print_message("  200 x 65 records: %u out at once at most, %u rounds\n",
		      first, rounds);
	assert_int_equal(pfdk_fault_stop((uint16_t)id), 0);
	assert_int_equal(echeck((uint16_t)id).answered, 200);
	assert_int_equal(echeck((uint16_t)id).duplicates + echeck((uint16_t)id).unknown, 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	assert_int_equal(rte_mempool_avail_count(big), 16383);
	rte_mempool_free(big);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100_replay_70),
		cmocka_unit_test(test_100_out_of_order),
		cmocka_unit_test(test_4000_replays),
		cmocka_unit_test(test_many_big_groups),
	};
	int ret;

	(void)argc;
	test_watchdog("test_iommufd_groups", 60);
	test_eal_init(argv[0], "0@0");
	pool = pfdk_fault_pool_create("iommufd_groups", POOL_N, 0, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ret = cmocka_run_group_tests_name("iommufd_groups", tests, NULL, NULL);
	rte_mempool_free(pool);
	pfdk_cleanup();
	return ret;
}
