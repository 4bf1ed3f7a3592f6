# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A private containerd with its CRI plugin, driven like kubelet through a CRI client
# (tests/tools/cri/cri.py: Python + grpcio on runtime_v1_min.proto, or crictl:
# crictl-lib.sh). Sourced, never run, after tests/lib/common.sh and hg_init (hg_defer, the
# host lock). Needs root.
#
#   CRI_CONTAINERD_BIN          the folder of containerd, containerd-shim-runc-v2 and ctr
#                               (default /usr/bin: Debian's 1.6; the 2.x of
#                               scripts/install-runtimes.sh: cri_containerd2)
#   cri_need                    skip unless containerd, runc, umoci, protoc and Python's
#                               grpc + protobuf are installed
#   cri_containerd2             CRI_CONTAINERD_BIN = containerd 2.x built (or found in the
#                               cache) by scripts/install-runtimes.sh; fails when it cannot
#                               be built
#   cri_containerd_start DIR CONFIG_JSON
#       containerd with the configuration CONFIG_JSON (a JSON object, written as TOML by
#       tests/tools/cri/toml.py; the caller merges it from the shipped files) plus root,
#       state, sockets and the opt plugin under DIR (absolute, no spaces). It runs in its
#       own mount namespace in which
#         /run/containerd  = DIR/run       (1.6 puts shim sockets and runc state there
#                                           whatever `state` says)
#         /var/lib/cni     = DIR/var-lib-cni (libcni's cache)
#         /etc/containerd  = DIR/etc-containerd    \  filled by the caller before the
#         /opt/cni/bin     = DIR/opt-cni-bin        > start: what a node has there
#         /etc/host-gateway = DIR/etc-host-gateway /   (the hook's config.json)
#         /run/nri, /opt/nri, /etc/nri = DIR/nri-{run,opt,etc} (2.x's NRI, on by default,
#                                           listens at /var/run/nri/nri.sock)
#         /run/host-gateway = DIR/run-host-gateway, with CRI_OWN_RUN=1 (a kind node's
#                                           own /run: the hook's default stateDir)
#         /var/lib/kubelet, /var/log/pods, /var/log/containers = DIR/kubelet,
#                                           DIR/log-pods, DIR/log-containers, with
#                                           CRI_KUBELET=1 (kubelet runs in this namespace:
#                                           kube-lib.sh); then also /etc/cni/net.d =
#                                           DIR/net.d (a DaemonSet's hostPath) and
#                                           /run/netns = DIR/run-netns (pods' netns
#                                           mounts), every mount shared as on a systemd
#                                           node (a HostToContainer volume needs it)
#       so the shipped files are used with their own paths, nothing is created on the
#       machine, and snapshot and netns mounts never reach it. With CRI_NETNS=NAME the
#       daemon runs in that network namespace (an emulated kind node). argv[0] hgt-$$-containerd
#       (e2e_janitor ends it if this test is SIGKILLed). Waits until the CRI answers
#       Version; registers cri_containerd_stop with hg_defer. Sets CRI_DIR CRI_SOCK
#       CRI_PID CRI_START_MS and CRI_CGROUP (hgt-$$-cri: cgroup parent of the pods).
#   cri_containerd_stop
#       Stop and remove every pod sandbox still there (CNI DEL runs), stop the daemon
#       (TERM, then KILL after 5 s) and its shims, remove the cgroups /CRI_CGROUP.
#       Returns 1 when cgroups or mounts are left. Safe to call twice.
#   cri_minimal_config DIR      the least containerd configuration (JSON) the tests start
#                               from: CRI on, its sandbox image localhost/hgt/pause:1,
#                               CNI from /opt/cni/bin and DIR/net.d, runc the default;
#                               callers merge (jq *) the shipped patches into it. A version
#                               2 file for containerd 1.6 (and 2.x reading one)
#   cri_minimal_config_v3 DIR   the same as a version 3 file (containerd 2.x: the CRI's
#                               settings split into io.containerd.cri.v1.{runtime,images})
#   cri CALL [REQUEST_JSON]     one CRI call (RunPodSandbox, ImageService/ImageStatus, ...);
#                               prints the response as JSON, returns 3 on a gRPC error
#   cri_import_image NAME:TAG CMD...
#                               an OCI image of a busybox rootfs whose command is CMD,
#                               imported into namespace k8s.io; waits until the CRI
#                               lists it (ImageStatus)
#   cri_import_tar REF TAR      an OCI layout's tar imported as REF; waits until the CRI
#                               lists it
#   cri_tag_image REF NEW_REF   the same image under another name (ctr images tag)
#   cri_ctr ARG...              ctr on the private daemon, namespace k8s.io
# kubelet's etc-hosts (cri_kubelet_hosts), the image layout and crictl: crictl-lib.sh.

