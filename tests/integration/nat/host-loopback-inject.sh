#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hostLoopbackPorts, CVE-2020-8558: with route_localnet on the bridge, a frame
# addressed to 127.0.0.1 that arrives from the bridge must not reach a host
# service bound to 127.0.0.1, whoever sends it (the opted-in container on its
# own listed port, or a neighbour). The frames are made by hand (inject.py):
# the container's kernel would never send 127.0.0.1 out of eth0. A neighbour spoofing the
# opted-in container's address does not get the grant either (bound to its bridge port).
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-host-loopback-inject
hg_guard_forwarding on
hg_require_cmd python3
INJECT=$(dirname "$0")/inject.py
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

PORT=18460     # listed tcp
PORT_U=18461   # listed udp
PROBE_U=18462  # udp recorder on the gateway address (control)
NET=hgt-hlpi
BR=hgt-$$-b
LIST_A=$HG_TMP/a.conflist
LIST_B=$HG_TMP/b.conflist
hgn_bridge "$BR" 10.211.9.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.9.0/24 "{\"hostLoopbackPorts\":[\"$PORT\",\"$PORT_U/udp\"]}" >"$LIST_A"
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.9.0/24 '{}' >"$LIST_B"
[ -z "$(ss -Hlnt "sport = :$PORT")" ] || hg_skip "tcp port $PORT already in use on the host"
[ -z "$(ss -Hlnu "sport = :$PORT_U")" ] || hg_skip "udp port $PORT_U already in use on the host"

# recorder ADDR PORT FILE: every UDP payload that reaches ADDR:PORT on the host.
recorder() {
	local pid
	: >"$3"
	socat -u "UDP4-RECV:$2,bind=$1" "OPEN:$3,append" 2>>"$HG_TMP/recorder.log" &
	pid=$!
	disown "$pid"
	hg_defer kill "$pid"
	_hg_wait_port - udp "$2" "$pid" || hg_fail "udp recorder $1:$2 did not start"
}
# inject NAME DST PROTO PORT [SRC]: one frame from NAME's eth0 to the bridge's
# MAC, from NAME's address or SRC; prints the number of answers (tcp: SYN-ACKs
# within 1.5 s; udp is checked at the recorders, so no waiting for answers).
inject() {
	local wait=1.5
	[ "$3" = udp ] && wait=0.05
	hg_in "${HGN_NSNAME[$1]}" "$PY" "$INJECT" eth0 "$(cat "/sys/class/net/$BR/address")" \
		"${5:-$(hgn_address "$1")}" "$2" "$3" "$4" "$wait"
}

hgn_container a
hgn_container b
hgn_add b "$LIST_B"
GW=$(hgn_gateway b)

# Controls before anything is opened: the injector's frames do reach the host
# stack (a recorder on the gateway address gets the datagram) ...
recorder "$GW" "$PROBE_U" "$HG_TMP/probe.rec"
inject b "$GW" udp "$PROBE_U" >/dev/null
for ((i = 0; i < 40; i++)); do [ -s "$HG_TMP/probe.rec" ] && break; sleep 0.05; done
hg_assert_eq "$(cat "$HG_TMP/probe.rec")" inject "control: an injected datagram to $GW reaches the host"
# ... and, with route_localnet on the bridge but without host-gateway's guard,
# a frame to 127.0.0.1 reaches a loopback-only service (the hole the guard closes).
recorder 127.0.0.1 "$PORT_U" "$HG_TMP/lo.rec"
hg_defer sh -c "echo 0 >/proc/sys/net/ipv4/conf/$BR/route_localnet"
echo 1 >"/proc/sys/net/ipv4/conf/$BR/route_localnet"
inject b 127.0.0.1 udp "$PORT_U" >/dev/null
for ((i = 0; i < 40; i++)); do [ -s "$HG_TMP/lo.rec" ] && break; sleep 0.05; done
echo 0 >"/proc/sys/net/ipv4/conf/$BR/route_localnet"
if [ "$(cat "$HG_TMP/lo.rec")" != inject ]; then
	hg_log "control: this kernel drops 127.0.0.1 from the bridge even with route_localnet=1;" \
		"the checks below still run but prove less"
fi
: >"$HG_TMP/lo.rec"

