/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <nftables/libnftables.h>
#include "os/nft.h"
#include "os/fs.h"
#include "base/util.h"

/* libnftables and the libraries it pulls in (libxtables, libgmp, libnftnl) double the
 * start-up time of every exec; most attachments need no rule, so the library is loaded
 * only when a rule set is applied. */
static struct {
	bool loaded;
	struct nft_ctx *(*ctx_new)(uint32_t);
	void (*ctx_free)(struct nft_ctx *);
	int (*buffer_output)(struct nft_ctx *);
	int (*buffer_error)(struct nft_ctx *);
	const char *(*get_output)(struct nft_ctx *);
	const char *(*get_error)(struct nft_ctx *);
	void (*set_flags)(struct nft_ctx *, unsigned int);
	int (*run)(struct nft_ctx *, const char *);
} nft;

/* A node without libnftables (kind's node image, say) gets the library set beside the
 * binary from `host-gateway install`: <dir of the binary>/host-gateway.lib/. Its
 * dependencies are opened first, by path, so that the loader finds them by soname when
 * libnftables asks for them. Only a directory that is root's and writable by nobody else. */
static void *open_beside_binary(void)
{
	static const char *const deps[] = {"libmnl.so.0", "libnftnl.so.11", "libjansson.so.4", "libgmp.so.10",
					   "libxtables.so.12"};
	char exe[4096], path[4200];
	struct stat st;
	if (hg_self_dir(exe, sizeof(exe)) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/" HG_NFT_LIB_DIR, exe);
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(deps); i++) {
		snprintf(path, sizeof(path), "%s/" HG_NFT_LIB_DIR "/%s", exe, deps[i]);
		dlopen(path, RTLD_NOW | RTLD_LOCAL); /* kept open for the process's life */
	}
	snprintf(path, sizeof(path), "%s/" HG_NFT_LIB_DIR "/libnftables.so.1", exe);
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static int load_libnftables(void)
{
	if (nft.loaded)
		return 0;
	void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = open_beside_binary();
	if (!h)
		return -1;
	*(void **) &nft.ctx_new = dlsym(h, "nft_ctx_new");
	*(void **) &nft.ctx_free = dlsym(h, "nft_ctx_free");
	*(void **) &nft.buffer_output = dlsym(h, "nft_ctx_buffer_output");
	*(void **) &nft.buffer_error = dlsym(h, "nft_ctx_buffer_error");
	*(void **) &nft.get_output = dlsym(h, "nft_ctx_get_output_buffer");
	*(void **) &nft.get_error = dlsym(h, "nft_ctx_get_error_buffer");
	*(void **) &nft.set_flags = dlsym(h, "nft_ctx_output_set_flags");
	*(void **) &nft.run = dlsym(h, "nft_run_cmd_from_buffer");
	if (!nft.ctx_new || !nft.ctx_free || !nft.buffer_output || !nft.buffer_error || !nft.get_output ||
	    !nft.get_error || !nft.set_flags || !nft.run)
		return -1;
	nft.loaded = true;
	return 0;
}

bool hg_nft_available(void)
{
	return load_libnftables() == 0;
}

/* One context per network namespace, for the process's life (see nft.h): its socket is
 * bound to the namespace it was made in, and reusing it reuses its memory (a new context
 * per transaction cost ~300 more page faults each, 1.5 ms of a hostLoopbackPorts DEL). */
#define HG_NFT_CTX_MAX 8
static struct kept_ctx {
	dev_t dev;
	ino_t ino;
	struct nft_ctx *ctx;
} kept[HG_NFT_CTX_MAX];
static size_t n_kept;

static struct nft_ctx *ctx_for_this_netns(void)
{
	struct stat st;
	if (load_libnftables() < 0 || stat("/proc/thread-self/ns/net", &st) < 0)
		return NULL;
	for (size_t i = 0; i < n_kept; i++)
		if (kept[i].dev == st.st_dev && kept[i].ino == st.st_ino)
			return kept[i].ctx;
	if (n_kept == HG_NFT_CTX_MAX) { /* not met: an operation enters one or two namespaces */
		nft.ctx_free(kept[0].ctx);
		memmove(&kept[0], &kept[1], sizeof(kept[0]) * --n_kept);
	}
	struct nft_ctx *ctx = nft.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return NULL;
	nft.buffer_output(ctx);
	nft.buffer_error(ctx);
	kept[n_kept++] = (struct kept_ctx){st.st_dev, st.st_ino, ctx};
	return ctx;
}

static void error_text(struct nft_ctx *ctx, char *buf, size_t size)
{
	const char *e = nft.get_error(ctx);
	snprintf(buf, size, "%s", e && *e ? e : "unknown error");
	/* One line is enough for a CNI message; nft repeats the statement after it. */
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
}

int hg_nft_run(const char *text, struct hg_error *err)
{
	struct nft_ctx *ctx = ctx_for_this_netns();
	char msg[400];
	if (!ctx)
		return hg_error_set(err, HG_CNI_NFTABLES, "cannot load libnftables.so.1 or create its context");
	int r = nft.run(ctx, text);
	if (r != 0)
		error_text(ctx, msg, sizeof(msg));
	/* Reading a buffer rewinds it: the next command's text starts empty. */
	nft.get_output(ctx);
	nft.get_error(ctx);
	return r != 0 ? hg_error_set(err, HG_CNI_NFTABLES, "nftables: %s", msg) : 0;
}

int hg_nft_list_json(const char *cmd, json_t **out, struct hg_error *err)
{
	struct nft_ctx *ctx = ctx_for_this_netns();
	char msg[400];
	*out = NULL;
	if (!ctx)
		return hg_error_set(err, HG_CNI_NFTABLES, "cannot load libnftables.so.1 or create its context");
	nft.set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	int r = nft.run(ctx, cmd);
	nft.set_flags(ctx, 0);
	if (r != 0) {
		nft.get_output(ctx);
		error_text(ctx, msg, sizeof(msg));
		if (strstr(msg, "No such file or directory"))
			return 0;
		return hg_error_set(err, HG_CNI_NFTABLES, "nftables: %s", msg);
	}
	nft.get_error(ctx);
	*out = json_loads(nft.get_output(ctx), 0, NULL);
	if (!*out)
		return hg_error_set(err, HG_CNI_NFTABLES, "nftables printed no JSON for \"%s\"", cmd);
	return 0;
}

int hg_nft_list_text(const char *cmd, char **out, struct hg_error *err)
{
	struct nft_ctx *ctx = ctx_for_this_netns();
	char msg[400];
	*out = NULL;
	if (!ctx)
		return hg_error_set(err, HG_CNI_NFTABLES, "cannot load libnftables.so.1 or create its context");
	nft.set_flags(ctx, NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
	int r = nft.run(ctx, cmd);
	nft.set_flags(ctx, 0);
	if (r != 0) {
		nft.get_output(ctx);
		error_text(ctx, msg, sizeof(msg));
		return hg_error_set(err, HG_CNI_NFTABLES, "nftables: %s", msg);
	}
	nft.get_error(ctx);
	*out = strdup(nft.get_output(ctx));
	return *out ? 0 : hg_error_oom(err);
}

static bool is_nftables_socket(int fd)
{
	int domain = 0, protocol = 0;
	socklen_t len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_NETLINK)
		return false;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 && protocol == NETLINK_NETFILTER;
}

/* In the child: nothing of the parent's but the sockets to release. Locks (flock on an
 * open file description shared with the parent) and pipes (the runtime reads stdout
 * until EOF) must not outlive the parent. The child shares the parent's memory
 * (CLONE_VM): only system calls here, on its own stack, nothing that allocates. */
static void keep_only_nftables_sockets(int keep)
{
	char buf[2048] __attribute__((aligned(8)));
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return; /* then the child holds the rest too, until the parent exits */
	/* Entries come by descriptor number: closing those already listed skips none. */
	for (long n; (n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0;) {
		for (long off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *) (buf + off);
			int fd = 0;
			const char *s = e->d_name;
			off += e->d_reclen;
			if (*s < '0' || *s > '9')
				continue;
			while (*s >= '0' && *s <= '9' && fd < (1 << 24))
				fd = fd * 10 + (*s++ - '0');
			if (fd != dir && fd != keep && !is_nftables_socket(fd))
				close(fd);
		}
	}
	close(dir);
}

struct release_arg {
	pid_t parent;
	int handshake; /* write end of a pipe: closed last, once only the sockets are left */
};

static int release_child(void *p)
{
	const struct release_arg *arg = p;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL); /* only SIGKILL ends it, when the parent is gone */
	/* First let go of stdout and the rest: the runtime's EOF must not wait for the
	 * kernel's release, whenever the parent exits. */
	keep_only_nftables_sockets(arg->handshake);
	close(arg->handshake); /* the last one: the parent may go */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != arg->parent)
		_exit(0);
	for (;;)
		pause();
}