CRI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/e2e-lib.sh
. "$CRI_LIB_DIR/../e2e-lib.sh"
# shellcheck source=tests/e2e/rootfs-lib.sh
. "$CRI_LIB_DIR/../rootfs-lib.sh"
# shellcheck source=tests/e2e/cri/crictl-lib.sh
. "$CRI_LIB_DIR/crictl-lib.sh"

CRI_TOOLS=${HG_SOURCE_ROOT:-$(cd "$CRI_LIB_DIR/../../.." && pwd)}/tests/tools/cri
# Debian's python3 (grpcio, protobuf), not a python3 of pyenv or a venv earlier in PATH.
CRI_PY=${CRI_PY:-/usr/bin/python3}
CRI_PID=${CRI_PID:-}
CRI_PODS=()
CRI_CONTAINERD_BIN=${CRI_CONTAINERD_BIN:-/usr/bin}

cri_containerd2() {
	local env
	env=$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env containerd) ||
		hg_fail "containerd 2.x could not be built (scripts/install-runtimes.sh containerd)"
	eval "$env"
	CRI_CONTAINERD_BIN=$HG_CONTAINERD_BIN
}

cri_minimal_config() {
	jq -n --arg d "$1" '
	{version: 2, plugins: {"io.containerd.grpc.v1.cri": {
		sandbox_image: "localhost/hgt/pause:1",
		restrict_oom_score_adj: true,
		netns_mounts_under_state_dir: true,
		stream_server_address: "127.0.0.1",
		cni: {bin_dir: "/opt/cni/bin", conf_dir: "\($d)/net.d", max_conf_num: 1},
		containerd: {snapshotter: "overlayfs", default_runtime_name: "runc"}}}}'
}

cri_minimal_config_v3() {
	jq -n --arg d "$1" '
	{version: 3, plugins: {
		"io.containerd.cri.v1.images": {snapshotter: "overlayfs",
			pinned_images: {sandbox: "localhost/hgt/pause:1"}},
		"io.containerd.cri.v1.runtime": {
			restrict_oom_score_adj: true,
			netns_mounts_under_state_dir: true,
			cni: {bin_dirs: ["/opt/cni/bin"], conf_dir: "\($d)/net.d", max_conf_num: 1},
			containerd: {default_runtime_name: "runc",
				runtimes: {runc: {runtime_type: "io.containerd.runc.v2"}}}},
		"io.containerd.grpc.v1.cri": {stream_server_address: "127.0.0.1", stream_server_port: "0"}}}'
}

cri_need() {
	hg_require_cmd containerd containerd-shim-runc-v2 ctr runc unshare umoci jq protoc
	[ -x "$CRI_PY" ] || hg_skip "$CRI_PY missing"
	"$CRI_PY" -c 'import grpc, google.protobuf, tomllib' 2>/dev/null ||
		hg_skip "$CRI_PY lacks grpc/protobuf (python3-grpcio python3-protobuf)"
}

cri() {
	"$CRI_PY" "$CRI_TOOLS/cri.py" --socket "$CRI_SOCK" --stubs "$CRI_DIR/stubs" "$@"
}

cri_ctr() {
	"$CRI_CONTAINERD_BIN/ctr" --address "$CRI_SOCK" -n k8s.io "$@"
}

# _cri_janitor: shims of a CRI daemon whose test was SIGKILLed (e2e_janitor knows the
# daemon by its argv[0] and the cgroups by name, but CRI shims run in namespace k8s.io):
# their -address is DIR/containerd.sock with DIR = .../ctrd-OWNERPID.
_cri_janitor() {
	local shim owner
	for shim in $(pgrep -f '^/[^ ]*/containerd-shim-runc-v2 .*-address /tmp/hgt-[^ ]*/ctrd-[0-9]+/containerd.sock' || :); do
		owner=$(tr '\0' ' ' <"/proc/$shim/cmdline" 2>/dev/null | sed -n 's#.*/ctrd-\([0-9]*\)/containerd.sock.*#\1#p' || :)
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			kill -KILL "$shim" 2>/dev/null || :
		fi
	done
	return 0
}

