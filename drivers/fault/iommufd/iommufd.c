/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iommufd fault driver: devargs, the three ways to a fault FD (adopt,
 * allocate on hardware, emulate), queue life cycle and counters. The burst
 * functions are in iommufd_rxtx.c; what the driver promises is in
 * pfdk_iommufd.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "pfdk_counter.h"
#include "pfdk_fault_driver.h"
#include "iommufd_private.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk.fault
RTE_LOG_REGISTER_SUFFIX(pfdk_iommufd_logtype, iommufd, INFO);

#define NONE UINT64_MAX

/*
 * What the kernel names a fault queue's file: drivers/iommu/iommufd/fault.c
 * makes it with anon_inode_getfile("[iommufd-pgfault]", ...) (6.11 on; via
 * iommufd_eventq_init() since 6.14), so /proc/self/fd/N reads as this.
 */
#define FAULT_FD_LINK "anon_inode:[iommufd-pgfault]"
#define ANON_INODE_FS_MAGIC 0x09041934 /* <linux/magic.h> */

static struct pfdk_fault_driver iommufd_driver;

static int
range_one(const char *key, const char *value, void *opaque)
{
	struct iommufd_conf *c = opaque;
	unsigned long long lo, hi;
	char *end;

	RTE_SET_USED(key);
	if (c->range_err[0] != '\0')
		return -1;
	if (c->nb_ranges == PFDK_IOMMUFD_MAX_RANGES) {
		snprintf(c->range_err, sizeof(c->range_err),
			 "range=: at most %d ranges", PFDK_IOMMUFD_MAX_RANGES);
		return -1;
	}
	if (value == NULL || value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	lo = strtoull(value, &end, 0);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		goto bad;
	hi = strtoull(end + 1, &end, 0);
	if (errno != 0 || *end != '\0' || hi <= lo)
		goto bad;
	c->lo[c->nb_ranges] = lo;
	c->hi[c->nb_ranges] = hi;
	c->nb_ranges++;
	return 0;
bad:
	snprintf(c->range_err, sizeof(c->range_err),
		 "range=%.40s: expected LO:HI with LO < HI (HI exclusive, 0x allowed)",
		 value ? value : "");
	return -1;
}

/* data=HEX: the nested HWPT's driver data, two hex digits a byte, in memory order. */
static int
parse_data(struct iommufd_conf *c, const char *hex, char *err, size_t errlen)
{
	size_t n = strlen(hex), i;

	if (n == 0 || n % 2 != 0 || n / 2 > sizeof(c->data))
		goto bad;
	for (i = 0; i < n; i += 2) {
		char b[3] = { hex[i], hex[i + 1], '\0' };
		char *end;

		if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
			goto bad;
		c->data[i / 2] = (uint8_t)strtoul(b, &end, 16);
	}
	c->data_len = (uint32_t)(n / 2);
	return 0;
bad:
	snprintf(err, errlen, "data=%.40s: expected 1 to %zu bytes as pairs of hex digits, in memory order",
		 hex, sizeof(c->data));
	return -EINVAL;
}

static int
iommufd_parse(const struct rte_kvargs *kv, void *conf, char *err, size_t errlen)
{
	struct iommufd_conf *c = conf;
	const char *path = rte_kvargs_get(kv, "iommu");
	const char *data = rte_kvargs_get(kv, "data");
	int ways;

	c->fault_fd = c->iommu_fd = c->hw_dev_id = c->pt_id = c->data_type = NONE;
	c->data_len = 0;
	c->emu = 0;
	c->outstanding = 4096;
	c->rbuf = 32;
	c->groups = 1;
	c->pasids = 4;
	c->total = 0;
	c->rate = 0;
	c->flag2 = 0;
	c->seed = 1;
	c->depth = 64;
	c->test_peer = 0;
	c->ring_write = 1;
	if (pfdk_fault_kv_uint(kv, "fault_fd", &c->fault_fd, 0, INT32_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "test_peer", &c->test_peer, 0, 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "emu", &c->emu, 0, 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "iommu_fd", &c->iommu_fd, 0, INT32_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "dev_id", &c->hw_dev_id, 0, UINT32_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "pt_id", &c->pt_id, 0, UINT32_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "data_type", &c->data_type, 0, UINT32_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "outstanding", &c->outstanding, 1, 65536, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "rbuf", &c->rbuf, 1, IOMMUFD_RBUF_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "groups", &c->groups, 1, 256, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "pasids", &c->pasids, 0, 1u << 20, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "total", &c->total, 0, UINT64_MAX - 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "rate", &c->rate, 0, 1000000000ull, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "flag2", &c->flag2, 0, 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "seed", &c->seed, 0, UINT64_MAX, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "depth", &c->depth, 1, 65536, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "nofit", &c->nofit, 0, 1, err, errlen) ||
	    pfdk_fault_kv_uint(kv, "ring_write", &c->ring_write, 0, 2, err, errlen))
		return -EINVAL;
	if (path != NULL) {
		if (path[0] != '/' || strlen(path) >= sizeof(c->iommu_path)) {
			snprintf(err, errlen, "iommu=%s: expected an absolute path (e.g. /dev/iommu)", path);
			return -EINVAL;
		}
		strcpy(c->iommu_path, path);
	}
	if (data != NULL && parse_data(c, data, err, errlen) < 0)
		return -EINVAL;
	if (data != NULL && c->data_type == NONE) {
		snprintf(err, errlen, "data= goes with data_type=<IOMMU_HWPT_DATA_* of the IOMMU driver>");
		return -EINVAL;
	}
	if (rte_kvargs_process(kv, "range", range_one, c) < 0) {
		snprintf(err, errlen, "%s", c->range_err[0] ? c->range_err : "range=: bad value");
		return -EINVAL;
	}
	ways = (c->fault_fd != NONE) + (c->emu != 0) +
	       (c->iommu_fd != NONE || c->iommu_path[0] != '\0');
	if (ways != 1) {
		snprintf(err, errlen, "give exactly one of fault_fd=N, emu=1, or iommu=PATH|iommu_fd=N with dev_id= and pt_id=");
		return -EINVAL;
	}
	if (c->test_peer && c->fault_fd == NONE) {
		snprintf(err, errlen, "test_peer=1 goes with fault_fd=N");
		return -EINVAL;
	}
	if (c->iommu_fd != NONE && c->iommu_path[0] != '\0') {
		snprintf(err, errlen, "iommu= and iommu_fd= exclude each other");
		return -EINVAL;
	}
	if ((c->iommu_fd != NONE || c->iommu_path[0] != '\0') &&
	    (c->hw_dev_id == NONE || c->pt_id == NONE)) {
		snprintf(err, errlen, "allocating a fault queue needs dev_id=<iommufd device id> and pt_id=<NEST_PARENT HWPT id> (with data_type= and data=)");
		return -EINVAL;
	}
	if (c->data_type != NONE && c->iommu_fd == NONE && c->iommu_path[0] == '\0') {
		snprintf(err, errlen, "data_type= and data= go with iommu_fd= (or iommu=), dev_id= and pt_id=");
		return -EINVAL;
	}
	return 0;
}

static void
iommufd_close(struct pfdk_fault_dev *dev)
{
	struct iommufd_dev *d = dev->dev_private;

	if (d == NULL)
		return;
	iommufd_hw_free(dev, d);
	pfdk_iommufd_emu_free(d->emu);
	rte_free(d);
	dev->dev_private = NULL;
}

static void
iommufd_info_get(const struct pfdk_fault_dev *dev, struct pfdk_fault_info *info)
{
	const struct iommufd_dev *d = dev->dev_private;

	info->max_queues = 1; /* one fault FD, one reader */
	/* A read holds no more records than free group slots (outstanding=). */
	info->max_group_records = d->emu ? (uint32_t)d->conf.groups :
		(uint32_t)RTE_MIN((uint64_t)IOMMUFD_GROUP_MAX, d->conf.outstanding);
}

static void
iommufd_queue_release(struct pfdk_fault_dev *dev, uint16_t qid)
{
	struct iommufd_queue *q = dev->queues[qid];

	if (q == NULL)
		return;
	rte_free(q->rbuf);
	rte_free(q->meta);
	rte_free(q->tab);
	rte_free(q->wbuf);
	rte_free(q->big_free);
	rte_free(q->big_mem);
	rte_free(q);
}

static int
iommufd_queue_setup(struct pfdk_fault_dev *dev, uint16_t qid,
		    const struct pfdk_fault_queue_conf *qc)
{
	const struct iommufd_dev *d = dev->dev_private;
	int socket = qc->socket_id;
	struct iommufd_queue *q;
	uint32_t tab = rte_align32pow2((uint32_t)d->conf.outstanding * 2);

	q = rte_zmalloc_socket("iommufd_queue", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return -ENOMEM;
	dev->queues[qid] = q;
	q->rcap = RTE_MAX((uint32_t)d->conf.rbuf, 512u);
	q->rmin = (uint32_t)d->conf.rbuf;
	q->max_groups = (uint32_t)d->conf.outstanding;
	q->tab_mask = tab - 1;
	q->rbuf = rte_malloc_socket("iommufd_rbuf", q->rcap * IOMMUFD_REC,
				    RTE_CACHE_LINE_SIZE, socket);
	q->meta = rte_malloc_socket("iommufd_meta", q->rcap * sizeof(*q->meta),
				    RTE_CACHE_LINE_SIZE, socket);
	q->tab = rte_zmalloc_socket("iommufd_groups", tab * sizeof(*q->tab),
				    RTE_CACHE_LINE_SIZE, socket);
	q->wbuf = rte_malloc_socket("iommufd_resp", q->max_groups * IOMMUFD_RESP,
				    RTE_CACHE_LINE_SIZE, socket);
	q->big_mem = rte_malloc_socket("iommufd_bigmaps",
				       IOMMUFD_BIG_GROUPS * IOMMUFD_BIG_WORDS * sizeof(uint64_t),
				       RTE_CACHE_LINE_SIZE, socket);
	q->big_free = rte_malloc_socket("iommufd_bigfree",
					IOMMUFD_BIG_GROUPS * sizeof(*q->big_free),
					RTE_CACHE_LINE_SIZE, socket);
	if (q->rbuf == NULL || q->meta == NULL || q->tab == NULL || q->wbuf == NULL ||
	    q->big_mem == NULL || q->big_free == NULL) {
		iommufd_queue_release(dev, qid);
		dev->queues[qid] = NULL;
		return -ENOMEM;
	}
	for (q->nb_big_free = 0; q->nb_big_free < IOMMUFD_BIG_GROUPS; q->nb_big_free++)
		q->big_free[q->nb_big_free] = &q->big_mem[q->nb_big_free * IOMMUFD_BIG_WORDS];
	q->io = d->io;
	q->io_ctx = d->io_ctx;
	q->pool = qc->pool;
	q->socket_id = socket;
	q->dev_id = dev->dev_id;
	q->queue_id = qid;
	q->name = dev->name;
	dev->queue_stats[qid] = &q->st;
	return 0;
}

static int
iommufd_start(struct pfdk_fault_dev *dev)
{
	const struct iommufd_dev *d = dev->dev_private;
	struct iommufd_queue *q = dev->queues[0];

	/* pfdk_iommufd_io_set() may have changed the I/O since setup. */
	q->io = d->io;
	q->io_ctx = d->io_ctx;
	if (q->wring && (q->io->write_fd == NULL || q->io->write_fd(q->io_ctx) != q->wfd)) {
		/* The engine writes to the old fd: the driver writes instead. */
		PFDK_FAULT_LOG(WARNING, "%s: the fault-FD I/O changed after its writes were handed to an engine: the driver writes them itself",
			       dev->name);
		q->wring = 0;
		pfdk_counter_add(&q->xs.ring_fallbacks, 1);
	}
	return 0;
}

static int
iommufd_write_handoff(struct pfdk_fault_dev *dev, uint16_t qid, bool on,
		      struct pfdk_fault_write_info *info)
{
	const struct iommufd_dev *d = dev->dev_private;
	struct iommufd_queue *q = dev->queues[qid];
	int fd;

	if (!on) {
		if (q->winf != 0)
			return -EBUSY;
		/* Responses still queued go with the owner's next burst call or stop. */
		q->wring = 0;
		return 0;
	}
	fd = d->io->write_fd != NULL ? d->io->write_fd(d->io_ctx) : -ENOTSUP;
	if (fd < 0)
		return fd;
	q->wfd = fd;
	q->wring = 1;
	info->fd = fd;
	info->entry_size = IOMMUFD_RESP;
	return 0;
}

static int
iommufd_stop(struct pfdk_fault_dev *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nb_queues; i++)
		if (dev->queues[i] != NULL)
			iommufd_queue_abort(dev->queues[i]);
	return 0;
}

#define QSUM(dev, f) ({ \
	uint64_t s_ = 0; \
	for (uint16_t i_ = 0; i_ < (dev)->nb_queues; i_++) { \
		const struct iommufd_queue *q_ = (dev)->queues[i_]; \
		if (q_ != NULL) \
			s_ += pfdk_counter_read(&q_->xs.f); \
	} \
	s_; })

