/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for devargs checking: any string, as if typed after
 * --dev, must give 0 or -EINVAL with a terminated, non-empty reason, never
 * a crash or a leak, and the same answer every time. Needs no EAL: drivers
 * register from constructors and parsing has no side effects.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfdk_fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failure explains itself, in a string that ends inside the buffer. */
static void
check_err(int ret, const char *err, size_t len)
{
	if (ret == 0)
		return;
	if ((ret != -EINVAL && ret != -ENOMEM) ||
	    memchr(err, '\0', len) == NULL || (len > 1 && err[0] == '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], tiny[4];
	char *s;
	int ret, ret2;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(err, 0x55, sizeof(err));
	ret = pfdk_fault_devargs_check(s, err, sizeof(err));
	check_err(ret, err, sizeof(err));

	/* A buffer too small for the reason: cut, still terminated. */
	memset(tiny, 0x55, sizeof(tiny));
	ret2 = pfdk_fault_devargs_check(s, tiny, sizeof(tiny));
	check_err(ret2, tiny, sizeof(tiny));
	if (ret2 != ret)
		abort();

	free(s);
	return 0;
}