cri_containerd_start() {
	local dir=$1 conf=$2 t0
	case $dir in /*) ;; *)
		echo "cri_containerd_start: DIR must be absolute" >&2
		return 1
		;;
	esac
	[ -z "$CRI_PID" ] || { echo "cri_containerd_start: already running" >&2; return 1; }
	e2e_janitor
	_cri_janitor
	mkdir -p "$dir"/{root,state,run,opt,ovl,var-lib-cni,etc-containerd,opt-cni-bin,etc-host-gateway,run-host-gateway,stubs,nri-run,nri-opt,nri-etc,kubelet,log-pods,log-containers,run-netns,net.d} || return 1
	CRI_DIR=$dir
	CRI_SOCK=$dir/containerd.sock
	CRI_CGROUP=hgt-$$-cri
	# The opt plugin is 1.x's only (2.x refuses no unknown table, but has none to set).
	jq --arg d "$dir" '. * {
		root: "\($d)/root", state: "\($d)/state",
		grpc: {address: "\($d)/containerd.sock"},
		ttrpc: {address: "\($d)/containerd.sock.ttrpc"}}
		| if (.version // 2) < 3 then . * {plugins: {"io.containerd.internal.v1.opt": {path: "\($d)/opt"}}} else . end' <<<"$conf" |
		"$CRI_PY" "$CRI_TOOLS/toml.py" from-json >"$dir/config.toml" || return 1
	_e2e_fw_snapshot >"$dir/fw-before.txt"
	t0=$(e2e_now_ms)
	local -a pre=()
	# nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup mounts from runc.
	[ -z "${CRI_NETNS:-}" ] || pre=(nsenter "--net=/run/netns/$CRI_NETNS")
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	"${pre[@]}" unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_paths)"'
		d=$1
		# One call per top-level tree: e2e_cover_paths overlays only one of several
		# missing-path ancestors of the same length (sort -n -u), so /run, /opt and
		# /etc in one call would leave two of them written on the machine.
		# /run/host-gateway in the same call: a second call would lay a new overlay over
		# /run (when /run/host-gateway is missing, as on a fresh machine) that hides the
		# bind mounts of the first call (the NRI socket then went to the overlay).
		own_run=()
		[ -z "$3" ] || own_run=(/run/host-gateway "$d/run-host-gateway")
		[ -z "$5" ] || own_run+=(/run/netns "$d/run-netns")
		e2e_cover_paths "$d/ovl" /run/containerd "$d/run" /run/nri "$d/nri-run" "${own_run[@]}" || exit 1
		kubelet=()
		[ -z "$5" ] || kubelet=(/var/lib/kubelet "$d/kubelet" /var/log/pods "$d/log-pods" /var/log/containers "$d/log-containers")
		e2e_cover_paths "$d/ovl" /var/lib/cni "$d/var-lib-cni" "${kubelet[@]}" || exit 1
		e2e_cover_paths "$d/ovl" /opt/cni/bin "$d/opt-cni-bin" /opt/nri "$d/nri-opt" || exit 1
		kubelet_etc=()
		[ -z "$5" ] || kubelet_etc=(/etc/cni/net.d "$d/net.d")
		e2e_cover_paths "$d/ovl" /etc/containerd "$d/etc-containerd" \
			/etc/host-gateway "$d/etc-host-gateway" /etc/nri "$d/nri-etc" "${kubelet_etc[@]}" || exit 1
		# As on a systemd node, every mount shared (within this namespace only: its peers
		# were made private by unshare): a HostToContainer volume needs its source shared,
		# and a runtime checks the first mount it finds at the path (the machine'"'"'s own
		# /run/netns under ours, when the machine has one).
		[ -z "$5" ] || mount --make-rshared / || exit 1
		PATH=$4:$PATH
		exec -a "$2" "$4/containerd" --config "$d/config.toml" --log-level "${CRI_LOG_LEVEL:-warn}"
	' cri-containerd "$dir" "hgt-$$-containerd" "${CRI_OWN_RUN:-}" "$CRI_CONTAINERD_BIN" "${CRI_KUBELET:-}" >"$dir/containerd.log" 2>&1 &
	CRI_PID=$!
	hg_defer cri_containerd_stop
	if ! e2e_wait_for 20 cri --timeout 1 Version; then
		echo "cri_containerd_start: CRI not ready; log:" >&2
		tail -n 30 "$dir/containerd.log" >&2
		return 1
	fi
	CRI_START_MS=$(($(e2e_now_ms) - t0))
	e2e_log "containerd (CRI) pid $CRI_PID ready in ${CRI_START_MS} ms"
}

# cri_pod_created ID: remember a sandbox for cri_containerd_stop.
cri_pod_created() { CRI_PODS+=("$1"); }

cri_containerd_stop() {
	[ -n "$CRI_PID" ] || return 0
	local p shims rc=0
	if kill -0 "$CRI_PID" 2>/dev/null; then
		for p in "${CRI_PODS[@]}"; do
			cri --timeout 30 StopPodSandbox "{\"pod_sandbox_id\": \"$p\"}" >/dev/null 2>&1 || :
			cri --timeout 30 RemovePodSandbox "{\"pod_sandbox_id\": \"$p\"}" >/dev/null 2>&1 || :
		done
		E2E_CTRD_SOCK=$CRI_SOCK
		shims=$(_e2e_ctrd_shims)
		kill -TERM "$CRI_PID" 2>/dev/null || :
		_e2e_wait_gone 5 "$CRI_PID" || kill -KILL "$CRI_PID" 2>/dev/null || :
		shims="$shims $(_e2e_ctrd_shims)"
		# shellcheck disable=SC2086 # one pid per word
		[ -z "${shims// /}" ] || { kill -KILL $shims 2>/dev/null || :; _e2e_wait_gone 3 $shims || :; }
	fi
	wait "$CRI_PID" 2>/dev/null || :
	CRI_PID=
	CRI_PODS=()
	_e2e_cgroup_kill_rm "$CRI_CGROUP" || rc=1
	_e2e_fw_purge_new_empty "$CRI_DIR/fw-before.txt"
	_e2e_fw_report "$CRI_DIR/fw-before.txt" "containerd (CRI) stop"
	if grep -qF " $CRI_DIR/" /proc/self/mounts; then
		e2e_log "containerd (CRI) stop: mounts left under $CRI_DIR"
		return 1
	fi
	rm -rf "${CRI_DIR:?}"/{root,state,run,opt,ovl,image,kubelet,log-pods,log-containers} || :
	return "$rc"
}

# _e2e_ctrd_shims (containerd-lib.sh) finds the shims by E2E_CTRD_SOCK.
_e2e_ctrd_shims() {
	local p
	for p in $(pgrep -f "^/[^ ]*/containerd-shim-runc-v2 .*-address $E2E_CTRD_SOCK( |\$)" || :); do
		echo "$p"
	done
}

