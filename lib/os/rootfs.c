/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include "os/rootfs.h"
#include "base/util.h"

bool hg_rootfs_force_fallback = false;

static int openat2_in_root(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (hg_rootfs_force_fallback) {
		errno = ENOSYS;
		return -1;
	}
	return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Without openat2: walk component by component, refusing every symlink and "..", which is
 * stricter than RESOLVE_IN_ROOT but can never leave the root. */
static int walk_in_root(int rootfd, const char *path)
{
	char copy[4096];
	if (strlen(path) >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(copy, path);
	_cleanup_close_ int dirfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (dirfd < 0)
		return -1;
	char *save = NULL;
	char *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			errno = EXDEV;
			return -1;
		}
		if (strcmp(comp, ".") != 0) {
			int fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : 0));
			if (fd < 0)
				return -1;
			closep(&dirfd);
			dirfd = fd;
		}
		comp = next;
	}
	return TAKE_FD(dirfd);
}

/* Re-opens an O_PATH fd for reading (accmode O_RDONLY) or reading and writing (O_RDWR)
 * once it is known to be a regular file. */
static int reopen_regular(int pathfd, const char *what, size_t max_size, int accmode, struct hg_error *err)
{
	struct stat st;
	char proc[64];
	/* A refusal says what it keeps from happening: a diagnosis only reads. */
	const char *refused = accmode == O_RDONLY ? "not read" : "refusing to write it";
	if (fstat(pathfd, &st) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", what);
	if (S_ISLNK(st.st_mode))
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is a symbolic link, refusing to follow it", what);
	if (!S_ISREG(st.st_mode))
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is not a regular file, %s", what, refused);
	if ((size_t) st.st_size > max_size)
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is larger than %zu bytes, %s", what, max_size, refused);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	int fd = open(proc, accmode | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "open %s", what);
	return fd;
}

int hg_open_in_rootfd(int rootfd, const char *root, const char *path, size_t max_size, int accmode,
		      struct hg_error *err)
{
	char what[4200];
	snprintf(what, sizeof(what), "%s (in container root %s)", path, root);
	_cleanup_close_ int pathfd = openat2_in_root(rootfd, path);
	if (pathfd < 0 && (errno == ENOSYS || errno == EPERM)) /* EPERM: seccomp without openat2 */
		pathfd = walk_in_root(rootfd, path);
	if (pathfd < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "open %s", what);
	return reopen_regular(pathfd, what, max_size, accmode, err);
}

int hg_open_in_root(const char *root, const char *path, size_t max_size, int accmode, struct hg_error *err)
{
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "open container root %s", root);
	return hg_open_in_rootfd(rootfd, root, path, max_size, accmode, err);
}

int hg_open_host_file(const char *path, size_t max_size, int accmode, struct hg_error *err)
{
	if (path[0] != '/')
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is not an absolute path", path);
	_cleanup_close_ int pathfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pathfd < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "open %s", path);
	return reopen_regular(pathfd, path, max_size, accmode, err);
}