static void
iommufd_xstats(const struct pfdk_fault_dev *dev, struct pfdk_iommufd_xstats *x)
{
	x->malformed = QSUM(dev, malformed);
	x->rejected = QSUM(dev, rejected);
	x->stale = QSUM(dev, stale);
	x->duplicates = QSUM(dev, duplicates);
	x->bad_status = QSUM(dev, bad_status);
	x->unknown_flags = QSUM(dev, unknown_flags);
	x->grows = QSUM(dev, grows);
	x->read_errors = QSUM(dev, read_errors);
	x->writes = QSUM(dev, writes);
	x->write_pending = QSUM(dev, write_pending);
	x->ring_writes = QSUM(dev, ring_writes);
	x->ring_fallbacks = QSUM(dev, ring_fallbacks);
}

/*
 * The class sums the queues' counters; errors are what the checks below
 * refused, counted by kind in the xstats.
 */
static void
iommufd_stats_get(const struct pfdk_fault_dev *dev, struct pfdk_fault_stats *s)
{
	struct pfdk_iommufd_xstats x;

	iommufd_xstats(dev, &x);
	s->errors += x.malformed + x.rejected + x.stale + x.duplicates +
		     x.bad_status + x.read_errors;
}

static void
iommufd_stats_reset(struct pfdk_fault_dev *dev)
{
	uint16_t i;

	/* write_pending is state, not a counter. */
	for (i = 0; i < dev->nb_queues; i++) {
		struct iommufd_queue *q = dev->queues[i];
		uint64_t pend;

		if (q == NULL)
			continue;
		pend = q->xs.write_pending;
		memset(&q->xs, 0, sizeof(q->xs));
		q->xs.write_pending = pend;
	}
}

