/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd's CRIU pagemap reader (apps/pfdk-pagerd/criu_img.h) on
 * images written here byte by byte in CRIU's format: the 3.x nr_pages
 * (field 2), the 4.x one (field 5), old images without flags, unknown
 * fields skipped, the running offset of PRESENT pages, and refusals.
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

#include "criu_img.h"

static uint8_t img[4096], msg[256];
static size_t ilen, mlen;
static struct pagerd_pagemap_entry e[16];
static char err[160];

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
varint(uint64_t v)
{
	do {
		msg[mlen++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

static void
field(unsigned int f, uint64_t v)
{
	varint((uint64_t)f << 3);
	varint(v);
}

static void
begin(void)
{
	put32(img, PAGERD_CRIU_MAGIC_COMMON);
	put32(img + 4, PAGERD_CRIU_MAGIC_PAGEMAP);
	ilen = 8;
	mlen = 0;
}

/* Close the message being built: u32 length, then its bytes. */
static void
end_msg(void)
{
	put32(img + ilen, (uint32_t)mlen);
	memcpy(img + ilen + 4, msg, mlen);
	ilen += 4 + mlen;
	mlen = 0;
}

static int
parse(uint32_t *id)
{
	return pagerd_pagemap_parse(img, ilen, id, e, 16, err, sizeof(err));
}

static void
formats(void **state)
{
	uint32_t id = 0;

	(void)state;
	begin();
	field(1, 7); /* pagemap_head.pages_id */
	end_msg();
	field(1, 0x7f0000000000ull); /* 3.x: nr_pages in field 2, flags */
	field(2, 3);
	field(4, PAGERD_PE_PRESENT | PAGERD_PE_LAZY);
	end_msg();
	field(1, 0x7f0000100000ull); /* PARENT: not in pages-7.img */
	field(2, 1);
	field(4, PAGERD_PE_PARENT);
	end_msg();
	field(1, 0x7f0000200000ull); /* 4.x: 64-bit nr_pages in field 5 */
	field(5, 5);
	field(4, PAGERD_PE_PRESENT | PAGERD_PE_LAZY);
	varint(9 << 3 | 2); /* an unknown bytes field, skipped */
	varint(3);
	msg[mlen++] = 1; msg[mlen++] = 2; msg[mlen++] = 3;
	end_msg();
	field(1, 0x7f0000300000ull); /* old image: no flags, no in_parent */
	field(2, 2);
	end_msg();
	field(1, 0x7f0000400000ull); /* old image: in_parent */
	field(2, 4);
	field(3, 1);
	end_msg();
	assert_int_equal(parse(&id), 5);
	assert_int_equal(id, 7);
	assert_true(e[0].vaddr == 0x7f0000000000ull && e[0].nr_pages == 3 &&
		    e[0].pages_off == 0 && e[0].flags == (PAGERD_PE_PRESENT | PAGERD_PE_LAZY));
	assert_true(e[1].flags == PAGERD_PE_PARENT && e[1].pages_off == 3 * 4096);
	assert_true(e[2].nr_pages == 5 && e[2].pages_off == 3 * 4096);
	assert_true(e[3].flags == PAGERD_PE_PRESENT && e[3].pages_off == 8 * 4096);
	assert_true(e[4].flags == PAGERD_PE_PARENT && e[4].pages_off == 10 * 4096);
	/* Nothing dumped: a head alone. */
	begin();
	field(1, 1);
	end_msg();
	assert_int_equal(parse(&id), 0);
}

static void
refusals(void **state)
{
	uint32_t id;
	size_t full;

	(void)state;
	begin();
	img[0] ^= 1;
	assert_int_equal(parse(&id), -EINVAL); /* magic */
	begin();
	assert_int_equal(parse(&id), -EINVAL); /* no head */
	field(1, 1);
	end_msg();
	field(1, 4095); /* unaligned vaddr */
	field(2, 1);
	end_msg();
	assert_int_equal(parse(&id), -EINVAL);
	begin();
	field(1, 1);
	end_msg();
	field(1, 4096);
	field(2, 0); /* empty */
	end_msg();
	assert_int_equal(parse(&id), -EINVAL);
	begin();
	field(1, 1);
	end_msg();
	field(1, 0xfffffffffffff000ull); /* wraps */
	field(2, 2);
	end_msg();
	assert_int_equal(parse(&id), -EINVAL);
	begin();
	field(1, 1);
	end_msg();
	field(1, 4096);
	field(2, 1);
	field(4, 8); /* unknown flag */
	end_msg();
	assert_int_equal(parse(&id), -EINVAL);
	begin();
	field(1, 1);
	end_msg();
	field(1, 4096);
	field(2, 1);
	end_msg();
	full = ilen;
	ilen = full - 1; /* message cut short */
	assert_int_equal(parse(&id), -EINVAL);
	ilen = full;
	assert_int_equal(parse(&id), 1);
	img[full - 1] = 0x80; /* a varint that never ends */
	assert_int_equal(parse(&id), -EINVAL);
	begin();
	field(1, 1);
	end_msg();
	varint(1 << 3 | 3); /* a group */
	end_msg();
	assert_int_equal(parse(&id), -EINVAL);
	assert_true(err[0] != '\0');
}

static void
too_many(void **state)
{
	uint32_t id;
	int i;

	(void)state;
	begin();
	field(1, 1);
	end_msg();
	for (i = 0; i < 17; i++) {
		field(1, 4096 * (uint64_t)(i + 1));
		field(2, 1);
		end_msg();
	}
	assert_int_equal(parse(&id), -E2BIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats),
		cmocka_unit_test(refusals),
		cmocka_unit_test(too_many),
	};

	return cmocka_run_group_tests_name("pagerd CRIU pagemap reader", tests, NULL, NULL);
}
