/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd firecracker against a stand-in VMM: each client process
 * creates its own userfaultfd (EVENT_REMOVE, as Firecracker asks), maps
 * and registers its guest regions MISSING, sends the handshake (JSON +
 * uffd by SCM_RIGHTS) in one of the three field sets Firecracker has used,
 * then touches every page and checks it against the memory file, drops
 * ranges with MADV_DONTNEED (REMOVE) and checks that they read as zero
 * (the guest freed them: Firecracker's handler serves zero there), the
 * rest still as the file; also with REMOVEs while faults are pending.
 * Peers that never finish their handshake are disconnected after
 * --handshake-timeout, and more of them than the daemon's 256 connection
 * slots do not lock a good client out once their deadline passed. A
 * client that touches nothing finds every page pushed in the background
 * (resident and right) and is still served afterwards; one that touches
 * its pages while the push runs reads every byte right. A 2 MiB hugetlb
 * region reads as zero after REMOVE too (skipped without huge pages). Hostile peers
 * (malformed JSON, no fd, a pipe instead of a uffd, an oversize message,
 * regions past the file) must be disconnected while a served client goes
 * on, and clients killed mid-restore must have their state freed: more of
 * them are killed than the daemon has device slots (PFDK_FAULT_MAX_DEVS).
 * Last, SIGTERM while a client is half-way: the daemon must exit 0 and the
 * client's remaining pages read as zero instead of hanging.
 *
 * The whole group runs twice: with the default loop on the main lcore,
 * then with --profile (two epoll pollers, -l 0-1), where each client is
 * handed to a poller lcore. There, 8 clients restoring at once must read
 * every byte right with both pollers given clients (the daemon's log says
 * which lcore serves each), and profiles pagerd cannot run (a busy poller
 * on every CPU, a resolver, a [device.*], an engine it does not run, the
 * pipeline layout) must be refused before the EAL starts, with exit 2 and
 * the file:line of the mistake.
 * Usage: test_pagerd_fc PFDK_PAGERD
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"
#include "test_pagerd_common.h"

#define PG 4096u
#define R0_PAGES 64u /* region 0: file offset 0 */
#define R1_PAGES 96u /* region 1: right after it in the file */
#define FILE_PAGES (R0_PAGES + R1_PAGES)
#define BIG_PAGES 8192u /* 32 MiB after them: a region the push needs many steps for */
#define MEM_PAGES (FILE_PAGES + BIG_PAGES) /* the memory file */
#define PUSH_THREADS 4
#define HP (2u << 20)      /* hugetlb page */
#define HP_OFF HP          /* the hugetlb region's offset in the memory file */
#define KILLED_CLIENTS 70 /* more than PFDK_FAULT_MAX_DEVS (64) */
#define HS_TIMEOUT_MS 1000 /* the daemon's --handshake-timeout */
#define HS_TIMEOUT_STR "1000"
#define SILENT_PEERS 300   /* more than the daemon's 256 connection slots */
#define RF_THREADS 6       /* faulting threads while REMOVEs come */
#define RF_LO (R0_PAGES + 32) /* removed while faulting: region 1's pages 32..63 */
#define RF_HI (R0_PAGES + 64)
#define CONCURRENT 8       /* clients restoring at once */

enum fc_fields { FC_V16, FC_V17, FC_V112 }; /* none, page_size_kib, page_size */

static char dir[64], sock_path[96], mem_path[96];
static uint8_t *mem;       /* what the memory file holds */
static pid_t daemon_pid;
static pid_t client_pid; /* a case's client until reaped: its teardown kills it */
static const char *pagerd_bin;
static int teardown_failed; /* cmocka's exit status ignores a failed group teardown */
static bool with_profile;   /* this run of the group: the daemon has --profile */
static char prof_path[96], log_path[96]; /* its profile; its stderr */

static int
connect_daemon(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || pagerd_test_connect(s, sock_path) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static int
region_json(char *out, size_t n, enum fc_fields f, void *base, size_t size,
	    size_t off)
{
	const char *ps = f == FC_V112 ? ", \"page_size\": 4096" :
			 f == FC_V17 ? ",\n \"page_size_kib\": 4096" : "";

	return snprintf(out, n, "{\"base_host_virt_addr\": %lu, \"size\": %zu, \"offset\": %zu%s}",
			(unsigned long)(uintptr_t)base, size, off, ps);
}

/* A stand-in VMM's uffd with its two regions registered MISSING. */
static int
vmm_setup(uint8_t **r0, uint8_t **r1)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (u < 0 || ioctl(u, UFFDIO_API, &api) < 0)
		return -1;
	*r0 = mmap(NULL, R0_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*r1 = mmap(NULL, R1_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*r0 == MAP_FAILED || *r1 == MAP_FAILED)
		return -1;
	reg.range = (struct uffdio_range){ (uintptr_t)*r0, R0_PAGES * PG };
	if (ioctl(u, UFFDIO_REGISTER, &reg) < 0)
		return -1;
	reg.range = (struct uffdio_range){ (uintptr_t)*r1, R1_PAGES * PG };
	if (ioctl(u, UFFDIO_REGISTER, &reg) < 0)
		return -1;
	return u;
}

static int
vmm_handshake(enum fc_fields f, int u, uint8_t *r0, uint8_t *r1, int *sock)
{
	char msg[512];
	int n, s;

	n = snprintf(msg, sizeof(msg), "[");
	n += region_json(msg + n, sizeof(msg) - (size_t)n, f, r0, R0_PAGES * PG, 0);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, ", ");
	n += region_json(msg + n, sizeof(msg) - (size_t)n, f, r1, R1_PAGES * PG, R0_PAGES * PG);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "]");
	s = connect_daemon();
	if (s < 0 || pagerd_test_send_fd(s, msg, (size_t)n, u) < 0)
		return -1;
	/* v1.12+ keeps the socket open; earlier versions close it. */
	if (f != FC_V112) {
		close(s);
		s = -1;
	}
	*sock = s;
	return 0;
}

