/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A strict parser for the one JSON shape Firecracker sends (fc_parse.h).
 * Not a general JSON parser on purpose: whatever the VMM does not send is
 * refused, so a hostile peer has nothing to steer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fc_parse.h"

struct cur {
	const char *p, *end, *start;
	char *err;
	size_t errlen;
};

static int
bad(struct cur *c, const char *what)
{
	snprintf(c->err, c->errlen, "handshake: %s at byte %zu", what,
		 (size_t)(c->p - c->start));
	return -EINVAL;
}

static void
ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* The next non-blank byte is @p ch: consume it. */
static bool
eat(struct cur *c, char ch)
{
	ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* An unsigned decimal integer (JSON: no leading zeros, no sign, no fraction). */
static int
number(struct cur *c, uint64_t *v)
{
	uint64_t x = 0;
	const char *s;

	ws(c);
	s = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned int d = (unsigned int)(*c->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return bad(c, "number out of range");
		x = x * 10 + d;
		c->p++;
	}
	if (c->p == s)
		return bad(c, "expected an unsigned integer");
	if (c->p - s > 1 && *s == '0')
		return bad(c, "leading zero");
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return bad(c, "not an integer");
	*v = x;
	return 0;
}

enum { K_BASE, K_SIZE, K_OFFSET, K_PS, K_PSKIB, K_N };
static const char *const keys[K_N] = {
	"base_host_virt_addr", "size", "offset", "page_size", "page_size_kib",
};

/* A key among keys[]; none of them needs escapes, so none is accepted. */
static int
key(struct cur *c)
{
	const char *s;
	size_t n;
	int k;

	if (!eat(c, '"'))
		return bad(c, "expected a key");
	s = c->p;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' || (unsigned char)*c->p < 0x20)
			return bad(c, "escape or control byte in a key");
		c->p++;
	}
	if (c->p == c->end)
		return bad(c, "unterminated key");
	n = (size_t)(c->p - s);
	c->p++;
	for (k = 0; k < K_N; k++)
		if (strlen(keys[k]) == n && memcmp(keys[k], s, n) == 0)
			return k;
	c->p = s;
	return bad(c, "unknown key");
}

static int
region(struct cur *c, struct pagerd_fc_region *r)
{
	uint64_t v[K_N];
	bool seen[K_N] = { false };
	int k, ret;

	if (!eat(c, '{'))
		return bad(c, "expected '{'");
	do {
		k = key(c);
		if (k < 0)
			return k;
		if (seen[k])
			return bad(c, "repeated key");
		if (!eat(c, ':'))
			return bad(c, "expected ':'");
		ret = number(c, &v[k]);
		if (ret < 0)
			return ret;
		seen[k] = true;
	} while (eat(c, ','));
	if (!eat(c, '}'))
		return bad(c, "expected ',' or '}'");
	if (!seen[K_BASE] || !seen[K_SIZE] || !seen[K_OFFSET])
		return bad(c, "region lacks base_host_virt_addr, size or offset");
	if (seen[K_PS] && seen[K_PSKIB])
		return bad(c, "both page_size and page_size_kib");
	r->base = v[K_BASE];
	r->size = v[K_SIZE];
	r->offset = v[K_OFFSET];
	r->page_size = seen[K_PS] ? v[K_PS] : seen[K_PSKIB] ? v[K_PSKIB] : 4096;
	if (r->page_size != 4096 && r->page_size != 2u << 20)
		return bad(c, "page size not 4096 or 2097152");
	if (r->size == 0 || ((r->base | r->size | r->offset) & (r->page_size - 1)))
		return bad(c, "empty region, or base/size/offset not page aligned");
	if (r->offset + r->size < r->offset || r->base + r->size < r->base)
		return bad(c, "region wraps around");
	return 0;
}

int
pagerd_fc_parse(const char *buf, size_t len, struct pagerd_fc_region *out,
		char *err, size_t errlen)
{
	struct cur c = { .p = buf, .end = buf + len, .start = buf,
			 .err = err, .errlen = errlen };
	int n = 0, ret;

	if (len > PAGERD_FC_MAX_MSG) {
		snprintf(err, errlen, "handshake: %zu bytes, more than %d", len,
			 PAGERD_FC_MAX_MSG);
		return -E2BIG;
	}
	if (!eat(&c, '['))
		return bad(&c, "expected '['");
	do {
		if (n == PAGERD_FC_MAX_REGIONS) {
			snprintf(err, errlen, "handshake: more than %d regions",
				 PAGERD_FC_MAX_REGIONS);
			return -E2BIG;
		}
		ret = region(&c, &out[n]);
		if (ret < 0)
			return ret;
		n++;
	} while (eat(&c, ','));
	if (!eat(&c, ']'))
		return bad(&c, "expected ',' or ']'");
	ws(&c);
	if (c.p != c.end)
		return bad(&c, "bytes after the array");
	return n;
}
