#include <string.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "collect.h"
#include "attach.h"
#include "state.h"
#include "record.h"
#include "hosts.h"
#include "target.h"
#include "util.h"

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
	_cleanup_record_ struct hg_record record;
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
	if (asprintf(&dir, "%s/hook", state_dir) < 0)
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
	if (asprintf(&dir, "%s/hook/netns", state_dir) < 0)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *path = NULL, *users = NULL;
		_cleanup_record_ struct hg_record record;
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
			if (asprintf(&own, "%s/hook/%s.json", state_dir, ue->d_name) > 0 && access(own, F_OK) < 0)
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
	if (asprintf(&dir, "%s/by-netns", state_dir) < 0)
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

/* The blocks of a registry's (dead) owners leave its file, when that is a host file still
 * there with the same identity (a pod's etc-hosts outlives its containers' processes; a
 * file in a container root goes with the root). Called with the file's lock held. */
static void strip_dead(const struct hg_hosts_registry *g, unsigned long long dev, unsigned long long ino,
		       const struct hg_log *log)
{
	struct hg_hosts_target t = {0};
	struct hg_error err = {0};
	struct stat st;
	bool gone;
	if (!g->file || hg_target_file(g->file, &t) < 0)
		return;
	_cleanup_close_ int fd = hg_target_open(&t, &gone, &err);
	_cleanup_strv_ char **keys = calloc(g->n + 1, sizeof(char *));
	hg_target_free(&t);
	if (fd < 0 || !keys || fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (!(keys[i] = strdup(g->owners[i].key)))
			return;
	if (hg_hosts_rewrite_fd(fd, g->file, keys, NULL, 0, NULL, &err) < 0)
		hg_logf(log, "gc: %s, ignoring", err.msg);
}

/* Hosts registries whose every owner is gone (the file was replaced, or its containers
 * died without poststop and nobody wrote it since). Their blocks, if the file is still
 * there, go with the next write of a live owner. */
static int collect_registries(const char *state_dir, const struct hg_log *log)
{
	_cleanup_free_ char *dir = NULL;
	int removed = 0;
	if (asprintf(&dir, "%s/hosts", hg_hosts_lock_dir) < 0)
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
		bool live = false;
		for (size_t i = 0; i < g.n && !live; i++) {
			unsigned long long now;
			live = g.owners[i].pid <= 0 ||
			       (hg_pid_start_time(g.owners[i].pid, &now) == 0 && now == g.owners[i].pid_start);
		}
		if (!live)
			strip_dead(&g, dev, ino, log);
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
	n += collect_links(state_dir, log);
	n += collect_registries(state_dir, log);
	/* Temp files of writers killed between their link and their rename. */
	static const char *const temp_dirs[] = {"%s/hook", "%s/hook/netns"};
	for (size_t i = 0; i < ARRAY_SIZE(temp_dirs); i++) {
		_cleanup_free_ char *dir = NULL;
		if (asprintf(&dir, temp_dirs[i], state_dir) > 0)
			n += hg_state_sweep_temp(dir);
	}
	_cleanup_free_ char *hosts_dir = NULL;
	if (asprintf(&hosts_dir, "%s/hosts", hg_hosts_lock_dir) > 0)
		n += hg_state_sweep_temp(hosts_dir);
	_cleanup_free_ char *netns_dir = NULL;
	if (asprintf(&netns_dir, "%s/hook/netns", state_dir) > 0)
		rmdir(netns_dir);
	return n;
}
