/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk_eal_args(): the memory options pfdk_init() adds when the caller
 * chose none, and nothing when the caller did. Pure argument shuffling: no
 * EAL is started.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pfdk_eal.h"

#define MAX_ARGS 32
#define S(x) ((char *)(uintptr_t)(x))
#define RTE_DIM_(a) (sizeof(a) / sizeof((a)[0]))

static char *out[MAX_ARGS];
static char *warnbuf;
static size_t warnlen;
static FILE *warnf;

static int
setup(void **state)
{
	(void)state;
	warnbuf = NULL;
	warnlen = 0;
	warnf = open_memstream(&warnbuf, &warnlen);
	return warnf == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (warnf != NULL)
		fclose(warnf);
	warnf = NULL;
	free(warnbuf);
	warnbuf = NULL;
	return 0;
}

/* What was written to the warning stream so far. */
static const char *
warning(void)
{
	fflush(warnf);
	return warnbuf != NULL ? warnbuf : "";
}

static int
args(int argc, char **argv, unsigned long free_hp, bool *huge)
{
	int i;

	for (i = 0; i < MAX_ARGS; i++)
		out[i] = S("poison");
	return pfdk_eal_args(argc, argv, free_hp, out, MAX_ARGS, huge, warnf);
}

/* out[from..from+n) is argv[1..argc), the same pointers in the same order. */
static void
assert_caller_args(char **argv, int argc, int from)
{
	int i;

	for (i = 1; i < argc; i++)
		if (out[from + i - 1] != argv[i])
			fail_msg("out[%d] is \"%s\", wanted caller's argv[%d] \"%s\"",
				 from + i - 1, out[from + i - 1], i, argv[i]);
}

static void
test_no_hugepages(void **state)
{
	char *argv[] = { S("prog"), S("--lcores"), S("0@0"), S("--no-telemetry"),
			 NULL };
	const char *w;
	bool huge = true;
	char *end;
	long mb;
	int n;

	(void)state;
	n = args(4, argv, 0, &huge);
	assert_int_equal(n, 4 + 4);
	assert_ptr_equal(out[0], argv[0]);
	assert_string_equal(out[1], "--no-huge");
	assert_string_equal(out[2], "-m");
	mb = strtol(out[3], &end, 10);
	assert_true(*end == '\0' && mb > 0);
	assert_string_equal(out[4], "--no-shconf");
	assert_caller_args(argv, 4, 5);
	assert_null(out[n]);
	assert_false(huge);

	/* One line that says what is missing and how to get it. */
	w = warning();
	assert_true(strlen(w) > 0);
	assert_ptr_equal(strchr(w, '\n'), w + strlen(w) - 1);
	assert_non_null(strstr(w, "hugepages"));
	assert_non_null(strstr(w, "reserve"));
	assert_true(strstr(w, "nr_hugepages") != NULL ||
		    strstr(w, "dpdk-hugepages") != NULL);

	/* No stream: no warning, same arguments. */
	huge = true;
	assert_int_equal(pfdk_eal_args(4, argv, 0, out, MAX_ARGS, &huge, NULL),
			 8);
	assert_string_equal(out[1], "--no-huge");
	assert_false(huge);
	/* No flag wanted: fine too. */
	assert_int_equal(pfdk_eal_args(4, argv, 0, out, MAX_ARGS, NULL, NULL),
			 8);
}

static void
test_hugepages(void **state)
{
	char *argv[] = { S("prog"), S("--lcores"), S("0@0,1@1"), NULL };
	bool huge = false;
	int n, i;

	(void)state;
	n = args(3, argv, 128, &huge);
	assert_int_equal(n, 3 + 1);
	assert_ptr_equal(out[0], argv[0]);
	assert_string_equal(out[1], "--in-memory");
	assert_caller_args(argv, 3, 2);
	assert_null(out[n]);
	assert_true(huge);
	assert_string_equal(warning(), "");
	for (i = 0; i < n; i++)
		assert_true(strcmp(out[i], "--no-huge") != 0);

	/* Only the program name. */
	n = args(1, argv, 1, &huge);
	assert_int_equal(n, 2);
	assert_ptr_equal(out[0], argv[0]);
	assert_string_equal(out[1], "--in-memory");
	assert_null(out[2]);
}

