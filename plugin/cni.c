/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include "plugin/cni.h"
#include "base/key.h"
#include "plugin/result.h"
#include "ops/attach.h"
#include "ops/hostside.h"
#include "base/config.h"
#include "os/netns.h"
#include "ops/state.h"
#include "ops/record.h"
#include "ops/names.h"
#include "os/target.h"
#include "base/util.h"
#include "ops/collect.h"

static const char *env_value(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] ? v : NULL;
}

void hg_cni_env_from_environ(struct hg_cni_env *env)
{
	env->command = env_value("CNI_COMMAND");
	env->container_id = env_value("CNI_CONTAINERID");
	env->netns = env_value("CNI_NETNS");
	env->ifname = env_value("CNI_IFNAME");
	env->args = env_value("CNI_ARGS");
	env->path = env_value("CNI_PATH");
	const char *o = env_value("CNI_NETNS_OVERRIDE");
	env->netns_override = o && (strcmp(o, "1") == 0 || strcmp(o, "true") == 0);
}

int hg_cni_args_get(const char *args, const char *key, char *value, size_t size)
{
	const char *p = args;
	size_t klen = strlen(key);
	int found = 0;
	/* The whole string is scanned, so that a malformed pair anywhere is reported. */
	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t) (end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq)
			return -1;
		if (!found && (size_t) (eq - p) == klen && memcmp(p, key, klen) == 0) {
			size_t vlen = len - klen - 1;
			if (vlen >= size)
				return -1;
			memcpy(value, eq + 1, vlen);
			value[vlen] = '\0';
			found = 1;
		}
		p = end ? end + 1 : NULL;
	}
	return found;
}

static bool valid_ifname(const char *s)
{
	if (!s || !*s || strlen(s) > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char) *p))
			return false;
	return true;
}

static bool valid_network_name(const char *s)
{
	return hg_valid_id(s, HG_MAX_ID_LEN); /* the spec's rule for names is the same character set */
}

struct run {
	const struct hg_cni_env *env;
	const char *version; /* the input's, for error JSON and results */
	json_t *conf;
	struct hg_config config;
	const char *network;
	struct hg_log log;
	const struct hg_log *outer;
};

static json_t *error_json(const char *version, const struct hg_error *err)
{
	json_t *e = json_pack("{s:s, s:i, s:s}", "cniVersion", version ? version : HG_CNI_VERSION_LATEST, "code", err->code, "msg",
			      err->msg);
	if (e && err->details[0])
		json_object_set_new(e, "details", json_string(err->details));
	return e;
}

/* Diagnostics go to the front's sink and, when configured, to logFile too. */
static void log_line(void *ctx, const char *msg)
{
	struct run *r = ctx;
	char line[1400];
	snprintf(line, sizeof(line), "CNI %.10s %.100s%s%.100s: %s", r->env->command ? r->env->command : "?",
		 r->network ? r->network : "", r->env->container_id ? "/" : "",
		 r->env->container_id ? r->env->container_id : "", msg);
	hg_log_emit(r->outer, r->config.log_file, line);
}

static int require_env(const struct run *r, bool need_netns, struct hg_error *err)
{
	const struct hg_cni_env *e = r->env;
	char missing[128] = "";
	if (!e->container_id)
		strcat(missing, " CNI_CONTAINERID");
	if (need_netns && !e->netns)
		strcat(missing, " CNI_NETNS");
	if (!e->ifname)
		strcat(missing, " CNI_IFNAME");
	if (missing[0])
		return hg_error_set(err, HG_CNI_INVALID_ENV, "missing environment variables:%s", missing);
	if (!hg_valid_id(e->container_id, HG_MAX_ID_LEN))
		return hg_error_set(err, HG_CNI_INVALID_ENV,
				    "CNI_CONTAINERID \"%.*s\" must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ (at most " STR(
					    HG_MAX_ID_LEN) " bytes)",
				    100, e->container_id);
	if (!valid_ifname(e->ifname))
		return hg_error_set(err, HG_CNI_INVALID_ENV,
				    "CNI_IFNAME \"%s\" is not a valid interface name (1-15 bytes, no '/', ':' or blanks)",
				    e->ifname);
	if (e->args) {
		char v[256];
		if (hg_cni_args_get(e->args, "IgnoreUnknown", v, sizeof(v)) < 0)
			return hg_error_set(err, HG_CNI_INVALID_ENV, "CNI_ARGS \"%s\" is not K=V;K2=V2", e->args);
	}
	return 0;
}

