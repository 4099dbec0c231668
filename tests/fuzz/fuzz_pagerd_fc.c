/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for pfdk-pagerd's Firecracker handshake parser: any
 * bytes a peer can send must give 1..PAGERD_FC_MAX_REGIONS regions that
 * satisfy every promise of fc_parse.h, or -EINVAL/-E2BIG with a
 * terminated, non-empty reason; never a crash, a read past the input
 * (the input is copied to an exact-size buffer, so ASan sees one) or a
 * different answer for the same bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pagerd_fc_region r[PAGERD_FC_MAX_REGIONS], r2[PAGERD_FC_MAX_REGIONS];
	char err[160], *s;
	int n, n2, i;

	s = malloc(size ? size : 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	err[0] = '\0';
	n = pagerd_fc_parse(s, size, r, err, sizeof(err));
	n2 = pagerd_fc_parse(s, size, r2, err, sizeof(err));
	if (n != n2)
		abort();
	if (n < 0) {
		if ((n != -EINVAL && n != -E2BIG) || err[0] == '\0' ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	} else {
		if (n < 1 || n > PAGERD_FC_MAX_REGIONS ||
		    memcmp(r, r2, sizeof(r[0]) * (size_t)n) != 0)
			abort();
		for (i = 0; i < n; i++) {
			uint64_t ps = r[i].page_size;

			if ((ps != 4096 && ps != 2u << 20) || r[i].size == 0 ||
			    ((r[i].base | r[i].size | r[i].offset) & (ps - 1)) ||
			    r[i].offset + r[i].size < r[i].offset ||
			    r[i].base + r[i].size < r[i].base)
				abort();
		}
	}
	free(s);
	return 0;
}
