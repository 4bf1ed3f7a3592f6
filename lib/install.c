#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <dlfcn.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include "install.h"
#include "nft.h"
#include "conflist.h"
#include "config.h"
#include "util.h"

#define BINARY_NAME "host-gateway"
/* Temp files start with '.' and end in .tmp: no CNI extension, so no runtime ever loads one
 * half-written, and the watch loop ignores them. */
#define TMP_PREFIX ".host-gateway."
#define MAX_CONF_SIZE (1u << 20)
/* kindnetd writes temp + rename, editors write several events per save: a change is acted
 * on after this much quiet, and never later than DEBOUNCE_MAX_MS after its first event. */
#define DEBOUNCE_MS 100
#define DEBOUNCE_MAX_MS 400
/* After a failed attempt (the primary is invalid), a try this often even without events. */
#define RETRY_MS 5000
/* While the watched folder is gone, a look for it this often. */
#define GONE_RETRY_MS 200
/* A file that changes between our read and our rename is read again, this many times. */
#define CHAIN_ATTEMPTS 5


static void fsync_dir(const char *dir)
{
	/* The rename is durable only once the folder is on disk; a failure here loses nothing
	 * that is visible now, so it is not an error. */
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		fsync(fd);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

/* A new temp file in dir with a name of its own (O_EXCL: never one that is there, and a
 * symlink planted at the name is not followed). Not named after the PID: installers in
 * containers are all PID 1, and one must never take or remove another's file. */
static int open_tmp(const char *dir, char **tmp, struct hg_error *err)
{
	if (asprintf(tmp, "%s/" TMP_PREFIX "XXXXXX.tmp", dir) < 0) {
		*tmp = NULL;
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	int fd = mkostemps(*tmp, 4, O_CLOEXEC);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "create a temp file in %s", dir);
	return fd;
}

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* 0 when path is still the file described by st: someone else's rewrite since we read it
 * must not be overwritten with the old content plus ours. */
static int still_same(const char *path, const struct stat *st, struct hg_error *err)
{
	struct stat now;
	if (lstat(path, &now) < 0 || !same_version(&now, st))
		return hg_error_set(err, HG_CNI_TRY_AGAIN, "%s changed while being edited", path);
	return 0;
}

/* text into dir/name through a temp file, with mode and owner of *like. With expect_path,
 * the rename happens only if that file is still *like. noreplace: dir/name must not exist. */
static int write_atomic(const char *dir, const char *name, const char *text, const struct stat *like,
			const char *expect_path, bool noreplace, struct hg_error *err)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	_cleanup_close_ int fd = open_tmp(dir, &tmp, err);
	if (fd < 0)
		return -1;
	/* The owner is changed only when it differs: the DaemonSet runs without CAP_CHOWN, and a
	 * root:root file (the usual) needs none. */
	struct stat mine;
	if (write_all(fd, text, strlen(text)) < 0 || fchmod(fd, like->st_mode & 07777) < 0 || fstat(fd, &mine) < 0 ||
	    ((mine.st_uid != like->st_uid || mine.st_gid != like->st_gid) && fchown(fd, like->st_uid, like->st_gid) < 0) ||
	    fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_IO, e, "write %s", tmp);
	}
	if (expect_path && still_same(expect_path, like, err) < 0) {
		unlink(tmp);
		return -1;
	}
	int r = noreplace ? renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) : rename(tmp, path);
	if (r < 0) {
		int e = errno;
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_IO, e, "rename %s to %s", tmp, path);
	}
	fsync_dir(dir);
	return 0;
}

