/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "base/bytes.h"

/* Below this, a buffer keeps its memory between messages: the common small frames then
 * cost no allocation. */
#define HG_BYTES_KEEP (64u << 10)

int hg_bytes_append(struct hg_bytes *b, const void *p, size_t n, struct hg_error *err)
{
	if (n == 0)
		return 0;
	if (n > b->max || b->len > b->max - n)
		return hg_error_set(err, HG_CNI_IO, "buffer limit of %zu bytes reached", b->max);
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
		if (cap > b->max)
			cap = b->max;
		uint8_t *grown = realloc(b->data, cap);
		if (!grown)
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "buffer of %zu bytes", cap);
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void hg_bytes_consume(struct hg_bytes *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void hg_bytes_shrink(struct hg_bytes *b)
{
	if (b->cap <= HG_BYTES_KEEP || b->len > HG_BYTES_KEEP)
		return;
	uint8_t *smaller = realloc(b->data, HG_BYTES_KEEP);
	if (smaller) {
		b->data = smaller;
		b->cap = HG_BYTES_KEEP;
	}
}

void hg_bytes_free(struct hg_bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
