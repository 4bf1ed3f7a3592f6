/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the host's input filtering out of libnftables JSON (see firewall.h). Nothing here
 * talks to the kernel: lib/ops/doctor.c lists the ruleset and hands the documents over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/firewall.h"
#include "base/util.h"

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Each object of the "nftables" array that is of kind ("chain", "rule"), in turn. */
#define foreach_item(ruleset, kind, idx, item)                                                             \
	for (size_t idx = 0; idx < json_array_size(json_object_get(ruleset, "nftables")); idx++)              \
		if (((item) = json_object_get(json_array_get(json_object_get(ruleset, "nftables"), idx), kind))) \

static bool same_chain(json_t *a, const char *family, const char *table, const char *chain)
{
	return strcmp(str_of(a, "family"), family) == 0 && strcmp(str_of(a, "table"), table) == 0 &&
	       (!chain || strcmp(str_of(a, "chain"), chain) == 0);
}

/* The packets counted by a rule's first counter; -1 when it has none. */
static json_int_t rule_packets(json_t *rule)
{
	json_t *expr = json_object_get(rule, "expr"), *e;
	size_t i;
	json_array_foreach(expr, i, e) {
		json_t *c = json_object_get(e, "counter");
		if (json_is_object(c) && json_is_integer(json_object_get(c, "packets")))
			return json_integer_value(json_object_get(c, "packets"));
	}
	return -1;
}

enum verdict { V_NONE, V_ACCEPT, V_DROP };

static enum verdict rule_verdict(json_t *rule)
{
	json_t *expr = json_object_get(rule, "expr"), *e;
	size_t i;
	json_array_foreach(expr, i, e) {
		if (json_object_get(e, "accept"))
			return V_ACCEPT;
		if (json_object_get(e, "drop") || json_object_get(e, "reject"))
			return V_DROP;
		json_t *xt = json_object_get(e, "xt");
		if (json_is_object(xt) && strcmp(str_of(xt, "type"), "target") == 0) {
			const char *n = str_of(xt, "name");
			if (strcmp(n, "REJECT") == 0 || strcmp(n, "DROP") == 0)
				return V_DROP;
			if (strcmp(n, "ACCEPT") == 0)
				return V_ACCEPT;
		}
	}
	return V_NONE;
}

static bool table_has_ufw(json_t *ruleset, const char *family, const char *table)
{
	json_t *c;
	foreach_item(ruleset, "chain", i, c) {
		if (same_chain(c, family, table, NULL) && strncmp(str_of(c, "name"), "ufw-", 4) == 0)
			return true;
	}
	return false;
}

static void fill(struct hg_fw_verdict *v, enum hg_fw_shape shape, const char *family, const char *table,
		 const char *chain, int64_t handle)
{
	v->shape = shape;
	snprintf(v->family, sizeof(v->family), "%s", family);
	snprintf(v->table, sizeof(v->table), "%s", table);
	snprintf(v->chain, sizeof(v->chain), "%s", chain);
	v->handle = handle;
}

static bool table_has_chain(json_t *ruleset, const char *family, const char *table, const char *name)
{
	json_t *c;
	foreach_item(ruleset, "chain", i, c) {
		if (same_chain(c, family, table, NULL) && strcmp(str_of(c, "name"), name) == 0)
			return true;
	}
	return false;
}

/* The shape a drop in family/table/chain belongs to. */
static enum hg_fw_shape classify(json_t *ruleset, const char *family, const char *table, bool policy)
{
	if (table_has_ufw(ruleset, family, table))
		return HG_FW_UFW;
	bool xt_family = strcmp(family, "ip") == 0 || strcmp(family, "ip6") == 0;
	if (xt_family && table_has_chain(ruleset, family, table, "DOCKER-USER"))
		return HG_FW_DOCKER;
	/* iptables-nft: its tables and chains by their iptables names. */
	if (xt_family && strcmp(table, "filter") == 0 &&
	    (table_has_chain(ruleset, family, table, "INPUT") || table_has_chain(ruleset, family, table, "FORWARD")))
		return HG_FW_IPTABLES;
	if (strcmp(family, "inet") == 0 && strcmp(table, "firewalld") == 0)
		return HG_FW_FIREWALLD;
	return policy ? HG_FW_POLICY_DROP : HG_FW_RULE_DROP;
}

static bool is_input_chain(json_t *c)
{
	return strcmp(str_of(c, "hook"), "input") == 0 && strcmp(str_of(c, "type"), "filter") == 0;
}

enum hg_fw_shape hg_fw_shape_of(json_t *ruleset, struct hg_fw_verdict *v)
{
	json_t *c;
	memset(v, 0, sizeof(*v));
	/* ufw first: its tables also have an input chain with policy drop. */
	foreach_item(ruleset, "chain", i, c) {
		if (strcmp(str_of(c, "name"), "ufw-user-input") == 0) {
			fill(v, HG_FW_UFW, str_of(c, "family"), str_of(c, "table"), "ufw-user-input", 0);
			return v->shape;
		}
	}
	foreach_item(ruleset, "chain", i, c) {
		if (strcmp(str_of(c, "family"), "inet") == 0 && strcmp(str_of(c, "table"), "firewalld") == 0 &&
		    strcmp(str_of(c, "name"), "filter_INPUT") == 0) {
			fill(v, HG_FW_FIREWALLD, "inet", "firewalld", "filter_INPUT", 0);
			return v->shape;
		}
	}
	foreach_item(ruleset, "chain", i, c) {
		if (is_input_chain(c) && strcmp(str_of(c, "policy"), "drop") == 0) {
			fill(v, HG_FW_POLICY_DROP, str_of(c, "family"), str_of(c, "table"), str_of(c, "name"), 0);
			return v->shape;
		}
	}
	return HG_FW_NONE;
}

