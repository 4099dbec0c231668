/* SPDX-License-Identifier: BSD-3-Clause */
/* CRIU pagemap image reader (criu_img.h): a small protobuf varint decoder. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "criu_img.h"

#define MAX_PAGES (1ull << 52) /* a 64-bit address space of 4 KiB pages */

struct rd {
	const uint8_t *p, *end, *start;
	char *err;
	size_t errlen;
};

static int
bad(struct rd *r, const char *what)
{
	snprintf(r->err, r->errlen, "pagemap: %s at byte %zu", what,
		 (size_t)(r->p - r->start));
	return -EINVAL;
}

static int
u32le(struct rd *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return bad(r, "truncated");
	*v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
	     (uint32_t)r->p[3] << 24;
	r->p += 4;
	return 0;
}

static int
varint(struct rd *r, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int i;

	for (i = 0; i < 10; i++) {
		uint8_t b;

		if (r->p == end)
			return bad(r, "truncated varint");
		b = *r->p++;
		if (i == 9 && b > 1)
			return bad(r, "varint past 64 bits");
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return bad(r, "varint longer than 10 bytes");
}

/*
 * One message of @p n bytes: up to five varint fields by number (1..5)
 * into @p v, @p seen; others skipped by wire type.
 */
static int
message(struct rd *r, size_t n, uint64_t *v, bool *seen)
{
	const uint8_t *end = r->p + n;
	uint64_t tag, x;
	int ret;

	while (r->p < end) {
		ret = varint(r, end, &tag);
		if (ret < 0)
			return ret;
		switch (tag & 7) {
		case 0:
			ret = varint(r, end, &x);
			if (ret < 0)
				return ret;
			if (tag >> 3 >= 1 && tag >> 3 <= 5) {
				v[tag >> 3] = x;
				seen[tag >> 3] = true;
			}
			break;
		case 1:
		case 5:
			if ((size_t)(end - r->p) < ((tag & 7) == 1 ? 8u : 4u))
				return bad(r, "truncated fixed field");
			if (tag >> 3 >= 1 && tag >> 3 <= 5)
				return bad(r, "known field with a fixed-size wire type");
			r->p += (tag & 7) == 1 ? 8 : 4;
			break;
		case 2:
			ret = varint(r, end, &x);
			if (ret < 0)
				return ret;
			if (x > (uint64_t)(end - r->p))
				return bad(r, "truncated bytes field");
			if (tag >> 3 >= 1 && tag >> 3 <= 5)
				return bad(r, "known field with a bytes wire type");
			r->p += x;
			break;
		default:
			return bad(r, "group or bad wire type");
		}
	}
	return 0;
}

int
pagerd_pagemap_parse(const uint8_t *buf, size_t len, uint32_t *pages_id,
		     struct pagerd_pagemap_entry *out, size_t max,
		     char *err, size_t errlen)
{
	struct rd r = { .p = buf, .end = buf + len, .start = buf, .err = err,
			.errlen = errlen };
	uint64_t present = 0;
	uint32_t m, n;
	size_t k = 0;
	bool head = false;
	int ret;

	if (max > INT32_MAX)
		max = INT32_MAX;

	if (u32le(&r, &m) < 0 || m != PAGERD_CRIU_MAGIC_COMMON ||
	    u32le(&r, &m) < 0 || m != PAGERD_CRIU_MAGIC_PAGEMAP)
		return bad(&r, "not a pagemap image (magics)");
	while (r.p < r.end) {
		uint64_t v[6] = { 0 };
		bool seen[6] = { false };

		ret = u32le(&r, &n);
		if (ret < 0)
			return ret;
		if (n > (size_t)(r.end - r.p))
			return bad(&r, "message longer than the file");
		ret = message(&r, n, v, seen);
		if (ret < 0)
			return ret;
		if (!head) {
			if (!seen[1] || v[1] > UINT32_MAX)
				return bad(&r, "pagemap_head without a 32-bit pages_id");
			*pages_id = (uint32_t)v[1];
			head = true;
			continue;
		}
		if (k == max) {
			snprintf(err, errlen, "pagemap: more than %zu entries", max);
			return -E2BIG;
		}
		out[k].vaddr = v[1];
		out[k].nr_pages = seen[5] ? v[5] : v[2];
		out[k].flags = seen[4] ? (uint32_t)v[4] :
			       (seen[3] && v[3]) ? PAGERD_PE_PARENT : PAGERD_PE_PRESENT;
		if (!seen[1] || (!seen[2] && !seen[5]))
			return bad(&r, "pagemap_entry without vaddr or nr_pages");
		if ((seen[4] && v[4] > UINT32_MAX) || out[k].flags & ~7u)
			return bad(&r, "unknown pagemap_entry flags");
		if (out[k].nr_pages == 0 || out[k].nr_pages >= MAX_PAGES ||
		    out[k].vaddr & (PAGERD_CRIU_PAGE - 1) ||
		    out[k].vaddr + out[k].nr_pages * PAGERD_CRIU_PAGE < out[k].vaddr)
			return bad(&r, "entry range empty, unaligned or wrapping");
		out[k].pages_off = present * PAGERD_CRIU_PAGE;
		if (out[k].flags & PAGERD_PE_PRESENT)
			present += out[k].nr_pages;
		if (present > MAX_PAGES)
			return bad(&r, "more present pages than an address space");
		k++;
	}
	if (!head)
		return bad(&r, "no pagemap_head");
	return (int)k;
}
