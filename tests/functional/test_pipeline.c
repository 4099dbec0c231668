/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every layout pushes a million sim faults (multi-record groups, several
 * devices and queues) through pools and rings sized small enough that
 * backpressure happens, and must answer each group exactly once: zero lost,
 * zero duplicated, nothing aborted by stop.
 *
 * The "manual" cases step the workers from this thread in a fixed order
 * (deterministic); the "threads" cases run the same workers on real lcores.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "pfdk_fault.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "pfdk_sim.h"
#include "test_common.h"

#define FAULTS 1000000ull

struct scenario {
	const char *layout;
	unsigned int pollers;    /* each owns one queue of each device */
	unsigned int resolvers;  /* pipeline only */
	const char *engine;
	unsigned int pool_size;
	unsigned int ring_size;
	unsigned int burst;
	bool threads;            /* launch on lcores instead of stepping */
	uint64_t total;          /* records in all; 0 = endless (stop test) */
	uint64_t rate;           /* sim pacing per queue, faults/s; 0 = unpaced */
};

/* Two sim devices, one queue per poller on each. */
static int
scenario_profile(const struct scenario *sc, struct pfdk_profile *prof)
{
	struct pfdk_profile_check chk = { .ncpus = 64 };
	char ini[8192], err[512];
	size_t len = 0;
	unsigned int i, d, nq = sc->pollers * 2;
	uint64_t per_q = sc->total / nq;

#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = test\nlayout = %s\nburst = %u\nmain_cpu = 0\n",
	    sc->layout, sc->burst);
	/* No cache: small pools must not strand descriptors in lcore caches. */
	ADD("[node.0]\npool_size = %u\npool_cache = 0\nring_size = %u\n",
	    sc->pool_size, sc->ring_size);
	for (d = 0; d < 2; d++)
		ADD("[device.sim%u]\ndevargs = sim%u,groups=%u,outstanding=16,total=%" PRIu64
		    ",seed=%u,rate=%" PRIu64 "\nqueues = %u\n", 40 + d, 40 + d,
		    d ? 8 : 3, per_q, 7 + d, sc->rate, sc->pollers);
	for (i = 0; i < sc->pollers; i++) {
		ADD("[lcore.%u]\nrole = poller\ncpu = %u\nengine = %s\nqueues = sim40:%u, sim41:%u\n",
		    1 + i, 1 + i, sc->engine, i, i);
		/* The SQ thread goes on CPU 0, beside the sleeping main lcore. */
		if (strcmp(sc->engine, "uring") == 0)
			ADD("sqpoll_cpu = 0\n");
	}
	for (i = 0; i < sc->resolvers; i++)
		ADD("[lcore.%u]\nrole = resolver\ncpu = %u\n", 1 + sc->pollers + i,
		    1 + sc->pollers + i);
#undef ADD
	if (pfdk_profile_load_string("test_pipeline", ini, len, prof, &chk, err,
				     sizeof(err)) < 0) {
		print_error("profile: %s\n%s", err, ini);
		return -1;
	}
	return 0;
}

/* Every 16th page INVALID, so both response codes flow. */
static uint16_t
resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	uint64_t *calls = ctx;
	uint16_t i, k = nb;

	__atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
	/* Every 7th call leaves half the burst for later: tests the retry. */
	if (nb > 1 && __atomic_load_n(calls, __ATOMIC_RELAXED) % 7 == 0)
		k = nb / 2;
	for (i = 0; i < k; i++)
		faults[i]->status = ((faults[i]->addr >> 12) & 15) == 15 ?
			PFDK_FAULT_RESP_INVALID : PFDK_FAULT_RESP_SUCCESS;
	return k;
}

static void
sim_totals(struct pfdk_pipeline *p, struct pfdk_sim_check *all,
	   struct pfdk_fault_stats *fs)
{
	struct pfdk_sim_check c;
	struct pfdk_fault_stats s;
	uint16_t i;

