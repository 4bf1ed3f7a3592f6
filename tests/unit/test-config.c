/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: defaults, every key valid and invalid, the parsers, and the annotations. */
#include "test-helpers.h"
#include "base/config.h"
#include "base/util.h"

/* Loads text over the defaults into *c (initialised here); returns what hg_config_load_json did. */
static int load(struct hg_config *c, const char *text, bool allow_failure_policy, struct hg_error *err)
{
	json_t *j = json_parse(text);
	assert_int_equal(hg_config_init(c), 0);
	memset(err, 0, sizeof(*err));
	int r = hg_config_load_json(c, j, allow_failure_policy, err);
	json_decref(j);
	return r;
}

/* text must be refused with code 7, and the message must name key and show what was wrong. */
static void expect_invalid_fp(const char *text, const char *key, const char *shown, bool allow_failure_policy)
{
	struct hg_config c;
	struct hg_error err;
	char quoted[128];
	if (load(&c, text, allow_failure_policy, &err) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	assert_contains(err.msg, quoted);
	if (shown)
		assert_contains(err.msg, shown);
	hg_config_free(&c);
}

static void expect_invalid(const char *text, const char *key, const char *shown)
{
	expect_invalid_fp(text, key, shown, false);
}

static void expect_valid(struct hg_config *c, const char *text)
{
	struct hg_error err;
	if (load(c, text, true, &err) != 0)
		fail_msg("refused: %s: %s", text, err.msg);
}

static void assert_ip(const struct hg_ip *ip, const char *want)
{
	char buf[HG_IP_STRLEN];
	struct hg_ip w;
	assert_int_equal(hg_ip_parse(want, false, &w), 0);
	assert_int_equal(ip->family, w.family);
	assert_string_equal(hg_ip_str(ip, buf), want);
}

static void test_defaults(void **state)
{
	struct hg_config c;
	assert_int_equal(hg_config_init(&c), 0);
	assert_true(c.enabled);
	assert_int_equal(strv_len(c.names), 3);
	assert_string_equal(c.names[0], "host.docker.internal");
	assert_string_equal(c.names[1], "host.containers.internal");
	assert_string_equal(c.names[2], "gateway.docker.internal");
	assert_int_equal(c.n_host_ips, 1);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_AUTO);
	assert_string_equal(c.state_dir, "/run/host-gateway");
	assert_null(c.log_file);
	assert_int_equal(c.n_extra_hosts, 0);
	assert_int_equal(c.n_virtual_ips, 0);
	assert_false(c.host_alias);
	assert_int_equal(c.n_localhost_ports, 0);
	assert_int_equal(c.n_host_loopback_ports, 0);
	assert_int_equal(c.failure_policy, HG_FAIL_IGNORE);
	hg_config_free(&c);
}

/* The runtime's own keys and unknown keys are not errors and change nothing. */
static void test_unknown_keys_ignored(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"host-gateway\","
			 "\"capabilities\":{\"io.kubernetes.cri.pod-annotations\":true},\"args\":{\"x\":1},"
			 "\"prevResult\":{},\"someFutureKey\":[1,2]}");
	assert_true(c.enabled);
	assert_int_equal(strv_len(c.names), 3);
	assert_int_equal(c.n_host_ips, 1);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_AUTO);
	assert_string_equal(c.state_dir, HG_DEFAULT_STATE_DIR);
	hg_config_free(&c);
}

static void test_not_an_object(void **state)
{
	struct hg_config c;
	struct hg_error err;
	assert_int_equal(load(&c, "[]", false, &err), -1);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	hg_config_free(&c);
}

static void test_names(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"names\":[\"db.test\",\"my_host-1\",\"db.test\"]}");
	assert_int_equal(strv_len(c.names), 2); /* the duplicate is dropped */
	assert_string_equal(c.names[0], "db.test");
	assert_string_equal(c.names[1], "my_host-1");
	hg_config_free(&c);

	expect_valid(&c, "{\"names\":[]}");
	assert_int_equal(strv_len(c.names), 0);
	hg_config_free(&c);

	char long_ok[300], text[400];
	memset(long_ok, 'a', 253);
	long_ok[253] = '\0';
	snprintf(text, sizeof(text), "{\"names\":[\"%s\"]}", long_ok);
	expect_valid(&c, text);
	assert_string_equal(c.names[0], long_ok);
	hg_config_free(&c);
}

