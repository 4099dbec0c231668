/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd's working-set traces (apps/pfdk-pagerd/ws.c): the order the
 * pages were first needed survives a save and a load, duplicates go (the
 * first place stays), and a hostile file is refused with a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pagerd.h"

#define PG 4096u

static char err[160];

/* A trace file image: magic, count, then @p n addresses. */
static size_t
trace_of(uint8_t *buf, uint64_t count, const uint64_t *a, size_t n)
{
	memcpy(buf, "PFDKWS1\n", 8);
	memcpy(buf + 8, &count, 8);
	if (n > 0)
		memcpy(buf + 16, a, n * 8);
	return 16 + n * 8;
}

/* Order kept, later copies dropped, unaligned notes aligned down. */
static void
order_and_duplicates(void **state)
{
	static const uint64_t want[] = { 0x9000, 0x1000, 0x5000, 0x2000, 0x3000 };
	char path[] = "/tmp/pagerd-ws-XXXXXX";
	struct pagerd_ws ws = { 0 }, back;
	int fd;
	size_t i;

	(void)state;
	/* 0x9000 first, then a sequential run, with duplicates anywhere. */
	assert_int_equal(pagerd_ws_note(&ws, 0x9123, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x1000, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x9000, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x5000, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x1fff, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x2000, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x3000, PG), 0);
	assert_int_equal(pagerd_ws_note(&ws, 0x2000, PG), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pagerd_ws_save(path, &ws), 0);
	assert_int_equal(ws.n, 5);
	assert_int_equal(pagerd_ws_load(path, PG, &back), 0);
	assert_int_equal(back.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(back.pages[i], want[i]);
	unlink(path);
	pagerd_ws_free(&ws);
	pagerd_ws_free(&back);
	/* A missing file is an empty set, not an error. */
	assert_int_equal(pagerd_ws_load(path, PG, &back), 0);
	assert_int_equal(back.n, 0);
}

/* What a file says is not trusted: duplicates in it are dropped too. */
static void
parse_untrusted(void **state)
{
	static const uint64_t dup[] = { 0x7000, 0x3000, 0x7000, 0x3000, 0x4000 };
	static const uint64_t unaligned[] = { 0x1000, 0x2010 };
	uint8_t buf[256];
	struct pagerd_ws ws;
	size_t len;

	(void)state;
	len = trace_of(buf, 5, dup, 5);
	assert_int_equal(pagerd_ws_parse(buf, len, PG, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws.n, 3);
	assert_int_equal(ws.pages[0], 0x7000);
	assert_int_equal(ws.pages[1], 0x3000);
	assert_int_equal(ws.pages[2], 0x4000);
	pagerd_ws_free(&ws);
	/* Refusals, each with its reason. */
	len = trace_of(buf, 6, dup, 5);
	assert_int_equal(pagerd_ws_parse(buf, len, PG, &ws, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	len = trace_of(buf, 2, unaligned, 2);
	assert_int_equal(pagerd_ws_parse(buf, len, PG, &ws, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not page aligned"));
	assert_null(ws.pages);
	len = trace_of(buf, 0, NULL, 0);
	buf[0] = 'X';
	assert_int_equal(pagerd_ws_parse(buf, len, PG, &ws, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "magic"));
	assert_int_equal(pagerd_ws_parse(buf, 7, PG, &ws, err, sizeof(err)), -EINVAL);
	/* A file cut inside an address. */
	len = trace_of(buf, 2, unaligned, 2);
	assert_int_equal(pagerd_ws_parse(buf, len - 3, PG, &ws, err, sizeof(err)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_and_duplicates),
		cmocka_unit_test(parse_untrusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
