/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <linux/nsfs.h>
#include <linux/magic.h>
#include "os/netns.h"
#include "base/util.h"

int hg_netns_open(const char *path, bool *gone, struct hg_error *err)
{
	struct statfs sfs;
	if (gone)
		*gone = false;
	/* O_NONBLOCK: a FIFO at that path must not hang us. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (gone && (errno == ENOENT || errno == ESRCH))
			*gone = true;
		return hg_error_errno(err, HG_CNI_NETNS, errno, "open network namespace %s", path);
	}
	/* A path that is not an nsfs file is a bind mount that went away (an empty file left
	 * behind) or a mistake; both mean there is no namespace to enter. */
	if (fstatfs(fd, &sfs) < 0 || (unsigned long) sfs.f_type != NSFS_MAGIC) {
		if (gone)
			*gone = true;
		return hg_error_set(err, HG_CNI_NETNS, "%s is not a network namespace", path);
	}
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0 && type != CLONE_NEWNET)
		return hg_error_set(err, HG_CNI_NETNS, "%s is not a network namespace", path);
	return TAKE_FD(fd);
}

int hg_netns_identify(int fd, struct hg_netns_id *id)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->cookie = 0;
	return 0;
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

uint64_t hg_netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		return 0;
	return cookie;
}

static int read_cookie(void *ctx, struct hg_error *err)
{
	*(uint64_t *) ctx = hg_netns_cookie();
	return 0;
}

int hg_netns_identify_full(int fd, struct hg_netns_id *id)
{
	uint64_t cookie = 0;
	if (hg_netns_identify(fd, id) < 0)
		return -1;
	if (hg_netns_run(fd, read_cookie, &cookie, NULL) < 0) {
		errno = EIO;
		return -1;
	}
	id->cookie = cookie;
	return 0;
}

bool hg_netns_is_current(int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int hg_netns_run(int nsfd, hg_netns_fn fn, void *ctx, struct hg_error *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "enter network namespace");
	int r = fn(ctx, err);
	/* Staying in the container's namespace would make every later step act on the wrong
	 * network; there is no sane way to continue. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}
