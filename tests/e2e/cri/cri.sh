#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd 1.6's CRI plugin driven like kubelet, through a real CRI client (gRPC
# runtime.v1 on containerd's socket: tests/tools/cri/cri.py), with conf/containerd's files
# as shipped: the private daemon's config is a minimal one with conf/containerd/config.toml
# merged in (a TOML merge, as kind applies containerdConfigPatches), and
# base-spec-host-gateway.json is used byte for byte at its documented path
# /etc/containerd/, with the hook at /opt/cni/bin/host-gateway (both bound in the
# daemon's mount namespace only). The CNI conf dir holds a kind-shaped conflist (kindnet:
# ptp + host-local + portmap) with host-gateway chained.
#   1. RunPodSandbox with the pod annotation host-gateway.io/extra-hosts: the plugin's ADD
#      got it (runtimeConfig) and recorded db.local with the default names
#   2. app1: kubelet's etc-hosts mounted at /etc/hosts; CreateContainer + StartContainer:
#      the hook wrote the names into etc-hosts (kubelet's lines kept); the pod annotation
#      is in app1's OCI spec (pod_annotations); ExecSync: host.docker.internal and
#      db.local resolve to the host side of the pod network and reach a listener there
#   3. kubelet rewrites etc-hosts (O_TRUNC, same inode) before app2, whose container
#      annotation host-gateway.io/names (container_annotations) names its own block: after
#      StartContainer the file holds app1's block again and app2's; ExecSync in both
#   4. StopContainer app2: its block goes, app1's stays; then app1, StopPodSandbox (CNI
#      DEL: record gone), RemovePodSandbox
#   5. the annotations fix itself, on pods whose conflist lacks host-gateway (kindnetd
#      rewrote it: only the hook runs): handler "kindnet-only" = the shipped runc handler
#      settings; handler "no-passthrough" = the same without pod_annotations and
#      container_annotations (the shipped file before the fix). The pod annotation
#      changes what the hook writes with the first and not with the second.
# At the end: no record, hook state or hosts registry left, the host as before (nft
# ruleset, links, routes, addresses, forwarding), the machine's /etc/cni, /opt/cni,
# /var/lib/cni, /run/containerd and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=cri-lib.sh
. "$(dirname "$0")/cri-lib.sh"
hg_init e2e-cri
hg_require_bin
cri_need
hg_require_cmd socat ss
T_START=$(e2e_now_ms)

SUBNET=10.215.9.0/24
GW=10.215.9.1
NET=kindnet
PORT=28731
CONF=$HG_SOURCE_ROOT/conf/containerd
hg_subnet_free "$SUBNET"
ec_port_free "$PORT"

machine_paths() { ec_machine_paths /etc/containerd /etc/host-gateway /opt; } # + what the daemon's mount namespace covers
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

# ---- the node: config, CNI, hook config ---------------------------------------------
D=$HG_TMP/ctrd-$$
LOG=$HG_TMP/host-gateway.log
mkdir -p "$D"/{net.d,net.d-kindnet,opt-cni-bin,etc-containerd,etc-host-gateway,ipam}
kindnet() { cri_kindnet_conflist 0.3.1 "$SUBNET" "$D/ipam" "${1:-[]}"; } # + ENTRY when given
kindnet "$(jq -nc --arg s "$HG_STATE" --arg l "$LOG" '[{type: "host-gateway",
	capabilities: {"io.kubernetes.cri.pod-annotations": true}, stateDir: $s, logFile: $l}]')" \
	>"$D/net.d/10-kindnet.conflist"
