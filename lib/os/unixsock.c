/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "base/util.h"
#include "os/unixsock.h"

int64_t hg_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hg_unix_connect(const char *path, int *fd, struct hg_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "socket path %s is longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "socket");
	/* A blocking connect: a unix socket connects at once or fails at once. */
	if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "connect to %s", path);
	if (fcntl(s, F_SETFL, O_NONBLOCK) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "O_NONBLOCK on the socket to %s", path);
	*fd = TAKE_FD(s);
	return 0;
}

int hg_unix_adopt(int fd, struct hg_error *err)
{
	int type = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return hg_error_errno(err, HG_CNI_INVALID_ENV, errno, "fd %d is not a socket", fd);
	if (type != SOCK_STREAM)
		return hg_error_set(err, HG_CNI_INVALID_ENV, "fd %d is not a stream socket", fd);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "flags of fd %d", fd);
	return 0;
}

/* Waits for events on fd until deadline_ms: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int timeout = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - hg_monotonic_ms();
			if (left <= 0)
				return 0;
			timeout = left > 60000 ? 60000 : (int) left;
		}
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0)
			return 1;
	}
}

ssize_t hg_fd_read_some(int fd, void *buf, size_t cap, int64_t deadline_ms, struct hg_error *err)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			int e = errno;
			hg_error_errno(err, HG_CNI_IO, e, "read");
			return -e;
		}
		int r = wait_fd(fd, POLLIN, deadline_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0) {
			hg_error_errno(err, HG_CNI_IO, -r, "poll");
			return r;
		}
	}
}

int hg_fd_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms, struct hg_error *err)
{
	const uint8_t *p = buf;
	while (len > 0) {
		/* MSG_NOSIGNAL: a peer gone is an error to handle, not a SIGPIPE. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return hg_error_errno(err, HG_CNI_IO, errno, "write");
		int r = wait_fd(fd, POLLOUT, deadline_ms);
		if (r == 0)
			return hg_error_set(err, HG_CNI_IO, "the peer took no data for the send timeout (%zu bytes left)", len);
		if (r < 0)
			return hg_error_errno(err, HG_CNI_IO, -r, "poll");
	}
	return 0;
}
