/* SPDX-License-Identifier: Apache-2.0 */
/* names.c without root: one block per file for every owner (the union of their names, each
 * once; one owner's removal takes only its names; the last takes the block; the previous
 * version's per-owner blocks are taken in), and the 64-owner cap of one hosts file, as
 * README's Limits describes it (the 65th live owner is refused with code 103, and neither
 * the file nor the registry changes; an owner whose process is gone makes room). */
#include "test-helpers.h"
#include "ops/names.h"
#include "ops/record.h"
#include "ops/registry.h"
#include "ops/state.h"
#include "os/target.h"
#include "base/util.h"
#include <sys/wait.h>

static int setup(void **state)
{
	char *dir = tmpdir_make();
	hg_hosts_lock_dir = dir; /* not the machine's /run/host-gateway */
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	hg_hosts_lock_dir = HG_DEFAULT_STATE_DIR;
	tmpdir_remove(*state);
	return 0;
}

static int write_owner(const char *dir, const struct hg_hosts_target *t, int i, pid_t pid,
		       unsigned long long start, struct hg_error *err)
{
	char key[64];
	_cleanup_free_ char *block = NULL;
	char name[64];
	char *names[] = {"host.docker.internal", name, NULL};
	struct hg_hosts_entry e = {.names = names};
	hg_ip_parse("10.0.0.1", false, &e.ip);
	snprintf(key, sizeof(key), "net+c%02d+eth0", i);
	snprintf(name, sizeof(name), "c%02d.internal", i);
	struct hg_names_owner o = {.key = key, .pid = pid, .pid_start = start};
	return hg_names_write(dir, &o, &e, 1, t, &block, NULL, err);
}