static void test_names_invalid(void **state)
{
	expect_invalid("{\"names\":\"host.docker.internal\"}", "names", "array");
	expect_invalid("{\"names\":[\"ok\",5]}", "names", "5");
	expect_invalid("{\"names\":[\"\"]}", "names", NULL);
	expect_invalid("{\"names\":[\".lead\"]}", "names", ".lead");
	expect_invalid("{\"names\":[\"-lead\"]}", "names", "-lead");
	expect_invalid("{\"names\":[\"has space\"]}", "names", "has space");
	expect_invalid("{\"names\":[\"a/b\"]}", "names", "a/b");
	expect_invalid("{\"names\":[\"a:b\"]}", "names", "a:b");
	expect_invalid("{\"names\":[\"a#b\"]}", "names", "a#b");

	char long_bad[300], text[400];
	memset(long_bad, 'a', 254);
	long_bad[254] = '\0';
	snprintf(text, sizeof(text), "{\"names\":[\"%s\"]}", long_bad);
	expect_invalid(text, "names", NULL);

	/* A refused list leaves the previous names in place. */
	struct hg_config c;
	struct hg_error err;
	assert_int_equal(load(&c, "{\"names\":[\"good\",\"bad name\"]}", false, &err), -1);
	assert_int_equal(strv_len(c.names), 3);
	assert_string_equal(c.names[0], "host.docker.internal");
	hg_config_free(&c);
}

static void test_parse_name(void **state)
{
	assert_int_equal(hg_parse_name("host.docker.internal"), 0);
	assert_int_equal(hg_parse_name("A1"), 0);
	assert_int_equal(hg_parse_name("x"), 0);
	assert_int_not_equal(hg_parse_name(""), 0);
	assert_int_not_equal(hg_parse_name("."), 0);
	assert_int_not_equal(hg_parse_name("-x"), 0);
	assert_int_not_equal(hg_parse_name("x y"), 0);
	assert_int_not_equal(hg_parse_name("x\ty"), 0);
	assert_int_not_equal(hg_parse_name("é"), 0);
}

static void test_host_ips(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"hostIPs\":[\"node-gateway\"]}");
	assert_int_equal(c.n_host_ips, 1);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_NODE_GATEWAY);
	hg_config_free(&c);

	expect_valid(&c, "{\"hostIPs\":[\"auto\"]}");
	assert_int_equal(c.n_host_ips, 1);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_AUTO);
	hg_config_free(&c);

	expect_valid(&c, "{\"hostIPs\":[\"192.168.1.10\"]}");
	assert_int_equal(c.n_host_ips, 1);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_LITERAL);
	assert_ip(&c.host_ips[0].ip, "192.168.1.10");
	hg_config_free(&c);

	expect_valid(&c, "{\"hostIPs\":[\"fd00::1\"]}");
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_LITERAL);
	assert_ip(&c.host_ips[0].ip, "fd00::1");
	hg_config_free(&c);

	/* Order is kept: it is the order of the fallbacks. */
	expect_valid(&c, "{\"hostIPs\":[\"node-gateway\",\"10.0.0.1\",\"auto\",\"fd00::2\"]}");
	assert_int_equal(c.n_host_ips, 4);
	assert_int_equal(c.host_ips[0].kind, HG_HOSTIP_NODE_GATEWAY);
	assert_int_equal(c.host_ips[1].kind, HG_HOSTIP_LITERAL);
	assert_ip(&c.host_ips[1].ip, "10.0.0.1");
	assert_int_equal(c.host_ips[2].kind, HG_HOSTIP_AUTO);
	assert_int_equal(c.host_ips[3].kind, HG_HOSTIP_LITERAL);
	assert_ip(&c.host_ips[3].ip, "fd00::2");
	hg_config_free(&c);
}

