/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine = uring and engine = uring-nosqpoll: the io_uring engine of a
 * poller, how it learns which of its queues have faults without a syscall
 * per queue per pass. One ring per poller, its completion queue reaped by
 * spinning.
 *
 * Read mode (a queue whose driver exposes a read fd and a parse op, on a
 * kernel with IORING_OP_READ_MULTISHOT and provided-buffer rings): one
 * multishot read stays posted on the queue's fd, linked behind a one-shot
 * POLL_ADD so that it first runs once the fd is readable (arm_read()
 * says why); each completion is a
 * buffer of whole records, kept in the queue's list until the poller has
 * parsed all of it (records read are gone from the kernel: a buffer is
 * given back to the ring only when empty). A multishot that ends (no
 * buffer left: -ENOBUFS, or any error) is posted again on the next reap.
 * The steady state has no syscall: no read(2) per receive and no re-arm.
 *
 * Poll mode (the other queues, or an older kernel): a queue is read with
 * the driver's receive while it is ready; when a receive finds it empty
 * (and the poller has nothing in flight, so a short receive for lack of
 * descriptors or credit never counts as empty) the poller arms a one-shot
 * POLL_ADD on the queue's readiness fd and stops reading it until the
 * completion. One-shot rather than multishot on purpose: a multishot poll
 * reports only transitions to readable (measured here on a timerfd: one
 * completion, then none while the fd stays readable), so a queue left
 * readable after a short read would never be reported again.
 *
 * Write mode (a queue whose driver hands its response writes to the
 * engine, pfdk_fault_queue_write_handoff(), on a kernel with
 * IORING_OP_WRITE): after each respond the burst's grouped responses go
 * out as one WRITE SQE on the same fd, at most one in flight per queue so
 * the kernel sees them in order; its result goes back to the driver,
 * which applies the kernel's partial-write rule as for write(2), and the
 * rest (responses queued meanwhile, entries after a short write) is posted
 * on that completion. Where the fd refuses io_uring's writes, the driver
 * takes them back and says so on the next take: the queue leaves write
 * mode and the driver calls write(2) again.
 *
 * Submissions are batched: SQEs posted during a pass (polls, re-armed
 * reads, writes) are submitted at the start of the next pass's reap,
 * together with the completion work DEFER_TASKRUN holds, in one
 * io_uring_enter(2) at most. Every enter the engine makes is counted
 * (stats enters), so rows can report it per group rather than assume it.
 *
 * With IORING_SETUP_SQPOLL the kernel's SQ thread (pinned with SQ_AFF to
 * the profile's sqpoll_cpu) takes the submissions and runs the completion
 * work. Without it the ring is SINGLE_ISSUER | DEFER_TASKRUN |
 * TASKRUN_FLAG where the kernel has them: completion work waits for the
 * poller (no IPI into its spinning CPU) and the poller enters the kernel
 * only when the ring's TASKRUN flag says there is work. SINGLE_ISSUER
 * rings are created disabled and enabled by the thread that steps the
 * poller, which is then their only issuer.
 */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "pfdk_counter.h"
#include "pfdk_engine_ops.h"
#include "pfdk_fault.h"

/* A queue's state in the engine. */
struct pfdk_engine_q {
	int fd;              /**< readiness fd (poll mode) or read fd (read mode) */
	bool rd;             /**< read mode */
	bool wr;             /**< write mode: the driver's writes are ours */
	bool wbusy;          /**< write mode: a write is posted */
	bool wpend;          /**< write mode: one is due but found no SQE */
	int wfd;             /**< write mode: the fd to write to */
	uint16_t dev_id;     /**< the queue, for the driver's write calls */
	uint16_t queue_id;
	bool armed;          /**< read mode: a multishot is posted */
	uint16_t head;       /**< read mode: first filled buffer, or UINT16_MAX */
	uint16_t tail;       /**< read mode: last filled buffer */
	uint32_t off;        /**< read mode: bytes of head already parsed */
	uint8_t zeros;       /**< read mode: 0-byte completions in a row */
};

