/* SPDX-License-Identifier: Apache-2.0 */
/* conflist.c: which file runtimes load, parsing as libcni does, adding/replacing/removing our
 * entry, the text written (key order kept, same bytes twice). */
#include "test-helpers.h"
#include "base/conflist.h"
#include "base/util.h"

/* kindnetd's template (kind, cniVersion 0.3.1) rendered for one pod CIDR, as it writes it. */
static const char kindnet[] = "\n{\n\t\"cniVersion\": \"0.3.1\",\n\t\"name\": \"kindnet\",\n\t\"plugins\": [\n\t{\n"
			      "\t\t\"type\": \"ptp\",\n\t\t\"ipMasq\": false,\n\t\t\"ipam\": {\n"
			      "\t\t\t\"type\": \"host-local\",\n\t\t\t\"dataDir\": \"/run/cni-ipam-state\",\n"
			      "\t\t\t\"routes\": [\n\t\t\t\t\n\t\t\t\t\n\t\t\t\t{ \"dst\": \"0.0.0.0/0\" }\n\t\t\t],\n"
			      "\t\t\t\"ranges\": [\n\t\t\t\t\n\t\t\t\t\n\t\t\t\t[ { \"subnet\": \"10.244.0.0/24\" } ]\n"
			      "\t\t\t]\n\t\t}\n\t\t,\n\t\t\"mtu\": 1500\n\t\t\n\t},\n\t{\n\t\t\"type\": \"portmap\",\n"
			      "\t\t\"capabilities\": {\n\t\t\t\"portMappings\": true\n\t\t}\n\t}\n\t]\n}\n";

static json_t *parse_ok(const char *name, const char *text, bool want_converted)
{
	json_t *list = NULL;
	bool converted = !want_converted;
	struct hg_error err = {0};
	if (hg_conflist_parse(name, text, strlen(text), &list, &converted, &err) < 0)
		fail_msg("%s refused: %s", name, err.msg);
	assert_int_equal(converted, want_converted);
	return list;
}

static void parse_fails(const char *name, const char *text, const char *why)
{
	json_t *list = NULL;
	bool converted;
	struct hg_error err = {0};
	assert_int_equal(hg_conflist_parse(name, text, strlen(text), &list, &converted, &err), -1);
	assert_null(list);
	assert_contains(err.msg, name);
	assert_contains(err.msg, why);
}

static void test_file_names_as_libcni_loads_them(void **state)
{
	assert_true(hg_conflist_is_cni_name("10-kindnet.conflist"));
	assert_true(hg_conflist_is_cni_name("99-loopback.conf"));
	assert_true(hg_conflist_is_cni_name("net.json"));
	assert_true(hg_conflist_is_cni_name(".hidden.conf")); /* libcni does not skip them */
	assert_false(hg_conflist_is_cni_name("10-kindnet.conflist.temp"));
	assert_false(hg_conflist_is_cni_name("10-bridge.conf.bak"));
	assert_false(hg_conflist_is_cni_name(".host-gateway.123.tmp"));
	assert_false(hg_conflist_is_cni_name("conf"));

	char *names[] = {"README", "99-loopback.conf", "10-kindnet.conflist", "10-kindnet.conflist.temp",
			 "87-podman.conflist", NULL};
	assert_int_equal(hg_conflist_pick_primary(names), 2);
	/* Bytewise: "10-bridge.conf" before "10-bridge.conflist", upper case before lower. */
	char *names2[] = {"10-bridge.conflist", "10-bridge.conf", "10-Z.json", NULL};
	assert_int_equal(hg_conflist_pick_primary(names2), 2);
	char *none[] = {"README", "x.temp", NULL};
	assert_int_equal(hg_conflist_pick_primary(none), -1);
	assert_int_equal(hg_conflist_pick_primary(NULL), -1);
}

