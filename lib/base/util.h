/* SPDX-License-Identifier: Apache-2.0 */
/* Cleanup helpers shared by every file: resources are released on scope exit, and
 * ownership is handed on with TAKE_PTR / TAKE_FD so that no path leaks or double-frees. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <dirent.h>

static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define STR_(x) #x
#define STR(x) STR_(x)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Container IDs and network names as the CNI spec allows them, ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$,
 * at most max bytes: they become file names and keys, so nothing else may pass. */
#define HG_MAX_ID_LEN 200
bool hg_valid_id(const char *s, size_t max);

/* A number as "%llu" prints it (no sign, no leading zero, not 0) at the start of s, at
 * most max: the first byte after it, or NULL when there is none. Temp names carry PIDs so:
 * one file name has one reading. */
const char *hg_parse_decimal(const char *s, unsigned long long max, unsigned long long *out);

/* A NULL-terminated, heap-owned list of heap-owned strings. */
typedef char **strv_t;
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_ __attribute__((cleanup(strv_freep)))
size_t strv_len(char *const *v);
int strv_push(char ***v, const char *s); /* copies s; -1 when out of memory */
int strv_contains(char *const *v, const char *s);
char **strv_copy(char *const *v);

/* Replaces every byte of s that is not part of valid UTF-8 by '?', in place: text bound
 * for JSON quotes bytes nobody checked (interface names, container IDs), and JSON must be
 * UTF-8. The rules are jansson's: no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
void hg_utf8_sanitize(char *s);

