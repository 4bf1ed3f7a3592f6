#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A host address the container has no route to: bridge (isGateway) + host-local with NO
# routes at all, hostIPs a literal address of another subnet (put on the bridge, so the
# host really answers there). host-gateway must add a host route via the bridge gateway;
# CHECK passes; the route deleted by hand makes CHECK fail with 106; a repeated ADD puts it
# back without duplicating anything; DEL removes it.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-check-route
hg_require_bin
hg_require_cmd jq socat nsenter unshare
hg_guard_forwarding on

ns=hgt-$$-cr net=hgt-cr cid=hgt-$$-cr-c br=hg$$cr subnet=10.250.40.0/24 hostip=10.250.41.1
hosts=$HG_TMP/hosts
hg_subnet_free "$subnet" 10.250.41.0/24
hg_netns_add "$ns"
hg_defer ip link del "$br"
hgc_user_hosts >"$hosts"
cp "$hosts" "$hosts.orig"
hgc_container "$ns" "$hosts"
netns=/proc/$HGC_PID/ns/net
list=$(hg_bridge_list --no-route "$net" 1.0.0 "$br" "$subnet" "{\"hostIPs\": [\"$hostip\"]}")
rec=$(hgc_record "$net" "$cid" eth0)
hg_defer hg_chain DEL "$list" "$cid" "$netns" eth0

routes() { ip -n "$ns" -4 route show "$hostip/32"; }

hg_assert_eq "$(ip -n "$ns" route show default)" "" "test setup: the container must have no default route"
res=$(hg_chain ADD "$list" "$cid" "$netns" eth0)
hg_assert_eq "$(ip -n "$ns" route show default)" "" "test setup: still no default route after ADD"
hg_assert_eq "$(routes | sed 's/ *$//' | awk '{print $1, $2, $3, $4, $5}')" "$hostip via 10.250.40.1 dev eth0" \
	"host route added by host-gateway (ip -n $ns route: $(ip -n "$ns" route))"
hg_assert_eq "$(hg_block "$hosts")" "$(printf '%s\t%s' "$hostip" "$HG_DEFAULT_NAMES")" "block maps the literal host address"
hg_assert_eq "$(jq -r '.ips[0].address' <<<"$res")" 10.250.40.2/24 "container address in the final result"

# The host answers on that address (it is on the bridge): by name, through the new route.
ip addr add "$hostip/32" dev "$br"
hg_listener - "$hostip" 18400 hello-route
out=$(printf x | nsenter -t "$HGC_PID" -n -m timeout 3 socat -t2 -T2 - TCP:host.docker.internal:18400) ||
	hg_fail "container could not reach host.docker.internal:18400 through the host route"
hg_assert_eq "$out" hello-route "reply through the host route"

hg_chain CHECK "$list" "$cid" "$netns" eth0 || hg_fail "CHECK after ADD failed"

# Delete the route by hand: CHECK must fail with 106.
ip -n "$ns" route del "$hostip/32"
hg_assert_eq "$(routes)" "" "test setup: route deleted"
if hg_chain CHECK "$list" "$cid" "$netns" eth0 2>"$HG_TMP/check.err"; then
	hg_fail "CHECK passed although the host route is gone"
fi
hg_assert_eq "$(hgc_chain_err_code <"$HG_TMP/check.err")" 106 "CHECK error code without the route ($(cat "$HG_TMP/check.err"))"
hg_assert_contains "$(cat "$HG_TMP/check.err")" "$hostip" "CHECK error names the missing route"

# A repeated ADD of host-gateway (the runtime retrying) replaces: the route is back, once;
# one block; CHECK passes.
conf=$(jq -c --argjson prev "$res" '.plugins[1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev}' <<<"$list")
out=$(hg_plugin ADD "$conf" "$cid" "$netns" eth0) || hg_fail "repeated ADD failed: $out"
hg_assert_eq "$(jq -cS . <<<"$out")" "$(jq -cS . <<<"$res")" "repeated ADD prints prevResult back"
hg_assert_eq "$(routes | wc -l)" 1 "host routes after a repeated ADD"
hg_assert_eq "$(hg_nblocks "$hosts")" 1 "blocks after a repeated ADD"
hg_chain CHECK "$list" "$cid" "$netns" eth0 || hg_fail "CHECK after the repeated ADD failed"

hg_chain DEL "$list" "$cid" "$netns" eth0 || hg_fail "DEL failed"
hg_assert_eq "$(routes)" "" "host route after DEL"
cmp "$hosts" "$hosts.orig" || hg_fail "hosts after DEL differs: $(diff "$hosts.orig" "$hosts")"
[ ! -e "$rec" ] || hg_fail "record left after DEL"
hg_log "PASS"
