/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Profile loader.
 *
 * rte_cfgfile parses; this file adds what a deployment file needs on top:
 *
 * - Line numbers. rte_cfgfile keeps none, so the text stays in memory and is
 *   scanned again (pfdk_profile_text.c) when an error needs a line: the
 *   Nth "[section]" header of the text is rte_cfgfile's section N, and a
 *   key's line is its first "key =" after that header. When the key is not
 *   in the section (a missing required key, a default that fails a check)
 *   the header's line is used.
 * - Strictness. rte_cfgfile skips a line with neither '[' nor '=' without a
 *   word ("burst 32"), ignores text after ']' and truncates long names and
 *   values. pf_scan() rejects all of these before rte_cfgfile sees the text,
 *   and cuts lines by rte_cfgfile's own rules (';' comments unless written
 *   "\;", isspace() trimming, PF_LINE_MAX) so that both agree on every line
 *   and rte_cfgfile_load() itself never fails on a text pf_scan() passed.
 * - One path. pfdk_profile_load() reads the file once and hands its text to
 *   the code behind pfdk_profile_load_string(); rte_cfgfile_load() wants a
 *   path, so the text goes through a memfd opened as /proc/self/fd/N.
 *
 * Nodes: an lcore whose node has no [node.N] section gets one with the
 * defaults (line 0), so the pipeline finds a pool and ring size for every
 * lcore's node with pfdk_profile_node(). A node must exist on the host
 * (libnuma's configured nodes), or the check's nnodes.
 *
 * Devices: each devargs goes through the fault drivers' own checker
 * (pfdk_fault_devargs_info(): the registry's parameter string and the
 * driver's parse callback, no device is created), which also says how many
 * queues the device will take and whether it can resolve in the faulting
 * threads, so what pfdk_fault_dev_create() or configure would refuse at
 * start is refused here with its line.
 *
 * The file is longer than most because the messages are the feature: each
 * check names its section and key and says why the value is wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create(); meson defines it, the fuzz build may not */
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <numa.h>

#include <rte_config.h>
#include <rte_cfgfile.h>
#include <rte_log.h>
#include <rte_string_fns.h>

#include "pfdk_fault.h"
#include "pfdk_profile_priv.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_profile_logtype, profile, INFO);

/*
 * Entries fetched per section. The largest section knows 6 keys, so among
 * any 7 entries one is unknown or a duplicate: pf_keys() always finds the
 * first bad entry without the rest of a long section being read.
 */
#define PF_MAX_KEYS 8
#define PF_MAX_TEXT (1u << 20)   /* a profile is a few KiB; refuse junk */
#define PF_SIZE_MAX (1ul << 30)  /* pool and ring sanity bound */
/*
 * rte_mempool keeps its free objects in an rte_ring of
 * rte_align32pow2(n + 1) slots, and an rte_ring has at most
 * RTE_RING_SZ_MASK (2^31 - 1): a pool of 2^30 or more cannot be created.
 */
#define PF_POOL_MAX ((1ul << 30) - 1)

/* One section as fetched from rte_cfgfile. */
struct pf_sect {
	char name[CFG_NAME_LEN];
	unsigned int line;
	int nb;     /* entries in ent[] */
	int total;  /* entries in the section */
	struct rte_cfgfile_entry ent[PF_MAX_KEYS];
};

/* Most engines the registry may hold for the profile's name list. */
#define PF_MAX_ENGINES 16

static const char *const layout_names[] = { "rtc", "pipeline", "colocated", "inthread" };
static const char *const role_names[] = { "poller", "resolver" };

/* Value parsing. */

static const char *
pf_val(const struct pf_sect *s, const char *key)
{
	int i;

	for (i = 0; i < s->nb; i++)
		if (strcmp(s->ent[i].name, key) == 0)
			return s->ent[i].value;
	return NULL;
}

/*
 * Strict decimal: digits only (no sign, space, or base prefix). Too large
 * reads as ULONG_MAX so the caller's range check words the error.
 * @p canonical also refuses leading zeros (ids in section names, which
 * messages rebuild with "%u").
 */
static bool
pf_strtoul(const char *str, bool canonical, unsigned long *out)
{
	char *end;

	*out = 0;
	if (!isdigit((unsigned char)str[0]))
		return false;
	if (canonical && str[0] == '0' && str[1] != '\0')
		return false;
	errno = 0;
	*out = strtoul(str, &end, 10);
	if (*end != '\0')
		return false;
	if (errno == ERANGE)
		*out = ULONG_MAX;
	return true;
}

/* @p key as a number in [min, max]; @p dflt when absent. */
static int
pf_num(struct pf_ctx *c, const struct pf_sect *s, const char *key,
       unsigned long min, unsigned long max, unsigned long dflt,
       unsigned long *out)
{
	const char *v = pf_val(s, key);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!pf_strtoul(v, false, out))
		return pf_at(c, s->line, key, "'%s' is not a number", v);
	if (*out < min || *out > max)
		return pf_at(c, s->line, key, "%s is out of range %lu..%lu",
			     v, min, max);
	return 0;
}

/* A CPU id that must exist on the host being checked. */
static int
pf_cpu(struct pf_ctx *c, const struct pf_sect *s, const char *key, int *cpu)
{
	unsigned long v;
	int ret;

	ret = pf_num(c, s, key, 0, INT_MAX, (unsigned long)*cpu, &v);
	if (ret < 0)
		return ret;
	if (pf_val(s, key) != NULL && v >= c->ncpus)
		return pf_at(c, s->line, key,
			     "CPU %lu does not exist on a %u-CPU host (0..%u)",
			     v, c->ncpus, c->ncpus - 1);
	*cpu = (int)v;
	return 0;
}

static int
pf_enum(struct pf_ctx *c, const struct pf_sect *s, const char *key,
	const char *const *names, unsigned int nb, int *out)
{
	const char *v = pf_val(s, key);
	char list[128] = "";
	unsigned int i;

	if (v == NULL)
		return 0;
	for (i = 0; i < nb; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
		strlcat(list, i == 0 ? "" : ", ", sizeof(list));
		strlcat(list, names[i], sizeof(list));
	}
	return pf_at(c, s->line, key, "'%s' is not one of: %s", v, list);
}

/* "a, b": the names whose bit is in @p mask, into @p list. */
static const char *
pf_mask_names(uint32_t mask, const char *const *names, unsigned int nb, char *list, size_t len)
{
	unsigned int i;

	list[0] = '\0';
	for (i = 0; i < nb && i < 32; i++) {
		if (!(mask & (1u << i)))
			continue;
		strlcat(list, list[0] == '\0' ? "" : ", ", len);
		strlcat(list, names[i], len);
	}
	return list;
}

/* Numeric id after the section prefix, e.g. "lcore.3". */
static int
pf_id(struct pf_ctx *c, const struct pf_sect *s, size_t prefix,
      const char *what, unsigned long max, unsigned long *id)
{
	if (!pf_strtoul(s->name + prefix, true, id) || *id > max)
		return pf_at(c, s->line, NULL,
			     "'%s' is not a %s in 0..%lu (decimal, no leading zeros)",
			     s->name + prefix, what, max);
	return 0;
}

/* Unknown and duplicate keys, in file order. */
static int
pf_keys(struct pf_ctx *c, const struct pf_sect *s, const char *const *keys)
{
	char list[128] = "";
	unsigned int nth;
	int i, j, k;

	for (i = 0; i < s->nb; i++) {
		const char *name = s->ent[i].name;

		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(name, keys[k]) == 0)
				break;
		if (keys[k] == NULL) {
			for (k = 0; keys[k] != NULL; k++) {
				strlcat(list, k == 0 ? "" : ", ", sizeof(list));
				strlcat(list, keys[k], sizeof(list));
			}
			return pf_at(c, s->line, name,
				     "unknown key (this section takes: %s)", list);
		}
		for (nth = 0, j = 0; j < i; j++)
			nth += strcmp(name, s->ent[j].name) == 0;
		if (nth > 0)
			return pf_at_line(c, pf_key_line(c, s->line, name, nth),
					  s->line, name,
					  "duplicate key (first at line %u)",
					  pf_key_line(c, s->line, name, 0));
	}
	if (s->total > s->nb) /* cannot happen: see PF_MAX_KEYS */
		return pf_at(c, s->line, NULL, "too many keys");
	return 0;
}

