/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nri/session.h"
#include "nri/wire.h"

/* The ceiling of unsent frames. The socket loop sends everything after each read, so this
 * is reached only by a peer that sends requests and never reads the answers. */
#define SESSION_OUT_MAX (8u << 20)
/* What decoding one message may allocate: a 4 MiB message of tiny repeated fields
 * unpacks to many small blocks, and that is as far as a peer may push it. */
#define SESSION_PB_BUDGET (64u << 20)
/* A split Synchronize: NRI splits it only when one message would pass 4 MiB. */
#define SESSION_SYNC_PARTS_MAX 16
#define SESSION_SYNC_BYTES_MAX (16u << 20)
/* Complaints about one peer's wrong frames: the first few, then only the counts. */
#define SESSION_COMPLAINTS 5

static void *budget_alloc(void *data, size_t size)
{
	struct hg_nri_pb_budget *b = data;
	/* malloc's own overhead counts: a million one-byte strings cost more than 1 MB. */
	size_t cost = size + 32;
	if (b->used > b->limit || cost > b->limit - b->used)
		return NULL;
	b->used += cost;
	return malloc(size);
}

static void budget_free(void *data, void *p)
{
	free(p);
}

static void complain(struct hg_nri_session *s, uint64_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void complain(struct hg_nri_session *s, uint64_t *counter, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (++*counter > SESSION_COMPLAINTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hg_logf(s->log, "%s%s", msg, *counter == SESSION_COMPLAINTS ? " (further ones are only counted)" : "");
}

static void budget_reset(struct hg_nri_session *s)
{
	s->budget.used = 0;
}

/* ---- sending ---- */

static int send_message(struct hg_nri_session *s, uint32_t conn, uint32_t stream, uint8_t type, const uint8_t *payload,
	size_t len, struct hg_error *err)
{
	if (len > HG_TTRPC_MESSAGE_MAX)
		return hg_error_set(err, HG_CNI_IO, "message of %zu bytes to send, over the ttrpc limit", len);
	struct hg_ttrpc_header h = {.length = (uint32_t) len, .stream_id = stream, .type = type};
	return hg_mux_append_ttrpc(&s->out, conn, &h, payload, err);
}

/* An answer on the plugin service: code 0 with payload, or an error status. */
static int send_response(struct hg_nri_session *s, uint32_t stream, int code, const char *message, const uint8_t *payload,
	size_t len, struct hg_error *err)
{
	Hgnri__Response rsp = HGNRI__RESPONSE__INIT;
	Hgnri__Status st = HGNRI__STATUS__INIT;
	st.code = code;
	st.message = (char *) (message ? message : "");
	rsp.status = &st;
	rsp.payload.data = (uint8_t *) payload;
	rsp.payload.len = len;
	size_t n = hgnri__response__get_packed_size(&rsp);
	if (n > HG_TTRPC_MESSAGE_MAX) {
		/* Say so rather than send what the runtime would refuse to read. */
		rsp.payload.len = 0;
		st.code = HG_TTRPC_RESOURCE_EXHAUSTED;
		st.message = "answer over the ttrpc message limit";
		n = hgnri__response__get_packed_size(&rsp);
	}
	_cleanup_free_ uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "answer of %zu bytes", n);
	hgnri__response__pack(&rsp, buf);
	return send_message(s, HG_MUX_CONN_PLUGIN, stream, HG_TTRPC_RESPONSE, buf, n, err);
}

static int send_error(struct hg_nri_session *s, struct hg_error *err, uint32_t stream, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int send_error(struct hg_nri_session *s, struct hg_error *err, uint32_t stream, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hg_utf8_sanitize(msg); /* protobuf strings are UTF-8; the message may quote the peer */
	complain(s, &s->refused, "refused on stream %u (code %d): %s", stream, code, msg);
	return send_response(s, stream, code, msg, NULL, 0, err);
}

int hg_nri_session_start(struct hg_nri_session *s, const struct hg_nri_session_config *cfg,
	const struct hg_nri_handlers *handlers, const struct hg_log *log, int64_t now_ms, struct hg_error *err)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->handlers = handlers;
	s->log = log;
	s->out.max = SESSION_OUT_MAX;
	s->budget = (struct hg_nri_pb_budget){
		.allocator = {.alloc = budget_alloc, .free = budget_free, .allocator_data = &s->budget},
		.limit = SESSION_PB_BUDGET,
	};
	s->now_ms = now_ms;
	s->request_timeout_ms = HG_NRI_DEFAULT_REQUEST_TIMEOUT_MS;
	s->registration_timeout_ms = HG_NRI_DEFAULT_REGISTRATION_TIMEOUT_MS;
	s->next_stream_id = 1;

	Hgnri__RegisterPluginRequest reg = HGNRI__REGISTER_PLUGIN_REQUEST__INIT;
	reg.plugin_name = (char *) cfg->name;
	reg.plugin_idx = (char *) cfg->idx;
	/* No NRI release to claim: the runtime logs "unknown" for an empty one. */
	reg.nri_version = "";
	uint8_t payload[1024];
	if (hgnri__register_plugin_request__get_packed_size(&reg) > sizeof(payload))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "plugin name too long");
	size_t plen = hgnri__register_plugin_request__pack(&reg, payload);

	Hgnri__Request req = HGNRI__REQUEST__INIT;
	req.service = HG_NRI_RUNTIME_SERVICE;
	req.method = "RegisterPlugin";
	req.payload.data = payload;
	req.payload.len = plen;
	req.timeout_nano = (int64_t) s->registration_timeout_ms * 1000000;
	uint8_t buf[2048];
	size_t n = hgnri__request__pack(&req, buf);
	s->register_stream = s->next_stream_id;
	s->next_stream_id += 2;
	return send_message(s, HG_MUX_CONN_RUNTIME, s->register_stream, HG_TTRPC_REQUEST, buf, n, err);
}

