#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd 2.x (built from its release by scripts/install-runtimes.sh) driven by crictl
# as kubelet drives it, with conf/containerd's files as shipped: the private daemon's
# config is a minimal version 3 file with conf/containerd/config-v3.toml merged in (a TOML
# merge, as kind applies containerdConfigPatches), base-spec-host-gateway.json at its
# documented path /etc/containerd/, the binary at /opt/cni/bin/host-gateway (both bound in
# the daemon's mount namespace only). CRI, CNI and NRI keep containerd's defaults. The CNI
# conf dir holds a kindnet-shaped conflist at cniVersion 1.1.0 (ptp + host-local + portmap,
# the reference plugins v1.10.0, which speak 1.1.0) with host-gateway chained; a wrapper
# records every call the runtime makes to host-gateway.
#   1. STATUS: containerd 2.x asks the network's readiness through CNI STATUS (crictl info):
#      ready while the stateDir is usable; with a stateDir that cannot be used, host-gateway
#      answers code 50 and containerd reports NetworkReady false with its message
#   2. crictl runp with the pod annotation host-gateway.io/extra-hosts: the plugin's ADD got
#      it (runtimeConfig) and recorded db.local with the default names
#   3. app1: kubelet's etc-hosts mounted at /etc/hosts; crictl create + start: the hook
#      wrote the names into it (kubelet's lines kept); the pod annotation is in app1's OCI
#      spec (pod_annotations); crictl exec: host.docker.internal and db.local reach a
#      listener on the host side of the pod network
#   4. kubelet rewrites etc-hosts before app2, whose own annotation host-gateway.io/names
#      (container_annotations) names its block: app1's block is back beside app2's
#   5. crictl stop/rm: each block goes with its container; stopp: CNI DEL, record gone; rmp:
#      a second DEL without netns (2.x), answered with success; every call containerd made is
#      listed, and none is unexpected
#   6. kind, emulated, both shapes of node config: a version 2 file (what kind's node images
#      ship, with containerd 2.x since kind v0.27) patched by kind-config.yaml, and a
#      version 3 file patched by kind-config-v3.yaml: names map to the node's gateway, the
#      pod reaches the machine by name
# At the end: no record, hook state or hosts registry left, the host as before (nft
# ruleset, links, routes, addresses, forwarding), the machine's /etc/cni, /opt/cni,
# /var/lib/cni, /run/containerd, /run/nri and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=cri-lib.sh
. "$(dirname "$0")/cri-lib.sh"
cri_prebuild containerd crictl cni-plugins
hg_init e2e-containerd2
hg_require_bin
hg_require_cmd runc unshare umoci jq socat ss
"$CRI_PY" -c 'import tomllib, yaml' 2>/dev/null || hg_skip "$CRI_PY lacks tomllib/yaml (python3-yaml)"
cri_containerd2
crictl_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins)"
T_START=$(e2e_now_ms)

SUBNET=10.215.20.0/24
GW=10.215.20.1
NET=kindnet
PORT=28732
CONF=$HG_SOURCE_ROOT/conf/containerd
hg_subnet_free "$SUBNET"
ec_port_free "$PORT"

machine_paths() { ec_machine_paths /etc/containerd /etc/host-gateway /opt /run/nri /etc/nri; } # + what the daemon's mount namespace covers
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

# ---- the node: config, CNI, hook config ---------------------------------------------
D=$HG_TMP/ctrd-$$
LOG=$HG_TMP/host-gateway.log
EC_LOG=$LOG
mkdir -p "$D"/{net.d,opt-cni-bin,etc-containerd,etc-host-gateway,ipam}
ec_traced_plugin_dir
# kindnet's conflist shape at cniVersion 1.1.0, with ENTRY appended when given.
kindnet() { cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" "${1:-[]}"; }
hg_entry() { # STATE_DIR
	jq -nc --arg s "$1" --arg l "$LOG" '[{type: "host-gateway",
		capabilities: {"io.kubernetes.cri.pod-annotations": true}, stateDir: $s, logFile: $l}]'
}
kindnet "$(hg_entry "$HG_STATE")" >"$D/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
ln -s "$EC_PLUGIN_DIR/host-gateway" "$D/opt-cni-bin/host-gateway"
cp "$CONF/base-spec-host-gateway.json" "$D/etc-containerd/"
jq -n --arg s "$HG_STATE" --arg l "$LOG" '{stateDir: $s, logFile: $l, failurePolicy: "fail"}' \
	>"$D/etc-host-gateway/config.json"

