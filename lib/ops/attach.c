/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <net/if.h>
#include <fcntl.h>
#include "ops/attach.h"
#include "base/key.h"
#include "ops/record.h"
#include "ops/hostside.h"
#include "base/nat.h"
#include "os/nft.h"
#include "ops/state.h"
#include "os/hosts.h"
#include "ops/names.h"
#include "os/netns.h"
#include "os/sysctl.h"
#include "os/route.h"
#include "os/target.h"
#include "base/util.h"

struct add_ctx {
	const struct hg_attach_req *req;
	struct hg_container_net cnet;
	struct hg_gateway node_gw[2];
	bool need_node;
	struct hg_gateway netns_gw[2];
	struct hg_host_addrs host, targets;
	int ifindex;
	struct hg_record *rec; /* the record, filled as steps are done, for the undo */
	int peer_ifindex;      /* the host end of the container's veth (hostLoopbackPorts) */
};

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
	if (c->rec->n_routes == HG_RECORD_MAX_ROUTES)
		return hg_error_set(err, HG_CNI_NETLINK, "more than %d host routes", HG_RECORD_MAX_ROUTES);
	/* Recorded first: a route added by a process killed before its record is written goes
	 * with the namespace, but one recorded and not added only costs the undo a lookup. */
	struct hg_record_route *rt = &c->rec->routes[c->rec->n_routes++];
	*rt = (struct hg_record_route){.dst = *dst, .ifindex = ifindex};
	if (gw)
		rt->via = *gw;
	return hg_route_add_host(dst, gw, ifindex, err);
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
	c->rec->container_table = true;
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
		c->rec->route_localnet = true;
		snprintf(c->rec->localnet_iface, sizeof(c->rec->localnet_iface), "%s", ifname);
		snprintf(c->rec->localnet_old, sizeof(c->rec->localnet_old), "%s", old);
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
	c->rec->netns.cookie = hg_netns_cookie();
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
	int ifindex = c->ifindex ? c->ifindex : c->netns_gw[0].ifindex;
	if (cfg->n_host_loopback_ports && ifindex && hg_link_peer(ifindex, &c->peer_ifindex, err) < 0)
		return -1;
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
		return -1;
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

int hg_entries_from_record(const struct hg_record *r, struct hg_entries *out)
{
	memset(out, 0, sizeof(*out));
	out->items = calloc(r->n_entries + 1, sizeof(*out->items));
	if (!out->items)
		return -1;
	for (size_t i = 0; i < r->n_entries; i++)
		out->items[out->n++] = (struct hg_hosts_entry){.ip = r->entries[i].ip, .names = r->entries[i].names};
	return 0;
}

void hg_entries_free(struct hg_entries *e)
{
	free(e->items);
	free(e->storage); /* the names themselves belong to the config */
	memset(e, 0, sizeof(*e));
}

static int new_record(const struct hg_attach_req *req, int nsfd, struct hg_record *r, struct hg_error *err)
{
	struct hg_netns_id id = {0};
	char key[HG_KEY_MAX];
	hg_record_init(r);
	hg_netns_identify(nsfd, &id);
	if (hg_key_attachment(req->network, req->container_id, req->ifname, key, sizeof(key)) < 0)
		return hg_error_set(err, HG_CNI_IO, "attachment key too long");
	r->kind = req->kind;
	r->netns.dev = id.dev;
	r->netns.ino = id.ino;
	if (!(r->container_id = strdup(req->container_id)) || !(r->key = strdup(key)) ||
	    !(r->state_dir = strdup(req->config->state_dir)) || !(r->netns.path = strdup(req->netns_path)) ||
	    (req->network && !(r->network = strdup(req->network))) || (req->ifname && !(r->ifname = strdup(req->ifname))))
		return hg_error_oom(err);
	return 0;
}

/* Host-side pieces, in the namespace the plugin runs in, serialised with other attachments.
 * They outlive the container's namespace, so they are planned and recorded (req->save)
 * before any is acquired: a plugin killed half-way (a runtime's timeout, the OOM killer)
 * leaves a record that DEL undoes. */
