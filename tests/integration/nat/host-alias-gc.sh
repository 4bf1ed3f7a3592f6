#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hostAlias and GC: two attachments share the loopback alias; GC (cniVersion
# 1.1.0) with an empty list of valid attachments removes both records and the
# alias. GC with both attachments valid keeps everything.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-host-alias-gc
hg_guard_forwarding on

VIP=169.254.77.2
NET=hgt-aliasgc
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
# bridge 1.1.1 knows no cniVersion 1.1.0: the chain runs at 1.0.0 and GC is sent
# to host-gateway alone at 1.1.0, as libcni would send it to the last plugin.
hgn_bridge "$BR" 10.211.4.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.4.0/24 "{\"virtualIPs\":[\"$VIP\"],\"hostAlias\":true}" >"$LIST"

lo_has_alias() { ip -4 -o addr show dev lo | grep -qF " $VIP/32 "; }
lo_has_alias && hg_fail "$VIP is already on lo before the test (left by an earlier run?)"
hg_defer ip addr del "$VIP/32" dev lo

hgn_container c1
hgn_container c2
hgn_add c1 "$LIST"
hgn_add c2 "$LIST"
lo_has_alias || hg_fail "$VIP/32 not on lo after ADD"

gc() {
	local conf
	conf=$(jq -c --argjson valid "$1" '.plugins[-1] + {name: .name, cniVersion: "1.1.0",
		"cni.dev/valid-attachments": $valid}' "$LIST")
	hg_plugin GC "$conf" "" "" ""
}
hg_assert_eq "$(hg_nrecords "cni/$NET")" 2 "two records after ADD"

# Both valid: nothing goes.
valid=$(jq -cn --arg a "$(hgn_cid c1)" --arg b "$(hgn_cid c2)" \
	'[{containerID: $a, ifname: "eth0"}, {containerID: $b, ifname: "eth0"}]')
out=$(gc "$valid") || hg_fail "GC with both attachments valid failed: $out"
lo_has_alias || hg_fail "GC removed $VIP although both attachments are valid"
hg_assert_eq "$(hg_nrecords "cni/$NET")" 2 "records kept by GC with both valid"
hgn_check c1 "$LIST" || hg_fail "CHECK c1 after GC failed"

# Only c2 valid: c1's record goes, the alias stays for c2.
valid=$(jq -cn --arg b "$(hgn_cid c2)" '[{containerID: $b, ifname: "eth0"}]')
out=$(gc "$valid") || hg_fail "GC with c2 valid failed: $out"
lo_has_alias || hg_fail "GC of c1 removed $VIP although c2 still uses it"
hg_assert_eq "$(hg_nrecords "cni/$NET")" 1 "one record after GC of c1"

# Nothing valid: everything goes.
out=$(gc '[]') || hg_fail "GC with an empty valid list failed: $out"
if lo_has_alias; then
	hg_fail "$VIP still on lo after GC of every attachment: $(ip addr show lo)"
fi
hg_assert_eq "$(hg_nrecords "cni/$NET")" 0 "records left after GC of every attachment"
# DEL afterwards finds nothing to do and succeeds.
hgn_del c1 "$LIST" || hg_fail "DEL of c1 after GC failed"
hgn_del c2 "$LIST" || hg_fail "DEL of c2 after GC failed"
lo_has_alias && hg_fail "$VIP back on lo after DEL"
hg_log "PASS"
