/* SPDX-License-Identifier: Apache-2.0 */
/* An IPv4 or IPv6 address, with an optional prefix length, as the library passes them around. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

struct hg_ip {
	int family; /* AF_INET, AF_INET6, or 0 for "none" */
	uint8_t prefix; /* 32/128 for a plain address */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

#define HG_IP_STRLEN (INET6_ADDRSTRLEN + 4)

/* "10.0.0.1", "fd00::1" or, with allow_prefix, "10.0.0.2/24". Returns 0 or -EINVAL. */
int hg_ip_parse(const char *s, bool allow_prefix, struct hg_ip *out);
/* Address only, without prefix. */
const char *hg_ip_str(const struct hg_ip *ip, char buf[HG_IP_STRLEN]);
/* With "/prefix". */
const char *hg_ip_cidr(const struct hg_ip *ip, char buf[HG_IP_STRLEN]);
bool hg_ip_equal(const struct hg_ip *a, const struct hg_ip *b);
/* Does the network net/prefix contain the address addr? */
bool hg_ip_contains(const struct hg_ip *net, const struct hg_ip *addr);
size_t hg_ip_len(int family);
/* The network of ip/prefix: host bits cleared. */
struct hg_ip hg_ip_network(const struct hg_ip *ip);

struct hg_gateway {
	struct hg_ip ip; /* family 0 when there is no default route of that family */
	int ifindex;
};