/* Touch and check pages [from, to) of both regions (one index space). */
static int
check_pages(uint8_t *r0, uint8_t *r1, unsigned int from, unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		uint8_t *pg = i < R0_PAGES ? r0 + (size_t)i * PG : r1 + (size_t)(i - R0_PAGES) * PG;

		if (memcmp(pg, mem + (size_t)i * PG, PG) != 0) {
			fprintf(stderr, "client %d: page %u differs from the memory file\n",
				(int)getpid(), i);
			return -1;
		}
	}
	return 0;
}

/* Pages [from, to) of both regions (one index space) read as zero. */
static int
check_zero(uint8_t *r0, uint8_t *r1, unsigned int from, unsigned int to)
{
	static const uint8_t zero[PG];
	unsigned int i;

	for (i = from; i < to; i++) {
		uint8_t *pg = i < R0_PAGES ? r0 + (size_t)i * PG : r1 + (size_t)(i - R0_PAGES) * PG;

		if (memcmp(pg, zero, PG) != 0) {
			fprintf(stderr, "client %d: removed page %u does not read as zero\n",
				(int)getpid(), i);
			return -1;
		}
	}
	return 0;
}

/*
 * A good client, in a child: 0 when every page matched the file, and after
 * MADV_DONTNEED the removed pages read as zero and the others as before.
 * With @p hold, it writes a byte to @p hold[1] after the first half and
 * waits for one on @p hold[0] before the rest.
 */
static int
good_client(enum fc_fields f, const int *hold)
{
	uint8_t *r0, *r1;
	int u, s;
	char b = 0;

	u = vmm_setup(&r0, &r1);
	if (u < 0 || vmm_handshake(f, u, r0, r1, &s) < 0) {
		perror("client setup");
		return 10;
	}
	if (check_pages(r0, r1, 0, FILE_PAGES / 2) < 0)
		return 11;
	if (hold != NULL && (write(hold[1], &b, 1) != 1 || read(hold[0], &b, 1) != 1))
		return 12;
	if (check_pages(r0, r1, FILE_PAGES / 2, FILE_PAGES) < 0)
		return 13;
	/*
	 * REMOVE: the pages go, the kernel tells the daemon, they refault and
	 * must come back as zero (the balloon freed them), not as the file.
	 */
	if (madvise(r0, R0_PAGES * PG, MADV_DONTNEED) < 0 ||
	    madvise(r1 + 8 * PG, 16 * PG, MADV_DONTNEED) < 0)
		return 14;
	if (check_zero(r0, r1, 0, R0_PAGES) < 0)
		return 15;
	if (check_pages(r0, r1, R0_PAGES, R0_PAGES + 8) < 0 ||
	    check_zero(r0, r1, R0_PAGES + 8, R0_PAGES + 24) < 0 ||
	    check_pages(r0, r1, R0_PAGES + 24, FILE_PAGES) < 0)
		return 16;
	if (s >= 0)
		close(s);
	return 0;
}

static pid_t
spawn_good(enum fc_fields f, const int *hold)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(good_client(f, hold));
	return pid;
}

/*
 * A client's exit status. If the daemon dies meanwhile the client would
 * wait for its pages forever (nobody reads its uffd any more): fail then.
 */
static int
wait_exit(pid_t pid)
{
	int st, dst;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w < 0)
			return -1;
		if (waitpid(daemon_pid, &dst, WNOHANG) == daemon_pid) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("pfdk-pagerd died (status %#x) while client %d was restoring",
				 dst, (int)pid);
		}
		usleep(10000);
	}
}

static void
daemon_alive(void)
{
	int st;

	if (waitpid(daemon_pid, &st, WNOHANG) != 0)
		fail_msg("pfdk-pagerd died (status %#x)", st);
}

static void
fields_v16(void **state)
{
	(void)state;
	assert_int_equal(wait_exit(spawn_good(FC_V16, NULL)), 0);
	daemon_alive();
}

static void
fields_v17(void **state)
{
	(void)state;
	assert_int_equal(wait_exit(spawn_good(FC_V17, NULL)), 0);
	daemon_alive();
}

static void
fields_v112(void **state)
{
	(void)state;
	assert_int_equal(wait_exit(spawn_good(FC_V112, NULL)), 0);
	daemon_alive();
}

/* The daemon must close the connection: recv sees EOF or a reset. */
static void
expect_disconnect(int s, const char *what)
{
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	char b[64];
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, 30000) != 1)
			fail_msg("%s: the daemon did not disconnect within 30 s", what);
		n = recv(s, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n < 0)
			fail_msg("%s: recv: %s", what, strerror(errno));
	}
	close(s);
}

