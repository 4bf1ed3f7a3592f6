#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DEL and GC leave the host as they found it: nft ruleset, lo's addresses,
# links, routes, sysctls (route_localnet & co. of all/default/lo/the bridge),
# and no attachment record in the state directory. Every mode is on at once:
# virtualIPs + hostAlias, localhostPorts, hostLoopbackPorts; a second network
# on the same bridge uses virtualIPs by DNAT. Rounds: DEL; GC after the
# containers died; DEL after the netns is gone.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-cleanliness
hg_guard_forwarding on

VIP=169.254.77.2
NET=hgt-clean
NET2=hgt-clean2
BR=hgt-$$-b
LIST=$HG_TMP/all.conflist
LIST2=$HG_TMP/dnat.conflist
BASE=$HG_TMP/base.conflist
hgn_bridge "$BR" 10.211.10.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.10.0/24 "{\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true,
	\"localhostPorts\":[\"18470\",\"18471:18472\",\"18473/udp\"],
	\"hostLoopbackPorts\":[\"18474\",\"18475/udp\",\"18476-18478\"]}" >"$LIST"
# The second network shares the bridge; its addresses come from another range.
hg_bridge_list --no-route "$NET2" 1.0.0 "$BR" 10.211.10.0/24 '{"virtualIPs":["169.254.1.2"],"localhostPorts":["18479"]}' |
	jq '.plugins[0].ipam.ranges[0][0] += {rangeStart: "10.211.10.100", rangeEnd: "10.211.10.199"}' >"$LIST2"
jq '.plugins[0].ipam.ranges[0][0] += {rangeStart: "10.211.10.200", rangeEnd: "10.211.10.250"} |
	.plugins |= .[:1]' "$LIST" >"$BASE"
ip -4 -o addr show dev lo | grep -qF " $VIP/32 " && hg_fail "$VIP is already on lo before the test"
hg_defer ip addr del "$VIP/32" dev lo

# A baseline container keeps the bridge (made by the bridge plugin) in one
# state, so the snapshot compares only what host-gateway does.
hgn_container base
hgn_add base "$BASE"
# IPv6 link-local addresses (and their local routes) of the bridge and the
# baseline veth appear after duplicate address detection: wait for them.
BASE_VETH=$(jq -r '.interfaces[] | select(.sandbox == null or .sandbox == "") | .name' \
	"$HG_TMP/result-base.json" | grep -v "^$BR\$" | head -n1)
if [ -e /proc/sys/net/ipv6 ]; then
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip -6 addr show dev "$BR" scope link)" ] && [ -n "$(ip -6 addr show dev "$BASE_VETH" scope link)" ] &&
			[ -z "$(ip -6 addr show tentative)" ] && break
		sleep 0.05
	done
fi

sysctls() {
	local d
	for d in all default lo "$BR"; do
		grep -sH . /proc/sys/net/ipv4/conf/"$d"/* /proc/sys/net/ipv6/conf/"$d"/* || true
	done
	grep -sH . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/route_localnet | grep -v "/conf/veth" || true
}
records() { { find "$HG_STATE" -type f -name '*.json' 2>/dev/null || true; } | sort; }
# shellcheck disable=SC2119 # no directories: records are compared below
hg_snapshot_host
sysctls >"$HG_TMP/sysctl.before"
records >"$HG_TMP/records.before"
assert_clean() {
	hg_assert_host_unchanged
	sysctls >"$HG_TMP/sysctl.after"
	diff -u "$HG_TMP/sysctl.before" "$HG_TMP/sysctl.after" >&2 || hg_fail "sysctls changed after $1"
	records >"$HG_TMP/records.after"
	diff -u "$HG_TMP/records.before" "$HG_TMP/records.after" >&2 || hg_fail "state records left after $1"
}
assert_applied() {
	ip -4 -o addr show dev lo | grep -qF " $VIP/32 " || hg_fail "alias missing after ADD"
	[ -n "$(hgn_host_table)" ] || hg_fail "host table missing after ADD"
	hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 1 "route_localnet on $BR after ADD"
}

# Round 1: ADD x3, DEL x3 (then the runtime deletes the netns).
for c in c1 c2 c3; do hgn_container "$c"; done
hgn_add c1 "$LIST"
hgn_add c2 "$LIST"
hgn_add c3 "$LIST2"
assert_applied
hg_assert_eq "$(hgn_map_elements | wc -l)" 10 "host map elements for two attachments (5 ports each)"
hgn_del c2 "$LIST"
hgn_del c3 "$LIST2"
hgn_del c1 "$LIST"
for c in c1 c2 c3; do hg_netns_del "${HGN_NSNAME[$c]}"; done
assert_clean "DEL"

# Round 2: ADD x3, the containers die without DEL (netns deleted), GC with only
# the baseline valid (GC is per network).
for c in c4 c5 c6; do hgn_container "$c"; done
hgn_add c4 "$LIST"
hgn_add c5 "$LIST"
hgn_add c6 "$LIST2"
assert_applied
for c in c4 c5 c6; do hg_netns_del "${HGN_NSNAME[$c]}"; done
valid=$(jq -cn --arg b "$(hgn_cid base)" '[{containerID: $b, ifname: "eth0"}]')
for l in "$LIST" "$LIST2"; do
	conf=$(jq -c --argjson v "$valid" '.plugins[-1] + {name: .name, cniVersion: "1.1.0",
		"cni.dev/valid-attachments": $v}' "$l")
	out=$(hg_plugin GC "$conf" "" "" "") || hg_fail "GC of $(jq -r .name "$l") failed: $out"
done
assert_clean "GC"

# Round 3: ADD x3, the netns goes first, then DEL without CNI_NETNS (ctr's way).
for c in c7 c8 c9; do hgn_container "$c"; done
hgn_add c7 "$LIST"
hgn_add c8 "$LIST"
hgn_add c9 "$LIST2"
assert_applied
for c in c7 c8 c9; do hg_netns_del "${HGN_NSNAME[$c]}"; done
hg_chain DEL "$LIST" "$(hgn_cid c7)" "" eth0 || hg_fail "DEL of c7 without netns failed"
hg_chain DEL "$LIST2" "$(hgn_cid c9)" "" eth0 || hg_fail "DEL of c9 without netns failed"
hg_chain DEL "$LIST" "$(hgn_cid c8)" "" eth0 || hg_fail "DEL of c8 without netns failed"
assert_clean "DEL without netns"
hg_log "PASS"