# The shipped version 3 patch, merged into a minimal version 3 config.
patch=$("$CRI_PY" "$CRI_TOOLS/toml.py" to-json "$CONF/config-v3.toml")
hg_assert_eq "$(jq -c '.plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc | .pod_annotations, .container_annotations' \
	<<<"$patch" | paste -sd' ')" '["host-gateway.io/*"] ["host-gateway.io/*"]' \
	"the shipped runc handler passes host-gateway.io/* annotations"
config=$(cri_minimal_config_v3 "$D" | jq --argjson patch "$patch" '. * $patch')

cri_containerd_start "$D" "$config"
ver=$(cc version)
hg_log "crictl version:"$'\n'"$ver"
hg_assert_contains "$ver" "RuntimeVersion:  ${HG_CONTAINERD_VERSION#v}" "containerd $HG_CONTAINERD_VERSION answers the CRI"

# ---- 1. STATUS ----------------------------------------------------------------------
# kubelet polls the runtime's Status; containerd 2.x answers NetworkReady from CNI STATUS
# of every plugin of a 1.1.0 conflist.
network_ready() { # prints "true" or "false: MESSAGE"
	cc info | jq -r '.status.conditions[] | select(.type == "NetworkReady") |
		if .status then "true" else "false: \(.reason) \(.message)" end'
}
# shellcheck disable=SC2016 # expanded by the inner bash
e2e_wait_for 10 bash -c '[ -s "$1" ] && grep -q "^STATUS " "$1"' _ "$EC_TRACE" ||
	cc info >/dev/null
ready=$(network_ready)
hg_log "NetworkReady: $ready; calls so far:"$'\n'"$(ec_trace | cut -c1-160)"
hg_assert_eq "$ready" true "NetworkReady true with a usable stateDir"
grep -q '^STATUS ' "$EC_TRACE" || hg_fail "containerd $HG_CONTAINERD_VERSION sent no CNI STATUS for a 1.1.0 conflist"
# containerd reloads the conflist when its folder changes: a stateDir that is a file.
: >"$HG_TMP/not-a-dir"
kindnet "$(hg_entry "$HG_TMP/not-a-dir")" >"$D/net.d/10-kindnet.conflist.tmp"
mv "$D/net.d/10-kindnet.conflist.tmp" "$D/net.d/10-kindnet.conflist"
notready=""
for _ in $(seq 50); do
	notready=$(network_ready)
	[ "$notready" = true ] || break
	sleep 0.1
done
hg_log "NetworkReady with an unusable stateDir: $notready"
case $notready in
false:*"$HG_TMP/not-a-dir"*) ;;
*) hg_fail "NetworkReady did not turn false naming the stateDir: $notready" ;;
esac
kindnet "$(hg_entry "$HG_STATE")" >"$D/net.d/10-kindnet.conflist.tmp"
mv "$D/net.d/10-kindnet.conflist.tmp" "$D/net.d/10-kindnet.conflist"
for _ in $(seq 50); do
	ready=$(network_ready)
	[ "$ready" != true ] || break
	sleep 0.1
done
hg_assert_eq "$ready" true "NetworkReady back once the conflist names a usable stateDir"

t0=$(e2e_now_ms)
# One image serves as the sandbox image (its command must keep running) and the app image.
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1
hg_log "images imported in $(($(e2e_now_ms) - t0)) ms"