static int record_path(const struct run *r, char **path, struct hg_error *err)
{
	if (hg_state_cni_path(r->config.state_dir, r->network, r->env->container_id, r->env->ifname, path) < 0)
		return hg_error_oom(err);
	return 0;
}

static json_t *passthrough(const struct run *r)
{
	json_t *prev = json_object_get(r->conf, "prevResult");
	json_t *out = json_deep_copy(prev);
	if (out && json_object_set_new(out, "cniVersion", json_string(r->version)) < 0)
		json_decref(TAKE_PTR(out));
	return out;
}

static int save_intent(void *ctx, const struct hg_record *record, struct hg_error *err)
{
	return hg_record_save(ctx, record, err);
}

/* Removes the container's table that record's namespace holds, and nothing else. */
static void drop_table(const struct hg_record *record, const char *hint, const struct hg_log *log)
{
	struct hg_record table;
	hg_record_init(&table);
	table.netns = record->netns; /* borrowed: table is not freed */
	table.container_table = true;
	hg_attach_undo(&table, hint, log);
}

static int add_with_target(struct run *r, struct hg_attach_req *req, int nsfd, struct hg_record *old,
			   struct hg_record *record, char **path_out, json_t **output, struct hg_error *err);

static int cmd_add(struct run *r, json_t **output, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	json_t *prev = json_object_get(r->conf, "prevResult");
	_cleanup_record_ struct hg_record old = {0}, record = {0};
	_cleanup_target_ struct hg_hosts_target target = {0};
	hg_record_init(&old);
	hg_record_init(&record);

	if (require_env(r, true, err) < 0)
		return -1;
	if (!json_is_object(prev))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "host-gateway is a chained plugin: it needs a prevResult (list it after the plugin "
				    "that creates the interface)");
	if (!r->config.enabled) {
		hg_logf(&r->log, "disabled by annotation %s, passing the result through", HG_ANNOTATION_ENABLED);
		*output = passthrough(r);
		return *output ? 0 : hg_error_oom(err);
	}
	if (hg_state_check_dir(r->config.state_dir, err) < 0)
		return -1;
	bool gone;
	_cleanup_close_ int nsfd = hg_netns_open(r->env->netns, &gone, err);
	if (nsfd < 0)
		return -1;
	if (!r->env->netns_override && hg_netns_is_current(nsfd))
		return hg_error_set(err, HG_CNI_OWN_NETNS,
				    "CNI_NETNS %s is the plugin's own network namespace (set CNI_NETNS_OVERRIDE=1 to allow)",
				    r->env->netns);

	struct hg_attach_req req = {
		.config = &r->config,
		.kind = HG_RECORD_CNI,
		.network = r->network,
		.container_id = r->env->container_id,
		.ifname = r->env->ifname,
		.netns_path = r->env->netns,
		.netns_fd = nsfd,
		.log = &r->log,
	};
	if (hg_result_container_net(prev, r->env->ifname, &req.cnet, err) < 0)
		return -1;
	pid_t pid = hg_pid_of_netns_path(r->env->netns);
	if (pid > 0) {
		struct hg_error why = {0};
		if (hg_target_for_pid(pid, &target, &why) == 0)
			req.hosts_target = &target;
		else
			hg_logf(&r->log, "not writing /proc/%d/root/etc/hosts: %s; names are recorded for the hook",
				(int) pid, why.msg);
	}
	return add_with_target(r, &req, nsfd, &old, &record, &path, output, err);
}