/* Node @p id does not exist here: the nodes it has, in the message. */
static int
pf_no_node(struct pf_ctx *c, unsigned int sect_line, const char *key,
	   unsigned long id)
{
	char list[128] = "";
	unsigned int i;

	for (i = 0; i < RTE_MAX_NUMA_NODES; i++) {
		if (!c->node_ok[i])
			continue;
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%u", list[0] != '\0' ? ", " : "", i);
	}
	return pf_at(c, sect_line, key,
		     "NUMA node %lu does not exist on this host (its nodes: %s)",
		     id, list);
}

/* Sections. */

static int
pf_pfdk(struct pf_ctx *c, const struct pf_sect *s)
{
	static const char *const keys[] = {
		"name", "layout", "burst", "main_cpu", NULL };
	struct pfdk_profile *prof = c->prof;
	unsigned long v;
	const char *name;
	char list[128];
	int ret, layout = prof->layout;

	if (c->pfdk_line != 0)
		return pf_at(c, s->line, NULL,
			     "duplicate section (first at line %u)", c->pfdk_line);
	c->pfdk_line = s->line;
	ret = pf_keys(c, s, keys);
	if (ret < 0)
		return ret;
	name = pf_val(s, "name");
	if (name != NULL) {
		if (strlen(name) >= sizeof(prof->name))
			return pf_at(c, s->line, "name",
				     "longer than %zu characters",
				     sizeof(prof->name) - 1);
		strlcpy(prof->name, name, sizeof(prof->name));
	}
	ret = pf_enum(c, s, "layout", layout_names, RTE_DIM(layout_names),
		      &layout);
	if (ret < 0)
		return ret;
	prof->layout = (enum pfdk_layout)layout;
	if (c->layouts != 0 && !(c->layouts & (1u << layout)))
		return pf_at(c, s->line, "layout",
			     "%s is not a layout this application runs (it runs: %s)",
			     layout_names[layout], pf_mask_names(c->layouts, layout_names,
								 RTE_DIM(layout_names), list,
								 sizeof(list)));
	ret = pf_num(c, s, "burst", 1, PFDK_PROFILE_MAX_BURST, 32, &v);
	if (ret < 0)
		return ret;
	prof->burst = (uint16_t)v;
	return pf_cpu(c, s, "main_cpu", &prof->main_cpu);
}

