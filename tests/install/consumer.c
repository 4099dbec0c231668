/* SPDX-License-Identifier: BSD-3-Clause */
/* Built against an installed PFDK through pkg-config: headers and symbols. */
#include <stdio.h>

#include <pfdk_fault.h>
#include <pfdk_profile.h>

int
main(void)
{
	char err[256];

	if (pfdk_fault_devargs_check("sim0,groups=4", err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("installed PFDK works: %s\n", pfdk_layout_name(PFDK_LAYOUT_RTC));
	return 0;
}
