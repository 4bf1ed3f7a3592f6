/* SPDX-License-Identifier: Apache-2.0 */
/* The watch of the CNI configuration folder: keeps our entry in the primary configuration
 * while something else (kindnetd) rewrites it (install.h: hg_install_watch). */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include "ops/install.h"
#include "ops/install-int.h"
#include "base/config.h"
#include "base/util.h"
#include "os/fs.h"
#include <poll.h>
#include <time.h>
#include <sys/inotify.h>
#include "base/conflist.h"

/* kindnetd writes temp + rename, editors write several events per save: a change is acted
 * on after this much quiet, and never later than DEBOUNCE_MAX_MS after its first event. */
#define DEBOUNCE_MS 100
#define DEBOUNCE_MAX_MS 400
/* After a failed attempt (the primary is invalid), a try this often even without events. */
#define RETRY_MS 5000
/* While the watched folder is gone, a look for it this often. */
#define GONE_RETRY_MS 200
/* The folder's path is resolved again this often: a symlink elsewhere in it (net.d -> cur
 * -> v1 with cur swapped, or a swapped parent) changes no name the parent's watch sees. */
#define RESOLVE_MS 2000
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
		return -1;
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
	return w->base && w->parent ? 0 : -1;
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
	int r = hg_install_chain_flags(conf_dir, entry, flags, &primary, &replaced, log, &e);
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
	long long first = 0, due = -1, retry = -1, resolve = now_ms() + RESOLVE_MS;
	struct watch w __attribute__((cleanup(watch_free))) = {.parent = NULL, .base = NULL};
	struct fight f = {0};
	bool moved;
	/* Events are read whole: the buffer is aligned for struct inotify_event. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (ifd < 0)
		return hg_error_errno(err, HG_CNI_IO, errno, "inotify");
	if (watch_init(&w, ifd, conf_dir) < 0)
		return hg_error_oom(err);
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
		if (next < 0 || resolve < next)
			next = resolve;
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
		if (now >= resolve) {
			rearm = true;
			resolve = now + RESOLVE_MS;
		}
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
