/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_HIST_H
#define PFDK_HIST_H

/**
 * @file
 * Log-linear latency histogram.
 *
 * Values (TSC cycles, usually) below 2^PFDK_HIST_SUB_BITS are counted
 * exactly; above, each power of two is split into 2^PFDK_HIST_SUB_BITS equal
 * buckets, so any reported quantile is within 1/32 (3.1%) of the true value
 * while the whole 64-bit range fits in a fixed ~15 KiB array. Recording is
 * one bit scan and three increments: no allocation, no division, safe for
 * the fast path and for signal handlers. One histogram has one writer;
 * readers merge copies with pfdk_hist_merge().
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PFDK_HIST_SUB_BITS 5
#define PFDK_HIST_SUB (1u << PFDK_HIST_SUB_BITS)
/** Exact buckets, then SUB buckets for each exponent SUB_BITS..63. */
#define PFDK_HIST_BUCKETS ((64 - PFDK_HIST_SUB_BITS + 1) * PFDK_HIST_SUB)

/** A histogram; zero-initialise or pfdk_hist_reset() before use. */
struct pfdk_hist {
	uint64_t count;                      /**< values recorded */
	uint64_t sum;                        /**< sum of values (wraps after 2^64) */
	uint64_t min;                        /**< smallest value (UINT64_MAX when empty) */
	uint64_t max;                        /**< largest value */
	uint64_t buckets[PFDK_HIST_BUCKETS]; /**< counts per bucket */
};

/** @internal Bucket index of value @p v. */
static inline unsigned int
pfdk_hist_bucket(uint64_t v)
{
	unsigned int e;

	if (v < PFDK_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* e >= SUB_BITS */
	return (e - PFDK_HIST_SUB_BITS + 1) * PFDK_HIST_SUB +
		(unsigned int)((v >> (e - PFDK_HIST_SUB_BITS)) &
			       (PFDK_HIST_SUB - 1));
}

/** Record one value. Async-signal-safe; single writer. */
static inline void
pfdk_hist_record(struct pfdk_hist *h, uint64_t v)
{
	h->buckets[pfdk_hist_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	/* count == 1 also covers a zero-initialised histogram (min 0). */
	if (v < h->min || h->count == 1)
		h->min = v;
}

/** Empty @p h. */
void pfdk_hist_reset(struct pfdk_hist *h);

/** Add the counts of @p src into @p dst. */
void pfdk_hist_merge(struct pfdk_hist *dst, const struct pfdk_hist *src);

/** Smallest value that falls in bucket @p b. */
uint64_t pfdk_hist_bucket_low(unsigned int b);

/**
 * The values recorded between two copies of one histogram: @p now minus
 * @p before, bucket by bucket, for percentiles over an interval. The
 * count is the sum of the bucket differences (a copy taken while its lcore
 * records may hold a bucket ahead of its count); min and max are the
 * bounds of the lowest and highest non-empty difference buckets, clamped
 * to @p now's min and max; sum is the difference of the sums.
 *
 * @return
 *   0, or -ERANGE if a bucket of @p now is below @p before (the histogram
 *   was reset, or another one took its place): @p d is then @p now.
 */
int pfdk_hist_delta(struct pfdk_hist *d, const struct pfdk_hist *now,
		    const struct pfdk_hist *before);

/**
 * Value at quantile @p q (0 < q <= 1): the midpoint of the bucket that holds
 * the ceil(q * count)-th smallest value, clamped to [min, max], so it is
 * exact below 32 and within 1/64 relative error above.
 *
 * @return
 *   The value, or 0 for an empty histogram.
 */
uint64_t pfdk_hist_quantile(const struct pfdk_hist *h, double q);

/** The usual summary, in the histogram's unit. */
struct pfdk_hist_summary {
	uint64_t count; /**< values */
	double mean;    /**< arithmetic mean */
	uint64_t min;   /**< smallest */
	uint64_t p50;   /**< median */
	uint64_t p90;   /**< 90th percentile */
	uint64_t p99;   /**< 99th percentile */
	uint64_t p999;  /**< 99.9th percentile */
	uint64_t max;   /**< largest */
};

/** Fill @p s from @p h. */
void pfdk_hist_summarize(const struct pfdk_hist *h,
			 struct pfdk_hist_summary *s);

#ifdef __cplusplus
}
#endif

#endif /* PFDK_HIST_H */
