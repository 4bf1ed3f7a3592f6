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
		return -E2BIG;
	char **copy = strv_copy(names);
	struct hg_record_entry *grown = copy ? realloc(r->entries, (r->n_entries + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		strv_free(copy);
		return -ENOMEM;
	}
	r->entries = grown;
	r->entries[r->n_entries++] = (struct hg_record_entry){.ip = *ip, .names = copy};
	return 0;
}

/* ---- to JSON ---------------------------------------------------------------------------
 * jansson reports allocation failures by returning NULL; json_object_set_new and
 * json_array_append_new take ownership even then, so one check of each container at the
 * end (a flag set by every helper) covers every step. */

struct out {
	bool oom;
};

static void put(struct out *o, json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		o->oom = true;
}

static void push(struct out *o, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) < 0)
		o->oom = true;
}

static json_t *ip_string(const struct hg_ip *ip, bool cidr)
{
	char buf[HG_IP_STRLEN];
	return json_string(cidr ? hg_ip_cidr(ip, buf) : hg_ip_str(ip, buf));
}

static json_t *strings(struct out *o, char *const *v)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && v && v[i]; i++)
		push(o, arr, json_string(v[i]));
	return arr;
}

static json_t *addrs(struct out *o, const struct hg_host_addrs *a)
{
	json_t *arr = json_array();
	for (int f = 0; arr && f < 2; f++)
		if (a->ip[f].family)
			push(o, arr, ip_string(&a->ip[f], false));
	return arr;
}

/* block NULL: a registry's target, which has none. */
static json_t *target_json(struct out *o, const struct hg_hosts_target *t, const char *block)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	if (t->file) {
		put(o, j, "file", json_string(t->file));
	} else {
		put(o, j, "root", json_string(t->root ? t->root : ""));
		put(o, j, "path", json_string(t->path ? t->path : ""));
		if (t->pid > 0) {
			put(o, j, "pid", json_integer(t->pid));
			put(o, j, "pidStart", json_integer((json_int_t) t->pid_start));
			put(o, j, "mntns", json_integer((json_int_t) t->mntns));
		}
	}
	if (block)
		put(o, j, "block", json_string(block));
	return j;
}

static json_t *record_json(const struct hg_record *r, struct out *o)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	put(o, j, "version", json_integer(HG_RECORD_VERSION));
	put(o, j, "kind", json_string(r->kind == HG_RECORD_HOOK ? "hook" : "cni"));
	put(o, j, "containerID", json_string(r->container_id ? r->container_id : ""));
	put(o, j, "key", json_string(r->key ? r->key : ""));
	put(o, j, "stateDir", json_string(r->state_dir ? r->state_dir : ""));
	if (r->network)
		put(o, j, "network", json_string(r->network));
	if (r->ifname)
		put(o, j, "ifname", json_string(r->ifname));
	json_t *ns = json_object();
	put(o, j, "netns", ns);
	if (ns) {
		put(o, ns, "path", json_string(r->netns.path ? r->netns.path : ""));
		put(o, ns, "dev", json_integer((json_int_t) r->netns.dev));
		put(o, ns, "ino", json_integer((json_int_t) r->netns.ino));
		if (r->netns.cookie)
			put(o, ns, "cookie", json_integer((json_int_t) r->netns.cookie));
	}
	json_t *routes = json_array();
	put(o, j, "routes", routes);
	for (size_t i = 0; routes && i < r->n_routes; i++) {
		json_t *route = json_object();
		push(o, routes, route);
		if (!route)
			continue;
		put(o, route, "dst", ip_string(&r->routes[i].dst, false));
		put(o, route, "ifindex", json_integer(r->routes[i].ifindex));
		if (r->routes[i].via.family)
			put(o, route, "via", ip_string(&r->routes[i].via, false));
	}
	if (r->container_table)
		put(o, j, "containerTable", json_true());
	if (r->route_localnet)
		put(o, j, "routeLocalnet",
		    json_pack("{s:s, s:s}", "iface", r->localnet_iface, "old", r->localnet_old));
	if (r->n_aliases) {
		json_t *alias = json_array();
		put(o, j, "alias", alias);
		for (size_t i = 0; alias && i < r->n_aliases; i++)
			push(o, alias, ip_string(&r->aliases[i], false));
	}
	if (r->host_loopback) {
		json_t *lb = json_object();
		put(o, j, "hostLoopback", lb);
		if (lb) {
			put(o, lb, "iface", json_string(r->loopback_iface));
			put(o, lb, "elements", strings(o, r->loopback_elements));
			if (r->loopback_port[0]) {
				put(o, lb, "port", json_string(r->loopback_port));
				put(o, lb, "addr", ip_string(&r->loopback_addr, false));
			}
		}
	}
	json_t *cips = json_array();
	put(o, j, "containerIPs", cips);
	for (size_t i = 0; cips && i < r->n_container_ips; i++)
		push(o, cips, ip_string(&r->container_ips[i], true));
	put(o, j, "hostIPs", addrs(o, &r->host_ips));
	put(o, j, "targets", addrs(o, &r->targets));
	json_t *entries = json_array();
	put(o, j, "entries", entries);
	for (size_t i = 0; entries && i < r->n_entries; i++) {
		json_t *e = json_object();
		push(o, entries, e);
		if (!e)
			continue;
		put(o, e, "ip", ip_string(&r->entries[i].ip, false));
		put(o, e, "names", strings(o, r->entries[i].names));
	}
	if (r->has_hosts) {
		json_t *hosts = target_json(o, &r->hosts, r->hosts_block ? r->hosts_block : "");
		put(o, j, "hosts", hosts);
		if (hosts && r->hosts_ino) {
			put(o, hosts, "dev", json_integer((json_int_t) r->hosts_dev));
			put(o, hosts, "ino", json_integer((json_int_t) r->hosts_ino));
		}
	}
	return j;
}