static int add_locked(struct run *r, struct hg_attach_req *req, int nsfd, struct hg_record *old,
		      struct hg_record *record, const char *path, json_t **output, struct hg_error *err);

/* The rest of ADD, with the hosts target chosen: under the attachment's lock, so that
 * `host-gateway gc` never retires the record this ADD replaces or writes. */
static int add_with_target(struct run *r, struct hg_attach_req *req, int nsfd, struct hg_record *old,
			   struct hg_record *record, char **path_out, json_t **output, struct hg_error *err)
{
	if (record_path(r, path_out, err) < 0)
		return -1;
	int lock = hg_state_lock_record(*path_out, true, err);
	if (lock < 0)
		return -1;
	int rc = add_locked(r, req, nsfd, old, record, *path_out, output, err);
	hg_state_unlock_record(*path_out, lock);
	return rc;
}

static int add_locked(struct run *r, struct hg_attach_req *req, int nsfd, struct hg_record *old,
		      struct hg_record *record, const char *path, json_t **output, struct hg_error *err)
{
	bool found;
	if (hg_record_load(path, old, &found, err) < 0)
		return -1;
	/* A repeated ADD replaces: what the previous one did goes first, except the
	 * container's table in the same netns, which the new ADD refills in one transaction
	 * (deleting it would cost a kernel grace period, ~15 ms). */
	bool kept_table = false;
	if (found) {
		struct hg_netns_id id;
		if (old->container_table && hg_netns_identify(nsfd, &id) == 0 && old->netns.dev == id.dev &&
		    old->netns.ino == id.ino) {
			old->container_table = false;
			kept_table = true;
		}
		hg_attach_undo(old, r->env->netns, &r->log);
		hg_record_retire(r->config.state_dir, path, old, NULL);
	}
	req->save = save_intent;
	req->save_ctx = (void *) path;
	if (!(*output = passthrough(r)))
		return hg_error_oom(err);
	if (hg_attach_add(req, record, err) < 0) {
		hg_state_remove(path, NULL); /* an intent record: what it lists is undone */
		if (kept_table) /* the old table must not outlive its record */
			drop_table(old, r->env->netns, &r->log);
		return -1;
	}
	if (kept_table && !record->container_table) /* the new configuration has no rules */
		drop_table(record, r->env->netns, &r->log);
	if (hg_record_save(path, record, err) < 0 || hg_record_index(r->config.state_dir, path, record, err) < 0) {
		hg_attach_undo(record, r->env->netns, &r->log);
		hg_record_retire(r->config.state_dir, path, record, NULL);
		return -1;
	}
	return 0;
}

/* Without a (readable) record, the block an ADD wrote into /proc/PID/root/etc/hosts can
 * still be found: its owner is this attachment's key. */
static void remove_orphan_block(struct run *r)
{
	_cleanup_target_ struct hg_hosts_target target = {0};
	struct hg_error e = {0};
	char key[HG_KEY_MAX];
	bool gone;
	pid_t pid = r->env->netns ? hg_pid_of_netns_path(r->env->netns) : 0;
	if (pid <= 0 || hg_key_attachment(r->network, r->env->container_id, r->env->ifname, key, sizeof(key)) < 0 ||
	    hg_target_for_pid(pid, &target, &e) < 0)
		return;
	e = (struct hg_error){0};
	if (hg_names_remove(r->config.state_dir, key, &target, &gone, &e) < 0 && !gone)
		hg_logf(&r->log, "%s, ignoring", e.msg);
}

