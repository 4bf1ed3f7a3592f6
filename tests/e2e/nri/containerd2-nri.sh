#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-gateway nri against containerd 2.x (built by scripts/install-runtimes.sh) with NRI at
# its default (on, socket /var/run/nri/nri.sock: DIR/nri-run/nri.sock seen from here, the
# daemon's /run/nri covered in its private mount namespace by cri_containerd_start), driven
# by crictl. NO host-gateway entry in the conflist (kindnet's shape: ptp + host-local +
# portmap), no base spec, no hook: NRI alone. The conversation as the plugin logs it (what
# it does with it: containerd2-nri-attach.sh).
#   1. the plugin connects: registers, is configured by containerd, Synchronize (no pod)
#   2. crictl runp with a host-gateway.io/extra-hosts annotation: RunPodSandbox logged with
#      the pod's id, its network namespace (the path containerd gives runc) and the
#      annotation; a container with kubelet's etc-hosts mount: CreateContainer logged with
#      it; the container runs
#   3. kill -9 the plugin: a second pod and its container still start (fail open)
#   4. the plugin again: it reconnects, Synchronize lists both pods and their containers
# At the end: pods gone, the plugin stopped by SIGTERM (exit 0), the machine's /run/nri,
# /opt/nri, /etc/nri untouched.
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=../cri/cri-lib.sh
. "$(dirname "$0")/../cri/cri-lib.sh"
cri_prebuild containerd crictl cni-plugins
hg_init e2e-containerd2-nri
hg_require_bin
hg_require_cmd runc unshare umoci jq
"$CRI_PY" -c 'import tomllib' 2>/dev/null || hg_skip "$CRI_PY lacks tomllib"
cri_containerd2
crictl_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins)"
T_START=$(e2e_now_ms)

SUBNET=10.215.24.0/24
hg_subnet_free "$SUBNET"
# ptp switches ip_forward on: the guard restores it and drops forwarding off the machine.
hg_guard_forwarding on
machine_paths() { ec_machine_paths /run/nri /opt/nri /etc/nri; }
machine_paths >"$HG_TMP/machine.before"

D=$HG_TMP/ctrd-$$
mkdir -p "$D"/{net.d,opt-cni-bin,ipam}
cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" '[]' >"$D/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
# The plugin now attaches what it sees: it runs in the daemon's mount namespace (the pods'
# netns mounts are there) and its stateDir, /run/host-gateway, is the daemon's private one.
CRI_OWN_RUN=1 cri_containerd_start "$D" "$(cri_minimal_config_v3 "$D")"
NRI_SOCK=$D/nri-run/nri.sock
e2e_wait_for 10 test -S "$NRI_SOCK" || hg_fail "containerd $HG_CONTAINERD_VERSION made no NRI socket (NRI off?)"

PLOG=$HG_TMP/nri.log
PLUGIN_PID=
plugin_start() {
	nsenter -t "$CRI_PID" -m -- "$HG_BIN" nri --socket "$NRI_SOCK" --config "$HG_TMP/none.json" >>"$PLOG" 2>&1 &
	PLUGIN_PID=$!
	hg_defer kill -9 "$PLUGIN_PID"
}
# wait_log N TEXT: the plugin's log has at least N lines containing TEXT, within 10 s.
wait_log() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	e2e_wait_for 10 bash -c '[ "$(grep -cF -- "$2" "$1")" -ge "$3" ]' _ "$PLOG" "$2" "$1" ||
		hg_fail "no line \"$2\" (x$1) in the plugin's log:"$'\n'"$(tail -n 30 "$PLOG")"
}
fail_log() { echo "$1; containerd: $(tail -n 15 "$D/containerd.log"); plugin: $(tail -n 15 "$PLOG")"; }

# ---- 1. connect, register, configure, synchronize -----------------------------------
plugin_start
wait_log 1 "registered as 50-host-gateway"
wait_log 1 "configured by containerd"
wait_log 1 "synchronize: 0 pods, 0 containers"
hg_log "$(grep -F 'configured by' "$PLOG")"

cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1

netns_of() { cc inspectp -o json "$1" | jq -r '.info.runtimeSpec.linux.namespaces[] | select(.type == "network") | .path'; }