cri_import_image() {
	local ref=$1 w=$CRI_DIR/image
	shift
	cri_image_layout "$w" "${ref##*:}" "$@" || return 1
	cri_import_tar "$ref" "$w/image.tar" || return 1
	rm -rf "$w"
}

# cri_import_tar REF TAR: an OCI layout tarred, imported as REF (its tag the layout's).
cri_import_tar() {
	local ref=$1 out
	out=$(cri_ctr images import --base-name "${ref%:*}" "$2" 2>&1) || {
		echo "$out" >&2
		return 1
	}
	# The CRI learns of images through containerd's events: wait until it lists it.
	e2e_wait_for 10 _cri_image_known "$ref" || {
		echo "cri_import_tar: the CRI does not list $ref" >&2
		return 1
	}
}

# cri_tag_image REF NEW_REF: the same image under a second name, once the CRI lists it.
cri_tag_image() {
	cri_ctr images tag "$1" "$2" >/dev/null || return 1
	e2e_wait_for 10 _cri_image_known "$2" || {
		echo "cri_tag_image: the CRI does not list $2" >&2
		return 1
	}
}

_cri_image_known() {
	if [ -n "$CRICTL" ]; then
		cc inspecti -o json "$1" | jq -e '.status.id' >/dev/null
	else
		cri ImageService/ImageStatus "{\"image\": {\"image\": \"$1\"}}" | jq -e '.image.id' >/dev/null
	fi
}


# ---- kind, emulated -----------------------------------------------------------------
# A kind node is a container on the machine: its own network namespace, whose default
# route leads to the machine, and its own /run. The node's containerd gets a kind config
# (conf/containerd/kind-config*.yaml) as kind applies it: extraMounts, and
# containerdConfigPatches merged into the node's config.toml.
#
#   cri_kind_net HOSTNS NODENS MACHINE_IP NODE_IP POD_SUBNET
#       the machine as netns HOSTNS (MACHINE_IP/30) and the node as netns NODENS
#       (NODE_IP/30, default route via MACHINE_IP) over a veth; HOSTNS routes POD_SUBNET
#       back to the node (kind masquerades instead). Both registered for deletion.
#   cri_kind_files DIR KIND_YAML
#       kind's extraMounts as links in DIR/{opt-cni-bin,etc-containerd,etc-host-gateway}
#       (a hostPath relative to the yaml's folder; build/host-gateway = HG_BIN), and the
#       kind base spec's createContainer hook (/kind/bin/mount-product-files.sh on a real
#       node) pointed at a no-op stand-in in DIR
#   cri_kind_patches KIND_YAML  the containerdConfigPatches as a JSON array of tables
#   cri_kind_merge CONFIG_JSON PATCHES_JSON
#       CONFIG with each patch deep-merged in order, as kind merges TOML tables

