/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The synthetic fault device. See pfdk_sim.h for what it emits and checks.
 *
 * Per queue, a table of group slots plays the role of the kernel's
 * outstanding-group list: a slot's index + 1 is the group's cookie, and a
 * generation number (seq) in each descriptor's driver token tells a late or
 * repeated response from one for the slot's current group.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "pfdk_counter.h"
#include "pfdk_fault_driver.h"
#include "pfdk_idmap.h"
#include "pfdk_prigen.h"
#include "pfdk_sim.h"

/* PFDK_FAULT_LOG() here logs as "pfdk.fault.sim". */
#define RTE_LOG_DEFAULT_LOGTYPE pfdk.fault
RTE_LOG_REGISTER_SUFFIX(pfdk_sim_logtype, sim, INFO);
#undef PFDK_FAULT_LOGTYPE
#define PFDK_FAULT_LOGTYPE pfdk_sim_logtype

#define SIM_PAGE 4096u
#define SIM_NO_GROUP UINT32_MAX
#define SIM_MAX_GROUP_RECORDS 64
#define SIM_VA_PAGES (1u << 20) /* addresses spread over 4 GiB per PASID */

struct sim_conf {
	uint64_t rate;
	uint64_t groups;
	uint64_t pasids;
	uint64_t outstanding;
	uint64_t total;
	uint64_t seed;
	uint64_t queues;
};

struct sim_group {
	/* The class's ledger: gen 0 = slot free, nrec = records handed out. */
	struct pfdk_fault_group grp;
	uint8_t size;     /* records in the group (at most 64: no map) */
	uint64_t addr;    /* first page of the group */
	uint32_t pasid;
	uint8_t perm;
};

/* The simulator's own counters; the common ones are the class's (st). */
struct sim_xstats {
	uint64_t groups_begun;
	uint64_t duplicates; /* each also counts in st.errors */
	uint64_t stale;
	uint64_t bad_code;
};

struct sim_queue {
	struct rte_mempool *pool;
	struct sim_group *groups;  /* conf.outstanding slots */
	struct pfdk_idmap slots;   /* free group slots, lowest first */
	uint32_t nb_slots;
	uint32_t cur;              /* slot being emitted, or SIM_NO_GROUP */
	/*
	 * The next group, drawn ahead (recv hands out whole groups, so it
	 * needs the next one's size before it begins it), from the generator
	 * the iommufd emulator uses too.
	 */
	struct pfdk_prigen_group next;
	struct pfdk_prigen gen;
	uint32_t seq;
	uint64_t left;             /* records still to emit (UINT64_MAX: no end) */
	uint64_t next_tsc;         /* rate mode: when the next record is due */
	uint64_t tsc_step;         /* rate mode: cycles between records */
	int fd;                    /* readiness for blocking engines */
	uint16_t dev_id;
	uint16_t queue_id;
	struct pfdk_fault_queue_stats st; /* class's; only the owner writes */
	struct sim_xstats xs;      /* written only by the queue's owner */
} __rte_cache_aligned;

struct sim_dev {
	struct sim_conf conf;
};


/*
 * Cookies are the lowest free slot + 1, as the kernel's xa_alloc() gives
 * them: a handler that keys state on a cookie past its group's life sees
 * it reused at once.
 */
static inline void
sim_slot_free(struct sim_queue *q, uint32_t slot)
{
	q->groups[slot].grp.gen = 0;
	pfdk_idmap_free(&q->slots, slot);
}

/*
 * Begin a new group of at most @left records in a free slot; false if the
 * queue is out of credit.
 */