spec_annotations() { # CID: host-gateway.io/* annotations of the container's OCI spec
	jq -c '.annotations | with_entries(select(.key | startswith("host-gateway.io/")))' \
		"$D/state/io.containerd.runtime.v2.task/k8s.io/$1/config.json"
}
reach() { # the command a container runs to reach the host listener by NAME
	echo "r=\$(echo hi | nc -w3 $1 $PORT); echo \"$1=\$? \$r\""
}
fail_log() { echo "$1; log: $(tail -n 20 "$D/containerd.log"; tail -n 20 "$LOG" 2>/dev/null)"; }

# ---- 2. runp: the plugin's ADD sees the pod annotations -----------------------------
POD_UID=0f1e2d3c-0000-4000-8000-00000000c201
pod=$(cc_pod_config web "$POD_UID" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}' "/$CRI_CGROUP/pod$POD_UID")
t0=$(e2e_now_ms)
sb=$(cc_runp "$pod") || hg_fail "$(fail_log "crictl runp failed")"
cri_pod_created "$sb"
hg_log "runp: $sb in $(($(e2e_now_ms) - t0)) ms"
ip=$(cc_pod_ip "$sb")
[[ $ip == 10.215.20.* ]] || hg_fail "pod IP $ip not in $SUBNET"
rec=$HG_STATE/cni/$NET/$sb+eth0.json
ec_wait_record "$rec" 5
hg_assert_eq "$(jq -r '.entries[] | "\(.ip) \(.names | join(" "))"' "$rec" | sort | paste -sd';')" \
	"$GW db.local;$GW $HG_DEFAULT_NAMES" "the record: default names and the pod annotation's extra host"
hg_listener - "$GW" "$PORT" "hello-from-host"

# ---- 3. app1 with kubelet's etc-hosts -------------------------------------------------
HOSTS=$HG_TMP/pods/$POD_UID/etc-hosts
cri_kubelet_hosts "$HOSTS" "$ip" web
ino=$(stat -c %i "$HOSTS")
kubelet_lines=$(cat "$HOSTS")
c1=$(cc_run_container "$sb" "$(cc_ctr_config app1 localhost/hgt/busybox:1 "$HOSTS" '{}')" "$pod") ||
	hg_fail "$(fail_log "app1 did not start")"
hg_log "etc-hosts after app1:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(stat -c %i "$HOSTS")" "$ino" "etc-hosts written in place"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block after app1"
[ -n "$(cri_registry "$HOSTS")" ] || hg_fail "no hosts registry for etc-hosts while app1 runs (the check for leftovers would see nothing)"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app1's block: the record's names"
hg_assert_eq "$(spec_annotations "$c1")" '{"host-gateway.io/extra-hosts":"db.local:host-gateway"}' \
	"the pod annotation is in app1's OCI spec (pod_annotations)"
out=$(cc_exec "$c1" "cat /etc/hosts; $(reach host.docker.internal); $(reach db.local)") ||
	hg_fail "crictl exec in app1 failed: $out"
hg_log "app1 exec:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 reaches the host by host.docker.internal"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app1 reaches the host by the pod annotation's db.local"

# ---- 4. kubelet rewrites etc-hosts before app2 --------------------------------------
cri_kubelet_hosts "$HOSTS" "$ip" web
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "kubelet's rewrite dropped the blocks"
c2=$(cc_run_container "$sb" "$(cc_ctr_config app2 localhost/hgt/busybox:1 "$HOSTS" '{"host-gateway.io/names": "app2.local"}')" "$pod") ||
	hg_fail "$(fail_log "app2 did not start")"
hg_log "etc-hosts after app2:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(stat -c %i "$HOSTS")" "$ino" "etc-hosts still the same inode"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block for both containers"
hg_assert_eq "$(spec_annotations "$c2")" \
	'{"host-gateway.io/extra-hosts":"db.local:host-gateway","host-gateway.io/names":"app2.local"}' \
	"app2's OCI spec: the pod annotation and its own (container_annotations)"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s;%s\t%s' "$GW" app2.local "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" \
	"app1's names back, app2's own added, each name once"