static void test_parse_refuses_broken_lists(void **state)
{
	json_auto_t *k = parse_ok("10-kindnet.conflist", kindnet, false);
	assert_int_equal(json_array_size(json_object_get(k, "plugins")), 2);

	parse_fails("a.conflist", "{\"cniVersion\": \"0.3.1\", \"name\": \"x\", \"plugins\": [", "not valid JSON");
	parse_fails("a.conflist", "[]", "not a JSON object");
	parse_fails("a.conflist", "{\"name\": \"x\", \"plugins\": [{\"type\": \"ptp\"}]}", "no cniVersion");
	parse_fails("a.conflist", "{\"cniVersion\": \"0.2.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"ptp\"}]}",
		    "0.2.0");
	parse_fails("a.conflist", "{\"cniVersion\": 1, \"name\": \"x\", \"plugins\": [{\"type\": \"ptp\"}]}",
		    "not a version");
	parse_fails("a.conflist", "{\"cniVersion\": \"1.0.0\", \"plugins\": [{\"type\": \"ptp\"}]}", "no network name");
	parse_fails("a.conflist", "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": []}", "no plugins");
	parse_fails("a.conflist", "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": [{\"ipam\": {}}]}",
		    "plugin 0 has no type");
	/* A list in a .conf: containerd loads .conf files as one plugin and fails on it. */
	parse_fails("a.conf", "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"ptp\"}]}",
		    "no plugin type");
	json_decref(parse_ok("a.conflist", "{\"cniVersion\": \"0.3.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"p\"}]}",
			     false));
	json_decref(parse_ok("a.conflist", "{\"cniVersion\": \"1.1.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"p\"}]}",
			     false));
}

/* A single plugin becomes what libcni's ConfListFromConf makes of it. */
static void test_single_conf_converted_to_a_list(void **state)
{
	const char *conf = "{\"cniVersion\": \"0.4.0\", \"name\": \"br\", \"type\": \"bridge\", \"bridge\": \"cni0\", "
			   "\"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.22.0.0/16\"}}";
	json_auto_t *list = parse_ok("10-bridge.conf", conf, true);
	json_auto_t *orig = json_parse(conf);
	json_auto_t *want = json_pack("{s:s, s:s, s:[O]}", "cniVersion", "0.4.0", "name", "br", "plugins", orig);
	assert_true(json_equal(list, want));
	_cleanup_free_ char *n1 = hg_conflist_converted_name("10-bridge.conf");
	_cleanup_free_ char *n2 = hg_conflist_converted_name("x.json");
	assert_string_equal(n1, "10-bridge.conflist");
	assert_string_equal(n2, "x.conflist");

	char *names[] = {"10-bridge.conf", "99-loopback.conf", NULL};
	assert_null(hg_conflist_rename_blocker(names, 0, "10-bridge.conflist"));
	/* Between the old and the new name: that file would be loaded first after the rename. */
	char *between[] = {"10-bridge.conf", "10-bridge.conf.d.conf", NULL};
	assert_string_equal(hg_conflist_rename_blocker(between, 0, "10-bridge.conflist"), "10-bridge.conf.d.conf");
	char *taken[] = {"10-bridge.conf", "10-bridge.conflist", NULL};
	assert_string_equal(hg_conflist_rename_blocker(taken, 0, "10-bridge.conflist"), "10-bridge.conflist");

	parse_fails("a.conf", "{\"cniVersion\": \"0.4.0\", \"type\": \"bridge\"}", "no network name");
	parse_fails("a.json", "{\"cniVersion\": \"0.1.0\", \"name\": \"x\", \"type\": \"bridge\"}", "0.1.0");
}

static void test_add_replace_remove(void **state)
{
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	json_auto_t *list = parse_ok("10-kindnet.conflist", kindnet, false);
	json_auto_t *orig = json_deep_copy(list);
	struct hg_error err = {0};

	assert_int_equal(hg_conflist_has(list, entry, &err), -1);
	assert_contains(err.msg, "no host-gateway entry");
	assert_int_equal(hg_conflist_add(list, entry, &err), 1);
	json_t *plugins = json_object_get(list, "plugins");
	assert_int_equal(json_array_size(plugins), 3);
	assert_true(json_equal(json_array_get(plugins, 2), entry));
	assert_int_equal(hg_conflist_has(list, entry, &err), 0);
	/* Again: nothing to do. */
	assert_int_equal(hg_conflist_add(list, entry, &err), 0);
	assert_int_equal(json_array_size(plugins), 3);

	/* Another configuration of ours replaces the entry in its place. */
	json_auto_t *other = json_parse("{\"type\": \"host-gateway\", \"names\": [\"h.local\"]}");
	assert_int_equal(hg_conflist_has(list, other, &err), -1);
	assert_contains(err.msg, "differs");
	assert_int_equal(hg_conflist_add(list, other, &err), 1);
	assert_int_equal(json_array_size(plugins), 3);
	assert_true(json_equal(json_array_get(plugins, 2), other));

	/* Two of ours (by hand): one is left, where the first was. */
	json_array_insert_new(plugins, 1, json_deep_copy(entry));
	assert_int_equal(hg_conflist_has(list, other, &err), -1);
	assert_contains(err.msg, "2 host-gateway entries");
	assert_int_equal(hg_conflist_add(list, other, &err), 1);
	assert_int_equal(json_array_size(plugins), 3);
	assert_true(json_equal(json_array_get(plugins, 1), other));
	assert_string_equal(json_string_value(json_object_get(json_array_get(plugins, 2), "type")), "portmap");

	/* Removed: the rest is what it was. */
	assert_int_equal(hg_conflist_remove(list, &err), 1);
	assert_true(json_equal(list, orig));
	assert_int_equal(hg_conflist_remove(list, &err), 0);
	assert_true(json_equal(list, orig));
}

static void test_only_ours(void **state)
{
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	json_auto_t *list = json_parse("{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"plugins\": [{\"type\": \"host-gateway\"}]}");
	struct hg_error err = {0};
	assert_int_equal(hg_conflist_add(list, entry, &err), -1);
	assert_contains(err.msg, "nothing to chain after");
	assert_int_equal(hg_conflist_remove(list, &err), -1);
	assert_contains(err.msg, "empty list");
	/* A .conf of our type alone converts, then is refused the same way. */
	json_auto_t *conv = parse_ok("00-hg.conf", "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"type\": \"host-gateway\"}",
				     true);
	assert_int_equal(hg_conflist_add(conv, entry, &err), -1);
}

/* Keys keep the order read, the output is stable, and the content JSON-equal. */
static void test_dump_keeps_key_order_and_final_newline(void **state)
{
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	json_auto_t *list = parse_ok("10-kindnet.conflist", kindnet, false);
	struct hg_error err = {0};
	assert_int_equal(hg_conflist_add(list, entry, &err), 1);
	_cleanup_free_ char *text = hg_conflist_dump(list);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	const char *order[] = {"\"cniVersion\"", "\"name\"", "\"plugins\"", "\"ptp\"", "\"ipMasq\"", "\"ipam\"",
			       "\"dataDir\"", "\"routes\"", "\"ranges\"", "\"mtu\"", "\"portmap\"", "\"host-gateway\""};
	const char *at = text;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const char *p = strstr(at, order[i]);
		if (!p)
			fail_msg("%s missing or out of order in:\n%s", order[i], text);
		at = p;
	}
	/* Read back and chained again: the same bytes. */
	json_auto_t *again = parse_ok("10-kindnet.conflist", text, false);
	assert_int_equal(hg_conflist_add(again, entry, &err), 0);
	_cleanup_free_ char *text2 = hg_conflist_dump(again);
	assert_string_equal(text, text2);
	assert_int_equal(hg_conflist_remove(again, &err), 1);
	json_auto_t *orig = parse_ok("10-kindnet.conflist", kindnet, false);
	assert_true(json_equal(again, orig));
}

static void test_check_entry(void **state)
{
	struct hg_error err = {0};
	json_auto_t *ok = json_parse("{\"type\": \"host-gateway\", \"virtualIPs\": [\"169.254.1.2\"], \"stateDir\": \"/x\"}");
	assert_int_equal(hg_conflist_check_entry(ok, &err), 0);
	json_auto_t *d = json_parse(HG_DEFAULT_ENTRY);
	assert_int_equal(hg_conflist_check_entry(d, &err), 0);
	json_auto_t *other = json_parse("{\"type\": \"bridge\"}");
	assert_int_equal(hg_conflist_check_entry(other, &err), -1);
	assert_contains(err.msg, "\"type\": \"host-gateway\"");
	json_auto_t *arr = json_parse("[]");
	assert_int_equal(hg_conflist_check_entry(arr, &err), -1);
	/* The plugin's own parser: what ADD would refuse is refused now. */
	json_auto_t *bad = json_parse("{\"type\": \"host-gateway\", \"localhostPorts\": [\"99999\"]}");
	assert_int_equal(hg_conflist_check_entry(bad, &err), -1);
	assert_contains(err.msg, "localhostPorts");
	json_auto_t *alias = json_parse("{\"type\": \"host-gateway\", \"hostAlias\": true}");
	assert_int_equal(hg_conflist_check_entry(alias, &err), -1);
	assert_contains(err.msg, "hostAlias");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_names_as_libcni_loads_them),		   cmocka_unit_test(test_parse_refuses_broken_lists),
		cmocka_unit_test(test_single_conf_converted_to_a_list),		   cmocka_unit_test(test_add_replace_remove),
		cmocka_unit_test(test_only_ours),	   cmocka_unit_test(test_dump_keeps_key_order_and_final_newline),
		cmocka_unit_test(test_check_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
