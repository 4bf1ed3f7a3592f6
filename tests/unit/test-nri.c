/* SPDX-License-Identifier: Apache-2.0 */
/* The NRI personality without a runtime: the multiplexer and ttrpc framing (lib/base),
 * and the conversation of nri/session.c driven by frames built here, answers decoded. */
#include "test-helpers.h"
#include "base/bytes.h"
#include "base/mux.h"
#include "base/ttrpc.h"
#include "nri/session.h"
#include "nri/wire.h"

/* ---- framing ---- */

static void test_mux_header(void **state)
{
	uint8_t b[HG_MUX_HEADER_LEN];
	struct hg_mux_header h;
	hg_mux_header_encode(b, &(struct hg_mux_header){.conn_id = 2, .length = 0x01020304});
	assert_memory_equal(b, "\x00\x00\x00\x02\x01\x02\x03\x04", 8);
	hg_mux_header_decode(b, &h);
	assert_int_equal(h.conn_id, 2);
	assert_int_equal(h.length, 0x01020304);
}

static void test_ttrpc_header(void **state)
{
	uint8_t b[HG_TTRPC_HEADER_LEN];
	struct hg_ttrpc_header h;
	hg_ttrpc_header_encode(b, &(struct hg_ttrpc_header){.length = 5, .stream_id = 7, .type = 2, .flags = 4});
	assert_memory_equal(b, "\x00\x00\x00\x05\x00\x00\x00\x07\x02\x04", 10);
	hg_ttrpc_header_decode(b, &h);
	assert_int_equal(h.length, 5);
	assert_int_equal(h.stream_id, 7);
	assert_int_equal(h.type, 2);
	assert_int_equal(h.flags, 4);
}

/* Two frames, fed one byte at a time: the pieces carry the payload bytes in order. */
static void test_mux_reader_bytewise(void **state)
{
	const uint8_t in[] = "\x00\x00\x00\x01\x00\x00\x00\x03" "abc" "\x00\x00\x00\x09\x00\x00\x00\x00"
			     "\x00\x00\x00\x02\x00\x00\x00\x01" "z";
	struct hg_mux_reader r = {0};
	struct hg_error err;
	char got[16] = "";
	size_t n = 0;
	for (size_t i = 0; i < sizeof(in) - 1; i++) {
		struct hg_mux_piece p;
		size_t used;
		int rc = hg_mux_reader_next(&r, in + i, 1, &used, &p, &err);
		assert_true(rc >= 0);
		assert_int_equal(used, 1);
		if (rc == 1) {
			assert_int_equal(p.len, 1);
			got[n++] = (char) ('0' + p.conn_id);
			got[n++] = (char) p.data[0];
		}
	}
	assert_string_equal(got, "1a1b1c2z");
}

static void test_mux_reader_oversize(void **state)
{
	uint8_t in[8];
	struct hg_mux_reader r = {0};
	struct hg_mux_piece p;
	struct hg_error err;
	size_t used;
	hg_mux_header_encode(in, &(struct hg_mux_header){.conn_id = 1, .length = HG_MUX_PAYLOAD_MAX});
	assert_int_equal(hg_mux_reader_next(&r, in, 8, &used, &p, &err), 0); /* the limit itself is fine */
	r = (struct hg_mux_reader){0};
	hg_mux_header_encode(in, &(struct hg_mux_header){.conn_id = 1, .length = HG_MUX_PAYLOAD_MAX + 1});
	assert_int_equal(hg_mux_reader_next(&r, in, 8, &used, &p, &err), -1);
	assert_non_null(strstr(err.msg, "over the"));
}

/* A message cut at every byte, then two in one buffer, then an empty one. */
static void test_ttrpc_reader(void **state)
{
	const uint8_t two[] = "\x00\x00\x00\x02\x00\x00\x00\x01\x01\x00" "hi"
			      "\x00\x00\x00\x00\x00\x00\x00\x03\x02\x00";
	struct hg_ttrpc_reader r = {0};
	struct hg_ttrpc_message m;
	struct hg_error err;
	size_t used;
	for (size_t i = 0; i < 11; i++) {
		assert_int_equal(hg_ttrpc_reader_next(&r, two + i, 1, &used, &m, &err), 0);
		assert_int_equal(used, 1);
	}
	assert_int_equal(hg_ttrpc_reader_next(&r, two + 11, 1, &used, &m, &err), 1);
	assert_int_equal(m.h.stream_id, 1);
	assert_memory_equal(m.payload, "hi", 2);
	assert_int_equal(hg_ttrpc_reader_next(&r, two, sizeof(two) - 1, &used, &m, &err), 1);
	assert_int_equal(used, 12);
	assert_int_equal(hg_ttrpc_reader_next(&r, two + 12, sizeof(two) - 1 - 12, &used, &m, &err), 1);
	assert_int_equal(m.h.length, 0);
	assert_int_equal(m.h.stream_id, 3);
	hg_ttrpc_reader_free(&r);
}

