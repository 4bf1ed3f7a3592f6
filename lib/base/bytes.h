/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a ceiling: what a peer makes us hold (frames to send, a
 * message being read) never grows past the limit the caller chose. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

struct hg_bytes {
	uint8_t *data;
	size_t len, cap;
	size_t max; /* the ceiling; 0 refuses every append */
};

/* Appends n bytes; -1 with err set (nothing appended) past the ceiling or without memory. */
int hg_bytes_append(struct hg_bytes *b, const void *p, size_t n, struct hg_error *err);
/* Drops the first n bytes (all when n >= len). */
void hg_bytes_consume(struct hg_bytes *b, size_t n);
/* Gives memory back once a large message has gone, so that one burst does not pin it. */
void hg_bytes_shrink(struct hg_bytes *b);
void hg_bytes_free(struct hg_bytes *b);

static inline void hg_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static inline uint32_t hg_get_be32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
