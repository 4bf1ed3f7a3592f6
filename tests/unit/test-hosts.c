/* SPDX-License-Identifier: Apache-2.0 */
/* hosts.c: the managed block of /etc/hosts (merge, strip, block, and the in-place file
 * operations), and attach.c's hg_entries_build, which produces the lines of the block. */
#include "test-helpers.h"
#include <sys/file.h>
#include "os/hosts.h"
#include "ops/attach.h"
#include "base/config.h"
#include "base/util.h"

#define BEGIN HG_HOSTS_BEGIN
#define END HG_HOSTS_END
#define L4 "10.0.2.2\thost.docker.internal host.containers.internal"
#define L6 "fd00::1\thost.docker.internal host.containers.internal"
/* Our block for the two default entries, LF and CRLF. */
#define BLOCK BEGIN "\n" L4 "\n" L6 "\n" END "\n"
#define BLOCK_CRLF BEGIN "\r\n" L4 "\r\n" L6 "\r\n" END "\r\n"

static char *const names[] = {"host.docker.internal", "host.containers.internal", NULL};
static struct hg_hosts_entry entries[2];

static int setup(void **state)
{
	assert_int_equal(hg_ip_parse("10.0.2.2", false, &entries[0].ip), 0);
	entries[0].names = names;
	assert_int_equal(hg_ip_parse("fd00::1", false, &entries[1].ip), 0);
	entries[1].names = names;
	return 0;
}

/* merge(content) with the two default entries; the caller frees. */
static char *merge_n(const char *content, const struct hg_hosts_entry *e, size_t n, char **block)
{
	char *out = NULL, *blk = NULL;
	size_t out_len = 0;
	assert_int_equal(hg_hosts_merge(content, strlen(content), NULL, e, n, &out, &out_len, &blk), 0);
	assert_non_null(out);
	assert_non_null(blk);
	assert_int_equal(out_len, strlen(out)); /* the length is the text's */
	if (block)
		*block = blk;
	else
		free(blk);
	return out;
}

static char *merge(const char *content, char **block)
{
	return merge_n(content, entries, 2, block);
}

static char *strip(const char *content)
{
	char *out = NULL;
	size_t out_len = 0;
	assert_int_equal(hg_hosts_strip(content, strlen(content), NULL, &out, &out_len), 0);
	assert_non_null(out);
	assert_int_equal(out_len, strlen(out));
	return out;
}

/* merge must give want, and merging its own output again must give the same bytes. */
static void expect_merge(const char *content, const char *want)
{
	char *out = merge(content, NULL);
	assert_string_equal(out, want);
	char *again = merge(out, NULL);
	assert_string_equal(again, out);
	free(again);
	free(out);
}

static void test_empty_file(void **state)
{
	char *block = NULL;
	char *out = merge("", &block);
	assert_string_equal(out, BLOCK);
	assert_string_equal(block, L4 "\n" L6);
	free(out);
	free(block);
}

