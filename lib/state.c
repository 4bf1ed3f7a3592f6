#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <time.h>
#include <stdint.h>
#include "state.h"
#include "util.h"

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	/* Usually the directory exists: one system call instead of one per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int hg_state_cni_path(const char *state_dir, const char *network, const char *container_id, const char *ifname,
		      char **out)
{
	return asprintf(out, "%s/cni/%s/%s+%s.json", state_dir, network, container_id, ifname) < 0 ? -ENOMEM : 0;
}

int hg_state_hook_path(const char *state_dir, const char *container_id, char **out)
{
	return asprintf(out, "%s/hook/%s.json", state_dir, container_id) < 0 ? -ENOMEM : 0;
}

int hg_state_network_dir(const char *state_dir, const char *network, char **out)
{
	return asprintf(out, "%s/cni/%s", state_dir, network) < 0 ? -ENOMEM : 0;
}

int hg_state_write(const char *path, json_t *record, struct hg_error *err)
{
	_cleanup_free_ char *dir = strdup(path), *tmp = NULL;
	if (!dir)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	*strrchr(dir, '/') = '\0';
	int r = mkdir_p(dir, 0700);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_STATE, -r, "create state directory %s", dir);
	if (asprintf(&tmp, "%s/.tmp.%d.json", dir, (int) getpid()) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	/* A new file, never one that is there: a temp name left by a killed run with our PID is
	 * removed first, and a symlink planted there is not followed. */
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", tmp);
	/* One write: json_dumpfd would issue one write(2) per token. */
	_cleanup_free_ char *text = json_dumps(record, JSON_INDENT(1) | JSON_SORT_KEYS);
	size_t len = text ? strlen(text) : 0;
	if (text)
		text[len++] = '\n'; /* replaces the terminating NUL; len bytes are written */
	if (!text || write(fd, text, len) != (ssize_t) len) {
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_STATE, text ? errno : ENOMEM, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_STATE, e, "rename %s to %s", tmp, path);
	}
	return 0;
}

int hg_state_read(const char *path, json_t **record, struct hg_error *err)
{
	json_error_t jerr;
	*record = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	*record = json_load_file(path, 0, &jerr);
	if (!*record)
		return hg_error_set(err, HG_CNI_STATE, "read state record %s: %s", path, jerr.text);
	return 0;
}

int hg_state_remove(const char *path, struct hg_error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_STATE, errno, "remove %s", path);
	return 0;
}

int hg_state_list(const char *dir, char ***paths, struct hg_error *err)
{
	_cleanup_strv_ char **list = calloc(1, sizeof(char *));
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	if (!list)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	if (!d && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open %s", dir);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		_cleanup_free_ char *p = NULL;
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0 || strv_push(&list, p) < 0)
			return hg_error_set(err, HG_CNI_STATE, "out of memory");
	}
	*paths = TAKE_PTR(list);
	return 0;
}

bool hg_state_record_has_netns(json_t *record, const struct hg_netns_id *id)
{
	json_t *ns = json_object_get(record, "netns");
	json_t *cookie = json_object_get(ns, "cookie");
	/* Inode numbers of namespaces are reused; cookies are not. A record whose DEL was lost
	 * must not be taken for a new namespace that got the same inode. */
	if (cookie && id->cookie && (uint64_t) json_integer_value(cookie) != id->cookie)
		return false;
	return (dev_t) json_integer_value(json_object_get(ns, "dev")) == id->dev &&
	       (ino_t) json_integer_value(json_object_get(ns, "ino")) == id->ino && id->ino != 0;
}

static int index_path(const char *state_dir, json_t *record, char **out)
{
	json_t *ns = json_object_get(record, "netns");
	unsigned long long dev = json_integer_value(json_object_get(ns, "dev"));
	unsigned long long ino = json_integer_value(json_object_get(ns, "ino"));
	if (!ino)
		return -EINVAL;
	return asprintf(out, "%s/by-netns/%llu-%llu", state_dir, dev, ino) < 0 ? -ENOMEM : 0;
}

