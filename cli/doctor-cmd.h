/* SPDX-License-Identifier: Apache-2.0 */
/* `host-gateway doctor`: the command front of lib/ops/doctor.c (arguments, output). */
#pragma once

/* argv[0] is "doctor". Returns the exit status: 0 every check passed, 1 one failed, 2 usage
 * error, 3 no diagnosis was possible (not root, the namespace is gone). */
int hg_doctor_main(int argc, char **argv);
