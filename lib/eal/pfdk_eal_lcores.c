/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcores a caller's EAL options give (-l, -c, --lcores, --main-lcore),
 * extended with the pinned lcores an application needs, written back as one
 * "--lcores" value. The EAL takes only one of -l, -c and --lcores (a second
 * is ignored with an error), so the caller's option is replaced, never
 * added to, and its lcores keep their ids and CPUs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* cpu_set_t; meson defines it */
#endif
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_config.h>

#include "pfdk_eal.h"

static_assert(PFDK_EAL_MAX_LCORES == RTE_MAX_LCORE, "lcore ids are the EAL's");

/* Options that name lcores; each takes a value. */
enum lc_opt { LC_NONE, LC_LIST, LC_MASK, LC_MAP, LC_MAIN };

/*
 * Is argv[i] one of the lcore options? Sets *val to its value (from
 * "-l0-1", "--lcores=..." or the next argument) and *used to the
 * arguments it takes (1 or 2).
 */
static enum lc_opt
lc_option(int argc, char **argv, int i, const char **val, int *used)
{
	static const struct { const char *name; enum lc_opt kind; } longs[] = {
		{ "--lcores", LC_MAP }, { "--main-lcore", LC_MAIN },
		{ "--master-lcore", LC_MAIN },
	};
	const char *a = argv[i];
	size_t k, len;

	*used = 1;
	*val = NULL;
	if (a[0] == '-' && (a[1] == 'l' || a[1] == 'c')) {
		if (a[2] != '\0')
			*val = a + 2;
		else if (i + 1 < argc)
			*val = argv[i + 1], *used = 2;
		return a[1] == 'l' ? LC_LIST : LC_MASK;
	}
	for (k = 0; k < RTE_DIM(longs); k++) {
		len = strlen(longs[k].name);
		if (strncmp(a, longs[k].name, len) != 0)
			continue;
		if (a[len] == '=')
			*val = a + len + 1;
		else if (a[len] != '\0')
			continue;
		else if (i + 1 < argc)
			*val = argv[i + 1], *used = 2;
		return longs[k].kind;
	}
	return LC_NONE;
}

/* A decimal number below @p max at *s; advances *s. -1 if none. */
static int
lc_num(const char **s, unsigned int max)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)**s))
		return -1;
	v = strtoul(*s, &end, 10);
	if (v >= max)
		return -1;
	*s = end;
	return (int)v;
}

/*
 * A number, a range "A-B" or a group "(A,B-C,...)" at *s into @p set.
 * *group tells whether it was a group. 0 or -1.
 */
static int
lc_set(const char **s, unsigned int max, cpu_set_t *set, bool *group)
{
	int a, b;

	CPU_ZERO(set);
	*group = **s == '(';
	if (*group)
		(*s)++;
	do {
		if (*group && **s == ',')
			(*s)++;
		a = lc_num(s, max);
		if (a < 0)
			return -1;
		b = a;
		if (**s == '-') {
			(*s)++;
			b = lc_num(s, max);
			if (b < a)
				return -1;
		}
		for (; a <= b; a++)
			CPU_SET(a, set);
	} while (*group && **s == ',');
	if (*group) {
		if (**s != ')')
			return -1;
		(*s)++;
	}
	return 0;
}

static struct pfdk_eal_lcore *
lc_find(struct pfdk_eal_lcores *m, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < m->nb; i++)
		if (m->lc[i].id == id)
			return &m->lc[i];
	return NULL;
}

/* Set lcore @p id to @p cpus (the last mention wins, as in the EAL). */
static void
lc_put(struct pfdk_eal_lcores *m, unsigned int id, const cpu_set_t *cpus)
{
	struct pfdk_eal_lcore *lc = lc_find(m, id);

	if (lc == NULL) {
		lc = &m->lc[m->nb++];
		lc->id = id;
		lc->added = false;
	}
	lc->cpus = *cpus;
	CPU_OR(&m->allowed, &m->allowed, cpus);
}

/* "-l 0-3,5": lcore N on CPU N. */
static int
parse_list(struct pfdk_eal_lcores *m, const char *s)
{
	cpu_set_t ids, one;
	unsigned int id;
	bool group;

	do {
		if (*s == ',')
			s++;
		if (*s == '(' || lc_set(&s, PFDK_EAL_MAX_LCORES, &ids, &group) < 0)
			return -1;
		for (id = 0; id < PFDK_EAL_MAX_LCORES; id++)
			if (CPU_ISSET(id, &ids)) {
				CPU_ZERO(&one);
				CPU_SET(id, &one);
				lc_put(m, id, &one);
			}
	} while (*s == ',');
	return *s == '\0' ? 0 : -1;
}

