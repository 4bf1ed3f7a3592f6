#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# localhostPorts: the container's own 127.0.0.1:PORT reaches the host (the
# gateway address), masqueraded to the container's address: a bare port (tcp),
# a remap CONTAINER:HOST, a udp port, a range. A port not listed stays local.
# route_localnet is switched on for eth0 only, and back off by DEL.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-localhost-ports
hg_guard_forwarding on

P_TCP=18436          # "18436"
P_REMAP_C=18437      # "18437:18438"
P_REMAP_H=18438
P_UDP=18439          # "18439/udp"
P_RANGE=18601        # "18600-18602"
P_RREMAP_C=18611     # "18610-18611:18620-18621"
P_RREMAP_H=18621
P_OTHER=18700        # not listed
NET=hgt-lport
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.6.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.6.0/24 \
	"{\"localhostPorts\":[\"$P_TCP\",\"$P_REMAP_C:$P_REMAP_H\",\"$P_UDP/udp\",\"18600-18602\",\"18610-18611:18620-18621\"]}" >"$LIST"

hgn_container c1
NS=${HGN_NSNAME[c1]}
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.all.route_localnet)" 0 "route_localnet (all) before ADD"
hgn_add c1 "$LIST"
GW=$(hgn_gateway c1)
ME=$(hgn_address c1)

hg_listener - "$GW" "$P_TCP" "tcp-ok %PEER%"
hg_listener - "$GW" "$P_REMAP_H" "remap-ok %PEER%"
hg_udp_listener - "$GW" "$P_UDP" "udp-ok %PEER%"
hg_listener - "$GW" "$P_RANGE" "range-ok %PEER%"
hg_listener - "$GW" "$P_RREMAP_H" "rremap-ok %PEER%"
hg_listener - "$GW" "$P_OTHER" "host-answered"
# The container's own service on the port that is not listed.
hg_listener "$NS" 127.0.0.1 "$P_OTHER" "local-ok"

hgn_expect_answer "$NS" 127.0.0.1 "$P_TCP" tcp "tcp-ok $ME" "127.0.0.1:$P_TCP (tcp) reaches the host, source masqueraded"
hgn_expect_answer "$NS" 127.0.0.1 "$P_REMAP_C" tcp "remap-ok $ME" "127.0.0.1:$P_REMAP_C reaches the host's $P_REMAP_H"
hgn_expect_answer "$NS" 127.0.0.1 "$P_UDP" udp "udp-ok $ME" "127.0.0.1:$P_UDP/udp reaches the host"
hgn_expect_answer "$NS" 127.0.0.1 "$P_RANGE" tcp "range-ok $ME" "127.0.0.1:$P_RANGE (in 18600-18602) reaches the host"
hgn_expect_answer "$NS" 127.0.0.1 "$P_RREMAP_C" tcp "rremap-ok $ME" "127.0.0.1:$P_RREMAP_C reaches the host's $P_RREMAP_H"
hgn_expect_answer "$NS" 127.0.0.1 "$P_OTHER" tcp "local-ok" "127.0.0.1:$P_OTHER (not listed) stays in the container"
# The remap is exact: the host's port is not also reachable under its own number.
hgn_no_answer "$NS" 127.0.0.1 "$P_REMAP_H"
# tcp only where not said otherwise: the tcp port is not forwarded for udp.
hg_udp_listener - "$GW" "$P_TCP" "udp-wrongly-forwarded"
hgn_no_answer "$NS" 127.0.0.1 "$P_TCP" udp

# The table the kernel holds, as nft lists it (Debian 12's nft 1.0.6), against
# the golden file: nothing more than these rules.
golden=$(dirname "$0")/golden/container-localhost-ports.nft
actual=$(hg_in "$NS" nft list table inet host_gateway | sed "s/${GW//./\\.}/@GW@/g")
if ! diff -u "$golden" - <<<"$actual" >&2; then
	hg_fail "container table differs from $golden (see diff above)"
fi

# route_localnet: on eth0 only.
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.eth0.route_localnet)" 1 "route_localnet on eth0 after ADD"
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.all.route_localnet)" 0 "route_localnet (all) after ADD"
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.default.route_localnet)" 0 "route_localnet (default) after ADD"
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.lo.route_localnet)" 0 "route_localnet (lo) after ADD"
# Nothing on the host side for localhostPorts.
[ -z "$(hgn_host_table)" ] || hg_fail "localhostPorts created a host table: $(nft list table inet host_gateway)"
hgn_check c1 "$LIST" || hg_fail "CHECK after ADD failed"

# DEL of host-gateway alone first, so that eth0 is still there to look at.
hgn_hg c1 DEL "$LIST" >/dev/null || hg_fail "host-gateway DEL failed"
if hg_in "$NS" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "table inet host_gateway still in the container netns after DEL"
fi
hg_assert_eq "$(hgn_sysctl "$NS" net.ipv4.conf.eth0.route_localnet)" 0 "route_localnet on eth0 restored by DEL"
hgn_expect_answer "$NS" 127.0.0.1 "$P_OTHER" tcp "local-ok" "local service after DEL"
hgn_no_answer "$NS" 127.0.0.1 "$P_TCP"
hgn_del c1 "$LIST"
hg_log "PASS"
