/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "base/util.h"
#include "cli/cli.h"
#include "os/fs.h"
#include "base/error.h"

const struct hg_command *hg_command_find(const char *name)
{
	for (const struct hg_command *c = hg_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int hg_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "host-gateway%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'host-gateway%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return HG_EXIT_USAGE;
}

/* The long options that "--NAME" (NAME up to len) names: an exact match, else every option
 * NAME abbreviates, as getopt_long reads it. */
static size_t long_matches(const struct option *options, const char *name, size_t len, const struct option **first)
{
	size_t n = 0;
	*first = NULL;
	for (const struct option *o = options; o->name; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (strlen(o->name) == len) {
			*first = o;
			return 1;
		}
		if (!n++)
			*first = o;
	}
	return n;
}

int hg_usage_bad_option(const char *cmd, const struct option *options, int c, char **argv)
{
	/* getopt_long has stepped past the element it refused, except inside a group of short
	 * options ("-xh": the element is still argv[optind]); for a short option, optopt is
	 * its character. */
	const char *arg = argv[optind - 1], *next = argv[optind];
	bool in_group = optopt > 0 && optopt < 256 && next && next[0] == '-' && next[1] != '-' &&
			strchr(next + 1, optopt);
	if (in_group || strncmp(arg, "--", 2) != 0 || !arg[2]) {
		if (c == ':')
			return hg_usage_error(cmd, "-%c needs a value", optopt);
		return hg_usage_error(cmd, "unknown argument \"-%c\"", optopt);
	}
	if (c == ':')
		return hg_usage_error(cmd, "%s needs a value", arg);
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t) (eq - arg - 2) : strlen(arg + 2);
	const struct option *o;
	size_t n = long_matches(options, arg + 2, len, &o);
	if (n == 1 && eq)
		return hg_usage_error(cmd, "--%s takes no value", o->name);
	if (n > 1)
		return hg_usage_error(cmd, "\"%.*s\" is ambiguous (--%s, ...)", (int) (len + 2), arg, o->name);
	return hg_usage_error(cmd, "unknown argument \"%s\"", arg);
}

int hg_usage_extra_operand(const char *cmd, int argc, char **argv)
{
	return hg_usage_error(cmd, "unknown argument \"%s\"", argv[optind]);
}

int hg_usage_print(const char *usage)
{
	if (fputs(usage, stdout) == EOF || fflush(stdout) != 0) {
		perror("host-gateway: stdout");
		return 1;
	}
	return 0;
}

int hg_cli_read_stdin(char **out, size_t *len)
{
	struct hg_error err = {0};
	if (hg_read_fd(STDIN_FILENO, "stdin", 64u << 20, HG_READ_STREAM, NULL, out, len, &err) < 0) {
		errno = err.errnum ? err.errnum : EIO;
		return -1;
	}
	return 0;
}
