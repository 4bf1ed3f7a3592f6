/* SPDX-License-Identifier: Apache-2.0 */
/* state.c: record paths, atomic write, listing, readiness, directory checks, locks. */
#include "test-helpers.h"
#include <dirent.h>
#include <sys/file.h>
#include "ops/state.h"
#include "base/util.h"

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

static void test_record_paths_of_each_kind(void **state)
{
	char *p = NULL;
	assert_int_equal(hg_state_cni_path("/run/host-gateway", "kindnet", "0123abcd", "eth0", &p), 0);
	assert_string_equal(p, "/run/host-gateway/cni/kindnet/0123abcd+eth0.json");
	free(p);
	assert_int_equal(hg_state_hook_path("/run/host-gateway", "0123abcd", &p), 0);
	assert_string_equal(p, "/run/host-gateway/hook/0123abcd.json");
	free(p);
	assert_int_equal(hg_state_nri_path("/run/host-gateway", "0123abcd", &p), 0);
	assert_string_equal(p, "/run/host-gateway/nri/0123abcd.json");
	free(p);
	assert_int_equal(hg_state_dir_path("/s", HG_STATE_DIR_NRI, &p), 0);
	assert_string_equal(p, "/s/nri");
	free(p);
	assert_int_equal(hg_state_network_dir("/var/lib/hg", "podman", &p), 0);
	assert_string_equal(p, "/var/lib/hg/cni/podman");
	free(p);

	/* The record of an attachment lives in its network's directory. */
	char *dir = NULL;
	assert_int_equal(hg_state_cni_path("/s", "net", "c", "eth1", &p), 0);
	assert_int_equal(hg_state_network_dir("/s", "net", &dir), 0);
	assert_int_equal(strncmp(p, dir, strlen(dir)), 0);
	assert_int_equal(p[strlen(dir)], '/');
	free(p);
	free(dir);
}

