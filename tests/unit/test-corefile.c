/* SPDX-License-Identifier: Apache-2.0 */
/* CoreDNS Corefile edits (lib/base/corefile.c): the real default Corefiles of kubeadm (kind runs
 * kubeadm) and k3s, and a few shapes around them, against golden files under
 * golden/corefile/ (NAME.in edited into NAME.out); every edit must be idempotent. Set
 * HG_UPDATE_GOLDEN=1 to rewrite the .out files after a deliberate change.
 * tests/integration/cni/corefile-cli.sh runs the same cases through the binary. */
#include "test-helpers.h"
#include "base/corefile.h"
#include "base/corefile-int.h"
#include "base/util.h"

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
	char *out = NULL, *again = NULL;
	size_t len, again_len;
	if (hg_corefile_edit(in, strlen(in), s, &out, &len, &err) < 0)
		fail_msg("edit failed: %s", err.msg);
	assert_int_equal(len, strlen(out));
	if (hg_corefile_check(out, len, s, &err) < 0)
		fail_msg("CoreDNS would not read our entries: %s\n%s", err.msg, out);
	/* Idempotent: the output edited again is the output. */
	if (hg_corefile_edit(out, len, s, &again, &again_len, &err) < 0)
		fail_msg("second edit failed: %s", err.msg);
	if (again_len != len || memcmp(out, again, len) != 0)
		fail_msg("not idempotent:\n--- first\n%s--- second\n%s", out, again);
	free(again);
	return out;
}

static void edit_fails(const char *in, size_t len, const struct hg_corefile_spec *s, const char *msg)
{
	struct hg_error err = {0};
	char *out = NULL;
	size_t out_len = 0;
	assert_int_equal(hg_corefile_edit(in, len, s, &out, &out_len, &err), -1);
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
	/* A comment right after a quoted word stays a comment: "{#" would be one word, and the
	 * rest of the line words of the directive (found by fuzz-corefile). */
	out = edit_ok(".:53 {\n  hosts \"/etc/hosts\"# the node's {\n}\n", &s);
	assert_string_equal(out, ".:53 {\n  hosts \"/etc/hosts\" { # the node's {\n    169.254.1.2 h.internal # host-gateway\n  }\n}\n");
	free(out);
	/* A '}' right after it: our '}' and it stay two words. */
	out = edit_ok("(c) { hosts \"/etc/hosts\"}\n.:53 {\n  import c\n}\n", &s);
	assert_string_equal(out, "(c) { hosts \"/etc/hosts\" {\n    169.254.1.2 h.internal # host-gateway\n} }\n"
				 ".:53 {\n  import c\n}\n");
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
	/* CoreDNS reads the '}' as a zone of fallthrough (no other name would fall through). */
	const char *oneline = ".:53 {\n    hosts { fallthrough }\n}\n";
	edit_fails(oneline, strlen(oneline), &s, "line 2: the '}' of the hosts block is on the line of \"fallthrough\"");
	const char *later = ".:53 {\n    hosts {\n        fallthrough }\n}\n";
	edit_fails(later, strlen(later), &s, "line 3: the '}' of the hosts block is on the line of \"fallthrough\"");
	/* CoreDNS reads a '{' on the next line as a second hosts directive. */
	const char *brace_below = ".:53 {\n    hosts /etc/hosts\n    {\n        fallthrough\n    }\n}\n";
	edit_fails(brace_below, strlen(brace_below), &s, "line 3: the hosts block's '{' is not on the line of hosts");
	const char *after = ".:53 {\n    hosts {\n        fallthrough\n    } 60\n}\n";
	edit_fails(after, strlen(after), &s, "line 4: words after the '}' of the hosts block");
	const char *brace_dir = ".:53 {\n    {\n    }\n}\n";
	edit_fails(brace_dir, strlen(brace_dir), &s, "line 2: a '{' where a directive should be");
	/* CoreDNS: "Unexpected '}' because no matching opening brace". */
	const char *brace_after = ".:53 {\n    forward . 1.1.1.1 }\n";
	edit_fails(brace_after, strlen(brace_after), &s, "line 2: a '}' on the line of a directive");
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

/* A NUL byte is refused wherever it is, a comment included (issue 20: it passed in a comment
 * and the output was cut there). */
static void test_nul(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, NULL);
	const char comment[] = "# ops\0\n.:53 {\n    forward . /etc/resolv.conf\n}\n";
	edit_fails(comment, sizeof(comment) - 1, &s, "line 1: a NUL byte");
	const char quoted[] = ".:53 {\n    errors\n    rewrite \"a\0\" b\n}\n";
	edit_fails(quoted, sizeof(quoted) - 1, &s, "line 3: a NUL byte");
	const char last[] = ".:53 {\n}\n\0";
	edit_fails(last, sizeof(last) - 1, &s, "line 3: a NUL byte");
	hg_corefile_spec_free(&s);
}

