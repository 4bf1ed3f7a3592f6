/* SPDX-License-Identifier: Apache-2.0 */
/* The NRI personality's work (handlers.h): a pod's attachment at its start, recorded as
 * <stateDir>/nri/<podID>.json (kind "nri") and indexed by netns like a CNI record, undone at
 * its stop or removal; a container's names written into the pod's etc-hosts file its mounts
 * carry (owner: the container), or, for a container without an /etc/hosts mount, the OCI
 * hook injected (createRuntime, poststop), which finds the pod's record by its netns. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>
#include "nri/attach-handlers.h"
#include "base/conflist.h"
#include "base/key.h"
#include "ops/attach.h"
#include "ops/collect.h"
#include "ops/names.h"
#include "ops/record.h"
#include "ops/state.h"
#include "os/fs.h"
#include "os/netns.h"
#include "os/target.h"
#include "os/unixsock.h"

#define ANNOTATION_PREFIX "host-gateway.io/"
/* An annotation of ours longer than this is refused (extra-hosts of 256 names fit). */
#define ANNOTATION_MAX 65536
/* What a Synchronize leaves for the answer: past deadline - this, the rest waits for the
 * pods' next event (their containers' creation attaches a pod that lacks it). */
#define SYNC_MARGIN_MS 300

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool is_ours(const char *key)
{
	return strncmp(key, ANNOTATION_PREFIX, strlen(ANNOTATION_PREFIX)) == 0;
}

static int add_annotations(json_t *obj, const struct hg_nri_kv *kv, size_t n, struct hg_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_ours(kv[i].key))
			continue;
		if (strlen(kv[i].value) > ANNOTATION_MAX)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG, "a " ANNOTATION_PREFIX "* annotation longer than %d bytes",
					    ANNOTATION_MAX);
		if (json_object_set_new(obj, kv[i].key, json_string(kv[i].value)) < 0)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG, "a " ANNOTATION_PREFIX "* annotation is not valid UTF-8");
	}
	return 0;
}

/* The configuration of a pod (ctr NULL) or a container: the file's, the pod's annotations
 * over it, the container's over those. */
static int config_for(struct hg_nri_attach_ctx *c, const struct hg_nri_pod *pod, const struct hg_nri_container *ctr,
		      struct hg_config *cfg, struct hg_error *err)
{
	if (hg_config_init(cfg) < 0)
		return hg_error_oom(err);
	if (c->conf && hg_config_load_json(cfg, c->conf, true, err) < 0)
		return hg_error_prefix(err, "%s", c->config_path);
	json_auto_t *ann = json_object();
	if (!ann)
		return hg_error_oom(err);
	if (add_annotations(ann, pod->annotations, pod->n_annotations, err) < 0 ||
	    (ctr && add_annotations(ann, ctr->annotations, ctr->n_annotations, err) < 0))
		return -1;
	if (json_object_size(ann) && hg_config_apply_annotations(cfg, ann, err) < 0)
		return hg_error_prefix(err, "annotations of pod %.100s", pod->id);
	return 0;
}

static int check_pod_id(const struct hg_nri_pod *pod, struct hg_error *err)
{
	if (!hg_valid_id(pod->id, HG_MAX_ID_LEN))
		/* Not quoted: it could carry anything into the log. */
		return hg_error_set(err, HG_CNI_DECODE, "a pod ID of %zu bytes is not ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (at most %d)",
				    strlen(pod->id), HG_MAX_ID_LEN);
	return 0;
}

static int save_intent(void *ctx, const struct hg_record *record, struct hg_error *err)
{
	return hg_record_save(ctx, record, err);
}

/* Undoes and removes the pod's record, if any. Called with the "nri" lock held. */
static void detach_locked(struct hg_nri_attach_ctx *c, const char *path, const char *netns_hint)
{
	_cleanup_record_ struct hg_record r = {0};
	struct hg_error err = {0};
	bool found = false;
	if (hg_record_load(path, &r, &found, &err) < 0)
		hg_logf(c->log, "%s, removing it", err.msg);
	if (found)
		hg_attach_undo(&r, netns_hint && netns_hint[0] ? netns_hint : NULL, c->log);
	if (hg_record_retire(c->base.state_dir, path, found ? &r : NULL, &err) < 0)
		hg_logf(c->log, "%s, ignoring", err.msg);
}

