#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-gateway nri against CRI-O (scripts/install-runtimes.sh) with NRI at its default (on;
# its socket DIR/nri/nri.sock is the daemon's /run/nri/nri.sock), a kindnet-shaped
# conflist WITHOUT host-gateway and NO hooks.d file, driven by crictl. The plugin runs in
# CRI-O's mount namespace (the pods' netns pins and /run/host-gateway are there), as a
# DaemonSet sees a node.
#   1. pod web (host-gateway.io/extra-hosts db.local), a container with kubelet's etc-hosts:
#      the pod's record at RunPodSandbox, the names in the file; inside, host.docker.internal
#      and db.local resolve and reach a listener on the host side of the pod network
#   2. pod off (host-gateway.io/enabled "false"): no record, no block
#   3. kill -9 the plugin: pod late and its container start without names (fail open); the
#      plugin again: Synchronize attaches late and names its container, web's block is not
#      doubled
#   4. CRI-O restarted with the pods running: the plugin reconnects (backoff) and
#      synchronises; a new container of web gets the names, once
# At the end: every pod removed, no record, registry or block left, the host as before.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=crio-lib.sh
. "$(dirname "$0")/crio-lib.sh"
cri_prebuild cri-o crictl cni-plugins
hg_init e2e-crio-nri
hg_require_bin
crio_need
hg_require_cmd socat ss
T_START=$(e2e_now_ms)

SUBNET=10.217.3.0/24
GW=10.217.3.1
PORT=28753
hg_subnet_free "$SUBNET"
ec_port_free "$PORT"
machine_paths() { ec_machine_paths /etc/containers /etc/crio /etc/nri /opt /run/crio /run/nri /run/host-gateway /var/lib/crio; }
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

D=$HG_TMP/crio-$$
crio_prepare "$D"
for p in ptp host-local portmap loopback; do ln -s "$HG_CNI_PLUGINS_BIN/$p" "$D/cni-bin/"; done
cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" '[]' >"$D/net.d/10-kindnet.conflist"
crio_import_image localhost/hgt/busybox:1 sleep 2147483647
crio_start
e2e_wait_for 10 test -S "$D/nri/nri.sock" || hg_fail "CRI-O $HG_CRIO_VERSION made no NRI socket (NRI off?)"
STATE=$D/run-host-gateway

PLOG=$HG_TMP/nri.log
echo '{}' >"$HG_TMP/hg.json"
PLUGIN_PID=
plugin_start() {
	# nsenter itself, not crio_ns: $! must be the plugin, not a subshell around it.
	nsenter --mount="/proc/$CRIO_NS_PID/ns/mnt" -- "$HG_BIN" nri --socket "$D/nri/nri.sock" --config "$HG_TMP/hg.json" >>"$PLOG" 2>&1 &
	PLUGIN_PID=$!
	hg_defer kill -9 "$PLUGIN_PID"
}
wait_log() { # N TEXT
	# shellcheck disable=SC2016 # expanded by the inner bash
	e2e_wait_for 10 bash -c '[ "$(grep -cF -- "$2" "$1")" -ge "$3" ]' _ "$PLOG" "$2" "$1" ||
		hg_fail "no line \"$2\" (x$1) in the plugin's log:"$'\n'"$(tail -n 30 "$PLOG")"
}
fail_log() { echo "$1; CRI-O: $(tail -n 15 "$D/crio.log"); plugin: $(tail -n 15 "$PLOG")"; }
reach() { echo "r=\$(echo hi | nc -w3 $1 $PORT); echo \"$1=\$? \$r\""; }
resolve() { echo "echo \"$1 -> \$($(e2e_resolve_snippet "$1"))\""; }
record() { echo "$STATE/nri/$1.json"; }
names() { hg_block "$1" | sort | paste -sd';'; }
CTR_NS='{"linux": {"security_context": {"namespace_options": {"network": 0, "pid": 1, "ipc": 0}}}}'
# pod NAME UID ANNOTATIONS; ctr SANDBOX UID NAME (kubelet's etc-hosts written first)
pod() {
	local f sb
	f=$(cc_pod_config "$1" "$2" "$3" "/$CRIO_CGROUP/pod$2")
	sb=$(cc_runp "$f") || { fail_log "crictl runp $1 failed" >&2; return 1; }
	echo "$sb"
}
ctr() {
	local hosts=$HG_TMP/pods/$2/etc-hosts name
	name=$(cc inspectp -o json "$1" | jq -r '.status.metadata.name')
	cri_kubelet_hosts "$hosts" "$(cc_pod_ip "$1")" "$3"
	mkdir -p "$HG_TMP/pods/$2/logs/$3"
	cc_run_container "$1" "$(cc_ctr_config "$3" localhost/hgt/busybox:1 "$hosts" '{}' "$CTR_NS")" \
		"$HG_TMP/crictl/pod-$name-$2.json" || { fail_log "container $3 did not start" >&2; return 1; }
}
hosts_of() { echo "$HG_TMP/pods/$1/etc-hosts"; }

