#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install / uninstall without --watch, through the real binary, on node-like trees:
#   1. kind's kindnet conflist: --check before (1) and after (0), the binary copied (0755,
#      same bytes), one entry appended, everything else JSON-equal with its key order,
#      install twice = the same bytes, the mode of the file kept
#   2. a bridge .conf becomes .conflist (the .conf gone), several files: the first by name
#      is chained, the others untouched; --plugin-config replaces our entry, never twice
#   3. refused, the files untouched, exit 1 naming the file: an invalid first file, a
#      cniVersion below 0.3.0, a list whose only plugin is ours; a --plugin-config the
#      plugin's parser refuses; exit 2 on usage errors
#   4. nftables keys without libnftables.so.1 (hidden in a private mount namespace): refused
#      naming the keys and the library; hostAlias needs no library
#   5. uninstall: exactly our entry removed; the binary kept while a record exists in the
#      entry's stateDir (or --plugin-config's), removed with --force or once none is left;
#      never a file a Debian package lists (dpkg's info folder faked in a mount namespace)
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-files
hg_require_bin
hg_require_cmd jq unshare mount

ENTRY='{"type":"host-gateway","capabilities":{"io.kubernetes.cri.pod-annotations":true}}'

# ---- 1. kindnet ----
it_tree
it_kindnet 10.244.0.0/24 >"$NET_D/10-kindnet.conflist"
chmod 0640 "$NET_D/10-kindnet.conflist"
cp "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig"
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "--check before install"
hg_assert_eq "$(wc -l <"$IT_ERR")" 1 "--check says why in one line"
hg_assert_contains "$(cat "$IT_ERR")" "not ready"

it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "install"
hg_assert_contains "$(cat "$IT_ERR")" "host-gateway: installed $BIN_D/host-gateway"
hg_assert_contains "$(cat "$IT_ERR")" "chained into $NET_D/10-kindnet.conflist"
cmp -s "$HG_BIN" "$BIN_D/host-gateway" || hg_fail "the installed binary differs from $HG_BIN"
hg_assert_eq "$(stat -c %a "$BIN_D/host-gateway")" 755 "mode of the installed binary"
[ ! -L "$BIN_D/host-gateway" ] || hg_fail "the installed binary is a symlink"
it_has_entry "$NET_D/10-kindnet.conflist" || hg_fail "no entry: $(cat "$NET_D/10-kindnet.conflist")"
hg_assert_eq "$(jq -c '.plugins[-1]' "$NET_D/10-kindnet.conflist")" "$ENTRY" "the entry, last"
hg_assert_eq "$(jq -r '[.plugins[].type] | join(" ")' "$NET_D/10-kindnet.conflist")" "ptp portmap host-gateway"
hg_assert_eq "$(it_without_ours "$NET_D/10-kindnet.conflist")" "$(jq -S . "$HG_TMP/kindnet.orig")" \
	"everything but the entry JSON-equal"
hg_assert_eq "$(jq -c '[keys_unsorted, (.plugins[0] | keys_unsorted), (.plugins[0].ipam | keys_unsorted)]' \
	"$NET_D/10-kindnet.conflist")" \
	"$(jq -c '[keys_unsorted, (.plugins[0] | keys_unsorted), (.plugins[0].ipam | keys_unsorted)]' "$HG_TMP/kindnet.orig")" \
	"key order kept"
hg_assert_eq "$(stat -c %a "$NET_D/10-kindnet.conflist")" 640 "mode of the conflist kept"
hg_assert_eq "$(find "$NET_D" "$BIN_D" -name '.*' | wc -l)" 0 "no temp files left"