struct chosen_case {
	const char *name;
	const char *opt[2]; /* the caller's memory option(s) */
	int huge;           /* expected *hugepages: 0, 1, or -1 for "either" */
};

static const struct chosen_case chosen[] = {
	{ "no-huge", { "--no-huge" }, 0 },
	{ "in-memory", { "--in-memory" }, 1 },
	{ "m-64", { "-m", "64" }, -1 },
	{ "m64", { "-m64" }, -1 },
	{ "socket-mem=", { "--socket-mem=512" }, -1 },
	{ "socket-mem", { "--socket-mem", "512,512" }, -1 },
	{ "huge-dir", { "--huge-dir", "/mnt/huge" }, -1 },
	{ "legacy-mem", { "--legacy-mem" }, -1 },
	{ "single-file-segments", { "--single-file-segments" }, -1 },
};

/* The caller chose memory: nothing added, with or without hugepages. */
static void
test_caller_chose(void **state)
{
	const struct chosen_case *c = *state;
	static const unsigned long hp[] = { 0, 64 };
	char *argv[8];
	int argc = 0, n, i, k;
	bool huge;

	argv[argc++] = S("prog");
	argv[argc++] = S("--lcores");
	argv[argc++] = S("0@0");
	for (i = 0; i < 2 && c->opt[i] != NULL; i++)
		argv[argc++] = S(c->opt[i]);
	argv[argc++] = S("--no-telemetry");
	argv[argc] = NULL;

	for (k = 0; k < 2; k++) {
		huge = c->huge == 0;
		n = args(argc, argv, hp[k], &huge);
		if (n != argc)
			fail_msg("%s, %lu free hugepages: %d arguments, wanted %d (out[1] \"%s\")",
				 c->name, hp[k], n, argc, out[1]);
		assert_ptr_equal(out[0], argv[0]);
		assert_caller_args(argv, argc, 1);
		assert_null(out[n]);
		if (c->huge >= 0)
			assert_int_equal(huge, c->huge);
	}
	assert_string_equal(warning(), "");
}

/* Look-alikes of memory options are not memory options. */
static void
test_not_chosen(void **state)
{
	static const char *const opts[] = {
		"--no-hugepages", "--in-memoryx", "--socket-limit=64",
		"--no-shconf", "--main-lcore",
	};
	char *argv[] = { S("prog"), NULL, NULL };
	size_t i;
	bool huge;
	int n;

	(void)state;
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		argv[1] = S(opts[i]);
		n = args(2, argv, 8, &huge);
		if (n != 3 || strcmp(out[1], "--in-memory") != 0)
			fail_msg("'%s' taken for a memory option", opts[i]);
		assert_ptr_equal(out[2], argv[1]);
	}
}

/* Arguments after "--" are the application's: they choose nothing. */
static void
test_after_double_dash(void **state)
{
	char *argv[] = { S("prog"), S("--lcores"), S("0@0"), S("--"),
			 S("--no-huge"), S("-m"), S("64"), S("--in-memory"), NULL };
	bool huge = true;
	int n;

	(void)state;
	n = args(8, argv, 0, &huge);
	assert_int_equal(n, 8 + 4);
	assert_ptr_equal(out[0], argv[0]);
	assert_string_equal(out[1], "--no-huge");
	assert_string_equal(out[4], "--no-shconf");
	assert_caller_args(argv, 8, 5);
	assert_string_equal(out[7], "--"); /* added options stay before it */
	assert_null(out[n]);
	assert_false(huge);
	assert_non_null(strstr(warning(), "hugepages"));

	huge = false;
	n = args(8, argv, 4, &huge);
	assert_int_equal(n, 8 + 1);
	assert_string_equal(out[1], "--in-memory");
	assert_caller_args(argv, 8, 2);
	/* The application's --no-huge is not the EAL's. */
	assert_true(huge);

	/* Before "--" it counts. */
	argv[3] = S("--no-huge");
	argv[4] = S("--");
	huge = true;
	n = args(8, argv, 4, &huge);
	assert_int_equal(n, 8);
	assert_caller_args(argv, 8, 1);
	assert_false(huge);
}