/* The hosts block in a snippet that the main block imports is edited there. */
static void test_import_snippet(void **state) { golden_case("import-snippet", vip4, NULL); }

static void test_imports(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});

	/* Issue 20's snippet: found through the import (no second block), and refused for the
	 * '}' that CoreDNS reads as fallthrough's zone. */
	const char *issue = "(common) { hosts /etc/coredns/NodeHosts { fallthrough } }\n.:53 {\n    import common\n"
			    "    forward . /etc/resolv.conf\n}\n";
	edit_fails(issue, strlen(issue), &s, "line 1: the '}' of the hosts block is on the line of \"fallthrough\"");

	/* A one-line snippet whose hosts has no block: the block ends before the snippet's '}'. */
	char *out = edit_ok("(c) { hosts /etc/hosts }\n.:53 {\n    import c\n}\n", &s);
	assert_string_equal(out, "(c) { hosts /etc/hosts {\n    169.254.1.2 h.internal # host-gateway\n} }\n"
				 ".:53 {\n    import c\n}\n");
	free(out);

	/* Snippets importing snippets; the hosts one imported by another server block too. */
	out = edit_ok("(h) {\n  hosts {\n    fallthrough\n  }\n}\n(outer) {\n  import h\n}\nexample.org {\n  import h\n}\n"
		      ".:53 {\n  import outer\n  forward . 1.1.1.1\n}\n",
		      &s);
	assert_string_equal(out, "(h) {\n  hosts {\n    169.254.1.2 h.internal # host-gateway\n    fallthrough\n  }\n}\n"
				 "(outer) {\n  import h\n}\nexample.org {\n  import h\n}\n"
				 ".:53 {\n  import outer\n  forward . 1.1.1.1\n}\n");
	free(out);

	/* A snippet without hosts: a block of our own in the main block. */
	out = edit_ok("(log) {\n    log\n}\n.:53 {\n    import log\n    forward . 1.1.1.1\n}\n", &s);
	assert_contains(out, "    import log\n    hosts {\n        169.254.1.2 h.internal # host-gateway\n");
	free(out);

	/* Two hosts through imports, or one of ours and one imported: CoreDNS refuses both. */
	const char *twice = "(h) {\n    hosts\n}\n.:53 {\n    import h\n    import h\n}\n";
	edit_fails(twice, strlen(twice), &s, "line 2: a second hosts directive in the main server block, imported on line 6");
	const char *both = "(h) {\n    hosts\n}\n.:53 {\n    hosts {\n    }\n    import h\n}\n";
	edit_fails(both, strlen(both), &s, "imported on line 7");

	/* A file (or a glob) may hold a hosts directive: refused when none is visible ... */
	const char *glob = ".:53 {\n    errors\n    import /etc/coredns/custom/*.conf\n    forward . 1.1.1.1\n}\n";
	edit_fails(glob, strlen(glob), &s,
		   "line 3: the main server block imports \"/etc/coredns/custom/*.conf\", which is not a snippet of "
		   "this Corefile");
	/* ... also from inside a snippet, or when the snippet is defined after the block (CoreDNS
	 * then looks for a file of that name), or named by an environment variable. */
	const char *nested = "(s) {\n    import /etc/x.conf\n}\n.:53 {\n    import s\n}\n";
	edit_fails(nested, strlen(nested), &s, "line 2: the main server block imports \"/etc/x.conf\"");
	const char *later = ".:53 {\n    import s\n}\n(s) {\n    hosts\n}\n";
	edit_fails(later, strlen(later), &s, "line 2: the main server block imports \"s\"");
	const char *env = "(s) {\n    hosts\n}\n.:53 {\n    import {$SNIPPET}\n}\n";
	edit_fails(env, strlen(env), &s, "line 5: the main server block imports \"{$SNIPPET}\"");
	const char *envdir = ".:53 {\n    {$PLUGIN} /etc/hosts\n}\n";
	edit_fails(envdir, strlen(envdir), &s, "line 2: the directive \"{$PLUGIN}\" of the main server block is named by an environment variable");
	/* ... and fine next to a hosts directive we see (k3s): a second one would already be
	 * refused by CoreDNS. */
	out = edit_ok(".:53 {\n    hosts {\n    }\n    import /etc/coredns/custom/*.override\n}\n", &s);
	assert_contains(out, "    hosts {\n        169.254.1.2 h.internal # host-gateway\n    }\n");
	free(out);

	/* Imports CoreDNS refuses, and a cycle. */
	const char *noarg = ".:53 {\n    import\n}\n";
	edit_fails(noarg, strlen(noarg), &s, "line 2: `import` without its argument");
	const char *twoargs = ".:53 {\n    import a b\n}\n";
	edit_fails(twoargs, strlen(twoargs), &s, "line 2: `import` takes one argument");
	const char *cycle = "(a) {\n    import b\n}\n(b) {\n    import a\n}\n.:53 {\n    import a\n}\n";
	edit_fails(cycle, strlen(cycle), &s, "snippet imports in the main server block");
	const char *redefined = "(a) {\n}\n(a) {\n}\n.:53 {\n}\n";
	edit_fails(redefined, strlen(redefined), &s, "line 3: the snippet \"a\" is defined twice");
	hg_corefile_spec_free(&s);
}

