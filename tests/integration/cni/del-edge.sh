#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DEL is best effort: exit 0 and empty stdout in every edge case, leaving no record and
# removing the route and the hosts block wherever the netns still exists:
#   twice; without ADD; without prevResult at 1.0.0; CNI_NETNS empty; CNI_NETNS a path
#   that no longer exists; after an ADD that failed late (hosts file refused after the
#   route was added); after a chain that died between bridge ADD and host-gateway ADD.
# The network forces a host route (no routes from host-local, hostIPs a literal address
# of another subnet), so there is a route to remove as well as a block.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-del-edge
hg_require_bin
hg_require_cmd jq unshare
hg_guard_forwarding on

net=hgt-del br=hg$$del subnet=10.250.42.0/24 hostip=10.250.43.1
hg_subnet_free "$subnet" 10.250.43.0/24
hg_defer ip link del "$br"
list=$(hg_bridge_list --no-route "$net" 1.0.0 "$br" "$subnet" "{\"hostIPs\": [\"$hostip\"]}")

# hg_conf [PREV_RESULT]: host-gateway's own configuration as libcni hands it over.
hg_conf() {
	jq -c --arg prev "${1:-}" '.plugins[1] + {name: .name, cniVersion: .cniVersion}
		| if $prev != "" then .prevResult = ($prev | fromjson) else . end' <<<"$list"
}

# del_ok WHAT CID NETNS [PREV_RESULT]: host-gateway DEL exits 0 with empty stdout.
del_ok() {
	local what=$1 out rc=0
	out=$(hg_plugin DEL "$(hg_conf "${4:-}")" "$2" "$3" eth0 2>"$HG_TMP/del.err") || rc=$?
	[ "$rc" -eq 0 ] || hg_fail "DEL ($what) exited $rc: $out $(cat "$HG_TMP/del.err")"
	hg_assert_eq "$out" "" "DEL ($what) stdout"
}

# setup IDX: netns + container process + ADD through the chain. Sets NS CID NETNS HOSTS RES PID.
setup() {
	NS=hgt-$$-d$1 CID=hgt-$$-d$1-c HOSTS=$HG_TMP/hosts-$1
	hg_netns_add "$NS"
	hgc_user_hosts >"$HOSTS"
	cp "$HOSTS" "$HG_TMP/hosts.orig"
	hgc_container "$NS" "$HOSTS"
	PID=$HGC_PID
	NETNS=/proc/$PID/ns/net
	hg_defer hg_chain DEL "$list" "$CID" "$NETNS" eth0
	RES=$(hg_chain ADD "$list" "$CID" "$NETNS" eth0)
	# Preconditions: there is something to remove.
	[ -n "$(ip -n "$NS" route show "$hostip/32")" ] || hg_fail "setup $1: no host route after ADD"
	hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "setup $1: block after ADD"
	[ -f "$(hgc_record "$net" "$CID" eth0)" ] || hg_fail "setup $1: no record after ADD"
}

# gone WHAT [NS]: no record for CID; route and block gone (when NS is given).
gone() {
	[ ! -e "$(hgc_record "$net" "$CID" eth0)" ] || hg_fail "$1: record left"
	if [ -n "${2:-}" ]; then
		hg_assert_eq "$(ip -n "$2" route show "$hostip/32")" "" "$1: host route left"
		cmp -s "$HOSTS" "$HG_TMP/hosts.orig" || hg_fail "$1: hosts file not restored: $(cat "$HOSTS")"
	fi
}

hg_log "DEL twice"
setup 1
del_ok "first" "$CID" "$NETNS" "$RES"
gone "DEL once" "$NS"
del_ok "second" "$CID" "$NETNS" "$RES"
gone "DEL twice" "$NS"

hg_log "DEL without ADD"
del_ok "without ADD" "hgt-$$-never" "/var/run/netns/$NS"
del_ok "without ADD, no netns" "hgt-$$-never" ""
[ ! -e "$(hgc_record "$net" "hgt-$$-never" eth0)" ] || hg_fail "DEL without ADD created a record"

hg_log "DEL without prevResult at 1.0.0"
setup 2
del_ok "no prevResult" "$CID" "$NETNS"
gone "DEL without prevResult" "$NS"

hg_log "DEL with CNI_NETNS empty"
setup 3
del_ok "CNI_NETNS empty" "$CID" "" "$RES"
gone "DEL with CNI_NETNS empty" "$NS"

hg_log "DEL with CNI_NETNS gone"
NS=hgt-$$-d4 CID=hgt-$$-d4-c
hg_netns_add "$NS"
hg_defer hg_chain DEL "$list" "$CID" "/var/run/netns/$NS" eth0
RES=$(hg_chain ADD "$list" "$CID" "/var/run/netns/$NS" eth0)
[ -f "$(hgc_record "$net" "$CID" eth0)" ] || hg_fail "netns gone: no record after ADD"
hg_netns_del "$NS"
[ ! -e "/var/run/netns/$NS" ] || hg_fail "test setup: netns still there"
del_ok "CNI_NETNS gone" "$CID" "/var/run/netns/$NS" "$RES"
gone "DEL with CNI_NETNS gone"
# The rest of the chain too (bridge, host-local must cope; this is the runtime's view).
hg_chain DEL "$list" "$CID" "/var/run/netns/$NS" eth0 || hg_fail "chain DEL with the netns gone failed"
gone "chain DEL with CNI_NETNS gone"