static int
pf_node(struct pf_ctx *c, const struct pf_sect *s)
{
	static const char *const keys[] = {
		"pool_size", "pool_cache", "ring_size", NULL };
	struct pfdk_profile *prof = c->prof;
	const struct pfdk_profile_node *old;
	struct pfdk_profile_node *nd;
	unsigned long id = 0, size, cache, ring;
	int ret;

	ret = pf_id(c, s, strlen("node."), "NUMA node id",
		    RTE_MAX_NUMA_NODES - 1, &id);
	if (ret < 0)
		return ret;
	if (!c->node_ok[id])
		return pf_no_node(c, s->line, NULL, id);
	old = pfdk_profile_node(prof, (int)id);
	if (old != NULL)
		return pf_at(c, s->line, NULL,
			     "duplicate section (first at line %u)", old->line);
	if (prof->nb_nodes == PFDK_PROFILE_MAX_NODES)
		return pf_at(c, s->line, NULL, "more than %d [node.*] sections",
			     PFDK_PROFILE_MAX_NODES);
	ret = pf_keys(c, s, keys);
	if (ret == 0)
		ret = pf_num(c, s, "pool_size", 1, PF_SIZE_MAX, 8191, &size);
	if (ret == 0)
		ret = pf_num(c, s, "pool_cache", 0, RTE_MEMPOOL_CACHE_MAX_SIZE,
			     256, &cache);
	if (ret == 0)
		ret = pf_num(c, s, "ring_size", 2, PF_SIZE_MAX, 1024, &ring);
	if (ret < 0)
		return ret;
	if (size > PF_POOL_MAX)
		return pf_at(c, s->line, "pool_size",
			     "%lu descriptors do not fit rte_mempool's own rte_ring (%lu at most: it keeps them in a ring of the next power of 2 above pool_size, and a ring holds at most 2^31 - 1)",
			     size, PF_POOL_MAX);
	if (ring & (ring - 1))
		return pf_at(c, s->line, "ring_size",
			     "%lu is not a power of 2 (rte_ring sizes must be)",
			     ring);
	/* rte_mempool_create() refuses a cache above size / 1.5 */
	if (cache * 3 > size * 2)
		return pf_at(c, s->line, "pool_cache",
			     "%lu is more than pool_size / 1.5 (%lu): rte_mempool_create() would refuse it",
			     cache, size * 2 / 3);
	nd = &prof->nodes[prof->nb_nodes++];
	nd->node = (int)id;
	nd->pool_size = (uint32_t)size;
	nd->pool_cache = (uint32_t)cache;
	nd->ring_size = (uint32_t)ring;
	nd->line = s->line;
	return 0;
}

static int
pf_device(struct pf_ctx *c, const struct pf_sect *s)
{
	static const char *const keys[] = { "devargs", "queues", NULL };
	struct pfdk_profile *prof = c->prof;
	const char *name = s->name + strlen("device."), *devargs;
	size_t nlen = strlen(name);
	struct pfdk_profile_device *dev;
	unsigned long q;
	unsigned int i;
	int ret;

	if (c->runtime_devices)
		return pf_at(c, s->line, NULL,
			     "this application creates its devices at run time: a profile for it has no [device.*] section");
	/* ':' and ',' would break "queues = DEV:Q, ..." and devargs */
	if (nlen == 0 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != nlen)
		return pf_at(c, s->line, NULL,
			     "device name must be letters, digits, '_', '.' or '-'");
	for (i = 0; i < prof->nb_devices; i++)
		if (strcmp(prof->devices[i].name, name) == 0)
			return pf_at(c, s->line, NULL,
				     "duplicate section (first at line %u)",
				     prof->devices[i].line);
	if (prof->nb_devices == PFDK_PROFILE_MAX_DEVICES)
		return pf_at(c, s->line, NULL,
			     "more than %d [device.*] sections",
			     PFDK_PROFILE_MAX_DEVICES);
	ret = pf_keys(c, s, keys);
	if (ret == 0)
		ret = pf_num(c, s, "queues", 1, UINT16_MAX, 1, &q);
	if (ret < 0)
		return ret;
	/* pfdk_fault_dev_create() finds the driver by the devargs' name */
	devargs = pf_val(s, "devargs");
	if (devargs == NULL)
		devargs = name;
	else if (strncmp(devargs, name, nlen) != 0 ||
		 (devargs[nlen] != '\0' && devargs[nlen] != ','))
		return pf_at(c, s->line, "devargs",
			     "'%s' must start with the device name: '%s' or '%s,...'",
			     devargs, name, name);
	if (!c->no_driver_checks) {
		struct pfdk_fault_devargs_info info;
		char why[384];

		/* what pfdk_fault_dev_create() and configure would refuse */
		if (pfdk_fault_devargs_info(devargs, &info, why, sizeof(why)) < 0)
			return pf_at(c, s->line, "devargs", "%s", why);
		if (q > info.max_queues)
			return pf_at(c, s->line, "queues",
				     "%lu queues, but driver %s gives %s at most %u",
				     q, info.driver, info.name, info.max_queues);
		c->dev_inthread[prof->nb_devices] = info.inthread;
	}
	dev = &prof->devices[prof->nb_devices++];
	strlcpy(dev->name, name, sizeof(dev->name));
	strlcpy(dev->devargs, devargs, sizeof(dev->devargs));
	dev->nb_queues = (uint16_t)q;
	dev->line = s->line;
	return 0;
}