/* Engine state of one poller. */
struct pfdk_engine_uring {
	struct io_uring ring;
	bool up;                             /**< ring initialised */
	bool enabled;                        /**< issuer thread set (or not needed) */
	bool disabled;                       /**< created R_DISABLED */
	bool taskrun;                        /**< TASKRUN_FLAG: enter when flagged */
	bool sqpoll;                         /**< an SQ thread submits */
	bool can_write;                      /**< the kernel has IORING_OP_WRITE */
	bool stopping;                       /**< multishots cancelled */
	uint16_t nb_fds;                     /**< queues watched */
	uint16_t nb_rd;                      /**< of which in read mode */
	uint8_t ready[PFDK_FAULT_MAX_QUEUES]; /**< poll mode: look at it */
	uint8_t wr[PFDK_FAULT_MAX_QUEUES];    /**< write mode, published (ctx->wr) */
	struct pfdk_engine_q q[PFDK_FAULT_MAX_QUEUES];
	/* Provided buffers (read mode). */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	uint32_t buf_size;                   /**< bytes per buffer (whole records) */
	uint16_t nb_bufs;                    /**< power of 2 */
	uint16_t held;                       /**< filled, in a queue's list */
	uint16_t *next;                      /**< per buffer: next in its queue's list */
	uint32_t *len;                       /**< per buffer: bytes read into it */
	uint64_t arms;                       /**< polls or multishots posted */
	uint64_t reads;                      /**< read completions with data */
	uint64_t zeros;                      /**< 0-byte read completions, re-posted */
	uint64_t nobufs;                     /**< multishots ended for lack of buffers */
	uint64_t errors;                     /**< failed completions */
	uint64_t enters;                     /**< io_uring_enter(2) calls */
	uint64_t writes;                     /**< WRITE SQEs posted */
	/* What the poller reads inline (ctx->rv): kept by rv_sync(). */
	struct pfdk_engine_rview rv[PFDK_FAULT_MAX_QUEUES];
};

/* What the engine may read itself, per queue. */
struct pfdk_engine_queue_conf {
	int poll_fd;        /**< readiness fd (poll mode) */
	int read_fd;        /**< read fd, or -1: poll mode only */
	uint32_t rec_size;  /**< record size of read_fd */
};

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
#define UD_WRITE (3ull << 16)
#define UD_RPOLL (4ull << 16) /* the poll a read is linked to */
#define UD_QUEUE(ud) ((uint16_t)((ud) & 0xffff))

#define BGID 0          /* one buffer group per ring */
#define ZERO_READS_MAX 4 /* 0-byte reads in a row before the driver takes over */
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

/*
 * Publish queue @i's read-mode state to the poller (ctx->rv, read inline):
 * after every change of its mode, its buffer list or its offset.
 */
static inline void
rv_sync(struct pfdk_engine_uring *e, uint16_t i)
{
	const struct pfdk_engine_q *q = &e->q[i];
	struct pfdk_engine_rview *rv = &e->rv[i];

	rv->rd = q->rd;
	if (q->head == UINT16_MAX) {
		rv->buf = NULL;
		rv->len = 0;
	} else {
		rv->buf = e->bufs + (size_t)q->head * e->buf_size + q->off;
		rv->len = e->len[q->head] - q->off;
	}
}

/*
 * The one place the engine submits, so that every io_uring_enter(2) is
 * counted where it happens. @events: also run the completion work that
 * DEFER_TASKRUN keeps for us, if the ring flags some.
 *
 * Without SQPOLL, io_uring_submit_and_get_events() always enters: it is
 * called only when SQEs are unsubmitted or work is flagged. With SQPOLL,
 * liburing 2.3's io_uring_submit() enters only to wake a sleeping SQ
 * thread (IORING_SQ_NEED_WAKEUP, read after a full barrier) or to flush an
 * overflowed CQ: the same flags are read here, the same way, just before
 * (the SQ thread falling asleep between the two reads, after 10 ms without
 * work, would make it enter uncounted once).
 */
static void
ring_submit(struct pfdk_engine_uring *e, bool events)
{
	struct io_uring_sq *sq = &e->ring.sq;
	bool unsubmitted = sq->sqe_tail != sq->sqe_head;
	unsigned int kf;

	if (e->sqpoll) {
		if (!unsubmitted)
			return;
		io_uring_smp_mb();
		kf = IO_URING_READ_ONCE(*sq->kflags);
		if (kf & (IORING_SQ_NEED_WAKEUP | IORING_SQ_CQ_OVERFLOW))
			pfdk_counter_add(&e->enters, 1);
		io_uring_submit(&e->ring);
		return;
	}
	kf = IO_URING_READ_ONCE(*sq->kflags);
	if (e->taskrun) {
		if (!unsubmitted && !(events && (kf & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))))
			return;
		pfdk_counter_add(&e->enters, 1);
		io_uring_submit_and_get_events(&e->ring);
		return;
	}
	/* A ring without DEFER_TASKRUN (before 6.1): completions need no enter. */
	if (!unsubmitted && !(kf & IORING_SQ_CQ_OVERFLOW))
		return;
	pfdk_counter_add(&e->enters, 1);
	io_uring_submit(&e->ring);
}