/* ---- the plugin service: one function per method ---- */

struct answer {
	int code; /* HG_TTRPC_OK or a status code */
	char message[512];
	uint8_t *payload; /* malloc'ed, or NULL for an empty message */
	size_t len;
};

typedef int (*method_fn)(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err);

static void answer_error(struct answer *ans, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer_error(struct answer *ans, int code, const char *fmt, ...)
{
	va_list ap;
	ans->code = code;
	va_start(ap, fmt);
	vsnprintf(ans->message, sizeof(ans->message), fmt, ap);
	va_end(ap);
}

#define BAD_PAYLOAD(ans, what) (answer_error((ans), HG_TTRPC_INVALID_ARGUMENT, "cannot decode %s", (what)), 0)

/* A handler failed: the runtime is told according to the failure policy. */
static void handler_failed(struct hg_nri_session *s, struct answer *ans, const char *what, const char *id,
	const struct hg_error *herr)
{
	if (s->cfg.fail_closed) {
		hg_logf(s->log, "%s %s failed: %s", what, id, herr->msg);
		answer_error(ans, HG_TTRPC_UNKNOWN, "host-gateway: %s", herr->msg);
	} else {
		hg_logf(s->log, "%s %s failed, letting it go on without host-gateway (fail open): %s", what, id, herr->msg);
	}
}

static int m_configure(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__ConfigureRequest *req = hgnri__configure_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "ConfigureRequest");
	/* The runtime's timeouts replace NRI's defaults; nonsense keeps the defaults. */
	if (req->request_timeout > 0 && req->request_timeout < 3600 * 1000)
		s->request_timeout_ms = req->request_timeout;
	if (req->registration_timeout > 0 && req->registration_timeout < 3600 * 1000)
		s->registration_timeout_ms = req->registration_timeout;
	struct hg_nri_runtime rt = {
		.name = req->runtime_name ? req->runtime_name : "",
		.version = req->runtime_version ? req->runtime_version : "",
		.nri_version = req->nri_version ? req->nri_version : "",
		.config = req->config ? req->config : "",
		.registration_timeout_ms = s->registration_timeout_ms,
		.request_timeout_ms = s->request_timeout_ms,
	};
	struct hg_error herr = {0};
	if (s->handlers->configure && s->handlers->configure(s->handlers->ctx, call, &rt, &herr) < 0) {
		/* A plugin that cannot configure itself must not subscribe: the runtime then
		 * closes the connection and we come back later. */
		hg_logf(s->log, "configuration refused: %s", herr.msg);
		answer_error(ans, HG_TTRPC_FAILED_PRECONDITION, "host-gateway: %s", herr.msg);
	} else {
		Hgnri__ConfigureResponse rsp = HGNRI__CONFIGURE_RESPONSE__INIT;
		rsp.events = (int32_t) HG_NRI_EVENTS;
		ans->len = hgnri__configure_response__get_packed_size(&rsp);
		ans->payload = malloc(ans->len);
		if (!ans->payload) {
			hgnri__configure_request__free_unpacked(req, &s->budget.allocator);
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "Configure");
		}
		hgnri__configure_response__pack(&rsp, ans->payload);
		s->configured = true;
	}
	hgnri__configure_request__free_unpacked(req, &s->budget.allocator);
	return 0;
}

