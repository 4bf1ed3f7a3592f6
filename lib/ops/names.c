#include <string.h>
#include <stdio.h>
#include <time.h>
#include "ops/names.h"
#include "ops/record.h"
#include "ops/state.h"
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
		return -ENOMEM;
	for (size_t i = 0; i < g->n;) {
		const struct hg_hosts_owner *o = &g->owners[i];
		enum hg_owner_state state = hg_names_owner_state(o, now);
		if (state == HG_OWNER_ALIVE || (except && strcmp(o->key, except) == 0)) {
			i++;
			continue;
		}
		if (state == HG_OWNER_DEAD && strv_push(dead, o->key) < 0)
			return -ENOMEM;
		hg_registry_remove(g, i);
	}
	return 0;
}

/* Rewrites the file from the registry: the dead owners' blocks and drop's go, every live
 * owner's block is (re)written in registry order. *text_of gets want's lines. */
static int rewrite(struct open_file *f, const struct hg_hosts_registry *g, char **dead, const char *drop,
		   const char *want, char **text_of, struct hg_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < g->n; i++)
		total += g->owners[i].n_entries;
	_cleanup_free_ struct hg_hosts_entry *entries = calloc(total + 1, sizeof(*entries));
	_cleanup_free_ struct hg_hosts_block_spec *blocks = calloc(g->n + 1, sizeof(*blocks));
	_cleanup_free_ char **texts = calloc(g->n + 1, sizeof(char *));
	if (!entries || !blocks || !texts || (drop && strv_push(&dead, drop) < 0))
		return hg_error_oom(err);
	size_t k = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct hg_hosts_owner *o = &g->owners[i];
		blocks[i] = (struct hg_hosts_block_spec){.owner = o->key, .entries = &entries[k], .n = o->n_entries};
		for (size_t j = 0; j < o->n_entries; j++)
			entries[k++] = (struct hg_hosts_entry){.ip = o->entries[j].ip, .names = o->entries[j].names};
	}
	if (hg_hosts_rewrite_fd(f->fd, f->what, dead, blocks, g->n, texts, err) < 0)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		if (want && text_of && strcmp(g->owners[i].key, want) == 0)
			*text_of = TAKE_PTR(texts[i]);
		free(texts[i]);
	}
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
	if (!ips || !names || prune(&g, owner->key, now, &dead) < 0 || hg_registry_set_file(&g, target, &f.id) < 0) {
		hg_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ips[i] = entries[i].ip;
		names[i] = entries[i].names;
	}
	int p = hg_registry_put(&g, owner->key, owner->pid, owner->pid_start, now, ips, (char *const *const *) names,
				n);
	if (p < 0) {
		hg_error_set(err, HG_CNI_HOSTS_FILE, errno == E2BIG ? "%s has %d owners already" : "out of memory (%s)",
			     f.what, HG_HOSTS_MAX_OWNERS);
		goto out;
	}
	if (rewrite(&f, &g, dead, NULL, owner->key, block, err) < 0 || hg_registry_save(f.registry, &g, err) < 0)
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
	if (prune(&g, NULL, (long long) time(NULL), &dead) < 0) {
		hg_error_oom(err);
		goto out;
	}
	if (owner) {
		if (strv_push(&dead, owner) < 0) {
			hg_error_oom(err);
			goto out;
		}
		/* Removal touches only the blocks that go: the live owners' stay as they are. */
		if (hg_hosts_rewrite_fd(f.fd, f.what, dead, NULL, 0, NULL, err) < 0)
			goto out;
	} else if (hg_hosts_remove_fd(f.fd, f.what, NULL, err) < 0 ||
		   (dead[0] && hg_hosts_rewrite_fd(f.fd, f.what, dead, NULL, 0, NULL, err) < 0)) {
		goto out;
	}
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

int hg_names_read(const char *state_dir, const char *owner, const struct hg_hosts_target *target, char **block,
		  struct hg_error *err)
{
	struct open_file f;
	int r = open_locked(state_dir, target, NULL, &f, err);
	if (r == 0)
		r = hg_hosts_read_block_fd(f.fd, f.what, owner, block, err);
	open_file_close(&f);
	return r;
}
