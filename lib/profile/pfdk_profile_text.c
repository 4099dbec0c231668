/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Profile text: lines as rte_cfgfile_load() cuts them, and errors that
 * name the line. Kept apart from the section parsers (pfdk_profile.c)
 * because rte_cfgfile keeps no line numbers: everything here rescans the
 * text that pf_scan() checked first (see the top of pfdk_profile.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_config.h>
#include <rte_cfgfile.h>

#include "pfdk_profile_priv.h"

/* Line iteration and cutting, as rte_cfgfile_load() sees lines. */

struct pf_iter {
	const char *text;
	size_t len;
	size_t off;
	unsigned int lineno;
};

static bool
pf_next(struct pf_iter *it, const char **l, size_t *n)
{
	const char *s, *nl;

	if (it->off >= it->len)
		return false;
	s = it->text + it->off;
	nl = memchr(s, '\n', it->len - it->off);
	*n = nl != NULL ? (size_t)(nl - s) : it->len - it->off;
	it->off += *n + (nl != NULL);
	it->lineno++;
	*l = s;
	return true;
}

static void
pf_trim(const char *l, size_t *b, size_t *e)
{
	while (*e > *b && isspace((unsigned char)l[*e - 1]))
		(*e)--;
	while (*b < *e && isspace((unsigned char)l[*b]))
		(*b)++;
}

/* Span [b, e) of the line once its comment is cut and it is trimmed. */
static void
pf_cook(const char *l, size_t n, size_t *b, size_t *e)
{
	const char *sc = memchr(l, ';', n);

	/* rte_cfgfile looks at the first ';' only, and "\;" keeps it */
	if (sc != NULL && (sc == l || sc[-1] != '\\'))
		n = sc - l;
	*b = 0;
	*e = n;
	pf_trim(l, b, e);
}

/* Find line @p want; its cooked span in [b, e). */
static const char *
pf_line(const struct pf_ctx *c, unsigned int want, size_t *b, size_t *e)
{
	struct pf_iter it = { c->text, c->len, 0, 0 };
	const char *l;
	size_t n;

	while (pf_next(&it, &l, &n)) {
		if (it.lineno == want) {
			pf_cook(l, n, b, e);
			return l;
		}
	}
	return NULL;
}

/*
 * Line of the (nth + 1)th "key =" after the header on @p sect_line, or
 * @p sect_line when the section has no such key.
 */
unsigned int
pf_key_line(const struct pf_ctx *c, unsigned int sect_line, const char *key,
	    unsigned int nth)
{
	struct pf_iter it = { c->text, c->len, 0, 0 };
	size_t klen = strlen(key), n, b, e;
	const char *l, *eq;

	if (sect_line == 0)
		return 0;
	while (pf_next(&it, &l, &n)) {
		if (it.lineno <= sect_line)
			continue;
		pf_cook(l, n, &b, &e);
		if (b == e)
			continue;
		if (l[b] == '[')
			break;
		eq = memchr(l + b, '=', e - b);
		if (eq == NULL)
			continue;
		e = eq - l;
		pf_trim(l, &b, &e);
		if (e - b == klen && memcmp(l + b, key, klen) == 0 &&
		    nth-- == 0)
			return it.lineno;
	}
	return sect_line;
}

/* Errors. Every one returns -EINVAL so callers can "return pf_...()". */

static int
pf_report(struct pf_ctx *c, unsigned int line, unsigned int sect_line,
	  const char *key, const char *fmt, va_list ap)
{
	char msg[512], sect[CFG_NAME_LEN] = "";
	size_t b = 0, e = 0;
	const char *l;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* the name as written, so a message quotes what the user typed */
	l = pf_line(c, sect_line, &b, &e);
	if (l != NULL && e > b + 1) {
		b++;
		e = (const char *)memchr(l + b, ']', e - b) - l;
		pf_trim(l, &b, &e);
		snprintf(sect, sizeof(sect), "%.*s", (int)(e - b), l + b);
	}
	if (line != 0)
		n = snprintf(c->err, c->errlen, "%s:%u: ", c->file, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->file);
	if (n < 0 || (size_t)n >= c->errlen)
		return -EINVAL;
	snprintf(c->err + n, c->errlen - n, "[%s]%s%s: %s", sect,
		 key != NULL ? " " : "", key != NULL ? key : "", msg);
	return -EINVAL;
}

/* Error in section @p sect_line, on @p key's line (NULL: the header's). */
int
pf_at(struct pf_ctx *c, unsigned int sect_line, const char *key,
      const char *fmt, ...)
{
	unsigned int line = sect_line;
	va_list ap;

	if (key != NULL)
		line = pf_key_line(c, sect_line, key, 0);
	va_start(ap, fmt);
	pf_report(c, line, sect_line, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Same, on a line found by the caller (a repeated key). */
int
pf_at_line(struct pf_ctx *c, unsigned int line, unsigned int sect_line,
	   const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pf_report(c, line, sect_line, key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int __rte_format_printf(3, 4)
pf_syntax(struct pf_ctx *c, unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: syntax error: %s", c->file, line,
		 msg);
	return -EINVAL;
}

/*
 * Reject what rte_cfgfile would skip, truncate or fail on, with the line,
 * and note each section header's line.
 */
int
pf_scan(struct pf_ctx *c)
{
	struct pf_iter it = { c->text, c->len, 0, 0 };
	const char *l, *rb, *eq;
	size_t n, b, e, kb, ke, vb, ve, i, esc;

	while (pf_next(&it, &l, &n)) {
		if (n > PF_LINE_MAX)
			return pf_syntax(c, it.lineno,
				"line longer than %d characters", PF_LINE_MAX);
		if (memchr(l, '\0', n) != NULL)
			return pf_syntax(c, it.lineno, "NUL byte");
		pf_cook(l, n, &b, &e);
		if (b == e)
			continue;
		if (l[b] == '#')
			return pf_syntax(c, it.lineno,
				"comments start with ';' ('#' is not a comment in rte_cfgfile)");
		if (l[b] == '[') {
			rb = memchr(l + b, ']', e - b);
			if (rb == NULL)
				return pf_syntax(c, it.lineno, "no closing ']'");
			if (rb + 1 != l + e)
				return pf_syntax(c, it.lineno, "text after ']'");
			kb = b + 1;
			ke = rb - l;
			pf_trim(l, &kb, &ke);
			if (ke - kb >= CFG_NAME_LEN)
				return pf_syntax(c, it.lineno,
					"section name longer than %d characters",
					CFG_NAME_LEN - 1);
			if (c->nb_sect == PF_MAX_SECTIONS)
				return pf_syntax(c, it.lineno,
					"more than %d sections", PF_MAX_SECTIONS);
			c->sect_line[c->nb_sect++] = it.lineno;
			continue;
		}
		eq = memchr(l + b, '=', e - b);
		if (eq == NULL)
			return pf_syntax(c, it.lineno,
				"expected '[section]' or 'key = value'");
		if (c->nb_sect == 0)
			return pf_syntax(c, it.lineno,
				"'key = value' before the first [section]");
		kb = b;
		ke = eq - l;
		vb = ke + 1;
		ve = e;
		pf_trim(l, &kb, &ke);
		pf_trim(l, &vb, &ve);
		if (kb == ke)
			return pf_syntax(c, it.lineno, "no key before '='");
		if (ke - kb >= CFG_NAME_LEN)
			return pf_syntax(c, it.lineno,
				"key longer than %d characters", CFG_NAME_LEN - 1);
		if (vb == ve)
			return pf_syntax(c, it.lineno, "no value after '='");
		/* rte_cfgfile turns "\;" into ";" in values */
		for (esc = 0, i = vb; i + 1 < ve; i++)
			esc += l[i] == '\\' && l[i + 1] == ';';
		if (ve - vb - esc >= CFG_VALUE_LEN)
			return pf_syntax(c, it.lineno,
				"value longer than %d characters", CFG_VALUE_LEN - 1);
	}
	return 0;
}
