/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include "base/ip.h"

size_t hg_ip_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int hg_ip_parse(const char *s, bool allow_prefix, struct hg_ip *out)
{
	char buf[HG_IP_STRLEN];
	struct hg_ip ip = {0};

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash) {
		if (!allow_prefix)
			return -EINVAL;
		*slash++ = '\0';
	}
	if (inet_pton(AF_INET, buf, &ip.v4) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &ip.v6) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = ip.family == AF_INET ? 32 : 128;
	ip.prefix = max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || p > max)
			return -EINVAL;
		ip.prefix = p;
	}
	*out = ip;
	return 0;
}

const char *hg_ip_str(const struct hg_ip *ip, char buf[HG_IP_STRLEN])
{
	if (!ip->family || !inet_ntop(ip->family, ip->bytes, buf, HG_IP_STRLEN))
		strcpy(buf, "none");
	return buf;
}

const char *hg_ip_cidr(const struct hg_ip *ip, char buf[HG_IP_STRLEN])
{
	hg_ip_str(ip, buf);
	size_t n = strlen(buf);
	snprintf(buf + n, HG_IP_STRLEN - n, "/%u", ip->prefix);
	return buf;
}

bool hg_ip_equal(const struct hg_ip *a, const struct hg_ip *b)
{
	return a->family == b->family && a->family &&
	       memcmp(a->bytes, b->bytes, hg_ip_len(a->family)) == 0;
}

bool hg_ip_contains(const struct hg_ip *net, const struct hg_ip *addr)
{
	if (net->family != addr->family || !net->family)
		return false;
	unsigned bits = net->prefix;
	for (unsigned i = 0; i < hg_ip_len(net->family) && bits; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t) (0xff << (8 - take));
		if ((net->bytes[i] & mask) != (addr->bytes[i] & mask))
			return false;
		bits -= take;
	}
	return true;
}

struct hg_ip hg_ip_network(const struct hg_ip *ip)
{
	struct hg_ip net = *ip;
	unsigned bits = ip->prefix;
	for (size_t i = 0; i < hg_ip_len(ip->family); i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		net.bytes[i] &= (uint8_t) (0xff << (8 - take));
		bits -= take;
	}
	return net;
}