/* Pollers' settings; resolvers take none of these keys. */
static int
pf_poller(struct pf_ctx *c, const struct pf_sect *s,
	  struct pfdk_profile_lcore *lc, char *queues)
{
	const char *names[PF_MAX_ENGINES], *q;
	char list[128];
	int ret, engine = PFDK_ENGINE_BUSY;
	unsigned int i, nb = RTE_MIN(pfdk_engine_count(), RTE_DIM(names));

	/* The engines are the registry's: its names, in its order. */
	for (i = 0; i < nb; i++)
		names[i] = pfdk_engine_name((enum pfdk_engine)i);
	ret = pf_enum(c, s, "engine", names, nb, &engine);
	if (ret < 0)
		return ret;
	lc->engine = (enum pfdk_engine)engine;
	if (c->engines != 0 && !(c->engines & (1u << engine)))
		return pf_at(c, s->line, "engine",
			     "%s is not an engine this application runs (it runs: %s)",
			     names[engine], pf_mask_names(c->engines, names, nb, list,
							     sizeof(list)));
	if (pf_val(s, "sqpoll_cpu") != NULL) {
		if (!pfdk_engine_sqpoll(lc->engine))
			return pf_at(c, s->line, "sqpoll_cpu",
				     "only engine = uring has an SQPOLL thread (engine is %s)",
				     names[engine]);
		ret = pf_cpu(c, s, "sqpoll_cpu", &lc->sqpoll_cpu);
		if (ret < 0)
			return ret;
		if (lc->sqpoll_cpu == lc->cpu)
			return pf_at(c, s->line, "sqpoll_cpu",
				     "%d is the poller's own cpu: the SQ thread would compete with its own poller (measured: 125 faults/s)",
				     lc->cpu);
	} else if (pfdk_engine_sqpoll(lc->engine)) {
		return pf_at(c, s->line, "engine",
			     "%s needs sqpoll_cpu: the SQPOLL thread's placement decides the tail latency, so it must be explicit",
			     names[engine]);
	}
	q = pf_val(s, "queues");
	if (c->runtime_devices) {
		/* the application gives its pollers the devices it creates */
		if (q != NULL)
			return pf_at(c, s->line, "queues",
				     "this application creates its devices at run time and hands them to its pollers: a poller names no queues");
		queues[0] = '\0';
		return 0;
	}
	if (q == NULL)
		return pf_at(c, s->line, "queues",
			     "missing: a poller owns at least one queue (queues = DEVICE:QUEUE, ...)");
	strlcpy(queues, q, CFG_VALUE_LEN);
	return 0;
}

static int
pf_lcore(struct pf_ctx *c, const struct pf_sect *s)
{
	static const char *const keys[] = { "role", "cpu", "node", "engine",
		"queues", "sqpoll_cpu", NULL };
	static const char *const poller_only[] = {
		"engine", "queues", "sqpoll_cpu" };
	struct pfdk_profile *prof = c->prof;
	struct pfdk_profile_lcore *lc;
	unsigned long id = 0, node;
	unsigned int i;
	int ret, role = -1;

	ret = pf_id(c, s, strlen("lcore."), "lcore id", RTE_MAX_LCORE - 1, &id);
	if (ret < 0)
		return ret;
	if (id == 0)
		return pf_at(c, s->line, NULL,
			     "lcore 0 is the main lcore: place it with [pfdk] main_cpu");
	for (i = 0; i < prof->nb_lcores; i++)
		if (prof->lcores[i].lcore_id == id)
			return pf_at(c, s->line, NULL,
				     "duplicate lcore id %lu (first at line %u)",
				     id, prof->lcores[i].line);
	ret = pf_keys(c, s, keys);
	if (ret < 0)
		return ret;
	if (pf_val(s, "role") == NULL)
		return pf_at(c, s->line, "role", "missing (poller or resolver)");
	ret = pf_enum(c, s, "role", role_names, RTE_DIM(role_names), &role);
	if (ret < 0)
		return ret;
	if (role == PFDK_ROLE_RESOLVER)
		for (i = 0; i < RTE_DIM(poller_only); i++)
			if (pf_val(s, poller_only[i]) != NULL)
				return pf_at(c, s->line, poller_only[i],
					     "resolvers have no %s: only pollers own queues and engines",
					     poller_only[i]);
	/* ids 1..RTE_MAX_LCORE-1 are unique, so this slot always exists */
	lc = &prof->lcores[prof->nb_lcores];
	memset(lc, 0, sizeof(*lc));
	lc->lcore_id = (unsigned int)id;
	lc->role = (enum pfdk_role)role;
	lc->engine = PFDK_ENGINE_BUSY;
	lc->sqpoll_cpu = -1;
	lc->line = s->line;
	if (pf_val(s, "cpu") == NULL)
		return pf_at(c, s->line, "cpu",
			     "missing: every lcore is pinned to one CPU");
	lc->cpu = -1;
	ret = pf_cpu(c, s, "cpu", &lc->cpu);
	if (ret == 0)
		ret = pf_num(c, s, "node", 0, RTE_MAX_NUMA_NODES - 1, 0, &node);
	if (ret < 0)
		return ret;
	if (!c->node_ok[node])
		return pf_no_node(c, s->line, "node", node);
	lc->node = (int)node;
	if (role == PFDK_ROLE_POLLER) {
		ret = pf_poller(c, s, lc, c->queues[prof->nb_lcores]);
		if (ret < 0)
			return ret;
	}
	prof->nb_lcores++;
	return 0;
}

/* Second pass: what needs every section read first. */

