# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The bundle matrix of issue 4, run through one real OCI runtime (runc.sh, crun.sh):
# a busybox bundle with the hook in config.json (createRuntime + poststop, --config a
# test file whose stateDir is in $HG_TMP), in each network/hosts shape a runtime hands us.
#
#   hk_matrix RUNTIME
#
#  1. netns by path (ip netns add + veth to a host address made here), the rootfs's own
#     /etc/hosts: the container resolves host.docker.internal to the host side of the
#     veth and reaches a listener there; poststop leaves no record and takes the block
#     out of the file again.
#  2. /etc/hosts a bind mount of a host file: the file gets the block in place (inode
#     kept, user lines kept), the container sees it and connects by name; after poststop
#     the file is as it was.
#  3. virtualIPs ["169.254.1.2"], as create / start / delete: while the container runs,
#     the hook's record and the table inet host_gateway exist in its netns and the
#     container reaches the listener through 169.254.1.2 and by name (DNAT); delete runs
#     poststop, which removes both.
#  4. the prestart stage instead of createRuntime: same names.
#  5. a network namespace the runtime creates (no path): the hook goes through
#     /proc/PID/ns/net, finds only lo, logs, skips, exits 0; the container runs.
#  5b. the same, wired by an earlier createRuntime hook (a veth moved into
#     /proc/PID/ns/net): the hook finds the address through the pid and writes the names.
#  6. no network namespace (--network host): names map to 127.0.0.1 and a listener on
#     127.0.0.1 answers the container by name.

# _hk_out_block ID: the block in the /etc/hosts the container printed (its first lines).
_hk_out_block() {
	sed '/^resolved=/,$d' "$HG_TMP/$1.out" >"$HG_TMP/$1.hosts"
	hg_block "$HG_TMP/$1.hosts"
}

