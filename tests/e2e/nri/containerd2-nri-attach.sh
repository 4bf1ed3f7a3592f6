#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# host-gateway nri does the job against containerd 2.x (scripts/install-runtimes.sh) with NRI
# at its default, NO host-gateway entry in the conflist (kindnet's shape: ptp + host-local +
# portmap), NO base spec and NO hook configured, driven by crictl. The plugin runs in the
# daemon's mount namespace, as a DaemonSet sees a node: /run/host-gateway (its stateDir and
# the hosts registries), /var/run/nri and the pods' /var/run/netns are the daemon's (private:
# cri_containerd_start with CRI_OWN_RUN=1).
#   1. pod web (host-gateway.io/extra-hosts db.local) and a container with kubelet's
#      etc-hosts mount: the pod's record (kind nri) at RunPodSandbox, the block in the
#      etc-hosts file; inside, host.docker.internal and db.local resolve and reach a listener
#      on the host side of the pod network
#   2. pod off (host-gateway.io/enabled "false"): no record, no block
#   3. kill -9 the plugin; meanwhile pod gone is removed and pod late starts (fail open);
#      the plugin again: Synchronize attaches late and names its container, collects gone
#      (record, registry), web's block is not doubled; a new container of web gets names
#   4. the plugin stopped, late removed: `host-gateway gc` undoes late's record and drops
#      its registry; virtualIPs ["169.254.1.2"] (the plugin started with that config): a
#      pod's container reaches the listener by 169.254.1.2 and by name
#   5. install --nri into the plugin folder of a containerd started after it: containerd
#      launches the plugin (fd 3), a pod gets its names; uninstall --nri removes it
# At the end: pods gone, no record, no by-netns link, no registry, the host as before, the
# machine's /run/nri, /opt/nri, /etc/nri and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=../cri/cri-lib.sh
. "$(dirname "$0")/../cri/cri-lib.sh"
cri_prebuild containerd crictl cni-plugins
hg_init e2e-containerd2-nri-attach
hg_require_bin
hg_require_cmd runc unshare nsenter umoci jq socat ss
"$CRI_PY" -c 'import tomllib' 2>/dev/null || hg_skip "$CRI_PY lacks tomllib"
cri_containerd2
crictl_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins)"
T_START=$(e2e_now_ms)

SUBNET=10.215.25.0/24
GW=10.215.25.1
VIP=169.254.1.2
PORT=28741
hg_subnet_free "$SUBNET"
ec_port_free "$PORT"
machine_paths() { ec_machine_paths /run/nri /opt/nri /etc/nri /run/host-gateway; }
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

D=$HG_TMP/ctrd-$$
mkdir -p "$D"/{net.d,opt-cni-bin,ipam}
cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" '[]' >"$D/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
CRI_OWN_RUN=1 cri_containerd_start "$D" "$(cri_minimal_config_v3 "$D")"
e2e_wait_for 10 test -S "$D/nri-run/nri.sock" || hg_fail "containerd $HG_CONTAINERD_VERSION made no NRI socket (NRI off?)"
STATE=$D/run-host-gateway # the daemon's /run/host-gateway: the plugin's stateDir and registries