static void test_owner_cap(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *hosts = path_join(dir, "etc-hosts");
	struct hg_hosts_target t;
	struct hg_error err = {0};
	unsigned long long start, dead_start;
	file_write_str(hosts, "127.0.0.1 localhost\n");
	assert_int_equal(hg_target_file(hosts, &t), 0);
	assert_int_equal(hg_pid_start_time(getpid(), &start), 0);

	/* A process that is gone by the time the 65th comes. */
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c;
		close(pipefd[1]);
		(void) !read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	assert_int_equal(hg_pid_start_time(child, &dead_start), 0);
	for (int i = 0; i < HG_HOSTS_MAX_OWNERS; i++) {
		int r = write_owner(dir, &t, i, i ? getpid() : child, i ? start : dead_start, &err);
		if (r < 0)
			print_message("owner %d: %s\n", i, err.msg);
		assert_int_equal(r, 0);
	}

	/* 64 live owners: the 65th is refused, and neither the file nor the registry changes. */
	struct stat st;
	char registry[512];
	assert_int_equal(stat(hosts, &st), 0);
	snprintf(registry, sizeof(registry), "%s/hosts/%llu-%llu.json", dir, (unsigned long long) st.st_dev,
		 (unsigned long long) st.st_ino);
	_cleanup_free_ char *file_before = file_read(hosts, NULL), *reg_before = file_read(registry, NULL);
	assert_int_equal(write_owner(dir, &t, 64, getpid(), start, &err), -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	assert_contains(err.msg, "has 64 owners already");
	_cleanup_free_ char *file_after = file_read(hosts, NULL), *reg_after = file_read(registry, NULL);
	assert_string_equal(file_before, file_after);
	assert_string_equal(reg_before, reg_after);

	/* The first owner's process gone: its place is the 65th's. */
	close(pipefd[1]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(write_owner(dir, &t, 64, getpid(), start, &err), 0);
	_cleanup_free_ char *text = file_read(hosts, NULL);
	assert_null(strstr(text, "c00.internal"));
	assert_non_null(strstr(text, "c64.internal"));
	hg_target_free(&t);
}

#define BEGIN HG_HOSTS_BEGIN "\n"
#define END HG_HOSTS_END "\n"
#define USER "127.0.0.1\tlocalhost\n"

static int put(const char *dir, const struct hg_hosts_target *t, const char *key, const char *ip, char **names)
{
	struct hg_error err = {0};
	unsigned long long start;
	_cleanup_free_ char *block = NULL;
	struct hg_hosts_entry e = {.names = names};
	assert_int_equal(hg_ip_parse(ip, false, &e.ip), 0);
	assert_int_equal(hg_pid_start_time(getpid(), &start), 0);
	struct hg_names_owner o = {.key = key, .pid = getpid(), .pid_start = start};
	int r = hg_names_write(dir, &o, &e, 1, t, &block, NULL, &err);
	if (r < 0)
		print_message("%s: %s\n", key, err.msg);
	return r;
}

static void expect_file(const char *path, const char *want)
{
	_cleanup_free_ char *text = file_read(path, NULL);
	assert_string_equal(text, want);
}

/* Three containers of a pod: one block, each name once; one leaving takes only the names
 * nobody else has; a rewrite of the file (kubelet's) gets them all back with the next
 * write; the last leaving takes the block. */
static void test_one_block(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *hosts = path_join(dir, "etc-hosts");
	struct hg_hosts_target t;
	struct hg_error err = {0};
	bool gone = false;
	char *app1[] = {"host.docker.internal", "app1.internal", NULL};
	char *app2[] = {"host.docker.internal", "app2.internal", NULL};
	char *app3[] = {"host.docker.internal", NULL};
	file_write_str(hosts, USER);
	assert_int_equal(hg_target_file(hosts, &t), 0);
	assert_int_equal(put(dir, &t, "=hook+app1+-", "10.0.0.1", app1), 0);
	assert_int_equal(put(dir, &t, "=hook+app2+-", "10.0.0.2", app2), 0);
	assert_int_equal(put(dir, &t, "=hook+app3+-", "10.0.0.1", app3), 0);
	/* app2's host.docker.internal maps otherwise: the first owner's address wins. */
	expect_file(hosts, USER BEGIN "10.0.0.1\thost.docker.internal app1.internal\n10.0.0.2\tapp2.internal\n" END);

	/* CHECK's view: the block as the registry renders it, for every owner. */
	_cleanup_free_ char *block = NULL, *want = NULL;
	assert_int_equal(hg_names_read(dir, "=hook+app2+-", &t, &block, &want, &err), 1);
	assert_string_equal(block, "10.0.0.1\thost.docker.internal app1.internal\n10.0.0.2\tapp2.internal");
	assert_string_equal(want, block);
	free(TAKE_PTR(block));
	free(TAKE_PTR(want));

	/* app1 leaves: app1.internal goes, host.docker.internal stays (app3's, then app2's). */
	assert_int_equal(hg_names_remove(dir, "=hook+app1+-", &t, &gone, &err), 0);
	expect_file(hosts, USER BEGIN "10.0.0.2\thost.docker.internal app2.internal\n" END);

	/* kubelet rewrites the file; app3 starts again and brings every live owner's names. */
	file_write_str(hosts, "# kubelet\n" USER);
	assert_int_equal(hg_names_read(dir, "=hook+app2+-", &t, &block, &want, &err), 0);
	assert_null(block);
	assert_string_equal(want, "10.0.0.2\thost.docker.internal app2.internal");
	free(TAKE_PTR(want));
	assert_int_equal(put(dir, &t, "=hook+app3+-", "10.0.0.1", app3), 0);
	expect_file(hosts, "# kubelet\n" USER BEGIN "10.0.0.2\thost.docker.internal app2.internal\n" END);

	/* The last two leave: nothing of ours is left, nor the registry. */
	assert_int_equal(hg_names_remove(dir, "=hook+app2+-", &t, &gone, &err), 0);
	expect_file(hosts, "# kubelet\n" USER BEGIN "10.0.0.1\thost.docker.internal\n" END);
	assert_int_equal(hg_names_remove(dir, "=hook+app3+-", &t, &gone, &err), 0);
	expect_file(hosts, "# kubelet\n" USER);
	struct stat st;
	char registry[512];
	assert_int_equal(stat(hosts, &st), 0);
	snprintf(registry, sizeof(registry), "%s/hosts/%llu-%llu.json", dir, (unsigned long long) st.st_dev,
		 (unsigned long long) st.st_ino);
	assert_int_equal(access(registry, F_OK), -1);
	hg_target_free(&t);
}

#define OLD_BEGIN(o) "# BEGIN host-gateway " o " (managed block: edits here are lost)\n"
#define OLD_END(o) "# END host-gateway " o "\n"

/* An upgrade on a running node: the file has the previous version's per-owner blocks and
 * the registry lists their owners. The first write takes them into the one block; an old
 * block of an owner the registry does not list stays until that owner's removal. */
static void test_old_blocks_taken_in(void **state)
{
	const char *dir = *state;
	_cleanup_free_ char *hosts = path_join(dir, "etc-hosts");
	struct hg_hosts_target t;
	struct hg_error err = {0};
	bool gone = false;
	char *a[] = {"host.docker.internal", "a.internal", NULL};
	char *b[] = {"host.docker.internal", "b.internal", NULL};
	file_write_str(hosts, USER);
	assert_int_equal(hg_target_file(hosts, &t), 0);
	/* The registry as the previous version left it (same format): a and b. */
	assert_int_equal(put(dir, &t, "=hook+a+-", "10.0.0.1", a), 0);
	assert_int_equal(put(dir, &t, "=hook+b+-", "10.0.0.1", b), 0);
	file_write_str(hosts, USER OLD_BEGIN("=hook+a+-") "10.0.0.1\thost.docker.internal a.internal\n"
			       OLD_END("=hook+a+-") OLD_BEGIN("=hook+b+-") "10.0.0.1\thost.docker.internal b.internal\n"
				       OLD_END("=hook+b+-") OLD_BEGIN("=hook+x+-") "10.9.9.9\tx.internal\n"
					       OLD_END("=hook+x+-"));

	/* CHECK of an owner whose old block is still there compares that block. */
	_cleanup_free_ char *block = NULL, *want = NULL;
	assert_int_equal(hg_names_read(dir, "=hook+a+-", &t, &block, &want, &err), 1);
	assert_string_equal(block, "10.0.0.1\thost.docker.internal a.internal");
	assert_null(want);
	free(TAKE_PTR(block));

	/* b starts again: a's and b's old blocks become the one block; x's stays. */
	assert_int_equal(put(dir, &t, "=hook+b+-", "10.0.0.1", b), 0);
	expect_file(hosts, USER OLD_BEGIN("=hook+x+-") "10.9.9.9\tx.internal\n" OLD_END("=hook+x+-") BEGIN
		    "10.0.0.1\thost.docker.internal a.internal\n10.0.0.1\tb.internal\n" END);
	/* x (unknown to the registry) leaves: its old block goes, the one block stays. */
	assert_int_equal(hg_names_remove(dir, "=hook+x+-", &t, &gone, &err), 0);
	expect_file(hosts, USER BEGIN "10.0.0.1\thost.docker.internal a.internal\n10.0.0.1\tb.internal\n" END);

	/* Removal also takes old blocks in: a leaves while b's old block is back. */
	file_write_str(hosts, USER OLD_BEGIN("=hook+a+-") "10.0.0.1\thost.docker.internal a.internal\n"
			       OLD_END("=hook+a+-") OLD_BEGIN("=hook+b+-") "10.0.0.1\thost.docker.internal b.internal\n"
				       OLD_END("=hook+b+-"));
	assert_int_equal(hg_names_remove(dir, "=hook+a+-", &t, &gone, &err), 0);
	expect_file(hosts, USER BEGIN "10.0.0.1\thost.docker.internal b.internal\n" END);
	assert_int_equal(hg_names_remove(dir, "=hook+b+-", &t, &gone, &err), 0);
	expect_file(hosts, USER);
	hg_target_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_blocks_taken_in, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
