/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uffd driver for a user without privileges: a forked child drops to
 * nobody (uid/gid 65534, no capabilities: no CAP_SYS_PTRACE), creates a
 * uffd device and serves faults through it. Without CAP_SYS_PTRACE the
 * kernel refuses UFFD_FEATURE_EVENT_FORK (EPERM), and with
 * vm.unprivileged_userfaultfd=0 only a UFFD_USER_MODE_ONLY userfaultfd can
 * be created at all; the device must still work, with exactly the features
 * the kernel offers less EVENT_FORK. The parent, still root, checks the
 * privileged outcome (EVENT_FORK granted) and the error a process out of
 * file descriptors gets.
 *
 * Skips (77) when the child cannot shed CAP_SYS_PTRACE (not root and
 * holding it) or the machine has no userfaultfd at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <rte_log.h>

#include "test_uffd_common.h"

#define CAP_SYS_PTRACE_BIT 19
#define NOBODY 65534
#define PAGES 1024

/* The features pfdk_uffd.h says the handshake asks for when offered. */
#define DOC_WANTED (UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_MISSING_HUGETLBFS | \
	UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS | \
	UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_PAGEFAULT_FLAG_WP | \
	UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_EVENT_FORK | \
	UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
	UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_POISON | UFFD_FEATURE_MOVE)

/* Effective capabilities of this process, from /proc/self/status. */
static uint64_t
cap_eff(void)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "CapEff: %" SCNx64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* What this kernel offers, asked on a user-mode-only scratch uffd. */
static uint64_t
offered(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, UFFDIO_API, &api), 0);
	close(fd);
	return api.features;
}

static char *logbuf;
static size_t loglen;

static int
create_logged(const char *devargs)
{
	FILE *f = open_memstream(&logbuf, &loglen);
	int id;

	assert_non_null(f);
	rte_openlog_stream(f);
	id = pfdk_fault_dev_create(devargs);
	rte_openlog_stream(NULL);
	fclose(f);
	print_message("  %s -> %d\n%s", devargs, id, logbuf);
	return id;
}

/* Unprivileged: the device exists, with all offered features but EVENT_FORK. */
static void
unpriv_features(void **state)
{
	uint64_t want = offered() & DOC_WANTED & ~(uint64_t)UFFD_FEATURE_EVENT_FORK;
	int id;

	(void)state;
	id = create_logged("uffd0");
	assert_true(id >= 0);
	print_message("  features %#" PRIx64 ", expected %#" PRIx64 "\n",
		      pfdk_uffd_features((uint16_t)id), want);
	assert_int_equal(pfdk_uffd_features((uint16_t)id), want);
	assert_false(pfdk_uffd_features((uint16_t)id) & UFFD_FEATURE_EVENT_FORK);
	/* The log says which events are missing (and not "features 0"). */
	assert_non_null(strstr(logbuf, "EVENT_FORK"));
	assert_non_null(strstr(logbuf, "CAP_SYS_PTRACE"));
	assert_null(strstr(logbuf, "features 0"));
	free(logbuf);
	logbuf = NULL;
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
}

/* Unprivileged: faults served through a pipeline, every byte checked. */
static void
unpriv_serve(void **state)
{
	struct pfdk_store *s = pfdk_store_pattern_create(99);
	struct pfdk_pipeline *p = ut_pipeline("rtc-epoll", 1, 256, 32);
	size_t len = PAGES * PAGE_4K;
	void *mem = ut_map_anon(len);
	uint16_t dev = ut_dev(p, 0);

	(void)state;
	assert_non_null(s);
	assert_false(pfdk_uffd_features(dev) & UFFD_FEATURE_EVENT_FORK);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, 4, true, false);
	ut_stop_check(p, 1, PAGES);
	ut_verify(mem, PAGE_4K, PAGES, s, 0);
	assert_int_equal(ut_xstats(dev).copies, PAGES);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
}

/* Root: EVENT_FORK is granted, so the features are all offered ones. */
static void
priv_features(void **state)
{
	uint64_t want = offered() & DOC_WANTED;
	int id = pfdk_fault_dev_create("uffd0");

	(void)state;
	assert_true(id >= 0);
	assert_int_equal(pfdk_uffd_features((uint16_t)id), want);
	assert_true(pfdk_uffd_features((uint16_t)id) & UFFD_FEATURE_EVENT_FORK);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
}

/* Out of descriptors: -EMFILE, and the log names the fd limit. */
static void
fd_limit(void **state)
{
	struct rlimit old, low;
	int lowest = dup(0), id;

	(void)state;
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest; /* no new descriptor fits */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	id = create_logged("uffd0");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(id, -EMFILE);
	assert_non_null(strstr(logbuf, "file descriptor limit"));
	assert_null(strstr(logbuf, "unprivileged_userfaultfd"));
	free(logbuf);
	logbuf = NULL;
}

/* The child: shed every privilege, then the unprivileged cases. */
static int
child_main(const char *prog)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unpriv_features),
		cmocka_unit_test(unpriv_serve),
	};
	char sysctl[16] = "?";
	FILE *f;

	if (geteuid() == 0 &&
	    (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
		printf("SKIP: cannot drop to uid %d: %s\n", NOBODY, strerror(errno));
		return TEST_SKIP;
	}
	if (cap_eff() & (1ull << CAP_SYS_PTRACE_BIT)) {
		printf("SKIP: CAP_SYS_PTRACE still effective (CapEff %#" PRIx64 "): cannot test the unprivileged path\n",
		       cap_eff());
		return TEST_SKIP;
	}
	f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
	if (f != NULL) {
		if (fgets(sysctl, sizeof(sysctl), f) != NULL)
			sysctl[strcspn(sysctl, "\n")] = '\0';
		fclose(f);
	}
	printf("child: uid %d, CapEff %#" PRIx64 ", vm.unprivileged_userfaultfd=%s\n",
	       (int)getuid(), cap_eff(), sysctl);
	test_eal_init(prog, UT_LCORES);
	return cmocka_run_group_tests_name("uffd_unpriv (nobody)", tests, NULL, NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(priv_features),
		cmocka_unit_test(fd_limit),
	};
	int st, fd;
	pid_t pid;

	(void)argc;
	test_watchdog("uffd_unpriv", 300);
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		printf("SKIP: no userfaultfd here: %s\n", strerror(errno));
		return TEST_SKIP;
	}
	close(fd);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(child_main(argv[0]));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		printf("child died: status %#x\n", st);
		return 1;
	}
	if (WEXITSTATUS(st) != 0)
		return WEXITSTATUS(st);
	if (geteuid() != 0)
		return 0; /* the privileged cases need root */
	test_eal_init(argv[0], UT_LCORES);
	return cmocka_run_group_tests_name("uffd_unpriv (root)", tests, NULL, NULL);
}
