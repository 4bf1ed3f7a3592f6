#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <net/if.h>
#include <fcntl.h>
#include "attach.h"
#include "hostside.h"
#include "nat.h"
#include "state.h"
#include "hosts.h"
#include "netns.h"
#include "route.h"
#include "target.h"
#include "util.h"

#define MAX_ROUTES 4

struct add_ctx {
	const struct hg_attach_req *req;
	struct hg_container_net cnet;
	struct hg_gateway node_gw[2];
	bool need_node;
	struct hg_gateway netns_gw[2];
	struct hg_host_addrs host, targets;
	int ifindex;
	json_t *rec;    /* the record, filled as steps succeed, for the undo */
	json_t *routes; /* its "routes" */
};

static json_t *ip_json(const struct hg_ip *ip, bool cidr)
{
	char buf[HG_IP_STRLEN];
	return json_string(cidr ? hg_ip_cidr(ip, buf) : hg_ip_str(ip, buf));
}

static int ip_from_json(json_t *v, struct hg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	const char *s = json_string_value(v);
	return s && hg_ip_parse(s, true, ip) == 0 ? 0 : -1;
}

/* The gateway a host route should go through: the container's own for that family. */
static const struct hg_ip *route_gateway(const struct add_ctx *c, int f)
{
	if (c->cnet.gateways[f].family)
		return &c->cnet.gateways[f];
	if (c->netns_gw[f].ip.family)
		return &c->netns_gw[f].ip;
	return NULL;
}