static int add_host_side(struct add_ctx *c, struct hg_record *rec, struct hg_error *err)
{
	const struct hg_config *cfg = c->req->config;
	const char *key = rec->key;
	bool alias = cfg->host_alias && (c->targets.ip[0].family || c->targets.ip[1].family);
	char iface[IF_NAMESIZE];
	if (!alias && !cfg->n_host_loopback_ports)
		return 0;
	/* The host's resources are the machine's: their users and lock live in one place
	 * (hg_hosts_lock_dir) whatever stateDir a configuration names, so that attachments
	 * of two configurations never take a shared resource from each other. */
	const char *host_dir = hg_hosts_lock_dir;
	if (hg_state_check_dir(host_dir, err) < 0)
		return -1;
	_cleanup_close_ int lock = hg_state_lock(host_dir, "host", err);
	if (lock < 0)
		return -1;
	for (int f = 0; alias && f < 2; f++)
		if (c->targets.ip[f].family && !hg_ip_equal(&c->targets.ip[f], &c->host.ip[f]))
			rec->aliases[rec->n_aliases++] = c->targets.ip[f];
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
		if (!hg_key_iface_safe(iface))
			return hg_error_set(err, HG_CNI_NFTABLES,
					    "hostLoopbackPorts: the host interface of this container, \"%.20s\", has characters "
					    "nftables rules cannot match safely",
					    iface);
		/* The address the packets carry when they reach the host: an alias stays as it is. */
		const struct hg_ip *wire = alias ? &c->targets.ip[0] : &c->host.ip[0];
		if (hg_nat_host_elements(iface, container, wire, cfg->host_loopback_ports, cfg->n_host_loopback_ports,
					 key, &rec->loopback_elements, err) < 0)
			return -1;
		rec->host_loopback = true;
		snprintf(rec->loopback_iface, sizeof(rec->loopback_iface), "%s", iface);
		/* On a bridge, the grant is bound to the container's port (its veth's host end). */
		char port[IF_NAMESIZE], master[16];
		if (c->peer_ifindex > 0 && if_indextoname(c->peer_ifindex, port) &&
		    hg_link_master(port, master, err) == 0 && strcmp(master, iface) == 0) {
			snprintf(rec->loopback_port, sizeof(rec->loopback_port), "%s", port);
			rec->loopback_addr = *container;
		}
	}
	if (c->req->save && c->req->save(c->req->save_ctx, rec, err) < 0)
		return -1;
	for (size_t i = 0; i < rec->n_aliases; i++)
		if (hg_alias_acquire(host_dir, &rec->aliases[i], key, err) < 0)
			return -1;
	if (rec->host_loopback && hg_loopback_acquire(host_dir, iface, rec->loopback_elements, key,
						      rec->loopback_port, &rec->loopback_addr, err) < 0)
		return -1;
	return 0;
}

/* The names and what they were built from, then the hosts file. */
static int add_names(const struct hg_attach_req *req, struct add_ctx *c, struct hg_record *rec, struct hg_error *err)
{
	_cleanup_entries_ struct hg_entries entries = {0};
	memcpy(rec->container_ips, c->cnet.addrs, c->cnet.n_addrs * sizeof(c->cnet.addrs[0]));
	rec->n_container_ips = c->cnet.n_addrs;
	rec->host_ips = c->host;
	rec->targets = c->targets;
	if (hg_entries_build(req->config, &c->targets, &entries) < 0)
		return hg_error_oom(err);
	for (size_t i = 0; i < entries.n; i++)
		if (hg_record_add_entry(rec, &entries.items[i].ip, entries.items[i].names) < 0)
			return hg_error_oom(err);
	if (req->hosts_target) {
		_cleanup_free_ char *block = NULL;
		struct hg_error herr = {0};
		struct hg_names_owner owner = {.key = rec->key, .pid = req->hosts_target->pid,
					       .pid_start = req->hosts_target->pid_start};
		/* Recorded before it is written: DEL finds the block of an ADD killed half-way. */
		if (hg_target_copy(req->hosts_target, &rec->hosts) < 0)
			return hg_error_oom(err);
		rec->has_hosts = true;
		if (req->save && req->save(req->save_ctx, rec, err) < 0)
			return -1;
		struct hg_file_id written;
		if (hg_names_write(req->config->state_dir, &owner, entries.items, entries.n, req->hosts_target, &block,
				   &written, &herr) == 0) {
			rec->hosts_block = TAKE_PTR(block);
			rec->hosts_dev = written.dev;
			rec->hosts_ino = written.ino;
		} else if (herr.errnum == ENOENT || herr.errnum == EROFS || herr.errnum == EXDEV ||
			   herr.errnum == EWOULDBLOCK) {
			/* An image without /etc/hosts, or a read-only root: the container's own choice,
			 * not a reason to refuse it; (EXDEV) a root that is this machine's; or a lease
			 * a process of the container holds on the file. The names stay recorded for the
			 * hook. */
			hg_logf(req->log, "%s; names not written, recorded only", herr.msg);
			rec->has_hosts = false;
			hg_target_free(&rec->hosts);
		} else {
			*err = herr;
			return -1;
		}
	}
	return 0;
}

