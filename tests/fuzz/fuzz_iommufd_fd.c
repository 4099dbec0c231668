/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the iommufd driver's real fault-FD path: the device
 * adopts an FD (fault_fd=N) and does its own read(2)/write(2) on it; the
 * other end is the fuzzer, playing a hostile kernel. The input is a script:
 * groups of records with any bytes (cookies, 0 and outstanding ones
 * included, flags, groups left open or cut by another cookie, groups of
 * more than 64 records), sent in pieces so that reads come back short and
 * groups split across reads, a torn record; a kernel side that stops
 * taking responses (writes then fail with EAGAIN and must be kept); and an
 * application that receives, answers with any status, passes a copy of a
 * record back (a replay). The exactly-once checker (once_check.h) watches
 * both directions and aborts on a group answered twice, before its
 * LAST_PAGE record, before all its records came back, or lost at stop.
 *
 * The FD is one end of a non-blocking AF_UNIX stream socketpair: reads
 * return what was sent, up to the count asked, so short reads and split
 * groups are real; an empty FD reads as EAGAIN (a real fault FD reads 0).
 * Responses go out as whole writes (each at most 64 x 8 bytes, under the
 * socket's chunk size, so a write is taken whole or refused with EAGAIN):
 * the checker reads them back in order, and peeks at them after every
 * driver call so an early answer is seen when it is made. Partial and
 * EINVAL writes, which a socket cannot give, are fuzz_iommufd.c's (a
 * scripted I/O under the same driver code).
 *
 * Needs an EAL (descriptors come from a mempool): started once, --no-huge.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_mempool.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "once_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_N 511
#define HELD_MAX 256
#define REC sizeof(struct pfdk_iommu_hwpt_pgfault)
#define RESP sizeof(struct pfdk_iommu_hwpt_page_response)
#define SENT_MAX 16384       /* records the kernel side sends per input */
#define MAX_SEND 256         /* records per send */

static struct rte_mempool *pool;
static const char *peer_key; /* devargs that let fault_fd= take a test peer */

/*
 * The fault FD the device adopts (returned) and the end this program plays
 * the kernel on (*peer). With fault_fd_devargs(), the one place that knows
 * what the FD is; the rest of the target only reads and writes *peer.
 */
