#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The nftables sockets are released after the plugin has exited (lib/os/nft.h): the kernel's
# wait in that release (an RCU grace period after a transaction that removed something)
# is no longer the runtime's. Run as a runtime runs it, under a child subreaper
# (tests/tools/subreaper.py) that reaps whatever the plugin leaves:
# - ADD, CHECK and DEL of an attachment with virtualIPs + localhostPorts +
#   hostLoopbackPorts succeed, with their result on stdout, which is at EOF the instant
#   they exit (the releasing child has let go of it), and what they did is complete
#   the instant they exit (the container table and the host map elements are there after
#   ADD, gone after DEL);
# - each leaves exactly one process, which ends by SIGKILL (PR_SET_PDEATHSIG, when the
#   plugin exits; or exits 0 when the plugin was gone first) and is reaped by the subreaper: nothing lingers, nothing is a zombie;
# - a plain attachment (no nftables key) leaves no process.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-detached-release
hg_require_cmd python3
hg_guard_forwarding on

REAPER=$HG_LIB_DIR/../tools/subreaper.py
NET=hgt-detach
BR=hgt-$$-b
LIST=$HG_TMP/nft.conflist
PLAIN=$HG_TMP/plain.conflist
hgn_bridge "$BR" 10.211.14.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.14.0/24 \
	'{"virtualIPs":["169.254.1.2"],"localhostPorts":["18441"],"hostLoopbackPorts":["18442"]}' >"$LIST"
hg_bridge_list --no-route "$NET-plain" 1.0.0 "$BR" 10.211.14.0/24 '{}' >"$PLAIN"

printf '127.0.0.1\tlocalhost\n' >"$HG_TMP/hosts1"
printf '127.0.0.1\tlocalhost\n' >"$HG_TMP/hosts2"
hgn_container_proc c1 "$HG_TMP/hosts1"
hgn_container_proc c2 "$HG_TMP/hosts2"
hgn_add c1 "$LIST" || hg_fail "chain ADD of c1 failed"
hgn_add c2 "$PLAIN" || hg_fail "chain ADD of c2 failed"
ADDR1=$(hgn_address c1)

# reaped NAME CMD LIST THEN [FDS]: host-gateway alone (cached prevResult), under the
# subreaper; THEN runs the instant it has exited; FDS: see subreaper.py --fds. Sets OUT to
# the harness's JSON.
reaped() {
	local name=$1 cmd=$2 list=$3 then=$4 fds=${5:-0} conf
	conf=$(jq -c --slurpfile prev "$HG_TMP/result-$name.json" \
		'.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$list")
	OUT=$(CNI_COMMAND=$cmd CNI_CONTAINERID=$(hgn_cid "$name") CNI_NETNS=${HGN_NETNS[$name]} CNI_IFNAME=eth0 \
		CNI_PATH=$HG_CNI_PATH python3 "$REAPER" --then "$then" --fds "$fds" -- "$HG_PLUGIN_DIR/host-gateway" <<<"$conf") ||
		hg_fail "subreaper.py failed for $cmd of $name"
	hg_assert_eq "$(jq .rc <<<"$OUT")" 0 "$cmd of $name: exit status ($(jq -r '.stdout + .stderr' <<<"$OUT"))"
	hg_assert_eq "$(jq .unreaped <<<"$OUT")" false "$cmd of $name: every process it left was reaped within 5 s"
	# A runtime reads stdout to EOF: when the plugin has exited, nothing may hold it.
	hg_assert_eq "$(jq .stdout_open_after_exit <<<"$OUT")" false "$cmd of $name: stdout still open after its exit"
}
# Both rule sets, as seen at one instant: the container's table, then our host map elements.
STATE="ip netns exec ${HGN_NSNAME[c1]} nft list tables | grep -c 'inet host_gateway'; nft list map inet host_gateway loopback4 2>/dev/null | grep -c '$ADDR1' || :"

one_orphan() { # one_orphan WHAT
	hg_assert_eq "$(jq '.orphans | length' <<<"$OUT")" 1 "$1: processes left behind"
	# SIGKILL when the plugin exited first; exit 0 when it was gone before the child armed
	# PR_SET_PDEATHSIG.
	hg_assert_eq "$(jq -c '.orphans[0] | [.signal, .exit] | . == [9, null] or . == [null, 0]' <<<"$OUT")" true \
		"$1: how the releasing process ended: $(jq -c '.orphans[0]' <<<"$OUT")"
}

reaped c1 ADD "$LIST" "$STATE"
hg_assert_eq "$(jq -r .stdout <<<"$OUT" | jq -r .cniVersion)" 1.0.0 "ADD's result on stdout"
hg_assert_eq "$(jq -j .then <<<"$OUT" | tr '\n' ' ')" "1 1 " "container table and host map element at ADD's exit"
one_orphan ADD

reaped c1 CHECK "$LIST" "$STATE"
hg_assert_eq "$(jq -r .stdout <<<"$OUT")" "" "CHECK prints nothing"
one_orphan CHECK

reaped c1 DEL "$LIST" "$STATE"
hg_assert_eq "$(jq -j .then <<<"$OUT" | tr '\n' ' ')" "0 0 " "container table and host map element at DEL's exit"
one_orphan DEL
# A copy of stdout behind 1000 other descriptors (fewer than FD_SETSIZE: libnftables
# select()s on its socket): still closed before the plugin
# exits (the child lets go of everything before the parent may go).
reaped c1 ADD "$LIST" "$STATE" 1000
reaped c1 DEL "$LIST" "$STATE" 1000
# What the DEL left for the kernel to finish does not trip the next operations.
reaped c1 ADD "$LIST" "$STATE"
hg_assert_eq "$(jq -j .then <<<"$OUT" | tr '\n' ' ')" "1 1 " "ADD right after DEL"
reaped c1 DEL "$LIST" "$STATE"
hg_assert_eq "$(jq -j .then <<<"$OUT" | tr '\n' ' ')" "0 0 " "DEL right after ADD"

# No nftables: no fork.
reaped c2 DEL "$PLAIN" "true"
hg_assert_eq "$(jq '.orphans | length' <<<"$OUT")" 0 "a plain DEL left processes"
reaped c2 ADD "$PLAIN" "true"
hg_assert_eq "$(jq '.orphans | length' <<<"$OUT")" 0 "a plain ADD left processes"
hg_log "PASS"