# ---- 1. web -----------------------------------------------------------------------------
plugin_start
wait_log 1 "synchronized 0 pods, 0 containers"
hg_log "$(grep -F 'configured by' "$PLOG")"
U1=0f1e2d3c-0000-4000-8000-00000000f101
sb1=$(pod web "$U1" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}') || hg_fail "runp web"
hg_listener - "$GW" "$PORT" "hello-from-host"
[ -s "$(record "$sb1")" ] || hg_fail "no NRI record for web: $(tail -n 20 "$PLOG")"
c1=$(ctr "$sb1" "$U1" app1) || hg_fail "app1"
H1=$(hosts_of "$U1")
hg_log "etc-hosts of web:"$'\n'"$(cat "$H1")"
hg_assert_eq "$(names "$H1")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app1's names"
out=$(cc_exec "$c1" "$(resolve host.docker.internal); $(resolve db.local); $(reach host.docker.internal); $(reach db.local)") ||
	hg_fail "crictl exec in app1 failed: $out"
hg_log "app1 exec:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal -> $GW" "app1 resolves host.docker.internal"
hg_assert_contains "$out" "db.local -> $GW" "app1 resolves db.local"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 reaches the host by host.docker.internal"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app1 reaches the host by db.local"

# ---- 2. off -----------------------------------------------------------------------------
U2=0f1e2d3c-0000-4000-8000-00000000f102
sb2=$(pod off "$U2" '{"host-gateway.io/enabled": "false"}') || hg_fail "runp off"
c2=$(ctr "$sb2" "$U2" app2) || hg_fail "app2"
[ ! -e "$(record "$sb2")" ] || hg_fail "a record for the disabled pod"
hg_assert_eq "$(hg_nblocks "$(hosts_of "$U2")")" 0 "no block for the disabled pod"

# ---- 3. kill -9, fail open, Synchronize -------------------------------------------------
kill -9 "$PLUGIN_PID"
wait "$PLUGIN_PID" 2>/dev/null || :
U4=0f1e2d3c-0000-4000-8000-00000000f104
sb4=$(pod late "$U4" '{}') || hg_fail "$(fail_log "runp late failed with the plugin gone (not fail open)")"
c4=$(ctr "$sb4" "$U4" app4) || hg_fail "app4 did not start with the plugin gone"
H4=$(hosts_of "$U4")
hg_assert_eq "$(hg_nblocks "$H4")" 0 "late's container started without names (plugin down)"
plugin_start
wait_log 2 "synchronized "
hg_log "$(grep -F 'synchronized ' "$PLOG" | tail -n 1)"
[ -s "$(record "$sb4")" ] || hg_fail "late has no record after Synchronize"
hg_assert_eq "$(hg_nblocks "$H4")" 1 "late's container named by Synchronize"
out=$(cc_exec "$c4" "$(reach host.docker.internal)")
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "late's container reaches the host after Synchronize"
hg_assert_eq "$(names "$H1")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "web's names once each"

# ---- 4. CRI-O restarted with the pods running: the plugin reconnects, synchronises -----
crio_stop_daemon
crio_start
# shellcheck disable=SC2016 # expanded by the inner bash
e2e_wait_for 30 bash -c '[ "$(grep -c "synchronized " "$1")" -ge 3 ]' _ "$PLOG" ||
	hg_fail "the plugin did not reconnect after CRI-O's restart: $(tail -n 10 "$PLOG")"
hg_log "$(grep -F 'synchronized ' "$PLOG" | tail -n 1)"
cri_kubelet_hosts "$H1" "$(cc_pod_ip "$sb1")" web
c5=$(ctr "$sb1" "$U1" app5) || hg_fail "app5 after the restart"
hg_assert_eq "$(hg_nblocks "$H1")" 1 "one block in web's etc-hosts after the restart"
hg_assert_eq "$(names "$H1")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "web's names once each after the restart"
out=$(cc_exec "$c5" "$(reach db.local)")
hg_assert_contains "$out" "db.local=0 hello-from-host" "a container created after CRI-O's restart reaches the host"

# ---- the end ----------------------------------------------------------------------------
for c in "$c1" "$c5" "$c2" "$c4"; do cc_stop_rm "$c"; done
for h in "$H1" "$H4"; do hg_assert_eq "$(hg_nblocks "$h")" 0 "no block in $h once its container is gone"; done
for sb in "$sb1" "$sb2" "$sb4"; do cc_stopp_rmp "$sb"; done
left=$(find "$STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "left in the stateDir: $left"
kill -TERM "$PLUGIN_PID"
rc=0
wait "$PLUGIN_PID" || rc=$?
hg_assert_eq "$rc" 0 "the plugin exits 0 on SIGTERM"
crio_stop || hg_fail "CRI-O cleanup left cgroups or mounts"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "plugin log:"$'\n'"$(cut -c1-220 "$PLOG" | tail -n 40)"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