static void test_host_ips_invalid(void **state)
{
	expect_invalid("{\"hostIPs\":\"auto\"}", "hostIPs", "array");
	expect_invalid("{\"hostIPs\":[]}", "hostIPs", "empty");
	expect_invalid("{\"hostIPs\":[1]}", "hostIPs", "string");
	expect_invalid("{\"hostIPs\":[\"bogus\"]}", "hostIPs", "bogus");
	expect_invalid("{\"hostIPs\":[\"AUTO\"]}", "hostIPs", "AUTO");
	expect_invalid("{\"hostIPs\":[\"10.0.0.1/24\"]}", "hostIPs", "10.0.0.1/24");
	expect_invalid("{\"hostIPs\":[\"300.0.0.1\"]}", "hostIPs", "300.0.0.1");
	expect_invalid("{\"hostIPs\":[\"10.0.0.1\",\"10.0.0.2\"]}", "hostIPs", "more than one");
	expect_invalid("{\"hostIPs\":[\"fd00::1\",\"auto\",\"fd00::2\"]}", "hostIPs", "more than one");
	expect_invalid("{\"hostIPs\":[\"auto\",\"auto\",\"auto\",\"auto\",\"auto\",\"auto\",\"auto\",\"auto\",\"auto\"]}",
		       "hostIPs", "too many");
}

static void test_extra_hosts(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"extraHosts\":[\"db:10.1.2.3\",\"gw:host-gateway\",\"v6:[fd00::5]\",\"v6b:fd00::6\","
			 "\"eq=192.0.2.9\"]}");
	assert_int_equal(c.n_extra_hosts, 5);
	assert_string_equal(c.extra_hosts[0].name, "db");
	assert_false(c.extra_hosts[0].host_gateway);
	assert_ip(&c.extra_hosts[0].ip, "10.1.2.3");
	assert_string_equal(c.extra_hosts[1].name, "gw");
	assert_true(c.extra_hosts[1].host_gateway);
	assert_int_equal(c.extra_hosts[1].ip.family, 0);
	assert_string_equal(c.extra_hosts[2].name, "v6");
	assert_ip(&c.extra_hosts[2].ip, "fd00::5");
	assert_string_equal(c.extra_hosts[3].name, "v6b");
	assert_ip(&c.extra_hosts[3].ip, "fd00::6");
	assert_string_equal(c.extra_hosts[4].name, "eq");
	assert_ip(&c.extra_hosts[4].ip, "192.0.2.9");
	hg_config_free(&c);
}

static void test_extra_hosts_invalid(void **state)
{
	expect_invalid("{\"extraHosts\":\"db:10.0.0.1\"}", "extraHosts", "array");
	expect_invalid("{\"extraHosts\":[7]}", "extraHosts", "7");
	expect_invalid("{\"extraHosts\":[\"db\"]}", "extraHosts", "db");
	expect_invalid("{\"extraHosts\":[\"db:\"]}", "extraHosts", "db:");
	expect_invalid("{\"extraHosts\":[\":10.0.0.1\"]}", "extraHosts", ":10.0.0.1");
	expect_invalid("{\"extraHosts\":[\"bad name:10.0.0.1\"]}", "extraHosts", "bad name");
	expect_invalid("{\"extraHosts\":[\"db:10.0.0.300\"]}", "extraHosts", "10.0.0.300");
	expect_invalid("{\"extraHosts\":[\"db:10.0.0.1/24\"]}", "extraHosts", "10.0.0.1/24");
	expect_invalid("{\"extraHosts\":[\"db:[fd00::1\"]}", "extraHosts", "[fd00::1");
	expect_invalid("{\"extraHosts\":[\"db:host-gateway:x\"]}", "extraHosts", NULL);
	expect_invalid("{\"extraHosts\":[\"db:HOST-GATEWAY\"]}", "extraHosts", NULL);
}

