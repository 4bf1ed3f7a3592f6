#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The DaemonSet's image, run as the kubelet would run conf/kubernetes/host-gateway.yaml's
# pod: built offline (scripts/build-image.sh: an OCI layout with umoci), unpacked into a
# runtime bundle, run by runc with the pod's security context (uid 0, no capability, no
# new privileges, read-only root, the host's network) and a node-like tree bind-mounted
# at /host (never the machine's /etc/cni or /opt/cni), the ConfigMap at /config:
#  - the binary and its libnftables set land in the node's bin folder, kindnet's conflist
#    gets the entry (virtualIPs), the readiness check (`install --check`) passes;
#  - kindnetd rewrites its conflist: the entry is back within a second;
#  - SIGTERM during a rolling update (maxSurge: the new pod's container already runs): the
#    old container exits 0 and the entry stays;
#  - the node's copy works without the node's own libnftables: ADD of a container with
#    the installed conflist, the system's library hidden, creates the DNAT table;
#  - SIGTERM of the last container (kubectl delete): it uninstalls, the node's folders are
#    as before (kindnetd's conflist as it wrote it, no binary, no lock file).
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-image
hg_require_bin
hg_require_cmd umoci runc jq unshare
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
it_tree
it_kindnetd_write 10.244.0.0/24

layout=$HG_TMP/image
"$SRC/scripts/build-image.sh" "$HG_BIN" "$layout" test >"$HG_TMP/build.log" 2>&1 ||
	hg_fail "build-image.sh failed: $(cat "$HG_TMP/build.log")"
bundle=$HG_TMP/bundle
umoci unpack --image "$layout:test" "$bundle" >/dev/null || hg_fail "umoci unpack failed"
mkdir -p "$HG_TMP/config"
cp "$SRC/conf/kubernetes/plugin.json" "$HG_TMP/config/plugin.json"
# The pod spec of conf/kubernetes/host-gateway.yaml, as a runtime spec.
args=$(sed -n '/- name: install/,/readinessProbe/p' "$SRC/conf/kubernetes/host-gateway.yaml" |
	sed -n 's/^ *args: \[\(.*\)/\1/p; s/^ *\("--cni-bin-dir".*\)\]$/\1/p' | tr -d '\n' | sed 's/^/[/; s/$/]/')
args=$(jq -c '["/usr/local/bin/host-gateway"] + .' <<<"$args") || hg_fail "could not read the DaemonSet's args"
hg_assert_contains "$args" '"--watch"' "the DaemonSet's args"
jq --argjson args "$args" --arg net "$NET_D" --arg bin "$BIN_D" --arg cfg "$HG_TMP/config" '
	.process.args = $args
	| .process.terminal = false
	| .process.user = {uid: 0, gid: 0}
	| .process.noNewPrivileges = true
	| .process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}
	| .root.readonly = true
	| .linux.namespaces |= map(select(.type != "network" and .type != "user"))
	| del(.linux.uidMappings, .linux.gidMappings)
	| .mounts += [
		{destination: "/host/etc/cni/net.d", type: "bind", source: $net, options: ["rbind", "rw"]},
		{destination: "/host/opt/cni/bin", type: "bind", source: $bin, options: ["rbind", "rw"]},
		{destination: "/config", type: "bind", source: $cfg, options: ["rbind", "ro"]}]
	' "$bundle/config.json" >"$bundle/config.new"
mv "$bundle/config.new" "$bundle/config.json"
mkdir -p "$BIN_D"

id=hgt-$$-ds
rt() { runc --root "$HG_TMP/runc" "$@"; }
hg_defer rt delete -f "$id"
rt run --bundle "$bundle" "$id" </dev/null >"$HG_TMP/ds.out" 2>"$HG_TMP/ds.err" &
ds=$!
hg_defer kill -KILL "$ds"
conf=$NET_D/10-kindnet.conflist
ms=$(it_wait_entry "$conf" 10) || hg_fail "the DaemonSet container did not chain $conf: $(cat "$HG_TMP/ds.err")"
hg_log "chained ${ms} ms after the container started"
hg_assert_eq "$(jq -c '.plugins[-1].virtualIPs' "$conf")" '["169.254.1.2"]' "the ConfigMap's entry"
cmp "$BIN_D/host-gateway" "$HG_BIN" || hg_fail "the node's binary is not the image's"
for l in libnftables.so.1 libmnl.so.0 libnftnl.so.11 libjansson.so.4 libgmp.so.10 libxtables.so.12; do
	[ -f "$BIN_D/host-gateway.lib/$l" ] || hg_fail "$l missing beside the node's binary"
