#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on a refused port: a service listening on 127.0.0.1 only (suggest binding the host
# address or hostLoopbackPorts), and a port nothing listens on; a UDP port with nothing
# behind it is closed (ICMP port unreachable).
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-listener
hg_require_bin
hg_require_cmd socat jq
dr_topology
hg_listener "$DR_HOST" 127.0.0.1 8080 hello

dr_doctor --port 8080 --port 9090 --port 5354/udp
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: refused: 8080/tcp listens only on 127.0.0.1/::1 on the host, not on $DR_HOST_IP — fix: bind the service to $DR_HOST_IP (or 0.0.0.0/::), or add \"hostLoopbackPorts\": [\"8080/tcp\"]"
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:9090/tcp: refused: nothing listens on 9090/tcp on the host — fix: start the service"
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:5354/udp: refused: nothing listens on 5354/udp"
hg_assert_contains "$DR_OUT" "✔ host address for IPv4: $DR_HOST_IP"

dr_doctor --port 8080 --json
dr_expect 1
hg_assert_eq "$(jq -r '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | [.status, .fix] | join("|")' <<<"$DR_OUT")" \
	"fail|bind the service to $DR_HOST_IP (or 0.0.0.0/::), or add \"hostLoopbackPorts\": [\"8080/tcp\"] to the host-gateway configuration"
hg_log "ok"
