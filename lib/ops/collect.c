/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "ops/collect.h"
#include "ops/attach.h"
#include "ops/state.h"
#include "ops/record.h"
#include "ops/membership.h"
#include "ops/registry.h"
#include "ops/names.h"
#include "os/hosts.h"
#include "os/target.h"
#include "os/fs.h"
#include "base/util.h"

void hg_hook_remove_users(const char *users)
{
	_cleanup_closedir_ DIR *d = opendir(users);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	}
}

void hg_hook_release_user(const char *id, const char *netns_record, const char *netns_hint,
			  const struct hg_log *log)
{
	_cleanup_free_ char *users = NULL, *file = NULL;
	_cleanup_record_ struct hg_record record = {0};
	struct hg_error err = {0};
	bool found = false;
	size_t n = strlen(netns_record);
	hg_record_init(&record);
	if (n < 5 || asprintf(&users, "%.*s.users", (int) (n - 5), netns_record) < 0 ||
	    asprintf(&file, "%s/%s", users, id) < 0)
		return;
	unlink(file);
	if (rmdir(users) < 0 && errno != ENOENT)
		return; /* other containers still use the namespace */
	if (hg_record_load(netns_record, &record, &found, &err) < 0)
		hg_logf(log, "%s, removing it", err.msg);
	else if (found)
		hg_attach_undo(&record, netns_hint, log);
	if (hg_state_remove(netns_record, &err) < 0)
		hg_logf(log, "%s, ignoring", err.msg);
	/* The last namespace takes the directory with it (fails harmlessly while others remain). */
	_cleanup_free_ char *dir = strdup(netns_record);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		rmdir(dir);
	}
}

/* Regular files named *.json in dir: d_type is not trusted (DT_UNKNOWN exists). */
static bool is_record(int dfd, const char *name)
{
	struct stat st;
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0 &&
	       fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static bool process_alive(const struct hg_membership *m)
{
	unsigned long long now;
	if (m->pid <= 0)
		return true; /* unknown: only the namespace can tell */
	return hg_pid_start_time(m->pid, &now) == 0 && now == m->pid_start;
}

/* Memberships of containers that are gone. */
static int collect_members(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	int removed = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_HOOK, &dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		struct hg_membership own = {0};
		struct hg_error err = {0};
		bool found;
		if (!is_record(dirfd(d), e->d_name) || asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			continue;
		if (hg_membership_load(path, &own, &found, &err) < 0) {
			hg_logf(log, "gc: %s, removing it", err.msg);
			unlink(path);
			removed++;
			continue;
		}
		if (!found)
			continue;
		if (access(own.netns_record, F_OK) == 0 && process_alive(&own)) {
			hg_membership_free(&own);
			continue;
		}
		hg_logf(log, "gc: container %s is gone without poststop, releasing its plumbing", own.container_id);
		hg_hook_release_user(own.container_id, own.netns_record, NULL, log);
		hg_membership_free(&own);
		unlink(path);
		removed++;
	}
	return removed;
}

/* Plumbing of namespaces that are gone, or that no container uses any more. */
static int collect_plumbing(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	int removed = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_HOOK_NETNS, &dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *path = NULL, *users = NULL;
		_cleanup_record_ struct hg_record record = {0};
		struct hg_error err = {0};
		bool found;
		hg_record_init(&record);
		if (!is_record(dirfd(d), e->d_name) || asprintf(&path, "%s/%s", dir, e->d_name) < 0 ||
		    asprintf(&users, "%s/%.*s.users", dir, (int) (strlen(e->d_name) - 5), e->d_name) < 0)
			continue;
		if (hg_record_load(path, &record, &found, &err) < 0 || !found) {
			unlink(path);
			continue;
		}
		/* A user whose membership record is missing was killed between the two writes. */
		_cleanup_closedir_ DIR *u = opendir(users);
		struct dirent *ue;
		size_t left = 0;
		while (u && (ue = readdir(u))) {
			_cleanup_free_ char *own = NULL;
			if (ue->d_name[0] == '.')
				continue;
			if (hg_state_hook_path(state_dir, ue->d_name, &own) == 0 && access(own, F_OK) < 0)
				unlinkat(dirfd(u), ue->d_name, 0);
			else
				left++;
		}
		if (left && hg_attach_netns_alive(&record))
			continue;
		hg_logf(log, "gc: plumbing %s %s, undoing it", e->d_name, left ? "of a namespace that is gone" : "without users");
		hg_hook_remove_users(users);
		rmdir(users);
		hg_attach_undo(&record, NULL, log);
		unlink(path);
		removed++;
	}
	return removed;
}

/* by-netns links whose record is gone (a DEL killed between its two steps). */
static int collect_links(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	int removed = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_BY_NETNS, &dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0) == 0 || errno != ENOENT)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
		removed++;
	}
	return removed;
}

