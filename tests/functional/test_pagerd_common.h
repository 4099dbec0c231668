/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_TEST_PAGERD_COMMON_H
#define PFDK_TEST_PAGERD_COMMON_H

/*
 * Shared by the pfdk-pagerd tests (firecracker and criu modes): the page
 * pattern, the UNIX socket side of a client (connect, send an fd by
 * SCM_RIGHTS) and reaping a child a failed case left behind.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* murmur3's finalizer: a page served from a wrong offset never matches by chance. */
static inline uint64_t
pagerd_test_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Connect socket @p s to the UNIX socket at @p path (one try): 0, or -1 (errno). */
static inline int
pagerd_test_connect(int s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	return connect(s, (struct sockaddr *)&sa, sizeof(sa));
}

/* One sendmsg of @p len bytes with @p fd (or none when -1): 0, or -1. */
static inline int
pagerd_test_send_fd(int s, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/*
 * SIGKILL and reap child *@p pid if it is still running, so that a failed
 * case does not leave it serving (or waiting) under the next one; *@p pid
 * becomes 0. One reaped already is not signalled: its pid may be another
 * process's by now.
 */
static inline void
pagerd_test_reap(pid_t *pid)
{
	if (*pid <= 0)
		return;
	if (waitpid(*pid, NULL, WNOHANG) == 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

#endif /* PFDK_TEST_PAGERD_COMMON_H */
