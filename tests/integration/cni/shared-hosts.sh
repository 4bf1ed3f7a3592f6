#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two attachments share one hosts file (issue 8, item 2): a container on two networks
# (nerdctl with two networks, Multus), each chaining host-gateway with its own names.
#  - ADD of both: the file holds one block, each name once (shared.local is A's, which came
#    first), the user's lines intact; CHECK of each passes;
#  - a repeated ADD of the first (which replaces it) keeps the second's names, and the
#    first's come after them now;
#  - DEL of the first removes its names only (shared.local now B's); CHECK of the survivor
#    passes;
#  - the file rewritten by someone else (kubelet truncates a pod's etc-hosts): the next
#    write of any owner brings every live owner's names back;
#  - the previous version's per-owner blocks (an upgrade on a running node): the next
#    write takes them into the one block, a DEL takes its owner's names only;
#  - B in another stateDir (a hook config and a conflist may differ): writers of the file
#    still serialise (the lock is not in the stateDir);
#  - a DEL killed between its write of the shorter file and the truncation (strace's
#    fault injection, when strace is there): the old content's tail (the END marker, the
#    last names) is not left in the file as the user's lines; the rerun DEL leaves the
#    user's lines and the survivor's block;
#  - ADDs killed at random moments, then one DEL: the user's file byte for byte, no
#    registry left.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-shared-hosts
hg_require_bin
hg_require_cmd jq
hg_guard_forwarding on

sa=10.250.35.0/24 sb=10.250.36.0/24
hg_subnet_free "$sa" "$sb"
hg_defer ip link del "hg$$sa"
hg_defer ip link del "hg$$sb"
la=$HG_TMP/a.conflist lb=$HG_TMP/b.conflist
hg_bridge_list hgt-sha 1.0.0 "hg$$sa" "$sa" '{"names":["a.local","shared.local"]}' >"$la"
hg_bridge_list hgt-shb 1.0.0 "hg$$sb" "$sb" "$(jq -cn --arg s "$HG_TMP/state-b" '{names: ["b.local", "shared.local"], stateDir: $s}')" >"$lb"
hosts=$HG_TMP/hosts
hgc_user_hosts >"$hosts"
cp "$hosts" "$hosts.orig"
ns=hgt-$$-sh
hg_netns_add "$ns"
hgc_container "$ns" "$hosts"
nsp=/proc/$HGC_PID/ns/net
cid=hgt-$$-sh

hg_defer hg_chain DEL "$la" "$cid" "$nsp" eth0
hg_chain ADD "$la" "$cid" "$nsp" eth0 >"$HG_TMP/a.json" || hg_fail "ADD on network A failed"
hg_defer hg_chain DEL "$lb" "$cid" "$nsp" net1
hg_chain ADD "$lb" "$cid" "$nsp" net1 >"$HG_TMP/b.json" || hg_fail "ADD on network B failed"
ga=$(jq -r '.ips[0].gateway' "$HG_TMP/a.json")
gb=$(jq -r '.ips[0].gateway' "$HG_TMP/b.json")
ka=hgt-sha+$cid+eth0 kb=hgt-shb+$cid+net1

hg_assert_eq "$(hg_nblocks "$hosts")" 1 "one block after both ADDs"
hg_assert_eq "$(hg_block "$hosts")" "$ga"$'\t'"a.local shared.local"$'\n'"$gb"$'\t'"b.local" "the block after both ADDs"
hg_assert_eq "$(hg_strip "$hosts")" "$(cat "$hosts.orig")" "user lines with two owners"
hg_chain CHECK "$la" "$cid" "$nsp" eth0 || hg_fail "CHECK of A with two owners"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 || hg_fail "CHECK of B with two owners"

