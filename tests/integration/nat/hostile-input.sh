#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Annotation-driven work is bounded, and no string reaches nft text unescaped (issue 7,
# items 2 and 3):
#  - the annotation localhost-ports "1-65534:2-65535" x100 (1.6 KB, 6.5 million ports
#    before): ADD refuses it with code 7 naming the limit, at once (a hang guard of 20 s,
#    not a timing assertion), and nothing is applied: no table in the netns, no record;
#    the same for hostLoopbackPorts over the limit, and for too many names;
#  - an identity range "20000-29999" is one rule and is accepted;
#  - CNI_IFNAME 'e"{;x' (Linux allows it) and a 200-byte network name with
#    hostLoopbackPorts: ADD succeeds, the host map element's comment is at most 128 bytes
#    and quotes nothing of them raw, CHECK passes, DEL removes exactly that element and the
#    route_localnet user, GC of a second such attachment finds its element by the key.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-hostile-input
hg_guard_forwarding on

NET=hgt-hostile
BR=hgt-$$-b
LIST=$HG_TMP/list.conflist
hgn_bridge "$BR" 10.211.40.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.40.0/24 '{"capabilities":{"io.kubernetes.cri.pod-annotations":true}}' >"$LIST"

# ---- bounded work -----------------------------------------------------------------------
hgn_container big
huge=$(printf '1-65534:2-65535,%.0s' $(seq 100))
ann=$(jq -cn --arg p "$huge" '{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/localhost-ports": $p}}')
start=$(date +%s%N)
hgn_add_fails big "$LIST" "" "$ann"
ms=$((($(date +%s%N) - start) / 1000000))
hg_assert_eq "$(hgn_cni_error_code "$HGN_ERR")" 7 "huge remap annotation: code"
hg_assert_contains "$HGN_ERR" "too many ports" "huge remap annotation: names the limit"
hg_assert_contains "$HGN_ERR" "4096" "huge remap annotation: says the limit"
hg_log "huge remap annotation refused in $ms ms (bridge + host-local + host-gateway)"
[ -z "$(hg_in "${HGN_NSNAME[big]}" nft list table inet host_gateway 2>/dev/null)" ] ||
	hg_fail "huge remap annotation: a table was created in the container"
hg_assert_eq "$(hg_nrecords "cni/$NET")" 0 "huge remap annotation: no record"

list_lb=$HG_TMP/lb-big.conflist
jq '.plugins[-1].hostLoopbackPorts = ["1-5000"]' "$LIST" >"$list_lb"
hgn_container lbbig
hgn_add_fails lbbig "$list_lb"
hg_assert_eq "$(hgn_cni_error_code "$HGN_ERR")" 7 "hostLoopbackPorts over the limit: code"
hg_assert_contains "$HGN_ERR" "too many ports" "hostLoopbackPorts over the limit: message"
[ -z "$(hgn_host_table)" ] || hg_fail "hostLoopbackPorts over the limit: the host table was created"

names=$(seq -f 'n%g.local' 100 | paste -sd,)
hgn_container names
hgn_add_fails names "$LIST" "" "$(jq -cn --arg n "$names" '{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/names": $n}}')"
hg_assert_eq "$(hgn_cni_error_code "$HGN_ERR")" 7 "100 names: code"
hg_assert_contains "$HGN_ERR" "more than 64 names" "100 names: message"

hgn_container range
hgn_add range "$LIST" "" '{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/localhost-ports": "20000-29999"}}' ||
	hg_fail "an identity range of 10000 ports was refused"
rules=$(hg_in "${HGN_NSNAME[range]}" nft list chain inet host_gateway output | grep -c 'dport 20000-29999 dnat')
hg_assert_eq "$rules" 1 "an identity range is one rule"
hgn_del range "$LIST"

# ---- strings that reach nft text --------------------------------------------------------
LONGNET=hgt-$(printf 'n%.0s' $(seq 196))
IFN='e"{;x'
list_odd=$HG_TMP/odd.conflist
jq --arg n "$LONGNET" '.name = $n | .plugins[-1].hostLoopbackPorts = ["18460"]' "$LIST" >"$list_odd"
for c in odd1 odd2; do
	hgn_container "$c"
done
hg_defer hg_chain DEL "$list_odd" "$(hgn_cid odd1)" "${HGN_NETNS[odd1]}" "$IFN"
hg_chain ADD "$list_odd" "$(hgn_cid odd1)" "${HGN_NETNS[odd1]}" "$IFN" >"$HG_TMP/odd1.json" ||
	hg_fail "ADD with ifname $IFN and a ${#LONGNET}-byte network name failed"
hg_defer hg_chain DEL "$list_odd" "$(hgn_cid odd2)" "${HGN_NETNS[odd2]}" "$IFN"
hg_chain ADD "$list_odd" "$(hgn_cid odd2)" "${HGN_NETNS[odd2]}" "$IFN" >"$HG_TMP/odd2.json" ||
	hg_fail "second ADD with ifname $IFN failed"
hg_assert_eq "$(hgn_map_elements | wc -l)" 2 "one host element per odd attachment"
while read -r comment; do
	[ "${#comment}" -le 128 ] || hg_fail "nft comment longer than 128 bytes: $comment"
	case $comment in *'"'* | *'{'* | *';'*) hg_fail "nft comment carries raw characters of the ifname: $comment" ;; esac
done < <(hgn_map_elements | jq -r '.[0].elem.comment')
hg_chain CHECK "$list_odd" "$(hgn_cid odd1)" "${HGN_NETNS[odd1]}" "$IFN" || hg_fail "CHECK of the odd attachment failed"
hg_chain DEL "$list_odd" "$(hgn_cid odd1)" "${HGN_NETNS[odd1]}" "$IFN" || hg_fail "DEL of the odd attachment failed"
hg_assert_eq "$(hgn_map_elements | wc -l)" 1 "DEL removed exactly its element"
# GC: odd2's record is lost; its element and users are found by the key.
rm -f "$HG_STATE/cni/$LONGNET/"*.json
gc=$(jq -c '.plugins[-1] + {name: .name, cniVersion: "1.1.0", "cni.dev/valid-attachments": []}' "$list_odd")
hg_plugin GC "$gc" "" "" "" >/dev/null || hg_fail "GC failed"
hg_assert_eq "$(hgn_map_elements | wc -l)" 0 "GC removed the lost record's element"
[ -z "$(hgn_host_table)" ] || hg_fail "the host table stayed after the last user: $(hgn_host_table)"
hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 0 "route_localnet back to 0"
hg_log "PASS"