static inline int
sim_group_begin(struct sim_queue *q, uint64_t left)
{
	struct sim_group *g;
	uint32_t slot, nrec;

	if (unlikely(q->slots.nb_free == 0)) {
		pfdk_counter_add(&q->st.full, 1);
		return 0;
	}
	slot = pfdk_idmap_alloc(&q->slots);
	g = &q->groups[slot];
	if (++q->seq == 0)
		q->seq = 1;
	nrec = q->next.nrec;
	if (nrec > left)
		nrec = (uint32_t)left;
	pfdk_fault_group_begin(&g->grp, q->seq);
	g->size = (uint8_t)nrec;
	g->pasid = q->next.pasid;
	g->addr = q->next.page * SIM_PAGE;
	g->perm = (uint8_t)q->next.perm; /* PFDK_FAULT_PERM_* are the generator's values */
	pfdk_prigen_next(&q->gen, &q->next);
	q->cur = slot;
	pfdk_counter_add(&q->xs.groups_begun, 1);
	pfdk_counter_add(&q->st.outstanding, 1);
	return 1;
}

static uint16_t
sim_recv(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct sim_queue *q = queue;
	uint64_t now = rte_rdtsc();
	uint16_t i, n = nb;

	if (n > q->left)
		n = (uint16_t)q->left;
	if (q->tsc_step != 0) {
		uint64_t due;

		if (now < q->next_tsc) {
			uint64_t expirations;

			/* Idle: clear the timer so a blocking engine sleeps. */
			if (read(q->fd, &expirations, sizeof(expirations)) < 0)
				expirations = 0;
			return 0;
		}
		due = (now - q->next_tsc) / q->tsc_step + 1;
		if (n > due)
			n = (uint16_t)due;
	}
	if (n == 0) {
		uint64_t v;

		/* Emitted all: stop looking readable to a blocking engine. */
		if (q->left == 0 && read(q->fd, &v, sizeof(v)) < 0)
			v = 0;
		return 0;
	}
	n = pfdk_fault_desc_take(q->pool, faults, n, &q->st.nodesc);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct pfdk_fault *f = faults[i];
		struct sim_group *g;
		uint32_t rec;

		if (q->cur == SIM_NO_GROUP) {
			uint64_t need = RTE_MIN((uint64_t)q->next.nrec, q->left - i);

			/*
			 * Whole groups only, as iommufd's read() hands them
			 * out, unless the caller asked for fewer records than
			 * the group has: then it must be split.
			 */
			if (need > (uint64_t)(n - i) && need <= nb)
				break;
			if (!sim_group_begin(q, q->left - i))
				break;
		}
		g = &q->groups[q->cur];
		rec = g->grp.nrec++;
		f->addr = g->addr + (uint64_t)rec * SIM_PAGE;
		f->tsc = now;
		f->drv = ((uint64_t)g->grp.gen << 8) | rec;
		f->user = 0;
		f->len = SIM_PAGE;
		f->pasid = g->pasid;
		f->grpid = g->grp.gen & 0x1ff; /* PRI group index is 9 bits */
		f->cookie = q->cur + 1;
		f->tid = 0;
		f->dev_id = q->dev_id;
		f->queue_id = q->queue_id;
		f->perm = g->perm;
		f->kind = PFDK_FAULT_KIND_IO;
		f->flags = PFDK_FAULT_F_PASID_VALID;
		f->status = PFDK_FAULT_RESP_SUCCESS;
		f->rsvd = 0;
		if (g->grp.nrec == g->size) {
			g->grp.closed = 1;
			f->flags |= PFDK_FAULT_F_LAST_PAGE;
			q->cur = SIM_NO_GROUP;
		}
	}
	if (i < n)
		rte_mempool_put_bulk(q->pool, (void **)&faults[i], n - i);
	if (q->left != UINT64_MAX)
		__atomic_store_n(&q->left, q->left - i, __ATOMIC_RELAXED);
	if (q->tsc_step != 0)
		q->next_tsc += (uint64_t)i * q->tsc_step;
	pfdk_counter_add(&q->st.received, i);
	if (i == 0 && q->tsc_step != 0) {
		uint64_t v;

		/* Nothing handed out: readable again at the next tick only. */
		if (read(q->fd, &v, sizeof(v)) < 0)
			v = 0;
	}
	return i;
}

