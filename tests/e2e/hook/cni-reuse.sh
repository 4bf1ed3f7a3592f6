#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CNI record reuse (issue 4, createRuntime step 2): the CNI chain bridge + host-local +
# host-gateway ran for netns N at sandbox time (stateDir S, virtualIPs in the conflist);
# then a runc container joins N with the hook configured on the same stateDir but WITHOUT
# virtualIPs. The hook must take the names and addresses from the CNI record (so the
# names map to the virtual IP, not to the gateway it would find itself), create no hook
# record and redo no plumbing; the container reaches the host listener by name through
# the CNI plugin's DNAT; poststop leaves the CNI record and table alone; CNI DEL then
# removes them.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-cni-reuse
hk_runtime_need runc
if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then hg_skip "reference CNI plugins not installed"; fi
hg_guard_forwarding on
PORT=18474
VIP=169.254.1.2
SUB=10.216.1.0/24
BR=hgt$$br
NET=hgt-reuse
hg_subnet_free "$SUB"
hg_netns_add "hgt-$$-n"
NSNAME=hgt-$$-n
NSP=/var/run/netns/$NSNAME
hg_defer e2e_del_link "$BR"
list=$(jq -nc --arg br "$BR" --arg sub "$SUB" --arg ipam "$HG_TMP/ipam" --arg s "$HG_STATE" --arg vip "$VIP" --arg net "$NET" '
	{cniVersion: "1.0.0", name: $net, plugins: [
		{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
		 ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $sub}]], routes: [{dst: "0.0.0.0/0"}]}},
		{type: "host-gateway", stateDir: $s, virtualIPs: [$vip]}]}')
CID=$HK_CID-sandbox
hg_defer hg_chain DEL "$list" "$CID" "" eth0
hg_chain ADD "$list" "$CID" "$NSP" eth0 >"$HG_TMP/result.json" || hg_fail "CNI ADD failed"
GW=$(jq -r '.ips[0].gateway' "$HG_TMP/result.json")
CIP=$(jq -r '.ips[0].address | sub("/.*"; "")' "$HG_TMP/result.json")
cni_rec=$(find "$HG_STATE/cni" -name '*.json' -print -quit)
[ -n "$cni_rec" ] || hg_fail "no CNI record under $HG_STATE/cni"
cni_before=$(cat "$cni_rec")
table_before=$(ip netns exec "$NSNAME" nft list table inet host_gateway) || hg_fail "the CNI ADD made no table"
want=$(jq -r '.entries[] | "\(.ip)\t\(.names | join(" "))"' "$cni_rec")
hg_assert_eq "$want" "$VIP"$'\t'"$HG_DEFAULT_NAMES" "the CNI record's entries"
hg_listener - "$GW" "$PORT" "hk-cni %PEER%"

conf=$HG_TMP/hook.json
hk_config "$conf" # same stateDir, no virtualIPs
b=$HG_TMP/b1 id=$HK_CID-app
hk_bundle "$b" "$conf" "path:$NSP"
hk_bundle_cmd "$b" "for i in 1 2 3; do a=\$(echo ping | nc -w 3 host.docker.internal $PORT) && [ -n \"\$a\" ] && break; sleep 0.2; done; echo \"answer=\$a\"; echo done; exec sleep 600"
hg_defer _hk_rt_cleanup runc "$id" "hgt-$$-b1"
hk_rt runc create --bundle "$b" "$id" >"$HG_TMP/$id.out" 2>"$HG_TMP/$id.err" </dev/null ||
	hg_fail "runc create failed: $(cat "$HG_TMP/$id.err")"
hg_assert_eq "$(hg_block "$b/rootfs/etc/hosts")" "$want" "the hook wrote the CNI record's names and addresses"
[ ! -e "$HG_STATE/hook/$id.json" ] || hg_fail "the hook made a record of its own: $(cat "$HG_STATE/hook/$id.json")"
hg_assert_eq "$(ip netns exec "$NSNAME" nft list table inet host_gateway)" "$table_before" "the CNI table is untouched"
hg_assert_eq "$(cat "$cni_rec")" "$cni_before" "the CNI record is untouched"
hk_rt runc start "$id" || hg_fail "runc start failed"
e2e_wait_for 20 grep -q '^done$' "$HG_TMP/$id.out" || hg_fail "the container did not finish: $(cat "$HG_TMP/$id.out")"
hg_assert_contains "$(cat "$HG_TMP/$id.out")" "answer=hk-cni $CIP" "the container reaches the host by name through the CNI DNAT"
hk_rt runc delete -f "$id" || hg_fail "runc delete -f failed"
hg_assert_eq "$(cat "$cni_rec")" "$cni_before" "poststop leaves the CNI record alone"
hg_assert_eq "$(ip netns exec "$NSNAME" nft list table inet host_gateway 2>&1)" "$table_before" "poststop leaves the CNI table alone"

hg_chain DEL "$list" "$CID" "$NSP" eth0 || hg_fail "CNI DEL failed"
[ ! -e "$cni_rec" ] || hg_fail "CNI DEL left its record"
if ip netns exec "$NSNAME" nft list table inet host_gateway >/dev/null 2>&1; then hg_fail "CNI DEL left its table"; fi
hg_log PASS
