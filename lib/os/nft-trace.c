/* SPDX-License-Identifier: Apache-2.0 */
/* nftables tracing of one probe (see nft-trace.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include "os/nft-trace.h"
#include "os/nft.h"
#include "base/util.h"

/* The delete batch the signal handlers send: built before the table exists, sent with
 * one system call (async-signal-safe), on a socket of the namespace the table is in. */
static struct {
	int fd;
	char buf[256] __attribute__((aligned(4)));
	size_t len;
	volatile sig_atomic_t armed;
	struct sigaction old[3];
} del = {.fd = -1};
static const int trapped[3] = {SIGINT, SIGTERM, SIGHUP};

static size_t nl_put_msg(char *buf, size_t off, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id,
			 const char *name, uint32_t seq)
{
	struct nlmsghdr *h = (struct nlmsghdr *) (buf + off);
	struct nfgenmsg *g = (struct nfgenmsg *) NLMSG_DATA(h);
	size_t len = NLMSG_LENGTH(sizeof(*g));
	memset(h, 0, NLMSG_SPACE(sizeof(*g)));
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	if (name) {
		struct nlattr *a = (struct nlattr *) (buf + off + NLMSG_ALIGN(len));
		size_t n = strlen(name) + 1;
		a->nla_type = NFTA_TABLE_NAME;
		a->nla_len = (uint16_t) (NLA_HDRLEN + n);
		memcpy((char *) a + NLA_HDRLEN, name, n);
		len = NLMSG_ALIGN(len) + NLA_ALIGN(a->nla_len);
	}
	h->nlmsg_len = (uint32_t) len;
	return off + NLMSG_ALIGN(len);
}

static void build_delete(const char *table)
{
	size_t off = 0;
	off = nl_put_msg(del.buf, off, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL, 1);
	off = nl_put_msg(del.buf, off, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_REQUEST, NFPROTO_INET, 0,
			 table, 2);
	off = nl_put_msg(del.buf, off, NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL, 3);
	del.len = off;
}

static void send_delete(void)
{
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	if (del.fd >= 0 && del.len)
		sendto(del.fd, del.buf, del.len, 0, (struct sockaddr *) &k, sizeof(k));
}

static void on_signal(int sig)
{
	if (del.armed) {
		del.armed = 0;
		send_delete();
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void trap_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(trapped); i++)
		sigaction(trapped[i], &sa, &del.old[i]);
}

static void untrap_signals(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(trapped); i++)
		sigaction(trapped[i], &del.old[i], NULL);
}

/* Is inet table name one a doctor made: its chains "pre" and "out" and nothing else? A
 * table of the user's that happens to be named like ours is theirs to keep. */
static bool doctor_shaped(const char *name)
{
	json_t *t = NULL, *item;
	struct hg_error e = {0};
	char cmd[128];
	size_t i, chains = 0;
	bool ours = true;
	snprintf(cmd, sizeof(cmd), "list table inet %s", name);
	if (hg_nft_list_json(cmd, &t, &e) < 0 || !t)
		return false;
	json_array_foreach(json_object_get(t, "nftables"), i, item) {
		json_t *c = json_object_get(item, "chain");
		const char *n = json_string_value(json_object_get(c, "name"));
		if (json_object_get(item, "metainfo") || json_object_get(item, "table") || json_object_get(item, "rule"))
			continue;
		if (n && (strcmp(n, "pre") == 0 || strcmp(n, "out") == 0))
			chains++;
		else
			ours = false; /* another chain, a set, a map... */
	}
	json_decref(t);
	return ours && chains == 2;
}

/* Tables of doctors that are gone (an older doctor's, without flags owner, killed with
 * SIGKILL mid-probe), removed. */
static void reap_dead(void)
{
	json_t *tables = NULL, *item;
	struct hg_error e = {0};
	size_t i;
	if (hg_nft_list_json("list tables inet", &tables, &e) < 0 || !tables)
		return;
	json_array_foreach(json_object_get(tables, "nftables"), i, item) {
		const char *name = json_string_value(json_object_get(json_object_get(item, "table"), "name"));
		char *end, cmd[128];
		if (!name || strncmp(name, HG_TRACE_TABLE_PREFIX, strlen(HG_TRACE_TABLE_PREFIX)) != 0)
			continue;
		long pid = strtol(name + strlen(HG_TRACE_TABLE_PREFIX), &end, 10);
		if (*end || pid <= 0 || pid == (long) getpid() || kill((pid_t) pid, 0) == 0 || errno != ESRCH ||
		    !doctor_shaped(name))
			continue;
		snprintf(cmd, sizeof(cmd), "delete table inet %s", name);
		hg_nft_run(cmd, &e);
	}
	json_decref(tables);
}