int hg_record_save(const char *path, const struct hg_record *r, struct hg_error *err)
{
	struct out o = {0};
	json_auto_t *j = record_json(r, &o);
	if (!j || o.oom)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	return hg_state_write(path, j, err);
}

/* ---- from JSON -------------------------------------------------------------------------
 * A record is ours, written by a root process into a checked directory; still, a damaged
 * one must be refused, not half-believed: every value is checked for its type. */

struct in {
	const char *path;
	struct hg_error *err;
	bool bad;
	char what[64];
};

static void damaged(struct in *in, const char *what)
{
	if (!in->bad)
		snprintf(in->what, sizeof(in->what), "%s", what);
	in->bad = true;
}

static char *opt_string(struct in *in, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return NULL;
	char *s = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
	if (!s)
		damaged(in, key);
	return s;
}

static char *req_string(struct in *in, json_t *obj, const char *key)
{
	if (!json_object_get(obj, key))
		damaged(in, key);
	return opt_string(in, obj, key);
}

static json_int_t integer(struct in *in, json_t *obj, const char *key, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (!v && !required)
		return 0;
	if (!json_is_integer(v))
		damaged(in, key);
	return json_integer_value(v);
}

static void ip_of(struct in *in, json_t *v, bool cidr, const char *what, struct hg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!json_is_string(v) || hg_ip_parse(json_string_value(v), cidr, ip) < 0)
		damaged(in, what);
}

static void fixed_string(struct in *in, json_t *obj, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) >= size)
		damaged(in, key);
	else
		memcpy(buf, json_string_value(v), json_string_length(v) + 1);
}

static void addrs_of(struct in *in, json_t *arr, const char *what, struct hg_host_addrs *a)
{
	size_t i;
	json_t *v;
	memset(a, 0, sizeof(*a));
	json_array_foreach (arr, i, v) {
		struct hg_ip ip;
		ip_of(in, v, false, what, &ip);
		if (ip.family)
			a->ip[hg_family_slot(ip.family)] = ip;
	}
}

static char **strings_of(struct in *in, json_t *arr, const char *what)
{
	char **v = calloc(1, sizeof(char *));
	size_t i;
	json_t *s;
	if (!v || !json_is_array(arr)) {
		damaged(in, what);
		return v;
	}
	json_array_foreach (arr, i, s)
		if (!json_is_string(s) || strv_push(&v, json_string_value(s)) < 0)
			damaged(in, what);
	return v;
}

