/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include "hook/hook.h"
#include "base/key.h"
#include "hook/oci.h"
#include "ops/collect.h"
#include "ops/attach.h"
#include "base/config.h"
#include "os/netns.h"
#include "ops/state.h"
#include "ops/record.h"
#include "ops/membership.h"
#include "ops/names.h"
#include "ops/hostside.h"
#include "os/target.h"
#include "base/util.h"
#include "base/conflist.h"
#include "os/fs.h"

/* The stages the hook runs at: createRuntime (or prestart, its older name) sets up,
 * poststop undoes. */
enum hook_stage { STAGE_UNKNOWN, STAGE_CREATE, STAGE_POSTSTOP };

static enum hook_stage stage_of(const char *name)
{
	static const struct {
		const char *name;
		enum hook_stage stage;
	} stages[] = {{"createRuntime", STAGE_CREATE}, {"prestart", STAGE_CREATE}, {"poststop", STAGE_POSTSTOP}};
	for (size_t i = 0; i < ARRAY_SIZE(stages); i++)
		if (strcmp(name, stages[i].name) == 0)
			return stages[i].stage;
	return STAGE_UNKNOWN;
}

struct hook {
	const char *stage; /* as the runtime named it: it goes into every log line */
	const char *config_path;
	struct hg_config config;
	struct hg_oci_state state;
	struct hg_oci_bundle bundle;
	struct hg_log log;
	const struct hg_log *outer;
};

static void hook_line(void *ctx, const char *msg)
{
	struct hook *h = ctx;
	char line[1400];
	snprintf(line, sizeof(line), "hook %s %.100s: %s", h->stage, h->state.id ? h->state.id : "?", msg);
	hg_log_emit(h->outer, h->config.log_file, line);
}

/* The gc command runs for no container: its lines name what they collected themselves. */
static void gc_line(void *ctx, const char *msg)
{
	struct hook *h = ctx;
	hg_log_emit(h->outer, h->config.log_file, msg);
}

/* poststop undoes from records and never fails: it reads only where the records and the
 * log are (lenient), so that a file broken since createRuntime cannot strand plumbing. */
static int load_config(struct hook *h, bool lenient, struct hg_error *err)
{
	json_error_t jerr;
	if (access(h->config_path, F_OK) < 0 && errno == ENOENT)
		return 0; /* no file: the defaults */
	/* Read as every file someone else controls (os/fs.h): json_load_file would wait
	 * forever on a FIFO put there. */
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (hg_read_file(h->config_path, HG_CONFLIST_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, err) < 0) {
		err->code = HG_CNI_INVALID_CONFIG;
		return lenient ? 0 : -1;
	}
	json_auto_t *conf = json_loadb(text, len, 0, &jerr);
	if (!conf) {
		hg_error_set(err, HG_CNI_INVALID_CONFIG, "%s: line %d: %s", h->config_path, jerr.line, jerr.text);
		return lenient ? 0 : -1;
	}
	if (lenient) {
		if (hg_config_load_locations(&h->config, conf, err) > 0)
			hg_error_prefix(err, "%s", h->config_path);
		return 0;
	}
	if (hg_config_load_json(&h->config, conf, true, err) < 0)
		return hg_error_prefix(err, "%s", h->config_path);
	return 0;
}

static int load_bundle(struct hook *h, bool annotations, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	json_error_t jerr;
	if (asprintf(&path, "%s/config.json", h->state.bundle) < 0)
		return hg_error_oom(err);
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (hg_read_file(path, HG_BUNDLE_MAX_SIZE, HG_READ_FOLLOW, NULL, &text, &len, err) < 0) {
		err->code = HG_CNI_DECODE;
		return -1;
	}
	json_auto_t *conf = json_loadb(text, len, 0, &jerr);
	if (!conf)
		return hg_error_set(err, HG_CNI_DECODE, "%s: %s", path, jerr.text);
	if (hg_oci_bundle_parse(conf, h->state.bundle, path, &h->bundle, err) < 0)
		return -1;
	if (!annotations)
		return 0;
	/* The state's annotations are the runtime's view of the same map; they win. */
	json_auto_t *merged = json_copy(h->bundle.annotations);
	json_object_update(merged, h->state.annotations);
	if (hg_config_apply_annotations(&h->config, merged, err) < 0)
		return hg_error_prefix(err, "annotations of container %s", h->state.id);
	return 0;
}