/* The CNI names of dir that are not directories (libcni lists them so), unsorted. */
static int list_cni_names(const char *dir, char ***out, struct hg_error *err)
{
	_cleanup_strv_ char **names = calloc(1, sizeof(char *));
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	if (!names)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (!d && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", dir);
	while (d && (errno = 0, e = readdir(d))) {
		struct stat st;
		if (!hg_conflist_is_cni_name(e->d_name))
			continue;
		if (e->d_type == DT_DIR ||
		    (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		     S_ISDIR(st.st_mode)))
			continue;
		if (strv_push(&names, e->d_name) < 0)
			return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	if (d && errno)
		return hg_error_errno(err, HG_CNI_IO, errno, "read %s", dir);
	*out = TAKE_PTR(names);
	return 0;
}

struct primary {
	char **names;
	int idx;        /* in names; -1 when the folder has no configuration */
	char *path;
	struct stat st; /* of the file read */
	json_t *list;   /* the file as a conflist */
	bool converted; /* it was a single plugin */
};

static void primary_free(struct primary *p)
{
	strv_free(p->names);
	free(p->path);
	json_decref(p->list);
}
#define _cleanup_primary_ __attribute__((cleanup(primary_free)))

static int read_file(const char *path, struct stat *st, char **text, size_t *len, struct hg_error *err)
{
	/* Not through a symlink: editing would replace the link with a file, and what it points
	 * to (a ConfigMap volume, another package's file) is not ours to rewrite. O_NONBLOCK: a
	 * FIFO planted there must not hang us. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is a symbolic link: not edited", path);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", path);
	if (fstat(fd, st) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
	if (!S_ISREG(st->st_mode))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is not a regular file", path);
	if ((size_t) st->st_size > MAX_CONF_SIZE)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is larger than %u bytes", path, MAX_CONF_SIZE);
	_cleanup_free_ char *buf = malloc(st->st_size + 1);
	if (!buf)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	ssize_t n = hg_read_full(fd, buf, st->st_size);
	if (n < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "read %s", path);
	buf[n] = '\0';
	*len = n;
	*text = TAKE_PTR(buf);
	return 0;
}

/* The configuration runtimes load from conf_dir, read and parsed; p->idx is -1 when the
 * folder has none (not an error: callers decide). */
static int load_primary(const char *conf_dir, struct primary *p, struct hg_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	memset(p, 0, sizeof(*p));
	p->idx = -1;
	if (list_cni_names(conf_dir, &p->names, err) < 0)
		return -1;
	p->idx = hg_conflist_pick_primary(p->names);
	if (p->idx < 0)
		return 0;
	if (asprintf(&p->path, "%s/%s", conf_dir, p->names[p->idx]) < 0) {
		p->path = NULL;
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	if (read_file(p->path, &p->st, &text, &len, err) < 0)
		return -1;
	if (hg_conflist_parse(p->path, text, len, &p->list, &p->converted, err) < 0)
		return -1;
	return 0;
}

static int no_primary(const char *conf_dir, struct hg_error *err)
{
	return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no network configuration (*.conf, *.conflist, *.json) in %s",
			    conf_dir);
}

/* The primary rewrote its NAME.conf after we converted it into NAME.conflist: runtimes load
 * the .conf again (it sorts first). The .conflist, if it is ours (it lists our entry and the
 * same network), is replaced by the new conversion, then the .conf goes, as on the first
 * conversion; anyone else's NAME.conflist is not touched. */
static int replace_converted(const char *conf_dir, struct primary *p, const char *new_name, char *new_path,
			     const char *text, char **primary, const struct hg_log *log, struct hg_error *err)
{
	_cleanup_free_ char *old_text = NULL;
	json_auto_t *old = NULL;
	struct stat st;
	size_t len;
	bool converted;
	for (int i = 0; p->names[i]; i++)
		if (i != p->idx && hg_conflist_is_cni_name(p->names[i]) && strcmp(p->names[i], new_name) < 0)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG,
					    "%s is a single plugin and must become %s to be chained, but %s/%s would then "
					    "be loaded first: not converted",
					    p->path, new_name, conf_dir, p->names[i]);
	if (read_file(new_path, &st, &old_text, &len, err) < 0 ||
	    hg_conflist_parse(new_path, old_text, len, &old, &converted, err) < 0)
		return hg_error_prefix(err, "%s exists", new_path);
	const char *a = json_string_value(json_object_get(old, "name"));
	const char *b = json_string_value(json_object_get(p->list, "name"));
	if (converted || !hg_conflist_find(old) || !a || !b || strcmp(a, b) != 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "%s is a single plugin and must become %s to be chained, but %s exists and is not "
				    "host-gateway's conversion of it: not converted",
				    p->path, new_name, new_path);
	if (write_atomic(conf_dir, new_name, text, &st, new_path, false, err) < 0)
		return -1;
	if (still_same(p->path, &p->st, err) < 0)
		return -1; /* rewritten again meanwhile: the next attempt converts that */
	if (unlink(p->path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s (now converted into %s)", p->path, new_path);
	fsync_dir(conf_dir);
	hg_logf(log, "chained into %s (converted again from %s)", new_path, p->names[p->idx]);
	if (primary) {
		free(*primary);
		*primary = strdup(new_path);
	}
	return 1;
}

/* The primary's text as it will be written: never a file our own reader would refuse,
 * which we could not fix afterwards. */
static int dump_primary(const struct primary *p, char **text, struct hg_error *err)
{
	if (!(*text = hg_conflist_dump(p->list)))
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (strlen(*text) > MAX_CONF_SIZE)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s with our entry would be larger than %u bytes: not written",
				    p->path, MAX_CONF_SIZE);
	return 0;
}

static int chain_once(const char *conf_dir, json_t *entry, char **primary, const struct hg_log *log,
		      struct hg_error *err)
{
	_cleanup_primary_ struct primary p;
	_cleanup_free_ char *text = NULL, *new_name = NULL, *new_path = NULL;

	if (load_primary(conf_dir, &p, err) < 0)
		return -1;
	if (p.idx < 0)
		return no_primary(conf_dir, err);
	int r = hg_conflist_add(p.list, entry, err);
	if (r < 0)
		return hg_error_prefix(err, "%s", p.path);
	if (primary)
		*primary = strdup(p.path);
	if (r == 0 && !p.converted)
		return 0;
	if (dump_primary(&p, &text, err) < 0)
		return -1;
	if (!p.converted) {
		if (write_atomic(conf_dir, p.names[p.idx], text, &p.st, p.path, false, err) < 0)
			return -1;
		hg_logf(log, "chained into %s", p.path);
		return 1;
	}

	/* A single plugin cannot be chained: it becomes NAME.conflist. The new file is written
	 * first, and the old one removed after: a runtime listing the folder in between finds
	 * both, loads the first by name (the old .conf before NAME.conflist, or the new file
	 * before an old .json), and either way gets a whole configuration of the same network.
	 * Without the new one taking the first place, the node would switch networks: refused. */
	if (!(new_name = hg_conflist_converted_name(p.names[p.idx])) || asprintf(&new_path, "%s/%s", conf_dir, new_name) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	const char *blocker = hg_conflist_rename_blocker(p.names, p.idx, new_name);
	if (blocker && strcmp(blocker, new_name) == 0)
		return replace_converted(conf_dir, &p, new_name, new_path, text, primary, log, err);
	if (blocker)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "%s is a single plugin and must become %s to be chained, but %s/%s %s: not converted",
				    p.path, new_name, conf_dir, blocker,
				    strcmp(blocker, new_name) == 0 ? "exists" : "would then be loaded first");
	if (write_atomic(conf_dir, new_name, text, &p.st, p.path, true, err) < 0)
		return -1;
	if (still_same(p.path, &p.st, err) < 0) {
		unlink(new_path); /* the .conf was rewritten meanwhile: start over from it */
		return -1;
	}
	if (unlink(p.path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s (now converted into %s)", p.path, new_path);
	fsync_dir(conf_dir);
	hg_logf(log, "chained into %s (converted from %s)", new_path, p.names[p.idx]);
	if (primary) {
		free(*primary);
		*primary = TAKE_PTR(new_path);
	}
	return 1;
}

int hg_install_chain(const char *conf_dir, json_t *entry, char **primary, const struct hg_log *log,
		     struct hg_error *err)
{
	for (int attempt = 1;; attempt++) {
		if (primary)
			*primary = NULL;
		int r = chain_once(conf_dir, entry, primary, log, err);
		if (r >= 0 || err->code != HG_CNI_TRY_AGAIN || attempt == CHAIN_ATTEMPTS)
			return r;
		if (primary)
			free(TAKE_PTR(*primary));
	}
}

int hg_install_chain_check(const char *conf_dir, json_t *entry, char **primary, struct hg_error *err)
{
	_cleanup_primary_ struct primary p;
	if (primary)
		*primary = NULL;
	if (load_primary(conf_dir, &p, err) < 0)
		return -1;
	if (p.idx < 0)
		return no_primary(conf_dir, err);
	if (primary)
		*primary = strdup(p.path);
	if (p.converted)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is a single plugin, not chained", p.path);
	if (hg_conflist_has(p.list, entry, err) < 0)
		return hg_error_prefix(err, "%s", p.path);
	return 0;
}

int hg_uninstall_chain(const char *conf_dir, char **state_dir, const struct hg_log *log, struct hg_error *err)
{
	_cleanup_primary_ struct primary p;
	_cleanup_free_ char *text = NULL;
	if (state_dir)
		*state_dir = NULL;
	if (load_primary(conf_dir, &p, err) < 0)
		return -1;
	if (p.idx < 0) {
		hg_logf(log, "no network configuration in %s: no entry to remove", conf_dir);
		return 0;
	}
	const char *sd = json_string_value(json_object_get(hg_conflist_find(p.list), "stateDir"));
	if (state_dir && sd && !(*state_dir = strdup(sd)))
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	/* A converted .conf stays a .conflist with the main plugin only: libcni reads that as
	 * the very network the .conf was (ConfListFromConf builds the same list), and turning
	 * it back would be one more rename of the file every pod start reads. */
	int r = p.converted ? 0 : hg_conflist_remove(p.list, err);
	if (r < 0)
		return hg_error_prefix(err, "%s", p.path);
	if (r == 0) {
		hg_logf(log, "no host-gateway entry in %s", p.path);
		return 0;
	}
	if (dump_primary(&p, &text, err) < 0)
		return -1;
	if (write_atomic(conf_dir, p.names[p.idx], text, &p.st, p.path, false, err) < 0)
		return -1;
	hg_logf(log, "removed the host-gateway entry from %s", p.path);
	return 1;
}

int hg_install_count_records(const char *state_dir, size_t *n, struct hg_error *err)
{
	_cleanup_free_ char *cni = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	*n = 0;
	if (asprintf(&cni, "%s/cni", state_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
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

int hg_install_dpkg_owner(const char *dpkg_info_dir, const char *path, char **pkg, struct hg_error *err)
{
	_cleanup_free_ char *dircopy = strdup(path), *real = NULL, *line = NULL;
	_cleanup_closedir_ DIR *d = opendir(dpkg_info_dir);
	char realdir[PATH_MAX];
	struct dirent *e;
	size_t cap = 0;

	*pkg = NULL;
	if (!dircopy)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (!d)
		return errno == ENOENT ? 0 : hg_error_errno(err, HG_CNI_IO, errno, "open %s", dpkg_info_dir);
	/* The folder resolved, the name not: a symlink named host-gateway is judged as itself. */
	if (realpath(dirname(dircopy), realdir) && asprintf(&real, "%s/%s", realdir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".list") != 0)
			continue;
		_cleanup_close_ int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (!f)
			continue;
		fd = -1; /* f owns it now */
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				line[--n] = '\0';
			/* Merged /usr: a package lists /lib/cni/x, the machine has it at /usr/lib/cni/x. */
			bool usr = strncmp(path, "/usr/", 5) == 0 && strcmp(path + 4, line) == 0;
			bool usr_real = real && strncmp(real, "/usr/", 5) == 0 && strcmp(real + 4, line) == 0;
			if (strcmp(line, path) == 0 || (real && strcmp(line, real) == 0) || usr || usr_real) {
				*pkg = strndup(e->d_name, len - 5);
				return *pkg ? 1 : hg_error_set(err, HG_CNI_IO, "out of memory");
			}
		}
	}
	return 0;
}

static void remove_libs(const char *bin_dir, const struct hg_log *log);

/* The state directories other than the default that entries of ours named, one a line in
 * BIN/host-gateway.state-dirs: uninstall must find the records of every one of them, also
 * after the entry that named one is gone. */
#define STATE_DIRS_FILE BINARY_NAME ".state-dirs"

static int read_state_dirs(const char *bin_dir, char ***dirs, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct stat st;
	size_t len;
	*dirs = calloc(1, sizeof(char *));
	if (!*dirs || asprintf(&path, "%s/" STATE_DIRS_FILE, bin_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (access(path, F_OK) < 0)
		return 0;
	if (read_file(path, &st, &text, &len, err) < 0)
		return -1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] == '/' && !strv_contains(*dirs, line) && strv_push(dirs, line) < 0)
			return hg_error_set(err, HG_CNI_IO, "out of memory");
	return 0;
}

int hg_install_note_state_dir(const char *bin_dir, const char *state_dir, struct hg_error *err)
{
	_cleanup_strv_ char **dirs = NULL;
	struct stat like = {.st_mode = 0644};
	if (!state_dir || strcmp(state_dir, HG_DEFAULT_STATE_DIR) == 0)
		return 0;
	if (read_state_dirs(bin_dir, &dirs, err) < 0)
		return -1;
	if (strv_contains(dirs, state_dir))
		return 0;
	if (strv_push(&dirs, state_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	for (size_t i = 0; dirs[i]; i++)
		n += strlen(dirs[i]) + 1;
	if (!(text = calloc(n + 1, 1)))
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	for (size_t i = 0; dirs[i]; i++) {
		strcat(text, dirs[i]);
		strcat(text, "\n");
	}
	like.st_uid = geteuid();
	like.st_gid = getegid();
	return write_atomic(bin_dir, STATE_DIRS_FILE, text, &like, NULL, false, err);
}

int hg_uninstall_binary(const char *bin_dir, const char *state_dir, bool force, const char *dpkg_info_dir,
			const struct hg_log *log, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *pkg = NULL;
	struct stat st;
	size_t n = 0;

	if (asprintf(&path, "%s/" BINARY_NAME, bin_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
		hg_logf(log, "no %s to remove", path);
		return 0;
	}
	/* install writes regular files only: anything else was put there by someone else. */
	if (!S_ISREG(st.st_mode)) {
		if (force)
			return hg_error_set(err, HG_CNI_IO, "%s is not a regular file install writes: not removed", path);
		hg_logf(log, "kept %s: not a regular file (install writes only those)", path);
		return 0;
	}
	int r = hg_install_dpkg_owner(dpkg_info_dir, path, &pkg, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (force)
			return hg_error_set(err, HG_CNI_IO, "%s belongs to the Debian package %s: not removed", path, pkg);
		hg_logf(log, "kept %s: it belongs to the Debian package %s", path, pkg);
		return 0;
	}
	_cleanup_strv_ char **noted = NULL;
	if (hg_install_count_records(state_dir, &n, err) < 0 || read_state_dirs(bin_dir, &noted, err) < 0)
		return -1;
	for (size_t i = 0; noted[i]; i++) {
		size_t more = 0;
		if (strcmp(noted[i], state_dir) != 0 && hg_install_count_records(noted[i], &more, err) < 0)
			return -1;
		n += more;
	}
	if (n > 0 && !force) {
		hg_logf(log, "kept %s: %zu attachment record%s under %s/cni still need it for DEL (--force removes it)",
			path, n, n == 1 ? "" : "s", state_dir);
		return 0;
	}
	if (unlink(path) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s", path);
	remove_libs(bin_dir, log);
	_cleanup_free_ char *notes = NULL;
	if (asprintf(&notes, "%s/" STATE_DIRS_FILE, bin_dir) > 0)
		unlink(notes);
	fsync_dir(bin_dir);
	hg_logf(log, "removed %s%s", path, n > 0 ? " (--force: attachment records remain)" : "");
	return 1;
}

/* The library set install copied (regular files only; the folder goes when empty). */
static void remove_libs(const char *bin_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/" HG_NFT_LIB_DIR, bin_dir) < 0)
		return;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d && rmdir(dir) == 0)
		hg_logf(log, "removed %s", dir);
}

/* Copies one file atomically into dir (temp + fsync + rename), mode 0644. */
static int copy_file(int src_dir, const char *name, const char *dir, struct hg_error *err)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	static char buf[65536];
	_cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", name);
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	_cleanup_close_ int out = open_tmp(dir, &tmp, err);
	if (out < 0)
		return -1;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 || write_all(out, buf, n) < 0) {
			int e = errno;
			unlink(tmp);
			return hg_error_errno(err, HG_CNI_IO, e, "copy %s to %s", name, tmp);
		}
	}
	if (fchmod(out, 0644) < 0 || fsync(out) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_IO, e, "install %s", path);
	}
	return 0;
}

int hg_install_libs(const char *bin_dir, const struct hg_log *log, struct hg_error *err)
{
	char exe[4096];
	_cleanup_free_ char *src = NULL, *dst = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	if (asprintf(&src, "%s/" HG_NFT_LIB_DIR, exe) < 0 || asprintf(&dst, "%s/" HG_NFT_LIB_DIR, bin_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (strcmp(src, dst) == 0)
		return 0; /* installing from the bin folder itself */
	_cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return 0; /* no library set here: the node's own libnftables is used */
	int r = hg_mkdir_p(dst, 0755);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_IO, -r, "create %s", dst);
	/* The loader trusts only a folder that is root's and writable by nobody else. */
	struct stat dst_st;
	if (lstat(dst, &dst_st) < 0 || !S_ISDIR(dst_st.st_mode) || dst_st.st_uid != geteuid())
		return hg_error_set(err, HG_CNI_IO, "%s is not a folder of ours: the libnftables set is not installed", dst);
	if ((dst_st.st_mode & 07777) != 0755 && chmod(dst, 0755) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "chmod %s", dst);
	_cleanup_closedir_ DIR *d = fdopendir(fcntl(sfd, F_DUPFD_CLOEXEC, 3));
	struct dirent *e;
	size_t copied = 0;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(sfd, e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (copy_file(sfd, e->d_name, dst, err) < 0)
			return -1;
		copied++;
	}
	fsync_dir(dst);
	hg_logf(log, "installed the libnftables set (%zu files) in %s", copied, dst);
	return 1;
}

/* 1 when the open file fd and path hold the same bytes, 0 when not, -1 on a read error. */
static int same_bytes(int fd, const char *path)
{
	_cleanup_close_ int other = open(path, O_RDONLY | O_CLOEXEC);
	struct stat a, b;
	static char x[65536], y[65536];
	if (other < 0 || fstat(fd, &a) < 0 || fstat(other, &b) < 0)
		return -1;
	if (a.st_size != b.st_size)
		return 0;
	for (off_t off = 0; off < a.st_size;) {
		ssize_t n = pread(fd, x, sizeof(x), off);
		if (n <= 0 || pread(other, y, n, off) != n)
			return -1;
		if (memcmp(x, y, n) != 0)
			return 0;
		off += n;
	}
	return 1;
}

/* 1 when bin_dir/host-gateway is the executable open at self_fd, 0 when not, -1 on error;
 * *exists says whether something is there. */
static int binary_is_self(int self_fd, const char *path, bool *exists, struct hg_error *err)
{
	struct stat self, st;
	*exists = false;
	if (fstat(self_fd, &self) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "stat this executable");
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return hg_error_errno(err, HG_CNI_IO, errno, "stat %s", path);
	}
	*exists = true;
	if (st.st_dev == self.st_dev && st.st_ino == self.st_ino)
		return 1;
	if (!S_ISREG(st.st_mode))
		return 0;
	int r = same_bytes(self_fd, path);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "compare %s with this executable", path);
	return r;
}

int hg_install_binary(int self_fd, const char *bin_dir, const char *dpkg_info_dir, const struct hg_log *log,
		      struct hg_error *err)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL, *pkg = NULL;
	struct stat self;
	bool exists;
	static char buf[65536];

	if (asprintf(&path, "%s/" BINARY_NAME, bin_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	int r = binary_is_self(self_fd, path, &exists, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		hg_logf(log, "%s is already this binary", path);
		return 0;
	}
	if (exists) {
		r = hg_install_dpkg_owner(dpkg_info_dir, path, &pkg, err);
		if (r < 0)
			return -1;
		if (r > 0)
			return hg_error_set(err, HG_CNI_IO, "%s belongs to the Debian package %s: not replaced", path, pkg);
	}
	r = hg_mkdir_p(bin_dir, 0755);
	if (r < 0)
		return hg_error_errno(err, HG_CNI_IO, -r, "create %s", bin_dir);
	if (fstat(self_fd, &self) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "stat this executable");
	_cleanup_close_ int fd = open_tmp(bin_dir, &tmp, err);
	if (fd < 0)
		return -1;
	for (off_t off = 0; off < self.st_size;) {
		ssize_t n = pread(self_fd, buf, sizeof(buf), off);
		if (n <= 0 || write_all(fd, buf, n) < 0) {
			int e = n == 0 ? EIO : errno;
			unlink(tmp);
			return hg_error_errno(err, HG_CNI_IO, e, "copy this executable to %s", tmp);
		}
		off += n;
	}
	if (fchmod(fd, 0755) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return hg_error_errno(err, HG_CNI_IO, e, "install %s", path);
	}
	fsync_dir(bin_dir);
	hg_logf(log, "installed %s", path);
	return 1;
}

int hg_install_binary_check(int self_fd, const char *bin_dir, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	bool exists;
	if (asprintf(&path, "%s/" BINARY_NAME, bin_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	int r = binary_is_self(self_fd, path, &exists, err);
	if (r < 0)
		return -1;
	if (!exists)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is missing", path);
	if (r == 0)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is not this binary", path);
	if (access(path, X_OK) < 0)
		return hg_error_errno(err, HG_CNI_CHECK_FAILED, errno, "%s is not executable", path);
	return 0;
}

int hg_install_check_nft(json_t *entry, struct hg_error *err)
{
	_cleanup_config_ struct hg_config c;
	char keys[128] = "";
	size_t n = 0;

	if (hg_config_init(&c) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (hg_config_load_json(&c, entry, false, err) < 0)
		return -1;
	/* The keys whose rules ADD applies through libnftables (hostAlias puts the virtual IPs
	 * on lo instead). */
	const char *used[3];
	if (c.n_virtual_ips > 0 && !c.host_alias)
		used[n++] = "virtualIPs (without hostAlias)";
	if (c.n_localhost_ports > 0)
		used[n++] = "localhostPorts";
	if (c.n_host_loopback_ports > 0)
		used[n++] = "hostLoopbackPorts";
	if (n == 0)
		return 0;
	/* From the system, or from the library set beside this binary (the DaemonSet's image
	 * carries one), which install copies next to the node's binary. */
	if (hg_nft_available())
		return 0;
	const char *why = dlerror();
	for (size_t i = 0; i < n; i++)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s", i ? ", " : "", used[i]);
	return hg_error_set(err, HG_CNI_NFTABLES,
			    "the plugin configuration uses %s, which need%s libnftables.so.1, and this machine cannot load "
			    "it (%s): install it (Debian and Ubuntu: libnftables1) or leave %s out",
			    keys, n == 1 ? "s" : "", why ? why : "not found", n == 1 ? "that key" : "those keys");
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A watch on conf_dir (made if missing: istio-cni and Multus create it too); -1 when it
 * cannot be watched now. */
static int add_watch(int ifd, const char *conf_dir, bool create)
{
	/* Made at the start only: a folder removed while watched is someone's doing (an admin
	 * restoring a backup with cp -r or mv); made again at once, the restored folder would
	 * land inside it. */
	if (create)
		hg_mkdir_p(conf_dir, 0755);
	return inotify_add_watch(ifd, conf_dir,
				 IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
					 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
}

/* One attempt; a failure is reported once until it changes or is gone. */
static bool reconcile(const char *conf_dir, json_t *entry, const struct hg_log *log, char *last, size_t last_size)
{
	struct hg_error e = {0};
	if (hg_install_chain(conf_dir, entry, NULL, log, &e) >= 0) {
		last[0] = '\0';
		return true;
	}
	if (strcmp(last, e.msg) != 0) {
		hg_logf(log, "waiting: %s", e.msg);
		snprintf(last, last_size, "%s", e.msg);
	}
	return false;
}

int hg_install_watch(const char *conf_dir, json_t *entry, int stop_fd, const struct hg_log *log,
		     struct hg_error *err)
{
	_cleanup_close_ int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char last[sizeof(err->msg)] = "";
	long long first = 0, due = -1, retry = -1;
	/* Events are read whole: the buffer is aligned for struct inotify_event. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (ifd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "inotify");
	int wd = add_watch(ifd, conf_dir, true);
	if (wd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "watch %s", conf_dir);
	if (!reconcile(conf_dir, entry, log, last, sizeof(last)))
		retry = now_ms() + RETRY_MS;

	for (;;) {
		struct pollfd fds[2] = {{.fd = stop_fd, .events = POLLIN}, {.fd = ifd, .events = POLLIN}};
		long long now = now_ms(), next = due >= 0 ? due : retry;
		if (due >= 0 && retry >= 0 && retry < due)
			next = retry;
		int timeout = next < 0 ? -1 : next <= now ? 0 : (int) (next - now);
		int r = poll(fds, 2, timeout);
		if (r < 0 && errno != EINTR)
			return hg_error_errno(err, HG_CNI_IO, errno, "poll");
		if (fds[0].revents)
			return 0;
		bool changed = false, lost = false;
		if (r > 0 && (fds[1].revents & POLLIN)) {
			ssize_t n;
			while ((n = read(ifd, buf, sizeof(buf))) > 0) {
				for (char *p = buf; p < buf + n;) {
					struct inotify_event *ev = (struct inotify_event *) p;
					p += sizeof(*ev) + ev->len;
					if (ev->mask & IN_Q_OVERFLOW)
						changed = true; /* events were lost: look at everything again */
					else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
						lost |= ev->wd == wd; /* not the IGNORED of a watch we dropped */
					/* Only configuration names matter: temp files (ours, kindnetd's
					 * NAME.temp) show up again as the CNI name they are renamed to. */
					else if (ev->len > 0 && hg_conflist_is_cni_name(ev->name))
						changed = true;
				}
			}
		}
		now = now_ms();
		if (lost) {
			/* The folder was removed or renamed: watch the path again, a new folder there
			 * included; until then, try every retry period. */
			inotify_rm_watch(ifd, wd);
			wd = add_watch(ifd, conf_dir, false);
			changed = true;
			if (wd < 0) {
				retry = now + GONE_RETRY_MS;
				continue;
			}
		}
		if (changed) {
			if (due < 0)
				first = now;
			due = now + DEBOUNCE_MS;
			if (due > first + DEBOUNCE_MAX_MS)
				due = first + DEBOUNCE_MAX_MS;
		}
		if ((due >= 0 && now >= due) || (retry >= 0 && now >= retry)) {
			if (wd < 0 && (wd = add_watch(ifd, conf_dir, false)) < 0) {
				retry = now + GONE_RETRY_MS;
				continue;
			}
			due = -1;
			retry = reconcile(conf_dir, entry, log, last, sizeof(last)) ? -1 : now_ms() + RETRY_MS;
		}
	}
}