static int ensure_routable(struct add_ctx *c, const struct hg_ip *dst, int f, struct hg_error *err)
{
	int r = hg_route_reachable(dst, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	const struct hg_ip *gw = route_gateway(c, f);
	int ifindex = c->ifindex;
	if (gw && hg_ip_equal(gw, dst))
		gw = NULL; /* the host is the gateway itself: on-link */
	if (!ifindex && c->netns_gw[f].ifindex)
		ifindex = c->netns_gw[f].ifindex;
	if (!ifindex) {
		char a[HG_IP_STRLEN];
		return hg_error_set(err, HG_CNI_NETLINK, "no route to %s in the container and no interface to add one",
				    hg_ip_str(dst, a));
	}
	if (hg_route_add_host(dst, gw, ifindex, err) < 0)
		return -1;
	json_t *route = json_pack("{s:o, s:i}", "dst", ip_json(dst, false), "ifindex", ifindex);
	if (gw)
		json_object_set_new(route, "via", ip_json(gw, false));
	json_array_append_new(c->routes, route);
	return 0;
}

/* The container's own table: virtual IPs DNATed to the host (unless they are loopback
 * aliases on the host), its 127.0.0.1 ports forwarded. */
static int add_container_nat(struct add_ctx *c, struct hg_error *err)
{
	const struct hg_config *cfg = c->req->config;
	struct hg_nat_plan plan = {
		.host = c->host,
		.localhost_ports = cfg->localhost_ports,
		.n_localhost_ports = cfg->n_localhost_ports,
	};
	_cleanup_free_ char *text = NULL;
	if (!cfg->host_alias)
		for (int f = 0; f < 2; f++)
			if (!hg_ip_equal(&c->targets.ip[f], &c->host.ip[f]))
				plan.vip.ip[f] = c->targets.ip[f];
	if (hg_nat_container_text(&plan, &text, err) < 0)
		return -1;
	if (!text)
		return 0;
	/* Recorded first: a half-applied transaction is still removed by the undo. */
	json_object_set_new(c->rec, "containerTable", json_true());
	if (hg_nft_run(text, err) < 0)
		return hg_error_prefix(err, "container rules");
	if (cfg->n_localhost_ports) {
		/* Only the container's interface may carry 127.0.0.0/8 sources, and only out. */
		char path[128], old[16];
		const char *ifname = c->req->ifname;
		char name[IF_NAMESIZE];
		if (!ifname)
			ifname = if_indextoname(c->netns_gw[0].ifindex, name);
		if (!ifname)
			return hg_error_set(err, HG_CNI_NETNS, "localhostPorts: no IPv4 interface in the container");
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", ifname);
		if (hg_sysctl_write(path, "1", old, sizeof(old), err) < 0)
			return -1;
		json_object_set_new(c->rec, "routeLocalnet", json_pack("{s:s, s:s}", "iface", ifname, "old", old));
	}
	return 0;
}

static int add_in_netns(void *ctx, struct hg_error *err)
{
	struct add_ctx *c = ctx;
	const struct hg_config *cfg = c->req->config;

	if (c->req->ifname) {
		c->ifindex = (int) if_nametoindex(c->req->ifname);
		if (!c->ifindex)
			return hg_error_set(err, HG_CNI_NETNS, "interface %s does not exist in the container",
					    c->req->ifname);
	}
	uint64_t cookie = hg_netns_cookie();
	if (cookie)
		json_object_set_new(json_object_get(c->rec, "netns"), "cookie", json_integer((json_int_t) cookie));
	if (c->req->discover && hg_addresses(c->cnet.addrs, HG_MAX_CONTAINER_ADDRS, &c->cnet.n_addrs, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_virtual_ips; i++)
		for (size_t j = 0; j < c->cnet.n_addrs; j++)
			if (hg_ip_contains(&c->cnet.addrs[j], &cfg->virtual_ips[i])) {
				char v[HG_IP_STRLEN], n[HG_IP_STRLEN];
				struct hg_ip net = hg_ip_network(&c->cnet.addrs[j]);
				return hg_error_set(err, HG_CNI_INVALID_CONFIG,
						    "invalid configuration: key \"virtualIPs\": %s is inside the container's "
						    "subnet %s",
						    hg_ip_str(&cfg->virtual_ips[i], v), hg_ip_cidr(&net, n));
			}
	/* Routes are always read: a host route needs the gateway when prevResult has none. */
	if (hg_route_default_gateways(c->netns_gw, err) < 0)
		return -1;
	hg_hostaddr_choose(cfg, &c->cnet, c->netns_gw, c->need_node ? c->node_gw : NULL, &c->host);
	if (!c->host.ip[0].family && !c->host.ip[1].family)
		return hg_error_set(err, HG_CNI_NO_HOST_ADDRESS,
				    "no host address for this container: it has %s%s%s, and hostIPs yields none of those "
				    "families (no gateway in prevResult, no default route in the container)",
				    hg_container_has_family(&c->cnet, AF_INET) ? "IPv4" : "",
				    hg_container_has_family(&c->cnet, AF_INET) && hg_container_has_family(&c->cnet, AF_INET6)
					    ? " and "
					    : "",
				    hg_container_has_family(&c->cnet, AF_INET6)
					    ? "IPv6"
					    : (hg_container_has_family(&c->cnet, AF_INET) ? "" : "no address"));
	hg_hostaddr_targets(cfg, &c->cnet, &c->host, &c->targets);
	for (int f = 0; f < 2; f++) {
		if (!c->host.ip[f].family)
			continue;
		if (ensure_routable(c, &c->host.ip[f], f, err) < 0)
			return -1;
		if (!hg_ip_equal(&c->targets.ip[f], &c->host.ip[f]) && ensure_routable(c, &c->targets.ip[f], f, err) < 0)
			return -1;
	}
	return add_container_nat(c, err);
}

int hg_entries_build(const struct hg_config *c, const struct hg_host_addrs *targets, struct hg_entries *out)
{
	memset(out, 0, sizeof(*out));
	out->items = calloc(2 + c->n_extra_hosts * 2, sizeof(*out->items));
	out->storage = calloc(c->n_extra_hosts * 2 + 1, sizeof(char *));
	if (!out->items || !out->storage) {
		hg_entries_free(out);
		return -ENOMEM;
	}
	for (int f = 0; f < 2; f++)
		if (targets->ip[f].family && c->names[0]) {
			out->items[out->n].ip = targets->ip[f];
			out->items[out->n++].names = c->names;
		}
	for (size_t i = 0; i < c->n_extra_hosts; i++) {
		const struct hg_extra_host *h = &c->extra_hosts[i];
		/* storage[2i] is the name, storage[2i+1] the NULL that ends its one-name list. */
		out->storage[2 * i] = h->name;
		if (!h->host_gateway) {
			out->items[out->n].ip = h->ip;
			out->items[out->n++].names = &out->storage[2 * i];
			continue;
		}
		for (int f = 0; f < 2; f++)
			if (targets->ip[f].family) {
				out->items[out->n].ip = targets->ip[f];
				out->items[out->n++].names = &out->storage[2 * i];
			}
	}
	return 0;
}

int hg_entries_from_record(json_t *entries, struct hg_entries *out)
{
	size_t n = json_array_size(entries), total = 0, i;
	json_t *e;
	memset(out, 0, sizeof(*out));
	json_array_foreach (entries, i, e)
		total += json_array_size(json_object_get(e, "names")) + 1;
	out->items = calloc(n + 1, sizeof(*out->items));
	out->storage = calloc(total + 1, sizeof(char *));
	if (!out->items || !out->storage) {
		hg_entries_free(out);
		return -ENOMEM;
	}
	size_t slot = 0;
	json_array_foreach (entries, i, e) {
		size_t j;
		json_t *name;
		if (hg_ip_parse(json_string_value(json_object_get(e, "ip")), false, &out->items[out->n].ip) < 0)
			continue;
		out->items[out->n++].names = &out->storage[slot];
		json_array_foreach (json_object_get(e, "names"), j, name)
			if (json_is_string(name))
				out->storage[slot++] = (char *) json_string_value(name);
		out->storage[slot++] = NULL;
	}
	return 0;
}

int hg_names_write(const char *state_dir, const struct hg_entries *e, json_t *target, char **block,
		   struct hg_error *err)
{
	bool gone;
	char what[512];
	_cleanup_close_ int fd = hg_target_open(target, &gone, err);
	if (fd < 0)
		return -1;
	_cleanup_close_ int lock = hg_state_lock_file(state_dir, fd, err);
	if (lock < 0)
		return -1;
	return hg_hosts_apply_fd(fd, hg_target_describe(target, what, sizeof(what)), e->items, e->n, block, err);
}

void hg_entries_free(struct hg_entries *e)
{
	free(e->items);
	free(e->storage); /* the names themselves belong to the config */
	memset(e, 0, sizeof(*e));
}

static json_t *ip_array(const struct hg_host_addrs *a)
{
	json_t *arr = json_array();
	for (int f = 0; f < 2; f++)
		if (a->ip[f].family)
			json_array_append_new(arr, ip_json(&a->ip[f], false));
	return arr;
}

static json_t *new_record(const struct hg_attach_req *req, int nsfd)
{
	struct hg_netns_id id = {0};
	char key[300];
	hg_netns_identify(nsfd, &id);
	if (hg_attachment_key(req->network, req->container_id, req->ifname, key, sizeof(key)) < 0)
		return NULL;
	json_t *rec = json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:s, s:I, s:I}, s:[]}", "version", HG_RECORD_VERSION,
				"kind", req->kind, "containerID", req->container_id, "key", key, "stateDir",
				req->config->state_dir, "netns", "path", req->netns_path, "dev", (json_int_t) id.dev, "ino",
				(json_int_t) id.ino, "routes");
	if (rec && req->network)
		json_object_set_new(rec, "network", json_string(req->network));
	if (rec && req->ifname)
		json_object_set_new(rec, "ifname", json_string(req->ifname));
	return rec;
}