/* The counters of before's rules, by "family\ntable\nhandle" (a handle is unique in its
 * table): built in one pass, so that looking a rule up does not walk the whole ruleset
 * again (10 000 rules made that 10^8 steps). NULL without before (or memory). */
static json_t *counters_index(json_t *before)
{
	json_t *idx, *r;
	if (!before || !(idx = json_object()))
		return NULL;
	foreach_item(before, "rule", i, r) {
		json_int_t n = rule_packets(r);
		char *key;
		if (n < 0 || asprintf(&key, "%s\n%s\n%lld", str_of(r, "family"), str_of(r, "table"),
				      (long long) json_integer_value(json_object_get(r, "handle"))) < 0)
			continue;
		json_object_set_new(idx, key, json_integer(n));
		free(key);
	}
	return idx;
}

/* The counter before had for a rule of after; -1 when the rule is new or has none. */
static json_int_t packets_before(json_t *idx, json_t *rule)
{
	char *key;
	json_t *n;
	if (!idx || asprintf(&key, "%s\n%s\n%lld", str_of(rule, "family"), str_of(rule, "table"),
			     (long long) json_integer_value(json_object_get(rule, "handle"))) < 0)
		return -1;
	n = json_object_get(idx, key);
	free(key);
	return json_is_integer(n) ? json_integer_value(n) : -1;
}

static bool counted(json_t *idx, json_t *rule)
{
	json_int_t now = rule_packets(rule);
	if (now < 0)
		return false;
	json_int_t then = packets_before(idx, rule);
	return then >= 0 && now > then;
}

static bool rule_could_match(json_t *rs, const struct hg_fw_probe *p, json_t *rule);

static int find_dropper(json_t *before, json_t *after, const struct hg_fw_probe *p, struct hg_fw_verdict *v)
{
	json_t *r, *c;
	memset(v, 0, sizeof(*v));
	if (!before || !after)
		return 0;
	json_auto_t *idx = counters_index(before);
	foreach_item(after, "rule", i, r) {
		/* A counter moved by other packets at the same time is not the probe's: a rule whose
		 * matches certainly do not hold for it (another port, another protocol) is not. */
		if (rule_verdict(r) == V_DROP && counted(idx, r) && (!p || rule_could_match(after, p, r))) {
			const char *fam = str_of(r, "family"), *tab = str_of(r, "table");
			fill(v, classify(after, fam, tab, false), fam, tab, str_of(r, "chain"),
			     json_integer_value(json_object_get(r, "handle")));
			return 1;
		}
	}
	/* No rule dropped it: an input chain with policy drop did, unless one of its table's
	 * accept rules counted the probe (it was let in, and got lost elsewhere). */
	foreach_item(after, "chain", i, c) {
		if (!is_input_chain(c) || strcmp(str_of(c, "policy"), "drop") != 0)
			continue;
		const char *fam = str_of(c, "family"), *tab = str_of(c, "table");
		bool accepted = false;
		foreach_item(after, "rule", j, r) {
			if (same_chain(r, fam, tab, NULL) && rule_verdict(r) == V_ACCEPT && counted(idx, r))
				accepted = true;
		}
		if (!accepted) {
			fill(v, classify(after, fam, tab, true), fam, tab, str_of(c, "name"), 0);
			return 1;
		}
	}
	return 0;
}

const char *hg_fw_shape_name(enum hg_fw_shape s)
{
	switch (s) {
	case HG_FW_UFW:
		return "ufw";
	case HG_FW_FIREWALLD:
		return "firewalld";
	case HG_FW_POLICY_DROP:
		return "policy drop";
	case HG_FW_RULE_DROP:
		return "nftables";
	case HG_FW_IPTABLES:
		return "iptables";
	case HG_FW_DOCKER:
		return "docker";
	case HG_FW_NONE:
		break;
	}
	return "none";
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("_.,:/@%+=-", *s)))
			return false;
	return true;
}

