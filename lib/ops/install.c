/* SPDX-License-Identifier: Apache-2.0 */
/* The install operation's entry in the CNI configuration: the primary configuration read,
 * edited (lib/base/conflist.c) and written back; and the temp files of every install write. */
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
#include <sys/random.h>
#include "ops/install.h"
#include "ops/install-int.h"
#include "os/nft.h"
#include "base/conflist.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"

/* Temp files start with '.' and end in .tmp: no CNI extension, so no runtime ever loads one
 * half-written, and the watch loop ignores them. */
#define TMP_PREFIX ".host-gateway."
/* A file that changes between our read and our rename is read again, this many times. */
#define CHAIN_ATTEMPTS 5


/* Our temp files: TMP_PREFIX PIDNS "-" PID "." 6 random characters ".tmp", where PIDNS is
 * the inode of our PID namespace. Installers in containers are all PID 1: the random part
 * keeps two of them from ever taking each other's name, and the namespace tells a later
 * run whether the PID in a name can be judged from where it runs (hg_install_sweep). */
#define TMP_RANDOM 6
static const char tmp_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* The inode of our PID namespace; 0 when /proc cannot tell (then no name is judged). */
static unsigned long long own_pidns(void)
{
	static unsigned long long ino;
	struct stat st;
	if (!ino && stat("/proc/self/ns/pid", &st) == 0)
		ino = (unsigned long long) st.st_ino;
	return ino;
}

