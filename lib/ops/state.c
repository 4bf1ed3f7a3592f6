/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <dirent.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <time.h>
#include <stdint.h>
#include <stdbool.h>
#include <unistd.h>
#include "ops/state.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"

/* An error of a lower layer, as an error of the state directory. */
static int state_error(struct hg_error *err)
{
	if (err->code == HG_CNI_IO && err->errnum != ENOMEM)
		err->code = HG_CNI_STATE;
	return -1;
}


int hg_state_dir_path(const char *state_dir, enum hg_state_dir which, char **out)
{
	static const char *const names[] = {
		[HG_STATE_DIR_CNI] = "cni",
		[HG_STATE_DIR_HOOK] = "hook",
		[HG_STATE_DIR_HOOK_NETNS] = "hook/netns",
		[HG_STATE_DIR_BY_NETNS] = "by-netns",
		[HG_STATE_DIR_NRI] = "nri",
	};
	return asprintf(out, "%s/%s", state_dir, names[which]) < 0 ? (*out = NULL, -1) : 0;
}

int hg_state_by_netns_path(const char *state_dir, uint64_t dev, uint64_t ino, char **out)
{
	return asprintf(out, "%s/by-netns/%llu-%llu", state_dir, (unsigned long long) dev,
			(unsigned long long) ino) < 0
		       ? (*out = NULL, -1)
		       : 0;
}

int hg_state_hosts_dir(char **out)
{
	return asprintf(out, "%s/hosts", hg_hosts_lock_dir) < 0 ? (*out = NULL, -1) : 0;
}

void hg_state_hosts_registry_path(uint64_t dev, uint64_t ino, char *buf, size_t size)
{
	snprintf(buf, size, "%s/hosts/%llu-%llu.json", hg_hosts_lock_dir, (unsigned long long) dev,
		 (unsigned long long) ino);
}

int hg_state_cni_path(const char *state_dir, const char *network, const char *container_id, const char *ifname,
		      char **out)
{
	return asprintf(out, "%s/cni/%s/%s+%s.json", state_dir, network, container_id, ifname) < 0 ? (*out = NULL, -1) : 0;
}

int hg_state_hook_path(const char *state_dir, const char *container_id, char **out)
{
	return asprintf(out, "%s/hook/%s.json", state_dir, container_id) < 0 ? (*out = NULL, -1) : 0;
}

int hg_state_nri_path(const char *state_dir, const char *pod_id, char **out)
{
	return asprintf(out, "%s/nri/%s.json", state_dir, pod_id) < 0 ? (*out = NULL, -1) : 0;
}

int hg_state_network_dir(const char *state_dir, const char *network, char **out)
{
	return asprintf(out, "%s/cni/%s", state_dir, network) < 0 ? (*out = NULL, -1) : 0;
}

/* The temp name of a record being written: one per process, HG_STATE_TEMP_PREFIX PID
 * ".json" (a name of a killed run with our PID is removed by hg_atomic_open). */
static int temp_name(const char *dir, char **path)
{
	return asprintf(path, "%s/" HG_STATE_TEMP_PREFIX "%d.json", dir, (int) getpid()) < 0 ? -1 : 0;
}

int hg_state_write(const char *path, json_t *record, struct hg_error *err)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	if (!dir)
		return hg_error_oom(err);
	*strrchr(dir, '/') = '\0';
	if (hg_mkdir_p(dir, 0700) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create state directory %s", dir);
	/* Records are not fsynced: they describe this boot's plumbing, and the plain ADD pays
	 * for every system call. */
	if (hg_atomic_open(&t, dir, temp_name, err) < 0)
		return state_error(err);
	/* One write: json_dumpfd would issue one write(2) per token. */
	_cleanup_free_ char *text = json_dumps(record, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return hg_error_oom(err);
	size_t len = strlen(text);
	text[len++] = '\n'; /* replaces the terminating NUL; len bytes are written */
	if (hg_write_all(t.fd, text, len) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "write a temp file for %s", path);
	if (hg_atomic_commit(&t, path, 0, err) < 0)
		return state_error(err);
	return 0;
}

/* The PID of a temp name as hg_state_write makes it ("%d" of a PID: no sign, no leading
 * zero), else 0. */
static pid_t temp_writer(const char *name)
{
	const size_t plen = sizeof(HG_STATE_TEMP_PREFIX) - 1;
	unsigned long long pid;
	const char *s;
	if (strncmp(name, HG_STATE_TEMP_PREFIX, plen) != 0 || !(s = hg_parse_decimal(name + plen, INT_MAX, &pid)))
		return 0;
	return strcmp(s, ".json") == 0 ? (pid_t) pid : 0;
}

int hg_state_sweep_temp(const char *dir)
{
	return hg_sweep_temp(dir, temp_writer);
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
		return hg_error_oom(err);
	if (!d && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open %s", dir);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		_cleanup_free_ char *p = NULL;
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0 || strv_push(&list, p) < 0)
			return hg_error_oom(err);
	}
	*paths = TAKE_PTR(list);
	return 0;
}