static void test_ttrpc_reader_oversize(void **state)
{
	uint8_t in[HG_TTRPC_HEADER_LEN];
	struct hg_ttrpc_reader r = {0};
	struct hg_ttrpc_message m;
	struct hg_error err;
	size_t used;
	hg_ttrpc_header_encode(in, &(struct hg_ttrpc_header){.length = HG_TTRPC_MESSAGE_MAX + 1, .stream_id = 1, .type = 1});
	assert_int_equal(hg_ttrpc_reader_next(&r, in, sizeof(in), &used, &m, &err), -1);
	hg_ttrpc_reader_free(&r);
}

static void test_bytes_ceiling(void **state)
{
	struct hg_bytes b = {.max = 10};
	struct hg_error err;
	assert_int_equal(hg_bytes_append(&b, "0123456789", 10, &err), 0);
	assert_int_equal(hg_bytes_append(&b, "x", 1, &err), -1);
	assert_int_equal(b.len, 10);
	hg_bytes_consume(&b, 4);
	assert_memory_equal(b.data, "456789", 6);
	hg_bytes_free(&b);
}

/* ---- the session ---- */

struct seen {
	int pod_starts, creates, syncs, sync_pods, sync_ctrs;
	char netns[128], annotation[128];
	bool fail;
};

static int h_pod_start(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	struct seen *s = ctx;
	s->pod_starts++;
	snprintf(s->netns, sizeof(s->netns), "%s", pod->netns);
	const char *a = hg_nri_annotation(pod->annotations, pod->n_annotations, "host-gateway.io/names");
	snprintf(s->annotation, sizeof(s->annotation), "%s", a ? a : "(none)");
	return s->fail ? hg_error_set(err, HG_CNI_NETNS, "cannot enter") : 0;
}

static int h_create(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
	const struct hg_nri_container *c, struct hg_nri_adjustment *adj, struct hg_error *err)
{
	struct seen *s = ctx;
	s->creates++;
	static const char *const opts[] = {"rbind", "ro", NULL};
	static const char *const args[] = {"host-gateway", "hook", "createRuntime", NULL};
	assert_int_equal(hg_nri_adjust_mount(adj, "/etc/hosts", "bind", "/run/hg/hosts", opts, err), 0);
	assert_int_equal(hg_nri_adjust_hook(adj, HG_NRI_HOOK_CREATE_RUNTIME, "/opt/cni/bin/host-gateway", args, NULL, 5, err), 0);
	assert_int_equal(hg_nri_adjust_annotation(adj, "host-gateway.io/done", "1", err), 0);
	assert_int_equal(hg_nri_adjust_env(adj, "HG", "1", err), 0);
	return s->fail ? hg_error_set(err, HG_CNI_HOSTS_FILE, "cannot write") : 0;
}

static int h_sync(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pods, size_t n_pods,
	const struct hg_nri_container *ctrs, size_t n_ctrs, struct hg_error *err)
{
	struct seen *s = ctx;
	s->syncs++;
	s->sync_pods = (int) n_pods;
	s->sync_ctrs = (int) n_ctrs;
	return 0;
}

static void quiet(void *ctx, const char *msg) {}
static const struct hg_log quiet_log = {.fn = quiet};

/* A request frame for the plugin service; payload packed from msg when not NULL. */
static void push_request(struct hg_bytes *out, uint32_t stream, const char *service, const char *method,
	const ProtobufCMessage *msg)
{
	uint8_t payload[4096], buf[8192];
	struct hg_error err;
	Hgnri__Request req = HGNRI__REQUEST__INIT;
	req.service = (char *) service;
	req.method = (char *) method;
	if (msg) {
		req.payload.len = protobuf_c_message_pack(msg, payload);
		req.payload.data = payload;
	}
	size_t n = hgnri__request__pack(&req, buf);
	struct hg_ttrpc_header h = {.length = (uint32_t) n, .stream_id = stream, .type = HG_TTRPC_REQUEST};
	assert_int_equal(hg_mux_append_ttrpc(out, HG_MUX_CONN_PLUGIN, &h, buf, &err), 0);
}

