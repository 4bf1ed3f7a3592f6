#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman 4.3 with hooks_dir pointing at a copy of conf/hooks.d (path rewritten to the
# binary under test, `--config` added: hooks.d args are fixed), CNI backend:
#  a. bridge network WITH host-gateway in the conflist: the CNI plugin did the plumbing,
#     the hook writes the names from the CNI record into podman's hosts file;
#  b. bridge network WITHOUT it: the hook does the plumbing itself (its record, removed
#     at poststop);
#  c. --network host: names -> 127.0.0.1, a listener on 127.0.0.1 answers;
#  d. conf/hooks.d-opt-in instead (gated by the annotation host-gateway.io/enabled=true):
#     a container without the annotation gets no names (the hook does not run), one with
#     `--annotation host-gateway.io/enabled=true` gets them.
# In each, the container resolves host.docker.internal and reaches a host listener by name.
# HK_PODMAN_RUNTIME=runc runs podman with runc (default crun).
. "$(dirname "$0")/hook-lib.sh"
# shellcheck source=../podman-lib.sh
. "$HG_SOURCE_ROOT/tests/e2e/podman-lib.sh"
hk_init "hook-podman-${HK_PODMAN_RUNTIME:-crun}"
if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then hg_skip "reference CNI plugins not installed"; fi
hg_guard_forwarding on
RT=${HK_PODMAN_RUNTIME:-crun}
PORT=18475
etc_fp=$(hk_fingerprint /etc/hosts)
conf=$HG_TMP/hook.json
hk_config "$conf"

# hooks.d: the shipped files, rewritten (podman reads hooks_dir at every command).
_hk_hooks_dir() {
	local f
	rm -rf "$HG_TMP/hooks.d"
	mkdir "$HG_TMP/hooks.d"
	for f in "$HG_SOURCE_ROOT/conf/$1"/*.json; do
		jq --arg bin "$HG_BIN" --arg c "$conf" '.hook.path = $bin | .hook.args += ["--config", $c]' "$f" \
			>"$HG_TMP/hooks.d/$(basename "$f")"
	done
}
_hk_hooks_dir hooks.d

# _hk_net NAME BRIDGE SUBNET_PREFIX WITH_HG: a conflist; the bridge is made here with its
# gateway address, so that a listener can bind to it before the first container.
_hk_net() {
	local name=$1 br=$2 p=$3 hg=$4
	[ ${#br} -le 15 ] || hg_fail "bridge name $br too long"
	hg_subnet_free "$p.0/24"
	ip link add "$br" type bridge
	hg_defer e2e_del_link "$br"
	ip addr add "$p.1/24" dev "$br"
	ip link set "$br" up
	jq -n --arg n "$name" --arg br "$br" --arg sub "$p.0/24" --arg s "$HG_STATE" --argjson hg "$hg" '
		{cniVersion: "1.0.0", name: $n, plugins: ([
			{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
			 ipam: {type: "host-local", ranges: [[{subnet: $sub}]], routes: [{dst: "0.0.0.0/0"}]}}]
			+ (if $hg then [{type: "host-gateway", stateDir: $s}] else [] end))}'
}
_hk_net hgt-pa "hgt$$pa" 10.217.1 true >"$HG_TMP/a.conflist"
_hk_net hgt-pb "hgt$$pb" 10.217.2 false >"$HG_TMP/b.conflist"
hg_listener - 10.217.1.1 "$PORT" "hk-a %PEER%"
hg_listener - 10.217.2.1 "$PORT" "hk-b %PEER%"
hg_listener - 127.0.0.1 "$PORT" "hk-lo %PEER%"

e2e_podman_setup "$HG_TMP/podman" "$HG_TMP/a.conflist" "$HG_PLUGIN_DIR" "$HG_TMP/hooks.d" "$RT"
cp "$HG_TMP/b.conflist" "$HG_TMP/podman/net.d/hgt-pb.conflist"

probe="cat /etc/hosts; echo \"resolved=\$($(e2e_resolve_snippet host.docker.internal))\";
	for i in 1 2 3; do a=\$(echo ping | nc -w 3 host.docker.internal $PORT) && [ -n \"\$a\" ] && break; sleep 0.2; done
	echo \"answer=\$a\""

# _hk_podman CASE NETWORK WANT_ADDR WANT_REPLY_PREFIX [PODMAN_RUN_FLAG...]
_hk_podman() {
	local c=$1 net=$2 addr=$3 reply=$4 out rc=0 hosts t0 names want
	shift 4
	: >"$HK_LOG"
	t0=$(e2e_now_ms)
	out=$(e2e_podman_run "hk-$c" "$net" --cap-add NET_RAW "$@" -- sh -c "$probe") || rc=$?
	printf '%s\n' "$out" >"$HG_TMP/$c.out"
	hg_assert_eq "$rc" 0 "$c: podman run status (output: $out)"
	sed '/^resolved=/,$d' "$HG_TMP/$c.out" >"$HG_TMP/$c.hosts"
	hosts=$(cat "$HG_TMP/$c.hosts")
	hg_assert_eq "$(hg_nblocks "$HG_TMP/$c.hosts")" 1 "$c: one block in the container's /etc/hosts ($hosts)"
	# podman writes host.containers.internal itself: the user's (podman's) line wins, the
	# block leaves the name out.
	names=$HG_DEFAULT_NAMES
	if hg_strip "$HG_TMP/$c.hosts" | grep -qw host.containers.internal; then
		names="host.docker.internal gateway.docker.internal"
	fi
	want="$addr"$'\t'"$names"
	if [ "$addr" = 127.0.0.1 ] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
		want="$want"$'\n'"::1"$'\t'"$names"
	fi
	hg_assert_eq "$(hg_block "$HG_TMP/$c.hosts")" "$want" "$c: the block"
	hg_assert_contains "$out" "resolved=$addr"$'\n' "$c: host.docker.internal resolves to $addr"
	hg_assert_contains "$out" "answer=$reply" "$c: the host listener answers by name"
	grep -q "hook createRuntime [0-9a-f]*: names written to .*/userdata/hosts" "$HK_LOG" ||
		hg_fail "$c: the hook log has no 'names written to .../userdata/hosts' line"
	hg_log "$c: ok (podman run $(($(e2e_now_ms) - t0)) ms); block: $(hg_block "$HG_TMP/$c.hosts" | tr '\t\n' ' |')"
}

