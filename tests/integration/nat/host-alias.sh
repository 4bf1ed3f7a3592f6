#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hostAlias: the virtual IP goes on the host's lo as a /32 with the first
# attachment, stays while a second one uses it, goes with the last DEL. A host
# service bound to the alias answers the container; CHECK notices a missing alias.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-host-alias
hg_guard_forwarding on

VIP=169.254.77.2
PORT=18433
NET=hgt-alias
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.3.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.3.0/24 "{\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true}" >"$LIST"

lo_has_alias() { ip -4 -o addr show dev lo | grep -qF " $VIP/32 "; }
lo_has_alias && hg_fail "$VIP is already on lo before the test (left by an earlier run?)"
# Should the plugin leak it, the test fails but still cleans up.
hg_defer ip addr del "$VIP/32" dev lo

hgn_container c1
hgn_container c2
NS1=${HGN_NSNAME[c1]}
NS2=${HGN_NSNAME[c2]}

hgn_add c1 "$LIST"
lo_has_alias || hg_fail "$VIP/32 not on lo after the first ADD: $(ip addr show lo)"
GW=$(hgn_gateway c1)

# No DNAT with hostAlias: the container routes the alias via its gateway, and the
# host service bound only to the alias sees the container's own address.
hg_listener - "$VIP" "$PORT" "alias-ok %PEER%"
hgn_expect_answer "$NS1" "$VIP" "$PORT" tcp "alias-ok $(hgn_address c1)" "connect to the alias from c1"
hg_assert_contains "$(hg_in "$NS1" ip -4 route get "$VIP")" "via $GW dev eth0" "route to the alias"
if hg_in "$NS1" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "hostAlias without localhostPorts should not need a container table: $(hg_in "$NS1" nft list ruleset)"
fi
hgn_check c1 "$LIST" || hg_fail "CHECK c1 after ADD failed"

hgn_add c2 "$LIST"
hg_assert_eq "$(ip -4 -o addr show dev lo | grep -cF " $VIP/32 ")" 1 "one alias for two attachments"
hgn_expect_answer "$NS2" "$VIP" "$PORT" tcp "alias-ok $(hgn_address c2)" "connect to the alias from c2"

# The alias removed behind our back: CHECK must fail; a repeated ADD restores it.
ip addr del "$VIP/32" dev lo
if out=$(hgn_check c1 "$LIST" 2>&1); then
	hg_fail "CHECK passed although the alias $VIP is missing from lo"
fi
hg_assert_contains "$out" "$VIP" "CHECK error names the alias"
hgn_hg c1 ADD "$LIST" >/dev/null || hg_fail "repeated ADD of c1 failed"
lo_has_alias || hg_fail "repeated ADD did not restore $VIP on lo"
hgn_check c1 "$LIST" || hg_fail "CHECK c1 after repeated ADD failed"
hgn_check c2 "$LIST" || hg_fail "CHECK c2 failed"

# First DEL: still used by c2.
hgn_del c1 "$LIST"
lo_has_alias || hg_fail "$VIP removed from lo by the first DEL although c2 still uses it"
hgn_expect_answer "$NS2" "$VIP" "$PORT" tcp "alias-ok $(hgn_address c2)" "c2 still reaches the alias after DEL of c1"
hgn_check c2 "$LIST" || hg_fail "CHECK c2 after DEL of c1 failed"

# Last DEL: gone.
hgn_del c2 "$LIST"
if lo_has_alias; then
	hg_fail "$VIP still on lo after the last DEL: $(ip addr show lo)"
fi
# A DEL repeated after the alias is gone is still fine.
hgn_del c2 "$LIST" || hg_fail "second DEL of c2 failed"
hg_log "PASS"
