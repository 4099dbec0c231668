/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pfdk-pagerd --profile: the daemon's own profile says which lcores serve
 * clients ([lcore.N] pollers: cpu, engine). Its devices are its clients,
 * created at run time, so the profile has none (runtime_devices). The
 * poller lcores become EAL lcores the way pfdk-faultbench places its rows:
 * the user's lcore options (-l, -c, --lcores, --main-lcore) as typed,
 * extended with an lcore pinned to each poller's cpu (pfdk_eal_lcore_pick).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "pfdk_eal.h"
#include "pfdk_profile.h"
#include "pagerd.h"

struct pagerd_lcore pagerd_lcores[PAGERD_MAX_LCORES];
unsigned int pagerd_nlcores;
bool pagerd_spin;

/* ~60 KiB: off the stack. The EAL arguments point into lmap's strings. */
static struct pfdk_profile prof;
static struct pfdk_eal_lcores lmap;
static char lcores_arg[2048], main_arg[16];

int
pagerd_profile_eal(const char *path, int argc, char **argv, char **out, int out_len)
{
	const struct pfdk_profile_check check = {
		.runtime_devices = true,
		.engines = 1u << PFDK_ENGINE_BUSY | 1u << PFDK_ENGINE_EPOLL,
		.layouts = 1u << PFDK_LAYOUT_RTC | 1u << PFDK_LAYOUT_COLOCATED,
	};
	uint64_t taken[PFDK_EAL_MAX_LCORES / 64] = { 0 };
	char err[512];
	unsigned int i;
	int id, n;

	if (pfdk_profile_load(path, &prof, &check, err, sizeof(err)) < 0) {
		fprintf(stderr, "pfdk-pagerd: --profile: %s\n", err);
		return -1;
	}
	if (prof.nb_lcores == 0 || prof.nb_lcores > PAGERD_MAX_LCORES) {
		fprintf(stderr, "pfdk-pagerd: --profile: %s: %u [lcore.N] poller(s), want 1 to %d\n",
			prof.path, prof.nb_lcores, PAGERD_MAX_LCORES);
		return -1;
	}
	if (pfdk_eal_lcores_parse(argc, argv, prof.main_cpu, &lmap, err, sizeof(err)) < 0) {
		fprintf(stderr, "pfdk-pagerd: %s\n", err);
		return -1;
	}
	for (i = 0; i < prof.nb_lcores; i++) {
		const struct pfdk_profile_lcore *lc = &prof.lcores[i];

		id = pfdk_eal_lcore_pick(&lmap, lc->cpu, lc->lcore_id, taken, err, sizeof(err));
		if (id < 0) {
			fprintf(stderr, "pfdk-pagerd: --profile: %s:%u: [lcore.%u]: %s\n",
				prof.path, lc->line, lc->lcore_id, err);
			return -1;
		}
		taken[id / 64] |= 1ull << (id % 64);
		pagerd_lcores[i] = (struct pagerd_lcore){
			.lcore_id = (unsigned int)id,
			.cpu = lc->cpu,
			.engine = lc->engine,
		};
	}
	pagerd_nlcores = prof.nb_lcores;
	if (pfdk_eal_lcores_format(&lmap, false, lcores_arg, sizeof(lcores_arg)) < 0) {
		fprintf(stderr, "pfdk-pagerd: --profile: the EAL lcore map does not fit\n");
		return -1;
	}
	snprintf(main_arg, sizeof(main_arg), "%u", lmap.main_lcore);
	n = pfdk_eal_args_lcores(argc, argv, lcores_arg, main_arg, out, out_len);
	if (n < 0)
		fprintf(stderr, "pfdk-pagerd: --profile: too many EAL arguments\n");
	else
		LOG("profile %s ('%s', %s): %u poller lcore(s), EAL --lcores %s", prof.path,
		    prof.name, pfdk_layout_name(prof.layout), pagerd_nlcores, lcores_arg);
	return n;
}
