/* SPDX-License-Identifier: Apache-2.0 */
/* Sysctls of the current network namespace (sysctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "os/sysctl.h"
#include "base/util.h"

int hg_sysctl_read(const char *path, char *value, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, value, size - 1);
	if (n < 0)
		return -1;
	value[n] = '\0';
	while (n > 0 && (value[n - 1] == '\n' || value[n - 1] == ' '))
		value[--n] = '\0';
	return 0;
}

int hg_sysctl_write(const char *path, const char *value, char *old, size_t old_size, struct hg_error *err)
{
	if (old && hg_sysctl_read(path, old, old_size) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "read %s", path);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "open %s", path);
	size_t len = strlen(value);
	if (write(fd, value, len) != (ssize_t) len)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "write %s", path);
	return 0;
}