/* "DEV:Q, DEV:Q" into lc->queues[]. */
/* "A-B" or "N" into lo..hi; false if neither. */
static bool
pf_range(const char *str, unsigned long *lo, unsigned long *hi)
{
	char tmp[32];
	const char *dash = strchr(str, '-');

	if (dash == NULL) {
		if (!pf_strtoul(str, false, lo))
			return false;
		*hi = *lo;
		return true;
	}
	if ((size_t)(dash - str) >= sizeof(tmp))
		return false;
	memcpy(tmp, str, (size_t)(dash - str));
	tmp[dash - str] = '\0';
	return pf_strtoul(tmp, false, lo) && pf_strtoul(dash + 1, false, hi) &&
		*lo <= *hi;
}

/* One DEVICE:QUEUE pair of a poller's queues. */
static int
pf_queue_add(struct pf_ctx *c, struct pfdk_profile_lcore *lc, const char *name,
	     const char *qspec)
{
	const struct pfdk_profile *prof = c->prof;
	const struct pfdk_profile_device *dev;
	unsigned long q, qlo, qhi;
	unsigned int d;

	for (d = 0; d < prof->nb_devices; d++)
		if (strcmp(prof->devices[d].name, name) == 0)
			break;
	if (d == prof->nb_devices)
		return pf_at(c, lc->line, "queues",
			     "unknown device '%s': there is no [device.%s]",
			     name, name);
	dev = &prof->devices[d];
	if (strcmp(qspec, "*") == 0) {
		qlo = 0;
		qhi = dev->nb_queues - 1u;
	} else if (!pf_range(qspec, &qlo, &qhi)) {
		return pf_at(c, lc->line, "queues",
			     "'%s' in '%s:%s' is not a queue id, a range A-B or *",
			     qspec, name, qspec);
	}
	if (qhi >= dev->nb_queues)
		return pf_at(c, lc->line, "queues",
			     "queue %s is out of range: %s has %u queue(s), 0..%u",
			     qspec, name, dev->nb_queues, dev->nb_queues - 1u);
	for (q = qlo; q <= qhi; q++) {
		if (lc->nb_queues == PFDK_PROFILE_MAX_QUEUES)
			return pf_at(c, lc->line, "queues",
				     "more than %d queues", PFDK_PROFILE_MAX_QUEUES);
		lc->queues[lc->nb_queues].dev = (uint16_t)d;
		lc->queues[lc->nb_queues].queue = (uint16_t)q;
		lc->nb_queues++;
	}
	return 0;
}

/*
 * "DEV:Q, ..." where Q may be a range A-B or * (all the device's queues),
 * and DEV may be PREFIX[A-B] for devices PREFIXA..PREFIXB, so a poller of
 * many devices fits rte_cfgfile's 256-character value.
 */
static int
pf_queues(struct pf_ctx *c, struct pfdk_profile_lcore *lc, const char *raw)
{
	char buf[CFG_VALUE_LEN], *p = buf, *comma, *colon, *end, *br;
	char name[PFDK_PROFILE_NAME_LEN + 16];
	unsigned long lo, hi, i;
	int ret;

	strlcpy(buf, raw, sizeof(buf));
	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p == '\0')
			return pf_at(c, lc->line, "queues",
				     "empty entry in '%s'", raw);
		colon = strchr(p, ':');
		if (colon == NULL)
			return pf_at(c, lc->line, "queues",
				     "'%s' is not DEVICE:QUEUE", p);
		*colon = '\0';
		br = strchr(p, '[');
		if (br == NULL) {
			ret = pf_queue_add(c, lc, p, colon + 1);
		} else {
			end = strchr(br, ']');
			if (end == NULL || end[1] != '\0')
				return pf_at(c, lc->line, "queues",
					     "'%s': a device range is PREFIX[A-B]", p);
			*end = '\0';
			*br = '\0';
			if (!pf_range(br + 1, &lo, &hi))
				return pf_at(c, lc->line, "queues",
					     "'%s[%s]': expected PREFIX[A-B] with A <= B",
					     p, br + 1);
			for (ret = 0, i = lo; i <= hi && ret == 0; i++) {
				snprintf(name, sizeof(name), "%s%lu", p, i);
				ret = pf_queue_add(c, lc, name, colon + 1);
			}
		}
		if (ret != 0)
			return ret;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Each queue of each device has exactly one poller. */
static int
pf_owners(struct pf_ctx *c)
{
	const struct pfdk_profile *prof = c->prof;
	const struct pfdk_profile_device *dev;
	const struct pfdk_profile_lcore *lc;
	uint16_t *owner; /* lcore index + 1, 0: none */
	unsigned int d, i, j, q, most = 1;
	int ret = 0;

	for (d = 0; d < prof->nb_devices; d++)
		most = RTE_MAX(most, (unsigned int)prof->devices[d].nb_queues);
	owner = calloc(most, sizeof(*owner));
	if (owner == NULL) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->file);
		return -ENOMEM;
	}
	for (d = 0; d < prof->nb_devices && ret == 0; d++) {
		dev = &prof->devices[d];
		memset(owner, 0, dev->nb_queues * sizeof(*owner));
		for (i = 0; i < prof->nb_lcores && ret == 0; i++) {
			lc = &prof->lcores[i];
			for (j = 0; j < lc->nb_queues && ret == 0; j++) {
				if (lc->queues[j].dev != d)
					continue;
				q = lc->queues[j].queue;
				if (owner[q] == i + 1)
					ret = pf_at(c, lc->line, "queues",
						    "%s:%u is listed twice",
						    dev->name, q);
				else if (owner[q] != 0)
					ret = pf_at(c, lc->line, "queues",
						    "%s:%u is already owned by [lcore.%u] (line %u)",
						    dev->name, q,
						    prof->lcores[owner[q] - 1].lcore_id,
						    prof->lcores[owner[q] - 1].line);
				owner[q] = (uint16_t)(i + 1);
			}
		}
		for (q = 0; q < dev->nb_queues && ret == 0; q++)
			if (owner[q] == 0)
				ret = pf_at(c, dev->line, "queues",
					    "queue %u of %s is owned by no poller: its faults would never be read",
					    q, dev->name);
	}
	free(owner);
	return ret;
}

