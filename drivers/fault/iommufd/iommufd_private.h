/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef IOMMUFD_PRIVATE_H
#define IOMMUFD_PRIVATE_H

/*
 * Internal to the iommufd driver: queue state shared by the control code
 * (iommufd.c) and the burst functions (iommufd_rxtx.c).
 */
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>

#include "pfdk_fault_driver.h"
#include "pfdk_iommufd.h"

#define IOMMUFD_REC sizeof(struct pfdk_iommu_hwpt_pgfault)
#define IOMMUFD_RESP sizeof(struct pfdk_iommu_hwpt_page_response)
/* Largest read, in records: a group bigger than this cannot be read. */
#define IOMMUFD_RBUF_MAX 8192u
/*
 * Records per group, at most: the read buffer's cap (an open group lives
 * in it whole). Real groups are far smaller: PCIe PRI bounds a function's
 * outstanding page requests by its allocation (e.g. Intel's page request
 * queue holds 2048), and the group index is only 9 bits.
 */
#define IOMMUFD_GROUP_MAX IOMMUFD_RBUF_MAX
/*
 * Record maps for groups of more than 64 records (IOMMUFD_GROUP_MAX bits,
 * 1 KiB each; 127 KiB per queue). A read takes no more records than could
 * make groups for the free maps (65 records each): with all free, that is
 * a whole IOMMUFD_GROUP_MAX group; with fewer, bigger groups wait in the
 * kernel until outstanding ones are answered. Backpressure, never a drop.
 */
#define IOMMUFD_BIG_GROUPS ((IOMMUFD_GROUP_MAX + 64) / 65)
#define IOMMUFD_BIG_WORDS (IOMMUFD_GROUP_MAX / 64)
_Static_assert(65 * IOMMUFD_BIG_GROUPS + 64 >= IOMMUFD_GROUP_MAX,
	       "an idle queue must be able to read the largest group");
#define IOMMUFD_PAGE 4096u

/*
 * A group read and not yet answered. Keyed by cookie only while it lives:
 * the kernel reuses a cookie as soon as it is answered, so gen, drawn per
 * group, is what tells a late descriptor from one of the new group.
 */
struct iommufd_group {
	/*
	 * The class's ledger: gen 0 is an empty slot, nrec counts the
	 * records read, closed is LAST_PAGE seen, big is one of the queue's
	 * record maps once the group passes 64 records.
	 */
	struct pfdk_fault_group grp;
	uint32_t cookie;   /* any value, 0 included: the kernel can issue 0 */
};

/* Where a record of the read buffer belongs; goes into pfdk_fault::drv. */
struct iommufd_meta {
	uint32_t gen;
	uint32_t idx;
};

struct iommufd_queue {
	const struct pfdk_iommufd_io *io;
	void *io_ctx;
	struct rte_mempool *pool;
	/*
	 * Read buffer (the carry): [0, rhead) handed out, [rhead, rready)
	 * records of complete groups not handed out yet, [rready, rtail) an
	 * open group (only when a read ended inside one: never from a sane
	 * kernel). Reads go to rtail, only when nothing is ready.
	 */
	struct pfdk_iommu_hwpt_pgfault *rbuf;
	struct iommufd_meta *meta;
	uint32_t rcap, rhead, rready, rtail;
	uint32_t rmin;        /* records of the first read attempt, at least */
	uint32_t empty_reads; /* consecutive reads that returned 0 */
	/* Groups by cookie: open addressing, linear probing, 2x max_groups. */
	struct iommufd_group *tab;
	uint32_t tab_mask;
	uint32_t nb_groups;
	uint32_t max_groups;
	uint32_t open_cookie; /* group whose LAST_PAGE is still to come, if has_open */
	uint8_t has_open;
	uint32_t gen;
	/* Free record maps of groups over 64 records (IOMMUFD_BIG_GROUPS). */
	uint64_t **big_free;
	uint64_t *big_mem;
	uint32_t nb_big_free;
	uint32_t nofit_waits; /* reads held back: a first group bigger than allowed */
	/* Responses waiting for write(); at most max_groups with the table. */
	struct pfdk_iommu_hwpt_page_response *wbuf;
	uint32_t wn;
	/*
	 * Writes handed to an engine (pfdk_fault_queue_write_handoff()): wring
	 * set, respond only queues; [0, winf) of wbuf is the engine's write in
	 * flight, never moved or resent until its result is in.
	 */
	uint8_t wring;
	uint32_t winf;
	int wfd;              /* the fd the engine writes to */
	uint16_t dev_id;
	uint16_t queue_id;
	int socket_id;
	const char *name;
	struct pfdk_fault_queue_stats st; /* class's; queue's owner writes */
	struct pfdk_iommufd_xstats xs;    /* the driver's own; owner writes */
} __rte_cache_aligned;

