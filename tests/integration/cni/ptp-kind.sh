#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ptp + host-local + host-gateway at cniVersion 0.3.1 (kindnet's shape): ADD writes the
# names, a client reaches the host by name, DEL comes WITHOUT prevResult (libcni sends none
# below 0.4.0) and still removes the block and the record; CHECK is refused at 0.3.1 (1).
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-ptp-kind
hg_require_bin
hg_require_cmd jq socat nsenter unshare
hg_guard_forwarding on

ns=hgt-$$-ptp net=hgt-ptp cid=hgt-$$-ptp-c subnet=10.250.20.0/24
hosts=$HG_TMP/hosts
hg_subnet_free "$subnet"
hg_netns_add "$ns"
hgc_user_hosts >"$hosts"
cp "$hosts" "$hosts.orig"
ino=$(hgc_inode "$hosts")
hgc_container "$ns" "$hosts"
netns=/proc/$HGC_PID/ns/net
list=$(hgc_ptp_list "$net" 0.3.1 "$subnet")
rec=$(hgc_record "$net" "$cid" eth0)
hg_defer hg_chain DEL "$list" "$cid" "$netns" eth0

res=$(hg_chain ADD "$list" "$cid" "$netns" eth0 "IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns")
hg_assert_eq "$(jq -r .cniVersion <<<"$res")" 0.3.1 "result cniVersion"
gw=$(jq -r '.ips[0].gateway' <<<"$res")
hg_assert_eq "$gw" 10.250.20.1 "ptp gateway in the result"
[ -f "$rec" ] || hg_fail "no record at $rec"
hg_assert_eq "$(hg_block "$hosts")" "$(printf '%s\t%s' "$gw" "$HG_DEFAULT_NAMES")" "managed block content"
hg_assert_eq "$(hg_strip "$hosts")" "$(cat "$hosts.orig")" "user lines outside the block"

hg_listener - "$gw" 18100 hello-ptp
out=$(printf 'x' | nsenter -t "$HGC_PID" -n -m timeout 3 socat -t2 -T2 - TCP:host.containers.internal:18100) ||
	hg_fail "container could not connect to host.containers.internal:18100"
hg_assert_eq "$out" hello-ptp "reply through host.containers.internal"

# CHECK at 0.3.1: libcni would refuse it; the plugin must too, with code 1.
conf=$(jq -c --arg state "$HG_STATE" --argjson prev "$res" \
	'{cniVersion: "0.3.1", name: "hgt-ptp", type: "host-gateway", stateDir: $state, prevResult: $prev}' <<<'{}')
rc=0
out=$(hg_plugin CHECK "$conf" "$cid" "$netns" eth0) || rc=$?
[ "$rc" -ne 0 ] || hg_fail "CHECK at 0.3.1 exited 0: $out"
hg_assert_eq "$(jq -r .code <<<"$out")" 1 "CHECK at 0.3.1: error code ($out)"
hg_assert_eq "$(jq -r .cniVersion <<<"$out")" 0.3.1 "CHECK at 0.3.1: error cniVersion"
# ... and it must not have touched anything.
[ -f "$rec" ] || hg_fail "record gone after a refused CHECK"

# DEL in reverse order through the libcni-like driver: below 0.4.0 host-gateway gets
# no prevResult and must work from its record alone.
hg_chain DEL "$list" "$cid" "$netns" eth0 || hg_fail "chain DEL failed"
[ ! -e "$rec" ] || hg_fail "record left after DEL without prevResult"
cmp "$hosts" "$hosts.orig" || hg_fail "hosts file after DEL differs from before ADD: $(diff "$hosts.orig" "$hosts")"
hg_assert_eq "$(hgc_inode "$hosts")" "$ino" "hosts file inode after DEL"
leases=$(find "$HG_TMP/ipam/$net" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null || true)
hg_assert_eq "$leases" "" "host-local leases left after DEL"
hg_log "PASS"
