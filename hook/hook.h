/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI hook personality: `host-gateway hook STAGE [--config PATH]`, with the OCI state
 * on stdin, run by crun, runc, podman (hooks.d), CRI-O and containerd (base spec). */
#pragma once

#include <stddef.h>
#include "os/log.h"

/* Returns the exit status. log receives every diagnostic line. */
int hg_hook_run(const char *stage, const char *config_path, const char *input, size_t len, const struct hg_log *log);

/* `host-gateway gc`: the collector (collect.h) over the stateDir of the config file at
 * config_path. Returns how many items it removed, -1 when it could not run. */
int hg_hook_gc(const char *config_path, const struct hg_log *log);