out=$(cc_exec "$c2" "$(reach app2.local); $(reach host.docker.internal)") || hg_fail "crictl exec in app2 failed: $out"
hg_assert_contains "$out" "app2.local=0 hello-from-host" "app2 reaches the host by its annotation's name"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app2 reaches the host by host.docker.internal"

# ---- 5. stop and remove -------------------------------------------------------------
cc_stop_rm "$c2"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "the block stays after app2"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app2's names gone with app2, app1's stay"
cc_stop_rm "$c1"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "no block once the pod's containers stopped"
cc stopp "$sb" >/dev/null
[ ! -e "$rec" ] || hg_fail "record left after crictl stopp (CNI DEL): $(cat "$rec")"
cc rmp "$sb" >/dev/null
reg=$(cri_registry "$HOSTS")
[ -z "$reg" ] || hg_fail "hosts registry left: $reg: $(cat "$reg")"
calls=$(ec_trace | sed 's/ by=\[.*\]$//')
hg_log "every call containerd $HG_CONTAINERD_VERSION made to host-gateway:"$'\n'"$calls"
hg_assert_eq "$(grep -c "^ADD cid=$sb " <<<"$calls")" 1 "one ADD for the pod"
# 2.x sends DEL at stopp (with the netns) and again at rmp (netns empty): the second finds
# nothing to undo and must succeed, or rmp would fail.
hg_assert_eq "$(grep "^DEL cid=$sb " <<<"$calls" | sed 's/netns=\[..*\]/netns=[path]/' | paste -sd';')" \
	"DEL cid=$sb netns=[path];DEL cid=$sb netns=[]" "DEL at stopp with the netns, again at rmp without"