static void target_of(struct in *in, json_t *j, const char *what, struct hg_hosts_target *t)
{
	if (!json_is_object(j)) {
		damaged(in, what);
		return;
	}
	t->file = opt_string(in, j, "file");
	if (!t->file) {
		t->root = req_string(in, j, "root");
		t->path = req_string(in, j, "path");
		t->pid = (pid_t) integer(in, j, "pid", false);
		t->pid_start = (unsigned long long) integer(in, j, "pidStart", false);
		t->mntns = (uint64_t) integer(in, j, "mntns", false);
	}
}

static void record_of(struct in *in, json_t *j, struct hg_record *r)
{
	size_t i;
	json_t *v;
	r->version = (int) integer(in, j, "version", true);
	if (r->version < 1 || r->version > HG_RECORD_VERSION)
		damaged(in, "version");
	_cleanup_free_ char *kind = req_string(in, j, "kind");
	r->kind = kind && strcmp(kind, "hook") == 0 ? HG_RECORD_HOOK : HG_RECORD_CNI;
	r->container_id = req_string(in, j, "containerID");
	r->key = req_string(in, j, "key");
	r->state_dir = req_string(in, j, "stateDir");
	r->network = opt_string(in, j, "network");
	r->ifname = opt_string(in, j, "ifname");
	json_t *ns = json_object_get(j, "netns");
	if (!json_is_object(ns))
		damaged(in, "netns");
	r->netns.path = opt_string(in, ns, "path");
	r->netns.dev = (dev_t) integer(in, ns, "dev", true);
	r->netns.ino = (ino_t) integer(in, ns, "ino", true);
	r->netns.cookie = (uint64_t) integer(in, ns, "cookie", false);
	json_t *routes = json_object_get(j, "routes");
	if (routes && !json_is_array(routes))
		damaged(in, "routes");
	json_array_foreach (routes, i, v) {
		struct hg_record_route *rt = &r->routes[r->n_routes];
		if (r->n_routes == HG_RECORD_MAX_ROUTES) {
			damaged(in, "routes");
			break;
		}
		ip_of(in, json_object_get(v, "dst"), false, "routes", &rt->dst);
		if (json_object_get(v, "via"))
			ip_of(in, json_object_get(v, "via"), false, "routes", &rt->via);
		rt->ifindex = (int) integer(in, v, "ifindex", true);
		r->n_routes++;
	}
	r->container_table = json_is_true(json_object_get(j, "containerTable"));
	json_t *localnet = json_object_get(j, "routeLocalnet");
	if (localnet) {
		r->route_localnet = true;
		fixed_string(in, localnet, "iface", r->localnet_iface, sizeof(r->localnet_iface));
		fixed_string(in, localnet, "old", r->localnet_old, sizeof(r->localnet_old));
	}
	json_array_foreach (json_object_get(j, "alias"), i, v) {
		if (r->n_aliases == 2) {
			damaged(in, "alias");
			break;
		}
		ip_of(in, v, false, "alias", &r->aliases[r->n_aliases++]);
	}
	json_t *lb = json_object_get(j, "hostLoopback");
	if (lb) {
		r->host_loopback = true;
		fixed_string(in, lb, "iface", r->loopback_iface, sizeof(r->loopback_iface));
		r->loopback_elements = strings_of(in, json_object_get(lb, "elements"), "hostLoopback");
		if (json_object_get(lb, "port")) {
			fixed_string(in, lb, "port", r->loopback_port, sizeof(r->loopback_port));
			ip_of(in, json_object_get(lb, "addr"), false, "hostLoopback", &r->loopback_addr);
		}
	}
	json_array_foreach (json_object_get(j, "containerIPs"), i, v) {
		if (r->n_container_ips == HG_MAX_CONTAINER_ADDRS) {
			damaged(in, "containerIPs");
			break;
		}
		ip_of(in, v, true, "containerIPs", &r->container_ips[r->n_container_ips++]);
	}
	addrs_of(in, json_object_get(j, "hostIPs"), "hostIPs", &r->host_ips);
	addrs_of(in, json_object_get(j, "targets"), "targets", &r->targets);
	json_array_foreach (json_object_get(j, "entries"), i, v) {
		struct hg_ip ip;
		ip_of(in, json_object_get(v, "ip"), false, "entries", &ip);
		_cleanup_strv_ char **names = strings_of(in, json_object_get(v, "names"), "entries");
		if (!in->bad && hg_record_add_entry(r, &ip, names) < 0)
			damaged(in, "entries");
	}
	json_t *hosts = json_object_get(j, "hosts");
	if (hosts) {
		r->has_hosts = true;
		target_of(in, hosts, "hosts", &r->hosts);
		if (json_is_object(hosts)) {
			r->hosts_block = opt_string(in, hosts, "block");
			r->hosts_dev = (uint64_t) integer(in, hosts, "dev", false);
			r->hosts_ino = (uint64_t) integer(in, hosts, "ino", false);
		}
	}
}

