#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A pod hosts file (kubelet's etc-hosts) shared by the pod's containers, each with its own
# names (container annotation host-gateway.io/names), the hook run directly as runtimes
# run it (issue 8, item 2):
#  - two containers: one block, each container's own names once, the kubelet's lines
#    intact;
#  - kubelet rewrites the file before the next container: that container's hook brings
#    every running container's names back (from the registry);
#  - a container that died without poststop: the next write drops its names;
#  - poststop of one container removes its names only (a name another running container
#    has stays); the last one leaves the kubelet's file as it was, and no registry;
#  - the previous version's per-owner blocks (an upgrade on a running node): the next
#    container's hook takes them into the one block;
#  - the last container dies without poststop: `host-gateway gc` removes the block.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-pod-hosts
hk_runtime_need runc # runc spec
hg_guard_forwarding
hk_netns pod 87
conf=$HG_TMP/hook.json
hk_config "$conf"
GW=${HK_HOSTIP[pod]}
pod=$HG_TMP/etc-hosts
KUBELET=$'# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.244.0.5\tweb-0'
printf '%s\n' "$KUBELET" >"$pod"

declare -A PID=()
# start C NAMES: container C (a process in the pod netns) with its names annotation.
start() {
	local c=$1 b=$HG_TMP/b-$1
	ip netns exec "${HK_NS[pod]}" sleep 600 </dev/null >/dev/null 2>&1 &
	PID[$c]=$!
	hg_defer kill -KILL "${PID[$c]}"
	hk_bundle "$b" "$conf" "path:${HK_NSPATH[pod]}" "$pod"
	jq --arg n "$2" '.annotations["host-gateway.io/names"] = $n' "$b/config.json" >"$b/c.new"
	mv "$b/c.new" "$b/config.json"
	hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-$c" "${PID[$c]}" "$b")" ||
		hg_fail "$c: createRuntime exit $? ($(cat "$HG_TMP/hook.err"))"
}
block() { hg_block "$pod"; }

start app1 a1.local,shared.local
start app2 a2.local,shared.local
hg_assert_eq "$(hg_nblocks "$pod")" 1 "two containers, one block"
hg_assert_eq "$(block)" "$GW"$'\t'"a1.local shared.local"$'\n'"$GW"$'\t'"a2.local" "each name once"
hg_assert_eq "$(hg_strip "$pod")" "$KUBELET" "the kubelet's lines"

# kubelet rewrites the file (in place) before the next container starts.
printf '%s\n' "$KUBELET" >"$pod"
start app3 a3.local
hg_assert_eq "$(hg_nblocks "$pod")" 1 "one block after the rewrite"
hg_assert_eq "$(block)" "$GW"$'\t'"a1.local shared.local"$'\n'"$GW"$'\t'"a2.local"$'\n'"$GW"$'\t'"a3.local" \
	"every running container's names are back"

# app2 dies without poststop (a runtime killed); the next write drops its names.
kill -KILL "${PID[app2]}"
wait "${PID[app2]}" 2>/dev/null || :
start app4 a4.local
hg_assert_eq "$(block)" "$GW"$'\t'"a1.local shared.local"$'\n'"$GW"$'\t'"a3.local"$'\n'"$GW"$'\t'"a4.local" \
	"a dead container's names are dropped"

# poststop removes each container's own names.
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-app1" 0 "$HG_TMP/b-app1")" || hg_fail "app1: poststop exit $?"
hg_assert_eq "$(block)" "$GW"$'\t'"a3.local"$'\n'"$GW"$'\t'"a4.local" "app1's names after its poststop"

# An upgrade: the previous version's per-owner blocks of app3 and app4 (the registry, in
# the same format, lists both); the next container's hook takes them into the one block.
old_block() { printf '%s =hook+%s-%s+- (managed block: edits here are lost)\n%s\t%s\n%s =hook+%s-%s+-\n' \
	"$HG_BEGIN" "$HK_CID" "$1" "$GW" "$2" "$HG_END" "$HK_CID" "$1"; }
{ printf '%s\n' "$KUBELET"; old_block app3 a3.local; old_block app4 a4.local; } >"$pod"
hg_assert_eq "$(hg_owner_block "$pod" "=hook+$HK_CID-app3+-")" "$GW"$'\t'"a3.local" "app3's old block"
start app6 a6.local
hg_assert_eq "$(hg_nblocks "$pod")" 1 "the old blocks taken into one"
hg_assert_eq "$(hg_owner_block "$pod" "=hook+$HK_CID-app3+-")" "" "app3's old block gone"
hg_assert_eq "$(block)" "$GW"$'\t'"a3.local"$'\n'"$GW"$'\t'"a4.local"$'\n'"$GW"$'\t'"a6.local" "the block after the upgrade"
hg_assert_eq "$(hg_strip "$pod")" "$KUBELET" "the kubelet's lines after the upgrade"

for c in app2 app3 app4 app6; do
	hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-$c" 0 "$HG_TMP/b-$c")" || hg_fail "$c: poststop exit $?"
done
hg_assert_eq "$(cat "$pod")" "$KUBELET" "the pod file as the kubelet wrote it"
[ ! -e "$(hg_registry_of "$pod")" ] || hg_fail "registry left: $(cat "$(hg_registry_of "$pod")")"

# The last container dies without poststop and nobody writes the file again: the
# collector removes its block from the pod file, and the registry.
start app5 a5.local
kill -KILL "${PID[app5]}"
wait "${PID[app5]}" 2>/dev/null || :
env -i timeout 10 "$HG_BIN" gc --config "$conf" >/dev/null 2>"$HG_TMP/gc.err" || hg_fail "gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$(cat "$pod")" "$KUBELET" "the pod file after gc of a dead container's block"
[ ! -e "$(hg_registry_of "$pod")" ] || hg_fail "registry left after gc: $(cat "$(hg_registry_of "$pod")")"
hg_assert_eq "$(hg_nrecords hook)" 0 "no hook record left"
hg_log PASS