static struct io_uring_sqe *
sqe_get(struct pfdk_engine_uring *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (sqe == NULL) {
		/* Full SQ: push what is queued, then there is room. */
		ring_submit(e, false);
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

/*
 * Post queue @i's read: a one-shot POLL_ADD linked to the multishot read.
 * The read is issued only once the fd polls readable, because its first
 * issue reads whatever is there: an O_NONBLOCK file counts as able to not
 * wait (io_file_get_flags(): REQ_F_SUPPORT_NOWAIT), so the first issue
 * does not poll first, and a file that says "empty" with 0 rather than
 * EAGAIN (the iommufd fault FD) ends the multishot at once with 0 bytes:
 * measured on Linux 6.12 whenever the FD was empty when the read was
 * posted. Later issues, after each completion, go through the
 * poll and wait. A link broken at a submission boundary would lose that,
 * so both SQEs go in one batch.
 */
static int
arm_read(struct pfdk_engine_uring *e, uint16_t i)
{
	struct io_uring_sqe *sqe;

	if (io_uring_sq_space_left(&e->ring) < 2)
		ring_submit(e, false);
	if (io_uring_sq_space_left(&e->ring) < 2)
		return -EBUSY;
	sqe = io_uring_get_sqe(&e->ring);
	io_uring_prep_poll_add(sqe, e->q[i].fd, POLLIN);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, UD_RPOLL | i);
	sqe = io_uring_get_sqe(&e->ring);
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
	e->sqpoll = sqpoll_cpu >= 0;
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

static int
uring_init(struct pfdk_engine_uring *e,
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
	probe = io_uring_get_probe_ring(&e->ring);
	e->can_write = probe != NULL && io_uring_opcode_supported(probe, IORING_OP_WRITE);
	if (nb_rd > 0) {
		rd = probe != NULL && io_uring_opcode_supported(probe, OP_READ_MULTISHOT);
		if (!rd)
			ENGINE_LOG(INFO, "lcore %u: no multishot read in this kernel: polling, then read(2)",
				   lcore_id);
		else
			rd = bufs_setup(e, nb_rd, rec_size, burst, lcore_id);
		if (!rd)
			bufs_free(e);
	}
	io_uring_free_probe(probe);
	for (i = 0; i < nb_fds; i++) {
		struct pfdk_engine_q *q = &e->q[i];

		q->rd = rd && qc[i].read_fd >= 0 && qc[i].rec_size == rec_size;
		q->fd = q->rd ? qc[i].read_fd : qc[i].poll_fd;
		q->head = UINT16_MAX;
		q->tail = UINT16_MAX;
		/* Ready at start: look before waiting (reads post on the first reap). */
		e->ready[i] = 1;
		e->nb_rd += q->rd;
		rv_sync(e, i);
	}
	/* Without SINGLE_ISSUER any thread may submit: no enabling needed. */
	e->enabled = !e->disabled;
	return 0;
}

static void
uring_wait(struct pfdk_engine_uring *e, uint16_t i)
{
	e->ready[i] = 0;
	if (arm_poll(e, i) < 0) {
		/* No SQE: stay ready, i.e. fall back to polling the queue. */
		e->ready[i] = 1;
		pfdk_counter_add(&e->errors, 1);
		return;
	}
	pfdk_counter_add(&e->arms, 1);
	/* Submitted with the next reap's enter. */
}

/* Write mode: post queue @i's pending responses, unless a write is in flight. */
static void
uring_write_post(struct pfdk_engine_uring *e, uint16_t i)
{
	struct pfdk_engine_q *q = &e->q[i];
	struct io_uring_sqe *sqe;
	const void *buf;
	int32_t n;

	if (q->wbusy || !q->wr)
		return; /* its completion posts the rest */
	/* Room for an SQE first: what the driver hands out is in flight at once. */
	if (io_uring_sq_space_left(&e->ring) == 0)
		ring_submit(e, false);
	if (io_uring_sq_space_left(&e->ring) == 0) {
		q->wpend = true; /* the next reap tries again */
		pfdk_counter_add(&e->errors, 1);
		return;
	}
	n = pfdk_fault_write_take(q->dev_id, q->queue_id, &buf);
	if (n <= 0) {
		q->wpend = false;
		if (n < 0) {
			/* The driver took its writes back (the fd refused ours). */
			ENGINE_LOG(INFO, "queue %u: responses written by the driver (write(2)) from now on", i);
			q->wr = false;
			e->wr[i] = 0;
		}
		return;
	}
	sqe = io_uring_get_sqe(&e->ring);
	/* Offset -1: the file's position, which a stream fd ignores. */
	io_uring_prep_write(sqe, q->wfd, buf, (unsigned int)n, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, UD_WRITE | i);
	q->wbusy = true;
	q->wpend = false;
	pfdk_counter_add(&e->writes, 1);
}

/* A write completion: its result to the driver, then what queued meanwhile. */
static void
reap_write(struct pfdk_engine_uring *e, uint16_t i, const struct io_uring_cqe *cqe)
{
	struct pfdk_engine_q *q = &e->q[i];

	q->wbusy = false;
	pfdk_fault_write_done(q->dev_id, q->queue_id, cqe->res);
	uring_write_post(e, i);
}

/* A read completion: file its buffer, or see why the multishot ended. */
static void
reap_read(struct pfdk_engine_uring *e, uint16_t i, const struct io_uring_cqe *cqe)
{
	struct pfdk_engine_q *q = &e->q[i];
	bool has_buf = cqe->flags & IORING_CQE_F_BUFFER;
	uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

	if (cqe->res > 0 && has_buf && bid < e->nb_bufs) {
		q->zeros = 0;
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
		if (cqe->res == -ENOBUFS) {
			pfdk_counter_add(&e->nobufs, 1); /* re-posted once a buffer comes back */
		} else if (cqe->res == 0 && ++q->zeros < ZERO_READS_MAX) {
			/*
			 * 0 bytes although the poll said readable: another
			 * reader got there first (the fd is shared), or the
			 * cases below. Posted again; a few in a row decide.
			 */
			pfdk_counter_add(&e->zeros, 1);
		} else if (cqe->res == 0 ||
			   (cqe->res < 0 && cqe->res != -ECANCELED && cqe->res != -EINTR &&
			    cqe->res != -EAGAIN)) {
			/*
			 * Not transient: this file cannot be read so; the
			 * driver reads it. 0 again and again after a poll is
			 * no "empty": an iommufd fault queue whose first group
			 * is bigger than a buffer (mainline says 0, 6.12
			 * -EINVAL; the driver's own reads grow), or end of
			 * file. Re-posting would spin on it.
			 */
			ENGINE_LOG(WARNING, "queue %u: multishot read: %s: the driver reads it instead",
				   i, cqe->res == 0 ? "0 bytes, " RTE_STR(ZERO_READS_MAX) " times in a row" :
				   strerror(-cqe->res));
			pfdk_counter_add(&e->errors, 1);
			q->rd = false;
			e->nb_rd--;
			e->ready[i] = 1;
		}
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		q->armed = false;
	rv_sync(e, i);
}

static void
uring_reap(struct pfdk_engine_uring *e)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	uint16_t i;

	if (unlikely(!e->enabled)) {
		/* The first thread to step the poller becomes its issuer. */
		if (ring_enable(&e->ring) < 0)
			pfdk_counter_add(&e->errors, 1);
		e->enabled = true;
	}
	/*
	 * What the last pass posted, and (DEFER_TASKRUN) the completion work
	 * waiting until we enter: one enter at most.
	 */
	ring_submit(e, true);
	io_uring_for_each_cqe(&e->ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);

		n++;
		i = UD_QUEUE(ud);
		/* A read's poll: its read (or -ECANCELED) completes next. */
		if (i >= e->nb_fds || (ud & ~0xffffull) == UD_CANCEL ||
		    (ud & ~0xffffull) == UD_RPOLL)
			continue;
		if ((ud & ~0xffffull) == UD_READ) {
			reap_read(e, i, cqe);
			continue;
		}
		if ((ud & ~0xffffull) == UD_WRITE) {
			reap_write(e, i, cqe);
			continue;
		}
		if (cqe->res < 0)
			pfdk_counter_add(&e->errors, 1);
		/* Readable, or the poll failed: either way look at the queue. */
		e->ready[i] = 1;
	}
	if (n != 0)
		io_uring_cq_advance(&e->ring, n);
	for (i = 0; i < e->nb_fds; i++)
		if (e->q[i].wpend)
			uring_write_post(e, i);
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
	}
	/* Posted reads are submitted with the next reap's enter. */
}