/* "-c 0x3": a hexadecimal mask, lcore N on CPU N. */
static int
parse_mask(struct pfdk_eal_lcores *m, const char *s)
{
	size_t len, k;
	cpu_set_t one;
	unsigned int bit = 0, d, b;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len == 0)
		return -1;
	for (k = len; k-- > 0; bit += 4) {
		if (!isxdigit((unsigned char)s[k]))
			return -1;
		d = (unsigned int)(isdigit((unsigned char)s[k]) ? s[k] - '0' :
				   tolower((unsigned char)s[k]) - 'a' + 10);
		for (b = 0; b < 4; b++) {
			if (!(d & (1u << b)))
				continue;
			if (bit + b >= PFDK_EAL_MAX_LCORES)
				return -1;
			CPU_ZERO(&one);
			CPU_SET(bit + b, &one);
			lc_put(m, bit + b, &one);
		}
	}
	return 0;
}

/*
 * "--lcores 0@0,(1-2)@1,3,4-5,(6,7)": lcores[@cpus], each side a number,
 * range or group. Without "@", a number or range puts each lcore on the
 * CPU of its own number and a group puts them all on the group's CPUs
 * (the EAL's reading).
 */
static int
parse_map(struct pfdk_eal_lcores *m, const char *s)
{
	cpu_set_t ids, cpus, one;
	unsigned int id;
	bool group, cgroup;

	do {
		if (*s == ',')
			s++;
		if (lc_set(&s, PFDK_EAL_MAX_LCORES, &ids, &group) < 0)
			return -1;
		if (*s == '@') {
			s++;
			if (lc_set(&s, CPU_SETSIZE, &cpus, &cgroup) < 0)
				return -1;
		} else {
			cpus = ids;
		}
		for (id = 0; id < PFDK_EAL_MAX_LCORES; id++) {
			if (!CPU_ISSET(id, &ids))
				continue;
			if (!group && CPU_EQUAL(&cpus, &ids)) {
				CPU_ZERO(&one);
				CPU_SET(id, &one);
				lc_put(m, id, &one);
			} else {
				lc_put(m, id, &cpus);
			}
		}
	} while (*s == ',');
	return *s == '\0' ? 0 : -1;
}

int
pfdk_eal_lcores_parse(int argc, char **argv, int main_cpu,
		      struct pfdk_eal_lcores *m, char *err, size_t errlen)
{
	const char *val, *main_val = NULL;
	unsigned int k;
	cpu_set_t one;
	int i, used, ret, main_id;
	enum lc_opt kind;

	memset(m, 0, sizeof(*m));
	CPU_ZERO(&m->allowed);
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += used) {
		kind = lc_option(argc, argv, i, &val, &used);
		if (kind == LC_NONE)
			continue;
		if (val == NULL || val[0] == '\0') {
			snprintf(err, errlen, "EAL option %s: needs a value", argv[i]);
			return -EINVAL;
		}
		if (kind == LC_MAIN) {
			main_val = val;
			continue;
		}
		if (m->given) {
			snprintf(err, errlen, "EAL options: %s and %s both name the lcores; "
				 "give one of -l, -c and --lcores", m->spec, argv[i]);
			return -EINVAL;
		}
		snprintf(m->spec, sizeof(m->spec), "%s%s%s", argv[i],
			 used == 2 ? " " : "", used == 2 ? val : "");
		ret = kind == LC_LIST ? parse_list(m, val) :
			kind == LC_MASK ? parse_mask(m, val) : parse_map(m, val);
		if (ret < 0 || m->nb == 0) {
			snprintf(err, errlen, "EAL option %s: cannot read '%s' (lcore ids "
				 "below %d; -l 0-3,5; -c 0x3; --lcores 0@0,1@1,(2-3)@(0-1))",
				 argv[i], val, PFDK_EAL_MAX_LCORES);
			return -EINVAL;
		}
		m->given = true;
	}
	if (!m->given) {
		/* Nothing chosen: the main lcore where the caller wants it. */
		CPU_ZERO(&one);
		CPU_SET(main_cpu >= 0 && main_cpu < CPU_SETSIZE ? main_cpu : 0, &one);
		lc_put(m, 0, &one);
		for (k = 0; k < CPU_SETSIZE; k++)
			CPU_SET(k, &m->allowed);
	}
	/* The EAL's default main lcore is the lowest id. */
	m->main_lcore = PFDK_EAL_MAX_LCORES;
	for (k = 0; k < m->nb; k++)
		m->main_lcore = RTE_MIN(m->main_lcore, m->lc[k].id);
	if (main_val != NULL) {
		main_id = lc_num(&main_val, PFDK_EAL_MAX_LCORES);
		if (main_id < 0 || *main_val != '\0' || lc_find(m, (unsigned int)main_id) == NULL) {
			snprintf(err, errlen, "EAL option --main-lcore %s: not one of the "
				 "lcores%s%s", main_val, m->given ? " of " : "",
				 m->given ? m->spec : "");
			return -EINVAL;
		}
		m->main_lcore = (unsigned int)main_id;
		m->main_given = true;
	}
	return 0;
}

static bool
pinned_to(const cpu_set_t *set, int cpu)
{
	return CPU_COUNT(set) == 1 && CPU_ISSET(cpu, set);
}

