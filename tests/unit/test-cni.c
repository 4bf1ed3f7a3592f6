/* SPDX-License-Identifier: Apache-2.0 */
/* cni.c: the CNI protocol through hg_cni_run with a fake environment and stdin strings:
 * VERSION, version negotiation, environment and config validation, error JSON, DEL / GC /
 * STATUS / CHECK from saved state, the disabled passthrough; and CNI_ARGS parsing. Nothing
 * here enters a namespace or needs root. */
#include "test-helpers.h"
#include "plugin/cni.h"
#include "ops/state.h"
#include "base/config.h"
#include "os/hosts.h"
#include "base/error.h"
#include "base/util.h"

static const char *const versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

struct fixture {
	char *dir; /* the stateDir of every config below */
	/* The network name: GC also looks for stale host rules of its network, so no name
	 * that anything else on this machine uses. */
	char net[32];
	char log[8192];
};

static struct fixture *fx;

static int setup(void **state)
{
	fx = calloc(1, sizeof(*fx));
	fx->dir = tmpdir_make();
	hg_hosts_lock_dir = fx->dir; /* not the machine's /run/host-gateway */
	snprintf(fx->net, sizeof(fx->net), "hg-unit-%d", (int) getpid());
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	tmpdir_remove(fx->dir);
	free(fx);
	fx = NULL;
	hg_hosts_lock_dir = HG_DEFAULT_STATE_DIR;
	return 0;
}

static void collect(void *ctx, const char *msg)
{
	struct fixture *f = ctx;
	size_t n = strlen(f->log);
	snprintf(f->log + n, sizeof(f->log) - n, "%s\n", msg);
}

static int run(const struct hg_cni_env *env, const char *input, json_t **out)
{
	struct hg_log log = {.fn = collect, .ctx = fx};
	fx->log[0] = '\0';
	return hg_cni_run(env, input, strlen(input), out, &log);
}

/* A network configuration of version v (NULL: no cniVersion) with stateDir set to the test's
 * directory; extra is spliced in as more keys (",\"k\":v..."). */
static char *conf(const char *v, const char *extra)
{
	char *s = NULL;
	char version[64] = "";
	if (v)
		snprintf(version, sizeof(version), "\"cniVersion\":\"%s\",", v);
	assert_true(asprintf(&s, "{%s\"name\":\"%s\",\"type\":\"host-gateway\",\"stateDir\":\"%s\"%s}", version,
			     fx->net, fx->dir, extra ? extra : "") > 0);
	return s;
}

static const struct hg_cni_env env_add = {
	.command = "ADD", .container_id = "ctr1", .netns = "/var/run/netns/does-not-exist", .ifname = "eth0"};
static const struct hg_cni_env env_del = {.command = "DEL", .container_id = "ctr1", .ifname = "eth0"};
static const struct hg_cni_env env_check = {
	.command = "CHECK", .container_id = "ctr1", .netns = "/var/run/netns/does-not-exist", .ifname = "eth0"};
static const struct hg_cni_env env_gc = {.command = "GC"};
static const struct hg_cni_env env_status = {.command = "STATUS"};

/* Must fail with exactly {cniVersion, code, msg}: code, the version the error is reported in,
 * and a message containing needle (optional). */
static void expect_error(const struct hg_cni_env *env, const char *input, int code, const char *version,
			 const char *needle)
{
	json_t *out = NULL;
	int ret = run(env, input, &out);
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (ret != 1 || !out)
		fail_msg("%s %s: exit %d, output %s", env->command ? env->command : "(none)", input, ret,
			 text ? text : "(none)");
	assert_true(json_is_object(out));
	assert_int_equal(json_object_size(out), 3);
	json_t *c = json_object_get(out, "code");
	assert_true(json_is_integer(c));
	if (json_integer_value(c) != code)
		fail_msg("%s %s: expected code %d, got %s", env->command, input, code, text);
	assert_string_equal(json_string_value(json_object_get(out, "cniVersion")), version);
	const char *msg = json_string_value(json_object_get(out, "msg"));
	assert_non_null(msg);
	assert_true(msg[0] != '\0');
	if (needle)
		assert_contains(msg, needle);
	/* The failure is logged too (to the caller's sink: stderr in the binary). */
	assert_contains(fx->log, msg);
	free(text);
	json_decref(out);
}

