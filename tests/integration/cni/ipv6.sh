#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# IPv6. A dual-stack bridge network (host-local: one IPv4 range set, one ULA range set)
# gets one IPv4 and one IPv6 line in the block, and a client reaches the host over IPv6
# by name. An IPv4-only network never gets an IPv6 line, not even with a literal IPv6
# hostIP configured, and no IPv6 route either.
# Everything runs inside a "node" netns (HG_EXEC_NETNS): the bridge plugin with isGateway
# turns on IPv6 forwarding, which must not happen to the machine itself.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-ipv6
hg_require_bin
hg_require_cmd jq socat nsenter unshare
[ -e /proc/sys/net/ipv6/conf/all/disable_ipv6 ] || hg_skip "no IPv6 in this kernel"
# shellcheck disable=SC2119
hg_guard_forwarding # not "on": forwarding is switched on in the node netns only

node=hgt-$$-v6node
hg_netns_add "$node"
export HG_EXEC_NETNS=$node
v6sub=fd42:4867:7470:1::/64

# add IDX NAME LIST: container with its own /etc/hosts, ADD; sets NS PID HOSTS RES REC.
add() {
	local idx=$1 name=$2 list=$3 cid=hgt-$$-v6c$1
	NS=hgt-$$-v6c$idx HOSTS=$HG_TMP/hosts-$idx CID=$cid
	hg_netns_add "$NS"
	hgc_user_hosts >"$HOSTS"
	cp "$HOSTS" "$HOSTS.orig"
	hgc_container "$NS" "$HOSTS"
	PID=$HGC_PID
	# shellcheck disable=SC2016 # expanded by the inner bash
	hg_defer env HG_EXEC_NETNS="$node" bash -c '. "$1"; hg_chain DEL "$2" "$3" "$4" eth0' _ "$HG_LIB_DIR/chain.sh" "$list" "$cid" "/proc/$PID/ns/net"
	RES=$(hg_chain ADD "$list" "$cid" "/proc/$PID/ns/net" eth0)
	REC=$(hgc_record "$name" "$cid" eth0)
}

hg_log "dual stack"
dual=$(hg_bridge_list hgt-v6dual 1.0.0 hgv6br1 "10.250.60.0/24 $v6sub" |
	jq -c '.plugins[0].ipam.routes = [{dst: "0.0.0.0/0"}, {dst: "::/0"}]')
fwd6_before=$(cat /proc/sys/net/ipv6/conf/all/forwarding)
add 1 hgt-v6dual "$dual"
hg_assert_eq "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" "$fwd6_before" "the machine's IPv6 forwarding"
hg_assert_eq "$(jq -r '[.ips[].address] | join(" ")' <<<"$RES")" "10.250.60.2/24 fd42:4867:7470:1::2/64" "container addresses"
hg_assert_eq "$(hg_block "$HOSTS")" \
	"$(printf '10.250.60.1\t%s\nfd42:4867:7470:1::1\t%s' "$HG_DEFAULT_NAMES" "$HG_DEFAULT_NAMES")" "dual-stack block"
hg_assert_eq "$(hg_strip "$HOSTS")" "$(cat "$HOSTS.orig")" "user lines (dual stack)"
hg_chain CHECK "$dual" "$CID" "/proc/$PID/ns/net" eth0 || hg_fail "CHECK (dual stack) failed"

# Over IPv6, by name: wait for DAD on both ends first.
for ((i = 0; i < 60; i++)); do
	[ -z "$(ip -n "$node" -6 addr show tentative)" ] && [ -z "$(ip -n "$NS" -6 addr show tentative)" ] && break
	sleep 0.1
done
hg_listener "$node" fd42:4867:7470:1::1 18700 hello-v6
out=$(printf x | nsenter -t "$PID" -n -m timeout 3 socat -t2 -T2 - TCP6:host.docker.internal:18700) ||
	hg_fail "container could not reach host.docker.internal:18700 over IPv6"
hg_assert_eq "$out" hello-v6 "reply over IPv6"
hg_chain DEL "$dual" "$CID" "/proc/$PID/ns/net" eth0 || hg_fail "DEL (dual stack) failed"
cmp "$HOSTS" "$HOSTS.orig" || hg_fail "hosts after DEL (dual stack) differs"
[ ! -e "$REC" ] || hg_fail "record left (dual stack)"

hg_log "IPv4 only, default hostIPs"
v4=$(hg_bridge_list hgt-v6four 1.0.0 hgv6br2 10.250.61.0/24)
add 2 hgt-v6four "$v4"
hg_assert_eq "$(hg_block "$HOSTS")" "$(printf '10.250.61.1\t%s' "$HG_DEFAULT_NAMES")" "IPv4-only block"
[ -z "$(hg_block "$HOSTS" | awk '$1 ~ /:/')" ] || hg_fail "IPv6 line in an IPv4-only block"

hg_log "IPv4 only, a literal IPv6 hostIP configured"
v4lit=$(hg_bridge_list hgt-v6lit 1.0.0 hgv6br3 10.250.62.0/24 '{"hostIPs": ["fd42:4867:7470:9::1", "auto"], "extraHosts": ["both.test:host-gateway"]}')
add 3 hgt-v6lit "$v4lit"
hg_assert_eq "$(hg_block "$HOSTS")" "$(printf '10.250.62.1\t%s\n10.250.62.1\tboth.test' "$HG_DEFAULT_NAMES")" \
	"IPv4-only block with an IPv6 hostIP configured"
hg_assert_eq "$(ip -n "$NS" -6 route show fd42:4867:7470:9::1)" "" "IPv6 host route in an IPv4-only container"
hg_assert_eq "$(jq -c .hostIPs "$REC")" '["10.250.62.1"]' "record hostIPs (IPv4 only)"
# Re-applied by a repeated ADD: still no IPv6 line.
conf=$(jq -c --argjson prev "$RES" '.plugins[1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev}' <<<"$v4lit")
hg_plugin ADD "$conf" "$CID" "/proc/$PID/ns/net" eth0 >/dev/null || hg_fail "repeated ADD (IPv4 only) failed"
[ -z "$(hg_block "$HOSTS" | awk '$1 ~ /:/')" ] || hg_fail "IPv6 line after a repeated ADD: $(hg_block "$HOSTS")"
hg_chain CHECK "$v4lit" "$CID" "/proc/$PID/ns/net" eth0 || hg_fail "CHECK (IPv4 only) failed"
hg_log "PASS"
