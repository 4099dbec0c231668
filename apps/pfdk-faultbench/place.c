/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-faultbench's placement: the uffd workload's CPUs from the topology,
 * each row's lcores on EAL lcores (the map printed, or --dry-run's
 * report), and the EAL arguments the map is written into.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "pfdk_eal.h"
#include "pfdk_profile.h"

#include "faultbench.h"

static struct fb_topo topo;    /* the uffd source: where rows are placed */
char fb_faulter_list[256];

/*
 * The EAL's lcores: the user's lcore options (-l, -c, --lcores,
 * --main-lcore) as typed, extended with what the rows need; without any,
 * the main lcore on the profile's main_cpu. Filled before the rows are
 * placed, written into the EAL arguments after.
 */
struct pfdk_eal_lcores fb_lmap;

/*
 * Give each row's lcores EAL lcores pinned to the CPUs the row asks for
 * (pfdk_eal_lcore_pick(): the row's own id where it fits). A row that
 * cannot be placed (its CPU is outside the user's -l/-c/--lcores) is not
 * run, with the reason.
 */
void
fb_place_rows(struct pfdk_profile *variants, struct row *rows, unsigned int nrows)
{
	char err[256];
	unsigned int i, k;
	int id;

	for (i = 0; i < nrows; i++) {
		struct pfdk_profile *v = &variants[i];
		uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };

		for (k = 0; k < v->nb_lcores && !rows[i].skipped; k++) {
			id = pfdk_eal_lcore_pick(&fb_lmap, v->lcores[k].cpu,
						 v->lcores[k].lcore_id, taken, err,
						 sizeof(err));
			if (id < 0) {
				rows[i].skipped = true;
				snprintf(rows[i].skip_reason, sizeof(rows[i].skip_reason),
					 "its %s lcore %s", pfdk_role_name(v->lcores[k].role), err);
				break;
			}
			v->lcores[k].lcore_id = (unsigned int)id;
			taken[id / 64] |= 1ull << (id % 64);
		}
	}
}

/* Print the lcore map: the EAL's, then each row's (the user sees where rows run). */
void
fb_print_lcore_map(const char *lcores, const struct pfdk_profile *variants,
		   const struct row *rows, unsigned int nrows)
{
	char added[512];
	unsigned int i, k;

	if (pfdk_eal_lcores_format(&fb_lmap, true, added, sizeof(added)) < 0)
		snprintf(added, sizeof(added), "...");
	printf("lcores: EAL --lcores %s, main lcore %u (%s%s%s%s)\n", lcores,
	       fb_lmap.main_lcore, fb_lmap.given ? "your " : "from the profile",
	       fb_lmap.given ? fb_lmap.spec : "",
	       fb_lmap.given && added[0] ? ", added for the rows: " : "",
	       fb_lmap.given ? added : "");
	printf("lcores per row:");
	for (i = 0; i < nrows; i++) {
		const struct pfdk_profile *v = &variants[i];

		if (rows[i].skipped || v->nb_lcores == 0)
			continue;
		printf(" %s", rows[i].mode);
		if (rows[i].burst)
			printf("/%u", rows[i].burst);
		for (k = 0; k < v->nb_lcores; k++)
			printf("%s%u@%d", k ? "," : " ", v->lcores[k].lcore_id, v->lcores[k].cpu);
		printf(";");
	}
	printf("\n");
}

/*
 * The uffd workload's CPUs, from the machine's topology (topo.c): the
 * faulting threads on --faulter-cpus, else on the profile's main_cpu (or
 * the first CPU the user's lcore option gives, when it leaves main_cpu
 * out); the generated rows' handler CPU (other_cpu) on the faulters' NUMA
 * node and off their physical cores where the machine has such a CPU,
 * among the CPUs the lcore option gives when it gives them. The same
 * placement on 2 CPUs as on 16 cores and 2 nodes, no --lcores needed.
 */
int
fb_place_uffd(const struct fb_opts *o, const struct pfdk_profile *prof)
{
	struct fb_uffd_opts *u = &fb_uffd;
	cpu_set_t fset;
	char list[256];
	int c;

	if (fb_topo_load(&topo) < 0) {
		fprintf(stderr, "cannot read the CPU topology (%s/sys/devices/system/cpu)\n",
			topo.fake ? getenv("PFDK_SYSFS_ROOT") : "");
		return -1;
	}
	*u = o->u;
	u->nb_faulter_cpus = 0;
	if (o->faulter_cpus != NULL) {
		fb_cpulist_parse(o->faulter_cpus, &fset);
		for (c = 0; c < FB_MAX_CPUS; c++) {
			if (!CPU_ISSET(c, &fset))
				continue;
			if (!CPU_ISSET(c, &topo.allowed)) {
				fprintf(stderr, "--faulter-cpus %s: CPU %d is not online or not "
					"in this process's CPU mask\n", o->faulter_cpus, c);
				return -1;
			}
			if (fb_lmap.given && !CPU_ISSET(c, &fb_lmap.allowed)) {
				fprintf(stderr, "--faulter-cpus %s: CPU %d is not among the "
					"CPUs of the EAL lcore option (%s)\n", o->faulter_cpus,
					c, fb_lmap.spec);
				return -1;
			}
			u->faulter_cpu[u->nb_faulter_cpus++] = c;
		}
	} else {
		c = prof->main_cpu;
		if (fb_lmap.given && !CPU_ISSET(c, &fb_lmap.allowed))
			for (c = 0; c < FB_MAX_CPUS && !CPU_ISSET(c, &fb_lmap.allowed); c++)
				;
		u->faulter_cpu[u->nb_faulter_cpus++] = c;
		CPU_ZERO(&fset);
		CPU_SET(c, &fset);
	}
	u->fault_cpu = u->faulter_cpu[0];
	u->fault_node = topo.node[u->fault_cpu];
	u->other_cpu = fb_topo_pick(&topo, &fset, u->fault_cpu,
				    fb_lmap.given ? &fb_lmap.allowed : NULL);
	/*
	 * None among the CPUs given (-l 0): the best CPU of the machine, so
	 * the rows that need one are "not run" with the CPU named; on a
	 * one-CPU machine, the faulters' own.
	 */
	if (u->other_cpu < 0)
		u->other_cpu = fb_topo_pick(&topo, &fset, u->fault_cpu, NULL);
	if (u->other_cpu < 0)
		u->other_cpu = u->fault_cpu;
	u->other_node = topo.node[u->other_cpu];
	if (topo.fake) {
		/* Rows are checked against the machine described, not this one. */
		u->check_ncpus = topo.ncpus;
		u->check_nnodes = topo.nnodes;
	}
	fb_cpulist_format(&fset, list, sizeof(list));
	snprintf(fb_faulter_list, sizeof(fb_faulter_list), "%s", list);
	return 0;
}

