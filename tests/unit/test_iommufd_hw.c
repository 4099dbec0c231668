/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The iommufd driver's ways in that need no emulator: devargs validation,
 * adopting a fault FD, and the real-hardware allocation path
 * (IOMMU_FAULT_QUEUE_ALLOC + IOMMU_HWPT_ALLOC). This kernel has no iommufd,
 * so the hardware path must fail with a message that names the ioctl and
 * the errno; once those messages are checked, the program exits 77 (SKIP)
 * with the reason, because the allocation itself was not exercised: that
 * needs a device bound in an iommufd, which the kernel rig's
 * test_iommufd_kernel does with the kernel's mock device.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "test_common.h"

static char *logbuf;
static size_t loglen;
static FILE *logf;

/* Create @devargs, expecting @err, with the log saying each of @words. */
static void
create_fails(const char *devargs, int err, const char *w1, const char *w2)
{
	int ret;

	logf = open_memstream(&logbuf, &loglen);
	assert_non_null(logf);
	rte_openlog_stream(logf);
	ret = pfdk_fault_dev_create(devargs);
	rte_openlog_stream(NULL);
	fclose(logf);
	print_message("  %s -> %d: %s", devargs, ret, logbuf);
	assert_int_equal(ret, err);
	if (w1 != NULL && strstr(logbuf, w1) == NULL)
		fail_msg("log lacks '%s': %s", w1, logbuf);
	if (w2 != NULL && strstr(logbuf, w2) == NULL)
		fail_msg("log lacks '%s': %s", w2, logbuf);
	free(logbuf);
	logbuf = NULL;
}

static void
check_devargs(const char *devargs, int ok, const char *word)
{
	char err[256] = "";
	int ret = pfdk_fault_devargs_check(devargs, err, sizeof(err));

	if (ok) {
		if (ret != 0)
			fail_msg("%s: %s", devargs, err);
		return;
	}
	assert_int_equal(ret, -EINVAL);
	if (strstr(err, word) == NULL)
		fail_msg("%s: reason lacks '%s': %s", devargs, word, err);
}

static void
test_devargs(void **state)
{
	(void)state;
	check_devargs("iommufd0,emu=1", 1, NULL);
	check_devargs("iommufd0,fault_fd=7,range=0x100000000:0x140000000,range=0:4096", 1, NULL);
	check_devargs("iommufd0,iommu_fd=3,dev_id=1,pt_id=2", 1, NULL);
	check_devargs("iommufd0,emu=1,groups=8,pasids=4,total=100,rate=1000,flag2=1,seed=3,depth=8", 1, NULL);
	check_devargs("iommufd0", 0, "exactly one");
	check_devargs("iommufd0,fault_fd=3,emu=1", 0, "exactly one");
	check_devargs("iommufd0,iommu=/dev/iommu", 0, "dev_id");
	check_devargs("iommufd0,iommu=dev/iommu,dev_id=1,pt_id=2", 0, "absolute");
	check_devargs("iommufd0,iommu=/dev/iommu,iommu_fd=3,dev_id=1,pt_id=2", 0, "exclude");
	check_devargs("iommufd0,emu=1,range=5:3", 0, "LO < HI");
	check_devargs("iommufd0,emu=1,range=0x10", 0, "LO:HI");
	check_devargs("iommufd0,emu=1,groups=0", 0, "groups");
	check_devargs("iommufd0,emu=1,bogus=1", 0, "unknown key");
	/* A nested HWPT's type and driver data, as a VMM has them. */
	check_devargs("iommufd0,iommu_fd=3,dev_id=1,pt_id=2,data_type=0xdead,data=efbead0b", 1, NULL);
	check_devargs("iommufd0,iommu_fd=3,dev_id=1,pt_id=2,data_type=0xdead,data=efbead0", 0, "hex");
	check_devargs("iommufd0,iommu_fd=3,dev_id=1,pt_id=2,data_type=0xdead,data=zz", 0, "hex");
	check_devargs("iommufd0,iommu_fd=3,dev_id=1,pt_id=2,data=efbead0b", 0, "data_type");
	check_devargs("iommufd0,fault_fd=3,data_type=0xdead,data=00", 0, "iommu_fd");
}

static void
test_adopt_bad_fd(void **state)
{
	(void)state;
	create_fails("iommufd1,fault_fd=999", -EBADF, "EBADF", "fault_fd=999");
}

/* An fd that is not an iommufd: the ioctl is named, and ENOTTY with it. */
static void
test_alloc_not_iommufd(void **state)
{
	char devargs[128];
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	snprintf(devargs, sizeof(devargs), "iommufd2,iommu_fd=%d,dev_id=1,pt_id=2", fd);
	create_fails(devargs, -ENOTTY, "IOMMU_FAULT_QUEUE_ALLOC", "ENOTTY");
	close(fd);
}

static void
test_alloc_dev_iommu(void **state)
{
	(void)state;
	if (access("/dev/iommu", F_OK) != 0) {
		create_fails("iommufd3,iommu=/dev/iommu,dev_id=1,pt_id=2", -ENOENT,
			     "ENOENT", "CONFIG_IOMMUFD");
		return;
	}
	/*
	 * A freshly opened iommufd has no device objects (a device is bound
	 * into the VMM's own iommufd): ENOENT, and the log says to pass that
	 * iommufd as iommu_fd=. Its fault queue is not left behind.
	 */
	create_fails("iommufd3,iommu=/dev/iommu,dev_id=1,pt_id=2", -ENOENT,
		     "IOMMU_HWPT_ALLOC", "iommu_fd=");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devargs),
		cmocka_unit_test(test_adopt_bad_fd),
		cmocka_unit_test(test_alloc_not_iommufd),
		cmocka_unit_test(test_alloc_dev_iommu),
	};
	int ret;

	(void)argc;
	test_watchdog("test_iommufd_hw", 60);
	test_eal_init(argv[0], "0@0");
	ret = cmocka_run_group_tests_name("iommufd_hw", tests, NULL, NULL);
	pfdk_cleanup();
	if (ret == 0) {
		printf("SKIP: the error paths passed; the allocation itself needs a device bound in an iommufd: tests/kernel's test_iommufd_kernel (alloc_*) does it with the kernel's mock device%s\n",
		       access("/dev/iommu", F_OK) != 0 ?
		       " (here /dev/iommu does not exist: CONFIG_IOMMUFD unset)" : "");
		return TEST_SKIP;
	}
	return ret;
}