int hg_state_ready(const char *state_dir, struct hg_error *err)
{
	if (hg_mkdir_p(state_dir, 0700) < 0)
		return hg_error_errno(err, HG_CNI_NOT_READY, errno, "state directory %s", state_dir);
	if (access(state_dir, W_OK | X_OK) < 0)
		return hg_error_errno(err, HG_CNI_NOT_READY, errno, "state directory %s", state_dir);
	return 0;
}

/* "/a/b": no empty, "." or ".." component, no trailing '/', for which lstat would follow a
 * final symlink ("/link/" and "/link/." name the directory it points to). */
static bool path_plain(const char *p)
{
	if (p[0] != '/' || !p[1])
		return false;
	for (const char *c = p + 1; c;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t) (end - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = end ? end + 1 : NULL;
	}
	return true;
}

int hg_state_check_dir(const char *state_dir, struct hg_error *err)
{
	struct stat st;
	if (!path_plain(state_dir))
		return hg_error_set(err, HG_CNI_STATE,
				    "state directory %s must be an absolute path without \".\", \"..\", \"//\" or a "
				    "trailing \"/\"",
				    state_dir);
	if (hg_mkdir_p(state_dir, 0700) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create state directory %s", state_dir);
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

/* Waits at most budget_ms in all (what is left is written back: a caller retrying spends
 * one budget, not one per try); 0: not at all. */
static int lock_path_within(const char *path, int *budget_ms, struct hg_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open %s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return hg_error_errno(err, HG_CNI_STATE, errno, "lock %s", path);
		if (*budget_ms <= 0)
			return hg_error_set(err, HG_CNI_TRY_AGAIN, "lock %s: held by another process, try again", path);
		struct timespec ts = {.tv_nsec = 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		*budget_ms -= 2;
	}
	return TAKE_FD(fd);
}

static int lock_path(const char *path, struct hg_error *err)
{
	int budget = LOCK_WAIT_MS;
	int fd = lock_path_within(path, &budget, err);
	if (fd < 0 && err->code == HG_CNI_TRY_AGAIN)
		hg_error_set(err, HG_CNI_TRY_AGAIN, "lock %s: still held after %d ms, try again", path, LOCK_WAIT_MS);
	return fd;
}

int hg_state_lock(const char *state_dir, const char *name, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	if (hg_mkdir_p(state_dir, 0700) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create state directory %s", state_dir);
	if (asprintf(&path, "%s/.%s.lock", state_dir, name) < 0)
		return hg_error_oom(err);
	return lock_path(path, err);
}

/* ".NAME.lock" beside "NAME.json". */
static int record_lock_path(const char *record_path, char **out)
{
	const char *slash = strrchr(record_path, '/');
	const char *base = slash ? slash + 1 : record_path;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		n -= 5;
	return asprintf(out, "%.*s.%.*s.lock", (int) (base - record_path), record_path, (int) n, base) < 0 ? -1 : 0;
}

/* The lock fd still names the file at path: its holder has not unlinked it. */
static bool lock_is_current(int fd, const char *path)
{
	struct stat held, now;
	return fstat(fd, &held) == 0 && lstat(path, &now) == 0 && held.st_dev == now.st_dev &&
	       held.st_ino == now.st_ino;
}

int hg_state_lock_record(const char *record_path, bool wait, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *dir = NULL;
	if (record_lock_path(record_path, &path) < 0 || !(dir = strdup(path)))
		return hg_error_oom(err);
	*strrchr(dir, '/') = '\0';
	if (hg_mkdir_p(dir, 0700) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create state directory %s", dir);
	/* A retry follows a holder that removed the file: the tries share one wait, and are
	 * bounded even when none of them waits. */
	int budget = wait ? LOCK_WAIT_MS : 0;
	for (int tries = 0; tries < 64; tries++) {
		_cleanup_close_ int fd = lock_path_within(path, &budget, err);
		if (fd < 0)
			return -1;
		if (lock_is_current(fd, path))
			return TAKE_FD(fd);
	}
	return hg_error_set(err, HG_CNI_TRY_AGAIN, "lock %s: taken and removed by others meanwhile, try again", path);
}

void hg_state_unlock_record(const char *record_path, int fd)
{
	_cleanup_free_ char *path = NULL;
	if (fd < 0)
		return;
	if (access(record_path, F_OK) < 0 && errno == ENOENT && record_lock_path(record_path, &path) == 0 &&
	    lock_is_current(fd, path))
		unlink(path);
	close(fd);
}

/* The lock file at lock, when it is a regular file nobody holds and its record is gone:
 * removed (1). */
static int drop_lock_file(const char *lock, const char *record)
{
	struct stat st;
	_cleanup_close_ int fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
	    !lock_is_current(fd, lock))
		return 0;
	return access(record, F_OK) < 0 && errno == ENOENT && unlink(lock) == 0;
}

int hg_state_stamp_of(const char *path, struct hg_state_stamp *out)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	*out = (struct hg_state_stamp){.dev = st.st_dev, .ino = st.st_ino, .ctime_sec = st.st_ctim.tv_sec,
				       .ctime_nsec = st.st_ctim.tv_nsec};
	return 0;
}

bool hg_state_stamp_equal(const struct hg_state_stamp *a, const struct hg_state_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

int hg_state_sweep_record_locks(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	int removed = 0;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		_cleanup_free_ char *lock = NULL, *record = NULL;
		/* Only what a record's name makes (CONTAINERID+IFNAME): never another lock that
		 * happens to be in this folder (a stateDir nested in this one). */
		if (e->d_name[0] != '.' || n < 7 || strcmp(e->d_name + n - 5, ".lock") != 0 || !strchr(e->d_name, '+') ||
		    asprintf(&lock, "%s/%s", dir, e->d_name) < 0 ||
		    asprintf(&record, "%s/%.*s.json", dir, (int) n - 6, e->d_name + 1) < 0)
			continue;
		removed += drop_lock_file(lock, record);
	}
	return removed;
}

const char *hg_hosts_lock_dir = HG_DEFAULT_STATE_DIR;

int hg_state_lock_devino(const char *state_dir, uint64_t dev, uint64_t ino, struct hg_error *err)
{
	char name[32];
	/* One place for every writer of the file, whatever stateDir its configuration names
	 * (a hook config and a conflist may differ): two lock directories would let two
	 * writers rewrite the file at once. */
	if (hg_state_check_dir(hg_hosts_lock_dir, err) < 0)
		return -1;
	/* A fixed set of lock files, so that they never accumulate; two files sharing one only
	 * wait for each other's milliseconds. */
	uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xbf58476d1ce4e5b9ull);
	snprintf(name, sizeof(name), "hosts-%02u", (unsigned) ((h >> 32) % 64));
	return hg_state_lock(hg_hosts_lock_dir, name, err);
}

int hg_state_lock_file(const char *state_dir, int fd, struct hg_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "stat the file to lock");
	return hg_state_lock_devino(state_dir, st.st_dev, st.st_ino, err);
}