/* hg_attach_add without the free of *rec on failure, which its caller does once. */
static int attach_add(const struct hg_attach_req *req, struct hg_record *rec, struct hg_error *err)
{
	struct add_ctx c = {.req = req, .cnet = req->cnet, .rec = rec};
	bool need_netns;

	_cleanup_close_ int nsfd = req->netns_fd > 0 ? fcntl(req->netns_fd, F_DUPFD_CLOEXEC, 3)
						     : hg_netns_open(req->netns_path, NULL, err);
	if (nsfd < 0)
		return req->netns_fd > 0 ? hg_error_errno(err, HG_CNI_NETNS, errno, "dup netns fd") : -1;
	if (new_record(req, nsfd, rec, err) < 0)
		return -1;

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

	if (hg_netns_run(nsfd, add_in_netns, &c, err) < 0 || add_host_side(&c, rec, err) < 0 ||
	    add_names(req, &c, rec, err) < 0) {
		hg_attach_undo(rec, NULL, req->log);
		return -1;
	}
	return 0;
}

int hg_attach_add(const struct hg_attach_req *req, struct hg_record *rec, struct hg_error *err)
{
	hg_record_init(rec);
	if (attach_add(req, rec, err) < 0) {
		hg_record_free(rec);
		return -1;
	}
	return 0;
}

/* Opens the record's netns, but only if it is still the same namespace. */
static int open_record_netns(const struct hg_record *record, const char *hint, bool *gone, struct hg_error *err)
{
	const char *paths[2] = {hint, record->netns.path};
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
		if ((record->netns.cookie ? hg_netns_identify_full(fd, &id) : hg_netns_identify(fd, &id)) == 0 &&
		    hg_record_matches_netns(record, &id)) {
			*gone = false;
			return fd;
		}
		close(fd);
	}
	return hg_error_set(err, HG_CNI_NETNS, "the container's network namespace is gone");
}

bool hg_attach_netns_alive(const struct hg_record *record)
{
	bool gone;
	_cleanup_close_ int fd = open_record_netns(record, NULL, &gone, NULL);
	return fd >= 0;
}

const char *hg_attach_hosts_owner(const struct hg_record *r)
{
	return r->version >= 2 ? r->key : NULL; /* version 1 wrote one block without owner */
}

struct netns_ctx {
	const struct hg_record *record;
	const struct hg_log *log;
};

static int undo_in_netns(void *ctx, struct hg_error *unused)
{
	struct netns_ctx *c = ctx;
	const struct hg_record *r = c->record;
	struct hg_error e = {0};
	for (size_t i = 0; i < r->n_routes; i++)
		if (hg_route_del_host(&r->routes[i].dst, &r->routes[i].via, r->routes[i].ifindex, &e) < 0)
			hg_logf(c->log, "%s, ignoring", e.msg);
	if (r->container_table && hg_nft_run(hg_nat_container_delete_text(), &e) < 0)
		hg_logf(c->log, "%s, ignoring", e.msg);
	if (r->route_localnet) {
		char path[128];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", r->localnet_iface);
		if (access(path, F_OK) == 0 && hg_sysctl_write(path, r->localnet_old, NULL, 0, &e) < 0)
			hg_logf(c->log, "%s, ignoring", e.msg);
	}
	return 0;
}