/* Rules across lcores: layout, pipeline nodes, spinning threads. */
static int
pf_layout(struct pf_ctx *c)
{
	const struct pfdk_profile *prof = c->prof;
	const struct pfdk_profile_lcore *lc, *last = NULL;
	unsigned int i, j, spin = 0;

	for (i = 0; i < prof->nb_lcores; i++) {
		lc = &prof->lcores[i];
		if (lc->role == PFDK_ROLE_RESOLVER &&
		    prof->layout != PFDK_LAYOUT_PIPELINE)
			return pf_at(c, lc->line, "role",
				     "resolvers need layout = pipeline: in the %s layout the pollers resolve",
				     layout_names[prof->layout]);
		if (lc->role == PFDK_ROLE_POLLER &&
		    prof->layout == PFDK_LAYOUT_COLOCATED &&
		    !pfdk_engine_sleeps(lc->engine))
			return pf_at(c, lc->line, "engine",
				     "layout colocated needs engine = epoll (or inthread): a poller sharing CPUs with the faulting threads must sleep when idle (engine is %s)",
				     pfdk_engine_name(lc->engine));
		if (lc->role == PFDK_ROLE_POLLER &&
		    prof->layout == PFDK_LAYOUT_PIPELINE) {
			for (j = 0; j < prof->nb_lcores; j++)
				if (prof->lcores[j].role == PFDK_ROLE_RESOLVER &&
				    prof->lcores[j].node == lc->node)
					break;
			if (j == prof->nb_lcores)
				return pf_at(c, lc->line, "node",
					     "layout pipeline: node %d has pollers but no resolver to drain its ring",
					     lc->node);
		}
		/* epoll and inthread sleep; the rest spin, SQPOLL adds a thread */
		if (lc->role == PFDK_ROLE_RESOLVER ||
		    !pfdk_engine_sleeps(lc->engine)) {
			spin += 1 + (lc->role == PFDK_ROLE_POLLER &&
				     pfdk_engine_sqpoll(lc->engine));
			last = lc;
		}
	}
	if (last != NULL && spin >= c->ncpus)
		return pf_at(c, last->line,
			     last->role == PFDK_ROLE_RESOLVER ? "role" : "engine",
			     "%u busy-spinning threads on %u CPUs would leave no CPU for faulting threads",
			     spin, c->ncpus);
	return 0;
}

/* engine = inthread: every device the poller owns resolves in the threads. */
static int
pf_inthread(struct pf_ctx *c, const struct pfdk_profile_lcore *lc)
{
	const struct pfdk_profile_device *dev;
	unsigned int j;

	if (lc->engine != PFDK_ENGINE_INTHREAD || c->no_driver_checks)
		return 0;
	for (j = 0; j < lc->nb_queues; j++) {
		if (c->dev_inthread[lc->queues[j].dev])
			continue;
		dev = &c->prof->devices[lc->queues[j].dev];
		return pf_at(c, lc->line, "engine",
			     "inthread: device %s ([device.%s], line %u) cannot resolve in the faulting threads: its devargs '%s' need sigbus=1 (uffd devices only)",
			     dev->name, dev->name, dev->line, dev->devargs);
	}
	return 0;
}

/*
 * layout = inthread: the faulting threads resolve; what remains for an
 * lcore is reading the devices' events, which block the threads that
 * caused them until read. That lcore is implied (lcore 1, on main_cpu,
 * main_cpu's node, engine inthread: it sleeps), owns every queue, and is
 * never written back. The devices must resolve in the threads (checked
 * as for engine = inthread, the error on the layout line).
 */
static int
pf_implied_lcore(struct pf_ctx *c)
{
	struct pfdk_profile *prof = c->prof;
	struct pfdk_profile_lcore *lc;
	uint16_t d, q;
	int node;

	if (prof->nb_lcores != 0)
		return pf_at(c, prof->lcores[0].line, NULL,
			     "layout inthread declares no lcores: the faulting threads resolve their own faults and an implied lcore on main_cpu reads the devices' events");
	lc = &prof->lcores[0];
	memset(lc, 0, sizeof(*lc));
	lc->lcore_id = 1;
	lc->cpu = prof->main_cpu;
	node = numa_available() < 0 ? 0 : numa_node_of_cpu(prof->main_cpu);
	lc->node = node >= 0 && node < RTE_MAX_NUMA_NODES && c->node_ok[node] ? node : 0;
	lc->role = PFDK_ROLE_POLLER;
	lc->engine = PFDK_ENGINE_INTHREAD;
	lc->sqpoll_cpu = -1;
	lc->line = c->pfdk_line;
	lc->implied = true;
	for (d = 0; d < prof->nb_devices; d++) {
		if (!c->no_driver_checks && !c->dev_inthread[d])
			return pf_at(c, c->pfdk_line, "layout",
				     "inthread: device %s ([device.%s], line %u) cannot resolve in the faulting threads: its devargs '%s' need sigbus=1 (uffd devices only)",
				     prof->devices[d].name, prof->devices[d].name,
				     prof->devices[d].line, prof->devices[d].devargs);
		for (q = 0; q < prof->devices[d].nb_queues; q++) {
			if (lc->nb_queues == PFDK_PROFILE_MAX_QUEUES)
				return pf_at(c, c->pfdk_line, "layout",
					     "inthread: more than %u device queues for the implied lcore",
					     PFDK_PROFILE_MAX_QUEUES);
			lc->queues[lc->nb_queues].dev = d;
			lc->queues[lc->nb_queues].queue = q;
			lc->nb_queues++;
		}
	}
	prof->nb_lcores = 1;
	return 0;
}