static void
test_out_len(void **state)
{
	char *argv[] = { S("prog"), S("--lcores"), S("0@0"), NULL };
	char *small[3 + PFDK_EAL_EXTRA_ARGS + 1];
	bool huge;

	(void)state;
	/* Room for every addition and the NULL is required, used or not. */
	assert_int_equal(pfdk_eal_args(3, argv, 0, small,
				       3 + PFDK_EAL_EXTRA_ARGS, &huge, NULL),
			 -EINVAL);
	assert_int_equal(pfdk_eal_args(3, argv, 8, small,
				       3 + PFDK_EAL_EXTRA_ARGS, &huge, NULL),
			 -EINVAL);
	assert_int_equal(pfdk_eal_args(3, argv, 0, small, 0, &huge, NULL),
			 -EINVAL);
	assert_int_equal(pfdk_eal_args(3, argv, 0, small,
				       3 + PFDK_EAL_EXTRA_ARGS + 1, &huge, NULL),
			 3 + PFDK_EAL_EXTRA_ARGS);
	assert_null(small[3 + PFDK_EAL_EXTRA_ARGS]);
	/* No program name. */
	assert_int_equal(pfdk_eal_args(0, argv, 0, out, MAX_ARGS, &huge, NULL),
			 -EINVAL);
	/* Failing writes no warning. */
	assert_int_equal(pfdk_eal_args(3, argv, 0, small, 2, &huge, warnf),
			 -EINVAL);
	assert_string_equal(warning(), "");
}

/* ---- the lcore map: the caller's lcore options, extended ---- */

static struct pfdk_eal_lcores lmap;
static char lerr[256];

static const struct pfdk_eal_lcore *
lc_of(unsigned int id)
{
	unsigned int i;

	for (i = 0; i < lmap.nb; i++)
		if (lmap.lc[i].id == id)
			return &lmap.lc[i];
	return NULL;
}

/* Lcore @p id exists, pinned to @p cpu alone. */
static void
assert_pinned(unsigned int id, int cpu)
{
	const struct pfdk_eal_lcore *lc = lc_of(id);

	if (lc == NULL)
		fail_msg("no lcore %u", id);
	if (CPU_COUNT(&lc->cpus) != 1 || !CPU_ISSET(cpu, &lc->cpus))
		fail_msg("lcore %u: %d CPUs, wanted CPU %d alone", id,
			 CPU_COUNT(&lc->cpus), cpu);
}

static const char *
lformat(bool only_added)
{
	static char buf[512];

	assert_true(pfdk_eal_lcores_format(&lmap, only_added, buf, sizeof(buf)) >= 0);
	return buf;
}

static int
lparse(int argc, char **argv)
{
	lerr[0] = '\0';
	return pfdk_eal_lcores_parse(argc, argv, 0, &lmap, lerr, sizeof(lerr));
}

/* The bench's rows on two CPUs: rtc 1@1, colocated 2@0, pipeline 1@1 + 2@0. */
static void
place_bench_rows(void)
{
	uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };

	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 1, 1, taken, lerr, sizeof(lerr)), 1);
	memset(taken, 0, sizeof(taken));
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 0, 2, taken, lerr, sizeof(lerr)), 2);
	memset(taken, 0, sizeof(taken));
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 1, 1, taken, lerr, sizeof(lerr)), 1);
	taken[0] |= 1u << 1;
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 0, 2, taken, lerr, sizeof(lerr)), 2);
}

/* Nothing typed: lcore 0 on main_cpu, the rows' lcores as they ask. */
static void
test_lcores_none(void **state)
{
	char *argv[] = { S("prog"), S("--file-prefix"), S("p1"), S("--in-memory"), NULL };

	(void)state;
	assert_int_equal(pfdk_eal_lcores_parse(4, argv, 1, &lmap, lerr, sizeof(lerr)), 0);
	assert_false(lmap.given);
	assert_int_equal(lmap.main_lcore, 0);
	assert_pinned(0, 1);
	assert_true(CPU_ISSET(7, &lmap.allowed));
	assert_int_equal(lparse(4, argv), 0);
	place_bench_rows();
	assert_string_equal(lformat(false), "0@0,1@1,2@0");
}