/* The next frame of the session's output: conn, ttrpc header, payload (consumed). */
static Hgnri__Response *pop_response(struct hg_nri_session *s, uint32_t stream)
{
	assert_true(s->out.len >= HG_MUX_HEADER_LEN + HG_TTRPC_HEADER_LEN);
	struct hg_mux_header mh;
	struct hg_ttrpc_header th;
	hg_mux_header_decode(s->out.data, &mh);
	hg_ttrpc_header_decode(s->out.data + HG_MUX_HEADER_LEN, &th);
	assert_int_equal(mh.conn_id, HG_MUX_CONN_PLUGIN);
	assert_int_equal(mh.length, HG_TTRPC_HEADER_LEN + th.length);
	assert_int_equal(th.type, HG_TTRPC_RESPONSE);
	assert_int_equal(th.stream_id, stream);
	Hgnri__Response *r = hgnri__response__unpack(NULL, th.length, s->out.data + HG_MUX_HEADER_LEN + HG_TTRPC_HEADER_LEN);
	assert_non_null(r);
	hg_bytes_consume(&s->out, HG_MUX_HEADER_LEN + HG_TTRPC_HEADER_LEN + th.length);
	return r;
}

static int code_of(const Hgnri__Response *r)
{
	return r->status ? r->status->code : 0;
}

static void feed(struct hg_nri_session *s, struct hg_bytes *in)
{
	struct hg_error err;
	assert_int_equal(hg_nri_session_feed(s, in->data, in->len, 1000, &err), 0);
	in->len = 0;
}

static void start(struct hg_nri_session *s, struct hg_nri_handlers *h, struct seen *seen, bool fail_closed)
{
	struct hg_error err;
	*h = (struct hg_nri_handlers){.ctx = seen, .pod_start = h_pod_start, .container_create = h_create,
		.synchronize = h_sync};
	struct hg_nri_session_config cfg = {.name = "host-gateway", .idx = "50", .fail_closed = fail_closed};
	assert_int_equal(hg_nri_session_start(s, &cfg, h, &quiet_log, 0, &err), 0);
}

static void test_register(void **state)
{
	struct hg_nri_session s;
	struct hg_nri_handlers h;
	struct seen seen = {0};
	start(&s, &h, &seen, false);
	struct hg_mux_header mh;
	struct hg_ttrpc_header th;
	hg_mux_header_decode(s.out.data, &mh);
	hg_ttrpc_header_decode(s.out.data + 8, &th);
	assert_int_equal(mh.conn_id, HG_MUX_CONN_RUNTIME);
	assert_int_equal(th.type, HG_TTRPC_REQUEST);
	assert_int_equal(th.stream_id % 2, 1);
	Hgnri__Request *req = hgnri__request__unpack(NULL, th.length, s.out.data + 18);
	assert_non_null(req);
	assert_string_equal(req->service, "nri.pkg.api.v1alpha1.Runtime");
	assert_string_equal(req->method, "RegisterPlugin");
	Hgnri__RegisterPluginRequest *reg = hgnri__register_plugin_request__unpack(NULL, req->payload.len, req->payload.data);
	assert_non_null(reg);
	assert_string_equal(reg->plugin_name, "host-gateway");
	assert_string_equal(reg->plugin_idx, "50");
	hgnri__register_plugin_request__free_unpacked(reg, NULL);
	hgnri__request__free_unpacked(req, NULL);
	hg_nri_session_free(&s);
}