/* Must succeed without output (DEL, GC, STATUS, CHECK). */
static void expect_silent_success(const struct hg_cni_env *env, const char *input)
{
	json_t *out = NULL;
	int ret = run(env, input, &out);
	if (ret != 0 || out) {
		char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
		fail_msg("%s %s: exit %d, output %s, log %s", env->command, input, ret, text ? text : "(none)", fx->log);
	}
}

static void test_version(void **state)
{
	json_t *out = NULL;
	struct hg_cni_env env = {.command = "VERSION"};
	json_t *want = json_parse("{\"cniVersion\":\"1.1.0\","
				  "\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");
	assert_int_equal(run(&env, "", &out), 0);
	assert_non_null(out);
	assert_true(json_equal(out, want));
	json_decref(out);

	/* The caller's version is echoed. */
	assert_int_equal(run(&env, "{\"cniVersion\":\"0.4.0\"}", &out), 0);
	json_object_set_new(want, "cniVersion", json_string("0.4.0"));
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);

	/* The list matches the exported table. */
	size_t n = 0;
	while (hg_cni_versions[n])
		n++;
	assert_int_equal(n, ARRAY_SIZE(versions));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(hg_cni_versions[i], versions[i]);
}

static void test_version_number(void **state)
{
	assert_int_equal(hg_cni_version_number("0.3.0"), 300);
	assert_int_equal(hg_cni_version_number("0.3.1"), 301);
	assert_int_equal(hg_cni_version_number("0.4.0"), 400);
	assert_int_equal(hg_cni_version_number("1.0.0"), 10000);
	assert_int_equal(hg_cni_version_number("1.1.0"), 10100);
	assert_true(hg_cni_version_number("0.4.0") < hg_cni_version_number("1.0.0"));
	assert_int_equal(hg_cni_version_number(NULL), -1);
	assert_int_equal(hg_cni_version_number(""), -1);
	assert_int_equal(hg_cni_version_number("1.0"), -1);
	assert_int_equal(hg_cni_version_number("1.0.0.0"), -1);
	assert_int_equal(hg_cni_version_number("1.0.0-rc1"), -1);
	assert_int_equal(hg_cni_version_number("v1.0.0"), -1);
	assert_int_equal(hg_cni_version_number("100.0.0"), -1);
}

static void test_no_command(void **state)
{
	struct hg_cni_env env = {0};
	char *c = conf("1.0.0", NULL);
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.1.0", "CNI_COMMAND");
	free(c);
}

static void test_unknown_command(void **state)
{
	char *c = conf("1.0.0", NULL);
	struct hg_cni_env env = env_del;
	env.command = "FROB";
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.1.0", "FROB");
	env.command = "add"; /* commands are upper case */
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.1.0", "add");
	/* Decided before stdin is read: garbage on stdin does not change the code. */
	env.command = "FROB";
	expect_error(&env, "{{{", HG_CNI_INVALID_ENV, "1.1.0", "FROB");
	free(c);
}

static void test_malformed_json(void **state)
{
	expect_error(&env_add, "{\"cniVersion\":\"1.0.0\",", HG_CNI_DECODE, "1.1.0", "JSON");
	expect_error(&env_add, "", HG_CNI_DECODE, "1.1.0", NULL);
	expect_error(&env_del, "not json", HG_CNI_DECODE, "1.1.0", NULL);
	expect_error(&env_del, "[\"cniVersion\",\"1.0.0\"]", HG_CNI_DECODE, "1.1.0", "object");
	expect_error(&env_status, "\"1.1.0\"", HG_CNI_DECODE, "1.1.0", NULL);
}

static void test_version_negotiation(void **state)
{
	/* Every supported version is accepted (DEL without a record succeeds). */
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		char *c = conf(versions[i], NULL);
		expect_silent_success(&env_del, c);
		free(c);
	}
	char *c = conf(NULL, NULL);
	expect_error(&env_del, c, HG_CNI_INCOMPATIBLE_VERSION, "1.1.0", "cniVersion");
	free(c);
	c = conf(NULL, NULL);
	expect_error(&env_add, c, HG_CNI_INCOMPATIBLE_VERSION, "1.1.0", "cniVersion");
	free(c);
	static const char *const bad[] = {"0.1.0", "0.2.0", "1.0", "1.2.0", "2.0.0", "", "1.0.0 "};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char needle[32];
		c = conf(bad[i], NULL);
		snprintf(needle, sizeof(needle), "cniVersion %s ", bad[i]);
		expect_error(&env_del, c, HG_CNI_INCOMPATIBLE_VERSION, "1.1.0", needle);
		free(c);
	}
	expect_error(&env_del, "{\"cniVersion\":1,\"name\":\"n\"}", HG_CNI_INCOMPATIBLE_VERSION, "1.1.0",
		     "not a string");
}

