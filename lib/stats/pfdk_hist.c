/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "pfdk_hist.h"

void
pfdk_hist_reset(struct pfdk_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
pfdk_hist_merge(struct pfdk_hist *dst, const struct pfdk_hist *src)
{
	unsigned int i;

	if (src->count == 0)
		return;
	for (i = 0; i < PFDK_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	/* A zero-initialised dst has min 0 and count 0: take src's. */
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
}

uint64_t
pfdk_hist_bucket_low(unsigned int b)
{
	unsigned int e, sub;

	if (b < PFDK_HIST_SUB)
		return b;
	e = b / PFDK_HIST_SUB + PFDK_HIST_SUB_BITS - 1;
	sub = b % PFDK_HIST_SUB;
	return (1ull << e) | ((uint64_t)sub << (e - PFDK_HIST_SUB_BITS));
}

int
pfdk_hist_delta(struct pfdk_hist *d, const struct pfdk_hist *now,
		const struct pfdk_hist *before)
{
	unsigned int i, lo = PFDK_HIST_BUCKETS, hi = 0;
	uint64_t count = 0;

	for (i = 0; i < PFDK_HIST_BUCKETS; i++)
		if (now->buckets[i] < before->buckets[i]) {
			if (d != now)
				memcpy(d, now, sizeof(*d));
			return -ERANGE;
		}
	for (i = 0; i < PFDK_HIST_BUCKETS; i++) {
		d->buckets[i] = now->buckets[i] - before->buckets[i];
		if (d->buckets[i] != 0) {
			if (lo == PFDK_HIST_BUCKETS)
				lo = i;
			hi = i;
			count += d->buckets[i];
		}
	}
	d->count = count;
	d->sum = now->sum - before->sum;
	if (count == 0) {
		d->min = UINT64_MAX;
		d->max = 0;
		return 0;
	}
	d->min = pfdk_hist_bucket_low(lo);
	if (d->min < now->min)
		d->min = now->min;
	d->max = hi + 1 < PFDK_HIST_BUCKETS ? pfdk_hist_bucket_low(hi + 1) - 1 : UINT64_MAX;
	if (d->max > now->max)
		d->max = now->max;
	return 0;
}

static uint64_t
bucket_mid(unsigned int b)
{
	uint64_t lo = pfdk_hist_bucket_low(b);
	unsigned int e;

	if (b < PFDK_HIST_SUB)
		return lo;
	e = b / PFDK_HIST_SUB + PFDK_HIST_SUB_BITS - 1;
	/* Width of the bucket is 2^(e - SUB_BITS). */
	return lo + ((1ull << (e - PFDK_HIST_SUB_BITS)) >> 1);
}

uint64_t
pfdk_hist_quantile(const struct pfdk_hist *h, double q)
{
	uint64_t rank, seen = 0, v;
	unsigned int b;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* ceil(q * count), at least 1: the rank of the value we want. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (b = 0; b < PFDK_HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank)
			break;
	}
	if (b == PFDK_HIST_BUCKETS)
		return h->max;
	v = bucket_mid(b);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

void
pfdk_hist_summarize(const struct pfdk_hist *h, struct pfdk_hist_summary *s)
{
	s->count = h->count;
	s->mean = h->count ? (double)h->sum / (double)h->count : 0.0;
	s->min = h->count ? h->min : 0;
	s->p50 = pfdk_hist_quantile(h, 0.50);
	s->p90 = pfdk_hist_quantile(h, 0.90);
	s->p99 = pfdk_hist_quantile(h, 0.99);
	s->p999 = pfdk_hist_quantile(h, 0.999);
	s->max = h->max;
}
