/* SPDX-License-Identifier: Apache-2.0 */
/* One connection to the runtime, as a state machine over bytes: the trunk's bytes go in
 * (hg_nri_session_feed), the frames to send come out in out, and the handlers of
 * handlers.h are called for the runtime's requests in between. No system call here: the
 * socket (conn.c) and the tests and fuzzer drive the same code.
 *
 * The conversation: we send RegisterPlugin (connection 2, the runtime service); the
 * runtime calls Configure, Synchronize (maybe in parts, `more`), then the events we
 * subscribed to, and Shutdown, on connection 1 (the plugin service), each answered on the
 * stream it came on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "base/bytes.h"
#include "base/mux.h"
#include "base/ttrpc.h"
#include "nri/handlers.h"

#define HG_NRI_PLUGIN_SERVICE "nri.pkg.api.v1alpha1.Plugin"
#define HG_NRI_RUNTIME_SERVICE "nri.pkg.api.v1alpha1.Runtime"
/* NRI's defaults (pkg/api), used until Configure tells the runtime's own. */
#define HG_NRI_DEFAULT_REQUEST_TIMEOUT_MS 2000
#define HG_NRI_DEFAULT_REGISTRATION_TIMEOUT_MS 5000

/* NRI's enum Event, and the events host-gateway subscribes to: pods come and go (their
 * attachment), containers are created (their names) and stop or go (their names go). */
enum hg_nri_event {
	HG_NRI_EVENT_RUN_POD_SANDBOX = 1,
	HG_NRI_EVENT_STOP_POD_SANDBOX = 2,
	HG_NRI_EVENT_REMOVE_POD_SANDBOX = 3,
	HG_NRI_EVENT_CREATE_CONTAINER = 4,
	HG_NRI_EVENT_STOP_CONTAINER = 10,
	HG_NRI_EVENT_REMOVE_CONTAINER = 11,
};
#define HG_NRI_EVENT_BIT(e) (1u << ((e) - 1))
#define HG_NRI_EVENTS                                                                               \
	(HG_NRI_EVENT_BIT(HG_NRI_EVENT_RUN_POD_SANDBOX) | HG_NRI_EVENT_BIT(HG_NRI_EVENT_STOP_POD_SANDBOX) |  \
	 HG_NRI_EVENT_BIT(HG_NRI_EVENT_REMOVE_POD_SANDBOX) | HG_NRI_EVENT_BIT(HG_NRI_EVENT_CREATE_CONTAINER) | \
	 HG_NRI_EVENT_BIT(HG_NRI_EVENT_STOP_CONTAINER) | HG_NRI_EVENT_BIT(HG_NRI_EVENT_REMOVE_CONTAINER))

struct hg_nri_session_config {
	const char *name; /* what we register as: NRI shows IDX-NAME */
	const char *idx;  /* two digits: the order among plugins */
	/* A handler's failure fails the runtime's request (the pod or container does not
	 * start). Off by default: a pod starts without names rather than not at all. */
	bool fail_closed;
};

/* Budgeted protobuf-c allocations: what one request may make us allocate while it is
 * decoded is bounded, whatever the peer packs into 4 MiB. */
struct hg_nri_pb_budget {
	ProtobufCAllocator allocator;
	size_t used, limit;
};

struct hg_nri_session {
	struct hg_nri_session_config cfg;
	const struct hg_nri_handlers *handlers;
	const struct hg_log *log;
	struct hg_mux_reader mux;
	struct hg_ttrpc_reader rx_plugin;  /* connection 1: requests from the runtime */
	struct hg_ttrpc_reader rx_runtime; /* connection 2: answers to our requests */
	struct hg_bytes out;               /* frames to send, in order */
	struct hg_nri_pb_budget budget;
	uint32_t next_stream_id;  /* ours on connection 2: odd, increasing */
	uint32_t register_stream; /* RegisterPlugin's */
	bool registered, configured, synchronized, shutdown;
	int64_t now_ms;
	int64_t request_timeout_ms;
	int64_t registration_timeout_ms;
	/* The parts of a split Synchronize until the last one (more = false). */
	void **sync_parts; /* Hgnri__SynchronizeRequest * */
	size_t n_sync_parts, sync_bytes;
	size_t sync_decoded; /* what the parts held cost the allocation budget */
	/* What a broken or hostile peer made us ignore or refuse; logged a few times each. */
	uint64_t ignored, refused;
};

/* Queues RegisterPlugin; -1 (err) without memory. */
int hg_nri_session_start(struct hg_nri_session *s, const struct hg_nri_session_config *cfg,
	const struct hg_nri_handlers *handlers, const struct hg_log *log, int64_t now_ms, struct hg_error *err);
/* Processes the trunk's bytes (any cut), answering every complete request into out.
 * -1 (err) when the connection must go: a frame or message over the limits, the send
 * buffer over its ceiling (a peer that does not read), RegisterPlugin refused, no memory.
 * Requests that are wrong but framed (garbage protobuf, unknown service or method) are
 * answered with an error status and the session goes on. */
int hg_nri_session_feed(struct hg_nri_session *s, const uint8_t *data, size_t len, int64_t now_ms, struct hg_error *err);
void hg_nri_session_free(struct hg_nri_session *s);