static void
hostile_clients(void **state)
{
	int hold[2], go[2], fds[2], s, u;
	uint8_t *r0, *r1;
	char msg[512], *big;
	size_t bigl = 70 * 1024;
	char b;
	int n;

	(void)state;
	/* A good client served half-way, hostile peers, then its other half. */
	assert_int_equal(pipe(hold), 0);
	assert_int_equal(pipe(go), 0);
	{
		int h[2] = { go[0], hold[1] };

		client_pid = spawn_good(FC_V112, h);
	}
	/* Only the child holds these ends: its death reads as EOF, no hang. */
	close(hold[1]);
	close(go[0]);
	if (read(hold[0], &b, 1) != 1)
		fail_msg("the good client was not served its first half (exit %d)",
			 wait_exit(client_pid));

	u = vmm_setup(&r0, &r1);
	assert_true(u >= 0);
	/* Malformed JSON, with a real uffd. */
	s = connect_daemon();
	assert_true(s >= 0);
	assert_int_equal(pagerd_test_send_fd(s, "[{\"base_host_virt_addr\": 1x}]", 29, u), 0);
	expect_disconnect(s, "malformed JSON");
	/* A valid message and no fd. */
	n = snprintf(msg, sizeof(msg), "[");
	n += region_json(msg + n, sizeof(msg) - (size_t)n, FC_V112, r0, R0_PAGES * PG, 0);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "]");
	s = connect_daemon();
	assert_true(s >= 0);
	assert_int_equal(pagerd_test_send_fd(s, msg, (size_t)n, -1), 0);
	expect_disconnect(s, "no fd");
	/* A pipe instead of a userfaultfd. */
	assert_int_equal(pipe(fds), 0);
	s = connect_daemon();
	assert_true(s >= 0);
	assert_int_equal(pagerd_test_send_fd(s, msg, (size_t)n, fds[0]), 0);
	expect_disconnect(s, "a pipe for a uffd");
	close(fds[0]);
	close(fds[1]);
	/* Past 64 KiB without ever closing the array. */
	big = malloc(bigl);
	assert_non_null(big);
	memset(big, ' ', bigl);
	big[0] = '[';
	s = connect_daemon();
	assert_true(s >= 0);
	pagerd_test_send_fd(s, big, bigl, u); /* may be cut short by the reset */
	expect_disconnect(s, "oversize message");
	free(big);
	/* Well formed, but a region past the end of the memory file (by a page). */
	n = snprintf(msg, sizeof(msg), "[");
	n += region_json(msg + n, sizeof(msg) - (size_t)n, FC_V112, r1, R1_PAGES * PG,
			 (size_t)(MEM_PAGES - R1_PAGES + 1) * PG);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "]");
	s = connect_daemon();
	assert_true(s >= 0);
	assert_int_equal(pagerd_test_send_fd(s, msg, (size_t)n, u), 0);
	expect_disconnect(s, "region past the memory file");

	daemon_alive();
	assert_int_equal(write(go[1], &b, 1), 1);
	assert_int_equal(wait_exit(client_pid), 0);
	client_pid = 0;
	close(u);
	close(hold[0]);
	close(go[1]);
}

struct rf_arg {
	uint8_t *r0, *r1;
	unsigned int stride; /* coprime to FILE_PAGES: every page once, in its own order */
	pthread_barrier_t *go;
	int bad;             /* pages read wrong */
};

/*
 * Each word of page @p i as the file has it, or zero for a page removed
 * meanwhile: a zap in the middle of the read mixes the two. Nothing else.
 */
static int
racing_page_ok(const uint8_t *pg, unsigned int i)
{
	uint64_t w, f;
	size_t k;

	for (k = 0; k < PG; k += 8) {
		memcpy(&w, pg + k, 8);
		memcpy(&f, mem + (size_t)i * PG + k, 8);
		if (w != f && !(i >= RF_LO && i < RF_HI && w == 0))
			return -1;
	}
	return 0;
}

static void *
rf_faulter(void *arg)
{
	struct rf_arg *a = arg;
	unsigned int j, i;

	pthread_barrier_wait(a->go);
	for (j = 0; j < FILE_PAGES; j++) {
		i = (j * a->stride + a->stride) % FILE_PAGES;
		if (racing_page_ok(i < R0_PAGES ? a->r0 + (size_t)i * PG :
				   a->r1 + (size_t)(i - R0_PAGES) * PG, i) < 0)
			a->bad++;
	}
	return NULL;
}

/*
 * A client whose threads fault every page while its main thread removes
 * region 1's pages 32..63, two at a time: each REMOVE meets faults the
 * daemon has read and not answered, or that wait behind the event (every
 * fill gets EAGAIN until it is read). After the threads are done the
 * removed pages read as zero and every other page as the file.
 */