	memset(all, 0, sizeof(*all));
	memset(fs, 0, sizeof(*fs));
	for (i = 0; i < 2; i++) {
		uint16_t id = (uint16_t)pfdk_pipeline_dev_id(p, i);

		assert_int_equal(pfdk_sim_check_get(id, &c), 0);
		assert_int_equal(pfdk_fault_stats_get(id, &s), 0);
		all->records_emitted += c.records_emitted;
		all->groups_emitted += c.groups_emitted;
		all->groups_answered += c.groups_answered;
		all->groups_invalid += c.groups_invalid;
		all->duplicates += c.duplicates;
		all->stale += c.stale;
		all->bad_code += c.bad_code;
		all->aborted += c.aborted;
		all->outstanding += c.outstanding;
		all->exhausted += c.exhausted;
		fs->nodesc += s.nodesc;
		fs->full += s.full;
	}
}

static void
run_scenario(const struct scenario *sc)
{
	static struct pfdk_profile prof;
	uint64_t calls = 0;
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = resolve,
		.resolve_ctx = &calls,
		.flags = sc->threads ? 0 : PFDK_PIPELINE_F_MANUAL,
	};
	struct pfdk_sim_check all;
	struct pfdk_fault_stats fs;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	unsigned int nq = sc->pollers * 2;
	uint16_t w;

	assert_int_equal(scenario_profile(sc, &prof), 0);
	p = pfdk_pipeline_create(&pc);
	if (p == NULL)
		fail_msg("pipeline_create: %s", rte_strerror(rte_errno));
	assert_int_equal(pfdk_pipeline_start(p), 0);
	for (;;) {
		if (sc->threads) {
			usleep(1000);
		} else {
			for (w = 0; w < pfdk_pipeline_worker_count(p); w++)
				assert_true(pfdk_pipeline_worker_step(p, w) >= 0);
		}
		sim_totals(p, &all, &fs);
		if (sc->total == 0) {
			/* Endless source: stop with faults in every stage. */
			if (all.records_emitted >= FAULTS / 4)
				break;
		} else if (all.exhausted == nq && all.outstanding == 0) {
			break;
		}
	}
	assert_int_equal(pfdk_pipeline_stop(p), 0);
	sim_totals(p, &all, &fs);
	pfdk_pipeline_stats(p, &ls, NULL);

	print_message("  %-9s %s: %" PRIu64 " records, %" PRIu64 " groups (%" PRIu64
		      " invalid); ring-full %" PRIu64 ", pool-short %" PRIu64
		      ", credit-full %" PRIu64 ", retried %" PRIu64 "\n",
		      sc->layout, sc->threads ? "threads" : "manual ",
		      all.records_emitted, all.groups_answered, all.groups_invalid,
		      ls.backpressure, fs.nodesc, fs.full, ls.retried);
	if (sc->total != 0)
		assert_int_equal(all.records_emitted, sc->total / nq * nq);
	else
		assert_true(all.records_emitted >= FAULTS / 4);
	/* Zero lost: every group begun was answered by the pipeline. */
	assert_int_equal(all.groups_answered, all.groups_emitted);
	assert_int_equal(all.outstanding, 0);
	assert_int_equal(all.aborted, 0);
	/* Zero duplicated, no bad codes. */
	assert_int_equal(all.duplicates, 0);
	assert_int_equal(all.stale, 0);
	assert_int_equal(all.bad_code, 0);
	assert_true(all.groups_invalid > 0);
	assert_int_equal(ls.received, all.records_emitted);
	assert_int_equal(ls.responded, all.records_emitted);
	assert_int_equal(ls.resolved, all.records_emitted);
	assert_int_equal(ls.inflight, 0);
	if (sc->rate != 0)
		goto out; /* a paced source never fills anything */
	assert_true(ls.retried > 0);
	/* The sizes are chosen so that pressure really happens. */
	assert_true(fs.nodesc > 0);
	if (strcmp(sc->layout, "pipeline") == 0 && !sc->threads)
		assert_true(ls.backpressure > 0);
out:
	pfdk_pipeline_destroy(p);
}

/*
 * Pools of 40 descriptors for 4 queues of bursts of 32 run dry; rings of
 * 16 fill up.
 */
