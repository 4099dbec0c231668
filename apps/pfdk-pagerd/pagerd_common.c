/* SPDX-License-Identifier: BSD-3-Clause */
/* pfdk-pagerd: what the firecracker and criu modes share (pagerd.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "pfdk_uffd.h"
#include "pagerd.h"

uid_t pagerd_uids[PAGERD_MAX_UIDS];
int pagerd_nuids;
struct rte_mempool *pagerd_pool;
uint32_t pagerd_push_idle = 1000;
uint32_t pagerd_poll_us = 2000;
uint32_t pagerd_fault_around;

int
pagerd_parse_uint(const char *opt, const char *arg, uint32_t lo, uint32_t hi, const char *unit,
		  uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	/* strtoul also takes leading spaces and a sign: digits only. */
	if (errno != 0 || !isdigit((unsigned char)arg[0]) || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "pfdk-pagerd: %s %s: want %s, %u to %u\n", opt, arg, unit,
			(unsigned int)lo, (unsigned int)hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

uint64_t
pagerd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
pagerd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
pagerd_q_quiet_in(const struct pagerd_q *q, uint64_t now)
{
	uint64_t at = q->quiet_since + pagerd_push_idle;

	return now >= at ? 0 : at - now;
}

bool
pagerd_uid_allowed(uid_t u)
{
	int i;

	for (i = 0; i < pagerd_nuids; i++)
		if (pagerd_uids[i] == u)
			return true;
	return false;
}

int
pagerd_add_uid(const char *arg)
{
	unsigned long u;
	char *end;

	errno = 0;
	u = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || u > UINT_MAX ||
	    pagerd_nuids == PAGERD_MAX_UIDS) {
		fprintf(stderr, "pfdk-pagerd: --allow-uid %s: a uid (at most %d)\n", arg,
			PAGERD_MAX_UIDS);
		return -1;
	}
	pagerd_uids[pagerd_nuids++] = (uid_t)u;
	return 0;
}

bool
pagerd_is_userfaultfd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[userfaultfd]") == 0;
}

int
pagerd_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int s, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		LOG("socket %s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			LOG("socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -1;
	old = umask(0177); /* 0600 from the start: no window with a wider mode */
	ret = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(s, 64) < 0) {
		LOG("socket %s: %s", path, strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

int
pagerd_accept_peer(int lsock, struct ucred *cr)
{
	socklen_t cl = sizeof(*cr);
	int s;

	s = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return -1;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, cr, &cl) < 0) {
		LOG("SO_PEERCRED: %s; connection closed", strerror(errno));
		close(s);
		return -1;
	}
	if (!pagerd_uid_allowed(cr->uid)) {
		LOG("peer pid %d uid %u not allowed (--allow-uid); connection closed",
		    (int)cr->pid, (unsigned int)cr->uid);
		close(s);
		return -1;
	}
	return s;
}

int
pagerd_q_setup(struct pagerd_q *q, uint16_t dev)
{
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pagerd_pool, .socket_id = SOCKET_ID_ANY };
	int ret;

	q->dev = dev;
	q->quiet_since = pagerd_now_ms();
	q->up = true; /* from here pagerd_q_close() closes the device */
	ret = pfdk_fault_configure(dev, &conf);
	return ret == 0 ? pfdk_fault_queue_setup(dev, 0, &qc) : ret;
}

int
pagerd_q_adopt(struct pagerd_q *q, int fd, unsigned int id, const char *extra)
{
	char devargs[96];
	int ret;

	snprintf(devargs, sizeof(devargs), "uffd%u,fd=%d%s%s", id, fd,
		 extra != NULL ? "," : "", extra != NULL ? extra : "");
	ret = pfdk_fault_dev_create(devargs);
	if (ret < 0)
		return ret;
	return pagerd_q_setup(q, (uint16_t)ret);
}

unsigned int
pagerd_q_pass(struct pagerd_q *q)
{
	unsigned int done = 0;
	uint16_t n, k, r;
	int i;

	for (i = 0; i < 8; i++) {
		if (q->nresp > 0) {
			r = pfdk_fault_respond_burst(q->dev, 0, q->resp, q->nresp);
			memmove(q->resp, q->resp + r, (size_t)(q->nresp - r) * sizeof(q->resp[0]));
			q->nresp -= r;
			done += r;
		}
		if (q->nresp > PAGERD_BURST)
			break;
		n = q->nun;
		k = pfdk_fault_recv_burst(q->dev, 0, q->un + n, (uint16_t)(PAGERD_BURST - n));
		if (k > 0) {
			uint64_t us = pagerd_now_us();

			q->quiet_since = us / 1000;
			q->hot_until = us + pagerd_poll_us;
		}
		if (q->note != NULL)
			for (r = 0; r < k; r++)
				q->note(q->note_arg, q->un[n + r]);
		n += k;
		if (n == 0)
			break;
		k = pfdk_uffd_resolve_burst(NULL, q->un, n);
		memcpy(q->resp + q->nresp, q->un, (size_t)k * sizeof(q->un[0]));
		q->nresp += k;
		memmove(q->un, q->un + k, (size_t)(n - k) * sizeof(q->un[0]));
		q->nun = (uint16_t)(n - k);
		if (k == 0) {
			pfdk_fault_queue_service(q->dev, 0, true);
			break;
		}
	}
	return done;
}

bool
pagerd_q_busy(struct pagerd_q *q)
{
	return q->nun > 0 || q->nresp > 0 || pfdk_fault_queue_service(q->dev, 0, false) > 0;
}

void
pagerd_q_close(struct pagerd_q *q)
{
	if (!q->up)
		return;
	/* Try to hand back what is resolved; stop answers the rest. */
	if (q->nresp > 0)
		q->nresp -= pfdk_fault_respond_burst(q->dev, 0, q->resp, q->nresp);
	pfdk_fault_close(q->dev);
	/* Descriptors still held were answered by stop: only return them. */
	if (q->nresp > 0)
		rte_mempool_put_bulk(pagerd_pool, (void **)q->resp, q->nresp);
	if (q->nun > 0)
		rte_mempool_put_bulk(pagerd_pool, (void **)q->un, q->nun);
	q->nresp = q->nun = 0;
	q->up = false;
}
