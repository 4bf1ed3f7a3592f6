/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <time.h>
#include "ops/names.h"
#include "ops/record.h"
#include "ops/state.h"
#include "os/fs.h"
#include "base/util.h"

struct open_file {
	int fd, lock;
	struct hg_file_id id;
	char what[512];
	char registry[600];
};

static void open_file_close(struct open_file *f)
{
	closep(&f->lock);
	closep(&f->fd);
}

static int open_locked(const char *state_dir, const struct hg_hosts_target *target, bool *gone, struct open_file *f,
		       struct hg_error *err)
{
	bool ignored;
	*f = (struct open_file){.fd = -1, .lock = -1};
	hg_target_describe(target, f->what, sizeof(f->what));
	f->fd = hg_target_open(target, gone ? gone : &ignored, err);
	if (f->fd < 0)
		return -1;
	if (hg_file_identify(f->fd, &f->id) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", f->what);
	/* Next to the lock, in one place whatever stateDir the owners' configurations name. */
	hg_state_hosts_registry_path(f->id.dev, f->id.ino, f->registry, sizeof(f->registry));
	f->lock = hg_state_lock_file(state_dir, f->fd, err);
	return f->lock < 0 ? -1 : 0;
}

enum hg_owner_state hg_names_owner_state(const struct hg_hosts_owner *o, long long now)
{
	unsigned long long start;
	if (o->pid > 0)
		return hg_pid_start_time(o->pid, &start) == 0 && start == o->pid_start ? HG_OWNER_ALIVE : HG_OWNER_DEAD;
	return now - o->since > HG_OWNER_UNKNOWN_TTL ? HG_OWNER_EXPIRED : HG_OWNER_ALIVE;
}

static bool same_string(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

bool hg_names_registry_matches(const struct hg_hosts_registry *g, const struct hg_file_id *id,
			       const struct hg_hosts_target *target)
{
	if (!g->has_identity)
		return false;
	int same = hg_file_id_compare(&g->identity, id);
	if (same >= 0)
		return same == 1;
	/* Device and inode only (a filesystem with neither generation nor birth time): two
	 * containers' files have different paths (bundles, pod folders), so a path that agrees
	 * is the best evidence left. Writers reaching one file by two paths (the CNI plugin
	 * through /proc/PID/root, the hook through the bundle) then start the registry anew
	 * in turn, which loses nothing but the rebuild of the other's block. */
	const struct hg_hosts_target *t = &g->target;
	return same_string(t->file, target->file) && same_string(t->root, target->root) &&
	       same_string(t->path, target->path) && t->pid == target->pid && t->pid_start == target->pid_start;
}

/* The registry of the open file: empty when there is none, when it is damaged (the owners
 * it listed write again with their next container start, and the file's blocks are not
 * lost meanwhile), or when it was made for another file that had this inode number before
 * (that file's owners must never be written into this one: the registry is stale, and is
 * replaced by this file's own). */
static void load_registry(const struct open_file *f, const struct hg_hosts_target *target,
			  struct hg_hosts_registry *g)
{
	struct hg_error ignored = {0};
	if (hg_registry_load(f->registry, g, &ignored) < 0)
		memset(g, 0, sizeof(*g));
	else if (g->n && !hg_names_registry_matches(g, &f->id, target))
		hg_registry_free(g);
}

/* Owners whose container is gone leave the registry, and their keys go to *dead (their
 * blocks go); owners whose liveness cannot be decided and that are too old to count as
 * alive leave the registry only. */
static int prune(struct hg_hosts_registry *g, const char *except, long long now, char ***dead)
{
	*dead = calloc(1, sizeof(char *));
	if (!*dead)
		return -1;
	for (size_t i = 0; i < g->n;) {
		const struct hg_hosts_owner *o = &g->owners[i];
		enum hg_owner_state state = hg_names_owner_state(o, now);
		if (state == HG_OWNER_ALIVE || (except && strcmp(o->key, except) == 0)) {
			i++;
			continue;
		}
		if (state == HG_OWNER_DEAD && strv_push(dead, o->key) < 0)
			return -1;
		hg_registry_remove(g, i);
	}
	return 0;
}

/* The keys of the registry's owners, after extra (dead owners, the one leaving): their old
 * per-owner blocks go whenever the block is rendered, the live ones' lines being in it. */
static int drop_keys(const struct hg_hosts_registry *g, char ***keys)
{
	for (size_t i = 0; i < g->n; i++)
		if (strv_push(keys, g->owners[i].key) < 0)
			return -1;
	return 0;
}

/* The entries of every owner in registry order (the first owner of a name wins); they
 * point into g. */
static struct hg_hosts_entry *registry_entries(const struct hg_hosts_registry *g, size_t *n)
{
	size_t total = 0, k = 0;
	for (size_t i = 0; i < g->n; i++)
		total += g->owners[i].n_entries;
	struct hg_hosts_entry *entries = calloc(total + 1, sizeof(*entries));
	if (!entries)
		return NULL;
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = 0; j < g->owners[i].n_entries; j++)
			entries[k++] = (struct hg_hosts_entry){.ip = g->owners[i].entries[j].ip,
							       .names = g->owners[i].entries[j].names};
	*n = total;
	return entries;
}

/* Rewrites the file's block from the registry: the union of its owners' lines, or no block
 * when none is left; the old blocks of the owners in dead (whose lines go) and of every
 * owner of the registry (whose lines are in the block) go. *text gets the lines written
 * (may be NULL). */
static int render(struct open_file *f, const struct hg_hosts_registry *g, char ***dead, char **text,
		  struct hg_error *err)
{
	size_t n;
	_cleanup_free_ struct hg_hosts_entry *entries = registry_entries(g, &n);
	if (!entries || drop_keys(g, dead) < 0)
		return hg_error_oom(err);
	if (n == 0)
		return hg_hosts_remove_fd(f->fd, f->what, *dead, err);
	_cleanup_free_ char *block = NULL;
	if (hg_hosts_apply_fd(f->fd, f->what, *dead, entries, n, &block, err) < 0)
		return -1;
	if (text)
		*text = TAKE_PTR(block);
	return 0;
}

int hg_names_write(const char *state_dir, const struct hg_names_owner *owner, const struct hg_hosts_entry *entries,
		   size_t n, const struct hg_hosts_target *target, char **block, struct hg_file_id *written,
		   struct hg_error *err)
{
	struct open_file f;
	struct hg_hosts_registry g = {0};
	_cleanup_strv_ char **dead = NULL;
	_cleanup_free_ struct hg_ip *ips = calloc(n + 1, sizeof(*ips));
	_cleanup_free_ char *const **names = calloc(n + 1, sizeof(*names));
	long long now = (long long) time(NULL);
	int r = -1;
	*block = NULL;
	if (open_locked(state_dir, target, NULL, &f, err) < 0)
		goto out;
	load_registry(&f, target, &g);
	if (!ips || !names || hg_registry_set_file(&g, target, &f.id) < 0) {
		hg_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ips[i] = entries[i].ip;
		names[i] = entries[i].names;
	}
	bool known = false;
	for (size_t i = 0; i < g.n && !known; i++)
		known = strcmp(g.owners[i].key, owner->key) == 0;
	/* The registry is saved before the file is written, with the owners that go still in
	 * it: a writer killed between the two leaves an owner whose block is missing (the next
	 * write rebuilds it; gc drops it once its process is gone), never a block in the file
	 * that no registry lists, which nothing would ever remove. */
	int p = hg_registry_put(&g, owner->key, owner->pid, owner->pid_start, now, ips, (char *const *const *) names,
				n);
	int put_errno = p < 0 ? errno : 0;
	if (p == 0 && hg_registry_save(f.registry, &g, err) < 0)
		goto out;
	if (prune(&g, owner->key, now, &dead) < 0) {
		hg_error_oom(err);
		goto out;
	}
	/* The cap counts the owners left once those that went are gone. */
	if (p < 0 && put_errno == E2BIG) {
		p = hg_registry_put(&g, owner->key, owner->pid, owner->pid_start, now, ips,
				    (char *const *const *) names, n);
		put_errno = p < 0 ? errno : 0;
	}
	if (p < 0) {
		if (put_errno == E2BIG)
			hg_error_set(err, HG_CNI_HOSTS_FILE, "%s has %d owners already", f.what, HG_HOSTS_MAX_OWNERS);
		else
			hg_error_oom(err);
		goto out;
	}
	if (render(&f, &g, &dead, block, err) < 0) {
		/* Not written: a new owner leaves the registry again (best effort: a leftover is
		 * an owner without names in the file, dropped with its process). */
		for (size_t i = 0; !known && i < g.n; i++)
			if (strcmp(g.owners[i].key, owner->key) == 0) {
				struct hg_error ignored = {0};
				hg_registry_remove(&g, i);
				hg_registry_save(f.registry, &g, &ignored);
				break;
			}
		goto out;
	}
	if (hg_registry_save(f.registry, &g, err) < 0)
		goto out;
	if (!*block && !(*block = strdup(""))) {
		hg_error_oom(err);
		goto out;
	}
	if (written)
		*written = f.id;
	r = 0;
out:
	hg_registry_free(&g);
	open_file_close(&f);
	return r;
}

int hg_names_remove(const char *state_dir, const char *owner, const struct hg_hosts_target *target, bool *gone,
		    struct hg_error *err)
{
	struct open_file f;
	struct hg_hosts_registry g = {0};
	_cleanup_strv_ char **dead = NULL;
	int r = -1;
	if (open_locked(state_dir, target, gone, &f, err) < 0)
		goto out;
	/* A stale registry is discarded here too (saved empty: its file goes). */
	load_registry(&f, target, &g);
	for (size_t i = 0; owner && i < g.n; i++)
		if (strcmp(g.owners[i].key, owner) == 0) {
			hg_registry_remove(&g, i);
			break;
		}
	if (prune(&g, NULL, (long long) time(NULL), &dead) < 0 || (owner && strv_push(&dead, owner) < 0)) {
		hg_error_oom(err);
		goto out;
	}
	/* The block is rendered again without owner's lines (a name another live owner maps
	 * stays); with no owner left, it goes. Owner NULL (a record of the version before
	 * owners) had the block to itself: its lines were never in the registry. */
	if (render(&f, &g, &dead, NULL, err) < 0)
		goto out;
	r = hg_registry_save(f.registry, &g, err);
out:
	hg_registry_free(&g);
	open_file_close(&f);
	return r;
}

int hg_names_forget(const char *state_dir, const char *owner, uint64_t dev, uint64_t ino, struct hg_error *err)
{
	char registry[600];
	struct hg_hosts_registry g;
	struct hg_error ignored = {0};
	int r = 0;
	hg_state_hosts_registry_path(dev, ino, registry, sizeof(registry));
	_cleanup_close_ int lock = hg_state_lock_devino(state_dir, dev, ino, err);
	if (lock < 0)
		return -1;
	/* Whichever file the registry is of now: this owner's place in it is stale. A damaged
	 * one is left to gc. */
	if (hg_registry_load(registry, &g, &ignored) < 0)
		return 0;
	for (size_t i = 0; i < g.n; i++)
		if (strcmp(g.owners[i].key, owner) == 0) {
			hg_registry_remove(&g, i);
			r = hg_registry_save(registry, &g, err);
			break;
		}
	hg_registry_free(&g);
	return r;
}

/* What the block of the open file f should say (*want, 1), when owner is one of the
 * registry's owners: the union of their lines as the last write rendered it. 0 when owner
 * is not listed. */
static int expected_block(const struct open_file *f, const struct hg_hosts_target *target, const char *owner,
			  const char *text, size_t len, char **want)
{
	struct hg_hosts_registry g = {0};
	_cleanup_strv_ char **keys = NULL;
	_cleanup_free_ char *rendered = NULL;
	size_t n, rendered_len;
	bool listed = false;
	int r = 0;
	load_registry(f, target, &g);
	for (size_t i = 0; owner && i < g.n && !listed; i++)
		listed = strcmp(g.owners[i].key, owner) == 0;
	if (listed) {
		_cleanup_free_ struct hg_hosts_entry *entries = registry_entries(&g, &n);
		r = !entries || drop_keys(&g, &keys) < 0 ||
				    hg_hosts_merge(text, len, keys, entries, n, &rendered, &rendered_len, want) < 0
			    ? -1
			    : 1;
	}
	hg_registry_free(&g);
	return r;
}

int hg_names_read(const char *state_dir, const char *owner, const struct hg_hosts_target *target, char **block,
		  char **want, struct hg_error *err)
{
	struct open_file f;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = -1;
	*block = *want = NULL;
	if (open_locked(state_dir, target, NULL, &f, err) == 0 &&
	    hg_read_fd(f.fd, f.what, HG_HOSTS_MAX_SIZE, 0, NULL, &text, &len, err) == 0) {
		/* An old per-owner block of owner (written before an upgrade, not rendered since)
		 * is compared with what the caller recorded; so is the block when the registry
		 * does not list owner. */
		r = owner ? hg_hosts_block(text, len, owner, block) : 0;
		bool old = r > 0;
		if (!old && r == 0)
			r = hg_hosts_block(text, len, NULL, block);
		if (!old && r >= 0) {
			int e = expected_block(&f, target, owner, text, len, want);
			if (e < 0) {
				free(TAKE_PTR(*block));
				r = e;
			}
		}
		if (r < 0)
			r = hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	open_file_close(&f);
	return r;
}
