/* SPDX-License-Identifier: Apache-2.0 */
/* hook/oci.c: the OCI state on the hook's stdin (the shapes crun 1.8.1 and runc 1.1.5
 * really send) and what the hook takes from the bundle's config.json: the network
 * namespace, the /etc/hosts mount source, the root path and the annotations. */
#include "test-helpers.h"
#include "hook/oci.h"
#include "base/error.h"
#include "base/util.h"

/* ---- OCI state ------------------------------------------------------------------ */

static int state_parse(const char *text, struct hg_oci_state *s, struct hg_error *err)
{
	memset(err, 0, sizeof(*err));
	return hg_oci_state_parse(text, strlen(text), s, err);
}

/* The parse must fail with a decode error whose message contains `needle`, and leave
 * nothing allocated in the output (free of a zeroed struct is a no-op). */
static void state_refused(const char *text, const char *needle)
{
	struct hg_oci_state s;
	struct hg_error err;
	memset(&s, 0x5a, sizeof(s)); /* garbage in: the parser must not trust it */
	assert_int_equal(state_parse(text, &s, &err), -1);
	assert_int_equal(err.code, HG_CNI_DECODE);
	assert_contains(err.msg, needle);
	assert_null(s.id);
	assert_null(s.bundle);
	assert_null(s.status);
	assert_null(s.annotations);
	hg_oci_state_free(&s);
}

static void test_state_crun_shape(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	/* crun 1.8.1 createRuntime, byte for byte the field order it uses. */
	const char *text = "{\"ociVersion\":\"1.0\",\"id\":\"c0ffee\",\"pid\":4242,"
			   "\"root\":\"/run/crun/c0ffee\",\"bundle\":\"/tmp/b/crun\",\"status\":\"created\","
			   "\"annotations\":{\"host-gateway.io/names\":\"a.test b.test\",\"x\":\"y\"}}";
	assert_int_equal(state_parse(text, &s, &err), 0);
	assert_string_equal(s.id, "c0ffee");
	assert_int_equal(s.pid, 4242);
	assert_string_equal(s.bundle, "/tmp/b/crun");
	assert_string_equal(s.status, "created");
	assert_true(json_is_object(s.annotations));
	assert_int_equal(json_object_size(s.annotations), 2);
	assert_string_equal(json_string_value(json_object_get(s.annotations, "host-gateway.io/names")),
			    "a.test b.test");
	hg_oci_state_free(&s);
	/* free leaves a zeroed struct: a second free is harmless. */
	assert_null(s.id);
	hg_oci_state_free(&s);
}

static void test_state_runc_shape(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	/* runc 1.1.5 createRuntime: "creating", no "root", annotations present. */
	const char *text = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"r1\",\"status\":\"creating\",\"pid\":99,"
			   "\"bundle\":\"/var/lib/b/r1\",\"annotations\":{\"host-gateway.io/enabled\":\"true\"}}";
	assert_int_equal(state_parse(text, &s, &err), 0);
	assert_string_equal(s.id, "r1");
	assert_int_equal(s.pid, 99);
	assert_string_equal(s.bundle, "/var/lib/b/r1");
	assert_string_equal(s.status, "creating");
	assert_string_equal(json_string_value(json_object_get(s.annotations, "host-gateway.io/enabled")), "true");
	hg_oci_state_free(&s);
}

/* runc with no annotations in config.json omits the key: an empty object, never NULL. */
static void test_state_no_annotations(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	assert_int_equal(state_parse("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"r1\",\"status\":\"creating\","
				     "\"pid\":7,\"bundle\":\"/b\"}",
				     &s, &err),
			 0);
	assert_non_null(s.annotations);
	assert_true(json_is_object(s.annotations));
	assert_int_equal(json_object_size(s.annotations), 0);
	hg_oci_state_free(&s);
}

static void test_state_poststop_crun_pid0(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	assert_int_equal(state_parse("{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"pid\":0,\"root\":\"/run/crun/c1\","
				     "\"bundle\":\"/b/c1\",\"status\":\"stopped\",\"annotations\":{}}",
				     &s, &err),
			 0);
	assert_int_equal(s.pid, 0);
	assert_string_equal(s.id, "c1");
	assert_string_equal(s.status, "stopped");
	hg_oci_state_free(&s);
}