static void test_conversation(void **state)
{
	struct hg_nri_session s;
	struct hg_nri_handlers h;
	struct seen seen = {0};
	struct hg_bytes in = {.max = 1 << 20};
	start(&s, &h, &seen, false);
	hg_bytes_consume(&s.out, s.out.len); /* RegisterPlugin */

	Hgnri__ConfigureRequest cfg = HGNRI__CONFIGURE_REQUEST__INIT;
	cfg.runtime_name = "containerd";
	cfg.request_timeout = 2000;
	push_request(&in, 1, HG_NRI_PLUGIN_SERVICE, "Configure", &cfg.base);
	feed(&s, &in);
	Hgnri__Response *r = pop_response(&s, 1);
	assert_int_equal(code_of(r), 0);
	Hgnri__ConfigureResponse *cr = hgnri__configure_response__unpack(NULL, r->payload.len, r->payload.data);
	/* RUN/STOP/REMOVE_POD_SANDBOX, CREATE_CONTAINER, STOP/REMOVE_CONTAINER */
	assert_int_equal(cr->events, 0x60f);
	hgnri__configure_response__free_unpacked(cr, NULL);
	hgnri__response__free_unpacked(r, NULL);

	/* Synchronize in two parts: one call of the handler with both. */
	Hgnri__PodSandbox pod = HGNRI__POD_SANDBOX__INIT;
	Hgnri__PodSandbox *pods[] = {&pod};
	pod.id = "p1";
	Hgnri__SynchronizeRequest sync = HGNRI__SYNCHRONIZE_REQUEST__INIT;
	sync.pods = pods;
	sync.n_pods = 1;
	sync.more = 1;
	push_request(&in, 3, HG_NRI_PLUGIN_SERVICE, "Synchronize", &sync.base);
	sync.more = 0;
	push_request(&in, 5, HG_NRI_PLUGIN_SERVICE, "Synchronize", &sync.base);
	feed(&s, &in);
	r = pop_response(&s, 3);
	Hgnri__SynchronizeResponse *sr = hgnri__synchronize_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_true(sr->more);
	hgnri__synchronize_response__free_unpacked(sr, NULL);
	hgnri__response__free_unpacked(r, NULL);
	r = pop_response(&s, 5);
	assert_int_equal(code_of(r), 0);
	hgnri__response__free_unpacked(r, NULL);
	assert_int_equal(seen.syncs, 1);
	assert_int_equal(seen.sync_pods, 2);

	/* RunPodSandbox: the netns from the namespaces, the annotation from the map. */
	Hgnri__LinuxNamespace ns_pid = HGNRI__LINUX_NAMESPACE__INIT, ns_net = HGNRI__LINUX_NAMESPACE__INIT;
	ns_pid.type = "pid";
	ns_net.type = "network";
	ns_net.path = "/var/run/netns/cni-1";
	Hgnri__LinuxNamespace *nss[] = {&ns_pid, &ns_net};
	Hgnri__LinuxPodSandbox lin = HGNRI__LINUX_POD_SANDBOX__INIT;
	lin.namespaces = nss;
	lin.n_namespaces = 2;
	pod.linux_pod = &lin;
	Hgnri__PodSandbox__AnnotationsEntry ann = HGNRI__POD_SANDBOX__ANNOTATIONS_ENTRY__INIT;
	Hgnri__PodSandbox__AnnotationsEntry *anns[] = {&ann};
	ann.key = "host-gateway.io/names";
	ann.value = "a.local";
	pod.annotations = anns;
	pod.n_annotations = 1;
	Hgnri__RunPodSandboxRequest run = HGNRI__RUN_POD_SANDBOX_REQUEST__INIT;
	run.pod = &pod;
	push_request(&in, 7, HG_NRI_PLUGIN_SERVICE, "RunPodSandbox", &run.base);
	feed(&s, &in);
	r = pop_response(&s, 7);
	assert_int_equal(code_of(r), 0);
	hgnri__response__free_unpacked(r, NULL);
	assert_string_equal(seen.netns, "/var/run/netns/cni-1");
	assert_string_equal(seen.annotation, "a.local");

	/* CreateContainer: the handler's adjustment, as NRI reads it. */
	Hgnri__Container ctr = HGNRI__CONTAINER__INIT;
	ctr.id = "c1";
	Hgnri__CreateContainerRequest cc = HGNRI__CREATE_CONTAINER_REQUEST__INIT;
	cc.pod = &pod;
	cc.container = &ctr;
	push_request(&in, 9, HG_NRI_PLUGIN_SERVICE, "CreateContainer", &cc.base);
	feed(&s, &in);
	r = pop_response(&s, 9);
	assert_int_equal(code_of(r), 0);
	Hgnri__CreateContainerResponse *ccr = hgnri__create_container_response__unpack(NULL, r->payload.len, r->payload.data);
	assert_non_null(ccr->adjust);
	assert_int_equal(ccr->adjust->n_mounts, 1);
	assert_string_equal(ccr->adjust->mounts[0]->destination, "/etc/hosts");
	assert_string_equal(ccr->adjust->mounts[0]->source, "/run/hg/hosts");
	assert_int_equal(ccr->adjust->mounts[0]->n_options, 2);
	assert_non_null(ccr->adjust->hooks);
	assert_int_equal(ccr->adjust->hooks->n_create_runtime, 1);
	assert_int_equal(ccr->adjust->hooks->n_poststop, 0);
	assert_string_equal(ccr->adjust->hooks->create_runtime[0]->args[2], "createRuntime");
	assert_int_equal(ccr->adjust->hooks->create_runtime[0]->timeout->value, 5);
	assert_int_equal(ccr->adjust->n_annotations, 1);
	assert_string_equal(ccr->adjust->annotations[0]->key, "host-gateway.io/done");
	assert_int_equal(ccr->adjust->n_env, 1);
	hgnri__create_container_response__free_unpacked(ccr, NULL);
	hgnri__response__free_unpacked(r, NULL);

	/* Wrong requests: answered with an error, the session goes on. */
	push_request(&in, 11, HG_NRI_PLUGIN_SERVICE, "Frobnicate", NULL);
	push_request(&in, 13, "x.y.Z", "Configure", NULL);
	feed(&s, &in);
	r = pop_response(&s, 11);
	assert_int_equal(code_of(r), HG_TTRPC_UNIMPLEMENTED);
	hgnri__response__free_unpacked(r, NULL);
	r = pop_response(&s, 13);
	assert_int_equal(code_of(r), HG_TTRPC_UNIMPLEMENTED);
	hgnri__response__free_unpacked(r, NULL);

	/* Shutdown. */
	push_request(&in, 15, HG_NRI_PLUGIN_SERVICE, "Shutdown", NULL);
	feed(&s, &in);
	r = pop_response(&s, 15);
	assert_int_equal(code_of(r), 0);
	hgnri__response__free_unpacked(r, NULL);
	assert_true(s.shutdown);
	assert_int_equal(s.out.len, 0);
	hg_bytes_free(&in);
	hg_nri_session_free(&s);
}