/* `hosts FILE { }` on one line: our lines go inside (issue 20: they went after the '}'). */
static void test_hosts_empty_block(void **state)
{
	struct hg_corefile_spec s;
	golden_case("hosts-empty-block", vip4, NULL);
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	/* Options after the '{' on its line go on the line after ours. */
	char *out = edit_ok(".:53 {\n\thosts {  ttl 60\n\t\tfallthrough\n\t}\n}\n", &s);
	assert_string_equal(out, ".:53 {\n\thosts {\n\t\t169.254.1.2 h.internal # host-gateway\n\t\tttl 60\n"
				 "\t\tfallthrough\n\t}\n}\n");
	free(out);
	/* An `import` moved to the start of a line would import (found by fuzz-corefile). */
	const char *imp = ".:53 {\n\thosts { import\n\t\tfallthrough\n\t}\n}\n";
	edit_fails(imp, strlen(imp), &s, "line 2: \"import\" after the '{' of the hosts block on its line");
	/* A line of ours after the '{' goes, as the next run would take it (found by
	 * fuzz-corefile) ... */
	out = edit_ok(".:53 {\n\thosts { 169.254.9.9 h.internal # host-gateway\n\t\tfallthrough\n\t}\n}\n", &s);
	assert_string_equal(out, ".:53 {\n\thosts {\n\t\t169.254.1.2 h.internal # host-gateway\n\t\tfallthrough\n\t}\n}\n");
	free(out);
	/* ... and so does a line of ours below options after the '{' (found by fuzz-corefile). */
	out = edit_ok(".:53 {\n\thosts { ttl 60\n\t\t169.254.9.9 h.internal # host-gateway\n\t}\n}\n", &s);
	assert_string_equal(out, ".:53 {\n\thosts {\n\t\t169.254.1.2 h.internal # host-gateway\n\t\tttl 60\n\t}\n}\n");
	free(out);
	hg_corefile_spec_free(&s);
}

/* CoreDNS splits words on Unicode white space too (issue 20: a no-break space after
 * "hosts" hid the directive, and a second block was added). */
static void test_unicode_space(void **state)
{
	struct hg_corefile_spec s;
	golden_case("unicode-space", vip4, NULL);
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	static const char *const spaces[] = {"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x8a",
					     "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
					     "\v", "\f"};
	for (size_t i = 0; i < ARRAY_SIZE(spaces); i++) {
		char in[256], *out;
		snprintf(in, sizeof(in), ".:53 {\n    hosts%s/etc/hosts {\n        fallthrough\n    }\n}\n", spaces[i]);
		out = edit_ok(in, &s);
		assert_contains(out, "/etc/hosts {\n        169.254.1.2 h.internal # host-gateway\n        fallthrough\n");
		free(out);
	}
	/* Not white space to Go: U+200B, U+FEFF, a lone continuation byte, an overlong space
	 * (0xC0 0xA0): "hosts" followed by them is another word, and a block of ours is added. */
	static const char *const words[] = {"\xe2\x80\x8b", "\xef\xbb\xbf", "\x85", "\xc0\xa0", "\xe2\x80"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		char in[256], *out;
		snprintf(in, sizeof(in), ".:53 {\n    hosts%s/etc/hosts\n}\n", words[i]);
		out = edit_ok(in, &s);
		assert_contains(out, "    hosts {\n        169.254.1.2 h.internal # host-gateway\n        fallthrough\n    }\n}\n");
		free(out);
	}
	/* A '\r' inside a word does not end it (CoreDNS drops it): this is hosts. */
	char *out = edit_ok(".:53 {\n    hos\rts /etc/hosts {\n    }\n}\n", &s);
	assert_string_equal(out, ".:53 {\n    hos\rts /etc/hosts {\n        169.254.1.2 h.internal # host-gateway\n    }\n}\n");
	free(out);
	/* A byte order mark at the start is not part of the first word. */
	out = edit_ok("\xef\xbb\xbf.:53 {\n}\n", &s);
	assert_string_equal(out, "\xef\xbb\xbf.:53 {\n    hosts {\n        169.254.1.2 h.internal # host-gateway\n"
				 "        fallthrough\n    }\n}\n");
	free(out);
	hg_corefile_spec_free(&s);
}