/* Before the table exists, or when making it failed (nothing of ours is there): unsubscribe
 * and disarm, deleting nothing. */
static void abandon(struct hg_nft_trace *tr)
{
	if (del.armed) {
		del.armed = 0;
		untrap_signals();
	}
	if (tr->mon >= 0)
		close(tr->mon);
	tr->mon = -1;
}

int hg_nft_trace_start(struct hg_nft_trace *tr, const struct hg_ip *saddr, const struct hg_ip *daddr,
		       const char *proto, uint16_t sport, uint16_t dport, struct hg_error *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int group = NFNLGRP_NFTRACE, rcvbuf = 1 << 20;
	char s[HG_IP_STRLEN + 16] = "", r[HG_IP_STRLEN + 16] = "", sb[HG_IP_STRLEN], d[HG_IP_STRLEN];
	const char *ipf = daddr->family == AF_INET6 ? "ip6" : "ip";
	memset(tr, 0, sizeof(*tr));
	tr->mon = -1;
	tr->sport = sport;
	tr->dport = dport;
	snprintf(tr->table, sizeof(tr->table), HG_TRACE_TABLE_PREFIX "%d", (int) getpid());
	reap_dead();
	tr->mon = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	if (tr->mon < 0)
		return hg_error_errno(err, HG_CNI_NFTABLES, errno, "netlink socket");
	setsockopt(tr->mon, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(tr->mon, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
	    setsockopt(tr->mon, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int e = errno;
		close(tr->mon);
		tr->mon = -1;
		return hg_error_errno(err, HG_CNI_NFTABLES, e, "subscribe to nftables trace events");
	}
	if (del.fd < 0)
		del.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	build_delete(tr->table);
	del.armed = 1;
	trap_signals();

	hg_ip_str(daddr, d);
	if (saddr)
		snprintf(s, sizeof(s), "%s saddr %s ", ipf, hg_ip_str(saddr, sb));
	if (saddr)
		snprintf(r, sizeof(r), "%s daddr %s ", ipf, sb);
	/* Before every other chain of prerouting and output; both directions of the tuple.
	 * One transaction: the table is there whole or not at all. */
	_cleanup_free_ char *text = NULL;
	if (asprintf(&text,
		     "create table inet %1$s { flags owner; }\n"
		     "add chain inet %1$s pre { type filter hook prerouting priority -1000000; policy accept; }\n"
		     "add chain inet %1$s out { type filter hook output priority -1000000; policy accept; }\n"
		     "add rule inet %1$s pre %2$s%3$s daddr %4$s %5$s sport %6$u %5$s dport %7$u meta nftrace set 1\n"
		     "add rule inet %1$s pre %8$s%3$s saddr %4$s %5$s sport %7$u %5$s dport %6$u meta nftrace set 1\n"
		     "add rule inet %1$s out %8$s%3$s saddr %4$s %5$s sport %7$u %5$s dport %6$u meta nftrace set 1\n",
		     tr->table, s, ipf, d, proto, sport, dport, r) < 0) {
		abandon(tr);
		return hg_error_oom(err);
	}
	/* "create": a table of that name already there (a user's, or another doctor's of the
	 * same PID in another PID namespace) fails the transaction, and is not ours to delete. */
	if (hg_nft_run(text, err) < 0) {
		abandon(tr);
		return -1;
	}
	return 0;
}

static uint32_t be32_at(const struct nlattr *a)
{
	uint32_t v;
	memcpy(&v, (const char *) a + NLA_HDRLEN, 4);
	return ntohl(v);
}

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	size_t n = a->nla_len > NLA_HDRLEN ? a->nla_len - NLA_HDRLEN : 0;
	if (n >= size)
		n = size - 1;
	memcpy(dst, (const char *) a + NLA_HDRLEN, n);
	dst[n] = '\0';
	dst[strnlen(dst, n)] = '\0';
}

static const char *family_name(int f)
{
	switch (f) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_NETDEV:
		return "netdev";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_ARP:
		return "arp";
	}
	return "?";
}

static bool is_drop(const struct hg_fw_trace_event *e)
{
	return (e->type == HG_TRACE_RULE && e->verdict == 0) || (e->type == HG_TRACE_POLICY && e->policy == 0);
}

/* Trace ids of the probe's packets: their first event in each base chain carries the
 * transport header, whose ports say whether it is the probe's. */
