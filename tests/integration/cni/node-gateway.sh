#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kind-style nesting, "the host is one hop beyond the node", without leaving the machine:
#   HOST netns  hgh0 10.250.50.1/24  <-veth->  hgn0 10.250.50.2/24  NODE netns (default via .1)
#   NODE: bridge for containers (10.250.51.0/24), ip_forward + nft masquerade out of hgn0
#   the plugins run inside NODE (HG_EXEC_NETNS), hostIPs ["node-gateway"].
# The names must map to the node's default gateway (10.250.50.1), not the bridge gateway,
# and a client in the container reaches a listener in HOST by name.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-node-gateway
hg_require_bin
hg_require_cmd jq socat nsenter unshare nft
# shellcheck disable=SC2119
hg_guard_forwarding # not "on": forwarding is switched on in the node netns only

hostns=hgt-$$-host node=hgt-$$-node ns=hgt-$$-ngc net=hgt-ng cid=hgt-$$-ng-c br=hgnbr0
hosts=$HG_TMP/hosts
hg_netns_add "$hostns"
hg_netns_add "$node"
hg_netns_add "$ns"
ip -n "$hostns" link add hgh0 type veth peer name hgn0 netns "$node"
ip -n "$hostns" addr add 10.250.50.1/24 dev hgh0
ip -n "$hostns" link set hgh0 up
ip -n "$node" addr add 10.250.50.2/24 dev hgn0
ip -n "$node" link set hgn0 up
ip -n "$node" route add default via 10.250.50.1
# A new netns copies the machine's IPv4 forwarding (net.core.devconf_inherit_init_net 0):
# both are set here, so that the test does not depend on the machine's value.
ip netns exec "$hostns" sysctl -qw net.ipv4.ip_forward=0
ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$node" nft -f - <<-'EOF'
	table ip hgt_node_nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "hgn0" masquerade
		}
	}
EOF
# Forwarding belongs to the NODE netns only.
hg_assert_eq "$(ip netns exec "$hostns" cat /proc/sys/net/ipv4/ip_forward)" 0 "HOST netns forwarding"

hgc_user_hosts >"$hosts"
cp "$hosts" "$hosts.orig"
hgc_container "$ns" "$hosts"
netns=/proc/$HGC_PID/ns/net
list=$(hg_bridge_list "$net" 1.0.0 "$br" 10.250.51.0/24 '{"hostIPs": ["node-gateway"]}')
rec=$(hgc_record "$net" "$cid" eth0)
export HG_EXEC_NETNS=$node
# shellcheck disable=SC2016 # expanded by the inner bash
hg_defer env HG_EXEC_NETNS="$node" bash -c '. "$1"; hg_chain DEL "$2" "$3" "$4" eth0' _ "$HG_LIB_DIR/chain.sh" "$list" "$cid" "$netns"

fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
res=$(hg_chain ADD "$list" "$cid" "$netns" eth0)
hg_assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$fwd_before" "the machine's ip_forward (the plugins ran in the node netns)"
hg_assert_eq "$(jq -r '.ips[0].gateway' <<<"$res")" 10.250.51.1 "bridge gateway in the result"
[ -n "$(ip -n "$node" link show "$br" 2>/dev/null)" ] || hg_fail "test setup: the bridge is not in the node netns"
hg_assert_eq "$(hg_block "$hosts")" "$(printf '10.250.50.1\t%s' "$HG_DEFAULT_NAMES")" \
	"block maps the node's default gateway"
hg_assert_eq "$(jq -r '.hostIPs | join(",")' "$rec")" 10.250.50.1 "record hostIPs"

hg_listener "$hostns" 10.250.50.1 18600 hello-from-host
out=$(printf x | nsenter -t "$HGC_PID" -n -m timeout 3 socat -t2 -T2 - TCP:host.docker.internal:18600) ||
	hg_fail "container could not reach host.docker.internal:18600 in the HOST netns"
hg_assert_eq "$out" hello-from-host "reply from the HOST netns through the node"

hg_chain CHECK "$list" "$cid" "$netns" eth0 || hg_fail "CHECK failed"
hg_chain DEL "$list" "$cid" "$netns" eth0 || hg_fail "DEL failed"
cmp "$hosts" "$hosts.orig" || hg_fail "hosts after DEL differs: $(diff "$hosts.orig" "$hosts")"
[ ! -e "$rec" ] || hg_fail "record left after DEL"
hg_log "PASS"
