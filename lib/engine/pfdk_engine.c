/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine registry: name -> operations, as testpmd's fwd_engines[].
 * An engine's index here is its enum pfdk_engine value; the ops symbols
 * stay out of the engines' users (they go through this table).
 */
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "pfdk_engine.h"
#include "pfdk_engine_ops.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_engine_logtype, engine, INFO);

/*
 * The registry: one line per engine, in index order. The first five are
 * the enum pfdk_engine constants (test_profile checks each name at its
 * index); a new engine goes at the end, its file defining
 * PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_NAME.
 */
#define PFDK_ENGINES(E) \
	E(busy) \
	E(epoll) \
	E(uring) \
	E(uring_nosqpoll) \
	E(inthread) \
	/* new engines: one line above this one */

#define ENGINE_DECLARE(n) \
	extern PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_##n;
#define ENGINE_ENTRY(n) &pfdk_engine_##n,

PFDK_ENGINES(ENGINE_DECLARE)

static const struct pfdk_engine_ops *const engines[] = {
	PFDK_ENGINES(ENGINE_ENTRY)
};

const struct pfdk_engine_ops *
pfdk_engine_ops_get(enum pfdk_engine e)
{
	return (unsigned int)e < RTE_DIM(engines) ? engines[e] : NULL;
}

unsigned int
pfdk_engine_count(void)
{
	return RTE_DIM(engines);
}

int
pfdk_engine_by_name(const char *name)
{
	unsigned int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < RTE_DIM(engines); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const char *
pfdk_engine_name(enum pfdk_engine e)
{
	const struct pfdk_engine_ops *o = pfdk_engine_ops_get(e);

	return o != NULL ? o->name : "unknown";
}

bool
pfdk_engine_sleeps(enum pfdk_engine e)
{
	const struct pfdk_engine_ops *o = pfdk_engine_ops_get(e);

	return o != NULL && o->sleeps;
}

bool
pfdk_engine_sqpoll(enum pfdk_engine e)
{
	const struct pfdk_engine_ops *o = pfdk_engine_ops_get(e);

	return o != NULL && o->sqpoll;
}
