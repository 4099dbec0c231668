/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfdk-pagerd's CRIU pagemap reader: any file must
 * give entries that keep criu_img.h's promises (aligned, non-empty,
 * non-wrapping, known flags, PRESENT offsets the running sum), or
 * -EINVAL/-E2BIG with a reason; never a crash or a read past the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "criu_img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pagerd_pagemap_entry e[64];
	uint64_t sum = 0;
	uint8_t *b = malloc(size ? size : 1);
	char err[160];
	uint32_t id;
	int n, i;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	err[0] = '\0';
	n = pagerd_pagemap_parse(b, size, &id, e, 64, err, sizeof(err));
	if (n < 0) {
		if ((n != -EINVAL && n != -E2BIG) || err[0] == '\0')
			abort();
	} else {
		if (n > 64)
			abort();
		for (i = 0; i < n; i++) {
			if (e[i].nr_pages == 0 || e[i].vaddr & (PAGERD_CRIU_PAGE - 1) ||
			    e[i].flags & ~7u || e[i].pages_off != sum * PAGERD_CRIU_PAGE ||
			    e[i].vaddr + e[i].nr_pages * PAGERD_CRIU_PAGE < e[i].vaddr)
				abort();
			if (e[i].flags & PAGERD_PE_PRESENT)
				sum += e[i].nr_pages;
		}
	}
	free(b);
	return 0;
}