static void undo_host_side(const struct hg_record *r, const struct hg_log *log)
{
	struct hg_error err = {0};
	if ((!r->n_aliases && !r->host_loopback) || !r->state_dir || !r->key)
		return;
	const char *host_dir = hg_hosts_lock_dir; /* see add_host_side */
	_cleanup_close_ int lock = hg_state_check_dir(host_dir, &err) < 0 ? -1 : hg_state_lock(host_dir, "host", &err);
	if (lock < 0) {
		hg_logf(log, "%s, host rules left in place", err.msg);
		return;
	}
	for (size_t i = 0; i < r->n_aliases; i++)
		hg_alias_release(host_dir, &r->aliases[i], r->key, log);
	if (r->host_loopback)
		hg_loopback_release(host_dir, r->loopback_iface, r->loopback_elements, r->key, r->loopback_port,
				    &r->loopback_addr, log);
}

void hg_attach_undo(const struct hg_record *record, const char *netns_hint, const struct hg_log *log)
{
	struct hg_error err = {0};
	bool gone;
	_cleanup_close_ int nsfd = open_record_netns(record, netns_hint, &gone, &err);
	struct netns_ctx c = {.record = record, .log = log};
	/* A namespace that is gone took its routes, table and sysctls with it. */
	if (nsfd >= 0)
		hg_netns_run(nsfd, undo_in_netns, &c, &err);
	undo_host_side(record, log);
	if (!record->has_hosts)
		return;
	const char *owner = hg_attach_hosts_owner(record);
	if (hg_names_remove(record->state_dir, owner, &record->hosts, &gone, &err) == 0)
		return;
	if (!gone)
		hg_logf(log, "%s, ignoring", err.msg);
	else if (owner && record->hosts_ino && hg_names_forget(record->state_dir, owner, record->hosts_dev,
							       record->hosts_ino, &err) < 0)
		hg_logf(log, "%s, ignoring", err.msg);
}

static int check_in_netns(void *ctx, struct hg_error *err)
{
	struct netns_ctx *c = ctx;
	const struct hg_record *r = c->record;
	for (size_t i = 0; i < r->n_routes; i++) {
		char a[HG_IP_STRLEN];
		int has = hg_route_has_host(&r->routes[i].dst, &r->routes[i].via, r->routes[i].ifindex, err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the route to %s that host-gateway added is missing",
					    hg_ip_str(&r->routes[i].dst, a));
	}
	if (r->container_table) {
		json_auto_t *table = NULL;
		if (hg_nft_list_json("list table inet " HG_NFT_TABLE, &table, err) < 0)
			return -1;
		if (!table)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the nftables table inet %s in the container is missing",
					    HG_NFT_TABLE);
	}
	return 0;
}

static int check_host_side(const struct hg_record *r, struct hg_error *err)
{
	for (size_t i = 0; i < r->n_aliases; i++) {
		char a[HG_IP_STRLEN];
		int has = hg_lo_has_address(&r->aliases[i], err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the alias %s on the host's lo is missing",
					    hg_ip_str(&r->aliases[i], a));
	}
	if (r->host_loopback) {
		int has = hg_loopback_present(r->loopback_iface, r->loopback_elements, r->key, err);
		if (has < 0)
			return -1;
		if (!has)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host rules for hostLoopbackPorts are missing");
	}
	return 0;
}

int hg_attach_check(const struct hg_record *record, struct hg_error *err)
{
	bool gone;
	_cleanup_close_ int nsfd = open_record_netns(record, NULL, &gone, err);
	struct netns_ctx c = {.record = record};
	if (nsfd < 0)
		return -1;
	if (hg_netns_run(nsfd, check_in_netns, &c, err) < 0 || check_host_side(record, err) < 0)
		return -1;
	if (record->has_hosts) {
		char what[512];
		_cleanup_free_ char *block = NULL, *rendered = NULL;
		hg_target_describe(&record->hosts, what, sizeof(what));
		int r = hg_names_read(record->state_dir, hg_attach_hosts_owner(record), &record->hosts, &block,
				      &rendered, err);
		if (r < 0)
			return -1;
		/* The block is every owner's: what the registry renders now, not what this ADD
		 * wrote, unless the registry has lost track of this owner. */
		const char *want = rendered ? rendered : record->hosts_block;
		if (want && want[0] && r == 0)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host-gateway block is missing from %s", what);
		if (want && strcmp(want, block ? block : "") != 0)
			return hg_error_set(err, HG_CNI_CHECK_FAILED, "the host-gateway block in %s was altered", what);
	}
	return 0;
}
