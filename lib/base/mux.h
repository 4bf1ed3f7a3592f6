/* SPDX-License-Identifier: Apache-2.0 */
/* NRI's connection multiplexer (containerd/nri pkg/net/multiplex): one stream socket
 * carries frames of an 8-byte big-endian header (connection id u32, payload length u32)
 * and the payload. Connection 1 carries the plugin service (the runtime calls us), 2 the
 * runtime service (we call the runtime); 0 is reserved. A frame's payload is at most a
 * ttrpc header and a maximal ttrpc message: NRI's writer never sends more, so a longer
 * frame is a broken or hostile peer. Pure: no system call. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "base/bytes.h"
#include "base/error.h"
#include "base/ttrpc.h"

#define HG_MUX_HEADER_LEN 8
#define HG_MUX_PAYLOAD_MAX (HG_TTRPC_HEADER_LEN + HG_TTRPC_MESSAGE_MAX)

enum hg_mux_conn {
	HG_MUX_CONN_PLUGIN = 1,
	HG_MUX_CONN_RUNTIME = 2,
};

struct hg_mux_header {
	uint32_t conn_id;
	uint32_t length;
};

void hg_mux_header_encode(uint8_t out[HG_MUX_HEADER_LEN], const struct hg_mux_header *h);
void hg_mux_header_decode(const uint8_t in[HG_MUX_HEADER_LEN], struct hg_mux_header *h);

/* Splits the trunk's bytes into pieces of frame payload, without holding a payload: frame
 * boundaries carry no meaning above the multiplexer (each logical connection is a byte
 * stream), so a piece goes on to its connection's ttrpc reader as it comes. */
struct hg_mux_reader {
	uint8_t hdr[HG_MUX_HEADER_LEN];
	size_t hdr_len;
	uint32_t conn_id; /* of the frame being read */
	uint32_t left;    /* its payload bytes still to come */
};

struct hg_mux_piece {
	uint32_t conn_id;
	const uint8_t *data; /* points into the caller's bytes */
	size_t len;
};

/* Takes bytes from data[0..len) (*used says how many): 1 with a piece of payload in
 * *piece, 0 when only header bytes were taken, -1 (err) for a frame longer than
 * HG_MUX_PAYLOAD_MAX. Pieces of every connection id are returned; the caller ignores the
 * ones it has no use for, as NRI's own multiplexer drops frames of unknown connections. */
int hg_mux_reader_next(struct hg_mux_reader *r, const uint8_t *data, size_t len, size_t *used,
	struct hg_mux_piece *piece, struct hg_error *err);

/* Appends one frame on conn_id carrying one ttrpc message (header and payload); -1 (err)
 * when the payload is over HG_TTRPC_MESSAGE_MAX or out's ceiling is reached (nothing is
 * appended then). */
int hg_mux_append_ttrpc(struct hg_bytes *out, uint32_t conn_id, const struct hg_ttrpc_header *h,
	const uint8_t *payload, struct hg_error *err);