# ---- 2. a pod and a container, seen by the plugin -----------------------------------
UID1=0f1e2d3c-0000-4000-8000-00000000d101
pod1=$(cc_pod_config web "$UID1" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}' "/$CRI_CGROUP/pod$UID1")
t0=$(e2e_now_ms)
sb1=$(cc_runp "$pod1") || hg_fail "$(fail_log "crictl runp failed")"
cri_pod_created "$sb1"
hg_log "runp with the plugin: $(($(e2e_now_ms) - t0)) ms"
ns1=$(netns_of "$sb1")
[[ $ns1 == /* ]] || hg_fail "no network namespace path for $sb1 in its runtime spec: $ns1"
wait_log 1 "pod start: id=$sb1 "
line=$(grep -F "pod start: id=$sb1 " "$PLOG")
hg_log "$line"
hg_assert_contains "$line" "name=default/web uid=$UID1 netns=$ns1 " "RunPodSandbox: the pod's id, name, uid and netns path"
hg_assert_contains "$line" "host-gateway.io/extra-hosts=db.local:host-gateway" "RunPodSandbox: the pod's annotation"
hg_assert_contains "$line" "ips=10.215.24." "RunPodSandbox: the pod's IP (CNI ran before NRI)"
HOSTS1=$HG_TMP/pods/$UID1/etc-hosts
cri_kubelet_hosts "$HOSTS1" "$(cc_pod_ip "$sb1")" web
c1=$(cc_run_container "$sb1" "$(cc_ctr_config app1 localhost/hgt/busybox:1 "$HOSTS1" '{}')" "$pod1") ||
	hg_fail "$(fail_log "app1 did not start")"
wait_log 1 "container create: id=$c1 pod=$sb1 name=app1 etc-hosts=$HOSTS1"
hg_assert_eq "$(cc inspect -o json "$c1" | jq -r .status.state)" CONTAINER_RUNNING "app1 runs with the plugin connected"

# ---- 3. the plugin killed: pods still start ------------------------------------------
kill -9 "$PLUGIN_PID"
wait "$PLUGIN_PID" 2>/dev/null || :
UID2=0f1e2d3c-0000-4000-8000-00000000d102
pod2=$(cc_pod_config api "$UID2" '{}' "/$CRI_CGROUP/pod$UID2")
t0=$(e2e_now_ms)
sb2=$(cc_runp "$pod2") || hg_fail "$(fail_log "crictl runp failed with the plugin gone (not fail open)")"
cri_pod_created "$sb2"
hg_log "runp without the plugin: $(($(e2e_now_ms) - t0)) ms"
HOSTS2=$HG_TMP/pods/$UID2/etc-hosts
cri_kubelet_hosts "$HOSTS2" "$(cc_pod_ip "$sb2")" api
c2=$(cc_run_container "$sb2" "$(cc_ctr_config app2 localhost/hgt/busybox:1 "$HOSTS2" '{}')" "$pod2") ||
	hg_fail "$(fail_log "app2 did not start with the plugin gone")"
hg_assert_eq "$(cc inspect -o json "$c2" | jq -r .status.state)" CONTAINER_RUNNING "app2 runs with the plugin gone"
grep -qF "id=$sb2" "$PLOG" && hg_fail "the killed plugin saw the second pod"

# ---- 4. the plugin again: Synchronize lists what exists ------------------------------
plugin_start
wait_log 2 "registered as 50-host-gateway"
wait_log 1 "synchronize: 2 pods, 2 containers"
wait_log 1 "synchronize: pod id=$sb1 name=default/web uid=$UID1 netns=$ns1 "
wait_log 1 "synchronize: pod id=$sb2 name=default/api"
wait_log 1 "synchronize: container id=$c2 pod=$sb2 name=app2"
# Events reach the new connection: the second pod's stop.
cc_stop_rm "$c2"
cc_stopp_rmp "$sb2"
wait_log 1 "pod stop: id=$sb2 "
wait_log 1 "pod removal: id=$sb2 "

# ---- the end -------------------------------------------------------------------------
cc_stop_rm "$c1"
cc_stopp_rmp "$sb1"
kill -TERM "$PLUGIN_PID"
rc=0
wait "$PLUGIN_PID" || rc=$?
hg_assert_eq "$rc" 0 "the plugin exits 0 on SIGTERM"
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's NRI paths changed"
hg_log "plugin log:"$'\n'"$(cut -c1-300 "$PLOG")"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