static int
iommufd_queue_fd(const struct pfdk_fault_dev *dev, uint16_t qid)
{
	const struct iommufd_dev *d = dev->dev_private;

	RTE_SET_USED(qid);
	if (d->io->readiness_fd == NULL)
		return -ENOTSUP;
	return d->io->readiness_fd(d->io_ctx);
}

static int
iommufd_queue_read_info(const struct pfdk_fault_dev *dev, uint16_t qid,
			struct pfdk_fault_read_info *info)
{
	const struct iommufd_dev *d = dev->dev_private;
	int fd;

	RTE_SET_USED(qid);
	fd = d->io->read_fd != NULL ? d->io->read_fd(d->io_ctx) : -ENOTSUP;
	if (fd < 0)
		return fd;
	info->fd = fd;
	info->rec_size = IOMMUFD_REC;
	return 0;
}

static void
iommufd_dump(const struct pfdk_fault_dev *dev, FILE *f)
{
	const struct iommufd_dev *d = dev->dev_private;
	struct pfdk_iommufd_xstats x;
	unsigned int i;

	iommufd_xstats(dev, &x);
	fprintf(f, "  iommufd: %s, fault fd %d, fault_id %u, hwpt_id %u, outstanding-max %" PRIu64 "\n",
		d->emu ? "emulated" : d->iommu_fd >= 0 ? "allocated" : "adopted",
		d->fault_fd, d->fault_id, d->hwpt_id, d->conf.outstanding);
	for (i = 0; i < d->conf.nb_ranges; i++)
		fprintf(f, "  range 0x%" PRIx64 ":0x%" PRIx64 "\n", d->conf.lo[i], d->conf.hi[i]);
	fprintf(f, "  malformed %" PRIu64 " rejected %" PRIu64 " stale %" PRIu64
		" duplicates %" PRIu64 " bad_status %" PRIu64 " unknown_flags %" PRIu64
		" grows %" PRIu64 " read_errors %" PRIu64 " writes %" PRIu64
		" ring_writes %" PRIu64 " ring_fallbacks %" PRIu64 "\n",
		x.malformed, x.rejected, x.stale, x.duplicates, x.bad_status,
		x.unknown_flags, x.grows, x.read_errors, x.writes, x.ring_writes,
		x.ring_fallbacks);
}

