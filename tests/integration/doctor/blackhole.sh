#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor when no nftables rule explains a silent port:
#   1. TCP blackholed by routing (the host's route back to the container is a blackhole):
#      a failure, exit 1, "dropped on the way; no rule found that explains it" (with and
#      without --trace), never "unknown" with exit 0 as before; nor the drop rule of
#      another port whose counter other packets moved meanwhile
#   2. the same port dropped by a legacy iptables rule (x_tables, invisible to nftables):
#      named as legacy rules, with the command that lists them
#   3. --trace's table goes on SIGTERM, SIGINT and SIGHUP mid-probe, and on SIGKILL too
#      with no doctor run after it (the kernel removes a table whose owner is gone); a
#      table an older doctor left (its process gone) goes with the next doctor --trace,
#      but not a table of the user's that is only named like one, nor one named like this
#      very doctor's (same PID in another PID namespace): never traced into, never deleted
#   4. UDP silence (a listener that never answers) stays unknown, saying what was seen;
#      exit 0 when it is the only doubt
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-blackhole
hg_require_bin
hg_require_cmd socat jq nft
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello

# 1. A blackhole route back.
ip -n "$DR_HOST" route add blackhole "$DR_CT_IP/32"
dr_rule_case 1 "✘ $DR_HOST_IP:8080/tcp: no answer within 1000 ms: dropped on the way; no rule found that explains it" --port 8080
dr_doctor --port 8080 --json
dr_expect 1
hg_assert_eq "$(jq -r '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | .status' <<<"$DR_OUT")" fail
# ...while other packets move the counter of a drop rule that cannot match the probe
# (another protocol and port): that rule is not named as the probe's.
ip netns exec "$DR_HOST" nft -f - <<'NFT'
table inet noise {
	chain input {
		type filter hook input priority 0;
		udp dport 9999 counter drop
	}
}
NFT
(for _ in $(seq 1 40); do
	echo x | ip netns exec "$DR_CT" socat -u - "UDP:$DR_HOST_IP:9999" 2>/dev/null || :
	sleep 0.05
done) &
noise=$!
dr_doctor --port 8080
wait "$noise"
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer within 1000 ms: dropped on the way; no rule found that explains it"
ip netns exec "$DR_HOST" nft delete table inet noise
ip -n "$DR_HOST" route del blackhole "$DR_CT_IP/32"

# 2. A legacy iptables rule.
if command -v iptables-legacy >/dev/null && ip netns exec "$DR_HOST" iptables-legacy -A INPUT -p tcp --dport 8080 -j DROP 2>/dev/null; then
	dr_doctor --port 8080
	dr_expect 1
	hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer within 1000 ms: dropped on the way; no nftables rule explains it, but the kernel also holds legacy iptables rules (filter: 1 rule), which nftables cannot show — fix: list them: iptables-legacy -S"
	ip netns exec "$DR_HOST" iptables-legacy -F INPUT
else
	hg_log "iptables-legacy unusable here: its case skipped"
fi

# 3. Signals mid-probe (the probe waits 1 s for a port behind a blackhole).
ip -n "$DR_HOST" route add blackhole "$DR_CT_IP/32"
before=$(dr_ruleset)
for sig in TERM INT HUP KILL; do
	ip netns exec "$DR_HOST" "$HG_BIN" doctor --netns "/var/run/netns/$DR_CT" --config "$HG_TMP/config.json" \
		--port 8080 --trace >/dev/null &
	pid=$!
	for _ in $(seq 1 50); do
		ip netns exec "$DR_HOST" nft list tables | grep -q host-gateway-doctor-trace- && break
		sleep 0.02
	done
	ip netns exec "$DR_HOST" nft list tables | grep -q "host-gateway-doctor-trace-" ||
		hg_fail "no trace table while doctor --trace probes"
	kill -s "$sig" "$pid"
	wait "$pid" || :
	hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after SIG$sig"
done
# A table of a doctor that is gone.
true &
gone=$!
wait "$gone"
ip netns exec "$DR_HOST" nft -f - <<NFT
table inet host-gateway-doctor-trace-$gone {
	chain pre { type filter hook prerouting priority -1000000; policy accept; }
	chain out { type filter hook output priority -1000000; policy accept; }
}
NFT
dr_doctor --port 8080 --trace
dr_expect 1
hg_assert_eq "$(dr_ruleset)" "$before" "the dead doctor's table"
# A table of the user's named like a dead doctor's, with chains of its own, stays.
ip netns exec "$DR_HOST" nft -f - <<NFT
table inet host-gateway-doctor-trace-$gone {
	chain mine { type filter hook input priority 10; policy accept; tcp dport 22 accept; }
}
NFT
before=$(dr_ruleset)
dr_doctor --port 8080 --trace
dr_expect 1
hg_assert_eq "$(dr_ruleset)" "$before" "the user's table named like a doctor's"
ip netns exec "$DR_HOST" nft delete table inet "host-gateway-doctor-trace-$gone"
# A table of the user's named like this very doctor's (doctor as PID 1 of a PID namespace
# of its own): doctor does not trace into it, and deletes nothing.
if command -v unshare >/dev/null && unshare --pid --fork --mount-proc true 2>/dev/null; then
	ip netns exec "$DR_HOST" nft -f - <<'NFT'
table inet host-gateway-doctor-trace-1 {
	chain mine { type filter hook input priority 10; policy accept; tcp dport 22 accept; }
}
NFT
	before=$(dr_ruleset)
	DR_RC=0
	DR_OUT=$(unshare --pid --fork --mount-proc ip netns exec "$DR_HOST" "$HG_BIN" doctor \
		--netns "/var/run/netns/$DR_CT" --config "$HG_TMP/config.json" --port 8080 --trace) || DR_RC=$?
	dr_expect 1
	hg_assert_contains "$DR_OUT" "(not traced: "
	hg_assert_eq "$(dr_ruleset)" "$before" "the user's table named like this doctor's"
	ip netns exec "$DR_HOST" nft delete table inet host-gateway-doctor-trace-1
else
	hg_log "unshare --pid unusable here: the same-name case skipped"
fi
ip -n "$DR_HOST" route del blackhole "$DR_CT_IP/32"

# 4. UDP: a socket bound and silent.
ip netns exec "$DR_HOST" socat -u UDP-RECV:5355,bind=0.0.0.0 OPEN:/dev/null &
hg_defer kill $!
sleep 0.3
dr_doctor --port 5355/udp
dr_expect 0
hg_assert_contains "$DR_OUT" "? $DR_HOST_IP:5355/udp: no answer and no ICMP error within 1000 ms, and no rule on the host's path drops it: open but silent, or lost on the way (UDP cannot tell)"
hg_log "ok"
