#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# GC of host rules whose attachment record was lost (state file deleted): the
# element comments name the attachment, so GC removes exactly the stale
# elements and keeps a valid attachment's; once the remaining attachment is
# deleted normally, nothing of host-gateway may stay on the host (table,
# route_localnet on the bridge, the loopback alias).
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-gc-lost-record
hg_guard_forwarding on

NET=hgt-gclost
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
VIP=169.254.77.2
hgn_bridge "$BR" 10.211.13.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.13.0/24 \
	"{\"hostLoopbackPorts\":[\"18490\",\"18491/udp\"],\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true}" >"$LIST"
lo_has_alias() { ip -4 -o addr show dev lo | grep -qF " $VIP/32 "; }
lo_has_alias && hg_fail "$VIP is already on lo before the test (left by an earlier run?)"
hg_defer ip addr del "$VIP/32" dev lo
# When GC leaves the host table behind (the bug this test catches), the
# deferred DELs cannot remove it either (the records are gone): remove it here,
# but only when nothing in it belongs to another attachment or interface.
drop_leftover_table() {
	local ifaces
	[ -n "$(hgn_host_table)" ] || return 0
	[ -z "$(hgn_map_elements)" ] || return 0
	ifaces=$(nft -j list set inet host_gateway localnet_ifaces |
		jq -r '.nftables[] | select(.set) | .set.elem // [] | .[]' | grep -vxF "$BR" || true)
	[ -z "$ifaces" ] && nft delete table inet host_gateway
}
hg_defer drop_leftover_table
localnet() { cat "/proc/sys/net/ipv4/conf/$BR/route_localnet"; }
comments() { hgn_map_elements | jq -r '.[0].elem.comment' | sort | uniq -c | awk '{ print $2 ":" $1 }' | paste -sd' ' -; }
gc() {
	local conf
	conf=$(jq -c --argjson v "$1" '.plugins[-1] + {name: .name, cniVersion: "1.1.0",
		"cni.dev/valid-attachments": $v}' "$LIST")
	hg_plugin GC "$conf" "" "" "" || hg_fail "GC failed"
}

hgn_container keep
hgn_container lost
hgn_add keep "$LIST"
hgn_add lost "$LIST"
KEEP=$NET+$(hgn_cid keep)+eth0
LOST=$NET+$(hgn_cid lost)+eth0
hg_assert_eq "$(comments)" "$(printf '%s\n' "$KEEP:2" "$LOST:2" | sort | paste -sd' ' -)" "elements after ADD"

# The record of "lost" disappears; GC with only "keep" valid.
rec=$(grep -l "\"$(hgn_cid lost)\"" "$HG_STATE"/cni/"$NET"/*.json)
rm -f "$rec"
gc "$(jq -cn --arg k "$(hgn_cid keep)" '[{containerID: $k, ifname: "eth0"}]')" >/dev/null
hg_assert_eq "$(comments)" "$KEEP:2" "elements after GC of the attachment whose record was lost"
hg_assert_eq "$(localnet)" 1 "route_localnet on $BR while keep is attached"
hgn_check keep "$LIST" || hg_fail "CHECK of keep after GC failed"

# Then "keep" goes by a normal DEL: it is the last attachment, so the bridge
# must be closed again and the host table removed. (A users entry of "lost"
# that GC left behind would pin both forever.)
hgn_del keep "$LIST"
problems=()
[ -z "$(comments)" ] || problems+=("map elements left: $(comments)")
[ "$(localnet)" = 0 ] || problems+=("route_localnet on $BR is still $(localnet)")
[ -z "$(hgn_host_table)" ] || problems+=("host table inet host_gateway left")
lo_has_alias && problems+=("alias $VIP left on lo")
if [ ${#problems[@]} -gt 0 ]; then
	hg_log "host users: $(cd /run/host-gateway 2>/dev/null && find localnet alias 2>/dev/null | sort | paste -sd' ' -)"
	hg_fail "after GC of the attachment whose record was lost and DEL of the last one: $(printf '%s; ' "${problems[@]}")"
fi
hg_log "PASS"