static const struct pfdk_fault_dev_ops iommufd_ops = {
	.dev_info_get = iommufd_info_get,
	.queue_setup = iommufd_queue_setup,
	.queue_release = iommufd_queue_release,
	.dev_start = iommufd_start,
	.dev_stop = iommufd_stop,
	.dev_close = iommufd_close,
	.stats_get = iommufd_stats_get,
	.stats_reset = iommufd_stats_reset,
	.queue_fd = iommufd_queue_fd,
	.queue_read_info = iommufd_queue_read_info,
	.queue_write_handoff = iommufd_write_handoff,
	.dump = iommufd_dump,
	.recv = iommufd_recv,
	.respond = iommufd_respond,
	.parse_burst = iommufd_parse_records,
	.service = iommufd_service,
	.write_take = iommufd_write_take,
	.write_done = iommufd_write_done,
};

static const char *
fd_kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFIFO: return "a pipe or FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFDIR: return "a directory";
	case S_IFLNK: return "a symbolic link";
	default: return "not a regular file, pipe, socket or device";
	}
}

/*
 * fault_fd=N must be an iommufd fault queue: records read from anything
 * else are garbage answered into it (a regular file), or a read blocks the
 * poller (a pipe). The kernel's queue is an anonymous inode named
 * [iommufd-pgfault]; test_peer=1 lets a test stand in for the kernel with
 * any fd. Either way the fd is made non-blocking (on the open file
 * description, which the caller shares).
 */
