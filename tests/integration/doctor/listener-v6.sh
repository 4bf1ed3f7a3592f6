#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on an IPv6 port refused because the host's only socket is bound to 0.0.0.0 (IPv4
# only): "nothing listens" on IPv6, with the fix to listen there, never "a firewall rejects
# it" (0.0.0.0 was taken as covering IPv6 too). The IPv4 port answers.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-listener-v6
hg_require_bin
hg_require_cmd socat
dr_topology
ip -n "$DR_HOST" addr add fd00:251:7::1/64 dev "$DR_IF" nodad
ip -n "$DR_CT" addr add fd00:251:7::2/64 dev eth0 nodad
ip -n "$DR_CT" -6 route add default via fd00:251:7::1
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
hg_udp_listener "$DR_HOST" 0.0.0.0 8080 hello
for proto in tcp udp; do
	dr_doctor --port "8080/$proto"
	dr_expect 1
	hg_assert_contains "$DR_OUT" "✘ [fd00:251:7::1]:8080/$proto: refused: nothing listens on 8080/$proto on the host"
	hg_assert_contains "$DR_OUT" "✔ $DR_HOST_IP:8080/$proto answers from the container"
	case $DR_OUT in *"a firewall rejects it"*) hg_fail "0.0.0.0 taken for an IPv6 listener" ;; esac
done
hg_log "ok"