/* The pod's attachment, unless its record already describes its namespace: 1 when it
 * had one, 2 when it was made now (*record filled either way when record is not NULL),
 * 0 when it needs none (disabled, host network). */
static int attach_pod(struct hg_nri_attach_ctx *c, const struct hg_nri_pod *pod, const struct hg_config *cfg,
		      struct hg_record *record, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_record_ struct hg_record old = {0}, fresh = {0};
	struct hg_netns_id id;
	bool found = false, gone = false;
	int64_t t0 = now_us();

	hg_record_init(&old);
	hg_record_init(&fresh);
	if (!cfg->enabled || !pod->netns[0])
		return 0;
	if (strlen(pod->netns) >= PATH_MAX)
		return hg_error_set(err, HG_CNI_DECODE, "the network namespace path of pod %s is too long", pod->id);
	if (hg_state_check_dir(c->base.state_dir, err) < 0)
		return -1;
	if (hg_state_nri_path(c->base.state_dir, pod->id, &path) < 0)
		return hg_error_oom(err);
	_cleanup_close_ int nsfd = hg_netns_open(pod->netns, &gone, err);
	if (nsfd < 0)
		return -1;
	if (hg_netns_is_current(nsfd))
		return 0;
	if (hg_netns_identify(nsfd, &id) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "identify the network namespace %s", pod->netns);
	_cleanup_close_ int lock = hg_state_lock(c->base.state_dir, "nri", err);
	if (lock < 0)
		return -1;
	if (hg_record_load(path, &old, &found, err) < 0) {
		hg_logf(c->log, "%s, replacing it", err->msg);
		hg_state_remove(path, NULL);
		found = false;
	}
	if (found && hg_record_matches_netns(&old, &id)) {
		if (record) {
			*record = old;
			hg_record_init(&old);
		}
		return 1;
	}
	if (found) /* a pod ID reused with another namespace: the old one's plumbing goes */
		detach_locked(c, path, NULL);

	struct hg_attach_req req = {
		.config = cfg,
		.kind = HG_RECORD_NRI,
		.container_id = pod->id,
		.netns_path = pod->netns,
		.netns_fd = nsfd,
		.discover = true,
		.log = c->log,
		.save = save_intent,
		.save_ctx = path,
	};
	if (hg_attach_add(&req, &fresh, err) < 0) {
		hg_state_remove(path, NULL); /* an intent record: what it lists is undone */
		return -1;
	}
	if (hg_record_save(path, &fresh, err) < 0 || hg_record_index(c->base.state_dir, path, &fresh, err) < 0) {
		hg_attach_undo(&fresh, pod->netns, c->log);
		hg_record_retire(c->base.state_dir, path, &fresh, NULL);
		return -1;
	}
	hg_logf(c->log, "pod %s: attached in %lld us", pod->id, (long long) (now_us() - t0));
	if (record) {
		*record = fresh;
		hg_record_init(&fresh);
	}
	return 2;
}

static int detach_pod(struct hg_nri_attach_ctx *c, const struct hg_nri_pod *pod, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	if (check_pod_id(pod, err) < 0)
		return -1;
	if (hg_state_nri_path(c->base.state_dir, pod->id, &path) < 0)
		return hg_error_oom(err);
	if (access(path, F_OK) < 0)
		return 0;
	_cleanup_close_ int lock = hg_state_lock(c->base.state_dir, "nri", err);
	if (lock < 0)
		return -1;
	detach_locked(c, path, pod->netns);
	hg_logf(c->log, "pod %s: detached", pod->id);
	return 0;
}

/* The container's /etc/hosts mount: its source, NULL when it has none. */
static const struct hg_nri_mount *hosts_mount(const struct hg_nri_container *ctr)
{
	const struct hg_nri_mount *found = NULL;
	for (size_t i = 0; i < ctr->n_mounts; i++)
		if (strcmp(ctr->mounts[i].destination, "/etc/hosts") == 0)
			found = &ctr->mounts[i]; /* the last one wins, as in the runtime */
	return found;
}

