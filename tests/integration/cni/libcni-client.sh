#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same chains through the REAL libcni (tests/tools/cni-client, Debian's libcni 1.1.2):
# bridge at 1.0.0 (add, check, del) and ptp at 0.3.1 (add, del), with pod annotations
# delivered through the io.kubernetes.cri.pod-annotations capability:
#   host-gateway.io/names "db.host,api.host" -> the block holds exactly those names;
#   host-gateway.io/enabled "false"          -> pass-through: no record, no block.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-libcni-client
hg_require_bin
hg_require_cmd jq socat nsenter unshare
hgc_cni_client
hg_guard_forwarding on

export CNI_PATH=$HG_CNI_PATH CNI_CACHE_DIR=$HG_TMP/libcni-cache
caps='{"capabilities": {"io.kubernetes.cri.pod-annotations": true}}'
names_rc='{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/names": "db.host,api.host", "other.io/key": "x"}}'
off_rc='{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/enabled": "false"}}'

# client CMD LIST CID NETNS [RUNTIME_CONFIG]
client() {
	CNI_RUNTIME_CONFIG=${5:-} "$HGC_CLIENT" "$1" "$2" "$3" "$4" eth0 "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$3"
}

# shape IDX KIND VERSION SUBNET
shape() {
	local idx=$1 kind=$2 ver=$3 subnet=$4
	local ns=hgt-$$-lc$idx ns2=hgt-$$-lc${idx}off net=hgt-lc$idx br=hg$$lc$idx
	local cid=hgt-$$-lc$idx-c cid2=hgt-$$-lc$idx-off hosts=$HG_TMP/hosts-$idx hosts2=$HG_TMP/hosts-$idx-off
	local list=$HG_TMP/lc$idx.conflist rec rec2 res gw ino pid1 pid2 out port=$((18200 + idx))
	hg_log "libcni: $kind at $ver"
	hg_subnet_free "$subnet"
	if [ "$kind" = bridge ]; then
		hg_defer ip link del "$br"
		hg_bridge_list "$net" "$ver" "$br" "$subnet" "$caps" >"$list"
	else
		hgc_ptp_list "$net" "$ver" "$subnet" "$caps" >"$list"
	fi
	hg_netns_add "$ns"
	hg_netns_add "$ns2"
	hgc_user_hosts >"$hosts"
	hgc_user_hosts >"$hosts2"
	cp "$hosts" "$hosts.orig"
	ino=$(hgc_inode "$hosts")
	hgc_container "$ns" "$hosts"
	pid1=$HGC_PID
	hgc_container "$ns2" "$hosts2"
	pid2=$HGC_PID
	rec=$(hgc_record "$net" "$cid" eth0)
	rec2=$(hgc_record "$net" "$cid2" eth0)
	hg_defer client del "$list" "$cid" "/proc/$pid1/ns/net"
	hg_defer client del "$list" "$cid2" "/proc/$pid2/ns/net"

	# Names from the annotation.
	res=$(client add "$list" "$cid" "/proc/$pid1/ns/net" "$names_rc") || hg_fail "libcni add failed ($kind $ver)"
	hg_assert_eq "$(jq -r .cniVersion <<<"$res")" "$ver" "libcni result version"
	gw=$(jq -r '.ips[0].gateway' <<<"$res")
	hg_assert_eq "$gw" "${subnet%0/24}1" "gateway in the libcni result"
	hg_assert_eq "$(jq -r '.ips[0].address' <<<"$res")" "${subnet%0/24}2/24" "container address in the libcni result"
	hg_assert_eq "$(hg_block "$hosts")" "$(printf '%s\tdb.host api.host' "$gw")" "block with the annotation's names"
	hg_assert_eq "$(hg_strip "$hosts")" "$(cat "$hosts.orig")" "user lines"
	[ -f "$rec" ] || hg_fail "no record after libcni add"
	hg_listener - "$gw" "$port" "hello-$kind"
	out=$(printf x | nsenter -t "$pid1" -n -m timeout 3 socat -t2 -T2 - "TCP:api.host:$port") ||
		hg_fail "container could not reach api.host:$port"
	hg_assert_eq "$out" "hello-$kind" "reply through api.host"
	if [ "$ver" != 0.3.1 ]; then
		client check "$list" "$cid" "/proc/$pid1/ns/net" "$names_rc" || hg_fail "libcni check failed ($kind $ver)"
	fi
	client del "$list" "$cid" "/proc/$pid1/ns/net" "$names_rc" || hg_fail "libcni del failed ($kind $ver)"
	cmp "$hosts" "$hosts.orig" || hg_fail "hosts after libcni del differs: $(diff "$hosts.orig" "$hosts")"
	hg_assert_eq "$(hgc_inode "$hosts")" "$ino" "inode after del"
	[ ! -e "$rec" ] || hg_fail "record left after libcni del"

	# enabled=false: a pass-through.
	res=$(client add "$list" "$cid2" "/proc/$pid2/ns/net" "$off_rc") || hg_fail "libcni add (disabled) failed ($kind $ver)"
	hg_assert_eq "$(jq -r '.ips[0].address' <<<"$res")" "${subnet%0/24}3/24" "container address passed through (disabled)"
	hg_assert_eq "$(jq -r '.ips[0].gateway' <<<"$res")" "$gw" "gateway passed through (disabled)"
	[ ! -e "$rec2" ] || hg_fail "record written although host-gateway.io/enabled is false"
	hg_assert_eq "$(hg_nrecords "cni/$net")" 0 "records of the network (disabled)"
	cmp "$hosts2" "$hosts.orig" || hg_fail "hosts written although disabled: $(cat "$hosts2")"
	if [ "$ver" != 0.3.1 ]; then
		client check "$list" "$cid2" "/proc/$pid2/ns/net" "$off_rc" || hg_fail "libcni check (disabled) failed"
	fi
	client del "$list" "$cid2" "/proc/$pid2/ns/net" "$off_rc" || hg_fail "libcni del (disabled) failed"
	cmp "$hosts2" "$hosts.orig" || hg_fail "hosts changed by del (disabled)"
	[ -z "$(ls -A "$CNI_CACHE_DIR/results" 2>/dev/null)" ] || hg_fail "libcni cache left: $(ls "$CNI_CACHE_DIR/results")"
}

shape 1 bridge 1.0.0 10.250.30.0/24
shape 2 ptp 0.3.1 10.250.31.0/24
hg_log "PASS"
