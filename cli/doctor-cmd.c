/* SPDX-License-Identifier: Apache-2.0 */
/* host-gateway doctor [--netns PATH | --pid PID] [--port PORT[/tcp|/udp]]... [--config PATH]
 *                     [--cni-conf-dir DIR] [--trace] [--json]
 *
 * Why a container does not reach the host: lib/ops/doctor.c runs the checks; this file parses
 * the arguments and prints one line per check ("✔", "✘ ... — fix: ...", "?") or, with
 * --json, one object {"checks": [{"id", "status", "message", "fix"}]}. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "hg-build-config.h"
#include "cli/doctor-cmd.h"
#include "ops/doctor.h"
#include "base/util.h"
#include "cli/cli.h"
#include "os/fs.h"

static const char usage[] =
	"Usage: host-gateway doctor [--netns PATH | --pid PID] [--port PORT[/tcp|/udp]]...\n"
	"                           [--config PATH] [--cni-conf-dir DIR] [--trace] [--json]\n"
	"  Finds out why a container does not reach the host, changing nothing (but --trace's\n"
	"  own table, for the probe's time). With --netns or --pid (as root, in the host's\n"
	"  network namespace) it tries each --port from inside the\n"
	"  container on the host address (and the virtual IP, and 127.0.0.1 for localhostPorts),\n"
	"  then explains each failure with its fix: no host address or route, nothing listening\n"
	"  or listening on 127.0.0.1 only, the host's input filtering (ufw, firewalld, policy\n"
	"  drop), strict rp_filter; with --pid also the names in the container's /etc/hosts.\n"
	"  A port that fails is explained by the nftables rule that drops or rejects it (its\n"
	"  table, chain, handle and text): the rule whose counter moved, else the ruleset\n"
	"  evaluated against the probe (\"may drop\" past an expression it cannot evaluate), or\n"
	"  with --trace the kernel's own trace of the probe. Legacy iptables tables, which\n"
	"  nftables cannot show, are named with the command that lists them.\n"
	"  A TCP port with no answer (neither SYN-ACK nor RST within 1 s) is a failure, with or\n"
	"  without a rule to explain it; only a silent UDP port is unknown (\"?\").\n"
	"  Exit status: 0 no check failed, 1 a check failed, 2 usage, 3 no diagnosis possible\n"
	"  (doctor could not run, or could tell nothing).\n"
	"\n"
	"Options:\n"
	"  --netns PATH         the container's network namespace (a file such as /run/netns/NAME)\n"
	"  --pid PID            a process of the container: its network namespace and /etc/hosts\n"
	"  --port PORT[/tcp|/udp]\n"
	"                       a port to try (tcp by default); may be repeated\n"
	"  --config PATH        the configuration, when the attachment has no record: the hook\n"
	"                       config (default " HG_DEFAULT_CONFIG "), or a CNI entry or\n"
	"                       conflist file\n"
	"  --cni-conf-dir DIR   check that the configuration runtimes load chains host-gateway\n"
	"                       after the main plugin (alone: only that)\n"
	"  --trace              trace each probe through nftables: adds a table of its own\n"
	"                       (inet host-gateway-doctor-trace-PID, marking only the probe's\n"
	"                       packets) for the probe's time, and removes it, also on SIGINT,\n"
	"                       SIGTERM and SIGHUP\n"
	"  --json               print {\"checks\": [{\"id\", \"status\", \"message\", \"fix\"}]}\n"
	"                       (a failed port also has \"rule\": the rule that explains it)\n"
	"  -h, --help           show this help\n";

enum { OPT_NETNS = 0x100, OPT_PID, OPT_PORT, OPT_CONFIG, OPT_CNI_CONF_DIR, OPT_JSON, OPT_TRACE };

static const struct option options[] = {
	{"netns", required_argument, NULL, OPT_NETNS},
	{"pid", required_argument, NULL, OPT_PID},
	{"port", required_argument, NULL, OPT_PORT},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR},
	{"json", no_argument, NULL, OPT_JSON},
	{"trace", no_argument, NULL, OPT_TRACE},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* A string for JSON: the checks quote bytes nobody checked (an interface name may hold any
 * byte but '/', ':' and blanks), and JSON must be UTF-8: invalid bytes become '?' (util.h)
 * rather than the whole document be lost. NULL stays NULL (JSON null). */