PLOG=$HG_TMP/nri.log
CONF=$HG_TMP/hg.json
VCONF=$HG_TMP/hg-vip.json
echo '{}' >"$CONF"
jq -n --arg v "$VIP" '{virtualIPs: [$v]}' >"$VCONF"
PLUGIN_PID=
# plugin_start CONFIG: host-gateway nri in the daemon's mount namespace (a DaemonSet's view).
plugin_start() {
	nsenter -t "$CRI_PID" -m -- "$HG_BIN" nri --config "$1" >>"$PLOG" 2>&1 &
	PLUGIN_PID=$!
	hg_defer kill -9 "$PLUGIN_PID"
}
plugin_term() {
	local rc=0
	kill -TERM "$PLUGIN_PID"
	wait "$PLUGIN_PID" || rc=$?
	hg_assert_eq "$rc" 0 "the plugin exits 0 on SIGTERM"
}
# wait_log N TEXT: the plugin's log has at least N lines containing TEXT, within 10 s.
wait_log() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	e2e_wait_for 10 bash -c '[ "$(grep -cF -- "$2" "$1")" -ge "$3" ]' _ "$PLOG" "$2" "$1" ||
		hg_fail "no line \"$2\" (x$1) in the plugin's log:"$'\n'"$(tail -n 30 "$PLOG")"
}
fail_log() { echo "$1; containerd: $(tail -n 15 "$D/containerd.log"); plugin: $(tail -n 15 "$PLOG")"; }
reach() { # the command a container runs to reach the host listener by NAME
	echo "r=\$(echo hi | nc -w3 $1 $PORT); echo \"$1=\$? \$r\""
}
resolve() { echo "echo \"$1 -> \$($(e2e_resolve_snippet "$1"))\""; }
record() { echo "$STATE/nri/$1.json"; }
# names FILE: the block's lines, sorted, ';'-joined
names() { hg_block "$1" | sort | paste -sd';'; }
registry() { find "$STATE/hosts" -name "$(stat -c %d "$1")-$(stat -c %i "$1").json" 2>/dev/null || :; }
# pod NAME UID ANNOTATIONS: runp, remembered for the cleanup; prints the sandbox id
pod() {
	local f sb
	f=$(cc_pod_config "$1" "$2" "$3" "/$CRI_CGROUP/pod$2")
	sb=$(cc_runp "$f") || { fail_log "crictl runp $1 failed" >&2; return 1; }
	cri_pod_created "$sb"
	echo "$sb"
}
# ctr SANDBOX POD_UID NAME: a container with kubelet's etc-hosts mount (written now, as
# kubelet does before each container); prints its id
ctr() {
	local hosts=$HG_TMP/pods/$2/etc-hosts
	cri_kubelet_hosts "$hosts" "$(cc_pod_ip "$1")" "$3"
	cc_run_container "$1" "$(cc_ctr_config "$3" localhost/hgt/busybox:1 "$hosts" '{}')" \
		"$HG_TMP/crictl/pod-$(cc inspectp -o json "$1" | jq -r '.status.metadata.name')-$2.json" ||
		{ fail_log "container $3 did not start" >&2; return 1; }
}
hosts_of() { echo "$HG_TMP/pods/$1/etc-hosts"; }

cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1

# ---- 1. a pod and its container: attachment and names --------------------------------
plugin_start "$CONF"
wait_log 1 "synchronized 0 pods, 0 containers"
U1=0f1e2d3c-0000-4000-8000-00000000e101
t0=$(e2e_now_ms)
sb1=$(pod web "$U1" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}') || hg_fail "runp web failed"
hg_log "runp web: $(($(e2e_now_ms) - t0)) ms"
# ptp's host side of a pod has the gateway address while the pod lives: web lives on.
hg_listener - "$GW" "$PORT" "hello-from-host"
[ -s "$(record "$sb1")" ] || hg_fail "no NRI record for pod web after runp: $(tail -n 20 "$PLOG")"
hg_assert_eq "$(jq -r .kind "$(record "$sb1")")" nri "the record's kind"
hg_assert_eq "$(jq -r '.entries[] | "\(.ip) \(.names | join(" "))"' "$(record "$sb1")" | sort | paste -sd';')" \
	"$GW db.local;$GW $HG_DEFAULT_NAMES" "the record: default names and the pod annotation's extra host"
c1=$(ctr "$sb1" "$U1" app1) || hg_fail "app1"
H1=$(hosts_of "$U1")
hg_log "etc-hosts of web after app1:"$'\n'"$(cat "$H1")"
hg_assert_eq "$(hg_nblocks "$H1")" 1 "one block in web's etc-hosts"
hg_assert_eq "$(names "$H1")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app1's names"
out=$(cc_exec "$c1" "$(resolve host.docker.internal); $(resolve db.local); $(reach host.docker.internal); $(reach db.local)") ||
	hg_fail "crictl exec in app1 failed: $out"
hg_log "app1 exec:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal -> $GW" "app1 resolves host.docker.internal"
hg_assert_contains "$out" "db.local -> $GW" "app1 resolves the pod annotation's db.local"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 reaches the host by host.docker.internal"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app1 reaches the host by db.local"