static int
adopt_fault_fd(struct pfdk_fault_dev *dev, struct iommufd_dev *d)
{
	char path[64], link[128] = "", eb[128];
	struct statfs sfs;
	struct stat st;
	ssize_t n;
	int fl, fd = d->fault_fd;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		PFDK_FAULT_LOG(ERR, "%s: fault_fd=%d: %s: not an open file descriptor of this process",
			       dev->name, fd, iommufd_err_name(e, eb, sizeof(eb)));
		return -e;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (!d->conf.test_peer) {
		bool anon = fstatfs(fd, &sfs) == 0 && sfs.f_type == ANON_INODE_FS_MAGIC;

		/* Without /proc the link is unknown: the inode's file system decides. */
		if (!anon || (n > 0 && strcmp(link, FAULT_FD_LINK) != 0)) {
			PFDK_FAULT_LOG(ERR, "%s: fault_fd=%d is %s (%s), not an iommufd fault queue (%s, from IOMMU_FAULT_QUEUE_ALLOC): refused",
				       dev->name, fd,
				       anon ? "another kind of anonymous file" : fd_kind(st.st_mode),
				       n > 0 ? link : "no /proc link", FAULT_FD_LINK);
			return -EINVAL;
		}
		if ((fl & O_ACCMODE) != O_RDWR) {
			PFDK_FAULT_LOG(ERR, "%s: fault_fd=%d is not open for reading and writing: refused",
				       dev->name, fd);
			return -EINVAL;
		}
	}
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;

		PFDK_FAULT_LOG(ERR, "%s: fault_fd=%d: cannot make it non-blocking: %s",
			       dev->name, fd, iommufd_err_name(e, eb, sizeof(eb)));
		return -e;
	}
	PFDK_FAULT_LOG(DEBUG, "%s: adopted fault_fd=%d (%s)%s", dev->name, fd,
		       n > 0 ? link : fd_kind(st.st_mode),
		       d->conf.test_peer ? ", a test peer" : "");
	return 0;
}