unexpected=$(grep -vE '^(ADD|DEL|STATUS|GC|VERSION) |^ cid=' <<<"$calls" || :)
[ -z "$unexpected" ] || hg_fail "calls of an unknown kind: $unexpected"
left=$(find "$HG_STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "files left in stateDir: $left"
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"

# ---- 6. kind, emulated, version 2 and version 3 node configs -------------------------
# kindnet's conflist (0.3.1, no host-gateway): only the hook runs, with
# kind-hook-config.json as shipped (hostIPs ["node-gateway"], stateDir the node's /run).
HOSTNS=hgt-$$-host
NODENS=hgt-$$-node
MACHINE_IP=10.215.21.1
NODE_IP=10.215.21.2
SUBNET=10.215.22.0/24
hg_subnet_free 10.215.21.0/30 "$SUBNET"
cri_kind_net "$HOSTNS" "$NODENS" "$MACHINE_IP" "$NODE_IP" "$SUBNET"
hg_listener "$HOSTNS" "$MACHINE_IP" "$PORT" "hello-from-the-machine"

# kind_node N YAML CONFIG_JSON: the node's containerd with YAML's patches merged into
# CONFIG_JSON (the node image's own config); a pod with the extra-hosts annotation reaches
# the machine by name.
kind_node() {
	local n=$1 yaml=$2 d=$HG_TMP/ctrd-node$1-$$ uid conf pod sb h c out
	mkdir -p "$d"/{net.d,ipam}
	cri_kindnet_conflist 0.3.1 "$SUBNET" "$d/ipam" >"$d/net.d/10-kindnet.conflist"
	cri_kind_files "$d" "$yaml" || hg_fail "$(basename "$yaml") cannot be applied to the emulated node"
	for p in /usr/lib/cni/*; do ln -sf "$p" "$d/opt-cni-bin/"; done
	# kind's node has /etc/containerd/cri-base.json (generated by `ctr oci spec`).
	"$CRI_CONTAINERD_BIN/ctr" oci spec >"$d/etc-containerd/cri-base.json"
	conf=$(cri_kind_merge "$3" "$(cri_kind_patches "$yaml")")
	hg_log "kind node $n ($(basename "$yaml")): $(jq -c '.plugins' <<<"$conf")"
	CRI_NETNS=$NODENS CRI_OWN_RUN=1 cri_containerd_start "$d" "$conf"
	CC_NETNS=$NODENS
	cri_import_image localhost/hgt/busybox:1 sleep 2147483647
	cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1
	uid=0f1e2d3c-0000-4000-8000-00000000c21$n
	pod=$(cc_pod_config "kind-web$n" "$uid" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}' "/$CRI_CGROUP/pod$uid")
	sb=$(cc_runp "$pod") || hg_fail "kind node $n: runp failed; log: $(tail -n 20 "$d/containerd.log")"
	cri_pod_created "$sb"
	h=$HG_TMP/pods/$uid/etc-hosts
	cri_kubelet_hosts "$h" "$(cc_pod_ip "$sb")" "kind-web$n"
	c=$(cc_run_container "$sb" "$(cc_ctr_config app1 localhost/hgt/busybox:1 "$h" '{}')" "$pod") ||
		hg_fail "kind node $n: app1 did not start; log: $(tail -n 20 "$d/containerd.log")"
	hg_assert_eq "$(hg_block "$h" | sort | paste -sd';')" \
		"$(printf '%s\t%s;%s\t%s' "$MACHINE_IP" db.local "$MACHINE_IP" "$HG_DEFAULT_NAMES")" \
		"kind node $n: the names map to the node's gateway (the machine), with the pod's extra host"
	# The positive control of the leftover check below: the hook's state is in the node's /run.
	[ -n "$(find "$d/run-host-gateway" -type f -name '*.json' 2>/dev/null)" ] ||
		hg_fail "kind node $n: nothing of the hook in the node's /run/host-gateway while app1 runs (the check for leftovers would see nothing)"
	out=$(cc_exec "$c" "$(reach host.docker.internal); $(reach db.local)") || hg_fail "kind node $n: exec failed: $out"
	hg_assert_contains "$out" "host.docker.internal=0 hello-from-the-machine" "kind node $n: the pod reaches the machine by name"
	hg_assert_contains "$out" "db.local=0 hello-from-the-machine" "kind node $n: ... and by the pod annotation's name"
	cc_stop_rm "$c"
	hg_assert_eq "$(hg_nblocks "$h")" 0 "kind node $n: no block after the container stopped"
	cc_stopp_rmp "$sb"
	left=$(find "$d/run-host-gateway" -type f ! -name '.*.lock' 2>/dev/null || :)
	[ -z "$left" ] || hg_fail "kind node $n: files left in the node's /run/host-gateway: $left"
	cri_containerd_stop || hg_fail "containerd (kind node $n) cleanup left cgroups or mounts"
	CC_NETNS=
}
# kind's node images with containerd 2.x keep a version 2 file whose runc handler names
# kind's base spec.
kind_node 2 "$CONF/kind-config.yaml" "$(cri_minimal_config "$HG_TMP/ctrd-node2-$$" | jq '. * {plugins: {"io.containerd.grpc.v1.cri": {containerd: {
	runtimes: {runc: {runtime_type: "io.containerd.runc.v2", base_runtime_spec: "/etc/containerd/cri-base.json"}}}}}}')"
# A node image with a version 3 file.
kind_node 3 "$CONF/kind-config-v3.yaml" "$(cri_minimal_config_v3 "$HG_TMP/ctrd-node3-$$" | jq '. * {plugins: {"io.containerd.cri.v1.runtime": {containerd: {
	runtimes: {runc: {base_runtime_spec: "/etc/containerd/cri-base.json"}}}}}}')"

# ---- the end: nothing left ----------------------------------------------------------
hg_netns_del "$NODENS"
hg_netns_del "$HOSTNS"
regs=$(find /run/host-gateway/hosts -name "*.json" -newer "$HG_TMP/machine.before" 2>/dev/null || :)
[ -z "$regs" ] || hg_fail "hosts registries left: $regs"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI/containerd/NRI paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
