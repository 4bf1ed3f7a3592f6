#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Errors through the real binary: each one exits non-zero and prints ONE JSON object on
# stdout with cniVersion, code and msg:
#   unknown CNI_COMMAND -> 4; ADD without CNI_NETNS -> 4 (naming it); ADD without
#   prevResult -> 7; CNI_NETNS = the plugin's own netns -> 8 (both /var/run/netns/X and
#   /proc/PID/ns/net forms), and not 8 with CNI_NETNS_OVERRIDE=1; cniVersion 0.2.0 or
#   missing -> 1; "names": "x" -> 7 naming "names"; stdin not JSON -> 6.
# And the command line for people: --help without CNI env exits 0, --version prints it.
# The own-netns cases run the plugin inside a test netns, never in the machine's.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-errors
hg_require_bin
hg_require_cmd jq

ns=hgt-$$-err cid=hgt-$$-err-c
hg_netns_add "$ns"
ip -n "$ns" link add eth0 type veth peer name hgerrp0
ip -n "$ns" link set hgerrp0 up
ip -n "$ns" addr add 10.250.90.2/24 dev eth0
ip -n "$ns" link set eth0 up
netns=/var/run/netns/$ns
prev=$(jq -nc --arg sb "$netns" '{cniVersion: "1.0.0", interfaces: [{name: "eth0", sandbox: $sb}],
	ips: [{interface: 0, address: "10.250.90.2/24", gateway: "10.250.90.1"}], routes: [], dns: {}}')
base=$(jq -nc --arg state "$HG_STATE" --argjson prev "$prev" \
	'{cniVersion: "1.0.0", name: "hgt-err", type: "host-gateway", stateDir: $state, prevResult: $prev}')

# expect_error WHAT CODE RC OUT [VERSION]: a failure exit and one error JSON object.
expect_error() {
	local what=$1 code=$2 rc=$3 out=$4 ver=${5:-}
	[ "$rc" -ne 0 ] || hg_fail "$what: exited 0 (stdout: $out)"
	hg_assert_eq "$(jq -s 'length' <<<"$out" 2>/dev/null || echo invalid)" 1 "$what: one JSON document on stdout ($out)"
	hg_assert_eq "$(jq -r '[(.cniVersion | type), (.code | type), (.msg | type)] | join(",")' <<<"$out")" \
		"string,number,string" "$what: cniVersion, code, msg in $out"
	hg_assert_eq "$(jq -r .code <<<"$out")" "$code" "$what: error code ($out)"
	[ -z "$ver" ] || hg_assert_eq "$(jq -r .cniVersion <<<"$out")" "$ver" "$what: error cniVersion"
}

# run CMD CONF CID NETNS IFNAME: sets OUT and RC.
run() {
	RC=0
	OUT=$(hg_plugin "$@" 2>"$HG_TMP/stderr") || RC=$?
}

hg_log "unknown CNI_COMMAND"
run FROBNICATE "$base" "$cid" "$netns" eth0
expect_error "unknown CNI_COMMAND" 4 "$RC" "$OUT"
hg_assert_contains "$(jq -r .msg <<<"$OUT")" FROBNICATE "unknown command named in msg"

hg_log "ADD without CNI_NETNS"
run ADD "$base" "$cid" "" eth0
expect_error "ADD without CNI_NETNS" 4 "$RC" "$OUT" 1.0.0
hg_assert_contains "$(jq -r .msg <<<"$OUT")" CNI_NETNS "missing variable named in msg"

hg_log "ADD without prevResult"
run ADD "$(jq -c 'del(.prevResult)' <<<"$base")" "$cid" "$netns" eth0
expect_error "ADD without prevResult" 7 "$RC" "$OUT" 1.0.0

