#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# 20 ADDs in parallel, then 20 DELs in parallel, of containers on one bridge
# with hostLoopbackPorts ["7777","7778/udp"]: the shared host map ends up with
# exactly 2 elements per attachment (no lost, no duplicated), and after the
# DELs the host table and route_localnet on the bridge are gone.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-parallel
hg_guard_forwarding on

N=20
NET=hgt-par
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.11.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.11.0/24 '{"hostLoopbackPorts":["7777","7778/udp"]}' >"$LIST"
[ -z "$(hgn_host_table)" ] || hg_fail "a host table inet host_gateway exists before the test: $(nft list table inet host_gateway)"

# The bridge exists before the race (as with any running node).
hgn_container warm
hgn_add warm "$(jq '.plugins |= .[:1]' "$LIST")"

for ((i = 1; i <= N; i++)); do
	hgn_container "c$i"
	hg_defer hg_chain DEL "$LIST" "$(hgn_cid "c$i")" "${HGN_NETNS[c$i]}" eth0
done

# run_all CMD: CMD for every container at once; fails when any of them failed.
run_all() {
	local cmd=$1 i pids=() failed=0
	for ((i = 1; i <= N; i++)); do
		hg_chain "$cmd" "$LIST" "$(hgn_cid "c$i")" "${HGN_NETNS[c$i]}" eth0 \
			>"$HG_TMP/result-c$i.json" 2>"$HG_TMP/$cmd-c$i.err" &
		pids+=($!)
	done
	for ((i = 1; i <= N; i++)); do
		if ! wait "${pids[i - 1]}"; then
			hg_log "$cmd of c$i failed: $(cat "$HG_TMP/$cmd-c$i.err")"
			failed=1
		fi
	done
	return "$failed"
}

t0=$(date +%s%N)
run_all ADD || hg_fail "parallel ADD failed"
t1=$(date +%s%N)
hg_log "$N parallel ADDs: $(((t1 - t0) / 1000000)) ms"

elems=$(hgn_map_elements)
hg_assert_eq "$(grep -c . <<<"$elems")" $((2 * N)) "host map elements after $N parallel ADDs"
hg_assert_eq "$(jq -r '.[0].elem.comment' <<<"$elems" | sort -u | wc -l)" "$N" "distinct comments"
hg_assert_eq "$(jq -r '.[0].elem.comment' <<<"$elems" | sort | uniq -c | awk '$1 != 2' | wc -l)" 0 \
	"every attachment has exactly 2 elements"
# Every container's own address and ports are there.
for ((i = 1; i <= N; i++)); do
	me=$(hgn_address "c$i")
	key=$NET+$(hgn_cid "c$i")+eth0
	got=$(jq -rc --arg k "$key" 'select(.[0].elem.comment == $k) | .[0].elem.val.concat | [.[1], .[3], .[4]] | join(" ")' \
		<<<"$elems" | sort | paste -sd, -)
	hg_assert_eq "$got" "$me tcp 7777,$me udp 7778" "elements of c$i"
done
hg_assert_eq "$(hg_nrecords "cni/$NET")" "$N" "records after parallel ADD"
hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 1 "route_localnet on $BR"
for ((i = 1; i <= N; i++)); do
	hgn_check "c$i" "$LIST" || hg_fail "CHECK of c$i failed"
done

t0=$(date +%s%N)
run_all DEL || hg_fail "parallel DEL failed"
t1=$(date +%s%N)
hg_log "$N parallel DELs: $(((t1 - t0) / 1000000)) ms"
[ -z "$(hgn_host_table)" ] || hg_fail "host table left after $N parallel DELs: $(nft list table inet host_gateway)"
hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 0 "route_localnet on $BR after the DELs"
hg_assert_eq "$(hg_nrecords "cni/$NET")" 0 "records after parallel DEL"
hg_log "PASS"
