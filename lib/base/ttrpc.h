/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc's message framing (containerd/ttrpc channel.go): a 10-byte big-endian header
 * (payload length u32, stream id u32, type u8, flags u8), then the payload, at most
 * 4 MiB as ttrpc's messageLengthMax. The payloads (Request, Response) are protobuf and
 * are decoded by the caller. Pure: bytes in, messages out; no system call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

#define HG_TTRPC_HEADER_LEN 10
#define HG_TTRPC_MESSAGE_MAX (4u << 20)

enum hg_ttrpc_type {
	HG_TTRPC_REQUEST = 1,
	HG_TTRPC_RESPONSE = 2,
	HG_TTRPC_DATA = 3,
};

/* gRPC status codes ttrpc answers with (google.golang.org/grpc/codes). */
enum hg_ttrpc_code {
	HG_TTRPC_OK = 0,
	HG_TTRPC_UNKNOWN = 2,
	HG_TTRPC_INVALID_ARGUMENT = 3,
	HG_TTRPC_RESOURCE_EXHAUSTED = 8,
	HG_TTRPC_FAILED_PRECONDITION = 9,
	HG_TTRPC_UNIMPLEMENTED = 12,
	HG_TTRPC_INTERNAL = 13,
};

struct hg_ttrpc_header {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void hg_ttrpc_header_encode(uint8_t out[HG_TTRPC_HEADER_LEN], const struct hg_ttrpc_header *h);
void hg_ttrpc_header_decode(const uint8_t in[HG_TTRPC_HEADER_LEN], struct hg_ttrpc_header *h);

/* Reassembles messages from one logical connection's bytes, which arrive cut anywhere: a
 * message may span multiplexer frames (ttrpc writes through a 4 KiB bufio) and a frame
 * may hold several messages. Holds at most one payload (<= HG_TTRPC_MESSAGE_MAX), and
 * no more of it than has arrived. */
struct hg_ttrpc_reader {
	uint8_t hdr[HG_TTRPC_HEADER_LEN];
	size_t hdr_len;
	struct hg_ttrpc_header h;
	uint8_t *payload;
	size_t have, cap;
	bool complete; /* the last message returned; its payload is freed by the next call */
};

struct hg_ttrpc_message {
	struct hg_ttrpc_header h;
	const uint8_t *payload; /* h.length bytes, valid until the next call on the reader */
};

/* Takes bytes from data[0..len): *used says how many. Returns 1 when a message is complete
 * (in *msg), 0 when every byte was taken and more are needed, -1 (err) when the peer
 * announces a payload over HG_TTRPC_MESSAGE_MAX or memory is short: the stream cannot
 * be resynchronised and the connection must go. */
int hg_ttrpc_reader_next(struct hg_ttrpc_reader *r, const uint8_t *data, size_t len, size_t *used,
	struct hg_ttrpc_message *msg, struct hg_error *err);
void hg_ttrpc_reader_free(struct hg_ttrpc_reader *r);
