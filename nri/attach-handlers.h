/* SPDX-License-Identifier: Apache-2.0 */
/* The NRI personality's work behind handlers.h: pods attached, containers named. */
#pragma once

#include <jansson.h>
#include "base/config.h"
#include "nri/handlers.h"
#include "nri/log-handlers.h"

struct hg_nri_attach_ctx {
	const struct hg_log *log;
	const char *config_path; /* host-gateway's configuration (the hook's keys), absolute */
	char *config_abs;        /* config_path made absolute, for the injected hook */
	json_t *conf;            /* its object; NULL: the defaults */
	struct hg_config base;   /* the file's configuration: stateDir, failurePolicy */
	char *self;              /* this binary's real path, for the injected hook; NULL: unknown */
	struct hg_nri_handlers trace; /* one log line per event, before the work */
	struct hg_nri_log_ctx trace_ctx;
};

/* Loads config_path (a missing file is the defaults); -1 (err) on an invalid one. */
int hg_nri_attach_init(struct hg_nri_attach_ctx *c, const char *config_path, const struct hg_log *log,
		       struct hg_error *err);
void hg_nri_attach_free(struct hg_nri_attach_ctx *c);
void hg_nri_attach_handlers(struct hg_nri_handlers *h, struct hg_nri_attach_ctx *ctx);