static int cmd_del(struct run *r, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_record_ struct hg_record record = {0};
	bool found = false;
	hg_record_init(&record);
	if (!r->env->container_id || !r->env->ifname)
		return require_env(r, false, err);
	if (!hg_valid_id(r->env->container_id, HG_MAX_ID_LEN) || !valid_ifname(r->env->ifname)) {
		/* A container ID or interface name ADD refused: there is no record to undo. A
		 * malformed CNI_ARGS is not looked at: DEL needs nothing from it. */
		require_env(r, false, err);
		hg_logf(&r->log, "%s; nothing to undo", err->msg);
		return 0;
	}
	if (hg_state_check_dir(r->config.state_dir, err) < 0) {
		/* Records there cannot be trusted, and DEL must not fail: nothing is undone. */
		hg_logf(&r->log, "%s; nothing undone", err->msg);
		return 0;
	}
	if (record_path(r, &path, err) < 0)
		return -1;
	/* Under the attachment's lock (an ADD of this key could be writing its record), which
	 * goes with the record, or alone when an ADD was killed before it wrote one; a network
	 * never added to gets no folder. DEL must not fail: without the lock (held 5 s by a
	 * stuck process) it goes on all the same. */
	_cleanup_free_ char *net_dir = NULL;
	if (hg_state_network_dir(r->config.state_dir, r->network, &net_dir) < 0)
		return hg_error_oom(err);
	int lock = -1;
	if (access(net_dir, F_OK) == 0 && (lock = hg_state_lock_record(path, true, err)) < 0) {
		hg_logf(&r->log, "%s; going on without it", err->msg);
		*err = (struct hg_error){0};
	}
	/* A damaged record cannot be undone; it is removed so that DEL still succeeds. */
	if (hg_record_load(path, &record, &found, err) < 0)
		hg_logf(&r->log, "%s, removing it", err->msg);
	if (found)
		hg_attach_undo(&record, r->env->netns, &r->log);
	else
		remove_orphan_block(r);
	int rc = hg_record_retire(r->config.state_dir, path, found ? &record : NULL, err);
	hg_state_unlock_record(path, lock);
	return rc;
}

static int cmd_check(struct run *r, struct hg_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_record_ struct hg_record record = {0};
	bool found = false;
	hg_record_init(&record);
	if (hg_cni_version_number(r->version) < 400)
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION, "CHECK needs cniVersion 0.4.0 or later, got %s",
				    r->version);
	if (require_env(r, true, err) < 0)
		return -1;
	if (!json_is_object(json_object_get(r->conf, "prevResult")))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "CHECK needs a prevResult");
	if (!r->config.enabled)
		return 0;
	if (hg_state_check_dir(r->config.state_dir, err) < 0 || record_path(r, &path, err) < 0 ||
	    hg_record_load(path, &record, &found, err) < 0)
		return -1;
	if (!found)
		return hg_error_set(err, HG_CNI_CHECK_FAILED, "no host-gateway record for %s/%s/%s (ADD did not run?)",
				    r->network, r->env->container_id, r->env->ifname);
	return hg_attach_check(&record, err);
}

static bool attachment_valid(json_t *valid, const char *cid, const char *ifname)
{
	size_t i;
	json_t *a;
	json_array_foreach (valid, i, a) {
		const char *c = json_string_value(json_object_get(a, "containerID"));
		const char *n = json_string_value(json_object_get(a, "ifname"));
		if (c && n && cid && ifname && strcmp(c, cid) == 0 && strcmp(n, ifname) == 0)
			return true;
	}
	return false;
}