# ---- 2. a pod with host-gateway.io/enabled "false" ----------------------------------
U2=0f1e2d3c-0000-4000-8000-00000000e102
sb2=$(pod off "$U2" '{"host-gateway.io/enabled": "false"}') || hg_fail "runp off failed"
c2=$(ctr "$sb2" "$U2" app2) || hg_fail "app2"
[ ! -e "$(record "$sb2")" ] || hg_fail "a record for the disabled pod"
hg_assert_eq "$(hg_nblocks "$(hosts_of "$U2")")" 0 "no block for the disabled pod"
out=$(cc_exec "$c2" "$(resolve host.docker.internal)")
hg_assert_eq "$out" "host.docker.internal -> " "the disabled pod does not resolve host.docker.internal"

# ---- 3. kill -9, pods come and go, the plugin again ---------------------------------
U3=0f1e2d3c-0000-4000-8000-00000000e103
sb3=$(pod gone "$U3" '{}') || hg_fail "runp gone failed"
c3=$(ctr "$sb3" "$U3" app3) || hg_fail "app3"
[ -n "$(registry "$(hosts_of "$U3")")" ] || hg_fail "no registry for gone's etc-hosts"
ns3=$(jq -r .netns.path "$(record "$sb3")")
kill -9 "$PLUGIN_PID"
wait "$PLUGIN_PID" 2>/dev/null || :
cc_stop_rm "$c3"
cc_stopp_rmp "$sb3"
[ -e "$(record "$sb3")" ] || hg_fail "the record of gone went without the plugin?"
U4=0f1e2d3c-0000-4000-8000-00000000e104
t0=$(e2e_now_ms)
sb4=$(pod late "$U4" '{}') || hg_fail "$(fail_log "runp late failed with the plugin gone (not fail open)")"
hg_log "runp late without the plugin: $(($(e2e_now_ms) - t0)) ms"
c4=$(ctr "$sb4" "$U4" app4) || hg_fail "app4 did not start with the plugin gone"
H4=$(hosts_of "$U4")
hg_assert_eq "$(hg_nblocks "$H4")" 0 "late's container started without names (plugin down)"
plugin_start "$CONF"
wait_log 2 "synchronized "
hg_log "$(grep -F 'synchronized ' "$PLOG" | tail -n 1)"
[ ! -e "$(record "$sb3")" ] || hg_fail "gone's record left after Synchronize"
[ -s "$(record "$sb4")" ] || hg_fail "late has no record after Synchronize"
hg_assert_eq "$(hg_nblocks "$H4")" 1 "late's container named by Synchronize"
out=$(cc_exec "$c4" "$(reach host.docker.internal)")
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "late's container reaches the host after Synchronize"
hg_assert_eq "$(hg_nblocks "$H1")" 1 "web's block not doubled by Synchronize"
hg_assert_eq "$(names "$H1")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "web's names once each"
left=$(find "$STATE/hosts" -name '*.json' 2>/dev/null | wc -l)
hg_assert_eq "$left" 2 "registries: web's and late's (gone's collected)"
[ ! -e "$ns3" ] || hg_fail "gone's netns $ns3 still there"
c5=$(ctr "$sb1" "$U1" app5) || hg_fail "app5"
hg_assert_eq "$(hg_nblocks "$H1")" 1 "one block in web's etc-hosts after app5 (kubelet rewrote it)"
out=$(cc_exec "$c5" "$(reach db.local)")
hg_assert_contains "$out" "db.local=0 hello-from-host" "a new container of web after the restart reaches the host"

# ---- 4. gc, then virtualIPs ------------------------------------------------------------
# The plugin stopped, late removed meanwhile: `host-gateway gc` undoes its record (its
# namespace is gone) and drops its hosts registry (its sandbox process is gone).
plugin_term
reg4=$(registry "$H4")
[ -n "$reg4" ] || hg_fail "no registry for late's etc-hosts"
cc_stop_rm "$c4"
cc_stopp_rmp "$sb4"
[ -e "$(record "$sb4")" ] || hg_fail "late's record went without the plugin?"
out=$(nsenter -t "$CRI_PID" -m -- "$HG_BIN" gc --config "$CONF" 2>&1) || hg_fail "gc failed: $out"
hg_log "gc: $out"
[ ! -e "$(record "$sb4")" ] || hg_fail "gc left late's NRI record"
[ ! -e "$reg4" ] || hg_fail "gc left late's hosts registry"
plugin_start "$VCONF"
wait_log 3 "synchronized "
U6=0f1e2d3c-0000-4000-8000-00000000e106
sb6=$(pod vip "$U6" '{}') || hg_fail "runp vip failed"
c6=$(ctr "$sb6" "$U6" app6) || hg_fail "app6"
hg_log "etc-hosts of vip:"$'\n'"$(cat "$(hosts_of "$U6")")"
hg_assert_eq "$(hg_block "$(hosts_of "$U6")" | cut -f1 | sort -u)" "$VIP" "the names map to the virtual IP"
out=$(cc_exec "$c6" "$(resolve host.docker.internal); r=\$(echo hi | nc -w3 $VIP $PORT); echo \"vip=\$? \$r\"; $(reach host.docker.internal)")
hg_log "app6 exec:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal -> $VIP" "app6 resolves host.docker.internal to the virtual IP"
hg_assert_contains "$out" "vip=0 hello-from-host" "app6 reaches the host by the virtual IP"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app6 reaches the host by name"

