/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <sys/stat.h>
#include <fcntl.h>
#include "ops/record.h"
#include "ops/state.h"
#include "base/util.h"
#include "os/fs.h"
#include "ops/json-io.h"

static const char *const kind_names[] = {[HG_RECORD_CNI] = "cni", [HG_RECORD_HOOK] = "hook", [HG_RECORD_NRI] = "nri"};

const char *hg_record_kind_name(enum hg_record_kind k)
{
	return (size_t) k < ARRAY_SIZE(kind_names) ? kind_names[k] : kind_names[HG_RECORD_CNI];
}

enum hg_record_kind hg_record_kind_parse(const char *s)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(kind_names); i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (enum hg_record_kind) i;
	return HG_RECORD_CNI;
}

void hg_record_init(struct hg_record *r)
{
	memset(r, 0, sizeof(*r));
	r->version = HG_RECORD_VERSION;
}

void hg_record_free(struct hg_record *r)
{
	free(r->network);
	free(r->container_id);
	free(r->ifname);
	free(r->key);
	free(r->state_dir);
	free(r->netns.path);
	strv_free(r->loopback_elements);
	for (size_t i = 0; i < r->n_entries; i++)
		strv_free(r->entries[i].names);
	free(r->entries);
	hg_target_free(&r->hosts);
	free(r->hosts_block);
	hg_record_init(r);
}

int hg_record_add_entry(struct hg_record *r, const struct hg_ip *ip, char *const *names)
{
	if (r->n_entries >= HG_RECORD_MAX_ENTRIES)
		return -1;
	char **copy = strv_copy(names);
	struct hg_record_entry *grown = copy ? realloc(r->entries, (r->n_entries + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		strv_free(copy);
		return -1;
	}
	r->entries = grown;
	r->entries[r->n_entries++] = (struct hg_record_entry){.ip = *ip, .names = copy};
	return 0;
}

static json_t *record_json(const struct hg_record *r, struct jio_out *o)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	jio_put(o, j, "version", json_integer(HG_RECORD_VERSION));
	jio_put(o, j, "kind", json_string(hg_record_kind_name(r->kind)));
	jio_put(o, j, "containerID", json_string(r->container_id ? r->container_id : ""));
	jio_put(o, j, "key", json_string(r->key ? r->key : ""));
	jio_put(o, j, "stateDir", json_string(r->state_dir ? r->state_dir : ""));
	if (r->network)
		jio_put(o, j, "network", json_string(r->network));
	if (r->ifname)
		jio_put(o, j, "ifname", json_string(r->ifname));
	json_t *ns = json_object();
	jio_put(o, j, "netns", ns);
	if (ns) {
		jio_put(o, ns, "path", json_string(r->netns.path ? r->netns.path : ""));
		jio_put(o, ns, "dev", json_integer((json_int_t) r->netns.dev));
		jio_put(o, ns, "ino", json_integer((json_int_t) r->netns.ino));
		if (r->netns.cookie)
			jio_put(o, ns, "cookie", json_integer((json_int_t) r->netns.cookie));
	}
	json_t *routes = json_array();
	jio_put(o, j, "routes", routes);
	for (size_t i = 0; routes && i < r->n_routes; i++) {
		json_t *route = json_object();
		jio_push(o, routes, route);
		if (!route)
			continue;
		jio_put(o, route, "dst", jio_ip_string(&r->routes[i].dst, false));
		jio_put(o, route, "ifindex", json_integer(r->routes[i].ifindex));
		if (r->routes[i].via.family)
			jio_put(o, route, "via", jio_ip_string(&r->routes[i].via, false));
	}
	if (r->container_table)
		jio_put(o, j, "containerTable", json_true());
	if (r->route_localnet)
		jio_put(o, j, "routeLocalnet",
		    json_pack("{s:s, s:s}", "iface", r->localnet_iface, "old", r->localnet_old));
	if (r->n_aliases) {
		json_t *alias = json_array();
		jio_put(o, j, "alias", alias);
		for (size_t i = 0; alias && i < r->n_aliases; i++)
			jio_push(o, alias, jio_ip_string(&r->aliases[i], false));
	}
	if (r->host_loopback) {
		json_t *lb = json_object();
		jio_put(o, j, "hostLoopback", lb);
		if (lb) {
			jio_put(o, lb, "iface", json_string(r->loopback_iface));
			jio_put(o, lb, "elements", jio_strings(o, r->loopback_elements));
			if (r->loopback_port[0]) {
				jio_put(o, lb, "port", json_string(r->loopback_port));
				jio_put(o, lb, "addr", jio_ip_string(&r->loopback_addr, false));
			}
		}
	}
	json_t *cips = json_array();
	jio_put(o, j, "containerIPs", cips);
	for (size_t i = 0; cips && i < r->n_container_ips; i++)
		jio_push(o, cips, jio_ip_string(&r->container_ips[i], true));
	jio_put(o, j, "hostIPs", jio_addrs(o, &r->host_ips));
	jio_put(o, j, "targets", jio_addrs(o, &r->targets));
	jio_put(o, j, "entries", jio_entries(o, r->entries, r->n_entries));
	if (r->has_hosts) {
		json_t *hosts = jio_target_json(o, &r->hosts, r->hosts_block ? r->hosts_block : "");
		jio_put(o, j, "hosts", hosts);
		if (hosts && r->hosts_ino) {
			jio_put(o, hosts, "dev", json_integer((json_int_t) r->hosts_dev));
			jio_put(o, hosts, "ino", json_integer((json_int_t) r->hosts_ino));
		}
	}
	return j;
}