kindnet >"$D/net.d-kindnet/10-kindnet.conflist"
for p in /usr/lib/cni/*; do ln -s "$p" "$D/opt-cni-bin/"; done
ln -s "$HG_BIN" "$D/opt-cni-bin/host-gateway"
cp "$CONF/base-spec-host-gateway.json" "$D/etc-containerd/"
jq -n --arg s "$HG_STATE" --arg l "$LOG" '{stateDir: $s, logFile: $l, failurePolicy: "fail"}' \
	>"$D/etc-host-gateway/config.json"

# The shipped patch, merged into a minimal private config.
patch=$("$CRI_PY" "$CRI_TOOLS/toml.py" to-json "$CONF/config.toml")
runc_rt=$(jq -c '.plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc' <<<"$patch")
hg_assert_eq "$(jq -c '.pod_annotations, .container_annotations' <<<"$runc_rt" | paste -sd' ')" \
	'["host-gateway.io/*"] ["host-gateway.io/*"]' "the shipped runc handler passes host-gateway.io/* annotations"
config=$(cri_minimal_config "$D" | jq --arg d "$D" --argjson patch "$patch" --argjson runc "$runc_rt" '
	. * $patch
	* {plugins: {"io.containerd.grpc.v1.cri": {containerd: {runtimes: {
		"kindnet-only": ($runc + {cni_conf_dir: "\($d)/net.d-kindnet"}),
		"no-passthrough": ($runc + {cni_conf_dir: "\($d)/net.d-kindnet"}
			| del(.pod_annotations, .container_annotations))}}}}}')

cri_containerd_start "$D" "$config"
ver=$(cri Version)
hg_log "CRI: $ver"
hg_assert_eq "$(jq -r .runtime_api_version <<<"$ver")" v1 "runtime API version"
t0=$(e2e_now_ms)
# One image serves as the sandbox image (its command must keep running) and the app
# image (CreateContainer names the command).
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1
hg_log "images imported in $(($(e2e_now_ms) - t0)) ms"

# ---- kubelet's steps ----------------------------------------------------------------
# pod_config NAME UID HANDLER ANNOTATIONS_JSON: kubelet's PodSandboxConfig (a pod in
# namespace default, its own pid namespace per container, cgroup parent under ours).
pod_config() {
	mkdir -p "$HG_TMP/pods/$2/logs"
	jq -nc --arg n "$1" --arg u "$2" --arg cg "/$CRI_CGROUP/pod$2" --arg logs "$HG_TMP/pods/$2/logs" \
		--argjson ann "$4" '
		{metadata: {name: $n, uid: $u, namespace: "default", attempt: 0},
		 hostname: $n, log_directory: $logs,
		 labels: {"io.kubernetes.pod.name": $n, "io.kubernetes.pod.namespace": "default",
		          "io.kubernetes.pod.uid": $u},
		 annotations: $ann,
		 linux: {cgroup_parent: $cg,
		         security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}}'
}

# run_pod CONFIG HANDLER: RunPodSandbox; prints the sandbox id.
run_pod() {
	local id
	id=$(cri RunPodSandbox "$(jq -nc --argjson c "$1" --arg h "$2" '{config: $c, runtime_handler: $h}')" |
		jq -r .pod_sandbox_id)
	[ -n "$id" ] && [ "$id" != null ] || return 1
	echo "$id"
}

pod_ip() {
	cri PodSandboxStatus "{\"pod_sandbox_id\": \"$1\"}" | jq -r .status.network.ip
}

# start_container POD_ID POD_CONFIG NAME HOSTS_FILE ANNOTATIONS_JSON: CreateContainer
# (busybox, `sleep 3600`, HOSTS_FILE at /etc/hosts as kubelet mounts etc-hosts) and
# StartContainer; prints the container id.
start_container() {
	local req id
	req=$(jq -nc --arg p "$1" --argjson sc "$2" --arg n "$3" --arg h "$4" --argjson ann "$5" '
		{pod_sandbox_id: $p, sandbox_config: $sc,
		 config: {metadata: {name: $n, attempt: 0}, image: {image: "localhost/hgt/busybox:1"},
		          command: ["sleep", "3600"], log_path: "\($n)/0.log",
		          labels: {"io.kubernetes.container.name": $n},
		          annotations: $ann,
		          mounts: [{container_path: "/etc/hosts", host_path: $h}]}}')
	id=$(cri CreateContainer "$req" | jq -r .container_id)
	[ -n "$id" ] && [ "$id" != null ] || return 1
	cri StartContainer "{\"container_id\": \"$id\"}" >/dev/null || return 1
	echo "$id"
}

# exec_in CID SCRIPT: ExecSync `sh -c SCRIPT`; prints its stdout, fails unless exit 0.
exec_in() {
	local r
	r=$(cri ExecSync "$(jq -nc --arg c "$1" --arg s "$2" '{container_id: $c, cmd: ["sh", "-c", $s], timeout: 20}')") ||
		return 1
	jq -r '.stdout // ""' <<<"$r"
	[ "$(jq -r '.exit_code // 0' <<<"$r")" = 0 ] || {
		echo "exec_in: exit $(jq -r .exit_code <<<"$r"): $(jq -r '.stderr // ""' <<<"$r")" >&2
		return 1
	}
}

stop_container() {
	cri StopContainer "{\"container_id\": \"$1\", \"timeout\": 0}" >/dev/null
	cri RemoveContainer "{\"container_id\": \"$1\"}" >/dev/null
}

# spec_annotations CID: the annotations of the container's OCI spec, as runc got it.
spec_annotations() {
	jq -c '.annotations | with_entries(select(.key | startswith("host-gateway.io/")))' \
		"$D/state/io.containerd.runtime.v2.task/k8s.io/$1/config.json"
}

reach() { # the command a container runs to reach the host listener by NAME
	echo "r=\$(echo hi | nc -w3 $1 $PORT); echo \"$1=\$? \$r\""
}

# ---- 1. RunPodSandbox: the plugin's ADD sees the pod annotations --------------------
POD_UID=0f1e2d3c-0000-4000-8000-00000000c001
pod=$(pod_config web "$POD_UID" runc '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}')
t0=$(e2e_now_ms)
sb=$(run_pod "$pod" runc) || hg_fail "RunPodSandbox failed; log: $(tail -n 20 "$D/containerd.log"; cat "$LOG" 2>/dev/null)"
cri_pod_created "$sb"
hg_log "RunPodSandbox: $sb in $(($(e2e_now_ms) - t0)) ms"
ip=$(pod_ip "$sb")
[[ $ip == 10.215.9.* ]] || hg_fail "pod IP $ip not in $SUBNET"
rec=$HG_STATE/cni/$NET/$sb+eth0.json
ec_wait_record "$rec" 5
hg_log "record: $(jq -c . "$rec")"
hg_assert_eq "$(jq -r '.entries[] | "\(.ip) \(.names | join(" "))"' "$rec" | sort | paste -sd';')" \
	"$GW db.local;$GW $HG_DEFAULT_NAMES" "the record: default names and the pod annotation's extra host"
hg_listener - "$GW" "$PORT" "hello-from-host"

# ---- 2. app1 with kubelet's etc-hosts -------------------------------------------------
HOSTS=$HG_TMP/pods/$POD_UID/etc-hosts
cri_kubelet_hosts "$HOSTS" "$ip" web
ino=$(stat -c %i "$HOSTS")
kubelet_lines=$(cat "$HOSTS")
t0=$(e2e_now_ms)
c1=$(start_container "$sb" "$pod" app1 "$HOSTS" '{}') ||
	hg_fail "app1 did not start; log: $(tail -n 20 "$D/containerd.log"; cat "$LOG" 2>/dev/null)"
hg_log "app1: created and started in $(($(e2e_now_ms) - t0)) ms"
hg_log "etc-hosts after app1:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(stat -c %i "$HOSTS")" "$ino" "etc-hosts written in place"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block after app1"
[ -n "$(cri_registry "$HOSTS")" ] || hg_fail "no hosts registry for etc-hosts while app1 runs (the check for leftovers would see nothing)"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app1's block: the record's names"
hg_assert_eq "$(spec_annotations "$c1")" '{"host-gateway.io/extra-hosts":"db.local:host-gateway"}' \
	"the pod annotation is in app1's OCI spec (pod_annotations)"
# The base spec must not cap the container's open files (ctr oci spec's RLIMIT_NOFILE 1024:
# kind#2532); without one the CRI leaves containerd's own limit.
hg_assert_eq "$(jq '[.process.rlimits // [] | .[] | select(.type == "RLIMIT_NOFILE")] | length' \
	"$D/state/io.containerd.runtime.v2.task/k8s.io/$c1/config.json")" 0 "no RLIMIT_NOFILE from the base spec"
out=$(exec_in "$c1" "cat /etc/hosts; $(reach host.docker.internal); $(reach db.local)") ||
	hg_fail "ExecSync in app1 failed: $out"
hg_log "app1 ExecSync:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 reaches the host by host.docker.internal"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app1 reaches the host by the pod annotation's db.local"

# ---- 3. kubelet rewrites etc-hosts before app2 --------------------------------------
cri_kubelet_hosts "$HOSTS" "$ip" web
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "kubelet's rewrite dropped the blocks"
c2=$(start_container "$sb" "$pod" app2 "$HOSTS" '{"host-gateway.io/names": "app2.local"}') ||
	hg_fail "app2 did not start; log: $(tail -n 20 "$D/containerd.log"; cat "$LOG" 2>/dev/null)"
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
out=$(exec_in "$c2" "$(reach app2.local); $(reach host.docker.internal)") || hg_fail "ExecSync in app2 failed: $out"
hg_assert_contains "$out" "app2.local=0 hello-from-host" "app2 reaches the host by its annotation's name"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app2 reaches the host by host.docker.internal"
out=$(exec_in "$c1" "$(reach host.docker.internal)") || hg_fail "ExecSync in app1 failed: $out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 still reaches the host"

# ---- 4. stop and remove: poststop, DEL ----------------------------------------------
stop_container "$c2"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "the block stays after app2"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" "app2's names gone with app2, app1's stay"
stop_container "$c1"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "no block once the pod's containers stopped"
t0=$(e2e_now_ms)
cri StopPodSandbox "{\"pod_sandbox_id\": \"$sb\"}" >/dev/null
[ ! -e "$rec" ] || hg_fail "record left after StopPodSandbox (CNI DEL): $(cat "$rec")"
cri RemovePodSandbox "{\"pod_sandbox_id\": \"$sb\"}" >/dev/null
hg_log "StopPodSandbox + RemovePodSandbox in $(($(e2e_now_ms) - t0)) ms"
reg=$(cri_registry "$HOSTS")
[ -z "$reg" ] || hg_fail "hosts registry left: $reg: $(cat "$reg")"

# ---- 5. the annotations fix, hook only ----------------------------------------------
# hook_only_pod NAME UID HANDLER: a pod with extra-hosts on a conflist without
# host-gateway; sets BLK to the block app1's hook wrote, after checking connectivity.
hook_only_pod() {
	local cfg id cid h out
	cfg=$(pod_config "$1" "$2" "$3" '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}')
	id=$(run_pod "$cfg" "$3") || hg_fail "RunPodSandbox $1 ($3) failed; log: $(tail -n 20 "$D/containerd.log")"
	cri_pod_created "$id"
	[ -z "$(hg_records "cni/$NET")" ] || hg_fail "a CNI record on a conflist without host-gateway"
	h=$HG_TMP/pods/$2/etc-hosts
	cri_kubelet_hosts "$h" "$(pod_ip "$id")" "$1"
	cid=$(start_container "$id" "$cfg" app1 "$h" '{}') ||
		hg_fail "$1 ($3): app1 did not start; log: $(tail -n 20 "$D/containerd.log"; cat "$LOG" 2>/dev/null)"
	out=$(exec_in "$cid" "$(reach host.docker.internal)") || hg_fail "ExecSync in $1 failed: $out"
	hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "$1 ($3): the hook alone makes the host reachable"
	BLK=$(hg_block "$h" | sort | paste -sd';')
	stop_container "$cid"
	hg_assert_eq "$(hg_nblocks "$h")" 0 "$1 ($3): no block after the container stopped"
	cri StopPodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null
	cri RemovePodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null
}
hook_only_pod web2 0f1e2d3c-0000-4000-8000-00000000c002 kindnet-only
hg_assert_eq "$BLK" "$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")" \
	"hook only, shipped handler settings: the pod annotation's extra host is written"
hook_only_pod web3 0f1e2d3c-0000-4000-8000-00000000c003 no-passthrough
hg_assert_eq "$BLK" "$(printf '%s\t%s' "$GW" "$HG_DEFAULT_NAMES")" \
	"hook only, without pod_annotations (the config before the fix): the annotation never reaches the hook"

left=$(find "$HG_STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "files left in stateDir: $left"
regs=$(find /run/host-gateway/hosts -name "*.json" -newer "$HG_TMP/machine.before" 2>/dev/null || :)
[ -z "$regs" ] || hg_fail "hosts registries left: $regs"
t0=$(e2e_now_ms)
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"
hg_log "containerd stopped in $(($(e2e_now_ms) - t0)) ms"

# ---- 6. kind, emulated: conf/containerd/kind-config.yaml on a node one hop from the host
# A kind node is a container on the machine: its own network namespace, whose default
# route leads to the machine (here the netns HOSTNS), and its own /run. The node's
# containerd gets kind-config.yaml as kind applies it: extraMounts (hostPath relative to
# conf/containerd, the binary = the one under test) and containerdConfigPatches merged
# into the node's config (kind's node images: a version 2 file whose runc handler has
# runtime_type and base_runtime_spec = /etc/containerd/cri-base.json). kindnet's conflist
# has no host-gateway: only the hook runs, with kind-hook-config.json as shipped
# (hostIPs ["node-gateway"], default stateDir /run/host-gateway: the node's).
HOSTNS=hgt-$$-host
NODENS=hgt-$$-node
MACHINE_IP=10.215.10.1
NODE_IP=10.215.10.2
SUBNET=10.215.11.0/24
hg_subnet_free 10.215.10.0/30 "$SUBNET"
cri_kind_net "$HOSTNS" "$NODENS" "$MACHINE_IP" "$NODE_IP" "$SUBNET"
hg_listener "$HOSTNS" "$MACHINE_IP" "$PORT" "hello-from-the-machine"

D=$HG_TMP/ctrd-node-$$
mkdir -p "$D"/{net.d,opt-cni-bin,etc-containerd,etc-host-gateway,ipam}
kindnet >"$D/net.d/10-kindnet.conflist"
for p in /usr/lib/cni/*; do ln -s "$p" "$D/opt-cni-bin/"; done
cri_kind_files "$D" "$CONF/kind-config.yaml" || hg_fail "kind-config.yaml cannot be applied to the emulated node"
node_conf=$(cri_minimal_config "$D" | jq '. * {plugins: {"io.containerd.grpc.v1.cri": {containerd: {
	runtimes: {runc: {runtime_type: "io.containerd.runc.v2", base_runtime_spec: "/etc/containerd/cri-base.json"}}}}}}')
node_conf=$(cri_kind_merge "$node_conf" "$(cri_kind_patches "$CONF/kind-config.yaml")")
# kind's node has /etc/containerd/cri-base.json (generated by `ctr oci spec`).
ctr oci spec >"$D/etc-containerd/cri-base.json"
hg_log "kind node config: $(jq -c '.plugins."io.containerd.grpc.v1.cri".containerd.runtimes' <<<"$node_conf")"
CRI_NETNS=$NODENS CRI_OWN_RUN=1 cri_containerd_start "$D" "$node_conf"
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1

POD_UID=0f1e2d3c-0000-4000-8000-00000000c004
pod=$(pod_config kind-web "$POD_UID" runc '{"host-gateway.io/extra-hosts": "db.local:host-gateway"}')
sb=$(run_pod "$pod" runc) || hg_fail "kind node: RunPodSandbox failed; log: $(tail -n 20 "$D/containerd.log")"
cri_pod_created "$sb"
HOSTS=$HG_TMP/pods/$POD_UID/etc-hosts
cri_kubelet_hosts "$HOSTS" "$(pod_ip "$sb")" kind-web
c1=$(start_container "$sb" "$pod" app1 "$HOSTS" '{}') ||
	hg_fail "kind node: app1 did not start; log: $(tail -n 20 "$D/containerd.log")"
hg_log "kind node: etc-hosts after app1:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s\t%s' "$MACHINE_IP" db.local "$MACHINE_IP" "$HG_DEFAULT_NAMES")" \
	"kind node: the names map to the node's gateway (the machine), with the pod's extra host"
out=$(exec_in "$c1" "$(reach host.docker.internal); $(reach db.local)") || hg_fail "kind node: ExecSync failed: $out"
hg_log "kind node: app1 ExecSync:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-the-machine" "kind node: the pod reaches the machine by name"
hg_assert_contains "$out" "db.local=0 hello-from-the-machine" "kind node: ... and by the pod annotation's name"
stop_container "$c1"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "kind node: no block after the container stopped"
cri StopPodSandbox "{\"pod_sandbox_id\": \"$sb\"}" >/dev/null
cri RemovePodSandbox "{\"pod_sandbox_id\": \"$sb\"}" >/dev/null
left=$(find "$D/run-host-gateway" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "kind node: files left in the node's /run/host-gateway: $left"

# ---- the end: nothing left ----------------------------------------------------------
t0=$(e2e_now_ms)
cri_containerd_stop || hg_fail "containerd (kind node) cleanup left cgroups or mounts"
hg_log "containerd (kind node) stopped in $(($(e2e_now_ms) - t0)) ms"
hg_netns_del "$NODENS"
hg_netns_del "$HOSTNS"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI/containerd paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
