/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An image store serving faults through a uffd device while its file is
 * gone: the file is truncated to zero right after the load, then every
 * page of the region is faulted in. The process must not die (a store
 * that maps its file would take SIGBUS in UFFDIO_COPY's source read, or
 * in the resolver) and every page must hold the bytes that were loaded.
 * Without hugepages ("--no-huge", the store's anonymous copy) by default;
 * "--huge" for the hugepage copy (skipped when none are free).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <rte_eal.h>

#include "test_uffd_common.h"

#define PAGES 512

static void
truncated_image(void **state)
{
	char path[64];
	size_t len = PAGES * PAGE_4K, i;
	uint8_t *img = malloc(len);
	struct pfdk_store *s;
	struct pfdk_pipeline *p;
	uint16_t dev;
	void *mem;
	int fd;

	(void)state;
	assert_non_null(img);
	for (i = 0; i < len; i++)
		img[i] = (uint8_t)(i * 13 + (i >> 12) + 1);
	snprintf(path, sizeof(path), "/tmp/pfdk_uffd_image_%d.img", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	s = pfdk_store_image_create(path, SOCKET_ID_ANY);
	assert_non_null(s);
	assert_int_equal(truncate(path, 0), 0);
	unlink(path);
	p = ut_pipeline("rtc-epoll", 1, 256, 32);
	dev = ut_dev(p, 0);
	mem = ut_map_anon(len);
	assert_int_equal(pfdk_uffd_region_register(dev, mem, len,
		PFDK_UFFD_MODE_MISSING, s, PAGE_4K), 0);
	assert_int_equal(pfdk_pipeline_start(p), 0);
	ut_touch_run(mem, PAGE_4K, PAGES, 4, true, false);
	ut_stop_check(p, 1, PAGES);
	if (memcmp(mem, img, len) != 0)
		fail_msg("the region does not hold the bytes loaded before the truncation");
	assert_int_equal(ut_xstats(dev).copies, PAGES);
	pfdk_pipeline_destroy(p);
	munmap(mem, len);
	pfdk_store_free(s);
	free(img);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(truncated_image),
	};
	bool huge = argc > 1 && strcmp(argv[1], "--huge") == 0;
	char *eal[] = {
		argv[0], (char *)(uintptr_t)"--no-huge", (char *)(uintptr_t)"-m",
		(char *)(uintptr_t)"256", (char *)(uintptr_t)"--no-shconf",
		(char *)(uintptr_t)"--no-telemetry", (char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)UT_LCORES,
		(char *)(uintptr_t)"--log-level=lib.eal:warning", NULL,
	};
	int fd;

	test_watchdog("uffd_image", 120);
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		printf("SKIP: no userfaultfd here: %s\n", strerror(errno));
		return TEST_SKIP;
	}
	close(fd);
	if (huge) {
		if (pfdk_free_hugepages() == 0) {
			printf("SKIP: no free 2 MiB hugepages: the hugepage image path cannot run\n");
			return TEST_SKIP;
		}
		test_eal_init(argv[0], UT_LCORES);
	} else if (pfdk_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests_name(huge ? "uffd_image (hugepages)" :
					   "uffd_image (no hugepages)", tests, NULL, NULL);
}
