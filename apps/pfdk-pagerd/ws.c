/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Working-set traces (record and replay, after REAP, ASPLOS'21): the
 * pages of an image that really faulted during one restore, kept beside
 * the image, so that the next restore of the same image installs them
 * before the restored process asks.
 *
 * File: "PFDKWS1\n", a little-endian u64 count, then count u64 page
 * addresses (image addresses, page aligned), in the order the pages were
 * first needed and without duplicates: replay installs them in that order,
 * so it stays ahead of a process that touches them the same way again, and
 * consecutive addresses in the list become one fill. Read without trusting
 * any of it: a bad magic, a count the file does not hold, an unaligned
 * address are refused, and duplicates are dropped again (the first stays).
 * Written to a temporary name and renamed, so a daemon killed
 * while writing leaves the old trace or none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagerd.h"

#define WS_MAGIC "PFDKWS1\n"
#define WS_MAX_PAGES (1u << 26) /* 256 GiB of 4 KiB pages */

struct at {
	uint64_t addr;
	uint32_t idx;
};

/* By address, then by position: the first of equal addresses sorts first. */
static int
cmp_at(const void *a, const void *b)
{
	const struct at *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Drop duplicates, keeping each page's first place: sort (address,
 * position) pairs, mark every later copy, compact. @return 0 or -ENOMEM.
 */
static int
ws_normalize(struct pagerd_ws *ws)
{
	struct at *v;
	uint8_t *drop;
	uint32_t i, w = 0;

	if (ws->n < 2)
		return 0;
	v = malloc((size_t)ws->n * sizeof(*v));
	drop = calloc(ws->n, 1);
	if (v == NULL || drop == NULL) {
		free(v);
		free(drop);
		return -ENOMEM;
	}
	for (i = 0; i < ws->n; i++)
		v[i] = (struct at){ ws->pages[i], i };
	qsort(v, ws->n, sizeof(*v), cmp_at);
	for (i = 1; i < ws->n; i++)
		if (v[i].addr == v[i - 1].addr)
			drop[v[i].idx] = 1;
	for (i = 0; i < ws->n; i++)
		if (!drop[i])
			ws->pages[w++] = ws->pages[i];
	ws->n = w;
	free(v);
	free(drop);
	return 0;
}

int
pagerd_ws_note(struct pagerd_ws *ws, uint64_t addr, uint64_t page)
{
	uint64_t *p;

	if (ws->n == ws->cap) {
		uint32_t cap = ws->cap != 0 ? ws->cap * 2 : 1024;

		if (ws->cap >= WS_MAX_PAGES)
			return -E2BIG;
		p = realloc(ws->pages, (size_t)cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		ws->pages = p;
		ws->cap = cap;
	}
	ws->pages[ws->n++] = addr & ~(page - 1);
	return 0;
}

void
pagerd_ws_free(struct pagerd_ws *ws)
{
	free(ws->pages);
	memset(ws, 0, sizeof(*ws));
}

int
pagerd_ws_parse(const uint8_t *buf, size_t len, uint64_t page, struct pagerd_ws *ws,
		char *err, size_t errlen)
{
	uint64_t count, i;

	memset(ws, 0, sizeof(*ws));
	if (len < 16 || memcmp(buf, WS_MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a working-set trace (magic)");
		return -EINVAL;
	}
	memcpy(&count, buf + 8, sizeof(count));
	if (count > WS_MAX_PAGES || count != (len - 16) / 8 || (len - 16) % 8 != 0) {
		snprintf(err, errlen, "count %llu does not match the file's %zu bytes",
			 (unsigned long long)count, len);
		return -EINVAL;
	}
	if (count == 0)
		return 0;
	ws->pages = malloc((size_t)count * sizeof(uint64_t));
	if (ws->pages == NULL)
		return -ENOMEM;
	ws->cap = (uint32_t)count;
	for (i = 0; i < count; i++) {
		uint64_t a;

		memcpy(&a, buf + 16 + i * 8, sizeof(a));
		if (a & (page - 1)) {
			snprintf(err, errlen, "entry %llu (%#llx) is not page aligned",
				 (unsigned long long)i, (unsigned long long)a);
			pagerd_ws_free(ws);
			return -EINVAL;
		}
		ws->pages[ws->n++] = a;
	}
	if (ws_normalize(ws) < 0) {
		pagerd_ws_free(ws);
		return -ENOMEM;
	}
	return 0;
}

int
pagerd_ws_load(const char *path, uint64_t page, struct pagerd_ws *ws)
{
	char err[160];
	struct stat st;
	uint8_t *buf;
	ssize_t got;
	int fd, ret;

	memset(ws, 0, sizeof(*ws));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > 16 + (uint64_t)WS_MAX_PAGES * 8) {
		close(fd);
		LOG("%s: not a regular file of a trace's size: ignored", path);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		free(buf);
		LOG("%s: short read: ignored", path);
		return -EIO;
	}
	ret = pagerd_ws_parse(buf, (size_t)got, page, ws, err, sizeof(err));
	free(buf);
	if (ret < 0)
		LOG("%s: %s: ignored", path, err);
	return ret;
}

int
pagerd_ws_save(const char *path, struct pagerd_ws *ws)
{
	char tmp[4300];
	uint64_t count;
	FILE *f;
	int ok;

	if (ws_normalize(ws) < 0)
		return -ENOMEM;
	count = ws->n;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "wxe");
	if (f == NULL)
		return -errno;
	ok = fwrite(WS_MAGIC, 8, 1, f) == 1 && fwrite(&count, sizeof(count), 1, f) == 1 &&
	     (count == 0 || fwrite(ws->pages, sizeof(ws->pages[0]), count, f) == count);
	ok = fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		int e = errno != 0 ? errno : EIO;

		unlink(tmp);
		return -e;
	}
	return 0;
}
