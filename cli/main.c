/* The single entry point: the CNI environment selects the CNI personality, `hook STAGE`
 * the OCI hook personality, anything else the command line for people. Only this file and
 * the command fronts it dispatches to (install-cmd.c, corefile-cmd.c, doctor-cmd.c) write
 * to stdout. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "hg-build-config.h"
#include "plugin/cni.h"
#include "cli/corefile-cmd.h"
#include "cli/doctor-cmd.h"
#include "hook/hook.h"
#include "cli/install-cmd.h"
#include "os/nft.h"
#include "base/util.h"
#include "base/error.h"
#include "os/fs.h"

static const char help[] =
	"Usage: host-gateway [--help | --version]\n"
	"       host-gateway hook createRuntime|prestart|poststop [--config PATH]\n"
	"       host-gateway gc [--config PATH]\n"
	"       host-gateway corefile --ip VIP [--name NAME]... [--k3s-override]\n"
	"       host-gateway doctor [--netns PATH | --pid PID] [--port PORT[/tcp|/udp]]... [--config PATH]\n"
	"                           [--cni-conf-dir DIR] [--json]\n"
	"       host-gateway install [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--plugin-config JSON|@FILE]\n"
	"                            [--watch | --check]\n"
	"       host-gateway uninstall [--cni-conf-dir DIR] [--cni-bin-dir DIR] [--plugin-config JSON|@FILE]\n"
	"                              [--force]\n"
	"\n"
	"Makes the host reachable from containers by name: host.docker.internal,\n"
	"host.containers.internal and gateway.docker.internal (configurable).\n"
	"\n"
	"As a CNI plugin (CNI_COMMAND set): list it after the main plugin of a conflist:\n"
	"  {\"type\": \"host-gateway\", \"capabilities\": {\"io.kubernetes.cri.pod-annotations\": true}}\n"
	"  Keys: names, hostIPs, extraHosts, stateDir, logFile. Commands: ADD DEL CHECK GC STATUS VERSION.\n"
	"  Supported CNI versions: 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0.\n"
	"  nftables keys: virtualIPs, hostAlias, localhostPorts, hostLoopbackPorts.\n"
	"\n"
	"As an OCI hook (hook STAGE, the OCI state on stdin): writes the names into the\n"
	"container's /etc/hosts and, where no CNI plugin ran, does the same plumbing.\n"
	"  --config PATH  the hook's configuration (default " HG_DEFAULT_CONFIG ");\n"
	"                 the same keys as the CNI entry, plus failurePolicy (ignore|fail)\n"
	"\n"
	"gc: removes what a runtime left when it never ran poststop (it failed after\n"
	"  createRuntime, or was killed): memberships of containers that are gone, the\n"
	"  plumbing of network namespaces that are gone or unused, dangling index links.\n"
	"  The stateDir is the one of --config's file. A CNI GC does the same.\n"
	"\n"
	"corefile: reads a CoreDNS Corefile on stdin and prints it with VIP NAME... in the\n"
	"  hosts plugin of its main server block, for pods that resolve through CoreDNS;\n"
	"  --k3s-override prints a host-gateway.override key for k3s's coredns-custom instead.\n"
	"  Exit status: 0 ok, 1 Corefile refused, 2 usage. See host-gateway corefile --help.\n"
	"\n"
	"doctor: finds out, changing nothing, why a container does not reach the host: tries\n"
	"  each --port from inside its network namespace, then explains every failure with its\n"
	"  fix (host address, route, listener, ufw/firewalld/nftables input drop, rp_filter, the\n"
	"  names in its /etc/hosts with --pid, the conflist with --cni-conf-dir). Exit status:\n"
	"  0 all pass, 1 a check failed, 2 usage, 3 no diagnosis. See host-gateway doctor --help.\n"
	"\n"
	"install: copies this binary to the CNI bin folder (default /opt/cni/bin) and appends\n"
	"  the plugin entry (--plugin-config, default {\"type\":\"host-gateway\",\"capabilities\":\n"
	"  {\"io.kubernetes.cri.pod-annotations\":true}}) to the configuration runtimes load:\n"
	"  the first *.conf, *.conflist or *.json by name in the CNI configuration folder\n"
	"  (default /etc/cni/net.d); a single-plugin .conf becomes a .conflist. An entry of\n"
	"  type host-gateway already there is replaced. Nothing is written when the entry or\n"
	"  the file is refused. --watch keeps it there when the file is rewritten (kindnetd)\n"
	"  until SIGTERM (exit 0), or exit 1 when another writer keeps replacing it with a\n"
	"  different host-gateway entry; --check exits 0 when the binary and the entry are\n"
	"  in place, 1 otherwise (a readiness probe).\n"
	"uninstall: removes the entry, then the binary unless attachment records remain in\n"
	"  the stateDir (their DEL needs it) or a Debian package owns it; --force removes it\n"
	"  despite records. Exit status: 0 ok, 1 failure, 2 usage.\n"
	"\n"
	"Options:\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version and the supported CNI versions\n"
	"\n"
	"See README.md for configuration keys, annotations and examples.\n";

static void log_to_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "host-gateway: %s\n", msg);
}

static int read_stdin(char **out, size_t *len)
{
	/* A network configuration is small; refuse to buffer without bound. */
	struct hg_error err = {0};
	return hg_read_fd(STDIN_FILENO, "stdin", 64u << 20, HG_READ_STREAM, NULL, out, len, &err);
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
	if (read_stdin(&input, &len) < 0) {
		printf("{\"cniVersion\":\"1.1.0\",\"code\":5,\"msg\":\"cannot read the configuration on stdin\"}\n");
		return 1;
	}
	int ret = hg_cni_run(&env, input, len, &out, &log);
	if (ret != 0 && !out) { /* no memory left even for the error document */
		printf("{\"cniVersion\":\"1.1.0\",\"code\":5,\"msg\":\"out of memory\"}\n");
		return 1;
	}
	if (print_json(out) < 0)
		return 1;
	return ret;
}

