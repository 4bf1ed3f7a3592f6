#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install against a podman CNI configuration folder (podman 4.3, CNI backend, in the private
# mount namespace of tests/e2e/podman-lib.sh), then a container shows that the chained plugin
# ran, not only that a file changed:
#   1. a bridge + host-local conflist without host-gateway; `install --cni-conf-dir
#      <podman's net.d> --cni-bin-dir <podman's plugin dir> --plugin-config
#      {virtualIPs: [169.254.1.2], ...}` copies the binary there and chains the entry
#   2. in a container on that network, 169.254.1.2:PORT reaches a listener on the host
#      (the bridge gateway): only host-gateway's DNAT makes that address answer
#   3. uninstall: the entry goes, and with it the virtual IP (a new container cannot reach
#      it); no record is left, so the binary goes too
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../e2e/cni/e2e-cni-lib.sh"
# shellcheck source=../../e2e/podman-lib.sh
. "$(dirname "$0")/../../e2e/podman-lib.sh"
. "$(dirname "$0")/install-lib.sh"
hg_init install-podman
hg_require_bin
hg_require_cmd podman conmon crun jq socat ss nsenter

NET=hgt-inst-pod
BR=hgt-$$-ib
SUBNET=10.214.7.0/24
GW=10.214.7.1
PORT=28741
hg_subnet_free "$SUBNET"
ec_port_free "$PORT"
ec_machine_paths >"$HG_TMP/machine.before"
hg_guard_forwarding on
hg_snapshot_host

# The network as podman would have it, without host-gateway.
hg_bridge_list "$NET" 1.0.0 "$BR" "$SUBNET" | jq 'del(.plugins[] | select(.type == "host-gateway"))' \
	>"$HG_TMP/net.conflist"
PLUGDIR=$HG_TMP/opt/cni/bin
mkdir -p "$PLUGDIR"
e2e_podman_setup "$HG_TMP/podman" "$HG_TMP/net.conflist" "$PLUGDIR"
NET_D=$E2E_PODMAN_DIR/net.d
e2e_cni_defer_bridge_cleanup "$HG_TMP/net.conflist"

# ---- 1. install ----
ENTRY=$(jq -nc --arg s "$HG_STATE" --arg l "$HG_TMP/plugin.log" \
	'{type: "host-gateway", virtualIPs: ["169.254.1.2"], stateDir: $s, logFile: $l}')
it_hg install --cni-conf-dir "$NET_D" --cni-bin-dir "$PLUGDIR" --plugin-config "$ENTRY"
hg_assert_eq "$IT_RC" 0 "install into podman's folder"
hg_assert_contains "$(cat "$IT_ERR")" "chained into $NET_D/$NET.conflist"
[ -f "$PLUGDIR/host-gateway" ] && [ ! -L "$PLUGDIR/host-gateway" ] || hg_fail "no binary copied to $PLUGDIR"
hg_assert_eq "$(jq -r '[.plugins[].type] | join(" ")' "$NET_D/$NET.conflist")" "bridge host-gateway"

# ---- 2. the virtual IP answers from a container ----
# The bridge exists before the first container, so that the listener can bind the gateway
# address now; the bridge plugin (isGateway) takes it as it is.
ip link add "$BR" type bridge
hg_defer ip link del "$BR"
ip addr add "$GW/24" dev "$BR"
ip link set "$BR" up
hg_listener - "$GW" "$PORT" "vip-on-host"
out=$(e2e_podman_run c1 "$NET" -- sh -c "r=\$(echo hi | nc -w3 169.254.1.2 $PORT); echo \"vip=\$? \$r\"") ||
	hg_fail "podman run failed (plugin log: $(cat "$HG_TMP/plugin.log" 2>/dev/null || :))"
hg_log "c1: $out"
hg_assert_eq "$out" "vip=0 vip-on-host" "169.254.1.2:$PORT from a container of the chained network"
hg_assert_eq "$(hg_records "cni/$NET")" "" "records after podman run --rm"

# ---- 3. uninstall ----
it_hg uninstall --cni-conf-dir "$NET_D" --cni-bin-dir "$PLUGDIR"
hg_assert_eq "$IT_RC" 0 "uninstall"
hg_assert_eq "$(jq -S . "$NET_D/$NET.conflist")" "$(jq -S . "$HG_TMP/net.conflist")" "podman's conflist as before"
[ ! -e "$PLUGDIR/host-gateway" ] || hg_fail "binary left with no records"
out=$(e2e_podman_run c2 "$NET" -- sh -c "r=\$(echo hi | nc -w1 169.254.1.2 $PORT 2>&1); echo \"vip=\$? \$r\"") ||
	hg_fail "podman run after uninstall failed"
hg_log "c2: $out"
case $out in *vip-on-host*) hg_fail "169.254.1.2 still answers after uninstall: $out" ;; esac

e2e_podman_teardown || hg_fail "podman teardown left cgroups or mounts"
e2e_del_link "$BR"
hg_assert_host_unchanged
ec_machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI paths or /etc/hosts changed"
hg_log PASS
