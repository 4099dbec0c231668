/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's rows: every row kind in one table (fb_mode_defs[]),
 * and the lookups the options, the profiles and the runs use.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "pfdk_profile.h"

#include "faultbench.h"

/*
 * Every row kind, in --help's order: its name, what runs it, and what the
 * lists (--help, the errors' mode lists, the default --modes, the JSON's
 * "engine" of a baseline) say of it. Adding a row is one line here.
 */
const struct fb_mode_def fb_mode_defs[] = {
	{ "pfdk", FB_ROW_PFDK, -1, -1, false, false, false, NULL,
	  "the profile's own layout, lcores and engines" },
	{ "pfdk-rtc", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY, false, true, true, NULL,
	  "run to completion: one busy poller resolves and answers" },
	{ "pfdk-pipeline", FB_ROW_PFDK, PFDK_LAYOUT_PIPELINE, PFDK_ENGINE_BUSY, false, true, false,
	  NULL, "pollers hand faults through a ring to resolvers" },
	{ "pfdk-colocated", FB_ROW_PFDK, PFDK_LAYOUT_COLOCATED, PFDK_ENGINE_EPOLL, false, true,
	  true, NULL, "an epoll poller on the faulters' CPU" },
	{ "pfdk-busy", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_BUSY, false, false, false, NULL,
	  "rtc, non-blocking read spin" },
	{ "pfdk-epoll", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_EPOLL, false, false, false, NULL,
	  "rtc, epoll (sleeps)" },
	{ "pfdk-uring", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_URING, false, false, false, NULL,
	  "rtc, io_uring with SQPOLL (SQ thread beside main_cpu)" },
	{ "pfdk-uring-nosqpoll", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_URING_NOSQPOLL, false,
	  false, false, NULL, "rtc, io_uring, completion queue spun" },
	/* uffd only: SIGBUS in the faulting thread; -fa adds fault-around. */
	{ "pfdk-inthread", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_INTHREAD, true, false, true,
	  NULL, "the faulting thread resolves its own fault (SIGBUS)" },
	{ "pfdk-inthread-fa", FB_ROW_PFDK, PFDK_LAYOUT_RTC, PFDK_ENGINE_INTHREAD, true, false,
	  false, NULL, "pfdk-inthread filling --fault-around pages after each fault" },
	/* The hand-written handlers PFDK is measured against (uffd only). */
	{ "classic", FB_ROW_BASELINE, -1, -1, true, false, true, "poll+read, other CPU",
	  "poll()+read()+UFFDIO_COPY thread on the handler CPU" },
	{ "classic-colocated", FB_ROW_BASELINE, -1, -1, true, false, true,
	  "poll+read, faulters' CPU", "the same thread on the faulters' CPU" },
	{ "epoll-many", FB_ROW_BASELINE, -1, -1, true, false, true, "epoll+read",
	  "one epoll thread over every uffd" },
	{ "sigbus", FB_ROW_BASELINE, -1, -1, true, false, true, "sigbus in the faulting thread",
	  "UFFD_FEATURE_SIGBUS, COPY in the faulting thread's handler" },
	{ "native", FB_ROW_BASELINE, -1, -1, true, false, true, "kernel first touch",
	  "no userfaultfd: the kernel's own first touch (the floor)" },
	/* The hand-written fault-FD handlers, --mock rows beside PFDK's. */
	{ "fd-spin", FB_ROW_FD_BASELINE, -1, -1, false, false, false, "spin read+write",
	  "non-blocking read() spun, write() per burst" },
	{ "fd-poll", FB_ROW_FD_BASELINE, -1, -1, false, false, false, "poll+read+write",
	  "poll() then read() and write() per burst" },
	{ "fd-epoll", FB_ROW_FD_BASELINE, -1, -1, false, false, false, "epoll+read+write",
	  "epoll_wait() then read() and write() per burst" },
};

const unsigned int fb_nb_mode_defs = RTE_DIM(fb_mode_defs);

const struct fb_mode_def *
fb_row_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < fb_nb_mode_defs; i++)
		if (strcmp(fb_mode_defs[i].name, name) == 0)
			return &fb_mode_defs[i];
	return NULL;
}

/* Which fault-FD handler @p m is (0: spin, 1: poll, 2: epoll), or -1. */
int
fb_fd_baseline_find(const char *m)
{
	const struct fb_mode_def *md = fb_row_find(m);
	int b = 0;

	if (md == NULL || md->kind != FB_ROW_FD_BASELINE)
		return -1;
	while (md > fb_mode_defs && md[-1].kind == FB_ROW_FD_BASELINE) {
		md--;
		b++;
	}
	return b;
}

bool
fb_is_baseline(const char *mode)
{
	const struct fb_mode_def *md = fb_row_find(mode);

	return md != NULL && md->kind == FB_ROW_BASELINE;
}

/* Every mode's name, for messages: "pfdk, pfdk-rtc, ...". */
void
fb_mode_names(char *buf, size_t len, bool uffd_only)
{
	size_t n = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < fb_nb_mode_defs; i++)
		if ((fb_mode_defs[i].kind == FB_ROW_PFDK &&
		     fb_mode_defs[i].uffd_only == uffd_only) ||
		    (fb_mode_defs[i].kind == FB_ROW_BASELINE && uffd_only))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? ", " : "", fb_mode_defs[i].name);
}

/* A PFDK row's layout and engine; NULL for a baseline or an unknown name. */
const struct fb_mode_def *
fb_mode_find(const char *name)
{
	const struct fb_mode_def *md = fb_row_find(name);

	return md != NULL && md->kind == FB_ROW_PFDK ? md : NULL;
}

void
fb_default_modes(struct fb_opts *o, bool uffd)
{
	unsigned int i;

	for (i = 0; i < fb_nb_mode_defs; i++)
		if (uffd ? fb_mode_defs[i].def_uffd : fb_mode_defs[i].def_sim)
			strcpy(o->modes[o->nb_modes++], fb_mode_defs[i].name);
}
