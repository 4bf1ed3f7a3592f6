#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# virtualIPs, dual stack: the IPv6 virtual IP (ULA) is DNATed inside the
# container netns to the bridge's IPv6 gateway on the host, the IPv4 one to the
# IPv4 gateway.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-virtual-ip6
hg_guard_forwarding on
[ -e /proc/sys/net/ipv6 ] || hg_skip "no IPv6 in this kernel"
hg_require_cmd python3

VIP4=169.254.1.2
VIP6=fd00:254::2
PORT=18432
NET=hgt-vip6
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.2.0/24 fd99:211:2::/64
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" "10.211.2.0/24 fd99:211:2::/64" "{\"virtualIPs\":[\"$VIP4\",\"$VIP6\"]}" >"$LIST"

hgn_container c1
NS=${HGN_NSNAME[c1]}
hgn_add c1 "$LIST"
GW4=$(hgn_gateway c1 4)
GW6=$(hgn_gateway c1 6)
ME6=$(hgn_address c1 6)
hg_log "container $(hgn_address c1) $ME6, gateways $GW4 $GW6"
[ -n "$GW6" ] || hg_fail "no IPv6 gateway in the bridge result: $(cat "$HG_TMP/result-c1.json")"

# Both ends must be done with duplicate address detection before binding.
for ((i = 0; i < 100; i++)); do
	[ -z "$(ip -6 addr show dev "$BR" tentative)" ] &&
		[ -z "$(hg_in "$NS" ip -6 addr show dev eth0 tentative)" ] && break
	sleep 0.05
done

hg_listener - "$GW6" "$PORT" "vip6-ok %PEER%"
hg_listener - "$GW4" "$PORT" "vip4-ok %PEER%"
# socat prints the peer in full form.
ME6_FULL=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' "$ME6")
hgn_expect_answer "$NS" "$VIP6" "$PORT" tcp "vip6-ok [$ME6_FULL]" "connect to [$VIP6]:$PORT from the container"
hgn_expect_answer "$NS" "$VIP4" "$PORT" tcp "vip4-ok $(hgn_address c1)" "connect to $VIP4:$PORT from the container"

table=$(hg_in "$NS" nft list table inet host_gateway)
hg_assert_contains "$table" "ip6 daddr $VIP6 dnat ip6 to $GW6" "IPv6 DNAT rule"
hg_assert_contains "$table" "ip daddr $VIP4 dnat ip to $GW4" "IPv4 DNAT rule"
hgn_check c1 "$LIST" || hg_fail "CHECK after ADD failed"

hgn_del c1 "$LIST"
if hg_in "$NS" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "table inet host_gateway still in the container netns after DEL"
fi
hgn_no_answer "$NS" "$VIP6" "$PORT"
hg_log "PASS"