# A repeated ADD of A (host-gateway alone, with the cached result) replaces A: B's names
# stay, and come first now (shared.local is B's).
conf=$(jq -c --slurpfile prev "$HG_TMP/a.json" '.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$la")
hg_plugin ADD "$conf" "$cid" "$nsp" eth0 >/dev/null || hg_fail "repeated ADD of A failed"
hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local"$'\n'"$ga"$'\t'"a.local" "the block after A's repeated ADD"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 || hg_fail "CHECK of B after A's repeated ADD"

# DEL of A: A's names go, B's stay; CHECK of B passes.
hg_chain DEL "$la" "$cid" "$nsp" eth0 || hg_fail "DEL of A failed"
hg_assert_eq "$(hg_nblocks "$hosts")" 1 "one block after DEL of A"
hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local" "the block after DEL of A"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 || hg_fail "CHECK of B after DEL of A"

# Rewritten by someone else: the next write of an owner brings every live owner's names.
hg_chain ADD "$la" "$cid" "$nsp" eth0 >"$HG_TMP/a.json" || hg_fail "ADD of A again failed"
conf=$(jq -c --slurpfile prev "$HG_TMP/a.json" '.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$la")
hgc_write_in_place "$hosts" <"$hosts.orig"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 2>/dev/null && hg_fail "CHECK of B passed with its block gone"
hg_plugin ADD "$conf" "$cid" "$nsp" eth0 >/dev/null || hg_fail "ADD of A after the rewrite failed"
hg_assert_eq "$(hg_nblocks "$hosts")" 1 "the block back after one owner's write"
hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local"$'\n'"$ga"$'\t'"a.local" "the block after the rebuild (B came first now)"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 || hg_fail "CHECK of B after the rebuild"
hg_chain CHECK "$la" "$cid" "$nsp" eth0 || hg_fail "CHECK of A after the rebuild"

# The previous version's per-owner blocks, as an upgrade finds them (the registry, whose
# format did not change, lists both owners): A's next write takes them into one block.
old_block() { printf '%s %s (managed block: edits here are lost)\n%s\n%s %s\n' "$HG_BEGIN" "$1" "$2" "$HG_END" "$1"; }
{ cat "$hosts.orig"; old_block "$ka" "$ga"$'\t'"a.local shared.local"; old_block "$kb" "$gb"$'\t'"b.local shared.local"; } |
	hgc_write_in_place "$hosts"
hg_assert_eq "$(hg_nblocks "$hosts")" 2 "two old per-owner blocks"
hg_plugin ADD "$conf" "$cid" "$nsp" eth0 >/dev/null || hg_fail "ADD of A over old blocks failed"
hg_assert_eq "$(hg_nblocks "$hosts")" 1 "the old blocks taken into one"
hg_assert_eq "$(hg_owner_block "$hosts" "$kb")" "" "B's old block gone"
hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local"$'\n'"$ga"$'\t'"a.local" "the block after the upgrade"
hg_assert_eq "$(hg_strip "$hosts")" "$(cat "$hosts.orig")" "user lines after the upgrade"
hg_chain CHECK "$lb" "$cid" "$nsp" net1 || hg_fail "CHECK of B after the upgrade"
# A DEL finding old blocks takes them in too: A's names go, B's stay in the one block.
{ cat "$hosts.orig"; old_block "$ka" "$ga"$'\t'"a.local shared.local"; old_block "$kb" "$gb"$'\t'"b.local shared.local"; } |
	hgc_write_in_place "$hosts"
hg_chain DEL "$la" "$cid" "$nsp" eth0 || hg_fail "DEL of A over old blocks failed"
hg_assert_eq "$(hg_nblocks "$hosts")" 1 "one block after DEL of A over old blocks"
hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local" "B's names after DEL of A over old blocks"
hg_chain ADD "$la" "$cid" "$nsp" eth0 >"$HG_TMP/a.json" || hg_fail "ADD of A after the upgrade failed"
conf=$(jq -c --slurpfile prev "$HG_TMP/a.json" '.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$la")

# DEL of B killed at its truncation (the file is written shorter in place, then cut): B's
# line goes from the head of the block, so the bytes past the new end are the old block's
# tail. Rerun, the DEL leaves the user's lines, A's names and nothing else.
if command -v strace >/dev/null; then
	confb=$(jq -c --slurpfile prev "$HG_TMP/b.json" '.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$lb")
	hg_assert_eq "$(hg_block "$hosts")" "$gb"$'\t'"b.local shared.local"$'\n'"$ga"$'\t'"a.local" "the block before the killed DEL"
	rc=0
	CNI_COMMAND=DEL CNI_CONTAINERID=$cid CNI_NETNS=$nsp CNI_IFNAME=net1 CNI_PATH=$HG_CNI_PATH \
		strace -qq -f -o /dev/null -e inject=ftruncate:signal=SIGKILL "$HG_BIN" <<<"$confb" >/dev/null 2>&1 || rc=$?
	hg_assert_eq "$rc" 137 "DEL of B killed at its truncation"
	hg_plugin DEL "$confb" "$cid" "$nsp" net1 >/dev/null || hg_fail "DEL of B after the killed one failed"
	hg_assert_eq "$(hg_block "$hosts")" "$ga"$'\t'"a.local shared.local" "the block after the killed DEL and its rerun"
	# cmp, not $(...): a blank line the old tail left at the end counts.
	hg_strip "$hosts" | cmp -s - "$hosts.orig" ||
		hg_fail "user lines after the killed DEL and its rerun differ (the old tail left): $(hg_strip "$hosts" | diff "$hosts.orig" - | cat -A)"
	hg_assert_eq "$(hg_nblocks "$hosts")" 1 "one block after the killed DEL and its rerun"
	hg_chain ADD "$lb" "$cid" "$nsp" net1 >"$HG_TMP/b.json" 2>/dev/null ||
		hg_plugin ADD "$confb" "$cid" "$nsp" net1 >/dev/null || hg_fail "ADD of B again failed"
else
	hg_log "strace not installed: the DEL killed at its truncation not tried"
fi
hg_chain DEL "$lb" "$cid" "$nsp" net1 || hg_fail "DEL of B failed"

# ADDs of A killed at random moments (a runtime's timeout), then one DEL: the block of
# whichever ADD got furthest is found and removed (recorded before it is written).
for i in $(seq 40); do
	CNI_COMMAND=ADD CNI_CONTAINERID=$cid CNI_NETNS=$nsp CNI_IFNAME=eth0 CNI_PATH=$HG_CNI_PATH \
		timeout -s KILL "$(printf '0.%03d' $((RANDOM % 12)))" "$HG_BIN" <<<"$conf" >/dev/null 2>&1 || :
done
hg_chain DEL "$la" "$cid" "$nsp" eth0 || hg_fail "DEL of A failed"
# An ADD killed at its registry write leaves that write's temp file (.tmp.PID.json) in the
# machine's registry folder: gc removes those whose writer is gone, as after a runtime's
# timeouts.
printf '{"stateDir": "%s"}\n' "$HG_TMP/gc-state" >"$HG_TMP/gc.json"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >/dev/null || hg_fail "gc after the killed ADDs failed"
cmp "$hosts" "$hosts.orig" || hg_fail "hosts after both DELs differ: $(diff "$hosts.orig" "$hosts")"
[ ! -e "$(hg_registry_of "$hosts")" ] || hg_fail "registry left: $(cat "$(hg_registry_of "$hosts")")"
hg_log "PASS"
