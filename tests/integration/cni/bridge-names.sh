#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bridge + host-local + host-gateway at cniVersion 1.0.0 and 0.4.0, driven like libcni
# (hg_chain): ADD, CHECK, the names in the container's own /etc/hosts (a process with its
# own mount namespace, reached as /proc/PID/root/etc/hosts), a client in the container
# reaching a host listener BY NAME, CHECK catching an in-place edit of the block (106),
# DEL restoring the file byte for byte and removing the record.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-bridge-names
hg_require_bin
hg_require_cmd jq socat nsenter unshare
hg_guard_forwarding on

run_version() {
	local ver=$1 idx=$2
	local ns=hgt-$$-bn$idx br=hg$$bn$idx net=hgt-bn$idx cid=hgt-$$-bn$idx-c
	local subnet=10.250.$((10 + idx)).0/24 hosts=$HG_TMP/hosts-$idx list res gw ino rec port out err code
	hg_log "cniVersion $ver"
	hg_subnet_free "$subnet"
	hg_netns_add "$ns"
	hg_defer ip link del "$br"
	hgc_user_hosts >"$hosts"
	cp "$hosts" "$hosts.orig"
	ino=$(hgc_inode "$hosts")
	hgc_container "$ns" "$hosts"
	list=$(hg_bridge_list "$net" "$ver" "$br" "$subnet")
	rec=$(hgc_record "$net" "$cid" eth0)
	hg_defer hg_chain DEL "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0

	res=$(hg_chain ADD "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0 "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p$idx")
	hg_assert_eq "$(jq -r .cniVersion <<<"$res")" "$ver" "result cniVersion"
	gw=$(jq -r '.ips[0].gateway' <<<"$res")
	hg_assert_eq "$gw" "10.250.$((10 + idx)).1" "bridge gateway in the result"
	hg_assert_eq "$(jq -r '.ips[0].address' <<<"$res")" "10.250.$((10 + idx)).2/24" "container address kept in the final result"

	hg_chain CHECK "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0 || hg_fail "CHECK after ADD failed ($ver)"

	# The block, exactly; the user's lines intact; the same inode.
	hg_assert_eq "$(hg_nblocks "$hosts")" 1 "one managed block"
	hg_assert_eq "$(hg_block "$hosts")" "$(printf '%s\t%s' "$gw" "$HG_DEFAULT_NAMES")" "managed block content"
	hg_assert_eq "$(hg_strip "$hosts")" "$(cat "$hosts.orig")" "user lines outside the block"
	hg_assert_eq "$(hgc_inode "$hosts")" "$ino" "hosts file inode"
	[ -f "$rec" ] || hg_fail "no record at $rec"
	hg_assert_eq "$(jq -r .containerID "$rec")" "$cid" "record containerID"

	# By name, from inside the container's mount + net namespaces.
	port=$((18000 + idx))
	hg_listener - "$gw" "$port" "hello-$ver"
	out=$(printf 'x' | nsenter -t "$HGC_PID" -n -m timeout 3 socat -t2 -T2 - "TCP:host.docker.internal:$port") ||
		hg_fail "container could not connect to host.docker.internal:$port"
	hg_assert_eq "$out" "hello-$ver" "reply through host.docker.internal"
	out=$(printf 'x' | nsenter -t "$HGC_PID" -n -m timeout 3 socat -t2 -T2 - "TCP:gateway.docker.internal:$port") ||
		hg_fail "container could not connect to gateway.docker.internal:$port"
	hg_assert_eq "$out" "hello-$ver" "reply through gateway.docker.internal"

	# One line of the block altered in place: CHECK must fail with 106.
	cp "$hosts" "$hosts.added"
	sed "s/host\.containers\.internal/host.containerz.internal/" "$hosts.added" | hgc_write_in_place "$hosts"
	hg_assert_eq "$(hgc_inode "$hosts")" "$ino" "inode after the in-place edit (test setup)"
	err=$HG_TMP/check-$idx.err
	if hg_chain CHECK "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0 2>"$err"; then
		hg_fail "CHECK passed although a line of the block was altered ($ver)"
	fi
	code=$(hgc_chain_err_code <"$err")
	hg_assert_eq "$code" 106 "CHECK error code after altering the block ($(cat "$err"))"
	# Put it back: CHECK passes again (the failure above was about that line).
	hgc_write_in_place "$hosts" <"$hosts.added"
	hg_chain CHECK "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0 || hg_fail "CHECK after restoring the block failed ($ver)"

	hg_chain DEL "$list" "$cid" "/proc/$HGC_PID/ns/net" eth0 || hg_fail "DEL failed ($ver)"
	cmp "$hosts" "$hosts.orig" || hg_fail "hosts file after DEL differs from before ADD ($ver): $(diff "$hosts.orig" "$hosts")"
	hg_assert_eq "$(hgc_inode "$hosts")" "$ino" "hosts file inode after DEL"
	[ ! -e "$rec" ] || hg_fail "record $rec left after DEL ($ver)"
}

run_version 1.0.0 1
run_version 0.4.0 2
hg_log "PASS"
