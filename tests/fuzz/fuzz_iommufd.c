/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the iommufd driver's record reader, group tracker
 * and response writer. The input is a script for a kernel gone wrong: what
 * each read() returns (any bytes: short records, cookie 0, replayed or
 * interleaved cookies, groups without LAST_PAGE, "first group does not
 * fit"), how each write() ends (all taken, stopped at an entry, EAGAIN,
 * EIO), and what the application does (receive, respond with any status,
 * pass a descriptor back twice). It must never crash, never write a code
 * other than 0/1, never write a cookie more often than reads delivered it,
 * and after stop hold nothing and leak no descriptor.
 *
 * Needs an EAL (descriptors come from a mempool): started once, --no-huge.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "pfdk_eal.h"
#include "pfdk_fault.h"
#include "pfdk_iommufd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_N 511
#define HELD_MAX 256
#define BUCKETS 4096
#define REC sizeof(struct pfdk_iommu_hwpt_pgfault)

static struct rte_mempool *pool;
static int null_fd; /* something to adopt: io_set replaces its I/O at once */

struct script {
	const uint8_t *p, *end;
	uint8_t chunk[2048];    /* what the next read() returns */
	size_t chunk_len;
	int chunk_set;
	int too_small;          /* next read: -EINVAL if count < chunk */
	int wmode;              /* 0 all, 1 stop at entry wstop, 2 EAGAIN, 3 EIO */
	unsigned int wstop;
	uint32_t seen[BUCKETS];   /* reads that delivered cookie (bucketed) */
	uint32_t written[BUCKETS];
};

static inline unsigned int
bucket(uint32_t c)
{
	return c < BUCKETS / 2 ? c : BUCKETS / 2 + c % (BUCKETS / 2);
}

static int
next(struct script *s)
{
	return s->p < s->end ? *s->p++ : -1;
}

static ssize_t
f_read(void *ctx, void *buf, size_t count)
{
	struct script *s = ctx;
	const struct pfdk_iommu_hwpt_pgfault *r;
	size_t i;

	if (!s->chunk_set || s->chunk_len == 0)
		return 0;
	if (s->chunk_len > count) {
		if (s->too_small)
			return -EINVAL;
		return 0; /* older kernels */
	}
	memcpy(buf, s->chunk, s->chunk_len);
	/* Count each cookie once per read that carries a whole record of it. */
	for (i = 0; i + REC <= s->chunk_len; i += REC) {
		size_t j;

		r = (const void *)(s->chunk + i);
		for (j = 0; j < i; j += REC)
			if (((const struct pfdk_iommu_hwpt_pgfault *)(s->chunk + j))->cookie == r->cookie)
				break;
		if (j == i)
			s->seen[bucket(r->cookie)]++;
	}
	s->chunk_set = 0;
	return (ssize_t)s->chunk_len;
}

static ssize_t
f_write(void *ctx, const void *buf, size_t count)
{
	struct script *s = ctx;
	const struct pfdk_iommu_hwpt_page_response *r = buf;
	size_t n = count / 8, take = n, i;

	if (count % 8 != 0 || count == 0)
		abort(); /* the driver writes whole responses only */
	if (s->wmode == 2)
		return -EAGAIN;
	if (s->wmode == 3)
		return -EIO;
	if (s->wmode == 1 && s->wstop < n)
		take = s->wstop; /* entry 'take' is refused: consumed too */
	for (i = 0; i < n && i <= take; i++) {
		unsigned int b = bucket(r[i].cookie);

		if (r[i].code > 1)
			abort();
		if (++s->written[b] > s->seen[b])
			abort(); /* answered more often than delivered */
	}
	if (take == n)
		return (ssize_t)count;
	return take ? (ssize_t)(take * 8) : -EINVAL;
}

