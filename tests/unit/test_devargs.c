/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Devargs checking: good strings pass, and every bad one fails with -EINVAL
 * and a message that names what is wrong. No EAL: drivers register from
 * constructors and parsing has no side effects.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pfdk_fault.h"

static char err[512];

static int
check(const char *devargs)
{
	memset(err, 0x55, sizeof(err));
	return pfdk_fault_devargs_check(devargs, err, sizeof(err));
}

static const char *const good[] = {
	"sim0",
	"sim7,rate=1000,groups=4,total=10",
	"sim12",
	"sim1,groups=1",
	"sim1,groups=64",
	"sim1,rate=0",
	"sim1,rate=1000000000",
	"sim1,pasids=1",
	"sim1,pasids=1048576",
	"sim1,outstanding=1",
	"sim1,outstanding=65536",
	"sim1,total=0",
	"sim1,total=18446744073709551614",
	"sim1,seed=0",
	"sim1,seed=18446744073709551615",
	"sim1,queues=1",
	"sim1,queues=64",
	"sim1,groups=0x10", /* strtoull base 0 */
	"sim3,rate=1,groups=2,pasids=3,outstanding=4,total=5,seed=6,queues=7",
	/* the driver declares range repeatable */
	"iommufd0,emu=1,range=0x1000:0x2000,range=0x3000:0x4000",
};

static void
test_good(void **state)
{
	const char *devargs = *state;
	int ret = check(devargs);

	if (ret != 0)
		fail_msg("'%s' rejected (%d): %s", devargs, ret, err);
}

struct bad_case {
	const char *devargs;
	const char *what[3]; /* each must appear in the message */
};

static const struct bad_case bad[] = {
	/* unknown driver */
	{ "foo0", { "foo0", "driver" } },
	{ "simx0", { "simx0", "driver" } },
	{ "0", { "'0'", "driver" } },
	/* unknown key: named, and the valid ones listed */
	{ "sim0,colour=red", { "'colour'", "rate=", "groups=" } },
	{ "sim0,rate=5,Rate=5", { "'Rate'", "outstanding=" } },
	{ "sim0,rat=5", { "'rat'", "total=" } },
	/* bad values, each naming key and range */
	{ "sim0,groups=0", { "groups", "1..64" } },
	{ "sim0,groups=65", { "groups", "1..64" } },
	{ "sim0,rate=abc", { "rate", "abc" } },
	{ "sim0,rate=-1", { "rate", "-1" } },
	{ "sim0,groups=-4", { "groups", "-4" } },
	{ "sim0,groups=4x", { "groups", "4x" } },
	{ "sim0,groups=4 ", { "groups" } },
	{ "sim0,groups= 4", { "groups" } },
	{ "sim0,outstanding=0", { "outstanding", "1..65536" } },
	{ "sim0,outstanding=65537", { "outstanding", "1..65536" } },
	{ "sim0,queues=65", { "queues", "1..64" } },
	{ "sim0,queues=0", { "queues" } },
	{ "sim0,pasids=0", { "pasids" } },
	{ "sim0,rate=1000000001", { "rate" } },
	{ "sim0,total=18446744073709551615", { "total" } },
	{ "sim0,seed=18446744073709551616", { "seed" } }, /* overflows */
	{ "sim0,groups=4,rate=1e3", { "rate", "1e3" } },
	/* a key given twice: rte_kvargs_get() would take the first */
	{ "sim0,rate=5,rate=6", { "key 'rate' given twice", "rate=5", "rate=6" } },
	{ "sim0,groups=2,seed=1,groups=2", { "key 'groups' given twice" } },
	{ "uffd0,sigbus=1,sigbus=0", { "key 'sigbus' given twice" } },
	/* key without value */
	{ "sim0,groups", { "groups" } },
	{ "sim0,groups=", { "groups" } },
	{ "sim0,rate=1,total", { "total" } },
	/* empty */
	{ "", { "empty" } },
	/* name length and characters */
	{ "sim0123456789012345678901234567890", { "1..31" } },
	{ ",rate=1", { "1..31" } },
	{ "sim-0", { "sim-0", "letters" } },
	{ "sim 0", { "sim 0", "letters" } },
	{ "sim0;rm", { "letters" } },
	{ "s\xc3\xadm0", { "letters" } },
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	int ret = check(c->devargs);
	size_t i;

	if (ret != -EINVAL)
		fail_msg("'%s': returned %d, wanted -EINVAL", c->devargs, ret);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fail_msg("'%s': message not terminated", c->devargs);
	if (err[0] == '\0')
		fail_msg("'%s': empty message", c->devargs);
	for (i = 0; i < 3 && c->what[i] != NULL; i++)
		if (strstr(err, c->what[i]) == NULL)
			fail_msg("'%s': message \"%s\" does not mention \"%s\"",
				 c->devargs, err, c->what[i]);
}

static void
test_null(void **state)
{
	(void)state;
	assert_int_equal(check(NULL), -EINVAL);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_true(err[0] != '\0');
}