static json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return NULL;
	hg_utf8_sanitize(copy);
	return json_string(copy);
}

static int print_json(const struct hg_checks *c)
{
	json_auto_t *doc = json_object(), *arr = json_array();
	if (!doc || !arr)
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		const struct hg_check *k = &c->v[i];
		json_t *o = json_pack("{s:o, s:s, s:o, s:o}", "id", json_text(k->id), "status",
				      hg_check_status_name(k->status), "message", json_text(k->message), "fix",
				      json_text(k->fix));
		if (o && k->rule && json_object_set(o, "rule", k->rule) < 0) {
			json_decref(o);
			return -1;
		}
		if (!o || json_array_append_new(arr, o) < 0)
			return -1;
	}
	if (json_object_set(doc, "checks", arr) < 0)
		return -1;
	if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF)
		return -1;
	return 0;
}

static int print_human(const struct hg_checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct hg_check *k = &c->v[i];
		const char *mark = k->status == HG_CHECK_PASS ? "✔" : k->status == HG_CHECK_FAIL ? "✘" : "?";
		if (printf("%s %s%s%s\n", mark, k->message, k->fix ? " — fix: " : "", k->fix ? k->fix : "") < 0)
			return -1;
	}
	return 0;
}

int hg_doctor_main(int argc, char **argv)
{
	struct hg_doctor_opts o = {.config = HG_DEFAULT_CONFIG};
	_cleanup_checks_ struct hg_checks checks = {0};
	struct hg_error err = {0};
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return hg_usage_print(usage);
		case OPT_JSON:
			json = true;
			break;
		case OPT_TRACE:
			o.trace = true;
			break;
		case OPT_NETNS:
			o.netns = optarg;
			break;
		case OPT_PID: {
			char *end;
			errno = 0;
			long pid = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || pid <= 0 || pid > 0x3fffffff)
				return hg_usage_error("doctor", "--pid %s is not a process id", optarg);
			o.pid = (pid_t) pid;
			break;
		}
		case OPT_PORT:
			if (o.n_ports == HG_DOCTOR_MAX_PORTS)
				return hg_usage_error("doctor", "at most %d --port", HG_DOCTOR_MAX_PORTS);
			if (hg_doctor_parse_port(optarg, &o.ports[o.n_ports++]) < 0)
				return hg_usage_error("doctor", "--port %s: expected PORT, PORT/tcp or PORT/udp", optarg);
			break;
		case OPT_CONFIG:
			o.config = optarg;
			o.config_given = true;
			break;
		case OPT_CNI_CONF_DIR:
			o.cni_conf_dir = optarg;
			break;
		default:
			return hg_usage_bad_option("doctor", options, c, argv);
		}
	}
	if (optind < argc)
		return hg_usage_extra_operand("doctor", argc, argv);
	if (o.netns && o.pid > 0)
		return hg_usage_error("doctor", "--netns and --pid exclude each other");
	if (!o.netns && o.pid <= 0 && !o.cni_conf_dir)
		return hg_usage_error("doctor", "give --netns, --pid or --cni-conf-dir");
	if (o.n_ports && !o.netns && o.pid <= 0)
		return hg_usage_error("doctor", "--port needs --netns or --pid");
	if (hg_doctor_run(&o, &checks, &err) < 0) {
		fprintf(stderr, "host-gateway doctor: cannot diagnose: %s\n", err.msg);
		return 3;
	}
	if ((json ? print_json(&checks) : print_human(&checks)) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "host-gateway doctor: cannot write stdout: %s\n", strerror(errno));
		return 3;
	}
	if (hg_checks_failed(&checks))
		return 1;
	return checks.n && !hg_checks_diagnosed(&checks) ? 3 : 0;
}