# Now A opts in: route_localnet goes on for the bridge, with the guard.
hgn_add a "$LIST_A"
hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 1 "route_localnet on $BR with A attached"
hg_listener - 127.0.0.1 "$PORT" "loopback-ok"

# The allowed path works through the same injector: A's SYN to the gateway
# address is DNATed to 127.0.0.1:$PORT and answered.
hg_assert_eq "$(inject a "$GW" tcp "$PORT")" 1 "control: A's SYN to $GW:$PORT gets a SYN-ACK"
# (The recorder sends no answer: hg_connect just sends its datagram and waits.)
hg_connect "${HGN_NSNAME[a]}" "$GW" "$PORT_U" udp ping >/dev/null || true
for ((i = 0; i < 40; i++)); do [ -s "$HG_TMP/lo.rec" ] && break; sleep 0.05; done
hg_assert_eq "$(cat "$HG_TMP/lo.rec")" ping "control: A's datagram to $GW:$PORT_U reaches 127.0.0.1:$PORT_U"
: >"$HG_TMP/lo.rec"

# Frames to 127.0.0.1 itself, from B and from A, tcp and udp: nothing answers.
for who in b a; do
	n=$(inject "$who" 127.0.0.1 tcp "$PORT")
	hg_assert_eq "$n" 0 "SYN-ACKs to a SYN from $who to 127.0.0.1:$PORT injected on the bridge"
	inject "$who" 127.0.0.1 udp "$PORT_U" >/dev/null
	inject "$who" 127.0.0.2 udp "$PORT_U" >/dev/null
done
sleep 0.3
hg_assert_eq "$(cat "$HG_TMP/lo.rec")" "" "datagrams injected to 127.0.0.0/8 that reached 127.0.0.1:$PORT_U"
hg_assert_eq "$(ss -Htn state syn-recv "sport = :$PORT" | wc -l)" 0 "half-open connections on 127.0.0.1:$PORT"
# route_localnet also stops the bridge from treating 127.0.0.0/8 sources as
# martians: a datagram spoofed from 127.0.0.1 to the gateway address (a service
# trusting loopback peers) must not get through either.
: >"$HG_TMP/probe.rec"
inject b "$GW" udp "$PROBE_U" 127.0.0.1 >/dev/null
inject a "$GW" udp "$PROBE_U" 127.0.0.1 >/dev/null
sleep 0.3
hg_assert_eq "$(cat "$HG_TMP/probe.rec")" "" "datagrams spoofed from 127.0.0.1 that reached $GW:$PROBE_U"
# B's frame to the gateway address on the listed port is not DNATed either.
hg_assert_eq "$(inject b "$GW" tcp "$PORT")" 0 "SYN-ACKs to B's SYN to $GW:$PORT"
# B spoofing A's address (CAP_NET_RAW is enough): the grant is bound to A's bridge port,
# so the datagram never reaches 127.0.0.1:$PORT_U (one-way UDP would, by source alone).
inject b "$GW" udp "$PORT_U" "$(hgn_address a)" >/dev/null
sleep 0.3
hg_assert_eq "$(cat "$HG_TMP/lo.rec")" "" "datagrams from B spoofing A's address that reached 127.0.0.1:$PORT_U"
hg_assert_eq "$(inject b "$GW" tcp "$PORT" "$(hgn_address a)")" 0 "SYN-ACKs to B's SYN spoofing A's address"
nft list set bridge host_gateway granted | grep -q "$(hgn_address a)" ||
	hg_fail "no bridge port binding for A: $(nft list table bridge host_gateway 2>&1)"
# A itself still gets through after B's attempts.
hg_connect "${HGN_NSNAME[a]}" "$GW" "$PORT_U" udp ping2 >/dev/null || true
for ((i = 0; i < 40; i++)); do [ -s "$HG_TMP/lo.rec" ] && break; sleep 0.05; done
hg_assert_eq "$(cat "$HG_TMP/lo.rec")" ping2 "A's own datagram still reaches 127.0.0.1:$PORT_U"

hgn_del a "$LIST_A"
hg_assert_eq "$(cat "/proc/sys/net/ipv4/conf/$BR/route_localnet")" 0 "route_localnet on $BR after DEL of A"
[ -z "$(nft list table bridge host_gateway 2>/dev/null)" ] || hg_fail "bridge table left after the last DEL: $(nft list table bridge host_gateway)"
hgn_del b "$LIST_B"
hg_log "PASS"
