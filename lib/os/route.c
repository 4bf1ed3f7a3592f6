/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include "os/route.h"
#include "base/util.h"

static void nl_socket_freep(struct nl_sock **s) { if (*s) nl_socket_free(*s); }
static void nl_cache_freep(struct nl_cache **c) { if (*c) nl_cache_free(*c); }
static void nl_addr_putp(struct nl_addr **a) { if (*a) nl_addr_put(*a); }
static void rtnl_route_putp(struct rtnl_route **r) { if (*r) rtnl_route_put(*r); }
static void rtnl_addr_putp(struct rtnl_addr **a) { if (*a) rtnl_addr_put(*a); }
#define _cleanup_nlsock_ __attribute__((cleanup(nl_socket_freep)))
#define _cleanup_nlcache_ __attribute__((cleanup(nl_cache_freep)))
#define _cleanup_nladdr_ __attribute__((cleanup(nl_addr_putp)))
#define _cleanup_route_ __attribute__((cleanup(rtnl_route_putp)))
#define _cleanup_rtaddr_ __attribute__((cleanup(rtnl_addr_putp)))

static int nl_fail(struct hg_error *err, int nlerr, const char *what)
{
	return hg_error_set(err, HG_CNI_NETLINK, "%s: %s", what, nl_geterror(nlerr));
}

static struct nl_sock *rtnl_socket(struct hg_error *err)
{
	struct nl_sock *s = nl_socket_alloc();
	if (!s) {
		hg_error_oom(err);
		return NULL;
	}
	int r = nl_connect(s, NETLINK_ROUTE);
	if (r < 0) {
		nl_fail(err, r, "connect to rtnetlink");
		nl_socket_free(s);
		return NULL;
	}
	return s;
}

static struct nl_addr *to_nl(const struct hg_ip *ip, unsigned prefix)
{
	struct nl_addr *a = nl_addr_build(ip->family, ip->bytes, hg_ip_len(ip->family));
	if (a)
		nl_addr_set_prefixlen(a, prefix);
	return a;
}

static void from_nl(struct nl_addr *a, struct hg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	int family = nl_addr_get_family(a);
	if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(a) != hg_ip_len(family))
		return;
	ip->family = family;
	ip->prefix = nl_addr_get_prefixlen(a);
	memcpy(ip->bytes, nl_addr_get_binary_addr(a), hg_ip_len(family));
}

int hg_route_default_gateways(struct hg_gateway gw[2], struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_nlcache_ struct nl_cache *cache = NULL;
	memset(gw, 0, 2 * sizeof(*gw));
	if (!s)
		return -1;
	int r = rtnl_route_alloc_cache(s, AF_UNSPEC, 0, &cache);
	if (r < 0)
		return nl_fail(err, r, "list routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *route = (struct rtnl_route *) o;
		struct nl_addr *dst = rtnl_route_get_dst(route);
		if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST ||
		    (dst && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(route) < 1)
			continue;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
		struct nl_addr *via = rtnl_route_nh_get_gateway(nh);
		if (!via)
			continue;
		struct hg_ip ip;
		from_nl(via, &ip);
		int slot = ip.family == AF_INET ? 0 : ip.family == AF_INET6 ? 1 : -1;
		if (slot < 0 || gw[slot].ip.family)
			continue;
		ip.prefix = ip.family == AF_INET ? 32 : 128;
		gw[slot].ip = ip;
		gw[slot].ifindex = rtnl_route_nh_get_ifindex(nh);
	}
	return 0;
}

int hg_route_reachable(const struct hg_ip *dst, struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_nladdr_ struct nl_addr *a = to_nl(dst, hg_ip_len(dst->family) * 8);
	_cleanup_route_ struct rtnl_route *result = NULL;
	if (!s)
		return -1;
	if (!a)
		return hg_error_oom(err);
	int r = rtnl_route_lookup(s, a, &result);
	if (r < 0)
		return 0; /* ENETUNREACH and friends: no route */
	int type = rtnl_route_get_type(result);
	return type == RTN_UNICAST || type == RTN_LOCAL;
}