static void test_check_needs_040(void **state)
{
	static const char prev[] = ",\"prevResult\":{\"ips\":[]}";
	for (size_t i = 0; i < 2; i++) { /* 0.3.0, 0.3.1 */
		char *c = conf(versions[i], prev);
		expect_error(&env_check, c, HG_CNI_INCOMPATIBLE_VERSION, versions[i], "CHECK");
		free(c);
	}
	/* From 0.4.0 on, CHECK gets past the version: here it stops at the missing prevResult. */
	for (size_t i = 2; i < ARRAY_SIZE(versions); i++) {
		char *c = conf(versions[i], NULL);
		expect_error(&env_check, c, HG_CNI_INVALID_CONFIG, versions[i], "prevResult");
		free(c);
	}
}

static void test_gc_status_need_110(void **state)
{
	for (size_t i = 0; i < 4; i++) { /* all but 1.1.0 */
		char *c = conf(versions[i], NULL);
		expect_error(&env_gc, c, HG_CNI_INCOMPATIBLE_VERSION, versions[i], "GC");
		expect_error(&env_status, c, HG_CNI_INCOMPATIBLE_VERSION, versions[i], "STATUS");
		free(c);
	}
}

static void test_missing_env(void **state)
{
	char *c = conf("1.0.0", ",\"prevResult\":{}");
	struct hg_cni_env env = {.command = "ADD"};
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_CONTAINERID CNI_NETNS CNI_IFNAME");

	/* Only what is missing is named. */
	env = env_add;
	env.netns = NULL;
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_NETNS");
	json_t *out = NULL;
	run(&env, c, &out);
	const char *msg = json_string_value(json_object_get(out, "msg"));
	assert_not_contains(msg, "CNI_IFNAME");
	assert_not_contains(msg, "CNI_CONTAINERID");
	json_decref(out);

	env = env_add;
	env.ifname = NULL;
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_IFNAME");
	env = env_check;
	env.container_id = NULL;
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_CONTAINERID");

	/* DEL needs CONTAINERID and IFNAME, not NETNS (containerd empties it once the netns is gone). */
	env = env_del;
	env.netns = NULL;
	expect_silent_success(&env, c);
	env.container_id = NULL;
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_CONTAINERID");
	env = env_del;
	env.ifname = NULL;
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_IFNAME");
	free(c);

	/* GC and STATUS need nothing but the command (and GC its list). */
	c = conf("1.1.0", ",\"cni.dev/valid-attachments\":[]");
	expect_silent_success(&env_gc, c);
	expect_silent_success(&env_status, c);
	free(c);
}

static void test_bad_container_id(void **state)
{
	char *c = conf("1.0.0", NULL);
	static const char *const bad[] = {"-abc", ".abc", "_abc", "a/b", "a b", "a:b", "a;b", "", "ctr\n"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hg_cni_env env = env_check;
		env.container_id = bad[i];
		expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_CONTAINERID");
		/* DEL: no record can have that ID; nothing to undo, and no failure. */
		env = env_del;
		env.container_id = bad[i];
		if (bad[i][0])
			expect_silent_success(&env, c);
	}
	static const char *const good[] = {"a", "0", "abc-DEF_1.2", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct hg_cni_env env = env_del;
		env.container_id = good[i];
		expect_silent_success(&env, c);
	}
	free(c);
}

static void test_bad_ifname(void **state)
{
	char *c = conf("1.0.0", NULL);
	static const char *const bad[] = {"", ".", "..", "a/b", "a:b", "a b", "a\tb", "eth0\n", "abcdefghijklmnop"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hg_cni_env env = env_check;
		env.ifname = bad[i];
		expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_IFNAME");
		env = env_del;
		env.ifname = bad[i];
		if (bad[i][0])
			expect_silent_success(&env, c);
	}
	static const char *const good[] = {"eth0", "net1", "abcdefghijklmno", "a.b", "..."};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct hg_cni_env env = env_del;
		env.ifname = good[i];
		expect_silent_success(&env, c);
	}
	free(c);
}

/* The error JSON exists whatever bytes the message quotes: JSON must be UTF-8, and a
 * runtime that gets no error document cannot say why the plugin failed. */