static void test_parse_extra_host(void **state)
{
	struct hg_extra_host h;
	assert_int_equal(hg_parse_extra_host("name:fd00::1", &h), 0);
	assert_string_equal(h.name, "name");
	assert_ip(&h.ip, "fd00::1");
	free(h.name);
	assert_int_equal(hg_parse_extra_host("n:[::1]", &h), 0);
	assert_ip(&h.ip, "::1");
	free(h.name);
	assert_int_equal(hg_parse_extra_host("n:host-gateway", &h), 0);
	assert_true(h.host_gateway);
	free(h.name);
	h.name = (char *) "untouched";
	assert_int_not_equal(hg_parse_extra_host("n:[]", &h), 0);
	assert_int_not_equal(hg_parse_extra_host("", &h), 0);
	assert_int_not_equal(hg_parse_extra_host("n:fd00::1]", &h), 0);
	assert_string_equal(h.name, "untouched"); /* out is not written on failure */
}

struct port_case {
	const char *text;
	enum hg_proto proto;
	unsigned first, last, host_first;
};

static void test_parse_port_map(void **state)
{
	static const struct port_case ok[] = {
		{"5432", HG_TCP, 5432, 5432, 5432},
		{"6379/tcp", HG_TCP, 6379, 6379, 6379},
		{"53/udp", HG_UDP, 53, 53, 53},
		{"8000-8010", HG_TCP, 8000, 8010, 8000},
		{"8080:80", HG_TCP, 8080, 8080, 80},
		{"8000-8010:9000-9010", HG_TCP, 8000, 8010, 9000},
		{"8000-8010:9000-9010/udp", HG_UDP, 8000, 8010, 9000},
		{"1", HG_TCP, 1, 1, 1},
		{"65535", HG_TCP, 65535, 65535, 65535},
		{"7-7", HG_TCP, 7, 7, 7},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct hg_port_map m;
		memset(&m, 0xa5, sizeof(m));
		if (hg_parse_port_map(ok[i].text, &m) != 0)
			fail_msg("refused port map \"%s\"", ok[i].text);
		assert_int_equal(m.proto, ok[i].proto);
		assert_int_equal(m.first, ok[i].first);
		assert_int_equal(m.last, ok[i].last);
		assert_int_equal(m.host_first, ok[i].host_first);
	}

	static const char *const bad[] = {
		"0", "70000", "65536", "10-5", "80/sctp", "8000-8010:9000", "8000:9000-9010", "", "abc", "80/",
		"/tcp", "80/TCP", "1-", "-1", ":80", "80:", "80:0", "1:2:3", "123456", "+80", " 80", "80 ",
		"1-2-3", "0-5", "80/tcp/udp", "080000",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hg_port_map m = {.proto = HG_UDP, .first = 1, .last = 2, .host_first = 3};
		if (hg_parse_port_map(bad[i], &m) == 0)
			fail_msg("accepted port map \"%s\"", bad[i]);
		/* out is not written on failure */
		assert_int_equal(m.proto, HG_UDP);
		assert_int_equal(m.first, 1);
		assert_int_equal(m.host_first, 3);
	}
}

static void test_port_keys(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"localhostPorts\":[\"5432\",\"53/udp\",\"8080:80\"],"
			 "\"hostLoopbackPorts\":[\"8000-8010:9000-9010\"]}");
	assert_int_equal(c.n_localhost_ports, 3);
	assert_int_equal(c.localhost_ports[0].first, 5432);
	assert_int_equal(c.localhost_ports[1].proto, HG_UDP);
	assert_int_equal(c.localhost_ports[2].host_first, 80);
	assert_int_equal(c.n_host_loopback_ports, 1);
	assert_int_equal(c.host_loopback_ports[0].last, 8010);
	assert_int_equal(c.host_loopback_ports[0].host_first, 9000);

	/* A second load replaces the list. */
	json_t *j = json_parse("{\"localhostPorts\":[\"1\"]}");
	struct hg_error err;
	assert_int_equal(hg_config_load_json(&c, j, false, &err), 0);
	json_decref(j);
	assert_int_equal(c.n_localhost_ports, 1);
	assert_int_equal(c.localhost_ports[0].first, 1);
	assert_int_equal(c.n_host_loopback_ports, 1);
	hg_config_free(&c);

	expect_invalid("{\"localhostPorts\":[\"0\"]}", "localhostPorts", "\"0\"");
	expect_invalid("{\"localhostPorts\":[\"5432\",\"70000\"]}", "localhostPorts", "70000");
	expect_invalid("{\"localhostPorts\":\"5432\"}", "localhostPorts", "array");
	expect_invalid("{\"localhostPorts\":[5432]}", "localhostPorts", "5432");
	expect_invalid("{\"hostLoopbackPorts\":[\"10-5\"]}", "hostLoopbackPorts", "10-5");
	expect_invalid("{\"hostLoopbackPorts\":[\"80/sctp\"]}", "hostLoopbackPorts", "80/sctp");
	expect_invalid("{\"hostLoopbackPorts\":[\"8000-8010:9000\"]}", "hostLoopbackPorts", "8000-8010:9000");
}

