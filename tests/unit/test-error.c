/* SPDX-License-Identifier: Apache-2.0 */
/* error.c: messages are built once, get context prefixed, and always stay valid UTF-8, since
 * they end up in the CNI error JSON. */
#include "test-helpers.h"
#include "base/error.h"

/* jansson's own verdict: json_string() refuses invalid UTF-8. */
static bool valid_utf8(const char *s)
{
	json_t *j = json_string(s);
	json_decref(j);
	return j != NULL;
}

static void test_set_replaces_message_and_details(void **state)
{
	struct hg_error err = {0};
	hg_error_details(&err, "old details");
	assert_int_equal(hg_error_set(&err, HG_CNI_INVALID_CONFIG, "key \"%s\": %d", "names", 5), -1);
	assert_int_equal(err.code, HG_CNI_INVALID_CONFIG);
	assert_string_equal(err.msg, "key \"names\": 5");
	assert_string_equal(err.details, ""); /* a new error does not inherit old details */
	assert_int_equal(hg_error_set(NULL, 1, "x"), -1);
}

static void test_errno_appends_strerror(void **state)
{
	struct hg_error err = {0};
	assert_int_equal(hg_error_errno(&err, HG_CNI_IO, ENOENT, "open %s", "/x"), -1);
	assert_int_equal(err.code, HG_CNI_IO);
	assert_string_equal(err.msg, "open /x: No such file or directory");
	/* Negative errno values, as the library returns them, read the same. */
	assert_int_equal(hg_error_errno(&err, HG_CNI_IO, -ENOENT, "open %s", "/x"), -1);
	assert_string_equal(err.msg, "open /x: No such file or directory");
}

static void test_prefix_keeps_code_and_context(void **state)
{
	struct hg_error err = {0};
	hg_error_set(&err, HG_CNI_NETLINK, "no route");
	assert_int_equal(hg_error_prefix(&err, "read the %s", "node's default route"), -1);
	assert_string_equal(err.msg, "read the node's default route: no route");
	assert_int_equal(err.code, HG_CNI_NETLINK); /* the code is the original one */

	/* Too long: the start (the context) is kept, the result is terminated. */
	char longer[600];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	hg_error_set(&err, HG_CNI_IO, "%s", longer);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	hg_error_prefix(&err, "ctx");
	assert_int_equal(strncmp(err.msg, "ctx: aaa", 8), 0);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
}

static void test_utf8_kept(void **state)
{
	struct hg_error err = {0};
	const char *text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 end";
	hg_error_set(&err, HG_CNI_IO, "%s", text);
	assert_string_equal(err.msg, text); /* valid UTF-8 is left byte for byte */
	hg_error_details(&err, "%s", text);
	assert_string_equal(err.details, text);
}

static void test_invalid_bytes_replaced(void **state)
{
	struct hg_error err = {0};
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ctr\xff", "ctr?"},
		{"a\x80z", "a?z"},
		{"\xc3(", "?("},                       /* lead byte without continuation */
		{"\xc0\xaf", "??"},                    /* overlong '/' */
		{"\xe0\x80\xaf", "???"},               /* overlong, 3 bytes */
		{"\xed\xa0\x80", "???"},               /* UTF-16 surrogate */
		{"\xf4\x90\x80\x80", "????"},          /* above U+10FFFF */
		{"\xf8\x88\x80\x80\x80", "?????"},     /* 5-byte form */
		{"ok \xe2\x82", "ok ??"},              /* cut inside a character */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hg_error_set(&err, HG_CNI_INVALID_ENV, "CNI_CONTAINERID \"%s\"", cases[i].in);
		char want[64];
		snprintf(want, sizeof(want), "CNI_CONTAINERID \"%s\"", cases[i].out);
		assert_string_equal(err.msg, want);
		assert_true(valid_utf8(err.msg));
	}
	hg_error_errno(&err, HG_CNI_IO, EACCES, "open %s", "/x\xfe");
	assert_true(valid_utf8(err.msg));
	hg_error_prefix(&err, "ctx \xfe");
	assert_true(valid_utf8(err.msg));
	assert_int_equal(strncmp(err.msg, "ctx ?: open /x?", 15), 0);
	hg_error_details(&err, "\xff");
	assert_string_equal(err.details, "?");
}

static void test_truncation_inside_a_character(void **state)
{
	/* Whatever the offset, a message cut by the buffer size is still valid UTF-8. */
	for (size_t pad = 0; pad < 4; pad++) {
		struct hg_error err = {0};
		char text[1200];
		size_t n = 0;
		for (size_t i = 0; i < pad; i++)
			text[n++] = 'x';
		while (n + 4 < sizeof(text)) {
			memcpy(text + n, "\xf0\x9f\x90\xb3", 4); /* 4-byte characters */
			n += 4;
		}
		text[n] = '\0';
		hg_error_set(&err, HG_CNI_INVALID_CONFIG, "%s", text);
		assert_true(valid_utf8(err.msg));
		assert_true(strlen(err.msg) >= sizeof(err.msg) - 4);
		hg_error_prefix(&err, "context");
		assert_true(valid_utf8(err.msg));
		hg_error_details(&err, "%s", text);
		assert_true(valid_utf8(err.details));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_replaces_message_and_details),
		cmocka_unit_test(test_errno_appends_strerror),
		cmocka_unit_test(test_prefix_keeps_code_and_context),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_invalid_bytes_replaced),
		cmocka_unit_test(test_truncation_inside_a_character),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