static bool mount_readonly(const struct hg_nri_mount *m)
{
	for (size_t i = 0; i < m->n_options; i++)
		if (strcmp(m->options[i], "ro") == 0 || strcmp(m->options[i], "rro") == 0)
			return true;
	return false;
}

static bool usable_source(const char *s)
{
	return s[0] == '/' && strlen(s) < PATH_MAX;
}

static bool host_has_ipv6_loopback(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/if_inet6", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "00000000000000000000000000000001", 32) == 0)
			return true;
	return false;
}

static int container_key(const struct hg_nri_container *ctr, char *key, size_t size, struct hg_error *err)
{
	if (!hg_valid_id(ctr->id, HG_MAX_ID_LEN))
		return hg_error_set(err, HG_CNI_DECODE,
				    "a container ID of %zu bytes is not ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (at most %d)", strlen(ctr->id),
				    HG_MAX_ID_LEN);
	/* The hook's key for a container: the hook's poststop and ours remove the same block. */
	if (hg_key_attachment(NULL, ctr->id, NULL, key, size) < 0)
		return hg_error_set(err, HG_CNI_IO, "attachment key too long");
	return 0;
}

/* Writes the container's names into the file of its /etc/hosts mount m. */
static int write_names(struct hg_nri_attach_ctx *c, const struct hg_nri_pod *pod, const struct hg_nri_container *ctr,
		       const struct hg_nri_mount *m, struct hg_error *err)
{
	_cleanup_config_ struct hg_config cfg = {0};
	_cleanup_record_ struct hg_record record = {0};
	_cleanup_entries_ struct hg_entries entries = {0};
	_cleanup_target_ struct hg_hosts_target target = {0};
	_cleanup_free_ char *block = NULL;
	struct hg_host_addrs loopback = {0};
	const struct hg_host_addrs *targets;
	char key[HG_KEY_MAX];
	int64_t t0 = now_us();

	hg_record_init(&record);
	if (check_pod_id(pod, err) < 0 || container_key(ctr, key, sizeof(key), err) < 0)
		return -1;
	if (config_for(c, pod, ctr, &cfg, err) < 0)
		return -1;
	if (!cfg.enabled)
		return 0;
	if (mount_readonly(m)) {
		hg_logf(c->log, "container %s: the /etc/hosts mount is read-only, no names written", ctr->id);
		return 0;
	}
	int r = attach_pod(c, pod, &cfg, &record, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		targets = &record.targets;
	} else if (!pod->netns[0]) { /* the host's network: the host is the container's loopback */
		hg_ip_parse("127.0.0.1", false, &loopback.ip[0]);
		if (host_has_ipv6_loopback())
			hg_ip_parse("::1", false, &loopback.ip[1]);
		targets = &loopback;
	} else {
		return 0;
	}
	if (hg_entries_build(&cfg, targets, &entries) < 0 || hg_target_file(m->source, &target) < 0)
		return hg_error_oom(err);
	/* The pod's sandbox process: alive as long as the pod, the file's other owners drop
	 * this one once it is gone. */
	struct hg_names_owner owner = {.key = key};
	if (pod->pid > 0 && hg_pid_start_time((pid_t) pod->pid, &owner.pid_start) == 0)
		owner.pid = (pid_t) pod->pid;
	if (hg_names_write(cfg.state_dir, &owner, entries.items, entries.n, &target, &block, NULL, err) < 0) {
		if (err->errnum != EXDEV && err->errnum != EWOULDBLOCK)
			return -1;
		hg_logf(c->log, "container %s: %s; no names written", ctr->id, err->msg);
		return 0;
	}
	hg_logf(c->log, "container %s: names written in %lld us", ctr->id, (long long) (now_us() - t0));
	return 0;
}

static int remove_names(struct hg_nri_attach_ctx *c, const struct hg_nri_container *ctr, struct hg_error *err)
{
	_cleanup_target_ struct hg_hosts_target target = {0};
	const struct hg_nri_mount *m = hosts_mount(ctr);
	char key[HG_KEY_MAX];
	bool gone = false;
	if (!m || !usable_source(m->source) || mount_readonly(m))
		return 0; /* the injected poststop hook removes what its createRuntime wrote */
	if (container_key(ctr, key, sizeof(key), err) < 0)
		return -1;
	if (hg_target_file(m->source, &target) < 0)
		return hg_error_oom(err);
	if (hg_names_remove(c->base.state_dir, key, &target, &gone, err) < 0 && !gone)
		return -1;
	return 0;
}

