/* SPDX-License-Identifier: Apache-2.0 */
/* Golden tests of the generated nftables text: every rule set is compared byte for byte
 * with a file under tests/unit/golden/, so a change of the rules is a visible diff. Set
 * HG_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change. */
#include "test-helpers.h"
#include "base/nat.h"
#include "base/util.h"
#include "base/config.h"

#ifndef GOLDEN_DIR
#error GOLDEN_DIR must be defined by the build
#endif

static void check_golden(const char *name, const char *text)
{
	char *path = path_join(GOLDEN_DIR, name);
	if (getenv("HG_UPDATE_GOLDEN")) {
		file_write(path, text, strlen(text), 0644);
		free(path);
		return;
	}
	FILE *f = fopen(path, "re");
	if (!f)
		fail_msg("golden file %s is missing", path);
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (strcmp(buf, text) != 0)
		fail_msg("%s differs from the generated text:\n--- golden\n%s--- generated\n%s", path, buf, text);
	free(path);
}

static struct hg_ip ip(const char *s)
{
	struct hg_ip a;
	assert_int_equal(hg_ip_parse(s, false, &a), 0);
	return a;
}

static struct hg_port_map port(const char *s)
{
	struct hg_port_map m;
	assert_int_equal(hg_parse_port_map(s, &m), 0);
	return m;
}

static void test_no_rules_no_table(void **state)
{
	struct hg_nat_plan p = {0};
	struct hg_error err = {0};
	char *text = (char *) 1;
	p.host.ip[0] = ip("10.0.0.1");
	assert_int_equal(hg_nat_container_text(&p, &text, &err), 0);
	assert_null(text);
}

static void test_virtual_ip_v4(void **state)
{
	struct hg_nat_plan p = {0};
	struct hg_error err = {0};
	char *text = NULL;
	p.host.ip[0] = ip("10.244.7.1");
	p.vip.ip[0] = ip("169.254.1.2");
	assert_int_equal(hg_nat_container_text(&p, &text, &err), 0);
	check_golden("container-vip4.nft", text);
	free(text);
}

static void test_dual_stack_and_ports(void **state)
{
	struct hg_port_map ports[] = {port("5432"), port("8080:80"), port("53/udp"), port("8000-8002:9000-9002"),
				      port("7000-7002")};
	struct hg_nat_plan p = {.localhost_ports = ports, .n_localhost_ports = 5};
	struct hg_error err = {0};
	char *text = NULL;
	p.host.ip[0] = ip("10.244.7.1");
	p.host.ip[1] = ip("fd00:7::1");
	p.vip.ip[0] = ip("169.254.1.2");
	p.vip.ip[1] = ip("fd00:254::2");
	assert_int_equal(hg_nat_container_text(&p, &text, &err), 0);
	check_golden("container-dual-ports.nft", text);
	free(text);
}

static void test_ports_need_ipv4_host(void **state)
{
	struct hg_port_map ports[] = {port("5432")};
	struct hg_nat_plan p = {.localhost_ports = ports, .n_localhost_ports = 1};
	struct hg_error err = {0};
	char *text = NULL;
	p.host.ip[1] = ip("fd00:7::1");
	assert_int_equal(hg_nat_container_text(&p, &text, &err), -1);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "localhostPorts"));
	assert_null(text);
}

static void test_host_elements_and_texts(void **state)
{
	struct hg_port_map ports[] = {port("6379"), port("5353-5354/udp"), port("8443:443")};
	struct hg_error err = {0};
	char **elements = NULL;
	struct hg_ip c = ip("10.244.7.2"), h = ip("10.244.7.1");
	char *add = NULL, *del = NULL;
	assert_int_equal(hg_nat_host_elements("cni0", &c, &h, ports, 3, "kind/abc/eth0", &elements, &err), 0);
	assert_int_equal(strv_len(elements), 4);
	/* Without a bridge port: the host table alone. */
	assert_int_equal(hg_nat_loopback_add_text("cni0", elements, NULL, &c, "kind/abc/eth0", &add), 0);
	assert_int_equal(hg_nat_host_del_text(elements, &del), 0);
	check_golden("host-add.nft", add);
	check_golden("host-del.nft", del);
	free(add);
	free(del);
	strv_free(elements);
}

