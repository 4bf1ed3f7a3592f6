#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The collector of the hook's state (issue 8, item 3): a runtime that fails after
# createRuntime (podman 4.3 + runc refusing an rlimit) or is killed never runs poststop.
#  - createRuntime for two containers of one netns (virtualIPs: a table to undo); the
#    first one's process dies without poststop: `host-gateway gc` releases its membership
#    only (the other still runs: plumbing and its record stay);
#  - the second dies too: gc undoes the plumbing (table gone), removes every record;
#  - a netns that is gone: a CNI GC (cniVersion 1.1.0) of any network in that stateDir
#    collects the hook's plumbing too;
#  - gc is idempotent and prints how many items it removed.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-gc
hg_guard_forwarding
hk_netns c1 75
conf=$HG_TMP/conf.json
hk_config "$conf" '{"virtualIPs":["169.254.1.2"]}'
b=$HG_TMP/b
hk_bundle "$b" "$conf" "path:${HK_NSPATH[c1]}"

gc() { env -i timeout -k 1 10 "$HG_BIN" gc --config "$conf" 2>"$HG_TMP/gc.err"; }
# Hosts registries live in the default stateDir, shared by every configuration: what an
# earlier test left there is collected first, so that the counts below are this test's.
gc >/dev/null || hg_fail "the first gc failed: $(cat "$HG_TMP/gc.err")"

# sleeper NAME: a process in the netns, its pid in $SLEEPER (not in $(...): the deferred
# kill must be registered in this shell).
sleeper() {
	ip netns exec "${HK_NS[$1]}" sleep 600 </dev/null >/dev/null 2>&1 &
	SLEEPER=$!
	hg_defer kill -KILL "$SLEEPER"
}
sleeper c1
p1=$SLEEPER
sleeper c1
p2=$SLEEPER
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-a" "$p1" "$b")" || hg_fail "createRuntime a: $(cat "$HG_TMP/hook.err")"
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-b" "$p2" "$b")" || hg_fail "createRuntime b: $(cat "$HG_TMP/hook.err")"
[ -n "$(hk_netns_table c1)" ] || hg_fail "no table after createRuntime"
hg_assert_eq "$(hg_nrecords hook)" 2 "two memberships"

out=$(gc) || hg_fail "gc with every container alive failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$out" "host-gateway gc: removed 0 stale items" "gc with every container alive"
hg_assert_eq "$(hg_nrecords hook)" 2 "memberships kept while the containers live"

kill -KILL "$p1"
wait "$p1" 2>/dev/null || :
out=$(gc) || hg_fail "gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$out" "host-gateway gc: removed 1 stale item" "gc after the first container died"
hg_assert_eq "$(hg_nrecords hook)" 1 "the survivor's membership stays"
[ -n "$(hk_netns_table c1)" ] || hg_fail "gc undid plumbing the survivor still uses"

kill -KILL "$p2"
wait "$p2" 2>/dev/null || :
reg=$(hg_registry_of "$b/rootfs/etc/hosts")
[ -e "$reg" ] || hg_fail "no hosts registry for the rootfs's file"
out=$(gc) || hg_fail "gc failed: $(cat "$HG_TMP/gc.err")"
# The membership, and the hosts registry whose every owner is gone.
hg_assert_eq "$out" "host-gateway gc: removed 2 stale items" "gc after the last container died"
[ ! -e "$reg" ] || hg_fail "the hosts registry stayed after its last owner: $(cat "$reg")"
hg_assert_eq "$(hg_nrecords hook)" 0 "no membership left"
hg_assert_eq "$(hk_netns_table c1)" "" "the table after gc"
hg_assert_eq "$({ find "$HG_STATE/hook" -mindepth 1 2>/dev/null || :; } | wc -l)" 0 "nothing left under hook/"
out=$(gc) || hg_fail "second gc failed"
hg_assert_eq "$out" "host-gateway gc: removed 0 stale items" "gc is idempotent"

# A namespace that is gone (with its container's process), collected by a CNI GC of any
# network in the stateDir: the plumbing, the membership, and the hosts registry.
hk_netns c2 76
b2=$HG_TMP/b2
hk_bundle "$b2" "$conf" "path:${HK_NSPATH[c2]}"
sleeper c2
p3=$SLEEPER
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-c" "$p3" "$b2")" || hg_fail "createRuntime c: $(cat "$HG_TMP/hook.err")"
hg_assert_eq "$(hg_nrecords hook)" 1 "membership of c"
reg=$(hg_registry_of "$b2/rootfs/etc/hosts")
[ -e "$reg" ] || hg_fail "no hosts registry for c's file"
kill -KILL "$p3"
wait "$p3" 2>/dev/null || :
hg_netns_del "${HK_NS[c2]}"
gcconf=$(jq -cn --arg s "$HG_STATE" '{cniVersion: "1.1.0", name: "hgt-anynet", type: "host-gateway", stateDir: $s, "cni.dev/valid-attachments": []}')
printf '%s' "$gcconf" | env -i CNI_COMMAND=GC CNI_PATH=/nonexistent timeout 10 "$HG_BIN" >/dev/null 2>"$HG_TMP/cnigc.err" ||
	hg_fail "CNI GC failed: $(cat "$HG_TMP/cnigc.err")"
hg_assert_eq "$(hg_nrecords hook)" 0 "CNI GC collected the hook's membership of a gone netns"
hg_assert_eq "$({ find "$HG_STATE/hook" -mindepth 1 2>/dev/null || :; } | wc -l)" 0 "nothing left under hook/ after CNI GC"
[ ! -e "$reg" ] || hg_fail "CNI GC left the hosts registry of c: $(cat "$reg")"
hg_assert_eq "$(hg_nblocks "$b2/rootfs/etc/hosts")" 0 "CNI GC removed the block of c"
hg_log "PASS"