/* ---- the handlers ---- */

static int on_configure(void *ctx, const struct hg_nri_call *call, const struct hg_nri_runtime *rt, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.configure(c->trace.ctx, call, rt, err);
	hg_logf(c->log, "stateDir %s, failurePolicy %s", c->base.state_dir,
		c->base.failure_policy == HG_FAIL_FAIL ? "fail" : "ignore");
	return 0;
}

static int on_pod_start(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	_cleanup_config_ struct hg_config cfg = {0};
	c->trace.pod_start(c->trace.ctx, call, pod, err);
	if (check_pod_id(pod, err) < 0 || config_for(c, pod, NULL, &cfg, err) < 0)
		return -1;
	if (!cfg.enabled) {
		hg_logf(c->log, "pod %s: disabled by annotation %s", pod->id, HG_ANNOTATION_ENABLED);
		return 0;
	}
	return attach_pod(c, pod, &cfg, NULL, err) < 0 ? -1 : 0;
}

static int on_pod_stop(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.pod_stop(c->trace.ctx, call, pod, err);
	return detach_pod(c, pod, err);
}

static int on_pod_remove(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.pod_remove(c->trace.ctx, call, pod, err);
	return detach_pod(c, pod, err);
}

static int on_container_create(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
			       const struct hg_nri_container *ctr, struct hg_nri_adjustment *adjust, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	const struct hg_nri_mount *m = hosts_mount(ctr);
	char key[HG_KEY_MAX];
	c->trace.container_create(c->trace.ctx, call, pod, ctr, adjust, err);
	if (container_key(ctr, key, sizeof(key), err) < 0)
		return -1;
	if (m && usable_source(m->source))
		return write_names(c, pod, ctr, m, err);
	if (m) {
		hg_logf(c->log, "container %s: the source of its /etc/hosts mount is not a host path, no names written",
			ctr->id);
		return 0;
	}
	_cleanup_config_ struct hg_config cfg = {0};
	if (check_pod_id(pod, err) < 0 || config_for(c, pod, ctr, &cfg, err) < 0)
		return -1;
	if (!cfg.enabled)
		return 0;
	if (!c->self) {
		hg_logf(c->log, "container %s: no /etc/hosts mount, and no hook to inject (this plugin does not run in "
			"the host's mount namespace): no names", ctr->id);
		return 0;
	}
	/* No file to write now: the hook writes into the container's own /etc/hosts. */
	const char *create[] = {"host-gateway", "hook", "createRuntime", "--config", c->config_path, NULL};
	const char *stop[] = {"host-gateway", "hook", "poststop", "--config", c->config_path, NULL};
	if (hg_nri_adjust_hook(adjust, HG_NRI_HOOK_CREATE_RUNTIME, c->self, create, NULL, 0, err) < 0 ||
	    hg_nri_adjust_hook(adjust, HG_NRI_HOOK_POSTSTOP, c->self, stop, NULL, 0, err) < 0)
		return -1;
	return 0;
}

static int on_container_stop(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
			     const struct hg_nri_container *ctr, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.container_stop(c->trace.ctx, call, pod, ctr, err);
	return remove_names(c, ctr, err);
}

static int on_container_remove(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pod,
			       const struct hg_nri_container *ctr, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.container_remove(c->trace.ctx, call, pod, ctr, err);
	return remove_names(c, ctr, err);
}

static bool pod_listed(const struct hg_nri_pod *pods, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(pods[i].id, id) == 0)
			return true;
	return false;
}

/* Records of pods the runtime no longer has, or whose namespace is gone; past until, the
 * rest stay for the next connection or `gc` (*deferred counts them). */
