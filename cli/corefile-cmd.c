/* SPDX-License-Identifier: Apache-2.0 */
/* host-gateway corefile --ip VIP [--ip VIP6] [--name NAME]... [--k3s-override]
 *
 * Reads a CoreDNS Corefile on stdin and prints it with the names of the host in the main
 * server block (a kubectl pipeline feeds it and takes the result, docs/kubernetes.md "Names in pods:
 * CoreDNS"); with --k3s-override, prints the content of the host-gateway.override key of
 * k3s's coredns-custom ConfigMap and reads nothing. The work is in lib/base/corefile.c; this file
 * only parses arguments and moves bytes. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/corefile-cmd.h"
#include "base/corefile.h"
#include "base/util.h"
#include "cli/cli.h"
#include "os/fs.h"

static const char usage[] =
	"Usage: host-gateway corefile --ip VIP [--ip VIP] [--name NAME]... [--k3s-override]\n"
	"  Reads a CoreDNS Corefile on stdin and prints it with VIP NAME... in the hosts plugin of\n"
	"  its main server block (.:53), also when that hosts block is in a snippet the block\n"
	"  imports; running it again changes nothing. Refused (exit 1, the line named): what\n"
	"  CoreDNS would refuse or misread, a NUL byte, an import of a file when the block shows\n"
	"  no hosts directive (it may hold one), and another server block on port 53 whose zone\n"
	"  holds a name (CoreDNS answers it there).\n"
	"  Exit status: 0 ok, 1 Corefile refused, 2 usage.\n"
	"\n"
	"Options:\n"
	"  --ip VIP          the virtual IP: one IPv4 and/or one IPv6 address\n"
	"  --name NAME       a name of the host; may be repeated (default host.docker.internal,\n"
	"                    host.containers.internal, gateway.docker.internal)\n"
	"  --k3s-override    print the host-gateway.override key of k3s's coredns-custom\n"
	"                    ConfigMap instead (template directives; stdin is not read)\n"
	"  -h, --help        show this help\n";

enum { OPT_IP = 0x100, OPT_NAME, OPT_K3S };

static const struct option options[] = {
	{"ip", required_argument, NULL, OPT_IP},
	{"name", required_argument, NULL, OPT_NAME},
	{"k3s-override", no_argument, NULL, OPT_K3S},
	{"help", no_argument, NULL, 'h'},
	{},
};

/* The whole of stdin, at most HG_COREFILE_MAX_SIZE bytes: -1 with errno (EFBIG above it). */
static int read_bounded(char **out, size_t *len)
{
	struct hg_error err = {0};
	if (hg_read_fd(STDIN_FILENO, "stdin", HG_COREFILE_MAX_SIZE, HG_READ_STREAM, NULL, out, len, &err) < 0) {
		errno = err.errnum ? err.errnum : EIO;
		return -1;
	}
	return 0;
}


int hg_corefile_main(int argc, char **argv)
{
	struct hg_corefile_spec spec = {0};
	struct hg_error err = {0};
	_cleanup_free_ char *input = NULL, *output = NULL;
	bool k3s = false;
	size_t len = 0, out_len = 0;
	int ret = 2, c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			ret = hg_usage_print(usage);
			goto out;
		case OPT_K3S:
			k3s = true;
			break;
		case OPT_IP:
			if (hg_corefile_spec_add_ip(&spec, optarg, &err) < 0)
				goto usage_error;
			break;
		case OPT_NAME:
			if (hg_corefile_spec_add_name(&spec, optarg, &err) < 0)
				goto usage_error;
			break;
		default:
			ret = hg_usage_bad_option("corefile", options, c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		ret = hg_usage_extra_operand("corefile", argc, argv);
		goto out;
	}
	if (hg_corefile_spec_finish(&spec, &err) < 0)
		goto usage_error;

	ret = 1;
	if (k3s) {
		if (hg_corefile_k3s_override(&spec, &output, &err) < 0)
			goto failed;
		out_len = strlen(output);
	} else {
		if (read_bounded(&input, &len) < 0) {
			if (errno == EFBIG)
				fprintf(stderr, "host-gateway corefile: the Corefile on stdin is larger than %d bytes\n",
					HG_COREFILE_MAX_SIZE);
			else
				fprintf(stderr, "host-gateway corefile: cannot read stdin: %s\n", strerror(errno));
			goto out;
		}
		if (hg_corefile_edit(input, len, &spec, &output, &out_len, &err) < 0)
			goto failed;
	}
	/* By length: the output is bytes, not a C string. */
	if (fwrite(output, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		fprintf(stderr, "host-gateway corefile: cannot write stdout: %s\n", strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;

usage_error:
	ret = hg_usage_error("corefile", "%s", err.msg);
	goto out;
failed:
	fprintf(stderr, "host-gateway corefile: %s\n", err.msg);
out:
	hg_corefile_spec_free(&spec);
	return ret;
}
