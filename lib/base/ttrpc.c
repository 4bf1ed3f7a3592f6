/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "base/bytes.h"
#include "base/ttrpc.h"

void hg_ttrpc_header_encode(uint8_t out[HG_TTRPC_HEADER_LEN], const struct hg_ttrpc_header *h)
{
	hg_put_be32(out, h->length);
	hg_put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void hg_ttrpc_header_decode(const uint8_t in[HG_TTRPC_HEADER_LEN], struct hg_ttrpc_header *h)
{
	h->length = hg_get_be32(in);
	h->stream_id = hg_get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

static void reader_restart(struct hg_ttrpc_reader *r)
{
	free(r->payload);
	r->payload = NULL;
	r->have = r->cap = 0;
	r->hdr_len = 0;
	r->complete = false;
}

int hg_ttrpc_reader_next(struct hg_ttrpc_reader *r, const uint8_t *data, size_t len, size_t *used,
	struct hg_ttrpc_message *msg, struct hg_error *err)
{
	size_t taken = 0;
	*used = 0;
	if (r->complete)
		reader_restart(r);
	if (r->hdr_len < HG_TTRPC_HEADER_LEN) {
		size_t n = HG_TTRPC_HEADER_LEN - r->hdr_len;
		if (n > len)
			n = len;
		memcpy(r->hdr + r->hdr_len, data, n);
		r->hdr_len += n;
		taken = n;
		*used = taken;
		if (r->hdr_len < HG_TTRPC_HEADER_LEN)
			return 0;
		hg_ttrpc_header_decode(r->hdr, &r->h);
		/* Refused before any allocation: the length is the peer's word. */
		if (r->h.length > HG_TTRPC_MESSAGE_MAX)
			return hg_error_set(err, HG_CNI_DECODE, "ttrpc message of %u bytes on stream %u, over the %u-byte limit",
				r->h.length, r->h.stream_id, HG_TTRPC_MESSAGE_MAX);
	}
	size_t n = r->h.length - r->have;
	if (n > len - taken)
		n = len - taken;
	if (n > 0 && r->have + n > r->cap) {
		/* The buffer grows with the bytes that came, not with the length announced: a
		 * header alone costs no 4 MiB. */
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->have + n)
			cap *= 2;
		if (cap > r->h.length)
			cap = r->h.length;
		uint8_t *grown = realloc(r->payload, cap);
		if (!grown)
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "ttrpc message of %u bytes", r->h.length);
		r->payload = grown;
		r->cap = cap;
	}
	if (n > 0)
		memcpy(r->payload + r->have, data + taken, n);
	r->have += n;
	taken += n;
	*used = taken;
	if (r->have < r->h.length)
		return 0;
	r->complete = true;
	msg->h = r->h;
	msg->payload = r->payload;
	return 1;
}

void hg_ttrpc_reader_free(struct hg_ttrpc_reader *r)
{
	reader_restart(r);
}
