/* SPDX-License-Identifier: Apache-2.0 */
/* Opening files that a container image controls, as root, without being tricked into a
 * host path: symlinks and ".." stay inside the container root, the final component must be
 * a regular file, and nothing is opened for writing before that is known (a FIFO or a
 * device is never opened for I/O). */
#pragma once

#include <stdbool.h>
#include "base/error.h"

/* Opens root/path with accmode (O_RDWR to write it, O_RDONLY for a look that must also
 * work on a read-only mount), resolving every component inside root (openat2 with
 * RESOLVE_IN_ROOT; a component-wise O_NOFOLLOW walk where openat2 is missing). A final
 * symlink, a non-regular file or a file over max_size is refused with HG_CNI_HOSTS_FILE. */
int hg_open_in_root(const char *root, const char *path, size_t max_size, int accmode, struct hg_error *err);
/* The same under an already opened root directory (root names it in messages). */
int hg_open_in_rootfd(int rootfd, const char *root, const char *path, size_t max_size, int accmode,
		      struct hg_error *err);
/* Opens an absolute host path chosen by a runtime (a mount source) with accmode, refusing
 * a symlink at the final component, a non-regular file or a file over max_size. */
int hg_open_host_file(const char *path, size_t max_size, int accmode, struct hg_error *err);

/* For tests: pretend openat2 is missing so that the fallback walk runs. */
extern bool hg_rootfs_force_fallback;
