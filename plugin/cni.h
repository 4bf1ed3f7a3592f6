/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI personality: the protocol of the CNI spec (0.3.0 to 1.1.0) around the shared
 * pipeline. hg_cni_run returns the exit status and the one JSON document main prints. */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include "base/cni-version.h"
#include "os/log.h"

struct hg_cni_env {
	const char *command, *container_id, *netns, *ifname, *args, *path;
	bool netns_override;
};

/* Reads CNI_* from the environment; empty values count as absent (libcni exports them all). */
void hg_cni_env_from_environ(struct hg_cni_env *env);
/* log: where diagnostics go (the config's logFile is added by hg_cni_run itself). */
int hg_cni_run(const struct hg_cni_env *env, const char *input, size_t len, json_t **output,
	       const struct hg_log *log);
/* K=V;K2=V2 → the value of key, or NULL. Returns -1 on a malformed string. */
int hg_cni_args_get(const char *args, const char *key, char *value, size_t size);
