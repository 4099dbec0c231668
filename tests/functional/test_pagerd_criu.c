/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd criu against a stand-in CRIU restorer. The test writes a
 * synthetic image set in CRIU's format (pagemap-<pid>.img: magics, then
 * length-prefixed protobuf pagemap_head and pagemap_entry messages with
 * LAZY|PRESENT, PRESENT-only and no entries over holes; pages-<id>.img:
 * the PRESENT pages in order). Each task is a child process that maps its
 * area at the image's addresses, fills the PRESENT-only pages itself (the
 * restorer's eager part), creates a uffd with the syscall with
 * EVENT_FORK|REMAP|UNMAP|REMOVE, registers the area MISSING and hands the
 * uffd to the test, which speaks the lazy-pages protocol for all tasks on
 * one connection (pid, then one byte with the fd; -pid for a zombie; RSTF)
 * and keeps no copy of the uffd, as CRIU does.
 *
 * Every byte of every task is checked: image pages, zero pages for holes
 * (UFFDIO_ZEROPAGE), after mremap (the runtime-to-image map), munmap,
 * MADV_DONTNEED (zero afterwards) and in a fork child (its own uffd, the
 * parent's image view). Each case runs its own daemon, which must exit 0
 * when every page is delivered and 1 when the restore failed (EOF before
 * RSTF, a malformed message); a task killed mid-restore must not stop the
 * other one, and no task may hang (each has an alarm). A case that fails
 * has its daemon and tasks killed by its teardown, so the next one runs.
 * The full restore runs again with --profile: the loop on its poller lcore.
 * Usage: test_pagerd_criu PFDK_PAGERD
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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
#include <unistd.h>

#include "test_common.h"
#include "test_pagerd_common.h"

#define PG 4096u
#define NPAGES 1024u /* one task's area: 4 MiB, two background pushes */
#define RSTF 0x52535446
#define PE_LAZY 2u
#define PE_PRESENT 4u

/* The area's layout in pages: [first, end) with flags; gaps are holes. */
static const struct { unsigned int first, end, flags; } layout[] = {
	{ 0, 256, PE_LAZY | PE_PRESENT },
	/* 256..320: no entry (never touched before the dump): zero */
	{ 320, 700, PE_LAZY | PE_PRESENT },
	{ 700, 760, PE_PRESENT },          /* eager: the restorer fills it */
	{ 760, 1000, PE_LAZY | PE_PRESENT },
	/* 1000..1024: zero */
};

/* Where the events happen (pages). */
#define REMAP_FIRST 800u
#define REMAP_END 900u
#define UNMAP_FIRST 950u
#define UNMAP_END 1000u
#define DONTNEED_END 64u

static char dir[64], sock_path[96];
static const char *pagerd_bin;
static pid_t daemon_pid;  /* 0 once reaped */
/* The case's tasks not reaped yet: a failed case's are killed by its teardown. */
static pid_t task_pids[2];

static uint8_t *
area_of(int vpid)
{
	return (uint8_t *)(uintptr_t)(0x7e0000000000ull + (uint64_t)vpid * 0x100000000ull);
}

static bool
page_in_image(unsigned int p)
{
	size_t i;

	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		if (p >= layout[i].first && p < layout[i].end)
			return true;
	return false;
}

/* What page @p p of task @p vpid holds in its image (zero for a hole). */
static void
expect(int vpid, unsigned int p, uint8_t *out)
{
	unsigned int i;

	if (!page_in_image(p)) {
		memset(out, 0, PG);
		return;
	}
	for (i = 0; i < PG / 8; i++) {
		uint64_t w = pagerd_test_mix((uint64_t)vpid << 40 | (uint64_t)p << 12 | i);

		memcpy(out + i * 8, &w, 8);
	}
}

/* ---- CRIU's image format, written byte by byte ---- */

static size_t
varint(uint8_t *b, uint64_t v)
{
	size_t n = 0;

	do {
		b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static size_t
field(uint8_t *b, unsigned int f, uint64_t v)
{
	size_t n = varint(b, (uint64_t)f << 3);

	return n + varint(b + n, v);
}

static int
put_msg(FILE *f, const uint8_t *m, uint32_t len)
{
	return fwrite(&len, 4, 1, f) == 1 && fwrite(m, 1, len, f) == len ? 0 : -1;
}

/* pagemap-<vpid>.img (pages_id = vpid) and pages-<vpid>.img. */
static int
write_images(int vpid)
{
	char path[192];
	uint8_t m[64], pg[PG];
	uint32_t magic[2] = { 0x54564319u, 0x56084025u };
	unsigned int p;
	size_t i, n;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/pagemap-%d.img", dir, vpid);
	f = fopen(path, "w");
	if (f == NULL || fwrite(magic, 4, 2, f) != 2)
		return -1;
	n = field(m, 1, (uint64_t)vpid); /* pagemap_head.pages_id */
	ret |= put_msg(f, m, (uint32_t)n);
	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		n = field(m, 1, (uint64_t)(uintptr_t)(area_of(vpid) + (size_t)layout[i].first * PG));
		n += field(m + n, 2, layout[i].end - layout[i].first);
		n += field(m + n, 4, layout[i].flags);
		ret |= put_msg(f, m, (uint32_t)n);
	}
	ret |= fclose(f);
	snprintf(path, sizeof(path), "%s/pages-%d.img", dir, vpid);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		for (p = layout[i].first; p < layout[i].end; p++) {
			expect(vpid, p, pg);
			if (fwrite(pg, PG, 1, f) != 1)
				ret = -1;
		}
	ret |= fclose(f);
	return ret;
}

/* ---- fds over sockets ---- */

static int
recv_fd(int s)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int
put_byte(int s, char b)
{
	return write(s, &b, 1) == 1 ? 0 : -1;
}

static int
get_byte(int s, char want)
{
	char b = 0;

	return read(s, &b, 1) == 1 && b == want ? 0 : -1;
}

/* ---- a task ---- */

/* Touch and check pages [from, to) at @p at, which hold image pages from @p img_first. */
static int
check_range(int vpid, const uint8_t *at, unsigned int img_first, unsigned int n,
	    bool zero)
{
	uint8_t want[PG];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (zero)
			memset(want, 0, PG);
		else
			expect(vpid, img_first + i, want);
		if (memcmp(at + (size_t)i * PG, want, PG) != 0) {
			fprintf(stderr, "task %d: page %u (at %p) differs%s\n", vpid, img_first + i,
				(const void *)(at + (size_t)i * PG), zero ? " from zero" : "");
			return -1;
		}
	}
	return 0;
}

/* T_RESIDENT: T_SIMPLE, first sending how many of pages 0..255 are resident. */
enum task_mode { T_FULL, T_SIMPLE, T_RESIDENT };

/*
 * Set around task_spawn(): the task sends its uffd before it maps and
 * registers its area, and does both only on 'm' (then says 'k'), as
 * criu's restorer does (its restorer blob maps lazy areas in place and
 * registers them after the uffd went to the daemon).
 */
static bool late_register;

/*
 * In a child: set up like CRIU's restorer, send the uffd over @p ctl,
 * wait for 'g', check the first part (T_FULL: also mremap, munmap,
 * MADV_DONTNEED and a fork), say 'h', wait for 'r' (RSTF sent), check the
 * rest. Exit 0 when every byte matched.
 */
static int
task_main(int vpid, int ctl, enum task_mode mode)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK |
				  UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP |
				  UFFD_FEATURE_EVENT_REMOVE };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	uint8_t *a = area_of(vpid), *moved = area_of(vpid) + 0x10000000;
	unsigned int p;
	pid_t child;
	int u, st;

	alarm(60); /* a page that never comes must fail the test, not hang it */
	u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u < 0 || ioctl(u, UFFDIO_API, &api) < 0)
		return 21;
	if (late_register && (pagerd_test_send_fd(ctl, "u", 1, u) < 0 || get_byte(ctl, 'm') < 0))
		return 23;
	if (mmap(a, (size_t)NPAGES * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != a)
		return 20;
	for (p = 700; p < 760; p++) /* the eager part */
		expect(vpid, p, a + (size_t)p * PG);
	reg.range = (struct uffdio_range){ (uintptr_t)a, (uint64_t)NPAGES * PG };
	if (ioctl(u, UFFDIO_REGISTER, &reg) < 0)
		return 22;
	if (late_register ? put_byte(ctl, 'k') < 0 : pagerd_test_send_fd(ctl, "u", 1, u) < 0)
		return 23;
	close(u); /* the restorer keeps no copy */
	if (get_byte(ctl, 'g') < 0)
		return 24;
	if (mode == T_RESIDENT) {
		/* Installed before any access (replay) is resident; a hole is not. */
		unsigned char vec[256];
		uint32_t n = 0;

		if (mincore(a, 256 * PG, vec) < 0)
			return 26;
		for (p = 0; p < 256; p++)
			n += vec[p] & 1;
		if (send(ctl, &n, sizeof(n), MSG_NOSIGNAL) != (ssize_t)sizeof(n))
			return 27;
	}
	if (check_range(vpid, a, 0, 256, false) < 0 || check_range(vpid, a + 256 * PG, 256, 64, true) < 0)
		return 30;
	if (mode == T_FULL) {
		/* mremap untouched pages: faults come at the new address. */
		if (mremap(a + (size_t)REMAP_FIRST * PG, (REMAP_END - REMAP_FIRST) * PG,
			   (REMAP_END - REMAP_FIRST) * PG, MREMAP_MAYMOVE | MREMAP_FIXED, moved) != moved)
			return 31;
		if (check_range(vpid, moved, REMAP_FIRST, REMAP_END - REMAP_FIRST, false) < 0)
			return 32;
		if (munmap(a + (size_t)UNMAP_FIRST * PG, (UNMAP_END - UNMAP_FIRST) * PG) < 0)
			return 33;
		/* DONTNEED'd anonymous memory reads as zero, with or without a pager. */
		if (madvise(a, DONTNEED_END * PG, MADV_DONTNEED) < 0 ||
		    check_range(vpid, a, 0, DONTNEED_END, true) < 0)
			return 34;
		/* A fork child faults on its own uffd with the parent's image view. */
		child = fork();
		if (child == 0)
			_exit(check_range(vpid, a + 320 * PG, 320, 380, false) < 0 ? 1 : 0);
		if (child < 0 || waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			return 35;
	}
	if (put_byte(ctl, 'h') < 0 || get_byte(ctl, 'r') < 0)
		return 25;
	if (mode == T_FULL) {
		if (check_range(vpid, a + DONTNEED_END * PG, DONTNEED_END, 256 - DONTNEED_END, false) < 0 ||
		    check_range(vpid, a + 256 * PG, 256, 64, true) < 0 ||
		    check_range(vpid, a + 320 * PG, 320, REMAP_FIRST - 320, false) < 0 ||
		    check_range(vpid, moved, REMAP_FIRST, REMAP_END - REMAP_FIRST, false) < 0 ||
		    check_range(vpid, a + (size_t)REMAP_END * PG, REMAP_END, UNMAP_FIRST - REMAP_END, false) < 0 ||
		    check_range(vpid, a + (size_t)UNMAP_END * PG, UNMAP_END, NPAGES - UNMAP_END, true) < 0)
			return 40;
	} else if (check_range(vpid, a + 320 * PG, 320, 680, false) < 0 ||
		   check_range(vpid, a + 1000 * PG, 1000, 24, true) < 0) {
		return 40;
	}
	return 0;
}

struct task {
	int vpid;
	pid_t pid;
	int ctl;  /* the test's end of the control socket */
	int uffd; /* received from the task, until sent on */
};

/* Add @p pid to task_pids (@p live) or take it out. */
static void
task_track(pid_t pid, bool live)
{
	size_t i;

	for (i = 0; i < sizeof(task_pids) / sizeof(task_pids[0]); i++)
		if (task_pids[i] == (live ? 0 : pid)) {
			task_pids[i] = live ? pid : 0;
			return;
		}
	assert_false(live); /* more tasks than task_pids holds */
}

static void
task_spawn(struct task *t, int vpid, enum task_mode mode)
{
	int sv[2];

	t->vpid = vpid;
	assert_int_equal(write_images(vpid), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		close(sv[0]);
		_exit(task_main(vpid, sv[1], mode));
	}
	task_track(t->pid, true);
	close(sv[1]);
	t->ctl = sv[0];
	t->uffd = recv_fd(t->ctl);
	assert_true(t->uffd >= 0);
}

static int
task_wait(struct task *t)
{
	int st = 0;

	close(t->ctl);
	if (waitpid(t->pid, &st, 0) != t->pid)
		return -1;
	task_track(t->pid, false);
	if (!WIFEXITED(st))
		fprintf(stderr, "task %d: killed by signal %d\n", t->vpid, WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		fprintf(stderr, "task %d: exit %d\n", t->vpid, WEXITSTATUS(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the daemon and the restorer's connection ---- */

/* --profile for the daemons started (NULL: none) and their log then. */
static const char *daemon_profile, *daemon_log;

/* Start the daemon; its stderr into @p log when not NULL. */
static void
daemon_start_log(const char *log)
{
	struct stat st;
	int i;

	daemon_pid = fork();
	assert_true(daemon_pid >= 0);
	if (daemon_pid == 0) {
		if (log != NULL) {
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(126);
		}
		if (daemon_profile != NULL)
			execl(pagerd_bin, pagerd_bin, "criu", "-D", dir, "-W", dir, "--profile",
			      daemon_profile, "--", "-l", "0-1", "--no-telemetry", "--no-pci",
			      "--log-level=lib.eal:warning", (char *)NULL);
		/* -W: the socket in the work dir, the images in -D. */
		execl(pagerd_bin, pagerd_bin, "criu", "-D", dir, "-W", dir, "--", "--no-telemetry",
		      "--no-pci", "--log-level=lib.eal:warning", (char *)NULL);
		perror("exec pfdk-pagerd");
		_exit(127);
	}
	/* Do not connect to probe: the first connection is the restore. */
	for (i = 0; i < 600; i++) {
		if (stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
			assert_int_equal(st.st_mode & 0777, 0600);
			break;
		}
		assert_int_equal(waitpid(daemon_pid, NULL, WNOHANG), 0);
		usleep(50000);
	}
	assert_true(i < 600);
}

static void
daemon_start(void)
{
	daemon_start_log(daemon_log);
}

static int
restorer_connect(void)
{
	int i, s;

	for (i = 0; i < 200; i++) { /* bound, not yet listening: refused */
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(s >= 0);
		if (pagerd_test_connect(s, sock_path) == 0)
			return s;
		close(s);
		usleep(20000);
	}
	fail_msg("cannot connect to %s", sock_path);
	return -1;
}

static void
send_pid(int s, int32_t v)
{
	assert_int_equal(send(s, &v, sizeof(v), MSG_NOSIGNAL), (ssize_t)sizeof(v));
}

/* A task's turn: its pid, then one byte with its uffd; the restorer's copy goes. */
static void
send_task(int s, struct task *t)
{
	send_pid(s, t->vpid);
	assert_int_equal(pagerd_test_send_fd(s, "\0", 1, t->uffd), 0);
	close(t->uffd);
	t->uffd = -1;
}

/* The daemon's exit status; fails the test if it does not exit within 60 s. */
static int
daemon_wait(void)
{
	int i, st = 0;

	for (i = 0; i < 1200; i++) {
		pid_t r = waitpid(daemon_pid, &st, WNOHANG);

		if (r == daemon_pid) {
			daemon_pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(50000);
	}
	pagerd_test_reap(&daemon_pid);
	fail_msg("pfdk-pagerd criu did not exit within 60 s");
	return -1;
}

static void
clean_dir(void)
{
	char cmd[320];

	snprintf(cmd, sizeof(cmd), "rm -f %s/*.img %s/*.trace %s/*.log", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * Two tasks, every event: holes, mremap, munmap, MADV_DONTNEED, fork; a
 * zombie between them; RSTF; every page delivered, exit 0.
 */
static void
full_restore(void **state)
{
	char trace[128];
	struct task t[2];
	int s, i;

	(void)state;
	daemon_start();
	task_spawn(&t[0], 11, T_FULL);
	task_spawn(&t[1], 12, T_FULL);
	s = restorer_connect();
	send_task(s, &t[0]);
	send_pid(s, -13); /* a zombie: no fd */
	send_task(s, &t[1]);
	for (i = 0; i < 2; i++)
		assert_int_equal(put_byte(t[i].ctl, 'g'), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(get_byte(t[i].ctl, 'h'), 0);
	send_pid(s, RSTF);
	for (i = 0; i < 2; i++)
		assert_int_equal(put_byte(t[i].ctl, 'r'), 0);
	assert_int_equal(daemon_wait(), 0);
	/* The background push delivered what the tasks had not touched. */
	for (i = 0; i < 2; i++)
		assert_int_equal(task_wait(&t[i]), 0);
	close(s);
	/* They remapped memory: fault addresses were not image addresses. */
	snprintf(trace, sizeof(trace), "%s/pfdk-ws-11.trace", dir);
	assert_int_equal(access(trace, F_OK), -1);
	clean_dir();
}

static bool log_has(const char *path, const char *what);

/*
 * The same restore with --profile: the loop runs on the profile's poller
 * lcore (epoll, CPU 1), and says so.
 */
static void
profile_restore(void **state)
{
	static const char prof[] = "[pfdk]\nlayout = colocated\n"
		"[lcore.1]\nrole = poller\ncpu = 1\nengine = epoll\n";
	char ini[128], log[128];
	int fd;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip();
	snprintf(ini, sizeof(ini), "%s/pagerd-profile.ini", dir);
	snprintf(log, sizeof(log), "%s/pagerd-profile.out", dir);
	fd = open(ini, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, prof, sizeof(prof) - 1), (ssize_t)sizeof(prof) - 1);
	close(fd);
	daemon_profile = ini;
	daemon_log = log;
	full_restore(state);
	daemon_profile = NULL;
	daemon_log = NULL;
	assert_true(log_has(log, "criu: the loop runs on lcore 1 (cpu 1, engine epoll)"));
	assert_true(log_has(log, "every page delivered"));
	unlink(ini);
	unlink(log);
}

/* @p path holds @p what (a daemon's log line), within 10 s. */
static bool
log_has(const char *path, const char *what)
{
	char buf[16384];
	int i;

	for (i = 0; i < 200; i++) {
		FILE *f = fopen(path, "re");
		size_t n = 0;

		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if (strstr(buf, what) != NULL)
			return true;
		usleep(50000);
	}
	return false;
}

/*
 * One restore of task @p vpid in T_RESIDENT mode; @p late: it maps and
 * registers its area only after the daemon had its uffd for a while.
 * @return pages resident at 'g'.
 */
static uint32_t
resident_restore(int vpid, const char *log, bool wait_replay, bool late)
{
	struct task t;
	uint32_t n = UINT32_MAX;
	int s;

	daemon_start_log(log);
	late_register = late;
	task_spawn(&t, vpid, T_RESIDENT);
	late_register = false;
	s = restorer_connect();
	send_task(s, &t);
	if (late) {
		usleep(300000); /* the daemon sets up and replays into nothing yet */
		assert_int_equal(put_byte(t.ctl, 'm'), 0);
		assert_int_equal(get_byte(t.ctl, 'k'), 0);
	}
	if (wait_replay)
		assert_true(log_has(log, "working set replayed"));
	assert_int_equal(put_byte(t.ctl, 'g'), 0);
	assert_int_equal(recv(t.ctl, &n, sizeof(n), MSG_WAITALL), (ssize_t)sizeof(n));
	assert_int_equal(get_byte(t.ctl, 'h'), 0);
	send_pid(s, RSTF);
	assert_int_equal(put_byte(t.ctl, 'r'), 0);
	assert_int_equal(daemon_wait(), 0);
	assert_int_equal(task_wait(&t), 0);
	close(s);
	return n;
}

/*
 * Record and replay: the first restore records the pages that faulted
 * (pages 0..319 are touched before RSTF) to pfdk-ws-31.trace; the second
 * restore of the same images installs them before the task touches any,
 * so they are resident when it looks. Every byte is still checked. The
 * first restore's tasks in full_restore remapped memory: nothing was
 * recorded for them.
 */
static void
working_set_replay(void **state)
{
	char trace[128], log[128], buf[64];
	struct stat st;
	uint32_t first, second;
	uint64_t count;
	FILE *f;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/pfdk-ws-31.trace", dir);
	snprintf(log, sizeof(log), "%s/pagerd.log", dir);
	first = resident_restore(31, log, false, false);
	assert_int_equal(first, 0); /* nothing installed before the first touch */
	assert_true(log_has(log, "working set: "));
	f = fopen(trace, "re");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, 16, f), 16);
	fclose(f);
	assert_memory_equal(buf, "PFDKWS1\n", 8);
	memcpy(&count, buf + 8, sizeof(count));
	/* At least the 256 data pages touched before RSTF, at most the area. */
	assert_true(count >= 256 && count <= NPAGES);
	assert_int_equal(stat(trace, &st), 0);
	assert_int_equal((uint64_t)st.st_size, 16 + count * 8);
	second = resident_restore(31, log, true, false);
	assert_int_equal(second, 256);
	assert_true(log_has(log, "replaying a working set of"));
	clean_dir();
}

/*
 * As criu's restorer does: the uffd comes first, the area is mapped and
 * registered 300 ms later. The daemon's setup must not need the area
 * (a register of its own failed there, and the restore with it), and a
 * replay that starts before the area is registered must wait for it, not
 * drop the pages: on the second restore all 256 recorded pages are
 * resident before the first touch.
 */
static void
late_register_replay(void **state)
{
	char log[128];

	(void)state;
	snprintf(log, sizeof(log), "%s/pagerd.log", dir);
	assert_int_equal(resident_restore(61, log, false, true), 0);
	assert_true(log_has(log, "working set: "));
	assert_int_equal(resident_restore(61, log, true, true), 256);
	clean_dir();
}

/* A hostile trace (bad count, unaligned page): ignored, the restore goes on. */
static void
bad_trace(void **state)
{
	static const uint8_t bad[2][24] = {
		{ 'P', 'F', 'D', 'K', 'W', 'S', '1', '\n', 9, 0, 0, 0, 0, 0, 0, 0 },
		{ 'P', 'F', 'D', 'K', 'W', 'S', '1', '\n', 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10 },
	};
	char trace[128], log[128];
	unsigned int k;
	FILE *f;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/pfdk-ws-32.trace", dir);
	snprintf(log, sizeof(log), "%s/pagerd.log", dir);
	for (k = 0; k < 2; k++) {
		assert_int_equal(write_images(32), 0);
		f = fopen(trace, "we");
		assert_non_null(f);
		assert_int_equal(fwrite(bad[k], 1, sizeof(bad[k]), f), sizeof(bad[k]));
		fclose(f);
		assert_int_equal(resident_restore(32, log, false, false), 0);
		assert_true(log_has(log, k == 0 ? "does not match" : "not page aligned"));
		clean_dir();
	}
}

/* EOF before RSTF: the restore failed (exit 1); the task never hangs. */
static void
eof_before_rstf(void **state)
{
	struct task t;
	int s, ret;

	(void)state;
	daemon_start();
	task_spawn(&t, 21, T_SIMPLE);
	s = restorer_connect();
	send_task(s, &t);
	assert_int_equal(put_byte(t.ctl, 'g'), 0);
	assert_int_equal(get_byte(t.ctl, 'h'), 0);
	close(s);
	assert_int_equal(daemon_wait(), 1);
	/* Its pages are now the kernel's (zero): the check fails, but returns. */
	assert_int_equal(put_byte(t.ctl, 'r'), 0);
	ret = task_wait(&t);
	assert_true(ret == 0 || ret == 40);
	clean_dir();
}

/* One task killed mid-restore; the other goes on; exit 0. */
static void
killed_mid_restore(void **state)
{
	struct task t[2];
	int s, i;

	(void)state;
	daemon_start();
	for (i = 0; i < 2; i++)
		task_spawn(&t[i], 31 + i, T_SIMPLE);
	s = restorer_connect();
	for (i = 0; i < 2; i++)
		send_task(s, &t[i]);
	for (i = 0; i < 2; i++)
		assert_int_equal(put_byte(t[i].ctl, 'g'), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(get_byte(t[i].ctl, 'h'), 0);
	assert_int_equal(kill(t[0].pid, SIGKILL), 0);
	assert_int_equal(task_wait(&t[0]), 128 + SIGKILL);
	send_pid(s, RSTF);
	assert_int_equal(put_byte(t[1].ctl, 'r'), 0);
	assert_int_equal(task_wait(&t[1]), 0);
	assert_int_equal(daemon_wait(), 0);
	close(s);
	clean_dir();
}

/* Malformed: a task's byte comes without an fd. Logged, exit 1. */
static void
malformed_message(void **state)
{
	struct task t;
	int s, ret, s2;

	(void)state;
	daemon_start();
	task_spawn(&t, 41, T_SIMPLE);
	s = restorer_connect();
	send_task(s, &t);
	/* A second connection is refused; the first is not disturbed. */
	s2 = restorer_connect();
	assert_int_equal(put_byte(t.ctl, 'g'), 0);
	assert_int_equal(get_byte(t.ctl, 'h'), 0);
	send_pid(s, 42);
	assert_int_equal(pagerd_test_send_fd(s, "\0", 1, -1), 0);
	assert_int_equal(daemon_wait(), 1);
	assert_int_equal(put_byte(t.ctl, 'r'), 0);
	ret = task_wait(&t);
	assert_true(ret == 0 || ret == 40);
	close(s2);
	close(s);
	clean_dir();
}

/* A task whose images are missing: refused, the restore fails. */
static void
missing_images(void **state)
{
	struct task t;
	char path[192];
	int s, ret;

	(void)state;
	daemon_start();
	task_spawn(&t, 51, T_SIMPLE);
	snprintf(path, sizeof(path), "%s/pagemap-51.img", dir);
	assert_int_equal(unlink(path), 0);
	s = restorer_connect();
	send_task(s, &t);
	assert_int_equal(put_byte(t.ctl, 'g'), 0);
	send_pid(s, RSTF);
	assert_int_equal(daemon_wait(), 1);
	/* Closed at once: the task's pages are the kernel's zeros. */
	if (get_byte(t.ctl, 'h') == 0)
		put_byte(t.ctl, 'r');
	ret = task_wait(&t);
	assert_true(ret == 30 || ret == 40);
	close(s);
	clean_dir();
}

/*
 * After every case, passed or failed: a failed assertion leaves the case
 * at once, and its daemon would go on listening (the next case's restorer
 * could reach it, not its own daemon) and its tasks waiting for pages.
 */
static int
case_teardown(void **state)
{
	size_t i;

	(void)state;
	pagerd_test_reap(&daemon_pid);
	for (i = 0; i < sizeof(task_pids) / sizeof(task_pids[0]); i++)
		pagerd_test_reap(&task_pids[i]);
	/* A killed daemon leaves its socket: the next daemon_start() must not see it. */
	unlink(sock_path);
	daemon_profile = NULL; /* a failed profile_restore leaves them set */
	daemon_log = NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(full_restore, case_teardown),
		cmocka_unit_test_teardown(profile_restore, case_teardown),
		cmocka_unit_test_teardown(eof_before_rstf, case_teardown),
		cmocka_unit_test_teardown(killed_mid_restore, case_teardown),
		cmocka_unit_test_teardown(malformed_message, case_teardown),
		cmocka_unit_test_teardown(missing_images, case_teardown),
		cmocka_unit_test_teardown(working_set_replay, case_teardown),
		cmocka_unit_test_teardown(late_register_replay, case_teardown),
		cmocka_unit_test_teardown(bad_trace, case_teardown),
	};
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK };
	int fd, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PFDK_PAGERD\n", argv[0]);
		return 1;
	}
	pagerd_bin = argv[1];
	test_watchdog("pagerd_criu", 300);
	signal(SIGPIPE, SIG_IGN);
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0) {
		printf("SKIP: the stand-in restorer needs userfaultfd(2) with EVENT_FORK (CAP_SYS_PTRACE): %s\n",
		       strerror(errno));
		return TEST_SKIP;
	}
	close(fd);
	snprintf(dir, sizeof(dir), "/tmp/pagerd_criu_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/lazy-pages.socket", dir);
	ret = cmocka_run_group_tests_name("pagerd criu", tests, NULL, NULL);
	clean_dir();
	rmdir(dir);
	return ret;
}