static void test_paths(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"stateDir\":\"/var/lib/hg\",\"logFile\":\"/var/log/hg.log\"}");
	assert_string_equal(c.state_dir, "/var/lib/hg");
	assert_string_equal(c.log_file, "/var/log/hg.log");
	hg_config_free(&c);

	expect_invalid("{\"stateDir\":\"relative/dir\"}", "stateDir", "relative/dir");
	expect_invalid("{\"stateDir\":\"\"}", "stateDir", "absolute");
	expect_invalid("{\"stateDir\":5}", "stateDir", "5");
	expect_invalid("{\"stateDir\":null}", "stateDir", NULL);
	expect_invalid("{\"logFile\":\"hg.log\"}", "logFile", "hg.log");
	expect_invalid("{\"logFile\":[\"/x\"]}", "logFile", NULL);
}

static void test_virtual_ips(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"virtualIPs\":[\"169.254.1.1\"]}");
	assert_int_equal(c.n_virtual_ips, 1);
	assert_ip(&c.virtual_ips[0], "169.254.1.1");
	hg_config_free(&c);

	expect_valid(&c, "{\"virtualIPs\":[\"fd00:abcd::1\",\"169.254.1.1\"],\"hostAlias\":true}");
	assert_int_equal(c.n_virtual_ips, 2);
	assert_ip(&c.virtual_ips[0], "fd00:abcd::1");
	assert_ip(&c.virtual_ips[1], "169.254.1.1");
	assert_true(c.host_alias);
	hg_config_free(&c);

	expect_invalid("{\"virtualIPs\":[\"169.254.1.1\",\"169.254.1.2\"]}", "virtualIPs", "more than one");
	expect_invalid("{\"virtualIPs\":[\"fd00::1\",\"fd00::2\"]}", "virtualIPs", "more than one");
	expect_invalid("{\"virtualIPs\":[\"169.254.1.1\",\"fd00::1\",\"169.254.1.2\"]}", "virtualIPs", NULL);
	expect_invalid("{\"virtualIPs\":[\"bogus\"]}", "virtualIPs", "bogus");
	expect_invalid("{\"virtualIPs\":[\"169.254.1.1/32\"]}", "virtualIPs", NULL);
	expect_invalid("{\"virtualIPs\":\"169.254.1.1\"}", "virtualIPs", "array");
}

static void test_host_alias(void **state)
{
	struct hg_config c;
	expect_valid(&c, "{\"hostAlias\":false}");
	assert_false(c.host_alias);
	hg_config_free(&c);

	expect_invalid("{\"hostAlias\":true}", "hostAlias", "virtualIPs");
	expect_invalid("{\"hostAlias\":\"true\"}", "hostAlias", "true or false");
	expect_invalid("{\"hostAlias\":1}", "hostAlias", NULL);
}