static void free_sync_parts(struct hg_nri_session *s)
{
	for (size_t i = 0; i < s->n_sync_parts; i++)
		hgnri__synchronize_request__free_unpacked(s->sync_parts[i], &s->budget.allocator);
	free(s->sync_parts);
	s->sync_parts = NULL;
	s->n_sync_parts = s->sync_bytes = s->sync_decoded = 0;
}

static int deliver_sync(struct hg_nri_session *s, const struct hg_nri_call *call, struct answer *ans,
	struct hg_error *err)
{
	size_t n_pods = 0, n_ctrs = 0;
	for (size_t i = 0; i < s->n_sync_parts; i++) {
		const Hgnri__SynchronizeRequest *r = s->sync_parts[i];
		n_pods += r->n_pods;
		n_ctrs += r->n_containers;
	}
	struct hg_nri_pod_view *pv = calloc(n_pods ? n_pods : 1, sizeof(*pv));
	struct hg_nri_container_view *cv = calloc(n_ctrs ? n_ctrs : 1, sizeof(*cv));
	struct hg_nri_pod *pods = calloc(n_pods ? n_pods : 1, sizeof(*pods));
	struct hg_nri_container *ctrs = calloc(n_ctrs ? n_ctrs : 1, sizeof(*ctrs));
	size_t ip = 0, ic = 0;
	int ret = -1;
	if (!pv || !cv || !pods || !ctrs) {
		hg_error_errno(err, HG_CNI_IO, ENOMEM, "Synchronize of %zu pods and %zu containers", n_pods, n_ctrs);
		goto out;
	}
	for (size_t i = 0; i < s->n_sync_parts; i++) {
		const Hgnri__SynchronizeRequest *r = s->sync_parts[i];
		for (size_t j = 0; j < r->n_pods; j++, ip++) {
			if (hg_nri_pod_view(r->pods[j], &pv[ip], err) < 0)
				goto out;
			pods[ip] = pv[ip].pod;
		}
		for (size_t j = 0; j < r->n_containers; j++, ic++) {
			if (hg_nri_container_view(r->containers[j], &cv[ic], err) < 0)
				goto out;
			ctrs[ic] = cv[ic].container;
		}
	}
	struct hg_error herr = {0};
	if (s->handlers->synchronize &&
		s->handlers->synchronize(s->handlers->ctx, call, pods, n_pods, ctrs, n_ctrs, &herr) < 0) {
		/* Synchronize has no pod to let through or hold back: a failure is logged, and
		 * what it would have fixed waits for the next event or reconnection. */
		hg_logf(s->log, "synchronize failed: %s", herr.msg);
	}
	s->synchronized = true;
	ret = 0;
out:
	for (size_t i = 0; pv && i < ip; i++)
		hg_nri_pod_view_release(&pv[i]);
	for (size_t i = 0; cv && i < ic; i++)
		hg_nri_container_view_release(&cv[i]);
	free(pv);
	free(cv);
	free(pods);
	free(ctrs);
	/* An empty SynchronizeResponse: more = false, no update. */
	ans->len = 0;
	return ret;
}

