/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway hook` and `host-gateway gc`: the command fronts of the OCI hook personality
 * (hook/oci.c) and of its collector. */
#pragma once

/* argv[0] is "hook": `hook STAGE [--config PATH]`, the OCI state on stdin. Returns the exit
 * status hg_hook_run decides, 2 on a usage error. */
int hg_hook_main(int argc, char **argv);
/* argv[0] is "gc". Exit status: 0 when the state directory was usable, 1 otherwise, 2 usage. */
int hg_gc_main(int argc, char **argv);
