/* SPDX-License-Identifier: Apache-2.0 */
/* rootfs.c: opening a file inside a container root without leaving it, and a host file
 * chosen by a runtime. Every test runs twice: with openat2 (RESOLVE_IN_ROOT) and with the
 * component-wise fallback walk, which refuses every symlink and "..". */
#include "test-helpers.h"
#include <signal.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include "os/rootfs.h"
#include "os/hosts.h"

/* Does this kernel (and seccomp profile) give us openat2? */
static bool openat2_works;

/* RESOLVE_IN_ROOT semantics are in force: a symlink or ".." is resolved inside the root
 * rather than refused. */
static bool resolves_in_root(void)
{
	return openat2_works && !hg_rootfs_force_fallback;
}

struct fixture {
	char *tmp;  /* the test's directory; tmp/etc/hosts is a decoy outside the root */
	char *root; /* tmp/root */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->tmp = tmpdir_make();
	f->root = path_join(f->tmp, "root");
	assert_int_equal(mkdir(f->root, 0755), 0);
	char *etc = path_join(f->tmp, "etc"), *decoy = path_join(f->tmp, "etc/hosts");
	assert_int_equal(mkdir(etc, 0755), 0);
	file_write_str(decoy, "outside\n");
	free(etc);
	free(decoy);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->root);
	tmpdir_remove(f->tmp);
	free(f);
	return 0;
}

/* Creates root/rel (a regular file with text, a directory when text is NULL). */
static char *make(const struct fixture *f, const char *rel, const char *text)
{
	char *p = path_join(f->root, rel);
	if (text)
		file_write_str(p, text);
	else
		assert_int_equal(mkdir(p, 0755), 0);
	return p;
}

