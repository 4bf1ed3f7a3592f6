/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include "base/util.h"
#include "base/error.h"
#include "os/fs.h"

int hg_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	/* Usually the directory exists: one system call instead of one per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Reads fd to its end into a buffer that grows as needed (a file of /proc says size 0),
 * never holding more than max + 1 bytes: one byte over max is enough to refuse it. */
static int read_to_end(int fd, const char *name, size_t max, size_t hint, bool stream, char **text, size_t *len,
		       struct hg_error *err)
{
	size_t cap = hint < max ? hint + 1 : max + 1, n = 0;
	if (cap < 4096 && max >= 4096)
		cap = 4096;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return hg_error_oom(err);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			size_t grown_cap = cap > max / 2 ? max + 1 : cap * 2;
			char *grown = realloc(buf, grown_cap + 1);
			if (!grown)
				return hg_error_oom(err);
			buf = grown;
			cap = grown_cap;
		}
		ssize_t r = stream ? read(fd, buf + n, cap - n) : pread(fd, buf + n, cap - n, (off_t) n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hg_error_errno(err, HG_CNI_IO, errno, "read %s", name);
		if (r == 0)
			break;
		n += (size_t) r;
	}
	if (n > max) {
		hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is larger than %zu bytes", name, max);
		err->errnum = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*text = TAKE_PTR(buf);
	return 0;
}

int hg_read_fd(int fd, const char *name, size_t max, unsigned flags, struct stat *st, char **text, size_t *len,
	       struct hg_error *err)
{
	if (flags & HG_READ_STREAM)
		return read_to_end(fd, name, max, 0, true, text, len, err);
	struct stat own;
	if (!st)
		st = &own;
	if (fstat(fd, st) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", name);
	if (!S_ISREG(st->st_mode)) {
		hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is not a regular file", name);
		err->errnum = EINVAL;
		return -1;
	}
	if ((uint64_t) st->st_size > max) {
		hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is larger than %zu bytes", name, max);
		err->errnum = EFBIG;
		return -1;
	}
	return read_to_end(fd, name, max, (size_t) st->st_size, false, text, len, err);
}

int hg_read_file(const char *path, size_t max, unsigned flags, struct stat *st, char **text, size_t *len,
		 struct hg_error *err)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer; a device is never
	 * read either, as fstat refuses it first. */
	int nofollow = flags & HG_READ_FOLLOW ? 0 : O_NOFOLLOW;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | nofollow);
	if (fd < 0 && errno == ELOOP && nofollow) {
		hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is a symbolic link", path);
		err->errnum = ELOOP;
		return -1;
	}
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", path);
	return hg_read_fd(fd, path, max, flags & ~HG_READ_STREAM, st, text, len, err);
}

int hg_sweep_temp(const char *dir, pid_t (*writer)(const char *name))
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int n = 0;
	while (d && (e = readdir(d))) {
		pid_t pid = writer(e->d_name);
		if (pid > 0 && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    kill(pid, 0) < 0 && errno == ESRCH && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	return n;
}

int hg_tmp_open(const char *dir, const char *name, mode_t mode, bool *named)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	*named = fd < 0;
	if (fd >= 0)
		return fd;
	return open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

int hg_tmp_link(int fd, const char *name)
{
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, self, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

int hg_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len > 0) {
		ssize_t w = write(fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		len -= (size_t) w;
	}
	return 0;
}

void hg_fsync_dir(const char *dir)
{
	/* The rename is durable only once the folder is on disk; a failure here loses nothing
	 * that is visible now, so it is not an error. */
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		fsync(fd);
}

/* The name a temp file is created with (or an unnamed one linked to) is asked for again
 * only after a collision: never more than this many times in a row. */
#define TMP_TRIES 16

/* Runs make (create or link under a new temp name) until it succeeds or fails other than
 * with EEXIST; t->tmp gets the name when make says the file has it (*named). A name that
 * comes again is our own leftover (see fs.h): removed first. -1 with errno. */
static int with_tmp_name(struct hg_atomic *t, int (*make)(struct hg_atomic *t, const char *path, bool *named))
{
	_cleanup_free_ char *last = NULL;
	for (int i = 0; i < TMP_TRIES; i++) {
		_cleanup_free_ char *path = NULL;
		bool named;
		if (t->tmp_name(t->dir, &path) < 0) {
			errno = ENOMEM;
			return -1;
		}
		if (last && strcmp(last, path) == 0 && unlink(path) < 0 && errno != ENOENT)
			return -1;
		if (make(t, path, &named) == 0) {
			if (named)
				t->tmp = TAKE_PTR(path);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		free(last);
		last = TAKE_PTR(path);
	}
	errno = EEXIST;
	return -1;
}

static int make_open(struct hg_atomic *t, const char *path, bool *named)
{
	t->fd = hg_tmp_open(t->dir, path, 0600, named);
	return t->fd >= 0 ? 0 : -1;
}

static int make_link(struct hg_atomic *t, const char *path, bool *named)
{
	*named = true;
	return hg_tmp_link(t->fd, path);
}

int hg_atomic_open(struct hg_atomic *t, const char *dir, int (*tmp_name)(const char *dir, char **path),
		   struct hg_error *err)
{
	*t = (struct hg_atomic){.fd = -1, .dir = dir, .tmp_name = tmp_name};
	if (with_tmp_name(t, make_open) < 0)
		return errno == ENOMEM ? hg_error_oom(err)
				       : hg_error_errno(err, HG_CNI_IO, errno, "create a temp file in %s", dir);
	return 0;
}

int hg_atomic_commit(struct hg_atomic *t, const char *path, unsigned flags, struct hg_error *err)
{
	if ((flags & HG_ATOMIC_SYNC) && fsync(t->fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "write a temp file for %s", path);
	if (!t->tmp && with_tmp_name(t, make_link) < 0)
		return errno == ENOMEM ? hg_error_oom(err) : hg_error_errno(err, HG_CNI_IO, errno, "link a temp file into %s", t->dir);
	int r = flags & HG_ATOMIC_NOREPLACE ? renameat2(AT_FDCWD, t->tmp, AT_FDCWD, path, RENAME_NOREPLACE)
					    : rename(t->tmp, path);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "rename %s to %s", t->tmp, path);
	free(TAKE_PTR(t->tmp)); /* renamed: nothing left to remove */
	if (flags & HG_ATOMIC_SYNC)
		hg_fsync_dir(t->dir);
	return 0;
}

void hg_atomic_drop(struct hg_atomic *t)
{
	if (t->tmp)
		unlink(t->tmp);
	free(t->tmp);
	closep(&t->fd);
	t->tmp = NULL;
	t->fd = -1;
}

int hg_copy_fd(int in, int out)
{
	struct stat st;
	const size_t size = 65536;
	_cleanup_free_ char *buf = malloc(size);
	if (!buf)
		return -1;
	if (fstat(in, &st) < 0)
		return -1;
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = pread(in, buf, size, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0 || hg_write_all(out, buf, (size_t) n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

int hg_self_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}
