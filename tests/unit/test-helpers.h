/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the unit tests: temporary directories, whole-file I/O and
 * JSON literals. Everything here aborts the test (through cmocka) on a setup failure, so a
 * broken fixture can never make an assertion pass by accident. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

/* A fresh directory under /tmp; free() it after tmpdir_remove(). */
static inline char *tmpdir_make(void)
{
	char *dir = strdup("/tmp/hg-unit-XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void) st;
	(void) ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	/* FTW_PHYS: never follow the symlinks the rootfs tests plant. */
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Heap path dir/name. */
static inline char *path_join(const char *dir, const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static inline void file_write(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t) len);
	assert_int_equal(fchmod(fd, mode), 0); /* umask must not decide the mode under test */
	close(fd);
}

static inline void file_write_str(const char *path, const char *data)
{
	file_write(path, data, strlen(data), 0644);
}

/* The whole file, NUL-terminated; *len (optional) without the NUL. */
static inline char *fd_read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t r = pread(fd, buf + n, cap - n - 1, n);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static inline char *file_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *s = fd_read_all(fd, len);
	close(fd);
	return s;
}

static inline json_t *json_parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
	return j;
}

/* Occurrences of needle in haystack. */
static inline size_t count_str(const char *haystack, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = haystack; (p = strstr(p, needle)); p += len)
		n++;
	return n;
}

#define assert_contains(haystack, needle)                                                                     \
	do {                                                                                                  \
		const char *_h = (haystack), *_n = (needle);                                                  \
		if (!_h || !strstr(_h, _n))                                                                   \
			fail_msg("\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n);                 \
	} while (0)

#define assert_not_contains(haystack, needle)                                                                 \
	do {                                                                                                  \
		const char *_h = (haystack), *_n = (needle);                                                  \
		if (_h && strstr(_h, _n))                                                                     \
			fail_msg("\"%s\" contains \"%s\"", _h, _n);                                           \
	} while (0)