static int cmd_gc(struct run *r, struct hg_error *err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_strv_ char **paths = NULL;
	json_t *valid = json_object_get(r->conf, "cni.dev/valid-attachments");
	if (!valid)
		valid = json_object_get(r->conf, "cni.dev/attachments");
	if (hg_cni_version_number(r->version) < 10100)
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION, "GC needs cniVersion 1.1.0, got %s", r->version);
	/* libcni writes an empty list as null (a nil Go slice): CRI-O's GC (ocicni) when no pod of
	 * the node is on this network. The runtime stated its list: every attachment is stale. */
	if (json_is_null(valid)) {
		valid = json_array();
		if (!valid || json_object_set_new(r->conf, "cni.dev/valid-attachments", valid) < 0)
			return hg_error_oom(err);
	}
	/* Without the list every attachment would look stale: refuse rather than wipe. */
	if (!json_is_array(valid))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "GC needs \"cni.dev/valid-attachments\" (an array of {containerID, ifname})");
	if (hg_state_check_dir(r->config.state_dir, err) < 0)
		return -1;
	if (hg_state_network_dir(r->config.state_dir, r->network, &dir) < 0)
		return hg_error_oom(err);
	if (hg_state_list(dir, &paths, err) < 0)
		return -1;
	hg_state_sweep_temp(dir);
	for (size_t i = 0; paths[i]; i++) {
		struct hg_error e = {0};
		_cleanup_record_ struct hg_record record = {0};
		struct hg_state_stamp read;
		bool found;
		if (hg_state_stamp_of(paths[i], &read) < 0)
			continue;
		if (hg_record_load(paths[i], &record, &found, &e) < 0) {
			hg_logf(&r->log, "GC: %s, removing it", e.msg);
			e = (struct hg_error){0};
			if (hg_collect_retire_judged(r->config.state_dir, paths[i], &read, NULL, &r->log, &e) < 0)
				hg_logf(&r->log, "GC: %s; left for the next GC", e.msg);
			continue;
		}
		/* Retired only if still the file read: an ADD of the key may have replaced it
		 * after the runtime made its list. */
		if (found && !attachment_valid(valid, record.container_id, record.ifname) &&
		    hg_collect_retire_judged(r->config.state_dir, paths[i], &read, &record, &r->log, &e) < 0)
			hg_logf(&r->log, "GC: %s; left for the next GC", e.msg);
	}
	hg_state_sweep_record_locks(dir);
	/* Host rules whose record was lost: their comments name the attachment. */
	/* Host resources' users are the machine's (attach.c add_host_side). */
	if (hg_state_check_dir(hg_hosts_lock_dir, err) < 0)
		return -1;
	_cleanup_close_ int lock = hg_state_lock(hg_hosts_lock_dir, "host", err);
	if (lock < 0)
		return -1;
	hg_loopback_gc(hg_hosts_lock_dir, r->network, valid, &r->log);
	close(TAKE_FD(lock));
	/* The hook's plumbing shares the state directory; runtimes send no GC for it. */
	hg_hook_collect(r->config.state_dir, &r->log);
	return 0;
}

static int cmd_status(struct run *r, struct hg_error *err)
{
	if (hg_cni_version_number(r->version) < 10100)
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION, "STATUS needs cniVersion 1.1.0, got %s",
				    r->version);
	if (hg_state_check_dir(r->config.state_dir, err) < 0 || hg_state_ready(r->config.state_dir, err) < 0) {
		err->code = HG_CNI_NOT_READY;
		return -1;
	}
	return 0;
}

static json_t *version_json(const char *v)
{
	json_t *list = json_array();
	for (size_t i = 0; hg_cni_versions[i]; i++)
		json_array_append_new(list, json_string(hg_cni_versions[i]));
	return json_pack("{s:s, s:o}", "cniVersion", v, "supportedVersions", list);
}