static void test_error_json_not_utf8(void **state)
{
	char *c = conf("1.0.0", NULL);
	struct hg_cni_env env = env_check;
	env.container_id = "ctr\xff\xfe";
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_CONTAINERID \"ctr??\"");
	env = env_check;
	env.ifname = "eth/\xc3"; /* refused for the '/', quoted with the byte */
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_IFNAME \"eth/?\"");
	env = env_del;
	env.command = "\xff";
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.1.0", "unknown CNI_COMMAND");
	free(c);

	/* A long message that the error buffer cuts inside a character, at every offset. */
	for (int pad = 0; pad < 4; pad++) {
		char extra[2048];
		int n = snprintf(extra, sizeof(extra), ",\"names\":[\"%.*s", pad, "xxx");
		for (int i = 0; i < 300; i++)
			n += snprintf(extra + n, sizeof(extra) - n, "\xf0\x9f\x90\xb3");
		snprintf(extra + n, sizeof(extra) - n, "\"]");
		c = conf("1.0.0", extra);
		expect_error(&env_status, c, HG_CNI_INVALID_CONFIG, "1.0.0", "\"names\"");
		free(c);
	}
}

static void test_cni_args_env(void **state)
{
	char *c = conf("1.0.0", NULL);
	struct hg_cni_env env = env_del;
	env.args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
		   "K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=6f1e0c2a-1111-2222-3333-444455556666";
	expect_silent_success(&env, c);
	env.args = "FOO=bar";
	expect_silent_success(&env, c); /* unknown keys are not an error */
	env.args = "garbage"; /* DEL needs nothing from CNI_ARGS: it undoes what the record says */
	expect_silent_success(&env, c);
	env = env_check;
	env.args = "garbage";
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_ARGS");
	env.args = "A=1;;B=2";
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_ARGS");
	env.args = "IgnoreUnknown=1;garbage"; /* malformed after the key we read */
	expect_error(&env, c, HG_CNI_INVALID_ENV, "1.0.0", "CNI_ARGS");
	free(c);
}

static void test_cni_args_get(void **state)
{
	const char *k8s = "IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-5d78c9869d-abcde;"
			  "K8S_POD_INFRA_CONTAINER_ID=9f86d081884c;K8S_POD_UID=6f1e0c2a-1111-2222-3333-444455556666";
	char v[128];
	assert_int_equal(hg_cni_args_get(k8s, "IgnoreUnknown", v, sizeof(v)), 1);
	assert_string_equal(v, "1");
	assert_int_equal(hg_cni_args_get(k8s, "K8S_POD_NAMESPACE", v, sizeof(v)), 1);
	assert_string_equal(v, "kube-system");
	/* A key that is a prefix of another is not confused with it. */
	assert_int_equal(hg_cni_args_get(k8s, "K8S_POD_NAME", v, sizeof(v)), 1);
	assert_string_equal(v, "coredns-5d78c9869d-abcde");
	assert_int_equal(hg_cni_args_get(k8s, "K8S_POD_INFRA_CONTAINER_ID", v, sizeof(v)), 1);
	assert_string_equal(v, "9f86d081884c");
	assert_int_equal(hg_cni_args_get(k8s, "K8S_POD_UID", v, sizeof(v)), 1);
	assert_string_equal(v, "6f1e0c2a-1111-2222-3333-444455556666");
	assert_int_equal(hg_cni_args_get(k8s, "K8S_POD", v, sizeof(v)), 0);
	assert_int_equal(hg_cni_args_get(k8s, "k8s_pod_name", v, sizeof(v)), 0); /* case matters */

	assert_int_equal(hg_cni_args_get("", "A", v, sizeof(v)), 0);
	assert_int_equal(hg_cni_args_get(NULL, "A", v, sizeof(v)), 0);
	assert_int_equal(hg_cni_args_get("A=", "A", v, sizeof(v)), 1);
	assert_string_equal(v, "");
	assert_int_equal(hg_cni_args_get("A=1;", "A", v, sizeof(v)), 1); /* a trailing ';' is fine */
	assert_string_equal(v, "1");
	assert_int_equal(hg_cni_args_get("B=2;A=1", "A", v, sizeof(v)), 1);
	assert_string_equal(v, "1");

	/* Malformed. */
	assert_int_equal(hg_cni_args_get("garbage", "A", v, sizeof(v)), -1);
	assert_int_equal(hg_cni_args_get("B=2;garbage", "A", v, sizeof(v)), -1);
	assert_int_equal(hg_cni_args_get("A=1;garbage", "A", v, sizeof(v)), -1);
	assert_int_equal(hg_cni_args_get("B=2;;A=1", "A", v, sizeof(v)), -1);
	/* A value that does not fit is refused, never truncated. */
	char small[4];
	assert_int_equal(hg_cni_args_get("A=1234", "A", small, sizeof(small)), -1);
	assert_int_equal(hg_cni_args_get("A=123", "A", small, sizeof(small)), 1);
	assert_string_equal(small, "123");
}