static int m_synchronize(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	/* The parts held count against this one's budget: each decoded within its own, 16
	 * parts of tiny pods held 700 MB. */
	size_t before = s->budget.used;
	s->budget.used += s->sync_decoded;
	Hgnri__SynchronizeRequest *req = hgnri__synchronize_request__unpack(&s->budget.allocator, len, p);
	if (!req) {
		free_sync_parts(s);
		return BAD_PAYLOAD(ans, "SynchronizeRequest");
	}
	s->sync_decoded = s->budget.used - before;
	if (s->n_sync_parts >= SESSION_SYNC_PARTS_MAX || s->sync_bytes + len > SESSION_SYNC_BYTES_MAX) {
		hgnri__synchronize_request__free_unpacked(req, &s->budget.allocator);
		free_sync_parts(s);
		answer_error(ans, HG_TTRPC_RESOURCE_EXHAUSTED, "Synchronize in more than %d parts or %u bytes",
			SESSION_SYNC_PARTS_MAX, SESSION_SYNC_BYTES_MAX);
		return 0;
	}
	void **grown = realloc(s->sync_parts, (s->n_sync_parts + 1) * sizeof(*grown));
	if (!grown) {
		hgnri__synchronize_request__free_unpacked(req, &s->budget.allocator);
		return hg_error_errno(err, HG_CNI_IO, ENOMEM, "Synchronize");
	}
	s->sync_parts = grown;
	s->sync_parts[s->n_sync_parts++] = req;
	s->sync_bytes += len;
	if (req->more) {
		/* A part: acknowledged with more = true, as NRI expects from a plugin that
		 * collects the parts, and held until the last one. */
		Hgnri__SynchronizeResponse rsp = HGNRI__SYNCHRONIZE_RESPONSE__INIT;
		rsp.more = 1;
		ans->len = hgnri__synchronize_response__get_packed_size(&rsp);
		ans->payload = malloc(ans->len);
		if (!ans->payload)
			return hg_error_errno(err, HG_CNI_IO, ENOMEM, "Synchronize");
		hgnri__synchronize_response__pack(&rsp, ans->payload);
		return 0;
	}
	int ret = deliver_sync(s, call, ans, err);
	free_sync_parts(s);
	return ret;
}

static int m_shutdown(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__Empty *req = hgnri__empty__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "Empty");
	hgnri__empty__free_unpacked(req, &s->budget.allocator);
	s->shutdown = true;
	if (s->handlers->shutdown)
		s->handlers->shutdown(s->handlers->ctx, call);
	return 0;
}

typedef int (*pod_fn)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err);
typedef int (*ctr_fn)(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *container, struct hg_error *err);

/* Runs a pod event's handler on a decoded pod (NULL: the request had none). */
static int pod_event(struct hg_nri_session *s, const struct hg_nri_call *call, const char *what, pod_fn fn,
	const Hgnri__PodSandbox *pb, struct answer *ans, struct hg_error *err)
{
	struct hg_nri_pod_view v;
	if (hg_nri_pod_view(pb, &v, err) < 0)
		return -1;
	struct hg_error herr = {0};
	if (fn && fn(s->handlers->ctx, call, &v.pod, &herr) < 0)
		handler_failed(s, ans, what, v.pod.id, &herr);
	hg_nri_pod_view_release(&v);
	return 0;
}

static int container_event(struct hg_nri_session *s, const struct hg_nri_call *call, const char *what, ctr_fn fn,
	const Hgnri__PodSandbox *pod, const Hgnri__Container *ctr, struct answer *ans, struct hg_error *err)
{
	struct hg_nri_pod_view pv;
	struct hg_nri_container_view cv;
	if (hg_nri_pod_view(pod, &pv, err) < 0)
		return -1;
	if (hg_nri_container_view(ctr, &cv, err) < 0) {
		hg_nri_pod_view_release(&pv);
		return -1;
	}
	struct hg_error herr = {0};
	if (fn && fn(s->handlers->ctx, call, &pv.pod, &cv.container, &herr) < 0)
		handler_failed(s, ans, what, cv.container.id, &herr);
	hg_nri_container_view_release(&cv);
	hg_nri_pod_view_release(&pv);
	return 0;
}

