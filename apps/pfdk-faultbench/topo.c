/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The machine's CPU topology, as the bench places generated rows by it:
 * which CPUs are online and allowed to this process, each CPU's NUMA node
 * (sysfs node directories, the layout libnuma reads too) and physical
 * core (core_id within physical_package_id, so SMT siblings are known).
 *
 * Read from sysfs under $PFDK_SYSFS_ROOT when set (a test describes a
 * 16-CPU two-node machine in a directory and looks at the rows with
 * --dry-run); then every online CPU counts as allowed, since this
 * process's affinity mask is that of the real machine.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultbench.h"

int
fb_cpulist_parse(const char *s, cpu_set_t *set)
{
	const char *p = s;
	char *end;
	unsigned long a, b, c;

	CPU_ZERO(set);
	if (*p == '\0' || *p == '\n')
		return -1;
	while (*p != '\0' && *p != '\n') {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		a = strtoul(p, &end, 10);
		b = a;
		if (errno != 0)
			return -1;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -1;
			b = strtoul(p, &end, 10);
			if (errno != 0 || b < a)
				return -1;
		}
		if (b >= FB_MAX_CPUS)
			return -1;
		for (c = a; c <= b; c++)
			CPU_SET(c, set);
		p = end;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return -1;
		} else if (*p != '\0' && *p != '\n') {
			return -1;
		}
	}
	return 0;
}

int
fb_cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t n = 0;
	int c, e;

	buf[0] = '\0';
	for (c = 0; c < FB_MAX_CPUS; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		for (e = c; e + 1 < FB_MAX_CPUS && CPU_ISSET(e + 1, set); e++)
			;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      e > c ? "%s%d-%d" : "%s%d", n ? "," : "", c, e);
		c = e;
	}
	return n < len ? 0 : -1;
}

/* The first line of ROOT/sys/@p rel into @p buf; -1 when unreadable. */
static int
sys_read(const char *root, const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/%s", root, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int
sys_int(const char *root, const char *rel, int dflt)
{
	char buf[32], *end;
	long v;

	if (sys_read(root, rel, buf, sizeof(buf)) < 0)
		return dflt;
	v = strtol(buf, &end, 10);
	return end == buf ? dflt : (int)v;
}

int
fb_topo_load(struct fb_topo *t)
{
	const char *root = getenv("PFDK_SYSFS_ROOT");
	char buf[4096], rel[128];
	cpu_set_t set, aff;
	struct dirent *de;
	DIR *d;
	int c;

	memset(t, 0, sizeof(*t));
	t->fake = root != NULL && root[0] != '\0';
	if (!t->fake)
		root = "";
	if (sys_read(root, "devices/system/cpu/online", buf, sizeof(buf)) < 0 ||
	    fb_cpulist_parse(buf, &t->online) < 0) {
		/* No sysfs: the CPUs this process may use, one node, one core each. */
		if (t->fake || sched_getaffinity(0, sizeof(aff), &aff) != 0)
			return -1;
		t->online = aff;
	}
	t->allowed = t->online;
	if (!t->fake && sched_getaffinity(0, sizeof(aff), &aff) == 0)
		CPU_AND(&t->allowed, &t->online, &aff);
	for (c = 0; c < FB_MAX_CPUS; c++) {
		t->node[c] = 0;
		if (!CPU_ISSET(c, &t->online))
			continue;
		t->ncpus = (unsigned int)c + 1;
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/core_id", c);
		t->core[c] = sys_int(root, rel, c);
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/topology/physical_package_id", c);
		t->pkg[c] = sys_int(root, rel, 0);
	}
	t->nnodes = 1;
	snprintf(rel, sizeof(rel), "%s/sys/devices/system/node", root);
	d = opendir(rel);
	while (d != NULL && (de = readdir(d)) != NULL) {
		int n;
		char *end;

		if (strncmp(de->d_name, "node", 4) != 0)
			continue;
		n = (int)strtol(de->d_name + 4, &end, 10);
		if (end == de->d_name + 4 || *end != '\0' || n < 0 || n >= 1024)
			continue;
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/cpulist", n);
		if (sys_read(root, rel, buf, sizeof(buf)) < 0 || fb_cpulist_parse(buf, &set) < 0)
			continue;
		for (c = 0; c < FB_MAX_CPUS; c++)
			if (CPU_ISSET(c, &set))
				t->node[c] = n;
		if ((unsigned int)n + 1 > t->nnodes)
			t->nnodes = (unsigned int)n + 1;
	}
	if (d != NULL)
		closedir(d);
	return 0;
}

int
fb_topo_pick(const struct fb_topo *t, const cpu_set_t *avoid, int near,
	     const cpu_set_t *within)
{
	int c, k, best = -1, best_score = -1;

	for (c = 0; c < FB_MAX_CPUS; c++) {
		int score = 0;
		bool sibling = false;

		if (!CPU_ISSET(c, &t->allowed) || CPU_ISSET(c, avoid) ||
		    (within != NULL && !CPU_ISSET(c, within)))
			continue;
		/* Same node as @p near first: the pages and rings stay local. */
		if (near >= 0 && t->node[c] == t->node[near])
			score += 2;
		/* Then a core of its own: an SMT sibling shares the pipeline. */
		for (k = 0; k < FB_MAX_CPUS && !sibling; k++)
			sibling = CPU_ISSET(k, avoid) && CPU_ISSET(k, &t->online) &&
				t->core[k] == t->core[c] && t->pkg[k] == t->pkg[c];
		if (!sibling)
			score += 1;
		if (score > best_score) {
			best_score = score;
			best = c;
		}
	}
	return best;
}