static void test_env_from_environ(void **state)
{
	struct hg_cni_env env;
	setenv("CNI_COMMAND", "ADD", 1);
	setenv("CNI_CONTAINERID", "ctr1", 1);
	setenv("CNI_NETNS", "", 1); /* libcni exports every variable, empty where not applicable */
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_ARGS", "", 1);
	setenv("CNI_PATH", "/opt/cni/bin", 1);
	setenv("CNI_NETNS_OVERRIDE", "1", 1);
	hg_cni_env_from_environ(&env);
	assert_string_equal(env.command, "ADD");
	assert_string_equal(env.container_id, "ctr1");
	assert_null(env.netns);
	assert_string_equal(env.ifname, "eth0");
	assert_null(env.args);
	assert_string_equal(env.path, "/opt/cni/bin");
	assert_true(env.netns_override);
	setenv("CNI_NETNS_OVERRIDE", "true", 1);
	hg_cni_env_from_environ(&env);
	assert_true(env.netns_override);
	setenv("CNI_NETNS_OVERRIDE", "0", 1);
	hg_cni_env_from_environ(&env);
	assert_false(env.netns_override);
	static const char *const vars[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
					   "CNI_ARGS", "CNI_PATH", "CNI_NETNS_OVERRIDE"};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
	hg_cni_env_from_environ(&env);
	assert_null(env.command);
	assert_null(env.container_id);
	assert_null(env.path);
	assert_false(env.netns_override);
}

static void test_add_needs_prev_result(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		char *c = conf(versions[i], NULL);
		expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, versions[i], "prevResult");
		free(c);
	}
	char *c = conf("1.0.0", ",\"prevResult\":[]");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "1.0.0", "prevResult");
	free(c);
}

static void test_invalid_config(void **state)
{
	char *c = conf("1.0.0", ",\"hostIPs\":[\"bogus\"],\"prevResult\":{}");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "1.0.0", "\"hostIPs\"");
	/* DEL undoes from the record: what ADD refused does not make it fail. */
	expect_silent_success(&env_del, c);
	free(c);
	/* (An invalid stateDir would fall back to /run/host-gateway: the integration tests
	 * cover that, not a unit test.) */
	c = conf("1.0.0", ",\"logFile\":7,\"localhostPorts\":\"x\"");
	expect_silent_success(&env_del, c);
	free(c);
	c = conf("0.3.1", ",\"names\":[\"bad name\"],\"prevResult\":{}");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "0.3.1", "\"names\"");
	free(c);
	c = conf("1.1.0", ",\"localhostPorts\":[\"70000\"]");
	expect_error(&env_status, c, HG_CNI_INVALID_CONFIG, "1.1.0", "\"localhostPorts\"");
	free(c);
	c = conf("1.0.0", ",\"runtimeConfig\":{\"io.kubernetes.cri.pod-annotations\":"
			  "{\"host-gateway.io/enabled\":\"maybe\"}},\"prevResult\":{}");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "1.0.0", "\"host-gateway.io/enabled\"");
	free(c);
	c = conf("1.0.0", ",\"runtimeConfig\":{\"io.kubernetes.cri.pod-annotations\":"
			  "{\"host-gateway.io/localhost-ports\":\"80/sctp\"}},\"prevResult\":{}");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "1.0.0", "\"host-gateway.io/localhost-ports\"");
	expect_silent_success(&env_del, c);
	free(c);
	/* Bounded work: one remapped range counts every port. */
	c = conf("1.0.0", ",\"runtimeConfig\":{\"io.kubernetes.cri.pod-annotations\":"
			  "{\"host-gateway.io/localhost-ports\":\"1-65534:2-65535\"}},\"prevResult\":{}");
	expect_error(&env_add, c, HG_CNI_INVALID_CONFIG, "1.0.0", "too many ports");
	free(c);
	c = conf("1.0.0", ",\"localhostPorts\":[\"1-65535\"],\"prevResult\":{}");
	expect_error(&env_check, c, HG_CNI_CHECK_FAILED, "1.0.0", "no host-gateway record");
	free(c);
	/* failurePolicy is the hook's: a CNI config may carry anything under that key. */
	c = conf("1.0.0", ",\"failurePolicy\":\"bogus\"");
	expect_silent_success(&env_del, c);
	free(c);

	/* The network name. */
	expect_error(&env_del, "{\"cniVersion\":\"1.0.0\"}", HG_CNI_INVALID_CONFIG, "1.0.0", "\"name\"");
	expect_error(&env_status, "{\"cniVersion\":\"1.1.0\",\"name\":\"bad/name\"}", HG_CNI_INVALID_CONFIG, "1.1.0",
		     "\"name\"");
	/* DEL of a name no record can have: nothing to undo. */
	expect_silent_success(&env_del, "{\"cniVersion\":\"1.0.0\",\"name\":\"bad/name\"}");
	expect_error(&env_del, "{\"cniVersion\":\"1.0.0\",\"name\":7}", HG_CNI_INVALID_CONFIG, "1.0.0", "\"name\"");
}

