/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_ONCE_CHECK_H
#define PFDK_ONCE_CHECK_H

/*
 * Exactly-once checker for page-request groups, for tests and fuzz targets
 * that play the kernel under the iommufd driver. Fed, in order, with what
 * the kernel side delivered (records the driver has read), what the driver
 * handed to the application, what the application passed back, and every
 * response the driver wrote, it fails (once_fail(), abort()) when the
 * driver:
 *  - answers a cookie that has no outstanding group (twice, or never sent);
 *  - answers a group before its LAST_PAGE record was delivered, unless the
 *    stream itself cut the group short (a record of another cookie came
 *    first) or the device is stopping (stop answers everything INVALID);
 *  - answers a group before the application has passed back every one of
 *    its records (early), or with a code its records do not give (SUCCESS
 *    though one came back INVALID, or the reverse);
 *  - hands out a record of a group that is not outstanding;
 *  - writes a code other than SUCCESS or INVALID;
 *  - leaves a delivered group unanswered once the device has stopped
 *    (lost: stop answers every group it tracks).
 *
 * A group is one instance of a cookie: from the delivery of its first record
 * while no group of that cookie is outstanding, to its answer. Records of
 * an outstanding cookie that are not the open group's continuation are
 * replays: the driver must drop them, so the checker ignores them too.
 * Cookies are 0..ONCE_COOKIES-1 (a kernel can issue 0 too: see docs/iommufd.md).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONCE_COOKIES 256
#define ONCE_MAX_RECS 4096 /* records of one group the checker follows */

/* No group open in the stream (every u32 below ONCE_COOKIES is a cookie). */
#define ONCE_NONE UINT32_MAX

struct once_group {
	bool open;          /* outstanding: delivered, not answered */
	bool last;          /* its LAST_PAGE record was delivered */
	bool cut;           /* a record of another cookie followed it first */
	uint32_t serial;    /* tells this instance from later ones of the cookie */
	uint32_t nrec;      /* records delivered */
	uint32_t handed;    /* records handed to the application */
	uint32_t returned;  /* distinct records passed back */
	bool invalid;       /* a record's first return was not SUCCESS */
	uint8_t seen[ONCE_MAX_RECS / 8]; /* record indexes returned once */
};

struct once_check {
	const char *name;
	uint32_t cur;       /* cookie of the group still open in the stream, or ONCE_NONE */
	uint32_t serial;
	uint64_t answers, early_ok_cut, stop_answers;
	struct once_group g[ONCE_COOKIES];
};

static void once_fail(const struct once_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
once_fail(const struct once_check *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: exactly-once check failed: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static inline void
once_init(struct once_check *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->cur = ONCE_NONE;
}

/* True if cookie @k has an outstanding group. */
static inline bool
once_open(const struct once_check *c, uint32_t k)
{
	return k < ONCE_COOKIES && c->g[k].open;
}

/* The driver has read a record of cookie @k (in stream order). */
static inline void
once_deliver(struct once_check *c, uint32_t k, bool last)
{
	struct once_group *g;

	if (c->cur != ONCE_NONE && k != c->cur) {
		c->g[c->cur].cut = true; /* the driver closes it as it stands */
		c->cur = ONCE_NONE;
	}
	/* Cookie 0 is a value the kernel hands out (issue 12): served like any. */
	if (k >= ONCE_COOKIES)
		return; /* never issued: the driver drops it */
	g = &c->g[k];
	if (g->open && k != c->cur)
		return; /* a replay of an outstanding cookie: dropped */
	if (!g->open) {
		memset(g, 0, sizeof(*g));
		g->open = true;
		g->serial = ++c->serial;
	}
	g->nrec++;
	if (last) {
		g->last = true;
		c->cur = ONCE_NONE;
	} else {
		c->cur = k;
	}
}

/* The driver handed out a record of cookie @k. @return its group's serial. */
static inline uint32_t
once_handout(struct once_check *c, uint32_t k)
{
	if (!once_open(c, k))
		once_fail(c, "a record of cookie %u handed out, but no group of it is outstanding", k);
	if (++c->g[k].handed > c->g[k].nrec)
		once_fail(c, "cookie %u: %u records handed out, %u delivered", k,
			  c->g[k].handed, c->g[k].nrec);
	return c->g[k].serial;
}

/*
 * The application passed back a record of cookie @k, group @serial, record
 * index @idx (the driver's token in pfdk_fault::drv), status @st. A copy
 * passed back is the record passed back: the driver cannot tell them apart,
 * so the first return of each record counts and later ones are replays
 * the driver must ignore. A forged index (>= the group's records) counts
 * for nothing.
 */
static inline void
once_return(struct once_check *c, uint32_t k, uint32_t serial, uint32_t idx,
	    uint8_t st)
{
	struct once_group *g;

	if (!once_open(c, k) || c->g[k].serial != serial)
		return; /* its group was answered: stale, ignored by the driver */
	g = &c->g[k];
	if (idx < g->nrec && idx < ONCE_MAX_RECS && !(g->seen[idx / 8] & (1u << (idx % 8)))) {
		g->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
		g->returned++;
		if (st != 0)
			g->invalid = true;
	}
}

/* The driver wrote the response {@k, @code}; @stopping: during stop. */
static inline void
once_answer(struct once_check *c, uint32_t k, uint32_t code, bool stopping)
{
	struct once_group *g;

	if (code > 1)
		once_fail(c, "response code %u for cookie %u: only 0 and 1 exist", code, k);
	if (!once_open(c, k))
		once_fail(c, "cookie %u answered, but no group of it is outstanding "
			  "(answered twice, or never delivered)", k);
	g = &c->g[k];
	c->answers++;
	if (stopping) {
		c->stop_answers++;
	} else {
		if (!g->last && !g->cut)
			once_fail(c, "cookie %u answered before its LAST_PAGE record "
				  "(%u records delivered)", k, g->nrec);
		if (g->returned < g->nrec)
			once_fail(c, "cookie %u answered early: the application has passed "
				  "back %u of its %u records (%u handed out)", k,
				  g->returned, g->nrec, g->handed);
		if (code != (g->invalid ? 1u : 0u))
			once_fail(c, "cookie %u answered %s, but its records say %s", k,
				  code ? "INVALID" : "SUCCESS", g->invalid ? "INVALID" : "SUCCESS");
		if (!g->last)
			c->early_ok_cut++;
	}
	g->open = false;
	if (c->cur == k)
		c->cur = ONCE_NONE;
}

/* After stop: nothing delivered may be left unanswered. */
static inline void
once_finish(const struct once_check *c)
{
	uint32_t k;

	for (k = 1; k < ONCE_COOKIES; k++)
		if (c->g[k].open)
			once_fail(c, "cookie %u (%u records delivered) never answered: lost",
				  k, c->g[k].nrec);
}

#endif /* PFDK_ONCE_CHECK_H */
