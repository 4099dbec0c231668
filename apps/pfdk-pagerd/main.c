/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd: serve other processes' userfaultfds (docs/pagerd.md).
 *
 * firecracker mode: listen on a UNIX socket; each VMM connects and sends
 * one handshake (a JSON array of regions + its uffd by SCM_RIGHTS,
 * fc_parse.h). The uffd becomes a PFDK uffd device ("uffdN,fd=X") whose
 * regions are served from the memory file, loaded once into memory the
 * daemon owns. One loop on the main lcore owns every device and every
 * socket: it polls the devices (recv -> pfdk_uffd_resolve_burst ->
 * respond) while any has work, and sleeps in epoll on their queue fds,
 * the sockets and the clients' pidfds when none has.
 *
 * With --profile (lcores.c) the main lcore keeps the listening socket,
 * the handshakes, the pidfds and the signals, and hands each served
 * client to the least loaded poller lcore of the profile (the first of
 * equals) through that worker's rte_ring. The worker owns the client's
 * queue from then on: its passes, its push, closing it. A client's exit
 * (its pidfd, on main) goes to its worker as a message; the worker closes
 * the device, frees the stores and answers on its ring back, and only
 * then main frees the peer: one owner per object, no lock on the fast
 * path. engine=busy workers never sleep; engine=epoll ones sleep in their
 * own epoll on their clients' queue fds and an eventfd main writes.
 *
 * A connection must complete its handshake within --handshake-timeout MS
 * of being accepted, or it is disconnected: a peer that never finishes
 * would hold one of the MAX_PEERS slots forever. The deadlines bound
 * epoll's timeout, so waiting for one does not spin.
 *
 * Removed ranges (REMOVE: the balloon, MADV_DONTNEED) read as zero
 * afterwards, as in Firecracker's own handler: the guest freed them, and
 * serving the snapshot's bytes again would bring freed memory back. The
 * driver does this with unknown_zero=1 (the range leaves its table).
 *
 * Once a client is served and has gone --push-idle ms without a fault, its
 * regions' remaining pages are pushed in the background (push.c), one
 * step per loop pass that answered no fault, so real faults go first. A
 * client whose every page is present stays served: its later faults
 * (REMOVE refaults) and events still need the loop.
 *
 * A client is gone when its process exits (its pidfd polls readable), not
 * when its socket closes: Firecracker before v1.12 closes the socket after
 * the handshake and keeps faulting. Then its device is closed (pending
 * faults are answered; the kernel says ESRCH, the driver counts them
 * stale) and its state freed; other clients never notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_store.h"
#include "pfdk_uffd.h"
#include "fc_parse.h"
#include "pagerd.h"

#define MAX_PEERS 256
#define MAX_FDS 4 /* fds accepted in control messages before refusing */
#define HS_TIMEOUT_DEFAULT 5000u /* --handshake-timeout, ms */
#define HS_TIMEOUT_MAX 600000u

enum { EV_LISTEN, EV_SIGNAL, EV_PEER, EV_PIDFD, EV_QUEUE, EV_WAKE };

/*
 * Ring messages: a peer pointer (calloc()ed, so its low bits are free)
 * with the kind in the low bits. Main to worker: take the client, let it
 * go, stop. Worker to main: let go (its device closed, its state freed).
 */
#define MSG_TAKE 0u
#define MSG_DROP 1u
#define MSG_QUIT 2u
#define MSG_KIND 3u
#define RING_SIZE 1024 /* > 2 messages per peer (take, drop) + quit */

struct tag {
	int kind;
	struct peer *peer;
};

/* A connection, and once its handshake succeeded, a served client. */
struct peer {
	struct tag t_sock, t_pid, t_queue;
	int sock;        /* -1 once closed (the client may go on faulting) */
	pid_t pid;
	uid_t uid;
	unsigned int id;
	uint64_t deadline; /* CLOCK_MONOTONIC ms: handshake complete by then */
	size_t len;
	int fds[MAX_FDS];
	int nfds;
	bool served;
	bool dead;       /* freed: its tags may still sit in this epoll batch */
	/* served */
	int pidfd;
	struct pagerd_q q;
	struct pagerd_push push;
	bool push_off;   /* every page present, or the push cannot go on */
	/* --profile: the worker owning q, push, stores; NULL: the main loop */
	struct worker *w;
	bool leaving;    /* main: dropped, waiting for its worker to let go */
	const char *why; /* main: why it was dropped (the log line) */
	uint64_t pushed; /* worker: pages pushed, kept when the push is freed */
	int nregions;
	struct pfdk_store *stores[PAGERD_FC_MAX_REGIONS];
	char buf[PAGERD_FC_MAX_MSG + 1];
};

/*
 * --profile: a poller lcore serving the clients main hands it. It owns
 * each one's queue, push and stores from the take to the drop; main owns
 * the socket, the pidfd and the peer's memory (freed once let go).
 */
