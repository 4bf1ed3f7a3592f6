/* SPDX-License-Identifier: Apache-2.0 */
/* The single entry point: the CNI environment selects the CNI personality, anything else the
 * command line for people, dispatched through the table of commands below (`hook STAGE`, the
 * OCI hook personality, is one of them). Only this file and the command fronts it dispatches
 * to (*-cmd.c) write to stdout. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "hg-build-config.h"
#include "plugin/cni.h"
#include "cli/cli.h"
#include "cli/corefile-cmd.h"
#include "cli/doctor-cmd.h"
#include "cli/hook-cmd.h"
#include "cli/nri-cmd.h"
#include "cli/install-cmd.h"
#include "os/nft.h"
#include "base/util.h"
#include "base/error.h"
#include "os/fs.h"

static int help_main(int argc, char **argv);
static int version_main(int argc, char **argv);

const struct hg_command hg_commands[] = {
	{"install", hg_install_main, "Copy the binary and chain the plugin into the CNI configuration"},
	{"uninstall", hg_uninstall_main, "Remove the plugin's entry, then the binary"},
	{"doctor", hg_doctor_main, "Find out why a container does not reach the host"},
	{"corefile", hg_corefile_main, "Add the host's names to a CoreDNS Corefile"},
	{"hook", hg_hook_main, "Run as an OCI hook (createRuntime, prestart, poststop)"},
	{"gc", hg_gc_main, "Remove what runtimes left when poststop never ran"},
	{"nri", hg_nri_main, "Run as an NRI plugin of containerd or CRI-O"},
	{"version", version_main, "Show the version and the supported CNI versions"},
	{"help", help_main, "List the commands, or show a command's help"},
	{NULL},
};

static const char help_head[] =
	"Usage: host-gateway COMMAND [OPTION]...\n"
	"       host-gateway help [COMMAND]\n"
	"       host-gateway --help | --version\n"
	"       CNI_COMMAND=ADD|DEL|CHECK|GC|STATUS|VERSION host-gateway < CONFIG\n"
	"\n"
	"Makes the host reachable from containers by name: host.docker.internal,\n"
	"host.containers.internal and gateway.docker.internal (configurable).\n"
	"\n"
	"Commands:\n";

static const char help_tail[] =
	"\n"
	"As a CNI plugin (CNI_COMMAND set): list it after the main plugin of a conflist:\n"
	"  {\"type\": \"host-gateway\", \"capabilities\": {\"io.kubernetes.cri.pod-annotations\": true}}\n"
	"  Keys: names, hostIPs, extraHosts, stateDir, logFile. Commands: ADD DEL CHECK GC STATUS VERSION.\n"
	"  Supported CNI versions: " HG_CNI_VERSIONS_WORDS ".\n"
	"  nftables keys: virtualIPs, hostAlias, localhostPorts, hostLoopbackPorts.\n"
	"\n"
	"Options:\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version and the supported CNI versions\n"
	"\n"
	"'host-gateway help COMMAND' shows the options of a command; host-gateway(8) is the\n"
	"reference, with the configuration keys and annotations.\n";

static const char help_usage[] =
	"Usage: host-gateway help [COMMAND]\n"
	"  Lists the commands, or shows the help of COMMAND (as COMMAND --help does).\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n";

static const char version_usage[] =
	"Usage: host-gateway version\n"
	"  Shows the version and the CNI specification versions the plugin speaks\n"
	"  (as host-gateway -V does).\n"
	"\n"
	"Options:\n"
	"  -h, --help  show this help\n";

static const struct option help_only[] = {
	{"help", no_argument, NULL, 'h'},
	{},
};

static void log_to_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway: %s\n", msg);
}

static int print_json(json_t *j)
{
	if (!j)
		return 0;
	if (json_dumpf(j, stdout, JSON_COMPACT) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		return -1;
	return 0;
}

static int cni_main(void)
{
	struct hg_cni_env env;
	struct hg_log log = {.fn = log_to_stderr};
	_cleanup_free_ char *input = NULL;
	size_t len = 0;
	json_auto_t *out = NULL;

	hg_cni_env_from_environ(&env);
	if (hg_cli_read_stdin(&input, &len) < 0) {
		printf("{\"cniVersion\":\"" HG_CNI_VERSION_LATEST
		       "\",\"code\":5,\"msg\":\"cannot read the configuration on stdin\"}\n");
		return 1;
	}
	int ret = hg_cni_run(&env, input, len, &out, &log);
	if (ret != 0 && !out) { /* no memory left even for the error document */
		printf("{\"cniVersion\":\"" HG_CNI_VERSION_LATEST "\",\"code\":5,\"msg\":\"out of memory\"}\n");
		return 1;
	}
	if (print_json(out) < 0)
		return 1;
	return ret;
}

static int print_help(void)
{
	fputs(help_head, stdout);
	for (const struct hg_command *c = hg_commands; c->name; c++)
		printf("  %-10s %s\n", c->name, c->description);
	fputs(help_tail, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int print_version(void)
{
	printf("host-gateway %s\nCNI spec versions: " HG_CNI_VERSIONS_WORDS "\n", HG_VERSION);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --help, and no operand; 0 to go on, else the exit status (*done set after --help). */
static int parse_help_only(const char *cmd, const char *usage, int argc, char **argv, bool *done)
{
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", help_only, NULL)) != -1) {
		if (c != 'h')
			return hg_usage_bad_option(cmd, help_only, c, argv);
		*done = true;
		return hg_usage_print(usage);
	}
	return 0;
}

static int help_main(int argc, char **argv)
{
	bool done = false;
	int r = parse_help_only("help", help_usage, argc, argv, &done);
	if (r || done)
		return r;
	if (optind == argc)
		return print_help();
	const struct hg_command *c = hg_command_find(argv[optind]);
	if (!c)
		return hg_usage_error("help", "unknown command \"%s\"", argv[optind]);
	if (optind + 1 < argc) {
		optind++;
		return hg_usage_extra_operand("help", argc, argv);
	}
	/* Exactly what `COMMAND --help` does: the same function, from a fresh getopt. */
	char *args[] = {(char *) c->name, "--help", NULL};
	optind = 0;
	return c->main(2, args);
}

static int version_main(int argc, char **argv)
{
	bool done = false;
	int r = parse_help_only("version", version_usage, argc, argv, &done);
	if (r || done)
		return r;
	if (optind < argc)
		return hg_usage_extra_operand("version", argc, argv);
	return print_version();
}

static int run(int argc, char **argv)
{
	const char *cni = getenv("CNI_COMMAND");
	if (cni && cni[0])
		return cni_main();
	/* A pre-registered NRI plugin is started with no argument at all. */
	if (argc < 2 && hg_nri_launched_by_runtime()) {
		char *args[] = {"nri", NULL};
		return hg_nri_main(1, args);
	}
	if (argc < 2)
		return hg_usage_error(NULL, "missing COMMAND");
	const char *arg = argv[1];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		return print_help();
	if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0)
		return print_version();
	const struct hg_command *c = hg_command_find(arg);
	if (!c)
		return hg_usage_error(NULL, arg[0] == '-' ? "unknown argument \"%s\"" : "unknown command \"%s\"", arg);
	/* The command sees itself as argv[0], as a program of its own would. */
	return c->main(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);
	/* The output is complete: a runtime waiting for EOF and for the exit status need
	 * not also wait for the kernel to tear down our nftables sockets (nft.h). */
	fflush(stdout);
	fflush(stderr);
	hg_nft_release_detached();
	return rc;
}