static void
uring_consume(struct pfdk_engine_uring *e, uint16_t i, uint32_t n)
{
	struct pfdk_engine_q *q = &e->q[i];
	uint16_t bid = q->head;

	if (bid == UINT16_MAX)
		return;
	q->off += n;
	if (q->off < e->len[bid]) {
		rv_sync(e, i);
		return;
	}
	/* All parsed: the buffer goes back to the kernel. */
	q->off = 0;
	q->head = e->next[bid];
	if (q->head == UINT16_MAX)
		q->tail = UINT16_MAX;
	e->held--;
	buf_give(e, bid);
	rv_sync(e, i);
}

static void
uring_stop(struct pfdk_engine_uring *e)
{
	/* The read, or its poll while it waits there (that ends the read too). */
	static const uint64_t posted[] = { UD_READ, UD_RPOLL };
	struct io_uring_sqe *sqe;
	uint16_t i, n = 0;
	unsigned int k;

	if (e->stopping)
		return;
	e->stopping = true;
	for (i = 0; i < e->nb_fds; i++) {
		if (!e->q[i].armed)
			continue;
		for (k = 0; k < RTE_DIM(posted); k++) {
			sqe = sqe_get(e);
			if (sqe == NULL) {
				pfdk_counter_add(&e->errors, 1);
				continue;
			}
			io_uring_prep_cancel64(sqe, posted[k] | i, 0);
			io_uring_sqe_set_data64(sqe, UD_CANCEL | i);
			n++;
		}
	}
	if (n != 0)
		ring_submit(e, false);
}

