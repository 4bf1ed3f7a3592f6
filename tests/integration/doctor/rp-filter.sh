#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on strict rp_filter: the container's packets arrive on its veth, but the host's
# route back to the container leaves through another interface, so the host drops them.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-rp-filter
hg_require_bin
hg_require_cmd socat
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
# The asymmetric route: a second veth (both ends in the host namespace) carries the route
# back to the container. Sysctls of the test's namespace only.
ip -n "$DR_HOST" link add "hgt-$$-a" type veth peer name "hgt-$$-b"
ip -n "$DR_HOST" link set "hgt-$$-a" up
ip -n "$DR_HOST" link set "hgt-$$-b" up
ip -n "$DR_HOST" route add "$DR_CT_IP/32" dev "hgt-$$-a"
ip netns exec "$DR_HOST" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$DR_IF.rp_filter=1"

dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ rp_filter is strict (1) on $DR_IF but the route back to $DR_CT_IP leaves through hgt-$$-a: the host drops the container's packets — fix: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.$DR_IF.rp_filter=2"
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer: the host's strict rp_filter drops the container's packets"

# Loose mode, as the fix says: rp_filter passes, and the asymmetric route is what is left.
ip netns exec "$DR_HOST" sysctl -qw net.ipv4.conf.all.rp_filter=2 "net.ipv4.conf.$DR_IF.rp_filter=2"
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✔ rp_filter on $DR_IF is 2"
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer: the host's replies to $DR_CT_IP leave through hgt-$$-a, not $DR_IF where the container's packets arrive — fix: route $DR_CT_IP back through $DR_IF"
# Strict again, with the route back where the packets come from: all passes.
ip -n "$DR_HOST" route del "$DR_CT_IP/32" dev "hgt-$$-a"
ip netns exec "$DR_HOST" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$DR_IF.rp_filter=1"
dr_doctor --port 8080
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ rp_filter on $DR_IF is 1 and replies to $DR_CT_IP leave through $DR_IF"
hg_assert_contains "$DR_OUT" "✔ $DR_HOST_IP:8080/tcp answers from the container"
hg_log "ok"
