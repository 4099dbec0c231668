/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The io_uring engine (see pfdk_engine.h for the model): multishot reads
 * into provided buffers where the driver and the kernel allow, one-shot
 * POLL_ADD otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "pfdk_counter.h"
#include "pfdk_engine.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_engine_logtype, engine, INFO);
#define ENGINE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, pfdk_engine_logtype, \
		"pfdk.engine: " fmt "\n", ##__VA_ARGS__)

/* The SQ thread sleeps after this long without submissions. */
#define SQ_THREAD_IDLE_MS 10

/*
 * IORING_OP_READ_MULTISHOT (Linux 6.7 uAPI; liburing 2.3's headers predate
 * it). Opcode numbers never change once released; the probe says whether
 * this kernel has it.
 */
#define OP_READ_MULTISHOT 49

/* user_data: the queue in the low 16 bits, the kind above. */
#define UD_POLL 0ull
#define UD_READ (1ull << 16)
#define UD_CANCEL (2ull << 16)
#define UD_QUEUE(ud) ((uint16_t)((ud) & 0xffff))

#define BGID 0          /* one buffer group per ring */
#define BUFS_PER_QUEUE 4
#define MAX_BUFS 32768  /* a provided-buffer ring's limit */

/*
 * liburing 2.3 declares io_uring_enable_rings() but its library does not
 * export it (2.4 does): the register call it wraps.
 */
static int
ring_enable(struct io_uring *ring)
{
	return syscall(__NR_io_uring_register, ring->ring_fd,
		       IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0 ? -errno : 0;
}

static struct io_uring_sqe *
sqe_get(struct pfdk_engine_uring *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (sqe == NULL) {
		/* Full SQ: push what is queued, then there is room. */
		io_uring_submit(&e->ring);
		sqe = io_uring_get_sqe(&e->ring);
	}
	return sqe;
}

static int
arm_poll(struct pfdk_engine_uring *e, uint16_t i)
{
	struct io_uring_sqe *sqe = sqe_get(e);

	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, e->q[i].fd, POLLIN);
	io_uring_sqe_set_data64(sqe, UD_POLL | i);
	return 0;
}

static int
arm_read(struct pfdk_engine_uring *e, uint16_t i)
{
	struct io_uring_sqe *sqe = sqe_get(e);

	if (sqe == NULL)
		return -EBUSY;
	/* No address or length: each completion picks a buffer of BGID. */
	io_uring_prep_rw(OP_READ_MULTISHOT, sqe, e->q[i].fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UD_READ | i);
	e->q[i].armed = true;
	pfdk_counter_add(&e->arms, 1);
	return 0;
}

static void
buf_give(struct pfdk_engine_uring *e, uint16_t bid)
{
	io_uring_buf_ring_add(e->br, e->bufs + (size_t)bid * e->buf_size,
			      e->buf_size, bid, io_uring_buf_ring_mask(e->nb_bufs), 0);
	io_uring_buf_ring_advance(e->br, 1);
}

/* Buffers for read mode; false (poll mode for all) if the kernel refuses. */
static bool
bufs_setup(struct pfdk_engine_uring *e, uint16_t nb_rd, uint32_t rec_size,
	   uint16_t burst, unsigned int lcore_id)
{
	struct io_uring_buf_reg reg;
	size_t br_len;
	uint32_t n = 8;
	uint16_t b;
	int ret;

	while (n < (uint32_t)BUFS_PER_QUEUE * nb_rd && n < MAX_BUFS)
		n <<= 1;
	e->nb_bufs = (uint16_t)RTE_MIN(n, (uint32_t)MAX_BUFS);
	e->buf_size = rec_size * RTE_MAX(burst, (uint16_t)1);
	br_len = RTE_ALIGN_CEIL(e->nb_bufs * sizeof(struct io_uring_buf), 4096);
	/* The kernel maps the buffer ring: page aligned. */
	e->br = mmap(NULL, br_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->br == MAP_FAILED) {
		e->br = NULL;
		return false;
	}
	e->bufs = rte_zmalloc("pfdk_uring_bufs", (size_t)e->nb_bufs * e->buf_size,
			      RTE_CACHE_LINE_SIZE);
	e->next = rte_zmalloc("pfdk_uring_next", e->nb_bufs * sizeof(*e->next), 0);
	e->len = rte_zmalloc("pfdk_uring_len", e->nb_bufs * sizeof(*e->len), 0);
	if (e->bufs == NULL || e->next == NULL || e->len == NULL)
		return false;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)e->br;
	reg.ring_entries = e->nb_bufs;
	reg.bgid = BGID;
	ret = io_uring_register_buf_ring(&e->ring, &reg, 0);
	if (ret < 0) {
		ENGINE_LOG(NOTICE, "lcore %u: provided-buffer ring refused (%s): polling, then read(2)",
			   lcore_id, strerror(-ret));
		return false;
	}
	io_uring_buf_ring_init(e->br);
	for (b = 0; b < e->nb_bufs; b++)
		buf_give(e, b);
	return true;
}