static void test_failure_policy(void **state)
{
	struct hg_config c;
	struct hg_error err;
	assert_int_equal(load(&c, "{\"failurePolicy\":\"fail\"}", true, &err), 0);
	assert_int_equal(c.failure_policy, HG_FAIL_FAIL);
	hg_config_free(&c);
	assert_int_equal(load(&c, "{\"failurePolicy\":\"ignore\"}", true, &err), 0);
	assert_int_equal(c.failure_policy, HG_FAIL_IGNORE);
	hg_config_free(&c);

	expect_invalid_fp("{\"failurePolicy\":\"bogus\"}", "failurePolicy", "bogus", true);
	expect_invalid_fp("{\"failurePolicy\":\"Fail\"}", "failurePolicy", NULL, true);
	expect_invalid_fp("{\"failurePolicy\":1}", "failurePolicy", NULL, true);

	/* Where it is not allowed (the CNI plugin) the key is unknown: neither used nor refused. */
	assert_int_equal(load(&c, "{\"failurePolicy\":\"fail\"}", false, &err), 0);
	assert_int_equal(c.failure_policy, HG_FAIL_IGNORE);
	hg_config_free(&c);
	assert_int_equal(load(&c, "{\"failurePolicy\":\"bogus\"}", false, &err), 0);
	assert_int_equal(c.failure_policy, HG_FAIL_IGNORE);
	hg_config_free(&c);
}

/* Annotations ------------------------------------------------------------------------------ */

static int annotate(struct hg_config *c, const char *text, struct hg_error *err)
{
	json_t *j = json_parse(text);
	memset(err, 0, sizeof(*err));
	int r = hg_config_apply_annotations(c, j, err);
	json_decref(j);
	return r;
}

static void expect_annotation_invalid(const char *text, const char *key, const char *shown)
{
	struct hg_config c;
	struct hg_error err;
	char quoted[128];
	assert_int_equal(hg_config_init(&c), 0);
	if (annotate(&c, text, &err) != -1)
		fail_msg("accepted annotations %s", text);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	assert_contains(err.msg, quoted);
	if (shown)
		assert_contains(err.msg, shown);
	hg_config_free(&c);
}

static void test_annotations_none(void **state)
{
	struct hg_config c;
	struct hg_error err = {0};
	assert_int_equal(hg_config_init(&c), 0);
	assert_int_equal(hg_config_apply_annotations(&c, NULL, &err), 0);
	assert_int_equal(annotate(&c, "null", &err), 0);
	assert_int_equal(annotate(&c, "{\"io.kubernetes.pod.name\":\"x\",\"other/enabled\":\"false\"}", &err), 0);
	assert_true(c.enabled);
	assert_int_equal(strv_len(c.names), 3);
	assert_int_equal(annotate(&c, "[\"host-gateway.io/enabled\"]", &err), -1);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	hg_config_free(&c);
}

static void test_annotation_enabled(void **state)
{
	struct hg_config c;
	struct hg_error err;
	assert_int_equal(hg_config_init(&c), 0);
	assert_int_equal(annotate(&c, "{\"host-gateway.io/enabled\":\"false\"}", &err), 0);
	assert_false(c.enabled);
	assert_int_equal(annotate(&c, "{\"host-gateway.io/enabled\":\"true\"}", &err), 0);
	assert_true(c.enabled);
	hg_config_free(&c);

	expect_annotation_invalid("{\"host-gateway.io/enabled\":\"no\"}", HG_ANNOTATION_ENABLED, "no");
	expect_annotation_invalid("{\"host-gateway.io/enabled\":\"False\"}", HG_ANNOTATION_ENABLED, "False");
	expect_annotation_invalid("{\"host-gateway.io/enabled\":\"\"}", HG_ANNOTATION_ENABLED, NULL);
	expect_annotation_invalid("{\"host-gateway.io/enabled\":false}", HG_ANNOTATION_ENABLED, NULL);
}