/* A failing handler: the pod goes on by default; with fail_closed, the runtime is told. */
static void run_failing(bool fail_closed, int want_code)
{
	struct hg_nri_session s;
	struct hg_nri_handlers h;
	struct seen seen = {.fail = true};
	struct hg_bytes in = {.max = 1 << 20};
	start(&s, &h, &seen, fail_closed);
	hg_bytes_consume(&s.out, s.out.len);
	Hgnri__RunPodSandboxRequest run = HGNRI__RUN_POD_SANDBOX_REQUEST__INIT;
	push_request(&in, 1, HG_NRI_PLUGIN_SERVICE, "RunPodSandbox", &run.base);
	Hgnri__CreateContainerRequest cc = HGNRI__CREATE_CONTAINER_REQUEST__INIT;
	push_request(&in, 3, HG_NRI_PLUGIN_SERVICE, "CreateContainer", &cc.base);
	feed(&s, &in);
	Hgnri__Response *r = pop_response(&s, 1);
	assert_int_equal(code_of(r), want_code);
	hgnri__response__free_unpacked(r, NULL);
	r = pop_response(&s, 3);
	assert_int_equal(code_of(r), want_code);
	if (want_code == 0) {
		/* Fail open: no adjustment at all, not half of one. */
		Hgnri__CreateContainerResponse *ccr =
			hgnri__create_container_response__unpack(NULL, r->payload.len, r->payload.data);
		assert_null(ccr->adjust);
		hgnri__create_container_response__free_unpacked(ccr, NULL);
	}
	hgnri__response__free_unpacked(r, NULL);
	hg_bytes_free(&in);
	hg_nri_session_free(&s);
}

static void test_fail_open(void **state)
{
	run_failing(false, 0);
}

static void test_fail_closed(void **state)
{
	run_failing(true, HG_TTRPC_UNKNOWN);
}

/* Garbage inside a well-framed request is an error answer; an oversize frame ends the session. */
static void test_garbage(void **state)
{
	struct hg_nri_session s;
	struct hg_nri_handlers h;
	struct seen seen = {0};
	struct hg_error err;
	start(&s, &h, &seen, false);
	hg_bytes_consume(&s.out, s.out.len);
	const uint8_t bad[] = "\x00\x00\x00\x01\x00\x00\x00\x0f" "\x00\x00\x00\x05\x00\x00\x00\x01\x01\x00"
			      "\x0a\xff\xff\xff\x7f";
	assert_int_equal(hg_nri_session_feed(&s, bad, sizeof(bad) - 1, 0, &err), 0);
	Hgnri__Response *r = pop_response(&s, 1);
	assert_int_equal(code_of(r), HG_TTRPC_INVALID_ARGUMENT);
	hgnri__response__free_unpacked(r, NULL);
	const uint8_t huge[] = "\x00\x00\x00\x01\xff\xff\xff\xff";
	assert_int_equal(hg_nri_session_feed(&s, huge, 8, 0, &err), -1);
	hg_nri_session_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mux_header),
		cmocka_unit_test(test_ttrpc_header),
		cmocka_unit_test(test_mux_reader_bytewise),
		cmocka_unit_test(test_mux_reader_oversize),
		cmocka_unit_test(test_ttrpc_reader),
		cmocka_unit_test(test_ttrpc_reader_oversize),
		cmocka_unit_test(test_bytes_ceiling),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_conversation),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests_name("nri", tests, NULL, NULL);
}
