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
#include "os/nft.h"
#include "base/conflist.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"

#define BINARY_NAME "host-gateway"
/* Temp files start with '.' and end in .tmp: no CNI extension, so no runtime ever loads one
 * half-written, and the watch loop ignores them. */
#define TMP_PREFIX ".host-gateway."
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

static int tmp_path(const char *dir, char **path)
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

static pid_t tmp_writer(const char *name)
{
	const size_t plen = sizeof(TMP_PREFIX) - 1;
	unsigned long long ns = 0;
	long pid = 0;
	const char *s = name + plen;
	if (strncmp(name, TMP_PREFIX, plen) != 0)
		return 0;
	/* Canonical numbers only ("%llu", "%d": no sign, no leading zero), so that one file has
	 * one reading. */
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (ns > (ULLONG_MAX - 9) / 10)
			return 0;
		ns = ns * 10 + (unsigned) (*s - '0');
	}
	if (*s++ != '-' || *s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((pid = pid * 10 + (*s - '0')) > INT_MAX)
			return 0;
	if (*s++ != '.')
		return 0;
	for (int i = 0; i < TMP_RANDOM; i++, s++)
		if (!*s || !strchr(tmp_chars, *s))
			return 0;
	if (strcmp(s, ".tmp") != 0)
		return 0;
	/* A PID of another namespace means nothing here: that writer may well be alive. */
	return own_pidns() != 0 && ns == own_pidns() ? (pid_t) pid : 0;
}