static int
remove_client(void)
{
	static const unsigned int strides[RF_THREADS] = { 7, 11, 13, 17, 19, 23 };
	struct rf_arg a[RF_THREADS];
	pthread_barrier_t go;
	pthread_t t[RF_THREADS];
	uint8_t *r0, *r1;
	unsigned int pg;
	int u, s, i, bad = 0;

	u = vmm_setup(&r0, &r1);
	if (u < 0 || vmm_handshake(FC_V112, u, r0, r1, &s) < 0)
		return 10;
	pthread_barrier_init(&go, NULL, RF_THREADS + 1);
	for (i = 0; i < RF_THREADS; i++) {
		a[i] = (struct rf_arg){ r0, r1, strides[i], &go, 0 };
		if (pthread_create(&t[i], NULL, rf_faulter, &a[i]) != 0)
			return 11;
	}
	pthread_barrier_wait(&go);
	for (pg = RF_LO; pg < RF_HI; pg += 2)
		if (madvise(r1 + (size_t)(pg - R0_PAGES) * PG, 2 * PG, MADV_DONTNEED) < 0)
			return 12;
	for (i = 0; i < RF_THREADS; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	if (bad > 0) {
		fprintf(stderr, "client %d: %d pages read neither the file nor zero\n",
			(int)getpid(), bad);
		return 13;
	}
	if (check_pages(r0, r1, 0, RF_LO) < 0 || check_zero(r0, r1, RF_LO, RF_HI) < 0 ||
	    check_pages(r0, r1, RF_HI, FILE_PAGES) < 0)
		return 14;
	close(s);
	return 0;
}

static void
remove_while_faulting(void **state)
{
	int k;

	(void)state;
	/* A few rounds, so that some REMOVE surely meets faults in flight. */
	for (k = 0; k < 4; k++) {
		client_pid = fork();
		if (client_pid == 0)
			_exit(remove_client());
		assert_int_equal(wait_exit(client_pid), 0);
		client_pid = 0;
	}
	daemon_alive();
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* @p s is still connected: nothing to read and no hang-up yet. */
static void
expect_connected(int s, const char *what)
{
	struct pollfd pfd = { .fd = s, .events = POLLIN };

	if (poll(&pfd, 1, 0) != 0)
		fail_msg("%s: disconnected before its handshake deadline", what);
}

static void
handshake_deadline(void **state)
{
	static const char half[] = "[{\"base_host_virt_addr\": 139637976727552, \"size\": ";
	uint8_t *r0, *r1;
	int silent, part, u;
	uint64_t t0;

	(void)state;
	u = vmm_setup(&r0, &r1);
	assert_true(u >= 0);
	t0 = mono_ms();
	silent = connect_daemon();
	part = connect_daemon();
	assert_true(silent >= 0);
	assert_true(part >= 0);
	assert_int_equal(pagerd_test_send_fd(part, half, sizeof(half) - 1, u), 0);
	/* A good client connecting while both hold their slots is served. */
	client_pid = spawn_good(FC_V112, NULL);
	assert_int_equal(wait_exit(client_pid), 0);
	client_pid = 0;
	/* Early is as wrong as never (only checked while the deadline is surely ahead). */
	usleep(HS_TIMEOUT_MS / 4 * 1000);
	if (mono_ms() - t0 < HS_TIMEOUT_MS / 2) {
		expect_connected(silent, "a silent peer");
		expect_connected(part, "half a JSON array");
	}
	expect_disconnect(silent, "a silent peer");
	expect_disconnect(part, "half a JSON array");
	assert_true(mono_ms() - t0 >= HS_TIMEOUT_MS - 2);
	close(u);
	daemon_alive();
}

static void
deadline_frees_slots(void **state)
{
	static int s[SILENT_PEERS];
	int i;

	(void)state;
	/* 256 take every slot; the daemon closes the rest at once. */
	for (i = 0; i < SILENT_PEERS; i++) {
		s[i] = connect_daemon();
		assert_true(s[i] >= 0);
	}
	for (i = 0; i < SILENT_PEERS; i++)
		expect_disconnect(s[i], "one of the silent peers");
	/* Their deadline freed every slot: a restore goes through. */
	client_pid = spawn_good(FC_V16, NULL);
	assert_int_equal(wait_exit(client_pid), 0);
	client_pid = 0;
	daemon_alive();
}

/* A bad --handshake-timeout is refused with status 2, before any socket exists. */
static void
handshake_timeout_option(void **state)
{
	static const char *const bad[] = {
		"0", "600001", "-1", "", "abc", "10x", " 5", "99999999999999999999",
	};
	const size_t nbad = sizeof(bad) / sizeof(bad[0]);
	char other[128], nomem[128];
	struct stat st;
	size_t i;
	int wst;

	(void)state;
	snprintf(other, sizeof(other), "%s/never.sock", dir);
	/* No such file: a value taken by mistake exits 1 there instead of serving. */
	snprintf(nomem, sizeof(nomem), "%s/none.mem", dir);
	for (i = 0; i <= nbad; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			if (i < nbad)
				execl(pagerd_bin, pagerd_bin, "firecracker", "--socket", other,
				      "--mem-file", nomem, "--handshake-timeout", bad[i],
				      (char *)NULL);
			else /* the criu mode has no handshake to time */
				execl(pagerd_bin, pagerd_bin, "criu", "-D", dir,
				      "--handshake-timeout", "100", (char *)NULL);
			_exit(127);
		}
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &wst, 0), pid);
		if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 2)
			fail_msg("--handshake-timeout '%s': status %#x, want exit 2",
				 i < nbad ? bad[i] : "100 (criu)", wst);
		assert_true(stat(other, &st) < 0 && errno == ENOENT);
	}
}

/* Pages of [@p a, @p a + @p n pages) resident (mincore), or -1. */
static long
resident(const uint8_t *a, size_t n)
{
	static unsigned char v[BIG_PAGES];
	long k = 0;
	size_t i;

	if (n > BIG_PAGES || mincore((void *)(uintptr_t)a, n * PG, v) < 0)
		return -1;
	for (i = 0; i < n; i++)
		k += v[i] & 1;
	return k;
}

/*
 * Served and then idle: after --push-idle the daemon pushes every page.
 * They must all be resident before this client reads one (mincore), read
 * right, and the client must still be served after: a REMOVE then reads
 * as zero and the rest as before.
 */
static int
idle_client(void)
{
	uint8_t *r0, *r1;
	int u, s, i;

	u = vmm_setup(&r0, &r1);
	if (u < 0 || vmm_handshake(FC_V16, u, r0, r1, &s) < 0)
		return 10;
	for (i = 0; resident(r0, R0_PAGES) + resident(r1, R1_PAGES) != FILE_PAGES; i++) {
		if (i == 2000) {
			fprintf(stderr, "idle client: %ld of %u pages resident after 20 s\n",
				resident(r0, R0_PAGES) + resident(r1, R1_PAGES), FILE_PAGES);
			return 11;
		}
		usleep(10000);
	}
	if (check_pages(r0, r1, 0, FILE_PAGES) < 0)
		return 12;
	if (madvise(r1, 8 * PG, MADV_DONTNEED) < 0)
		return 13;
	if (check_pages(r0, r1, 0, R0_PAGES) < 0 ||
	    check_zero(r0, r1, R0_PAGES, R0_PAGES + 8) < 0 ||
	    check_pages(r0, r1, R0_PAGES + 8, FILE_PAGES) < 0)
		return 14;
	return 0;
}