static void test_state_poststop_runc_no_pid(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	assert_int_equal(state_parse("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"r1\",\"status\":\"stopped\","
				     "\"bundle\":\"/b/r1\"}",
				     &s, &err),
			 0);
	assert_int_equal(s.pid, 0);
	assert_string_equal(s.status, "stopped");
	hg_oci_state_free(&s);
}

/* status is informational: absent is fine. */
static void test_state_no_status(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err;
	assert_int_equal(state_parse("{\"id\":\"x\",\"pid\":1,\"bundle\":\"/b\"}", &s, &err), 0);
	assert_null(s.status);
	hg_oci_state_free(&s);
}

static void test_state_missing_id(void **unused)
{
	state_refused("{\"ociVersion\":\"1.0\",\"pid\":1,\"bundle\":\"/b\",\"status\":\"created\"}", "\"id\"");
	state_refused("{\"id\":\"\",\"pid\":1,\"bundle\":\"/b\"}", "\"id\"");
	state_refused("{\"id\":42,\"pid\":1,\"bundle\":\"/b\"}", "\"id\"");
	state_refused("{\"id\":null,\"pid\":1,\"bundle\":\"/b\"}", "\"id\"");
}

static void test_state_bad_bundle(void **unused)
{
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"rel/bundle\"}", "bundle");
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"./b\"}", "bundle");
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"\"}", "bundle");
	state_refused("{\"id\":\"c\",\"pid\":1}", "bundle");
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":[\"/b\"]}", "bundle");
}

static void test_state_bad_pid(void **unused)
{
	state_refused("{\"id\":\"c\",\"pid\":\"123\",\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":-1,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":12.5,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":2147483648,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":99999999999999,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":true,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":null,\"bundle\":\"/b\"}", "pid");
	state_refused("{\"id\":\"c\",\"pid\":{},\"bundle\":\"/b\"}", "pid");

	/* The largest pid_t is still a pid. */
	struct hg_oci_state s;
	struct hg_error err;
	assert_int_equal(state_parse("{\"id\":\"c\",\"pid\":2147483647,\"bundle\":\"/b\"}", &s, &err), 0);
	assert_int_equal(s.pid, 2147483647);
	hg_oci_state_free(&s);
}

static void test_state_bad_annotations(void **unused)
{
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\",\"annotations\":[]}", "annotations");
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\",\"annotations\":\"k=v\"}", "annotations");
}

static void test_state_not_json(void **unused)
{
	state_refused("", "not a JSON object");
	state_refused("not json", "not a JSON object");
	state_refused("[1,2]", "not a JSON object");
	state_refused("\"id\"", "not a JSON object");
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\"", "not a JSON object");
	/* Two documents: jansson refuses trailing garbage by default. */
	state_refused("{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\"}{}", "not a JSON object");
}

/* The length is honoured: bytes after len are not parsed (stdin is not NUL-terminated). */
static void test_state_length(void **unused)
{
	struct hg_oci_state s;
	struct hg_error err = {0};
	const char *doc = "{\"id\":\"c\",\"pid\":5,\"bundle\":\"/b\"}";
	char buf[128];
	snprintf(buf, sizeof(buf), "%sGARBAGE", doc);
	assert_int_equal(hg_oci_state_parse(buf, strlen(doc), &s, &err), 0);
	assert_string_equal(s.id, "c");
	hg_oci_state_free(&s);
}

/* ---- config.json ---------------------------------------------------------------- */

static int bundle_parse(const char *text, const char *dir, struct hg_oci_bundle *b, struct hg_error *err)
{
	json_t *conf = json_parse(text);
	memset(err, 0, sizeof(*err));
	int r = hg_oci_bundle_parse(conf, dir, "/b/config.json", b, err);
	json_decref(conf);
	return r;
}

