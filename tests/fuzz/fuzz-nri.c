/* SPDX-License-Identifier: Apache-2.0 */
/* NRI's bytes come from the runtime's socket: whoever can connect to the plugin, or
 * whoever the plugin connects to, writes them. The input is a trunk (multiplexer frames
 * carrying ttrpc messages) fed to a session in pieces whose sizes the input's first byte
 * picks, so that every cut of a frame is tried; then the same bytes decoded directly as
 * each request the plugin accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nri/session.h"
#include "nri/wire.h"

static void quiet(void *ctx, const char *msg) {}
static const struct hg_log quiet_log = {.fn = quiet};

static int on_create(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *c, struct hg_nri_adjustment *adj, struct hg_error *err)
{
	/* Exercise the views: every string and array the runtime sent. */
	size_t n = 0;
	for (size_t i = 0; i < pod->n_annotations; i++)
		n += strlen(pod->annotations[i].key) + strlen(pod->annotations[i].value);
	for (size_t i = 0; i < c->n_mounts; i++)
		for (size_t j = 0; j < c->mounts[i].n_options; j++)
			n += strlen(c->mounts[i].options[j]);
	if (n % 2)
		return hg_nri_adjust_annotation(adj, "host-gateway.io/fuzz", pod->netns, err);
	return 0;
}

static int on_pod(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	return pod->n_ips && pod->ips[0][0] == 'x' ? hg_error_set(err, HG_CNI_NETNS, "fuzz") : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_nri_session s;
	struct hg_error err;
	struct hg_nri_handlers h = {.pod_start = on_pod, .pod_stop = on_pod, .pod_remove = on_pod,
		.container_create = on_create};
	struct hg_nri_session_config cfg = {.name = "host-gateway", .idx = "50"};
	if (size == 0)
		return 0;
	size_t cut = (size_t) data[0] % 64 + 1;
	cfg.fail_closed = data[0] & 0x80;
	data++;
	size--;
	if (hg_nri_session_start(&s, &cfg, &h, &quiet_log, 0, &err) == 0) {
		for (size_t off = 0; off < size;) {
			size_t n = size - off < cut ? size - off : cut;
			if (hg_nri_session_feed(&s, data + off, n, (int64_t) off, &err) < 0)
				break;
			off += n;
			/* What the socket loop does after each read. */
			hg_bytes_consume(&s.out, s.out.len);
		}
	}
	hg_nri_session_free(&s);

	/* Each request type straight from the bytes, as the session decodes its payloads. */
	const ProtobufCMessageDescriptor *types[] = {
		&hgnri__request__descriptor,
		&hgnri__response__descriptor,
		&hgnri__configure_request__descriptor,
		&hgnri__synchronize_request__descriptor,
		&hgnri__run_pod_sandbox_request__descriptor,
		&hgnri__stop_pod_sandbox_request__descriptor,
		&hgnri__remove_pod_sandbox_request__descriptor,
		&hgnri__create_container_request__descriptor,
		&hgnri__update_container_request__descriptor,
		&hgnri__stop_container_request__descriptor,
		&hgnri__remove_container_request__descriptor,
		&hgnri__state_change_event__descriptor,
		&hgnri__empty__descriptor,
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ProtobufCMessage *m = protobuf_c_message_unpack(types[i], NULL, size, data);
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
	}
	return 0;
}