struct push_arg {
	const uint8_t *big;
	unsigned int from; /* this thread's first page; it goes down, wrapping */
	int bad;
};

/* Every page of the big region, from the top down: against the push. */
static void *
push_racer(void *arg)
{
	struct push_arg *a = arg;
	unsigned int j, i;

	for (j = 0; j < BIG_PAGES; j++) {
		i = (a->from + BIG_PAGES - j) % BIG_PAGES;
		if (memcmp(a->big + (size_t)i * PG, mem + (size_t)(FILE_PAGES + i) * PG, PG) != 0)
			a->bad++;
	}
	return NULL;
}

/*
 * One 32 MiB region. Once the push has started (its first page is
 * resident without a touch), threads read every page from the top down
 * while it fills from the bottom up: faults and push fills meet on the
 * same pages, and every byte must be the file's.
 */
static int
racing_client(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct push_arg a[PUSH_THREADS];
	pthread_t t[PUSH_THREADS];
	uint8_t *big;
	char msg[256];
	int u, s, i, n, bad = 0;

	u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	big = mmap(NULL, (size_t)BIG_PAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u < 0 || ioctl(u, UFFDIO_API, &api) < 0 || big == MAP_FAILED)
		return 10;
	reg.range = (struct uffdio_range){ (uintptr_t)big, (size_t)BIG_PAGES * PG };
	if (ioctl(u, UFFDIO_REGISTER, &reg) < 0)
		return 10;
	n = snprintf(msg, sizeof(msg), "[");
	n += region_json(msg + n, sizeof(msg) - (size_t)n, FC_V112, big, (size_t)BIG_PAGES * PG,
			 (size_t)FILE_PAGES * PG);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "]");
	s = connect_daemon();
	if (s < 0 || pagerd_test_send_fd(s, msg, (size_t)n, u) < 0)
		return 11;
	for (i = 0; resident(big, 1) != 1; i++) {
		if (i == 200000) {
			fprintf(stderr, "racing client: the push did not start within 20 s\n");
			return 12;
		}
		usleep(100);
	}
	for (i = 0; i < PUSH_THREADS; i++) {
		a[i] = (struct push_arg){ big, BIG_PAGES - 1 - (unsigned int)i * 97, 0 };
		if (pthread_create(&t[i], NULL, push_racer, &a[i]) != 0)
			return 13;
	}
	for (i = 0; i < PUSH_THREADS; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	if (bad > 0) {
		fprintf(stderr, "racing client: %d page reads differ from the memory file\n", bad);
		return 14;
	}
	if (resident(big, BIG_PAGES) != BIG_PAGES)
		return 15;
	close(s);
	return 0;
}

static void
background_push(void **state)
{
	(void)state;
	client_pid = fork();
	if (client_pid == 0)
		_exit(idle_client());
	assert_int_equal(wait_exit(client_pid), 0);
	client_pid = fork();
	if (client_pid == 0)
		_exit(racing_client());
	assert_int_equal(wait_exit(client_pid), 0);
	client_pid = 0;
	daemon_alive();
}

/*
 * A 2 MiB hugetlb region (private anonymous, as Firecracker maps guest
 * memory with huge pages): served from the file, and after MADV_DONTNEED
 * zero. hugetlb has no UFFDIO_ZEROPAGE, so the driver unregisters the
 * removed huge page and the kernel gives a zero one; written and removed
 * again it is zero again. 77: no huge pages to map.
 */
static int
huge_client(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	static const uint8_t zero[PG];
	char msg[256];
	uint8_t *h;
	size_t k;
	int u, s, n;

	h = mmap(NULL, 2 * HP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		 -1, 0);
	if (h == MAP_FAILED)
		return 77;
	u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0 || ioctl(u, UFFDIO_API, &api) < 0)
		return 10;
	reg.range = (struct uffdio_range){ (uintptr_t)h, 2 * HP };
	if (ioctl(u, UFFDIO_REGISTER, &reg) < 0)
		return 10;
	n = snprintf(msg, sizeof(msg),
		     "[{\"base_host_virt_addr\": %lu, \"size\": %u, \"offset\": %u, "
		     "\"page_size\": %u}]",
		     (unsigned long)(uintptr_t)h, 2 * HP, HP_OFF, HP);
	s = connect_daemon();
	if (s < 0 || pagerd_test_send_fd(s, msg, (size_t)n, u) < 0)
		return 11;
	if (memcmp(h, mem + HP_OFF, 2 * HP) != 0)
		return 12;
	if (madvise(h, HP, MADV_DONTNEED) < 0)
		return 13;
	for (k = 0; k < HP; k += PG)
		if (memcmp(h + k, zero, PG) != 0)
			return 14;
	if (memcmp(h + HP, mem + HP_OFF + HP, HP) != 0)
		return 15;
	memset(h, 0xa5, HP);
	if (madvise(h, HP, MADV_DONTNEED) < 0)
		return 16;
	for (k = 0; k < HP; k += PG)
		if (memcmp(h + k, zero, PG) != 0)
			return 17;
	close(s);
	return 0;
}

static void
hugetlb_remove(void **state)
{
	int st;

	(void)state;
	client_pid = fork();
	if (client_pid == 0)
		_exit(huge_client());
	st = wait_exit(client_pid);
	client_pid = 0;
	if (st == 77)
		skip(); /* no free 2 MiB huge page (vm.nr_hugepages) */
	assert_int_equal(st, 0);
	daemon_alive();
}

static volatile uint8_t touch_sink;