hg_log "CNI_NETNS is the plugin's own netns"
RC=0
OUT=$(HG_EXEC_NETNS=$ns hg_plugin ADD "$base" "$cid" "$netns" eth0 2>"$HG_TMP/stderr") || RC=$?
expect_error "own netns (/var/run/netns)" 8 "$RC" "$OUT" 1.0.0
RC=0
# shellcheck disable=SC2016 # $$ of the inner bash, which execs the plugin
OUT=$(ip netns exec "$ns" env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$cid" CNI_IFNAME=eth0 \
	CNI_PATH="$HG_CNI_PATH" bash -c 'CNI_NETNS=/proc/$$/ns/net exec "$1"' _ "$HG_BIN" <<<"$base" 2>"$HG_TMP/stderr") || RC=$?
expect_error "own netns (/proc/PID/ns/net of the caller)" 8 "$RC" "$OUT" 1.0.0
[ ! -e "$(hgc_record hgt-err "$cid" eth0)" ] || hg_fail "a refused ADD wrote a record"

hg_log "... with CNI_NETNS_OVERRIDE=1"
RC=0
OUT=$(CNI_NETNS_OVERRIDE=1 HG_EXEC_NETNS=$ns hg_plugin ADD "$base" "$cid" "$netns" eth0 2>"$HG_TMP/stderr") || RC=$?
[ "$(jq -r '.code // empty' <<<"$OUT" 2>/dev/null)" != 8 ] || hg_fail "CNI_NETNS_OVERRIDE=1 still refused with 8: $OUT"
hg_assert_eq "$RC" 0 "ADD with CNI_NETNS_OVERRIDE=1 exit status ($OUT $(cat "$HG_TMP/stderr"))"
hg_assert_eq "$(jq -cS . <<<"$OUT")" "$(jq -cS . <<<"$prev")" "ADD with override prints prevResult back"
[ -f "$(hgc_record hgt-err "$cid" eth0)" ] || hg_fail "ADD with override wrote no record"
run DEL "$base" "$cid" "$netns" eth0
hg_assert_eq "$RC" 0 "DEL after the override ADD ($OUT)"
[ ! -e "$(hgc_record hgt-err "$cid" eth0)" ] || hg_fail "record left after DEL"

hg_log "cniVersion"
run ADD "$(jq -c '.cniVersion = "0.2.0"' <<<"$base")" "$cid" "$netns" eth0
expect_error "cniVersion 0.2.0" 1 "$RC" "$OUT"
run ADD "$(jq -c 'del(.cniVersion)' <<<"$base")" "$cid" "$netns" eth0
expect_error "no cniVersion" 1 "$RC" "$OUT"

hg_log "invalid configuration key"
run ADD "$(jq -c '.names = "x"' <<<"$base")" "$cid" "$netns" eth0
expect_error 'names: "x"' 7 "$RC" "$OUT" 1.0.0
hg_assert_contains "$(jq -r .msg <<<"$OUT")" names 'msg names the key'
run ADD "$(jq -c '.hostIPs = ["not-an-address"]' <<<"$base")" "$cid" "$netns" eth0
expect_error 'hostIPs: ["not-an-address"]' 7 "$RC" "$OUT" 1.0.0
hg_assert_contains "$(jq -r .msg <<<"$OUT")" hostIPs 'msg names the key'
hg_assert_contains "$(jq -r .msg <<<"$OUT")" not-an-address 'msg names the value'

hg_log "stdin not JSON"
run ADD '{"cniVersion": "1.0.0", ' "$cid" "$netns" eth0
expect_error "malformed JSON" 6 "$RC" "$OUT"
[ ! -e "$(hgc_record hgt-err "$cid" eth0)" ] || hg_fail "a failed ADD wrote a record"

hg_log "VERSION"
OUT=$(hg_plugin VERSION '{"cniVersion": "1.0.0"}' "" "" "")
hg_assert_eq "$(jq -c .supportedVersions <<<"$OUT")" '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' "VERSION supportedVersions"

hg_log "command line"
RC=0
OUT=$(env -i "$HG_BIN" --help 2>"$HG_TMP/stderr") || RC=$?
hg_assert_eq "$RC" 0 "--help exit status"
hg_assert_contains "$OUT" "Usage: host-gateway" "--help text"
hg_assert_contains "$OUT" "--version" "--help text"
[ -z "$(jq -c . <<<"$OUT" 2>/dev/null || true)" ] || hg_fail "--help printed JSON: $OUT"
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$HG_SOURCE_ROOT/meson.build" | head -n1)
[ -n "$version" ] || hg_fail "test setup: no version in meson.build"
RC=0
OUT=$(env -i "$HG_BIN" --version 2>"$HG_TMP/stderr") || RC=$?
hg_assert_eq "$RC" 0 "--version exit status"
hg_assert_eq "$(head -n1 <<<"$OUT")" "host-gateway $version" "--version first line"
hg_log "PASS"
