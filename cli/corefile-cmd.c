/* host-gateway corefile --ip VIP [--ip VIP6] [--name NAME]... [--k3s-override]
 *
 * Reads a CoreDNS Corefile on stdin and prints it with the names of the host in the main
 * server block (a kubectl pipeline feeds it and takes the result, README "Names in pods:
 * CoreDNS"); with --k3s-override, prints the content of the host-gateway.override key of
 * k3s's coredns-custom ConfigMap and reads nothing. The work is in lib/base/corefile.c; this file
 * only parses arguments and moves bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/corefile-cmd.h"
#include "base/corefile.h"
#include "base/util.h"
#include "cli/args.h"
#include "os/fs.h"

static const char usage[] =
	"Usage: host-gateway corefile --ip VIP [--ip VIP] [--name NAME]... [--k3s-override]\n"
	"  Reads a CoreDNS Corefile on stdin and prints it with VIP NAME... in the hosts plugin of\n"
	"  its main server block (.:53), also when that hosts block is in a snippet the block\n"
	"  imports; running it again changes nothing. Refused (exit 1, the line named): what\n"
	"  CoreDNS would refuse or misread, a NUL byte, and an import of a file when the block\n"
	"  shows no hosts directive (it may hold one). --ip: the virtual IP (one IPv4 and/or one\n"
	"  IPv6); --name: the names (default host.docker.internal, host.containers.internal,\n"
	"  gateway.docker.internal).\n"
	"  --k3s-override: print the host-gateway.override key of k3s's coredns-custom\n"
	"  ConfigMap instead (template directives; stdin is not read).\n";

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
	int ret = 2;

	for (int i = 2; i < argc; i++) {
		bool missing = false;
		const char *v;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			ret = 0;
			goto out;
		} else if (strcmp(argv[i], "--k3s-override") == 0) {
			k3s = true;
		} else if ((v = hg_opt_value(argc, argv, &i, "--ip", &missing))) {
			if (hg_corefile_spec_add_ip(&spec, v, &err) < 0)
				goto usage_error;
		} else if ((v = hg_opt_value(argc, argv, &i, "--name", &missing))) {
			if (hg_corefile_spec_add_name(&spec, v, &err) < 0)
				goto usage_error;
		} else {
			hg_error_set(&err, 0, missing ? "%s needs a value" : "unknown argument \"%s\"", argv[i]);
			goto usage_error;
		}
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
	fprintf(stderr, "host-gateway corefile: %s (see host-gateway corefile --help)\n", err.msg);
	goto out;
failed:
	fprintf(stderr, "host-gateway corefile: %s\n", err.msg);
out:
	hg_corefile_spec_free(&spec);
	return ret;
}
