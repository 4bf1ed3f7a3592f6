#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# 20 ADDs in parallel for different containers of one bridge network, then 20 DELs in
# parallel: every ADD succeeds, exactly 20 records, each container's hosts file has
# exactly one block with the right line; after the DELs no record, no block, no temp
# file, and the host is as it was (links, routes, nft, netns, forwarding).
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-parallel
hg_require_bin
hg_require_cmd jq unshare
hg_guard_forwarding on

N=20 net=hgt-par br=hg$$par subnet=10.250.70.0/24
hg_subnet_free "$subnet"
list=$(hg_bridge_list "$net" 1.0.0 "$br" "$subnet")
declare -a PIDS
for ((i = 0; i < N; i++)); do
	hg_netns_add "hgt-$$-p$i"
	hgc_user_hosts >"$HG_TMP/hosts-$i"
	hgc_container "hgt-$$-p$i" "$HG_TMP/hosts-$i"
	PIDS[i]=$HGC_PID
	hg_defer hg_chain DEL "$list" "hgt-$$-p$i-c" "/proc/$HGC_PID/ns/net" eth0
done
cp "$HG_TMP/hosts-0" "$HG_TMP/hosts.orig"
hg_defer ip link del "$br"
# shellcheck disable=SC2119
hg_snapshot_host # no directories: the state directory is checked file by file below

# job OUT CMD...: CMD's stdout, stderr and exit status in OUT.out, OUT.err, OUT.rc.
job() {
	local out=$1 rc=0
	shift
	"$@" >"$out.out" 2>"$out.err" || rc=$?
	echo "$rc" >"$out.rc"
}
for ((i = 0; i < N; i++)); do
	job "$HG_TMP/add-$i" hg_chain ADD "$list" "hgt-$$-p$i-c" "/proc/${PIDS[i]}/ns/net" eth0 &
done
wait

gws=()
for ((i = 0; i < N; i++)); do
	hg_assert_eq "$(cat "$HG_TMP/add-$i.rc")" 0 "ADD $i exit status ($(cat "$HG_TMP/add-$i.err"))"
	addr=$(jq -r '.ips[0].address' "$HG_TMP/add-$i.out")
	gw=$(jq -r '.ips[0].gateway' "$HG_TMP/add-$i.out")
	hg_assert_eq "$gw" 10.250.70.1 "ADD $i gateway"
	gws+=("$addr")
	hg_assert_eq "$(hg_nblocks "$HG_TMP/hosts-$i")" 1 "blocks in container $i's hosts"
	hg_assert_eq "$(hg_block "$HG_TMP/hosts-$i")" "$(printf '10.250.70.1\t%s' "$HG_DEFAULT_NAMES")" "container $i's block"
	hg_assert_eq "$(hg_strip "$HG_TMP/hosts-$i")" "$(cat "$HG_TMP/hosts.orig")" "container $i's user lines"
	rec=$(hgc_record "$net" "hgt-$$-p$i-c" eth0)
	[ -f "$rec" ] || hg_fail "no record for container $i"
	hg_assert_eq "$(jq -r .containerID "$rec")" "hgt-$$-p$i-c" "record $i containerID"
	hg_assert_eq "$(jq -r '.containerIPs[0]' "$rec")" "$addr" "record $i container address"
done
hg_assert_eq "$(hg_nrecords "cni/$net")" "$N" "records after $N parallel ADDs"
hg_assert_eq "$(printf '%s\n' "${gws[@]}" | sort -u | wc -l)" "$N" "distinct container addresses"
# No stray files (temp files of the atomic writes) next to the records.
hg_assert_eq "$(find "$HG_STATE" -type f ! -name '*.json' ! -name '.*.lock' | wc -l)" 0 \
	"stray files in the state directory: $(find "$HG_STATE" -type f)"

for ((i = 0; i < N; i++)); do
	job "$HG_TMP/del-$i" hg_chain DEL "$list" "hgt-$$-p$i-c" "/proc/${PIDS[i]}/ns/net" eth0 &
done
wait
for ((i = 0; i < N; i++)); do
	hg_assert_eq "$(cat "$HG_TMP/del-$i.rc")" 0 "DEL $i exit status ($(cat "$HG_TMP/del-$i.err"))"
	hg_assert_eq "$(cat "$HG_TMP/del-$i.out")" "" "DEL $i stdout"
	cmp -s "$HG_TMP/hosts-$i" "$HG_TMP/hosts.orig" || hg_fail "container $i's hosts not restored: $(cat "$HG_TMP/hosts-$i")"
done
hg_assert_eq "$(hg_nrecords "cni/$net")" 0 "records after $N parallel DELs"
hg_assert_eq "$(find "$HG_STATE" -type f ! -name '.*.lock' | wc -l)" 0 "files left in the state directory: $(find "$HG_STATE" -type f)"
hg_assert_eq "$(find "$HG_STATE" -type f -name '.*+*.lock' | wc -l)" 0 "attachment locks left after the DELs: $(find "$HG_STATE" -type f -name '.*+*.lock')"
leases=$(find "$HG_TMP/ipam/$net" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null || true)
hg_assert_eq "$leases" "" "host-local leases left"
# The bridge (and its address) is the bridge plugin's and stays after DEL by design.
ip link del "$br"
hg_assert_host_unchanged
hg_log "PASS"
