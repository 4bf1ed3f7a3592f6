/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include "hg-build-config.h"
#include "cli/hook-cmd.h"
#include "cli/cli.h"
#include "hook/hook.h"
#include "base/util.h"

static const char hook_usage[] =
	"Usage: host-gateway hook createRuntime|prestart|poststop [--config PATH]\n"
	"  The OCI hook, run by crun, runc, podman and CRI-O (hooks.d) and containerd (base\n"
	"  runtime spec) with the container's OCI state on stdin. createRuntime (or prestart)\n"
	"  writes the names into the container's /etc/hosts and, where no CNI plugin ran, does\n"
	"  the same plumbing; poststop undoes it.\n"
	"  Exit status: 0 ok (poststop always; createRuntime also on a failure under\n"
	"  failurePolicy \"ignore\"), non-zero on a failure under \"fail\", 2 usage.\n"
	"\n"
	"Options:\n"
	"  --config PATH  the hook's configuration (default " HG_DEFAULT_CONFIG ");\n"
	"                 the same keys as the CNI entry, plus failurePolicy (ignore|fail)\n"
	"  -h, --help     show this help\n";

static const char gc_usage[] =
	"Usage: host-gateway gc [--config PATH]\n"
	"  Removes what a runtime left when it never ran poststop (it failed after\n"
	"  createRuntime, or was killed): memberships of containers that are gone, the\n"
	"  plumbing of network namespaces that are gone or unused, the NRI plugin's\n"
	"  attachments of pods whose namespace is gone, dangling index links.\n"
	"  A CNI GC does the same.\n"
	"  Exit status: 0 when the state directory was usable, 1 otherwise, 2 usage.\n"
	"\n"
	"Options:\n"
	"  --config PATH  the hook's configuration, whose stateDir is collected (default\n"
	"                 " HG_DEFAULT_CONFIG ")\n"
	"  -h, --help     show this help\n";

enum { OPT_CONFIG = 0x100 };

static const struct option options[] = {
	{"config", required_argument, NULL, OPT_CONFIG},
	{"help", no_argument, NULL, 'h'},
	{},
};

static void log_to_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway: %s\n", msg);
}

/* --config PATH, --help; the operands, in order, in operands[] (up to max; *n counts them all).
 * 0 to go on, else the exit status (*done set after --help). The leading "-" returns each
 * operand in turn instead of permuting argv: a runtime's `hook STAGE --config PATH` means the
 * same under POSIXLY_CORRECT, which would otherwise stop option parsing at STAGE. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, const char **config,
		 const char **operands, int max, int *n, bool *done)
{
	int c;
	opterr = 0;
	*n = 0;
	while ((c = getopt_long(argc, argv, "-:h", options, NULL)) != -1) {
		switch (c) {
		case 1:
			if (*n >= max)
				return hg_usage_error(cmd, "unknown argument \"%s\"", optarg);
			operands[(*n)++] = optarg;
			break;
		case 'h':
			*done = true;
			return hg_usage_print(usage);
		case OPT_CONFIG:
			*config = optarg;
			break;
		default:
			return hg_usage_bad_option(cmd, options, c, argv);
		}
	}
	/* After "--": the rest are operands. */
	for (; optind < argc; optind++) {
		if (*n >= max)
			return hg_usage_error(cmd, "unknown argument \"%s\"", argv[optind]);
		operands[(*n)++] = argv[optind];
	}
	return 0;
}

int hg_hook_main(int argc, char **argv)
{
	const char *config = HG_DEFAULT_CONFIG;
	struct hg_log log = {.fn = log_to_stderr};
	_cleanup_free_ char *input = NULL;
	size_t len = 0;
	bool done = false;

	const char *stage = NULL;
	int n = 0;

	int r = parse("hook", hook_usage, argc, argv, &config, &stage, 1, &n, &done);
	if (r || done)
		return r;
	if (n == 0)
		return hg_usage_error("hook", "missing STAGE (createRuntime, prestart or poststop)");
	if (hg_cli_read_stdin(&input, &len) < 0) {
		fprintf(stderr, "host-gateway: hook %s: cannot read the OCI state on stdin\n", stage);
		return 1;
	}
	return hg_hook_run(stage, config, input, len, &log);
}

/* The collector of what runtimes left behind (poststop never run). */
int hg_gc_main(int argc, char **argv)
{
	const char *config = HG_DEFAULT_CONFIG;
	struct hg_log log = {.fn = log_to_stderr};
	bool done = false;
	int operands = 0;

	int r = parse("gc", gc_usage, argc, argv, &config, NULL, 0, &operands, &done);
	if (r || done)
		return r;
	int n = hg_hook_gc(config, &log);
	if (n < 0)
		return 1;
	printf("host-gateway gc: removed %d stale item%s\n", n, n == 1 ? "" : "s");
	return 0;
}
