/* SPDX-License-Identifier: Apache-2.0 */
/* hostaddr.c: which address the host has for a container, per family, and which lookups
 * that choice needs. */
#include "test-helpers.h"
#include "base/hostaddr.h"
#include "base/config.h"

static struct hg_ip ip(const char *s)
{
	struct hg_ip a;
	assert_int_equal(hg_ip_parse(s, true, &a), 0);
	return a;
}

/* A container with the given addresses (NULL: none of that family) and prevResult gateways. */
static void container(struct hg_container_net *cn, const char *addr4, const char *addr6, const char *gw4,
		      const char *gw6)
{
	memset(cn, 0, sizeof(*cn));
	if (addr4)
		cn->addrs[cn->n_addrs++] = ip(addr4);
	if (addr6)
		cn->addrs[cn->n_addrs++] = ip(addr6);
	if (gw4)
		cn->gateways[0] = ip(gw4);
	if (gw6)
		cn->gateways[1] = ip(gw6);
}

static void gateways(struct hg_gateway gw[2], const char *gw4, const char *gw6)
{
	memset(gw, 0, 2 * sizeof(*gw));
	if (gw4) {
		gw[0].ip = ip(gw4);
		gw[0].ip.prefix = 0; /* as a route's gateway comes back: the choice must not keep it */
		gw[0].ifindex = 2;
	}
	if (gw6) {
		gw[1].ip = ip(gw6);
		gw[1].ip.prefix = 0;
		gw[1].ifindex = 2;
	}
}

/* A config whose hostIPs is the JSON array text. */
static void config(struct hg_config *c, const char *host_ips, const char *virtual_ips)
{
	char text[512];
	struct hg_error err = {0};
	assert_int_equal(hg_config_init(c), 0);
	snprintf(text, sizeof(text), "{\"hostIPs\":%s%s%s}", host_ips, virtual_ips ? ",\"virtualIPs\":" : "",
		 virtual_ips ? virtual_ips : "");
	json_t *j = json_parse(text);
	if (hg_config_load_json(c, j, false, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	json_decref(j);
}

/* out->ip[slot] must be want (NULL: none), as a plain address with a full prefix. */
static void assert_slot(const struct hg_host_addrs *out, int slot, const char *want)
{
	char buf[HG_IP_STRLEN];
	if (!want) {
		if (out->ip[slot].family != 0)
			fail_msg("slot %d: expected none, got %s", slot, hg_ip_str(&out->ip[slot], buf));
		return;
	}
	struct hg_ip w = ip(want);
	assert_int_equal(out->ip[slot].family, w.family);
	assert_string_equal(hg_ip_str(&out->ip[slot], buf), want);
	assert_int_equal(out->ip[slot].prefix, w.family == AF_INET ? 32 : 128);
}

static void choose(const char *host_ips, const struct hg_container_net *cn, const struct hg_gateway *netns_gw,
		   const struct hg_gateway *node_gw, struct hg_host_addrs *out)
{
	struct hg_config c;
	config(&c, host_ips, NULL);
	memset(out, 0x5a, sizeof(*out)); /* everything must be written */
	hg_hostaddr_choose(&c, cn, netns_gw, node_gw, out);
	hg_config_free(&c);
}

static void needs(const char *host_ips, const struct hg_container_net *cn, bool want_netns, bool want_node)
{
	struct hg_config c;
	bool netns = !want_netns, node = !want_node;
	config(&c, host_ips, NULL);
	hg_hostaddr_needs(&c, cn, &netns, &node);
	if (netns != want_netns || node != want_node)
		fail_msg("hostIPs %s: netns_routes %d node_routes %d, expected %d %d", host_ips, netns, node, want_netns,
			 want_node);
	hg_config_free(&c);
}

static void test_has_family(void **state)
{
	struct hg_container_net cn;
	container(&cn, "10.0.0.5/24", NULL, NULL, NULL);
	assert_true(hg_container_has_family(&cn, AF_INET));
	assert_false(hg_container_has_family(&cn, AF_INET6));
	container(&cn, NULL, "fd00::5/64", NULL, NULL);
	assert_false(hg_container_has_family(&cn, AF_INET));
	assert_true(hg_container_has_family(&cn, AF_INET6));
	container(&cn, NULL, NULL, NULL, NULL);
	assert_false(hg_container_has_family(&cn, AF_INET));
	assert_false(hg_container_has_family(&cn, AF_INET6));
}

static void test_v4_only(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2], node_gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", NULL, "10.0.0.1", "fd00::1");
	gateways(netns_gw, "10.0.0.254", "fd00::fe");
	gateways(node_gw, "192.168.1.1", "fd99::1");
	choose("[\"auto\",\"fd00::42\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "10.0.0.1");
	assert_slot(&out, 1, NULL); /* even with an IPv6 gateway and an IPv6 literal around */
}

static void test_v6_only(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2];
	struct hg_host_addrs out;
	container(&cn, NULL, "fd00::5/64", "10.0.0.1", "fd00::1");
	gateways(netns_gw, "10.0.0.254", "fd00::fe");
	choose("[\"192.168.1.10\",\"auto\"]", &cn, netns_gw, netns_gw, &out);
	assert_slot(&out, 0, NULL);
	assert_slot(&out, 1, "fd00::1");
}

static void test_dual(void **state)
{
	struct hg_container_net cn;
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	choose("[\"auto\"]", &cn, NULL, NULL, &out);
	assert_slot(&out, 0, "10.0.0.1");
	assert_slot(&out, 1, "fd00::1");
}

static void test_none(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway gw[2];
	struct hg_host_addrs out;
	container(&cn, NULL, NULL, "10.0.0.1", "fd00::1");
	gateways(gw, "10.0.0.254", "fd00::fe");
	choose("[\"auto\",\"node-gateway\",\"192.168.1.10\",\"fd00::42\"]", &cn, gw, gw, &out);
	assert_slot(&out, 0, NULL);
	assert_slot(&out, 1, NULL);
	needs("[\"auto\",\"node-gateway\"]", &cn, false, false);
}

static void test_auto_prevresult_gateway(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", NULL, "10.0.0.1", NULL);
	gateways(netns_gw, "10.0.0.254", NULL);
	/* prevResult's gateway comes before the netns default route. */
	choose("[\"auto\"]", &cn, netns_gw, NULL, &out);
	assert_slot(&out, 0, "10.0.0.1");
	needs("[\"auto\"]", &cn, false, false);
}

static void test_auto_netns_fallback(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", NULL, "fd00::1");
	gateways(netns_gw, "10.0.0.254", "fd00::fe");
	choose("[\"auto\"]", &cn, netns_gw, NULL, &out);
	assert_slot(&out, 0, "10.0.0.254"); /* no IPv4 gateway in prevResult: the netns route */
	assert_slot(&out, 1, "fd00::1");    /* IPv6 gateway in prevResult wins */
	needs("[\"auto\"]", &cn, true, false);

	/* No gateway anywhere: nothing. */
	container(&cn, "10.0.0.5/24", NULL, NULL, NULL);
	gateways(netns_gw, NULL, NULL);
	choose("[\"auto\"]", &cn, netns_gw, NULL, &out);
	assert_slot(&out, 0, NULL);
	choose("[\"auto\"]", &cn, NULL, NULL, &out);
	assert_slot(&out, 0, NULL);
}

static void test_node_gateway(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2], node_gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	gateways(netns_gw, "10.0.0.254", "fd00::fe");
	gateways(node_gw, "192.168.1.1", NULL);
	choose("[\"node-gateway\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.168.1.1");
	assert_slot(&out, 1, NULL); /* the node has no IPv6 default route */
	needs("[\"node-gateway\"]", &cn, false, true);

	/* Not looked up (NULL): nothing, without crashing. */
	choose("[\"node-gateway\"]", &cn, netns_gw, NULL, &out);
	assert_slot(&out, 0, NULL);
	assert_slot(&out, 1, NULL);
}