done
rt exec "$id" /usr/local/bin/host-gateway install --check --cni-conf-dir /host/etc/cni/net.d \
	--cni-bin-dir /host/opt/cni/bin --plugin-config @/config/plugin.json 2>"$HG_TMP/check.err" ||
	hg_fail "the readiness check failed: $(cat "$HG_TMP/check.err")"

it_kindnetd_write 10.244.0.0/24
ms=$(it_wait_entry "$conf" 3) || hg_fail "the entry did not come back after kindnetd's rewrite"
hg_log "re-chained ${ms} ms after kindnetd's rewrite"

kindnet_conf=$(jq -S 'del(.plugins[] | select(.type == "host-gateway"))' "$conf")
# The new pod of a rolling update, then SIGTERM to the old one.
rt run --bundle "$bundle" "$id-new" </dev/null >"$HG_TMP/ds2.out" 2>"$HG_TMP/ds2.err" &
ds2=$!
hg_defer kill -KILL "$ds2"
watching=0
for _ in $(seq 50); do
	grep -q "watching" "$HG_TMP/ds2.err" && { watching=1; break; }
	sleep 0.1
done
[ "$watching" = 1 ] || hg_fail "the second container does not watch: $(cat "$HG_TMP/ds2.err")"
rt kill "$id" TERM
rc=0
wait "$ds" || rc=$?
hg_assert_eq "$rc" 0 "the container's exit status after SIGTERM ($(cat "$HG_TMP/ds.err"))"
it_has_entry "$conf" || hg_fail "the entry went with the old container of a rolling update"
hg_assert_contains "$(cat "$HG_TMP/ds.err")" "another install --watch of the folder runs: the entry stays" "the old container saw the new one"

# The node's copy, on a node without libnftables: a real ADD with the chained conflist
# (its ptp/host-local/portmap from /usr/lib/cni), the system's library hidden.
syslib=$(ldconfig -p | awk '$1 == "libnftables.so.1" && !f { print $NF; f = 1 }')
[ -n "$syslib" ] || hg_skip "libnftables.so.1 is not installed here (nothing to hide)"
hg_guard_forwarding on
hg_subnet_free 10.244.0.0/24
ns=hgt-$$-pod
hg_netns_add "$ns"
# A folder of its own for the wrapper: never HG_PLUGIN_DIR, whose host-gateway is the
# binary under test.
mkdir -p "$HG_TMP/node-cni-bin"
printf '#!/bin/sh\nexec unshare -m --propagation private sh -c %s "%s"\n' \
	"'mount --bind /dev/null $syslib && exec \"\$0\"'" "$BIN_D/host-gateway" >"$HG_TMP/node-cni-bin/host-gateway"
chmod 755 "$HG_TMP/node-cni-bin/host-gateway"
list=$(jq -c --arg s "$HG_TMP/state" --arg d "$HG_TMP/ipam" '.plugins[-1].stateDir = $s | .plugins[0].ipam.dataDir = $d' "$conf")
HG_CNI_PATH=$HG_TMP/node-cni-bin:/usr/lib/cni
hg_defer hg_chain DEL "$list" hgt-$$-pod "/var/run/netns/$ns" eth0
hg_chain ADD "$list" hgt-$$-pod "/var/run/netns/$ns" eth0 >/dev/null || hg_fail "ADD with the node's copy failed"
[ -n "$(hg_in "$ns" nft list table inet host_gateway 2>/dev/null)" ] || hg_fail "no DNAT table in the pod"
hg_chain DEL "$list" hgt-$$-pod "/var/run/netns/$ns" eth0 || hg_fail "DEL failed"

# kubectl delete: the last container stops and uninstalls.
rt kill "$id-new" TERM
rc=0
wait "$ds2" || rc=$?
hg_assert_eq "$rc" 0 "the last container's exit status after SIGTERM ($(cat "$HG_TMP/ds2.err"))"
hg_assert_eq "$(jq -S . "$conf")" "$kindnet_conf" "kindnetd's conflist without the entry"
[ ! -e "$BIN_D/host-gateway" ] || hg_fail "the node's binary stayed though no attachment needs it: $(cat "$HG_TMP/ds2.err")"
[ ! -e "$NET_D/.host-gateway-watch.lock" ] || hg_fail "the watchers' lock file stayed"
hg_log "PASS"