/* -l 0-1, -l0-1, -c 0x3, -c3, --lcores 0@0,1@1, --lcores=0-1: all the same two lcores. */
static void
test_lcores_two_cpus(void **state)
{
	static const char *const forms[][2] = {
		{ "-l", "0-1" }, { "-l0-1", NULL }, { "-c", "0x3" }, { "-c3", NULL },
		{ "--lcores", "0@0,1@1" }, { "--lcores=0-1", NULL }, { "-l", "0,1" },
	};
	char *argv[6];
	size_t i;
	int argc;

	(void)state;
	for (i = 0; i < RTE_DIM_(forms); i++) {
		argc = 0;
		argv[argc++] = S("prog");
		argv[argc++] = S(forms[i][0]);
		if (forms[i][1] != NULL)
			argv[argc++] = S(forms[i][1]);
		argv[argc++] = S("--");
		argv[argc++] = S("-l");  /* the application's, not the EAL's */
		argv[argc] = NULL;
		if (lparse(argc, argv) != 0)
			fail_msg("%s %s: %s", forms[i][0], forms[i][1] ? forms[i][1] : "", lerr);
		assert_true(lmap.given);
		assert_int_equal(lmap.nb, 2);
		assert_int_equal(lmap.main_lcore, 0);
		assert_pinned(0, 0);
		assert_pinned(1, 1);
		assert_int_equal(CPU_COUNT(&lmap.allowed), 2);
		/* The colocated row's lcore 2 on CPU 0 is added, nothing else. */
		place_bench_rows();
		assert_string_equal(lformat(false), "0@0,1@1,2@0");
		assert_string_equal(lformat(true), "2@0");
	}
}

/* The caller's ids and CPUs stay; a row's id taken by another CPU moves. */
static void
test_lcores_keep_caller(void **state)
{
	char *argv[] = { S("prog"), S("--lcores"), S("5@0,2@1,(6-7)@(0-1)"), NULL };
	uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };
	int id;

	(void)state;
	assert_int_equal(lparse(3, argv), 0);
	assert_int_equal(lmap.main_lcore, 2); /* the lowest id, as the EAL picks */
	assert_pinned(5, 0);
	assert_pinned(2, 1);
	assert_int_equal(CPU_COUNT(&lc_of(6)->cpus), 2); /* a group floats */
	/* Row wants 2@0: 2 is the main lcore; 5 is on CPU 0: that one. */
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 0, 2, taken, lerr, sizeof(lerr)), 5);
	taken[0] |= 1u << 5;
	/* A second lcore on CPU 0 in the same row: a new one, lowest free id. */
	id = pfdk_eal_lcore_pick(&lmap, 0, 5, taken, lerr, sizeof(lerr));
	assert_int_equal(id, 0);
	taken[0] |= 1u << id;
	/* On CPU 1 only the main lcore is pinned: a new one, its own id 1. */
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 1, 1, taken, lerr, sizeof(lerr)), 1);
	assert_string_equal(lformat(false), "0@0,1@1,2@1,5@0,6@(0-1),7@(0-1)");
	assert_string_equal(lformat(true), "0@0,1@1");
	/* The floating group is never given to a pinned worker. */
	assert_null(strstr(lformat(true), "6@"));
}

/* A CPU the caller did not give is refused, and nothing is added. */
static void
test_lcores_outside(void **state)
{
	char *argv[] = { S("prog"), S("-l"), S("0"), NULL };
	uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };

	(void)state;
	assert_int_equal(lparse(3, argv), 0);
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 1, 1, taken, lerr, sizeof(lerr)),
			 -ENOENT);
	assert_non_null(strstr(lerr, "CPU 1"));
	assert_non_null(strstr(lerr, "-l 0"));
	assert_int_equal(lmap.nb, 1);
	/* The main lcore is never a worker: CPU 0 gets a new lcore. */
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 0, 0, taken, lerr, sizeof(lerr)), 1);
	assert_string_equal(lformat(false), "0@0,1@0");
}

