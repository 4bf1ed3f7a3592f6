/* SPDX-License-Identifier: Apache-2.0 */
/* The libnftables set beside the binary: copied next to the node's binary, removed with
 * it, and whether an entry needs it (install.h). */
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
#include <dirent.h>
#include <dlfcn.h>
#include "os/nft.h"

/* The library set install copied (regular files only; the folder goes when empty). */
void hg_install_remove_libs(const char *bin_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/" HG_NFT_LIB_DIR, bin_dir) < 0)
		return;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d && rmdir(dir) == 0)
		hg_logf(log, "removed %s", dir);
}

/* Copies one file atomically into dir (temp + fsync + rename), mode 0644. */
static int copy_file(int src_dir, const char *name, const char *dir, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	_cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", name);
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_oom(err);
	if (hg_atomic_open(&t, dir, hg_install_tmp_name, err) < 0)
		return -1;
	if (hg_copy_fd(in, t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "copy %s into %s", name, dir);
	if (fchmod(t.fd, 0644) < 0 || fsync(t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "install %s", path);
	return hg_atomic_commit(&t, path, HG_ATOMIC_SYNC, err);
}

int hg_install_libs(const char *bin_dir, const struct hg_log *log, struct hg_error *err)
{
	char exe[4096];
	_cleanup_free_ char *src = NULL, *dst = NULL;
	if (hg_self_dir(exe, sizeof(exe)) < 0)
		return 0;
	if (asprintf(&src, "%s/" HG_NFT_LIB_DIR, exe) < 0 || asprintf(&dst, "%s/" HG_NFT_LIB_DIR, bin_dir) < 0)
		return hg_error_oom(err);
	if (strcmp(src, dst) == 0)
		return 0; /* installing from the bin folder itself */
	_cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return 0; /* no library set here: the node's own libnftables is used */
	if (hg_mkdir_p(dst, 0755) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "create %s", dst);
	/* The loader trusts only a folder that is root's and writable by nobody else. */
	struct stat dst_st;
	if (lstat(dst, &dst_st) < 0 || !S_ISDIR(dst_st.st_mode) || dst_st.st_uid != geteuid())
		return hg_error_set(err, HG_CNI_IO, "%s is not a folder of ours: the libnftables set is not installed", dst);
	if ((dst_st.st_mode & 07777) != 0755 && chmod(dst, 0755) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "chmod %s", dst);
	_cleanup_closedir_ DIR *d = fdopendir(fcntl(sfd, F_DUPFD_CLOEXEC, 3));
	struct dirent *e;
	size_t copied = 0;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(sfd, e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (copy_file(sfd, e->d_name, dst, err) < 0)
			return -1;
		copied++;
	}
	hg_fsync_dir(dst);
	hg_logf(log, "installed the libnftables set (%zu files) in %s", copied, dst);
	return 1;
}


int hg_install_check_nft(json_t *entry, struct hg_error *err)
{
	_cleanup_config_ struct hg_config c = {0};
	char keys[128] = "";
	size_t n = 0;

	if (hg_config_init(&c) < 0)
		return hg_error_oom(err);
	if (hg_config_load_json(&c, entry, false, err) < 0)
		return -1;
	/* The keys whose rules ADD applies through libnftables (hostAlias puts the virtual IPs
	 * on lo instead). */
	const char *used[3];
	if (c.n_virtual_ips > 0 && !c.host_alias)
		used[n++] = "virtualIPs (without hostAlias)";
	if (c.n_localhost_ports > 0)
		used[n++] = "localhostPorts";
	if (c.n_host_loopback_ports > 0)
		used[n++] = "hostLoopbackPorts";
	if (n == 0)
		return 0;
	/* From the system, or from the library set beside this binary (the DaemonSet's image
	 * carries one), which install copies next to the node's binary. */
	if (hg_nft_available())
		return 0;
	const char *why = dlerror();
	for (size_t i = 0; i < n; i++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s", i ? ", " : "", used[i]);
	return hg_error_set(err, HG_CNI_NFTABLES,
			    "the plugin configuration uses %s, which need%s libnftables.so.1, and this machine cannot load "
			    "it (%s): install it (Debian and Ubuntu: libnftables1) or leave %s out",
			    keys, n == 1 ? "s" : "", why ? why : "not found", n == 1 ? "that key" : "those keys");
}

