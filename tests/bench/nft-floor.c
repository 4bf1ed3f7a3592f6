/* SPDX-License-Identifier: Apache-2.0 */
/* nft-floor: the least a program can do to give a container netns host-gateway's table.
 *
 *   nft-floor NETNS_PATH HOST_IPV4 add|del|both|print [detach]
 *
 * setns() into NETNS_PATH, then through libnftables (linked, one context, one
 * transaction per command):
 *   add   the table host-gateway builds for virtualIPs ["169.254.1.2"] and
 *         localhostPorts ["5432"] with HOST_IPV4 as the host address; the text is
 *         lib/base/nat.c's hg_nat_container_text output, copied (declare, flush, fill);
 *   del   lib/base/nat.c's hg_nat_container_delete_text (declare, delete);
 *   both  add then del in one process;
 *   print the add text on stdout, touching nothing.
 * run as "add" then "del" (two execs) it is the floor of a plugin's ADD + DEL: exec,
 * libnftables start-up, and the kernel's cost of creating and removing nat base chains.
 * With "detach", the netlink socket's last close happens in a child once this process
 * has exited, as host-gateway does it (lib/os/nft.c): the floor without the kernel's
 * grace-period wait in that close.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <nftables/libnftables.h>

#define TABLE "host_gateway"

static int hold_until_parent_exits(void *parent)
{
	close(0);
	close(1);
	close(2);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == (pid_t) (intptr_t) parent)
		for (;;)
			pause();
	_exit(0);
}

static int apply(struct nft_ctx *ctx, const char *text)
{
	if (nft_run_cmd_from_buffer(ctx, text) != 0) {
		fprintf(stderr, "nft-floor: %s", nft_ctx_get_error_buffer(ctx));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char add[1024];
	const char *del = "table inet " TABLE "\ndelete table inet " TABLE "\n";

	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "detach") == 0)) {
		fprintf(stderr, "usage: nft-floor NETNS_PATH HOST_IPV4 add|del|both|print [detach]\n");
		return 2;
	}
	const char *host = argv[2], *mode = argv[3];
	snprintf(add, sizeof(add),
		 "table inet " TABLE "\nflush table inet " TABLE "\ntable inet " TABLE " {\n"
		 "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		 "\t\tip daddr 169.254.1.2 dnat ip to %s\n"
		 "\t\tip daddr 127.0.0.1 tcp dport 5432 dnat ip to %s\n"
		 "\t}\n"
		 "\tchain postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n"
		 "\t\tip saddr 127.0.0.0/8 ip daddr %s masquerade\n\t}\n"
		 "}\n",
		 host, host, host);
	if (strcmp(mode, "print") == 0) {
		fputs(add, stdout);
		return 0;
	}
	int do_add = !strcmp(mode, "add") || !strcmp(mode, "both");
	int do_del = !strcmp(mode, "del") || !strcmp(mode, "both");
	if (!do_add && !do_del) {
		fprintf(stderr, "nft-floor: unknown mode %s\n", mode);
		return 2;
	}

	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror("nft-floor: setns");
		return 1;
	}
	close(fd);

	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return 1;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	int rc = 0;
	if (do_add && apply(ctx, add) < 0)
		rc = 1;
	if (!rc && do_del && apply(ctx, del) < 0)
		rc = 1;
	if (argc == 5) {
		/* As lib/os/nft.c does it: a child sharing our memory keeps the socket, and is killed
		 * when we exit. */
		static char stack[16384] __attribute__((aligned(16)));
		fflush(NULL);
		if (clone(hold_until_parent_exits, stack + sizeof(stack), CLONE_VM | SIGCHLD,
			  (void *) (intptr_t) getpid()) < 0)
			perror("nft-floor: clone");
		_exit(rc);
	}
	nft_ctx_free(ctx);
	return rc;
}