int hg_state_index(const char *state_dir, const char *path, json_t *record, struct hg_error *err)
{
	_cleanup_free_ char *link = NULL, *dir = NULL;
	char target[4096];
	if (index_path(state_dir, record, &link) < 0 || asprintf(&dir, "%s/by-netns", state_dir) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", dir);
	/* Usually there is no link yet: one symlink(2). A reader that finds none between the
	 * unlink and the symlink below sees "no record", as it would have a moment earlier. */
	for (int attempt = 0; symlink(path, link) < 0; attempt++) {
		if (errno != EEXIST || attempt > 1)
			return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", link);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n >= 0 && (size_t) n == strlen(path) && memcmp(target, path, n) == 0)
			return 0;
		unlink(link);
	}
	return 0;
}

void hg_state_unindex(const char *state_dir, const char *path, json_t *record)
{
	_cleanup_free_ char *link = NULL;
	char target[4096];
	if (index_path(state_dir, record, &link) < 0)
		return;
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	/* Another attachment may have taken the namespace over since: only our own link goes. */
	if (strcmp(target, path) == 0)
		unlink(link);
}

int hg_state_find_by_netns(const char *state_dir, const struct hg_netns_id *id, json_t **record, char **path,
			   struct hg_error *err)
{
	_cleanup_free_ char *link = NULL;
	char target[4096];
	*record = NULL;
	if (asprintf(&link, "%s/by-netns/%llu-%llu", state_dir, (unsigned long long) id->dev,
		     (unsigned long long) id->ino) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	/* One readlink instead of reading every record of the node. */
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	json_t *r = json_load_file(target, 0, NULL);
	/* A record that is gone, or names another namespace (an inode number reused after a
	 * lost DEL), is no match. */
	if (!r || !hg_state_record_has_netns(r, id)) {
		json_decref(r);
		return 0;
	}
	*record = r;
	if (path)
		*path = strdup(target);
	return 1;
}

int hg_state_ready(const char *state_dir, struct hg_error *err)
{
	int r = mkdir_p(state_dir, 0700);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_NOT_READY, -r, "state directory %s", state_dir);
	if (access(state_dir, W_OK | X_OK) < 0)
		return hg_error_errno(err, HG_CNI_NOT_READY, errno, "state directory %s", state_dir);
	return 0;
}

int hg_state_check_dir(const char *state_dir, struct hg_error *err)
{
	struct stat st;
	int r = mkdir_p(state_dir, 0700);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_STATE, -r, "create state directory %s", state_dir);
	if (lstat(state_dir, &st) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "state directory %s", state_dir);
	/* Root writes records, users files and locks there: whoever else could write the
	 * directory could plant links and redirect those writes. */
	if (S_ISLNK(st.st_mode))
		return hg_error_set(err, HG_CNI_STATE, "state directory %s is a symbolic link, refusing it", state_dir);
	if (!S_ISDIR(st.st_mode))
		return hg_error_set(err, HG_CNI_STATE, "state directory %s is not a directory", state_dir);
	if (st.st_uid != geteuid())
		return hg_error_set(err, HG_CNI_STATE, "state directory %s is owned by uid %u, not by us (uid %u), refusing it",
				    state_dir, (unsigned) st.st_uid, (unsigned) geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return hg_error_set(err, HG_CNI_STATE, "state directory %s is writable by group or others (mode %04o), refusing it",
				    state_dir, (unsigned) (st.st_mode & 07777));
	return 0;
}

/* Our locks are held for milliseconds, by our processes only; a wait that long means one of
 * them is stopped or stuck, and the runtime's timeout must not be eaten by it. */
#define LOCK_WAIT_MS 5000

static int lock_path(const char *path, struct hg_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open %s", path);
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0;) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return hg_error_errno(err, HG_CNI_STATE, errno, "lock %s", path);
		if (waited >= LOCK_WAIT_MS)
			return hg_error_set(err, HG_CNI_TRY_AGAIN, "lock %s: still held after %d ms, try again", path,
					    LOCK_WAIT_MS);
		struct timespec ts = {.tv_nsec = 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 2;
	}
	return TAKE_FD(fd);
}

int hg_state_lock(const char *state_dir, const char *name, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	int r = mkdir_p(state_dir, 0700);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_STATE, -r, "create state directory %s", state_dir);
	if (asprintf(&path, "%s/.%s.lock", state_dir, name) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	return lock_path(path, err);
}

int hg_state_lock_file(const char *state_dir, int fd, struct hg_error *err)
{
	struct stat st;
	char name[32];
	if (fstat(fd, &st) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "stat the file to lock");
	/* A fixed set of lock files, so that they never accumulate; two files sharing one only
	 * wait for each other's milliseconds. */
	uint64_t h = ((uint64_t) st.st_dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t) st.st_ino * 0xbf58476d1ce4e5b9ull);
	snprintf(name, sizeof(name), "hosts-%02u", (unsigned) ((h >> 32) % 64));
	return hg_state_lock(state_dir, name, err);
}

int hg_state_hook_netns_paths(const char *state_dir, const struct hg_netns_id *id, char **record, char **users)
{
	unsigned long long dev = id->dev, ino = id->ino;
	if (asprintf(record, "%s/hook/netns/%llu-%llu.json", state_dir, dev, ino) < 0)
		return -ENOMEM;
	if (asprintf(users, "%s/hook/netns/%llu-%llu.users", state_dir, dev, ino) < 0) {
		free(*record);
		return -ENOMEM;
	}
	return 0;
}