static uint16_t
sim_respond(void *queue, struct pfdk_fault **faults, uint16_t nb)
{
	struct sim_queue *q = queue;
	uint64_t responded = 0, groups = 0, invalid = 0;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		const struct pfdk_fault *f = faults[i];
		uint32_t slot = f->cookie - 1;
		bool bad = false;

		switch (slot >= q->nb_slots ? PFDK_FAULT_GROUP_STALE :
			pfdk_fault_group_return(&q->groups[slot].grp, (uint32_t)(f->drv >> 8),
						(uint32_t)(f->drv & 0xff), f->status, &bad)) {
		case PFDK_FAULT_GROUP_STALE:
			pfdk_counter_add(&q->xs.stale, 1);
			pfdk_counter_add(&q->st.errors, 1);
			continue;
		case PFDK_FAULT_GROUP_DUPLICATE:
			pfdk_counter_add(&q->xs.duplicates, 1);
			pfdk_counter_add(&q->st.errors, 1);
			continue;
		case PFDK_FAULT_GROUP_DONE:
			/* The group's one response; the cookie becomes free. */
			groups++;
			invalid += q->groups[slot].grp.code == PFDK_FAULT_RESP_INVALID;
			sim_slot_free(q, slot);
			break;
		case PFDK_FAULT_GROUP_TAKEN:
			break;
		}
		if (unlikely(bad)) {
			/* A resolver bug: answered INVALID, as iommufd does, and an error. */
			pfdk_counter_add(&q->xs.bad_code, 1);
			pfdk_counter_add(&q->st.errors, 1);
		}
		responded++;
	}
	rte_mempool_put_bulk(q->pool, (void **)faults, nb);
	pfdk_counter_add(&q->st.responded, responded);
	pfdk_counter_add(&q->st.groups, groups);
	pfdk_counter_add(&q->st.invalid, invalid);
	pfdk_counter_sub(&q->st.outstanding, groups);
	return nb;
}

static void
sim_info_get(const struct pfdk_fault_dev *dev, struct pfdk_fault_info *info)
{
	const struct sim_dev *sd = dev->dev_private;

	info->max_queues = (uint16_t)sd->conf.queues;
	info->max_group_records = (uint32_t)sd->conf.groups;
}

static void
sim_queue_release(struct pfdk_fault_dev *dev, uint16_t qid)
{
	struct sim_queue *q = dev->queues[qid];

	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	rte_free(q->groups);
	rte_free(q->slots.words);
	rte_free(q);
}

static void
sim_queue_rewind(struct sim_queue *q, const struct sim_conf *c)
{
	uint32_t s;

	for (s = 0; s < q->nb_slots; s++)
		q->groups[s].grp.gen = 0;
	pfdk_idmap_reset(&q->slots);
	q->cur = SIM_NO_GROUP;
	q->left = c->total ? c->total : UINT64_MAX;
	q->gen = (struct pfdk_prigen){
		.rng = c->seed + q->queue_id + 1, .max_records = (uint32_t)c->groups,
		.pasids = (uint32_t)c->pasids, .pages = SIM_VA_PAGES, .priv = false,
	};
	pfdk_prigen_next(&q->gen, &q->next);
}

