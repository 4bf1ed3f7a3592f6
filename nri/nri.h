/* The NRI personality: `host-gateway nri [OPTIONS]`, or the binary started by the runtime
 * as a pre-registered plugin (NRI_PLUGIN_SOCKET in the environment). */
#pragma once

#include <stdbool.h>

/* True when the runtime started us as a pre-registered plugin (/opt/nri/plugins): it
 * passes no argument, only the connected socket's fd in the environment. */
bool hg_nri_launched_by_runtime(void);
/* Runs the plugin; the exit status. */
int hg_nri_main(int argc, char **argv);
