/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine registry: name -> operations, as testpmd's fwd_engines[].
 * An engine's index here is its enum pfdk_engine value.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "pfdk_engine.h"
#include "pfdk_engine_ops.h"

#define RTE_LOG_DEFAULT_LOGTYPE pfdk
RTE_LOG_REGISTER_SUFFIX(pfdk_engine_logtype, engine, INFO);

extern const struct pfdk_engine_ops pfdk_engine_busy;
extern const struct pfdk_engine_ops pfdk_engine_epoll;
extern const struct pfdk_engine_ops pfdk_engine_uring;
extern const struct pfdk_engine_ops pfdk_engine_uring_nosqpoll;
extern const struct pfdk_engine_ops pfdk_engine_inthread;

static const struct pfdk_engine_ops *const engines[] = {
	[PFDK_ENGINE_BUSY] = &pfdk_engine_busy,
	[PFDK_ENGINE_EPOLL] = &pfdk_engine_epoll,
	[PFDK_ENGINE_URING] = &pfdk_engine_uring,
	[PFDK_ENGINE_URING_NOSQPOLL] = &pfdk_engine_uring_nosqpoll,
	[PFDK_ENGINE_INTHREAD] = &pfdk_engine_inthread,
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