/*
 * --dry-run: each row's lcores (role, CPU, node, engine), the faulting
 * threads' CPUs and the handler CPU of the baselines; nothing runs.
 */
void
fb_print_dry_run(const struct fb_opts *o, const struct pfdk_profile *variants,
		 const struct row *rows, unsigned int nrows, bool uffd)
{
	unsigned int i, k;

	if (uffd)
		printf("dry run: %u CPU(s), %u node(s)%s; faulting threads on CPU %s "
		       "(node %d); handler CPU %d (node %d)\n",
		       (unsigned int)CPU_COUNT(&topo.online), topo.nnodes,
		       topo.fake ? " (from $PFDK_SYSFS_ROOT)" : "", fb_faulter_list,
		       fb_uffd.fault_node, fb_uffd.other_cpu, fb_uffd.other_node);
	else
		printf("dry run: source %s, rows as the profile places them\n", o->source);
	for (i = 0; i < nrows; i++) {
		const struct pfdk_profile *v = &variants[i];

		printf("row %-20s", rows[i].mode);
		if (rows[i].burst)
			printf(" burst %-3u", rows[i].burst);
		if (rows[i].skipped) {
			printf(" not run: %s\n", rows[i].skip_reason);
			continue;
		}
		if (v->nb_lcores == 0) {
			/* A baseline: a hand-written handler thread, or none. */
			if (strcmp(rows[i].mode, "native") == 0 ||
			    strcmp(rows[i].mode, "sigbus") == 0)
				printf(" handler: none (in the faulting threads)\n");
			else
				printf(" handler thread on CPU %d\n",
				       strcmp(rows[i].mode, "classic-colocated") == 0 ?
				       fb_uffd.fault_cpu : fb_uffd.other_cpu);
			continue;
		}
		for (k = 0; k < v->nb_lcores; k++) {
			const struct pfdk_profile_lcore *lc = &v->lcores[k];

			printf(" %s cpu %d node %d", pfdk_role_name(lc->role), lc->cpu, lc->node);
			if (lc->role == PFDK_ROLE_POLLER)
				printf(" engine %s", pfdk_engine_name(lc->engine));
			printf(k + 1 < v->nb_lcores ? ";" : "");
		}
		printf("\n");
	}
}

/*
 * EAL arguments: the bench's defaults first (so the user's own --log-level
 * comes later and wins), --no-pci unless the user asked for PCI devices
 * (PFDK's devices are not PCI devices: the scan only costs), then the
 * user's arguments with their lcore options replaced by the map.
 */
int
fb_eal_args_build(char **argv, int dashdash, char **eal, int eal_len, char *lcores,
		  size_t lcores_len, char *main_lcore, size_t main_len)
{
	int uargc = dashdash > 1 ? dashdash : 1, n = 0, m, i;
	char *tmp[uargc + 4 + 1];

	if (pfdk_eal_lcores_format(&fb_lmap, false, lcores, lcores_len) < 0)
		return -1;
	snprintf(main_lcore, main_len, "%u", fb_lmap.main_lcore);
	m = pfdk_eal_args_lcores(uargc, argv, lcores, main_lcore, tmp, (int)RTE_DIM(tmp));
	if (m < 0 || eal_len < m + 3 + 1)
		return -1;
	eal[n++] = tmp[0];
	eal[n++] = (char *)(uintptr_t)"--log-level=lib.eal:warning";
	eal[n++] = (char *)(uintptr_t)"--log-level=lib.telemetry:warning";
	if (!pfdk_eal_args_want_pci(uargc, argv))
		eal[n++] = (char *)(uintptr_t)"--no-pci";
	for (i = 1; i < m; i++)
		eal[n++] = tmp[i];
	eal[n] = NULL;
	return n;
}

/*
 * EAL options the bench cannot honour, refused before the EAL starts:
 * the bench creates its own devices and pools, so it must be the primary
 * process (a secondary waits for a primary that is not there).
 */
int
fb_eal_args_check(int uargc, char **argv)
{
	int i;

	for (i = 1; i < uargc; i++) {
		const char *v = NULL;

		if (strncmp(argv[i], "--proc-type=", 12) == 0)
			v = argv[i] + 12;
		else if (strcmp(argv[i], "--proc-type") == 0 && i + 1 < uargc)
			v = argv[i + 1];
		if (v != NULL && strcmp(v, "primary") != 0) {
			fprintf(stderr, "EAL option --proc-type %s: pfdk-faultbench creates its "
				"own devices and pools and runs as the primary process only\n", v);
			return -1;
		}
	}
	return 0;
}