static int m_run_pod(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__RunPodSandboxRequest *req = hgnri__run_pod_sandbox_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "RunPodSandboxRequest");
	int ret = pod_event(s, call, "pod start", s->handlers->pod_start, req->pod, ans, err);
	hgnri__run_pod_sandbox_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_stop_pod(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__StopPodSandboxRequest *req = hgnri__stop_pod_sandbox_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "StopPodSandboxRequest");
	int ret = pod_event(s, call, "pod stop", s->handlers->pod_stop, req->pod, ans, err);
	hgnri__stop_pod_sandbox_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_remove_pod(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__RemovePodSandboxRequest *req = hgnri__remove_pod_sandbox_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "RemovePodSandboxRequest");
	int ret = pod_event(s, call, "pod removal", s->handlers->pod_remove, req->pod, ans, err);
	hgnri__remove_pod_sandbox_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_create_container(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__CreateContainerRequest *req = hgnri__create_container_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "CreateContainerRequest");
	struct hg_nri_pod_view pv;
	struct hg_nri_container_view cv;
	struct hg_nri_adjustment adj = {0};
	int ret = -1;
	if (hg_nri_pod_view(req->pod, &pv, err) < 0)
		goto free_req;
	if (hg_nri_container_view(req->container, &cv, err) < 0)
		goto free_pod;
	struct hg_error herr = {0};
	if (s->handlers->container_create &&
		s->handlers->container_create(s->handlers->ctx, call, &pv.pod, &cv.container, &adj, &herr) < 0) {
		/* Half an adjustment is worse than none. */
		hg_nri_adjustment_free(&adj);
		handler_failed(s, ans, "container creation", cv.container.id, &herr);
	}
	if (ans->code == HG_TTRPC_OK && hg_nri_pack_create_response(&adj, &ans->payload, &ans->len, err) < 0)
		goto free_all;
	ret = 0;
free_all:
	hg_nri_adjustment_free(&adj);
	hg_nri_container_view_release(&cv);
free_pod:
	hg_nri_pod_view_release(&pv);
free_req:
	hgnri__create_container_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_stop_container(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__StopContainerRequest *req = hgnri__stop_container_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "StopContainerRequest");
	int ret = container_event(s, call, "container stop", s->handlers->container_stop, req->pod, req->container, ans, err);
	hgnri__stop_container_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_remove_container(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__RemoveContainerRequest *req = hgnri__remove_container_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "RemoveContainerRequest");
	int ret = container_event(s, call, "container removal", s->handlers->container_remove, req->pod, req->container,
		ans, err);
	hgnri__remove_container_request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

static int m_update_container(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	/* Not subscribed: a runtime that calls it anyway gets "no update". */
	Hgnri__UpdateContainerRequest *req = hgnri__update_container_request__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "UpdateContainerRequest");
	hgnri__update_container_request__free_unpacked(req, &s->budget.allocator);
	return 0;
}

/* Runtimes before the dedicated calls (and today's, for a plugin that answers
 * Unimplemented to them) send pod and container lifecycle events as StateChange. */
static int m_state_change(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	Hgnri__StateChangeEvent *req = hgnri__state_change_event__unpack(&s->budget.allocator, len, p);
	if (!req)
		return BAD_PAYLOAD(ans, "StateChangeEvent");
	const struct hg_nri_handlers *h = s->handlers;
	int ret = 0;
	switch (req->event) {
	case HG_NRI_EVENT_RUN_POD_SANDBOX:
		ret = pod_event(s, call, "pod start", h->pod_start, req->pod, ans, err);
		break;
	case HG_NRI_EVENT_STOP_POD_SANDBOX:
		ret = pod_event(s, call, "pod stop", h->pod_stop, req->pod, ans, err);
		break;
	case HG_NRI_EVENT_REMOVE_POD_SANDBOX:
		ret = pod_event(s, call, "pod removal", h->pod_remove, req->pod, ans, err);
		break;
	case HG_NRI_EVENT_STOP_CONTAINER:
		ret = container_event(s, call, "container stop", h->container_stop, req->pod, req->container, ans, err);
		break;
	case HG_NRI_EVENT_REMOVE_CONTAINER:
		ret = container_event(s, call, "container removal", h->container_remove, req->pod, req->container, ans, err);
		break;
	default:
		/* Events not subscribed to, or of a later NRI: nothing to do. */
		break;
	}
	hgnri__state_change_event__free_unpacked(req, &s->budget.allocator);
	return ret;
}

