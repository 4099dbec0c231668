/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated iommufd fault FD on its own, at the read()/write() boundary:
 * each rule of DESIGN.md 3.1 that the driver relies on, checked directly,
 * so a conformance failure elsewhere can be told from an emulator bug.
 * Needs no EAL.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pfdk_iommufd.h"
#include "test_common.h"

#define REC sizeof(struct pfdk_iommu_hwpt_pgfault)
#define RESP sizeof(struct pfdk_iommu_hwpt_page_response)
#define LAST PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE

static struct pfdk_iommufd_emu *
emu_new(const struct pfdk_iommufd_emu_conf *c)
{
	struct pfdk_iommufd_emu *e = pfdk_iommufd_emu_create(c);

	assert_non_null(e);
	return e;
}

/* Queue one group of @n records on @pasid. */
static void
inject(struct pfdk_iommufd_emu *e, unsigned int n, uint32_t pasid)
{
	struct pfdk_iommu_hwpt_pgfault r[64];
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].flags = PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID | (i == n - 1 ? LAST : 0);
		r[i].pasid = pasid;
		r[i].grpid = 5;
		r[i].perm = PFDK_IOMMU_PGFAULT_PERM_READ;
		r[i].addr = 0x10000 + i * 4096;
	}
	assert_int_equal(pfdk_iommufd_emu_inject(e, r, n), 1);
}

static ssize_t
answer(struct pfdk_iommufd_emu *e, uint32_t cookie, uint32_t code)
{
	struct pfdk_iommu_hwpt_page_response r = { cookie, code };

	return pfdk_iommufd_emu_write(e, &r, sizeof(r));
}

static int
readable(struct pfdk_iommufd_emu *e)
{
	struct pollfd p = { .fd = pfdk_iommufd_emu_fd(e), .events = POLLIN };

	assert_true(poll(&p, 1, 0) >= 0);
	return (p.revents & POLLIN) != 0;
}

static void
test_read_rules(void **state)
{
	struct pfdk_iommufd_emu *e = emu_new(NULL);
	struct pfdk_iommu_hwpt_pgfault buf[8];
	struct pfdk_iommufd_emu_check ck;

	(void)state;
	/* Empty: 0, not -EAGAIN. */
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, sizeof(buf)), 0);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 0), 0);
	/* Count not a multiple of 40, empty or not: -ESPIPE, as fault.c says. */
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 39), -ESPIPE);
	inject(e, 1, 1);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, REC + 1), -ESPIPE);
	/* Groups of 3 and 2; room for 4: the first group only. */
	inject(e, 3, 1);
	inject(e, 2, 2);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 2 * REC), REC); /* the single */
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 4 * REC), 3 * REC);
	assert_int_equal(buf[0].cookie, buf[2].cookie);
	assert_true(buf[2].flags & LAST);
	assert_false(buf[0].flags & LAST);
	/* The first group does not fit: -EINVAL (newer kernels), still queued. */
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, REC), -EINVAL);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 2 * REC), 2 * REC);
	assert_int_equal(buf[0].pasid, 2);
	pfdk_iommufd_emu_check_get(e, &ck);
	assert_int_equal(ck.bad_count, 2);
	assert_int_equal(ck.too_small, 1);
	assert_int_equal(ck.groups_read, 3);
	assert_int_equal(ck.outstanding, 3);
	assert_int_equal(ck.pending, 0);
	/* Injecting records that do not end a group is refused. */
	buf[0].flags = 0;
	assert_int_equal(pfdk_iommufd_emu_inject(e, buf, 1), -EINVAL);
	pfdk_iommufd_emu_free(e);

	/* nofit_empty (mainline): the group that does not fit reads as 0
	 * and stays queued; the readiness fd stays readable. */
	{
		struct pfdk_iommufd_emu_conf c = { .nofit_empty = 1 };
		struct pollfd pfd = { .events = POLLIN };

		e = emu_new(&c);
		inject(e, 3, 1);
		assert_int_equal(pfdk_iommufd_emu_read(e, buf, 2 * REC), 0);
		pfd.fd = pfdk_iommufd_emu_io.readiness_fd(e);
		assert_int_equal(poll(&pfd, 1, 0), 1);
		assert_int_equal(pfdk_iommufd_emu_read(e, buf, 4 * REC), 3 * REC);
		pfdk_iommufd_emu_check_get(e, &ck);
		assert_int_equal(ck.too_small, 1);
		assert_int_equal(poll(&pfd, 1, 0), 0);
		pfdk_iommufd_emu_free(e);
	}
}

