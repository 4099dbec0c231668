/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine = busy: the poller spins on non-blocking receive, every queue
 * every pass. Nothing to set up and no operation: ready stays NULL.
 */
#include "pfdk_engine_ops.h"

PFDK_ENGINE_INTERNAL const struct pfdk_engine_ops pfdk_engine_busy = {
	.name = "busy",
};
