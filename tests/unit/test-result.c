/* SPDX-License-Identifier: Apache-2.0 */
/* result.c: reading the container's addresses and gateways from a prevResult. */
#include "test-helpers.h"
#include "plugin/result.h"

static int parse(const char *text, const char *ifname, struct hg_container_net *cn, struct hg_error *err)
{
	json_t *j = json_parse(text);
	memset(cn, 0x5a, sizeof(*cn)); /* everything must be written */
	memset(err, 0, sizeof(*err));
	int r = hg_result_container_net(j, ifname, cn, err);
	json_decref(j);
	return r;
}

static void expect_ok(const char *text, const char *ifname, struct hg_container_net *cn)
{
	struct hg_error err;
	if (parse(text, ifname, cn, &err) != 0)
		fail_msg("refused: %s: %s", text, err.msg);
}

static void expect_decode_error(const char *text, const char *what)
{
	struct hg_container_net cn;
	struct hg_error err;
	if (parse(text, "eth0", &cn, &err) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.code, HG_CNI_DECODE);
	assert_contains(err.msg, "prevResult");
	if (what)
		assert_contains(err.msg, what);
}

static void assert_cidr(const struct hg_ip *ip, const char *want)
{
	char buf[HG_IP_STRLEN];
	assert_string_equal(hg_ip_cidr(ip, buf), want);
}

static void assert_gw(const struct hg_container_net *cn, int slot, const char *want)
{
	char buf[HG_IP_STRLEN];
	if (!want) {
		assert_int_equal(cn->gateways[slot].family, 0);
		return;
	}
	assert_int_equal(cn->gateways[slot].family, slot ? AF_INET6 : AF_INET);
	assert_string_equal(hg_ip_str(&cn->gateways[slot], buf), want);
}

/* What kindnet's ptp + host-local write at 0.3.1: "version" in ips, host veth first. */
static void test_v031_ptp(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"cniVersion\":\"0.3.1\","
		  "\"interfaces\":[{\"name\":\"veth1234\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"
		  "{\"name\":\"eth0\",\"mac\":\"11:22:33:44:55:66\",\"sandbox\":\"/var/run/netns/cni-1\"}],"
		  "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\"}],"
		  "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}",
		  "eth0", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_cidr(&cn.addrs[0], "10.244.1.5/24");
	assert_gw(&cn, 0, "10.244.1.1");
	assert_gw(&cn, 1, NULL);
}

static void test_v100(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"cniVersion\":\"1.0.0\","
		  "\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"
		  "{\"name\":\"vethab\",\"mac\":\"aa:bb:cc:dd:ee:00\"},"
		  "{\"name\":\"eth0\",\"mac\":\"11:22:33:44:55:66\",\"sandbox\":\"/var/run/netns/x\"}],"
		  "\"ips\":[{\"interface\":2,\"address\":\"10.88.0.7/16\",\"gateway\":\"10.88.0.1\"}]}",
		  "eth0", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_cidr(&cn.addrs[0], "10.88.0.7/16");
	assert_gw(&cn, 0, "10.88.0.1");
	assert_gw(&cn, 1, NULL);
}

static void test_dual_stack(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"cniVersion\":\"1.0.0\","
		  "\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/proc/42/ns/net\"}],"
		  "\"ips\":[{\"interface\":0,\"address\":\"10.88.0.7/16\",\"gateway\":\"10.88.0.1\"},"
		  "{\"interface\":0,\"address\":\"fd00:88::7/64\",\"gateway\":\"fd00:88::1\"},"
		  "{\"interface\":0,\"address\":\"10.99.0.7/16\",\"gateway\":\"10.99.0.1\"}]}",
		  "eth0", &cn);
	assert_int_equal(cn.n_addrs, 3);
	assert_cidr(&cn.addrs[0], "10.88.0.7/16");
	assert_cidr(&cn.addrs[1], "fd00:88::7/64");
	assert_cidr(&cn.addrs[2], "10.99.0.7/16");
	assert_gw(&cn, 0, "10.88.0.1"); /* the first gateway of a family */
	assert_gw(&cn, 1, "fd00:88::1");
}

