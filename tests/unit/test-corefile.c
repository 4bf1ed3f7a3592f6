/* CoreDNS Corefile edits (lib/corefile.c): the real default Corefiles of kubeadm (kind runs
 * kubeadm) and k3s, and a few shapes around them, against golden files under
 * golden/corefile/ (NAME.in edited into NAME.out); every edit must be idempotent. Set
 * HG_UPDATE_GOLDEN=1 to rewrite the .out files after a deliberate change.
 * tests/integration/cni/corefile-cli.sh runs the same cases through the binary. */
#include "test-helpers.h"
#include "corefile.h"
#include "util.h"

#ifndef GOLDEN_DIR
#error GOLDEN_DIR must be defined by the build
#endif

static char *golden_path(const char *name)
{
	return path_join(GOLDEN_DIR "/corefile", name);
}

static void check_golden(const char *name, const char *text)
{
	char *path = golden_path(name);
	if (getenv("HG_UPDATE_GOLDEN")) {
		file_write(path, text, strlen(text), 0644);
		free(path);
		return;
	}
	if (access(path, F_OK) != 0)
		fail_msg("golden file %s is missing", path);
	char *want = file_read(path, NULL);
	if (strcmp(want, text) != 0)
		fail_msg("%s differs from the generated text:\n--- golden\n%s--- generated\n%s", path, want, text);
	free(want);
	free(path);
}

/* A spec from "--ip"/"--name" style lists; names NULL = the defaults. */
static void spec_make(struct hg_corefile_spec *s, const char *const *ips, const char *const *names)
{
	struct hg_error err = {0};
	memset(s, 0, sizeof(*s));
	for (; *ips; ips++)
		assert_int_equal(hg_corefile_spec_add_ip(s, *ips, &err), 0);
	for (; names && *names; names++)
		assert_int_equal(hg_corefile_spec_add_name(s, *names, &err), 0);
	assert_int_equal(hg_corefile_spec_finish(s, &err), 0);
}

static char *edit_ok(const char *in, const struct hg_corefile_spec *s)
{
	struct hg_error err = {0};
	char *out = NULL;
	if (hg_corefile_edit(in, strlen(in), s, &out, &err) < 0)
		fail_msg("edit failed: %s", err.msg);
	/* Idempotent: the output edited again is the output. */
	char *again = NULL;
	if (hg_corefile_edit(out, strlen(out), s, &again, &err) < 0)
		fail_msg("second edit failed: %s", err.msg);
	if (strcmp(out, again) != 0)
		fail_msg("not idempotent:\n--- first\n%s--- second\n%s", out, again);
	free(again);
	return out;
}

static void edit_fails(const char *in, size_t len, const struct hg_corefile_spec *s, const char *msg)
{
	struct hg_error err = {0};
	char *out = NULL;
	assert_int_equal(hg_corefile_edit(in, len, s, &out, &err), -1);
	assert_null(out);
	assert_contains(err.msg, msg);
}

static const char *const vip4[] = {"169.254.1.2", NULL};

/* One golden case: NAME.in edited with ips and names must give NAME.out. The same table is
 * in tests/integration/cni/corefile-cli.sh. */
static void golden_case(const char *name, const char *const *ips, const char *const *names)
{
	struct hg_corefile_spec s;
	char in_name[64], out_name[64];
	snprintf(in_name, sizeof(in_name), "%s.in", name);
	snprintf(out_name, sizeof(out_name), "%s.out", name);
	char *path = golden_path(in_name);
	char *in = file_read(path, NULL);
	spec_make(&s, ips, names);
	char *out = edit_ok(in, &s);
	check_golden(out_name, out);
	free(out);
	free(in);
	free(path);
	hg_corefile_spec_free(&s);
}

static void test_kubeadm(void **state) { golden_case("kubeadm", vip4, NULL); }

/* k3s's main block has its NodeHosts hosts block: our line goes into it. */
static void test_k3s(void **state) { golden_case("k3s", vip4, NULL); }

/* Our line of an earlier run with another VIP is replaced, the user's line stays. */
static void test_hosts_old_vip(void **state) { golden_case("hosts-old-vip", vip4, NULL); }

/* A tab-indented file, dual stack, own names; the comment above `forward` stays with it. */
static void test_tabs(void **state)
{
	static const char *const ips[] = {"169.254.1.2", "fd00:254::2", NULL};
	static const char *const names[] = {"host.docker.internal", "registry.host", NULL};
	golden_case("tabs", ips, names);
}

/* Another server block first (with its own hosts block, left alone), the main one as
 * dns://. without forward: the new block goes before its '}'. */