int hg_state_hook_netns_paths(const char *state_dir, const struct hg_netns_id *id, char **record, char **users)
{
	unsigned long long dev = id->dev, ino = id->ino;
	*record = *users = NULL;
	/* On failure both stay NULL: the caller's cleanup frees nothing twice. */
	if (asprintf(record, "%s/hook/netns/%llu-%llu.json", state_dir, dev, ino) < 0) {
		*record = NULL;
		return -1;
	}
	if (asprintf(users, "%s/hook/netns/%llu-%llu.users", state_dir, dev, ino) < 0) {
		free(TAKE_PTR(*record));
		*users = NULL;
		return -1;
	}
	return 0;
}

int hg_state_count_records(const char *state_dir, size_t *n, struct hg_error *err)
{
	_cleanup_free_ char *cni = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	*n = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_CNI, &cni) < 0)
		return hg_error_oom(err);
	if (!(d = opendir(cni)))
		return errno == ENOENT ? 0 : hg_error_errno(err, HG_CNI_STATE, errno, "open %s", cni);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* not a network's folder */
		_cleanup_closedir_ DIR *net = fdopendir(fd);
		if (!net) {
			close(fd);
			return hg_error_errno(err, HG_CNI_STATE, errno, "open %s/%s", cni, e->d_name);
		}
		struct dirent *r;
		while ((r = readdir(net))) {
			size_t len = strlen(r->d_name);
			/* Records are CONTAINERID+IFNAME.json; dot names are temp files. */
			if (r->d_name[0] != '.' && len > 5 && strcmp(r->d_name + len - 5, ".json") == 0)
				(*n)++;
		}
	}
	return 0;
}

