/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fault_fd=N takes only an iommufd fault queue (an anonymous inode named
 * [iommufd-pgfault]): a regular file, a pipe, a socket, /dev/null, another
 * anonymous file, a closed or a negative fd are refused with a message
 * that says what the fd is, no device is created, and nothing is read
 * from or written to the fd. test_peer=1 lets a test play the kernel over
 * a socketpair: the driver then makes the fd non-blocking and reads and
 * answers through it.
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
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_log.h>
#include <rte_mempool.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "test_common.h"

static char *logbuf;
static size_t loglen;

/* fault_fd=@fd refused with @err, the log naming @what; no device left. */
static void
refused(int fd, int err, const char *what)
{
	char devargs[64];
	FILE *f = open_memstream(&logbuf, &loglen);
	int ret;

	assert_non_null(f);
	snprintf(devargs, sizeof(devargs), "iommufd7,fault_fd=%d", fd);
	rte_openlog_stream(f);
	ret = pfdk_fault_dev_create(devargs);
	rte_openlog_stream(NULL);
	fclose(f);
	print_message("  %s -> %d: %s", devargs, ret, logbuf);
	assert_int_equal(ret, err);
	if (strstr(logbuf, what) == NULL)
		fail_msg("log lacks '%s': %s", what, logbuf);
	if (err == -EINVAL && strstr(logbuf, "[iommufd-pgfault]") == NULL)
		fail_msg("log does not say what is expected: %s", logbuf);
	assert_true(pfdk_fault_get_dev_id("iommufd7") < 0);
	free(logbuf);
	logbuf = NULL;
}

static void
regular_file(void **state)
{
	char path[] = "/tmp/pfdk_fault_fd_XXXXXX";
	struct stat st;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	/* What a careless caller hands over: a file with record-sized junk. */
	assert_int_equal(write(fd, "0123456789012345678901234567890123456789", 40), 40);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	refused(fd, -EINVAL, "a regular file");
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 40);             /* nothing written */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);  /* nothing read */
	close(fd);
}

static void
pipe_ends(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	refused(p[0], -EINVAL, "a pipe");
	refused(p[1], -EINVAL, "a pipe");
	/* Still blocking: the caller's pipe was not touched either. */
	assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
}

static void
socket_fd(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	refused(sv[0], -EINVAL, "a socket");
	close(sv[0]);
	close(sv[1]);
}

static void
dev_null(void **state)
{
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	refused(fd, -EINVAL, "a character device");
	close(fd);
}

/* An anonymous inode, but not a fault queue. */
static void
other_anon(void **state)
{
	int fd = eventfd(0, 0);

	(void)state;
	assert_true(fd >= 0);
	refused(fd, -EINVAL, "anon_inode:[eventfd]");
	close(fd);
}

static void
closed_fd(void **state)
{
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	refused(fd, -EBADF, "not an open file descriptor");
}

static void
negative_fd(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(pfdk_fault_devargs_check("iommufd7,fault_fd=-1", err, sizeof(err)), -EINVAL);
	print_message("  fault_fd=-1: %s\n", err);
	assert_non_null(strstr(err, "fault_fd"));
	assert_true(pfdk_fault_dev_create("iommufd7,fault_fd=-1") < 0);
	assert_true(pfdk_fault_get_dev_id("iommufd7") < 0);
}

/* test_peer=1: a socketpair plays the kernel, one group read and answered. */
static void
test_peer(void **state)
{
	struct rte_mempool *pool = pfdk_fault_pool_create("adopt_peer", 63, 0, SOCKET_ID_ANY);
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	struct pfdk_iommu_hwpt_pgfault rec = {
		.flags = PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		.perm = PFDK_IOMMU_PGFAULT_PERM_READ,
		.addr = 0x100000000ull,
		.cookie = 3,
	};
	struct pfdk_iommu_hwpt_page_response resp;
	struct pfdk_fault *f[4];
	char devargs[64];
	unsigned int loops = 0;
	uint16_t n = 0;
	int sv[2], id;

	(void)state;
	assert_non_null(pool);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	snprintf(devargs, sizeof(devargs), "iommufd8,fault_fd=%d,test_peer=1", sv[0]);
	id = pfdk_fault_dev_create(devargs);
	assert_true(id >= 0);
	assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	assert_int_equal(pfdk_fault_configure((uint16_t)id, &conf), 0);
	assert_int_equal(pfdk_fault_queue_setup((uint16_t)id, 0, &qc), 0);
	assert_int_equal(pfdk_fault_start((uint16_t)id), 0);
	/* Nothing there: the non-blocking read says empty, never blocks. */
	assert_int_equal(pfdk_fault_recv_burst((uint16_t)id, 0, f, 4), 0);
	assert_int_equal(write(sv[1], &rec, sizeof(rec)), (ssize_t)sizeof(rec));
	while (n == 0 && loops++ < 1000)
		n = pfdk_fault_recv_burst((uint16_t)id, 0, f, 4);
	assert_int_equal(n, 1);
	assert_int_equal(f[0]->cookie, 3);
	assert_int_equal(pfdk_fault_respond_burst((uint16_t)id, 0, f, 1), 1);
	assert_int_equal(read(sv[1], &resp, sizeof(resp)), (ssize_t)sizeof(resp));
	assert_int_equal(resp.cookie, 3);
	assert_int_equal(resp.code, 0);
	assert_int_equal(pfdk_fault_stop((uint16_t)id), 0);
	assert_int_equal(pfdk_fault_close((uint16_t)id), 0);
	assert_int_equal(rte_mempool_avail_count(pool), 63);
	rte_mempool_free(pool);
	close(sv[0]);
	close(sv[1]);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(regular_file),
		cmocka_unit_test(pipe_ends),
		cmocka_unit_test(socket_fd),
		cmocka_unit_test(dev_null),
		cmocka_unit_test(other_anon),
		cmocka_unit_test(closed_fd),
		cmocka_unit_test(negative_fd),
		cmocka_unit_test(test_peer),
	};
	int ret;

	(void)argc;
	test_watchdog("test_iommufd_adopt", 60);
	test_eal_init(argv[0], "0@0");
	ret = cmocka_run_group_tests_name("iommufd_adopt", tests, NULL, NULL);
	pfdk_cleanup();
	return ret;
}
