/* SPDX-License-Identifier: Apache-2.0 */
/* nftables tracing of one probe, for `host-gateway doctor --trace`: a short-lived table of
 * the doctor's own (inet host-gateway-doctor-trace-PID) marks only the packets of the
 * probe's 5-tuple (both directions) with `meta nftrace set 1` at a priority before every
 * other chain, and the kernel's trace events (NFNLGRP_NFTRACE) are read from a netlink
 * socket subscribed to that group in the current network namespace.
 *
 * Why a raw NETLINK_NETFILTER socket rather than libnftables' `nft monitor trace`: the
 * monitor blocks in its own loop until the process is stopped, with no timeout, and
 * prints text; the socket is read without blocking once the probe is over, and the
 * events come as attributes (table, chain, rule handle, verdict) with nothing to parse
 * back. The rule's text is then taken from the ruleset listing by its handle.
 *
 * The table goes on every path: hg_nft_trace_stop after the probe; SIGINT, SIGTERM and
 * SIGHUP (handlers installed while it exists send a ready-made delete batch on a socket
 * opened beforehand, then let the signal kill the process); and the table is made with
 * `flags owner`, which ties it to the socket of the libnftables context kept for the
 * process's life (os/nft.c): the kernel removes it when the process ends however it ends
 * (SIGKILL). A table without the flag, left by an older doctor, is removed by the next
 * doctor that traces. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/firewall.h"
#include "base/ip.h"

#define HG_TRACE_TABLE_PREFIX "host-gateway-doctor-trace-"

struct hg_nft_trace {
	int mon; /* subscribed to NFNLGRP_NFTRACE */
	char table[64];
	uint16_t sport, dport;
};

/* Subscribes, removes the tables of dead doctors, adds this one's for the tuple
 * saddr:sport -> daddr:dport/proto (both directions; saddr NULL: any source). On failure
 * nothing is left. */
int hg_nft_trace_start(struct hg_nft_trace *tr, const struct hg_ip *saddr, const struct hg_ip *daddr,
		       const char *proto, uint16_t sport, uint16_t dport, struct hg_error *err);
/* The events of the probe's packets received so far (waiting up to wait_ms for the first),
 * in order, at most max into ev. */
size_t hg_nft_trace_read(struct hg_nft_trace *tr, int wait_ms, struct hg_fw_trace_event *ev, size_t max);
/* Removes the table, closes the socket, restores the signal handlers. */
void hg_nft_trace_stop(struct hg_nft_trace *tr);
