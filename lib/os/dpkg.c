/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdbool.h>
#include "os/dpkg.h"
#include "base/util.h"

int hg_dpkg_owner(const char *dpkg_info_dir, const char *path, char **pkg, struct hg_error *err)
{
	_cleanup_free_ char *dircopy = strdup(path), *real = NULL, *line = NULL;
	_cleanup_closedir_ DIR *d = opendir(dpkg_info_dir);
	char realdir[PATH_MAX];
	struct dirent *e;
	size_t cap = 0;

	*pkg = NULL;
	if (!dircopy)
		return hg_error_oom(err);
	if (!d)
		return errno == ENOENT ? 0 : hg_error_errno(err, HG_CNI_IO, errno, "open %s", dpkg_info_dir);
	/* The folder resolved, the name not: a symlink named host-gateway is judged as itself. */
	if (realpath(dirname(dircopy), realdir) && asprintf(&real, "%s/%s", realdir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0)
		return hg_error_oom(err);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".list") != 0)
			continue;
		_cleanup_close_ int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f)
			continue;
		fd = -1; /* f owns it now */
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				line[--n] = '\0';
			/* Merged /usr: a package lists /lib/cni/x, the machine has it at /usr/lib/cni/x. */
			bool usr = strncmp(path, "/usr/", 5) == 0 && strcmp(path + 4, line) == 0;
			bool usr_real = real && strncmp(real, "/usr/", 5) == 0 && strcmp(real + 4, line) == 0;
			if (strcmp(line, path) == 0 || (real && strcmp(line, real) == 0) || usr || usr_real) {
				*pkg = strndup(e->d_name, len - 5);
				return *pkg ? 1 : hg_error_oom(err);
			}
		}
	}
	return 0;
}