static void
bufs_free(struct pfdk_engine_uring *e)
{
	if (e->br != NULL)
		munmap(e->br, RTE_ALIGN_CEIL(e->nb_bufs * sizeof(struct io_uring_buf), 4096));
	rte_free(e->bufs);
	rte_free(e->next);
	rte_free(e->len);
	e->br = NULL;
	e->bufs = NULL;
	e->next = NULL;
	e->len = NULL;
}

static int
ring_setup(struct pfdk_engine_uring *e, unsigned int entries, int sqpoll_cpu)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	if (sqpoll_cpu >= 0) {
		/*
		 * Without SQ_AFF the SQ thread inherits the poller's affinity
		 * and competes with it: measured at 125 faults/s.
		 */
		p.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
		p.sq_thread_cpu = (uint32_t)sqpoll_cpu;
		p.sq_thread_idle = SQ_THREAD_IDLE_MS;
	} else {
		p.flags = IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	}
	p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(entries, &e->ring, &p);
	if (ret == 0) {
		e->disabled = true;
		e->taskrun = sqpoll_cpu < 0;
		return 0;
	}
	if (ret != -EINVAL)
		return ret;
	/* A kernel before 6.1: the plain ring. */
	p.flags &= ~(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED |
		     IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
	return io_uring_queue_init_params(entries, &e->ring, &p);
}

int
pfdk_engine_uring_init(struct pfdk_engine_uring *e,
		       const struct pfdk_engine_queue_conf *qc, uint16_t nb_fds,
		       int sqpoll_cpu, uint16_t burst, unsigned int lcore_id)
{
	struct io_uring_probe *probe;
	unsigned int entries = 8;
	uint32_t rec_size = 0;
	uint16_t i, nb_rd = 0;
	bool rd = false;
	int ret;

	memset(e, 0, sizeof(*e));
	if (nb_fds > PFDK_FAULT_MAX_QUEUES)
		return -EINVAL;
	while (entries < 2u * nb_fds)
		entries <<= 1;
	ret = ring_setup(e, entries, sqpoll_cpu);
	if (ret < 0) {
		ENGINE_LOG(ERR, "lcore %u: io_uring setup (%s, sq cpu %d): %s",
			   lcore_id, sqpoll_cpu >= 0 ? "SQPOLL" : "no SQPOLL",
			   sqpoll_cpu, strerror(-ret));
		return ret;
	}
	e->up = true;
	e->nb_fds = nb_fds;
	/* One buffer size for the ring: every read queue has one record size. */
	for (i = 0; i < nb_fds; i++) {
		if (qc[i].read_fd < 0 || qc[i].rec_size == 0)
			continue;
		if (rec_size == 0)
			rec_size = qc[i].rec_size;
		if (qc[i].rec_size == rec_size)
			nb_rd++;
	}
	if (nb_rd > 0) {
		probe = io_uring_get_probe_ring(&e->ring);
		rd = probe != NULL && io_uring_opcode_supported(probe, OP_READ_MULTISHOT);
		io_uring_free_probe(probe);
		if (!rd)
			ENGINE_LOG(INFO, "lcore %u: no multishot read in this kernel: polling, then read(2)",
				   lcore_id);
		else
			rd = bufs_setup(e, nb_rd, rec_size, burst, lcore_id);
		if (!rd)
			bufs_free(e);
	}
	for (i = 0; i < nb_fds; i++) {
		struct pfdk_engine_q *q = &e->q[i];

		q->rd = rd && qc[i].read_fd >= 0 && qc[i].rec_size == rec_size;
		q->fd = q->rd ? qc[i].read_fd : qc[i].poll_fd;
		q->head = UINT16_MAX;
		q->tail = UINT16_MAX;
		/* Ready at start: look before waiting (reads post on the first reap). */
		e->ready[i] = 1;
		e->nb_rd += q->rd;
	}
	/* Without SINGLE_ISSUER any thread may submit: no enabling needed. */
	e->enabled = !e->disabled;
	return 0;
}

void
pfdk_engine_uring_wait(struct pfdk_engine_uring *e, uint16_t i)
{
	e->ready[i] = 0;
	if (arm_poll(e, i) < 0) {
		/* No SQE: stay ready, i.e. fall back to polling the queue. */
		e->ready[i] = 1;
		pfdk_counter_add(&e->errors, 1);
		return;
	}
	pfdk_counter_add(&e->arms, 1);
	io_uring_submit(&e->ring);
}

