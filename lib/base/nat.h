/* SPDX-License-Identifier: Apache-2.0 */
/* nftables rule sets, as text from one function per rule set (golden-tested), applied
 * through libnftables in one transaction each. Two rule sets exist:
 *   the container's: table inet host_gateway in the container netns (virtual IP DNAT,
 *     localhost ports DNAT + masquerade), replaced whole on every ADD;
 *   the host's: table inet host_gateway in the netns the plugin runs in, shared by every
 *     attachment: a map keyed by (interface, container address, host address, protocol,
 *     port) gives the host loopback port, so one lookup serves any number of containers,
 *     and a guard drops whatever else reaches 127.0.0.0/8 on those interfaces
 *     (CVE-2020-8558).
 * The functions that take no struct hg_error return -1 only when out of memory. */
#pragma once

#include <jansson.h>
#include "base/config.h"
#include "base/hostaddr.h"
#include "base/error.h"

#define HG_NFT_TABLE "host_gateway"
#define HG_NFT_MAX_ELEMENTS 4096 /* per attachment, after expanding port ranges */

struct hg_nat_plan {
	struct hg_host_addrs host;   /* where traffic goes */
	struct hg_host_addrs vip;    /* virtual IPs to DNAT (family 0: none) */
	const struct hg_port_map *localhost_ports;
	size_t n_localhost_ports;
};

/* The container's table, or NULL text when the plan needs no rule. */
int hg_nat_container_text(const struct hg_nat_plan *p, char **text, struct hg_error *err);
/* The text that removes the container's table if it exists. */
const char *hg_nat_container_delete_text(void);

/* One map element of the host table, e.g. "br0" . 10.0.0.2 . 10.0.0.1 . tcp . 5432 comment "k" : 5432 */
int hg_nat_host_elements(const char *iface, const struct hg_ip *container, const struct hg_ip *host,
			 const struct hg_port_map *ports, size_t n, const char *comment, char ***elements,
			 struct hg_error *err);
/* Removing the map elements alone, and the bridge port binding alone (the piece-by-piece
 * path when one of them is already gone). */
int hg_nat_host_del_text(char *const *elements, char **text);
int hg_nat_bridge_del_text(const char *port, const struct hg_ip *addr, char **text);
/* hostLoopbackPorts of one attachment in one transaction: the host table (skeleton,
 * guarded interface, map elements) and, with a bridge port, the bridge table binding a
 * granted container address to its bridge port (anti-spoof). */
int hg_nat_loopback_add_text(const char *iface, char *const *elements, const char *port, const struct hg_ip *addr,
			     const char *comment, char **text);
/* The same elements alone, for tables that exist already: a transaction that touches no
 * chain (no rule is replaced). It fails when a table or set is missing. */
int hg_nat_loopback_grant_text(const char *iface, char *const *elements, const char *port, const struct hg_ip *addr,
			       const char *comment, char **text);
/* Removes the attachment's map and bridge elements (fails if one is already gone). */
int hg_nat_loopback_del_text(char *const *elements, const char *port, const struct hg_ip *addr, char **text);