static int
pf_finish(struct pf_ctx *c)
{
	struct pfdk_profile *prof = c->prof;
	struct pfdk_profile_lcore *lc;
	struct pfdk_profile_node *nd;
	unsigned int i;
	int ret;

	/* an empty profile would start, serve nothing, report inf ns/fault */
	if (prof->nb_devices == 0 && !c->runtime_devices) {
		if (c->pfdk_line != 0)
			return pf_at(c, c->pfdk_line, NULL,
				     "no [device.*] section: a profile needs a fault device and a poller that owns its queues");
		snprintf(c->err, c->errlen,
			 "%s: no [device.*] section: a profile needs a fault device and a poller that owns its queues",
			 c->file);
		return -EINVAL;
	}
	if (prof->layout == PFDK_LAYOUT_INTHREAD) {
		ret = pf_implied_lcore(c);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < prof->nb_lcores; i++) {
		lc = &prof->lcores[i];
		if (lc->role == PFDK_ROLE_POLLER && !lc->implied && !c->runtime_devices) {
			ret = pf_queues(c, lc, c->queues[i]);
			if (ret < 0)
				return ret;
			ret = pf_inthread(c, lc);
			if (ret < 0)
				return ret;
		}
		if (pfdk_profile_node(prof, lc->node) != NULL)
			continue;
		/* no [node.N]: the node takes the defaults (see top) */
		if (prof->nb_nodes == PFDK_PROFILE_MAX_NODES)
			return pf_at(c, lc->line, "node",
				     "node %d has no [node.%d] and %d other nodes are in use",
				     lc->node, lc->node, PFDK_PROFILE_MAX_NODES);
		nd = &prof->nodes[prof->nb_nodes++];
		nd->node = lc->node;
		nd->pool_size = 8191;
		nd->pool_cache = 256;
		nd->ring_size = 1024;
		nd->line = 0;
	}
	ret = pf_layout(c);
	if (ret == 0)
		ret = pf_owners(c);
	return ret;
}

static int
pf_parse(struct pf_ctx *c, struct rte_cfgfile *cfg)
{
	struct pf_sect s;
	int i, n, ret;

	n = rte_cfgfile_num_sections(cfg, NULL, 0);
	if (n < 0 || (unsigned int)n != c->nb_sect) {
		snprintf(c->err, c->errlen,
			 "%s: syntax error: rte_cfgfile found %d sections, expected %u",
			 c->file, n, c->nb_sect);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		s.line = c->sect_line[i];
		s.total = rte_cfgfile_section_num_entries_by_index(cfg, s.name, i);
		s.nb = rte_cfgfile_section_entries_by_index(cfg, i, s.name,
							    s.ent, PF_MAX_KEYS);
		if (s.total < 0 || s.nb < 0)
			return pf_at(c, s.line, NULL, "cannot read the section");
		if (strcmp(s.name, "pfdk") == 0)
			ret = pf_pfdk(c, &s);
		else if (strncmp(s.name, "node.", 5) == 0)
			ret = pf_node(c, &s);
		else if (strncmp(s.name, "device.", 7) == 0)
			ret = pf_device(c, &s);
		else if (strncmp(s.name, "lcore.", 6) == 0)
			ret = pf_lcore(c, &s);
		else
			ret = pf_at(c, s.line, NULL,
				    "unknown section (expected [pfdk], [node.N], [device.NAME] or [lcore.ID])");
		if (ret < 0)
			return ret;
	}
	return pf_finish(c);
}

