/* SPDX-License-Identifier: Apache-2.0 */
/* Connection attempts and listening sockets (see probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include "os/probe.h"
#include "base/util.h"
#include "base/error.h"
#include "os/fs.h"

static socklen_t sockaddr_of(const struct hg_ip *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (addr->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = addr->v6;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr = addr->v4;
	return sizeof(*s4);
}

static int classify_errno(int e, int *errnum)
{
	*errnum = e;
	if (e == ECONNREFUSED)
		return HG_PROBE_REFUSED;
	if (e == ETIMEDOUT)
		return HG_PROBE_TIMEOUT;
	return HG_PROBE_UNREACHABLE;
}

/* poll(2) of one fd, restarted on EINTR: 1 ready, 0 timed out, -errno. */
static int poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int probe_tcp(int fd, const struct sockaddr_storage *ss, socklen_t len, int timeout_ms, int *errnum)
{
	if (connect(fd, (const struct sockaddr *) ss, len) == 0)
		return HG_PROBE_OPEN;
	if (errno != EINPROGRESS)
		return classify_errno(errno, errnum);
	int r = poll_one(fd, POLLOUT, timeout_ms);
	if (r < 0)
		return r;
	if (r == 0)
		return HG_PROBE_TIMEOUT;
	int so = 0;
	socklen_t solen = sizeof(so);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &solen) < 0)
		return -errno;
	return so == 0 ? HG_PROBE_OPEN : classify_errno(so, errnum);
}

static int probe_udp(int fd, const struct sockaddr_storage *ss, socklen_t len, int timeout_ms, int *errnum)
{
	static const char hello[] = "host-gateway doctor\n";
	char buf[64];
	if (connect(fd, (const struct sockaddr *) ss, len) < 0 || send(fd, hello, sizeof(hello) - 1, 0) < 0)
		return classify_errno(errno, errnum);
	/* A connected UDP socket reports the ICMP port unreachable of the peer as
	 * ECONNREFUSED on the next receive; silence proves nothing. */
	int r = poll_one(fd, POLLIN, timeout_ms);
	if (r < 0)
		return r;
	if (r == 0)
		return HG_PROBE_SILENT;
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		return HG_PROBE_OPEN;
	return classify_errno(errno, errnum);
}

int hg_probe_open(const struct hg_ip *addr, enum hg_proto proto, uint16_t *sport)
{
	struct sockaddr_storage ss, bound;
	socklen_t len = sockaddr_of(addr, 0, &ss), blen = sizeof(bound);
	int fd = socket(addr->family, (proto == HG_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The wildcard address, port 0: the kernel picks the port now, the source address
	 * at connect, as it would have without the bind. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t) addr->family;
	if (bind(fd, (struct sockaddr *) &ss, len) < 0 || getsockname(fd, (struct sockaddr *) &bound, &blen) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*sport = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
						   : ((struct sockaddr_in *) &bound)->sin_port);
	return fd;
}

int hg_probe_source(const struct hg_ip *addr, struct hg_ip *src)
{
	struct sockaddr_storage ss, me;
	socklen_t len = sockaddr_of(addr, 9, &ss), mlen = sizeof(me);
	_cleanup_close_ int fd = socket(addr->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *) &ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *) &me, &mlen) < 0)
		return -errno;
	memset(src, 0, sizeof(*src));
	src->family = addr->family;
	if (addr->family == AF_INET6) {
		src->prefix = 128;
		src->v6 = ((struct sockaddr_in6 *) &me)->sin6_addr;
	} else {
		src->prefix = 32;
		src->v4 = ((struct sockaddr_in *) &me)->sin_addr;
	}
	return 0;
}

int hg_probe_connect(int fd, const struct hg_ip *addr, enum hg_proto proto, uint16_t port, int timeout_ms,
		     int *errnum)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	*errnum = 0;
	return proto == HG_UDP ? probe_udp(fd, &ss, len, timeout_ms, errnum)
			       : probe_tcp(fd, &ss, len, timeout_ms, errnum);
}

int hg_probe(const struct hg_ip *addr, enum hg_proto proto, uint16_t port, int timeout_ms, int *errnum)
{
	uint16_t sport;
	*errnum = 0;
	_cleanup_close_ int fd = hg_probe_open(addr, proto, &sport);
	if (fd < 0)
		return fd;
	return hg_probe_connect(fd, addr, proto, port, timeout_ms, errnum);
}