/* The network namespaces held by something of the machine: a process in one, or a mount of
 * one (`ip netns`, a runtime's pinned netns of a pod whose sandbox process is not running
 * yet or any more) in any mount namespace. A record's path alone cannot tell "gone" from
 * "not visible here" (gc run outside the runtime's mount namespace, which may keep its
 * pods' netns mounts private). A namespace that got the inode again counts as held too: gc
 * then leaves the record for later rather than undo on a guess. Gathered once per
 * collection, and only when a record's path does not lead to its namespace; each mount
 * namespace's mountinfo is read once (bounded); past the bounds every namespace counts as
 * held. Inode numbers only: every netns lives on the one nsfs. */
#define MAX_MOUNT_NAMESPACES 1024
#define MAX_MOUNTINFO (8u << 20)
#define MAX_HELD (1u << 20)

struct held_netns {
	bool gathered, all;
	ino_t *ino;
	size_t n, cap;
};

static void held_netns_free(struct held_netns *h)
{
	free(h->ino);
}

static void held_add(struct held_netns *h, ino_t ino)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		ino_t *grown = cap <= MAX_HELD ? realloc(h->ino, cap * sizeof(*grown)) : NULL;
		if (!grown) {
			h->all = true;
			return;
		}
		h->ino = grown;
		h->cap = cap;
	}
	h->ino[h->n++] = ino;
}

/* The netns mounted in the mount namespace of process pid: "net:[INODE]" roots. */
static void held_add_mounts(struct held_netns *h, const char *pid)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	struct hg_error err = {0};
	snprintf(path, sizeof(path), "/proc/%.20s/mountinfo", pid);
	if (hg_read_file(path, MAX_MOUNTINFO, 0, NULL, &text, NULL, &err) < 0) {
		/* Too big to read: nothing can be ruled out. A process gone meanwhile is fine. */
		h->all |= err.errnum == EFBIG;
		return;
	}
	for (const char *p = text; (p = strstr(p, " net:[")) != NULL;) {
		char *end;
		p += strlen(" net:[");
		unsigned long long ino = strtoull(p, &end, 10);
		if (end != p && *end == ']')
			held_add(h, (ino_t) ino);
	}
}

static void held_gather(struct held_netns *h)
{
	_cleanup_closedir_ DIR *proc = opendir("/proc");
	struct dirent *e;
	ino_t seen[MAX_MOUNT_NAMESPACES];
	size_t n_seen = 0;
	h->gathered = true;
	h->all = !proc;
	while (proc && (e = readdir(proc))) {
		char path[64];
		struct stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", e->d_name);
		if (stat(path, &st) == 0)
			held_add(h, st.st_ino);
		snprintf(path, sizeof(path), "/proc/%.20s/ns/mnt", e->d_name);
		if (stat(path, &st) < 0)
			continue;
		bool known = false;
		for (size_t i = 0; i < n_seen && !known; i++)
			known = seen[i] == st.st_ino;
		if (known)
			continue;
		if (n_seen == MAX_MOUNT_NAMESPACES) {
			h->all = true;
			continue;
		}
		seen[n_seen++] = st.st_ino;
		held_add_mounts(h, e->d_name);
	}
}

/* The record's namespace is alive: its path leads to it, or something holds it. */
static bool record_netns_held(const struct hg_record *r, struct held_netns *h)
{
	if (hg_attach_netns_alive(r))
		return true;
	if (!h->gathered)
		held_gather(h);
	for (size_t i = 0; i < h->n && !h->all; i++)
		if (h->ino[i] == r->netns.ino)
			return true;
	return h->all;
}

/* NRI attachments whose pod's network namespace is gone (the plugin was down or killed
 * when the pod stopped). Takes the "nri" lock, which the plugin holds for its records;
 * the plugin never takes "hook" while it holds it. */
static int collect_nri(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_strv_ char **paths = NULL;
	struct hg_error err = {0};
	int removed = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_NRI, &dir) < 0 || access(dir, F_OK) < 0)
		return 0;
	struct held_netns held __attribute__((cleanup(held_netns_free))) = {0};
	_cleanup_close_ int lock = hg_state_lock(state_dir, "nri", &err);
	if (lock < 0) {
		hg_logf(log, "gc: %s, NRI records left", err.msg);
		return 0;
	}
	if (hg_state_list(dir, &paths, &err) < 0)
		return 0;
	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_record_ struct hg_record r = {0};
		bool found = false;
		if (hg_record_load(paths[i], &r, &found, &err) < 0) {
			hg_logf(log, "gc: %s, removing it", err.msg);
			hg_state_remove(paths[i], NULL);
			removed++;
			continue;
		}
		if (!found || record_netns_held(&r, &held))
			continue;
		hg_attach_undo(&r, NULL, log);
		hg_record_retire(state_dir, paths[i], &r, NULL);
		hg_logf(log, "gc: removed the NRI attachment of pod %s (its network namespace is gone)",
			r.container_id ? r.container_id : "?");
		removed++;
	}
	removed += hg_state_sweep_temp(dir);
	return removed;
}