static bool
uring_drained(const struct pfdk_engine_uring *e)
{
	uint16_t i;

	for (i = 0; i < e->nb_fds; i++)
		if (e->q[i].armed || e->q[i].head != UINT16_MAX || e->q[i].wbusy ||
		    e->q[i].wpend)
			return false;
	return true;
}

static void
uring_fini(struct pfdk_engine_uring *e)
{
	uint16_t i;

	/* Writes back to the drivers (drained: none in flight). */
	for (i = 0; i < e->nb_fds; i++) {
		struct pfdk_engine_q *q = &e->q[i];

		if (!q->wr)
			continue;
		if (pfdk_fault_queue_write_handoff(q->dev_id, q->queue_id, false, NULL) < 0)
			ENGINE_LOG(ERR, "queue %u: driver refused its writes back (a write in flight)", i);
		q->wr = false;
		e->wr[i] = 0;
	}
	if (e->up)
		io_uring_queue_exit(&e->ring);
	e->up = false;
	bufs_free(e);
}

/* The ops: the ring is the engine's private state. */

static int
uring_setup_common(struct pfdk_engine_ctx *ctx, const struct pfdk_engine_conf *c,
		   int sqpoll_cpu)
{
	struct pfdk_engine_queue_conf qc[PFDK_FAULT_MAX_QUEUES];
	struct pfdk_fault_read_info ri;
	struct pfdk_engine_uring *e;
	uint16_t i;
	int ret;

	if (c->nb_queues > PFDK_FAULT_MAX_QUEUES)
		return -EINVAL;
	for (i = 0; i < c->nb_queues; i++) {
		uint16_t dev = c->queues[i].dev_id, qid = c->queues[i].queue_id;

		qc[i].poll_fd = pfdk_fault_queue_fd(dev, qid);
		if (qc[i].poll_fd < 0) {
			ENGINE_LOG(ERR, "lcore %u: engine %s needs a readiness fd; device %u has none",
				   c->lcore_id, ctx->ops->name, dev);
			return qc[i].poll_fd;
		}
		/* Where the driver lets the engine read for it: multishot reads. */
		qc[i].read_fd = -1;
		qc[i].rec_size = 0;
		if (pfdk_fault_queue_read_info(dev, qid, &ri) == 0) {
			qc[i].read_fd = ri.fd;
			qc[i].rec_size = ri.rec_size;
		}
	}
	e = rte_zmalloc("pfdk_uring", sizeof(*e), RTE_CACHE_LINE_SIZE);
	if (e == NULL)
		return -ENOMEM;
	ctx->priv = e;
	ret = uring_init(e, qc, c->nb_queues, sqpoll_cpu, c->burst, c->lcore_id);
	ctx->ready = e->ready;
	ctx->rv = e->rv;
	ctx->wr = e->wr;
	if (ret < 0)
		return ret;
	for (i = 0; i < c->nb_queues; i++) {
		struct pfdk_engine_q *q = &e->q[i];
		struct pfdk_fault_write_info wi;

		q->dev_id = c->queues[i].dev_id;
		q->queue_id = c->queues[i].queue_id;
		/* Where the driver lets the engine write for it: WRITE SQEs. */
		if (!e->can_write ||
		    pfdk_fault_queue_write_handoff(q->dev_id, q->queue_id, true, &wi) < 0)
			continue;
		q->wr = true;
		q->wfd = wi.fd;
		e->wr[i] = 1;
	}
	if (!e->can_write)
		ENGINE_LOG(INFO, "lcore %u: no IORING_OP_WRITE in this kernel: responses by write(2)",
			   c->lcore_id);
	return 0;
}