static void bundle_refused(const char *text, const char *needle)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	assert_int_equal(bundle_parse(text, "/b", &b, &err), -1);
	assert_int_equal(err.code, HG_CNI_DECODE);
	assert_contains(err.msg, "/b/config.json"); /* names the file */
	assert_contains(err.msg, needle);
	assert_null(b.netns_path);
	assert_null(b.hosts_source);
	assert_null(b.root);
	assert_null(b.annotations);
	hg_oci_bundle_free(&b);
}

/* A trimmed `runc spec` with the network namespace given by path, a bind mount at
 * /etc/hosts and the hook. */
static void test_bundle_netns_path(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	const char *text =
		"{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/tmp/t/hosts\",\"options\":[\"rbind\",\"rw\"]}],"
		"\"hooks\":{\"createRuntime\":[{\"path\":\"/usr/bin/host-gateway\",\"args\":[\"host-gateway\",\"hook\",\"createRuntime\"]}]},"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/var/run/netns/n1\"},"
		"{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}]}}";
	assert_int_equal(bundle_parse(text, "/b", &b, &err), 0);
	assert_true(b.has_netns);
	assert_string_equal(b.netns_path, "/var/run/netns/n1");
	assert_string_equal(b.hosts_source, "/tmp/t/hosts");
	assert_string_equal(b.root, "/b/rootfs");
	assert_true(json_is_object(b.annotations));
	assert_int_equal(json_object_size(b.annotations), 0);
	hg_oci_bundle_free(&b);
	assert_null(b.root);
	hg_oci_bundle_free(&b);
}

/* The runtime creates the namespace: the hook must go through the state's pid. */
static void test_bundle_netns_no_path(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":"
				      "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"mount\"}]}}",
				      "/b", &b, &err),
			 0);
	assert_true(b.has_netns);
	assert_null(b.netns_path);
	hg_oci_bundle_free(&b);

	/* An empty path is no path. */
	assert_int_equal(bundle_parse("{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"\"}]}}", "/b",
				      &b, &err),
			 0);
	assert_true(b.has_netns);
	assert_null(b.netns_path);
	hg_oci_bundle_free(&b);
}

/* No network entry at all: --network host. */
static void test_bundle_host_network(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":"
				      "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
				      "/b", &b, &err),
			 0);
	assert_false(b.has_netns);
	assert_null(b.netns_path);
	hg_oci_bundle_free(&b);

	/* No linux section, no namespaces list, an empty one: host network too. */
	const char *docs[] = {"{}", "{\"linux\":{}}", "{\"linux\":{\"namespaces\":[]}}",
			      "{\"linux\":{\"namespaces\":[{\"type\":\"net\"},{\"path\":\"/x\"}]}}"};
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		assert_int_equal(bundle_parse(docs[i], "/b", &b, &err), 0);
		assert_false(b.has_netns);
		assert_null(b.netns_path);
		hg_oci_bundle_free(&b);
	}
}

static void test_bundle_netns_relative_path(void **unused)
{
	bundle_refused("{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"run/netns/n1\"}]}}",
		       "run/netns/n1");
}

static void test_bundle_hosts_mount_last_wins(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	const char *text = "{\"root\":{\"path\":\"rootfs\"},\"mounts\":["
			   "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/first/hosts\"},"
			   "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"/r/resolv.conf\"},"
			   "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/second/hosts\"},"
			   "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"/r/hostname\"}]}";
	assert_int_equal(bundle_parse(text, "/b", &b, &err), 0);
	assert_string_equal(b.hosts_source, "/second/hosts");
	hg_oci_bundle_free(&b);

	/* Only /etc/hosts counts: lookalikes are other files. */
	assert_int_equal(bundle_parse("{\"mounts\":[{\"destination\":\"/etc/hosts.allow\",\"source\":\"/a\"},"
				      "{\"destination\":\"/etc\",\"source\":\"/e\"},"
				      "{\"destination\":\"/etc/hostname\",\"source\":\"/h\"}]}",
				      "/b", &b, &err),
			 0);
	assert_null(b.hosts_source);
	hg_oci_bundle_free(&b);

	/* No mounts at all. */
	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"rootfs\"}}", "/b", &b, &err), 0);
	assert_null(b.hosts_source);
	assert_string_equal(b.root, "/b/rootfs");
	hg_oci_bundle_free(&b);
}

