/* SPDX-License-Identifier: Apache-2.0 */
/* Who watches a CNI configuration folder: every `install --watch` of the folder holds a
 * shared flock on <folder>/.host-gateway-watch.lock, so that a watcher told to stop can tell
 * whether another one keeps the entry (a DaemonSet's rolling update with maxSurge: the new
 * pod runs before the old one stops) or it is the last one (the DaemonSet deleted), and
 * only then take the entry away (install.h: hg_install_watchers_join, _leave). The name
 * starts with a dot: runtimes load only *.conf, *.conflist and *.json from the folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ops/install.h"
#include "base/util.h"
#include "os/fs.h"

#define WATCHERS_LOCK ".host-gateway-watch.lock"

static char *lock_path(const char *conf_dir)
{
	char *path = NULL;
	return asprintf(&path, "%s/" WATCHERS_LOCK, conf_dir) < 0 ? NULL : path;
}

/* fd still names what is at path (the last watcher removes the file: a watcher that opened
 * it just before holds a lock nobody else sees, and opens it again). */
static bool still_there(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int hg_install_watchers_join(const char *conf_dir, struct hg_error *err)
{
	_cleanup_free_ char *path = lock_path(conf_dir);
	if (!path)
		return hg_error_oom(err);
	hg_mkdir_p(conf_dir, 0755);
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (fd < 0)
			return hg_error_errno(err, HG_CNI_IO, errno, "open %s", path);
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return hg_error_set(err, HG_CNI_IO, "%s is not a regular file", path);
		}
		if (flock(fd, LOCK_SH) < 0) {
			int e = errno;
			close(fd);
			return hg_error_errno(err, HG_CNI_IO, e, "lock %s", path);
		}
		if (still_there(fd, path))
			return fd;
		close(fd);
	}
	return hg_error_set(err, HG_CNI_IO, "%s keeps being replaced", path);
}

bool hg_install_watchers_leave(int fd, const char *conf_dir)
{
	_cleanup_free_ char *path = lock_path(conf_dir);
	/* Shared to exclusive is not atomic in flock: two watchers stopping together both drop
	 * theirs first, so at least one of them gets it. */
	if (!path || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return false;
	if (still_there(fd, path))
		unlink(path);
	return true;
}