int hg_record_save(const char *path, const struct hg_record *r, struct hg_error *err)
{
	struct jio_out o = {0};
	json_auto_t *j = record_json(r, &o);
	if (!j || o.oom)
		return hg_error_oom(err);
	return hg_state_write(path, j, err);
}

static void record_of(struct jio_in *in, json_t *j, struct hg_record *r)
{
	size_t i;
	json_t *v;
	r->version = (int) jio_integer(in, j, "version", true);
	if (r->version < 1 || r->version > HG_RECORD_VERSION)
		jio_damaged(in, "version");
	_cleanup_free_ char *kind = jio_req_string(in, j, "kind");
	r->kind = hg_record_kind_parse(kind);
	r->container_id = jio_req_string(in, j, "containerID");
	r->key = jio_req_string(in, j, "key");
	r->state_dir = jio_req_string(in, j, "stateDir");
	r->network = jio_opt_string(in, j, "network");
	r->ifname = jio_opt_string(in, j, "ifname");
	json_t *ns = json_object_get(j, "netns");
	if (!json_is_object(ns))
		jio_damaged(in, "netns");
	r->netns.path = jio_opt_string(in, ns, "path");
	r->netns.dev = (dev_t) jio_integer(in, ns, "dev", true);
	r->netns.ino = (ino_t) jio_integer(in, ns, "ino", true);
	r->netns.cookie = (uint64_t) jio_integer(in, ns, "cookie", false);
	json_t *routes = json_object_get(j, "routes");
	if (routes && !json_is_array(routes))
		jio_damaged(in, "routes");
	json_array_foreach (routes, i, v) {
		struct hg_record_route *rt = &r->routes[r->n_routes];
		if (r->n_routes == HG_RECORD_MAX_ROUTES) {
			jio_damaged(in, "routes");
			break;
		}
		jio_ip_of(in, json_object_get(v, "dst"), false, "routes", &rt->dst);
		if (json_object_get(v, "via"))
			jio_ip_of(in, json_object_get(v, "via"), false, "routes", &rt->via);
		rt->ifindex = (int) jio_integer(in, v, "ifindex", true);
		r->n_routes++;
	}
	r->container_table = json_is_true(json_object_get(j, "containerTable"));
	json_t *localnet = json_object_get(j, "routeLocalnet");
	if (localnet) {
		r->route_localnet = true;
		jio_fixed_string(in, localnet, "iface", r->localnet_iface, sizeof(r->localnet_iface));
		jio_fixed_string(in, localnet, "old", r->localnet_old, sizeof(r->localnet_old));
	}
	json_array_foreach (json_object_get(j, "alias"), i, v) {
		if (r->n_aliases == 2) {
			jio_damaged(in, "alias");
			break;
		}
		jio_ip_of(in, v, false, "alias", &r->aliases[r->n_aliases++]);
	}
	json_t *lb = json_object_get(j, "hostLoopback");
	if (lb) {
		r->host_loopback = true;
		jio_fixed_string(in, lb, "iface", r->loopback_iface, sizeof(r->loopback_iface));
		r->loopback_elements = jio_strings_of(in, json_object_get(lb, "elements"), "hostLoopback");
		if (json_object_get(lb, "port")) {
			jio_fixed_string(in, lb, "port", r->loopback_port, sizeof(r->loopback_port));
			jio_ip_of(in, json_object_get(lb, "addr"), false, "hostLoopback", &r->loopback_addr);
		}
	}
	json_array_foreach (json_object_get(j, "containerIPs"), i, v) {
		if (r->n_container_ips == HG_MAX_CONTAINER_ADDRS) {
			jio_damaged(in, "containerIPs");
			break;
		}
		jio_ip_of(in, v, true, "containerIPs", &r->container_ips[r->n_container_ips++]);
	}
	jio_addrs_of(in, json_object_get(j, "hostIPs"), "hostIPs", &r->host_ips);
	jio_addrs_of(in, json_object_get(j, "targets"), "targets", &r->targets);
	json_array_foreach (json_object_get(j, "entries"), i, v) {
		struct hg_ip ip;
		jio_ip_of(in, json_object_get(v, "ip"), false, "entries", &ip);
		_cleanup_strv_ char **names = jio_strings_of(in, json_object_get(v, "names"), "entries");
		if (!in->bad && hg_record_add_entry(r, &ip, names) < 0)
			jio_damaged(in, "entries");
	}
	json_t *hosts = json_object_get(j, "hosts");
	if (hosts) {
		r->has_hosts = true;
		jio_target_of(in, hosts, "hosts", &r->hosts);
		if (json_is_object(hosts)) {
			r->hosts_block = jio_opt_string(in, hosts, "block");
			r->hosts_dev = (uint64_t) jio_integer(in, hosts, "dev", false);
			r->hosts_ino = (uint64_t) jio_integer(in, hosts, "ino", false);
		}
	}
}