static int
iommufd_probe(struct pfdk_fault_dev *dev, const void *conf)
{
	struct iommufd_dev *d;
	int ret = 0;

	d = rte_zmalloc("iommufd_dev", sizeof(*d), RTE_CACHE_LINE_SIZE);
	if (d == NULL)
		return -ENOMEM;
	memcpy(&d->conf, conf, sizeof(d->conf));
	d->fault_fd = d->iommu_fd = -1;
	dev->dev_private = d;
	if (d->conf.emu) {
		struct pfdk_iommufd_emu_conf ec = {
			.max_group_records = (uint32_t)d->conf.groups,
			.pasids = (uint32_t)d->conf.pasids,
			.total = d->conf.total,
			.rate = d->conf.rate,
			.depth = (uint32_t)d->conf.depth,
			.flag2 = (uint32_t)d->conf.flag2,
			.seed = d->conf.seed,
			.nofit_empty = (uint32_t)d->conf.nofit,
			/* ring_write=0|1|2: none, a pipe, refused. */
			.ring_write = d->conf.ring_write == 0 ? PFDK_IOMMUFD_EMU_RW_NONE :
				d->conf.ring_write == 2 ? PFDK_IOMMUFD_EMU_RW_REFUSE :
				PFDK_IOMMUFD_EMU_RW_PIPE,
		};

		d->emu = pfdk_iommufd_emu_create(&ec);
		if (d->emu == NULL) {
			ret = -errno;
			PFDK_FAULT_LOG(ERR, "%s: emulator: %s", dev->name, strerror(errno));
		}
		d->io = &pfdk_iommufd_emu_io;
		d->io_ctx = d->emu;
	} else if (d->conf.fault_fd != NONE) {
		d->fault_fd = (int)d->conf.fault_fd;
		ret = adopt_fault_fd(dev, d);
		d->io = &iommufd_fd_io;
		d->io_ctx = (void *)(intptr_t)d->fault_fd;
	} else {
		ret = iommufd_hw_alloc(dev, d);
		d->io = &iommufd_fd_io;
		d->io_ctx = (void *)(intptr_t)d->fault_fd;
	}
	if (ret < 0) {
		iommufd_close(dev);
		return ret;
	}
	dev->ops = &iommufd_ops;
	return 0;
}

static struct iommufd_dev *
iommufd_dev_of(uint16_t dev_id, struct pfdk_fault_dev **pdev, int *err)
{
	struct pfdk_fault_dev *dev = pfdk_fault_dev_get(dev_id);

	*err = dev == NULL ? -ENODEV : -EINVAL;
	if (dev == NULL || dev->driver != &iommufd_driver)
		return NULL;
	if (pdev != NULL)
		*pdev = dev;
	return dev->dev_private;
}

int
pfdk_iommufd_info_get(uint16_t dev_id, struct pfdk_iommufd_info *info)
{
	const struct iommufd_dev *d;
	int err;

	d = iommufd_dev_of(dev_id, NULL, &err);
	if (d == NULL || info == NULL)
		return d == NULL ? err : -EINVAL;
	memset(info, 0, sizeof(*info));
	info->fault_fd = d->fault_fd;
	info->iommu_fd = d->iommu_fd;
	info->fault_id = d->fault_id;
	info->hwpt_id = d->hwpt_id;
	info->emulated = d->emu != NULL;
	info->nb_ranges = d->conf.nb_ranges;
	memcpy(info->range_lo, d->conf.lo, sizeof(info->range_lo));
	memcpy(info->range_hi, d->conf.hi, sizeof(info->range_hi));
	return 0;
}

int
pfdk_iommufd_xstats_get(uint16_t dev_id, struct pfdk_iommufd_xstats *xs)
{
	struct pfdk_fault_dev *dev;
	int err;

	if (iommufd_dev_of(dev_id, &dev, &err) == NULL || xs == NULL)
		return xs == NULL && err == -EINVAL ? -EINVAL : err;
	iommufd_xstats(dev, xs);
	return 0;
}