/* rte_cfgfile_load() wants a path: hand it the text through a memfd. */
static int
pf_cfgfile(struct pf_ctx *c, struct rte_cfgfile **cfg)
{
	char path[64];
	size_t off = 0;
	ssize_t n;
	int fd, err;

	fd = memfd_create("pfdk-profile", MFD_CLOEXEC);
	if (fd < 0)
		goto fail;
	while (off < c->len) {
		n = write(fd, c->text + off, c->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ENOSPC;
			close(fd);
			errno = err;
			goto fail;
		}
		off += n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	*cfg = rte_cfgfile_load(path, 0);
	close(fd);
	if (*cfg == NULL) {
		/* pf_scan() applies rte_cfgfile's rules: not the text's fault */
		snprintf(c->err, c->errlen,
			 "%s: syntax error: rte_cfgfile_load() failed (see its log; it reads /proc/self/fd)",
			 c->file);
		return -EINVAL;
	}
	return 0;
fail:
	snprintf(c->err, c->errlen, "%s: cannot stage the text in a memfd: %s",
		 c->file, strerror(errno));
	return -ENOMEM;
}

/* The NUMA nodes a profile may name: @p nnodes of them, or the host's. */
static void
pf_nodes(struct pf_ctx *c, unsigned int nnodes)
{
	unsigned int i;
	int max;

	if (nnodes != 0) {
		for (i = 0; i < RTE_MAX_NUMA_NODES; i++)
			c->node_ok[i] = i < nnodes;
		return;
	}
	c->node_ok[0] = true; /* without NUMA, everything is node 0 */
	if (numa_available() < 0)
		return;
	max = numa_max_node();
	for (i = 0; i < RTE_MAX_NUMA_NODES && (int)i <= max; i++)
		c->node_ok[i] = i == 0 ||
			numa_bitmask_isbitset(numa_nodes_ptr, i) != 0;
}

static void
pf_defaults(struct pfdk_profile *prof, const char *name)
{
	const char *base = strrchr(name, '/');
	size_t n;

	memset(prof, 0, sizeof(*prof));
	strlcpy(prof->path, name, sizeof(prof->path));
	/* without [pfdk] name =, the file's name without ".ini" */
	base = base != NULL ? base + 1 : name;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	snprintf(prof->name, sizeof(prof->name), "%.*s",
		 (int)RTE_MIN(n, sizeof(prof->name) - 1), base);
	prof->layout = PFDK_LAYOUT_RTC;
	prof->burst = 32;
	prof->main_cpu = 0;
}

int
pfdk_profile_load_string(const char *name, const char *text, size_t len,
			 struct pfdk_profile *prof,
			 const struct pfdk_profile_check *check,
			 char *err, size_t errlen)
{
	struct rte_cfgfile *cfg = NULL;
	struct pf_ctx *c;
	long online;
	int ret;

	if (name == NULL)
		name = "(string)";
	if (errlen > 0)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	c->file = name;
	c->text = text;
	c->len = text != NULL ? len : 0;
	c->err = err;
	c->errlen = errlen;
	c->prof = prof;
	c->ncpus = check != NULL ? check->ncpus : 0;
	if (c->ncpus == 0) {
		online = sysconf(_SC_NPROCESSORS_ONLN);
		c->ncpus = online > 0 ? (unsigned int)online : 1;
	}
	c->no_driver_checks = check != NULL && check->no_driver_checks;
	c->runtime_devices = check != NULL && check->runtime_devices;
	c->engines = check != NULL ? check->engines : 0;
	c->layouts = check != NULL ? check->layouts : 0;
	pf_nodes(c, check != NULL ? check->nnodes : 0);
	pf_defaults(prof, name);
	if (c->len > PF_MAX_TEXT) {
		snprintf(err, errlen, "%s: larger than %u bytes: not a profile",
			 name, PF_MAX_TEXT);
		ret = -EINVAL;
	} else {
		ret = pf_scan(c);
	}
	if (ret == 0)
		ret = pf_cfgfile(c, &cfg);
	if (ret == 0)
		ret = pf_parse(c, cfg);
	if (cfg != NULL)
		rte_cfgfile_close(cfg);
	free(c);
	if (ret == 0)
		rte_log(RTE_LOG_DEBUG, pfdk_profile_logtype,
			"pfdk.profile: %s: '%s', layout %s, burst %u, %u device(s), %u lcore(s), %u node(s)\n",
			name, prof->name, pfdk_layout_name(prof->layout),
			prof->burst, prof->nb_devices, prof->nb_lcores,
			prof->nb_nodes);
	else
		rte_log(RTE_LOG_DEBUG, pfdk_profile_logtype,
			"pfdk.profile: %s refused: %s\n", name,
			errlen > 0 ? err : "");
	return ret;
}

int
pfdk_profile_load(const char *path, struct pfdk_profile *prof,
		  const struct pfdk_profile_check *check,
		  char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *text = NULL, *grown;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto unreadable;
	/* one byte over the limit is enough to know it is too large */
	while (len <= PF_MAX_TEXT) {
		if (text == NULL || len == cap) {
			if (text != NULL)
				cap *= 2;
			grown = realloc(text, cap);
			if (grown == NULL) {
				free(text);
				close(fd);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			text = grown;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = errno;
			free(text);
			close(fd);
			errno = ret;
			goto unreadable;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	ret = pfdk_profile_load_string(path, text, len, prof, check, err,
				       errlen);
	free(text);
	return ret;
unreadable:
	snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	return -ENOENT;
}

int
pfdk_profile_eal_lcores(const struct pfdk_profile *prof, char *buf,
			size_t len)
{
	size_t off;
	unsigned int i;
	int n;

	n = snprintf(buf, len, "0@%d", prof->main_cpu);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = n;
	for (i = 0; i < prof->nb_lcores; i++) {
		n = snprintf(buf + off, len - off, ",%u@%d",
			     prof->lcores[i].lcore_id, prof->lcores[i].cpu);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	return (int)off;
}

const struct pfdk_profile_node *
pfdk_profile_node(const struct pfdk_profile *prof, int node)
{
	unsigned int i;

	for (i = 0; i < prof->nb_nodes; i++)
		if (prof->nodes[i].node == node)
			return &prof->nodes[i];
	return NULL;
}

const char *
pfdk_layout_name(enum pfdk_layout l)
{
	return (unsigned int)l < RTE_DIM(layout_names) ?
		layout_names[l] : "unknown";
}

const char *
pfdk_role_name(enum pfdk_role r)
{
	return (unsigned int)r < RTE_DIM(role_names) ?
		role_names[r] : "unknown";
}
