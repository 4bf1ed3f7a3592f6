#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Nothing of ours is left after kills at bad moments, and DELs alone (issue 8, item 3):
# 32 containers on one bridge with virtualIPs + hostAlias + hostLoopbackPorts +
# localhostPorts; 160 runs of host-gateway ADD or DEL, 8 at a time, each SIGKILLed after
# a random 0-40 ms (a runtime's timeout, the OOM killer); then one DEL of the whole chain
# per container, as a runtime sends it. No GC. Afterwards: no host map element, no
# alias on lo, no users of the alias or of route_localnet, route_localnet back to 0 on
# the bridge, no host table, no record, no by-netns link.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-kill-campaign
hg_guard_forwarding on

N=32 RUNS=160 PAR=8
VIP=169.254.77.9
NET=hgt-kill
BR=hgt-$$-b
LIST=$HG_TMP/kill.conflist
ip -4 addr show dev lo | grep -q " $VIP/" && hg_skip "$VIP is already on lo"
hg_defer ip addr del "$VIP/32" dev lo
# Should a run leave it (a failure), the host table this test made goes too.
[ -z "$(hgn_host_table)" ] && hg_defer nft delete table inet host_gateway
hgn_bridge "$BR" 10.211.50.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.50.0/24 \
	"{\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true,\"hostLoopbackPorts\":[\"18470\",\"18471/udp\"],\"localhostPorts\":[\"18472\"]}" >"$LIST"

for i in $(seq "$N"); do
	hgn_container "k$i"
	hgn_add "k$i" "$LIST" || hg_fail "ADD of k$i failed"
done
hg_assert_eq "$(hgn_map_elements | wc -l)" $((2 * N)) "host map elements after the ADDs"

# run_killed NAME CMD: host-gateway alone, SIGKILLed after 0-40 ms.
run_killed() {
	local name=$1 cmd=$2 conf ms
	conf=$(jq -c --slurpfile prev "$HG_TMP/result-$name.json" \
		'.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$LIST")
	ms=$((RANDOM % 41))
	CNI_COMMAND=$cmd CNI_CONTAINERID=$(hgn_cid "$name") CNI_NETNS=${HGN_NETNS[$name]} CNI_IFNAME=eth0 \
		CNI_PATH=$HG_CNI_PATH timeout -s KILL "$(printf '0.%03d' "$ms")" "$HG_BIN" <<<"$conf" >/dev/null 2>&1 || :
}

killed=0
for ((r = 0; r < RUNS; r += PAR)); do
	for ((j = 0; j < PAR; j++)); do
		name=k$((RANDOM % N + 1))
		cmd=ADD
		((RANDOM % 3 == 0)) && cmd=DEL
		run_killed "$name" "$cmd" &
	done
	wait
done
hg_log "$RUNS killed-or-not runs done"

for i in $(seq "$N"); do
	hgn_del "k$i" "$LIST" || hg_fail "DEL of k$i failed"
done

left=
[ -z "$(hgn_map_elements)" ] || left+=" host-map-elements:$(hgn_map_elements | wc -l)"
[ -z "$(hgn_host_table)" ] || left+=" host-table"
ip -4 addr show dev lo | grep -q " $VIP/" && left+=" alias-$VIP"
[ "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" = 0 ] || left+=" route_localnet=1"
# The host resources' users live in the machine's folder (whatever stateDir), the index in
# the test's stateDir; only this network's users count.
for d in /run/host-gateway/alias /run/host-gateway/localnet "$HG_STATE/by-netns"; do
	n=$({ find "$d" -mindepth 1 \( -name "*$NET*" -o -path "*$BR*" -o -path "*by-netns/*" \) 2>/dev/null || :; } | wc -l)
	[ "$n" -eq 0 ] || left+=" $d:$n($({ find "$d" -mindepth 1 2>/dev/null || :; } | head -3 | tr '\n' ' '))"
done
n=$(hg_nrecords "cni/$NET")
if [ "$n" -ne 0 ]; then
	left+=" records:$n"
	hg_records "cni/$NET" | while read -r f; do hg_log "left: $f: $(cat "$f")"; done
fi
# A writer killed between naming its temp file and renaming it (one instant: the text is
# written to an unnamed O_TMPFILE first) leaves a dot file that no DEL can name; GC removes
# it. GC with no valid attachment: every attachment is gone by now.
gc_conf=$(jq -c '.plugins[-1] + {name: .name, cniVersion: "1.1.0", "cni.dev/valid-attachments": []}' "$LIST")
CNI_COMMAND=GC CNI_PATH=$HG_CNI_PATH "$HG_BIN" <<<"$gc_conf" >"$HG_TMP/gc.out" 2>&1 ||
	hg_fail "GC failed: $(cat "$HG_TMP/gc.out")"
n=$(hg_dir_entries "$HG_STATE/cni/$NET" -name '.tmp.*' | wc -l)
[ "$n" -eq 0 ] || left+=" temp-files-after-GC:$n"
# The attachments' locks go with their records (DEL), those of ADDs killed before their
# record with DEL or GC.
n=$(hg_dir_entries "$HG_STATE/cni/$NET" -name '.*+*.lock' | wc -l)
[ "$n" -eq 0 ] || left+=" attachment-locks-after-GC:$n"
[ -z "$left" ] || hg_fail "left after the kill campaign and DELs:$left"
hg_log "PASS"
