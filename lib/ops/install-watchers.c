/* SPDX-License-Identifier: Apache-2.0 */
/* Who watches a CNI configuration folder: every `install --watch` of the folder holds a
 * shared flock on <folder>/.host-gateway-watch.lock from before it installs the binary
 * until it stops, so that a watcher told to stop can tell whether another one keeps the
 * entry (a DaemonSet's rolling update with maxSurge: the new pod runs before the old one
 * stops) or it is the last one (the DaemonSet deleted), and only then take the entry and the
 * binary away — holding the lock exclusively while it does, so that a watcher starting
 * meanwhile installs after it (install.h: hg_install_watchers_*). The name starts with a
 * dot: runtimes load only *.conf, *.conflist and *.json from the folder. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ops/install.h"
#include "base/util.h"
#include "os/fs.h"

#define WATCHERS_LOCK ".host-gateway-watch.lock"
/* How long a starting watcher waits for the last one to finish uninstalling (milliseconds
 * each: an uninstall takes a few): past it, someone else holds the lock. */
#define JOIN_POLL_MS 50
#define JOIN_TRIES 1200

static char *lock_path(const char *conf_dir)
{
	char *path = NULL;
	return asprintf(&path, "%s/" WATCHERS_LOCK, conf_dir) < 0 ? NULL : path;
}

static bool same_file(int a, int b)
{
	struct stat x, y;
	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* fd still names what is at path: the last watcher removes the file, and a folder can be
 * replaced under a running watcher (a backup restored); a lock nobody else can see counts
 * for nothing. */
static bool still_there(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The lock file at path, made when missing; never through a symlink, never a non-file. */
static int open_lock(const char *path, struct hg_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hg_error_set(err, HG_CNI_IO, "%s is not a regular file", path);
	}
	return fd;
}

int hg_install_watchers_join(const char *conf_dir, int stop_fd, struct hg_error *err)
{
	_cleanup_free_ char *path = lock_path(conf_dir);
	if (!path)
		return hg_error_oom(err);
	hg_mkdir_p(conf_dir, 0755);
	for (int tries = 0; tries < JOIN_TRIES; tries++) {
		int fd = open_lock(path, err);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			if (still_there(fd, path))
				return fd;
			close(fd);
			continue;
		}
		int e = errno;
		close(fd);
		if (e != EWOULDBLOCK)
			return hg_error_errno(err, HG_CNI_IO, e, "lock %s", path);
		/* The last watcher is uninstalling: wait for it, but a stop ends the wait. */
		struct pollfd p = {.fd = stop_fd, .events = POLLIN};
		if (poll(&p, stop_fd >= 0 ? 1 : 0, JOIN_POLL_MS) > 0)
			return HG_WATCHERS_STOPPED;
	}
	return hg_error_set(err, HG_CNI_IO, "%s is held exclusively by another process for %d s", path,
			    JOIN_TRIES * JOIN_POLL_MS / 1000);
}

int hg_install_watchers_last(int fd, const char *conf_dir)
{
	_cleanup_free_ char *path = lock_path(conf_dir);
	struct hg_error e = {0};
	if (!path || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	/* The file at the folder's path now: ours, or another one (the folder was replaced, the
	 * file removed), which a watcher that started since may hold. Made when missing, and
	 * held too: a watcher starting now waits until the uninstall is done. */
	int cur = open_lock(path, &e);
	if (cur < 0)
		return -1;
	if (same_file(cur, fd) || flock(cur, LOCK_EX | LOCK_NB) == 0)
		return cur;
	close(cur);
	return -1;
}

void hg_install_watchers_done(int fd, int cur, const char *conf_dir)
{
	_cleanup_free_ char *path = lock_path(conf_dir);
	if (path && still_there(cur, path))
		unlink(path);
	close(cur);
	(void)fd; /* the caller's, closed by it */
}
