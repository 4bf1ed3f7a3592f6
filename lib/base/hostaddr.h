/* SPDX-License-Identifier: Apache-2.0 */
/* Where the host is, seen from one container: pure choice from what the caller looked up,
 * so that every rule of the choice is unit-tested without a kernel. */
#pragma once

#include <stdbool.h>
#include "base/config.h"
#include "base/ip.h"

#define HG_MAX_CONTAINER_ADDRS 16

struct hg_container_net {
	struct hg_ip addrs[HG_MAX_CONTAINER_ADDRS]; /* the container's own addresses, with prefix */
	size_t n_addrs;
	struct hg_ip gateways[2]; /* from prevResult: [0] IPv4, [1] IPv6; family 0 = unknown */
};

/* [0] IPv4, [1] IPv6; family 0 = none for that family. */
struct hg_host_addrs {
	struct hg_ip ip[2];
};

static inline int hg_family_slot(int family) { return family == AF_INET6 ? 1 : 0; }
bool hg_container_has_family(const struct hg_container_net *cn, int family);

/* Which lookups the choice needs, so that nothing is asked of the kernel in vain. */
void hg_hostaddr_needs(const struct hg_config *c, const struct hg_container_net *cn, bool *netns_routes,
		       bool *node_routes);
/* Per family the container has: the first entry of hostIPs that yields an address.
 * netns_gw / node_gw may be NULL when hg_hostaddr_needs said they are not needed. */
void hg_hostaddr_choose(const struct hg_config *c, const struct hg_container_net *cn,
			const struct hg_gateway *netns_gw, const struct hg_gateway *node_gw, struct hg_host_addrs *out);
/* The addresses names resolve to: the virtual IPs when configured, else the host addresses;
 * never a family the container lacks. */
void hg_hostaddr_targets(const struct hg_config *c, const struct hg_container_net *cn,
			 const struct hg_host_addrs *host, struct hg_host_addrs *out);
