/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include "base/nat.h"
#include "base/util.h"
#include "base/buf.h"

static void ports_expr(struct buf *f, const struct hg_port_map *m)
{
	if (m->first == m->last)
		buf_fmt(f, "%u", m->first);
	else
		buf_fmt(f, "%u-%u", m->first, m->last);
}

/* DNAT of 127.0.0.1:PORT to the host. Identity ports keep their number; a remap uses a map
 * so that each port of a range keeps its offset. */
static void localhost_rule(struct buf *f, const struct hg_port_map *m, const char *host)
{
	buf_fmt(f, "\t\tip daddr 127.0.0.1 %s dport ", hg_proto_name(m->proto));
	ports_expr(f, m);
	if (m->host_first == m->first) {
		buf_fmt(f, " dnat ip to %s\n", host);
		return;
	}
	if (m->first == m->last) {
		buf_fmt(f, " dnat ip to %s:%u\n", host, m->host_first);
		return;
	}
	buf_fmt(f, " dnat ip to %s : %s dport map { ", host, hg_proto_name(m->proto));
	for (unsigned p = m->first; p <= m->last; p++)
		buf_fmt(f, "%s%u : %u", p == m->first ? "" : ", ", p, m->host_first + (p - m->first));
	buf_fmt(f, " }\n");
}

int hg_nat_container_text(const struct hg_nat_plan *p, char **out, struct hg_error *err)
{
	char host4[HG_IP_STRLEN], host6[HG_IP_STRLEN], vip[HG_IP_STRLEN];
	bool have_vip = p->vip.ip[0].family || p->vip.ip[1].family;
	struct buf t = {0};

	*out = NULL;
	if (!have_vip && p->n_localhost_ports == 0)
		return 0;
	if (p->n_localhost_ports && !p->host.ip[0].family)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "invalid configuration: key \"localhostPorts\": needs an IPv4 host address (::1 "
				    "cannot be forwarded), and this container has none");
	hg_ip_str(&p->host.ip[0], host4);
	hg_ip_str(&p->host.ip[1], host6);
	/* Declaring, flushing and re-filling the table in one transaction replaces its rules
	 * atomically whether or not it existed. Flushing instead of deleting spares a kernel
	 * RCU grace period (about 10 ms) on every ADD; a chain left empty accepts everything. */
	buf_fmt(&t, "table inet %s\nflush table inet %s\ntable inet %s {\n", HG_NFT_TABLE, HG_NFT_TABLE, HG_NFT_TABLE);
	buf_fmt(&t, "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n");
	if (p->vip.ip[0].family && p->host.ip[0].family)
		buf_fmt(&t, "\t\tip daddr %s dnat ip to %s\n", hg_ip_str(&p->vip.ip[0], vip), host4);
	if (p->vip.ip[1].family && p->host.ip[1].family)
		buf_fmt(&t, "\t\tip6 daddr %s dnat ip6 to %s\n", hg_ip_str(&p->vip.ip[1], vip), host6);
	for (size_t i = 0; i < p->n_localhost_ports; i++)
		localhost_rule(&t, &p->localhost_ports[i], host4);
	buf_fmt(&t, "\t}\n");
	if (p->n_localhost_ports) {
		/* Packets DNATed from 127.0.0.1 keep that source; the host could not answer it. */
		buf_fmt(&t, "\tchain postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n");
		buf_fmt(&t, "\t\tip saddr 127.0.0.0/8 ip daddr %s masquerade\n\t}\n", host4);
	}
	buf_fmt(&t, "}\n");
	if (buf_finish(&t, out, NULL) < 0)
		return hg_error_oom(err);
	return 0;
}

const char *hg_nat_container_delete_text(void)
{
	return "table inet " HG_NFT_TABLE "\ndelete table inet " HG_NFT_TABLE "\n";
}

int hg_nat_host_elements(const char *iface, const struct hg_ip *container, const struct hg_ip *host,
			 const struct hg_port_map *ports, size_t n, const char *comment, char ***elements,
			 struct hg_error *err)
{
	char c[HG_IP_STRLEN], h[HG_IP_STRLEN];
	size_t count = 0;
	hg_ip_str(container, c);
	hg_ip_str(host, h);
	for (size_t i = 0; i < n; i++)
		count += (size_t) (ports[i].last - ports[i].first) + 1;
	if (count > HG_NFT_MAX_ELEMENTS)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG,
				    "invalid configuration: key \"hostLoopbackPorts\": more than %d ports", HG_NFT_MAX_ELEMENTS);
	_cleanup_strv_ char **list = calloc(count + 1, sizeof(char *));
	if (!list)
		return hg_error_oom(err);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (unsigned p = ports[i].first; p <= ports[i].last; p++)
			if (asprintf(&list[k++], "\"%s\" . %s . %s . %s . %u comment \"%s\" : %u", iface, c, h,
				     hg_proto_name(ports[i].proto), p, comment, ports[i].host_first + (p - ports[i].first)) < 0) {
				list[--k] = NULL;
				return hg_error_oom(err);
			}
	*elements = TAKE_PTR(list);
	return 0;
}

static void element_list(struct buf *f, char *const *elements)
{
	for (size_t i = 0; elements && elements[i]; i++)
		buf_fmt(f, "%s%s", i ? ", " : "", elements[i]);
}

