#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include "names.h"
#include "record.h"
#include "state.h"
#include "util.h"

struct open_file {
	int fd, lock;
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
	struct stat st;
	bool ignored;
	*f = (struct open_file){.fd = -1, .lock = -1};
	hg_target_describe(target, f->what, sizeof(f->what));
	f->fd = hg_target_open(target, gone ? gone : &ignored, err);
	if (f->fd < 0)
		return -1;
	if (fstat(f->fd, &st) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", f->what);
	/* Next to the lock, in one place whatever stateDir the owners' configurations name. */
	snprintf(f->registry, sizeof(f->registry), "%s/hosts/%llu-%llu.json", hg_hosts_lock_dir,
		 (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
	f->lock = hg_state_lock_file(state_dir, f->fd, err);
	return f->lock < 0 ? -1 : 0;
}

/* Owners whose container is gone leave the registry; their keys go to *dead. */
static int prune(struct hg_hosts_registry *g, const char *except, char ***dead)
{
	*dead = calloc(1, sizeof(char *));
	if (!*dead)
		return -ENOMEM;
	for (size_t i = 0; i < g->n;) {
		const struct hg_hosts_owner *o = &g->owners[i];
		unsigned long long now;
		bool alive = o->pid <= 0 || (hg_pid_start_time(o->pid, &now) == 0 && now == o->pid_start);
		if (alive || (except && strcmp(o->key, except) == 0)) {
			i++;
			continue;
		}
		if (strv_push(dead, o->key) < 0)
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
		return hg_error_set(err, HG_CNI_IO, "out of memory");
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
		   size_t n, const struct hg_hosts_target *target, char **block, struct hg_error *err)
{
	struct open_file f;
	struct hg_hosts_registry g = {0};
	_cleanup_strv_ char **dead = NULL;
	_cleanup_free_ struct hg_ip *ips = calloc(n + 1, sizeof(*ips));
	_cleanup_free_ char *const **names = calloc(n + 1, sizeof(*names));
	struct hg_error ignored = {0};
	int r = -1;
	*block = NULL;
	if (open_locked(state_dir, target, NULL, &f, err) < 0)
		goto out;
	/* A damaged registry is started anew: the owners it listed write again with their
	 * next container start, and the file's blocks are not lost meanwhile. */
	if (hg_registry_load(f.registry, &g, &ignored) < 0)
		memset(&g, 0, sizeof(g));
	if (!ips || !names || prune(&g, owner->key, &dead) < 0) {
		hg_error_set(err, HG_CNI_IO, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ips[i] = entries[i].ip;
		names[i] = entries[i].names;
	}
	if (target->file && !g.file && !(g.file = strdup(target->file))) {
		hg_error_set(err, HG_CNI_IO, "out of memory");
		goto out;
	}
	int p = hg_registry_put(&g, owner->key, owner->pid, owner->pid_start, ips, (char *const *const *) names, n);
	if (p < 0) {
		hg_error_set(err, HG_CNI_HOSTS_FILE, p == -E2BIG ? "%s has %d owners already" : "out of memory (%s)",
			     f.what, HG_HOSTS_MAX_OWNERS);
		goto out;
	}
	if (rewrite(&f, &g, dead, NULL, owner->key, block, err) < 0 || hg_registry_save(f.registry, &g, err) < 0)
		goto out;
	if (!*block && !(*block = strdup(""))) {
		hg_error_set(err, HG_CNI_IO, "out of memory");
		goto out;
	}
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
	struct hg_error ignored = {0};
	int r = -1;
	if (open_locked(state_dir, target, gone, &f, err) < 0)
		goto out;
	if (hg_registry_load(f.registry, &g, &ignored) < 0)
		memset(&g, 0, sizeof(g));
	for (size_t i = 0; owner && i < g.n; i++)
		if (strcmp(g.owners[i].key, owner) == 0) {
			hg_registry_remove(&g, i);
			break;
		}
	if (prune(&g, NULL, &dead) < 0) {
		hg_error_set(err, HG_CNI_IO, "out of memory");
		goto out;
	}
	if (owner) {
		if (strv_push(&dead, owner) < 0) {
			hg_error_set(err, HG_CNI_IO, "out of memory");
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
