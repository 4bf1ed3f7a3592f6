/* SPDX-License-Identifier: Apache-2.0 */
/* install.c without root: chaining files in a temp folder (mode kept, .conf converted,
 * invalid primary untouched), the records count and the Debian-package check. */
#include "test-helpers.h"
#include "ops/install.h"
#include "ops/state.h"
#include "base/conflist.h"
#include "base/util.h"
#include <sys/wait.h>

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

/* The dry run says what install would do, and writes nothing: not the file, not a temp. */
static void test_chain_dry(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *p = path_join(dir, "10-net.conflist");
	_cleanup_free_ char *conf = path_join(dir, "20-b.conf");
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	struct hg_error err = {0};
	struct stat before, after;
	const char *text = "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"ptp\"}]}";

	file_write_str(p, text);
	assert_int_equal(stat(p, &before), 0);
	assert_int_equal(hg_install_chain_dry(dir, entry, &err), 1);
	assert_int_equal(stat(p, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	_cleanup_free_ char *same = file_read(p, NULL);
	assert_string_equal(same, text);
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), 1);
	assert_int_equal(hg_install_chain_dry(dir, entry, &err), 0);

	/* Refusals are the same as install's: a list of ours only. */
	file_write_str(p, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"host-gateway\"}]}");
	assert_int_equal(hg_install_chain_dry(dir, entry, &err), -1);
	assert_contains(err.msg, "nothing to chain after");
	/* A .conf to convert: 1, and still a .conf. */
	unlink(p);
	file_write_str(conf, "{\"cniVersion\":\"0.4.0\",\"name\":\"br\",\"type\":\"bridge\"}");
	assert_int_equal(hg_install_chain_dry(dir, entry, &err), 1);
	assert_int_equal(access(conf, F_OK), 0);

	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".host-gateway", 13) == 0;
	assert_int_equal(n, 1);
}

/* A FIFO, a device behind a symlink or a huge file as the first file: refused at once,
 * never read (a FIFO would block, /dev/zero would never end). */
static void test_hostile_primary(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *p = path_join(dir, "00-a.conflist");
	json_auto_t *entry = json_parse(HG_DEFAULT_ENTRY);
	struct hg_error err = {0};

	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(hg_install_chain_dry(dir, entry, &err), -1);
	assert_contains(err.msg, "not a regular file");
	unlink(p);
	assert_int_equal(symlink("/dev/zero", p), 0);
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), -1);
	assert_contains(err.msg, "is a symbolic link: not edited");
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (2 << 20)), 0);
	close(fd);
	assert_int_equal(hg_install_chain(dir, entry, NULL, NULL, &err), -1);
	assert_contains(err.msg, "is larger than 1048576 bytes");
}

/* Our temp files of a dead writer of this PID namespace go; nothing else does. */
static void test_sweep(void **state)
{
	const char *dir = *state;
	struct stat ns;
	char name[256];
	assert_int_equal(stat("/proc/self/ns/pid", &ns), 0);
	pid_t dead = fork();
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	unsigned long long ino = (unsigned long long) ns.st_ino;

	snprintf(name, sizeof(name), "%s/.host-gateway.%llu-%d.abcDE1.tmp", dir, ino, (int) dead);
	file_write_str(name, "x");
	const char *kept[] = {"/.host-gateway.%llu-%d.abcDE1.tmp", "/.host-gateway.%llu-0%d.abcDE1.tmp",
			      "/.host-gateway.%llu-%d.abcD-1.tmp", "/.host-gateway.%llu-%d.abcDE1.tmpx",
			      "/.host-gateway.%llu-%d.abcDE.tmp"};
	char paths[ARRAY_SIZE(kept) + 1][256];
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
		char fmt[128];
		snprintf(fmt, sizeof(fmt), "%%s%s", kept[i]);
		/* The first: a live writer (us). */
		snprintf(paths[i], sizeof(paths[i]), fmt, dir, ino, i == 0 ? (int) getpid() : (int) dead);
		file_write_str(paths[i], "x");
	}
	/* Another PID namespace's writer: not judged from here. */
	snprintf(paths[ARRAY_SIZE(kept)], sizeof(paths[0]), "%s/.host-gateway.%llu-%d.abcDE1.tmp", dir, ino + 1,
		 (int) dead);
	file_write_str(paths[ARRAY_SIZE(kept)], "x");
	/* A symlink of that name: not a regular file. */
	char link[256];
	snprintf(link, sizeof(link), "%s/.host-gateway.%llu-%d.linkAA.tmp", dir, ino, (int) dead);
	assert_int_equal(symlink(paths[0], link), 0);

	assert_int_equal(hg_install_sweep(dir, NULL), 1);
	assert_int_equal(access(name, F_OK), -1);
	for (size_t i = 0; i <= ARRAY_SIZE(kept); i++)
		assert_int_equal(access(paths[i], F_OK), 0);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_int_equal(hg_install_sweep(dir, NULL), 0);
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

	assert_int_equal(hg_state_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mkdir(cni, 0700), 0);
	assert_int_equal(mkdir(net, 0700), 0);
	file_write_str(tmp, "{}");
	assert_int_equal(hg_state_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 0);
	file_write_str(rec, "{}");
	assert_int_equal(hg_state_count_records(dir, &n, &err), 0);
	assert_int_equal(n, 1);
}

static void test_dpkg_owner(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *list = path_join(dir, "containernetworking-plugins.list");
	_cleanup_free_ char *pkg = NULL;
	struct hg_error err = {0};

	file_write_str(list, "/.\n/usr\n/usr/lib/cni\n/usr/lib/cni/bridge\n/lib/cni/ptp\n");
	assert_int_equal(hg_dpkg_owner(dir, "/usr/lib/cni/bridge", &pkg, &err), 1);
	assert_string_equal(pkg, "containernetworking-plugins");
	free(TAKE_PTR(pkg));
	/* Merged /usr: listed as /lib/cni/ptp, found at /usr/lib/cni/ptp. */
	assert_int_equal(hg_dpkg_owner(dir, "/usr/lib/cni/ptp", &pkg, &err), 1);
	free(TAKE_PTR(pkg));
	assert_int_equal(hg_dpkg_owner(dir, "/opt/cni/bin/host-gateway", &pkg, &err), 0);
	assert_null(pkg);
	assert_int_equal(hg_dpkg_owner("/nonexistent-dpkg-info", "/usr/lib/cni/bridge", &pkg, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_mode_and_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_convert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_primary_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_dry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dpkg_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
