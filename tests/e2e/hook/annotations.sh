#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The host-gateway.io/* annotations on a container (config.json and the OCI state; the
# state's win), through direct hook runs on host-network bundles (no plumbing):
# enabled=false (no names, exit 0), names, extra-hosts (NAME:IP and NAME:host-gateway),
# and an invalid value (an error naming the key and the value; policy "fail" -> exit 1).
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-annotations
hk_runtime_need runc # runc spec
conf=$HG_TMP/hook.json
hk_config "$conf"
b=$HG_TMP/b
hk_bundle "$b" "$conf" host
user=$(cat "$b/rootfs/etc/hosts")
v6=
grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 && v6=1

# _hk_ann CASE CONFIG_ANNOTATIONS STATE_ANNOTATIONS WANT_RC WANT_BLOCK
_hk_ann() {
	local c=$1 rc=0
	printf '%s\n' "$user" >"$b/rootfs/etc/hosts"
	jq --argjson a "$2" '.annotations = $a' "$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
	hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-$c" 1 "$b" | jq -c --argjson a "$3" '.annotations = $a')" || rc=$?
	hg_assert_eq "$rc" "$4" "$c: exit status ($(cat "$HG_TMP/hook.err"))"
	hg_assert_eq "$(hg_block "$b/rootfs/etc/hosts")" "$5" "$c: the block"
	hg_assert_eq "$(hg_strip "$b/rootfs/etc/hosts")" "$user" "$c: user lines"
	# The container stops: its block goes (the next case's container would otherwise find
	# it still listed, alive as PID 1, and write it back).
	cp "$HG_TMP/hook.err" "$HG_TMP/create.err"
	hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-$c" 0 "$b")" || hg_fail "$c: poststop exit $?"
	mv "$HG_TMP/create.err" "$HG_TMP/hook.err" # what the callers look at
	hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "$c: no block after poststop"
}

lo() { # lo NAMES...: the block lines for the loopback addresses
	printf '127.0.0.1\t%s' "$*"
	[ -z "$v6" ] || printf '\n::1\t%s' "$*"
}
_hk_ann defaults '{}' '{}' 0 "$(lo "$HG_DEFAULT_NAMES")"
_hk_ann disabled-config '{"host-gateway.io/enabled":"false"}' '{}' 0 ""
_hk_ann disabled-state '{"host-gateway.io/enabled":"true"}' '{"host-gateway.io/enabled":"false"}' 0 ""
_hk_ann enabled-state-wins '{"host-gateway.io/enabled":"false"}' '{"host-gateway.io/enabled":"true"}' 0 "$(lo "$HG_DEFAULT_NAMES")"
_hk_ann names '{"host-gateway.io/names":"a.test, b.test"}' '{}' 0 "$(lo a.test b.test)"
want="$(lo "$HG_DEFAULT_NAMES")"$'\n'"10.1.2.3"$'\t'"db.test"$'\n'"$(lo gw.test)"
_hk_ann extra-hosts '{"host-gateway.io/extra-hosts":"db.test:10.1.2.3,gw.test:host-gateway"}' '{}' 0 "$want"
_hk_ann invalid '{"host-gateway.io/enabled":"maybe"}' '{}' 1 ""
hg_assert_contains "$(cat "$HG_TMP/hook.err")" '"host-gateway.io/enabled": "maybe"' "invalid: names the key and the value"
_hk_ann invalid-name '{"host-gateway.io/names":"ok.test,bad name"}' '{}' 1 ""
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "bad name" "invalid-name: names the value"
hg_log PASS
