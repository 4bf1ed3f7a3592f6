/* SPDX-License-Identifier: Apache-2.0 */
/* What the host's INPUT path does with a probe, read from the nftables ruleset as
 * `nft -j list ruleset` prints it (libnftables JSON), for `host-gateway doctor`. Pure: the
 * caller lists the ruleset before and after one probe, and the rule whose counter moved and
 * whose verdict is drop or reject (or the input chain whose policy is drop) is the one that
 * took the packet. iptables-nft rules (ufw) show matches as opaque xt expressions, but every
 * one of them carries a counter, which is all this needs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

enum hg_fw_shape {
	HG_FW_NONE,        /* nothing on the input hook drops */
	HG_FW_UFW,         /* iptables-nft tables with ufw-* chains (ufw-user-input) */
	HG_FW_FIREWALLD,   /* table inet firewalld, filter_INPUT and filter_IN_<zone> chains */
	HG_FW_POLICY_DROP, /* a plain input base chain with policy drop */
	HG_FW_RULE_DROP,   /* a plain rule that drops or rejects */
};

struct hg_fw_verdict {
	enum hg_fw_shape shape;
	char family[8];
	char table[64];
	char chain[64];
	int64_t handle; /* the rule that took the packet; 0 for a chain policy */
};

/* The shape of the ruleset's input filtering, from the ruleset alone: ufw, firewalld, or a
 * plain input chain with policy drop (in that order of precedence); HG_FW_NONE otherwise.
 * v gets the chain that stands for it. */
enum hg_fw_shape hg_fw_shape_of(json_t *ruleset, struct hg_fw_verdict *v);

/* Who dropped a probe: compares the rule counters of two listings of the ruleset. 1 with *v
 * filled when a drop or reject rule counted it, or when the probe went through an input
 * chain whose policy is drop without any accept rule counting it; 0 when nothing says so. */
int hg_fw_find_dropper(json_t *before, json_t *after, struct hg_fw_verdict *v);

/* The command that lets proto/port in on iface (NULL iface: any) for the verdict's shape,
 * as a heap string. */
char *hg_fw_fix(const struct hg_fw_verdict *v, const char *iface, const char *proto, unsigned port);
const char *hg_fw_shape_name(enum hg_fw_shape s);
