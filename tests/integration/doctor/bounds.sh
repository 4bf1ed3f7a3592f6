#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor answers in bounded time whatever the ruleset: the static evaluation follows jumps
# with a budget (rules that jump on through chains fan out: 10 through 8 chains are 10^8
# walks, which the kernel never takes when the jumps' matches fail, but an evaluator that
# cannot tell "meta mark" would), and a ruleset of 10 000 counter-less drop rules is read in
# one pass, not one per rule (10^8 steps). And --trace names the drop however many rules
# the probe matched before it (each is a trace event: 70 counters filled the 64 kept).
# Each run within 15 s, exit 1, the rule named, and the ruleset byte-for-byte what it was.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-bounds
hg_require_bin
hg_require_cmd socat nft timeout
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
nft_host() { ip netns exec "$DR_HOST" nft "$@"; }

# doctor ARGS within 15 s: DR_OUT, DR_RC (124 when it did not answer in time).
bounded_doctor() {
	DR_RC=0
	DR_OUT=$(timeout 15 ip netns exec "$DR_HOST" "$HG_BIN" doctor --netns "/var/run/netns/$DR_CT" \
		--config "$HG_TMP/config.json" "$@") || DR_RC=$?
	printf '%s\n' "$DR_OUT" >&2
}

# 1. Jumps fanning out behind a match doctor cannot evaluate (the kernel takes none).
{
	echo "table inet fan {"
	for d in 0 1 2 3 4 5 6 7; do
		echo " chain c$d {"
		for _ in 1 2 3 4 5 6 7 8 9 10; do echo "  meta mark 0x5 jump c$((d + 1))"; done
		echo " }"
	done
	echo " chain c8 { meta mark 0x6 counter; }"
	echo " chain input { type filter hook input priority 0; tcp dport 8080 jump c0; tcp dport 8080 drop; }"
	echo "}"
} >"$HG_TMP/fan.nft"
nft_host -f "$HG_TMP/fan.nft"
before=$(dr_ruleset)
bounded_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer within 1000 ms; the host's input path may drop it (nftables: inet fan input rule handle"
hg_assert_contains "$DR_OUT" ": tcp dport 8080 drop), after \"meta mark\""
hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor"
nft_host flush ruleset

# 2. 10 000 drop rules without counters, one of which is the probe's.
{
	echo "table inet big {"
	echo " chain input { type filter hook input priority 0;"
	for i in $(seq 1 10000); do echo "  tcp dport $((10000 + i)) drop"; done
	echo "  tcp dport 8080 drop"
	echo " }"
	echo "}"
} >"$HG_TMP/big.nft"
nft_host -f "$HG_TMP/big.nft"
before=$(dr_ruleset)
bounded_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (nftables: inet big input rule handle 10002: tcp dport 8080 drop)"
hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor"
nft_host flush ruleset

# 3. 70 counting rules the probe matches, then the drop (after "meta mark", which only the
# trace can tell).
{
	echo "table inet acct {"
	echo " chain input { type filter hook input priority 0;"
	for _ in $(seq 1 70); do echo "  tcp dport 8080 counter"; done
	echo "  tcp dport 8080 meta mark 0 drop"
	echo " }"
	echo "}"
} >"$HG_TMP/acct.nft"
nft_host -f "$HG_TMP/acct.nft"
DR_STATELESS=1
before=$(dr_ruleset)
bounded_doctor --port 8080 --trace
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (nftables: inet acct input rule handle 72: tcp dport 8080 meta mark 0x00000000 drop), traced"
hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor"
nft_host flush ruleset
hg_log "ok"
