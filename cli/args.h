#pragma once

#include <stdbool.h>

/* "--opt VALUE" or "--opt=VALUE" at argv[*i]: the value (advancing *i past VALUE), or NULL
 * when argv[*i] is not opt (*missing set when VALUE is missing). */
const char *hg_opt_value(int argc, char **argv, int *i, const char *opt, bool *missing);