static void test_annotation_names(void **state)
{
	struct hg_config c;
	struct hg_error err;
	assert_int_equal(hg_config_init(&c), 0);
	assert_int_equal(annotate(&c, "{\"host-gateway.io/names\":\" a.test ,b.test,,\\tc.test\\t\"}", &err), 0);
	assert_int_equal(strv_len(c.names), 3); /* replaced, not added to the defaults */
	assert_string_equal(c.names[0], "a.test");
	assert_string_equal(c.names[1], "b.test");
	assert_string_equal(c.names[2], "c.test");
	hg_config_free(&c);

	expect_annotation_invalid("{\"host-gateway.io/names\":\"good, bad name\"}", HG_ANNOTATION_NAMES, "bad name");
	expect_annotation_invalid("{\"host-gateway.io/names\":[\"a\"]}", HG_ANNOTATION_NAMES, NULL);

	/* A refused annotation leaves the names as they were. */
	assert_int_equal(hg_config_init(&c), 0);
	assert_int_equal(annotate(&c, "{\"host-gateway.io/names\":\"ok,not/ok\"}", &err), -1);
	assert_int_equal(strv_len(c.names), 3);
	hg_config_free(&c);
}

static void test_annotation_extra_hosts(void **state)
{
	struct hg_config c;
	struct hg_error err;
	expect_valid(&c, "{\"extraHosts\":[\"cfg:10.0.0.1\"]}");
	assert_int_equal(annotate(&c, "{\"host-gateway.io/extra-hosts\":\"db:10.0.0.5, gw:host-gateway,v6:[fd00::7]\"}",
				  &err),
			 0);
	assert_int_equal(c.n_extra_hosts, 4); /* added to the config's */
	assert_string_equal(c.extra_hosts[0].name, "cfg");
	assert_string_equal(c.extra_hosts[1].name, "db");
	assert_ip(&c.extra_hosts[1].ip, "10.0.0.5");
	assert_string_equal(c.extra_hosts[2].name, "gw");
	assert_true(c.extra_hosts[2].host_gateway);
	assert_string_equal(c.extra_hosts[3].name, "v6");
	assert_ip(&c.extra_hosts[3].ip, "fd00::7");
	hg_config_free(&c);

	expect_annotation_invalid("{\"host-gateway.io/extra-hosts\":\"db:10.0.0.5,nocolon\"}", HG_ANNOTATION_EXTRA_HOSTS,
				  "nocolon");
	expect_annotation_invalid("{\"host-gateway.io/extra-hosts\":5}", HG_ANNOTATION_EXTRA_HOSTS, NULL);
}

static void test_annotation_localhost_ports(void **state)
{
	struct hg_config c;
	struct hg_error err;
	expect_valid(&c, "{\"localhostPorts\":[\"6379\"]}");
	assert_int_equal(annotate(&c, "{\"host-gateway.io/localhost-ports\":\"5432, 53/udp\"}", &err), 0);
	assert_int_equal(c.n_localhost_ports, 3);
	assert_int_equal(c.localhost_ports[0].first, 6379);
	assert_int_equal(c.localhost_ports[1].first, 5432);
	assert_int_equal(c.localhost_ports[1].proto, HG_TCP);
	assert_int_equal(c.localhost_ports[2].first, 53);
	assert_int_equal(c.localhost_ports[2].proto, HG_UDP);
	hg_config_free(&c);

	expect_annotation_invalid("{\"host-gateway.io/localhost-ports\":\"5432,0\"}", HG_ANNOTATION_LOCALHOST_PORTS,
				  "\"0\"");
	expect_annotation_invalid("{\"host-gateway.io/localhost-ports\":\"70000\"}", HG_ANNOTATION_LOCALHOST_PORTS,
				  "70000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_invalid),
		cmocka_unit_test(test_parse_name),
		cmocka_unit_test(test_host_ips),
		cmocka_unit_test(test_host_ips_invalid),
		cmocka_unit_test(test_extra_hosts),
		cmocka_unit_test(test_extra_hosts_invalid),
		cmocka_unit_test(test_parse_extra_host),
		cmocka_unit_test(test_parse_port_map),
		cmocka_unit_test(test_port_keys),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_virtual_ips),
		cmocka_unit_test(test_host_alias),
		cmocka_unit_test(test_failure_policy),
		cmocka_unit_test(test_annotations_none),
		cmocka_unit_test(test_annotation_enabled),
		cmocka_unit_test(test_annotation_names),
		cmocka_unit_test(test_annotation_extra_hosts),
		cmocka_unit_test(test_annotation_localhost_ports),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
