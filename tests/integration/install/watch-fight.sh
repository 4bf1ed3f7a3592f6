#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two install --watch with different entries on one folder, through the real binary: each
# puts its own entry back after the other's write. Within a few seconds one of them stops
# with exit 1 and a message that says why; the file is then left alone (not rewritten for
# 2 s) and holds the survivor's entry; the writes stay few (the two used to rewrite the
# file for ever, about 10 times a second, each write with an fsync). A change of the entry
# by a later install (one replacement) stays allowed.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-watch-fight
hg_require_bin
hg_require_cmd jq

VIP='{"type":"host-gateway","virtualIPs":["169.254.1.2"],"hostAlias":true}'
it_tree
CONF=$NET_D/10-kindnet.conflist
it_kindnet 10.244.0.0/24 >"$CONF"

A_LOG=$HG_TMP/a.log
B_LOG=$HG_TMP/b.log
"$HG_BIN" install --watch --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" 2>"$A_LOG" &
A=$!
hg_defer kill -KILL "$A"
it_wait_entry "$CONF" 3 >/dev/null || hg_fail "not chained: $(cat "$A_LOG")"

# A new configuration for the same watcher's entry, once: replaced back, no stop.
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "$VIP"
hg_assert_eq "$IT_RC" 0 "install of another entry"
for ((i = 0; i < 100; i++)); do
	[ "$(jq -c '.plugins[-1].virtualIPs' "$CONF")" = null ] && break
	sleep 0.02
done
hg_assert_eq "$(jq -c '.plugins[-1].virtualIPs' "$CONF")" null "the watcher put its entry back"
kill -0 "$A" 2>/dev/null || hg_fail "one replacement stopped the watcher: $(cat "$A_LOG")"

"$HG_BIN" install --watch --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "$VIP" 2>"$B_LOG" &
B=$!
hg_defer kill -KILL "$B"
stopped=
for ((i = 0; i < 500; i++)); do
	if ! kill -0 "$A" 2>/dev/null; then stopped=$A survivor=$B log=$A_LOG; break; fi
	if ! kill -0 "$B" 2>/dev/null; then stopped=$B survivor=$A log=$B_LOG; break; fi
	sleep 0.02
done
[ -n "$stopped" ] || hg_fail "neither watcher stopped within 10 s: $(grep -c 'chained into' "$A_LOG" "$B_LOG")"
rc=0
wait "$stopped" || rc=$?
hg_assert_eq "$rc" 1 "exit status of the watcher that stopped"
hg_assert_contains "$(cat "$log")" "a different host-gateway entry replaced ours again after each of our last 4 rewrites within 60 s: stopped"
hg_log "stopped: $(tail -1 "$log")"

# Left alone from now on, with the survivor's entry.
sleep 0.5
before=$(stat -c '%i %y' "$CONF")
sleep 2
hg_assert_eq "$(stat -c '%i %y' "$CONF")" "$before" "the file was rewritten after the stop"
kill -0 "$survivor" 2>/dev/null || hg_fail "the survivor stopped too: $(cat "$A_LOG" "$B_LOG")"
writes=$(cat "$A_LOG" "$B_LOG" | grep -c 'chained into')
hg_log "$writes writes in all"
((writes <= 12)) || hg_fail "$writes writes before the stop"
if [ "$survivor" = "$A" ]; then want=null; else want='["169.254.1.2"]'; fi
hg_assert_eq "$(jq -c '.plugins[-1].virtualIPs' "$CONF")" "$want" "the survivor's entry in the file"
it_has_entry "$CONF" || hg_fail "not exactly one entry: $(cat "$CONF")"
hg_assert_eq "$(find "$NET_D" -name '.*' ! -name .host-gateway-watch.lock | wc -l)" 0 "temp files left (the watchers' lock aside)"
kill -TERM "$survivor"
wait "$survivor" || hg_fail "the survivor's exit status after SIGTERM"
hg_log PASS
