/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd's Firecracker handshake parser (apps/pfdk-pagerd/fc_parse.h):
 * the three field sets Firecracker has sent, and the shapes it refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fc_parse.h"

static struct pagerd_fc_region r[PAGERD_FC_MAX_REGIONS];
static char err[160];

static int
parse(const char *s)
{
	err[0] = '\0';
	return pagerd_fc_parse(s, strlen(s), r, err, sizeof(err));
}

static void
field_sets(void **state)
{
	(void)state;
	/* v1.6: no page size, 4 KiB */
	assert_int_equal(parse("[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0},"
			       " {\"offset\": 8192, \"size\": 4096, \"base_host_virt_addr\": 65536}]"), 2);
	assert_true(r[0].base == 4096 && r[0].size == 8192 && r[0].offset == 0 &&
		    r[0].page_size == 4096);
	assert_true(r[1].base == 65536 && r[1].size == 4096 && r[1].offset == 8192 &&
		    r[1].page_size == 4096);
	/* v1.7-1.11: page_size_kib, in bytes */
	assert_int_equal(parse(" [ {\"base_host_virt_addr\": 2097152, \"size\": 4194304,\n"
			       "  \"offset\": 0, \"page_size_kib\": 2097152} ] \n"), 1);
	assert_true(r[0].page_size == 2u << 20 && r[0].size == 4u << 20);
	/* v1.12+: page_size */
	assert_int_equal(parse("[{\"base_host_virt_addr\":140737488351232,\"size\":4096,"
			       "\"offset\":0,\"page_size\":4096}]"), 1);
	assert_true(r[0].base == 140737488351232ull && r[0].page_size == 4096);
}

static void
refusals(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0}",
		"[{\"base_host_virt_addr\":0,\"size\":4096}]",                /* no offset */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"x\":1}]", /* unknown key */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"size\":4096,\"offset\":0}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":4096,\"page_size_kib\":4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0,\"page_size\":8192}]",
		"[{\"base_host_virt_addr\":1,\"size\":4096,\"offset\":0}]",   /* unaligned */
		"[{\"base_host_virt_addr\":0,\"size\":0,\"offset\":0}]",      /* empty */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":-4096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":04096}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096.0,\"offset\":0}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":\"0\"}]",
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":18446744073709551616}]",
		"[{\"base_host_virt_addr\":0,\"size\":8192,\"offset\":18446744073709547520}]", /* wraps */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0}",     /* unterminated */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0}] x", /* trailing */
		"[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0},]",
		"[{\"base_host_\\u0076irt_addr\":0,\"size\":4096,\"offset\":0}]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i]) != -EINVAL)
			fail_msg("accepted or misreported: %s", bad[i]);
		if (err[0] == '\0')
			fail_msg("no reason given for: %s", bad[i]);
	}
}

static void
bounds(void **state)
{
	char *s = malloc(PAGERD_FC_MAX_MSG + 2);
	int i, k, n;

	(void)state;
	assert_non_null(s);
	/* Exactly the limit is fine; one region more is not. */
	for (k = PAGERD_FC_MAX_REGIONS; k <= PAGERD_FC_MAX_REGIONS + 1; k++) {
		n = sprintf(s, "[");
		for (i = 0; i < k; i++)
			n += sprintf(s + n, "%s{\"base_host_virt_addr\":%d,\"size\":4096,\"offset\":%d}",
				     i ? "," : "", i * 4096, i * 4096);
		sprintf(s + n, "]");
		assert_int_equal(parse(s), k == PAGERD_FC_MAX_REGIONS ? k : -E2BIG);
	}
	/* A valid array padded past 64 KiB. */
	memset(s, ' ', PAGERD_FC_MAX_MSG + 1);
	memcpy(s, "[{\"base_host_virt_addr\":0,\"size\":4096,\"offset\":0}]", 50);
	assert_int_equal(pagerd_fc_parse(s, PAGERD_FC_MAX_MSG + 1, r, err, sizeof(err)), -E2BIG);
	assert_int_equal(pagerd_fc_parse(s, PAGERD_FC_MAX_MSG, r, err, sizeof(err)), 1);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_sets),
		cmocka_unit_test(refusals),
		cmocka_unit_test(bounds),
	};

	return cmocka_run_group_tests_name("pagerd handshake parser", tests, NULL, NULL);
}