static void *
toucher(void *arg)
{
	uint8_t *r = arg;
	unsigned int i;

	for (;;)
		for (i = 0; i < R1_PAGES; i++) {
			touch_sink = r[(size_t)i * PG];
			if (i == R1_PAGES - 1)
				madvise(r, R1_PAGES * PG, MADV_DONTNEED);
		}
	return NULL;
}

/* Served, then killed while its threads keep faulting. */
static void
killed_mid_restore(void **state)
{
	int i, k, p[2];
	char b;

	(void)state;
	for (k = 0; k < KILLED_CLIENTS; k++) {
		struct pollfd pfd;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		client_pid = pid;
		if (pid == 0) {
			uint8_t *r0, *r1;
			pthread_t t;
			int u, s;

			u = vmm_setup(&r0, &r1);
			if (u < 0 || vmm_handshake(FC_V16, u, r0, r1, &s) < 0 ||
			    check_pages(r0, r1, 0, 4) < 0)
				_exit(10);
			for (i = 0; i < 2; i++)
				pthread_create(&t, NULL, toucher, r1);
			if (write(p[1], "x", 1) != 1)
				_exit(11);
			for (;;)
				pause();
		}
		pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
		if (poll(&pfd, 1, 30000) != 1 || read(p[0], &b, 1) != 1) {
			kill(pid, SIGKILL);
			fail_msg("client %d of %d was not served (state of killed clients not freed?)",
				 k, KILLED_CLIENTS);
		}
		kill(pid, SIGKILL);
		assert_int_equal(wait_exit(pid), 128 + SIGKILL);
		client_pid = 0;
		close(p[0]);
		close(p[1]);
		daemon_alive();
	}
	/* And a whole restore still works after them. */
	assert_int_equal(wait_exit(spawn_good(FC_V17, NULL)), 0);
}

/* Bytes of the daemon's log (--profile runs: its stderr) from @p from, NUL-ended. */
static char *
log_read(long from)
{
	char *buf = NULL;
	long n;
	FILE *f = fopen(log_path, "r");

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < from ||
	    fseek(f, from, SEEK_SET) < 0 || (buf = calloc(1, (size_t)(n - from) + 1)) == NULL ||
	    fread(buf, 1, (size_t)(n - from), f) != (size_t)(n - from))
		fail_msg("cannot read the daemon's log %s", log_path);
	fclose(f);
	return buf;
}

/*
 * The log's poller lcores ("lcore N (cpu C, engine E): serving clients")
 * and how many of the clients handed out in @p text ("served on lcore N")
 * each got: every poller must have some.
 */
static void
log_check_spread(const char *text)
{
	unsigned int ids[16], got[16], n = 0, i, id, total = 0;
	char *all = log_read(0);
	const char *l;

	for (l = all; (l = strstr(l, "pfdk-pagerd: lcore ")) != NULL; l++)
		if (sscanf(l, "pfdk-pagerd: lcore %u", &id) == 1 && n < 16 &&
		    strstr(l, "serving clients") != NULL &&
		    strstr(l, "serving clients") < strchr(l, '\n')) {
			ids[n] = id;
			got[n++] = 0;
		}
	free(all);
	assert_int_equal(n, 2);
	for (l = text; (l = strstr(l, "served on lcore ")) != NULL; l++) {
		assert_int_equal(sscanf(l, "served on lcore %u", &id), 1);
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i == n)
			fail_msg("a client served on lcore %u, not a poller of the profile", id);
		got[i]++;
		total++;
	}
	assert_int_equal(total, CONCURRENT);
	for (i = 0; i < n; i++) {
		printf("lcore %u served %u of the %u concurrent clients\n", ids[i], got[i],
		       CONCURRENT);
		if (got[i] == 0)
			fail_msg("poller lcore %u got no client", ids[i]);
	}
}

/*
 * CONCURRENT clients restoring at once, each held half-way until all are:
 * every byte right; with --profile, both pollers serve some of them.
 */
