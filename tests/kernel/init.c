/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PID 1 of the rig's guest. The root is the host's / over 9p, read-only;
 * this mounts what a test needs (proc, sys, devtmpfs, tmpfs on /tmp, /run
 * and /dev/shm, hugetlbfs), reserves hugepages, mounts the writable results
 * share (9p tag "pfdkout") on /run/pfdk, runs /run/pfdk/cmd.sh with
 * /bin/sh, writes its exit status to /run/pfdk/status, says it on the
 * console and powers off. Anything that goes wrong is printed and still
 * ends in a power-off, so the host never waits on a guest that hangs
 * around.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void
mnt(const char *src, const char *dst, const char *type, const char *opts)
{
	mkdir(dst, 0755); /* exists on the read-only root, or fails harmlessly */
	if (mount(src, dst, type, 0, opts) < 0)
		fprintf(stderr, "pfdk-init: mount %s on %s: %s\n", type, dst, strerror(errno));
}

static void
put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		fprintf(stderr, "pfdk-init: write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	const char *huge = getenv("pfdk_hugepages");
	char buf[64];
	int status = -1, rc = 255;
	pid_t pid;

	mnt("proc", "/proc", "proc", NULL);
	mnt("sysfs", "/sys", "sysfs", NULL);
	mnt("devtmpfs", "/dev", "devtmpfs", NULL);
	mnt("tmpfs", "/dev/shm", "tmpfs", "mode=1777");
	mnt("tmpfs", "/tmp", "tmpfs", "mode=1777");
	mnt("tmpfs", "/run", "tmpfs", "mode=755");
	mnt("hugetlbfs", "/dev/hugepages", "hugetlbfs", NULL);
	mnt("pfdkout", "/run/pfdk", "9p", "trans=virtio,version=9p2000.L,msize=262144");
	put("/proc/sys/vm/nr_hugepages", huge != NULL ? huge : "64");
	/* /dev/userfaultfd is root-only, as on the host. */
	put("/proc/sys/vm/unprivileged_userfaultfd", "0");

	pid = fork();
	if (pid == 0) {
		char *argv[] = { "/bin/sh", "/run/pfdk/cmd.sh", NULL };
		char *envp[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				 "HOME=/tmp", "TMPDIR=/tmp", "PFDK_IN_GUEST=1", NULL };

		setsid();
		execve(argv[0], argv, envp);
		fprintf(stderr, "pfdk-init: exec /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid > 0) {
		/* Reap everything; the command's own status is the one kept. */
		for (;;) {
			int st;
			pid_t w = wait(&st);

			if (w == pid)
				status = st;
			if (w < 0 && errno == ECHILD)
				break;
		}
		if (WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			rc = 128 + WTERMSIG(status);
	} else {
		fprintf(stderr, "pfdk-init: fork: %s\n", strerror(errno));
	}
	snprintf(buf, sizeof(buf), "%d\n", rc);
	put("/run/pfdk/status", buf);
	sync();
	printf("pfdk-init: command exited %d, powering off\n", rc);
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0; /* PID 1 exiting panics: panic=-1 + -no-reboot end QEMU too */
}