int
pfdk_iommufd_io_set(uint16_t dev_id, const struct pfdk_iommufd_io *io, void *ctx)
{
	struct pfdk_fault_dev *dev;
	struct iommufd_dev *d;
	int err;

	d = iommufd_dev_of(dev_id, &dev, &err);
	if (d == NULL)
		return err;
	if (io == NULL || io->read == NULL || io->write == NULL)
		return -EINVAL;
	if (dev->state == PFDK_FAULT_DEV_STARTED)
		return -EBUSY;
	d->io = io;
	d->io_ctx = ctx;
	return 0;
}

int
pfdk_iommufd_io_get(uint16_t dev_id, const struct pfdk_iommufd_io **io, void **ctx)
{
	struct iommufd_dev *d;
	int err;

	d = iommufd_dev_of(dev_id, NULL, &err);
	if (d == NULL)
		return err;
	if (io == NULL || ctx == NULL)
		return -EINVAL;
	*io = d->io;
	*ctx = d->io_ctx;
	return 0;
}

struct pfdk_iommufd_emu *
pfdk_iommufd_emu_get(uint16_t dev_id)
{
	struct iommufd_dev *d;
	int err;

	d = iommufd_dev_of(dev_id, NULL, &err);
	return d != NULL ? d->emu : NULL;
}

int
pfdk_iommufd_in_range(uint16_t dev_id, uint64_t addr, uint32_t len)
{
	const struct pfdk_fault_fp_object *o;
	const struct iommufd_dev *d;
	uint64_t end = addr + (len ? len : 1);
	unsigned int i;

	if (dev_id >= PFDK_FAULT_MAX_DEVS)
		return 0;
	/* Per fault, on any lcore: the fast-path object, not the registry. */
	o = &pfdk_fault_fp_objs[dev_id];
	if (__atomic_load_n(&o->driver, __ATOMIC_ACQUIRE) != &iommufd_driver)
		return 0;
	d = o->dev_private;
	if (d == NULL || end < addr)
		return 0;
	for (i = 0; i < d->conf.nb_ranges; i++)
		if (addr >= d->conf.lo[i] && end <= d->conf.hi[i])
			return 1;
	return 0;
}

uint16_t
pfdk_iommufd_resolve(void *ctx, struct pfdk_fault **faults, uint16_t nb)
{
	const struct pfdk_iommufd_policy *pol = ctx;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		struct pfdk_fault *f = faults[i];
		int ret = 0;

		if (!pfdk_iommufd_in_range(f->dev_id, f->addr, f->len)) {
			f->status = PFDK_FAULT_RESP_INVALID;
			continue;
		}
		if (pol != NULL && pol->fill != NULL) {
			ret = pol->fill(pol->arg, f);
			if (ret == -EAGAIN)
				break; /* this one and the rest wait: order kept */
		}
		f->status = ret == 0 ? PFDK_FAULT_RESP_SUCCESS : PFDK_FAULT_RESP_INVALID;
	}
	return i;
}

static struct pfdk_fault_driver iommufd_driver = {
	.params = "fault_fd=<fd> test_peer=<0|1: fault_fd may be any fd (a test playing the kernel)> emu=<0|1> iommu=<path> iommu_fd=<fd> "
		  "dev_id=<uint32> pt_id=<uint32> data_type=<uint32: nested HWPT data type> "
		  "data=<hex bytes: its driver data> range=<LO:HI> "
		  "outstanding=<1-65536> rbuf=<records> groups=<1-256> "
		  "pasids=<0-1048576> total=<records,0=inject only> "
		  "rate=<groups/s,0=unpaced> flag2=<0|1> seed=<uint> depth=<groups> "
		  "nofit=<0|1: emu, a group that does not fit reads as 0> "
		  "ring_write=<0|1|2: emu, engines' io_uring writes: 0 none, 1 through a pipe (default), 2 to an fd that refuses them>",
	.conf_size = sizeof(struct iommufd_conf),
	.parse_devargs = iommufd_parse,
	.probe = iommufd_probe,
	.repeatable = "range",
};

PFDK_FAULT_DRIVER_REGISTER(iommufd, iommufd_driver);
