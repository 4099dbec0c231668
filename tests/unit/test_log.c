/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log types: every library and driver logs under "pfdk.<lib>" or
 * "pfdk.fault.<driver>", so the EAL's --log-level=pfdk.*:debug (a glob
 * over the names) turns all of them to debug, and the control paths then
 * say what they did. They were all registered as "RTE_LOG_DEFAULT_LOGTYPE"
 * (and ".eal", ".engine"), which no pfdk.* pattern matches.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_log.h>

#include "pfdk_fault.h"
#include "pfdk_fault_driver.h"
#include "pfdk_profile.h"
#include "test_common.h"

static const char *const names[] = {
	"pfdk.eal", "pfdk.fault", "pfdk.engine", "pfdk.pipeline",
	"pfdk.profile", "pfdk.store",
	"pfdk.fault.uffd", "pfdk.fault.iommufd", "pfdk.fault.sim",
};
#define NB_NAMES (sizeof(names) / sizeof(names[0]))

/* rte_log_dump()'s lines, "id N: NAME, level is LEVEL". */
static char *
log_types(void)
{
	/* static: gcc -O3 takes a local handed to open_memstream() for dangling */
	static char *buf;
	static size_t len;
	FILE *f;

	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	rte_log_dump(f);
	fclose(f);
	return buf;
}

/* The level rte_log_dump() shows for @p name, or NULL if absent. */
static const char *
level_of(const char *list, const char *name, char *out, size_t outlen)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), ": %s, level is ", name);
	p = strstr(list, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	snprintf(out, outlen, "%.*s", (int)strcspn(p, "\n"), p);
	return out;
}

static void
test_names_before_init(void **state)
{
	char *list = log_types(), lvl[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < NB_NAMES; i++)
		if (level_of(list, names[i], lvl, sizeof(lvl)) == NULL)
			fail_msg("log type %s not registered:\n%s", names[i], list);
	if (strstr(list, "RTE_LOG_DEFAULT_LOGTYPE") != NULL)
		fail_msg("a log type without a name:\n%s", list);
	free(list);
}

/*
 * One driver's name selects that driver only: with
 * --log-level=pfdk.fault.uffd:debug, uffd logs at debug and the class and
 * the other drivers keep their level. Runs in a child, before this
 * process starts its own EAL (it can start only once).
 */
static int
one_driver_child(void)
{
	char *argv[] = {
		(char *)(uintptr_t)"test_log",
		(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)"0",
		(char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--log-level=lib.eal:warning",
		(char *)(uintptr_t)"--log-level=pfdk.fault.uffd:debug",
		NULL,
	};
	static const char *const others[] = {
		"pfdk.fault", "pfdk.fault.iommufd", "pfdk.fault.sim", "pfdk.pipeline",
	};
	char *list, lvl[32];
	unsigned int i;

	if (pfdk_init(7, argv) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	list = log_types();
	if (level_of(list, "pfdk.fault.uffd", lvl, sizeof(lvl)) == NULL ||
	    strcmp(lvl, "debug") != 0) {
		fprintf(stderr, "pfdk.fault.uffd not at debug:\n%s", list);
		return 1;
	}
	for (i = 0; i < RTE_DIM(others); i++)
		if (level_of(list, others[i], lvl, sizeof(lvl)) == NULL ||
		    strcmp(lvl, "debug") == 0) {
			fprintf(stderr, "%s absent or at debug:\n%s", others[i], list);
			return 1;
		}
	free(list);
	return 0;
}

static void
test_one_driver(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(one_driver_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_debug_after_init(void **state)
{
	char *argv[] = {
		(char *)(uintptr_t)"test_log",
		(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)"0",
		(char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--log-level=lib.eal:warning",
		(char *)(uintptr_t)"--log-level=pfdk.*:debug",
		NULL,
	};
	static struct pfdk_profile prof;
	const char *ini = "[device.sim5]\n[lcore.1]\nrole = poller\ncpu = 0\n"
			  "engine = epoll\nqueues = sim5:0\n";
	char *list, *out = NULL, lvl[32], err[256];
	size_t outlen = 0;
	unsigned int i;
	FILE *f;
	int dev;

	(void)state;
	if (pfdk_init(7, argv) < 0)
		fail_msg("EAL init failed: %s", rte_strerror(rte_errno));
	list = log_types();
	for (i = 0; i < NB_NAMES; i++) {
		if (level_of(list, names[i], lvl, sizeof(lvl)) == NULL)
			fail_msg("log type %s not registered:\n%s", names[i], list);
		if (strcmp(lvl, "debug") != 0)
			fail_msg("%s is at %s after --log-level=pfdk.*:debug:\n%s",
				 names[i], lvl, list);
	}
	/* the pattern selects PFDK's types only */
	assert_non_null(level_of(list, "lib.eal", lvl, sizeof(lvl)));
	assert_string_not_equal(lvl, "debug");
	free(list);
	assert_int_equal(rte_log_get_level(pfdk_fault_logtype), RTE_LOG_DEBUG);

	/* the control paths now say what they do */
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	assert_int_equal(rte_openlog_stream(f), 0);
	assert_int_equal(pfdk_profile_load_string("log.ini", ini, strlen(ini), &prof,
		&(struct pfdk_profile_check){ .ncpus = 2, .nnodes = 1 },
		err, sizeof(err)), 0);
	dev = pfdk_fault_dev_create("sim5,queues=2");
	assert_true(dev >= 0);
	assert_int_equal(pfdk_fault_configure((uint16_t)dev,
		&(struct pfdk_fault_conf){ .nb_queues = 1 }), 0);
	assert_int_equal(pfdk_fault_close((uint16_t)dev), 0);
	rte_openlog_stream(NULL);
	fclose(f);
	assert_non_null(out);
	if (strstr(out, "pfdk.profile: log.ini: 'log', layout rtc") == NULL ||
	    strstr(out, "sim5: created as device") == NULL ||
	    strstr(out, "sim5: configured, 1 queue(s)") == NULL ||
	    strstr(out, "sim5: closed") == NULL)
		fail_msg("debug log lacks the control path:\n%s", out);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_before_init),
		cmocka_unit_test(test_one_driver),
		cmocka_unit_test(test_debug_after_init),
	};

	test_watchdog("test_log", 60);
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
