/* install.c without root: chaining files in a temp folder (mode kept, .conf converted,
 * invalid primary untouched), the records count and the Debian-package check. */
#include "test-helpers.h"
#include "install.h"
#include "conflist.h"
#include "util.h"

static int setup(void **state)
{
	*state = tmpdir_make();
	return 0;
}

static int teardown(void **state)
{
	tmpdir_remove(*state);
	return 0;
}

static void test_chain_mode_and_bytes(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *p = path_join(dir, "10-net.conflist");
	_cleanup_free_ char *primary = NULL;
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	struct hg_error err = {0};
	struct stat st;

	const char *text = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"}]}";
	file_write(p, text, strlen(text), 0640);
	assert_int_equal(hg_install_chain(dir, entry, &primary, NULL, &err), 1);
	assert_string_equal(primary, p);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	_cleanup_free_ char *first = file_read(p, NULL);
	assert_int_equal(hg_install_chain_check(dir, entry, NULL, &err), 0);
	free(TAKE_PTR(primary));
	assert_int_equal(hg_install_chain(dir, entry, &primary, NULL, &err), 0);
	_cleanup_free_ char *second = file_read(p, NULL);
	assert_string_equal(first, second);

	/* No temp file left behind. */
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".host-gateway", 13) == 0;
	assert_int_equal(n, 1);

	_cleanup_free_ char *sd = NULL;
	assert_int_equal(hg_uninstall_chain(dir, &sd, NULL, &err), 1);
	assert_null(sd);
	assert_int_equal(hg_install_chain_check(dir, entry, NULL, &err), -1);
}

static void test_chain_convert(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *conf = path_join(dir, "10-bridge.conf");
	_cleanup_free_ char *list = path_join(dir, "10-bridge.conflist");
	json_auto_t *entry = json_parse("{\"type\":\"host-gateway\",\"stateDir\":\"/run/x\"}");
	struct hg_error err = {0};
	struct stat st;

	file_write_str(conf, "{\"cniVersion\":\"0.4.0\",\"name\":\"br\",\"type\":\"bridge\"}");
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), 1);
	assert_int_equal(access(conf, F_OK), -1);
	assert_int_equal(stat(list, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(hg_install_chain_check(dir, entry, NULL, &err), 0);

	/* Uninstall leaves the main plugin alone in the .conflist, and says our stateDir. */
	_cleanup_free_ char *sd = NULL;
	assert_int_equal(hg_uninstall_chain(dir, &sd, NULL, &err), 1);
	assert_string_equal(sd, "/run/x");
	_cleanup_free_ char *text = file_read(list, NULL);
	json_auto_t *got = json_parse(text);
	json_auto_t *want = json_parse("{\"cniVersion\":\"0.4.0\",\"name\":\"br\",\"plugins\":"
				       "[{\"cniVersion\":\"0.4.0\",\"name\":\"br\",\"type\":\"bridge\"}]}");
	assert_true(json_equal(got, want));
}

static void test_invalid_primary_untouched(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *bad = path_join(dir, "05-bad.conflist");
	_cleanup_free_ char *good = path_join(dir, "10-good.conflist");
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	struct hg_error err = {0};
	const char *g = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"}]}";

	file_write_str(bad, "{\"cniVersion\": \"1.0.0\",");
	file_write_str(good, g);
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), -1);
	assert_contains(err.msg, bad);
	_cleanup_free_ char *b = file_read(bad, NULL), *gg = file_read(good, NULL);
	assert_string_equal(b, "{\"cniVersion\": \"1.0.0\",");
	assert_string_equal(gg, g);

	/* An empty folder has no primary. */
	unlink(bad);
	unlink(good);
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), -1);
	assert_contains(err.msg, "no network configuration");
}

static void test_records(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *net = path_join(dir, "cni/kind");
	_cleanup_free_ char *cni = path_join(dir, "cni");
	_cleanup_free_ char *rec = path_join(net, "abc+eth0.json");
	_cleanup_free_ char *tmp = path_join(net, ".tmp.12.json");
	struct hg_error err = {0};
	size_t n = 99;

	assert_int_equal(hg_install_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mkdir(cni, 0700), 0);
	assert_int_equal(mkdir(net, 0700), 0);
	file_write_str(tmp, "{}");
	assert_int_equal(hg_install_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 0);
	file_write_str(rec, "{}");
	assert_int_equal(hg_install_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 1);
}

static void test_dpkg_owner(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *list = path_join(dir, "containernetworking-plugins.list");
	_cleanup_free_ char *pkg = NULL;
	struct hg_error err = {0};

	file_write_str(list, "/.\n/usr\n/usr/lib/cni\n/usr/lib/cni/bridge\n/lib/cni/ptp\n");
	assert_int_equal(hg_install_dpkg_owner(dir, "/usr/lib/cni/bridge", &pkg, &err), 1);
	assert_string_equal(pkg, "containernetworking-plugins");
	free(TAKE_PTR(pkg));
	/* Merged /usr: listed as /lib/cni/ptp, found at /usr/lib/cni/ptp. */
	assert_int_equal(hg_install_dpkg_owner(dir, "/usr/lib/cni/ptp", &pkg, &err), 1);
	free(TAKE_PTR(pkg));
	assert_int_equal(hg_install_dpkg_owner(dir, "/opt/cni/bin/host-gateway", &pkg, &err), 0);
	assert_null(pkg);
	assert_int_equal(hg_install_dpkg_owner("/nonexistent-dpkg-info", "/usr/lib/cni/bridge", &pkg, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_mode_and_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_primary_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpkg_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
