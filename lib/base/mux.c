/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "base/mux.h"

void hg_mux_header_encode(uint8_t out[HG_MUX_HEADER_LEN], const struct hg_mux_header *h)
{
	hg_put_be32(out, h->conn_id);
	hg_put_be32(out + 4, h->length);
}

void hg_mux_header_decode(const uint8_t in[HG_MUX_HEADER_LEN], struct hg_mux_header *h)
{
	h->conn_id = hg_get_be32(in);
	h->length = hg_get_be32(in + 4);
}

int hg_mux_reader_next(struct hg_mux_reader *r, const uint8_t *data, size_t len, size_t *used,
	struct hg_mux_piece *piece, struct hg_error *err)
{
	size_t taken = 0;
	*used = 0;
	if (r->left == 0) {
		size_t n = HG_MUX_HEADER_LEN - r->hdr_len;
		if (n > len)
			n = len;
		memcpy(r->hdr + r->hdr_len, data, n);
		r->hdr_len += n;
		taken = n;
		*used = taken;
		if (r->hdr_len < HG_MUX_HEADER_LEN)
			return 0;
		struct hg_mux_header h;
		hg_mux_header_decode(r->hdr, &h);
		r->hdr_len = 0;
		if (h.length > HG_MUX_PAYLOAD_MAX)
			return hg_error_set(err, HG_CNI_DECODE, "multiplexer frame of %u bytes on connection %u, over the %u-byte limit",
				h.length, h.conn_id, (unsigned) HG_MUX_PAYLOAD_MAX);
		r->conn_id = h.conn_id;
		r->left = h.length;
		if (r->left == 0 || taken == len)
			return 0;
	}
	size_t n = len - taken;
	if (n > r->left)
		n = r->left;
	r->left -= n;
	piece->conn_id = r->conn_id;
	piece->data = data + taken;
	piece->len = n;
	*used = taken + n;
	return 1;
}

int hg_mux_append_ttrpc(struct hg_bytes *out, uint32_t conn_id, const struct hg_ttrpc_header *h,
	const uint8_t *payload, struct hg_error *err)
{
	uint8_t hdr[HG_MUX_HEADER_LEN + HG_TTRPC_HEADER_LEN];
	if (h->length > HG_TTRPC_MESSAGE_MAX)
		return hg_error_set(err, HG_CNI_IO, "ttrpc message of %u bytes, over the %u-byte limit", h->length,
			HG_TTRPC_MESSAGE_MAX);
	if (out->len > out->max || out->max - out->len < sizeof(hdr) + h->length)
		return hg_error_set(err, HG_CNI_IO, "send buffer full (%zu bytes waiting)", out->len);
	hg_mux_header_encode(hdr, &(struct hg_mux_header){.conn_id = conn_id, .length = HG_TTRPC_HEADER_LEN + h->length});
	hg_ttrpc_header_encode(hdr + HG_MUX_HEADER_LEN, h);
	if (hg_bytes_append(out, hdr, sizeof(hdr), err) < 0)
		return -1;
	return hg_bytes_append(out, payload, h->length, err);
}