/* /proc/PID/ns/net, opened so that a recycled PID cannot hand us another process's
 * namespace: the pidfd pins the process, and it must still be alive after the open. */
static int open_pid_netns(pid_t pid, struct hg_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
	_cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
	_cleanup_close_ int fd = hg_netns_open(path, NULL, err);
	if (fd < 0)
		return -1;
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return hg_error_set(err, HG_CNI_NETNS, "process %d exited while its network namespace was opened",
				    (int) pid);
	return TAKE_FD(fd);
}

/* Why the names go nowhere, or NULL when they have a place. A read-only mount (a host
 * file shared as a read-only hostPath) or a read-only root (an image root other bundles
 * may share) is the user's promise that the file does not change: it is not ours to
 * write. */
static const char *hosts_nowhere(const struct hook *h)
{
	if (h->bundle.hosts_source && h->bundle.hosts_readonly)
		return "the /etc/hosts mount is read-only (\"ro\"/\"rro\")";
	if (h->bundle.hosts_source)
		return NULL;
	if (h->bundle.root && h->bundle.root_readonly)
		return "the container's root is read-only (root.readonly)";
	if (h->bundle.root)
		return NULL;
	return "the container has neither an /etc/hosts mount nor a root path";
}

/* Where the names go, when hosts_nowhere says they have a place: -ENOMEM or 0. */
static int hosts_target(const struct hook *h, struct hg_hosts_target *t)
{
	if (h->bundle.hosts_source)
		return hg_target_file(h->bundle.hosts_source, t);
	return hg_target_in_root(h->bundle.root, "/etc/hosts", t);
}

/* Errors that are the container's own doing, not a reason to refuse it: the machine's own
 * /etc/hosts mounted in (EXDEV), a lease a process of the container holds (EWOULDBLOCK). */
static bool skippable(const struct hg_error *err)
{
	return err->errnum == EXDEV || err->errnum == EWOULDBLOCK;
}