int hg_install_tmp_name(const char *dir, char **path)
{
	unsigned char rnd[TMP_RANDOM];
	char suffix[TMP_RANDOM + 1];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t) sizeof(rnd)) {
		/* Early boot without entropy: still a name of its own; O_EXCL and linkat's EEXIST
		 * catch the rest. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char) ((unsigned long) ts.tv_nsec >> (i * 5)) ^ (unsigned char) getpid();
	}
	for (size_t i = 0; i < TMP_RANDOM; i++)
		suffix[i] = tmp_chars[rnd[i] % (sizeof(tmp_chars) - 1)];
	suffix[TMP_RANDOM] = '\0';
	if (asprintf(path, "%s/" TMP_PREFIX "%llu-%d.%s.tmp", dir, own_pidns(), (int) getpid(), suffix) < 0) {
		*path = NULL;
		return -1;
	}
	return 0;
}

/* A temp name of ours: its writer's PID namespace and PID, else 0. */
static pid_t tmp_parse(const char *name, unsigned long long *ns_out)
{
	const size_t plen = sizeof(TMP_PREFIX) - 1;
	unsigned long long ns, pid;
	const char *s = name + plen;
	if (strncmp(name, TMP_PREFIX, plen) != 0)
		return 0;
	if (!(s = hg_parse_decimal(s, ULLONG_MAX, &ns)) || *s++ != '-' || !(s = hg_parse_decimal(s, INT_MAX, &pid)) ||
	    *s++ != '.')
		return 0;
	for (int i = 0; i < TMP_RANDOM; i++, s++)
		if (!*s || !strchr(tmp_chars, *s))
			return 0;
	if (strcmp(s, ".tmp") != 0)
		return 0;
	*ns_out = ns;
	return (pid_t) pid;
}

static pid_t tmp_writer(const char *name)
{
	unsigned long long ns;
	pid_t pid = tmp_parse(name, &ns);
	/* A PID of another namespace means nothing here: that writer may well be alive. */
	return pid > 0 && own_pidns() != 0 && ns == own_pidns() ? pid : 0;
}

/* A writer holds a named temp file for the moment between its link and its rename (a
 * copy of the binary where the file system has no O_TMPFILE): one of another PID
 * namespace unchanged this long is a killed writer's. Installers in pods get a new
 * namespace with each restart, whose inode number is rarely the killed one's: judged by
 * PID only, their temp files (a copy of the binary each) stayed for ever. */
#define TMP_FOREIGN_STALE_S (60 * 60)

static int sweep_foreign(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);
	int n = 0;
	while (d && (e = readdir(d))) {
		unsigned long long ns;
		if (tmp_parse(e->d_name, &ns) > 0 && ns != own_pidns() &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > TMP_FOREIGN_STALE_S && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	return n;
}

int hg_install_sweep(const char *dir, const struct hg_log *log)
{
	int n = hg_sweep_temp(dir, tmp_writer) + sweep_foreign(dir);
	if (n > 0)
		hg_logf(log, "removed %d temp file%s of a killed install in %s", n, n == 1 ? "" : "s", dir);
	return n;
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
int hg_install_write(const char *dir, const char *name, const char *text, const struct stat *like,
			const char *expect_path, bool noreplace, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_oom(err);
	if (hg_atomic_open(&t, dir, hg_install_tmp_name, err) < 0)
		return -1;
	/* The owner is changed only when it differs: the DaemonSet runs without CAP_CHOWN, and a
	 * root:root file (the usual) needs none. */
	struct stat mine;
	if (hg_write_all(t.fd, text, strlen(text)) < 0 || fchmod(t.fd, like->st_mode & 07777) < 0 ||
	    fstat(t.fd, &mine) < 0 ||
	    ((mine.st_uid != like->st_uid || mine.st_gid != like->st_gid) &&
	     fchown(t.fd, like->st_uid, like->st_gid) < 0))
		return hg_error_errno(err, HG_CNI_IO, errno, "write a temp file for %s", path);
	if (expect_path && still_same(expect_path, like, err) < 0)
		return -1;
	return hg_atomic_commit(&t, path, HG_ATOMIC_SYNC | (noreplace ? HG_ATOMIC_NOREPLACE : 0), err);
}

/* The CNI names of dir that are not directories (libcni lists them so), unsorted. */
static int list_cni_names(const char *dir, char ***out, struct hg_error *err)
{
	_cleanup_strv_ char **names = calloc(1, sizeof(char *));
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	if (!names)
		return hg_error_oom(err);
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
			return hg_error_oom(err);
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

int hg_install_read(const char *path, struct stat *st, char **text, size_t *len, struct hg_error *err)
{
	/* Not through a symlink: editing would replace the link with a file, and what it points
	 * to (a ConfigMap volume, another package's file) is not ours to rewrite. A FIFO, a
	 * device or a huge file there is refused before it is read (os/fs.h). */
	if (hg_read_file(path, HG_CONFLIST_MAX_SIZE, 0, st, text, len, err) < 0) {
		if (err->errnum == ELOOP) {
			hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s is a symbolic link: not edited", path);
			err->errnum = ELOOP;
		}
		return -1;
	}
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
		return hg_error_oom(err);
	}
	if (hg_install_read(p->path, &p->st, &text, &len, err) < 0)
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
			     const char *text, bool dry, char **primary, const struct hg_log *log, struct hg_error *err)
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
	if (hg_install_read(new_path, &st, &old_text, &len, err) < 0 ||
	    hg_conflist_parse(new_path, old_text, len, &old, &converted, err) < 0)
		return hg_error_prefix(err, "%s exists", new_path);
	const char *a = json_string_value(json_object_get(old, "name"));
	const char *b = json_string_value(json_object_get(p->list, "name"));
	if (converted || !hg_conflist_find(old) || !a || !b || strcmp(a, b) != 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "%s is a single plugin and must become %s to be chained, but %s exists and is not "
				    "host-gateway's conversion of it: not converted",
				    p->path, new_name, new_path);
	if (dry)
		return 1;
	if (hg_install_write(conf_dir, new_name, text, &st, new_path, false, err) < 0)
		return -1;
	if (still_same(p->path, &p->st, err) < 0)
		return -1; /* rewritten again meanwhile: the next attempt converts that */
	if (unlink(p->path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s (now converted into %s)", p->path, new_path);
	hg_fsync_dir(conf_dir);
	hg_logf(log, "chained into %s (converted again from %s)", new_path, p->names[p->idx]);
	if (primary) {
		free(*primary);
		if (!(*primary = strdup(new_path)))
			return hg_error_oom(err);
	}
	return 1;
}

/* The primary's text as it will be written: never a file our own reader would refuse,
 * which we could not fix afterwards. */
static int dump_primary(const struct primary *p, char **text, struct hg_error *err)
{
	if (!(*text = hg_conflist_dump(p->list)))
		return hg_error_oom(err);
	if (strlen(*text) > HG_CONFLIST_MAX_SIZE)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s with our entry would be larger than %u bytes: not written",
				    p->path, HG_CONFLIST_MAX_SIZE);
	return 0;
}

/* One attempt. *replaced (optional): the write replaced a different host-gateway entry. */
static int chain_once(const char *conf_dir, json_t *entry, unsigned flags, char **primary, bool *replaced,
		      const struct hg_log *log, struct hg_error *err)
{
	_cleanup_primary_ struct primary p = {0};
	_cleanup_free_ char *text = NULL, *new_name = NULL, *new_path = NULL;
	bool dry = flags & CHAIN_DRY;

	if (load_primary(conf_dir, &p, err) < 0)
		return -1;
	if (p.idx < 0)
		return no_primary(conf_dir, err);
	json_t *old = hg_conflist_find(p.list);
	bool other = old && !json_equal(old, entry);
	int r = hg_conflist_add(p.list, entry, err);
	if (r < 0)
		return hg_error_prefix(err, "%s", p.path);
	if (primary && !(*primary = strdup(p.path)))
		return hg_error_oom(err);
	if (r == 0 && !p.converted)
		return 0;
	if (dump_primary(&p, &text, err) < 0)
		return -1;
	if (!p.converted) {
		if (other && (flags & CHAIN_KEEP_OTHER)) {
			hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s holds a different host-gateway entry", p.path);
			return CHAIN_OTHER;
		}
		if (dry)
			return 1;
		if (hg_install_write(conf_dir, p.names[p.idx], text, &p.st, p.path, false, err) < 0)
			return -1;
		hg_logf(log, "chained into %s%s", p.path, other ? " (replacing a different host-gateway entry)" : "");
		if (replaced)
			*replaced = other;
		return 1;
	}

	/* A single plugin cannot be chained: it becomes NAME.conflist. The new file is written
	 * first, and the old one removed after: a runtime listing the folder in between finds
	 * both, loads the first by name (the old .conf before NAME.conflist, or the new file
	 * before an old .json), and either way gets a whole configuration of the same network.
	 * Without the new one taking the first place, the node would switch networks: refused. */
	if (!(new_name = hg_conflist_converted_name(p.names[p.idx])) || asprintf(&new_path, "%s/%s", conf_dir, new_name) < 0)
		return hg_error_oom(err);
	const char *blocker = hg_conflist_rename_blocker(p.names, p.idx, new_name);
	if (blocker && strcmp(blocker, new_name) == 0)
		return replace_converted(conf_dir, &p, new_name, new_path, text, dry, primary, log, err);
	if (blocker)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "%s is a single plugin and must become %s to be chained, but %s/%s %s: not converted",
				    p.path, new_name, conf_dir, blocker,
				    strcmp(blocker, new_name) == 0 ? "exists" : "would then be loaded first");
	if (dry)
		return 1;
	if (hg_install_write(conf_dir, new_name, text, &p.st, p.path, true, err) < 0)
		return -1;
	if (still_same(p.path, &p.st, err) < 0) {
		unlink(new_path); /* the .conf was rewritten meanwhile: start over from it */
		return -1;
	}
	if (unlink(p.path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s (now converted into %s)", p.path, new_path);
	hg_fsync_dir(conf_dir);
	hg_logf(log, "chained into %s (converted from %s)", new_path, p.names[p.idx]);
	if (primary) {
		free(*primary);
		*primary = TAKE_PTR(new_path);
	}
	return 1;
}

int hg_install_chain_flags(const char *conf_dir, json_t *entry, unsigned flags, char **primary, bool *replaced,
			   const struct hg_log *log, struct hg_error *err)
{
	if (replaced)
		*replaced = false;
	for (int attempt = 1;; attempt++) {
		if (primary)
			*primary = NULL;
		int r = chain_once(conf_dir, entry, flags, primary, replaced, log, err);
		if (r >= 0 || err->code != HG_CNI_TRY_AGAIN || attempt == CHAIN_ATTEMPTS)
			return r;
		if (primary)
			free(TAKE_PTR(*primary));
	}
}

int hg_install_chain(const char *conf_dir, json_t *entry, char **primary, const struct hg_log *log,
		     struct hg_error *err)
{
	return hg_install_chain_flags(conf_dir, entry, 0, primary, NULL, log, err);
}

int hg_install_chain_dry(const char *conf_dir, json_t *entry, struct hg_error *err)
{
	return hg_install_chain_flags(conf_dir, entry, CHAIN_DRY, NULL, NULL, NULL, err);
}

int hg_install_chain_check(const char *conf_dir, json_t *entry, char **primary, struct hg_error *err)
{
	_cleanup_primary_ struct primary p = {0};
	if (primary)
		*primary = NULL;
	if (load_primary(conf_dir, &p, err) < 0)
		return -1;
	if (p.idx < 0)
		return no_primary(conf_dir, err);
	if (primary && !(*primary = strdup(p.path)))
		return hg_error_oom(err);
	if (p.converted)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "%s is a single plugin, not chained", p.path);
	if (hg_conflist_has(p.list, entry, err) < 0)
		return hg_error_prefix(err, "%s", p.path);
	return 0;
}

int hg_uninstall_chain(const char *conf_dir, char **state_dir, const struct hg_log *log, struct hg_error *err)
{
	_cleanup_primary_ struct primary p = {0};
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
		return hg_error_oom(err);
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
	if (hg_install_write(conf_dir, p.names[p.idx], text, &p.st, p.path, false, err) < 0)
		return -1;
	hg_logf(log, "removed the host-gateway entry from %s", p.path);
	return 1;
}

