/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway nri`: the command front of the NRI personality (nri/): its options, and the
 * environment of a plugin the runtime started. */
#pragma once

#include <stdbool.h>

/* True when the runtime started us as a pre-registered plugin (/opt/nri/plugins): it
 * passes no argument, only the connected socket's fd in the environment. */
bool hg_nri_launched_by_runtime(void);
int hg_nri_main(int argc, char **argv);
