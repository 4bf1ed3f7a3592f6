/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: firewall shapes and the rule that took a probe, from `nft -j list ruleset` output
 * captured in throwaway network namespaces (golden/doctor/: ufw's shape made with
 * iptables-nft, firewalld's table written with nft, a plain policy drop, a counted reject
 * rule; each listed right after one probe of port 8081 from a container), /proc/net/tcp
 * parsing, the hosts-name check, --port parsing and the conflist check. */
#include "test-helpers.h"
#include "ops/doctor.h"
#include "base/firewall.h"
#include "os/probe.h"
#include "base/util.h"

#ifndef GOLDEN_DIR
#error GOLDEN_DIR must be defined by the build
#endif

static json_t *fixture(const char *name)
{
	char path[512];
	json_error_t je;
	snprintf(path, sizeof(path), GOLDEN_DIR "/doctor/%s", name);
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

/* The listing before the probe: the same ruleset with every counter at 0. */
static json_t *zeroed(json_t *after)
{
	json_t *before = json_deep_copy(after), *o, *e;
	size_t i, j;
	json_array_foreach(json_object_get(before, "nftables"), i, o) {
		json_array_foreach(json_object_get(json_object_get(o, "rule"), "expr"), j, e) {
			json_t *c = json_object_get(e, "counter");
			if (c)
				json_object_set_new(c, "packets", json_integer(0));
		}
	}
	return before;
}

static void check_fix(const struct hg_fw_verdict *v, const char *iface, const char *want)
{
	char *fix = hg_fw_fix(v, iface, "tcp", 8081);
	assert_non_null(fix);
	assert_string_equal(fix, want);
	free(fix);
}

static void test_ufw(void **state)
{
	json_auto_t *after = fixture("ufw.json"), *before = zeroed(after);
	struct hg_fw_verdict v;
	assert_int_equal(hg_fw_shape_of(after, &v), HG_FW_UFW);
	assert_string_equal(v.chain, "ufw-user-input");
	assert_int_equal(hg_fw_find_dropper(before, after, &v), 1);
	assert_int_equal(v.shape, HG_FW_UFW);
	assert_string_equal(v.table, "filter");
	assert_string_equal(v.chain, "INPUT");
	assert_int_equal(v.handle, 0); /* the policy: no ufw-user-input rule accepted it */
	check_fix(&v, "veth1", "ufw allow in on veth1 to any port 8081 proto tcp");
	check_fix(&v, NULL, "ufw allow 8081/tcp");
	/* Nothing moved: no verdict from counters. */
	assert_int_equal(hg_fw_find_dropper(after, after, &v), 1); /* the policy stands */
	assert_int_equal(hg_fw_find_dropper(NULL, after, &v), 0);
}

static void test_firewalld(void **state)
{
	json_auto_t *after = fixture("firewalld.json"), *before = zeroed(after);
	struct hg_fw_verdict v;
	/* firewalld puts no counters on its rules: only the shape tells. */
	assert_int_equal(hg_fw_find_dropper(before, after, &v), 0);
	assert_int_equal(hg_fw_shape_of(after, &v), HG_FW_FIREWALLD);
	assert_string_equal(v.family, "inet");
	assert_string_equal(v.table, "firewalld");
	assert_string_equal(v.chain, "filter_INPUT");
	check_fix(&v, "cni0", "firewall-cmd --zone=trusted --add-interface=cni0"); /* no source known */
	snprintf(v.zone, sizeof(v.zone), "public");
	snprintf(v.source, sizeof(v.source), "10.88.0.5");
	check_fix(&v, "cni0",
		  "firewall-cmd --zone=public --add-rich-rule='rule family=\"ipv4\" source address=\"10.88.0.5\" port "
		  "port=\"8081\" protocol=\"tcp\" accept'");
}

static void test_policy_drop(void **state)
{
	json_auto_t *after = fixture("policy-drop.json"), *before = zeroed(after);
	struct hg_fw_verdict v;
	assert_int_equal(hg_fw_shape_of(after, &v), HG_FW_POLICY_DROP);
	assert_int_equal(hg_fw_find_dropper(before, after, &v), 1);
	assert_int_equal(v.shape, HG_FW_POLICY_DROP);
	assert_string_equal(v.chain, "input");
	check_fix(&v, "cni0", "nft insert rule inet filter input iifname \"cni0\" tcp dport 8081 accept");
}

static void test_rule_drop(void **state)
{
	json_auto_t *after = fixture("rule-drop.json"), *before = zeroed(after);
	struct hg_fw_verdict v;
	assert_int_equal(hg_fw_shape_of(after, &v), HG_FW_NONE); /* policy accept */
	assert_int_equal(hg_fw_find_dropper(before, after, &v), 1);
	assert_int_equal(v.shape, HG_FW_RULE_DROP);
	assert_int_equal(v.handle, 4);
	/* The same listing twice: the reject rule did not count this probe. */
	assert_int_equal(hg_fw_find_dropper(after, after, &v), 0);
}

static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0 100 0 0 10 0\n"
	"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0 100 0 0 10 0\n"
	"   2: 0107FB0A:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 13 1 0 100 0 0 10 0\n"
	"   3: 0207FB0A:1F92 0107FB0A:D431 01 00000000:00000000 00:00000000 00000000     0        0 14 1 0 100 0 0 10 0\n";
static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15 1 0 100 0 0 10 0\n";

static void test_listeners(void **state)
{
	struct hg_listeners l = {0};
	struct hg_ip host, lo;
	hg_ip_parse("10.251.7.1", false, &host);
	hg_ip_parse("127.0.0.1", false, &lo);
	assert_int_equal(hg_listeners_parse(tcp4, AF_INET, HG_TCP, 8080, &l), 0);
	assert_true(l.loopback);
	assert_false(l.wildcard);
	assert_false(hg_listeners_cover(&l, &host));
	assert_true(hg_listeners_cover(&l, &lo));

	memset(&l, 0, sizeof(l));
	assert_int_equal(hg_listeners_parse(tcp4, AF_INET, HG_TCP, 22, &l), 0);
	assert_true(l.wildcard);
	assert_true(hg_listeners_cover(&l, &host));

	memset(&l, 0, sizeof(l));
	assert_int_equal(hg_listeners_parse(tcp4, AF_INET, HG_TCP, 8081, &l), 0);
	assert_int_equal(l.n_other, 1);
	assert_true(hg_listeners_cover(&l, &host));

	/* An established connection is no listener. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(hg_listeners_parse(tcp4, AF_INET, HG_TCP, 8082, &l), 0);
	assert_false(l.wildcard || l.loopback || l.n_other);
	/* TCP LISTEN is not a bound UDP socket. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(hg_listeners_parse(tcp4, AF_INET, HG_UDP, 22, &l), 0);
	assert_false(l.wildcard);

	memset(&l, 0, sizeof(l));
	assert_int_equal(hg_listeners_parse(tcp6, AF_INET6, HG_TCP, 8083, &l), 0);
	assert_true(l.loopback);
	assert_int_equal(hg_listeners_parse("garbage\n", AF_INET, HG_TCP, 1, &l), -EINVAL);
	assert_int_equal(hg_listeners_parse(tcp6, AF_INET, HG_TCP, 1, &l), -EINVAL);
}

static void test_hosts_name(void **state)
{
	static const char hosts[] = "127.0.0.1\tlocalhost\n"
				    "# 10.0.0.9 host.docker.internal\n"
				    "fd00::9 host.docker.internal\n"
				    "10.9.9.9 other HOST.containers.internal # user line\n"
				    "10.0.0.1 host.containers.internal host.docker.internal\n";
	struct hg_ip v4, v6;
	char other[HG_IP_STRLEN];
	unsigned line;
	hg_ip_parse("10.0.0.1", false, &v4);
	hg_ip_parse("fd00::1", false, &v6);
	assert_int_equal(hg_doctor_hosts_name(hosts, "host.docker.internal", &v4, other, &line), HG_HOSTS_NAME_OK);
	assert_int_equal(line, 5);
	assert_int_equal(hg_doctor_hosts_name(hosts, "host.containers.internal", &v4, other, &line),
			 HG_HOSTS_NAME_SHADOWED);
	assert_string_equal(other, "10.9.9.9");
	assert_int_equal(line, 4);
	assert_int_equal(hg_doctor_hosts_name(hosts, "gateway.docker.internal", &v4, other, &line),
			 HG_HOSTS_NAME_MISSING);
	assert_int_equal(hg_doctor_hosts_name(hosts, "host.docker.internal", &v6, other, &line),
			 HG_HOSTS_NAME_SHADOWED);
	assert_string_equal(other, "fd00::9");
	assert_int_equal(hg_doctor_hosts_name(hosts, "host.containers.internal", &v6, other, &line),
			 HG_HOSTS_NAME_MISSING);
	assert_int_equal(hg_doctor_hosts_name("", "x", &v4, other, &line), HG_HOSTS_NAME_MISSING);
}

/* Lines of any length: the names past the 1023rd byte of a line are on it (glibc's
 * resolver reads the whole line), and a name is a whole token, not a prefix. */
static void test_hosts_name_long_line(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct hg_ip v4;
	char other[HG_IP_STRLEN];
	unsigned line;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	assert_non_null(f);
	fprintf(f, "127.0.0.1 localhost\n10.0.0.1");
	for (int i = 0; i < 300; i++)
		fprintf(f, " alias%03d.internal", i);
	fprintf(f, " host.docker.internal\r\n10.9.9.9 host.containers.internal.x host.containers.internal\n");
	fclose(f);
	assert_true(strchr(text + 20, '\n') - text > 4000);
	hg_ip_parse("10.0.0.1", false, &v4);
	assert_int_equal(hg_doctor_hosts_name(text, "host.docker.internal", &v4, other, &line), HG_HOSTS_NAME_OK);
	assert_int_equal(line, 2);
	assert_int_equal(hg_doctor_hosts_name(text, "alias299.internal", &v4, other, &line), HG_HOSTS_NAME_OK);
	assert_int_equal(hg_doctor_hosts_name(text, "host.containers.internal", &v4, other, &line),
			 HG_HOSTS_NAME_SHADOWED);
	assert_int_equal(line, 3);
	assert_int_equal(hg_doctor_hosts_name(text, "host.docker", &v4, other, &line), HG_HOSTS_NAME_MISSING);
	/* An address token longer than any address is no address. */
	assert_int_equal(hg_doctor_hosts_name("10.0.0.1000000000000000000000000000000000000000000000000 x\n", "x", &v4,
					      other, &line),
			 HG_HOSTS_NAME_MISSING);
}

static void test_parse_port(void **state)
{
	struct hg_doctor_port p;
	assert_int_equal(hg_doctor_parse_port("8080", &p), 0);
	assert_int_equal(p.port, 8080);
	assert_int_equal(p.proto, HG_TCP);
	assert_int_equal(hg_doctor_parse_port("53/udp", &p), 0);
	assert_int_equal(p.proto, HG_UDP);
	assert_int_equal(hg_doctor_parse_port("443/tcp", &p), 0);
	assert_int_equal(hg_doctor_parse_port("0", &p), -EINVAL);
	assert_int_equal(hg_doctor_parse_port("65536", &p), -EINVAL);
	assert_int_equal(hg_doctor_parse_port("-1", &p), -EINVAL);
	assert_int_equal(hg_doctor_parse_port("80/sctp", &p), -EINVAL);
	assert_int_equal(hg_doctor_parse_port("", &p), -EINVAL);
}

static void test_conflist(void **state)
{
	struct hg_checks c = {0};
	json_auto_t *good = json_parse("{\"plugins\": [{\"type\": \"bridge\"}, {\"type\": \"host-gateway\"}]}");
	json_auto_t *first = json_parse("{\"plugins\": [{\"type\": \"host-gateway\"}, {\"type\": \"bridge\"}]}");
	json_auto_t *none = json_parse("{\"plugins\": [{\"type\": \"bridge\"}, {\"type\": \"portmap\"}]}");
	assert_int_equal(hg_doctor_conflist_check(good, "/d/10.conflist", "/d", &c), 0);
	assert_int_equal(hg_doctor_conflist_check(first, "/d/10.conflist", "/d", &c), 0);
	assert_int_equal(hg_doctor_conflist_check(none, "/d/10.conflist", "/d", &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.v[0].status, HG_CHECK_PASS);
	assert_null(c.v[0].fix);
	assert_int_equal(c.v[1].status, HG_CHECK_FAIL);
	assert_non_null(strstr(c.v[1].message, "first plugin"));
	assert_int_equal(c.v[2].status, HG_CHECK_FAIL);
	assert_string_equal(c.v[2].fix, "host-gateway install --cni-conf-dir /d");
	assert_true(hg_checks_failed(&c));
	hg_checks_free(&c);
	assert_int_equal(c.n, 0);
}

/* The probe against a ruleset (golden/doctor/match.json: a named port set, a named prefix
 * set, anonymous sets, a reject, a limit, a jump/return/goto, a fib match). */
static int match(const char *iif, const char *saddr, const char *proto, uint16_t dport, struct hg_fw_verdict *v)
{
	json_auto_t *rs = fixture("match.json");
	struct hg_fw_probe p = {.iifname = iif, .proto = proto, .sport = 40000, .dport = dport, .local = true};
	assert_int_equal(hg_ip_parse(saddr, false, &p.saddr), 0);
	assert_int_equal(hg_ip_parse("10.251.7.1", false, &p.daddr), 0);
	return hg_fw_match_probe(NULL, rs, &p, v);
}

static void test_match_probe(void **state)
{
	struct hg_fw_verdict v;
	/* iifname "veth*" tcp dport @ports drop (8080 in the set). */
	assert_int_equal(match("veth0", "10.251.7.2", "tcp", 8080, &v), 1);
	assert_int_equal(v.handle, 9);
	assert_string_equal(v.verdict, "drop");
	assert_string_equal(v.hook, "input");
	assert_false(v.may);
	/* A port of the set's range. */
	assert_int_equal(match("veth0", "10.251.7.2", "tcp", 9005, &v), 1);
	assert_int_equal(v.handle, 9);
	/* Another interface: ip saddr 10.251.7.0/24 tcp dport { 22, 8080 } reject. */
	assert_int_equal(match("eth1", "10.251.7.2", "tcp", 8080, &v), 1);
	assert_int_equal(v.handle, 11);
	assert_string_equal(v.verdict, "reject");
	assert_int_equal(v.shape, HG_FW_RULE_DROP);
	/* ip saddr @nets (10.251.0.0/16) tcp dport 8080 reject. */
	assert_int_equal(match("eth1", "10.251.9.9", "tcp", 8080, &v), 1);
	assert_int_equal(v.handle, 12);
	/* Outside every set: the limit rule may drop it (a limit cannot be evaluated). */
	assert_int_equal(match("eth1", "10.9.0.5", "tcp", 8080, &v), 2);
	assert_int_equal(v.handle, 13);
	assert_true(v.may);
	assert_string_equal(v.unknown, "limit");
	/* Port 22: not the limit rule's; the jump returns (dport 1-100), then fib may drop it. */
	assert_int_equal(match("eth1", "10.9.0.5", "tcp", 22, &v), 2);
	assert_int_equal(v.handle, 15);
	assert_string_equal(v.unknown, "fib");
	/* From lo: the jump is not taken, fib still unknown. */
	assert_int_equal(match("lo", "10.9.0.5", "udp", 5353, &v), 2);
	assert_int_equal(v.handle, 15);
	/* No ruleset: nothing. */
	assert_int_equal(hg_fw_match_probe(NULL, NULL, NULL, &v), 0);
}

static void test_policy_drop_probe(void **state)
{
	json_auto_t *rs = fixture("policy-drop.json");
	struct hg_fw_probe p = {.iifname = "veth0", .proto = "tcp", .dport = 8081, .local = true};
	struct hg_fw_verdict v;
	hg_ip_parse("10.251.7.2", false, &p.saddr);
	hg_ip_parse("10.251.7.1", false, &p.daddr);
	assert_int_equal(hg_fw_match_probe(NULL, rs, &p, &v), 1);
	assert_int_equal(v.handle, 0);
	assert_string_equal(v.verdict, "policy drop");
	assert_int_equal(v.shape, HG_FW_POLICY_DROP);
	/* Forwarded, it meets no forward chain. */
	p.local = false;
	assert_int_equal(hg_fw_match_probe(NULL, rs, &p, &v), 0);
}

/* ufw's conntrack accept is an xt match: "may drop" from the rules alone; with the listing
 * before the probe, its counter that did not move says it did not take the probe. */
static void test_ufw_probe(void **state)
{
	json_auto_t *after = fixture("ufw.json"), *before = zeroed(after);
	struct hg_fw_probe p = {.iifname = "veth0", .proto = "tcp", .sport = 40000, .dport = 8081, .local = true};
	struct hg_fw_verdict v;
	hg_ip_parse("10.251.7.2", false, &p.saddr);
	hg_ip_parse("10.251.7.1", false, &p.daddr);
	assert_int_equal(hg_fw_match_probe(NULL, after, &p, &v), 2);
	assert_string_equal(v.unknown, "xt match conntrack");
	assert_string_equal(v.verdict, "policy drop");
	assert_int_equal(hg_fw_match_probe(before, after, &p, &v), 1);
	assert_int_equal(v.shape, HG_FW_UFW);
	assert_string_equal(v.chain, "INPUT");
	assert_false(v.may);
}

static void test_rule_text(void **state)
{
	char path[512];
	_cleanup_free_ char *text = NULL, *r = NULL, *none = NULL;
	snprintf(path, sizeof(path), GOLDEN_DIR "/doctor/match.nft");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = 0;
	assert_int_not_equal(getdelim(&text, &n, '\0', f), -1);
	fclose(f);
	r = hg_fw_rule_text(text, "inet", "myfw", "input", 11);
	assert_non_null(r);
	assert_string_equal(r, "ip saddr 10.251.7.0/24 tcp dport { 22, 8080 } reject with icmp port-unreachable");
	none = hg_fw_rule_text(text, "inet", "myfw", "sub", 11);
	assert_null(none);
	free(r);
	r = hg_fw_rule_text(text, "inet", "myfw", "sub2", 18);
	assert_string_equal(r, "ip6 saddr ::1 drop");
}

static void test_trace_verdict(void **state)
{
	json_auto_t *rs = fixture("match.json");
	struct hg_fw_trace_event ev[] = {
		{.id = 1, .type = HG_TRACE_RULE, .family = "inet", .table = "myfw", .chain = "input", .handle = 14, .verdict = -3},
		{.id = 1, .type = HG_TRACE_RETURN, .family = "inet", .table = "myfw", .chain = "sub", .verdict = -5},
		{.id = 1, .type = HG_TRACE_RULE, .family = "inet", .table = "myfw", .chain = "input", .handle = 11, .verdict = 0},
	};
	struct hg_fw_verdict v;
	assert_int_equal(hg_fw_trace_verdict(rs, ev, 2, &v), 0);
	assert_int_equal(hg_fw_trace_verdict(rs, ev, 3, &v), 1);
	assert_int_equal(v.handle, 11);
	assert_string_equal(v.verdict, "reject");
	assert_string_equal(v.hook, "input");
	struct hg_fw_trace_event pol = {.id = 2, .type = HG_TRACE_POLICY, .family = "inet", .table = "myfw",
					.chain = "input", .policy = 0};
	assert_int_equal(hg_fw_trace_verdict(rs, &pol, 1, &v), 1);
	assert_int_equal(v.handle, 0);
	assert_string_equal(v.verdict, "policy drop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ufw),	  cmocka_unit_test(test_firewalld),  cmocka_unit_test(test_policy_drop),
		cmocka_unit_test(test_rule_drop), cmocka_unit_test(test_listeners),  cmocka_unit_test(test_hosts_name),
		cmocka_unit_test(test_hosts_name_long_line),
		cmocka_unit_test(test_parse_port), cmocka_unit_test(test_conflist),
		cmocka_unit_test(test_match_probe), cmocka_unit_test(test_policy_drop_probe), cmocka_unit_test(test_ufw_probe),
		cmocka_unit_test(test_rule_text), cmocka_unit_test(test_trace_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
