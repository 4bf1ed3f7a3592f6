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
#include "base/ip.h"

enum hg_fw_shape {
	HG_FW_NONE,        /* nothing on the input hook drops */
	HG_FW_UFW,         /* iptables-nft tables with ufw-* chains (ufw-user-input) */
	HG_FW_FIREWALLD,   /* table inet firewalld, filter_INPUT and filter_IN_<zone> chains */
	HG_FW_POLICY_DROP, /* a plain input base chain with policy drop */
	HG_FW_RULE_DROP,   /* a plain rule that drops or rejects */
	HG_FW_IPTABLES,    /* iptables-nft's tables (ip filter INPUT, FORWARD...) */
	HG_FW_DOCKER,      /* iptables-nft's table with Docker's DOCKER-USER chain */
};

struct hg_fw_verdict {
	enum hg_fw_shape shape;
	char family[8];
	char table[64];
	char chain[64];
	int64_t handle; /* the rule that took the packet; 0 for a chain policy */
	/* Filled by hg_fw_match_probe and hg_fw_trace_verdict: */
	char hook[16];     /* the base chain's hook: prerouting, input, forward, ingress */
	char verdict[16];  /* "drop", "reject", "policy drop" */
	bool may;          /* an expression of the path could not be evaluated: may drop */
	char unknown[64];  /* that expression ("xt match conntrack", "limit", "fib") */
	/* For the fix of a firewalld shape (hg_fw_firewalld_zone): the zone that handles the
	 * probe and its source address; empty: unknown. */
	char zone[32];
	char source[HG_IP_STRLEN];
};

/* A probe as the host sees it arrive, for the static evaluation of the ruleset. */
struct hg_fw_probe {
	const char *iifname;  /* where it enters the host */
	const char *oifname;  /* where it leaves the host when forwarded, or NULL (unknown) */
	struct hg_ip saddr, daddr;
	const char *proto;    /* "tcp" or "udp" */
	uint16_t sport;       /* 0: unknown */
	uint16_t dport;
	bool local;           /* daddr is the host's own (input hook), else it is forwarded */
};

/* Evaluates the probe against every base chain on its path (netdev ingress of its
 * interface, then prerouting, then input or forward; ip or ip6 and inet; every table; in
 * priority order), following jumps and gotos, named and anonymous sets and verdict maps.
 * before (the listing before the probe, or NULL): a rule whose counter did not move
 * between it and ruleset did not match the probe, whatever its expressions.
 * 1 with *v the rule (or policy) that drops it for certain; 2 with *v the first that may
 * (v->unknown names what could not be evaluated); 0 when nothing on the path drops it. */
int hg_fw_match_probe(json_t *before, json_t *ruleset, const struct hg_fw_probe *p, struct hg_fw_verdict *v);

/* firewalld: the zone whose chain filter_INPUT_ZONES (or _ZONES_SOURCE, older) sends the
 * probe to (iifname or saddr rules, else the default's catch-all), into v->zone, and the
 * probe's source address into v->source, for hg_fw_fix. */
void hg_fw_firewalld_zone(json_t *ruleset, const struct hg_fw_probe *p, struct hg_fw_verdict *v);

/* One nftables trace event (NFNLGRP_NFTRACE), as lib/os/nft-trace.c reads it. */
enum hg_fw_trace_type { HG_TRACE_POLICY = 1, HG_TRACE_RETURN = 2, HG_TRACE_RULE = 3 }; /* NFT_TRACETYPE_* */
struct hg_fw_trace_event {
	uint32_t id;
	int type;         /* enum hg_fw_trace_type, or another the kernel added */
	char family[8];
	char table[64];
	char chain[64];
	int64_t handle;   /* HG_TRACE_RULE */
	int verdict;      /* NF_DROP 0, NF_ACCEPT 1, NFT_CONTINUE -1, NFT_JUMP -3... */
	int policy;       /* HG_TRACE_POLICY */
	char hook[16];
};
/* What the trace of a probe says dropped it: the rule whose verdict was drop (or the
 * chain whose policy was), in family/table/chain of the events; 1 with *v, else 0. */
int hg_fw_trace_verdict(json_t *ruleset, const struct hg_fw_trace_event *ev, size_t n, struct hg_fw_verdict *v);

/* The text of rule handle of family/table/chain in `nft -a list ruleset` text, without its
 * "# handle N" comment; NULL when it is not there (or out of memory). */
char *hg_fw_rule_text(const char *listing, const char *family, const char *table, const char *chain,
		      int64_t handle);

/* The shape of the ruleset's input filtering, from the ruleset alone: ufw, firewalld, or a
 * plain input chain with policy drop (in that order of precedence); HG_FW_NONE otherwise.
 * v gets the chain that stands for it. */
enum hg_fw_shape hg_fw_shape_of(json_t *ruleset, struct hg_fw_verdict *v);

/* Who dropped a probe: compares the rule counters of two listings of the ruleset. 1 with *v
 * filled when a drop or reject rule counted it, or when the probe went through an input
 * chain whose policy is drop without any accept rule counting it; 0 when nothing says so. */
int hg_fw_find_dropper(json_t *before, json_t *after, struct hg_fw_verdict *v);
/* The same, but a drop rule whose counter moved is taken only if its matches may hold for
 * probe p (other packets may have moved it meanwhile: a rule of another port is not the
 * probe's). */
int hg_fw_find_dropper_for(json_t *before, json_t *after, const struct hg_fw_probe *p, struct hg_fw_verdict *v);

/* The command that lets proto/port in on iface (NULL iface: any) for the verdict's shape,
 * as a heap string: an accept for that interface (firewalld, whose rules cannot name an
 * interface: for the source address in the zone that handles it) and port only. */
char *hg_fw_fix(const struct hg_fw_verdict *v, const char *iface, const char *proto, unsigned port);
/* s as one shell word, safe to paste: itself when it holds only [A-Za-z0-9_.,:/@%+=-],
 * else in single quotes (a ' as '\''), into buf (4 bytes a character and 3 more). */
const char *hg_fw_shell_word(const char *s, char *buf, size_t size);
const char *hg_fw_shape_name(enum hg_fw_shape s);