int hg_install_sweep(const char *dir, const struct hg_log *log)
{
	int n = hg_sweep_temp(dir, tmp_writer);
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
static int write_atomic(const char *dir, const char *name, const char *text, const struct stat *like,
			const char *expect_path, bool noreplace, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (hg_atomic_open(&t, dir, tmp_path, err) < 0)
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
	 * to (a ConfigMap volume, another package's file) is not ours to rewrite. A FIFO, a
	 * device or a huge file there is refused before it is read (util.h). */
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
	if (dry)
		return 1;
	if (write_atomic(conf_dir, new_name, text, &st, new_path, false, err) < 0)
		return -1;
	if (still_same(p->path, &p->st, err) < 0)
		return -1; /* rewritten again meanwhile: the next attempt converts that */
	if (unlink(p->path) < 0 && errno != ENOENT)
		return hg_error_errno(err, HG_CNI_IO, errno, "remove %s (now converted into %s)", p->path, new_path);
	hg_fsync_dir(conf_dir);
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
	if (strlen(*text) > HG_CONFLIST_MAX_SIZE)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s with our entry would be larger than %u bytes: not written",
				    p->path, HG_CONFLIST_MAX_SIZE);
	return 0;
}

/* chain_once's flags: CHAIN_DRY checks everything and writes nothing (1: it would write);
 * CHAIN_KEEP_OTHER returns CHAIN_OTHER instead of replacing a different entry of ours. */
#define CHAIN_DRY 1u
#define CHAIN_KEEP_OTHER 2u
#define CHAIN_OTHER (-2)

/* One attempt. *replaced (optional): the write replaced a different host-gateway entry. */
static int chain_once(const char *conf_dir, json_t *entry, unsigned flags, char **primary, bool *replaced,
		      const struct hg_log *log, struct hg_error *err)
{
	_cleanup_primary_ struct primary p;
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
	if (primary)
		*primary = strdup(p.path);
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
		if (write_atomic(conf_dir, p.names[p.idx], text, &p.st, p.path, false, err) < 0)
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
		return hg_error_set(err, HG_CNI_IO, "out of memory");
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
	if (write_atomic(conf_dir, new_name, text, &p.st, p.path, true, err) < 0)
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

static int chain(const char *conf_dir, json_t *entry, unsigned flags, char **primary, bool *replaced,
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
	return chain(conf_dir, entry, 0, primary, NULL, log, err);
}

int hg_install_chain_dry(const char *conf_dir, json_t *entry, struct hg_error *err)
{
	return chain(conf_dir, entry, CHAIN_DRY, NULL, NULL, NULL, err);
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
	hg_fsync_dir(bin_dir);
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
	_cleanup_free_ char *path = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	_cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "open %s", name);
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return hg_error_oom(err);
	if (hg_atomic_open(&t, dir, tmp_path, err) < 0)
		return -1;
	if (hg_copy_fd(in, t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "copy %s into %s", name, dir);
	if (fchmod(t.fd, 0644) < 0 || fsync(t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "install %s", path);
	return hg_atomic_commit(&t, path, HG_ATOMIC_SYNC, err);
}

int hg_install_libs(const char *bin_dir, const struct hg_log *log, struct hg_error *err)
{
	char exe[4096];
	_cleanup_free_ char *src = NULL, *dst = NULL;
	if (hg_self_dir(exe, sizeof(exe)) < 0)
		return 0;
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
	hg_fsync_dir(dst);
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
	_cleanup_free_ char *path = NULL, *pkg = NULL;
	_cleanup_atomic_ struct hg_atomic t = {.fd = -1};
	struct stat self;
	bool exists;

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
	if (hg_atomic_open(&t, bin_dir, tmp_path, err) < 0)
		return -1;
	if (hg_copy_fd(self_fd, t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "copy this executable into %s", bin_dir);
	if (fchmod(t.fd, 0755) < 0 || fsync(t.fd) < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "install %s", path);
	if (hg_atomic_commit(&t, path, HG_ATOMIC_SYNC, err) < 0)
		return -1;
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

/* What the watch of the folder and the watch of its parent (for the folder's name) see. */
#define DIR_EVENTS                                                                                                    \
	(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |           \
	 IN_MOVE_SELF | IN_ONLYDIR)
#define NAME_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* The folder as a path, where it resolves now, and its parent. inotify_add_watch follows a
 * symlink once: the watch stays on the old target when the name is swapped (ln -s v2 tmp
 * && mv -T tmp net.d), which no event of that target tells. The parent's watch sees the
 * name change, and the folder is then watched where it resolves anew. */
struct watch {
	int ifd;
	const char *conf_dir;
	int wd, pwd;     /* -1: not watched now */
	dev_t dev;       /* what wd watches */
	ino_t ino;
	char *parent;    /* NULL for "/" */
	char *base;
};

static void watch_free(struct watch *w)
{
	free(w->parent);
	free(w->base);
}

static int watch_init(struct watch *w, int ifd, const char *conf_dir)
{
	_cleanup_free_ char *path = strdup(conf_dir);
	*w = (struct watch){.ifd = ifd, .conf_dir = conf_dir, .wd = -1, .pwd = -1};
	if (!path)
		return -ENOMEM;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	char *slash = strrchr(path, '/');
	if (slash && slash[1] == '\0')
		return 0; /* "/": no parent, nothing to swap */
	w->base = strdup(slash ? slash + 1 : path);
	if (slash == path)
		w->parent = strdup("/");
	else if (slash)
		w->parent = strndup(path, (size_t) (slash - path));
	else
		w->parent = strdup(".");
	return w->base && w->parent ? 0 : -ENOMEM;
}

/* Watches the parent if it is not, and the folder where its path resolves now (the watch
 * of a folder it no longer resolves to is dropped). true when the folder is watched;
 * *moved when that is another folder than before (or none any more). */
static bool watch_arm(struct watch *w, bool *moved)
{
	struct stat st;
	*moved = false;
	if (w->pwd < 0 && w->parent)
		w->pwd = inotify_add_watch(w->ifd, w->parent, NAME_EVENTS);
	int r = stat(w->conf_dir, &st);
	if (r == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		r = -1;
	}
	if (r < 0) {
		if (w->wd >= 0) {
			inotify_rm_watch(w->ifd, w->wd);
			w->wd = -1;
			*moved = true;
		}
		return false;
	}
	if (w->wd >= 0 && st.st_dev == w->dev && st.st_ino == w->ino)
		return true;
	if (w->wd >= 0)
		inotify_rm_watch(w->ifd, w->wd);
	*moved = true;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->wd = inotify_add_watch(w->ifd, w->conf_dir, DIR_EVENTS);
	return w->wd >= 0;
}

/* Replacements of a different host-gateway entry by ours: another writer that puts its own
 * back each time (a second watcher with another --plugin-config) would have both rewrite
 * the file for ever, an fsync each. The FIGHT_REPLACEMENTS-th replacement within
 * FIGHT_WINDOW_MS is not made; a new configuration rolled out (one replacement), or a
 * rolling update with two watchers for a moment (a few), stays below. */
#define FIGHT_REPLACEMENTS 5
#define FIGHT_WINDOW_MS 60000

struct fight {
	long long at[FIGHT_REPLACEMENTS - 1]; /* the last replacements, oldest first */
	size_t n;
};

/* How many of the last replacements fall within the window before now. */
static size_t fight_recent(const struct fight *f, long long now)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += now - f->at[i] < FIGHT_WINDOW_MS;
	return n;
}

static void fight_note(struct fight *f, long long now)
{
	if (f->n == ARRAY_SIZE(f->at)) {
		memmove(f->at, f->at + 1, (f->n - 1) * sizeof(f->at[0]));
		f->n--;
	}
	f->at[f->n++] = now;
}

/* One attempt: 1 done, 0 failed (reported once until it changes or is gone: the caller
 * tries again), -1 (err set) the end of the watch. */
static int reconcile(const char *conf_dir, json_t *entry, const struct hg_log *log, struct fight *f, char *last,
		     size_t last_size, struct hg_error *err)
{
	struct hg_error e = {0};
	_cleanup_free_ char *primary = NULL;
	long long now = now_ms();
	bool replaced;
	unsigned flags = fight_recent(f, now) + 1 >= FIGHT_REPLACEMENTS ? CHAIN_KEEP_OTHER : 0;
	int r = chain(conf_dir, entry, flags, &primary, &replaced, log, &e);
	if (r == CHAIN_OTHER)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "%s: a different host-gateway entry replaced ours again after each of our last "
				    "%d rewrites within %d s: stopped rather than rewrite the file for ever (a second "
				    "install --watch with another --plugin-config? run one per node, or give them the "
				    "same entry)",
				    primary ? primary : conf_dir, FIGHT_REPLACEMENTS - 1, FIGHT_WINDOW_MS / 1000);
	if (r >= 0) {
		if (replaced)
			fight_note(f, now);
		last[0] = '\0';
		return 1;
	}
	if (strcmp(last, e.msg) != 0) {
		hg_logf(log, "waiting: %s", e.msg);
		snprintf(last, last_size, "%s", e.msg);
	}
	return 0;
}

int hg_install_watch(const char *conf_dir, json_t *entry, int stop_fd, const struct hg_log *log,
		     struct hg_error *err)
{
	_cleanup_close_ int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char last[sizeof(err->msg)] = "";
	long long first = 0, due = -1, retry = -1;
	struct watch w __attribute__((cleanup(watch_free))) = {.parent = NULL, .base = NULL};
	struct fight f = {0};
	bool moved;
	/* Events are read whole: the buffer is aligned for struct inotify_event. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (ifd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "inotify");
	if (watch_init(&w, ifd, conf_dir) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	/* Made at the start only (istio-cni and Multus create it too): a folder removed while
	 * watched is someone's doing (an admin restoring a backup with cp -r or mv); made again
	 * at once, the restored folder would land inside it. */
	hg_mkdir_p(conf_dir, 0755);
	if (!watch_arm(&w, &moved))
		return hg_error_errno(err, HG_CNI_IO, errno, "watch %s", conf_dir);
	int r = reconcile(conf_dir, entry, log, &f, last, sizeof(last), err);
	if (r < 0)
		return -1;
	if (r == 0)
		retry = now_ms() + RETRY_MS;

	for (;;) {
		struct pollfd fds[2] = {{.fd = stop_fd, .events = POLLIN}, {.fd = ifd, .events = POLLIN}};
		long long now = now_ms(), next = due >= 0 ? due : retry;
		if (due >= 0 && retry >= 0 && retry < due)
			next = retry;
		int timeout = next < 0 ? -1 : next <= now ? 0 : (int) (next - now);
		r = poll(fds, 2, timeout);
		if (r < 0 && errno != EINTR)
			return hg_error_errno(err, HG_CNI_IO, errno, "poll");
		if (fds[0].revents)
			return 0;
		bool changed = false, rearm = false;
		if (r > 0 && (fds[1].revents & POLLIN)) {
			ssize_t n;
			while ((n = read(ifd, buf, sizeof(buf))) > 0) {
				for (char *p = buf; p < buf + n;) {
					struct inotify_event *ev = (struct inotify_event *) p;
					p += sizeof(*ev) + ev->len;
					if (ev->mask & IN_Q_OVERFLOW) {
						/* Events were lost: look at everything again. */
						changed = rearm = true;
					} else if (ev->wd == w.pwd) {
						/* The parent: moved or gone (watched again at its path), or
						 * the folder's name swapped, removed or made. */
						if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
							inotify_rm_watch(ifd, w.pwd);
							w.pwd = -1;
							rearm = true;
						} else if (ev->len > 0 && strcmp(ev->name, w.base) == 0) {
							rearm = true;
						}
					} else if (ev->wd != w.wd) {
						/* A watch dropped (the old target of a swapped symlink). */
					} else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
						/* The folder was removed or renamed: watched again at its path,
						 * a new folder there included. */
						inotify_rm_watch(ifd, w.wd);
						w.wd = -1;
						changed = rearm = true;
					} else if (ev->len > 0 && hg_conflist_is_cni_name(ev->name)) {
						/* Only configuration names matter: temp files (ours, kindnetd's
						 * NAME.temp) show up again as the CNI name they are renamed to. */
						changed = true;
					}
				}
			}
		}
		now = now_ms();
		if (rearm) {
			/* Until the folder is back, a look every GONE_RETRY_MS. */
			bool armed = watch_arm(&w, &moved);
			changed |= moved;
			if (!armed) {
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
			if ((w.wd < 0 || w.pwd < 0) && !watch_arm(&w, &moved)) {
				retry = now + GONE_RETRY_MS;
				continue;
			}
			due = -1;
			r = reconcile(conf_dir, entry, log, &f, last, sizeof(last), err);
			if (r < 0)
				return -1;
			retry = r ? -1 : now_ms() + RETRY_MS;
		}
	}
}
