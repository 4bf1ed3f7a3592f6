/* SPDX-License-Identifier: Apache-2.0 */
/* What the commands of the command line share: the table main dispatches through, and the
 * one shape of their help and of their usage errors. */
#pragma once

#include <stddef.h>
#include <getopt.h>

/* One command: `host-gateway NAME ARG...` calls main(argc, argv) with argv[0] = NAME; it
 * returns the exit status. description is the line `host-gateway help` shows. */
struct hg_command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *description;
};

extern const struct hg_command hg_commands[]; /* ends with {NULL} */

/* The command of that name, or NULL. */
const struct hg_command *hg_command_find(const char *name);

/* Exit statuses common to every command: 2 is a usage error. */
#define HG_EXIT_USAGE 2

/* A usage error of command cmd (NULL: of host-gateway itself), in the one shape every
 * command uses, on stderr:
 *     host-gateway CMD: MESSAGE
 *     Try 'host-gateway CMD --help'.
 * Returns HG_EXIT_USAGE. */
int hg_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What getopt_long returned for an argument it refused ('?' or ':', the optstring starting
 * with ':' and opterr = 0), said in that shape: an unknown or ambiguous option, a missing
 * value, a value given to an option that takes none. Returns HG_EXIT_USAGE. */
int hg_usage_bad_option(const char *cmd, const struct option *options, int c, char **argv);

/* The first operand after the options (getopt_long has permuted them to the end), refused:
 * for the commands that take none. Returns HG_EXIT_USAGE. */
int hg_usage_extra_operand(const char *cmd, int argc, char **argv);

/* usage on stdout: the answer to --help. Returns 0, or 1 when stdout cannot be written. */
int hg_usage_print(const char *usage);

/* The whole of stdin (at most 64 MiB: a network configuration or an OCI state is small), in
 * *out, a buffer the caller frees. -1 with errno on failure. */
int hg_cli_read_stdin(char **out, size_t *len);
