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

int
main(void)
{
	enum { NC = sizeof(chosen) / sizeof(chosen[0]) };
	struct CMUnitTest tests[NC + 8];
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
	return _cmocka_run_group_tests("eal_args", tests, n, NULL, NULL);
}