static void test_other_interfaces_ignored(void **state)
{
	struct hg_container_net cn;
	const char *text = "{\"cniVersion\":\"1.0.0\","
			   "\"interfaces\":[{\"name\":\"eth0\"},"                        /* host side, same name */
			   "{\"name\":\"net1\",\"sandbox\":\"/var/run/netns/x\"},"       /* another container iface */
			   "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/x\"},"
			   "{\"name\":\"eth0\",\"sandbox\":\"\"}],"                      /* empty sandbox: host */
			   "\"ips\":[{\"interface\":0,\"address\":\"192.168.0.1/24\",\"gateway\":\"192.168.0.254\"},"
			   "{\"interface\":1,\"address\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"},"
			   "{\"interface\":2,\"address\":\"10.2.0.5/24\"},"
			   "{\"interface\":3,\"address\":\"10.3.0.5/24\",\"gateway\":\"10.3.0.1\"}]}";
	expect_ok(text, "eth0", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_cidr(&cn.addrs[0], "10.2.0.5/24");
	assert_gw(&cn, 0, NULL); /* the gateways of the other interfaces are not ours */
	assert_gw(&cn, 1, NULL);

	expect_ok(text, "net1", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_cidr(&cn.addrs[0], "10.1.0.5/24");
	assert_gw(&cn, 0, "10.1.0.1");

	expect_ok(text, "eth1", &cn);
	assert_int_equal(cn.n_addrs, 0);
}

static void test_ip_without_interface(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\"}]}", "eth0", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_cidr(&cn.addrs[0], "10.0.0.5/24");
	assert_gw(&cn, 0, "10.0.0.1");
}

static void test_missing_gateway(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
		  "\"ips\":[{\"interface\":0,\"address\":\"10.0.0.5/24\"},{\"interface\":0,\"address\":\"fd00::5/64\"}]}",
		  "eth0", &cn);
	assert_int_equal(cn.n_addrs, 2);
	assert_gw(&cn, 0, NULL);
	assert_gw(&cn, 1, NULL);
}

static void test_gateway_of_other_family_ignored(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"fd00::1\"}]}", "eth0", &cn);
	assert_int_equal(cn.n_addrs, 1);
	assert_gw(&cn, 0, NULL);
	assert_gw(&cn, 1, NULL);
}

static void test_no_ips(void **state)
{
	struct hg_container_net cn;
	expect_ok("{\"cniVersion\":\"1.0.0\"}", "eth0", &cn);
	assert_int_equal(cn.n_addrs, 0);
	assert_gw(&cn, 0, NULL);
	assert_gw(&cn, 1, NULL);
	expect_ok("{\"ips\":[],\"interfaces\":[]}", "eth0", &cn);
	assert_int_equal(cn.n_addrs, 0);
}

static void test_many_addresses_capped(void **state)
{
	char text[8192];
	int n = snprintf(text, sizeof(text), "{\"ips\":[");
	for (int i = 0; i < 40; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s{\"address\":\"10.0.%d.5/24\"}", i ? "," : "", i);
	snprintf(text + n, sizeof(text) - n, "]}");
	struct hg_container_net cn;
	expect_ok(text, "eth0", &cn);
	assert_int_equal(cn.n_addrs, HG_MAX_CONTAINER_ADDRS);
	assert_cidr(&cn.addrs[HG_MAX_CONTAINER_ADDRS - 1], "10.0.15.5/24");
}

static void test_malformed(void **state)
{
	expect_decode_error("{\"ips\":{}}", "ips");
	expect_decode_error("{\"ips\":[{\"gateway\":\"10.0.0.1\"}]}", "address");
	expect_decode_error("{\"ips\":[{\"address\":\"bogus/24\"}]}", "address");
	expect_decode_error("{\"ips\":[{\"address\":\"10.0.0.5/33\"}]}", "address");
	expect_decode_error("{\"ips\":[{\"address\":5}]}", "address");
	expect_decode_error("{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"bogus\"}]}", "gateway");
	expect_decode_error("{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1/24\"}]}", "gateway");
	expect_decode_error("{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			    "\"ips\":[{\"interface\":5,\"address\":\"10.0.0.5/24\"}]}",
			    "interface");
	expect_decode_error("{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			    "\"ips\":[{\"interface\":-1,\"address\":\"10.0.0.5/24\"}]}",
			    "interface");
	expect_decode_error("{\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/x\"}],"
			    "\"ips\":[{\"interface\":\"0\",\"address\":\"10.0.0.5/24\"}]}",
			    "interface");
	expect_decode_error("{\"ips\":[{\"interface\":0,\"address\":\"10.0.0.5/24\"}]}", "interface");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v031_ptp),
		cmocka_unit_test(test_v100),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_other_interfaces_ignored),
		cmocka_unit_test(test_ip_without_interface),
		cmocka_unit_test(test_missing_gateway),
		cmocka_unit_test(test_gateway_of_other_family_ignored),
		cmocka_unit_test(test_no_ips),
		cmocka_unit_test(test_many_addresses_capped),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}