const char *hg_probe_result_name(enum hg_probe_result r)
{
	switch (r) {
	case HG_PROBE_OPEN:
		return "open";
	case HG_PROBE_REFUSED:
		return "refused";
	case HG_PROBE_TIMEOUT:
		return "no answer";
	case HG_PROBE_UNREACHABLE:
		return "unreachable";
	case HG_PROBE_SILENT:
		return "silent";
	}
	return "?";
}

/* "0100007F" (IPv4) or 32 hex digits (IPv6): the kernel prints each 32-bit word of the
 * address in host byte order. */
static int parse_hex_addr(const char *s, size_t n, int family, struct hg_ip *ip)
{
	size_t words = family == AF_INET6 ? 4 : 1;
	if (n != words * 8)
		return -EINVAL;
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	ip->prefix = family == AF_INET6 ? 128 : 32;
	for (size_t w = 0; w < words; w++) {
		char word[9];
		memcpy(word, s + w * 8, 8);
		word[8] = '\0';
		char *end;
		unsigned long v = strtoul(word, &end, 16);
		if (*end)
			return -EINVAL;
		uint32_t v32 = (uint32_t) v;
		memcpy(ip->bytes + w * 4, &v32, 4);
	}
	return 0;
}

static bool is_loopback(const struct hg_ip *ip)
{
	if (ip->family == AF_INET)
		return ip->bytes[0] == 127;
	static const uint8_t one[16] = {[15] = 1};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	return memcmp(ip->bytes, one, 16) == 0 || (memcmp(ip->bytes, mapped, 12) == 0 && ip->bytes[12] == 127);
}

static bool is_any(const struct hg_ip *ip)
{
	static const uint8_t zero[16];
	return memcmp(ip->bytes, zero, hg_ip_len(ip->family)) == 0;
}

int hg_listeners_parse(const char *text, int family, enum hg_proto proto, uint16_t port, struct hg_listeners *l)
{
	/* TCP_LISTEN is 0x0A; a bound, unconnected UDP socket is TCP_CLOSE (0x07). */
	unsigned want = proto == HG_UDP ? 0x07 : 0x0A;
	const char *line = text;
	bool header = true;
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t) (eol - line) : strlen(line);
		char buf[512];
		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = eol ? eol + 1 : NULL;
		if (header) { /* "  sl  local_address rem_address   st ..." */
			if (!strstr(buf, "local_address"))
				return -EINVAL;
			header = false;
			continue;
		}
		char local[64], remote[64];
		unsigned st;
		if (sscanf(buf, " %*[0-9]: %63s %63s %x", local, remote, &st) != 3)
			continue; /* a blank last line */
		char *colon = strchr(local, ':');
		if (!colon)
			return -EINVAL;
		struct hg_ip ip;
		if (parse_hex_addr(local, colon - local, family, &ip) < 0)
			return -EINVAL;
		if (strtoul(colon + 1, NULL, 16) != port || st != want)
			continue;
		if (is_any(&ip)) {
			l->wildcard = true;
			l->wildcard6 |= family == AF_INET6;
		} else if (is_loopback(&ip))
			l->loopback = true;
		else if (l->n_other < ARRAY_SIZE(l->other))
			l->other[l->n_other++] = ip;
	}
	return header ? -EINVAL : 0;
}

/* A table of /proc/net: -errno (-ENOENT where the kernel has no IPv6). Large on a busy
 * host (a line of 150 bytes a socket), hence the generous bound. */
static int read_text(const char *path, char **out)
{
	struct hg_error err = {0};
	if (hg_read_file(path, 64u << 20, 0, NULL, out, NULL, &err) < 0)
		return err.errnum ? -err.errnum : -EIO;
	return 0;
}

int hg_listeners_read(enum hg_proto proto, uint16_t port, struct hg_listeners *l)
{
	static const struct {
		const char *tcp, *udp;
		int family;
	} files[] = {{"/proc/net/tcp", "/proc/net/udp", AF_INET}, {"/proc/net/tcp6", "/proc/net/udp6", AF_INET6}};
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		int r = read_text(proto == HG_UDP ? files[i].udp : files[i].tcp, &text);
		if (r == -ENOENT) /* no IPv6 */
			continue;
		if (r < 0)
			return r;
		if ((r = hg_listeners_parse(text, files[i].family, proto, port, l)) < 0)
			return r;
	}
	return 0;
}