static int
sim_queue_setup(struct pfdk_fault_dev *dev, uint16_t qid,
		const struct pfdk_fault_queue_conf *qc)
{
	const struct sim_dev *sd = dev->dev_private;
	const struct sim_conf *c = &sd->conf;
	struct sim_queue *q;
	int socket = qc->socket_id;

	q = rte_zmalloc_socket("sim_queue", sizeof(*q), RTE_CACHE_LINE_SIZE,
			       socket);
	if (q == NULL)
		return -ENOMEM;
	q->fd = -1;
	q->nb_slots = (uint32_t)c->outstanding;
	q->groups = rte_zmalloc_socket("sim_groups",
				       sizeof(*q->groups) * q->nb_slots,
				       RTE_CACHE_LINE_SIZE, socket);
	q->slots.words = rte_malloc_socket("sim_slots",
			PFDK_IDMAP_WORDS(q->nb_slots) * sizeof(uint64_t),
			RTE_CACHE_LINE_SIZE, socket);
	q->slots.nb_ids = q->nb_slots;
	dev->queues[qid] = q;
	if (q->groups == NULL || q->slots.words == NULL) {
		sim_queue_release(dev, qid);
		dev->queues[qid] = NULL;
		return -ENOMEM;
	}
	q->pool = qc->pool;
	q->dev_id = dev->dev_id;
	q->queue_id = qid;
	if (c->rate != 0) {
		q->tsc_step = rte_get_tsc_hz() / c->rate;
		if (q->tsc_step == 0)
			q->tsc_step = 1;
		q->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	} else {
		q->fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	if (q->fd < 0) {
		int ret = -errno;

		sim_queue_release(dev, qid);
		dev->queues[qid] = NULL;
		return ret;
	}
	sim_queue_rewind(q, c);
	dev->queue_stats[qid] = &q->st;
	return 0;
}

static int
sim_start(struct pfdk_fault_dev *dev)
{
	const struct sim_dev *sd = dev->dev_private;
	uint16_t i;

	for (i = 0; i < dev->nb_queues; i++) {
		struct sim_queue *q = dev->queues[i];

		q->next_tsc = rte_rdtsc();
		if (q->tsc_step != 0) {
			/* Wake a sleeping engine at the rate, at most every 10 us. */
			uint64_t ns = 1000000000ull / sd->conf.rate;
			struct itimerspec its;

			if (ns < 10000)
				ns = 10000;
			its.it_interval.tv_sec = ns / 1000000000ull;
			its.it_interval.tv_nsec = ns % 1000000000ull;
			its.it_value = its.it_interval;
			if (timerfd_settime(q->fd, 0, &its, NULL) < 0)
				return -errno;
		}
	}
	return 0;
}

static int
sim_stop(struct pfdk_fault_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nb_queues; i++) {
		struct sim_queue *q = dev->queues[i];
		uint32_t s;

		if (q == NULL)
			continue;
		for (s = 0; s < q->nb_slots; s++) {
			if (q->groups[s].grp.gen == 0)
				continue;
			/* What the kernel does on detach: INVALID, slot freed. */
			sim_slot_free(q, s);
			pfdk_counter_add(&q->st.aborted, 1);
			pfdk_counter_add(&q->st.invalid, 1);
			pfdk_counter_sub(&q->st.outstanding, 1);
		}
		q->cur = SIM_NO_GROUP;
	}
	return 0;
}

static void
sim_close(struct pfdk_fault_dev *dev)
{
	rte_free(dev->dev_private);
	dev->dev_private = NULL;
}

static uint64_t
sim_sum(const struct pfdk_fault_dev *dev, size_t off)
{
	uint64_t sum = 0;
	uint16_t i;

	for (i = 0; i < dev->nb_queues; i++) {
		const struct sim_queue *q = dev->queues[i];

		if (q != NULL)
			sum += pfdk_counter_read((const uint64_t *)
				((const char *)q + off));
	}
	return sum;
}

/* A counter of the class's (st) or of the simulator's own (xs), summed. */
#define SUM(dev, f) sim_sum(dev, offsetof(struct sim_queue, st.f))
#define XSUM(dev, f) sim_sum(dev, offsetof(struct sim_queue, xs.f))

static void
sim_stats_reset(struct pfdk_fault_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nb_queues; i++) {
		struct sim_queue *q = dev->queues[i];

		if (q != NULL)
			memset(&q->xs, 0, sizeof(q->xs));
	}
}

static int
sim_queue_fd(const struct pfdk_fault_dev *dev, uint16_t qid)
{
	const struct sim_queue *q = dev->queues[qid];

	return q->fd;
}