cp "$NET_D/10-kindnet.conflist" "$HG_TMP/once"
ino=$(stat -c %i "$NET_D/10-kindnet.conflist")
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "install again"
cmp "$HG_TMP/once" "$NET_D/10-kindnet.conflist" || hg_fail "install twice gave other bytes"
hg_assert_eq "$(stat -c %i "$NET_D/10-kindnet.conflist")" "$ino" "install twice did not rewrite the file"
hg_assert_contains "$(cat "$IT_ERR")" "already has the entry"
# A conflist with our entry, written by anyone: the same bytes as ours once chained again.
jq . "$HG_TMP/once" >"$NET_D/10-kindnet.conflist.x" && mv "$NET_D/10-kindnet.conflist.x" "$NET_D/10-kindnet.conflist"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$(jq -c . "$NET_D/10-kindnet.conflist")" "$(jq -c . "$HG_TMP/once")" "reformatted file, same JSON"

"$BIN_D/host-gateway" install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" 2>"$HG_TMP/check.err" ||
	hg_fail "--check after install: $(cat "$HG_TMP/check.err")"
hg_assert_eq "$(wc -l <"$HG_TMP/check.err")" 1 "--check: one line"
# Another configuration of ours: --check says so; install replaces the entry in its place.
it_hg install --check --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config '{"type":"host-gateway","names":["h.local"]}'
hg_assert_eq "$IT_RC" 1 "--check with another plugin config"
hg_assert_contains "$(cat "$IT_ERR")" "differs"

# ---- 2. a bridge .conf; several files ----
it_tree
printf '{\n  "cniVersion": "0.4.0",\n  "name": "br",\n  "type": "bridge",\n  "bridge": "cni0",\n  "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}\n}\n' >"$NET_D/10-bridge.conf"
cp "$NET_D/10-bridge.conf" "$HG_TMP/bridge.orig"
printf '{"cniVersion": "0.4.0", "name": "lo", "type": "loopback"}\n' >"$NET_D/99-loopback.conf"
cp "$NET_D/99-loopback.conf" "$HG_TMP/lo.orig"
it_kindnet 10.244.1.0/24 >"$NET_D/20-kindnet.conflist"
cp "$NET_D/20-kindnet.conflist" "$HG_TMP/k20.orig"
echo 'not json' >"$NET_D/10-bridge.conf.bak"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config '{"type":"host-gateway","names":["a.local"]}'
hg_assert_eq "$IT_RC" 0 "install into a .conf"
[ ! -e "$NET_D/10-bridge.conf" ] || hg_fail "the .conf is still there"
hg_assert_contains "$(cat "$IT_ERR")" "chained into $NET_D/10-bridge.conflist (converted from 10-bridge.conf)"
hg_assert_eq "$(jq -c '{cniVersion, name, types: [.plugins[].type]}' "$NET_D/10-bridge.conflist")" \
	'{"cniVersion":"0.4.0","name":"br","types":["bridge","host-gateway"]}' "converted list"
hg_assert_eq "$(jq -S '.plugins[0]' "$NET_D/10-bridge.conflist")" "$(jq -S . "$HG_TMP/bridge.orig")" \
	"the .conf is the list's first plugin, unchanged"
cmp -s "$NET_D/99-loopback.conf" "$HG_TMP/lo.orig" || hg_fail "99-loopback.conf changed"
cmp -s "$NET_D/20-kindnet.conflist" "$HG_TMP/k20.orig" || hg_fail "20-kindnet.conflist changed"
# --plugin-config replaces our entry (file form), never a second one.
echo '{"type":"host-gateway","names":["b.local"]}' >"$HG_TMP/entry.json"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "@$HG_TMP/entry.json"
hg_assert_eq "$IT_RC" 0 "install with @FILE"
hg_assert_eq "$(jq -c '[.plugins[] | select(.type == "host-gateway")]' "$NET_D/10-bridge.conflist")" \
	'[{"type":"host-gateway","names":["b.local"]}]' "the entry replaced"
# Uninstall of a converted .conf: a .conflist with the main plugin only (libcni's own view of
# the .conf), not turned back.
mkdir -p "$HG_TMP/empty-state"
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "{\"type\":\"host-gateway\",\"stateDir\":\"$HG_TMP/empty-state\"}"
hg_assert_eq "$IT_RC" 0 "uninstall after a conversion"
hg_assert_eq "$(jq -S . "$NET_D/10-bridge.conflist")" \
	"$(jq -S '{cniVersion, name, plugins: [.]}' "$HG_TMP/bridge.orig")" "the main plugin alone in the list"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "binary left without records"

