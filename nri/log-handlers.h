/* SPDX-License-Identifier: Apache-2.0 */
/* Phase 1's handlers: they log what the runtime told and what host-gateway will do with
 * it, and change nothing (CreateContainer answers an empty adjustment). */
#pragma once

#include "nri/handlers.h"

struct hg_nri_log_ctx {
	const struct hg_log *log;
	const char *config_path; /* host-gateway's configuration (stateDir, names): phase 2 reads it */
};

void hg_nri_log_handlers(struct hg_nri_handlers *h, struct hg_nri_log_ctx *ctx);
