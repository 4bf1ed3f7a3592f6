#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# createRuntime again for the same container (containerd restarted, the runtime re-runs
# the hook without a poststop in between): still exactly one block, one record, one
# table with one DNAT rule, and the virtual IP still answers. Then the same ID in
# another netns: the first netns is cleaned, the second set up. poststop removes all.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-rerun
hk_runtime_need runc # runc spec
hg_guard_forwarding
PORT=18472
VIP=169.254.1.2
hk_netns c1 84
hk_netns c2 85
conf=$HG_TMP/hook.json
hk_config "$conf" "{\"virtualIPs\":[\"$VIP\"]}"
hg_listener - "${HK_HOSTIP[c1]}" "$PORT" "hk-c1 %PEER%"
hg_listener - "${HK_HOSTIP[c2]}" "$PORT" "hk-c2 %PEER%"
routes_c1=$(ip -n "${HK_NS[c1]}" -4 route show table all)

shared=$HG_TMP/pod-hosts
printf '127.0.0.1\tlocalhost\n10.0.0.9\tuser.example\n' >"$shared"
bm=$HG_TMP/b-mount br=$HG_TMP/b-rootfs
hk_bundle "$bm" "$conf" "path:${HK_NSPATH[c1]}" "$shared"
hk_bundle "$br" "$conf" "path:${HK_NSPATH[c1]}"

_hk_one_table() {
	local ns=$1 what=$2 n
	n=$(ip netns exec "${HK_NS[$ns]}" nft -j list ruleset | jq '[.nftables[] | select(.table.name? == "host_gateway")] | length')
	hg_assert_eq "$n" 1 "$what: one table inet host_gateway in $ns"
	n=$(ip netns exec "${HK_NS[$ns]}" nft -j list table inet host_gateway | jq '[.nftables[] | select(.rule)] | length')
	hg_assert_eq "$n" 1 "$what: one DNAT rule in $ns"
}

for b in "$bm" "$br"; do
	id=$HK_CID-$(basename "$b")
	target=$shared
	[ "$b" = "$br" ] && target=$b/rootfs/etc/hosts
	ino_t=$(stat -c %i "$target")
	user=$(cat "$target")
	for run in 1 2 3; do
		hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$b")" ||
			hg_fail "$(basename "$b"): createRuntime run $run: exit $? ($(cat "$HG_TMP/hook.err"))"
		hg_assert_eq "$(hg_nblocks "$target")" 1 "$(basename "$b") run $run: one block"
		hg_assert_eq "$(hg_block "$target")" "$VIP"$'\t'"$HG_DEFAULT_NAMES" "$(basename "$b") run $run: the block"
		hg_assert_eq "$(hg_nrecords hook)" 1 "$(basename "$b") run $run: one record"
		_hk_one_table c1 "$(basename "$b") run $run"
		hg_assert_eq "$(ip -n "${HK_NS[c1]}" -4 route show table all)" "$routes_c1" "$(basename "$b") run $run: routes unchanged"
		out=$(hg_connect "${HK_NS[c1]}" "$VIP" "$PORT") || :
		hg_assert_eq "$out" "hk-c1 ${HK_CIP[c1]}" "$(basename "$b") run $run: $VIP:$PORT answers"
	done
	hg_assert_eq "$(stat -c %i "$target")" "$ino_t" "$(basename "$b"): the hosts file keeps its inode"
	hg_assert_eq "$(hg_strip "$target")" "$user" \
		"$(basename "$b"): user lines intact"
	hk_hook poststop "$conf" "$(hk_state_json "$id" 0 "$b")" || hg_fail "poststop exit $?"
	hg_assert_eq "$(hg_nrecords hook)" 0 "$(basename "$b"): no record after poststop"
	[ -z "$(hk_netns_table c1)" ] || hg_fail "$(basename "$b"): table left after poststop: $(hk_netns_table c1)"
done
hg_assert_eq "$(head -n 2 "$shared")" $'127.0.0.1\tlocalhost\n10.0.0.9\tuser.example' "user lines of the shared file"

# The same ID, now in c2 (the record still names c1).
id=$HK_CID-moved
hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$br")" || hg_fail "moved: first createRuntime exit $?"
_hk_one_table c1 "moved, before"
hk_bundle "$br" "$conf" "path:${HK_NSPATH[c2]}"
hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$br")" || hg_fail "moved: second createRuntime exit $? ($(cat "$HG_TMP/hook.err"))"
[ -z "$(hk_netns_table c1)" ] || hg_fail "moved: the old netns keeps the table: $(hk_netns_table c1)"
_hk_one_table c2 "moved, after"
hg_assert_eq "$(hg_nrecords hook)" 1 "moved: one record"
# The container's record points at the plumbing record of its netns (shared per netns).
hg_assert_eq "$(jq -r .netns.path "$(jq -r .netnsRecord "$HG_STATE/hook/$id.json")")" "${HK_NSPATH[c2]}" \
	"moved: the record names c2"
out=$(hg_connect "${HK_NS[c2]}" "$VIP" "$PORT") || :
hg_assert_eq "$out" "hk-c2 ${HK_CIP[c2]}" "moved: $VIP:$PORT answers in c2"
hk_hook poststop "$conf" "$(hk_state_json "$id" 0 "$br")" || hg_fail "moved: poststop exit $?"
[ -z "$(hk_netns_table c2)" ] || hg_fail "moved: table left in c2 after poststop"
hg_assert_eq "$(hg_nrecords hook)" 0 "moved: no record after poststop"

# A netns record left by a namespace whose last poststop never ran, and whose inode number
# the kernel gave to a new namespace: the cookie tells them apart, the stale record and
# its ghost users are replaced, and the new container's poststop cleans everything.
id=$HK_CID-fresh
hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$br")" || hg_fail "stale: first createRuntime exit $?"
rec=$(jq -r .netnsRecord "$HG_STATE/hook/$id.json")
jq '.netns.cookie = 1' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
touch "${rec%.json}.users/ghost-container"
rm "$HG_STATE/hook/$id.json" "${rec%.json}.users/$id"
id=$HK_CID-after
hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$br")" || hg_fail "stale: createRuntime exit $?"
hg_assert_contains "$(cat "$HK_LOG")" "stale record" "stale: the hook says it replaced a stale record"
hg_assert_eq "$(ls "${rec%.json}.users")" "$id" "stale: the users are the new container only"
[ "$(jq -r .netns.cookie "$rec")" != 1 ] || hg_fail "stale: the record keeps the stale cookie"
_hk_one_table c2 "stale, after"
hk_hook poststop "$conf" "$(hk_state_json "$id" 0 "$br")" || hg_fail "stale: poststop exit $?"
[ -z "$(hk_netns_table c2)" ] || hg_fail "stale: table left in c2 after poststop"
[ ! -e "$rec" ] || hg_fail "stale: the netns record outlived its last container"
# The container whose membership was lost still has its block: its poststop removes it,
# and the hosts registry with it.
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-fresh" 0 "$br")" || hg_fail "stale: poststop of the first container exit $?"
hg_assert_eq "$(hg_nblocks "$br/rootfs/etc/hosts")" 0 "stale: no block left"
[ ! -e "$(hg_registry_of "$br/rootfs/etc/hosts")" ] || hg_fail "stale: registry left: $(cat "$(hg_registry_of "$br/rootfs/etc/hosts")")"
hg_log PASS
