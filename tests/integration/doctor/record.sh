#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on a real attachment: bridge + host-local + host-gateway run by hand like libcni,
# every plugin inside the test's "host" namespace (HG_EXEC_NETNS), for a container process
# with its own mount namespace. doctor finds the attachment's record by the namespace (the
# stateDir of the conflist given as --config), takes the host address from it, and checks
# the names the record says were written into the container's /etc/hosts.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-record
hg_require_bin
hg_require_cmd jq socat unshare
if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then
	hg_skip "reference CNI plugins not installed"
fi

DR_HOST=hgt-$$-h
ct=hgt-$$-c
cid=hgt-$$-rc
br=hgt-$$-b
hg_netns_add "$DR_HOST"
hg_netns_add "$ct"
printf '127.0.0.1\tlocalhost\n' >"$HG_TMP/hosts"
hg_container_proc "$ct" "$HG_TMP/hosts"
netns=/proc/$HG_CONTAINER_PID/ns/net
export HG_EXEC_NETNS=$DR_HOST
list=$(hg_bridge_list hgt-doctor 1.0.0 "$br" 10.251.9.0/24)
printf '%s\n' "$list" >"$HG_TMP/net.conflist"
hg_chain ADD "$list" "$cid" "$netns" eth0 >/dev/null
hg_defer hg_chain DEL "$list" "$cid" "$netns" eth0
hg_listener "$DR_HOST" 0.0.0.0 8080 hello

DR_RC=0
DR_OUT=$(ip netns exec "$DR_HOST" "$HG_BIN" doctor --pid "$HG_CONTAINER_PID" --config "$HG_TMP/net.conflist" \
	--port 8080) || DR_RC=$?
printf '%s\n' "$DR_OUT" >&2
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ host address for IPv4: 10.251.9.1 (from the attachment record)"
hg_assert_contains "$DR_OUT" "✔ 10.251.9.1:8080/tcp answers from the container"
hg_assert_contains "$DR_OUT" "✔ the container's /etc/hosts maps all 3 names"

# A user line added before the block shadows a name: the record's address is expected.
# Rewritten in place: the container's bind mount holds the file's inode.
sed '1a 10.9.9.9 gateway.docker.internal' "$HG_TMP/hosts" >"$HG_TMP/hosts.new"
cat "$HG_TMP/hosts.new" >"$HG_TMP/hosts"
DR_RC=0
DR_OUT=$(ip netns exec "$DR_HOST" "$HG_BIN" doctor --pid "$HG_CONTAINER_PID" --config "$HG_TMP/net.conflist" \
	--json) || DR_RC=$?
dr_expect 1
hg_assert_eq "$(jq -r '.checks[] | select(.status != "pass") | "\(.id) \(.message)"' <<<"$DR_OUT")" \
	"hosts-gateway.docker.internal-ipv4 gateway.docker.internal is shadowed in the container's /etc/hosts: line 2 maps it to 10.9.9.9, not 10.251.9.1"
hg_log "ok"
