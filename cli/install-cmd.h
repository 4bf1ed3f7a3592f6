/* SPDX-License-Identifier: Apache-2.0 */
/* The node-setup commands for people and DaemonSets: `install` and `uninstall` (see --help).
 * Argument parsing and output only; lib/ops/install.c does the work. */
#pragma once

/* argv[0] is "install" / "uninstall". Exit status: 0 ok, 1 failure, 2 usage. */
int hg_install_main(int argc, char **argv);
int hg_uninstall_main(int argc, char **argv);