static void
manual_rtc(void **state)
{
	const struct scenario sc = { "rtc", 2, 0, "busy", 40, 16, 32, false, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
manual_pipeline(void **state)
{
	const struct scenario sc = { "pipeline", 2, 2, "busy", 40, 16, 32, false, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
manual_colocated(void **state)
{
	const struct scenario sc = { "colocated", 2, 0, "epoll", 40, 16, 32, false, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
threads_rtc(void **state)
{
	const struct scenario sc = { "rtc", 1, 0, "busy", 40, 16, 32, true, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
threads_pipeline(void **state)
{
	const struct scenario sc = { "pipeline", 1, 1, "busy", 40, 16, 32, true, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
threads_colocated(void **state)
{
	const struct scenario sc = { "colocated", 1, 0, "epoll", 40, 16, 32, true, FAULTS };

	(void)state;
	run_scenario(&sc);
}

/* The io_uring engines: readiness from multishot polls, reaped by spinning. */
static void
manual_rtc_uring(void **state)
{
	const struct scenario sc = { "rtc", 2, 0, "uring-nosqpoll", 40, 16, 32, false, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
threads_rtc_uring_sqpoll(void **state)
{
	const struct scenario sc = { "rtc", 1, 0, "uring", 40, 16, 32, true, FAULTS };

	(void)state;
	run_scenario(&sc);
}

static void
threads_pipeline_uring_sqpoll(void **state)
{
	const struct scenario sc = { "pipeline", 1, 1, "uring", 40, 16, 32, true, FAULTS };

	(void)state;
	run_scenario(&sc);
}

/*
 * A paced source: queues go quiet between timer ticks, so the engine must
 * clear readiness and re-learn it from poll completions.
 */
static void
threads_rtc_uring_paced(void **state)
{
	const struct scenario sc = { "rtc", 1, 0, "uring", 40, 16, 32, true, 40000, 100000 };

	(void)state;
	run_scenario(&sc);
}

static void
threads_colocated_paced(void **state)
{
	const struct scenario sc = { "colocated", 1, 0, "epoll", 40, 16, 32, true, 40000, 100000 };

	(void)state;
	run_scenario(&sc);
}

/* Stop while faults are in every stage: all of them answered, none aborted. */
static void
threads_pipeline_stop_midway(void **state)
{
	const struct scenario sc = { "pipeline", 1, 1, "busy", 40, 16, 32, true, 0 };

	(void)state;
	run_scenario(&sc);
}

/*
 * A profile edited after loading may name an engine the registry lacks:
 * create refuses it (EINVAL) instead of stepping with no engine.
 */
static void
unknown_engine(void **state)
{
	const struct scenario sc = { "rtc", 1, 0, "busy", 40, 16, 32, false, FAULTS };
	static struct pfdk_profile prof;
	struct pfdk_pipeline_conf pc = {
		.profile = &prof,
		.resolve = resolve,
		.flags = PFDK_PIPELINE_F_MANUAL,
	};
	uint64_t calls = 0;

	(void)state;
	pc.resolve_ctx = &calls;
	assert_int_equal(scenario_profile(&sc, &prof), 0);
	prof.lcores[0].engine = (enum pfdk_engine)pfdk_engine_count();
	assert_null(pfdk_pipeline_create(&pc));
	assert_int_equal(rte_errno, EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manual_rtc),
		cmocka_unit_test(manual_pipeline),
		cmocka_unit_test(manual_colocated),
		cmocka_unit_test(threads_rtc),
		cmocka_unit_test(threads_pipeline),
		cmocka_unit_test(threads_colocated),
		cmocka_unit_test(threads_pipeline_stop_midway),
		cmocka_unit_test(manual_rtc_uring),
		cmocka_unit_test(threads_rtc_uring_sqpoll),
		cmocka_unit_test(threads_pipeline_uring_sqpoll),
		cmocka_unit_test(threads_rtc_uring_paced),
		cmocka_unit_test(threads_colocated_paced),
		cmocka_unit_test(unknown_engine),
	};

	(void)argc;
	test_watchdog("test_pipeline", 600);
	/*
	 * Lcore 1 polls on CPU 1, lcore 2 resolves on CPU 0 beside the main
	 * lcore, which only sleeps: never a spinner on every CPU.
	 */
	test_eal_init(argv[0], "0@0,1@1,2@0");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