bool hg_listeners_cover(const struct hg_listeners *l, const struct hg_ip *addr)
{
	/* 0.0.0.0 takes no IPv6 connection: a refused IPv6 probe with only it is "nothing
	 * listens", not "a firewall rejects it". */
	if (l->wildcard6 || (l->wildcard && addr->family == AF_INET) || (l->loopback && is_loopback(addr)))
		return true;
	for (size_t i = 0; i < l->n_other; i++)
		if (hg_ip_equal(&l->other[i], addr))
			return true;
	return false;
}

static const char *const hook_names[NF_INET_NUMHOOKS] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};

/* One legacy table: its rules beyond the built-in chains' policies, and the policies that
 * are not ACCEPT. Both families' getinfo and get_entries have the same layout up to the
 * entries; the entries differ, hence v6. */
static void legacy_table(int fd, bool v6, const char *name, char *out, size_t size, size_t *n)
{
	struct ipt_getinfo info = {0};
	socklen_t len = sizeof(info);
	snprintf(info.name, sizeof(info.name), "%s", name);
	if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO, &info, &len) < 0)
		return;
	unsigned builtin = (unsigned) __builtin_popcount(info.valid_hooks);
	/* Each built-in chain is its policy entry; one more entry ends the table. User chains
	 * add a head and a return entry each: counted as rules, which is what they hold. */
	unsigned rules = info.num_entries > builtin + 1 ? info.num_entries - builtin - 1 : 0;
	char pol[128] = "";
	size_t np = 0;
	size_t total = sizeof(struct ipt_get_entries) + info.size;
	_cleanup_free_ struct ipt_get_entries *ent = calloc(1, total);
	len = (socklen_t) total;
	if (ent) {
		snprintf(ent->name, sizeof(ent->name), "%s", name);
		ent->size = info.size;
	}
	if (ent && getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IP6T_SO_GET_ENTRIES : IPT_SO_GET_ENTRIES, ent,
			      &len) == 0) {
		for (int h = 0; h < NF_INET_NUMHOOKS; h++) {
			if (!(info.valid_hooks & (1u << h)) || info.underflow[h] >= info.size)
				continue;
			const char *e = (const char *) ent->entrytable + info.underflow[h];
			unsigned toff = v6 ? ((const struct ip6t_entry *) e)->target_offset
					   : ((const struct ipt_entry *) e)->target_offset;
			if (info.underflow[h] + toff + sizeof(struct xt_standard_target) > info.size)
				continue;
			const struct xt_standard_target *t = (const struct xt_standard_target *) (e + toff);
			if (t->verdict == -NF_ACCEPT - 1)
				continue;
			int w = snprintf(pol + np, sizeof(pol) - np, ", %s policy %s", hook_names[h],
					 t->verdict == -NF_DROP - 1 ? "DROP" : "other");
			if (w > 0 && (size_t) w < sizeof(pol) - np)
				np += (size_t) w;
		}
	}
	if (!rules && !pol[0])
		return;
	int w = snprintf(out + *n, size - *n, "%s%s%s: %u rule%s%s", *n ? "; " : "", v6 ? "ip6 " : "", name, rules,
			 rules == 1 ? "" : "s", pol);
	if (w > 0 && (size_t) w < size - *n)
		*n += (size_t) w;
}

void hg_legacy_iptables(char *out, size_t size)
{
	static const struct {
		const char *names;
		bool v6;
	} fams[] = {{"/proc/net/ip_tables_names", false}, {"/proc/net/ip6_tables_names", true}};
	size_t n = 0;
	out[0] = '\0';
	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		_cleanup_free_ char *text = NULL;
		if (read_text(fams[f].names, &text) < 0)
			continue;
		_cleanup_close_ int fd = socket(fams[f].v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (fd < 0)
			continue;
		char *save = NULL;
		for (char *tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			legacy_table(fd, fams[f].v6, tok, out, size, &n);
	}
}
