/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include "base/hostaddr.h"

bool hg_container_has_family(const struct hg_container_net *cn, int family)
{
	for (size_t i = 0; i < cn->n_addrs; i++)
		if (cn->addrs[i].family == family)
			return true;
	return false;
}

static const int families[2] = {AF_INET, AF_INET6};

void hg_hostaddr_needs(const struct hg_config *c, const struct hg_container_net *cn, bool *netns_routes,
		       bool *node_routes)
{
	*netns_routes = *node_routes = false;
	for (int f = 0; f < 2; f++) {
		if (!hg_container_has_family(cn, families[f]))
			continue;
		for (size_t i = 0; i < c->n_host_ips; i++) {
			const struct hg_hostip_spec *s = &c->host_ips[i];
			if (s->kind == HG_HOSTIP_LITERAL && s->ip.family == families[f])
				break;
			if (s->kind == HG_HOSTIP_AUTO) {
				if (!cn->gateways[f].family)
					*netns_routes = true;
				/* Asked for, but it may still come up empty: later entries may be needed. */
				if (cn->gateways[f].family)
					break;
			}
			if (s->kind == HG_HOSTIP_NODE_GATEWAY)
				*node_routes = true;
		}
	}
}

void hg_hostaddr_choose(const struct hg_config *c, const struct hg_container_net *cn,
			const struct hg_gateway *netns_gw, const struct hg_gateway *node_gw, struct hg_host_addrs *out)
{
	memset(out, 0, sizeof(*out));
	for (int f = 0; f < 2; f++) {
		if (!hg_container_has_family(cn, families[f]))
			continue;
		for (size_t i = 0; i < c->n_host_ips && !out->ip[f].family; i++) {
			const struct hg_hostip_spec *s = &c->host_ips[i];
			switch (s->kind) {
			case HG_HOSTIP_AUTO:
				if (cn->gateways[f].family == families[f])
					out->ip[f] = cn->gateways[f];
				else if (netns_gw && netns_gw[f].ip.family == families[f])
					out->ip[f] = netns_gw[f].ip;
				break;
			case HG_HOSTIP_NODE_GATEWAY:
				if (node_gw && node_gw[f].ip.family == families[f])
					out->ip[f] = node_gw[f].ip;
				break;
			case HG_HOSTIP_LITERAL:
				if (s->ip.family == families[f])
					out->ip[f] = s->ip;
				break;
			}
		}
		if (out->ip[f].family)
			out->ip[f].prefix = families[f] == AF_INET ? 32 : 128;
	}
}

void hg_hostaddr_targets(const struct hg_config *c, const struct hg_container_net *cn,
			 const struct hg_host_addrs *host, struct hg_host_addrs *out)
{
	memset(out, 0, sizeof(*out));
	for (int f = 0; f < 2; f++) {
		if (!hg_container_has_family(cn, families[f]) || !host->ip[f].family)
			continue;
		out->ip[f] = host->ip[f];
		for (size_t i = 0; i < c->n_virtual_ips; i++)
			if (c->virtual_ips[i].family == families[f])
				out->ip[f] = c->virtual_ips[i];
	}
}