static void
concurrent_clients(void **state)
{
	pid_t pids[CONCURRENT];
	int ready[2], go[2], hold[2], st, bad = 0;
	struct pollfd pfd;
	unsigned int i, n = 0;
	long from = 0;
	char b[CONCURRENT] = { 0 };
	char *text;

	(void)state;
	if (with_profile) {
		text = log_read(0);
		from = (long)strlen(text);
		free(text);
	}
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	hold[0] = go[0];
	hold[1] = ready[1];
	for (i = 0; i < CONCURRENT; i++) {
		pids[i] = spawn_good((enum fc_fields)(i % 3), hold);
		assert_true(pids[i] > 0);
	}
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	while (n < CONCURRENT && poll(&pfd, 1, 30000) == 1) {
		ssize_t k = read(ready[0], b, sizeof(b) - n);

		if (k <= 0)
			break;
		n += (unsigned int)k;
	}
	if (n == CONCURRENT && write(go[1], b, sizeof(b)) != (ssize_t)sizeof(b))
		n = 0;
	for (i = 0; i < CONCURRENT; i++) {
		if (n < CONCURRENT)
			kill(pids[i], SIGKILL);
		st = wait_exit(pids[i]);
		if (st != 0) {
			fprintf(stderr, "concurrent client %u: exit %d\n", i, st);
			bad++;
		}
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	if (n < CONCURRENT)
		fail_msg("only %u of %d concurrent clients were served half-way", n, CONCURRENT);
	assert_int_equal(bad, 0);
	if (with_profile) {
		text = log_read(from);
		log_check_spread(text);
		free(text);
	}
}

/* The daemon with profile @p text: exit 2 and @p want (a "FILE:LINE: [S] K: " prefix) said. */
static void
expect_refused(const char *text, const char *want, const char *why)
{
	char path[128], bad_sock[128], out[8192], msg[256];
	size_t len = 0;
	ssize_t k;
	int fd, p[2], st;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/bad.ini", dir);
	snprintf(bad_sock, sizeof(bad_sock), "%s/bad.sock", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		execl(pagerd_bin, pagerd_bin, "firecracker", "--socket", bad_sock, "--mem-file",
		      mem_path, "--profile", path, "--", "--no-telemetry", "--no-pci",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(out) - 1 && (k = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)k;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(path);
	snprintf(msg, sizeof(msg), "%s:%s", path, want);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 2 || strstr(out, msg) == NULL ||
	    strstr(out, why) == NULL)
		fail_msg("profile\n%swanted exit 2 and \"%s\" ... \"%s\"; got status %#x:\n%s",
			 text, msg, why, st, out);
}

/* Profiles pagerd does not run are refused before the EAL starts. */
static void
bad_profiles(void **state)
{
	static char busy[8192];
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char want[64];
	size_t len = 0;
	long i;

	(void)state;
	expect_refused("[lcore.1]\nrole = resolver\ncpu = 1\n", "2: [lcore.1] role: ",
		       "layout = pipeline");
	expect_refused("[device.sim0]\n[lcore.1]\nrole = poller\ncpu = 1\nengine = epoll\n",
		       "1: [device.sim0]: ", "no [device.*]");
	expect_refused("[lcore.1]\nrole = poller\ncpu = 1\nengine = uring\nsqpoll_cpu = 0\n",
		       "4: [lcore.1] engine: ", "it runs: busy, epoll");
	expect_refused("[lcore.1]\nrole = poller\ncpu = 1\nengine = spin\n",
		       "4: [lcore.1] engine: ", "is not one of");
	expect_refused("[pfdk]\nlayout = pipeline\n[lcore.1]\nrole = resolver\ncpu = 1\n",
		       "2: [pfdk] layout: ", "it runs: rtc, colocated");
	/* A busy poller on every CPU: the loader refuses it, nothing spins. */
	if (ncpus < 1 || ncpus > 100)
		return;
	for (i = 1; i <= ncpus; i++)
		len += (size_t)snprintf(busy + len, sizeof(busy) - len,
					"[lcore.%ld]\nrole = poller\ncpu = %ld\nengine = busy\n",
					i, i - 1);
	snprintf(want, sizeof(want), "%ld: [lcore.%ld] engine: ", 4 * ncpus, ncpus);
	expect_refused(busy, want, "busy-spinning");
}

static int
start_daemon(void **state)
{
	const char *bin = pagerd_bin;
	size_t i;
	int fd, s;

	(void)state;
	mem = malloc((size_t)MEM_PAGES * PG);
	if (mem == NULL)
		return -1;
	for (i = 0; i < (size_t)MEM_PAGES * PG / 8; i++) {
		uint64_t w = pagerd_test_mix(i + 0x5eed);

		memcpy(mem + i * 8, &w, 8);
	}
	snprintf(dir, sizeof(dir), "/tmp/pagerd_fc_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/uffd.sock", dir);
	snprintf(mem_path, sizeof(mem_path), "%s/guest.mem", dir);
	fd = open(mem_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, mem, (size_t)MEM_PAGES * PG) != (ssize_t)MEM_PAGES * PG)
		return -1;
	close(fd);
	if (with_profile) {
		/* Two sleeping pollers on CPUs 0 and 1 (-l 0-1 covers them). */
		static const char prof[] = "[pfdk]\nname = test\nlayout = colocated\n"
			"[lcore.1]\nrole = poller\ncpu = 0\nengine = epoll\n"
			"[lcore.2]\nrole = poller\ncpu = 1\nengine = epoll\n";

		snprintf(prof_path, sizeof(prof_path), "%s/pagerd.ini", dir);
		snprintf(log_path, sizeof(log_path), "%s/pagerd.log", dir);
		fd = open(prof_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, prof, sizeof(prof) - 1) != (ssize_t)sizeof(prof) - 1)
			return -1;
		close(fd);
	}
	daemon_pid = fork();
	if (daemon_pid == 0 && with_profile) {
		/* Its stderr to a file: the cases read which lcore served whom. */
		fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(bin, bin, "firecracker", "--socket", sock_path, "--mem-file", mem_path,
		      "--handshake-timeout", HS_TIMEOUT_STR, "--profile", prof_path,
		      "--", "-l", "0-1", "--no-telemetry", "--no-pci", "--log-level=lib.eal:warning",
		      (char *)NULL);
		perror("exec pfdk-pagerd");
		_exit(127);
	}
	if (daemon_pid == 0) {
		execl(bin, bin, "firecracker", "--socket", sock_path, "--mem-file", mem_path,
		      "--handshake-timeout", HS_TIMEOUT_STR,
		      "--", "--no-telemetry", "--no-pci", "--log-level=lib.eal:warning", (char *)NULL);
		perror("exec pfdk-pagerd");
		_exit(127);
	}
	for (i = 0; i < 600; i++) {
		s = connect_daemon();
		if (s >= 0) {
			struct stat st;

			close(s);
			if (stat(sock_path, &st) < 0 || (st.st_mode & 0777) != 0600) {
				fprintf(stderr, "socket mode %o, want 0600\n", st.st_mode & 0777);
				return -1;
			}
			return 0;
		}
		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			fprintf(stderr, "pfdk-pagerd exited before listening\n");
			return -1;
		}
		usleep(50000);
	}
	fprintf(stderr, "pfdk-pagerd did not listen within 30 s\n");
	return -1;
}

/*
 * Served half-way when the daemon stops: the rest of its pages must come
 * as the kernel's zero pages (stop unregisters every region), not hang.
 */
