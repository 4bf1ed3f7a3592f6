#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor's rp_filter fix for an interface whose name holds a dot (a VLAN's eth0.100):
# sysctl reads net.ipv4.conf.NAME.rp_filter's dots as separators, so the fix names the key
# with slashes; pasted into a shell it works (loose mode on that interface).
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-rp-filter-dotted
hg_require_bin
hg_require_cmd socat sysctl
dr_topology "hgt-$$.7"
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
ip -n "$DR_HOST" link add "hgt-$$-a" type veth peer name "hgt-$$-b"
ip -n "$DR_HOST" link set "hgt-$$-a" up
ip -n "$DR_HOST" link set "hgt-$$-b" up
ip -n "$DR_HOST" route add "$DR_CT_IP/32" dev "hgt-$$-a"
echo 1 | ip netns exec "$DR_HOST" tee /proc/sys/net/ipv4/conf/all/rp_filter "/proc/sys/net/ipv4/conf/$DR_IF/rp_filter" >/dev/null

dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "— fix: sysctl -w net.ipv4.conf.all.rp_filter=2 net/ipv4/conf/$DR_IF/rp_filter=2"
fix=${DR_OUT#*— fix: sysctl}
fix="sysctl${fix%%$'\n'*}"
ip netns exec "$DR_HOST" sh -c "$fix"
hg_assert_eq "$(ip netns exec "$DR_HOST" cat "/proc/sys/net/ipv4/conf/$DR_IF/rp_filter")" 2 "rp_filter on $DR_IF after the fix"
dr_doctor --port 8080
hg_assert_contains "$DR_OUT" "✔ rp_filter on $DR_IF is 2"
hg_log "ok"