_hk_no_records() { [ "$(hg_nrecords hook)" = 0 ]; }

# _hk_podman_detached CASE NETWORK HOOK_RECORDS: a detached container; while it runs,
# HOOK_RECORDS hook records exist (0: the CNI record was used); none once it is removed.
_hk_podman_detached() {
	local c=$1 net=$2 want=$3 copy=$E2E_PODMAN_DIR/rootfs-hk-$1
	cp -a "$E2E_PODMAN_DIR/rootfs" "$copy"
	hg_defer _e2e_podman_rm "hk-$c" "$copy"
	e2e_podman run -d --name "hk-$c" --network "$net" --cgroup-parent "$E2E_PODMAN_CGROUP" \
		--rootfs "$copy" sleep 600 >/dev/null || hg_fail "$c: podman run -d failed"
	hg_assert_eq "$(hg_nrecords hook)" "$want" "$c: hook records while the container runs"
	e2e_podman rm -f -t 0 "hk-$c" >/dev/null || hg_fail "$c: podman rm failed"
	e2e_wait_for 10 _hk_no_records ||
		hg_fail "$c: the hook's record is left after podman rm: $(ls "$HG_STATE/hook")"
	hg_log "$c: ok ($want hook record(s) while running, none after rm)"
}

# a. host-gateway in the conflist: names from the CNI record, no hook record.
_hk_podman a hgt-pa 10.217.1.1 "hk-a 10.217.1."
hg_assert_eq "$(hg_nrecords hook)" 0 "a: hook records after the run"
[ ! -d "$HG_STATE/cni" ] || [ -z "$(find "$HG_STATE/cni" -name '*.json')" ] || hg_fail "a: the CNI record survived podman's DEL"
_hk_podman_detached a-detached hgt-pa 0

# b. no host-gateway in the conflist: the hook does the plumbing; poststop removes its record.
_hk_podman b hgt-pb 10.217.2.1 "hk-b 10.217.2."
e2e_wait_for 10 _hk_no_records ||
	hg_fail "b: the hook's record is left after the container ended: $(ls "$HG_STATE/hook")"
_hk_podman_detached b-detached hgt-pb 1

# c. --network host.
_hk_podman c host 127.0.0.1 "hk-lo 127.0.0.1"

# d. the opt-in hooks.d.
_hk_hooks_dir hooks.d-opt-in
: >"$HK_LOG"
out=$(e2e_podman_run hk-d-off hgt-pb -- cat /etc/hosts) || hg_fail "d: podman run without the annotation failed: $out"
case $out in *"$HG_BEGIN"*) hg_fail "d: names without the opt-in annotation: $out" ;; esac
[ ! -s "$HK_LOG" ] || hg_fail "d: the hook ran without the annotation: $(cat "$HK_LOG")"
hg_log "d: no annotation, no hook: ok"
_hk_podman d-on hgt-pb 10.217.2.1 "hk-b 10.217.2." --annotation host-gateway.io/enabled=true
e2e_wait_for 10 _hk_no_records || hg_fail "d: the hook's record is left: $(ls "$HG_STATE/hook")"

hg_assert_eq "$(hk_fingerprint /etc/hosts)" "$etc_fp" "the machine's /etc/hosts is untouched"
hg_log PASS