/* Calls host-gateway does not subscribe to: answered "nothing to change" (every one of
 * their answers is a message whose empty encoding means that), so that a runtime that
 * calls them anyway is not failed by us. */
static int m_nothing(struct hg_nri_session *s, const struct hg_nri_call *call, const uint8_t *p, size_t len,
	struct answer *ans, struct hg_error *err)
{
	return 0;
}

static const struct {
	const char *name;
	method_fn fn;
} plugin_methods[] = {
	{"Configure", m_configure},
	{"Synchronize", m_synchronize},
	{"Shutdown", m_shutdown},
	{"RunPodSandbox", m_run_pod},
	{"StopPodSandbox", m_stop_pod},
	{"RemovePodSandbox", m_remove_pod},
	{"CreateContainer", m_create_container},
	{"StopContainer", m_stop_container},
	{"RemoveContainer", m_remove_container},
	{"UpdateContainer", m_update_container},
	{"StateChange", m_state_change},
	{"UpdatePodSandbox", m_nothing},
	{"PostUpdatePodSandbox", m_nothing},
	{"PostCreateContainer", m_nothing},
	{"StartContainer", m_nothing},
	{"PostStartContainer", m_nothing},
	{"PostUpdateContainer", m_nothing},
	{"ValidateContainerAdjustment", m_nothing},
};

static int handle_request(struct hg_nri_session *s, const struct hg_ttrpc_message *m, struct hg_error *err)
{
	uint32_t stream = m->h.stream_id;
	/* ttrpc's rule: streams a client opens have odd ids. */
	if (stream % 2 != 1)
		return send_error(s, err, stream, HG_TTRPC_INVALID_ARGUMENT, "stream id %u is not odd", stream);
	budget_reset(s);
	Hgnri__Request *req = hgnri__request__unpack(&s->budget.allocator, m->h.length, m->payload);
	if (!req)
		return send_error(s, err, stream, HG_TTRPC_INVALID_ARGUMENT, "cannot decode the ttrpc request");
	int ret = 0;
	if (!req->service || strcmp(req->service, HG_NRI_PLUGIN_SERVICE) != 0) {
		ret = send_error(s, err, stream, HG_TTRPC_UNIMPLEMENTED, "service %.100s: unknown", req->service ? req->service : "");
		goto out;
	}
	method_fn fn = NULL;
	const char *method = req->method ? req->method : "";
	for (size_t i = 0; i < ARRAY_SIZE(plugin_methods); i++)
		if (strcmp(method, plugin_methods[i].name) == 0)
			fn = plugin_methods[i].fn;
	if (!fn) {
		ret = send_error(s, err, stream, HG_TTRPC_UNIMPLEMENTED, "method %.100s: unknown", method);
		goto out;
	}
	/* Answer before the runtime gives up on us: its timeout for this call when it sent
	 * one, its configured request timeout otherwise, with a margin for the way back. */
	int64_t timeout_ms = s->request_timeout_ms;
	if (req->timeout_nano > 0 && req->timeout_nano / 1000000 < timeout_ms)
		timeout_ms = req->timeout_nano / 1000000;
	struct hg_nri_call call = {.deadline_ms = s->now_ms + timeout_ms * 3 / 4, .log = s->log};
	struct answer ans = {.code = HG_TTRPC_OK};
	/* The request's own allocations stay within what is left of the budget. */
	if (fn(s, &call, req->payload.data, req->payload.len, &ans, err) < 0) {
		free(ans.payload);
		ret = -1;
		goto out;
	}
	if (ans.code != HG_TTRPC_OK) {
		free(ans.payload);
		ret = send_error(s, err, stream, ans.code, "%s: %s", method, ans.message);
		goto out;
	}
	ret = send_response(s, stream, HG_TTRPC_OK, NULL, ans.payload, ans.len, err);
	free(ans.payload);
out:
	hgnri__request__free_unpacked(req, &s->budget.allocator);
	return ret;
}