/* [--config PATH | --config=PATH] from argv[first]; -1 (said on stderr) on anything else. */
static int parse_config_arg(const char *cmd, int argc, char **argv, int first, const char **config)
{
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			*config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			*config = argv[i] + 9;
		else {
			fprintf(stderr, "host-gateway %s: unknown argument \"%s\"\n", cmd, argv[i]);
			return -1;
		}
	}
	return 0;
}

static int hook_main(int argc, char **argv)
{
	const char *config = HG_DEFAULT_CONFIG;
	struct hg_log log = {.fn = log_to_stderr};
	_cleanup_free_ char *input = NULL;
	size_t len = 0;

	if (argc < 3) {
		fprintf(stderr, "host-gateway hook: missing STAGE (createRuntime, prestart or poststop)\n");
		return 2;
	}
	if (parse_config_arg("hook", argc, argv, 3, &config) < 0)
		return 2;
	if (read_stdin(&input, &len) < 0) {
		fprintf(stderr, "host-gateway: hook %s: cannot read the OCI state on stdin\n", argv[2]);
		return 1;
	}
	return hg_hook_run(argv[2], config, input, len, &log);
}

/* The collector of what runtimes left behind (poststop never run): exit 0 when the
 * state directory was usable, 1 otherwise. */
static int gc_main(int argc, char **argv)
{
	const char *config = HG_DEFAULT_CONFIG;
	struct hg_log log = {.fn = log_to_stderr};
	if (parse_config_arg("gc", argc, argv, 2, &config) < 0)
		return 2;
	int n = hg_hook_gc(config, &log);
	if (n < 0)
		return 1;
	printf("host-gateway gc: removed %d stale item%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static int run(int argc, char **argv);

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

static int run(int argc, char **argv)
{
	const char *cmd = getenv("CNI_COMMAND");
	if (cmd && cmd[0])
		return cni_main();
	if (argc >= 2 && strcmp(argv[1], "hook") == 0)
		return hook_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "gc") == 0)
		return gc_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "corefile") == 0)
		return hg_corefile_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
		return hg_doctor_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "install") == 0)
		return hg_install_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "uninstall") == 0)
		return hg_uninstall_main(argc, argv);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("host-gateway %s\nCNI spec versions: ", HG_VERSION);
		for (size_t i = 0; hg_cni_versions[i]; i++)
			printf("%s%s", i ? " " : "", hg_cni_versions[i]);
		printf("\n");
		return 0;
	}
	if (argc >= 2)
		fprintf(stderr, "host-gateway: unknown argument \"%s\"\n\n", argv[1]);
	fputs(help, stderr);
	return 2;
}