# ---- 3. refusals ----
it_tree
printf '{"cniVersion": "0.3.1", "name": "broken", "plugins": [' >"$NET_D/05-broken.conflist"
it_kindnet 10.244.0.0/24 >"$NET_D/10-kindnet.conflist"
cp "$NET_D/05-broken.conflist" "$HG_TMP/broken.orig"
cp "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install with an invalid first file"
hg_assert_contains "$(cat "$IT_ERR")" "$NET_D/05-broken.conflist is not valid JSON"
cmp -s "$NET_D/05-broken.conflist" "$HG_TMP/broken.orig" || hg_fail "the invalid file was touched"
cmp -s "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig" || hg_fail "the second file was touched"

printf '{"cniVersion": "0.2.0", "name": "old", "type": "bridge"}\n' >"$NET_D/05-broken.conflist"
mv "$NET_D/05-broken.conflist" "$NET_D/05-old.conf"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install with cniVersion 0.2.0"
hg_assert_contains "$(cat "$IT_ERR")" "05-old.conf has cniVersion 0.2.0"
[ -e "$NET_D/05-old.conf" ] && [ ! -e "$NET_D/05-old.conflist" ] || hg_fail "the 0.2.0 file was converted"
rm "$NET_D/05-old.conf"

printf '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "host-gateway"}]}\n' >"$NET_D/05-ours.conflist"
cp "$NET_D/05-ours.conflist" "$HG_TMP/ours.orig"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 1 "install into a list of ours only"
hg_assert_contains "$(cat "$IT_ERR")" "nothing to chain after"
cmp -s "$NET_D/05-ours.conflist" "$HG_TMP/ours.orig" || hg_fail "the list of ours only was touched"
rm "$NET_D/05-ours.conflist"

# Everything that can refuse is asked before anything is written: a refused file above left
# no binary (tests/integration/install/hostile.sh), and a refused plugin configuration stops
# before both.
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "a refused install copied the binary"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config '{"type":"host-gateway","localhostPorts":["99999"]}'
hg_assert_eq "$IT_RC" 1 "a plugin config the plugin refuses"
hg_assert_contains "$(cat "$IT_ERR")" "localhostPorts"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config '{"type":"bridge"}'
hg_assert_eq "$IT_RC" 1 "a plugin config of another type"
cmp -s "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig" || hg_fail "refused configs touched the file"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "a refused install copied the binary"
it_hg install --bogus
hg_assert_eq "$IT_RC" 2 "unknown option"
it_hg install --watch --check
hg_assert_eq "$IT_RC" 2 "--watch with --check"
it_hg uninstall --cni-conf-dir
hg_assert_eq "$IT_RC" 2 "option without its value"

# ---- 4. nftables keys on a node without libnftables.so.1 ----
lib=$(ldconfig -p | awk '$1 == "libnftables.so.1" && !f { print $NF; f = 1 }')
[ -n "$lib" ] || hg_fail "libnftables.so.1 not in the loader cache (needed to hide it)"
# In a private mount namespace the library is /dev/null: dlopen fails as on a node without it.
nolib() {
	unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" "$@"
}
IT_ERR=$HG_TMP/nolib.err
rc=0
nolib "$HG_BIN" install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" \
	--plugin-config '{"type":"host-gateway","virtualIPs":["169.254.1.2"],"localhostPorts":["5432"]}' 2>"$IT_ERR" || rc=$?