/* --main-lcore is kept; bad values and two lcore options are refused. */
static void
test_lcores_main_and_errors(void **state)
{
	char *ok[] = { S("prog"), S("-l"), S("0-1"), S("--main-lcore"), S("1"), NULL };
	char *bad[][4] = {
		{ S("prog"), S("-l"), S("0-1"), S("--main-lcore=3") },
		{ S("prog"), S("-l"), S("0-1"), S("-c0x3") },
		{ S("prog"), S("-l"), S("x"), S("--no-pci") },
		{ S("prog"), S("-c"), S("0xg"), S("--no-pci") },
		{ S("prog"), S("--lcores"), S("0@(0"), S("--no-pci") },
		{ S("prog"), S("-l"), S("200"), S("--no-pci") },
		{ S("prog"), S("--no-pci"), S("--no-pci"), S("-l") },
	};
	uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(lparse(5, ok), 0);
	assert_true(lmap.main_given);
	assert_int_equal(lmap.main_lcore, 1);
	/* Lcore 1 is the main one now: a row wanting 1@1 gets a new lcore. */
	assert_int_equal(pfdk_eal_lcore_pick(&lmap, 1, 1, taken, lerr, sizeof(lerr)), 2);
	for (i = 0; i < RTE_DIM_(bad); i++) {
		if (lparse(4, bad[i]) != -EINVAL)
			fail_msg("%s %s %s accepted", bad[i][1], bad[i][2], bad[i][3]);
		assert_true(strlen(lerr) > 0);
	}
}

/* The caller's lcore options are replaced by the map, before "--". */
static void
test_lcores_args(void **state)
{
	char *argv[] = { S("prog"), S("-l"), S("0-1"), S("--file-prefix"), S("p1"),
			 S("--main-lcore=0"), S("-c3"), S("--"), S("-l"), S("x"), NULL };
	int n;

	(void)state;
	n = pfdk_eal_args_lcores(10, argv, "0@0,1@1,2@0", "0", out, MAX_ARGS);
	assert_int_equal(n, 10 - 4 + 4);
	assert_ptr_equal(out[0], argv[0]);
	assert_ptr_equal(out[1], argv[3]);
	assert_ptr_equal(out[2], argv[4]);
	assert_string_equal(out[3], "--lcores");
	assert_string_equal(out[4], "0@0,1@1,2@0");
	assert_string_equal(out[5], "--main-lcore");
	assert_string_equal(out[6], "0");
	assert_ptr_equal(out[7], argv[7]);
	assert_ptr_equal(out[8], argv[8]);
	assert_ptr_equal(out[9], argv[9]);
	assert_null(out[n]);
	assert_int_equal(pfdk_eal_args_lcores(10, argv, "0@0", "0", out, 10 + 4), -EINVAL);
}

/* PCI is wanted only when the caller names PCI devices. */
static void
test_want_pci(void **state)
{
	char *yes[][2] = { { S("-a"), S("0000:00:03.0") }, { S("-a0000:00:03.0"), NULL },
			   { S("--allow=00:03.0"), NULL }, { S("-b"), S("00:03.0") },
			   { S("--block"), S("00:03.0") } };
	char *no[] = { S("prog"), S("--file-prefix"), S("a"), S("--in-memory"),
		       S("--"), S("-a"), S("x"), NULL };
	char *argv[4];
	size_t i;

	(void)state;
	argv[0] = S("prog");
	for (i = 0; i < RTE_DIM_(yes); i++) {
		argv[1] = yes[i][0];
		argv[2] = yes[i][1];
		argv[3] = NULL;
		if (!pfdk_eal_args_want_pci(yes[i][1] ? 3 : 2, argv))
			fail_msg("%s: PCI not seen", yes[i][0]);
	}
	assert_false(pfdk_eal_args_want_pci(7, no));
}

int
main(void)
{
	enum { NC = sizeof(chosen) / sizeof(chosen[0]) };
	struct CMUnitTest tests[NC + 16];
	static char names[NC][64];
	size_t n = 0, i;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_no_hugepages, setup, teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_hugepages, setup, teardown);
	for (i = 0; i < NC; i++) {
		snprintf(names[i], sizeof(names[i]), "test_caller_chose/%s",
			 chosen[i].name);
		tests[n++] = (struct CMUnitTest){ names[i], test_caller_chose,
						  setup, teardown,
						  (void *)(uintptr_t)&chosen[i] };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_not_chosen, setup, teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_after_double_dash, setup, teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
		test_out_len, setup, teardown);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_none);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_two_cpus);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_keep_caller);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_outside);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_main_and_errors);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_lcores_args);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_want_pci);
	return _cmocka_run_group_tests("eal_args", tests, n, NULL, NULL);
}