/* The answer to one of our requests on the runtime service: only RegisterPlugin's matters. */
static int handle_runtime_answer(struct hg_nri_session *s, const struct hg_ttrpc_message *m, struct hg_error *err)
{
	if (m->h.type != HG_TTRPC_RESPONSE || m->h.stream_id != s->register_stream || s->registered) {
		complain(s, &s->ignored, "ignored a message of type %u on stream %u of the runtime service", m->h.type,
			m->h.stream_id);
		return 0;
	}
	budget_reset(s);
	Hgnri__Response *rsp = hgnri__response__unpack(&s->budget.allocator, m->h.length, m->payload);
	if (!rsp)
		return hg_error_set(err, HG_CNI_DECODE, "cannot decode the answer to RegisterPlugin");
	int ret = 0;
	if (rsp->status && rsp->status->code != HG_TTRPC_OK) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", rsp->status->message ? rsp->status->message : "");
		hg_utf8_sanitize(msg);
		ret = hg_error_set(err, HG_CNI_INVALID_CONFIG, "the runtime refused the registration (code %d): %s",
			rsp->status->code, msg);
	} else {
		s->registered = true;
		hg_logf(s->log, "registered as %s-%s", s->cfg.idx, s->cfg.name);
	}
	hgnri__response__free_unpacked(rsp, &s->budget.allocator);
	return ret;
}

static int handle_message(struct hg_nri_session *s, uint32_t conn, const struct hg_ttrpc_message *m, struct hg_error *err)
{
	if (conn == HG_MUX_CONN_RUNTIME)
		return handle_runtime_answer(s, m, err);
	if (m->h.type != HG_TTRPC_REQUEST) {
		complain(s, &s->ignored, "ignored a message of type %u on stream %u of the plugin service", m->h.type,
			m->h.stream_id);
		return 0;
	}
	return handle_request(s, m, err);
}

int hg_nri_session_feed(struct hg_nri_session *s, const uint8_t *data, size_t len, int64_t now_ms, struct hg_error *err)
{
	s->now_ms = now_ms;
	while (len > 0) {
		struct hg_mux_piece piece;
		size_t used;
		int r = hg_mux_reader_next(&s->mux, data, len, &used, &piece, err);
		if (r < 0)
			return -1;
		data += used;
		len -= used;
		if (r == 0)
			continue;
		struct hg_ttrpc_reader *rx = piece.conn_id == HG_MUX_CONN_PLUGIN ? &s->rx_plugin
			: piece.conn_id == HG_MUX_CONN_RUNTIME                     ? &s->rx_runtime
										   : NULL;
		if (!rx) {
			complain(s, &s->ignored, "ignored %zu bytes on connection %u (not NRI's 1 or 2)", piece.len,
				piece.conn_id);
			continue;
		}
		while (piece.len > 0) {
			struct hg_ttrpc_message m;
			r = hg_ttrpc_reader_next(rx, piece.data, piece.len, &used, &m, err);
			if (r < 0)
				return hg_error_prefix(err, "connection %u", piece.conn_id);
			piece.data += used;
			piece.len -= used;
			if (r == 1 && handle_message(s, piece.conn_id, &m, err) < 0)
				return -1;
		}
	}
	return 0;
}

void hg_nri_session_free(struct hg_nri_session *s)
{
	free_sync_parts(s);
	hg_ttrpc_reader_free(&s->rx_plugin);
	hg_ttrpc_reader_free(&s->rx_runtime);
	hg_bytes_free(&s->out);
}