static int load_json(const char *path, json_t **j, bool *found, struct hg_error *err)
{
	json_error_t jerr;
	struct hg_error rerr = {0};
	_cleanup_free_ char *buf = NULL;
	size_t len;
	*found = false;
	*j = NULL;
	/* Records are small regular files of ours; a link, a FIFO (which would block), a device
	 * or a huge file there is damage, not a record. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return hg_error_errno(err, HG_CNI_STATE, errno, "open state record %s", path);
	/* One read: json_loadfd reads a byte per read(2), ~550 system calls per record. */
	if (hg_read_fd(fd, path, HG_RECORD_MAX_SIZE, 0, NULL, &buf, &len, &rerr) < 0) {
		if (rerr.code == HG_CNI_IO && rerr.errnum == ENOMEM)
			return hg_error_oom(err);
		if (rerr.code == HG_CNI_IO && strncmp(rerr.msg, "read ", 5) == 0)
			return hg_error_errno(err, HG_CNI_STATE, rerr.errnum, "read state record %s", path);
		return hg_error_set(err, HG_CNI_STATE, "state record %s is not a regular file of at most %d bytes", path,
				    HG_RECORD_MAX_SIZE);
	}
	*j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*j)
		return hg_error_set(err, HG_CNI_STATE, "read state record %s: %s", path, jerr.text);
	if (!json_is_object(*j))
		return hg_error_set(err, HG_CNI_STATE, "state record %s is not a JSON object", path);
	*found = true;
	return 0;
}

int hg_record_load(const char *path, struct hg_record *r, bool *found, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct in in = {.path = path, .err = err};
	hg_record_init(r);
	if (load_json(path, &j, found, err) < 0)
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
		return -EINVAL;
	return asprintf(out, "%s/by-netns/%llu-%llu", state_dir, (unsigned long long) r->netns.dev,
			(unsigned long long) r->netns.ino) < 0
		       ? -ENOMEM
		       : 0;
}

