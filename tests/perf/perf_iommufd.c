/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iommufd-path throughput with the emulated fault FD: faults/s and
 * ns/fault for the rtc and pipeline layouts, and first the emulator alone
 * (generate + read + write with no framework), so the framework's share is
 * the difference. Prints numbers; asserts only that nothing was lost.
 *
 *   perf_iommufd [records] [groups]     (defaults 2000000 and 4)
 *
 * Lcores: 1 polls on CPU 1, 2 resolves on CPU 0 beside the main lcore,
 * which sleeps: never a spinner on both CPUs of a 2-vCPU machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>

#include "pfdk_fault.h"
#include "pfdk_iommufd.h"
#include "pfdk_pipeline.h"
#include "pfdk_profile.h"
#include "test_common.h"

#define BURST 32

static uint64_t records = 2000000;
static unsigned int groups = 4;

static void
report(const char *what, uint64_t recs, uint64_t cycles, double base_ns)
{
	double s = (double)cycles / (double)rte_get_tsc_hz();
	double ns = s * 1e9 / (double)recs;

	printf("%-28s %10" PRIu64 " faults in %7.1f ms: %10.0f faults/s, %7.1f ns/fault",
	       what, recs, s * 1e3, (double)recs / s, ns);
	if (base_ns > 0)
		printf("  (framework %+.1f ns/fault over the emulator)", ns - base_ns);
	printf("\n");
}

/* The emulated kernel on its own: what any handler pays before PFDK. */
static double
emulator_alone(void)
{
	struct pfdk_iommufd_emu_conf c = { .max_group_records = groups, .pasids = 4,
					    .total = records, .depth = 64 };
	struct pfdk_iommufd_emu *e = pfdk_iommufd_emu_create(&c);
	struct pfdk_iommu_hwpt_pgfault buf[BURST];
	struct pfdk_iommu_hwpt_page_response w[BURST];
	uint64_t got = 0, t0;

	if (e == NULL) {
		perror("emulator");
		exit(1);
	}
	t0 = rte_rdtsc();
	while (got < records) {
		ssize_t n = pfdk_iommufd_emu_read(e, buf, sizeof(buf));
		unsigned int i, nw = 0;

		if (n == -EINVAL) /* a group over BURST records: not with groups <= 32 */
			exit(1);
		for (i = 0; i < n / sizeof(buf[0]); i++)
			if (buf[i].flags & PFDK_IOMMU_PGFAULT_FLAGS_LAST_PAGE)
				w[nw++] = (struct pfdk_iommu_hwpt_page_response){ buf[i].cookie, 0 };
		if (nw != 0 && pfdk_iommufd_emu_write(e, w, nw * sizeof(w[0])) < 0)
			exit(1);
		got += (uint64_t)n / sizeof(buf[0]);
	}
	t0 = rte_rdtsc() - t0;
	pfdk_iommufd_emu_free(e);
	report("emulator alone", got, t0, 0);
	return (double)t0 / (double)rte_get_tsc_hz() * 1e9 / (double)got;
}

static void
layout(const char *name, double base_ns)
{
	static struct pfdk_profile prof;
	struct pfdk_profile_check chk = { .ncpus = 64 };
	struct pfdk_pipeline_conf pc = { .profile = &prof, .resolve = pfdk_iommufd_resolve };
	struct pfdk_iommufd_emu_check c;
	struct pfdk_lcore_stats ls;
	struct pfdk_pipeline *p;
	struct pfdk_iommufd_emu *e;
	char ini[2048], err[512], what[64];
	size_t len = 0;
	uint64_t t0;
	int pipe = strcmp(name, "pipeline") == 0;

#define ADD(...) (len += (size_t)snprintf(ini + len, sizeof(ini) - len, __VA_ARGS__))
	ADD("[pfdk]\nname = perf\nlayout = %s\nburst = %u\nmain_cpu = 0\n", name, BURST);
	ADD("[node.0]\npool_size = 4095\npool_cache = 64\nring_size = 1024\n");
	ADD("[device.iommufd0]\ndevargs = iommufd0,emu=1,groups=%u,pasids=4,total=%" PRIu64
	    ",depth=256,range=0x100000000:0x200000000\nqueues = 1\n", groups, records);
	ADD("[lcore.1]\nrole = poller\ncpu = 1\nengine = busy\nqueues = iommufd0:0\n");
	if (pipe)
		ADD("[lcore.2]\nrole = resolver\ncpu = 0\n");
#undef ADD
	if (pfdk_profile_load_string("perf_iommufd", ini, len, &prof, &chk, err, sizeof(err)) < 0) {
		fprintf(stderr, "profile: %s\n", err);
		exit(1);
	}
	p = pfdk_pipeline_create(&pc);
	if (p == NULL) {
		fprintf(stderr, "pipeline: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	e = pfdk_iommufd_emu_get((uint16_t)pfdk_pipeline_dev_id(p, 0));
	t0 = rte_rdtsc();
	if (pfdk_pipeline_start(p) != 0)
		exit(1);
	do {
		usleep(200);
		pfdk_iommufd_emu_check_get(e, &c);
	} while (!(c.exhausted && c.pending == 0 && c.outstanding == 0));
	t0 = rte_rdtsc() - t0;
	pfdk_pipeline_stop(p);
	pfdk_pipeline_stats(p, &ls, NULL);
	snprintf(what, sizeof(what), "pfdk %s (emulated FD)", name);
	report(what, c.records_read, t0, base_ns);
	if (c.answered != c.groups_queued || c.duplicates + c.unknown != 0) {
		fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " groups answered, %" PRIu64
			" duplicated, %" PRIu64 " unknown\n", name, c.answered,
			c.groups_queued, c.duplicates, c.unknown);
		exit(1);
	}
	pfdk_pipeline_destroy(p);
}

int
main(int argc, char **argv)
{
	double base;

	if (argc > 1)
		records = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		groups = (unsigned int)strtoul(argv[2], NULL, 0);
	if (records == 0 || groups == 0 || groups > BURST) {
		fprintf(stderr, "usage: %s [records>0] [groups 1..%d]\n", argv[0], BURST);
		return 1;
	}
	test_watchdog("perf_iommufd", 600);
	test_eal_init(argv[0], "0@0,1@1,2@0");
	printf("iommufd path, %" PRIu64 " records, groups of 1..%u records, burst %d, tsc %" PRIu64 " Hz\n",
	       records, groups, BURST, rte_get_tsc_hz());
	base = emulator_alone();
	layout("rtc", base);
	layout("pipeline", base);
	pfdk_cleanup();
	return 0;
}
