#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DEL succeeds whatever ADD refused (issue 7, item 1), through the REAL libcni
# (tests/tools/cni-client): bridge + host-local + host-gateway, the pod annotation
# host-gateway.io/localhost-ports "abc" (and a bad names / extra-hosts / enabled, and a
# bad plugin entry). ADD fails with code 7; then the chain's DEL, which libcni runs last
# plugin first and stops at the first failure, succeeds, and host-local has released the
# pod's IP: a pod that retries its sandbox cannot drain the range.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-del-after-refused-add
hg_require_bin
hg_require_cmd jq
hgc_cni_client
hg_guard_forwarding on

export CNI_PATH=$HG_CNI_PATH CNI_CACHE_DIR=$HG_TMP/libcni-cache
net=hgt-delref br=hg$$dr subnet=10.250.33.0/24
hg_subnet_free "$subnet"
hg_defer ip link del "$br"
caps='{"capabilities": {"io.kubernetes.cri.pod-annotations": true}}'
good=$HG_TMP/good.conflist
hg_bridge_list "$net" 1.0.0 "$br" "$subnet" "$caps" >"$good"
# A plugin entry ADD refuses: DEL needs only stateDir from it.
badconf=$HG_TMP/badconf.conflist
jq '.plugins[-1] += {hostIPs: ["bogus"], localhostPorts: "x"}' "$good" >"$badconf"

# ips_reserved: the addresses host-local holds for the network (one file per IP).
ips_reserved() {
	find "$HG_TMP/ipam/$net" -maxdepth 1 -name '10.*' 2>/dev/null | wc -l
}

client() { # client CMD LIST CID NETNS RUNTIME_CONFIG
	CNI_RUNTIME_CONFIG=$5 "$HGC_CLIENT" "$1" "$2" "$3" "$4" eth0 "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$3"
}

i=0
while IFS='|' read -r what list ann; do
	i=$((i + 1))
	ns=hgt-$$-dr$i cid=hgt-$$-dr$i
	hg_netns_add "$ns"
	rc=$(jq -cn --argjson a "$ann" '{"io.kubernetes.cri.pod-annotations": $a}')
	out=$HG_TMP/add-$i.out
	if client add "$list" "$cid" "/var/run/netns/$ns" "$rc" >"$out" 2>&1; then
		hg_fail "$what: libcni ADD succeeded; expected host-gateway to refuse it"
	fi
	hg_assert_contains "$(cat "$out")" "host-gateway" "$what: the ADD error comes from host-gateway"
	hg_assert_eq "$(ips_reserved)" 1 "$what: host-local holds the pod's IP after the failed ADD"
	client del "$list" "$cid" "/var/run/netns/$ns" "$rc" >"$HG_TMP/del-$i.out" 2>&1 ||
		hg_fail "$what: libcni DEL failed: $(cat "$HG_TMP/del-$i.out")"
	hg_assert_eq "$(ips_reserved)" 0 "$what: host-local released the IP after DEL"
	hg_assert_eq "$(hg_nrecords "cni/$net")" 0 "$what: no record"
	[ -z "$(ls -A "$CNI_CACHE_DIR/results" 2>/dev/null)" ] || hg_fail "$what: libcni cache left: $(ls "$CNI_CACHE_DIR/results")"
	hg_log "$what: ADD refused, DEL released the IP"
done <<EOT
localhost-ports abc|$good|{"host-gateway.io/localhost-ports": "abc"}
names|$good|{"host-gateway.io/names": "bad name!"}
extra-hosts|$good|{"host-gateway.io/extra-hosts": "db"}
enabled|$good|{"host-gateway.io/enabled": "maybe"}
bad plugin entry|$badconf|{}
EOT

# GC with the same refused entry is not refused either (1.1.0 only; through hg_chain).
gc_list=$(jq -c '.cniVersion = "1.1.0" | .plugins = [.plugins[-1]]' "$badconf")
gc_conf=$(jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion, "cni.dev/valid-attachments": []}' <<<"$gc_list")
hg_plugin GC "$gc_conf" "" "" "" "" >/dev/null || hg_fail "GC with a refused plugin entry failed"
hg_log "PASS"