struct worker {
	struct pagerd_lcore lc;
	struct rte_ring *in, *out; /* main -> worker, worker -> main (SP/SC) */
	int ep, wake;              /* the worker's epoll; eventfd main writes */
	unsigned int load;         /* main: clients handed and not let go yet */
	/* the worker's own */
	struct peer *cl[MAX_PEERS];
	unsigned int ncl, rr;
	bool quit;
};

static struct {
	const char *sock_path, *mem_path;
	uint8_t *mem;
	size_t mem_len;
	int ep, lsock, sigfd;
	struct peer *peers[MAX_PEERS];
	struct peer *grave[MAX_PEERS]; /* dead, free()d after the batch */
	unsigned int ngrave;
	unsigned int next_id;
	unsigned int rr;         /* the peer whose push steps next */
	uint32_t hs_timeout; /* --handshake-timeout, ms */
	bool stop;
	struct worker *workers;  /* --profile: one per poller lcore */
	unsigned int nworkers, nleaving;
	int wake;                /* eventfd the workers write after a message */
} g = { .ep = -1, .lsock = -1, .sigfd = -1, .hs_timeout = HS_TIMEOUT_DEFAULT, .wake = -1 };


static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: pfdk-pagerd firecracker --socket PATH --mem-file FILE\n"
		"                               [--handshake-timeout MS] [--push-idle MS] [--poll-us US]\n"
		"                               [--fault-around N]\n"
		"                               [--allow-uid UID]... [--profile FILE] [-- EAL args]\n"
		"       pfdk-pagerd criu -D DIR [-W DIR] [--no-working-set] [--push-idle MS] [--poll-us US]\n"
		"                        [--fault-around N]\n"
		"                        [--allow-uid UID]... [--profile FILE] [-- EAL args]\n"
		"       pfdk-pagerd -h | --help | --version\n"
		"Serve other processes' userfaultfds on PFDK's polled lcores.\n"
		"\n"
		"Modes\n"
		"  firecracker  serve Firecracker VMMs (snapshot restore) on a UNIX socket until SIGINT/SIGTERM\n"
		"  criu         serve one CRIU lazy restore (criu restore --lazy-pages), in place of\n"
		"               'criu lazy-pages'; exits when every page is delivered or the restore ended\n"
		"\n"
		"Options\n"
		"  --socket PATH    socket to listen on (created 0600; a stale socket there is replaced)\n"
		"  --mem-file FILE  the snapshot's guest memory file (region offsets are into it)\n"
		"  --handshake-timeout MS  firecracker: disconnect a peer whose handshake is not\n"
		"                   complete MS ms after it connected (1..600000, default 5000)\n"
		"  -D, --images-dir DIR  criu: the dump's images (pagemap-PID.img, pages-ID.img)\n"
		"  -W, --work-dir DIR    criu: where lazy-pages.socket is made (default: the images dir)\n"
		"  --no-working-set criu: neither record the pages that fault (pfdk-ws-PID.trace in the\n"
		"                   images dir) nor install a recorded set first on the next restore\n"
		"  --push-idle MS   start a client's background push once it went MS ms without a\n"
		"                   fault (0-600000, default 1000; criu: from RSTF, and\n"
		"                   at RSTF for a task that replays a recorded working set)\n"
		"  --poll-us US     keep polling a client's queue US microseconds after its last fault\n"
		"                   before sleeping in epoll (0-1000000, default 2000)\n"
		"  --fault-around N fill up to N pages after a faulting one with the same copy\n"
		"                   (0-511, default 0; criu: a replay installs the same window)\n"
		"  --allow-uid UID  serve peers with this uid (repeatable; default: the daemon's uid and root)\n"
		"  --profile FILE   the daemon's profile: its [lcore.N] pollers (cpu, engine busy or epoll)\n"
		"                   serve the clients, each client on one (least loaded); criu: the loop\n"
		"                   runs on the first. No [device.*]: the clients are the devices\n"
		"                   (config/examples/pagerd.ini). Default: one loop on the main lcore\n"
		"  -h, --help       this text; --version: the version\n"
		"\n"
		"EAL args\n"
		"  after '--', as for any DPDK application (default: memory chosen by pfdk_init);\n"
		"  with --profile, an lcore pinned to each poller's cpu is added to -l/-c/--lcores\n");
}

static int
ep_add(int fd, struct tag *t)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = t };

	return epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static void
close_sock(struct peer *p)
{
	if (p->sock >= 0) {
		epoll_ctl(g.ep, EPOLL_CTL_DEL, p->sock, NULL);
		close(p->sock);
		p->sock = -1;
	}
}