/* runc and crun clean the destination path ("/etc//hosts", "/etc/./hosts", "/etc/hosts/"
 * are all mounted at /etc/hosts): such a mount hides the rootfs's file just the same, so
 * its source is the file the container reads. */
static void test_bundle_hosts_mount_noncanonical(void **unused)
{
	const char *dests[] = {"/etc//hosts", "/etc/./hosts", "/etc/hosts/", "//etc/hosts"};
	for (size_t i = 0; i < ARRAY_SIZE(dests); i++) {
		struct hg_oci_bundle b;
		struct hg_error err;
		char text[256];
		snprintf(text, sizeof(text),
			 "{\"root\":{\"path\":\"rootfs\"},\"mounts\":[{\"destination\":\"%s\",\"source\":\"/pod/hosts\"}]}",
			 dests[i]);
		assert_int_equal(bundle_parse(text, "/b", &b, &err), 0);
		if (!b.hosts_source || strcmp(b.hosts_source, "/pod/hosts") != 0)
			fail_msg("destination \"%s\": hosts_source is %s, expected /pod/hosts", dests[i],
				 b.hosts_source ? b.hosts_source : "NULL");
		hg_oci_bundle_free(&b);
	}
}

static void test_bundle_hosts_mount_relative_refused(void **unused)
{
	bundle_refused("{\"mounts\":[{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"hosts\"}]}",
		       "\"hosts\"");
	bundle_refused("{\"mounts\":[{\"destination\":\"/etc/hosts\",\"source\":\"../../etc/hosts\"}]}",
		       "../../etc/hosts");
	/* A relative one before an absolute one is still refused (no silent skipping). */
	bundle_refused("{\"mounts\":[{\"destination\":\"/etc/hosts\",\"source\":\"rel\"},"
		       "{\"destination\":\"/etc/hosts\",\"source\":\"/abs/hosts\"}]}",
		       "rel");
	/* ...and after one: the refusal frees what was found before (ASan build). */
	bundle_refused("{\"mounts\":[{\"destination\":\"/etc/hosts\",\"source\":\"/abs/hosts\"},"
		       "{\"destination\":\"/etc/hosts\",\"source\":\"rel\"}]}",
		       "rel");
	/* And the netns path already taken is freed too. */
	bundle_refused("{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/run/netns/x\"}]},"
		       "\"mounts\":[{\"destination\":\"/etc/hosts\",\"source\":\"rel\"}]}",
		       "rel");
}

static void test_bundle_root_path(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"rootfs\"}}", "/var/lib/x/b1", &b, &err), 0);
	assert_string_equal(b.root, "/var/lib/x/b1/rootfs");
	hg_oci_bundle_free(&b);

	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"sub/dir\"}}", "/b", &b, &err), 0);
	assert_string_equal(b.root, "/b/sub/dir");
	hg_oci_bundle_free(&b);

	assert_int_equal(bundle_parse("{\"root\":{\"path\":\"/var/lib/containers/merged\"}}", "/b", &b, &err), 0);
	assert_string_equal(b.root, "/var/lib/containers/merged");
	hg_oci_bundle_free(&b);

	/* No root (or an empty one): no root, and no crash. */
	const char *docs[] = {"{}", "{\"root\":{}}", "{\"root\":{\"path\":\"\"}}", "{\"root\":{\"path\":7}}"};
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		assert_int_equal(bundle_parse(docs[i], "/b", &b, &err), 0);
		assert_null(b.root);
		hg_oci_bundle_free(&b);
	}
}

static void test_bundle_annotations(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	assert_int_equal(bundle_parse("{\"annotations\":{\"host-gateway.io/enabled\":\"false\","
				      "\"host-gateway.io/extra-hosts\":\"db.test:10.0.0.5\","
				      "\"io.kubernetes.cri.container-type\":\"container\"}}",
				      "/b", &b, &err),
			 0);
	assert_int_equal(json_object_size(b.annotations), 3);
	assert_string_equal(json_string_value(json_object_get(b.annotations, "host-gateway.io/enabled")), "false");
	assert_string_equal(json_string_value(json_object_get(b.annotations, "host-gateway.io/extra-hosts")),
			    "db.test:10.0.0.5");
	hg_oci_bundle_free(&b);

	/* Not an object: ignored, an empty object is handed on. */
	assert_int_equal(bundle_parse("{\"annotations\":[\"a\"]}", "/b", &b, &err), 0);
	assert_non_null(b.annotations);
	assert_int_equal(json_object_size(b.annotations), 0);
	hg_oci_bundle_free(&b);
}

