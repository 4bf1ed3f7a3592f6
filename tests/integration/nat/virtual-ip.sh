#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# virtualIPs (IPv4): traffic to 169.254.1.2 is DNATed inside the container netns
# to the bridge gateway on the host; the names in the hosts block map to the
# virtual IP; CHECK sees the table; DEL removes it.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-virtual-ip
hg_guard_forwarding on

VIP=169.254.1.2
PORT=18431
NET=hgt-vip
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
# The IPv6 virtual IP must be ignored: this network is IPv4 only.
VIP6=fd00:254::2
hgn_bridge "$BR" 10.211.1.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.1.0/24 "{\"virtualIPs\":[\"$VIP\",\"$VIP6\"]}" >"$LIST"

HOSTS=$HG_TMP/hosts
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$HOSTS"
hgn_container_proc c1 "$HOSTS"
NS=${HGN_NSNAME[c1]}
PID=${HGN_PID[c1]}

hgn_add c1 "$LIST"
GW=$(hgn_gateway c1)
hg_log "container $(hgn_address c1), gateway $GW, holder pid $PID"

# The host listener is bound to the gateway address only.
hg_listener - "$GW" "$PORT" "vip-ok %PEER%"
hgn_expect_answer "$NS" "$VIP" "$PORT" tcp "vip-ok $(hgn_address c1)" "connect to $VIP:$PORT from the container"

# The hosts block maps the names to the virtual IP, not to the gateway.
hosts=$(cat "$HOSTS")
hg_assert_contains "$hosts" "$VIP"$'\t'"host.docker.internal host.containers.internal gateway.docker.internal" \
	"hosts block maps the names to the virtual IP"
case $hosts in *"$GW"*) hg_fail "hosts file names the real gateway $GW: $hosts" ;; esac
case $hosts in *"$VIP6"*) hg_fail "hosts file has the IPv6 virtual IP for an IPv4-only container: $hosts" ;; esac
# ... and the container resolves and reaches the host by name.
for name in host.docker.internal host.containers.internal gateway.docker.internal; do
	addr=$(nsenter -t "$PID" -m getent ahostsv4 "$name" | awk 'NR == 1 { print $1 }')
	hg_assert_eq "$addr" "$VIP" "$name resolves in the container"
done
for ((i = 1; i <= 3; i++)); do
	out=$(printf ping | nsenter -t "$PID" -m -n timeout 3 socat -t2 -T2 - "TCP4:host.docker.internal:$PORT") || true
	[ "$out" = "vip-ok $(hgn_address c1)" ] && break
done
hg_assert_eq "$out" "vip-ok $(hgn_address c1)" "connect by name"

# One table of ours in the container netns, none on the host.
hg_assert_contains "$(hg_in "$NS" nft list ruleset)" "table inet host_gateway" "container table"
table=$(hg_in "$NS" nft list table inet host_gateway)
hg_assert_contains "$table" "ip daddr $VIP dnat ip to $GW" "DNAT rule"
case $table in *ip6*) hg_fail "IPv6 rule for an IPv4-only container: $table" ;; esac
[ -z "$(hgn_host_table)" ] || hg_fail "virtualIPs without hostAlias/hostLoopbackPorts created a host table"

hgn_check c1 "$LIST" || hg_fail "CHECK after ADD failed"

# Table deleted by hand: CHECK must fail.
hg_in "$NS" nft delete table inet host_gateway
if out=$(hgn_check c1 "$LIST" 2>&1); then
	hg_fail "CHECK passed although the container's table inet host_gateway is missing"
fi
hg_assert_contains "$out" "host_gateway" "CHECK error names the table"

# A repeated ADD puts it back (replaces, never duplicates).
hgn_hg c1 ADD "$LIST" >/dev/null || hg_fail "repeated ADD failed"
hgn_hg c1 ADD "$LIST" >/dev/null || hg_fail "repeated ADD failed"
n=$(hg_in "$NS" nft -j list ruleset | jq '[.nftables[] | select(.table.name == "host_gateway")] | length')
hg_assert_eq "$n" 1 "one table after repeated ADD"
n=$(hg_in "$NS" nft -j list table inet host_gateway | jq '[.nftables[] | select(.rule)] | length')
hg_assert_eq "$n" 1 "one DNAT rule after repeated ADD"
hgn_check c1 "$LIST" || hg_fail "CHECK after repeated ADD failed"
hgn_expect_answer "$NS" "$VIP" "$PORT" tcp "vip-ok $(hgn_address c1)" "connect after repeated ADD"

# A repeated ADD whose configuration has no rule any more takes the table away; the next
# one with the virtual IP brings it back.
plain=$(jq -c 'del(.plugins[-1].virtualIPs)' "$LIST")
hgn_hg c1 ADD "$plain" >/dev/null || hg_fail "repeated ADD without virtualIPs failed"
if hg_in "$NS" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "the table outlived a repeated ADD without virtualIPs"
fi
hgn_check c1 "$plain" || hg_fail "CHECK after the ADD without virtualIPs failed"
hgn_hg c1 ADD "$LIST" >/dev/null || hg_fail "repeated ADD with virtualIPs again failed"
hgn_check c1 "$LIST" || hg_fail "CHECK with virtualIPs again failed"

# DEL: table, route to the virtual IP and hosts block gone.
hgn_del c1 "$LIST"
if hg_in "$NS" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "table inet host_gateway still in the container netns after DEL"
fi
hosts=$(cat "$HOSTS")
case $hosts in *"$VIP"* | *host.docker.internal*) hg_fail "hosts block left after DEL: $hosts" ;; esac
hg_assert_eq "$hosts" $'127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost' "hosts file restored"
hg_log "PASS"