int hg_collect_retire_judged(const char *state_dir, const char *path, const struct hg_state_stamp *read,
			     const struct hg_record *r, const struct hg_log *log, struct hg_error *err)
{
	struct hg_state_stamp now;
	int lock = hg_state_lock_record(path, false, err);
	if (lock < 0)
		return -1;
	int rc = 0;
	if (hg_state_stamp_of(path, &now) == 0 && hg_state_stamp_equal(&now, read)) {
		if (r)
			hg_attach_undo(r, NULL, log);
		if (hg_record_retire(state_dir, path, r, err) < 0) {
			struct hg_error why = *err; /* the message is rewritten from itself */
			hg_error_set(err, why.code, "%s (undone, its record stays)", why.msg);
			rc = -1;
		} else {
			rc = 1;
		}
	}
	hg_state_unlock_record(path, lock);
	return rc;
}

/* CNI attachments whose network namespace is gone: the runtime's DEL never reached us (the
 * entry was taken out of the conflist before the pod stopped, as when the DaemonSet is
 * deleted; containerd sends no CNI GC). What DEL would undo in the namespace went with it;
 * undo does the rest, and a DEL coming later finds nothing and succeeds. */
int hg_collect_cni(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	struct held_netns held __attribute__((cleanup(held_netns_free))) = {0};
	int removed = 0;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_CNI, &dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *net = NULL;
		_cleanup_strv_ char **paths = NULL;
		struct hg_error err = {0};
		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) ||
		    hg_state_network_dir(state_dir, e->d_name, &net) < 0 || hg_state_list(net, &paths, &err) < 0)
			continue;
		/* Gathered after the network's listing: a record listed now may be of a namespace
		 * made after an earlier network's gathering. */
		held_netns_free(&held);
		held = (struct held_netns){0};
		for (size_t i = 0; paths && paths[i]; i++) {
			_cleanup_record_ struct hg_record r = {0};
			struct hg_state_stamp read;
			bool found = false;
			if (hg_state_stamp_of(paths[i], &read) < 0 || hg_record_load(paths[i], &r, &found, &err) < 0 ||
			    !found || record_netns_held(&r, &held))
				continue;
			int rc = hg_collect_retire_judged(state_dir, paths[i], &read, &r, log, &err);
			if (rc < 0)
				hg_logf(log, "gc: %s; left for the next gc", err.msg);
			if (rc <= 0)
				continue;
			hg_logf(log, "gc: removed the CNI attachment %s (its network namespace is gone)",
				r.key ? r.key : paths[i]);
			removed++;
		}
		removed += hg_state_sweep_temp(net);
		hg_state_sweep_record_locks(net);
	}
	return removed;
}

/* The file a registry was made for, opened: 1 and *fd when it is still there and still
 * that file; 0 when the registry is stale (a version 2 registry, which cannot name its
 * file; the file is gone; or its path leads to another file now, which may even have got
 * its inode number); -1 when that cannot be told (the process through whose root the file
 * was reached is gone, or the file refuses to open). */
static int open_registered(const struct hg_hosts_registry *g, int *fd)
{
	struct hg_error err = {0};
	struct hg_file_id id;
	bool gone;
	*fd = -1;
	if (!g->has_identity)
		return 0;
	_cleanup_close_ int f = hg_target_open(&g->target, &gone, &err);
	if (f < 0)
		return (gone || err.errnum == ENOENT) && g->target.pid <= 0 ? 0 : -1;
	if (hg_file_identify(f, &id) < 0)
		return -1;
	if (!hg_names_registry_matches(g, &id, &g->target))
		return 0;
	*fd = TAKE_FD(f);
	return 1;
}

/* The names of a registry's dead owners leave its file (a pod's etc-hosts outlives its
 * containers' processes): the block is rendered again from the owners that only expired
 * (nothing says they are gone), or goes with the old per-owner blocks when none did.
 * Called with the file's lock held, when no owner is alive. */
