/* SPDX-License-Identifier: Apache-2.0 */
/* Routes and addresses of the CURRENT network namespace, through libnl. Every function
 * opens its own netlink socket, so calling it after setns() acts inside the container. */
#pragma once

#include <stdbool.h>
#include "base/ip.h"
#include "base/error.h"

/* The default-route gateways of the main table: [0] IPv4, [1] IPv6. */
int hg_route_default_gateways(struct hg_gateway gw[2], struct hg_error *err);
/* Would the kernel route a packet to dst (unicast or local route)? 1 yes, 0 no. */
int hg_route_reachable(const struct hg_ip *dst, struct hg_error *err);
/* A host route dst/32 (/128) via gw (family 0: directly on the link) out of ifindex. */
int hg_route_add_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err);
/* Removes it; 0 when it was already gone. */
int hg_route_del_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err);
/* 1 when the main table has exactly that host route, 0 when not. */
int hg_route_has_host(const struct hg_ip *dst, const struct hg_ip *gw, int ifindex, struct hg_error *err);
/* Global addresses on every interface but lo, with their prefix. */
int hg_addresses(struct hg_ip *out, size_t max, size_t *n, struct hg_error *err);
/* Adds or removes addr/32 (/128) on lo; adding an existing one and removing a missing one are no-ops. */
int hg_lo_address(const struct hg_ip *addr, bool add, struct hg_error *err);
int hg_lo_has_address(const struct hg_ip *addr, struct hg_error *err);
/* The name of the interface the kernel would send a packet to dst out of. */
int hg_route_oif(const struct hg_ip *dst, char ifname[16], struct hg_error *err);
/* The index of ifindex's peer (a veth's other end, in its namespace); 0 when none. */
int hg_link_peer(int ifindex, int *peer, struct hg_error *err);
/* The bridge ifname is a port of ("" when none), in the current namespace. */
int hg_link_master(const char *ifname, char master[16], struct hg_error *err);