static void test_unknown_keys_accepted(void **state)
{
	char *c = conf("1.0.0", ",\"capabilities\":{\"io.kubernetes.cri.pod-annotations\":true},"
				"\"args\":{\"cni\":{\"x\":1}},\"runtimeConfig\":{\"portMappings\":[]},"
				"\"somethingNew\":{\"a\":[1,2,3]}");
	expect_silent_success(&env_del, c);
	free(c);
}

static void test_status(void **state)
{
	char *c = conf("1.1.0", NULL);
	expect_silent_success(&env_status, c);
	free(c);

	/* A state directory that does not exist yet is created. */
	char *sub = path_join(fx->dir, "new/state"), *extra = NULL;
	assert_true(asprintf(&extra, ",\"stateDir\":\"%s\"", sub) > 0);
	c = conf("1.1.0", extra);
	expect_silent_success(&env_status, c);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(c);
	free(extra);
	free(sub);

	/* Under a regular file: not ready (50). */
	char *file = path_join(fx->dir, "file");
	file_write_str(file, "x");
	assert_true(asprintf(&extra, ",\"stateDir\":\"%s/state\"", file) > 0);
	c = conf("1.1.0", extra);
	expect_error(&env_status, c, HG_CNI_NOT_READY, "1.1.0", file);
	free(c);
	free(extra);
	free(file);
}

static char *record_path(const char *cid, const char *ifname)
{
	char *p = NULL;
	assert_int_equal(hg_state_cni_path(fx->dir, fx->net, cid, ifname, &p), 0);
	return p;
}

/* A record as ADD leaves it when there was nothing to undo in the netns: no routes. */
static char *write_record(const char *cid, const char *ifname, const char *hosts_json)
{
	char *path = record_path(cid, ifname), text[1024];
	struct hg_error err = {0};
	snprintf(text, sizeof(text),
		 "{\"version\":1,\"kind\":\"cni\",\"network\":\"%s\",\"containerID\":\"%s\",\"ifname\":\"%s\","
		 "\"key\":\"%s/%s/%s\",\"stateDir\":\"%s\","
		 "\"netns\":{\"path\":\"/var/run/netns/hg-unit-gone\",\"dev\":0,\"ino\":0},\"routes\":[]%s%s}",
		 fx->net, cid, ifname, fx->net, cid, ifname, fx->dir, hosts_json ? ",\"hosts\":" : "",
		 hosts_json ? hosts_json : "");
	json_t *rec = json_parse(text);
	assert_int_equal(hg_state_write(path, rec, &err), 0);
	json_decref(rec);
	return path;
}

