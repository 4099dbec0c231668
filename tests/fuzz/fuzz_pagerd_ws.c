/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfdk-pagerd's working-set trace reader (ws.c): any
 * file gives page-aligned addresses without duplicates, no more than the
 * file holds, or -EINVAL with a reason; never a crash or a read past the
 * input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pagerd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	struct pagerd_ws ws;
	uint64_t *sorted;
	char err[160];
	uint32_t i;
	int ret;

	if (b == NULL)
		return 0;
	memcpy(b, data, size); /* exactly size bytes: ASan sees a read past them */
	err[0] = '\0';
	ret = pagerd_ws_parse(b, size, 4096, &ws, err, sizeof(err));
	if (ret < 0) {
		if ((ret != -EINVAL && ret != -ENOMEM) || (ret == -EINVAL && err[0] == '\0') ||
		    ws.pages != NULL)
			abort();
	} else {
		if (size < 16 || ws.n > (size - 16) / 8)
			abort();
		sorted = malloc(((size_t)ws.n + 1) * sizeof(*sorted));
		if (sorted == NULL)
			abort();
		for (i = 0; i < ws.n; i++) {
			if (ws.pages[i] & 4095)
				abort();
			sorted[i] = ws.pages[i];
		}
		qsort(sorted, ws.n, sizeof(*sorted), cmp_u64);
		for (i = 1; i < ws.n; i++)
			if (sorted[i] == sorted[i - 1])
				abort();
		free(sorted);
		pagerd_ws_free(&ws);
	}
	free(b);
	return 0;
}
