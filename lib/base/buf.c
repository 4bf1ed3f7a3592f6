/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/buf.h"
#include "base/util.h"

int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return -1;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_str(struct buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

int buf_fmt(struct buf *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s = NULL;
		b->oom = true;
		return -1;
	}
	return buf_add(b, s, (size_t) n);
}

int buf_finish(struct buf *b, char **out, size_t *out_len)
{
	if (!b->oom && !b->data)
		buf_add(b, "", 0);
	if (b->oom) {
		buf_free(b);
		return -1;
	}
	*out = b->data;
	if (out_len)
		*out_len = b->len;
	*b = (struct buf){0};
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){0};
}