static void test_del(void **state)
{
	/* Without a record: success, no output, twice in a row. */
	char *c = conf("0.3.1", NULL);
	expect_silent_success(&env_del, c);
	expect_silent_success(&env_del, c);

	/* With a record: it is removed, and only it. */
	char *mine = write_record("ctr1", "eth0", NULL);
	char *other_if = write_record("ctr1", "net1", NULL);
	char *other = write_record("ctr2", "eth0", NULL);
	expect_silent_success(&env_del, c);
	assert_int_equal(access(mine, F_OK), -1);
	assert_int_equal(access(other_if, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);

	/* A damaged record does not make DEL fail; it goes. */
	file_write_str(mine, "{\"version\":");
	expect_silent_success(&env_del, c);
	assert_int_equal(access(mine, F_OK), -1);
	free(mine);
	free(other_if);
	free(other);
	free(c);
}

/* DEL removes our block from the hosts file the record names, from the record alone. */
static void test_del_cleans_hosts_file(void **state)
{
	char *hosts = path_join(fx->dir, "etc-hosts"), *target = NULL;
	const char *user = "127.0.0.1 localhost\n";
	char text[512];
	snprintf(text, sizeof(text), "%s%s\n10.0.2.2\thost.docker.internal\n%s\n", user, HG_HOSTS_BEGIN, HG_HOSTS_END);
	file_write_str(hosts, text);
	assert_true(asprintf(&target, "{\"file\":\"%s\",\"block\":\"10.0.2.2\\thost.docker.internal\"}", hosts) > 0);
	char *rec = write_record("ctr1", "eth0", target);

	char *c = conf("1.0.0", NULL);
	expect_silent_success(&env_del, c);
	char *now = file_read(hosts, NULL);
	assert_string_equal(now, user);
	free(now);
	assert_int_equal(access(rec, F_OK), -1);

	/* The file already gone: DEL still succeeds. */
	free(rec);
	rec = write_record("ctr1", "eth0", target);
	assert_int_equal(unlink(hosts), 0);
	expect_silent_success(&env_del, c);
	assert_int_equal(access(rec, F_OK), -1);
	free(rec);
	free(c);
	free(target);
	free(hosts);
}

static void test_check_from_record(void **state)
{
	static const char prev[] = ",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.5/24\"}]}";
	char *c = conf("1.0.0", prev);

	/* No record: ADD did not run. */
	expect_error(&env_check, c, HG_CNI_CHECK_FAILED, "1.0.0", "ctr1");

	/* A record whose namespace is gone cannot check out. */
	free(write_record("ctr1", "eth0", NULL));
	expect_error(&env_check, c, HG_CNI_NETNS, "1.0.0", "namespace");
	free(c);
}

static void test_gc(void **state)
{
	char *c = conf("1.1.0", ",\"cni.dev/valid-attachments\":[]");
	/* No records at all (the network's directory does not even exist). */
	expect_silent_success(&env_gc, c);
	free(c);

	char *keep = write_record("ctr1", "eth0", NULL);
	char *stale = write_record("ctr2", "eth0", NULL);
	char *stale_if = write_record("ctr1", "net1", NULL);
	char *damaged = record_path("ctr3", "eth0");
	file_write_str(damaged, "{");
	c = conf("1.1.0", ",\"cni.dev/valid-attachments\":[{\"containerID\":\"ctr1\",\"ifname\":\"eth0\"},"
			  "{\"containerID\":\"ctr9\",\"ifname\":\"eth0\"}]");
	expect_silent_success(&env_gc, c);
	assert_int_equal(access(keep, F_OK), 0);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(stale_if, F_OK), -1);
	assert_int_equal(access(damaged, F_OK), -1);
	free(c);

	/* The older key name works the same. */
	free(write_record("ctr2", "eth0", NULL));
	c = conf("1.1.0", ",\"cni.dev/attachments\":[{\"containerID\":\"ctr2\",\"ifname\":\"eth0\"}]");
	expect_silent_success(&env_gc, c);
	assert_int_equal(access(keep, F_OK), -1);
	assert_int_equal(access(stale, F_OK), 0);
	free(c);

	c = conf("1.1.0", ",\"cni.dev/valid-attachments\":{}");
	expect_error(&env_gc, c, HG_CNI_INVALID_CONFIG, "1.1.0", "cni.dev/valid-attachments");
	assert_int_equal(access(stale, F_OK), 0); /* nothing removed on a refused request */
	free(c);
	/* No list at all would make every attachment stale: refused, nothing removed. */
	c = conf("1.1.0", NULL);
	expect_error(&env_gc, c, HG_CNI_INVALID_CONFIG, "1.1.0", "cni.dev/valid-attachments");
	assert_int_equal(access(stale, F_OK), 0);
	free(c);
	/* libcni's empty list is null (CRI-O with no pod on the network): stated, so all stale. */
	c = conf("1.1.0", ",\"cni.dev/valid-attachments\":null,\"cni.dev/attachments\":null");
	expect_silent_success(&env_gc, c);
	assert_int_equal(access(stale, F_OK), -1);
	free(c);
	free(keep);
	free(stale);
	free(stale_if);
	free(damaged);
}

static void test_add_own_netns(void **state)
{
	char *c = conf("1.0.0", ",\"prevResult\":{\"ips\":[{\"address\":\"10.0.0.5/24\"}]}");
	struct hg_cni_env env = env_add;
	env.netns = "/proc/self/ns/net";
	expect_error(&env, c, HG_CNI_OWN_NETNS, "1.0.0", "CNI_NETNS_OVERRIDE");
	/* A netns path that does not exist: an error, and nothing is recorded. */
	env.netns = "/var/run/netns/does-not-exist";
	expect_error(&env, c, HG_CNI_NETNS, "1.0.0", "/var/run/netns/does-not-exist");
	char *rec = record_path("ctr1", "eth0");
	assert_int_equal(access(rec, F_OK), -1);
	free(rec);
	free(c);
}

