/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PROFILE_PRIV_H
#define PFDK_PROFILE_PRIV_H

/**
 * @file
 * @internal
 * Shared by the profile loader's own files; not installed.
 * pfdk_profile_text.c scans the text and words errors with their line;
 * pfdk_profile.c parses the sections rte_cfgfile returns.
 */

#include <stdbool.h>
#include <stddef.h>

#include <rte_common.h>
#include <rte_cfgfile.h>

#include "pfdk_profile.h"

/*
 * rte_cfgfile_load() reads each line with fgets() into
 * CFG_NAME_LEN + CFG_VALUE_LEN + 4 bytes and fails on a line that does not
 * fit there with its '\n': at most this many characters before the '\n'.
 */
#define PF_LINE_MAX (CFG_NAME_LEN + CFG_VALUE_LEN + 2)
#define PF_MAX_SECTIONS (1 + PFDK_PROFILE_MAX_NODES + \
			 PFDK_PROFILE_MAX_DEVICES + PFDK_PROFILE_MAX_LCORES)

/** @internal State of one load, from the text to the last check. */
struct pf_ctx {
	const char *file;          /* name in messages */
	const char *text;
	size_t len;
	unsigned int ncpus;
	bool no_driver_checks;
	bool runtime_devices;      /* pfdk_profile_check's */
	uint32_t engines, layouts; /* pfdk_profile_check's; 0: all */
	bool node_ok[RTE_MAX_NUMA_NODES]; /* nodes the host has */
	char *err;
	size_t errlen;
	struct pfdk_profile *prof;
	unsigned int nb_sect;
	unsigned int sect_line[PF_MAX_SECTIONS]; /* header line per section */
	unsigned int pfdk_line;    /* 0: no [pfdk] seen yet */
	/* lcores' queues = values, resolved once every device is known */
	char queues[PFDK_PROFILE_MAX_LCORES][CFG_VALUE_LEN];
	/* per [device.*]: can resolve in the faulting threads (sigbus=1) */
	bool dev_inthread[PFDK_PROFILE_MAX_DEVICES];
};

/** @internal Line of a key in a section; see pfdk_profile_text.c. */
unsigned int pf_key_line(const struct pf_ctx *c, unsigned int sect_line,
			 const char *key, unsigned int nth);

/** @internal Error on @p key's line in a section (NULL: the header's); -EINVAL. */
int pf_at(struct pf_ctx *c, unsigned int sect_line, const char *key,
	  const char *fmt, ...) __rte_format_printf(4, 5);

/** @internal Same, on a line the caller found (a repeated key); -EINVAL. */
int pf_at_line(struct pf_ctx *c, unsigned int line, unsigned int sect_line,
	       const char *key, const char *fmt, ...) __rte_format_printf(5, 6);

/** @internal Check the text before rte_cfgfile sees it; fills c->sect_line[]. */
int pf_scan(struct pf_ctx *c);

#endif /* PFDK_PROFILE_PRIV_H */