const char *hg_fw_shell_word(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	if (shell_safe(s))
		return s;
	if (size < 8)
		return "''";
	buf[n++] = '\'';
	for (; *s && n + 6 < size; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* The fixes are commands to paste into a shell: every name in them comes from the host
 * (interface, table, chain and zone names may hold '$', '`', ';' or quotes), so each is
 * one shell word, quoted when it must be; nft's own command is quoted whole then, its
 * double quotes kept for nft. */
char *hg_fw_fix(const struct hg_fw_verdict *v, const char *iface, const char *proto, unsigned port)
{
	char *out = NULL, q1[1100], q2[1100];
	int n = -1;
	bool has_if = iface && *iface;
	switch (v->shape) {
	case HG_FW_UFW:
		if (has_if)
			n = asprintf(&out, "ufw allow in on %s to any port %u proto %s", hg_fw_shell_word(iface, q1, sizeof(q1)),
				     port, proto);
		else
			n = asprintf(&out, "ufw allow %u/%s", port, proto);
		break;
	case HG_FW_FIREWALLD:
		if (v->source[0])
			n = asprintf(&out,
				     "firewall-cmd%s%s --add-rich-rule='rule family=\"%s\" source address=\"%s\" port "
				     "port=\"%u\" protocol=\"%s\" accept'",
				     v->zone[0] ? " --zone=" : "", v->zone[0] ? hg_fw_shell_word(v->zone, q1, sizeof(q1)) : "",
				     strchr(v->source, ':') ? "ipv6" : "ipv4", v->source, port, proto);
		else if (has_if)
			n = asprintf(&out, "firewall-cmd --zone=trusted --add-interface=%s",
				     hg_fw_shell_word(iface, q1, sizeof(q1)));
		else
			n = asprintf(&out, "firewall-cmd --add-port=%u/%s", port, proto);
		break;
	case HG_FW_POLICY_DROP:
	case HG_FW_RULE_DROP: {
		_cleanup_free_ char *cmd = NULL;
		if (has_if)
			n = asprintf(&cmd, "insert rule %s %s %s iifname \"%s\" %s dport %u accept", v->family, v->table,
				     v->chain, iface, proto, port);
		else
			n = asprintf(&cmd, "insert rule %s %s %s %s dport %u accept", v->family, v->table, v->chain, proto,
				     port);
		if (n < 0)
			return NULL;
		if (shell_safe(v->table) && shell_safe(v->chain) && (!has_if || shell_safe(iface)))
			n = asprintf(&out, "nft %s", cmd);
		else {
			_cleanup_free_ char *q = malloc(strlen(cmd) * 4 + 3);
			n = q ? asprintf(&out, "nft %s", hg_fw_shell_word(cmd, q, strlen(cmd) * 4 + 3)) : -1;
		}
		break;
	}
	case HG_FW_IPTABLES:
	case HG_FW_DOCKER: {
		/* iptables-nft's tables are changed with iptables, as their owner does; Docker
		 * keeps DOCKER-USER for the user's own rules, before its own. */
		const char *cmd = strcmp(v->family, "ip6") == 0 ? "ip6tables" : "iptables";
		const char *chain = hg_fw_shell_word(v->shape == HG_FW_DOCKER ? "DOCKER-USER" : v->chain, q1, sizeof(q1));
		if (has_if)
			n = asprintf(&out, "%s -I %s -i %s -p %s --dport %u -j ACCEPT", cmd, chain,
				     hg_fw_shell_word(iface, q2, sizeof(q2)), proto, port);
		else
			n = asprintf(&out, "%s -I %s -p %s --dport %u -j ACCEPT", cmd, chain, proto, port);
		break;
	}
	case HG_FW_NONE:
		break;
	}
	return n < 0 ? NULL : out;
}

/* ---- the probe against the ruleset, without running it ---- */

enum match { M_NO, M_YES, M_UNKNOWN };

/* Chain walks visit at most this many ruleset items in all: jumps fan out (20 rules
 * jumping on through 8 chains are 20^8 walks), and doctor must answer. */
#define EVAL_BUDGET 4000000

struct eval {
	json_t *rs, *before; /* before: counters_index() of the ruleset before the probe */
	size_t steps;
	const struct hg_fw_probe *p;
	const char *family, *table; /* of the chain being walked */
	const char *hook;
	bool uncertain; /* an accept, return or jump of this base chain may have been taken */
	char why[64];   /* the first expression that could not be evaluated */
	bool have_may;
	struct hg_fw_verdict may;
};

static void unknown(struct eval *e, const char *what)
{
	if (!e->why[0])
		snprintf(e->why, sizeof(e->why), "%s", what);
}

static bool v4(const struct eval *e) { return e->p->saddr.family == AF_INET; }

/* A value of the probe: a string or a number (or an address). */
struct val {
	enum { VAL_NONE, VAL_STR, VAL_NUM, VAL_IP } kind;
	const char *s;
	json_int_t n;
	struct hg_ip ip;
};

static int proto_num(const char *name)
{
	return strcmp(name, "tcp") == 0 ? 6 : strcmp(name, "udp") == 0 ? 17 : -1;
}

/* What the left side of a match is for the probe: 1 with *out, 0 when it is certainly
 * absent from the packet (a tcp field of a UDP probe: the rule does not match), -1 when it
 * cannot be told (e->why says what). */
static int left_value(struct eval *e, json_t *left, struct val *out)
{
	json_t *meta = json_object_get(left, "meta"), *pl = json_object_get(left, "payload"),
	       *ct = json_object_get(left, "ct");
	memset(out, 0, sizeof(*out));
	if (json_is_object(meta)) {
		const char *k = str_of(meta, "key");
		if (strcmp(k, "iifname") == 0 || strcmp(k, "iif") == 0) {
			out->kind = VAL_STR;
			out->s = e->p->iifname ? e->p->iifname : "";
			return 1;
		}
		if ((strcmp(k, "oifname") == 0 || strcmp(k, "oif") == 0) && (e->p->local || e->p->oifname)) {
			out->kind = VAL_STR; /* the input hook: no output interface */
			out->s = e->p->local ? "" : e->p->oifname;
			return 1;
		}
		if (strcmp(k, "l4proto") == 0) {
			out->kind = VAL_STR;
			out->s = e->p->proto;
			return 1;
		}
		if (strcmp(k, "nfproto") == 0 || strcmp(k, "protocol") == 0) {
			out->kind = VAL_STR;
			out->s = strcmp(k, "nfproto") == 0 ? (v4(e) ? "ipv4" : "ipv6") : (v4(e) ? "ip" : "ip6");
			return 1;
		}
		if (strcmp(k, "pkttype") == 0) {
			out->kind = VAL_STR;
			out->s = "host";
			return 1;
		}
		char what[48];
		snprintf(what, sizeof(what), "meta %s", k);
		unknown(e, what);
		return -1;
	}
	if (json_is_object(pl) && json_object_get(pl, "protocol")) {
		const char *pr = str_of(pl, "protocol"), *f = str_of(pl, "field");
		if (strcmp(pr, "ip") == 0 || strcmp(pr, "ip6") == 0) {
			if (v4(e) != (strcmp(pr, "ip") == 0))
				return 0;
			if (strcmp(f, "saddr") == 0 || strcmp(f, "daddr") == 0) {
				out->kind = VAL_IP;
				out->ip = f[0] == 's' ? e->p->saddr : e->p->daddr;
				return 1;
			}
			if (strcmp(f, "protocol") == 0 || strcmp(f, "nexthdr") == 0) {
				out->kind = VAL_STR;
				out->s = e->p->proto;
				return 1;
			}
		} else if (strcmp(pr, "tcp") == 0 || strcmp(pr, "udp") == 0 || strcmp(pr, "th") == 0) {
			if (strcmp(pr, "th") != 0 && strcmp(pr, e->p->proto) != 0)
				return 0;
			if (strcmp(f, "dport") == 0 || (strcmp(f, "sport") == 0 && e->p->sport)) {
				out->kind = VAL_NUM;
				out->n = f[0] == 'd' ? e->p->dport : e->p->sport;
				return 1;
			}
		} else if (strcmp(pr, "icmp") == 0 || strcmp(pr, "icmpv6") == 0 || strcmp(pr, "sctp") == 0 ||
			   strcmp(pr, "dccp") == 0 || strcmp(pr, "udplite") == 0 || strcmp(pr, "esp") == 0 ||
			   strcmp(pr, "ah") == 0) {
			return 0;
		}
		char what[48];
		snprintf(what, sizeof(what), "%s %s", pr, f);
		unknown(e, what);
		return -1;
	}
	if (json_is_object(ct) && strcmp(str_of(ct, "key"), "state") == 0) {
		out->kind = VAL_STR;
		out->s = "new";
		return 1;
	}
	if (json_is_object(ct) && strcmp(str_of(ct, "key"), "direction") == 0) {
		out->kind = VAL_STR;
		out->s = "original";
		return 1;
	}
	const char *kind = "expression";
	void *it = json_object_iter(left);
	if (json_is_object(left) && it)
		kind = json_object_iter_key(it);
	char what[48];
	if (json_is_object(ct))
		snprintf(what, sizeof(what), "ct %s", str_of(ct, "key"));
	else
		snprintf(what, sizeof(what), "%s", kind);
	unknown(e, what);
	return -1;
}

static bool ip_in(const struct hg_ip *ip, const struct hg_ip *net, unsigned len)
{
	if (ip->family != net->family)
		return false;
	size_t full = len / 8;
	if (memcmp(ip->bytes, net->bytes, full) != 0)
		return false;
	if (len % 8 == 0)
		return true;
	uint8_t mask = (uint8_t) (0xff << (8 - len % 8));
	return (ip->bytes[full] & mask) == (net->bytes[full] & mask);
}

static int ip_cmp(const struct hg_ip *a, const struct hg_ip *b)
{
	return memcmp(a->bytes, b->bytes, hg_ip_len(a->family));
}

static enum match match_set(struct eval *e, const struct val *v, json_t *elems);

/* Does the probe's value equal (or fall in) one right-hand value? */
static enum match match_one(struct eval *e, const struct val *v, json_t *r)
{
	if (json_is_object(json_object_get(r, "elem")))
		r = json_object_get(json_object_get(r, "elem"), "val");
	if (json_is_string(r)) {
		const char *s = json_string_value(r);
		if (s[0] == '@') { /* a named set of the same table */
			json_t *set;
			foreach_item(e->rs, "set", i, set) {
				if (strcmp(str_of(set, "family"), e->family) == 0 &&
				    strcmp(str_of(set, "table"), e->table) == 0 && strcmp(str_of(set, "name"), s + 1) == 0)
					return match_set(e, v, json_object_get(set, "elem"));
			}
			unknown(e, s);
			return M_UNKNOWN;
		}
		if (v->kind == VAL_IP) {
			struct hg_ip ip;
			if (hg_ip_parse(s, false, &ip) < 0) {
				unknown(e, s);
				return M_UNKNOWN;
			}
			return hg_ip_equal(&ip, &v->ip) ? M_YES : M_NO;
		}
		if (v->kind == VAL_NUM) {
			if (v->n == proto_num(s)) /* never: ports are numbers in the JSON */
				return M_YES;
			char what[48];
			snprintf(what, sizeof(what), "service name %s", s);
			unknown(e, what);
			return M_UNKNOWN;
		}
		size_t n = strlen(s);
		if (n && s[n - 1] == '*') /* an interface name wildcard */
			return strncmp(v->s, s, n - 1) == 0 ? M_YES : M_NO;
		return strcmp(v->s, s) == 0 ? M_YES : M_NO;
	}
	if (json_is_integer(r)) {
		json_int_t n = json_integer_value(r);
		if (v->kind == VAL_NUM)
			return n == v->n ? M_YES : M_NO;
		if (v->kind == VAL_STR && proto_num(v->s) >= 0) /* meta l4proto 6 */
			return n == proto_num(v->s) ? M_YES : M_NO;
		unknown(e, "a number");
		return M_UNKNOWN;
	}
	json_t *prefix = json_object_get(r, "prefix"), *range = json_object_get(r, "range");
	if (json_is_object(prefix) && v->kind == VAL_IP) {
		struct hg_ip net;
		if (hg_ip_parse(str_of(prefix, "addr"), false, &net) < 0) {
			unknown(e, "a prefix");
			return M_UNKNOWN;
		}
		return ip_in(&v->ip, &net, (unsigned) json_integer_value(json_object_get(prefix, "len"))) ? M_YES : M_NO;
	}
	if (json_is_array(range) && json_array_size(range) == 2) {
		json_t *lo = json_array_get(range, 0), *hi = json_array_get(range, 1);
		if (v->kind == VAL_NUM && json_is_integer(lo) && json_is_integer(hi))
			return v->n >= json_integer_value(lo) && v->n <= json_integer_value(hi) ? M_YES : M_NO;
		struct hg_ip a, b;
		if (v->kind == VAL_IP && hg_ip_parse(json_string_value(lo) ? json_string_value(lo) : "", false, &a) == 0 &&
		    hg_ip_parse(json_string_value(hi) ? json_string_value(hi) : "", false, &b) == 0 &&
		    a.family == v->ip.family)
			return ip_cmp(&v->ip, &a) >= 0 && ip_cmp(&v->ip, &b) <= 0 ? M_YES : M_NO;
	}
	if (json_is_object(json_object_get(r, "set")) || json_is_array(json_object_get(r, "set")))
		return match_set(e, v, json_object_get(r, "set"));
	unknown(e, "a value");
	return M_UNKNOWN;
}

static enum match match_set(struct eval *e, const struct val *v, json_t *elems)
{
	enum match m = M_NO;
	json_t *x;
	size_t i;
	if (!json_is_array(elems))
		return elems ? match_one(e, v, elems) : M_NO; /* one element, or an empty set */
	json_array_foreach(elems, i, x) {
		enum match one = match_one(e, v, x);
		if (one == M_YES)
			return M_YES;
		if (one == M_UNKNOWN)
			m = M_UNKNOWN;
	}
	return m;
}

static enum match eval_match(struct eval *e, json_t *match)
{
	struct val v;
	const char *op = str_of(match, "op");
	json_t *right = json_object_get(match, "right");
	int have = left_value(e, json_object_get(match, "left"), &v);
	if (have == 0)
		return M_NO;
	if (have < 0)
		return M_UNKNOWN;
	enum match m;
	if (strcmp(op, "<") == 0 || strcmp(op, ">") == 0 || strcmp(op, "<=") == 0 || strcmp(op, ">=") == 0) {
		if (v.kind != VAL_NUM || !json_is_integer(right)) {
			unknown(e, "a comparison");
			return M_UNKNOWN;
		}
		json_int_t r = json_integer_value(right);
		bool yes = op[0] == '<' ? (op[1] ? v.n <= r : v.n < r) : (op[1] ? v.n >= r : v.n > r);
		return yes ? M_YES : M_NO;
	}
	if (json_is_array(right)) /* ct state established,related: flags, one of them */
		m = match_set(e, &v, right);
	else
		m = match_one(e, &v, right);
	if (strcmp(op, "!=") == 0 && m != M_UNKNOWN)
		m = m == M_YES ? M_NO : M_YES;
	else if (strcmp(op, "==") != 0 && strcmp(op, "in") != 0 && strcmp(op, "!=") != 0) {
		unknown(e, op);
		return M_UNKNOWN;
	}
	return m;
}

static bool rule_could_match(json_t *rs, const struct hg_fw_probe *p, json_t *rule)
{
	struct eval e = {.rs = rs, .p = p, .family = str_of(rule, "family"), .table = str_of(rule, "table")};
	json_t *x;
	size_t i;
	json_array_foreach(json_object_get(rule, "expr"), i, x) {
		json_t *m = json_object_get(x, "match");
		if (m && eval_match(&e, m) == M_NO)
			return false;
	}
	return true;
}

int hg_fw_find_dropper(json_t *before, json_t *after, struct hg_fw_verdict *v)
{
	return find_dropper(before, after, NULL, v);
}

int hg_fw_find_dropper_for(json_t *before, json_t *after, const struct hg_fw_probe *p, struct hg_fw_verdict *v)
{
	return find_dropper(before, after, p, v);
}

enum outcome { O_NEXT, O_ACCEPT, O_DROP, O_RETURN };

static int walk_chain(struct eval *e, const char *chain, int depth, struct hg_fw_verdict *v);

static void verdict_fill(struct eval *e, struct hg_fw_verdict *v, const char *chain, int64_t handle,
			 const char *verdict, bool may)
{
	fill(v, classify(e->rs, e->family, e->table, handle == 0), e->family, e->table, chain, handle);
	snprintf(v->hook, sizeof(v->hook), "%s", e->hook);
	snprintf(v->verdict, sizeof(v->verdict), "%s", verdict);
	v->may = may;
	if (may)
		snprintf(v->unknown, sizeof(v->unknown), "%s", e->why[0] ? e->why : "an earlier rule");
}

/* A drop or reject the probe meets: certain (O_DROP) unless something before it could not
 * be told, in which case the first such is kept as "may drop" and the walk goes on. */
static enum outcome met_drop(struct eval *e, struct hg_fw_verdict *v, const char *chain, int64_t handle,
			     const char *verdict, bool unsure)
{
	if (!unsure && !e->uncertain) {
		verdict_fill(e, v, chain, handle, verdict, false);
		return O_DROP;
	}
	if (!e->have_may) {
		verdict_fill(e, &e->may, chain, handle, verdict, true);
		e->have_may = true;
	}
	return O_NEXT;
}

/* A verdict statement of a rule the probe matched (unsure: maybe). */
static enum outcome take(struct eval *e, json_t *stmt, const char *chain, int64_t handle, bool unsure, int depth,
			 struct hg_fw_verdict *v)
{
	json_t *t;
	if (json_object_get(stmt, "drop"))
		return met_drop(e, v, chain, handle, "drop", unsure);
	if (json_object_get(stmt, "reject"))
		return met_drop(e, v, chain, handle, "reject", unsure);
	if (json_object_get(stmt, "accept") || json_object_get(stmt, "return")) {
		if (!unsure && !e->uncertain)
			return json_object_get(stmt, "accept") ? O_ACCEPT : O_RETURN;
		e->uncertain = true;
		return O_NEXT;
	}
	if ((t = json_object_get(stmt, "jump")) || (t = json_object_get(stmt, "goto"))) {
		bool go = json_object_get(stmt, "goto") != NULL;
		if (unsure)
			e->uncertain = true;
		enum outcome o = walk_chain(e, str_of(t, "target"), depth + 1, v);
		if (o == O_DROP || o == O_ACCEPT)
			return o;
		return go && !e->uncertain ? O_RETURN : O_NEXT;
	}
	if ((t = json_object_get(stmt, "xt")) && strcmp(str_of(t, "type"), "target") == 0) {
		const char *n = str_of(t, "name");
		if (strcmp(n, "REJECT") == 0 || strcmp(n, "DROP") == 0)
			return met_drop(e, v, chain, handle, "reject", unsure);
		return O_NEXT; /* LOG, MARK...: on to the next rule */
	}
	if (json_object_get(stmt, "queue")) {
		unknown(e, "queue");
		e->uncertain = true;
	}
	return O_NEXT;
}

static const char *const ignored[] = {"counter", "log", "mangle", "notrack", "set", "map", "dup", "ct helper",
				      "ct timeout", "ct expectation", "synproxy", "tproxy", "flow", "secmark",
				      "meta", "snat", "masquerade", "redirect", "dnat", "last", "connlimit"};

static enum outcome walk_rule(struct eval *e, json_t *rule, const char *chain, int depth, struct hg_fw_verdict *v)
{
	json_t *expr = json_object_get(rule, "expr"), *x;
	int64_t handle = json_integer_value(json_object_get(rule, "handle"));
	bool unsure = false;
	size_t i;
	/* Its counter did not move: the probe did not match it (nor reach its verdict). */
	if (e->before && rule_packets(rule) >= 0 && packets_before(e->before, rule) == rule_packets(rule))
		return O_NEXT;
	json_array_foreach(expr, i, x) {
		json_t *m = json_object_get(x, "match"), *vm = json_object_get(x, "vmap");
		if (m) {
			enum match r = eval_match(e, m);
			if (r == M_NO)
				return O_NEXT;
			unsure |= r == M_UNKNOWN;
			continue;
		}
		if (vm) { /* tcp dport vmap { 22 : accept, 8080 : drop } */
			struct val val;
			int have = left_value(e, json_object_get(vm, "key"), &val);
			json_t *data = json_object_get(json_object_get(vm, "data"), "set"), *pair;
			size_t j;
			if (have == 0)
				return O_NEXT;
			json_array_foreach(data, j, pair) {
				enum match r = have < 0 ? M_UNKNOWN : match_one(e, &val, json_array_get(pair, 0));
				if (r == M_NO)
					continue;
				enum outcome o = take(e, json_array_get(pair, 1), chain, handle, unsure || r == M_UNKNOWN,
						      depth, v);
				if (o != O_NEXT || r == M_YES)
					return o;
			}
			return O_NEXT;
		}
		if (json_object_get(x, "limit") || json_object_get(x, "quota")) {
			unknown(e, json_object_get(x, "limit") ? "limit" : "quota");
			unsure = true;
			continue;
		}
		json_t *xt = json_object_get(x, "xt");
		if (xt && strcmp(str_of(xt, "type"), "match") == 0) {
			char what[48];
			snprintf(what, sizeof(what), "xt match %s", str_of(xt, "name"));
			unknown(e, what);
			unsure = true;
			continue;
		}
		bool skip = false;
		for (size_t k = 0; k < ARRAY_SIZE(ignored) && !skip; k++)
			skip = json_object_get(x, ignored[k]) != NULL;
		if (skip) {
			if (json_object_get(x, "dnat") || json_object_get(x, "redirect")) {
				unknown(e, "dnat"); /* the destination changes: what follows is a guess */
				e->uncertain = true;
			}
			continue;
		}
		enum outcome o = take(e, x, chain, handle, unsure, depth, v);
		if (o != O_NEXT)
			return o;
		if (json_object_get(x, "drop") || json_object_get(x, "reject") || json_object_get(x, "accept"))
			return O_NEXT; /* the rule's verdict, unsure: the next rule */
	}
	return O_NEXT;
}

static int walk_chain(struct eval *e, const char *chain, int depth, struct hg_fw_verdict *v)
{
	json_t *r;
	if (depth > 16) {
		unknown(e, "jumps deeper than 16");
		e->uncertain = true;
		return O_NEXT;
	}
	if (e->steps > EVAL_BUDGET) {
		unknown(e, "more jumps than doctor follows");
		e->uncertain = true;
		return O_NEXT;
	}
	e->steps += json_array_size(json_object_get(e->rs, "nftables"));
	foreach_item(e->rs, "rule", i, r) {
		if (!same_chain(r, e->family, e->table, chain))
			continue;
		enum outcome o = walk_rule(e, r, chain, depth, v);
		if (o != O_NEXT)
			return o;
	}
	return O_NEXT;
}

/* Is base chain c on the probe's path at hook? */
static bool on_path(const struct eval *e, json_t *c, const char *hook)
{
	const char *fam = str_of(c, "family");
	if (strcmp(str_of(c, "hook"), hook) != 0)
		return false;
	if (strcmp(hook, "ingress") == 0) {
		if (strcmp(fam, "netdev") != 0 && strcmp(fam, "inet") != 0)
			return false;
		json_t *dev = json_object_get(c, "dev");
		if (!dev) /* nft before 1.0.7 does not list an ingress chain's device: maybe */
			return true;
		if (json_is_string(dev))
			return e->p->iifname && strcmp(json_string_value(dev), e->p->iifname) == 0;
		json_t *d;
		size_t i;
		json_array_foreach(dev, i, d) {
			if (e->p->iifname && json_is_string(d) && strcmp(json_string_value(d), e->p->iifname) == 0)
				return true;
		}
		return false;
	}
	return strcmp(fam, "inet") == 0 || strcmp(fam, v4(e) ? "ip" : "ip6") == 0;
}

int hg_fw_match_probe(json_t *before, json_t *ruleset, const struct hg_fw_probe *p, struct hg_fw_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!ruleset || !p)
		return 0;
	const char *hooks[] = {"ingress", "prerouting", p->local ? "input" : "forward"};
	json_auto_t *idx = counters_index(before);
	struct eval e = {.rs = ruleset, .before = idx, .p = p};
	for (size_t h = 0; h < ARRAY_SIZE(hooks); h++) {
		/* Its base chains in priority order; equal priorities in listing order. */
		json_t *c, *done = json_array();
		if (!done)
			return 0;
		for (;;) {
			json_t *best = NULL;
			foreach_item(ruleset, "chain", i, c) {
				if (!on_path(&e, c, hooks[h]))
					continue;
				bool seen = false;
				json_t *d;
				size_t k;
				json_array_foreach(done, k, d) seen |= d == c;
				if (seen)
					continue;
				if (!best || json_integer_value(json_object_get(c, "prio")) <
						     json_integer_value(json_object_get(best, "prio")))
					best = c;
			}
			if (!best)
				break;
			json_array_append(done, best);
			e.family = str_of(best, "family");
			e.table = str_of(best, "table");
			e.hook = hooks[h];
			e.uncertain = false;
			e.why[0] = '\0';
			if (strcmp(hooks[h], "ingress") == 0 && !json_object_get(best, "dev")) {
				unknown(&e, "the ingress chain's device");
				e.uncertain = true;
			}
			enum outcome o = walk_chain(&e, str_of(best, "name"), 0, v);
			if (o == O_DROP) {
				json_decref(done);
				return 1;
			}
			if (o != O_ACCEPT && strcmp(str_of(best, "policy"), "drop") == 0 &&
			    met_drop(&e, v, str_of(best, "name"), 0, "policy drop", false) == O_DROP) {
				json_decref(done);
				return 1;
			}
		}
		json_decref(done);
	}
	if (e.have_may) {
		*v = e.may;
		return 2;
	}
	return 0;
}

/* ---- the trace of a probe ---- */

int hg_fw_trace_verdict(json_t *ruleset, const struct hg_fw_trace_event *ev, size_t n, struct hg_fw_verdict *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct hg_fw_trace_event *t = &ev[i];
		bool rule_drop = t->type == HG_TRACE_RULE && t->verdict == 0;
		bool policy_drop = t->type == HG_TRACE_POLICY && t->policy == 0;
		if (!rule_drop && !policy_drop)
			continue;
		fill(v, classify(ruleset, t->family, t->table, policy_drop), t->family, t->table, t->chain,
		     policy_drop ? 0 : t->handle);
		snprintf(v->hook, sizeof(v->hook), "%s", t->hook);
		json_t *c;
		foreach_item(ruleset, "chain", j, c) {
			if (!v->hook[0] && same_chain(c, t->family, t->table, NULL) &&
			    strcmp(str_of(c, "name"), t->chain) == 0)
				snprintf(v->hook, sizeof(v->hook), "%s", str_of(c, "hook"));
		}
		snprintf(v->verdict, sizeof(v->verdict), "%s", policy_drop ? "policy drop" : "drop");
		/* A reject is a drop with an ICMP error or a reset sent first: the rule says which. */
		json_t *r;
		foreach_item(ruleset, "rule", j, r) {
			if (!policy_drop && same_chain(r, t->family, t->table, t->chain) &&
			    json_integer_value(json_object_get(r, "handle")) == t->handle) {
				json_t *x;
				size_t k;
				json_array_foreach(json_object_get(r, "expr"), k, x) {
					json_t *xt = json_object_get(x, "xt");
					if (json_object_get(x, "reject") ||
					    (xt && strcmp(str_of(xt, "name"), "REJECT") == 0))
						snprintf(v->verdict, sizeof(v->verdict), "reject");
				}
			}
		}
		return 1;
	}
	return 0;
}