static void
test_cookies(void **state)
{
	struct pfdk_iommufd_emu *e = emu_new(NULL);
	struct pfdk_iommu_hwpt_pgfault buf[8];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++)
		inject(e, 1, 1);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, sizeof(buf)), 3 * REC);
	for (i = 0; i < 3; i++)
		assert_int_equal(buf[i].cookie, i + 1); /* from 1, lowest free */
	assert_int_equal(answer(e, 2, PFDK_IOMMUFD_PAGE_RESP_SUCCESS), RESP);
	inject(e, 1, 1);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, sizeof(buf)), REC);
	assert_int_equal(buf[0].cookie, 2); /* reused at once */
	assert_int_equal(answer(e, 1, 0), RESP);
	assert_int_equal(answer(e, 3, 1), RESP);
	inject(e, 1, 1);
	inject(e, 1, 1);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, sizeof(buf)), 2 * REC);
	assert_int_equal(buf[0].cookie, 1);
	assert_int_equal(buf[1].cookie, 3);
	pfdk_iommufd_emu_free(e);
}

static void
test_write_rules(void **state)
{
	struct pfdk_iommufd_emu *e = emu_new(NULL);
	struct pfdk_iommu_hwpt_pgfault buf[8];
	struct pfdk_iommu_hwpt_page_response w[4];
	struct pfdk_iommufd_emu_check ck;
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		inject(e, 1, 1);
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, sizeof(buf)), 4 * REC);
	assert_int_equal(pfdk_iommufd_emu_write(e, w, 7), -ESPIPE);
	assert_int_equal(pfdk_iommufd_emu_write(e, w, 0), 0);
	/* A bad code first: nothing taken. */
	assert_int_equal(answer(e, 1, 2), -EINVAL);
	/* Unknown cookie in the middle: a partial write of the first entry. */
	w[0] = (struct pfdk_iommu_hwpt_page_response){ 1, 0 };
	w[1] = (struct pfdk_iommu_hwpt_page_response){ 99, 0 };
	w[2] = (struct pfdk_iommu_hwpt_page_response){ 2, 0 };
	assert_int_equal(pfdk_iommufd_emu_write(e, w, 3 * RESP), RESP);
	/* Answered already: refused, counted as a duplicate. */
	assert_int_equal(answer(e, 1, 0), -EINVAL);
	/* The rest, in order. */
	w[0] = (struct pfdk_iommu_hwpt_page_response){ 2, 1 };
	w[1] = (struct pfdk_iommu_hwpt_page_response){ 3, 0 };
	w[2] = (struct pfdk_iommu_hwpt_page_response){ 4, 1 };
	assert_int_equal(pfdk_iommufd_emu_write(e, w, 3 * RESP), 3 * RESP);
	pfdk_iommufd_emu_check_get(e, &ck);
	assert_int_equal(ck.answered, 4);
	assert_int_equal(ck.answered_success, 2);
	assert_int_equal(ck.answered_invalid, 2);
	assert_int_equal(ck.bad_code, 1);
	assert_int_equal(ck.unknown, 1);
	assert_int_equal(ck.duplicates, 1);
	assert_int_equal(ck.bad_count, 1);
	assert_int_equal(ck.outstanding, 0);
	pfdk_iommufd_emu_free(e);
}

static void
test_readiness(void **state)
{
	struct pfdk_iommufd_emu *e = emu_new(NULL);
	struct pfdk_iommu_hwpt_pgfault buf[8];

	(void)state;
	assert_false(readable(e));
	inject(e, 2, 1);
	inject(e, 1, 1);
	assert_true(readable(e));
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 2 * REC), 2 * REC);
	assert_true(readable(e)); /* one group still waits */
	assert_int_equal(pfdk_iommufd_emu_read(e, buf, 2 * REC), REC);
	assert_false(readable(e));
	pfdk_iommufd_emu_free(e);
}