static int
orphan_client(int hold_w, int go_r)
{
	static const uint8_t zero[PG];
	uint8_t *r0, *r1;
	unsigned int i;
	int u, s;
	char b = 0;

	u = vmm_setup(&r0, &r1);
	if (u < 0 || vmm_handshake(FC_V112, u, r0, r1, &s) < 0)
		return 10;
	if (check_pages(r0, r1, 0, R0_PAGES) < 0)
		return 11;
	if (write(hold_w, &b, 1) != 1 || read(go_r, &b, 1) != 1)
		return 12;
	for (i = 0; i < R1_PAGES; i++)
		if (memcmp(r1 + (size_t)i * PG, zero, PG) != 0)
			return 13;
	return 0;
}

static int
stop_daemon(void **state)
{
	int st = -1, hold[2], go[2], ost, fd;
	pid_t orphan;
	char b = 0;

	(void)state;
	if (pipe(hold) < 0 || pipe(go) < 0)
		return -1;
	orphan = fork();
	if (orphan == 0)
		_exit(orphan_client(hold[1], go[0]));
	close(hold[1]);
	close(go[0]);
	if (read(hold[0], &b, 1) != 1) {
		fprintf(stderr, "the last client was not served (exit %d)\n", wait_exit(orphan));
		/* Not left running: it would hold meson's output pipes open. */
		pagerd_test_reap(&daemon_pid);
		teardown_failed = 1;
		return -1;
	}
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, &st, 0);
	if (!WIFEXITED(st)) {
		/* Killed: nobody reads the client's uffd now; it would wait forever. */
		kill(orphan, SIGKILL);
		waitpid(orphan, NULL, 0);
		fprintf(stderr, "pfdk-pagerd did not stop cleanly on SIGTERM (status %#x)\n", st);
		teardown_failed = 1;
		return -1;
	}
	if (write(go[1], &b, 1) != 1)
		return -1;
	waitpid(orphan, &ost, 0);
	close(hold[0]);
	close(go[1]);
	if (!WIFEXITED(ost) || WEXITSTATUS(ost) != 0) {
		fprintf(stderr, "a client the daemon was serving when it stopped: status %#x (13: not zero pages)\n",
			ost);
		teardown_failed = 1;
		return -1;
	}
	if (with_profile) {
		/* The daemon's log, for whoever reads the test's. */
		char buf[4096];
		ssize_t k;

		fd = open(log_path, O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && (k = read(fd, buf, sizeof(buf))) > 0)
			if (write(2, buf, (size_t)k) != k)
				break;
		if (fd >= 0)
			close(fd);
		unlink(log_path);
		unlink(prof_path);
	}
	unlink(mem_path);
	unlink(sock_path);
	rmdir(dir);
	free(mem);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pfdk-pagerd did not stop cleanly on SIGTERM (status %#x)\n", st);
		teardown_failed = 1;
		return -1;
	}
	return 0;
}

/*
 * After every case, passed or failed. The daemon serves the whole group
 * (stop_daemon() ends it), but a client a failed case left would wait for
 * the rest of its test forever (it holds both ends of its pipes), holding
 * meson's output pipes open after the test exits.
 */
static int
case_teardown(void **state)
{
	(void)state;
	pagerd_test_reap(&client_pid);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(fields_v16, case_teardown),
		cmocka_unit_test_teardown(fields_v17, case_teardown),
		cmocka_unit_test_teardown(fields_v112, case_teardown),
		cmocka_unit_test_teardown(hostile_clients, case_teardown),
		cmocka_unit_test_teardown(killed_mid_restore, case_teardown),
		cmocka_unit_test_teardown(remove_while_faulting, case_teardown),
		cmocka_unit_test_teardown(handshake_deadline, case_teardown),
		cmocka_unit_test_teardown(deadline_frees_slots, case_teardown),
		cmocka_unit_test_teardown(background_push, case_teardown),
		cmocka_unit_test_teardown(hugetlb_remove, case_teardown),
		cmocka_unit_test_teardown(concurrent_clients, case_teardown),
		cmocka_unit_test(handshake_timeout_option),
	};
	/* The same with --profile, and the profiles it refuses. */
	const struct CMUnitTest prof_tests[] = {
		cmocka_unit_test_teardown(fields_v16, case_teardown),
		cmocka_unit_test_teardown(hostile_clients, case_teardown),
		cmocka_unit_test_teardown(concurrent_clients, case_teardown),
		cmocka_unit_test_teardown(killed_mid_restore, case_teardown),
		cmocka_unit_test_teardown(remove_while_faulting, case_teardown),
		cmocka_unit_test_teardown(deadline_frees_slots, case_teardown),
		cmocka_unit_test_teardown(background_push, case_teardown),
		cmocka_unit_test_teardown(hugetlb_remove, case_teardown),
		cmocka_unit_test(bad_profiles),
	};
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PFDK_PAGERD\n", argv[0]);
		return 1;
	}
	pagerd_bin = argv[1];
	test_watchdog("pagerd_fc", 240);
	signal(SIGPIPE, SIG_IGN);
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: the stand-in VMM needs userfaultfd(2) with kernel faults: %s\n",
		       strerror(errno));
		return TEST_SKIP;
	}
	close(fd);
	fd = cmocka_run_group_tests_name("pagerd firecracker", tests, start_daemon,
					 stop_daemon);
	if (fd != 0 || teardown_failed)
		return fd != 0 ? fd : teardown_failed;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("SKIP: --profile: its two pollers need 2 CPUs\n");
		return 0;
	}
	with_profile = true;
	fd = cmocka_run_group_tests_name("pagerd firecracker --profile", prof_tests, start_daemon,
					 stop_daemon);
	return fd != 0 ? fd : teardown_failed;
}