/* Host-side pieces, in the namespace the plugin runs in, serialised with other attachments.
 * They outlive the container's namespace, so they are planned and recorded (req->save)
 * before any is acquired: a plugin killed half-way (a runtime's timeout, the OOM killer)
 * leaves a record that DEL undoes. */
static int add_host_side(struct add_ctx *c, json_t *rec, struct hg_error *err)
{
	const struct hg_config *cfg = c->req->config;
	const char *key = json_string_value(json_object_get(rec, "key"));
	bool alias = cfg->host_alias && (c->targets.ip[0].family || c->targets.ip[1].family);
	struct hg_ip aliases[2];
	size_t n_aliases = 0;
	char iface[IF_NAMESIZE];
	json_t *elements = NULL;
	if (!alias && !cfg->n_host_loopback_ports)
		return 0;
	_cleanup_close_ int lock = hg_state_lock(cfg->state_dir, "host", err);
	if (lock < 0)
		return -1;
	if (alias) {
		json_t *list = json_array();
		json_object_set_new(rec, "alias", list);
		for (int f = 0; f < 2; f++) {
			if (!c->targets.ip[f].family || hg_ip_equal(&c->targets.ip[f], &c->host.ip[f]))
				continue;
			aliases[n_aliases++] = c->targets.ip[f];
			json_array_append_new(list, ip_json(&c->targets.ip[f], false));
		}
	}
	if (cfg->n_host_loopback_ports) {
		const struct hg_ip *container = NULL;
		for (size_t i = 0; i < c->cnet.n_addrs && !container; i++)
			if (c->cnet.addrs[i].family == AF_INET)
				container = &c->cnet.addrs[i];
		if (!container || !c->host.ip[0].family)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG,
					    "invalid configuration: key \"hostLoopbackPorts\": needs IPv4 on the container "
					    "and the host");
		if (hg_route_oif(container, iface, err) < 0)
			return -1;
		if (!hg_iface_name_safe(iface))
			return hg_error_set(err, HG_CNI_NFTABLES,
					    "hostLoopbackPorts: the host interface of this container, \"%.20s\", has characters "
					    "nftables rules cannot match safely",
					    iface);
		/* The address the packets carry when they reach the host: an alias stays as it is. */
		const struct hg_ip *wire = alias ? &c->targets.ip[0] : &c->host.ip[0];
		if (hg_nat_host_elements(iface, container, wire, cfg->host_loopback_ports, cfg->n_host_loopback_ports,
					 key, &elements, err) < 0)
			return -1;
		json_object_set_new(rec, "hostLoopback", json_pack("{s:s, s:o}", "iface", iface, "elements", elements));
	}
	if (c->req->save && c->req->save(c->req->save_ctx, rec, err) < 0)
		return -1;
	for (size_t i = 0; i < n_aliases; i++)
		if (hg_alias_acquire(cfg->state_dir, &aliases[i], key, err) < 0)
			return -1;
	if (elements && hg_loopback_acquire(cfg->state_dir, iface, elements, key, err) < 0)
		return -1;
	return 0;
}