/* cf_space_len against Go's unicode.IsSpace over every code point (the list printed by a Go
 * program looping over unicode.MaxRune), each UTF-8 encoded and followed by a byte. */
static void test_space_runes(void **state)
{
	static const unsigned go_spaces[] = {0x09,   0x0a,   0x0b,   0x0c,   0x0d,   0x20,   0x85,   0xa0,   0x1680,
					     0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
					     0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
	size_t next = 0;
	for (unsigned r = 0; r <= 0x10ffff; r++) {
		char b[5];
		size_t n;
		if (r < 0x80) {
			b[0] = (char) r;
			n = 1;
		} else if (r < 0x800) {
			b[0] = (char) (0xc0 | r >> 6);
			b[1] = (char) (0x80 | (r & 0x3f));
			n = 2;
		} else if (r < 0x10000) {
			b[0] = (char) (0xe0 | r >> 12);
			b[1] = (char) (0x80 | (r >> 6 & 0x3f));
			b[2] = (char) (0x80 | (r & 0x3f));
			n = 3;
		} else {
			b[0] = (char) (0xf0 | r >> 18);
			b[1] = (char) (0x80 | (r >> 12 & 0x3f));
			b[2] = (char) (0x80 | (r >> 6 & 0x3f));
			b[3] = (char) (0x80 | (r & 0x3f));
			n = 4;
		}
		b[n] = 'x';
		bool space = next < ARRAY_SIZE(go_spaces) && go_spaces[next] == r;
		next += space;
		if (cf_space_len(b, n + 1, 0) != (space ? n : 0))
			fail_msg("U+%04X: cf_space_len %zu", r, cf_space_len(b, n + 1, 0));
		/* Cut short, a sequence is no space. */
		if (n > 1)
			assert_int_equal(cf_space_len(b, n - 1, 0), 0);
	}
	assert_int_equal(next, ARRAY_SIZE(go_spaces));
}

/* Only lines of ours are replaced: an address first, then the marker. */
static void test_marker_lines(void **state)
{
	struct hg_corefile_spec s;
	spec_make(&s, vip4, (const char *const[]){"h.internal", NULL});
	char *out = edit_ok(".:53 {\n    hosts {\n        fallthrough # host-gateway\n    }\n}\n", &s);
	assert_string_equal(out, ".:53 {\n    hosts {\n        169.254.1.2 h.internal # host-gateway\n"
				 "        fallthrough # host-gateway\n    }\n}\n");
	free(out);
	/* A line of ours with a brace would change the blocks when deleted (found by
	 * fuzz-corefile): CoreDNS's hosts plugin refuses a block inside its block anyway. */
	const char *brace = ".:53 {\n    hosts {\n        169.254.9.9 a { # host-gateway\n        }\n    }\n}\n";
	edit_fails(brace, strlen(brace), &s, "line 3: a '{' inside the hosts block");
	/* A '#' line inside a quoted string above forward is not a comment to keep with it. */
	out = edit_ok(".:53 {\n    rewrite \"a\n# b\"\n    forward . 1.1.1.1\n}\n", &s);
	assert_string_equal(out, ".:53 {\n    rewrite \"a\n# b\"\n    hosts {\n        169.254.1.2 h.internal # host-gateway\n"
				 "        fallthrough\n    }\n    forward . 1.1.1.1\n}\n");
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
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_import_snippet),
		cmocka_unit_test(test_imports),
		cmocka_unit_test(test_hosts_empty_block),
		cmocka_unit_test(test_unicode_space),
		cmocka_unit_test(test_space_runes),
		cmocka_unit_test(test_marker_lines),
		cmocka_unit_test(test_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
