/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the profile loader: any bytes, as if they were a
 * profile file, must give 0 or an error message, never a crash, a leak or
 * an unterminated message. Checked against a 16-CPU host so that the
 * cross-lcore rules are reachable.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pfdk_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfdk_profile prof; /* ~60 KiB: not on the stack */
	const struct pfdk_profile_check check = { .ncpus = 16 };
	char err[512], eal[4096];
	int ret;

	memset(err, 0x55, sizeof(err));
	ret = pfdk_profile_load_string("fuzz", (const char *)data, size, &prof,
				       &check, err, sizeof(err));
	if (ret != 0) {
		/* every failure explains itself, in a terminated string */
		if ((ret != -EINVAL && ret != -ENOMEM) ||
		    memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	/* a loaded profile is usable: it maps to EAL lcores and its nodes */
	if (pfdk_profile_eal_lcores(&prof, eal, sizeof(eal)) <= 0)
		abort();
	for (unsigned int i = 0; i < prof.nb_lcores; i++)
		if (pfdk_profile_node(&prof, prof.lcores[i].node) == NULL)
			abort();
	return 0;
}
