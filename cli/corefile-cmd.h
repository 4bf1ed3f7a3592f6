/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway corefile`: the command front of lib/base/corefile.c (arguments, stdin, stdout). */
#pragma once

/* argv[0] is "corefile". Returns the exit status: 0, 1 when the Corefile is refused or
 * cannot be read or written, 2 on a usage error. */
int hg_corefile_main(int argc, char **argv);