int
pfdk_eal_lcore_pick(struct pfdk_eal_lcores *m, int cpu, unsigned int want,
		    const uint64_t *taken, char *err, size_t errlen)
{
	struct pfdk_eal_lcore *lc;
	cpu_set_t one;
	unsigned int i, id;

#define TAKEN(x) (((x) == m->main_lcore) || (taken[(x) / 64] >> ((x) % 64) & 1))
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &m->allowed)) {
		snprintf(err, errlen, "needs a worker lcore on CPU %d, which is not among "
			 "the CPUs of the EAL option %s", cpu, m->spec);
		return -ENOENT;
	}
	/* The lcore the caller names, when it is where the caller wants it. */
	lc = want < PFDK_EAL_MAX_LCORES ? lc_find(m, want) : NULL;
	if (lc != NULL && !TAKEN(want) && pinned_to(&lc->cpus, cpu))
		return (int)want;
	for (i = 0; i < m->nb; i++)
		if (!TAKEN(m->lc[i].id) && pinned_to(&m->lc[i].cpus, cpu))
			return (int)m->lc[i].id;
	/* None: a new one, with the caller's id if it is free. */
	id = want;
	if (id >= PFDK_EAL_MAX_LCORES || lc_find(m, id) != NULL || TAKEN(id))
		for (id = 0; id < PFDK_EAL_MAX_LCORES; id++)
			if (lc_find(m, id) == NULL && !TAKEN(id))
				break;
#undef TAKEN
	if (id == PFDK_EAL_MAX_LCORES || m->nb == PFDK_EAL_MAX_LCORES) {
		snprintf(err, errlen, "needs a worker lcore on CPU %d: all %d lcore ids "
			 "are in use", cpu, PFDK_EAL_MAX_LCORES);
		return -ENOSPC;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	lc = &m->lc[m->nb++];
	lc->id = id;
	lc->cpus = one;
	lc->added = true;
	return (int)id;
}

/* @p set as "N" or "(A-B,C)". */
static int
fmt_set(char *buf, size_t len, const cpu_set_t *set)
{
	int n = 0, a, b;
	bool group = CPU_COUNT(set) > 1, first = true;

#define PUT(...) do { \
		int w_ = snprintf(buf + n, (size_t)n < len ? len - (size_t)n : 0, __VA_ARGS__); \
		if (w_ < 0) \
			return -1; \
		n += w_; \
	} while (0)
	if (group)
		PUT("(");
	for (a = 0; a < CPU_SETSIZE; a++) {
		if (!CPU_ISSET(a, set))
			continue;
		for (b = a; b + 1 < CPU_SETSIZE && CPU_ISSET(b + 1, set); b++)
			;
		PUT(first ? "%d" : ",%d", a);
		if (b > a)
			PUT("-%d", b);
		first = false;
		a = b;
	}
	if (group)
		PUT(")");
#undef PUT
	return n;
}

static int
cmp_lcore(const void *a, const void *b)
{
	const struct pfdk_eal_lcore *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int
pfdk_eal_lcores_format(struct pfdk_eal_lcores *m, bool only_added, char *buf,
		       size_t len)
{
	size_t off = 0;
	unsigned int i;
	int n;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	qsort(m->lc, m->nb, sizeof(m->lc[0]), cmp_lcore);
	for (i = 0; i < m->nb; i++) {
		if (only_added && !m->lc[i].added)
			continue;
		n = snprintf(buf + off, len - off, "%s%u@", off ? "," : "", m->lc[i].id);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
		n = fmt_set(buf + off, len - off, &m->lc[i].cpus);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

int
pfdk_eal_args_lcores(int argc, char **argv, const char *lcores,
		     const char *main_lcore, char **out, int out_len)
{
	const char *val;
	int i, n = 0, used;

	if (argc < 1 || out_len < argc + 4 + 1)
		return -EINVAL;
	out[n++] = argv[0];
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += used) {
		if (lc_option(argc, argv, i, &val, &used) != LC_NONE)
			continue;
		out[n++] = argv[i];
	}
	out[n++] = (char *)(uintptr_t)"--lcores";
	out[n++] = (char *)(uintptr_t)lcores;
	out[n++] = (char *)(uintptr_t)"--main-lcore";
	out[n++] = (char *)(uintptr_t)main_lcore;
	for (; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return n;
}

bool
pfdk_eal_args_want_pci(int argc, char **argv)
{
	static const char *const opts[] = {
		"-a", "--allow", "-b", "--block", "-w", "--pci-whitelist",
		"--pci-blacklist",
	};
	size_t k, len;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		for (k = 0; k < RTE_DIM(opts); k++) {
			len = strlen(opts[k]);
			if (strncmp(argv[i], opts[k], len) == 0 &&
			    (argv[i][len] == '\0' || argv[i][len] == '=' ||
			     (len == 2 && argv[i][len] != '-')))
				return true;
		}
	return false;
}