#define MAX_IDS 64

size_t hg_nft_trace_read(struct hg_nft_trace *tr, int wait_ms, struct hg_fw_trace_event *ev, size_t max)
{
	uint32_t ours[MAX_IDS];
	size_t n_ours = 0, n = 0;
	char buf[16384] __attribute__((aligned(4)));
	if (tr->mon < 0)
		return 0;
	struct pollfd p = {.fd = tr->mon, .events = POLLIN};
	poll(&p, 1, wait_ms);
	for (;;) {
		ssize_t len = recv(tr->mon, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break; /* EAGAIN: all read; ENOBUFS: lost some, keep what came */
		for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
				continue;
			struct nfgenmsg *g = NLMSG_DATA(h);
			struct hg_fw_trace_event e = {.handle = 0, .verdict = 1, .policy = 1};
			bool have_th = false, is_ours = false;
			snprintf(e.family, sizeof(e.family), "%s", family_name(g->nfgen_family));
			size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*g));
			struct nlattr *a = (struct nlattr *) ((char *) g + NLMSG_ALIGN(sizeof(*g)));
			for (; alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= alen;
			     alen -= (size_t) NLA_ALIGN(a->nla_len) < alen ? (size_t) NLA_ALIGN(a->nla_len) : alen,
			     a = (struct nlattr *) ((char *) a + NLA_ALIGN(a->nla_len))) {
				size_t plen = a->nla_len - NLA_HDRLEN;
				const uint8_t *pl = (const uint8_t *) a + NLA_HDRLEN;
				switch (a->nla_type & NLA_TYPE_MASK) {
				case NFTA_TRACE_TABLE:
					copy_str(e.table, sizeof(e.table), a);
					break;
				case NFTA_TRACE_CHAIN:
					copy_str(e.chain, sizeof(e.chain), a);
					break;
				case NFTA_TRACE_RULE_HANDLE:
					if (plen == 8) {
						uint64_t v = 0;
						for (int i = 0; i < 8; i++)
							v = v << 8 | pl[i];
						e.handle = (int64_t) v;
					}
					break;
				case NFTA_TRACE_TYPE:
					e.type = plen == 4 ? (int) be32_at(a) : 0;
					break;
				case NFTA_TRACE_ID:
					e.id = plen == 4 ? be32_at(a) : 0;
					break;
				case NFTA_TRACE_POLICY:
					e.policy = plen == 4 ? (int) be32_at(a) : 1;
					break;
				case NFTA_TRACE_VERDICT: {
					const struct nlattr *v = (const struct nlattr *) pl;
					if (plen >= NLA_HDRLEN + 4 && (v->nla_type & NLA_TYPE_MASK) == NFTA_VERDICT_CODE)
						e.verdict = (int) (int32_t) be32_at(v);
					break;
				}
				case NFTA_TRACE_TRANSPORT_HEADER:
					if (plen >= 4) {
						uint16_t sp = (uint16_t) (pl[0] << 8 | pl[1]), dp = (uint16_t) (pl[2] << 8 | pl[3]);
						have_th = true;
						is_ours = (sp == tr->sport && dp == tr->dport) ||
							  (sp == tr->dport && dp == tr->sport);
					}
					break;
				}
			}
			if (have_th && is_ours && n_ours < MAX_IDS)
				ours[n_ours++] = e.id;
			bool keep = !have_th || is_ours;
			bool known = false;
			for (size_t i = 0; i < n_ours; i++)
				known |= ours[i] == e.id;
			keep &= known;
			if (!keep || strcmp(e.table, tr->table) == 0)
				continue;
			if (n == max) {
				/* Full (every rule the probe matches is an event: 64 counters before the
				 * drop filled it): the drop is what names the rule, so it takes the last
				 * place unless a drop holds it already. */
				if (is_drop(&e) && !is_drop(&ev[max - 1]))
					ev[max - 1] = e;
				continue;
			}
			ev[n++] = e;
		}
	}
	return n;
}

void hg_nft_trace_stop(struct hg_nft_trace *tr)
{
	if (del.armed) {
		struct hg_error e = {0};
		char cmd[128];
		del.armed = 0;
		snprintf(cmd, sizeof(cmd), "delete table inet %s", tr->table);
		/* libnftables first (it says whether it worked); the raw batch if it did not. */
		if (hg_nft_run(cmd, &e) < 0 && !strstr(e.msg, "No such file"))
			send_delete();
		untrap_signals();
	}
	if (tr->mon >= 0)
		close(tr->mon);
	tr->mon = -1;
}
