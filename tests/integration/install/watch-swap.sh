#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install --watch on a configuration folder that is a symlink, through the real binary:
#   1. net.d -> v1, chained; the symlink swapped to v2 (ln -s v2 net.d.tmp && mv -T
#      net.d.tmp net.d): v2's file is chained within a second, --check 0, and later
#      rewrites in v2 are seen (v1 is no longer watched: its changes are not chained)
#   2. the symlink replaced by a real folder (rm, mv): that folder's file is chained and
#      its rewrites are seen
#   3. the folder replaced by a symlink again (rm -rf, ln -s: mv cannot put a link over a
#      folder): chained
#   4. a link to a link (net.d -> cur -> v1) with the inner one swapped (cur -> v3): no
#      name changes in net.d's parent, yet v3's file is chained within a few seconds
# inotify follows a symlink once: without a watch on the parent for the name, the watch
# stayed on v1 for ever.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-watch-swap
hg_require_bin
hg_require_cmd jq

it_tree
ETC=$(dirname "$NET_D")
rmdir "$NET_D"
mkdir "$ETC/v1" "$ETC/v2"
it_kindnet 10.244.1.0/24 >"$ETC/v1/10-kindnet.conflist"
it_kindnet 10.244.2.0/24 >"$ETC/v2/10-kindnet.conflist"
ln -s v1 "$NET_D"

LOG=$HG_TMP/watch.log
"$HG_BIN" install --watch --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" 2>"$LOG" &
WPID=$!
hg_defer kill -KILL "$WPID"
it_wait_entry "$ETC/v1/10-kindnet.conflist" 3 >/dev/null || hg_fail "v1 not chained: $(cat "$LOG")"
# Past the look that the watcher's own write triggers: that look alone would find v2.
sleep 0.6

# ---- 1. the symlink swapped ----
ln -s v2 "$NET_D.tmp"
mv -T "$NET_D.tmp" "$NET_D"
ms=$(it_wait_entry "$ETC/v2/10-kindnet.conflist" 3) || hg_fail "v2 not chained after the swap: $(cat "$LOG")"
hg_log "symlink swapped to v2: chained after $ms ms"
((ms <= 1000)) || hg_fail "chained only after $ms ms"
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "--check after the swap"
# v2 is the folder watched now: kindnetd's rewrite there is chained again.
NET_D=$ETC/v2 it_kindnetd_write 10.244.3.0/24
ms=$(it_wait_entry "$ETC/v2/10-kindnet.conflist" 3) || hg_fail "a rewrite in v2 not chained: $(cat "$LOG")"
hg_log "rewrite in v2: chained after $ms ms"
# v1 is not what runtimes load any more, and not watched.
NET_D=$ETC/v1 it_kindnetd_write 10.244.4.0/24
sleep 0.6
it_has_entry "$ETC/v1/10-kindnet.conflist" && hg_fail "v1, no longer the folder, was still watched"

# ---- 2. the symlink replaced by a folder ----
mkdir "$ETC/real"
it_kindnet 10.244.5.0/24 >"$ETC/real/10-kindnet.conflist"
rm "$NET_D"
mv "$ETC/real" "$NET_D"
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 3) || hg_fail "the folder that replaced the symlink not chained: $(cat "$LOG")"
hg_log "symlink replaced by a folder: chained after $ms ms"
it_kindnetd_write 10.244.6.0/24
ms=$(it_wait_entry "$NET_D/10-kindnet.conflist" 3) || hg_fail "a rewrite in the new folder not chained: $(cat "$LOG")"
it_kindnet 10.244.7.0/24 >"$ETC/v2/10-kindnet.conflist"

# ---- 3. a symlink again ----
rm -rf "$NET_D"
ln -s v2 "$NET_D"
ms=$(it_wait_entry "$ETC/v2/10-kindnet.conflist" 3) || hg_fail "the symlink that replaced the folder not chained: $(cat "$LOG")"
hg_log "folder replaced by a symlink: chained after $ms ms"
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "--check at the end"


# ---- 4. a link to a link, the inner one swapped ----
mkdir "$ETC/v3"
it_kindnet 10.244.8.0/24 >"$ETC/v1/10-kindnet.conflist"
it_kindnet 10.244.9.0/24 >"$ETC/v3/10-kindnet.conflist"
ln -s v1 "$ETC/cur"
ln -s cur "$NET_D.tmp"
mv -T "$NET_D.tmp" "$NET_D"
it_wait_entry "$ETC/v1/10-kindnet.conflist" 3 >/dev/null || hg_fail "4. net.d -> cur -> v1 not chained: $(cat "$LOG")"
sleep 0.6
ln -s v3 "$ETC/cur.tmp"
mv -T "$ETC/cur.tmp" "$ETC/cur"
ms=$(it_wait_entry "$ETC/v3/10-kindnet.conflist" 6) || hg_fail "4. v3 not chained after cur was swapped: $(cat "$LOG")"
hg_log "inner link of a link swapped: chained after $ms ms"
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "4. --check after the inner swap"

kill -TERM "$WPID"
rc=0
wait "$WPID" || rc=$?
hg_assert_eq "$rc" 0 "--watch exit status after SIGTERM"
hg_log "watch log:"$'\n'"$(cat "$LOG")"
hg_log PASS