static void test_multi_block(void **state) { golden_case("multi-block", vip4, NULL); }

static void test_no_main_block(void **state)
{
	struct hg_corefile_spec s;
	char *path = golden_path("no-main.in");
	size_t len;
	char *in = file_read(path, &len);
	spec_make(&s, vip4, NULL);
	edit_fails(in, len, &s, "no main server block");
	free(in);
	free(path);
	hg_corefile_spec_free(&s);
}

static void test_unbalanced(void **state)
{
	struct hg_corefile_spec s;
	char *path = golden_path("unbalanced.in");
	size_t len;
	char *in = file_read(path, &len);
	spec_make(&s, vip4, NULL);
	edit_fails(in, len, &s, "line 1: this '{' is never closed (unbalanced braces; the last '{' opened is on line 6)");
	free(in);
	free(path);
	hg_corefile_spec_free(&s);
	spec_make(&s, vip4, NULL);
	edit_fails(".:53 {\n    errors\n}\n}\n", strlen(".:53 {\n    errors\n}\n}\n"), &s, "line 4: '}' without a matching '{'");
	hg_corefile_spec_free(&s);
}

static void test_k3s_override(void **state)
{
	struct hg_corefile_spec s;
	struct hg_error err = {0};
	char *out = NULL;
	spec_make(&s, vip4, NULL);
	assert_int_equal(hg_corefile_k3s_override(&s, &out, &err), 0);
	check_golden("k3s-override.out", out);
	free(out);
	hg_corefile_spec_free(&s);

	/* Dual stack: one template per family, names in lower case for the regex. */
	static const char *const ips[] = {"fd00::2", "169.254.1.2", NULL};
	static const char *const names[] = {"Host.Docker.Internal", NULL};
	spec_make(&s, ips, names);
	assert_int_equal(hg_corefile_k3s_override(&s, &out, &err), 0);
	assert_contains(out, "template IN AAAA host.docker.internal {\n"
			     "    match \"^host\\.docker\\.internal\\.$\"\n"
			     "    answer \"{{ .Name }} 60 IN AAAA fd00::2\"\n");
	assert_contains(out, "answer \"{{ .Name }} 60 IN A 169.254.1.2\"\n");
	assert_contains(out, "template IN ANY host.docker.internal {\n");
	assert_not_contains(out, "Host");
	free(out);
	hg_corefile_spec_free(&s);
}

/* `hosts FILE` without a block gets one; the file argument stays. */
static void test_hosts_without_block(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	char *out = edit_ok(".:53 {\n  hosts /etc/hosts # the node's\n  forward . /etc/resolv.conf\n}\n", &s);
	assert_string_equal(out, ".:53 {\n  hosts /etc/hosts { # the node's\n    169.254.1.2 h.internal # host-gateway\n  }\n"
				 "  forward . /etc/resolv.conf\n}\n");
	free(out);
	hg_corefile_spec_free(&s);
}

/* A changed name list replaces our line; a marker line after the options goes too. */
static void test_names_changed(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"b.internal", NULL});
	char *out = edit_ok(".:53 {\n    hosts {\n        169.254.1.2 a.internal # host-gateway\n        ttl 5\n"
			    "        10.9.9.9 a.internal #host-gateway \n        fallthrough\n    }\n}\n",
			    &s);
	assert_string_equal(out, ".:53 {\n    hosts {\n        169.254.1.2 b.internal # host-gateway\n        ttl 5\n"
				 "        fallthrough\n    }\n}\n");
	free(out);
	hg_corefile_spec_free(&s);
}

/* CRLF files get CRLF lines; braces and quotes in comments and quoted strings do not count. */
static void test_crlf_quotes_comments(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	char *out = edit_ok("# { not a brace\r\n.:53 {\r\n  rewrite name \"a{\" b # }\r\n  forward . 1.1.1.1\r\n}\r\n", &s);
	assert_string_equal(out, "# { not a brace\r\n.:53 {\r\n  rewrite name \"a{\" b # }\r\n  hosts {\r\n"
				 "    169.254.1.2 h.internal # host-gateway\r\n    fallthrough\r\n  }\r\n"
				 "  forward . 1.1.1.1\r\n}\r\n");
	free(out);
	hg_corefile_spec_free(&s);
}

