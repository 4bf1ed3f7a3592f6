#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install against hostile arguments and kills, through the real binary:
#   1. --plugin-config @FIFO: refused at once (it used to block for ever); @ a 200 MiB file:
#      refused before it is read, naming the bound (it used to take ~1 GB first)
#   2. a first file that install refuses: nothing is written, the binary included (it used
#      to be copied before the file was looked at)
#   3. stale temp files: a regular file named as ours whose writer (a PID of our PID
#      namespace) is dead is removed by the next install and uninstall, in the conf and
#      the bin folder, and so is one of another PID namespace unchanged for over an hour
#      (installers in pods get a new namespace with each restart: it used to stay for
#      ever); nothing else is: not a live writer's, not another PID namespace's younger one,
#      not a non-canonical name, not an older random name, not a symlink, a folder or a
#      FIFO of that name, not kindnetd's NAME.temp
#   4. SIGKILL at 100 points of install (the binary copy and the conflist write): after
#      each, the next install leaves no temp file of ours in either folder, a whole binary
#      and a chained file
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-hostile
hg_require_bin
hg_require_cmd jq timeout mkfifo

it_tree
CONF=$NET_D/10-kindnet.conflist
it_kindnet 10.244.0.0/24 >"$CONF"
cp "$CONF" "$HG_TMP/kindnet.orig"

# ---- 1. --plugin-config @FILE ----
mkfifo "$HG_TMP/fifo"
IT_ERR=$HG_TMP/fifo.err
IT_RC=0
timeout 5 "$HG_BIN" install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "@$HG_TMP/fifo" \
	2>"$IT_ERR" || IT_RC=$?
[ "$IT_RC" != 124 ] || hg_fail "--plugin-config @FIFO blocked"
hg_assert_eq "$IT_RC" 1 "--plugin-config @FIFO"
hg_assert_contains "$(cat "$IT_ERR")" "$HG_TMP/fifo is not a regular file"

# A valid JSON object of 200 MiB: jansson would build every byte of it.
{
	printf '{"type": "host-gateway", "pad": "'
	head -c $((200 << 20)) /dev/zero | tr '\0' a
	printf '"}\n'
} >"$HG_TMP/big.json"
IT_ERR=$HG_TMP/big.err
IT_RC=0
if [ -x /usr/bin/time ]; then
	timeout 20 /usr/bin/time -f '%M' -o "$HG_TMP/rss" "$HG_BIN" install --cni-conf-dir "$NET_D" \
		--cni-bin-dir "$BIN_D" --plugin-config "@$HG_TMP/big.json" 2>"$IT_ERR" || IT_RC=$?
	rss=$(tail -1 "$HG_TMP/rss")
	hg_log "--plugin-config @200 MiB: max RSS $rss KiB"
	((rss < 65536)) || hg_fail "--plugin-config @200 MiB took $rss KiB"
else
	timeout 20 "$HG_BIN" install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" \
		--plugin-config "@$HG_TMP/big.json" 2>"$IT_ERR" || IT_RC=$?
fi
rm "$HG_TMP/big.json"
hg_assert_eq "$IT_RC" 1 "--plugin-config @200 MiB"
hg_assert_contains "$(cat "$IT_ERR")" "big.json is larger than 1048576 bytes"
[ ! -e "$BIN_D" ] || hg_fail "a refused --plugin-config wrote into the bin folder"
cmp -s "$CONF" "$HG_TMP/kindnet.orig" || hg_fail "a refused --plugin-config touched the conflist"

# ---- 2. a first file install refuses: nothing written, the binary neither ----
printf '{"cniVersion": "0.3.1", "name": "broken", "plugins": [' >"$NET_D/05-broken.conflist"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install with an invalid first file"
hg_assert_contains "$(cat "$IT_ERR")" "05-broken.conflist is not valid JSON"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "the binary was copied before the first file was refused"
printf '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "host-gateway"}]}\n' >"$NET_D/05-broken.conflist"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install into a list of ours only"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "the binary was copied before the list of ours only was refused"
rm "$NET_D/05-broken.conflist"
# A single plugin whose conversion is in the way: refused first too.
printf '{"cniVersion": "1.0.0", "name": "b", "type": "bridge"}\n' >"$NET_D/05-b.conf"
printf '{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge"}]}\n' >"$NET_D/05-b.conflist"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install with a conversion in the way"
hg_assert_contains "$(cat "$IT_ERR")" "not converted"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "the binary was copied before the conversion was refused"
rm "$NET_D/05-b.conf" "$NET_D/05-b.conflist"
cmp -s "$CONF" "$HG_TMP/kindnet.orig" || hg_fail "a refused install touched the conflist"