static int
make_fault_fd(int *peer)
{
	int sv[2], sndbuf = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	/* A small send buffer: a kernel side that stops reading fills it soon. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	*peer = sv[1];
	return sv[0];
}

/*
 * Devargs adopting @fd. A driver that takes only real fault queues from
 * fault_fd= takes a test peer with test_peer=1; an older one has no such
 * key. LLVMFuzzerInitialize() finds out which (peer_key).
 */
static void
fault_fd_devargs(char *buf, size_t len, int fd, const char *extra)
{
	snprintf(buf, len, "iommufd0,fault_fd=%d%s%s", fd, peer_key, extra);
}

struct run {
	const uint8_t *p, *end;
	int fd, peer;
	uint16_t id;
	struct once_check chk;
	bool lenient;          /* a torn record: the driver's record view is unknown */
	bool drain;            /* the kernel side takes responses */
	bool stopping;
	/* What the kernel side sent, in order, and how much the driver read. */
	uint32_t sent_cookie[SENT_MAX];
	uint8_t sent_last[SENT_MAX];
	uint32_t nsent, ndelivered;
	uint64_t sent_bytes;
	uint32_t undelivered[ONCE_COOKIES]; /* sent records of each cookie not read yet */
	/* Responses: bytes of the peer's queue already checked (peeked). */
	size_t peeked;
	/* The application's descriptors. */
	struct pfdk_fault *held[HELD_MAX];
	uint32_t held_serial[HELD_MAX];
	unsigned int nheld;
	struct pfdk_fault copies[8]; /* records already passed back, for replays */
	uint32_t copy_serial[8];
	unsigned int ncopies;
};

static struct run R;
static bool trace; /* PFDK_FUZZ_TRACE=1: print each step (reproducing a crash) */

#define TRACE(...) do { if (trace) fprintf(stderr, "  " __VA_ARGS__); } while (0)

static int
next(struct run *r)
{
	return r->p < r->end ? *r->p++ : -1;
}

/* Check responses written since the last look; consume them if draining. */
static void
see_answers(struct run *r)
{
	static uint8_t buf[1 << 16];
	ssize_t n = recv(r->peer, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	size_t i;

	if (n < 0)
		n = 0;
	if ((size_t)n < r->peeked)
		abort(); /* the queue never shrinks but by our reads */
	for (i = r->peeked; i + RESP <= (size_t)n; i += RESP) {
		struct pfdk_iommu_hwpt_page_response a;

		memcpy(&a, buf + i, RESP);
		TRACE("answer: cookie %u code %u%s\n", a.cookie, a.code,
		      r->stopping ? " (stop)" : "");
		if (a.code > 1)
			once_fail(&r->chk, "response code %u for cookie %u", a.code, a.cookie);
		if (r->lenient)
			continue;
		once_answer(&r->chk, a.cookie, a.code, r->stopping);
	}
	r->peeked = i;
	if (r->drain && r->peeked != 0) {
		if (recv(r->peer, buf, r->peeked, MSG_DONTWAIT) != (ssize_t)r->peeked)
			abort();
		r->peeked = 0;
	}
}

/* Records the driver has read since the last look, in order. */
static void
see_deliveries(struct run *r)
{
	int unread = 0;
	uint64_t got;

	if (ioctl(r->fd, FIONREAD, &unread) != 0)
		abort();
	got = r->sent_bytes - (uint64_t)unread;
	if (r->lenient)
		return;
	for (; r->ndelivered < got / REC && r->ndelivered < r->nsent; r->ndelivered++) {
		once_deliver(&r->chk, r->sent_cookie[r->ndelivered],
			     r->sent_last[r->ndelivered]);
		r->undelivered[r->sent_cookie[r->ndelivered]]--;
	}
}

/* After every driver call: answers first (written before any read), then reads. */
static void
settle(struct run *r)
{
	see_answers(r);
	see_deliveries(r);
}

/* The kernel side sends @n records of cookie @c; @fl picks the hostilities. */
static void
send_group(struct run *r, uint32_t c, unsigned int n, int fl, int g)
{
	static struct pfdk_iommu_hwpt_pgfault recs[MAX_SEND];
	unsigned int i;
	ssize_t w;

	if (r->lenient || r->nsent + n > SENT_MAX)
		return;
	/*
	 * While responses are not taken, a group the driver answered may sit
	 * unwritten in it: a record of that cookie read then is a new group to
	 * the driver and a replay to us. A kernel sends none; nor do we then:
	 * only cookies with nothing outstanding and nothing on the way.
	 */
	if (!r->drain && (once_open(&r->chk, c) || r->undelivered[c] != 0))
		return;
	if (!r->drain && (fl & 8))
		n = 1; /* LAST_PAGE on each: the second record would be such a replay */
	for (i = 0; i < n; i++) {
		struct pfdk_iommu_hwpt_pgfault *x = &recs[i];
		bool last = (fl & 8) ? true : (i == n - 1 && !(fl & 1));

		memset(x, 0, sizeof(*x));
		x->flags = (last ? PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0) |
			((fl & 2) ? PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID : 0) |
			((fl & 4) ? 1u << 2 : 0);
		x->pasid = (uint32_t)g;
		x->grpid = (uint32_t)(g + (int)i) & 0x1ff;
		x->perm = (uint32_t)fl >> 4;
		x->addr = ((uint64_t)g << 20) + (uint64_t)i * 4096;
		x->length = (g & 1) ? (uint32_t)g << 8 : 0;
		x->__reserved = (uint32_t)g >> 1;
		x->cookie = c;
	}
	TRACE("send: cookie %u, %u record(s)%s%s\n", c, n,
	      (fl & 8) ? ", LAST_PAGE on each" : (fl & 1) ? ", no LAST_PAGE" : "",
	      r->drain ? "" : " (responses not taken)");
	w = send(r->peer, recs, n * REC, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0)
		return; /* full: the driver is not reading; send nothing */
	if ((size_t)w != n * REC)
		abort(); /* a stream write under its chunk size is whole */
	r->sent_bytes += (uint64_t)w;
	for (i = 0; i < n; i++) {
		bool last = (recs[i].flags & PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE) != 0;

		r->sent_cookie[r->nsent] = c;
		r->sent_last[r->nsent++] = last;
		r->undelivered[c]++;
	}
}

static void
do_recv(struct run *r, unsigned int want)
{
	uint16_t n = (uint16_t)RTE_MIN(want, HELD_MAX - r->nheld), got, i;

	got = pfdk_fault_recv_burst(r->id, 0, r->held + r->nheld, n);
	TRACE("recv %u: got %u\n", n, got);
	settle(r);
	if (got > n)
		abort();
	for (i = 0; i < got; i++) {
		struct pfdk_fault *f = r->held[r->nheld + i];

		r->held_serial[r->nheld + i] = r->lenient ? 0 : once_handout(&r->chk, f->cookie);
	}
	r->nheld += got;
}

/* Pass back @k held descriptors from @from, statuses from the bits of @a. */
static void
do_respond(struct run *r, unsigned int from, unsigned int k, int a, int b)
{
	struct pfdk_fault *tmp[HELD_MAX];
	unsigned int i, j = 0;

	if (r->nheld == 0)
		return;
	from %= r->nheld;
	k = RTE_MIN(k, r->nheld - from);
	for (i = 0; i < k; i++) {
		struct pfdk_fault *f = r->held[from + i];

		tmp[i] = f;
		f->status = (uint8_t)(((unsigned int)a >> (i % 8)) & 1);
		if (b >= 0 && (b & 0x80) && i == 0)
			f->status = (uint8_t)(2 + (b & 3)); /* not a code: answered INVALID */
		if (!r->lenient)
			once_return(&r->chk, f->cookie, r->held_serial[from + i],
				    (uint32_t)f->drv, f->status);
		/* Keep a copy: a later replay of a record already answered. */
		r->copies[r->ncopies % RTE_DIM(r->copies)] = *f;
		r->copy_serial[r->ncopies++ % RTE_DIM(r->copies)] = r->held_serial[from + i];
	}
	for (i = 0; i < r->nheld; i++)
		if (i < from || i >= from + k) {
			r->held_serial[j] = r->held_serial[i];
			r->held[j++] = r->held[i];
		}
	r->nheld = j;
	TRACE("respond %u record(s), first cookie %u index %u\n", k, tmp[0]->cookie,
	      (uint32_t)tmp[0]->drv);
	if (pfdk_fault_respond_burst(r->id, 0, tmp, (uint16_t)k) != k)
		abort();
	settle(r);
}

/* Pass back a copy of a held record (or of one passed back already). */
static void
do_replay(struct run *r, int a, int b)
{
	struct pfdk_fault *f;
	uint32_t serial;
	void *p;

	if (rte_mempool_get(pool, &p) != 0)
		return;
	f = p;
	if ((a & 1) && r->ncopies != 0) {
		unsigned int i = (unsigned int)(a >> 1) % RTE_MIN(r->ncopies, (unsigned int)RTE_DIM(r->copies));

		*f = r->copies[i];
		serial = r->copy_serial[i];
	} else if (r->nheld != 0) {
		unsigned int i = (unsigned int)(a >> 1) % r->nheld;

		*f = *r->held[i];
		serial = r->held_serial[i];
	} else {
		rte_mempool_put(pool, p);
		return;
	}
	f->status = (uint8_t)(b & 1);
	if (b & 2)
		f->drv ^= (uint64_t)(b | 1) << 24; /* a forged token */
	if (!r->lenient)
		once_return(&r->chk, f->cookie, serial, (uint32_t)f->drv, f->status);
	TRACE("replay: cookie %u index %u status %u\n", f->cookie, (uint32_t)f->drv, f->status);
	if (pfdk_fault_respond_burst(r->id, 0, &f, 1) != 1)
		abort();
	settle(r);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0], (char *)(uintptr_t)"--no-huge", (char *)(uintptr_t)"-m",
			(char *)(uintptr_t)"128", (char *)(uintptr_t)"--no-shconf",
			(char *)(uintptr_t)"--no-telemetry", (char *)(uintptr_t)"--no-pci",
			(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)"0@0",
			(char *)(uintptr_t)"--log-level=*:emerg", NULL };
	char devargs[96];
	int fd, peer, id;

	(void)argc;
	trace = getenv("PFDK_FUZZ_TRACE") != NULL;
	if (pfdk_init(10, eal) < 0)
		abort();
	rte_log_set_global_level(RTE_LOG_EMERG);
	pool = pfdk_fault_pool_create("fuzz_iommufd_fd", POOL_N, 0, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	/* Say so at once if the driver adopts this kind of FD in neither way. */
	fd = make_fault_fd(&peer);
	peer_key = ",test_peer=1";
	fault_fd_devargs(devargs, sizeof(devargs), fd, "");
	id = fd < 0 ? -1 : pfdk_fault_dev_create(devargs);
	if (id < 0) {
		peer_key = "";
		fault_fd_devargs(devargs, sizeof(devargs), fd, "");
		id = fd < 0 ? -1 : pfdk_fault_dev_create(devargs);
	}
	if (id < 0) {
		fprintf(stderr, "fuzz_iommufd_fd: the driver refuses the test peer FD (%s): "
			"adapt make_fault_fd() to the documented test peer\n", devargs);
		abort();
	}
	pfdk_fault_close((uint16_t)id);
	close(fd);
	close(peer);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run *r = &R;
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	struct pfdk_fault_stats st;
	char devargs[96], lim[48];
	int id, op;

	memset(r, 0, offsetof(struct run, held));
	r->nheld = r->ncopies = 0;
	r->p = data;
	r->end = data + size;
	r->drain = true;
	once_init(&r->chk, "fuzz_iommufd_fd");
	r->fd = make_fault_fd(&r->peer);
	if (r->fd < 0)
		abort();
	/* Small limits so credit and buffer edges are reachable. */
	snprintf(lim, sizeof(lim), ",outstanding=%u,rbuf=%u",
		 1 + (size ? data[0] % 64 : 0), 1 + (size > 1 ? data[1] % 8 : 0));
	fault_fd_devargs(devargs, sizeof(devargs), r->fd, lim);
	id = pfdk_fault_dev_create(devargs);
	if (id < 0)
		abort();
	r->id = (uint16_t)id;
	if (pfdk_fault_configure(r->id, &conf) != 0 ||
	    pfdk_fault_queue_setup(r->id, 0, &qc) != 0 || pfdk_fault_start(r->id) != 0)
		abort();
	r->p += RTE_MIN(size, (size_t)2);
	while ((op = next(r)) >= 0) {
		int a = next(r), b = next(r);

		if (a < 0)
			break;
		switch (op % 8) {
		case 0: /* a group (or a piece of one): cookie a, b+1 records */
		case 1: {
			int fl = next(r), g = next(r);

			send_group(r, (uint32_t)a, 1 + (unsigned int)(b < 0 ? 0 : b) %
				   (op % 8 ? MAX_SEND : 8), fl < 0 ? 0 : fl, g < 0 ? 0 : g);
			break;
		}
		case 2:
		case 3:
			do_recv(r, (unsigned int)a % 65);
			break;
		case 4:
			do_respond(r, (unsigned int)a, 1 + (unsigned int)(b < 0 ? 0 : b) % 64,
				   a, b);
			break;
		case 5:
			do_replay(r, a, b < 0 ? 0 : b);
			break;
		case 6: /* the kernel side takes responses, or stops taking them */
			/* Stop only with nothing on the way (see send_group()). */
			if ((a & 1) || r->ndelivered == r->nsent)
				r->drain = (a & 1) != 0;
			settle(r);
			break;
		case 7: { /* a torn record: 1..39 bytes */
			uint8_t torn[REC];

			if ((a & 0x3f) != 0x3f)
				break; /* rare: it ends the checked part of the run */
			memset(torn, b, sizeof(torn));
			if (send(r->peer, torn, 1 + (size_t)(b < 0 ? 0 : b) % (REC - 1),
				 MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
				r->lenient = true;
			break;
		}
		}
	}
	/* Stop answers what is tracked; let the writes through for it. */
	r->drain = true;
	settle(r);
	r->stopping = true;
	if (pfdk_fault_stop(r->id) != 0)
		abort();
	settle(r);
	if (!r->lenient)
		once_finish(&r->chk);
	if (pfdk_fault_stats_get(r->id, &st) != 0 || st.outstanding != 0)
		abort();
	rte_mempool_put_bulk(pool, (void **)r->held, r->nheld);
	if (pfdk_fault_close(r->id) != 0 || rte_mempool_avail_count(pool) != POOL_N)
		abort();
	close(r->fd);
	close(r->peer);
	return 0;
}
