/* SPDX-License-Identifier: Apache-2.0 */
/* The one growable string: always NUL-terminated once anything was added, and sticky on
 * failure (after an allocation fails every call returns -1 and adds nothing), so that a
 * builder may check once, at buf_finish. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

/* Appends n bytes of s: 0, or -1 when out of memory (now or before). */
int buf_add(struct buf *b, const char *s, size_t n);
int buf_str(struct buf *b, const char *s);
int buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the text to *out (heap, "" when nothing was added; *out_len bytes, out_len may be
 * NULL): 0, or -1 (the buffer freed) when an allocation failed on the way. */
int buf_finish(struct buf *b, char **out, size_t *out_len);
/* Frees what a builder that gives up holds. */
void buf_free(struct buf *b);
#define _cleanup_buf_ __attribute__((cleanup(buf_free)))