static void make_link(const struct fixture *f, const char *rel, const char *target)
{
	char *p = path_join(f->root, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_ino;
}

/* Opening root/path must give the file at want (same inode), read-write. */
static void expect_opens(const struct fixture *f, const char *path, const char *want)
{
	struct hg_error err = {0};
	int fd = hg_open_in_root(f->root, path, HG_HOSTS_MAX_SIZE, O_RDWR, &err);
	if (fd < 0)
		fail_msg("open %s in %s (fallback %d): %s", path, f->root, hg_rootfs_force_fallback, err.msg);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_ino, inode_of(want));
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* Opening root/path must be refused with HG_CNI_HOSTS_FILE (and why, when given). */
static void expect_refused(const struct fixture *f, const char *path, const char *why)
{
	struct hg_error err = {0};
	int fd = hg_open_in_root(f->root, path, HG_HOSTS_MAX_SIZE, O_RDWR, &err);
	if (fd >= 0) {
		char link[64], target[4096] = "";
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		close(fd);
		fail_msg("opened %s in %s as %s (fallback %d)", path, f->root, target, hg_rootfs_force_fallback);
	}
	assert_int_equal(fd, -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	if (why)
		assert_contains(err.msg, why);
}

static void test_regular_file(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	char *hosts = make(f, "etc/hosts", "inside\n");
	expect_opens(f, "/etc/hosts", hosts);
	expect_opens(f, "etc/hosts", hosts);
	expect_opens(f, "/etc//./hosts", hosts);

	/* The fd writes the file inside the root, nothing else. */
	struct hg_error err = {0};
	int fd = hg_open_in_root(f->root, "/etc/hosts", HG_HOSTS_MAX_SIZE, O_RDWR, &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_ino, inode_of(hosts)); /* never write anything but the file inside */
	assert_int_equal(pwrite(fd, "INSIDE", 6, 0), 6);
	close(fd);
	char *text = file_read(hosts, NULL);
	assert_string_equal(text, "INSIDE\n");
	free(text);
	free(hosts);
	char *decoy = path_join(f->tmp, "etc/hosts");
	text = file_read(decoy, NULL);
	assert_string_equal(text, "outside\n");
	free(text);
	free(decoy);
}

static void test_missing(void **state)
{
	struct fixture *f = *state;
	expect_refused(f, "/etc/hosts", "/etc/hosts");
	free(make(f, "etc", NULL));
	expect_refused(f, "/etc/hosts", NULL);

	struct hg_error err = {0};
	char *gone = path_join(f->tmp, "no-such-root");
	assert_int_equal(hg_open_in_root(gone, "/etc/hosts", HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	assert_contains(err.msg, gone);
	free(gone);
}

static void test_final_symlink_refused(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	char *real = make(f, "etc/hosts.real", "inside\n");
	/* Even a symlink that stays inside the root is not followed at the last component. */
	make_link(f, "etc/hosts", "hosts.real");
	expect_refused(f, "/etc/hosts", "symbolic link");
	make_link(f, "etc/hosts-abs", "/etc/hosts");
	expect_refused(f, "/etc/hosts-abs", "symbolic link");
	make_link(f, "etc/hosts-up", "../../etc/hosts");
	expect_refused(f, "/etc/hosts-up", "symbolic link");
	char *text = file_read(real, NULL);
	assert_string_equal(text, "inside\n");
	free(text);
	free(real);
}

/* An image whose /etc is a symlink to "/": resolved inside the root (openat2), or refused
 * (fallback); never the host's /etc/hosts. */
static void test_etc_symlink_to_root(void **state)
{
	struct fixture *f = *state;
	char *top = make(f, "hosts", "root-level\n");
	make_link(f, "etc", "/");
	if (resolves_in_root())
		expect_opens(f, "/etc/hosts", top);
	else
		expect_refused(f, "/etc/hosts", NULL);
	free(top);
}

/* "..", directly or through a symlink, never climbs above the root. */
static void test_dotdot_stays_inside(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	char *hosts = make(f, "etc/hosts", "inside\n");
	make_link(f, "up", "../../../../..");
	free(make(f, "sub", NULL));
	make_link(f, "sub/up2", "../../");
	if (resolves_in_root()) {
		expect_opens(f, "up/etc/hosts", hosts);
		expect_opens(f, "sub/up2/etc/hosts", hosts);
		expect_opens(f, "../etc/hosts", hosts);
		expect_opens(f, "/../../etc/hosts", hosts);
		expect_opens(f, "etc/../../etc/hosts", hosts);
	} else {
		expect_refused(f, "up/etc/hosts", NULL);
		expect_refused(f, "sub/up2/etc/hosts", NULL);
		expect_refused(f, "../etc/hosts", NULL);
		expect_refused(f, "/../../etc/hosts", NULL);
		expect_refused(f, "etc/../../etc/hosts", NULL);
	}
	free(hosts);
}

static void on_alarm(int sig)
{
	(void) sig;
	static const char msg[] = "opening a FIFO blocked\n";
	(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(99);
}

static void test_fifo_refused_without_blocking(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	char *fifo = path_join(f->root, "etc/hosts");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	/* Nobody opens the other end: an open for I/O would block forever. */
	signal(SIGALRM, on_alarm);
	alarm(10);
	expect_refused(f, "/etc/hosts", "not a regular file");
	struct hg_error err = {0};
	assert_int_equal(hg_open_host_file(fifo, HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, "not a regular file");
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	free(fifo);
}

static void test_directory_refused(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	free(make(f, "etc/hosts", NULL));
	expect_refused(f, "/etc/hosts", "not a regular file");
	expect_refused(f, "/etc", "not a regular file");
	expect_refused(f, "/", "not a regular file");
}

static void test_too_large_refused(void **state)
{
	struct fixture *f = *state;
	free(make(f, "etc", NULL));
	char *hosts = make(f, "etc/hosts", "");
	assert_int_equal(truncate(hosts, HG_HOSTS_MAX_SIZE + 1), 0); /* sparse: no 1 MiB written */
	expect_refused(f, "/etc/hosts", "larger");
	assert_int_equal(truncate(hosts, HG_HOSTS_MAX_SIZE), 0);
	expect_opens(f, "/etc/hosts", hosts);
	/* The limit is the caller's. */
	struct hg_error err = {0};
	assert_int_equal(hg_open_in_root(f->root, "/etc/hosts", 100, O_RDWR, &err), -1);
	assert_contains(err.msg, "larger");
	free(hosts);
}

static void test_host_file(void **state)
{
	struct fixture *f = *state;
	struct hg_error err = {0};
	char *file = path_join(f->tmp, "etc-hosts");
	file_write_str(file, "x\n");
	int fd = hg_open_host_file(file, HG_HOSTS_MAX_SIZE, O_RDWR, &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_ino, inode_of(file));
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fd);

	char *link = path_join(f->tmp, "link");
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(hg_open_host_file(link, HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	assert_contains(err.msg, "symbolic link");

	assert_int_equal(hg_open_host_file("etc/hosts", HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, "absolute");
	assert_int_equal(hg_open_host_file(f->tmp, HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, "not a regular file");
	assert_int_equal(hg_open_host_file("/dev/null", HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, "not a regular file");
	assert_int_equal(truncate(file, HG_HOSTS_MAX_SIZE + 1), 0);
	assert_int_equal(hg_open_host_file(file, HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, "larger");
	char *missing = path_join(f->tmp, "missing");
	assert_int_equal(hg_open_host_file(missing, HG_HOSTS_MAX_SIZE, O_RDWR, &err), -1);
	assert_contains(err.msg, missing);

	/* Read-only, for a diagnosis: opened so, and a refusal says it is not read (nothing
	 * would have been written anyway). */
	assert_int_equal(truncate(file, 10), 0);
	fd = hg_open_host_file(file, HG_HOSTS_MAX_SIZE, O_RDONLY, &err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	assert_int_equal(hg_open_host_file("/dev/null", HG_HOSTS_MAX_SIZE, O_RDONLY, &err), -1);
	assert_contains(err.msg, "is not a regular file, not read");
	assert_int_equal(hg_open_host_file(file, 5, O_RDONLY, &err), -1);
	assert_contains(err.msg, "is larger than 5 bytes, not read");
	assert_null(strstr(err.msg, "write"));
	free(missing);
	free(link);
	free(file);
}

static int use_openat2(void **state)
{
	hg_rootfs_force_fallback = false;
	return 0;
}

static int use_fallback(void **state)
{
	hg_rootfs_force_fallback = true;
	return 0;
}

#define TESTS                                                                                   \
	{                                                                                       \
		cmocka_unit_test_setup_teardown(test_regular_file, setup, teardown),            \
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),                 \
		cmocka_unit_test_setup_teardown(test_final_symlink_refused, setup, teardown),   \
		cmocka_unit_test_setup_teardown(test_etc_symlink_to_root, setup, teardown),     \
		cmocka_unit_test_setup_teardown(test_dotdot_stays_inside, setup, teardown),     \
		cmocka_unit_test_setup_teardown(test_fifo_refused_without_blocking, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_directory_refused, setup, teardown),       \
		cmocka_unit_test_setup_teardown(test_too_large_refused, setup, teardown),       \
		cmocka_unit_test_setup_teardown(test_host_file, setup, teardown),               \
	}

int main(void)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC};
	int fd = (int) syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
	openat2_works = fd >= 0;
	if (fd >= 0)
		close(fd);
	else
		fprintf(stderr, "openat2 is not available (%s): both groups test the fallback walk\n", strerror(errno));

	const struct CMUnitTest with_openat2[] = TESTS;
	const struct CMUnitTest with_fallback[] = TESTS;
	int failed = cmocka_run_group_tests_name("rootfs (openat2)", with_openat2, use_openat2, NULL);
	failed += cmocka_run_group_tests_name("rootfs (fallback walk)", with_fallback, use_fallback, NULL);
	return failed;
}