static int collect_gone(struct hg_nri_attach_ctx *c, const struct hg_nri_pod *pods, size_t n_pods, int64_t until,
			size_t *deferred)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_strv_ char **paths = NULL;
	struct hg_error err = {0};
	int removed = 0;
	if (hg_state_dir_path(c->base.state_dir, HG_STATE_DIR_NRI, &dir) < 0 || access(dir, F_OK) < 0)
		return 0;
	_cleanup_close_ int lock = hg_state_lock(c->base.state_dir, "nri", &err);
	if (lock < 0 || hg_state_list(dir, &paths, &err) < 0) {
		hg_logf(c->log, "synchronize: %s, records of gone pods left", err.msg);
		return 0;
	}
	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_record_ struct hg_record r = {0};
		bool found = false;
		if (hg_monotonic_ms() > until) {
			(*deferred)++;
			continue;
		}
		if (hg_record_load(paths[i], &r, &found, &err) == 0 && found && r.container_id &&
		    pod_listed(pods, n_pods, r.container_id) && hg_attach_netns_alive(&r))
			continue;
		detach_locked(c, paths[i], NULL);
		hg_logf(c->log, "synchronize: removed the attachment of pod %s, which is gone",
			r.container_id ? r.container_id : paths[i]);
		removed++;
	}
	return removed;
}

static int on_synchronize(void *ctx, const struct hg_nri_call *call, const struct hg_nri_pod *pods, size_t n_pods,
			  const struct hg_nri_container *ctrs, size_t n_ctrs, struct hg_error *err)
{
	struct hg_nri_attach_ctx *c = ctx;
	size_t attached = 0, named = 0, failed = 0, deferred = 0;
	int64_t until = call->deadline_ms - SYNC_MARGIN_MS;
	c->trace.synchronize(c->trace.ctx, call, pods, n_pods, ctrs, n_ctrs, err);
	for (size_t i = 0; i < n_pods; i++) {
		struct hg_error e = {0};
		_cleanup_config_ struct hg_config cfg = {0};
		if (!pods[i].netns[0])
			continue;
		if (hg_monotonic_ms() > until) {
			deferred++;
			continue;
		}
		/* A stopped pod's namespace is gone: nothing to attach, and no error. */
		if (access(pods[i].netns, F_OK) < 0)
			continue;
		int r = check_pod_id(&pods[i], &e) < 0 || config_for(c, &pods[i], NULL, &cfg, &e) < 0
				? -1
				: attach_pod(c, &pods[i], &cfg, NULL, &e);
		if (r < 0) {
			hg_logf(c->log, "synchronize: pod %.100s: %s", pods[i].id, e.msg);
			failed++;
		} else if (r == 2) {
			attached++;
		}
	}
	for (size_t i = 0; i < n_ctrs; i++) {
		const struct hg_nri_container *ctr = &ctrs[i];
		const struct hg_nri_mount *m = hosts_mount(ctr);
		struct hg_error e = {0};
		const struct hg_nri_pod *pod = NULL;
		/* created, paused or running: a stopped container's names went at its stop */
		if (!m || !usable_source(m->source) || ctr->state < 1 || ctr->state > 3)
			continue;
		/* Before the look-up, which goes through every pod: thousands of containers
		 * times thousands of pods took seconds past the deadline. */
		if (hg_monotonic_ms() > until) {
			deferred++;
			continue;
		}
		for (size_t j = 0; j < n_pods && !pod; j++)
			if (strcmp(pods[j].id, ctr->pod_sandbox_id) == 0)
				pod = &pods[j];
		if (!pod)
			continue;
		if (write_names(c, pod, ctr, m, &e) < 0) {
			hg_logf(c->log, "synchronize: container %.100s: %s", ctr->id, e.msg);
			failed++;
		} else {
			named++;
		}
	}
	int gone = collect_gone(c, pods, n_pods, until, &deferred);
	/* Hosts registries of pods that went while we were away, the hook's leftovers; past
	 * the budget, for the next connection or `gc`. */
	int collected = hg_monotonic_ms() < until ? hg_hook_collect(c->base.state_dir, c->log) : 0;
	hg_logf(c->log,
		"synchronized %zu pod%s, %zu container%s: %zu attached, %zu named, %d gone pod%s collected, %d stale "
		"item%s removed, %zu failed, %zu deferred",
		n_pods, n_pods == 1 ? "" : "s", n_ctrs, n_ctrs == 1 ? "" : "s", attached, named, gone, gone == 1 ? "" : "s",
		collected < 0 ? 0 : collected, collected == 1 ? "" : "s", failed, deferred);
	return 0;
}