/* Most bytes of driver data data= carries (a nested HWPT's, e.g. vtd_s1 is 32). */
#define IOMMUFD_HWPT_DATA_MAX 128

/* Parsed devargs (iommufd.c). */
struct iommufd_conf {
	uint64_t fault_fd;
	uint64_t test_peer; /* fault_fd is a test's stand-in for the kernel */
	uint64_t emu;
	uint64_t iommu_fd;
	char iommu_path[128];
	uint64_t hw_dev_id;
	uint64_t pt_id;
	uint64_t data_type;  /* nested HWPT's IOMMU_HWPT_DATA_*; NONE: a paging HWPT */
	uint8_t data[IOMMUFD_HWPT_DATA_MAX]; /* its driver data (data=HEX) */
	uint32_t data_len;
	uint64_t outstanding;
	uint64_t rbuf;
	uint64_t groups, pasids, total, rate, flag2, seed, depth, nofit, ring_write;
	unsigned int nb_ranges;
	uint64_t lo[PFDK_IOMMUFD_MAX_RANGES];
	uint64_t hi[PFDK_IOMMUFD_MAX_RANGES];
	char range_err[96];
};

struct iommufd_dev {
	struct iommufd_conf conf;
	const struct pfdk_iommufd_io *io;
	void *io_ctx;
	struct pfdk_iommufd_emu *emu;
	int fault_fd;
	int iommu_fd;
	int own_iommu_fd;
	int own_fault_fd;
	uint32_t fault_id;
	uint32_t hwpt_id;
};

struct pfdk_fault_dev;
/* read()/write() on the fault FD itself. */
extern const struct pfdk_iommufd_io iommufd_fd_io;
/* "ENOTTY (Inappropriate ioctl for device)" into @buf. */
const char *iommufd_err_name(int e, char *buf, size_t len);
/* The hardware path: fault queue + fault-capable HWPT, and their teardown. */
int iommufd_hw_alloc(struct pfdk_fault_dev *dev, struct iommufd_dev *d);
void iommufd_hw_free(struct pfdk_fault_dev *dev, struct iommufd_dev *d);

uint16_t iommufd_recv(void *queue, struct pfdk_fault **faults, uint16_t nb);
uint16_t iommufd_respond(void *queue, struct pfdk_fault **faults, uint16_t nb);
/* Records an engine read from the fault FD (pfdk_fault_parse_burst()). */
uint16_t iommufd_parse_records(void *queue, const void *buf, uint32_t len,
			       struct pfdk_fault **faults, uint16_t nb, uint32_t *consumed);
/* Ready records held in the carry (pfdk_fault_queue_service()). */
uint32_t iommufd_service(void *queue, bool read);
/* Answer every group the queue tracks INVALID and forget the read buffer. */
void iommufd_queue_abort(struct iommufd_queue *q);
/* Write what responses are pending. */
void iommufd_flush(struct iommufd_queue *q);
/* Engine writes (pfdk_fault_write_take()/pfdk_fault_write_done()). */
int32_t iommufd_write_take(void *queue, const void **buf);
void iommufd_write_done(void *queue, int32_t res);

/* PFDK_FAULT_LOG() here logs as "pfdk.fault.iommufd" (registered in iommufd.c). */
extern int pfdk_iommufd_logtype;
#undef PFDK_FAULT_LOGTYPE
#define PFDK_FAULT_LOGTYPE pfdk_iommufd_logtype

#endif /* IOMMUFD_PRIVATE_H */
