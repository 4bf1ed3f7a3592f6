#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A node without libnftables (kind's node image lacks it): the library set beside the
# binary, in host-gateway.lib/ (what `host-gateway install` puts there from the image),
# makes the nftables modes work. The plugin runs in a private mount namespace where the
# system's libnftables.so.1 is hidden:
#  - without host-gateway.lib/: ADD with virtualIPs fails with code 104 naming the library;
#  - with it (root's, not writable by others): ADD creates the container's table, DEL
#    removes it;
#  - with it writable by others: it is not used (a planted library must not run as root).
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-nft-beside-binary
hg_guard_forwarding on
SYSLIB=$(ldconfig -p | awk '$1 == "libnftables.so.1" && !f { print $NF; f = 1 }')
[ -n "$SYSLIB" ] || hg_skip "libnftables.so.1 is not installed here"
NET=hgt-nftlib
BR=hgt-$$-b
hgn_bridge "$BR" 10.211.60.0/24
LIST=$HG_TMP/list.conflist
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.60.0/24 '{"virtualIPs":["169.254.1.2"]}' >"$LIST"

# The node: the binary in its own folder, the plugin a wrapper that hides the system's
# library in a private mount namespace, then runs it.
node=$HG_TMP/node
mkdir -p "$node"
cp "$HG_BIN" "$node/host-gateway"
cat >"$HG_PLUGIN_DIR/host-gateway.wrap" <<WRAP
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind /dev/null "$SYSLIB" && exec "\$0"' "$node/host-gateway"
WRAP
chmod 755 "$HG_PLUGIN_DIR/host-gateway.wrap"
rm -f "$HG_PLUGIN_DIR/host-gateway"
ln -s host-gateway.wrap "$HG_PLUGIN_DIR/host-gateway"

hgn_container c1
hgn_add_fails c1 "$LIST"
hg_assert_eq "$(hgn_cni_error_code "$HGN_ERR")" 104 "without the library: code"
hg_assert_contains "$HGN_ERR" "libnftables.so.1" "without the library: named"

lib=$node/host-gateway.lib
mkdir -p "$lib"
for l in libnftables.so.1 libmnl.so.0 libnftnl.so.11 libjansson.so.4 libgmp.so.10 libxtables.so.12; do
	cp -L "$(ldconfig -p | awk -v l="$l" '$1 == l && !f { print $NF; f = 1 }')" "$lib/$l"
done
chmod 0777 "$lib"
hgn_container c2
hgn_add_fails c2 "$LIST"
hg_assert_eq "$(hgn_cni_error_code "$HGN_ERR")" 104 "with a library folder writable by others: not used"
chmod 0755 "$lib"

hgn_container c3
hgn_add c3 "$LIST" || hg_fail "ADD with the library beside the binary failed"
[ -n "$(hg_in "${HGN_NSNAME[c3]}" nft list table inet host_gateway 2>/dev/null)" ] ||
	hg_fail "no table in the container after ADD with the library beside the binary"
hgn_del c3 "$LIST" || hg_fail "DEL failed"
[ -z "$(hg_in "${HGN_NSNAME[c3]}" nft list table inet host_gateway 2>/dev/null)" ] ||
	hg_fail "the table stayed after DEL"
hg_log "PASS"