static struct rtnl_route *host_route(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex)
{
	_cleanup_route_ struct rtnl_route *route = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *d = to_nl(dst, hg_ip_len(dst->family) * 8);
	if (!route || !d)
		return NULL;
	rtnl_route_set_family(route, dst->family);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_type(route, RTN_UNICAST);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_scope(route, gw && gw->family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	if (rtnl_route_set_dst(route, d) < 0)
		return NULL;
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	if (!nh)
		return NULL;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (gw && gw->family) {
		_cleanup_nladdr_ struct nl_addr *g = to_nl(gw, hg_ip_len(gw->family) * 8);
		if (!g) {
			rtnl_route_nh_free(nh);
			return NULL;
		}
		rtnl_route_nh_set_gateway(nh, g);
	}
	rtnl_route_add_nexthop(route, nh);
	return TAKE_PTR(route);
}

/* Adds (replacing) or deletes the host route; deleting a missing one is not an error. */
static int change_host_route(bool add, const struct hg_ip *dst, const struct hg_ip *gw, int ifindex,
			     struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_route_ struct rtnl_route *route = host_route(dst, gw, ifindex);
	char a[HG_IP_STRLEN];
	if (!s)
		return -1;
	if (!route)
		return hg_error_oom(err);
	int r = add ? rtnl_route_add(s, route, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_route_delete(s, route, 0);
	if (r < 0 && (add || (r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)))
		return hg_error_set(err, HG_CNI_NETLINK, "%s route to %s: %s", add ? "add" : "delete", hg_ip_str(dst, a),
				    nl_geterror(r));
	return 0;
}

int hg_route_add_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err)
{
	return change_host_route(true, dst, gw, ifindex, err);
}

int hg_route_del_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err)
{
	return change_host_route(false, dst, gw, ifindex, err);
}

int hg_route_has_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_nlcache_ struct nl_cache *cache = NULL;
	if (!s)
		return -1;
	int r = rtnl_route_alloc_cache(s, dst->family, 0, &cache);
	if (r < 0)
		return nl_fail(err, r, "list routes");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *route = (struct rtnl_route *) o;
		struct nl_addr *d = rtnl_route_get_dst(route);
		struct hg_ip ip;
		if (!d || rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(route) < 1)
			continue;
		from_nl(d, &ip);
		if (!hg_ip_equal(&ip, dst) || ip.prefix != hg_ip_len(dst->family) * 8)
			continue;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
		if (rtnl_route_nh_get_ifindex(nh) != ifindex)
			continue;
		struct nl_addr *via = rtnl_route_nh_get_gateway(nh);
		if (gw && gw->family) {
			if (!via)
				continue;
			from_nl(via, &ip);
			if (!hg_ip_equal(&ip, gw))
				continue;
		}
		return 1;
	}
	return 0;
}

/* Every address of the current namespace: a cache of libnl's, for the caller to free. */
static int address_cache(struct nl_cache **cache, struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	*cache = NULL;
	if (!s)
		return -1;
	int r = rtnl_addr_alloc_cache(s, cache);
	if (r < 0)
		return nl_fail(err, r, "list addresses");
	return 0;
}

int hg_addresses(struct hg_ip *out, size_t max, size_t *n, struct hg_error *err)
{
	_cleanup_nlcache_ struct nl_cache *cache = NULL;
	*n = 0;
	if (address_cache(&cache, err) < 0)
		return -1;
	unsigned lo = if_nametoindex("lo");
	for (struct nl_object *o = nl_cache_get_first(cache); o && *n < max; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *) o;
		if ((unsigned) rtnl_addr_get_ifindex(a) == lo || rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
			continue;
		struct nl_addr *local = rtnl_addr_get_local(a);
		if (!local)
			continue;
		from_nl(local, &out[*n]);
		if (out[*n].family)
			(*n)++;
	}
	return 0;
}