int hg_record_index(const char *state_dir, const char *path, const struct hg_record *r, struct hg_error *err)
{
	_cleanup_free_ char *link = NULL, *dir = NULL;
	char target[4096];
	if (index_path(state_dir, r, &link) < 0 || asprintf(&dir, "%s/by-netns", state_dir) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
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
	if (asprintf(&link, "%s/by-netns/%llu-%llu", state_dir, (unsigned long long) id->dev,
		     (unsigned long long) id->ino) < 0)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
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

void hg_membership_free(struct hg_membership *m)
{
	free(m->container_id);
	free(m->netns_record);
	memset(m, 0, sizeof(*m));
}

int hg_membership_load(const char *path, struct hg_membership *m, bool *found, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct in in = {.path = path, .err = err};
	memset(m, 0, sizeof(*m));
	if (load_json(path, &j, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	int version = (int) integer(&in, j, "version", true);
	if (version < 1 || version > HG_RECORD_VERSION)
		damaged(&in, "version");
	m->container_id = req_string(&in, j, "containerID");
	m->netns_record = req_string(&in, j, "netnsRecord");
	m->pid = (pid_t) integer(&in, j, "pid", false);
	m->pid_start = (unsigned long long) integer(&in, j, "pidStart", false);
	if (in.bad) {
		hg_membership_free(m);
		return hg_error_set(err, HG_CNI_STATE, "membership record %s is damaged (\"%s\")", path, in.what);
	}
	return 0;
}

int hg_membership_save(const char *path, const struct hg_membership *m, struct hg_error *err)
{
	struct out o = {0};
	json_auto_t *j = json_object();
	if (!j)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	put(&o, j, "version", json_integer(HG_RECORD_VERSION));
	put(&o, j, "containerID", json_string(m->container_id ? m->container_id : ""));
	put(&o, j, "netnsRecord", json_string(m->netns_record ? m->netns_record : ""));
	if (m->pid > 0) {
		put(&o, j, "pid", json_integer(m->pid));
		put(&o, j, "pidStart", json_integer((json_int_t) m->pid_start));
	}
	if (o.oom)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	return hg_state_write(path, j, err);
}

static void owner_free(struct hg_hosts_owner *o)
{
	free(o->key);
	for (size_t i = 0; i < o->n_entries; i++)
		strv_free(o->entries[i].names);
	free(o->entries);
	memset(o, 0, sizeof(*o));
}

void hg_registry_free(struct hg_hosts_registry *g)
{
	for (size_t i = 0; i < g->n; i++)
		owner_free(&g->owners[i]);
	free(g->owners);
	hg_target_free(&g->target);
	memset(g, 0, sizeof(*g));
}

int hg_registry_set_file(struct hg_hosts_registry *g, const struct hg_hosts_target *target,
			 const struct hg_file_id *id)
{
	struct hg_hosts_target copy;
	if (hg_target_copy(target, &copy) < 0)
		return -ENOMEM;
	hg_target_free(&g->target);
	g->target = copy;
	g->identity = *id;
	g->has_identity = true;
	return 0;
}

void hg_registry_remove(struct hg_hosts_registry *g, size_t i)
{
	owner_free(&g->owners[i]);
	memmove(&g->owners[i], &g->owners[i + 1], (g->n - i - 1) * sizeof(g->owners[0]));
	g->n--;
}

static int owner_set_entries(struct hg_hosts_owner *o, const struct hg_ip *ips, char *const *const *names, size_t n)
{
	struct hg_record_entry *e = calloc(n + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		e[i].ip = ips[i];
		if (!(e[i].names = strv_copy(names[i]))) {
			for (size_t j = 0; j < i; j++)
				strv_free(e[j].names);
			free(e);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < o->n_entries; i++)
		strv_free(o->entries[i].names);
	free(o->entries);
	o->entries = e;
	o->n_entries = n;
	return 0;
}

int hg_registry_put(struct hg_hosts_registry *g, const char *key, pid_t pid, unsigned long long pid_start,
		    long long since, const struct hg_ip *ips, char *const *const *names, size_t n)
{
	size_t i = 0;
	while (i < g->n && strcmp(g->owners[i].key, key) != 0)
		i++;
	if (i == g->n) {
		if (g->n >= HG_HOSTS_MAX_OWNERS)
			return -E2BIG;
		struct hg_hosts_owner *grown = realloc(g->owners, (g->n + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		g->owners = grown;
		memset(&g->owners[i], 0, sizeof(g->owners[i]));
		if (!(g->owners[i].key = strdup(key)))
			return -ENOMEM;
		g->n++;
	}
	g->owners[i].pid = pid;
	g->owners[i].pid_start = pid_start;
	g->owners[i].since = since;
	return owner_set_entries(&g->owners[i], ips, names, n);
}

int hg_registry_load(const char *path, struct hg_hosts_registry *g, struct hg_error *err)
{
	json_auto_t *j = NULL;
	struct in in = {.path = path, .err = err};
	bool found;
	size_t i, k;
	json_t *o, *e;
	memset(g, 0, sizeof(*g));
	if (load_json(path, &j, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	g->version = (int) integer(&in, j, "version", true);
	if (g->version < 2 || g->version > HG_REGISTRY_VERSION)
		damaged(&in, "version");
	if (g->version == 2) {
		/* Version 2 named only a host file, and no identity: it cannot show which file it
		 * was made for. */
		g->target.file = opt_string(&in, j, "file");
	} else if (json_object_get(j, "identity")) {
		json_t *id = json_object_get(j, "identity");
		target_of(&in, json_object_get(j, "target"), "target", &g->target);
		if (!json_is_object(id))
			damaged(&in, "identity");
		g->has_identity = true;
		g->identity.dev = (uint64_t) integer(&in, id, "dev", true);
		g->identity.ino = (uint64_t) integer(&in, id, "ino", true);
		g->identity.has_generation = json_object_get(id, "generation") != NULL;
		g->identity.generation = (uint32_t) integer(&in, id, "generation", false);
		g->identity.has_birth = json_object_get(id, "birthSec") != NULL;
		g->identity.birth_sec = (int64_t) integer(&in, id, "birthSec", false);
		g->identity.birth_nsec = (uint32_t) integer(&in, id, "birthNsec", false);
	}
	json_array_foreach (json_object_get(j, "owners"), i, o) {
		_cleanup_free_ char *key = req_string(&in, o, "key");
		pid_t pid = (pid_t) integer(&in, o, "pid", false);
		unsigned long long start = (unsigned long long) integer(&in, o, "pidStart", false);
		long long since = (long long) integer(&in, o, "since", false);
		json_t *entries = json_object_get(o, "entries");
		size_t n = json_array_size(entries);
		if (n > HG_RECORD_MAX_ENTRIES)
			damaged(&in, "entries");
		if (in.bad)
			break;
		struct hg_ip ips[n ? n : 1];
		char **names[n ? n : 1];
		json_array_foreach (entries, k, e) {
			ip_of(&in, json_object_get(e, "ip"), false, "entries", &ips[k]);
			names[k] = strings_of(&in, json_object_get(e, "names"), "entries");
		}
		if (!in.bad && hg_registry_put(g, key, pid, start, since, ips, (char *const *const *) names, n) < 0)
			damaged(&in, "owners");
		for (k = 0; k < n; k++)
			strv_free(names[k]);
	}
	if (in.bad) {
		hg_registry_free(g);
		return hg_error_set(err, HG_CNI_STATE, "hosts registry %s is damaged (\"%s\")", path, in.what);
	}
	return 0;
}

int hg_registry_save(const char *path, const struct hg_hosts_registry *g, struct hg_error *err)
{
	struct out o = {0};
	if (g->n == 0)
		return hg_state_remove(path, err);
	json_auto_t *j = json_object();
	json_t *owners = json_array();
	if (!j || !owners) {
		json_decref(owners);
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	}
	put(&o, j, "version", json_integer(HG_REGISTRY_VERSION));
	put(&o, j, "owners", owners);
	json_t *id = g->has_identity ? json_object() : NULL;
	if (g->has_identity) {
		put(&o, j, "target", target_json(&o, &g->target, NULL));
		put(&o, j, "identity", id);
	}
	if (id) {
		put(&o, id, "dev", json_integer((json_int_t) g->identity.dev));
		put(&o, id, "ino", json_integer((json_int_t) g->identity.ino));
		if (g->identity.has_generation)
			put(&o, id, "generation", json_integer(g->identity.generation));
		if (g->identity.has_birth) {
			put(&o, id, "birthSec", json_integer((json_int_t) g->identity.birth_sec));
			put(&o, id, "birthNsec", json_integer(g->identity.birth_nsec));
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct hg_hosts_owner *w = &g->owners[i];
		json_t *oj = json_object(), *entries = json_array();
		push(&o, owners, oj);
		put(&o, oj, "entries", entries);
		if (!oj || !entries)
			continue;
		put(&o, oj, "key", json_string(w->key));
		if (w->since)
			put(&o, oj, "since", json_integer((json_int_t) w->since));
		if (w->pid > 0) {
			put(&o, oj, "pid", json_integer(w->pid));
			put(&o, oj, "pidStart", json_integer((json_int_t) w->pid_start));
		}
		for (size_t k = 0; k < w->n_entries; k++) {
			json_t *e = json_object();
			push(&o, entries, e);
			if (!e)
				continue;
			put(&o, e, "ip", ip_string(&w->entries[k].ip, false));
			put(&o, e, "names", strings(&o, w->entries[k].names));
		}
	}
	if (o.oom)
		return hg_error_set(err, HG_CNI_STATE, "out of memory");
	return hg_state_write(path, j, err);
}