static void test_literal(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	gateways(gw, "10.0.0.254", "fd00::fe");
	choose("[\"192.168.1.10\"]", &cn, gw, gw, &out);
	assert_slot(&out, 0, "192.168.1.10");
	assert_slot(&out, 1, NULL); /* no entry yields IPv6 */
	needs("[\"192.168.1.10\"]", &cn, false, false);

	choose("[\"fd00::42\",\"192.168.1.10\"]", &cn, gw, gw, &out);
	assert_slot(&out, 0, "192.168.1.10");
	assert_slot(&out, 1, "fd00::42");
	needs("[\"fd00::42\",\"192.168.1.10\"]", &cn, false, false);
}

static void test_fallback_order(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway netns_gw[2], node_gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	gateways(netns_gw, "10.0.0.254", "fd00::fe");
	gateways(node_gw, "192.168.1.1", "fd99::1");

	/* The first entry that yields an address wins, per family. */
	choose("[\"node-gateway\",\"auto\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.168.1.1");
	assert_slot(&out, 1, "fd99::1");
	choose("[\"auto\",\"node-gateway\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "10.0.0.1");
	assert_slot(&out, 1, "fd00::1");
	choose("[\"192.0.2.1\",\"auto\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.0.2.1");
	assert_slot(&out, 1, "fd00::1"); /* the literal is IPv4: IPv6 falls through to auto */
	choose("[\"fd00::42\",\"node-gateway\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.168.1.1");
	assert_slot(&out, 1, "fd00::42");

	/* An entry that yields nothing falls through to the next. */
	container(&cn, "10.0.0.5/24", "fd00::5/64", NULL, NULL);
	gateways(netns_gw, NULL, NULL);
	choose("[\"auto\",\"node-gateway\",\"192.0.2.1\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.168.1.1");
	assert_slot(&out, 1, "fd99::1");
	gateways(node_gw, NULL, "fd99::1");
	choose("[\"auto\",\"node-gateway\",\"192.0.2.1\"]", &cn, netns_gw, node_gw, &out);
	assert_slot(&out, 0, "192.0.2.1");
	assert_slot(&out, 1, "fd99::1");
}

static void test_wrong_family_in_slot_ignored(void **state)
{
	struct hg_container_net cn;
	struct hg_gateway gw[2];
	struct hg_host_addrs out;
	container(&cn, "10.0.0.5/24", NULL, NULL, NULL);
	/* An IPv6 gateway in the IPv4 slot is never handed out as IPv4. */
	memset(gw, 0, sizeof(gw));
	gw[0].ip = ip("fd00::fe");
	choose("[\"auto\",\"node-gateway\"]", &cn, gw, gw, &out);
	assert_slot(&out, 0, NULL);
	assert_slot(&out, 1, NULL);
}

static void test_needs(void **state)
{
	struct hg_container_net cn;
	/* auto without a prevResult gateway may come up empty: later entries are looked up too. */
	container(&cn, "10.0.0.5/24", NULL, NULL, NULL);
	needs("[\"auto\",\"node-gateway\"]", &cn, true, true);
	/* auto with a gateway settles it: nothing after it is needed. */
	container(&cn, "10.0.0.5/24", NULL, "10.0.0.1", NULL);
	needs("[\"auto\",\"node-gateway\"]", &cn, false, false);
	/* A literal of the family settles it. */
	needs("[\"10.9.9.9\",\"node-gateway\",\"auto\"]", &cn, false, false);
	/* A literal of another family does not. */
	needs("[\"fd00::9\",\"node-gateway\"]", &cn, false, true);
	/* Dual stack: IPv6 has no gateway in prevResult and the IPv4 literal does not help it. */
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", NULL);
	needs("[\"10.9.9.9\",\"auto\"]", &cn, true, false);
	needs("[\"10.9.9.9\",\"node-gateway\"]", &cn, false, true);
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	needs("[\"auto\"]", &cn, false, false);
}

static void targets(const char *virtual_ips, const struct hg_container_net *cn, const struct hg_host_addrs *host,
		    struct hg_host_addrs *out)
{
	struct hg_config c;
	config(&c, "[\"auto\"]", virtual_ips);
	memset(out, 0x5a, sizeof(*out));
	hg_hostaddr_targets(&c, cn, host, out);
	hg_config_free(&c);
}

static void test_targets(void **state)
{
	struct hg_container_net cn;
	struct hg_host_addrs host, out;
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", "fd00::1");
	choose("[\"auto\"]", &cn, NULL, NULL, &host);

	/* Without virtualIPs the names resolve to the host addresses. */
	targets(NULL, &cn, &host, &out);
	assert_slot(&out, 0, "10.0.0.1");
	assert_slot(&out, 1, "fd00::1");

	/* A virtual IP replaces its family only. */
	targets("[\"169.254.1.1\"]", &cn, &host, &out);
	assert_slot(&out, 0, "169.254.1.1");
	assert_slot(&out, 1, "fd00::1");
	targets("[\"fd00:abcd::1\",\"169.254.1.1\"]", &cn, &host, &out);
	assert_slot(&out, 0, "169.254.1.1");
	assert_slot(&out, 1, "fd00:abcd::1");

	/* Never a family the container lacks, virtual or not. */
	container(&cn, "10.0.0.5/24", NULL, "10.0.0.1", NULL);
	choose("[\"auto\"]", &cn, NULL, NULL, &host);
	targets("[\"fd00:abcd::1\",\"169.254.1.1\"]", &cn, &host, &out);
	assert_slot(&out, 0, "169.254.1.1");
	assert_slot(&out, 1, NULL);
	host.ip[1] = ip("fd00::1"); /* even if the caller's host addresses had one */
	targets("[\"fd00:abcd::1\"]", &cn, &host, &out);
	assert_slot(&out, 0, "10.0.0.1");
	assert_slot(&out, 1, NULL);

	/* No host address of a family: no virtual IP for it either (it could not be reached). */
	container(&cn, "10.0.0.5/24", "fd00::5/64", "10.0.0.1", NULL);
	choose("[\"auto\"]", &cn, NULL, NULL, &host);
	targets("[\"fd00:abcd::1\",\"169.254.1.1\"]", &cn, &host, &out);
	assert_slot(&out, 0, "169.254.1.1");
	assert_slot(&out, 1, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has_family),
		cmocka_unit_test(test_v4_only),
		cmocka_unit_test(test_v6_only),
		cmocka_unit_test(test_dual),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_auto_prevresult_gateway),
		cmocka_unit_test(test_auto_netns_fallback),
		cmocka_unit_test(test_node_gateway),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_fallback_order),
		cmocka_unit_test(test_wrong_family_in_slot_ignored),
		cmocka_unit_test(test_needs),
		cmocka_unit_test(test_targets),
	};
	return cmocka_run_group_tests_name("hostaddr", tests, NULL, NULL);
}
