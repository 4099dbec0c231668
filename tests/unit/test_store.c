/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Image stores against a file that changes under them: truncated to zero,
 * to half, rewritten. The store must go on serving the bytes it loaded,
 * through pfdk_store_lookup() and pfdk_store_read(), and never take a
 * SIGBUS. Run twice by meson: without hugepages (the store's own
 * anonymous memory; "--no-huge") and with ("--huge", skipped when the
 * machine has no free hugepages).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_memory.h>
#include <rte_errno.h>

#include "pfdk_store.h"
#include "test_common.h"

#define PAGE 4096u
#define NPAGES 64u
#define TAIL 1000u /* the image ends inside its last page */
#define IMG_LEN (NPAGES * PAGE - TAIL)

static char path[64];
static uint8_t *img;

static uint8_t
img_byte(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 12) + 7);
}

/* A fresh image file of IMG_LEN known bytes. */
static void
write_image(void)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, IMG_LEN), (ssize_t)IMG_LEN);
	assert_int_equal(close(fd), 0);
}

/* Every page, by lookup and by read, is the loaded image (zero past it). */
static void
check_serves_loaded(const struct pfdk_store *s)
{
	uint8_t *scratch = aligned_alloc(PAGE, PAGE), *want = malloc(PAGE);
	uint8_t *got = malloc(PAGE);
	unsigned int p;

	assert_non_null(scratch);
	assert_non_null(want);
	assert_non_null(got);
	for (p = 0; p < NPAGES + 2; p++) {
		size_t off = (size_t)p * PAGE, i;
		const void *src = NULL;
		int r;

		for (i = 0; i < PAGE; i++)
			want[i] = off + i < IMG_LEN ? img[off + i] : 0;
		r = pfdk_store_lookup(s, off, PAGE, scratch, &src);
		if (off >= IMG_LEN) {
			assert_int_equal(r, PFDK_STORE_ZERO);
		} else {
			assert_int_equal(r, PFDK_STORE_DATA);
			if (memcmp(src, want, PAGE) != 0)
				fail_msg("page %u: lookup serves bytes other than those loaded", p);
		}
		assert_int_equal(pfdk_store_read(s, off, got, PAGE), 0);
		if (memcmp(got, want, PAGE) != 0)
			fail_msg("page %u: read gives bytes other than those loaded", p);
	}
	free(scratch);
	free(want);
	free(got);
}

static void
truncated(off_t to)
{
	struct pfdk_store *s;

	write_image();
	s = pfdk_store_image_create(path, SOCKET_ID_ANY);
	assert_non_null(s);
	assert_int_equal(truncate(path, to), 0);
	check_serves_loaded(s);
	pfdk_store_free(s);
}

static void truncate_zero(void **st) { (void)st; truncated(0); }
static void truncate_half(void **st) { (void)st; truncated(IMG_LEN / 2); }

/* Rewritten after the load: the loaded bytes still, not the new ones. */
static void
rewritten(void **state)
{
	struct pfdk_store *s;
	uint8_t *junk = malloc(IMG_LEN);
	int fd;

	(void)state;
	assert_non_null(junk);
	memset(junk, 0xa5, IMG_LEN);
	write_image();
	s = pfdk_store_image_create(path, SOCKET_ID_ANY);
	assert_non_null(s);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, IMG_LEN, 0), (ssize_t)IMG_LEN);
	assert_int_equal(close(fd), 0);
	check_serves_loaded(s);
	pfdk_store_free(s);
	free(junk);
}

/* Loads that cannot be: not a file, missing. */
static void
refused(void **state)
{
	(void)state;
	assert_null(pfdk_store_image_create("/dev/null", SOCKET_ID_ANY));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(pfdk_store_image_create("/nonexistent/pfdk.img", SOCKET_ID_ANY));
	assert_int_equal(rte_errno, ENOENT);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(truncate_zero),
		cmocka_unit_test(truncate_half),
		cmocka_unit_test(rewritten),
		cmocka_unit_test(refused),
	};
	bool huge = argc > 1 && strcmp(argv[1], "--huge") == 0;
	char *eal_nohuge[] = {
		argv[0], (char *)(uintptr_t)"--no-huge", (char *)(uintptr_t)"-m",
		(char *)(uintptr_t)"64", (char *)(uintptr_t)"--no-shconf",
		(char *)(uintptr_t)"--no-telemetry", (char *)(uintptr_t)"--no-pci",
		(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)"0@0",
		(char *)(uintptr_t)"--log-level=lib.eal:warning", NULL,
	};
	size_t i;
	int ret;

	test_watchdog("store", 60);
	if (huge) {
		if (pfdk_free_hugepages() == 0) {
			printf("SKIP: no free 2 MiB hugepages: the hugepage image path cannot run\n");
			return TEST_SKIP;
		}
		test_eal_init(argv[0], "0@0");
		if (!rte_eal_has_hugepages()) {
			printf("SKIP: the EAL started without hugepages\n");
			return TEST_SKIP;
		}
	} else if (pfdk_init((int)RTE_DIM(eal_nohuge) - 1, eal_nohuge) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	img = malloc(IMG_LEN);
	assert_non_null(img);
	for (i = 0; i < IMG_LEN; i++)
		img[i] = img_byte(i);
	snprintf(path, sizeof(path), "/tmp/pfdk_store_%d.img", (int)getpid());
	ret = cmocka_run_group_tests_name(huge ? "store (hugepages)" : "store (no hugepages)",
					  tests, NULL, NULL);
	unlink(path);
	free(img);
	return ret;
}