static void on_shutdown(void *ctx, const struct hg_nri_call *call)
{
	struct hg_nri_attach_ctx *c = ctx;
	c->trace.shutdown(c->trace.ctx, call);
}

static bool same_mount_ns(const char *proc_dir)
{
	char path[64];
	struct stat mine, other;
	snprintf(path, sizeof(path), "%s/ns/mnt", proc_dir);
	return stat("/proc/self/ns/mnt", &mine) == 0 && stat(path, &other) == 0 && mine.st_dev == other.st_dev &&
	       mine.st_ino == other.st_ino;
}

/* The host's mount namespace is PID 1's; where PID 1's cannot be read (a PID namespace
 * whose init another user owns), the parent's: the runtime that started us, or the
 * service manager. */
static bool in_host_mount_ns(void)
{
	struct stat st;
	if (stat("/proc/1/ns/mnt", &st) == 0)
		return same_mount_ns("/proc/1");
	char parent[32];
	snprintf(parent, sizeof(parent), "/proc/%d", (int) getppid());
	return same_mount_ns(parent);
}

int hg_nri_attach_init(struct hg_nri_attach_ctx *c, const char *config_path, const struct hg_log *log,
		       struct hg_error *err)
{
	memset(c, 0, sizeof(*c));
	c->log = log;
	/* The injected hook runs in the runtime's working directory. */
	char cwd[PATH_MAX];
	if (config_path[0] == '/')
		c->config_abs = strdup(config_path);
	else if (getcwd(cwd, sizeof(cwd)) && asprintf(&c->config_abs, "%s/%s", cwd, config_path) < 0)
		c->config_abs = NULL;
	if (!c->config_abs)
		return hg_error_oom(err);
	config_path = c->config_path = c->config_abs;
	c->trace_ctx = (struct hg_nri_log_ctx){.log = log, .config_path = config_path};
	hg_nri_log_handlers(&c->trace, &c->trace_ctx);
	if (hg_config_init(&c->base) < 0)
		return hg_error_oom(err);
	/* The injected hook names this binary by its path, which the runtime resolves in the
	 * host's mount namespace: only a plugin that shares it (a systemd unit, a plugin the
	 * runtime started) can name itself. In a container (a DaemonSet) the path is the
	 * image's: no hook then, and kubelet gives every container an etc-hosts mount anyway. */
	char self[PATH_MAX];
	if (in_host_mount_ns() && realpath("/proc/self/exe", self) && !(c->self = strdup(self)))
		return hg_error_oom(err);
	if (access(config_path, F_OK) < 0 && errno == ENOENT)
		return 0; /* no file: the defaults */
	_cleanup_free_ char *text = NULL;
	size_t len;
	json_error_t jerr;
	if (hg_read_file(config_path, HG_CONFLIST_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, err) < 0)
		return -1;
	c->conf = json_loadb(text, len, 0, &jerr);
	if (!c->conf)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s: line %d: %s", config_path, jerr.line, jerr.text);
	if (hg_config_load_json(&c->base, c->conf, true, err) < 0)
		return hg_error_prefix(err, "%s", config_path);
	return 0;
}

void hg_nri_attach_free(struct hg_nri_attach_ctx *c)
{
	hg_config_free(&c->base);
	json_decref(c->conf);
	free(c->self);
	free(c->config_abs);
	c->config_abs = NULL;
	c->conf = NULL;
	c->self = NULL;
}

void hg_nri_attach_handlers(struct hg_nri_handlers *h, struct hg_nri_attach_ctx *ctx)
{
	*h = (struct hg_nri_handlers){
		.ctx = ctx,
		.configure = on_configure,
		.synchronize = on_synchronize,
		.pod_start = on_pod_start,
		.pod_stop = on_pod_stop,
		.pod_remove = on_pod_remove,
		.container_create = on_container_create,
		.container_stop = on_container_stop,
		.container_remove = on_container_remove,
		.shutdown = on_shutdown,
	};
}