/* A read completion: file its buffer, or see why the multishot ended. */
static void
reap_read(struct pfdk_engine_uring *e, uint16_t i, const struct io_uring_cqe *cqe)
{
	struct pfdk_engine_q *q = &e->q[i];
	bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
	uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

	if (cqe->res > 0 && has_buf && bid < e->nb_bufs) {
		/* Whole records only: the driver's reads never split one. */
		e->len[bid] = (uint32_t)cqe->res;
		e->next[bid] = UINT16_MAX;
		if (q->head == UINT16_MAX)
			q->head = bid;
		else
			e->next[q->tail] = bid;
		q->tail = bid;
		e->held++;
		pfdk_counter_add(&e->reads, 1);
	} else {
		if (has_buf && bid < e->nb_bufs)
			buf_give(e, bid);
		if (cqe->res == -ENOBUFS)
			pfdk_counter_add(&e->nobufs, 1); /* re-posted once a buffer comes back */
		else if (cqe->res < 0 && cqe->res != -ECANCELED && cqe->res != -EINTR &&
			 cqe->res != -EAGAIN) {
			/* Not transient: this file cannot be read so; poll it. */
			ENGINE_LOG(WARNING, "queue %u: multishot read: %s: polling instead",
				   i, strerror(-cqe->res));
			pfdk_counter_add(&e->errors, 1);
			q->rd = false;
			e->nb_rd--;
		}
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		q->armed = false;
}

void
pfdk_engine_uring_reap(struct pfdk_engine_uring *e)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	uint16_t i, posted = 0;

	if (unlikely(!e->enabled)) {
		/* The first thread to step the poller becomes its issuer. */
		if (ring_enable(&e->ring) < 0)
			pfdk_counter_add(&e->errors, 1);
		e->enabled = true;
	}
	/* DEFER_TASKRUN: completion work waits until we enter; flagged. */
	if (e->taskrun && (IO_URING_READ_ONCE(*e->ring.sq.kflags) & IORING_SQ_TASKRUN))
		io_uring_get_events(&e->ring);
	io_uring_for_each_cqe(&e->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);

		n++;
		i = UD_QUEUE(ud);
		if (i >= e->nb_fds || (ud & ~0xffffull) == UD_CANCEL)
			continue;
		if ((ud & ~0xffffull) == UD_READ) {
			reap_read(e, i, cqe);
			continue;
		}
		if (cqe->res < 0)
			pfdk_counter_add(&e->errors, 1);
		/* Readable, or the poll failed: either way look at the queue. */
		e->ready[i] = 1;
	}
	if (n != 0)
		io_uring_cq_advance(&e->ring, n);
	if (e->nb_rd == 0 || e->stopping)
		return;
	for (i = 0; i < e->nb_fds; i++) {
		struct pfdk_engine_q *q = &e->q[i];

		/* Re-post an ended read; after -ENOBUFS, once a buffer is free. */
		if (!q->rd || q->armed)
			continue;
		if (e->held >= e->nb_bufs)
			break;
		if (arm_read(e, i) < 0) {
			pfdk_counter_add(&e->errors, 1);
			break;
		}
		posted++;
	}
	if (posted != 0)
		io_uring_submit(&e->ring);
}

void
pfdk_engine_uring_consume(struct pfdk_engine_uring *e, uint16_t i, uint32_t n)
{
	struct pfdk_engine_q *q = &e->q[i];
	uint16_t bid = q->head;

	if (bid == UINT16_MAX)
		return;
	q->off += n;
	if (q->off < e->len[bid])
		return;
	/* All parsed: the buffer goes back to the kernel. */
	q->off = 0;
	q->head = e->next[bid];
	if (q->head == UINT16_MAX)
		q->tail = UINT16_MAX;
	e->held--;
	buf_give(e, bid);
}

void
pfdk_engine_uring_stop(struct pfdk_engine_uring *e)
{
	struct io_uring_sqe *sqe;
	uint16_t i, n = 0;

	if (e->stopping)
		return;
	e->stopping = true;
	for (i = 0; i < e->nb_fds; i++) {
		if (!e->q[i].armed)
			continue;
		sqe = sqe_get(e);
		if (sqe == NULL) {
			pfdk_counter_add(&e->errors, 1);
			continue;
		}
		io_uring_prep_cancel64(sqe, UD_READ | i, 0);
		io_uring_sqe_set_data64(sqe, UD_CANCEL | i);
		n++;
	}
	if (n != 0)
		io_uring_submit(&e->ring);
}

bool
pfdk_engine_uring_drained(const struct pfdk_engine_uring *e)
{
	uint16_t i;

	for (i = 0; i < e->nb_fds; i++)
		if (e->q[i].armed || e->q[i].head != UINT16_MAX)
			return false;
	return true;
}

void
pfdk_engine_uring_fini(struct pfdk_engine_uring *e)
{
	if (e->up)
		io_uring_queue_exit(&e->ring);
	e->up = false;
	bufs_free(e);
}