static void
test_name_limits(void **state)
{
	char name[PFDK_FAULT_NAME_LEN + 8];

	(void)state;
	/* The longest name that fits (31 characters) passes. */
	memset(name, '0', sizeof(name));
	memcpy(name, "sim", 3);
	name[PFDK_FAULT_NAME_LEN - 1] = '\0';
	assert_int_equal(check(name), 0);
	/* One more does not. */
	memset(name, '0', sizeof(name));
	memcpy(name, "sim", 3);
	name[PFDK_FAULT_NAME_LEN] = '\0';
	assert_int_equal(check(name), -EINVAL);
	assert_non_null(strstr(err, "1..31"));
	/* Too long with arguments after it too. */
	strcat(name, ",rate=1");
	assert_int_equal(check(name), -EINVAL);
}

/* A message longer than the caller's buffer is cut, and stays terminated. */
static void
test_short_buffer(void **state)
{
	char small[8];

	(void)state;
	memset(small, 0x55, sizeof(small));
	assert_int_equal(pfdk_fault_devargs_check("sim0,colour=red", small,
						  sizeof(small)), -EINVAL);
	assert_int_equal(small[sizeof(small) - 1], '\0');
	assert_int_equal(strlen(small), sizeof(small) - 1);
	memset(small, 0x55, sizeof(small));
	assert_int_equal(pfdk_fault_devargs_check("sim0,groups=0", small,
						  sizeof(small)), -EINVAL);
	assert_int_equal(small[sizeof(small) - 1], '\0');
}

static void
test_driver_params(void **state)
{
	const char *p;

	(void)state;
	p = pfdk_fault_driver_params("sim");
	assert_non_null(p);
	assert_non_null(strstr(p, "rate="));
	assert_non_null(strstr(p, "groups="));
	assert_non_null(strstr(p, "outstanding="));
	assert_non_null(strstr(p, "total="));
	assert_null(pfdk_fault_driver_params("foo"));
	assert_null(pfdk_fault_driver_params("sim0")); /* a driver, not a device */
	assert_null(pfdk_fault_driver_params(""));
}

/* Every key the driver advertises is accepted with a value in its range. */
static void
test_params_accepted(void **state)
{
	const char *p = pfdk_fault_driver_params("sim");
	char devargs[128];
	int nkeys = 0;

	(void)state;
	assert_non_null(p);
	while (*p != '\0') {
		size_t klen = strcspn(p, "=");

		assert_true(klen > 0 && klen < 64 && p[klen] == '=');
		snprintf(devargs, sizeof(devargs), "sim0,%.*s=1", (int)klen, p);
		if (check(devargs) != 0)
			fail_msg("advertised key in '%s' rejected: %s", devargs, err);
		nkeys++;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	assert_int_equal(nkeys, 7);
}

/* What a devargs string promises before a device exists. */
static void
test_info(void **state)
{
	struct pfdk_fault_devargs_info info;

	(void)state;
	assert_int_equal(pfdk_fault_devargs_info("sim3", &info, err, sizeof(err)), 0);
	assert_string_equal(info.name, "sim3");
	assert_string_equal(info.driver, "sim");
	assert_int_equal(info.max_queues, PFDK_FAULT_MAX_QUEUES);
	assert_false(info.inthread);
	assert_int_equal(pfdk_fault_devargs_info("sim3,queues=4", &info, err,
						 sizeof(err)), 0);
	assert_int_equal(info.max_queues, 4);
	assert_int_equal(pfdk_fault_devargs_info("uffd0", &info, err, sizeof(err)), 0);
	assert_string_equal(info.driver, "uffd");
	assert_int_equal(info.max_queues, 1);
	assert_false(info.inthread);
	assert_int_equal(pfdk_fault_devargs_info("uffd0,sigbus=0", &info, err,
						 sizeof(err)), 0);
	assert_false(info.inthread);
	assert_int_equal(pfdk_fault_devargs_info("uffd0,sigbus=1", &info, err,
						 sizeof(err)), 0);
	assert_true(info.inthread);
	assert_int_equal(pfdk_fault_devargs_info("iommufd2,emu=1", &info, err,
						 sizeof(err)), 0);
	assert_int_equal(info.max_queues, 1);
	assert_int_equal(pfdk_fault_devargs_info("sim0,rate=1,rate=2", &info, err,
						 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(pfdk_fault_devargs_info("sim0", NULL, err, sizeof(err)),
			 -EINVAL);
}

int
main(void)
{
	enum { NG = sizeof(good) / sizeof(good[0]),
	       NB = sizeof(bad) / sizeof(bad[0]) };
	struct CMUnitTest tests[NG + NB + 6];
	static char names[NG + NB][80];
	size_t n = 0, i;

	for (i = 0; i < NG; i++) {
		snprintf(names[i], sizeof(names[i]), "good/%s", good[i]);
		tests[n++] = (struct CMUnitTest){ names[i], test_good, NULL, NULL,
						  (void *)(uintptr_t)good[i] };
	}
	for (i = 0; i < NB; i++) {
		snprintf(names[NG + i], sizeof(names[0]), "bad/%zu", i);
		tests[n++] = (struct CMUnitTest){ names[NG + i], test_bad, NULL,
						  NULL, (void *)(uintptr_t)&bad[i] };
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_null);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_name_limits);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_short_buffer);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_driver_params);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_params_accepted);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_info);
	return _cmocka_run_group_tests("devargs", tests, n, NULL, NULL);
}