/* Generated groups: shape, PASIDs, flag bit 2, total, credit. */
static void
test_generator(void **state)
{
	struct pfdk_iommufd_emu_conf c = { .max_group_records = 5, .pasids = 3,
					    .total = 1000, .flag2 = 1, .depth = 16 };
	struct pfdk_iommufd_emu *e = emu_new(&c);
	struct pfdk_iommu_hwpt_pgfault buf[64];
	struct pfdk_iommu_hwpt_page_response w[64];
	struct pfdk_iommufd_emu_check ck;
	uint64_t records = 0;
	int guard = 0;

	(void)state;
	assert_true(readable(e));
	for (;;) {
		ssize_t n = pfdk_iommufd_emu_read(e, buf, sizeof(buf));
		unsigned int i, nw = 0, start = 0;

		assert_true(n >= 0 && guard++ < 10000);
		if (n == 0)
			break;
		for (i = 0; i < n / REC; i++) {
			assert_true(buf[i].flags & (1u << 2));
			assert_true(buf[i].flags & PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID);
			assert_in_range(buf[i].pasid, 1, 3);
			assert_true(buf[i].perm & PFDK_IOMMU_PGFAULT_PERM_READ);
			assert_int_equal(buf[i].cookie, buf[start].cookie);
			assert_int_equal(buf[i].grpid, buf[start].grpid);
			assert_int_equal(buf[i].length, 0);
			assert_int_equal(buf[i].__reserved, 0);
			assert_true(i - start < 5);
			if (buf[i].flags & LAST) {
				w[nw++] = (struct pfdk_iommu_hwpt_page_response){ buf[i].cookie, 0 };
				start = i + 1;
			}
		}
		assert_int_equal(start, n / REC); /* whole groups only */
		records += n / REC;
		assert_int_equal(pfdk_iommufd_emu_write(e, w, nw * RESP), (ssize_t)(nw * RESP));
	}
	pfdk_iommufd_emu_check_get(e, &ck);
	assert_int_equal(records, 1000);
	assert_true(ck.exhausted);
	assert_int_equal(ck.answered, ck.groups_queued);
	assert_int_equal(ck.outstanding, 0);
	assert_true(ck.max_cookie <= 64); /* lowest free: reused, never grows */
	assert_false(readable(e));
	pfdk_iommufd_emu_free(e);
}

#define THREAD_GROUPS 20000

static void *
producer(void *arg)
{
	struct pfdk_iommufd_emu *e = arg;
	unsigned int done = 0;

	while (done < THREAD_GROUPS)
		done += pfdk_iommufd_emu_generate(e, RTE_MIN(7u, THREAD_GROUPS - done));
	return NULL;
}

/* One thread injects while this one reads and answers. */
static void
test_thread_inject(void **state)
{
	struct pfdk_iommufd_emu_conf c = { .max_group_records = 4, .pasids = 8,
					    .pending_records = 512 };
	struct pfdk_iommufd_emu *e = emu_new(&c);
	struct pfdk_iommu_hwpt_pgfault buf[32];
	struct pfdk_iommu_hwpt_page_response w[32];
	struct pfdk_iommufd_emu_check ck;
	pthread_t t;
	uint64_t groups = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, producer, e), 0);
	while (groups < THREAD_GROUPS) {
		ssize_t n = pfdk_iommufd_emu_read(e, buf, sizeof(buf));
		unsigned int i, nw = 0;

		assert_true(n >= 0);
		for (i = 0; i < n / REC; i++)
			if (buf[i].flags & LAST)
				w[nw++] = (struct pfdk_iommu_hwpt_page_response){ buf[i].cookie, 1 };
		if (nw)
			assert_int_equal(pfdk_iommufd_emu_write(e, w, nw * RESP), (ssize_t)(nw * RESP));
		groups += nw;
	}
	pthread_join(t, NULL);
	pfdk_iommufd_emu_check_get(e, &ck);
	assert_int_equal(ck.groups_queued, THREAD_GROUPS);
	assert_int_equal(ck.answered_invalid, THREAD_GROUPS);
	assert_int_equal(ck.duplicates + ck.unknown + ck.bad_code, 0);
	pfdk_iommufd_emu_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_rules),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_write_rules),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_generator),
		cmocka_unit_test(test_thread_inject),
	};

	test_watchdog("test_iommufd_emu", 60);
	return cmocka_run_group_tests_name("iommufd_emu", tests, NULL, NULL);
}