static void test_appends_after_user_lines(void **state)
{
	expect_merge("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n",
		     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n" BLOCK);
}

static void test_no_trailing_newline(void **state)
{
	expect_merge("127.0.0.1\tlocalhost", "127.0.0.1\tlocalhost\n" BLOCK);
	/* Only a blank line without terminator. */
	expect_merge(" ", " \n" BLOCK);
}

static void test_crlf(void **state)
{
	const char *user = "127.0.0.1 localhost\r\n# a comment\r\n\r\n::1 localhost\r\n";
	char *out = merge(user, NULL);
	assert_memory_equal(out, user, strlen(user)); /* user lines byte-identical */
	assert_string_equal(out + strlen(user), BLOCK_CRLF);
	free(out);
	expect_merge(user, "127.0.0.1 localhost\r\n# a comment\r\n\r\n::1 localhost\r\n" BLOCK_CRLF);
	/* CRLF file without a final line break. */
	expect_merge("127.0.0.1 localhost\r\n::1 localhost", "127.0.0.1 localhost\r\n::1 localhost\r\n" BLOCK_CRLF);
	/* A CRLF block already present is recognised and replaced. */
	expect_merge("a b\r\n" BEGIN "\r\n10.9.9.9\thost.docker.internal\r\n" END "\r\nc d\r\n",
		     "a b\r\nc d\r\n" BLOCK_CRLF);
}

static void test_user_maps_a_name(void **state)
{
	char *block = NULL;
	/* Case-insensitive: the user's HOST.Docker.Internal wins for both families. */
	char *out = merge("10.9.9.9 HOST.Docker.Internal  # mine\n", &block);
	assert_string_equal(out, "10.9.9.9 HOST.Docker.Internal  # mine\n" BEGIN "\n"
				 "10.0.2.2\thost.containers.internal\n"
				 "fd00::1\thost.containers.internal\n" END "\n");
	assert_string_equal(block, "10.0.2.2\thost.containers.internal\nfd00::1\thost.containers.internal");
	free(out);
	free(block);

	/* A name that only appears in a comment is not mapped by the user. */
	expect_merge("# 10.9.9.9 host.docker.internal\n10.1.1.1 other # host.containers.internal\n",
		     "# 10.9.9.9 host.docker.internal\n10.1.1.1 other # host.containers.internal\n" BLOCK);
	/* A line with only an address maps nothing; tabs separate like spaces. */
	expect_merge("10.9.9.9\n10.8.8.8\tx\thost.containers.internal\n",
		     "10.9.9.9\n10.8.8.8\tx\thost.containers.internal\n" BEGIN "\n"
		     "10.0.2.2\thost.docker.internal\nfd00::1\thost.docker.internal\n" END "\n");
}

static void test_all_names_mapped(void **state)
{
	const char *user = "10.9.9.9 host.docker.internal host.containers.internal";
	char *block = NULL;
	char *out = merge(user, &block);
	assert_string_equal(out, user); /* no block, not even a line break added */
	assert_string_equal(block, "");
	free(out);
	free(block);

	/* An old block goes even when nothing new is written. */
	expect_merge("10.9.9.9 host.docker.internal host.containers.internal\n" BLOCK,
		     "10.9.9.9 host.docker.internal host.containers.internal\n");

	/* No entries at all: no block. */
	char *none = merge_n("a b\n", entries, 0, &block);
	assert_string_equal(none, "a b\n");
	assert_string_equal(block, "");
	free(none);
	free(block);
}

static void test_block_replaced(void **state)
{
	const char *old = "127.0.0.1 localhost\n" BEGIN "\n10.88.0.1\thost.docker.internal host.containers.internal\n" END
			  "\n192.168.1.5 nas\n";
	char *out = merge(old, NULL);
	/* Our old lines are not taken as the user's: the names are written again, with the new address. */
	assert_string_equal(out, "127.0.0.1 localhost\n192.168.1.5 nas\n" BLOCK);
	assert_int_equal(count_str(out, HG_HOSTS_BEGIN_PREFIX), 1);
	assert_int_equal(count_str(out, END), 1);
	assert_not_contains(out, "10.88.0.1");
	free(out);
}

static void test_stale_block(void **state)
{
	/* A block of another version of ours (shorter BEGIN marker, other names) is ours too. */
	expect_merge("a b\n" HG_HOSTS_BEGIN_PREFIX "\n10.1.1.1\told.name\n" END "\n", "a b\n" BLOCK);
	/* A stray END marker is ours as well. */
	expect_merge("a b\n" END "\nc d\n", "a b\nc d\n" BLOCK);
}

static void test_duplicated_blocks(void **state)
{
	const char *dup = "u1 one\n" BLOCK "u2 two\n" BEGIN "\n10.3.3.3\thost.docker.internal\n" END "\nu3 three\n" BLOCK;
	char *out = merge(dup, NULL);
	assert_string_equal(out, "u1 one\nu2 two\nu3 three\n" BLOCK);
	assert_int_equal(count_str(out, HG_HOSTS_BEGIN_PREFIX), 1);
	free(out);
	char *s = strip(dup);
	assert_string_equal(s, "u1 one\nu2 two\nu3 three\n");
	free(s);
}

static void test_begin_without_end(void **state)
{
	/* Only the marker goes: the user's lines after it stay, and count as the user's. */
	const char *damaged = "127.0.0.1 localhost\n" BEGIN "\n10.9.9.9 host.docker.internal\n192.168.1.5 nas\n";
	char *s = strip(damaged);
	assert_string_equal(s, "127.0.0.1 localhost\n10.9.9.9 host.docker.internal\n192.168.1.5 nas\n");
	free(s);
	expect_merge(damaged, "127.0.0.1 localhost\n10.9.9.9 host.docker.internal\n192.168.1.5 nas\n" BEGIN "\n"
			      "10.0.2.2\thost.containers.internal\nfd00::1\thost.containers.internal\n" END "\n");

	/* A lone BEGIN before a complete block: the marker goes, the user line stays, the block goes. */
	const char *two = "a b\n" BEGIN "\nuser line\n" BEGIN "\n10.7.7.7\tx\n" END "\n";
	s = strip(two);
	assert_string_equal(s, "a b\nuser line\n");
	free(s);

	/* BEGIN as the very last line, without terminator. */
	s = strip("a b\n" BEGIN);
	assert_string_equal(s, "a b\n");
	free(s);
}

static void test_comments_and_blanks_kept(void **state)
{
	const char *user = "# /etc/hosts\n\n   # indented comment\n127.0.0.1\tlocalhost  # trailing\n\t\n"
			   "# BEGIN something else\n::1 localhost\n";
	expect_merge(user, "# /etc/hosts\n\n   # indented comment\n127.0.0.1\tlocalhost  # trailing\n\t\n"
			   "# BEGIN something else\n::1 localhost\n" BLOCK);
}

static void test_strip_without_block_identical(void **state)
{
	static const char *const texts[] = {
		"",
		"127.0.0.1 localhost\n",
		"127.0.0.1 localhost",
		"a b\r\nc d\r\n",
		"\n\n\n",
		"# only a comment",
		"# END host-gateway-like but not ours\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char *s = strip(texts[i]);
		assert_string_equal(s, texts[i]);
		free(s);
	}
}

static void test_strip_undoes_merge(void **state)
{
	static const char *const texts[] = {
		"",
		"127.0.0.1 localhost\n::1 localhost\n",
		"a b\r\n",
		"10.9.9.9 host.docker.internal\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char *m = merge(texts[i], NULL);
		assert_string_not_equal(m, texts[i]);
		char *s = strip(m);
		assert_string_equal(s, texts[i]);
		free(s);
		free(m);
	}
}

static void test_duplicate_names_emitted_once(void **state)
{
	char *const a[] = {"a.test", "b.test", "a.test", NULL};
	char *const b[] = {"b.test", "c.test", NULL};
	struct hg_hosts_entry e[3];
	assert_int_equal(hg_ip_parse("10.0.0.1", false, &e[0].ip), 0);
	e[0].names = a;
	assert_int_equal(hg_ip_parse("10.0.0.2", false, &e[1].ip), 0);
	e[1].names = b;
	assert_int_equal(hg_ip_parse("fd00::2", false, &e[2].ip), 0);
	e[2].names = b;
	char *block = NULL;
	char *out = merge_n("", e, 3, &block);
	/* Per family, a name is written for its first address only. */
	assert_string_equal(block, "10.0.0.1\ta.test b.test\n10.0.0.2\tc.test\nfd00::2\tb.test c.test");
	free(out);
	free(block);
}

/* "10.0.0.1 a1 a2 ...": short-name lines up to about size bytes, with line inserted about
 * halfway; the caller frees. */
static char *short_names_file(size_t size, const char *line)
{
	char *text = malloc(size + strlen(line) + 1);
	size_t len = 0;
	assert_non_null(text);
	for (unsigned i = 0; len + 600 < size; i++) {
		len += sprintf(text + len, "10.0.%u.%u", i / 250 % 250, i % 250 + 1);
		for (unsigned j = 0; j < 100; j++)
			len += sprintf(text + len, " a%u", j);
		text[len++] = '\n';
		if (i == 1000)
			len += sprintf(text + len, "%s", line);
	}
	text[len] = '\0';
	return text;
}

/* A 1 MiB file of short names (the size limit) merges like a small one: user lines kept,
 * the user's name respected, idempotent. Matching the user's names used to be quadratic
 * in their number (17 s for this file, now milliseconds); the test timeout catches a
 * return to that. */
static void test_large_file(void **state)
{
	char *content = short_names_file(HG_HOSTS_MAX_SIZE, "10.9.9.9 a1 HOST.containers.internal # mine\n");
	assert_true(strlen(content) > HG_HOSTS_MAX_SIZE - 1000 && strlen(content) <= HG_HOSTS_MAX_SIZE);
	char *block = NULL;
	char *out = merge(content, &block);
	assert_string_equal(block, "10.0.2.2\thost.docker.internal\nfd00::1\thost.docker.internal");
	size_t n = strlen(content);
	assert_memory_equal(out, content, n);
	assert_string_equal(out + n, BEGIN "\n10.0.2.2\thost.docker.internal\nfd00::1\thost.docker.internal\n" END "\n");
	char *again = merge(out, NULL);
	assert_string_equal(again, out);
	char *stripped = strip(out);
	assert_string_equal(stripped, content);
	free(stripped);
	free(again);
	free(out);
	free(block);
	free(content);
}

/* A name is the user's wherever it stands on its line, however long the line. */
static void test_name_at_end_of_long_line(void **state)
{
	size_t n = 20000;
	char *content = malloc(n + 100);
	assert_non_null(content);
	strcpy(content, "10.9.9.9");
	for (size_t len = strlen(content); len < n; len += 2)
		strcpy(content + len, " x");
	strcat(content, " host.docker.internal host.containers.internal\n");
	char *block = NULL;
	char *out = merge(content, &block);
	assert_string_equal(out, content);
	assert_string_equal(block, "");
	free(out);
	free(block);
	free(content);
}

static void test_block_read(void **state)
{
	char *block = (char *) "sentinel";
	assert_int_equal(hg_hosts_block("a b\n", 4, NULL, &block), 0);
	assert_null(block);

	const char *crlf = "a b\r\n" BLOCK_CRLF "c d\r\n";
	assert_int_equal(hg_hosts_block(crlf, strlen(crlf), NULL, &block), 1);
	assert_string_equal(block, L4 "\n" L6); /* without the \r */
	free(block);

	/* An empty block. */
	const char *empty = BEGIN "\n" END "\n";
	assert_int_equal(hg_hosts_block(empty, strlen(empty), NULL, &block), 1);
	assert_string_equal(block, "");
	free(block);

	/* Unclosed: no block. */
	const char *open = "a b\n" BEGIN "\nuser\n";
	block = (char *) "sentinel";
	assert_int_equal(hg_hosts_block(open, strlen(open), NULL, &block), 0);
	assert_null(block);

	/* hg_hosts_block reads what merge writes. */
	char *written = NULL;
	char *out = merge("127.0.0.1 localhost\n", &written);
	assert_int_equal(hg_hosts_block(out, strlen(out), NULL, &block), 1);
	assert_string_equal(block, written);
	free(block);
	free(written);
	free(out);

	/* A lone BEGIN before a complete block: the block is the complete one, as strip sees it,
	 * not the user's lines after the lone marker. */
	const char *two = "a b\n" BEGIN "\nuser line\n" BEGIN "\n10.7.7.7\tx\n" END "\n";
	assert_int_equal(hg_hosts_block(two, strlen(two), NULL, &block), 1);
	assert_string_equal(block, "10.7.7.7\tx");
	free(block);
	const char *two_empty = "a b\n" BEGIN "\nuser line\n" BEGIN "\n" END "\n";
	assert_int_equal(hg_hosts_block(two_empty, strlen(two_empty), NULL, &block), 1);
	assert_string_equal(block, "");
	free(block);
}

/* In-place file operations ---------------------------------------------------------------- */

struct file_fixture {
	char *dir, *path;
};

static int file_setup(void **state)
{
	struct file_fixture *f = calloc(1, sizeof(*f));
	f->dir = tmpdir_make();
	f->path = path_join(f->dir, "hosts");
	*state = f;
	return setup(NULL);
}

static int file_teardown(void **state)
{
	struct file_fixture *f = *state;
	free(f->path);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void set_old_mtime(int fd)
{
	struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	assert_int_equal(futimens(fd, ts), 0);
}

static void test_apply_fd(void **state)
{
	struct file_fixture *f = *state;
	const char *user = "127.0.0.1 localhost\n";
	struct stat before, after, by_path;
	struct hg_error err = {0};
	char *block = NULL;

	file_write(f->path, user, strlen(user), 0640);
	int fd = open(f->path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &before), 0);

	assert_int_equal(hg_hosts_apply_fd(fd, "test hosts", NULL, entries, 2, &block, &err), 0);
	assert_string_equal(block, L4 "\n" L6);
	free(block);
	char *text = file_read(f->path, NULL);
	assert_string_equal(text, "127.0.0.1 localhost\n" BLOCK);
	free(text);
	/* Rewritten in place: same inode (a bind mount keeps pointing at it), same mode. */
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(stat(f->path, &by_path), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(by_path.st_ino, before.st_ino);
	assert_int_equal(after.st_mode & 07777, 0640);

	/* Nothing is written when nothing changes. */
	set_old_mtime(fd);
	assert_int_equal(hg_hosts_apply_fd(fd, "test hosts", NULL, entries, 2, &block, &err), 0);
	free(block);
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(after.st_mtim.tv_sec, 1000000000);

	char *read_block = NULL;
	assert_int_equal(hg_hosts_read_block_fd(fd, "test hosts", NULL, &read_block, &err), 1);
	assert_string_equal(read_block, L4 "\n" L6);
	free(read_block);

	assert_int_equal(hg_hosts_remove_fd(fd, "test hosts", NULL, &err), 0);
	text = file_read(f->path, NULL);
	assert_string_equal(text, user);
	free(text);
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_mode & 07777, 0640);

	/* Removing again changes nothing and writes nothing. */
	set_old_mtime(fd);
	assert_int_equal(hg_hosts_remove_fd(fd, "test hosts", NULL, &err), 0);
	assert_int_equal(fstat(fd, &after), 0);
	assert_int_equal(after.st_mtim.tv_sec, 1000000000);
	read_block = (char *) "sentinel";
	assert_int_equal(hg_hosts_read_block_fd(fd, "test hosts", NULL, &read_block, &err), 0);
	assert_null(read_block);
	close(fd);
}

static void test_apply_fd_shrinks(void **state)
{
	struct file_fixture *f = *state;
	struct hg_error err = {0};
	char *block = NULL;
	/* A long stale block: the new text is shorter, and no old byte may survive past its end. */
	char big[8192];
	int n = snprintf(big, sizeof(big), "a b\n%s\n", BEGIN);
	for (int i = 0; i < 100; i++)
		n += snprintf(big + n, sizeof(big) - n, "10.0.0.%d\tstale-name-%d.example\n", i, i);
	n += snprintf(big + n, sizeof(big) - n, "%s\n", END);
	file_write(f->path, big, n, 0644);

	int fd = open(f->path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(hg_hosts_apply_fd(fd, "test hosts", NULL, entries, 2, &block, &err), 0);
	free(block);
	size_t len;
	char *text = file_read(f->path, &len);
	assert_string_equal(text, "a b\n" BLOCK);
	assert_int_equal(len, strlen("a b\n" BLOCK));
	free(text);
	close(fd);
}

static void test_apply_fd_refuses(void **state)
{
	struct file_fixture *f = *state;
	struct hg_error err = {0};
	char *block = NULL;

	/* A directory. */
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(hg_hosts_apply_fd(dfd, "a directory", NULL, entries, 2, &block, &err), -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	assert_contains(err.msg, "a directory");
	assert_null(block);
	close(dfd);

	/* Over the size limit (sparse): refused and left as it was. */
	int fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, HG_HOSTS_MAX_SIZE + 1), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(hg_hosts_apply_fd(fd, "big hosts", NULL, entries, 2, &block, &err), -1);
	assert_int_equal(err.code, HG_CNI_HOSTS_FILE);
	assert_contains(err.msg, "larger");
	assert_int_equal(hg_hosts_remove_fd(fd, "big hosts", NULL, &err), -1);
	assert_int_equal(hg_hosts_read_block_fd(fd, "big hosts", NULL, &block, &err), -1);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, HG_HOSTS_MAX_SIZE + 1);

	/* Exactly at the limit is fine. */
	assert_int_equal(ftruncate(fd, HG_HOSTS_MAX_SIZE), 0);
	assert_int_equal(hg_hosts_read_block_fd(fd, "hosts at the limit", NULL, &block, &err), 0);
	close(fd);
}

static void test_apply_fd_releases_lock(void **state)
{
	struct file_fixture *f = *state;
	struct hg_error err = {0};
	char *block = NULL;
	file_write_str(f->path, "a b\n");
	int fd = open(f->path, O_RDWR | O_CLOEXEC);
	assert_int_equal(hg_hosts_apply_fd(fd, "test hosts", NULL, entries, 2, &block, &err), 0);
	free(block);
	/* Another open file description can lock it at once: the lock is not left held. */
	int other = open(f->path, O_RDWR | O_CLOEXEC);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	close(fd);
}

/* Several owners in one file ----------------------------------------------------------- */

static char *merge_drop(const char *content, char *const *drop, const struct hg_hosts_entry *e, size_t n,
			char **block)
{
	char *out = NULL, *blk = NULL;
	size_t len;
	assert_int_equal(hg_hosts_merge(content, strlen(content), drop, e, n, &out, &len, &blk), 0);
	assert_int_equal(len, strlen(out));
	if (block)
		*block = blk;
	else
		free(blk);
	return out;
}

static char *strip_drop(const char *content, char *const *drop)
{
	char *out = NULL;
	size_t len;
	assert_int_equal(hg_hosts_strip(content, strlen(content), drop, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	return out;
}

static char *block_of(const char *content, const char *owner)
{
	char *b = NULL;
	int r = hg_hosts_block(content, strlen(content), owner, &b);
	assert_true(r >= 0);
	return r ? b : NULL;
}

#define OLD_BEGIN(o) "# BEGIN host-gateway " o " (managed block: edits here are lost)\n"
#define OLD_END(o) "# END host-gateway " o "\n"
#define USER "127.0.0.1\tlocalhost\n# keep me\n"

/* The union of the owners' entries is one block, each name once per family, the first
 * owner of a name winning; what the user maps stays the user's. */
static void test_union_block(void **state)
{
	static char *const a_names[] = {"a.local", "shared.local", NULL};
	static char *const b_names[] = {"b.local", "shared.local", NULL};
	struct hg_hosts_entry e[3] = {{.names = a_names}, {.names = b_names}, {.names = a_names}};
	assert_int_equal(hg_ip_parse("10.0.0.1", false, &e[0].ip), 0);
	assert_int_equal(hg_ip_parse("10.1.0.1", false, &e[1].ip), 0);
	assert_int_equal(hg_ip_parse("fd00::1", false, &e[2].ip), 0);
	char *block = NULL;
	char *out = merge_drop(USER, NULL, e, 3, &block);
	assert_string_equal(out, USER BEGIN "\n"
				 "10.0.0.1\ta.local shared.local\n"
				 "10.1.0.1\tb.local\n"
				 "fd00::1\ta.local shared.local\n" END "\n");
	assert_string_equal(block, "10.0.0.1\ta.local shared.local\n10.1.0.1\tb.local\nfd00::1\ta.local shared.local");
	free(block);
	/* Rendering again (another owner's write) changes nothing. */
	char *again = merge_drop(out, NULL, e, 3, NULL);
	assert_string_equal(again, out);
	free(again);
	/* The first owner gone: b's shared.local takes over. */
	char *without_a = merge_drop(out, NULL, &e[1], 1, NULL);
	assert_string_equal(without_a, USER BEGIN "\n10.1.0.1\tb.local shared.local\n" END "\n");
	free(without_a);
	/* The last gone: nothing of ours left. */
	char *none = strip_drop(out, NULL);
	assert_string_equal(none, USER);
	free(none);
	free(out);
}

/* A pod of three containers with the same names: one block, each name once. */
static void test_pod_of_three(void **state)
{
	struct hg_hosts_entry pod[6];
	for (size_t i = 0; i < 6; i++)
		pod[i] = entries[i % 2];
	char *out = merge_drop(USER, NULL, pod, 6, NULL);
	assert_string_equal(out, USER BLOCK);
	assert_int_equal(count_str(out, HG_HOSTS_BEGIN_PREFIX), 1);
	free(out);
}

/* The previous version's per-owner blocks: read by owner, taken into the one block when
 * their owners are dropped, kept (and left to their owner's removal) when not. */
static void test_old_owner_blocks(void **state)
{
	static char *const a_names[] = {"a.local", "shared.local", NULL};
	struct hg_hosts_entry a = {.names = a_names};
	assert_int_equal(hg_ip_parse("10.0.0.1", false, &a.ip), 0);
	const char *old = USER OLD_BEGIN("net1+c+eth0") "10.0.0.1\ta.local shared.local\n" OLD_END("net1+c+eth0")
		"# between\n" OLD_BEGIN("net2+c+net1") "10.1.0.1\tb.local shared.local\n" OLD_END("net2+c+net1");
	char *ba = block_of(old, "net1+c+eth0"), *bb = block_of(old, "net2+c+net1");
	assert_string_equal(ba, "10.0.0.1\ta.local shared.local");
	assert_string_equal(bb, "10.1.0.1\tb.local shared.local");
	assert_null(block_of(old, NULL));
	assert_null(block_of(old, "net3+c+eth0"));

	/* Both owners listed: one block, the user's lines (between the old blocks too) kept. */
	static char *const both[] = {"net1+c+eth0", "net2+c+net1", NULL};
	char *merged = merge_drop(old, both, &a, 1, NULL);
	assert_string_equal(merged, USER "# between\n" BEGIN "\n10.0.0.1\ta.local shared.local\n" END "\n");
	char *one = block_of(merged, NULL);
	assert_string_equal(one, "10.0.0.1\ta.local shared.local");
	assert_null(block_of(merged, "net1+c+eth0"));

	/* An owner nobody lists keeps its old block until its own removal drops it. */
	static char *const first[] = {"net1+c+eth0", NULL};
	static char *const second[] = {"net2+c+net1", NULL};
	char *kept = merge_drop(old, first, &a, 1, NULL);
	assert_string_equal(kept, USER "# between\n" OLD_BEGIN("net2+c+net1") "10.1.0.1\tb.local shared.local\n"
					 OLD_END("net2+c+net1") BEGIN "\n10.0.0.1\ta.local shared.local\n" END "\n");
	char *gone = strip_drop(kept, second);
	assert_string_equal(gone, USER "# between\n");
	char *gone_too = strip_drop(old, both);
	assert_string_equal(gone_too, USER "# between\n");

	/* Markers of one owner do not close another's block: both are damaged, both go. */
	const char *crossed = "x y\n# BEGIN host-gateway p+c+e (managed block: edits here are lost)\n1.2.3.4 z\n"
			      "# END host-gateway q+c+e\nu v\n";
	char *out = strip_drop(crossed, second);
	assert_string_equal(out, "x y\n1.2.3.4 z\nu v\n");
	free(out);
	free(gone_too);
	free(gone);
	free(kept);
	free(one);
	free(merged);
	free(ba);
	free(bb);
}

/* hg_entries_build ---------------------------------------------------------------------- */

static void target_addrs(struct hg_host_addrs *t, const char *v4, const char *v6)
{
	memset(t, 0, sizeof(*t));
	if (v4)
		assert_int_equal(hg_ip_parse(v4, false, &t->ip[0]), 0);
	if (v6)
		assert_int_equal(hg_ip_parse(v6, false, &t->ip[1]), 0);
}

static char *entries_block(const struct hg_config *c, const struct hg_host_addrs *t)
{
	struct hg_entries e;
	char *block = NULL;
	assert_int_equal(hg_entries_build(c, t, &e), 0);
	free(merge_n("", e.items, e.n, &block));
	hg_entries_free(&e);
	assert_null(e.items);
	return block;
}

static void test_entries_build(void **state)
{
	struct hg_config c;
	struct hg_error err = {0};
	struct hg_host_addrs t;
	assert_int_equal(hg_config_init(&c), 0);
	json_t *j = json_parse("{\"extraHosts\":[\"db:10.1.2.3\",\"gw:host-gateway\",\"six:[fd00::9]\"]}");
	assert_int_equal(hg_config_load_json(&c, j, false, &err), 0);
	json_decref(j);

	target_addrs(&t, "10.0.2.2", "fd00::1");
	char *block = entries_block(&c, &t);
	assert_string_equal(block, "10.0.2.2\thost.docker.internal host.containers.internal gateway.docker.internal\n"
				   "fd00::1\thost.docker.internal host.containers.internal gateway.docker.internal\n"
				   "10.1.2.3\tdb\n"
				   "10.0.2.2\tgw\n"
				   "fd00::1\tgw\n"
				   "fd00::9\tsix");
	free(block);

	/* IPv4 only: host-gateway names get only the IPv4 target; literal extra hosts stay. */
	target_addrs(&t, "10.0.2.2", NULL);
	block = entries_block(&c, &t);
	assert_string_equal(block, "10.0.2.2\thost.docker.internal host.containers.internal gateway.docker.internal\n"
				   "10.1.2.3\tdb\n"
				   "10.0.2.2\tgw\n"
				   "fd00::9\tsix");
	free(block);

	/* No target at all: only the literal extra hosts. */
	target_addrs(&t, NULL, NULL);
	block = entries_block(&c, &t);
	assert_string_equal(block, "10.1.2.3\tdb\nfd00::9\tsix");
	free(block);

	/* No names: only extra hosts. */
	strv_free(c.names);
	c.names = calloc(1, sizeof(char *));
	target_addrs(&t, NULL, "fd00::1");
	block = entries_block(&c, &t);
	assert_string_equal(block, "10.1.2.3\tdb\nfd00::1\tgw\nfd00::9\tsix");
	free(block);
	hg_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_appends_after_user_lines),
		cmocka_unit_test(test_no_trailing_newline),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_user_maps_a_name),
		cmocka_unit_test(test_all_names_mapped),
		cmocka_unit_test(test_block_replaced),
		cmocka_unit_test(test_stale_block),
		cmocka_unit_test(test_duplicated_blocks),
		cmocka_unit_test(test_begin_without_end),
		cmocka_unit_test(test_comments_and_blanks_kept),
		cmocka_unit_test(test_strip_without_block_identical),
		cmocka_unit_test(test_strip_undoes_merge),
		cmocka_unit_test(test_duplicate_names_emitted_once),
		cmocka_unit_test(test_large_file),
		cmocka_unit_test(test_name_at_end_of_long_line),
		cmocka_unit_test(test_block_read),
		cmocka_unit_test_setup_teardown(test_apply_fd, file_setup, file_teardown),
		cmocka_unit_test_setup_teardown(test_apply_fd_shrinks, file_setup, file_teardown),
		cmocka_unit_test_setup_teardown(test_apply_fd_refuses, file_setup, file_teardown),
		cmocka_unit_test_setup_teardown(test_apply_fd_releases_lock, file_setup, file_teardown),
		cmocka_unit_test(test_entries_build),
		cmocka_unit_test(test_union_block),
		cmocka_unit_test(test_pod_of_three),
		cmocka_unit_test(test_old_owner_blocks),
	};
	return cmocka_run_group_tests_name("hosts", tests, setup, NULL);
}
