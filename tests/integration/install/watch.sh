#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install --watch through the real binary, on a node-like tree:
#   1. an invalid first file: install without --watch exits 1 naming it, nothing touched;
#      --watch waits, says why once, and chains it within a second of its fix
#   2. that file removed: the next one (kindnet's) is chained
#   3. kindnetd's rewrite (NAME.temp renamed over NAME) five times: the entry is back
#      within 1 s each time; a burst of 30 rewrites ends with the entry in place
#   4. no loop: with nothing changing, the file is not written again (inode and mtime kept
#      over 1.5 s) and one "chained into" line per rewrite
#   5. renames: a file renamed to sort first is chained; the folder renamed away and made
#      again is watched again; removed and restored from a backup, it is not nested; a
#      .conf converted to NAME.conflist and then rewritten by its owner is converted again
#   6. SIGTERM: exit 0 within 2 s, the entry in place, --check 0
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-watch
hg_require_bin
hg_require_cmd jq

it_tree
it_kindnet 10.244.0.0/24 >"$NET_D/10-kindnet.conflist"
printf '{"cniVersion": "0.3.1", "name": "first", "plugins": [{"type": "ptp"}' >"$NET_D/05-first.conflist"
cp "$NET_D/05-first.conflist" "$HG_TMP/first.orig"
cp "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig"

# ---- 1. invalid first file ----
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install with an invalid first file"
hg_assert_contains "$(cat "$IT_ERR")" "05-first.conflist is not valid JSON"
cmp -s "$NET_D/05-first.conflist" "$HG_TMP/first.orig" || hg_fail "the invalid file was touched"

LOG=$HG_TMP/watch.log
"$HG_BIN" install --watch --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" 2>"$LOG" &
WPID=$!
hg_defer kill -KILL "$WPID"
for ((i = 0; i < 100; i++)); do
	grep -q 'waiting: .*05-first.conflist is not valid JSON' "$LOG" && break
	kill -0 "$WPID" 2>/dev/null || hg_fail "--watch exited: $(cat "$LOG")"
	sleep 0.05
done
grep -q 'waiting: .*05-first.conflist' "$LOG" || hg_fail "--watch did not say why it waits: $(cat "$LOG")"
sleep 0.3
cmp -s "$NET_D/05-first.conflist" "$HG_TMP/first.orig" || hg_fail "--watch touched the invalid file"
cmp -s "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig" || hg_fail "--watch touched the second file"
hg_assert_eq "$(grep -c 'waiting:' "$LOG")" 1 "the reason said once"
# Fixed in place, as an editor would.
printf '{"cniVersion": "0.3.1", "name": "first", "plugins": [{"type": "ptp"}]}\n' >"$NET_D/05-first.conflist"
ms=$(it_wait_entry "$NET_D/05-first.conflist" 3) || hg_fail "not chained after the fix: $(cat "$LOG")"
hg_log "fixed file chained after $ms ms"
((ms <= 1000)) || hg_fail "chained only after $ms ms"

# ---- 2. the first file removed: kindnet's is next ----
rm "$NET_D/05-first.conflist"
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 3) || hg_fail "10-kindnet not chained: $(cat "$LOG")"
hg_log "10-kindnet chained $ms ms after the first file went"

# ---- 3. kindnetd rewrites ----
for n in 1 2 3 4 5; do
	sleep 0.2
	it_kindnetd_write "10.244.$n.0/24"
	ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 3) || hg_fail "rewrite $n: entry not back: $(cat "$LOG")"
	hg_log "rewrite $n: entry back after $ms ms"
	((ms <= 1000)) || hg_fail "rewrite $n: entry back only after $ms ms"
	hg_assert_eq "$(it_without_ours "$NET_D/10-kindnet.conflist")" \
		"$(it_kindnet "10.244.$n.0/24" | jq -S .)" "rewrite $n: kindnet's content kept"
done
for n in $(seq 1 30); do it_kindnetd_write "10.244.9.0/24"; done
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 3) || hg_fail "burst: entry not back: $(cat "$LOG")"
hg_log "burst of 30: entry back after $ms ms"

