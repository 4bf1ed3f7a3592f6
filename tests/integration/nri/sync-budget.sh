#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-gateway nri answers a Synchronize within the runtime's timeout whatever the number of
# records of gone pods it collects: a fake runtime (sync-budget.py) has it attach 6000 pods
# (in one namespace of the test's own, the plugin in another standing for the host), then
# sends a Synchronize listing none with a timeout of 700 ms: answered in time, the records
# it had no time for collected by the next Synchronize; then 20000 pods and 20000 containers
# with an etc-hosts mount whose pods are not listed, answered within 2000 ms; then a
# Synchronize in 16 parts of 290000 empty pods: VmRSS under 128 MiB (it reached 700 MB).
# About 25 s.
. "$(dirname "$0")/../../lib/common.sh"
hg_init nri-sync-budget
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
hg_require_bin
PY=${NRI_PY:-/usr/bin/python3}
hg_require_cmd "$PY" protoc ip
"$PY" -c 'import google.protobuf' 2>/dev/null || hg_skip "$PY lacks python3-protobuf"

PB=$HG_TMP/pb
mkdir -p "$PB"
cp "$HG_SOURCE_ROOT/nri/nri.proto" "$PB/nri.proto"
protoc --proto_path="$PB" --python_out="$PB" "$PB/nri.proto"

H=hgsb-h-$$ P=hgsb-p-$$
hg_netns_add "$H"
hg_netns_add "$P"
ip -n "$H" link add vh type veth peer name vp netns "$P"
ip -n "$H" addr add 10.231.0.1/24 dev vh
ip -n "$H" link set vh up
ip -n "$P" addr add 10.231.0.2/24 dev vp
ip -n "$P" link set vp up
ip -n "$P" route add default via 10.231.0.1

SOCK=$HG_TMP/nri.sock
LOG=$HG_TMP/plugin.log
printf '{"stateDir": "%s"}\n' "$HG_STATE" >"$HG_TMP/config.json"
"$PY" "$(dirname "$0")/sync-budget.py" --socket "$SOCK" --pb-dir "$PB" --netns "/var/run/netns/$P" \
	--records "$HG_STATE/nri" --pods 6000 --timeout-ms 700 --pid-file "$HG_TMP/plugin.pid" &
runtime=$!
hg_defer kill -9 "$runtime"
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.05
done
ip netns exec "$H" "$HG_BIN" nri --socket "$SOCK" --config "$HG_TMP/config.json" 2>"$LOG" &
plugin=$!
echo "$plugin" >"$HG_TMP/plugin.pid"
hg_defer kill -9 "$plugin"
rc=0
wait "$runtime" || rc=$?
grep -E 'synchronized|failed' "$LOG" | head -n 20 >&2 || true
[ "$rc" -eq 0 ] || hg_fail "the fake runtime's expectations failed"
kill -TERM "$plugin"
rc=0
wait "$plugin" || rc=$?
hg_assert_eq "$rc" 0 "the plugin exits 0 on SIGTERM"
hg_log "PASS"