static int
uring_setup_sqpoll(struct pfdk_engine_ctx *ctx, const struct pfdk_engine_conf *c)
{
	return uring_setup_common(ctx, c, c->sqpoll_cpu);
}

static int
uring_setup_nosqpoll(struct pfdk_engine_ctx *ctx, const struct pfdk_engine_conf *c)
{
	return uring_setup_common(ctx, c, -1);
}

static void
op_start(struct pfdk_engine_ctx *ctx)
{
	struct pfdk_engine_uring *e = ctx->priv;

	e->stopping = false;
	ctx->stopping = false;
}

static void
op_reap(struct pfdk_engine_ctx *ctx)
{
	uring_reap(ctx->priv);
}

static void
op_empty(struct pfdk_engine_ctx *ctx, uint16_t i)
{
	uring_wait(ctx->priv, i);
}

static void
op_consume(struct pfdk_engine_ctx *ctx, uint16_t i, uint32_t n)
{
	uring_consume(ctx->priv, i, n);
}

static void
op_write(struct pfdk_engine_ctx *ctx, uint16_t i)
{
	uring_write_post(ctx->priv, i);
}

static void
op_stop(struct pfdk_engine_ctx *ctx)
{
	uring_stop(ctx->priv);
	ctx->stopping = true;
}

static bool
op_drained(const struct pfdk_engine_ctx *ctx)
{
	return uring_drained(ctx->priv);
}

static void
op_stats(const struct pfdk_engine_ctx *ctx, struct pfdk_engine_stats *s)
{
	const struct pfdk_engine_uring *e = ctx->priv;

	s->arms = pfdk_counter_read(&e->arms);
	s->reads = pfdk_counter_read(&e->reads);
	s->enters = pfdk_counter_read(&e->enters);
	s->writes = pfdk_counter_read(&e->writes);
}

static void
op_fini(struct pfdk_engine_ctx *ctx)
{
	if (ctx->priv == NULL)
		return;
	uring_fini(ctx->priv);
	rte_free(ctx->priv);
	ctx->priv = NULL;
	ctx->ready = NULL;
	ctx->rv = NULL;
	ctx->wr = NULL;
}

PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_uring = {
	.name = "uring",
	.sqpoll = true,
	.setup = uring_setup_sqpoll,
	.start = op_start,
	.reap = op_reap,
	.empty = op_empty,
	.consume = op_consume,
	.write = op_write,
	.stop = op_stop,
	.drained = op_drained,
	.stats = op_stats,
	.fini = op_fini,
};

PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_uring_nosqpoll = {
	.name = "uring-nosqpoll",
	.setup = uring_setup_nosqpoll,
	.start = op_start,
	.reap = op_reap,
	.empty = op_empty,
	.consume = op_consume,
	.write = op_write,
	.stop = op_stop,
	.drained = op_drained,
	.stats = op_stats,
	.fini = op_fini,
};
