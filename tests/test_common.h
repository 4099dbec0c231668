/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_TEST_COMMON_H
#define PFDK_TEST_COMMON_H

/*
 * Shared by the test programs: EAL start-up that never collides with a
 * test running beside it, a watchdog that turns a hang into a failure with
 * a message, and the exit code meson counts as a skip.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>

#include "pfdk_eal.h"

#define TEST_SKIP 77 /* meson: SKIP */

static const char *test_watchdog_name;
static unsigned int test_watchdog_secs;

static void
test_watchdog_fire(int sig)
{
	char msg[256];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg), "\nwatchdog: %s still running after %u s: "
		     "a fault or a worker hangs; failing instead of hanging CI\n",
		     test_watchdog_name, test_watchdog_secs);
	if (write(STDERR_FILENO, msg, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

/* Fail the whole program if it is still running after @secs seconds. */
static inline void
test_watchdog(const char *name, unsigned int secs)
{
	test_watchdog_name = name;
	test_watchdog_secs = secs;
	signal(SIGALRM, test_watchdog_fire);
	alarm(secs);
}

/*
 * Start the EAL on the given "--lcores" map with no shared files and no
 * telemetry socket, so tests can run side by side, and without probing
 * PCI devices (PFDK's devices are not PCI functions of DPDK's). Memory is pfdk_init's
 * choice: hugepages when free, else --no-huge. Exits on failure.
 */
static inline void
test_eal_init(const char *prog, const char *lcores)
{
	char *argv[] = {
		(char *)(uintptr_t)prog,
		(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)lcores,
		(char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--log-level=lib.eal:warning",
		NULL,
	};

	if (pfdk_init(6, argv) < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", prog,
			rte_strerror(rte_errno));
		exit(1);
	}
}

#endif /* PFDK_TEST_COMMON_H */