static void
sim_dump(const struct pfdk_fault_dev *dev, FILE *f)
{
	const struct sim_dev *sd = dev->dev_private;
	struct pfdk_sim_check c;

	pfdk_sim_check_get(dev->dev_id, &c);
	fprintf(f, "  sim: rate %" PRIu64 " groups %" PRIu64 " pasids %" PRIu64
		" outstanding-max %" PRIu64 " total %" PRIu64 "\n",
		sd->conf.rate, sd->conf.groups, sd->conf.pasids,
		sd->conf.outstanding, sd->conf.total);
	fprintf(f, "  sim checks: duplicates %" PRIu64 " stale %" PRIu64
		" bad_code %" PRIu64 "\n", c.duplicates, c.stale, c.bad_code);
}

static const struct pfdk_fault_dev_ops sim_ops = {
	.dev_info_get = sim_info_get,
	.queue_setup = sim_queue_setup,
	.queue_release = sim_queue_release,
	.dev_start = sim_start,
	.dev_stop = sim_stop,
	.dev_close = sim_close,
	.stats_reset = sim_stats_reset,
	.queue_fd = sim_queue_fd,
	.dump = sim_dump,
	.recv = sim_recv,
	.respond = sim_respond,
};

static struct pfdk_fault_driver sim_driver;

int
pfdk_sim_check_get(uint16_t dev_id, struct pfdk_sim_check *c)
{
	const struct pfdk_fault_dev *dev = pfdk_fault_dev_get(dev_id);
	uint16_t i;

	if (dev == NULL)
		return -ENODEV;
	if (c == NULL || dev->driver != &sim_driver)
		return -EINVAL;
	c->records_emitted = SUM(dev, received);
	c->groups_emitted = XSUM(dev, groups_begun);
	c->groups_answered = SUM(dev, groups);
	c->groups_invalid = SUM(dev, invalid);
	c->duplicates = XSUM(dev, duplicates);
	c->stale = XSUM(dev, stale);
	c->bad_code = XSUM(dev, bad_code);
	c->aborted = SUM(dev, aborted);
	c->outstanding = SUM(dev, outstanding);
	c->exhausted = 0;
	for (i = 0; i < dev->nb_queues; i++) {
		const struct sim_queue *q = dev->queues[i];

		if (q != NULL && __atomic_load_n(&q->left, __ATOMIC_RELAXED) == 0)
			c->exhausted++;
	}
	return 0;
}

static int
sim_parse(const struct rte_kvargs *kv, void *conf, char *err, size_t errlen)
{
	struct sim_conf *c = conf;

	c->rate = 0;
	c->groups = 1;
	c->pasids = 16;
	c->outstanding = 2048;
	c->total = 0;
	c->seed = 1;
	c->queues = 16;
	if (pfdk_fault_kv_uint(kv, "rate", &c->rate, 0, 1000000000ull, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "groups", &c->groups, 1, SIM_MAX_GROUP_RECORDS, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "pasids", &c->pasids, 1, 1u << 20, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "outstanding", &c->outstanding, 1, 65536, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "total", &c->total, 0, UINT64_MAX - 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "seed", &c->seed, 0, UINT64_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "queues", &c->queues, 1, PFDK_FAULT_MAX_QUEUES, err, errlen))
		return -EINVAL;
	return 0;
}

static int
sim_probe(struct pfdk_fault_dev *dev, const void *conf)
{
	struct sim_dev *sd;

	sd = rte_zmalloc("sim_dev", sizeof(*sd), RTE_CACHE_LINE_SIZE);
	if (sd == NULL)
		return -ENOMEM;
	memcpy(&sd->conf, conf, sizeof(sd->conf));
	dev->dev_private = sd;
	dev->ops = &sim_ops;
	return 0;
}

static struct pfdk_fault_driver sim_driver = {
	.params = "rate=<faults/s,0=unpaced> groups=<1-64> pasids=<1-1048576> "
		  "outstanding=<1-65536> total=<records,0=endless> seed=<uint> "
		  "queues=<1-64>",
	.conf_size = sizeof(struct sim_conf),
	.parse_devargs = sim_parse,
	.probe = sim_probe,
};

PFDK_FAULT_DRIVER_REGISTER(sim, sim_driver);