static void test_bridge_binding(void **state)
{
	struct hg_ip a = ip("10.244.7.2");
	char *host = NULL, *add = NULL, *del = NULL;
	/* The bridge table's part is what a bridge port adds after the host table's. */
	assert_int_equal(hg_nat_loopback_add_text("cni0", NULL, NULL, &a, "kind+abc+eth0", &host), 0);
	assert_int_equal(hg_nat_loopback_add_text("cni0", NULL, "veth1a2b3c4d", &a, "kind+abc+eth0", &add), 0);
	assert_int_equal(hg_nat_bridge_del_text("veth1a2b3c4d", &a, &del), 0);
	assert_int_equal(strncmp(add, host, strlen(host)), 0);
	check_golden("bridge-add.nft", add + strlen(host));
	check_golden("bridge-del.nft", del);
	free(host);
	free(add);
	free(del);
}

/* hostLoopbackPorts as applied: the whole set in one transaction, the elements alone once
 * the tables exist, and their removal. */
static void test_loopback_transactions(void **state)
{
	struct hg_port_map ports[] = {port("6379"), port("8443:443")};
	struct hg_error err = {0};
	char **elements = NULL;
	struct hg_ip c = ip("10.244.7.2"), h = ip("10.244.7.1");
	char *add = NULL, *grant = NULL, *del = NULL, *host = NULL;
	const char *host_elements, *bridge_elements;
	assert_int_equal(hg_nat_host_elements("cni0", &c, &h, ports, 2, "kind+abc+eth0", &elements, &err), 0);
	assert_int_equal(hg_nat_loopback_add_text("cni0", elements, "veth1a2b3c4d", &c, "kind+abc+eth0", &add), 0);
	assert_int_equal(hg_nat_loopback_grant_text("cni0", elements, "veth1a2b3c4d", &c, "kind+abc+eth0", &grant), 0);
	assert_int_equal(hg_nat_loopback_del_text(elements, "veth1a2b3c4d", &c, &del), 0);
	check_golden("loopback-add.nft", add);
	check_golden("loopback-grant.nft", grant);
	check_golden("loopback-del.nft", del);
	/* The whole set is exactly the host table's text followed by the bridge table's, and
	 * the elements-only text is their element statements, in the same order. */
	assert_int_equal(hg_nat_loopback_add_text("cni0", elements, NULL, &c, "kind+abc+eth0", &host), 0);
	assert_int_equal(strncmp(add, host, strlen(host)), 0);
	bridge_elements = strstr(add + strlen(host), "add element bridge");
	assert_non_null(bridge_elements);
	host_elements = strstr(host, "add element inet");
	assert_non_null(host_elements);
	assert_int_equal(strncmp(grant, host_elements, strlen(host_elements)), 0);
	assert_string_equal(grant + strlen(host_elements), bridge_elements);
	free(add);
	free(grant);
	free(del);
	free(host);
	/* Without a bridge port (ptp): the host table only. */
	assert_int_equal(hg_nat_loopback_grant_text("cni0", elements, NULL, &c, "k", &grant), 0);
	assert_null(strstr(grant, "bridge"));
	assert_int_equal(hg_nat_loopback_del_text(elements, "", &c, &del), 0);
	assert_null(strstr(del, "bridge"));
	free(grant);
	free(del);
	strv_free(elements);
}

static void test_host_elements_bounded(void **state)
{
	struct hg_port_map ports[] = {port("1-65535")};
	struct hg_error err = {0};
	char **elements = NULL;
	struct hg_ip c = ip("10.244.7.2"), h = ip("10.244.7.1");
	assert_int_equal(hg_nat_host_elements("cni0", &c, &h, ports, 1, "k", &elements, &err), -1);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "hostLoopbackPorts"));
	assert_null(elements);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rules_no_table),
		cmocka_unit_test(test_virtual_ip_v4),
		cmocka_unit_test(test_dual_stack_and_ports),
		cmocka_unit_test(test_ports_need_ipv4_host),
		cmocka_unit_test(test_host_elements_and_texts),
		cmocka_unit_test(test_host_elements_bounded),
		cmocka_unit_test(test_bridge_binding),
		cmocka_unit_test(test_loopback_transactions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