/* ---- rule text ---- */

/* The next word of s (a name, maybe in double quotes) into out; the rest after it. */
static const char *word(const char *s, char *out, size_t size)
{
	size_t n = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	bool q = *s == '"';
	if (q)
		s++;
	while (*s && (q ? *s != '"' : (*s != ' ' && *s != '\t' && *s != '{'))) {
		if (n + 1 < size)
			out[n++] = *s;
		s++;
	}
	if (q && *s == '"')
		s++;
	out[n] = '\0';
	return s;
}

char *hg_fw_rule_text(const char *listing, const char *family, const char *table, const char *chain,
		      int64_t handle)
{
	char tf[16] = "", tt[128] = "", tc[128] = "", tag[40];
	const char *p = listing;
	snprintf(tag, sizeof(tag), " # handle %lld", (long long) handle);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t) (eol - p) : strlen(p);
		const char *s = p, *end = p + len;
		p = eol ? eol + 1 : NULL;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if ((size_t) (end - s) > 6 && strncmp(s, "table ", 6) == 0) {
			s = word(s + 6, tf, sizeof(tf));
			word(s, tt, sizeof(tt));
			tc[0] = '\0';
			continue;
		}
		if ((size_t) (end - s) > 6 && strncmp(s, "chain ", 6) == 0) {
			word(s + 6, tc, sizeof(tc));
			continue;
		}
		size_t tl = strlen(tag);
		if (strcmp(tf, family) != 0 || strcmp(tt, table) != 0 || strcmp(tc, chain) != 0 ||
		    (size_t) (end - s) < tl || strncmp(end - tl, tag, tl) != 0)
			continue;
		return strndup(s, (size_t) (end - tl - s));
	}
	return NULL;
}