cri_kind_net() {
	local h=$1 n=$2 mip=$3 nip=$4 sub=$5
	hg_netns_add "$h"
	hg_netns_add "$n"
	ip link add "hgt-$$-h" type veth peer name "hgt-$$-n" || return 1
	ip link set "hgt-$$-h" netns "$h" &&
		ip link set "hgt-$$-n" netns "$n" &&
		ip -n "$h" addr add "$mip/30" dev "hgt-$$-h" &&
		ip -n "$n" addr add "$nip/30" dev "hgt-$$-n" &&
		ip -n "$h" link set "hgt-$$-h" up &&
		ip -n "$n" link set "hgt-$$-n" up &&
		ip -n "$n" route add default via "$mip" &&
		ip -n "$h" route add "$sub" via "$nip"
}

cri_kind_files() {
	local d=$1 yaml=$2 conf host ctr dir kind spec
	conf=$(cd "$(dirname "$yaml")" && pwd)
	kind=$("$CRI_PY" -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$yaml") || return 1
	mkdir -p "$d"/{opt-cni-bin,etc-containerd,etc-host-gateway}
	while IFS=$'\t' read -r host ctr; do
		case $host in /*) ;; *) host=$(realpath -m "$conf/$host") ;; esac
		[ "$host" != "$(realpath -m "$HG_SOURCE_ROOT/build/host-gateway")" ] || host=$HG_BIN
		[ -e "$host" ] || { echo "$yaml: extraMount hostPath $host missing" >&2; return 1; }
		dir=$(dirname "$ctr")
		case $dir in
		/opt/cni/bin | /etc/containerd | /etc/host-gateway) ;;
		*) echo "$yaml: extraMount $ctr: the emulated node has no $dir" >&2; return 1 ;;
		esac
		dir=${dir#/}
		ln -sf "$host" "$d/${dir//\//-}/$(basename "$ctr")"
	done < <(jq -r '.nodes[0].extraMounts[] | "\(.hostPath)\t\(.containerPath)"' <<<"$kind")
	spec=$d/etc-containerd/base-spec-host-gateway.json
	[ "$(jq -r '.hooks.createContainer[0].path' "$spec")" = /kind/bin/mount-product-files.sh ] ||
		{ echo "the kind base spec lacks kind's createContainer hook" >&2; return 1; }
	[ "$(jq '.process.rlimits' "$spec")" = null ] || { echo "the kind base spec caps rlimits" >&2; return 1; }
	printf '#!/bin/sh\nexit 0\n' >"$d/mount-product-files.sh"
	chmod 755 "$d/mount-product-files.sh"
	jq --arg p "$d/mount-product-files.sh" '.hooks.createContainer[0].path = $p' "$spec" >"$spec.emulated" &&
		rm -f "$spec" && mv "$spec.emulated" "$spec"
}

cri_kind_patches() {
	"$CRI_PY" -c 'import json, sys, tomllib, yaml
print(json.dumps([tomllib.loads(p) for p in yaml.safe_load(open(sys.argv[1]))["containerdConfigPatches"]]))' "$1"
}

cri_kind_merge() {
	jq -c --argjson ps "$2" 'reduce $ps[] as $p (.; . * $p)' <<<"$1"
}

# cri_registry FILE: the hosts registry of FILE as the hook run by this daemon keeps it
# (printed when it exists): the hook writes /run/host-gateway/hosts inside the daemon's
# mount namespace, where /run is the overlay (or the bind of CRI_OWN_RUN) made by
# cri_containerd_start, so the machine's path would never show it.
cri_registry() {
	find "$CRI_DIR" -path '*/host-gateway/hosts/*' -name "$(stat -c %d "$1")-$(stat -c %i "$1").json" 2>/dev/null || :
	[ ! -e "$(hg_registry_of "$1")" ] || hg_registry_of "$1"
}