int hg_attach_add(const struct hg_attach_req *req, json_t **record, struct hg_error *err)
{
	struct add_ctx c = {.req = req, .cnet = req->cnet};
	bool need_netns;
	*record = NULL;

	_cleanup_close_ int nsfd = req->netns_fd > 0 ? fcntl(req->netns_fd, F_DUPFD_CLOEXEC, 3)
						     : hg_netns_open(req->netns_path, NULL, err);
	if (nsfd < 0)
		return req->netns_fd > 0 ? hg_error_errno(err, HG_CNI_NETNS, errno, "dup netns fd") : -1;
	json_auto_t *rec = new_record(req, nsfd);
	if (!rec)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	c.rec = rec;
	c.routes = json_object_get(rec, "routes");

	/* The node's gateway is read here, before entering the container's namespace. */
	if (!req->discover)
		hg_hostaddr_needs(req->config, &c.cnet, &need_netns, &c.need_node);
	else
		c.need_node = true;
	for (size_t i = 0; i < req->config->n_host_ips && c.need_node; i++)
		if (req->config->host_ips[i].kind == HG_HOSTIP_NODE_GATEWAY) {
			if (hg_route_default_gateways(c.node_gw, err) < 0)
				return hg_error_prefix(err, "read the node's default route");
			break;
		}

	if (hg_netns_run(nsfd, add_in_netns, &c, err) < 0 || add_host_side(&c, rec, err) < 0) {
		hg_attach_undo(rec, NULL, req->log);
		return -1;
	}
	json_t *addrs = json_array();
	for (size_t i = 0; i < c.cnet.n_addrs; i++)
		json_array_append_new(addrs, ip_json(&c.cnet.addrs[i], true));
	json_object_set_new(rec, "containerIPs", addrs);
	json_object_set_new(rec, "hostIPs", ip_array(&c.host));
	json_object_set_new(rec, "targets", ip_array(&c.targets));

	struct hg_entries entries;
	if (hg_entries_build(req->config, &c.targets, &entries) < 0) {
		hg_attach_undo(rec, NULL, req->log);
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	json_t *lines = json_array();
	for (size_t i = 0; i < entries.n; i++) {
		char a[HG_IP_STRLEN];
		json_t *names = json_array();
		for (size_t j = 0; entries.items[i].names[j]; j++)
			json_array_append_new(names, json_string(entries.items[i].names[j]));
		json_array_append_new(lines, json_pack("{s:s, s:o}", "ip", hg_ip_str(&entries.items[i].ip, a),
						       "names", names));
	}
	json_object_set_new(rec, "entries", lines);

	if (req->hosts_target) {
		_cleanup_free_ char *block = NULL;
		struct hg_error herr = {0};
		if (hg_names_write(req->config->state_dir, &entries, req->hosts_target, &block, &herr) == 0) {
			json_t *t = json_deep_copy(req->hosts_target);
			json_object_set_new(t, "block", json_string(block));
			json_object_set_new(rec, "hosts", t);
		} else if (herr.errnum == ENOENT || herr.errnum == EROFS || herr.errnum == EXDEV) {
			/* An image without /etc/hosts, or a read-only root: the container's own choice,
			 * not a reason to refuse it; or (EXDEV) a root that is this machine's. The names
			 * stay recorded for the hook. */
			hg_logf(req->log, "%s; names not written, recorded only", herr.msg);
		} else {
			*err = herr;
			hg_entries_free(&entries);
			hg_attach_undo(rec, NULL, req->log);
			return -1;
		}
	}
	hg_entries_free(&entries);
	*record = TAKE_PTR(rec);
	return 0;
}

/* Opens the record's netns, but only if it is still the same namespace. */
static int open_record_netns(json_t *record, const char *hint, bool *gone, struct hg_error *err)
{
	json_t *ns = json_object_get(record, "netns");
	const char *paths[2] = {hint, json_string_value(json_object_get(ns, "path"))};
	*gone = true;
	for (int i = 0; i < 2; i++) {
		struct hg_netns_id id;
		if (!paths[i] || !paths[i][0])
			continue;
		int fd = hg_netns_open(paths[i], NULL, NULL);
		if (fd < 0)
			continue;
		/* Inode numbers of namespaces are reused, cookies are not: a record whose DEL was
		 * lost must not undo anything in a new namespace that got the same inode. */
		bool cookie = json_object_get(ns, "cookie") != NULL;
		if ((cookie ? hg_netns_identify_full(fd, &id) : hg_netns_identify(fd, &id)) == 0 &&
		    hg_state_record_has_netns(record, &id)) {
			*gone = false;
			return fd;
		}
		close(fd);
	}
	return hg_error_set(err, HG_CNI_NETNS, "the container's network namespace is gone");
}

bool hg_attach_netns_alive(json_t *record)
{
	bool gone;
	_cleanup_close_ int fd = open_record_netns(record, NULL, &gone, NULL);
	return fd >= 0;
}

struct netns_ctx {
	json_t *record;
	const struct hg_log *log;
};

static int parse_route(json_t *r, struct hg_ip *dst, struct hg_ip *via, int *ifindex)
{
	if (ip_from_json(json_object_get(r, "dst"), dst) < 0)
		return -1;
	if (json_object_get(r, "via") && ip_from_json(json_object_get(r, "via"), via) < 0)
		return -1;
	*ifindex = (int) json_integer_value(json_object_get(r, "ifindex"));
	return 0;
}

static int undo_in_netns(void *ctx, struct hg_error *unused)
{
	struct netns_ctx *c = ctx;
	struct hg_error e = {0};
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(c->record, "routes"), i, r) {
		struct hg_ip dst, via = {0};
		int ifindex;
		if (parse_route(r, &dst, &via, &ifindex) == 0 && hg_route_del_host(&dst, &via, ifindex, &e) < 0)
			hg_logf(c->log, "%s, ignoring", e.msg);
	}
	if (json_is_true(json_object_get(c->record, "containerTable")) &&
	    hg_nft_run(hg_nat_container_delete_text(), &e) < 0)
		hg_logf(c->log, "%s, ignoring", e.msg);
	json_t *localnet = json_object_get(c->record, "routeLocalnet");
	if (localnet) {
		char path[128];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet",
			 json_string_value(json_object_get(localnet, "iface")));
		const char *old = json_string_value(json_object_get(localnet, "old"));
		if (old && access(path, F_OK) == 0 && hg_sysctl_write(path, old, NULL, 0, &e) < 0)
			hg_logf(c->log, "%s, ignoring", e.msg);
	}
	return 0;
}