/* ---- firewalld's zone of a probe ---- */

void hg_fw_firewalld_zone(json_t *ruleset, const struct hg_fw_probe *p, struct hg_fw_verdict *v)
{
	static const char *const chains[] = {"filter_INPUT_ZONES_SOURCE", "filter_INPUT_ZONES"};
	struct eval e = {.rs = ruleset, .p = p, .family = "inet", .table = "firewalld", .hook = "input"};
	json_t *r;
	v->zone[0] = '\0';
	hg_ip_str(&p->saddr, v->source);
	if (!p->saddr.family)
		v->source[0] = '\0';
	for (size_t c = 0; c < ARRAY_SIZE(chains); c++) {
		foreach_item(ruleset, "rule", i, r) {
			if (!same_chain(r, "inet", "firewalld", chains[c]))
				continue;
			json_t *x, *t = NULL;
			bool all = true;
			size_t k;
			json_array_foreach(json_object_get(r, "expr"), k, x) {
				json_t *m = json_object_get(x, "match");
				if (m && eval_match(&e, m) != M_YES)
					all = false;
				if (!t && !(t = json_object_get(x, "goto")))
					t = json_object_get(x, "jump");
			}
			const char *target = t ? str_of(t, "target") : "";
			if (!all || strncmp(target, "filter_IN_", 10) != 0)
				continue;
			snprintf(v->zone, sizeof(v->zone), "%s", target + 10);
			return;
		}
	}
}
