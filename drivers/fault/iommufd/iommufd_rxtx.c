/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iommufd burst functions: the record reader, the group tracker and the
 * response writer (see pfdk_iommufd.h for the rules they keep).
 *
 * The reader trusts nothing it reads: a byte count that is not a multiple
 * of 40, a cookie that is already live, a group cut short by another
 * cookie are counted as malformed and never make the writer answer a cookie
 * twice, because a group's response is queued exactly once, when the group
 * leaves the table.
 */
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "pfdk_counter.h"
#include "pfdk_fault_driver.h"
#include "iommufd_private.h"

/* The first few of a kind, then at powers of two: a storm stays readable. */
static inline int
log_this(uint64_t n)
{
	return n <= 4 || (n & (n - 1)) == 0;
}

static inline struct iommufd_group *
grp_lookup(const struct iommufd_queue *q, uint32_t cookie)
{
	/* Cookies are small and dense (lowest free): the mask is a direct map. */
	uint32_t i = cookie & q->tab_mask;

	while (q->tab[i].grp.gen != 0) {
		if (q->tab[i].cookie == cookie)
			return &q->tab[i];
		i = (i + 1) & q->tab_mask;
	}
	return NULL;
}

static inline struct iommufd_group *
grp_insert(struct iommufd_queue *q, uint32_t cookie)
{
	uint32_t i = cookie & q->tab_mask;
	struct iommufd_group *g;

	while (q->tab[i].grp.gen != 0)
		i = (i + 1) & q->tab_mask;
	g = &q->tab[i];
	g->cookie = cookie;
	if (++q->gen == 0)
		q->gen = 1;
	pfdk_fault_group_begin(&g->grp, q->gen);
	q->nb_groups++;
	pfdk_counter_add(&q->st.outstanding, 1);
	return g;
}