int hg_record_load(const char *path, struct hg_record *r, bool *found, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct jio_in in = {.path = path, .err = err};
	hg_record_init(r);
	if (jio_load_json(path, &j, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	record_of(&in, j, r);
	if (in.bad) {
		hg_record_free(r);
		return hg_error_set(err, HG_CNI_STATE, "state record %s is damaged (\"%s\")", path, in.what);
	}
	return 0;
}

bool hg_record_matches_netns(const struct hg_record *r, const struct hg_netns_id *id)
{
	if (r->netns.cookie && id->cookie && r->netns.cookie != id->cookie)
		return false;
	return r->netns.dev == id->dev && r->netns.ino == id->ino && id->ino != 0;
}

static int index_path(const char *state_dir, const struct hg_record *r, char **out)
{
	if (!r->netns.ino)
		return -1;
	return hg_state_by_netns_path(state_dir, r->netns.dev, r->netns.ino, out);
}

int hg_record_index(const char *state_dir, const char *path, const struct hg_record *r, struct hg_error *err)
{
	_cleanup_free_ char *link = NULL, *dir = NULL;
	char target[4096];
	if (index_path(state_dir, r, &link) < 0 || hg_state_dir_path(state_dir, HG_STATE_DIR_BY_NETNS, &dir) < 0)
		return hg_error_oom(err);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", dir);
	/* Usually there is no link yet: one symlink(2). A reader that finds none between the
	 * unlink and the symlink below sees "no record", as it would have a moment earlier. */
	for (int attempt = 0; symlink(path, link) < 0; attempt++) {
		if (errno != EEXIST || attempt > 1)
			return hg_error_errno(err, HG_CNI_STATE, errno, "create %s", link);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n >= 0 && (size_t) n == strlen(path) && memcmp(target, path, n) == 0)
			return 0;
		unlink(link);
	}
	return 0;
}

int hg_record_retire(const char *state_dir, const char *path, const struct hg_record *r, struct hg_error *err)
{
	_cleanup_free_ char *link = NULL;
	char target[4096];
	/* Another attachment may have taken the namespace over since: only our own link goes. */
	if (r && state_dir && index_path(state_dir, r, &link) == 0) {
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			if (strcmp(target, path) == 0)
				unlink(link);
		}
	}
	return hg_state_remove(path, err);
}

int hg_record_find_by_netns(const char *state_dir, const struct hg_netns_id *id, struct hg_record *r,
			    struct hg_error *err)
{
	_cleanup_free_ char *link = NULL;
	char target[4096];
	struct hg_error ignored = {0};
	bool found;
	hg_record_init(r);
	if (hg_state_by_netns_path(state_dir, id->dev, id->ino, &link) < 0)
		return hg_error_oom(err);
	/* One readlink instead of reading every record of the node. */
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	/* A record that is gone or damaged, or names another namespace (an inode number
	 * reused after a lost DEL), is no match. */
	if (hg_record_load(target, r, &found, &ignored) < 0 || !found)
		return 0;
	if (!hg_record_matches_netns(r, id)) {
		hg_record_free(r);
		return 0;
	}
	return 1;
}

