/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PFDK_PIPELINE_PRIV_H
#define PFDK_PIPELINE_PRIV_H

/* @internal Shared by the pipeline's own files; not installed. */

#include "pfdk_pipeline.h"

/** Most pipelines alive at once that telemetry reports. */
#define PFDK_PIPELINE_MAX_LIVE 16

/**
 * @internal Call @p fn on each live pipeline, under the lock that
 * pfdk_pipeline_destroy() takes first: @p fn must not block.
 */
void pfdk_pipeline_foreach_live(void (*fn)(const struct pfdk_pipeline *, void *),
				void *arg);

#endif /* PFDK_PIPELINE_PRIV_H */