/* Backward-shift deletion: no tombstones, so lookups stay short. */
static inline void
grp_delete(struct iommufd_queue *q, struct iommufd_group *g)
{
	uint32_t i = (uint32_t)(g - q->tab), j = i, k;

	if (unlikely(g->grp.big != NULL))
		q->big_free[q->nb_big_free++] = g->grp.big;
	for (;;) {
		q->tab[i].grp.gen = 0;
		for (;;) {
			j = (j + 1) & q->tab_mask;
			if (q->tab[j].grp.gen == 0)
				goto done;
			k = q->tab[j].cookie & q->tab_mask;
			/* Move j back unless its home lies cyclically in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		q->tab[i] = q->tab[j];
		i = j;
	}
done:
	q->tab[i].grp.big = NULL;
	q->nb_groups--;
}

/* @g reaches 65 records: give it a map. False if none is free. */
static bool
grp_grow_map(struct iommufd_queue *q, struct iommufd_group *g)
{
	if (q->nb_big_free == 0)
		return false;
	g->grp.big = q->big_free[--q->nb_big_free];
	memset(g->grp.big, 0, IOMMUFD_BIG_WORDS * sizeof(uint64_t));
	return true;
}

/*
 * Records a read may take without making more groups of over 64 records
 * than there are free maps: each new one needs 65 records of the read,
 * less what the open group (still under 65, no map) already has.
 */
static uint32_t
big_credit(const struct iommufd_queue *q)
{
	const struct iommufd_group *g = q->has_open ? grp_lookup(q, q->open_cookie) : NULL;
	uint32_t k = (g != NULL && g->grp.big == NULL) ? g->grp.nrec : 0;

	return 65 * q->nb_big_free + 64 - k;
}

/* The group's one response, queued; the table forgets the cookie. */
static inline void
grp_answer(struct iommufd_queue *q, struct iommufd_group *g)
{
	struct pfdk_iommu_hwpt_page_response *r = &q->wbuf[q->wn++];

	r->cookie = g->cookie;
	r->code = g->grp.code;
	grp_delete(q, g);
}

/* Entry @i was refused: unknown cookie or answered already (by someone else). */
static void
reject(struct iommufd_queue *q, uint32_t i)
{
	pfdk_counter_add(&q->xs.rejected, 1);
	if (log_this(q->xs.rejected))
		PFDK_FAULT_LOG(WARNING, "%s: response {cookie %u, code %u} refused by the fault FD (EINVAL): unknown or already answered; %" PRIu64 " so far",
			       q->name, q->wbuf[i].cookie, q->wbuf[i].code,
			       q->xs.rejected);
}

/*
 * One write's result @ret for entries [off, end) of wbuf, by the kernel's
 * rules: entries are taken in order and the write stops at the first bad
 * one. Returns how far the responses are settled (taken, or refused and
 * skipped); *again: the rest may be written now (else they wait).
 */
static uint32_t
wr_apply(struct iommufd_queue *q, uint32_t off, uint32_t end, ssize_t ret,
	 bool *again)
{
	*again = true;
	if (ret >= (ssize_t)IOMMUFD_RESP) {
		uint32_t took = (uint32_t)RTE_MIN((size_t)ret / IOMMUFD_RESP,
						  (size_t)(end - off));

		off += took;
		if (off == end || took * IOMMUFD_RESP != (size_t)ret)
			return off;
		/*
		 * A partial write: the kernel stops only at a bad entry, so
		 * the next one was refused. Skip it here rather than send it
		 * again.
		 */
		reject(q, off++);
		return off;
	}
	if (ret == -EINTR)
		return off;
	if (ret == -EINVAL) {
		/*
		 * The first entry was refused (a cookie the FD does not know,
		 * or answered already by someone else): it is consumed here,
		 * never written again; go on after it.
		 */
		reject(q, off);
		return off + 1;
	}
	/* EAGAIN, EBADF, 0...: keep them for a later write. */
	*again = false;
	return off;
}

/* The first @off pending responses are settled: forget them. */
static void
wr_commit(struct iommufd_queue *q, uint32_t off)
{
	if (off != 0) {
		pfdk_counter_sub(&q->st.outstanding, off);
		q->wn -= off;
		if (q->wn != 0)
			memmove(q->wbuf, &q->wbuf[off], (size_t)q->wn * sizeof(*q->wbuf));
	}
	__atomic_store_n(&q->xs.write_pending, q->wn, __ATOMIC_RELAXED);
}

void
iommufd_flush(struct iommufd_queue *q)
{
	uint32_t off = 0, tries = 0;
	bool again = true;
	ssize_t ret = 0;

	while (again && off < q->wn && tries++ < q->wn + 8) {
		ret = q->io->write(q->io_ctx, &q->wbuf[off],
				   (size_t)(q->wn - off) * IOMMUFD_RESP);
		pfdk_counter_add(&q->xs.writes, 1);
		off = wr_apply(q, off, q->wn, ret, &again);
	}
	if (!again && log_this(q->xs.writes))
		PFDK_FAULT_LOG(ERR, "%s: write of %u response(s) to the fault FD failed: %s; kept for retry",
			       q->name, q->wn - off,
			       ret < 0 ? strerror((int)-ret) : "short write");
	wr_commit(q, off);
}

int32_t
iommufd_write_take(void *queue, const void **buf)
{
	struct iommufd_queue *q = queue;

	if (unlikely(!q->wring))
		return -ENOTSUP;
	/* One write in flight: the kernel then sees the responses in order. */
	if (q->winf != 0 || q->wn == 0)
		return 0;
	q->winf = q->wn;
	*buf = q->wbuf;
	return (int32_t)(q->winf * IOMMUFD_RESP);
}

/*
 * The engine's write failed with @r, taking nothing. Either the first
 * entry was refused (-EINVAL, as write(2) says it) or this fd does not
 * take writes from io_uring at all (a kernel or file without it). One
 * write(2) of the same entries tells them apart, and is the driver's own
 * path in either case: nothing was consumed, so nothing is sent twice.
 */
static void
wr_ring_failed(struct iommufd_queue *q, uint32_t end, ssize_t r)
{
	ssize_t w = q->io->write(q->io_ctx, q->wbuf, (size_t)end * IOMMUFD_RESP);
	bool again;
	uint32_t off;

	pfdk_counter_add(&q->xs.writes, 1);
	if (w != r) {
		/* write(2) did otherwise: io_uring cannot write here. */
		q->wring = 0;
		pfdk_counter_add(&q->xs.ring_fallbacks, 1);
		PFDK_FAULT_LOG(NOTICE, "%s: the engine's write of the responses failed (%s) where write(2) does not: the driver writes them itself from now on",
			       q->name, r < 0 ? strerror((int)-r) : "nothing taken");
	}
	off = wr_apply(q, 0, end, w, &again);
	wr_commit(q, off);
	if (!q->wring && again && q->wn != 0)
		iommufd_flush(q);
}

void
iommufd_write_done(void *queue, int32_t res)
{
	struct iommufd_queue *q = queue;
	uint32_t end = q->winf, off;
	bool again;
	ssize_t r;

	if (unlikely(end == 0))
		return; /* no take: nothing was in flight */
	q->winf = 0;
	pfdk_counter_add(&q->xs.ring_writes, 1);
	r = q->io->write_result == NULL ? res :
		q->io->write_result(q->io_ctx, q->wbuf, (size_t)end * IOMMUFD_RESP, res);
	if (likely(r == (ssize_t)end * (ssize_t)IOMMUFD_RESP)) {
		wr_commit(q, end);
		return;
	}
	if (r > 0 || r == -EINTR || r == -EAGAIN || r == -ECANCELED) {
		/*
		 * As write(2) would: a short write refused the entry after it;
		 * an interrupted or cancelled one took nothing. What is left
		 * goes with the next take, in order.
		 */
		off = wr_apply(q, 0, end, r, &again);
		wr_commit(q, off);
		return;
	}
	wr_ring_failed(q, end, r);
}

/* Make room for @recs more records at rtail; false if at the cap. */
static int
rbuf_reserve(struct iommufd_queue *q, uint32_t recs)
{
	struct pfdk_iommu_hwpt_pgfault *rb;
	struct iommufd_meta *mb;
	uint32_t cap = q->rcap;

	if (q->rtail + recs <= cap)
		return 1;
	while (cap < q->rtail + recs && cap < IOMMUFD_RBUF_MAX)
		cap *= 2;
	cap = RTE_MIN(cap, IOMMUFD_RBUF_MAX);
	if (cap <= q->rcap)
		return 0;
	/* Rare (a burst or group bigger than any before): worth one realloc. */
	rb = rte_realloc_socket(q->rbuf, (size_t)cap * IOMMUFD_REC,
				RTE_CACHE_LINE_SIZE, q->socket_id);
	if (rb == NULL)
		return 0;
	q->rbuf = rb;
	mb = rte_realloc_socket(q->meta, (size_t)cap * sizeof(*mb),
				RTE_CACHE_LINE_SIZE, q->socket_id);
	if (mb == NULL)
		return 0;
	q->meta = mb;
	q->rcap = cap;
	return q->rtail + recs <= cap;
}

/* Close the open group as it stands: the stream cut it short. */
static void
close_open_group(struct iommufd_queue *q, uint32_t end, const char *why)
{
	struct iommufd_group *g = grp_lookup(q, q->open_cookie);

	if (g != NULL)
		g->grp.closed = 1;
	pfdk_counter_add(&q->xs.malformed, 1);
	if (log_this(q->xs.malformed))
		PFDK_FAULT_LOG(WARNING, "%s: group with cookie %u has no LAST_PAGE record (%s): answered as %u record(s)",
			       q->name, q->open_cookie, why, g ? g->grp.nrec : 0);
	q->has_open = 0;
	q->rready = end;
}

/*
 * Validate @n records just read at rtail, group them, and compact out the
 * ones that cannot be tracked. Records become ready when their group's
 * LAST_PAGE record arrives.
 */
static void
parse(struct iommufd_queue *q, uint32_t n)
{
	struct iommufd_group *cur = NULL;
	uint32_t i, w = q->rtail;

	if (q->has_open)
		cur = grp_lookup(q, q->open_cookie);
	for (i = q->rtail; i < q->rtail + n; i++) {
		struct pfdk_iommu_hwpt_pgfault r = q->rbuf[i];

		if (unlikely(r.flags & ~PFDK_IOMMU_PGFAULT_FLAGS_KNOWN)) {
			/* Bit 2 is the kernel's own "needs PASID": not ours to judge. */
			pfdk_counter_add(&q->xs.unknown_flags, 1);
			r.flags &= PFDK_IOMMU_PGFAULT_FLAGS_KNOWN;
		}
		if (unlikely(cur != NULL && r.cookie != cur->cookie)) {
			close_open_group(q, w, "another cookie follows");
			cur = NULL;
		}
		if (cur == NULL) {
			/*
			 * Cookie 0 is a value like any other: the kernel
			 * issues it (6.12, after a refused {cookie 0} write,
			 * docs/iommufd.md). A live cookie means its group
			 * already came: tracking it again could answer it
			 * twice, so the record is dropped.
			 */
			if (unlikely(grp_lookup(q, r.cookie) != NULL ||
				     q->nb_groups + q->wn >= q->max_groups)) {
				pfdk_counter_add(&q->xs.malformed, 1);
				if (log_this(q->xs.malformed))
					PFDK_FAULT_LOG(WARNING, "%s: record with cookie %u dropped: %s",
						       q->name, r.cookie,
						       grp_lookup(q, r.cookie) != NULL ?
						       "its group is still outstanding" :
						       "more groups than outstanding= read");
				continue;
			}
			cur = grp_insert(q, r.cookie);
			q->open_cookie = r.cookie;
			q->has_open = 1;
		}
		if (unlikely(cur->grp.nrec >= 64 && cur->grp.big == NULL) &&
		    !grp_grow_map(q, cur)) {
			/* Unreachable: read_more() reads no more than big_credit(). */
			close_open_group(q, w, "over 64 records and no record map free");
			cur = NULL;
			continue;
		}
		q->meta[w].gen = cur->grp.gen;
		q->meta[w].idx = cur->grp.nrec++;
		q->rbuf[w++] = r;
		if (r.flags & PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE) {
			cur->grp.closed = 1;
			cur = NULL;
			q->has_open = 0;
			q->rready = w;
		}
	}
	q->rtail = w;
}

/*
 * Debian's 6.12.118 fails a read whose first group does not fit with -EINVAL:
 * double it. The read still holds at most 'credit' groups, since the first
 * one alone is bigger than the old size. False at the cap.
 */
static int
grow(struct iommufd_queue *q, uint32_t *want, uint32_t cap)
{
	uint32_t w = RTE_MIN(*want * 2, cap);

	if (q->rtail + *want >= IOMMUFD_RBUF_MAX)
		return 0;
	if (!rbuf_reserve(q, w))
		w = q->rcap - q->rtail;
	if (w <= *want) {
		/*
		 * Held back by free group slots or record maps: it is read
		 * once groups are answered. Said when even an idle queue
		 * could not take it (outstanding= is smaller than the group).
		 */
		if (*want >= cap && log_this(++q->nofit_waits)) {
			if (cap >= q->max_groups)
				PFDK_FAULT_LOG(ERR, "%s: the first waiting group has more than %u record(s): raise outstanding= (one slot per record read) or it is never read; %u time(s) so far",
					       q->name, cap, q->nofit_waits);
			else
				PFDK_FAULT_LOG(DEBUG, "%s: the first waiting group has more than %u record(s): read when outstanding groups are answered; %u time(s) so far",
					       q->name, cap, q->nofit_waits);
		}
		return 0;
	}
	*want = w;
	pfdk_counter_add(&q->xs.grows, 1);
	return 1;
}

/*
 * A read returned 0. Mainline's fault.c returns 0 both when nothing waits
 * and when the first group does not fit the read (it stays queued, the FD
 * stays readable); Debian's 6.12.118 says -EINVAL for the latter. Telling
 * them apart takes a poll of the readiness FD, so it is asked on the first
 * empty read of a run and then every 16th: a group too big for the buffer
 * is found within 16 reads, and an idle busy-polling queue pays one poll(2)
 * per 16 reads.
 */
static bool
nofit_waiting(struct iommufd_queue *q, bool now)
{
	struct pollfd pfd = { .events = POLLIN };

	/* Confirming, or right after a grow that still did not fit: ask at once. */
	if ((!now && q->empty_reads++ % 16 != 0) || q->io->readiness_fd == NULL)
		return false;
	pfd.fd = q->io->readiness_fd(q->io_ctx);
	return pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Move what the carry still holds (ready or an open group) to its front. */
static inline void
carry_compact(struct iommufd_queue *q)
{
	uint32_t keep = q->rtail - q->rhead;

	if (q->rhead == 0)
		return;
	if (keep != 0) {
		memmove(q->rbuf, &q->rbuf[q->rhead], (size_t)keep * IOMMUFD_REC);
		memmove(q->meta, &q->meta[q->rhead], (size_t)keep * sizeof(*q->meta));
	}
	q->rready -= q->rhead;
	q->rtail = keep;
	q->rhead = 0;
}

/*
 * Before records join the carry: compact it; an open group that alone
 * fills it is closed as it stands (no later record of it would fit).
 * @return false when it closed one.
 */
static inline bool
carry_prepare(struct iommufd_queue *q)
{
	carry_compact(q);
	if (unlikely(q->rtail != q->rready && q->rtail >= IOMMUFD_RBUF_MAX)) {
		close_open_group(q, q->rtail, "it fills the read buffer");
		return false;
	}
	return true;
}

/* Each record may open a group: read no more than the table can take. */
static inline uint32_t
read_credit(const struct iommufd_queue *q)
{
	return RTE_MIN(q->max_groups - q->nb_groups - q->wn, big_credit(q));
}

/* Read up to @want records (whole groups) into the carry. */
static void
read_more(struct iommufd_queue *q, uint32_t want)
{
	uint32_t credit;
	bool grew = false, confirming = false;
	ssize_t ret;

	/* Nothing is ready: move an open group, if any, to the front. */
	if (!carry_prepare(q))
		return;
	credit = read_credit(q);
	if (credit == 0) {
		pfdk_counter_add(&q->st.full, 1);
		return;
	}
	want = RTE_MIN(RTE_MAX(want, q->rmin), credit);
	if (!rbuf_reserve(q, want))
		want = q->rcap - q->rtail;
	for (;;) {
		ret = q->io->read(q->io_ctx, &q->rbuf[q->rtail],
				  (size_t)want * IOMMUFD_REC);
		if (likely(ret > 0)) {
			q->empty_reads = 0;
			break;
		}
		if (ret == 0) {
			/* Empty, or (mainline) a first group that does not fit. */
			if (!nofit_waiting(q, grew || confirming))
				break;
			/*
			 * Readable after an empty read proves nothing yet: a
			 * fault may have landed between the read and the poll
			 * (seen on 6.12 under load). Read again at the same
			 * size; only a second 0 while still readable means the
			 * first group does not fit.
			 */
			if (!confirming && !grew) {
				confirming = true;
				continue;
			}
			if (!grow(q, &want, credit))
				break;
			grew = true;
			continue;
		}
		if (ret == -EINTR)
			continue;
		if (ret == -EINVAL && grow(q, &want, credit))
			continue;
		if (ret == -EINVAL && want >= credit) {
			/* Too big for now (grow() said so): it waits in the FD. */
			pfdk_counter_add(&q->st.full, 1);
			return;
		}
		pfdk_counter_add(&q->xs.read_errors, 1);
		if (log_this(q->xs.read_errors))
			PFDK_FAULT_LOG(ERR, "%s: read of %u record(s) from the fault FD failed: %s%s",
				       q->name, want, strerror((int)-ret),
				       ret == -EINVAL ? " (a group larger than the read buffer's cap?)" : "");
		return;
	}
	if (unlikely(ret % IOMMUFD_REC != 0)) {
		pfdk_counter_add(&q->xs.malformed, 1);
		if (log_this(q->xs.malformed))
			PFDK_FAULT_LOG(WARNING, "%s: read returned %zd bytes, not a multiple of %zu: the last %zu byte(s), a short record, dropped",
				       q->name, ret, IOMMUFD_REC,
				       (size_t)ret % IOMMUFD_REC);
	}
	if (ret >= (ssize_t)IOMMUFD_REC)
		parse(q, RTE_MIN((uint32_t)((size_t)ret / IOMMUFD_REC), want));
}

static inline void
fill(const struct iommufd_queue *q, struct pfdk_fault *f,
     const struct pfdk_iommu_hwpt_pgfault *r, const struct iommufd_meta *m,
     uint64_t now)
{
	f->addr = r->addr;
	f->tsc = now;
	f->drv = (uint64_t)m->gen << 32 | m->idx;
	f->user = 0;
	/* length reads as 0: a PRI request is for one 4 KiB page. */
	f->len = r->length ? r->length : IOMMUFD_PAGE;
	f->pasid = (r->flags & PFDK_IOMMU_PGFAULT_FLAGS_PASID_VALID) ? r->pasid : 0;
	f->grpid = r->grpid;
	f->cookie = r->cookie;
	f->tid = 0;
	f->dev_id = q->dev_id;
	f->queue_id = q->queue_id;
	f->perm = (uint8_t)(r->perm & (PFDK_FAULT_PERM_READ | PFDK_FAULT_PERM_WRITE |
				       PFDK_FAULT_PERM_EXEC | PFDK_FAULT_PERM_PRIV));
	f->kind = PFDK_FAULT_KIND_IO;
	/* PASID_VALID and LAST_PAGE have the same values in both. */
	f->flags = (uint8_t)(r->flags & PFDK_IOMMU_PGFAULT_FLAGS_KNOWN);
	f->status = PFDK_FAULT_RESP_SUCCESS;
	f->rsvd = 0;
}

/* Hand the carry's first @n ready records out in @faults. */
static inline void
carry_take(struct iommufd_queue *q, struct pfdk_fault **faults, uint32_t n)
{
	uint64_t now = rte_rdtsc();
	uint32_t i;

	for (i = 0; i < n; i++)
		fill(q, faults[i], &q->rbuf[q->rhead + i], &q->meta[q->rhead + i], now);
	q->rhead += n;
	if (q->rhead == q->rtail)
		q->rhead = q->rready = q->rtail = 0;
	pfdk_counter_add(&q->st.received, n);
}

uint16_t
iommufd_recv(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct iommufd_queue *q = queue;
	uint32_t ready = q->rready - q->rhead, n;

	if (unlikely(q->wn != 0) && !q->wring)
		iommufd_flush(q); /* responses an earlier write could not take */
	n = ready != 0 ? RTE_MIN((uint32_t)nb, ready) : nb;
	if (n == 0)
		return 0;
	/* Descriptors first: with a short pool, read fewer groups. */
	n = pfdk_fault_desc_take(q->pool, faults, (uint16_t)n, &q->st.nodesc);
	if (n == 0)
		return 0;
	if (ready == 0) {
		read_more(q, n);
		ready = q->rready - q->rhead;
		if (ready < n) {
			rte_mempool_put_bulk(q->pool, (void **)&faults[ready], n - ready);
			n = ready;
		}
	}
	carry_take(q, faults, n);
	return (uint16_t)n;
}

/*
 * Parse (pfdk_fault_parse_burst()): the records an engine read from the
 * fault FD (queue_read_info) join the carry, as read_more() would have
 * read them: no more than the group table and the record maps can track
 * (the rest stays with the engine, offered again first), then the ready
 * records are handed out as by recv. With @nb 0 (the engine's service
 * call) the records are only taken in; the FD no longer shows them, so
 * iommufd_service() reports them until handed out.
 */
uint16_t
iommufd_parse_records(void *queue, const void *buf, uint32_t len,
		      struct pfdk_fault **faults, uint16_t nb, uint32_t *consumed)
{
	struct iommufd_queue *q = queue;
	uint32_t m = len / (uint32_t)IOMMUFD_REC, c = 0, ready, n;

	if (unlikely(q->wn != 0) && !q->wring)
		iommufd_flush(q);
	if (m != 0 && carry_prepare(q)) {
		c = RTE_MIN(m, read_credit(q));
		if (c != 0 && !rbuf_reserve(q, c))
			c = q->rcap - q->rtail;
		if (c != 0) {
			memcpy(&q->rbuf[q->rtail], buf, (size_t)c * IOMMUFD_REC);
			parse(q, c);
		} else {
			pfdk_counter_add(&q->st.full, 1);
		}
	} else if (unlikely(m == 0 && len != 0)) {
		/* Less than a record: never completed by a later read. */
		pfdk_counter_add(&q->xs.malformed, 1);
		if (log_this(q->xs.malformed))
			PFDK_FAULT_LOG(WARNING, "%s: %u byte(s) read, not a whole record: dropped",
				       q->name, len);
		*consumed = len;
		return 0;
	}
	*consumed = c * (uint32_t)IOMMUFD_REC;
	ready = q->rready - q->rhead;
	if (nb == 0 || ready == 0)
		return 0;
	n = pfdk_fault_desc_take(q->pool, faults, (uint16_t)RTE_MIN((uint32_t)nb, ready),
				 &q->st.nodesc);
	if (n != 0)
		carry_take(q, faults, n);
	return (uint16_t)n;
}

/* Ready records the carry holds: the fault FD does not show them. */
uint32_t
iommufd_service(void *queue, bool read)
{
	const struct iommufd_queue *q = queue;

	RTE_SET_USED(read); /* no events wait behind the faults */
	return q->rready - q->rhead;
}

uint16_t
iommufd_respond(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct iommufd_queue *q = queue;
	uint64_t groups = 0, invalid = 0, responded = 0;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		const struct pfdk_fault *f = faults[i];
		struct iommufd_group *g = grp_lookup(q, f->cookie);
		bool bad = false;

		/* Its group answered (the cookie may be another's now): stale. */
		switch (g == NULL ? PFDK_FAULT_GROUP_STALE :
			pfdk_fault_group_return(&g->grp, (uint32_t)(f->drv >> 32),
						(uint32_t)f->drv, f->status, &bad)) {
		case PFDK_FAULT_GROUP_STALE:
			pfdk_counter_add(&q->xs.stale, 1);
			continue;
		case PFDK_FAULT_GROUP_DUPLICATE:
			/* Passed back before: counting it again would answer early. */
			pfdk_counter_add(&q->xs.duplicates, 1);
			continue;
		case PFDK_FAULT_GROUP_DONE:
			groups++;
			invalid += g->grp.code == PFDK_FAULT_RESP_INVALID;
			grp_answer(q, g);
			break;
		case PFDK_FAULT_GROUP_TAKEN:
			break;
		}
		/* A resolver bug (answered INVALID) must not leave the device waiting. */
		if (unlikely(bad))
			pfdk_counter_add(&q->xs.bad_status, 1);
		responded++;
	}
	rte_mempool_put_bulk(q->pool, (void **)faults, nb);
	pfdk_counter_add(&q->st.responded, responded);
	pfdk_counter_add(&q->st.groups, groups);
	pfdk_counter_add(&q->st.invalid, invalid);
	/* Many responses, one write; handed off, the engine writes them. */
	if (q->wn != 0 && !q->wring)
		iommufd_flush(q);
	return nb;
}

void
iommufd_queue_abort(struct iommufd_queue *q)
{
	uint32_t i, aborted = 0;

	if (unlikely(q->winf != 0)) {
		/*
		 * An engine's write whose result never came (it went away with
		 * the write in flight): the kernel may have taken any of it, so
		 * none is sent again. Unreachable through lib/pipeline, whose
		 * engines drain their writes before the device stops.
		 */
		PFDK_FAULT_LOG(ERR, "%s: stop with an engine's write of %u response(s) still in flight: not sent again",
			       q->name, q->winf);
		wr_commit(q, q->winf);
		q->winf = 0;
	}
	iommufd_flush(q);
	for (i = 0; i <= q->tab_mask; i++) {
		struct iommufd_group *g = &q->tab[i];

		if (g->grp.gen == 0)
			continue;
		q->wbuf[q->wn].cookie = g->cookie;
		q->wbuf[q->wn].code = PFDK_FAULT_RESP_INVALID;
		q->wn++;
		g->grp.gen = 0;
		if (g->grp.big != NULL)
			q->big_free[q->nb_big_free++] = g->grp.big;
		g->grp.big = NULL;
		aborted++;
	}
	q->nb_groups = 0;
	q->has_open = 0;
	q->rhead = q->rready = q->rtail = 0;
	pfdk_counter_add(&q->st.aborted, aborted);
	pfdk_counter_add(&q->st.invalid, aborted);
	iommufd_flush(q);
	if (q->wn != 0) {
		PFDK_FAULT_LOG(ERR, "%s: %u response(s) could not be written at stop: those groups stay waiting in the kernel until the fault object is destroyed",
			       q->name, q->wn);
		pfdk_counter_sub(&q->st.outstanding, q->wn);
		q->wn = 0;
		__atomic_store_n(&q->xs.write_pending, 0, __ATOMIC_RELAXED);
	}
	if (aborted != 0)
		PFDK_FAULT_LOG(INFO, "%s: stop answered %u outstanding group(s) INVALID",
			       q->name, aborted);
}
