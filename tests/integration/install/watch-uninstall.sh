#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install --watch --uninstall-on-exit (the DaemonSet's command) on a node-like tree:
#  1. the last watcher to stop uninstalls: entry, binary and lock file gone, kindnetd's
#     conflist as it was;
#  2. a rolling update (the new watcher started first): the old one keeps everything;
#  3. the folder restored from a backup under a running watcher, a new watcher in the new
#     folder: the old one, stopping, sees it and keeps the binary;
#  4. a watcher started right after the last one was told to stop (kubectl delete, then
#     apply): it ends up with the binary and the entry (it waits for the uninstall);
#  5. records in the stateDir: the binary stays for their DEL;
#  6. a plain --watch (no --uninstall-on-exit) with a FIFO at the lock's path: watches
#     anyway; --uninstall-on-exit refuses it (exit 1, the path named); the option without
#     --watch, or given to uninstall: usage errors (exit 2).
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-watch-uninstall
hg_require_bin
hg_require_cmd jq
it_tree
jq -n --arg s "$HG_TMP/state" '{type: "host-gateway", stateDir: $s}' >"$HG_TMP/entry.json"
LOCK=.host-gateway-watch.lock
W_PIDS=()
# watcher NAME [plain]: install --watch --uninstall-on-exit in the background (plain: no
# --uninstall-on-exit).
watcher() {
	local -a opt=(--uninstall-on-exit)
	[ "${2:-}" != plain ] || opt=()
	"$HG_BIN" install --watch --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" \
		--plugin-config "@$HG_TMP/entry.json" "${opt[@]}" >/dev/null 2>"$HG_TMP/$1.log" &
	W_PID=$!
	W_PIDS+=("$W_PID")
	hg_defer kill -KILL "$W_PID"
}
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || :; }
ready() { it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "@$HG_TMP/entry.json" 2>/dev/null; [ "$IT_RC" = 0 ]; }
node_clean() { # kindnetd's conflist as written, no binary, no lock file
	hg_assert_eq "$(jq -S . "$NET_D/10-kindnet.conflist")" "$(it_kindnet 10.244.0.0/24 | jq -S .)" "$1: the conflist as kindnetd wrote it"
	[ ! -e "$BIN_D/host-gateway" ] || hg_fail "$1: the binary stayed"
	[ ! -e "$NET_D/$LOCK" ] || hg_fail "$1: the lock file stayed"
}
fresh() { rm -rf "$NET_D" "$BIN_D" "$HG_TMP/state"; mkdir -p "$NET_D"; it_kindnetd_write 10.244.0.0/24; }

# ---- 1. the last one uninstalls ----
fresh
watcher a; a=$W_PID
it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "no entry: $(cat "$HG_TMP/a.log")"
[ -f "$NET_D/$LOCK" ] || hg_fail "no lock file while a watcher runs"
stop "$a"
hg_assert_contains "$(cat "$HG_TMP/a.log")" "the last watcher of the folder: uninstalling" "1: a says it uninstalls"
node_clean 1

# ---- 2. rolling update ----
fresh
watcher old; old=$W_PID
it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "no entry"
watcher new; new=$W_PID
sleep 0.5
stop "$old"
hg_assert_contains "$(cat "$HG_TMP/old.log")" "another install --watch of the folder runs: the entry stays" "2: the old one sees the new one"
ready || hg_fail "2: not in place after the old watcher stopped: $(cat "$IT_ERR")"
stop "$new"
node_clean 2

# ---- 3. the folder replaced under a running watcher ----
fresh
watcher a; a=$W_PID
it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "no entry"
cp -a "$NET_D" "$NET_D.new"
rm -f "$NET_D.new/$LOCK"
mv "$NET_D" "$NET_D.old"
mv "$NET_D.new" "$NET_D"
hg_defer rm -rf "$NET_D.old"
sleep 2.5 # the watch follows the folder's path (resolved every 2 s)
watcher b; b=$W_PID
sleep 0.5
stop "$a"
hg_assert_contains "$(cat "$HG_TMP/a.log")" "another install --watch of the folder runs" "3: a sees b's lock in the new folder"
ready || hg_fail "3: not in place after a stopped: $(cat "$IT_ERR")"
stop "$b"
node_clean 3

# ---- 4. one starting while the last one uninstalls ----
bad=0
for d in 0 0.002 0.005 0.01 0.02 0.03; do
	fresh
	watcher a; a=$W_PID
	it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "no entry"
	kill -TERM "$a"
	sleep "$d"
	watcher d; dd=$W_PID
	wait "$a" 2>/dev/null || :
	it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || :
	ready || { bad=$((bad + 1)); hg_log "4 (delay $d): $(cat "$IT_ERR")"; }
	stop "$dd"
done
hg_assert_eq "$bad" 0 "4: runs where the new watcher was left without binary or entry"

# ---- 5. records keep the binary ----
fresh
watcher a; a=$W_PID
it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "no entry"
mkdir -p "$HG_TMP/state/cni/kindnet"
echo '{}' >"$HG_TMP/state/cni/kindnet/c1+eth0.json"
stop "$a"
[ -x "$BIN_D/host-gateway" ] || hg_fail "5: the binary went though a record needs it: $(cat "$HG_TMP/a.log")"
hg_assert_eq "$(jq '[.plugins[] | select(.type == "host-gateway")] | length' "$NET_D/10-kindnet.conflist")" 0 "5: the entry went"
rm -rf "$HG_TMP/state/cni"

# ---- 6. a FIFO at the lock's path ----
fresh
mkfifo "$NET_D/$LOCK"
watcher plain plain; plain=$W_PID
it_wait_entry "$NET_D/10-kindnet.conflist" 5 >/dev/null || hg_fail "6: a plain --watch did not watch with a FIFO at the lock's path: $(cat "$HG_TMP/plain.log")"
stop "$plain"
it_hg install --watch --uninstall-on-exit --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "@$HG_TMP/entry.json"
hg_assert_eq "$IT_RC" 1 "6: --uninstall-on-exit with a FIFO at the lock's path"
hg_assert_contains "$(cat "$IT_ERR")" "$NET_D/$LOCK is not a regular file" "6: the path named"
[ -p "$NET_D/$LOCK" ] || hg_fail "6: the FIFO was replaced"
# Usage: the option belongs to --watch only.
it_hg install --uninstall-on-exit --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 2 "--uninstall-on-exit without --watch: a usage error"
hg_assert_contains "$(cat "$IT_ERR")" "--uninstall-on-exit needs --watch" "the usage error says why"
it_hg uninstall --uninstall-on-exit --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 2 "uninstall --uninstall-on-exit: a usage error"
hg_log "PASS"