static int write_names(struct hook *h, const struct hg_entries *entries, struct hg_error *err)
{
	_cleanup_target_ struct hg_hosts_target target = {0};
	_cleanup_free_ char *block = NULL;
	const char *why = hosts_nowhere(h);
	char what[512];
	if (why) {
		hg_logf(&h->log, "%s, no names written", why);
		return 0;
	}
	if (hosts_target(h, &target) < 0)
		return hg_error_oom(err);
	char key[HG_KEY_MAX];
	struct hg_names_owner owner = {.key = key};
	if (hg_key_attachment(NULL, h->state.id, NULL, key, sizeof(key)) < 0)
		return hg_error_set(err, HG_CNI_IO, "attachment key too long");
	/* The container's process: a registry entry whose process is gone is dropped. */
	if (h->state.pid > 0 && hg_pid_start_time(h->state.pid, &owner.pid_start) == 0)
		owner.pid = h->state.pid;
	int r = hg_names_write(h->config.state_dir, &owner, entries->items, entries->n, &target, &block, NULL, err);
	hg_target_describe(&target, what, sizeof(what));
	if (r < 0) {
		if (!skippable(err))
			return -1;
		hg_logf(&h->log, "%s; no names written", err->msg);
		return 0;
	}
	hg_logf(&h->log, "names written to %s", what);
	return 0;
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

/* --network host: the host is the container's own loopback. */
static int host_network(struct hook *h, struct hg_error *err)
{
	struct hg_host_addrs targets = {0};
	_cleanup_entries_ struct hg_entries entries = {0};
	hg_ip_parse("127.0.0.1", false, &targets.ip[0]);
	if (host_has_ipv6_loopback())
		hg_ip_parse("::1", false, &targets.ip[1]);
	if (hg_entries_build(&h->config, &targets, &entries) < 0)
		return hg_error_oom(err);
	return write_names(h, &entries, err);
}

/* The hook's plumbing belongs to the network namespace, not to one container: the
 * containers of a pod (or any that join one netns) share it, so the last one to stop
 * undoes it. The container's own record only points at the netns record. */
struct netns_ref {
	char *record; /* <stateDir>/hook/netns/<dev>-<ino>.json */
	char *users;  /* its users directory */
};

static void netns_ref_free(struct netns_ref *n)
{
	free(n->record);
	free(n->users);
}
#define _cleanup_netns_ref_ __attribute__((cleanup(netns_ref_free)))

/* Does record still describe the namespace nsfd? Inode numbers are reused, cookies are
 * not: the cookie (which takes entering the namespace) is read only when a record found by
 * inode has one to compare, so the common first container pays nothing for it. */
static bool same_netns(const struct hg_record *record, int nsfd, struct hg_netns_id *id)
{
	if (record->netns.cookie && !id->cookie) {
		struct hg_netns_id full;
		if (hg_netns_identify_full(nsfd, &full) == 0)
			id->cookie = full.cookie;
	}
	return hg_record_matches_netns(record, id);
}

static int save_intent(void *ctx, const struct hg_record *record, struct hg_error *err)
{
	return hg_record_save(ctx, record, err);
}

/* This container as a user of the plumbing: its users entry, then its membership. */
static int add_member(struct hook *h, const struct netns_ref *ref, const char *own_path, struct hg_error *err)
{
	_cleanup_free_ char *file = NULL;
	struct hg_membership mine = {.container_id = h->state.id, .netns_record = ref->record};
	/* So that a collector can tell a container that died without poststop. */
	if (h->state.pid > 0 && hg_pid_start_time(h->state.pid, &mine.pid_start) == 0)
		mine.pid = h->state.pid;
	if (mkdir(ref->users, 0700) < 0 && errno != EEXIST)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", ref->users);
	if (asprintf(&file, "%s/%s", ref->users, h->state.id) < 0)
		return hg_error_oom(err);
	_cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", file);
	return hg_membership_save(own_path, &mine, err);
}

/* Plumbing for the netns (done once, by its first container) and this container's
 * membership. Fills *record with the netns record (the entries to write). */
static int join_netns(struct hook *h, int nsfd, const char *netns_path, struct hg_netns_id *id,
		      struct hg_record *record, struct hg_error *err)
{
	_cleanup_free_ char *own_path = NULL;
	_cleanup_netns_ref_ struct netns_ref ref = {0};
	_cleanup_membership_ struct hg_membership own = {0};
	bool found;

	hg_record_init(record);
	_cleanup_close_ int lock = hg_state_lock(h->config.state_dir, "hook", err);
	if (lock < 0)
		return -1;
	if (hg_state_hook_path(h->config.state_dir, h->state.id, &own_path) < 0 ||
	    hg_state_hook_netns_paths(h->config.state_dir, id, &ref.record, &ref.users) < 0)
		return hg_error_oom(err);
	if (hg_membership_load(own_path, &own, &found, err) < 0)
		return -1;
	if (found && strcmp(own.netns_record, ref.record) != 0) /* createRuntime again, in another netns */
		hg_hook_release_user(h->state.id, own.netns_record, NULL, &h->log);
	if (hg_record_load(ref.record, record, &found, err) < 0)
		return -1;
	if (found && !same_netns(record, nsfd, id)) {
		/* Left by a namespace whose last poststop never ran, and whose inode number the
		 * kernel has given to this one: its plumbing died with it. */
		hg_logf(&h->log, "stale record %s of an earlier namespace, replacing it", ref.record);
		hg_record_free(record);
		hg_hook_remove_users(ref.users);
		found = false;
	}
	if (!found) {
		struct hg_attach_req req = {
			.config = &h->config,
			.kind = HG_RECORD_HOOK,
			.container_id = h->state.id,
			.netns_path = netns_path,
			.netns_fd = nsfd,
			.discover = true,
			.log = &h->log,
			.save = save_intent,
			.save_ctx = ref.record,
		};
		if (hg_attach_add(&req, record, err) < 0) {
			hg_state_remove(ref.record, NULL); /* an intent record: what it lists is undone */
			return -1;
		}
		if (hg_record_save(ref.record, record, err) < 0) {
			hg_attach_undo(record, netns_path, &h->log);
			hg_state_remove(ref.record, NULL);
			hg_record_free(record);
			return -1;
		}
	}
	int r = add_member(h, &ref, own_path, err);
	if (r < 0) {
		hg_hook_release_user(h->state.id, ref.record, netns_path, &h->log);
		hg_record_free(record);
	}
	return r;
}

static void leave_netns(struct hook *h, const char *netns_hint)
{
	_cleanup_free_ char *own_path = NULL;
	_cleanup_membership_ struct hg_membership own = {0};
	struct hg_error err = {0};
	bool found = false;
	if (hg_state_hook_path(h->config.state_dir, h->state.id, &own_path) < 0)
		return;
	_cleanup_close_ int lock = hg_state_lock(h->config.state_dir, "hook", &err);
	if (lock < 0) {
		hg_logf(&h->log, "%s, plumbing left in place", err.msg);
		return;
	}
	if (hg_membership_load(own_path, &own, &found, &err) < 0)
		hg_logf(&h->log, "%s, removing it", err.msg);
	if (found)
		hg_hook_release_user(h->state.id, own.netns_record, netns_hint, &h->log);
	if (hg_state_remove(own_path, &err) < 0)
		hg_logf(&h->log, "%s, ignoring", err.msg);
}

/* Fails before any plumbing when the names could not be written anyway. */
static int check_hosts_target(struct hook *h, struct hg_error *err)
{
	_cleanup_target_ struct hg_hosts_target target = {0};
	bool gone;
	if (hosts_nowhere(h))
		return 0;
	if (hosts_target(h, &target) < 0)
		return hg_error_oom(err);
	int fd = hg_target_open(&target, &gone, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The names of this container, at the addresses of the record. The CNI plugin's names
 * (its config and the pod's annotations, which containerd does not pass to containers)
 * stand unless the container names its own; the hook's own plumbing is shared by the
 * containers of a netns, but each writes its own names. */
static int write_entries(struct hook *h, const struct hg_record *record, bool own_names, struct hg_error *err)
{
	_cleanup_entries_ struct hg_entries entries = {0};
	int built = own_names || h->config.names_annotated ? hg_entries_build(&h->config, &record->targets, &entries)
							    : hg_entries_from_record(record, &entries);
	if (built < 0)
		return hg_error_oom(err);
	return write_names(h, &entries, err);
}

static int create(struct hook *h, struct hg_error *err)
{
	_cleanup_free_ char *netns_path = NULL;
	_cleanup_close_ int nsfd = -1;
	_cleanup_record_ struct hg_record cni = {0}, record = {0};
	struct hg_netns_id id;

	hg_record_init(&cni);
	hg_record_init(&record);
	if (check_hosts_target(h, err) < 0) {
		if (!skippable(err))
			return -1;
		hg_logf(&h->log, "%s; no names written, nothing done", err->msg);
		return 0;
	}
	if (!h->bundle.has_netns)
		return host_network(h, err);
	if (h->bundle.netns_path) {
		if (!(netns_path = strdup(h->bundle.netns_path)))
			return hg_error_oom(err);
		nsfd = hg_netns_open(netns_path, NULL, err);
	} else if (h->state.pid > 0) {
		if (asprintf(&netns_path, "/proc/%d/ns/net", (int) h->state.pid) < 0)
			return hg_error_oom(err);
		nsfd = open_pid_netns(h->state.pid, err);
	} else {
		return hg_error_set(err, HG_CNI_DECODE, "the OCI state has no pid and config.json no network namespace path");
	}
	if (nsfd < 0)
		return -1;
	if (hg_netns_identify(nsfd, &id) < 0)
		return hg_error_errno(err, HG_CNI_NETNS, errno, "identify the network namespace %s", netns_path);
	if (hg_netns_is_current(nsfd))
		return host_network(h, err);

	/* The CNI personality already did the plumbing at sandbox time: only names are left. */
	int found = hg_record_find_by_netns(h->config.state_dir, &id, &cni, err);
	if (found < 0)
		return -1;
	if (found && same_netns(&cni, nsfd, &id)) /* not a record of an earlier namespace whose DEL was lost */
		return write_entries(h, &cni, false, err);

	if (join_netns(h, nsfd, netns_path, &id, &record, err) < 0) {
		if (err->code == HG_CNI_NO_HOST_ADDRESS) {
			/* ctr run --config runs hooks before its CNI ADD: nothing to name yet. */
			hg_logf(&h->log, "%s; skipping", err->msg);
			return 0;
		}
		return -1;
	}
	if (write_entries(h, &record, true, err) < 0) {
		/* The container will not start (failurePolicy fail) or starts without names:
		 * either way nothing may be left behind for a poststop that may never run. */
		leave_netns(h, netns_path);
		return -1;
	}
	return 0;
}

/* Undoes the hook's own plumbing once the last container of the netns stops, and removes
 * this container's block from its hosts file (a shared pod file keeps the others'). */
static void poststop(struct hook *h)
{
	_cleanup_target_ struct hg_hosts_target target = {0};
	struct hg_error err = {0};
	char key[HG_KEY_MAX];
	bool gone;
	leave_netns(h, h->bundle.netns_path);
	/* This container's block goes; the other owners' of a shared pod file stay. */
	if (hosts_nowhere(h) || hosts_target(h, &target) < 0 ||
	    hg_key_attachment(NULL, h->state.id, NULL, key, sizeof(key)) < 0)
		return;
	if (hg_names_remove(h->config.state_dir, key, &target, &gone, &err) < 0 && !gone)
		hg_logf(&h->log, "%s, ignoring", err.msg);
}

int hg_hook_gc(const char *config_path, const struct hg_log *log)
{
	struct hook h = {.stage = "gc", .config_path = config_path, .outer = log};
	struct hg_error err = {0};
	h.log = (struct hg_log){.fn = gc_line, .ctx = &h};
	if (hg_config_init(&h.config) < 0)
		return -1;
	load_config(&h, true, &err);
	if (err.msg[0])
		hg_logf(&h.log, "%s; using the defaults, ignoring", err.msg);
	int n = hg_hook_collect(h.config.state_dir, &h.log);
	/* Only here: a runtime's CNI GC names its valid attachments itself, and one of those
	 * whose namespace is gone still gets its DEL. */
	if (n >= 0)
		n += hg_collect_cni(h.config.state_dir, &h.log);
	hg_config_free(&h.config);
	return n;
}

/* The stage's work once the configuration is initialised: the exit status. */
static int run_stage(struct hook *h, bool is_stop, const char *input, size_t len)
{
	struct hg_error err = {0};
	if (load_config(h, is_stop, &err) < 0) {
		/* Without a valid file there is no failure policy to read: say it loudly. */
		hg_logf(&h->log, "%s", err.msg);
		return 1;
	}
	if (err.msg[0]) /* poststop: the defaults stand in for what was invalid */
		hg_logf(&h->log, "%s; using the defaults, ignoring", err.msg);
	err = (struct hg_error){0};
	int refused = is_stop || h->config.failure_policy == HG_FAIL_IGNORE ? 0 : 1;
	if (hg_oci_state_parse(input, len, &h->state, &err) < 0) {
		hg_logf(&h->log, "%s", err.msg);
		return refused;
	}
	if (!hg_valid_id(h->state.id, HG_MAX_ID_LEN)) {
		/* The ID names state files: "../x" would leave the state directory. No record of
		 * ours can carry such an ID, so poststop has nothing to undo. */
		hg_logf(&h->log, "container ID \"%.100s\" is not ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (at most " STR(
					 HG_MAX_ID_LEN) " bytes), refusing it",
			h->state.id);
		return refused;
	}
	if (hg_state_check_dir(h->config.state_dir, &err) < 0) {
		hg_logf(&h->log, "%s", err.msg);
		return refused;
	}
	if (is_stop) {
		/* The bundle may be half gone at poststop; only its netns path is useful. */
		if (load_bundle(h, false, &err) < 0)
			hg_logf(&h->log, "%s, ignoring", err.msg);
		poststop(h);
		return 0;
	}
	if (load_bundle(h, true, &err) < 0 || (h->config.enabled && create(h, &err) < 0)) {
		bool fail = h->config.failure_policy == HG_FAIL_FAIL;
		hg_logf(&h->log, "%s%s", err.msg, fail ? "" : " (failurePolicy ignore: the container starts without the names)");
		return fail ? 1 : 0;
	}
	return 0;
}

int hg_hook_run(const char *stage, const char *config_path, const char *input, size_t len, const struct hg_log *log)
{
	struct hook h = {.stage = stage, .config_path = config_path, .outer = log};
	h.log = (struct hg_log){.fn = hook_line, .ctx = &h};

	enum hook_stage s = stage_of(stage);
	if (s != STAGE_CREATE && s != STAGE_POSTSTOP) {
		hg_logf(&h.log, "unknown stage \"%s\" (expected createRuntime, prestart or poststop)", stage);
		return 2;
	}
	if (hg_config_init(&h.config) < 0)
		return 1;
	int ret = run_stage(&h, s == STAGE_POSTSTOP, input, len);
	hg_oci_state_free(&h.state);
	hg_oci_bundle_free(&h.bundle);
	hg_config_free(&h.config);
	return ret;
}