/* The annotations are a reference into the parsed document, kept alive by the bundle. */
static void test_bundle_annotations_outlive_config(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	json_t *conf = json_parse("{\"annotations\":{\"k\":\"v\"}}");
	assert_int_equal(hg_oci_bundle_parse(conf, "/b", "x", &b, &err), 0);
	json_decref(conf);
	assert_string_equal(json_string_value(json_object_get(b.annotations, "k")), "v");
	hg_oci_bundle_free(&b);
}

static void test_bundle_not_object(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err = {0};
	json_t *arr = json_array();
	assert_int_equal(hg_oci_bundle_parse(arr, "/b", "/b/config.json", &b, &err), -1);
	assert_int_equal(err.code, HG_CNI_DECODE);
	assert_contains(err.msg, "/b/config.json");
	json_decref(arr);
	assert_int_equal(hg_oci_bundle_parse(NULL, "/b", "/b/config.json", &b, &err), -1);
	hg_oci_bundle_free(&b);
}

/* Wrong types in the places the parser walks must not crash it. */
static void test_bundle_wrong_types(void **unused)
{
	struct hg_oci_bundle b;
	struct hg_error err;
	const char *docs[] = {
		"{\"linux\":[]}",
		"{\"linux\":{\"namespaces\":{}}}",
		"{\"linux\":{\"namespaces\":[1,\"network\",null]}}",
		"{\"mounts\":{}}",
		"{\"mounts\":[1,null,{\"destination\":\"/etc/hosts\"},{\"source\":\"/x\"},"
		"{\"destination\":\"/etc/hosts\",\"source\":5}]}",
		"{\"root\":\"rootfs\"}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		assert_int_equal(bundle_parse(docs[i], "/b", &b, &err), 0);
		assert_false(b.has_netns);
		assert_null(b.hosts_source);
		assert_null(b.root);
		hg_oci_bundle_free(&b);
	}
	/* A network entry whose path is not a string: a namespace made by the runtime. */
	assert_int_equal(bundle_parse("{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":3}]}}", "/b", &b,
				      &err),
			 0);
	assert_true(b.has_netns);
	assert_null(b.netns_path);
	hg_oci_bundle_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_crun_shape),
		cmocka_unit_test(test_state_runc_shape),
		cmocka_unit_test(test_state_no_annotations),
		cmocka_unit_test(test_state_poststop_crun_pid0),
		cmocka_unit_test(test_state_poststop_runc_no_pid),
		cmocka_unit_test(test_state_no_status),
		cmocka_unit_test(test_state_missing_id),
		cmocka_unit_test(test_state_bad_bundle),
		cmocka_unit_test(test_state_bad_pid),
		cmocka_unit_test(test_state_bad_annotations),
		cmocka_unit_test(test_state_not_json),
		cmocka_unit_test(test_state_length),
		cmocka_unit_test(test_bundle_netns_path),
		cmocka_unit_test(test_bundle_netns_no_path),
		cmocka_unit_test(test_bundle_host_network),
		cmocka_unit_test(test_bundle_netns_relative_path),
		cmocka_unit_test(test_bundle_hosts_mount_last_wins),
		cmocka_unit_test(test_bundle_hosts_mount_noncanonical),
		cmocka_unit_test(test_bundle_hosts_mount_relative_refused),
		cmocka_unit_test(test_bundle_root_path),
		cmocka_unit_test(test_bundle_annotations),
		cmocka_unit_test(test_bundle_annotations_outlive_config),
		cmocka_unit_test(test_bundle_not_object),
		cmocka_unit_test(test_bundle_wrong_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
