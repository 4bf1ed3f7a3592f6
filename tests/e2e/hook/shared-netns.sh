#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A pod: containers sharing one network namespace, no CNI record (podman pods or CRI-O
# without host-gateway in the conflist), so each container's hook does the plumbing,
# virtualIPs configured. poststop of one container must "undo what the hook itself set
# up for this container" only: the DNAT the other, still running, containers use stays
# until the last one's poststop; the pod hosts file has one block for the three
# containers, each name once, which keeps the names of those still running and goes with
# the last poststop.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-shared-netns
hk_runtime_need runc # runc spec
hg_guard_forwarding
PORT=18473
VIP=169.254.1.2
hk_netns pod 86
conf=$HG_TMP/hook.json
hk_config "$conf" "{\"virtualIPs\":[\"$VIP\"]}"
hg_listener - "${HK_HOSTIP[pod]}" "$PORT" "hk-pod %PEER%"
shared=$HG_TMP/pod-hosts
printf '127.0.0.1\tlocalhost\n' >"$shared"

ids=(infra app1 app2)
for c in "${ids[@]}"; do
	hk_bundle "$HG_TMP/b-$c" "$conf" "path:${HK_NSPATH[pod]}" "$shared"
	hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-$c" 1 "$HG_TMP/b-$c")" ||
		hg_fail "$c: createRuntime exit $? ($(cat "$HG_TMP/hook.err"))"
done
out=$(hg_connect "${HK_NS[pod]}" "$VIP" "$PORT") || :
hg_assert_eq "$out" "hk-pod ${HK_CIP[pod]}" "$VIP answers with the whole pod up"
hg_assert_eq "$(hg_nblocks "$shared")" 1 "three containers, one block"
hg_assert_eq "$(hg_block "$shared")" "$VIP"$'\t'"$HG_DEFAULT_NAMES" "three containers, each name once"

# app1 stops (restarts, crashes): infra and app2 still run in the netns.
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-app1" 0 "$HG_TMP/b-app1")" || hg_fail "app1: poststop exit $?"
[ ! -e "$HG_STATE/hook/$HK_CID-app1.json" ] || hg_fail "app1: record left after its poststop"
[ -e "$HG_STATE/hook/$HK_CID-app2.json" ] || hg_fail "app2: its record went with app1's poststop"
[ -n "$(hk_netns_table pod)" ] ||
	hg_fail "app1's poststop deleted table inet host_gateway from the pod netns while infra and app2 (records: $(ls "$HG_STATE/hook" | tr '\n' ' ')) still run there"
out=$(hg_connect "${HK_NS[pod]}" "$VIP" "$PORT") || :
hg_assert_eq "$out" "hk-pod ${HK_CIP[pod]}" "$VIP still answers for the running containers after app1's poststop"
hg_assert_eq "$(hg_nblocks "$shared")" 1 "one block after app1's poststop"
hg_assert_eq "$(hg_block "$shared")" "$VIP"$'\t'"$HG_DEFAULT_NAMES" "the pod hosts file keeps infra's and app2's names, once"

# app1 comes back: one table, one rule.
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-app1" 1 "$HG_TMP/b-app1")" || hg_fail "app1 again: exit $?"
n=$(ip netns exec "${HK_NS[pod]}" nft -j list table inet host_gateway | jq '[.nftables[] | select(.rule)] | length')
hg_assert_eq "$n" 1 "one DNAT rule with app1 back"

# Everything stops: nothing left.
for c in app1 app2 infra; do
	hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-$c" 0 "$HG_TMP/b-$c")" || hg_fail "$c: poststop exit $?"
done
[ -z "$(hk_netns_table pod)" ] || hg_fail "table left after the last poststop: $(hk_netns_table pod)"
hg_assert_eq "$(cat "$shared")" $'127.0.0.1\tlocalhost' "the pod hosts file as it was"
hg_assert_eq "$(hg_nrecords hook)" 0 "no record after the last poststop"
hg_log PASS
