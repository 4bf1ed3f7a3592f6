#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hostLoopbackPorts: a host service bound only to 127.0.0.1 answers the
# opted-in container at its gateway address, on the listed ports only, and
# nobody else on the bridge. route_localnet on the bridge is 1 while an
# opted-in attachment exists and back to 0 after the last DEL. CHECK notices a
# missing host element.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-host-loopback
hg_guard_forwarding on

PORT=18450     # listed
PORT_U=18451   # listed, udp
OTHER=18452    # not listed, also bound to 127.0.0.1 on the host
REMAP_C=18453  # "18453:18454": the container's 18453 is the host's 127.0.0.1:18454
REMAP_H=18454
NET=hgt-hlp
BR=hgt-$$-b
LIST_A=$HG_TMP/a.conflist   # opted in
LIST_B=$HG_TMP/b.conflist   # same network and bridge, no hostLoopbackPorts
hgn_bridge "$BR" 10.211.8.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.8.0/24 "{\"hostLoopbackPorts\":[\"$PORT\",\"$PORT_U/udp\",\"$REMAP_C:$REMAP_H\"]}" >"$LIST_A"
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.8.0/24 '{}' >"$LIST_B"
# The listeners must not collide with services of the host.
for p in "$PORT" "$OTHER" "$REMAP_C" "$REMAP_H"; do
	[ -z "$(ss -Hlnt "sport = :$p")" ] || hg_skip "tcp port $p already in use on the host"
done
[ -z "$(ss -Hlnu "sport = :$PORT_U")" ] || hg_skip "udp port $PORT_U already in use on the host"

localnet() { cat "/proc/sys/net/ipv4/conf/$BR/route_localnet"; }
# The machine's own value, whatever it is, stays as it is.
LOCALNET_ALL=$(cat /proc/sys/net/ipv4/conf/all/route_localnet)

hgn_container a
hgn_container a2
hgn_container b
NSA=${HGN_NSNAME[a]}
NSA2=${HGN_NSNAME[a2]}
NSB=${HGN_NSNAME[b]}
# B first: the bridge exists and is not opened by an attachment without the key.
hgn_add b "$LIST_B"
hg_assert_eq "$(localnet)" 0 "route_localnet on $BR with only a non-opted-in attachment"
[ -z "$(hgn_host_table)" ] || hg_fail "an attachment without hostLoopbackPorts created the host table"

hgn_add a "$LIST_A"
GW=$(hgn_gateway a)
hg_assert_eq "$(localnet)" 1 "route_localnet on $BR while A is attached"
hg_assert_eq "$(cat /proc/sys/net/ipv4/conf/all/route_localnet)" "$LOCALNET_ALL" "route_localnet (all) on the host"

hg_listener - 127.0.0.1 "$PORT" "loopback-ok %PEER%"
hg_udp_listener - 127.0.0.1 "$PORT_U" "loopback-udp-ok %PEER%"
hg_listener - 127.0.0.1 "$OTHER" "other-port-answered"
hg_listener - 127.0.0.1 "$REMAP_H" "remap-ok %PEER%"
hg_listener - 127.0.0.1 "$REMAP_C" "remap-source-port-answered"

# A reaches the loopback-only services at the gateway address, listed ports only.
hgn_expect_answer "$NSA" "$GW" "$PORT" tcp "loopback-ok $(hgn_address a)" "A, listed tcp port"
hgn_expect_answer "$NSA" "$GW" "$PORT_U" udp "loopback-udp-ok $(hgn_address a)" "A, listed udp port"
hgn_expect_answer "$NSA" "$GW" "$REMAP_C" tcp "remap-ok $(hgn_address a)" "A, remapped port $REMAP_C -> $REMAP_H"
hgn_no_answer "$NSA" "$GW" "$OTHER"
hgn_no_answer "$NSA" "$GW" "$REMAP_H"
hgn_no_answer "$NSA" "$GW" "$PORT_U" tcp
# B, on the same bridge and network, gets nothing.
hgn_no_answer "$NSB" "$GW" "$PORT"
hgn_no_answer "$NSB" "$GW" "$PORT_U" udp
hgn_no_answer "$NSB" "$GW" "$OTHER"
hgn_no_answer "$NSB" "$GW" "$REMAP_C"
hgn_check a "$LIST_A" || hg_fail "CHECK of A failed"

# One element per listed port, keyed by A's address and the bridge, with A's
# attachment key as comment.
elems=$(hgn_map_elements)
hg_assert_eq "$(wc -l <<<"$elems")" 3 "host map elements for A"
hg_assert_contains "$elems" "\"$NET+$(hgn_cid a)+eth0\"" "element comment keyed by network+container+ifname"
# The host table without its elements, as nft lists it (Debian 12's nft 1.0.6),
# against the golden file: the map, the guarded interfaces, the two chains.
golden=$(dirname "$0")/golden/host-table.nft
actual=$(nft -t list table inet host_gateway)
if ! diff -u "$golden" - <<<"$actual" >&2; then
	hg_fail "host table differs from $golden (see diff above)"
fi
hg_assert_eq "$(nft -j list set inet host_gateway localnet_ifaces | jq -c '[.nftables[] | select(.set) | .set.elem[]]')" \
	"[\"$BR\"]" "guarded interfaces"

# A second opted-in container; DEL of A keeps the bridge open for A2.
hgn_add a2 "$LIST_A"
hgn_expect_answer "$NSA2" "$GW" "$PORT" tcp "loopback-ok $(hgn_address a2)" "A2, listed tcp port"
hgn_del a "$LIST_A"
hg_assert_eq "$(localnet)" 1 "route_localnet on $BR after DEL of A while A2 is attached"
hgn_expect_answer "$NSA2" "$GW" "$PORT" tcp "loopback-ok $(hgn_address a2)" "A2 after DEL of A"
hg_assert_eq "$(hgn_map_elements | wc -l)" 3 "host map elements after DEL of A"

# An element deleted by hand: CHECK of A2 must fail; a repeated ADD restores it.
ME2=$(hgn_address a2)
nft delete element inet host_gateway loopback4 "{ \"$BR\" . $ME2 . $GW . tcp . $PORT }"
if out=$(hgn_check a2 "$LIST_A" 2>&1); then
	hg_fail "CHECK of A2 passed although its host map element for $PORT is missing"
fi
hgn_no_answer "$NSA2" "$GW" "$PORT"
hgn_hg a2 ADD "$LIST_A" >/dev/null || hg_fail "repeated ADD of A2 failed"
hgn_check a2 "$LIST_A" || hg_fail "CHECK of A2 after repeated ADD failed"
hg_assert_eq "$(hgn_map_elements | wc -l)" 3 "host map elements after repeated ADD"
hgn_expect_answer "$NSA2" "$GW" "$PORT" tcp "loopback-ok $ME2" "A2 after repeated ADD"

# Last opted-in DEL: closed again, table gone; B is still attached.
hgn_del a2 "$LIST_A"
hg_assert_eq "$(localnet)" 0 "route_localnet on $BR after the last opted-in DEL"
[ -z "$(hgn_host_table)" ] || hg_fail "host table inet host_gateway left after the last DEL: $(nft list table inet host_gateway)"
hgn_no_answer "$NSB" "$GW" "$PORT"
hgn_del b "$LIST_B"
hg_log "PASS"