/* Names in dir that are not "." or "..". */
static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_read(void **state)
{
	const char *root = *state;
	char *path = NULL, *dir = NULL;
	struct hg_error err = {0};
	json_t *rec = json_parse("{\"version\":1,\"kind\":\"cni\",\"containerID\":\"c1\",\"routes\":[]}");
	json_t *got = NULL;

	assert_int_equal(hg_state_cni_path(root, "net", "c1", "eth0", &path), 0);
	assert_int_equal(hg_state_network_dir(root, "net", &dir), 0);
	assert_int_equal(hg_state_write(path, rec, &err), 0);

	/* The parents were created private, the record is private and alone (no temp file left). */
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dir_entries(dir), 1);
	char *text = file_read(path, NULL);
	assert_true(text[strlen(text) - 1] == '\n');
	free(text);

	got = json_load_file(path, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, rec));
	json_decref(got);

	/* A second write replaces the file atomically: a new inode, never a half-written one. */
	ino_t first = st.st_ino;
	json_object_set_new(rec, "containerID", json_string("c1-again"));
	assert_int_equal(hg_state_write(path, rec, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_not_equal(st.st_ino, first);
	assert_int_equal(dir_entries(dir), 1);
	got = json_load_file(path, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(got, "containerID")), "c1-again");
	json_decref(got);

	assert_int_equal(hg_state_remove(path, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hg_state_remove(path, &err), 0); /* already gone: fine */
	json_decref(rec);
	free(path);
	free(dir);
}

static void test_write_fails(void **state)
{
	const char *root = *state;
	struct hg_error err = {0};
	char *file = path_join(root, "file");
	file_write_str(file, "x");
	char *path = path_join(file, "cni/net/c+eth0.json");
	json_t *rec = json_parse("{}");
	assert_int_equal(hg_state_write(path, rec, &err), -1);
	assert_int_equal(err.code, HG_CNI_STATE);
	assert_contains(err.msg, file);
	memset(&err, 0, sizeof(err));
	assert_int_equal(hg_state_remove(path, &err), -1);
	assert_int_equal(err.code, HG_CNI_STATE);
	json_decref(rec);
	free(path);
	free(file);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void test_list_only_records(void **state)
{
	const char *root = *state;
	struct hg_error err = {0};
	char **paths = NULL;

	/* A missing directory lists nothing. */
	char *dir = path_join(root, "cni/net");
	assert_int_equal(hg_state_list(dir, &paths, &err), 0);
	assert_non_null(paths);
	assert_int_equal(strv_len(paths), 0);
	strv_free(paths);

	char *sub = path_join(root, "cni");
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	static const char *const files[] = {"b+eth0.json", "a+eth0.json", ".tmp.123.json", "notes.txt",
					    ".json", "x.json.bak", "json"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = path_join(dir, files[i]);
		file_write_str(p, "{}");
		free(p);
	}
	assert_int_equal(hg_state_list(dir, &paths, &err), 0);
	assert_int_equal(strv_len(paths), 2);
	qsort(paths, 2, sizeof(char *), cmp_str);
	char *want = path_join(dir, "a+eth0.json");
	assert_string_equal(paths[0], want);
	free(want);
	want = path_join(dir, "b+eth0.json");
	assert_string_equal(paths[1], want);
	free(want);
	strv_free(paths);

	/* Not a directory: an error, not an empty list. */
	char *file = path_join(dir, "notes.txt");
	paths = NULL;
	assert_int_equal(hg_state_list(file, &paths, &err), -1);
	assert_int_equal(err.code, HG_CNI_STATE);
	assert_null(paths);
	free(file);
	free(sub);
	free(dir);
}

static void test_ready_makes_private_dirs(void **state)
{
	const char *root = *state;
	struct hg_error err = {0};
	char *dir = path_join(root, "a/b/c");
	struct stat st;
	assert_int_equal(hg_state_ready(dir, &err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(hg_state_ready(dir, &err), 0); /* already there */
	free(dir);

	char *file = path_join(root, "file");
	file_write_str(file, "x");
	dir = path_join(file, "state");
	assert_int_equal(hg_state_ready(dir, &err), -1);
	assert_int_equal(err.code, HG_CNI_NOT_READY);
	assert_contains(err.msg, dir);
	/* The state directory itself being a regular file. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(hg_state_ready(file, &err), -1);
	assert_int_equal(err.code, HG_CNI_NOT_READY);
	free(dir);
	free(file);
}

static void test_lock_excludes_other_descriptions(void **state)
{
	const char *root = *state;
	struct hg_error err = {0};
	char *dir = path_join(root, "state");
	int fd = hg_state_lock(dir, "host", &err);
	assert_true(fd >= 0);
	char *lock = path_join(dir, ".host.lock");
	int other = open(lock, O_RDWR | O_CLOEXEC);
	assert_true(other >= 0);
	/* Held: another open file description cannot take it. */
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	close(fd);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* The lock file is not a record. */
	char **paths = NULL;
	assert_int_equal(hg_state_list(dir, &paths, &err), 0);
	assert_int_equal(strv_len(paths), 0);
	strv_free(paths);
	free(lock);
	free(dir);
}

/* A symlink planted at the temp name is not followed, and a state directory that others
 * could write, or a symlink, is refused. */
static void test_no_follow_and_dir_checks(void **state)
{
	const char *root = *state;
	char *dir = NULL, *path = NULL, *tmp = NULL, *canary = NULL, *link = NULL, *open_dir = NULL;
	struct hg_error err = {0};
	assert_true(asprintf(&dir, "%s/s", root) > 0);
	assert_true(asprintf(&path, "%s/r.json", dir) > 0);
	assert_true(asprintf(&tmp, "%s/.tmp.%d.json", dir, (int) getpid()) > 0);
	assert_true(asprintf(&canary, "%s/canary", root) > 0);
	file_write_str(canary, "canary\n");
	assert_int_equal(hg_state_check_dir(dir, &err), 0);
	assert_int_equal(symlink(canary, tmp), 0);
	json_t *rec = json_pack("{s:i}", "version", 1);
	assert_int_equal(hg_state_write(path, rec, &err), 0);
	char *text = file_read(canary, NULL);
	assert_string_equal(text, "canary\n");
	free(text);
	assert_int_equal(access(tmp, F_OK), -1);
	json_decref(rec);

	assert_true(asprintf(&link, "%s/link", root) > 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(hg_state_check_dir(link, &err), -1);
	assert_int_equal(err.code, HG_CNI_STATE);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_true(asprintf(&open_dir, "%s/open", root) > 0);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	assert_int_equal(hg_state_check_dir(open_dir, &err), -1);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_int_equal(chmod(open_dir, 0755), 0);
	assert_int_equal(hg_state_check_dir(open_dir, &err), 0);
	free(dir);
	free(path);
	free(tmp);
	free(canary);
	free(link);
	free(open_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_paths_of_each_kind),
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_only_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_makes_private_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_excludes_other_descriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_follow_and_dir_checks, setup, teardown),
	};
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
