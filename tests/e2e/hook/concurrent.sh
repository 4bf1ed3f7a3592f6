#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# 20 concurrent createRuntime hooks on ONE shared hosts file (the containers of a pod
# share kubelet's etc-hosts / podman's pod hosts file, and their hooks may run at once).
# Direct invocations released together behind a FIFO barrier, different container IDs.
#  A. the 20 share one netns (a pod): names -> the host side of its veth.
#  B. 5 netns x 4 containers, virtualIPs ["169.254.1.2"]: every block is the same, and
#     4 hooks at a time create the DNAT table in the same netns.
#  C. one netns, but each container names a different number of names (annotation
#     host-gateway.io/names), so that the blocks differ in length: an unlocked
#     read-modify-write then leaves fragments (seen with the flock removed). 10 rounds.
# Afterwards: every hook exited 0, one block for all (every container's names, each
# once), every user line intact and in order (a user line mapping
# gateway.docker.internal wins: the name is left out of the block), the inode kept; 20
# records. Then 20 concurrent poststops: no record, no table, the block gone with the
# last and the user's lines intact.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-concurrent
hk_runtime_need runc # runc spec
hg_guard_forwarding
N=20

USER_LINES=$'127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n# pod hosts, written by the kubelet\n\n10.244.0.5\tmy-pod\n10.9.9.9\tgateway.docker.internal\n192.168.7.7 db.internal db'

# _hk_names I: container I's annotation value in round C (I+1 names).
_hk_names() {
	local j out=
	for ((j = 0; j <= $1; j++)); do out="$out${out:+,}c$1-n$j.test"; done
	echo "$out"
}