void hg_nft_release_detached(void)
{
	enum { STACK = 64 * 1024 };
	static struct release_arg arg;
	int pipefd[2];
	char byte;
	if (!n_kept)
		return;
	/* Not fork(): copying the page tables of a process with libnftables and its libraries
	 * mapped cost ~0.3 ms. The stack is never unmapped: the parent is about to exit. */
	void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t pid = -1;
	if (stack != MAP_FAILED && pipe2(pipefd, O_CLOEXEC) == 0) {
		arg = (struct release_arg){getpid(), pipefd[1]};
		pid = clone(release_child, (char *) stack + STACK, CLONE_VM | SIGCHLD, &arg);
		close(pipefd[1]);
		/* EOF once the child has closed its copies of our descriptors, this one last.
		 * errno is not looked at: the child shares it (CLONE_VM). A read returns 0 (EOF)
		 * or -1 (interrupted); bounded all the same. */
		for (int i = 0; pid > 0 && i < 64 && read(pipefd[0], &byte, 1) != 0; i++)
			;
		close(pipefd[0]);
	}
	if (pid < 0) {
		for (size_t i = 0; i < n_kept; i++)
			nft.ctx_free(kept[i].ctx);
	}
	n_kept = 0; /* the child holds the sockets now; ours are dropped at exit */
}
