/* SPDX-License-Identifier: Apache-2.0 */
/* Ground truth for `host-gateway doctor`: one connection attempt to a port, made in the
 * CURRENT network namespace (the caller enters the container's with hg_netns_run), and
 * who listens on a port, read from /proc/net/{tcp,udp}{,6} of the current namespace. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "base/config.h"
#include "base/ip.h"

#define HG_PROBE_TIMEOUT_MS 1000

enum hg_probe_result {
	HG_PROBE_OPEN,        /* TCP connected, or UDP got an answer */
	HG_PROBE_REFUSED,     /* TCP RST, or ICMP port unreachable to UDP */
	HG_PROBE_TIMEOUT,     /* TCP: no answer at all */
	HG_PROBE_UNREACHABLE, /* no route, or an ICMP host/admin unreachable (errnum says which) */
	HG_PROBE_SILENT,      /* UDP: no answer and no error: unknown */
};

/* One attempt to addr:port, at most timeout_ms. The result, or -errno when the socket could
 * not be made. *errnum gets the errno behind REFUSED and UNREACHABLE. */
int hg_probe(const struct hg_ip *addr, enum hg_proto proto, uint16_t port, int timeout_ms, int *errnum);
/* The same in two steps, so that the source port is known before the first packet leaves
 * (doctor's trace matches the probe's 5-tuple): a socket of addr's family bound to an
 * ephemeral port (*sport), then the attempt on it. The fd may be used in another network
 * namespace than the one it was made in only as the namespace it belongs to: make and use
 * it in the same one. hg_probe_open: the fd, or -errno. */
int hg_probe_open(const struct hg_ip *addr, enum hg_proto proto, uint16_t *sport);
/* The source address the kernel would give a packet to addr (a connected UDP socket,
 * nothing sent): 0 with *src, or -errno (no route). */
int hg_probe_source(const struct hg_ip *addr, struct hg_ip *src);
int hg_probe_connect(int fd, const struct hg_ip *addr, enum hg_proto proto, uint16_t port, int timeout_ms,
		     int *errnum);
const char *hg_probe_result_name(enum hg_probe_result r);

/* Who listens on one port (TCP LISTEN sockets, bound UDP sockets). */
struct hg_listeners {
	bool wildcard; /* 0.0.0.0 or :: */
	bool wildcard6; /* :: (IPv6, and IPv4 too unless IPV6_V6ONLY): 0.0.0.0 is IPv4 only */
	bool loopback; /* 127.0.0.0/8, ::1 */
	struct hg_ip other[8]; /* other addresses bound */
	size_t n_other;
};

/* Adds the sockets of one /proc/net/{tcp,udp}{,6} text (family AF_INET or AF_INET6) bound to
 * port to *l. -EINVAL when the text is not in that format. */
int hg_listeners_parse(const char *text, int family, enum hg_proto proto, uint16_t port, struct hg_listeners *l);
/* The same from the files of the current network namespace (both families). */
int hg_listeners_read(enum hg_proto proto, uint16_t port, struct hg_listeners *l);
/* Does a socket of l accept connections to addr? */
bool hg_listeners_cover(const struct hg_listeners *l, const struct hg_ip *addr);

/* Legacy iptables (x_tables, not nftables) of the current network namespace: the tables
 * listed in /proc/net/ip{,6}_tables_names that hold rules or a built-in chain whose
 * policy is not ACCEPT, read with IPT_SO_GET_INFO/ENTRIES, described into out as
 * "filter: 2 rules, INPUT policy DROP; ip6 filter: 1 rule". "" when there is none. */
void hg_legacy_iptables(char *out, size_t size);
