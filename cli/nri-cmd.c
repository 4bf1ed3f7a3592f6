/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "hg-build-config.h"
#include "cli/cli.h"
#include "cli/nri-cmd.h"
#include "nri/nri.h"

static const char usage[] =
	"Usage: host-gateway nri [--socket PATH] [--config PATH] [--name NAME] [--index NN]\n"
	"  Runs as an NRI plugin: connects to the runtime's NRI socket, registers as NN-NAME,\n"
	"  and follows pods and containers; reconnects with a backoff when the runtime goes\n"
	"  away, until SIGTERM or SIGINT. Started by the runtime from its plugin folder\n"
	"  (/opt/nri/plugins/NN-NAME), it uses the socket it was given (" HG_NRI_ENV_SOCKET ")\n"
	"  and exits when the runtime closes it. Logs go to stderr.\n"
	"  Exit status: 0 stopped or closed by the runtime, 1 failure, 2 usage.\n"
	"\n"
	"Options:\n"
	"  --socket PATH  the runtime's NRI socket (default " HG_NRI_DEFAULT_SOCKET ")\n"
	"  --config PATH  host-gateway's configuration (default " HG_DEFAULT_CONFIG ")\n"
	"  --name NAME    the plugin's name (default " HG_NRI_DEFAULT_NAME ")\n"
	"  --index NN     its place among the plugins, two digits (default " HG_NRI_DEFAULT_INDEX ")\n"
	"  -h, --help     show this help\n";

enum { OPT_SOCKET = 0x100, OPT_CONFIG, OPT_NAME, OPT_INDEX };

static const struct option options[] = {
	{"socket", required_argument, NULL, OPT_SOCKET},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"name", required_argument, NULL, OPT_NAME},
	{"index", required_argument, NULL, OPT_INDEX},
	{"help", no_argument, NULL, 'h'},
	{},
};

static void log_to_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway nri: %s\n", msg);
}

bool hg_nri_launched_by_runtime(void)
{
	const char *fd = getenv(HG_NRI_ENV_SOCKET);
	return fd && fd[0];
}

int hg_nri_main(int argc, char **argv)
{
	struct hg_nri_options o = {
		.socket_path = HG_NRI_DEFAULT_SOCKET,
		.config = HG_DEFAULT_CONFIG,
		.name = HG_NRI_DEFAULT_NAME,
		.idx = HG_NRI_DEFAULT_INDEX,
		.launched_fd = -1,
	};
	struct hg_log log = {.fn = log_to_stderr};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return hg_usage_print(usage);
		case OPT_SOCKET:
			o.socket_path = optarg;
			break;
		case OPT_CONFIG:
			o.config = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_INDEX:
			o.idx = optarg;
			break;
		default:
			return hg_usage_bad_option("nri", options, c, argv);
		}
	}
	if (optind < argc)
		return hg_usage_extra_operand("nri", argc, argv);
	/* The runtime's word on who we are wins: it is the name of our file in its folder. */
	if (hg_nri_launched_by_runtime()) {
		const char *env_fd = getenv(HG_NRI_ENV_SOCKET), *env_name = getenv(HG_NRI_ENV_NAME),
			   *env_idx = getenv(HG_NRI_ENV_IDX);
		char *end;
		errno = 0;
		long fd = strtol(env_fd, &end, 10);
		if (errno || *end || fd < 0 || fd > 65535) {
			fprintf(stderr, "host-gateway nri: %s=%s: not a file descriptor\n", HG_NRI_ENV_SOCKET, env_fd);
			return 1;
		}
		o.launched_fd = (int) fd;
		if (env_name && env_name[0])
			o.name = env_name;
		if (env_idx && env_idx[0])
			o.idx = env_idx;
	}
	if (!hg_nri_valid_name(o.name))
		return hg_usage_error("nri", "invalid plugin name \"%s\" (letters, digits, - _ . +)", o.name);
	if (!hg_nri_valid_index(o.idx))
		return hg_usage_error("nri", "invalid plugin index \"%s\" (two digits)", o.idx);
	return hg_nri_run(&o, &log);
}