static const struct pfdk_iommufd_io fuzz_io = { f_read, f_write, NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0], (char *)(uintptr_t)"--no-huge", (char *)(uintptr_t)"-m",
			(char *)(uintptr_t)"128", (char *)(uintptr_t)"--no-shconf",
			(char *)(uintptr_t)"--no-telemetry", (char *)(uintptr_t)"--no-pci",
			(char *)(uintptr_t)"--lcores", (char *)(uintptr_t)"0@0",
			(char *)(uintptr_t)"--log-level=*:emerg", NULL };

	(void)argc;
	if (pfdk_init(10, eal) < 0)
		abort();
	rte_log_set_global_level(RTE_LOG_EMERG);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		abort();
	pool = pfdk_fault_pool_create("fuzz_iommufd", POOL_N, 0, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct script s;
	struct pfdk_fault_conf conf = { .nb_queues = 1 };
	struct pfdk_fault_queue_conf qc = { .pool = pool, .socket_id = SOCKET_ID_ANY };
	struct pfdk_fault *held[HELD_MAX], *tmp[HELD_MAX];
	struct pfdk_fault_stats st;
	unsigned int nheld = 0, i;
	int id, op;
	char devargs[64];

	memset(&s, 0, sizeof(s));
	s.p = data;
	s.end = data + size;
	/* Small limits so the credit and buffer edges are reachable. */
	snprintf(devargs, sizeof(devargs), "iommufd0,fault_fd=%d,test_peer=1,outstanding=%u,rbuf=%u",
		 null_fd, 1 + (size ? data[0] % 64 : 0), 1 + (size > 1 ? data[1] % 8 : 0));
	id = pfdk_fault_dev_create(devargs);
	if (id < 0)
		abort();
	if (pfdk_iommufd_io_set((uint16_t)id, &fuzz_io, &s) != 0 ||
	    pfdk_fault_configure((uint16_t)id, &conf) != 0 ||
	    pfdk_fault_queue_setup((uint16_t)id, 0, &qc) != 0 ||
	    pfdk_fault_start((uint16_t)id) != 0)
		abort();
	while ((op = next(&s)) >= 0) {
		int a = next(&s), b = next(&s);

		if (a < 0)
			break;
		switch (op % 5) {
		case 0: /* the next read returns a * 8 + (b & 7) bytes of script */
			s.chunk_len = RTE_MIN((size_t)a * 8 + (size_t)(b & 7),
					      (size_t)(s.end - s.p));
			s.chunk_len = RTE_MIN(s.chunk_len, sizeof(s.chunk));
			memcpy(s.chunk, s.p, s.chunk_len);
			s.p += s.chunk_len;
			s.chunk_set = 1;
			s.too_small = b >= 0 && (b & 8);
			break;
		case 1: { /* receive */
			uint16_t n = (uint16_t)RTE_MIN((unsigned int)a % 64, HELD_MAX - nheld);

			nheld += pfdk_fault_recv_burst((uint16_t)id, 0, held + nheld, n);
			break;
		}
		case 2: { /* respond k held, from index a, statuses from b */
			unsigned int k = nheld ? 1 + (unsigned int)(b < 0 ? 0 : b) % nheld : 0;
			unsigned int from = nheld ? (unsigned int)a % nheld : 0, j = 0;

			k = RTE_MIN(k, nheld - from);
			for (i = 0; i < k; i++) {
				tmp[i] = held[from + i];
				tmp[i]->status = (uint8_t)(((unsigned int)a >> (i % 8)) & 1);
				if (b >= 0 && (b & 0x80) && i == 0)
					tmp[i]->status = 2 + (b & 3); /* not a code */
			}
			for (i = 0; i < nheld; i++)
				if (i < from || i >= from + k)
					held[j++] = held[i];
			nheld = j;
			if (pfdk_fault_respond_burst((uint16_t)id, 0, tmp, (uint16_t)k) != k)
				abort();
			break;
		}
		case 3: /* how writes end from now on */
			s.wmode = a % 4;
			s.wstop = b < 0 ? 0 : (unsigned int)b % 8;
			break;
		case 4: { /* pass a copy of a held descriptor back: replayed record */
			void *p;

			if (nheld == 0 || rte_mempool_get(pool, &p) != 0)
				break;
			memcpy(p, held[(unsigned int)a % nheld], sizeof(struct pfdk_fault));
			tmp[0] = p;
			if (b >= 0 && (b & 1))
				tmp[0]->drv ^= (uint64_t)b << 24; /* and a forged token */
			if (pfdk_fault_respond_burst((uint16_t)id, 0, tmp, 1) != 1)
				abort();
			break;
		}
		}
	}
	/* Stop answers what is tracked; let the writes through for it. */
	s.wmode = 0;
	if (pfdk_fault_stop((uint16_t)id) != 0)
		abort();
	if (pfdk_fault_stats_get((uint16_t)id, &st) != 0 || st.outstanding != 0)
		abort();
	rte_mempool_put_bulk(pool, (void **)held, nheld);
	if (pfdk_fault_close((uint16_t)id) != 0 || rte_mempool_avail_count(pool) != POOL_N)
		abort();
	return 0;
}
