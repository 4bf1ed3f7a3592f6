#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-gateway nri against a runtime of the test's own (fake-runtime.py), through the real
# binary, on a unix socket in the test's folder (no runtime, no namespace, nothing of the
# machine's):
#   1. a valid conversation: RegisterPlugin, Configure (the events subscribed), Synchronize
#      in two parts, RunPodSandbox, CreateContainer (an empty adjustment), StateChange,
#      StopContainer, RemovePodSandbox, a call not subscribed to, Shutdown; wrong requests
#      answered with an error status: unknown method and service (12), garbage protobuf in
#      the payload and in the ttrpc request, an even stream id (3); frames of unknown
#      connections, data messages and stray responses ignored; a request cut into
#      one-byte frames and two requests in one frame answered
#   2. truncated frames, then the connection closed: the plugin reconnects
#   3. a multiplexer frame and a ttrpc message over 4 MiB: the connection dropped; the
#      largest message allowed is read
#   4. a million tiny frames (empty, and on an unknown connection), then 100000 requests
#      of an unknown method read as they are answered: all answered
#   5. a peer that sends and never reads: the plugin gives up on it within its timeout
#   6. RegisterPlugin refused: the plugin drops and registers again
#   7. the binary started as NRI starts /opt/nri/plugins/IDX-NAME (socketpair as fd 3,
#      NRI_PLUGIN_SOCKET/NAME/IDX, no argument): it registers as IDX-NAME, exits 0 at the end
# After each: the plugin alive, VmRSS under 64 MiB; at the end, SIGTERM: exit 0, and the
# log names the wrong frames only a few times (counted, not logged one by one).
. "$(dirname "$0")/../../lib/common.sh"
hg_init nri-hostile-peer
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
hg_require_bin
# Debian's python3, which has python3-protobuf, whatever python3 comes first in PATH.
PY=${NRI_PY:-/usr/bin/python3}
hg_require_cmd "$PY" protoc
"$PY" -c 'import google.protobuf' 2>/dev/null || hg_skip "$PY lacks python3-protobuf"

PB=$HG_TMP/pb
mkdir -p "$PB"
# The fake runtime's messages, from the plugin's own .proto: field numbers checked against
# NRI's for real by the e2e test with containerd.
cp "$HG_SOURCE_ROOT/nri/nri.proto" "$PB/nri.proto"
protoc --proto_path="$PB" --python_out="$PB" "$PB/nri.proto"

SOCK=$HG_TMP/nri.sock
LOG=$HG_TMP/plugin.log
# The plugin attaches what it is told about: a private stateDir (the fake pods' netns paths
# and etc-hosts files do not exist, so nothing else is touched).
printf '{"stateDir": "%s"}\n' "$HG_TMP/state" >"$HG_TMP/config.json"
"$HG_BIN" nri --socket "$SOCK" --config "$HG_TMP/config.json" 2>"$LOG" &
plugin=$!
hg_defer kill -9 "$plugin"

t0=$(date +%s)
if ! "$PY" "$(dirname "$0")/fake-runtime.py" --socket "$SOCK" --pb-dir "$PB" --pid "$plugin"; then
	hg_log "plugin log (last 40 lines):"$'\n'"$(tail -n 40 "$LOG")"
	hg_fail "the fake runtime's expectations failed"
fi
hg_log "fake runtime done in $(($(date +%s) - t0)) s"
# 7. started as NRI starts a pre-registered plugin: fd 3, name and index from the
#    environment, no argument; exit 0 once the runtime closes the socket.
"$PY" "$(dirname "$0")/fake-runtime.py" --launch "$HG_BIN" --pb-dir "$PB" 2>&1 ||
	hg_fail "the launched plugin failed"

kill -TERM "$plugin"
rc=0
wait "$plugin" || rc=$?
hg_log "plugin log:"$'\n'"$(head -c 6000 "$LOG")"
hg_assert_eq "$rc" 0 "the plugin exits 0 on SIGTERM (no crash, no signal)"
if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$LOG"; then
	hg_fail "sanitizer report in the plugin's log"
fi
hg_assert_contains "$(cat "$LOG")" "registered as 50-host-gateway" "registration logged"
hg_assert_contains "$(cat "$LOG")" "pod start: id=pod-2 name=default/web uid=uid-1 netns=/var/run/netns/cni-fake ips=10.0.0.2 annotations={host-gateway.io/extra-hosts=db.local:host-gateway}" "RunPodSandbox logged with netns and annotations"
hg_assert_contains "$(cat "$LOG")" "container create: id=ctr-2 pod=pod-2 name=app etc-hosts=/var/lib/kubelet/pods/x/etc-hosts" "CreateContainer logged with the etc-hosts mount"
hg_assert_contains "$(cat "$LOG")" "synchronize: 2 pods, 1 container" "the parts of Synchronize joined"
n=$(grep -c 'refused on stream' "$LOG" || true)
[ "$n" -le 60 ] || hg_fail "$n lines of refusals: the log grows with a hostile peer's requests"
hg_log "PASS"