static void strip_dead(int fd, const struct hg_hosts_registry *g, long long now, const struct hg_log *log)
{
	struct hg_error err = {0};
	char what[512];
	size_t total = 0, k = 0;
	bool any_dead = false;
	for (size_t i = 0; i < g->n; i++) {
		if (hg_names_owner_state(&g->owners[i], now) == HG_OWNER_DEAD)
			any_dead = true;
		else
			total += g->owners[i].n_entries;
	}
	_cleanup_strv_ char **keys = calloc(g->n + 1, sizeof(char *));
	_cleanup_free_ struct hg_hosts_entry *entries = calloc(total + 1, sizeof(*entries));
	if (!any_dead || !keys || !entries)
		return;
	for (size_t i = 0; i < g->n; i++) {
		const struct hg_hosts_owner *o = &g->owners[i];
		if (!(keys[i] = strdup(o->key)))
			return;
		if (hg_names_owner_state(o, now) == HG_OWNER_DEAD)
			continue;
		for (size_t j = 0; j < o->n_entries; j++)
			entries[k++] = (struct hg_hosts_entry){.ip = o->entries[j].ip, .names = o->entries[j].names};
	}
	hg_target_describe(&g->target, what, sizeof(what));
	_cleanup_free_ char *block = NULL;
	int r = k ? hg_hosts_apply_fd(fd, what, keys, entries, k, &block, &err) : hg_hosts_remove_fd(fd, what, keys, &err);
	if (r < 0)
		hg_logf(log, "gc: %s, ignoring", err.msg);
}

/* Hosts registries that are stale (see open_registered), or whose every owner is gone (the
 * containers died without poststop and nobody wrote the file since) or, its process
 * unknown, expired. The blocks of owners that are gone leave a file still there; with live
 * owners left, they go with the next write of one of them. */
static int collect_registries(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	long long now = (long long) time(NULL);
	int removed = 0;
	if (hg_state_hosts_dir(&dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		struct hg_hosts_registry g = {0};
		struct hg_error err = {0};
		unsigned long long dev, ino;
		if (!is_record(dirfd(d), e->d_name) || sscanf(e->d_name, "%llu-%llu.json", &dev, &ino) != 2 ||
		    asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			continue;
		/* Under the file's lock: a writer must not save an owner between our read and unlink. */
		_cleanup_close_ int lock = hg_state_lock_devino(state_dir, dev, ino, &err);
		if (lock < 0)
			continue;
		if (hg_registry_load(path, &g, &err) < 0) {
			hg_logf(log, "gc: %s, removing it", err.msg);
			unlink(path);
			removed++;
			continue;
		}
		if (g.version == 0)
			continue; /* gone since the listing: its last owner left */
		_cleanup_close_ int fd = -1;
		if (open_registered(&g, &fd) == 0) {
			char what[512];
			if (g.has_identity)
				hg_logf(log, "gc: hosts registry %s: its file %s is gone or is another file now, removing it",
					e->d_name, hg_target_describe(&g.target, what, sizeof(what)));
			else
				hg_logf(log, "gc: hosts registry %s of version 2 cannot name its file, removing it", e->d_name);
			hg_registry_free(&g);
			unlink(path);
			removed++;
			continue;
		}
		bool live = false;
		for (size_t i = 0; i < g.n && !live; i++)
			live = hg_names_owner_state(&g.owners[i], now) == HG_OWNER_ALIVE;
		if (!live && fd >= 0)
			strip_dead(fd, &g, now, log);
		hg_registry_free(&g);
		if (live)
			continue;
		unlink(path);
		removed++;
	}
	return removed;
}

int hg_hook_collect(const char *state_dir, const struct hg_log *log)
{
	struct hg_error err = {0};
	if (hg_state_check_dir(state_dir, &err) < 0) {
		hg_logf(log, "gc: %s", err.msg);
		return -1;
	}
	_cleanup_close_ int lock = hg_state_lock(state_dir, "hook", &err);
	if (lock < 0) {
		hg_logf(log, "gc: %s", err.msg);
		return -1;
	}
	/* Plumbing first: a membership of plumbing that goes now goes in the same run. */
	int n = collect_plumbing(state_dir, log);
	n += collect_members(state_dir, log);
	n += collect_nri(state_dir, log);
	n += collect_links(state_dir, log);
	n += collect_registries(state_dir, log);
	/* Temp files of writers killed between their link and their rename. */
	static const enum hg_state_dir temp_dirs[] = {HG_STATE_DIR_HOOK, HG_STATE_DIR_HOOK_NETNS};
	for (size_t i = 0; i < ARRAY_SIZE(temp_dirs); i++) {
		_cleanup_free_ char *dir = NULL;
		if (hg_state_dir_path(state_dir, temp_dirs[i], &dir) == 0)
			n += hg_state_sweep_temp(dir);
	}
	_cleanup_free_ char *hosts_dir = NULL;
	if (hg_state_hosts_dir(&hosts_dir) == 0)
		n += hg_state_sweep_temp(hosts_dir);
	_cleanup_free_ char *netns_dir = NULL;
	if (hg_state_dir_path(state_dir, HG_STATE_DIR_HOOK_NETNS, &netns_dir) == 0)
		rmdir(netns_dir);
	return n;
}