# ---- the end -------------------------------------------------------------------------
for c in "$c1" "$c5" "$c2" "$c6"; do cc_stop_rm "$c"; done
for h in "$H1" "$(hosts_of "$U6")"; do
	hg_assert_eq "$(hg_nblocks "$h")" 0 "no block in $h once its containers are gone"
done
for sb in "$sb1" "$sb2" "$sb6"; do cc_stopp_rmp "$sb"; done
left=$(find "$STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "left in the stateDir: $left"
left=$(find "$STATE/by-netns" -mindepth 1 2>/dev/null || :)
[ -z "$left" ] || hg_fail "by-netns links left: $left"
plugin_term
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"

# ---- 5. pre-registered: install --nri, a containerd started after it launches it ------
D2=$HG_TMP/ctrd2-$$
mkdir -p "$D2"/{net.d,opt-cni-bin,ipam,nri-opt}
cri_kindnet_conflist 1.1.0 "$SUBNET" "$D2/ipam" '[]' >"$D2/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D2/opt-cni-bin/"; done
# The daemon's /opt/nri is D2/nri-opt: its plugin_path, /opt/nri/plugins, is D2/nri-opt/plugins.
"$HG_BIN" install --nri --nri-plugin-dir "$D2/nri-opt/plugins" || hg_fail "install --nri failed"
[ -x "$D2/nri-opt/plugins/50-host-gateway" ] || hg_fail "install --nri made no 50-host-gateway"
CRI_OWN_RUN=1 cri_containerd_start "$D2" "$(cri_minimal_config_v3 "$D2")"
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1
STATE=$D2/run-host-gateway
U7=0f1e2d3c-0000-4000-8000-00000000e107
sb7=$(pod launched "$U7" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}') || hg_fail "runp launched failed"
e2e_wait_for 5 test -s "$(record "$sb7")" ||
	hg_fail "the plugin containerd launched did not attach the pod: $(tail -n 20 "$D2/containerd.log")"
c7=$(ctr "$sb7" "$U7" app7) || hg_fail "app7"
hg_assert_eq "$(names "$(hosts_of "$U7")")" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" \
	"names from the plugin containerd launched from /opt/nri/plugins"
lpid=$(pgrep -P "$CRI_PID" -f '50-host-gateway$' | head -n 1)
[ -n "$lpid" ] || hg_fail "no 50-host-gateway child of containerd"
hg_log "launched by containerd: $(tr '\0' ' ' <"/proc/$lpid/cmdline")(pid $lpid, NRI_PLUGIN_SOCKET=$(tr '\0' '\n' <"/proc/$lpid/environ" | sed -n 's/^NRI_PLUGIN_SOCKET=//p'))"
cc_stop_rm "$c7"
cc_stopp_rmp "$sb7"
left=$(find "$STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "left in the launched plugin's stateDir: $left"
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"
"$HG_BIN" uninstall --nri --nri-plugin-dir "$D2/nri-opt/plugins" || hg_fail "uninstall --nri failed"
[ ! -e "$D2/nri-opt/plugins/50-host-gateway" ] || hg_fail "uninstall --nri left the plugin"
e2e_wait_for 5 bash -c '! kill -0 "$1" 2>/dev/null' _ "$lpid" ||
	hg_fail "the launched plugin outlived containerd"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's NRI/host-gateway paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$PLOG"; then hg_fail "sanitizer report in the plugin's log"; fi
hg_log "plugin log:"$'\n'"$(cut -c1-240 "$PLOG" | grep -vE '^host-gateway nri: (synchronize: (pod|container) )' | tail -n 60)"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