static struct rtnl_addr *lo_addr(const struct hg_ip *addr)
{
	_cleanup_rtaddr_ struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = to_nl(addr, hg_ip_len(addr->family) * 8);
	unsigned lo = if_nametoindex("lo");
	if (!a || !local || !lo)
		return NULL;
	rtnl_addr_set_ifindex(a, lo);
	rtnl_addr_set_family(a, addr->family);
	if (rtnl_addr_set_local(a, local) < 0)
		return NULL;
	rtnl_addr_set_prefixlen(a, hg_ip_len(addr->family) * 8);
	rtnl_addr_set_scope(a, RT_SCOPE_UNIVERSE);
	return TAKE_PTR(a);
}

int hg_lo_address(const struct hg_ip *addr, bool add, struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_rtaddr_ struct rtnl_addr *a = lo_addr(addr);
	char buf[HG_IP_STRLEN];
	if (!s)
		return -1;
	if (!a)
		return hg_error_oom(err);
	int r = add ? rtnl_addr_add(s, a, NLM_F_CREATE | NLM_F_REPLACE) : rtnl_addr_delete(s, a, 0);
	if (r < 0 && !(add && r == -NLE_EXIST) &&
	    !(!add && (r == -NLE_OBJ_NOTFOUND || r == -NLE_NOADDR || r == -NLE_NODEV)))
		return hg_error_set(err, HG_CNI_NETLINK, "%s %s on lo: %s", add ? "add" : "remove",
				    hg_ip_cidr(addr, buf), nl_geterror(r));
	return 0;
}

int hg_lo_has_address(const struct hg_ip *addr, struct hg_error *err)
{
	_cleanup_nlcache_ struct nl_cache *cache = NULL;
	if (address_cache(&cache, err) < 0)
		return -1;
	unsigned lo = if_nametoindex("lo");
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *) o;
		struct hg_ip ip;
		if ((unsigned) rtnl_addr_get_ifindex(a) != lo || !rtnl_addr_get_local(a))
			continue;
		from_nl(rtnl_addr_get_local(a), &ip);
		if (hg_ip_equal(&ip, addr))
			return 1;
	}
	return 0;
}

int hg_route_oif(const struct hg_ip *dst, char ifname[16], struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_nladdr_ struct nl_addr *a = to_nl(dst, hg_ip_len(dst->family) * 8);
	_cleanup_route_ struct rtnl_route *result = NULL;
	char buf[HG_IP_STRLEN];
	if (!s)
		return -1;
	if (!a)
		return hg_error_oom(err);
	int r = rtnl_route_lookup(s, a, &result);
	if (r < 0 || rtnl_route_get_nnexthops(result) < 1)
		return hg_error_set(err, HG_CNI_NETLINK, "no route to the container address %s on the host",
				    hg_ip_str(dst, buf));
	int ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(result, 0));
	if (!if_indextoname(ifindex, ifname))
		return hg_error_errno(err, HG_CNI_NETLINK, errno, "name of interface %d", ifindex);
	return 0;
}

static void rtnl_link_putp(struct rtnl_link **l) { if (*l) rtnl_link_put(*l); }
#define _cleanup_link_ __attribute__((cleanup(rtnl_link_putp)))

int hg_link_peer(int ifindex, int *peer, struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_link_ struct rtnl_link *link = NULL;
	*peer = 0;
	if (!s)
		return -1;
	int r = rtnl_link_get_kernel(s, ifindex, NULL, &link);
	if (r < 0)
		return nl_fail(err, r, "read the container's interface");
	/* IFLA_LINK of a veth: its peer's index, in the peer's namespace. */
	*peer = rtnl_link_get_link(link);
	return 0;
}

int hg_link_master(const char *ifname, char master[16], struct hg_error *err)
{
	_cleanup_nlsock_ struct nl_sock *s = rtnl_socket(err);
	_cleanup_link_ struct rtnl_link *link = NULL;
	master[0] = '\0';
	if (!s)
		return -1;
	int r = rtnl_link_get_kernel(s, 0, ifname, &link);
	if (r < 0)
		return nl_fail(err, r, "read a host interface");
	int m = rtnl_link_get_master(link);
	if (m > 0 && !if_indextoname(m, master))
		master[0] = '\0';
	return 0;
}