static int dispatch(struct run *r, const char *input, size_t len, json_t **output, struct hg_error *err)
{
	json_error_t jerr;
	const char *cmd = r->env->command;

	if (!cmd)
		return hg_error_set(err, HG_CNI_INVALID_ENV, "CNI_COMMAND is not set");
	if (strcmp(cmd, "VERSION") == 0) {
		json_auto_t *in = len ? json_loadb(input, len, 0, &jerr) : NULL;
		const char *v = json_string_value(json_object_get(in, "cniVersion"));
		*output = version_json(v ? v : HG_CNI_VERSION_LATEST);
		return *output ? 0 : hg_error_oom(err);
	}
	static const char *const known[] = {"ADD", "DEL", "CHECK", "GC", "STATUS"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ok |= strcmp(cmd, known[i]) == 0;
	if (!ok)
		return hg_error_set(err, HG_CNI_INVALID_ENV, "unknown CNI_COMMAND \"%s\"", cmd);

	r->conf = json_loadb(input, len, 0, &jerr);
	if (!r->conf)
		return hg_error_set(err, HG_CNI_DECODE, "network configuration on stdin is not JSON: %s (line %d)",
				    jerr.text, jerr.line);
	if (!json_is_object(r->conf))
		return hg_error_set(err, HG_CNI_DECODE, "network configuration on stdin is not a JSON object");
	json_t *v = json_object_get(r->conf, "cniVersion");
	if (!v)
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION,
				    "configuration has no cniVersion (that means 0.1.0, which is not supported)");
	if (!json_is_string(v) || !hg_cni_version_supported(json_string_value(v)))
		return hg_error_set(err, HG_CNI_INCOMPATIBLE_VERSION,
				    "cniVersion %s is not supported (supported: " HG_CNI_VERSIONS_COMMAS ")",
				    json_is_string(v) ? json_string_value(v) : "(not a string)");
	r->version = json_string_value(v);
	r->network = json_string_value(json_object_get(r->conf, "name"));
	bool cleanup = strcmp(cmd, "DEL") == 0 || strcmp(cmd, "GC") == 0;
	if (cleanup && r->network && !valid_network_name(r->network)) {
		/* libcni accepts names ADD refused: no record can have this one, and DEL must not
		 * fail (the IPAM plugin after us would keep the address). */
		hg_logf(&r->log, "network name \"%.60s...\" can have no record of ours; nothing to undo", r->network);
		return 0;
	}
	if (!r->network || !valid_network_name(r->network))
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "configuration key \"name\" must be a network name matching ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ "
				    "(at most " STR(HG_MAX_ID_LEN) " bytes)");
	/* DEL and GC undo what records say: a configuration or annotation that ADD refused must
	 * not make them fail too, or libcni stops the chain's DEL at us and the IPAM plugin
	 * never releases the pod's address. */
	if (cleanup) {
		struct hg_error why = {0};
		if (hg_config_load_locations(&r->config, r->conf, &why) > 0)
			hg_logf(&r->log, "%s; using the default, ignoring", why.msg);
	} else {
		if (hg_config_load_json(&r->config, r->conf, false, err) < 0)
			return -1;
		json_t *rc = json_object_get(r->conf, "runtimeConfig");
		if (rc &&
		    hg_config_apply_annotations(&r->config, json_object_get(rc, "io.kubernetes.cri.pod-annotations"), err) < 0)
			return -1;
	}

	if (strcmp(cmd, "ADD") == 0)
		return cmd_add(r, output, err);
	if (strcmp(cmd, "DEL") == 0)
		return cmd_del(r, err);
	if (strcmp(cmd, "CHECK") == 0)
		return cmd_check(r, err);
	if (strcmp(cmd, "GC") == 0)
		return cmd_gc(r, err);
	return cmd_status(r, err);
}

int hg_cni_run(const struct hg_cni_env *env, const char *input, size_t len, json_t **output,
	       const struct hg_log *log)
{
	struct hg_error err = {0};
	struct run r = {.env = env, .outer = log};
	r.log = (struct hg_log){.fn = log_line, .ctx = &r};
	*output = NULL;
	if (hg_config_init(&r.config) < 0) {
		hg_error_oom(&err);
		*output = error_json(NULL, &err);
		return 1;
	}
	int ret = dispatch(&r, input, len, output, &err);
	if (ret < 0) {
		hg_logf(&r.log, "error %d: %s", err.code, err.msg);
		json_decref(*output);
		*output = error_json(r.version, &err);
		ret = 1;
	}
	hg_config_free(&r.config);
	json_decref(r.conf);
	return ret;
}