cat "$IT_ERR" >&2
hg_assert_eq "$rc" 1 "nft keys without libnftables"
hg_assert_contains "$(cat "$IT_ERR")" "virtualIPs (without hostAlias), localhostPorts"
hg_assert_contains "$(cat "$IT_ERR")" "libnftables.so.1"
cmp -s "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig" || hg_fail "the nft refusal touched the file"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "the nft refusal copied the binary"
nolib "$HG_BIN" install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" \
	--plugin-config '{"type":"host-gateway","virtualIPs":["169.254.1.2"],"hostAlias":true}' 2>"$IT_ERR" ||
	hg_fail "hostAlias needs no libnftables: $(cat "$IT_ERR")"

# ---- 5. uninstall and the binary ----
STATE=$HG_TMP/state5
it_tree
it_kindnet 10.244.0.0/24 >"$NET_D/10-kindnet.conflist"
cp "$NET_D/10-kindnet.conflist" "$HG_TMP/kindnet.orig"
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "{\"type\":\"host-gateway\",\"stateDir\":\"$STATE\"}"
hg_assert_eq "$IT_RC" 0 "install with a stateDir"
mkdir -p "$STATE/cni/kindnet"
echo '{}' >"$STATE/cni/kindnet/0123abcd+eth0.json"
# Without --plugin-config: the records are looked for in the removed entry's stateDir.
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
hg_assert_eq "$IT_RC" 0 "uninstall with a record left"
hg_assert_contains "$(cat "$IT_ERR")" "removed the host-gateway entry from $NET_D/10-kindnet.conflist"
hg_assert_contains "$(cat "$IT_ERR")" "kept $BIN_D/host-gateway: 1 attachment record under $STATE/cni"
[ -x "$BIN_D/host-gateway" ] || hg_fail "the binary was removed while a record exists"
hg_assert_eq "$(jq -S . "$NET_D/10-kindnet.conflist")" "$(jq -S . "$HG_TMP/kindnet.orig")" "uninstall: JSON as before"
# Again, the entry gone and no state dir named: the records of the stateDir the entry
# named are still found (noted beside the binary).
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
[ -x "$BIN_D/host-gateway" ] || hg_fail "a second uninstall removed the binary while a record exists in the entry's stateDir"
# Again, with the state dir named: still kept; the record gone: removed.
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "{\"stateDir\":\"$STATE\"}"
hg_assert_contains "$(cat "$IT_ERR")" "no host-gateway entry in"
[ -x "$BIN_D/host-gateway" ] || hg_fail "the binary was removed while a record exists (2)"
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "{\"stateDir\":\"$STATE\"}" --force
hg_assert_eq "$IT_RC" 0 "uninstall --force"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "--force left the binary"
[ -e "$STATE/cni/kindnet/0123abcd+eth0.json" ] || hg_fail "uninstall removed a record"

# A binary a Debian package lists (dpkg's info folder replaced in a private mount namespace).
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D"
mkdir -p "$HG_TMP/dpkg-info"
printf '/.\n%s\n%s/host-gateway\n' "$BIN_D" "$BIN_D" >"$HG_TMP/dpkg-info/host-gateway.list"
[ -d /var/lib/dpkg/info ] || hg_skip "no /var/lib/dpkg/info to cover"
IT_ERR=$HG_TMP/dpkg.err
rc=0
unshare -m --propagation private sh -c 'mount --bind "$1" /var/lib/dpkg/info && shift && exec "$@"' sh \
	"$HG_TMP/dpkg-info" "$HG_BIN" uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" \
	--plugin-config "{\"stateDir\":\"$HG_TMP/empty-state\"}" --force 2>"$IT_ERR" || rc=$?
cat "$IT_ERR" >&2
hg_assert_eq "$rc" 1 "uninstall --force of a packaged file"
hg_assert_contains "$(cat "$IT_ERR")" "belongs to the Debian package host-gateway"
[ -x "$BIN_D/host-gateway" ] || hg_fail "a packaged binary was removed"
it_has_entry "$NET_D/10-kindnet.conflist" && hg_fail "the entry stayed"
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$BIN_D" --plugin-config "{\"stateDir\":\"$HG_TMP/empty-state\"}"
hg_assert_eq "$IT_RC" 0 "uninstall, no records"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "binary left"
hg_log PASS