# _hk_round NAME CONF NETNS... : N hooks, container i in netns[i % count]. With
# HK_VARY_NAMES=1, container i gets the names of _hk_names i.
_hk_round() {
	local round=$1 conf=$2 hosts fifo=$HG_TMP/$1-go ino i ns id b want t0 rc
	shift 2
	local -a nets=("$@") pids=()
	local set=${HK_SET:-$round}
	hosts=$HG_TMP/$set-hosts
	# HK_SET: rounds of one set share their bundles and their hosts file (which then
	# starts with the previous round's block).
	[ -e "$hosts" ] || printf '%s\n' "$USER_LINES" >"$hosts"
	local user=${HK_USER:-$USER_LINES}
	ino=$(stat -c %i "$hosts")
	for ((i = 0; i < N; i++)); do
		b=$HG_TMP/$set-b$i
		[ ! -e "$b/config.json" ] || continue
		hk_bundle "$b" "$conf" "path:${HK_NSPATH[${nets[i % ${#nets[@]}]}]}" "$hosts"
		if [ -n "${HK_VARY_NAMES:-}" ]; then
			jq --arg n "$(_hk_names "$i")" '.annotations["host-gateway.io/names"] = $n' "$b/config.json" >"$b/c.new"
			mv "$b/c.new" "$b/config.json"
		fi
	done
	# The barrier: a FIFO held open here, so the readers' opens do not block; each
	# reader takes one line (bash reads a pipe byte by byte), all lines written at once.
	mkfifo "$fifo"
	exec 9<>"$fifo"
	for ((i = 0; i < N; i++)); do
		b=$HG_TMP/$set-b$i id=$HK_CID-$round-$i
		hk_state_json "$id" 1 "$b" >"$b/state.json"
		# shellcheck disable=SC2016
		(read -r _ <"$fifo" || :; cd "$b" && exec env -i timeout -k 1 10 "$HG_BIN" hook createRuntime --config "$conf" \
			<"$b/state.json" 2>"$b/hook.err") &
		pids+=($!)
	done
	sleep 0.3 # every reader waiting on the FIFO
	t0=$(e2e_now_ms)
	printf '%*s' "$N" '' | tr ' ' '\n' >&9
	exec 9>&-
	for ((i = 0; i < N; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		hg_assert_eq "$rc" 0 "$round: hook $i exit status ($(cat "$HG_TMP/$set-b$i/hook.err"))"
	done
	hg_log "$round: $N concurrent createRuntime hooks in $(($(e2e_now_ms) - t0)) ms"

	hg_assert_eq "$(hg_nblocks "$hosts")" 1 "$round: one block for every container in the shared file"
	hg_assert_eq "$(grep -c "^$HG_END\( \|$\)" "$hosts")" 1 "$round: one END marker"
	hg_assert_eq "$(hg_strip "$hosts")" "$user" \
		"$round: every user line intact, in order, before the block"
	hg_assert_eq "$(stat -c %i "$hosts")" "$ino" "$round: the shared file keeps its inode"
	# The user's gateway.docker.internal wins: left out of the block. Containers with the
	# same names: those names once; with names of their own: each container's line.
	want=$(printf '%s\thost.docker.internal host.containers.internal' "$HK_WANT_IP")
	if [ -n "${HK_VARY_NAMES:-}" ]; then
		want=$(for ((i = 0; i < N; i++)); do printf '%s\t%s\n' "$HK_WANT_IP" "$(_hk_names "$i" | tr , ' ')"; done | sort)
	fi
	hg_assert_eq "$(hg_block "$hosts" | sort)" "$want" "$round: every container's names in the block, each once"
	hg_assert_eq "$(hg_block "$hosts" | cut -f2 | tr ' ' '\n' | sort | uniq -d)" "" "$round: no name twice"
	hg_assert_eq "$(find "$HG_STATE/hook" -name "$HK_CID-$round-*.json" | wc -l)" "$N" "$round: one record per container"

	# 20 concurrent poststops.
	pids=()
	for ((i = 0; i < N; i++)); do
		b=$HG_TMP/$set-b$i id=$HK_CID-$round-$i
		hk_state_json "$id" 0 "$b" >"$b/state.json"
		(cd "$b" && exec env -i timeout -k 1 10 "$HG_BIN" hook poststop --config "$conf" \
			<"$b/state.json" 2>"$b/poststop.err") &
		pids+=($!)
	done
	for ((i = 0; i < N; i++)); do
		rc=0
		wait "${pids[i]}" || rc=$?
		hg_assert_eq "$rc" 0 "$round: poststop $i exit status ($(cat "$HG_TMP/$set-b$i/poststop.err"))"
	done
	hg_assert_eq "$(find "$HG_STATE/hook" -name "$HK_CID-$round-*.json" | wc -l)" 0 "$round: no record after poststop"
	for ns in "${nets[@]}"; do
		[ -z "$(hk_netns_table "$ns")" ] || hg_fail "$round: table left in netns $ns after every poststop: $(hk_netns_table "$ns")"
	done
	hg_assert_eq "$(hg_nblocks "$hosts")" 0 "$round: the block went with the last poststop"
	hg_assert_eq "$(hg_strip "$hosts")" "$user" \
		"$round: user lines intact after poststop"
}

# A. one pod netns.
hk_netns pod 74
conf=$HG_TMP/hook.json
hk_config "$conf"
HK_WANT_IP=${HK_HOSTIP[pod]}
_hk_round A "$conf" pod

# B. 5 netns, virtual IP.
nets=()
for i in 0 1 2 3 4; do
	hk_netns "n$i" $((75 + i))
	nets+=("n$i")
done
conf=$HG_TMP/hook-vip.json
hk_config "$conf" '{"virtualIPs":["169.254.1.2"]}'
HK_WANT_IP=169.254.1.2
_hk_round B "$conf" "${nets[@]}"

# C. blocks of different lengths, 10 rounds on the pod netns, one hosts file.
conf=$HG_TMP/hook.json
HK_WANT_IP=${HK_HOSTIP[pod]}
HK_VARY_NAMES=1 HK_SET=C
# A big pod hosts file (3000 more user lines, ~100 KB) widens the read/write windows.
{
	printf '%s\n' "$USER_LINES"
	for ((i = 0; i < 3000; i++)); do printf '10.%d.%d.%d\tsvc-%d.cluster.test\n' $((i / 65536)) $((i / 256 % 256)) $((i % 256)) "$i"; done
} >"$HG_TMP/C-hosts"
HK_USER=$(cat "$HG_TMP/C-hosts")
for r in 1 2 3 4 5 6 7 8 9 10; do
	_hk_round "C$r" "$conf" pod
done
hg_log PASS
