/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the host's input filtering out of libnftables JSON (see firewall.h). Nothing here
 * talks to the kernel: lib/ops/doctor.c lists the ruleset and hands the documents over. */
#include <stdio.h>
#include <string.h>
#include "base/firewall.h"

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

/* The shape a drop in family/table/chain belongs to. */
static enum hg_fw_shape classify(json_t *ruleset, const char *family, const char *table, bool policy)
{
	if (table_has_ufw(ruleset, family, table))
		return HG_FW_UFW;
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

/* The counter of the rule of after that before also has; -1 when it is new or has none. */
static json_int_t packets_before(json_t *before, json_t *rule)
{
	json_t *r;
	json_int_t handle = json_integer_value(json_object_get(rule, "handle"));
	foreach_item(before, "rule", i, r) {
		if (same_chain(r, str_of(rule, "family"), str_of(rule, "table"), str_of(rule, "chain")) &&
		    json_integer_value(json_object_get(r, "handle")) == handle)
			return rule_packets(r);
	}
	return -1;
}

static bool counted(json_t *before, json_t *rule)
{
	json_int_t now = rule_packets(rule), then = packets_before(before, rule);
	return now >= 0 && then >= 0 && now > then;
}

int hg_fw_find_dropper(json_t *before, json_t *after, struct hg_fw_verdict *v)
{
	json_t *r, *c;
	memset(v, 0, sizeof(*v));
	if (!before || !after)
		return 0;
	foreach_item(after, "rule", i, r) {
		if (rule_verdict(r) == V_DROP && counted(before, r)) {
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
			if (same_chain(r, fam, tab, NULL) && rule_verdict(r) == V_ACCEPT && counted(before, r))
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
		return "drop rule";
	case HG_FW_NONE:
		break;
	}
	return "none";
}

char *hg_fw_fix(const struct hg_fw_verdict *v, const char *iface, const char *proto, unsigned port)
{
	char *out = NULL;
	int n = -1;
	switch (v->shape) {
	case HG_FW_UFW:
		if (iface && *iface)
			n = asprintf(&out, "ufw allow in on %s to any port %u proto %s", iface, port, proto);
		else
			n = asprintf(&out, "ufw allow %u/%s", port, proto);
		break;
	case HG_FW_FIREWALLD:
		if (iface && *iface)
			n = asprintf(&out, "firewall-cmd --zone=trusted --add-interface=%s", iface);
		else
			n = asprintf(&out, "firewall-cmd --add-port=%u/%s", port, proto);
		break;
	case HG_FW_POLICY_DROP:
	case HG_FW_RULE_DROP:
		if (iface && *iface)
			n = asprintf(&out, "nft insert rule %s %s %s iifname \"%s\" %s dport %u accept", v->family,
				     v->table, v->chain, iface, proto, port);
		else
			n = asprintf(&out, "nft insert rule %s %s %s %s dport %u accept", v->family, v->table,
				     v->chain, proto, port);
		break;
	case HG_FW_NONE:
		break;
	}
	return n < 0 ? NULL : out;
}
