/* names.c without root: the 64-owner cap of one hosts file, as README's Limits describes it
 * (the 65th live owner is refused with code 103, and neither the file nor the registry
 * changes; an owner whose process is gone makes room). */
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
	char *names[] = {"host.docker.internal", NULL};
	struct hg_hosts_entry e = {.names = names};
	hg_ip_parse("10.0.0.1", false, &e.ip);
	snprintf(key, sizeof(key), "net+c%02d+eth0", i);
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
	assert_null(strstr(text, "net+c00+eth0"));
	assert_non_null(strstr(text, "net+c64+eth0"));
	hg_target_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_cap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