/* A prevResult as the previous plugin of version v prints it. */
static json_t *prev_result(const char *v)
{
	bool old = hg_cni_version_number(v) < 10000;
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"cniVersion\":\"%s\","
		 "\"interfaces\":[{\"name\":\"veth1\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"
		 "{\"name\":\"eth0\",\"mac\":\"11:22:33:44:55:66\",\"sandbox\":\"/var/run/netns/x\"}],"
		 "\"ips\":[{%s\"interface\":1,\"address\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\"},"
		 "{%s\"interface\":1,\"address\":\"fd00:10:244:1::5/64\",\"gateway\":\"fd00:10:244:1::1\"}],"
		 "\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"::/0\"}],"
		 "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"search\":[\"svc.cluster.local\"]}}",
		 v, old ? "\"version\":\"4\"," : "", old ? "\"version\":\"6\"," : "");
	return json_parse(text);
}

static char *disabled_conf(const char *v, json_t *prev)
{
	char *p = json_dumps(prev, JSON_COMPACT), *extra = NULL;
	assert_true(asprintf(&extra, ",\"runtimeConfig\":{\"io.kubernetes.cri.pod-annotations\":"
				     "{\"host-gateway.io/enabled\":\"false\"}},\"prevResult\":%s", p) > 0);
	char *c = conf(v, extra);
	free(extra);
	free(p);
	return c;
}

static void test_passthrough_disabled(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		json_t *prev = prev_result(versions[i]);
		char *c = disabled_conf(versions[i], prev);
		json_t *out = NULL;
		assert_int_equal(run(&env_add, c, &out), 0);
		assert_non_null(out);
		if (!json_equal(out, prev)) {
			char *got = json_dumps(out, JSON_COMPACT);
			fail_msg("%s: passthrough changed the result: %s", versions[i], got);
		}
		assert_contains(fx->log, "disabled");
		json_decref(out);

		/* Disabled, CHECK succeeds without a record (0.4.0 on). */
		if (hg_cni_version_number(versions[i]) >= 400)
			expect_silent_success(&env_check, c);
		free(c);
		json_decref(prev);
	}
	/* Nothing was recorded. */
	char *dir = path_join(fx->dir, "cni");
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);
}

static void test_passthrough_sets_version(void **state)
{
	/* The output's cniVersion is the config's, whatever prevResult carried. */
	json_t *prev = prev_result("0.3.0");
	json_object_del(prev, "cniVersion");
	char *c = disabled_conf("1.0.0", prev);
	json_t *out = NULL;
	assert_int_equal(run(&env_add, c, &out), 0);
	assert_string_equal(json_string_value(json_object_get(out, "cniVersion")), "1.0.0");
	json_object_del(out, "cniVersion");
	assert_true(json_equal(out, prev));
	json_decref(out);
	free(c);

	json_object_set_new(prev, "cniVersion", json_string("0.4.0"));
	c = disabled_conf("1.1.0", prev);
	assert_int_equal(run(&env_add, c, &out), 0);
	assert_string_equal(json_string_value(json_object_get(out, "cniVersion")), "1.1.0");
	json_object_set_new(prev, "cniVersion", json_string("1.1.0"));
	assert_true(json_equal(out, prev));
	json_decref(out);
	free(c);
	json_decref(prev);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_version),
		T(test_version_number),
		T(test_no_command),
		T(test_unknown_command),
		T(test_malformed_json),
		T(test_version_negotiation),
		T(test_check_needs_040),
		T(test_gc_status_need_110),
		T(test_missing_env),
		T(test_bad_container_id),
		T(test_bad_ifname),
		T(test_error_json_not_utf8),
		T(test_cni_args_env),
		T(test_cni_args_get),
		T(test_env_from_environ),
		T(test_add_needs_prev_result),
		T(test_invalid_config),
		T(test_unknown_keys_accepted),
		T(test_status),
		T(test_del),
		T(test_del_cleans_hosts_file),
		T(test_check_from_record),
		T(test_gc),
		T(test_add_own_netns),
		T(test_passthrough_disabled),
		T(test_passthrough_sets_version),
	};
	return cmocka_run_group_tests_name("cni", tests, NULL, NULL);
}