static void undo_host_side(json_t *record, const struct hg_log *log)
{
	const char *state_dir = json_string_value(json_object_get(record, "stateDir"));
	const char *key = json_string_value(json_object_get(record, "key"));
	json_t *alias = json_object_get(record, "alias");
	json_t *loopback = json_object_get(record, "hostLoopback");
	struct hg_error err = {0};
	if ((!alias && !loopback) || !state_dir || !key)
		return;
	_cleanup_close_ int lock = hg_state_lock(state_dir, "host", &err);
	if (lock < 0) {
		hg_logf(log, "%s, host rules left in place", err.msg);
		return;
	}
	size_t i;
	json_t *a;
	json_array_foreach (alias, i, a) {
		struct hg_ip ip;
		if (ip_from_json(a, &ip) == 0)
			hg_alias_release(state_dir, &ip, key, log);
	}
	if (loopback)
		hg_loopback_release(state_dir, json_string_value(json_object_get(loopback, "iface")),
				    json_object_get(loopback, "elements"), key, log);
}

void hg_attach_undo(json_t *record, const char *netns_hint, const struct hg_log *log)
{
	struct hg_error err = {0};
	bool gone;
	_cleanup_close_ int nsfd = open_record_netns(record, netns_hint, &gone, &err);
	struct netns_ctx c = {.record = record, .log = log};
	/* A namespace that is gone took its routes, table and sysctls with it. */
	if (nsfd >= 0)
		hg_netns_run(nsfd, undo_in_netns, &c, &err);
	undo_host_side(record, log);
	json_t *hosts = json_object_get(record, "hosts");
	if (hosts) {
		char what[512];
		const char *state_dir = json_string_value(json_object_get(record, "stateDir"));
		_cleanup_close_ int fd = hg_target_open(hosts, &gone, &err);
		/* (A record without stateDir is damaged; its block still goes, unserialised.) */
		_cleanup_close_ int lock = fd >= 0 && state_dir ? hg_state_lock_file(state_dir, fd, &err) : -1;
		if (fd >= 0 && (lock >= 0 || !state_dir)) {
			if (hg_hosts_remove_fd(fd, hg_target_describe(hosts, what, sizeof(what)), &err) < 0)
				hg_logf(log, "%s, ignoring", err.msg);
		} else if (!gone) {
			hg_logf(log, "%s, ignoring", err.msg);
		}
	}
}