hg_log "DEL with CNI_NETNS a path that now names another netns"
NS=hgt-$$-d7 CID=hgt-$$-d7-c
hg_netns_add "$NS"
hg_defer hg_chain DEL "$list" "$CID" "/var/run/netns/$NS" eth0
RES=$(hg_chain ADD "$list" "$CID" "/var/run/netns/$NS" eth0)
[ -n "$(ip -n "$NS" route show "$hostip/32")" ] || hg_fail "reused path: no host route after ADD"
hg_netns_del "$NS"
# Same name, another namespace, with a route of its own to the same address.
hg_netns_add "$NS"
ip -n "$NS" link add eth0 type veth peer name hgd7p0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set hgd7p0 up
ip -n "$NS" addr add 10.250.42.200/24 dev eth0
ip -n "$NS" route add "$hostip/32" via 10.250.42.1 dev eth0
del_ok "CNI_NETNS names another netns" "$CID" "/var/run/netns/$NS" "$RES"
gone "DEL with CNI_NETNS naming another netns"
[ -n "$(ip -n "$NS" route show "$hostip/32")" ] || hg_fail "DEL removed a route of a netns that is not the container's"
ip -n "$NS" link del eth0 # both veth ends are in there: hg_netns_del would trip over the second
hg_netns_del "$NS"
hg_chain DEL "$list" "$CID" "/var/run/netns/$NS" eth0 || hg_fail "chain DEL (reused path) failed"

hg_log "DEL after an ADD that failed late"
NS=hgt-$$-d5 CID=hgt-$$-d5-c HOSTS=$HG_TMP/hosts-5
hg_netns_add "$NS"
# Over 1 MiB: refused when the names are written, after the route was added.
{
	hgc_user_hosts
	for ((i = 0; i < 20000; i++)); do echo "# padding line $i ........................................"; done
} >"$HOSTS"
cp "$HOSTS" "$HG_TMP/hosts.orig"
[ "$(stat -c %s "$HOSTS")" -gt 1048576 ] || hg_fail "test setup: hosts file not over 1 MiB"
hgc_container "$NS" "$HOSTS"
NETNS=/proc/$HGC_PID/ns/net
hg_defer hg_chain DEL "$list" "$CID" "$NETNS" eth0
if hg_chain ADD "$list" "$CID" "$NETNS" eth0 >/dev/null 2>"$HG_TMP/add.err"; then
	hg_fail "ADD succeeded although the hosts file is over 1 MiB"
fi
hg_assert_eq "$(hgc_chain_err_code <"$HG_TMP/add.err")" 103 "late ADD failure code ($(cat "$HG_TMP/add.err"))"
# The failed ADD undid itself already...
hg_assert_eq "$(ip -n "$NS" route show "$hostip/32")" "" "host route left by the failed ADD"
gone "failed ADD" "$NS"
# ... and the runtime's DEL (no prevResult: the ADD never completed) succeeds.
del_ok "after failed ADD" "$CID" "$NETNS"
hg_chain DEL "$list" "$CID" "$NETNS" eth0 || hg_fail "chain DEL after the failed ADD failed"
gone "DEL after failed ADD" "$NS"

hg_log "DEL after a chain that died before host-gateway"
NS=hgt-$$-d6 CID=hgt-$$-d6-c HOSTS=$HG_TMP/hosts-6
hg_netns_add "$NS"
hgc_user_hosts >"$HOSTS"
cp "$HOSTS" "$HG_TMP/hosts.orig"
hgc_container "$NS" "$HOSTS"
NETNS=/proc/$HGC_PID/ns/net
hg_defer hg_chain DEL "$list" "$CID" "$NETNS" eth0
bridge_only=$(jq -c '.plugins |= .[:1]' <<<"$list")
hg_chain ADD "$bridge_only" "$CID" "$NETNS" eth0 >/dev/null
rm -f "$HG_TMP/cache/$CID-eth0.json" # the runtime never saw a result
del_ok "half-finished chain" "$CID" "$NETNS"
hg_chain DEL "$list" "$CID" "$NETNS" eth0 || hg_fail "chain DEL after a half-finished chain failed"
gone "DEL after half-finished chain" "$NS"
hg_assert_eq "$(ip -n "$NS" -br link show dev eth0 2>/dev/null || true)" "" "eth0 left in the container after chain DEL"

hg_assert_eq "$(hg_nrecords "cni/$net")" 0 "records left in the network"
hg_log "PASS"
