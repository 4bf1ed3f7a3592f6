/* SPDX-License-Identifier: Apache-2.0 */
/* Handlers that log what the runtime told, one line per event, and change nothing: the
 * trace the attaching handlers (attach-handlers.h) write before their work. */
#pragma once

#include "nri/handlers.h"

struct hg_nri_log_ctx {
	const struct hg_log *log;
	const char *config_path; /* host-gateway's configuration, named in the Configure line */
};

void hg_nri_log_handlers(struct hg_nri_handlers *h, struct hg_nri_log_ctx *ctx);