# ---- 4. no loop ----
sleep 1
before=$(stat -c '%i %Y.%y' "$NET_D/10-kindnet.conflist")
chained=$(grep -c 'chained into' "$LOG")
sleep 1.5
hg_assert_eq "$(stat -c '%i %Y.%y' "$NET_D/10-kindnet.conflist")" "$before" "the file was rewritten with nothing changing"
hg_assert_eq "$(grep -c 'chained into' "$LOG")" "$chained" "writes with nothing changing"
# One write per rewrite at most: 1 fix + 1 kindnet + 5 rewrites + (burst: at most a few).
((chained <= 12)) || hg_fail "$chained writes for 7 changes and a burst: $(cat "$LOG")"
hg_assert_eq "$(find "$NET_D" -name '.*' ! -name .host-gateway-watch.lock | wc -l)" 0 "temp files left (the watchers' lock aside)"

# ---- 5. renames ----
printf '{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge"}]}\n' >"$NET_D/other.conflist.new"
mv "$NET_D/other.conflist.new" "$NET_D/01-other.conflist"
ms=$(it_wait_entry "$NET_D/01-other.conflist" 3) || hg_fail "renamed-in first file not chained: $(cat "$LOG")"
hg_log "file renamed to sort first: chained after $ms ms"
mv "$NET_D/01-other.conflist" "$NET_D/01-other.conflist.off"
mv "$NET_D" "$NET_D.old"
hg_defer rm -rf "$NET_D.old"
mkdir -p "$NET_D"
it_kindnet 10.244.7.0/24 >"$NET_D/10-kindnet.conflist.temp"
mv "$NET_D/10-kindnet.conflist.temp" "$NET_D/10-kindnet.conflist"
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 8) || hg_fail "new folder not watched: $(cat "$LOG")"
hg_log "folder renamed and made again: chained after $ms ms"
# Removed and restored by an admin (cp -r of a backup): the copy must land as the folder,
# not inside one --watch made meanwhile.
cp -a "$NET_D" "$HG_TMP/net.d.backup"
rm -rf "$NET_D"
sleep 0.5
cp -a "$HG_TMP/net.d.backup" "$NET_D"
[ ! -e "$NET_D/net.d.backup" ] || hg_fail "the restored folder landed inside one --watch made"
it_kindnetd_write 10.244.8.0/24
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 8) || hg_fail "restored folder not watched: $(cat "$LOG")"
hg_log "folder removed and restored: chained after $ms ms"
# A single-plugin .conf first: converted; the primary then rewrites its .conf (temp +
# rename), which runtimes load again (it sorts before NAME.conflist): converted again.
printf '{"cniVersion": "0.3.1", "name": "multus", "type": "bridge"}\n' >"$NET_D/00-multus.conf.tmp"
mv "$NET_D/00-multus.conf.tmp" "$NET_D/00-multus.conf"
ms=$(it_wait_entry "$NET_D/00-multus.conflist" 3) || hg_fail "the .conf was not converted: $(cat "$LOG")"
for i in 1 2; do
	printf '{"cniVersion": "0.3.1", "name": "multus", "type": "bridge", "mtu": %d}\n' "$((1400 + i))" >"$NET_D/00-multus.conf.tmp"
	mv "$NET_D/00-multus.conf.tmp" "$NET_D/00-multus.conf"
	for _ in $(seq 150); do [ ! -e "$NET_D/00-multus.conf" ] && break; sleep 0.02; done
	[ ! -e "$NET_D/00-multus.conf" ] || hg_fail "rewrite $i of the .conf was not converted again: $(cat "$LOG")"
	it_has_entry "$NET_D/00-multus.conflist" || hg_fail "rewrite $i: no entry in the conversion"
	hg_assert_eq "$(jq '.plugins[0].mtu' "$NET_D/00-multus.conflist")" "$((1400 + i))" "rewrite $i: the new .conf's content"
done
rm -f "$NET_D/00-multus.conflist"

# ---- 6. SIGTERM ----
kill -TERM "$WPID"
rc=0
for ((i = 0; i < 40; i++)); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$WPID" 2>/dev/null && hg_fail "--watch still running 2 s after SIGTERM"
wait "$WPID" || rc=$?
hg_assert_eq "$rc" 0 "--watch exit status after SIGTERM"
it_has_entry "$NET_D/10-kindnet.conflist" || hg_fail "SIGTERM removed the entry"
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "--check after --watch ended"
hg_log "watch log:"$'\n'"$(cat "$LOG")"
hg_log PASS