/* Every statement is idempotent: concurrent ADDs serialise on the state lock, but a table
 * left by an earlier run must be reused, not duplicated. The rules are the same for every
 * container, so flushing and re-adding them is exact.
 * hg_nat_loopback_grant_text adds elements only, to the sets named here: when these rules
 * change, rename the sets they use, so that a table of an older version fails the
 * elements-only transaction and gets this skeleton. */
static void write_host_skeleton(struct buf *f)
{
	buf_fmt(f,
		"add table inet %1$s\n"
		"add map inet %1$s loopback4 { type ifname . ipv4_addr . ipv4_addr . inet_proto . inet_service : "
		"inet_service; }\n"
		"add set inet %1$s localnet_ifaces { type ifname; }\n"
		"add chain inet %1$s loopback_dnat { type nat hook prerouting priority -110; policy accept; }\n"
		"flush chain inet %1$s loopback_dnat\n"
		"add rule inet %1$s loopback_dnat meta nfproto ipv4 meta l4proto { tcp, udp } dnat ip to 127.0.0.1 : "
		"iifname . ip saddr . ip daddr . meta l4proto . th dport map @loopback4\n"
		"add chain inet %1$s guard { type filter hook prerouting priority -300; policy accept; }\n"
		"flush chain inet %1$s guard\n"
		"add rule inet %1$s guard iifname @localnet_ifaces ip daddr 127.0.0.0/8 drop\n",
		HG_NFT_TABLE);
}

static void write_host_elements(struct buf *f, const char *iface, char *const *elements)
{
	buf_fmt(f, "add element inet %s localnet_ifaces { \"%s\" }\n", HG_NFT_TABLE, iface);
	if (elements && elements[0]) {
		buf_fmt(f, "add element inet %s loopback4 { ", HG_NFT_TABLE);
		element_list(f, elements);
		buf_fmt(f, " }\n");
	}
}

static void write_host_del(struct buf *f, char *const *elements)
{
	if (elements && elements[0]) {
		buf_fmt(f, "delete element inet %s loopback4 { ", HG_NFT_TABLE);
		element_list(f, elements);
		buf_fmt(f, " }\n");
	}
}

/* A granted address enters the bridge only through its own port: a neighbour on the same
 * bridge cannot spoof it to reach the host's loopback services. */
static void write_bridge_skeleton(struct buf *f)
{
	buf_fmt(f,
		"add table bridge %1$s\n"
		"add set bridge %1$s granted { type ifname . ipv4_addr; }\n"
		"add set bridge %1$s granted_addrs { type ipv4_addr; }\n"
		"add chain bridge %1$s antispoof { type filter hook prerouting priority -300; policy accept; }\n"
		"flush chain bridge %1$s antispoof\n"
		"add rule bridge %1$s antispoof ether type ip ip saddr @granted_addrs iifname . ip saddr != @granted drop\n",
		HG_NFT_TABLE);
}

static void write_bridge_elements(struct buf *f, const char *port, const struct hg_ip *addr, const char *comment)
{
	char a[HG_IP_STRLEN];
	buf_fmt(f,
		"add element bridge %1$s granted { \"%2$s\" . %3$s comment \"%4$s\" }\n"
		"add element bridge %1$s granted_addrs { %3$s comment \"%4$s\" }\n",
		HG_NFT_TABLE, port, hg_ip_str(addr, a), comment);
}

static void write_bridge_del(struct buf *f, const char *port, const struct hg_ip *addr)
{
	char a[HG_IP_STRLEN];
	buf_fmt(f,
		"delete element bridge %1$s granted { \"%2$s\" . %3$s }\n"
		"delete element bridge %1$s granted_addrs { %3$s }\n",
		HG_NFT_TABLE, port, hg_ip_str(addr, a));
}

static bool has_port(const char *port)
{
	return port && port[0];
}

int hg_nat_host_del_text(char *const *elements, char **out)
{
	struct buf t = {0};
	write_host_del(&t, elements);
	return buf_finish(&t, out, NULL) < 0 ? -1 : 0;
}

int hg_nat_bridge_del_text(const char *port, const struct hg_ip *addr, char **out)
{
	struct buf t = {0};
	write_bridge_del(&t, port, addr);
	return buf_finish(&t, out, NULL) < 0 ? -1 : 0;
}

int hg_nat_loopback_add_text(const char *iface, char *const *elements, const char *port, const struct hg_ip *addr,
			     const char *comment, char **out)
{
	struct buf t = {0};
	write_host_skeleton(&t);
	write_host_elements(&t, iface, elements);
	if (has_port(port)) {
		write_bridge_skeleton(&t);
		write_bridge_elements(&t, port, addr, comment);
	}
	return buf_finish(&t, out, NULL) < 0 ? -1 : 0;
}

int hg_nat_loopback_grant_text(const char *iface, char *const *elements, const char *port, const struct hg_ip *addr,
			       const char *comment, char **out)
{
	struct buf t = {0};
	write_host_elements(&t, iface, elements);
	if (has_port(port))
		write_bridge_elements(&t, port, addr, comment);
	return buf_finish(&t, out, NULL) < 0 ? -1 : 0;
}

int hg_nat_loopback_del_text(char *const *elements, const char *port, const struct hg_ip *addr, char **out)
{
	struct buf t = {0};
	write_host_del(&t, elements);
	if (has_port(port))
		write_bridge_del(&t, port, addr);
	return buf_finish(&t, out, NULL) < 0 ? -1 : 0;
}