# The container's script: its /etc/hosts, what the name resolves to (through busybox's
# resolver, no packet leaves the container's lo), and the listener's answers.
_hk_probe_script() {
	local port=$1 extra=${2:-}
	printf '%s' "cat /etc/hosts; echo \"resolved=\$($(e2e_resolve_snippet host.docker.internal))\";
		for t in host.docker.internal $extra; do
			for i in 1 2 3; do a=\$(echo ping | nc -w 3 \$t $port) && [ -n \"\$a\" ] && break; sleep 0.2; done
			echo \"answer[\$t]=\$a\"
		done"
}

# _hk_routes NAME: the netns' routes, all tables, without the IPv6 link-local address
# (it appears once DAD is done, whenever that is).
_hk_routes() {
	ip -n "${HK_NS[$1]}" -4 route show table all
	ip -n "${HK_NS[$1]}" -6 route show table all | grep -v '^local fe80:' || :
}

# _hk_step MSG: log MSG with the time since the previous step.
_HK_T=
_hk_step() {
	local now
	now=$(e2e_now_ms)
	[ -z "$_HK_T" ] || hg_log "$* ($((now - _HK_T)) ms)"
	_HK_T=$now
}

_hk_no_record() {
	local id=$1
	[ ! -e "$HG_STATE/hook/$id.json" ] || hg_fail "the hook's record $HG_STATE/hook/$id.json is still there after poststop: $(cat "$HG_STATE/hook/$id.json")"
}

hk_matrix() {
	local rt=$1 port=18470 conf=$HG_TMP/hook.json conf_vip=$HG_TMP/hook-vip.json
	local b id out hosts fp_before routes_before want
	hk_runtime_need "$rt"
	hk_runtime_need runc # `runc spec` makes every bundle
	hg_guard_forwarding
	hk_config "$conf"
	hk_config "$conf_vip" '{"virtualIPs":["169.254.1.2"]}'
	hk_netns c1 71
	local host=${HK_HOSTIP[c1]} cip=${HK_CIP[c1]}
	hg_listener - "$host" "$port" "hk-ok %PEER%"
	routes_before=$(_hk_routes c1)

	_hk_step start

	# 1. netns by path, the rootfs's /etc/hosts.
	b=$HG_TMP/b1 id=$HK_CID-$rt-1
	hk_bundle "$b" "$conf" "path:${HK_NSPATH[c1]}"
	hk_bundle_cmd "$b" "$(_hk_probe_script "$port")"
	hk_run "$rt" "$b" "$id" || hg_fail "$rt run failed ($?): $(cat "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	hg_assert_eq "$(_hk_out_block "$id")" "$host"$'\t'"$HG_DEFAULT_NAMES" "1. the container's /etc/hosts has the block"
	hg_assert_contains "$out" "resolved=$host"$'\n' "1. host.docker.internal resolves to the host side of the veth"
	hg_assert_contains "$out" "answer[host.docker.internal]=hk-ok $cip" "1. the container reaches the host listener by name"
	# poststop (the container exited) took the container's block out of the file again.
	hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "1. the rootfs's /etc/hosts without the block after poststop"
	_hk_no_record "$id"
	grep -q "hook createRuntime $id: names written to $b/rootfs/etc/hosts" "$HK_LOG" ||
		hg_fail "1. no 'names written' line for $id in the hook log"
	_hk_step "1. netns by path, rootfs /etc/hosts: ok"

	# 2. /etc/hosts a bind mount of a host file.
	hosts=$HG_TMP/pod-hosts
	printf '127.0.0.1\tlocalhost\n# user comment\n10.99.0.7\tuser.example\n' >"$hosts"
	fp_before=$(stat -c %i "$hosts")
	b=$HG_TMP/b2 id=$HK_CID-$rt-2
	hk_bundle "$b" "$conf" "path:${HK_NSPATH[c1]}" "$hosts"
	hk_bundle_cmd "$b" "$(_hk_probe_script "$port")"
	hk_run "$rt" "$b" "$id" || hg_fail "$rt run failed ($?): $(cat "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	hg_assert_eq "$(_hk_out_block "$id")" "$host"$'\t'"$HG_DEFAULT_NAMES" "2. the container sees the block in the mounted file"
	hg_assert_contains "$out" "10.99.0.7"$'\t'"user.example" "2. the container sees the user's lines"
	hg_assert_contains "$out" "answer[host.docker.internal]=hk-ok $cip" "2. by name through the mounted file"
	hg_assert_eq "$(stat -c %i "$hosts")" "$fp_before" "2. the mounted hosts file keeps its inode"
	hg_assert_eq "$(cat "$hosts")" $'127.0.0.1\tlocalhost\n# user comment\n10.99.0.7\tuser.example' \
		"2. the mounted file as it was after poststop (the container's block went with it)"
	# The rootfs's own file is hidden by the mount: the hook must not have written it.
	hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "2. the rootfs's hidden /etc/hosts untouched"
	_hk_no_record "$id"
	_hk_step "2. /etc/hosts bind mount: ok"

	# 3. virtualIPs, create / start / delete.
	b=$HG_TMP/b3 id=$HK_CID-$rt-3
	hk_bundle "$b" "$conf_vip" "path:${HK_NSPATH[c1]}"
	hk_bundle_cmd "$b" "$(_hk_probe_script "$port" 169.254.1.2); echo done; exec sleep 600"
	hg_defer _hk_rt_cleanup "$rt" "$id" "hgt-$$-b3"
	hk_rt "$rt" create --bundle "$b" "$id" >"$HG_TMP/$id.out" 2>"$HG_TMP/$id.err" </dev/null ||
		hg_fail "$rt create failed: $(cat "$HG_TMP/$id.err")"
	[ -s "$HG_STATE/hook/$id.json" ] || hg_fail "3. no hook record after createRuntime"
	hg_assert_contains "$(hk_netns_table c1)" "169.254.1.2" "3. DNAT table in the container netns after createRuntime"
	hk_rt "$rt" start "$id" || hg_fail "$rt start failed"
	e2e_wait_for 20 grep -q '^done$' "$HG_TMP/$id.out" || hg_fail "3. the container did not finish its probes: $(cat "$HG_TMP/$id.out" "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	hg_assert_eq "$(_hk_out_block "$id")" "169.254.1.2"$'\t'"$HG_DEFAULT_NAMES" "3. names map to the virtual IP"
	hg_assert_contains "$out" "resolved=169.254.1.2"$'\n' "3. host.docker.internal resolves to the virtual IP"
	hg_assert_contains "$out" "answer[169.254.1.2]=hk-ok $cip" "3. 169.254.1.2:$port is DNATed to the host listener"
	hg_assert_contains "$out" "answer[host.docker.internal]=hk-ok $cip" "3. by name through the DNAT"
	# delete -f kills the container and runs the poststop hook.
	hk_rt "$rt" delete -f "$id" || hg_fail "3. $rt delete -f failed"
	_hk_no_record "$id"
	[ -z "$(hk_netns_table c1)" ] || hg_fail "3. table inet host_gateway still in the container netns after poststop: $(hk_netns_table c1)"
	hg_assert_eq "$(_hk_routes c1)" "$routes_before" "3. the container netns routes as before"
	_hk_step "3. virtualIPs create/start/delete: ok"

	# 4. prestart.
	b=$HG_TMP/b4 id=$HK_CID-$rt-4
	HK_BUNDLE_STAGE=prestart hk_bundle "$b" "$conf" "path:${HK_NSPATH[c1]}"
	hk_bundle_cmd "$b" "$(_hk_probe_script "$port")"
	hk_run "$rt" "$b" "$id" || hg_fail "$rt run (prestart) failed ($?): $(cat "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	hg_assert_contains "$out" "answer[host.docker.internal]=hk-ok $cip" "4. prestart: by name"
	_hk_no_record "$id"
	_hk_step "4. prestart: ok"

	# 5. a network namespace the runtime creates: only lo in it.
	b=$HG_TMP/b5 id=$HK_CID-$rt-5
	hk_bundle "$b" "$conf" new
	hk_bundle_cmd "$b" 'echo started; cat /etc/hosts; ip -o link'
	hk_run "$rt" "$b" "$id" || hg_fail "5. $rt run failed ($?) although the hook should skip: $(cat "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	hg_assert_contains "$out" started "5. the container ran"
	case $out in *"$HG_BEGIN"*) hg_fail "5. a block without a host address: $out" ;; esac
	grep "hook createRuntime $id:" "$HK_LOG" | grep -q "skipping" ||
		hg_fail "5. the hook did not log that it skips ($(grep "$id" "$HK_LOG"))"
	grep "hook createRuntime $id:" "$HK_LOG" | grep -qi "no host address" ||
		hg_fail "5. the skip line does not say why ($(grep "$id" "$HK_LOG"))"
	_hk_no_record "$id"
	_hk_step "5. runtime-made netns (lo only): ok"

	# 5b. a network namespace the runtime creates, wired by an earlier createRuntime hook
	# (the CNI-less shape: only /proc/PID/ns/net names it): the hook finds the address
	# through the state's pid and writes the names; the container connects by name.
	local h5=hgt$$h87 p5=hgt$$p87 wire
	ip link add "$h5" type veth peer name "$p5"
	hg_defer e2e_del_link "$h5"
	hg_defer e2e_del_link "$p5"
	ip addr add 10.213.87.1/24 dev "$h5"
	ip link set "$h5" up
	hg_listener - 10.213.87.1 "$port" "hk-pid %PEER%"
	local ipb jqb nsb
	ipb=$(command -v ip) jqb=$(command -v jq) nsb=$(command -v nsenter)
	wire="pid=\$($jqb -r .pid) && $ipb link set $p5 netns \$pid && $nsb --net=/proc/\$pid/ns/net /bin/sh -c '$ipb link set $p5 name eth0 && $ipb addr add 10.213.87.2/24 dev eth0 && $ipb link set eth0 up && $ipb link set lo up && $ipb route add default via 10.213.87.1'"
	b=$HG_TMP/b5b id=$HK_CID-$rt-5b
	hk_bundle "$b" "$conf" new
	hk_bundle_cmd "$b" "$(_hk_probe_script "$port")"
	jq --arg w "$wire" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", $w]}] + .hooks.createRuntime' \
		"$b/config.json" >"$b/config.json.new"
	mv "$b/config.json.new" "$b/config.json"
	hk_run "$rt" "$b" "$id" || hg_fail "5b. $rt run failed ($?): $(cat "$HG_TMP/$id.err")"
	hg_assert_eq "$(_hk_out_block "$id")" "10.213.87.1"$'\t'"$HG_DEFAULT_NAMES" "5b. names from the netns found through the pid"
	hg_assert_contains "$(cat "$HG_TMP/$id.out")" "answer[host.docker.internal]=hk-pid 10.213.87.2" "5b. by name"
	_hk_no_record "$id"
	_hk_step "5b. runtime-made netns wired by an earlier hook (pid path): ok"

	# 6. host network.
	hg_listener - 127.0.0.1 $((port + 1)) "hk-lo %PEER%"
	b=$HG_TMP/b6 id=$HK_CID-$rt-6
	hk_bundle "$b" "$conf" host
	hk_bundle_cmd "$b" "$(_hk_probe_script $((port + 1)))"
	hk_run "$rt" "$b" "$id" || hg_fail "6. $rt run failed ($?): $(cat "$HG_TMP/$id.err")"
	out=$(cat "$HG_TMP/$id.out")
	want="127.0.0.1"$'\t'"$HG_DEFAULT_NAMES"
	# ::1 too when the host has it.
	if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
		want="$want"$'\n'"::1"$'\t'"$HG_DEFAULT_NAMES"
	fi
	hg_assert_eq "$(_hk_out_block "$id")" "$want" "6. names map to 127.0.0.1 (and ::1)"
	hg_assert_contains "$out" "answer[host.docker.internal]=hk-lo 127.0.0.1" "6. a listener on 127.0.0.1 answers by name"
	_hk_no_record "$id"
	_hk_step "6. host network: ok"

	# Nothing of ours on the host: no table, no records.
	if nft list tables | grep -q host_gateway; then hg_fail "a host_gateway table on the host: $(nft list tables)"; fi
	if [ -d "$HG_STATE/hook" ] && [ -n "$(ls -A "$HG_STATE/hook")" ]; then
		hg_fail "records left in $HG_STATE/hook: $(ls -A "$HG_STATE/hook")"
	fi
}