# ---- 3. stale temp files ----
ns=$(stat -L -c %i /proc/self/ns/pid)
sleep 0 &
dead=$!
wait "$dead"
kill -0 "$dead" 2>/dev/null && hg_fail "PID $dead is still there"
mkdir -p "$BIN_D"
stale() { printf 'partial' >"$1/.host-gateway.$ns-$dead.aB3xYz.tmp"; }
stale "$NET_D"
stale "$BIN_D"
keep=(
	"$NET_D/.host-gateway.$ns-$$.aB3xYz.tmp"         # a live writer (this shell)
	"$NET_D/.host-gateway.$((ns + 1))-$dead.aB3xYz.tmp" # another PID namespace
	"$NET_D/.host-gateway.$ns-0$dead.aB3xYz.tmp"      # not canonical
	"$NET_D/.host-gateway.$ns-$dead.aB3xY.tmp"        # five random characters
	"$NET_D/.host-gateway.$ns-$dead.aB3xYz.tmp.keep"  # another ending
	"$NET_D/.host-gateway.aB3xYz.tmp"                 # an older release's random name
	"$NET_D/10-kindnet.conflist.temp"                 # kindnetd's
	"$BIN_D/.host-gateway.$ns-$$.aB3xYz.tmp"
)
for f in "${keep[@]}"; do printf 'keep' >"$f"; done
# Named as a dead writer's, but not regular files: never removed.
sleep 0 &
dead2=$!
wait "$dead2"
mkdir "$NET_D/.host-gateway.$ns-$dead2.dirAAA.tmp"
mkfifo "$NET_D/.host-gateway.$ns-$dead2.fifoAA.tmp"
ln -s "$HG_TMP/kindnet.orig" "$NET_D/.host-gateway.$ns-$dead2.linkAA.tmp"
keep+=("$NET_D/.host-gateway.$ns-$dead2.dirAAA.tmp" "$NET_D/.host-gateway.$ns-$dead2.fifoAA.tmp"
	"$NET_D/.host-gateway.$ns-$dead2.linkAA.tmp")
# Another PID namespace's, unchanged for two hours.
foreign=(".host-gateway.$((ns + 2))-$dead.oLdNsA.tmp")
for d in "$NET_D" "$BIN_D"; do
	printf 'partial' >"$d/${foreign[0]}"
	touch -d '2 hours ago' "$d/${foreign[0]}"
done
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "install with stale temp files"
for d in "$NET_D" "$BIN_D"; do
	[ ! -e "$d/${foreign[0]}" ] || hg_fail "another PID namespace's temp file, two hours old, stayed in $d"
done
[ ! -e "$NET_D/.host-gateway.$ns-$dead.aB3xYz.tmp" ] || hg_fail "the dead writer's temp file stayed in the conf folder"
[ ! -e "$BIN_D/.host-gateway.$ns-$dead.aB3xYz.tmp" ] || hg_fail "the dead writer's temp file stayed in the bin folder"
hg_assert_contains "$(cat "$IT_ERR")" "removed 2 temp files of a killed install in $NET_D"
for f in "${keep[@]}"; do [ -e "$f" ] || [ -L "$f" ] || hg_fail "removed: $f"; done
hg_assert_eq "$(cat "$HG_TMP/kindnet.orig")" "$(it_kindnet 10.244.0.0/24)" "the symlink's target"
# uninstall collects them too.
stale "$NET_D"
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "uninstall"
[ ! -e "$NET_D/.host-gateway.$ns-$dead.aB3xYz.tmp" ] || hg_fail "uninstall left the dead writer's temp file"
for f in "${keep[@]}"; do [ -e "$f" ] || [ -L "$f" ] || hg_fail "uninstall removed: $f"; done
for f in "${keep[@]}"; do rm -rf "$f"; done

# ---- 4. SIGKILL anywhere in install ----
bin_size=$(stat -c %s "$HG_BIN")
left=0
for ((i = 0; i < 100; i++)); do
	# Something to write each time: the binary is missing, the entry too.
	rm -f "$BIN_D/host-gateway"
	it_kindnet 10.244.0.0/24 >"$CONF"
	"$HG_BIN" install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" 2>/dev/null &
	pid=$!
	# 0 to 30 ms: from exec to after the last rename (an install takes about 15 ms).
	sleep "$(printf '0.%06d' $(((i * 7919) % 30000)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	left=$((left + $(find "$NET_D" "$BIN_D" -name '.host-gateway.*' | wc -l)))
	it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
	hg_assert_eq "$IT_RC" 0 "install after kill $i"
	leftovers=$(find "$NET_D" "$BIN_D" -name '.*')
	[ -z "$leftovers" ] || hg_fail "after kill $i and a next install: $leftovers"
	hg_assert_eq "$(stat -c %s "$BIN_D/host-gateway")" "$bin_size" "kill $i: the binary's size"
	it_has_entry "$CONF" || hg_fail "kill $i: not chained"
done
cmp -s "$HG_BIN" "$BIN_D/host-gateway" || hg_fail "the binary differs"
hg_log "100 kills: $left temp files of ours seen right after a kill, none after the next install"
hg_log PASS
