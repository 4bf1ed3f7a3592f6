/* SPDX-License-Identifier: Apache-2.0 */
/* The binary: copied into the CNI bin folder, checked, removed (install.h). */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "ops/install.h"
#include "ops/install-int.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"
#include "ops/state.h"
#include "os/dpkg.h"

/* 1 when the open file fd and path hold the same bytes, 0 when not, -1 on a read error. */
static int same_bytes(int fd, const char *path)
{
	const size_t size = 65536;
	_cleanup_close_ int other = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *x = malloc(size), *y = malloc(size);
	struct stat a, b;
	if (!x || !y) {
		errno = ENOMEM;
		return -1;
	}
	if (other < 0 || fstat(fd, &a) < 0 || fstat(other, &b) < 0)
		return -1;
	if (a.st_size != b.st_size)
		return 0;
	for (off_t off = 0; off < a.st_size;) {
		ssize_t n = pread(fd, x, size, off);
		if (n <= 0 || pread(other, y, n, off) != n)
			return -1;
		if (memcmp(x, y, n) != 0)
			return 0;
		off += n;
	}
	return 1;
}

/* 1 when bin_dir/name (*path) is the executable open at self_fd, 0 when not, -1 on
 * error; *exists says whether something is there. */
static int binary_is_self(int self_fd, const char *bin_dir, const char *name, char **path_out, bool *exists,
			  struct hg_error *err)
{
	struct stat self, st;
	*exists = false;
	if (asprintf(path_out, "%s/%s", bin_dir, name) < 0) {
		*path_out = NULL;
		return hg_error_oom(err);
	}
	const char *path = *path_out;
	if (fstat(self_fd, &self) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "stat this executable");
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
	}
	*exists = true;
	if (st.st_dev == self.st_dev && st.st_ino == self.st_ino)
		return 1;
	if (!S_ISREG(st.st_mode))
		return 0;
	int r = same_bytes(self_fd, path);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "compare %s with this executable", path);
	return r;
}

int hg_install_binary(int self_fd, const char *bin_dir, const char *dpkg_info_dir, const struct hg_log *log,
		      struct hg_error *err)
{
	return hg_install_binary_as(self_fd, bin_dir, HG_BINARY_NAME, dpkg_info_dir, log, err);
}

int hg_install_binary_as(int self_fd, const char *bin_dir, const char *name, const char *dpkg_info_dir,
			 const struct hg_log *log, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *pkg = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	bool exists;

	int r = binary_is_self(self_fd, bin_dir, name, &path, &exists, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		hg_logf(log, "%s is already this binary", path);
		return 0;
	}
	if (exists) {
		r = hg_dpkg_owner(dpkg_info_dir, path, &pkg, err);
		if (r < 0)
			return -1;
		if (r > 0)
			return hg_error_set(err, HG_CNI_IO, "%s belongs to the Debian package %s: not replaced", path, pkg);
	}
	if (hg_mkdir_p(bin_dir, 0755) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "create %s", bin_dir);
	if (hg_atomic_open(&t, bin_dir, hg_install_tmp_name, err) < 0)
		return -1;
	if (hg_copy_fd(self_fd, t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "copy this executable into %s", bin_dir);
	if (fchmod(t.fd, 0755) < 0 || fsync(t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "install %s", path);
	if (hg_atomic_commit(&t, path, HG_ATOMIC_SYNC, err) < 0)
		return -1;
	hg_logf(log, "installed %s", path);
	return 1;
}

int hg_install_binary_check(int self_fd, const char *bin_dir, struct hg_error *err)
{
	return hg_install_binary_check_as(self_fd, bin_dir, HG_BINARY_NAME, err);
}

int hg_install_binary_check_as(int self_fd, const char *bin_dir, const char *name, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	bool exists;
	int r = binary_is_self(self_fd, bin_dir, name, &path, &exists, err);
	if (r < 0)
		return -1;
	if (!exists)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is missing", path);
	if (r == 0)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is not this binary", path);
	if (access(path, X_OK) < 0)
		return hg_error_errno(err, HG_CNI_CHECK_FAILED, errno, "%s is not executable", path);
	return 0;
}


int hg_uninstall_binary(const char *bin_dir, const char *state_dir, bool force, const char *dpkg_info_dir,
			const struct hg_log *log, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *pkg = NULL;
	struct stat st;
	size_t n = 0;

	if (asprintf(&path, "%s/" HG_BINARY_NAME, bin_dir) < 0)
		return hg_error_oom(err);
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
		hg_logf(log, "no %s to remove", path);
		return 0;
	}
	/* install writes regular files only: anything else was put there by someone else. */
	if (!S_ISREG(st.st_mode)) {
		if (force)
			return hg_error_set(err, HG_CNI_IO, "%s is not a regular file install writes: not removed", path);
		hg_logf(log, "kept %s: not a regular file (install writes only those)", path);
		return 0;
	}
	int r = hg_dpkg_owner(dpkg_info_dir, path, &pkg, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (force)
			return hg_error_set(err, HG_CNI_IO, "%s belongs to the Debian package %s: not removed", path, pkg);
		hg_logf(log, "kept %s: it belongs to the Debian package %s", path, pkg);
		return 0;
	}
	_cleanup_strv_ char **noted = NULL;
	if (hg_state_count_records(state_dir, &n, err) < 0 || hg_install_state_dirs(bin_dir, &noted, err) < 0)
		return -1;
	for (size_t i = 0; noted[i]; i++) {
		size_t more = 0;
		if (strcmp(noted[i], state_dir) != 0 && hg_state_count_records(noted[i], &more, err) < 0)
			return -1;
		n += more;
	}
	if (n > 0 && !force) {
		hg_logf(log, "kept %s: %zu attachment record%s under %s/cni still need it for DEL (--force removes it)",
			path, n, n == 1 ? "" : "s", state_dir);
		return 0;
	}
	if (unlink(path) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s", path);
	hg_install_remove_libs(bin_dir, log);
	hg_install_forget_state_dirs(bin_dir);
	hg_fsync_dir(bin_dir);
	hg_logf(log, "removed %s%s", path, n > 0 ? " (--force: attachment records remain)" : "");
	return 1;
}


int hg_uninstall_binary_as(const char *bin_dir, const char *name, const char *dpkg_info_dir, const struct hg_log *log,
			   struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *pkg = NULL;
	struct stat st;
	if (asprintf(&path, "%s/%s", bin_dir, name) < 0)
		return hg_error_oom(err);
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
		hg_logf(log, "no %s to remove", path);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		hg_logf(log, "kept %s: not a regular file (install writes only those)", path);
		return 0;
	}
	int r = hg_dpkg_owner(dpkg_info_dir, path, &pkg, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		hg_logf(log, "kept %s: it belongs to the Debian package %s", path, pkg);
		return 0;
	}
	if (unlink(path) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s", path);
	hg_install_remove_libs(bin_dir, log);
	hg_fsync_dir(bin_dir);
	hg_logf(log, "removed %s", path);
	return 1;
}
