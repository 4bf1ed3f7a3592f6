#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hostAlias: an alias that was on lo before host-gateway is the user's; neither
# DEL nor GC of the attachments that used it may take it away.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-host-alias-preexisting
hg_guard_forwarding on

VIP=169.254.77.2
PORT=18435
NET=hgt-aliaspre
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.5.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.5.0/24 "{\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true}" >"$LIST"

lo_has_alias() { ip -4 -o addr show dev lo | grep -qF " $VIP/32 "; }
lo_has_alias && hg_fail "$VIP is already on lo before the test (left by an earlier run?)"
ip addr add "$VIP/32" dev lo
hg_defer ip addr del "$VIP/32" dev lo
before=$(ip addr show lo)

hgn_container c1
hgn_container c2
hgn_add c1 "$LIST"
hgn_add c2 "$LIST"
hg_listener - "$VIP" "$PORT" "alias-ok %PEER%"
hgn_expect_answer "${HGN_NSNAME[c1]}" "$VIP" "$PORT" tcp "alias-ok $(hgn_address c1)" "connect to the pre-existing alias from c1"
hgn_check c1 "$LIST" || hg_fail "CHECK c1 failed"

hgn_del c1 "$LIST"
hgn_del c2 "$LIST"
lo_has_alias || hg_fail "DEL removed $VIP from lo although it was there before host-gateway"
hg_assert_eq "$(ip addr show lo)" "$before" "lo unchanged after DEL"

# Same with GC.
hgn_add c1 "$LIST"
hgn_add c2 "$LIST"
conf=$(jq -c '.plugins[-1] + {name: .name, cniVersion: "1.1.0", "cni.dev/valid-attachments": []}' "$LIST")
out=$(hg_plugin GC "$conf" "" "" "") || hg_fail "GC failed: $out"
lo_has_alias || hg_fail "GC removed $VIP from lo although it was there before host-gateway"
hg_assert_eq "$(ip addr show lo)" "$before" "lo unchanged after GC"
hg_log "PASS"