/* Post message @p kind about @p p on @p r and wake the eventfd @p wake. */
static void
msg_send(struct rte_ring *r, struct peer *p, unsigned int kind, int wake)
{
	uint64_t one = 1;

	/* RING_SIZE holds every message that can be in flight: never full */
	if (rte_ring_sp_enqueue(r, (void *)((uintptr_t)p | kind)) < 0)
		LOG("ring %s full: message %u lost", r->name, kind);
	if (write(wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LOG("eventfd: %s", strerror(errno));
}

/*
 * Main's part of letting a worker's client go: its socket and pidfd now,
 * its queue by the worker (MSG_DROP), its memory once the worker answers
 * (main_inbox()).
 */
static void
drop(struct peer *p, const char *why)
{
	epoll_ctl(g.ep, EPOLL_CTL_DEL, p->pidfd, NULL);
	close(p->pidfd);
	p->pidfd = -1;
	close_sock(p);
	p->leaving = true;
	p->why = why;
	g.nleaving++;
	msg_send(p->w->in, p, MSG_DROP, p->w->wake);
}

/* Free everything of @p p; served clients' faults are answered first. */
static void
peer_free(struct peer *p, const char *why)
{
	uint64_t pushed = 0;
	int i, qfd;

	if (p->leaving)
		return;
	if (p->served && p->w != NULL) {
		drop(p, why);
		return;
	}
	if (p->served) {
		qfd = pfdk_fault_queue_fd(p->q.dev, 0);
		if (qfd >= 0)
			epoll_ctl(g.ep, EPOLL_CTL_DEL, qfd, NULL);
		pagerd_q_close(&p->q);
		pushed = p->push.pushed;
		pagerd_push_free(&p->push);
		for (i = 0; i < p->nregions; i++)
			pfdk_store_free(p->stores[i]);
		epoll_ctl(g.ep, EPOLL_CTL_DEL, p->pidfd, NULL);
		close(p->pidfd);
	}
	for (i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	close_sock(p);
	if (p->served)
		LOG("client %u (pid %d): %s; %" PRIu64 " pages pushed; state freed", p->id,
		    (int)p->pid, why, pushed);
	else
		LOG("client %u (pid %d): %s; state freed", p->id, (int)p->pid, why);
	for (i = 0; i < MAX_PEERS; i++)
		if (g.peers[i] == p)
			g.peers[i] = NULL;
	/*
	 * The epoll batch being handled may still hold this peer's tags (its
	 * pidfd and its socket or queue fd ready at once): the memory stays
	 * until the batch is done. A peer is in g.peers or in the grave, never
	 * both, so the grave never holds more than MAX_PEERS.
	 */
	p->dead = true;
	g.grave[g.ngrave++] = p;
}

static void
bury(void)
{
	while (g.ngrave > 0)
		free(g.grave[--g.ngrave]);
}

/*
 * --profile: give served client @p p to the least loaded worker (the
 * first of equals), which owns its queue from then on.
 */
static void
hand_off(struct peer *p)
{
	struct worker *w = &g.workers[0];
	unsigned int i;

	for (i = 1; i < g.nworkers; i++)
		if (g.workers[i].load < w->load)
			w = &g.workers[i];
	p->w = w;
	w->load++;
	LOG("client %u (pid %d): served on lcore %u (cpu %d, engine %s), %u client(s) there",
	    p->id, (int)p->pid, w->lc.lcore_id, w->lc.cpu, pfdk_engine_name(w->lc.engine),
	    w->load);
	msg_send(w->in, p, MSG_TAKE, w->wake);
}

/* The handshake is complete and parsed: make the uffd a served device. */
static int
serve_client(struct peer *p, const struct pagerd_fc_region *r, int n)
{
	char extra[48];
	int i, ret, fd, qfd;

	if (p->nfds != 1) {
		LOG("client %u (pid %d): handshake with %d fds, want exactly one userfaultfd",
		    p->id, (int)p->pid, p->nfds);
		return -EINVAL;
	}
	fd = p->fds[0];
	if (!pagerd_is_userfaultfd(fd)) {
		LOG("client %u (pid %d): the fd sent is not a userfaultfd", p->id, (int)p->pid);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (r[i].offset > g.mem_len || r[i].size > g.mem_len - r[i].offset) {
			LOG("client %u (pid %d): region %d (offset %#" PRIx64 " size %#" PRIx64 ") ends past the memory file (%zu bytes)",
			    p->id, (int)p->pid, i, r[i].offset, r[i].size, g.mem_len);
			return -EINVAL;
		}
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0) {
		LOG("client %u (pid %d): pidfd_open: %s", p->id, (int)p->pid, strerror(errno));
		return -errno;
	}
	/* A removed range reads as zero afterwards (Firecracker's rule). */
	snprintf(extra, sizeof(extra), "unknown_zero=1,fault_around=%u", pagerd_fault_around);
	ret = pagerd_q_adopt(&p->q, fd, p->id, extra);
	if (!p->q.up) {
		LOG("client %u (pid %d): device uffd%u,fd=%d: %s", p->id, (int)p->pid, p->id, fd,
		    strerror(-ret));
		close(p->pidfd);
		return ret;
	}
	p->nfds = 0; /* the device owns the uffd now */
	p->served = true; /* from here peer_free() closes the device */
	for (i = 0; ret == 0 && i < n; i++) {
		p->stores[i] = pfdk_store_image_from_memory(g.mem + r[i].offset, r[i].size);
		if (p->stores[i] == NULL) {
			ret = -rte_errno;
			break;
		}
		p->nregions = i + 1;
		ret = pfdk_uffd_region_register(p->q.dev, (void *)(uintptr_t)r[i].base,
						r[i].size, PFDK_UFFD_MODE_MISSING,
						p->stores[i], r[i].page_size);
	}
	if (ret == 0)
		ret = ep_add(p->pidfd, &p->t_pid);
	if (ret == 0)
		ret = pfdk_fault_start(p->q.dev);
	if (ret == 0) {
		qfd = pfdk_fault_queue_fd(p->q.dev, 0);
		/* --profile: the worker's epoll, not main's, waits on it */
		ret = qfd < 0 ? qfd : g.nworkers > 0 ? 0 : ep_add(qfd, &p->t_queue);
	}
	if (ret < 0) {
		LOG("client %u (pid %d): setting up its device: %s", p->id, (int)p->pid, strerror(-ret));
		return ret;
	}
	LOG("client %u (pid %d uid %u): serving %d region(s) on device %u",
	    p->id, (int)p->pid, (unsigned int)p->uid, n, p->q.dev);
	if (g.nworkers > 0)
		hand_off(p);
	return 0;
}

/* Bytes on a connection: the handshake, or (after it) anything, ignored. */
static void
peer_read(struct peer *p)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cm;
	struct pagerd_fc_region r[PAGERD_FC_MAX_REGIONS];
	char err[160], sink[256];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t got;
	size_t k;
	int n;

	if (p->served) {
		/* v1.12+ keeps the socket open; nothing more is expected on it. */
		got = recv(p->sock, sink, sizeof(sink), MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			close_sock(p);
		return;
	}
	iov.iov_base = p->buf + p->len;
	iov.iov_len = sizeof(p->buf) - p->len;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	got = recvmsg(p->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (c = got < 0 ? NULL : CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(fd));
			if (p->nfds < MAX_FDS)
				p->fds[p->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (got < 0) {
		peer_free(p, "receive error, disconnected");
		return;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		LOG("client %u (pid %d): too many fds in one message", p->id, (int)p->pid);
		peer_free(p, "hostile handshake, disconnected");
		return;
	}
	p->len += (size_t)got;
	if (p->len > PAGERD_FC_MAX_MSG) {
		LOG("client %u (pid %d): handshake longer than %d bytes", p->id, (int)p->pid,
		    PAGERD_FC_MAX_MSG);
		peer_free(p, "oversize handshake, disconnected");
		return;
	}
	/* One sendmsg may still arrive in pieces: parse once it can be whole. */
	k = p->len;
	while (k > 0 && strchr(" \t\r\n", p->buf[k - 1]) != NULL)
		k--;
	if (got > 0 && (k == 0 || p->buf[k - 1] != ']'))
		return;
	if (p->len == 0) {
		peer_free(p, "closed before sending a handshake");
		return;
	}
	n = pagerd_fc_parse(p->buf, p->len, r, err, sizeof(err));
	if (n < 0) {
		LOG("client %u (pid %d): %s%s", p->id, (int)p->pid, err,
		    got == 0 ? " (peer closed)" : "");
		peer_free(p, "malformed handshake, disconnected");
		return;
	}
	if (serve_client(p, r, n) < 0) {
		peer_free(p, "refused");
		return;
	}
	if (got == 0)
		close_sock(p);
}

/*
 * Disconnect the peers whose handshake deadline has passed. @return the
 * epoll timeout until the next deadline (ms), or -1 when none is pending.
 */
static int
expire_handshakes(void)
{
	uint64_t now = pagerd_now_ms(), next = UINT64_MAX;
	int i;

	for (i = 0; i < MAX_PEERS; i++) {
		struct peer *p = g.peers[i];

		if (p == NULL || p->served)
			continue;
		if (p->deadline <= now) {
			/*
			 * Bytes that arrived while the daemon was busy are not the
			 * peer's fault: read them once before giving up.
			 */
			peer_read(p);
			if (p->dead || p->served)
				continue;
			LOG("client %u (pid %d): handshake not complete within %u ms "
			    "(%zu bytes, %d fds)",
			    p->id, (int)p->pid, g.hs_timeout, p->len, p->nfds);
			peer_free(p, "handshake deadline passed, disconnected");
			continue;
		}
		next = RTE_MIN(next, p->deadline);
	}
	/* epoll rounds up, so it never wakes before the deadline's ms. */
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

/*
 * One background push step for the next served client of @p list (@p n
 * slots, *@p rr the next in turn) that went --push-idle without a fault
 * and is served by @p w (NULL: the main loop). @return true if a step ran;
 * *@p wait_ms is lowered to when the next quiet client's push may start.
 */
static bool
push_some(struct peer **list, unsigned int n, unsigned int *rr, struct worker *w, int *wait_ms)
{
	uint64_t now = pagerd_now_ms();
	unsigned int k;
	int ret;

	for (k = 0; k < n; k++) {
		struct peer *p = list[(*rr + k) % n];

		if (p == NULL || !p->served || p->push_off || p->w != w ||
		    !pagerd_push_due(&p->push, &p->q, now, wait_ms))
			continue;
		*rr = (*rr + k + 1) % n;
		ret = pagerd_push_step(&p->push, p->q.dev);
		if (ret == -EAGAIN) {
			/* An event is pending: the driver reads it, the step retries. */
			pfdk_fault_queue_service(p->q.dev, 0, true);
		} else if (ret == -ESRCH && w == NULL) {
			peer_free(p, "process gone");
		} else if (ret == -ESRCH) {
			/* Freed when main sees its pidfd: one owner, one way out. */
			LOG("client %u (pid %d): process gone; its state goes when its exit is seen",
			    p->id, (int)p->pid);
			p->push_off = true;
		} else if (ret == 0) {
			/* Still served: REMOVE refaults and events need the loop. */
			LOG("client %u (pid %d): every page present (%" PRIu64 " pushed)", p->id,
			    (int)p->pid, p->push.pushed);
			p->push_off = true;
		} else if (ret < 0) {
			LOG("client %u (pid %d): background push stopped: %s; faults still served",
			    p->id, (int)p->pid, strerror(-ret));
			p->push_off = true;
		}
		return true;
	}
	return false;
}

static void
do_accept(void)
{
	struct ucred cr;
	struct peer *p;
	int s, i;

	s = pagerd_accept_peer(g.lsock, &cr);
	if (s < 0)
		return;
	for (i = 0; i < MAX_PEERS && g.peers[i] != NULL; i++)
		;
	p = i < MAX_PEERS ? calloc(1, sizeof(*p)) : NULL;
	if (p == NULL) {
		LOG("peer pid %d: %s; connection closed", (int)cr.pid,
		    i < MAX_PEERS ? "out of memory" : "too many clients");
		close(s);
		return;
	}
	p->t_sock = (struct tag){ EV_PEER, p };
	p->t_pid = (struct tag){ EV_PIDFD, p };
	p->t_queue = (struct tag){ EV_QUEUE, p };
	p->sock = s;
	p->pid = cr.pid;
	p->uid = cr.uid;
	p->id = g.next_id++;
	p->pidfd = -1;
	p->deadline = pagerd_now_ms() + g.hs_timeout;
	g.peers[i] = p;
	if (ep_add(s, &p->t_sock) < 0)
		peer_free(p, "epoll");
}

static int
load_mem(const char *path)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		LOG("--mem-file %s: %s", path, fd < 0 ? strerror(errno) : "not a non-empty regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	g.mem_len = (size_t)st.st_size;
	/* A private copy: what happens to the file later never reaches a fault. */
	g.mem = mmap(NULL, g.mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.mem == MAP_FAILED) {
		LOG("--mem-file %s: %zu bytes: %s", path, g.mem_len, strerror(errno));
		close(fd);
		return -1;
	}
	while (off < g.mem_len) {
		n = read(fd, g.mem + off, g.mem_len - off);
		if (n <= 0) {
			LOG("--mem-file %s: read: %s", path, n < 0 ? strerror(errno) : "file shrank");
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	mprotect(g.mem, g.mem_len, PROT_READ);
	return 0;
}

/* Worker @p w: close client @p p's queue, free what it owned, tell main. */
static void
worker_let_go(struct worker *w, struct peer *p)
{
	unsigned int k;
	int i, qfd;

	qfd = pfdk_fault_queue_fd(p->q.dev, 0);
	if (qfd >= 0)
		epoll_ctl(w->ep, EPOLL_CTL_DEL, qfd, NULL);
	pagerd_q_close(&p->q);
	p->pushed = p->push.pushed;
	pagerd_push_free(&p->push);
	for (i = 0; i < p->nregions; i++)
		pfdk_store_free(p->stores[i]);
	p->nregions = 0;
	for (k = 0; k < w->ncl && w->cl[k] != p; k++)
		;
	if (k < w->ncl)
		w->cl[k] = w->cl[--w->ncl];
	msg_send(w->out, p, MSG_TAKE, g.wake);
}

/* Worker @p w: what main sent (clients to take and to let go, stop). */
static void
worker_inbox(struct worker *w)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct peer *p;
	void *m;
	int qfd;

	while (rte_ring_sc_dequeue(w->in, &m) == 0) {
		p = (struct peer *)((uintptr_t)m & ~(uintptr_t)MSG_KIND);
		switch ((uintptr_t)m & MSG_KIND) {
		case MSG_TAKE:
			w->cl[w->ncl++] = p;
			qfd = pfdk_fault_queue_fd(p->q.dev, 0);
			e.data.ptr = p;
			if (qfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, qfd, &e) < 0)
				LOG("client %u (pid %d): lcore %u cannot wait on its queue: %s",
				    p->id, (int)p->pid, w->lc.lcore_id,
				    strerror(qfd < 0 ? -qfd : errno));
			break;
		case MSG_DROP:
			worker_let_go(w, p);
			break;
		default:
			w->quit = true;
			break;
		}
	}
}

/*
 * A poller lcore of the profile: the main loop's passes and push for the
 * clients main handed it. engine=busy never sleeps; engine=epoll sleeps
 * in its own epoll on its clients' queue fds and its wake fd when none has
 * work, as the main loop does (--poll-us included).
 */
static int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[16];
	unsigned int k, work;
	uint64_t v;
	int timeout;

	for (;;) {
		uint64_t now;

		worker_inbox(w);
		if (w->quit)
			break;
		now = pagerd_now_us();
		work = 0;
		timeout = -1;
		for (k = 0; k < w->ncl; k++) {
			struct peer *p = w->cl[k];

			work += pagerd_q_pass(&p->q);
			if (pagerd_q_busy(&p->q) || pagerd_q_hot(&p->q, now))
				timeout = 0;
		}
		if (work == 0 && push_some(w->cl, w->ncl, &w->rr, w, &timeout))
			timeout = 0;
		if (w->lc.engine == PFDK_ENGINE_BUSY || work > 0 || timeout == 0)
			continue;
		if (epoll_wait(w->ep, ev, (int)RTE_DIM(ev), timeout) < 0 && errno != EINTR) {
			LOG("lcore %u: epoll_wait: %s; polling instead", w->lc.lcore_id,
			    strerror(errno));
			w->lc.engine = PFDK_ENGINE_BUSY;
		}
		/* Read after waking, before the inbox: a later message writes again. */
		if (read(w->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
			LOG("lcore %u: eventfd: %s", w->lc.lcore_id, strerror(errno));
	}
	return 0;
}

/* Main: the clients the workers let go; their memory is freed now. */
static void
main_inbox(void)
{
	unsigned int i, k;
	struct peer *p;
	void *m;

	for (i = 0; i < g.nworkers; i++) {
		struct worker *w = &g.workers[i];

		while (rte_ring_sc_dequeue(w->out, &m) == 0) {
			p = (struct peer *)((uintptr_t)m & ~(uintptr_t)MSG_KIND);
			w->load--;
			g.nleaving--;
			LOG("client %u (pid %d): %s; %" PRIu64 " pages pushed; state freed",
			    p->id, (int)p->pid, p->why, p->pushed);
			for (k = 0; k < MAX_PEERS; k++)
				if (g.peers[k] == p)
					g.peers[k] = NULL;
			free(p);
		}
	}
}

/* --profile: one worker per poller lcore, launched there; 0 or -1 (logged). */
static int
workers_start(void)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	if (pagerd_nlcores == 0)
		return 0;
	g.workers = calloc(pagerd_nlcores, sizeof(*g.workers));
	g.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g.workers == NULL || g.wake < 0) {
		LOG("workers: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < pagerd_nlcores; i++) {
		struct worker *w = &g.workers[i];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

		w->lc = pagerd_lcores[i];
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		snprintf(name, sizeof(name), "pagerd_in%u", i);
		w->in = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "pagerd_out%u", i);
		w->out = rte_ring_create(name, RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->ep < 0 || w->wake < 0 || w->in == NULL || w->out == NULL ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &e) < 0) {
			LOG("lcore %u: epoll, eventfd or rings: %s", w->lc.lcore_id,
			    w->in == NULL || w->out == NULL ? rte_strerror(rte_errno) :
			    strerror(errno));
			return -1;
		}
		if (rte_eal_remote_launch(worker_main, w, w->lc.lcore_id) != 0) {
			LOG("lcore %u: cannot launch a worker there", w->lc.lcore_id);
			return -1;
		}
		g.nworkers = i + 1;
		LOG("lcore %u (cpu %d, engine %s): serving clients", w->lc.lcore_id, w->lc.cpu,
		    pfdk_engine_name(w->lc.engine));
	}
	return 0;
}

/* Every client is let go (nleaving 0): stop the workers, free theirs. */
static void
workers_stop(void)
{
	unsigned int i;

	for (i = 0; i < g.nworkers; i++)
		msg_send(g.workers[i].in, NULL, MSG_QUIT, g.workers[i].wake);
	rte_eal_mp_wait_lcore();
	for (i = 0; i < g.nworkers; i++) {
		struct worker *w = &g.workers[i];

		rte_ring_free(w->in);
		rte_ring_free(w->out);
		if (w->ep >= 0)
			close(w->ep);
		if (w->wake >= 0)
			close(w->wake);
	}
	free(g.workers);
	g.workers = NULL;
	g.nworkers = 0;
}

static int
run(void)
{
	static struct tag t_listen = { EV_LISTEN, NULL }, t_sig = { EV_SIGNAL, NULL },
			  t_wake = { EV_WAKE, NULL };
	uint64_t v;
	struct epoll_event ev[64];
	sigset_t ss;
	int i, n, timeout, hs_wait;
	unsigned int work;

	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	g.sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (g.sigfd < 0 || g.ep < 0 || ep_add(g.lsock, &t_listen) < 0 ||
	    ep_add(g.sigfd, &t_sig) < 0) {
		LOG("epoll/signalfd: %s", strerror(errno));
		return 1;
	}
	if (workers_start() < 0 || (g.nworkers > 0 && ep_add(g.wake, &t_wake) < 0)) {
		workers_stop();
		return 1;
	}
	LOG("firecracker: serving %s on %s", g.mem_path, g.sock_path);
	while (!g.stop) {
		uint64_t now = pagerd_now_us();

		work = 0;
		timeout = -1;
		for (i = 0; i < MAX_PEERS; i++) {
			struct peer *p = g.peers[i];

			if (p == NULL || !p->served || p->w != NULL)
				continue;
			work += pagerd_q_pass(&p->q);
			/*
			 * Faults held, or parked in the driver: the fd will not
			 * say. A queue that faulted within --poll-us is polled.
			 */
			if (pagerd_q_busy(&p->q) || pagerd_q_hot(&p->q, now))
				timeout = 0;
		}
		/* Real faults first: the push runs in passes that answered none. */
		if (work == 0 && push_some(g.peers, MAX_PEERS, &g.rr, NULL, &timeout))
			timeout = 0;
		hs_wait = expire_handshakes();
		if (hs_wait >= 0 && (timeout < 0 || hs_wait < timeout))
			timeout = hs_wait;
		n = epoll_wait(g.ep, ev, (int)RTE_DIM(ev), work > 0 ? 0 : timeout);
		if (n < 0 && errno != EINTR) {
			LOG("epoll_wait: %s", strerror(errno));
			return 1;
		}
		/* Exits first: a pid a new connection reuses is freed before. */
		for (i = 0; i < n; i++) {
			struct tag *t = ev[i].data.ptr;

			if (t->kind == EV_PIDFD && !t->peer->dead) {
				peer_free(t->peer, "process exited");
				ev[i].data.ptr = NULL;
			}
		}
		for (i = 0; i < n; i++) {
			struct tag *t = ev[i].data.ptr;

			if (t == NULL || (t->peer != NULL && t->peer->dead))
				continue;
			if (t->kind == EV_LISTEN) {
				do_accept();
			} else if (t->kind == EV_SIGNAL) {
				g.stop = true;
			} else if (t->kind == EV_PEER && t->peer->sock >= 0) {
				peer_read(t->peer);
			} else if (t->kind == EV_WAKE && read(g.wake, &v, sizeof(v)) < 0 &&
				   errno != EAGAIN) {
				LOG("eventfd: %s", strerror(errno));
			}
			/* EV_QUEUE only wakes the loop: the next pass serves it. */
		}
		/* After the batch: a peer let go may have had tags in it. */
		main_inbox();
		bury();
	}
	for (i = 0; i < MAX_PEERS; i++)
		if (g.peers[i] != NULL)
			peer_free(g.peers[i], "daemon stopping");
	bury();
	/* The workers answer each drop within a pass. */
	while (g.nleaving > 0) {
		main_inbox();
		if (g.nleaving > 0)
			usleep(1000);
	}
	workers_stop();
	LOG("stopped");
	return 0;
}

struct criu_args {
	const char *img_dir, *work_dir;
	int ret;
	int done; /* eventfd: written when the loop returned */
};

static int
criu_lcore(void *arg)
{
	struct criu_args *a = arg;
	uint64_t one = 1;

	a->ret = pagerd_criu_run(a->img_dir, a->work_dir);
	if (write(a->done, &one, sizeof(one)) < 0)
		LOG("eventfd: %s", strerror(errno));
	return 0;
}

/*
 * criu mode: the loop on the main lcore, or with --profile on its first
 * poller lcore with its engine (busy: never sleeps). One restore's tasks
 * share that loop; the other pollers stay idle.
 */
static int
criu_run(const char *img_dir, const char *work_dir)
{
	struct criu_args a = { img_dir, work_dir, 1, -1 };
	uint64_t v;

	if (pagerd_nlcores == 0)
		return pagerd_criu_run(img_dir, work_dir);
	pagerd_spin = pagerd_lcores[0].engine == PFDK_ENGINE_BUSY;
	a.done = eventfd(0, EFD_CLOEXEC);
	if (a.done < 0 || rte_eal_remote_launch(criu_lcore, &a, pagerd_lcores[0].lcore_id) != 0) {
		LOG("lcore %u: cannot launch the criu loop there", pagerd_lcores[0].lcore_id);
		return 1;
	}
	LOG("criu: the loop runs on lcore %u (cpu %d, engine %s)%s", pagerd_lcores[0].lcore_id,
	    pagerd_lcores[0].cpu, pfdk_engine_name(pagerd_lcores[0].engine),
	    pagerd_nlcores > 1 ? "; the other pollers serve nothing in this mode" : "");
	/* rte_eal_wait_lcore() spins: sleep until the loop says it is done. */
	while (read(a.done, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	rte_eal_wait_lcore(pagerd_lcores[0].lcore_id);
	close(a.done);
	return a.ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mem-file", required_argument, NULL, 'm' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "work-dir", required_argument, NULL, 'W' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "no-working-set", no_argument, NULL, 'N' },
		{ "handshake-timeout", required_argument, NULL, 'T' },
		{ "push-idle", required_argument, NULL, 'P' },
		{ "poll-us", required_argument, NULL, 'O' },
		{ "fault-around", required_argument, NULL, 'F' },
		{ "profile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *img_dir = NULL, *work_dir = NULL, *profile = NULL;
	char *eal[64], *eal_prof[64 + 5];
	sigset_t ss;
	int c, neal = 0, ret;
	bool criu, hs_set = false;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("pfdk-pagerd %s\n", PFDK_VERSION);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "firecracker") != 0 && strcmp(argv[1], "criu") != 0)) {
		fprintf(stderr, "pfdk-pagerd: the first argument is the mode: firecracker or criu\n");
		usage(stderr);
		return 2;
	}
	criu = strcmp(argv[1], "criu") == 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+hD:W:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g.sock_path = optarg;
			break;
		case 'm':
			g.mem_path = optarg;
			break;
		case 'D':
			img_dir = optarg;
			break;
		case 'W':
			work_dir = optarg;
			break;
		case 'u':
			if (pagerd_add_uid(optarg) < 0)
				return 2;
			break;
		case 'N':
			pagerd_criu_ws = false;
			break;
		case 'T':
			if (pagerd_parse_uint("--handshake-timeout", optarg, 1, HS_TIMEOUT_MAX,
					      "milliseconds", &g.hs_timeout) < 0)
				return 2;
			hs_set = true;
			break;
		case 'P':
			if (pagerd_parse_uint("--push-idle", optarg, 0, 600000, "milliseconds", &pagerd_push_idle) < 0)
				return 2;
			break;
		case 'O':
			if (pagerd_parse_uint("--poll-us", optarg, 0, 1000000, "microseconds", &pagerd_poll_us) < 0)
				return 2;
			break;
		case 'F':
			if (pagerd_parse_uint("--fault-around", optarg, 0, PFDK_UFFD_FAULT_AROUND_MAX,
					      "pages", &pagerd_fault_around) < 0)
				return 2;
			break;
		case 'p':
			profile = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!criu && (g.sock_path == NULL || g.mem_path == NULL || img_dir || work_dir)) {
		fprintf(stderr, "pfdk-pagerd: firecracker needs --socket and --mem-file (and takes no -D/-W)\n");
		return 2;
	}
	if (criu && (img_dir == NULL || g.sock_path || g.mem_path || hs_set)) {
		fprintf(stderr, "pfdk-pagerd: criu needs -D DIR (and takes no --socket, --mem-file "
			"or --handshake-timeout)\n");
		return 2;
	}
	if (pagerd_nuids == 0) {
		pagerd_uids[pagerd_nuids++] = getuid();
		pagerd_uids[pagerd_nuids++] = 0;
	}
	eal[neal++] = argv[0];
	for (c = optind; c < argc && neal < (int)RTE_DIM(eal) - PFDK_EAL_EXTRA_ARGS - 1; c++)
		eal[neal++] = argv[c];
	eal[neal] = NULL;
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "pfdk-pagerd: unexpected argument %s (EAL args go after --)\n",
			argv[optind]);
		return 2;
	}
	if (profile != NULL) {
		neal = pagerd_profile_eal(profile, neal, eal, eal_prof, (int)RTE_DIM(eal_prof));
		if (neal < 0)
			return 2;
	}
	if (!criu && load_mem(g.mem_path) < 0)
		return 1;
	/*
	 * Before the EAL starts its threads, so they inherit the mask: a
	 * SIGTERM delivered to a thread that does not block it would kill the
	 * process instead of reaching run()'s signalfd.
	 */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pfdk_init(neal, profile != NULL ? eal_prof : eal) < 0) {
		LOG("EAL init: %s", rte_strerror(rte_errno));
		return 1;
	}
	pagerd_pool = pfdk_fault_pool_create("pagerd", 8191, 64, SOCKET_ID_ANY);
	if (pagerd_pool == NULL) {
		LOG("descriptor pool: %s", rte_strerror(rte_errno));
		return 1;
	}
	if (criu) {
		ret = criu_run(img_dir, work_dir != NULL ? work_dir : img_dir);
	} else {
		g.lsock = pagerd_listen(g.sock_path);
		if (g.lsock < 0)
			return 1;
		ret = run();
		close(g.lsock);
		unlink(g.sock_path);
	}
	rte_mempool_free(pagerd_pool);
	rte_eal_cleanup();
	return ret;
}