static int check_in_netns(void *ctx, struct hg_error *err)
{
	struct netns_ctx *c = ctx;
	size_t i;
	json_t *r;
	json_array_foreach (json_object_get(c->record, "routes"), i, r) {
		struct hg_ip dst, via = {0};
		int ifindex;
		if (parse_route(r, &dst, &via, &ifindex) < 0)
			return hg_error_set(err, HG_CNI_STATE, "damaged route in the state record");
		int has = hg_route_has_host(&dst, &via, ifindex, err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the route to %s that host-gateway added is missing",
					    json_string_value(json_object_get(r, "dst")));
	}
	if (json_is_true(json_object_get(c->record, "containerTable"))) {
		json_auto_t *table = NULL;
		if (hg_nft_list_json("list table inet " HG_NFT_TABLE, &table, err) < 0)
			return -1;
		if (!table)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the nftables table inet %s in the container is missing",
					    HG_NFT_TABLE);
	}
	return 0;
}

static int check_host_side(json_t *record, struct hg_error *err)
{
	const char *key = json_string_value(json_object_get(record, "key"));
	json_t *loopback = json_object_get(record, "hostLoopback");
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(record, "alias"), i, a) {
		struct hg_ip ip;
		if (ip_from_json(a, &ip) < 0)
			return hg_error_set(err, HG_CNI_STATE, "damaged alias in the state record");
		int has = hg_lo_has_address(&ip, err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the alias %s on the host's lo is missing",
					    json_string_value(a));
	}
	if (loopback) {
		int has = hg_loopback_present(json_string_value(json_object_get(loopback, "iface")),
					      json_object_get(loopback, "elements"), key, err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host rules for hostLoopbackPorts are missing");
	}
	return 0;
}

int hg_attach_check(json_t *record, struct hg_error *err)
{
	bool gone;
	_cleanup_close_ int nsfd = open_record_netns(record, NULL, &gone, err);
	struct netns_ctx c = {.record = record};
	if (nsfd < 0)
		return -1;
	if (hg_netns_run(nsfd, check_in_netns, &c, err) < 0 || check_host_side(record, err) < 0)
		return -1;
	json_t *hosts = json_object_get(record, "hosts");
	if (hosts) {
		char what[512];
		_cleanup_free_ char *block = NULL;
		const char *state_dir = json_string_value(json_object_get(record, "stateDir"));
		_cleanup_close_ int fd = hg_target_open(hosts, &gone, err);
		if (fd < 0)
			return -1;
		/* Not torn by a writer rewriting the file in place. */
		_cleanup_close_ int lock = state_dir ? hg_state_lock_file(state_dir, fd, err) : -1;
		if (lock < 0)
			return state_dir ? -1 : hg_error_set(err, HG_CNI_STATE, "damaged state record: no stateDir");
		hg_target_describe(hosts, what, sizeof(what));
		int r = hg_hosts_read_block_fd(fd, what, &block, err);
		if (r < 0)
			return -1;
		const char *want = json_string_value(json_object_get(hosts, "block"));
		if (want && want[0] && r == 0)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host-gateway block is missing from %s", what);
		if (want && strcmp(want, block ? block : "") != 0)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host-gateway block in %s was altered", what);
	}
	return 0;
}
