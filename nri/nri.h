/* SPDX-License-Identifier: Apache-2.0 */
/* The NRI personality: `host-gateway nri [OPTIONS]` (cli/nri-cmd.c parses them), or the
 * binary started by the runtime as a pre-registered plugin (NRI_PLUGIN_SOCKET in the
 * environment). */
#pragma once

#include <stdbool.h>
#include "os/log.h"

/* containerd/nri's conventions (pkg/api/plugin.go). */
#define HG_NRI_DEFAULT_SOCKET "/var/run/nri/nri.sock"
#define HG_NRI_ENV_SOCKET "NRI_PLUGIN_SOCKET"
#define HG_NRI_ENV_NAME "NRI_PLUGIN_NAME"
#define HG_NRI_ENV_IDX "NRI_PLUGIN_IDX"
#define HG_NRI_DEFAULT_NAME "host-gateway"
/* The order among plugins: host-gateway adjusts nothing another plugin would adjust, so
 * the middle of the range leaves room on both sides. */
#define HG_NRI_DEFAULT_INDEX "50"

struct hg_nri_options {
	const char *socket_path; /* connected to when launched_fd < 0 */
	const char *config;      /* host-gateway's configuration */
	const char *name, *idx;  /* registered as IDX-NAME */
	int launched_fd;         /* the socket the runtime gave us, or -1 */
};

/* A plugin name NRI accepts (letters, digits, - _ . +; at most 64), and an index (two
 * digits). */
bool hg_nri_valid_name(const char *s);
bool hg_nri_valid_index(const char *s);

/* Runs the plugin until SIGTERM/SIGINT or, launched, until the runtime closes the socket;
 * the exit status (0 stopped or closed, 1 failure). Messages go to log. */
int hg_nri_run(const struct hg_nri_options *o, const struct hg_log *log);
