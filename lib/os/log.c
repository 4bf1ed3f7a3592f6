/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "os/log.h"

void hg_logf(const struct hg_log *log, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!log || !log->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, msg);
}

void hg_log_emit(const struct hg_log *outer, const char *log_file, const char *line)
{
	if (outer && outer->fn)
		outer->fn(outer->ctx, line);
	if (!log_file)
		return;
	/* Never through a symlink, never into a FIFO (which would block) or a device. */
	int fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		dprintf(fd, "host-gateway[%d]: %s\n", (int) getpid(), line);
	close(fd);
}