/* Keys on several lines with commas, ":53" alone, a '{' on the next line. */
static void test_keys(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	char *out = edit_ok("example.org,\n:53\n{\n\tforward . 1.1.1.1\n}\n", &s);
	assert_string_equal(out, "example.org,\n:53\n{\n\thosts {\n\t\t169.254.1.2 h.internal # host-gateway\n"
				 "\t\tfallthrough\n\t}\n\tforward . 1.1.1.1\n}\n");
	free(out);
	/* An empty main block: one step deeper than its '}'. */
	out = edit_ok(".:53 {\n}\n", &s);
	assert_string_equal(out, ".:53 {\n    hosts {\n        169.254.1.2 h.internal # host-gateway\n"
				 "        fallthrough\n    }\n}\n");
	free(out);
	hg_corefile_spec_free(&s);
}

static void test_refused_shapes(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"host.docker.internal", NULL});
	const char *two = ".:53 {\n    hosts {\n    }\n    hosts /etc/hosts\n}\n";
	edit_fails(two, strlen(two), &s, "line 4: a second hosts directive");
	const char *zones = ".:53 {\n    hosts /etc/hosts example.org {\n        fallthrough\n    }\n}\n";
	edit_fails(zones, strlen(zones), &s, "line 2: the hosts block serves only the zones");
	const char *oneline = ".:53 {\n    hosts { fallthrough }\n}\n";
	edit_fails(oneline, strlen(oneline), &s, "line 2: the hosts block has options on the line of its '{'");
	const char *nobrace = ".:53\nforward . 1.1.1.1\n";
	edit_fails(nobrace, strlen(nobrace), &s, "line 1: the server block \".:53\" has no '{'");
	const char *quote = ".:53 {\n    rewrite \"abc\n}\n";
	edit_fails(quote, strlen(quote), &s, "line 2: a quoted string is never closed");
	const char nul[] = ".:53 {\n\0}\n";
	edit_fails(nul, sizeof(nul) - 1, &s, "line 2: a NUL byte");
	size_t big = HG_COREFILE_MAX_SIZE + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	edit_fails(huge, big, &s, "larger than");
	free(huge);
	hg_corefile_spec_free(&s);

	/* A zone that covers the names is fine. */
	spec_make(&s, vip4, (const char *const[]){"host.docker.internal", NULL});
	char *out = edit_ok(".:53 {\n    hosts /etc/hosts docker.internal. {\n        fallthrough\n    }\n}\n", &s);
	assert_contains(out, "        169.254.1.2 host.docker.internal # host-gateway\n        fallthrough\n");
	free(out);
	hg_corefile_spec_free(&s);
}

static void test_spec(void **state)
{
	struct hg_corefile_spec s = {0};
	struct hg_error err = {0};
	assert_int_equal(hg_corefile_spec_finish(&s, &err), -1);
	assert_contains(err.msg, "no address");
	assert_int_equal(hg_corefile_spec_add_ip(&s, "10.0.0.0/8", &err), -1);
	assert_int_equal(hg_corefile_spec_add_ip(&s, "169.254.1.2", &err), 0);
	assert_int_equal(hg_corefile_spec_add_ip(&s, "169.254.1.3", &err), -1);
	assert_contains(err.msg, "at most one IPv4 and one IPv6");
	assert_int_equal(hg_corefile_spec_add_ip(&s, "fd00::2", &err), 0);
	assert_int_equal(hg_corefile_spec_add_name(&s, "bad name", &err), -1);
	assert_int_equal(hg_corefile_spec_add_name(&s, "-x", &err), -1);
	assert_int_equal(hg_corefile_spec_finish(&s, &err), 0);
	assert_int_equal(strv_len(s.names), 3);
	assert_string_equal(s.names[0], "host.docker.internal");
	hg_corefile_spec_free(&s);

	memset(&s, 0, sizeof(s));
	assert_int_equal(hg_corefile_spec_add_ip(&s, "169.254.1.2", &err), 0);
	assert_int_equal(hg_corefile_spec_add_name(&s, "a.local", &err), 0);
	assert_int_equal(hg_corefile_spec_add_name(&s, "a.local", &err), 0);
	assert_int_equal(hg_corefile_spec_finish(&s, &err), 0);
	assert_int_equal(strv_len(s.names), 1);
	hg_corefile_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeadm),
		cmocka_unit_test(test_k3s),
		cmocka_unit_test(test_hosts_old_vip),
		cmocka_unit_test(test_tabs),
		cmocka_unit_test(test_multi_block),
		cmocka_unit_test(test_no_main_block),
		cmocka_unit_test(test_unbalanced),
		cmocka_unit_test(test_k3s_override),
		cmocka_unit_test(test_hosts_without_block),
		cmocka_unit_test(test_names_changed),
		cmocka_unit_test(test_crlf_quotes_comments),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_refused_shapes),
		cmocka_unit_test(test_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
