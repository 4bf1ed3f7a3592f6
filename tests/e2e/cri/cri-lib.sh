# shellcheck shell=bash
# A private containerd 1.6 with its CRI plugin, driven like kubelet through a CRI client
# (tests/tools/cri/cri.py: Python + grpcio on runtime_v1_min.proto). Sourced, never run,
# after tests/lib/common.sh and hg_init (hg_defer, the host lock). Needs root.
#
#   cri_need                    skip unless containerd, runc, umoci, protoc and Python's
#                               grpc + protobuf are installed
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
#         /run/host-gateway = DIR/run-host-gateway, with CRI_OWN_RUN=1 (a kind node's
#                                           own /run: the hook's default stateDir)
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
#                               callers merge (jq *) the shipped patches into it
#   cri CALL [REQUEST_JSON]     one CRI call (RunPodSandbox, ImageService/ImageStatus, ...);
#                               prints the response as JSON, returns 3 on a gRPC error
#   cri_import_image NAME:TAG CMD...
#                               an OCI image of a busybox rootfs whose command is CMD,
#                               imported into namespace k8s.io; waits until the CRI
#                               lists it (ImageStatus)
#   cri_tag_image REF NEW_REF   the same image under another name (ctr images tag)
#   cri_ctr ARG...              ctr on the private daemon, namespace k8s.io
#   cri_kubelet_hosts FILE IP HOSTNAME
#                               write FILE as kubelet writes a pod's etc-hosts: opened
#                               with O_TRUNC and rewritten in place (same inode)

CRI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/e2e-common.sh
. "$CRI_LIB_DIR/../e2e-common.sh"
# shellcheck source=tests/e2e/rootfs.sh
. "$CRI_LIB_DIR/../rootfs.sh"

CRI_TOOLS=${HG_SOURCE_ROOT:-$(cd "$CRI_LIB_DIR/../../.." && pwd)}/tests/tools/cri
# Debian's python3 (grpcio, protobuf), not a python3 of pyenv or a venv earlier in PATH.
CRI_PY=${CRI_PY:-/usr/bin/python3}
CRI_PID=${CRI_PID:-}
CRI_PODS=()

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

cri_need() {
	e2e_need containerd containerd-shim-runc-v2 ctr runc unshare umoci jq protoc
	[ -x "$CRI_PY" ] || hg_skip "$CRI_PY missing"
	"$CRI_PY" -c 'import grpc, google.protobuf, tomllib' 2>/dev/null ||
		hg_skip "$CRI_PY lacks grpc/protobuf (python3-grpcio python3-protobuf)"
}

cri() {
	"$CRI_PY" "$CRI_TOOLS/cri.py" --socket "$CRI_SOCK" --stubs "$CRI_DIR/stubs" "$@"
}

cri_ctr() {
	ctr --address "$CRI_SOCK" -n k8s.io "$@"
}

# _cri_janitor: shims of a CRI daemon whose test was SIGKILLed (e2e_janitor knows the
# daemon by its argv[0] and the cgroups by name, but CRI shims run in namespace k8s.io):
# their -address is DIR/containerd.sock with DIR = .../ctrd-OWNERPID.
_cri_janitor() {
	local shim owner
	for shim in $(pgrep -f '^/usr/bin/containerd-shim-runc-v2 .*-address /tmp/hgt-[^ ]*/ctrd-[0-9]+/containerd.sock' || :); do
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
	mkdir -p "$dir"/{root,state,run,opt,ovl,var-lib-cni,etc-containerd,opt-cni-bin,etc-host-gateway,run-host-gateway,stubs} || return 1
	CRI_DIR=$dir
	CRI_SOCK=$dir/containerd.sock
	CRI_CGROUP=hgt-$$-cri
	jq --arg d "$dir" '. * {
		root: "\($d)/root", state: "\($d)/state",
		grpc: {address: "\($d)/containerd.sock"},
		ttrpc: {address: "\($d)/containerd.sock.ttrpc"},
		plugins: {"io.containerd.internal.v1.opt": {path: "\($d)/opt"}}}' <<<"$conf" |
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
		e2e_cover_paths "$d/ovl" /run/containerd "$d/run" || exit 1
		if [ -n "$3" ]; then
			e2e_cover_paths "$d/ovl" /run/host-gateway "$d/run-host-gateway" || exit 1
		fi
		e2e_cover_paths "$d/ovl" /var/lib/cni "$d/var-lib-cni" || exit 1
		e2e_cover_paths "$d/ovl" /opt/cni/bin "$d/opt-cni-bin" || exit 1
		e2e_cover_paths "$d/ovl" /etc/containerd "$d/etc-containerd" \
			/etc/host-gateway "$d/etc-host-gateway" || exit 1
		exec -a "$2" containerd --config "$d/config.toml" --log-level warn
	' cri-containerd "$dir" "hgt-$$-containerd" "${CRI_OWN_RUN:-}" >"$dir/containerd.log" 2>&1 &
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
	rm -rf "${CRI_DIR:?}"/{root,state,run,opt,ovl,image} || :
	return "$rc"
}

# _e2e_ctrd_shims (containerd.sh) finds the shims by E2E_CTRD_SOCK.
_e2e_ctrd_shims() {
	local p
	for p in $(pgrep -f "^/usr/bin/containerd-shim-runc-v2 .*-address $E2E_CTRD_SOCK( |\$)" || :); do
		echo "$p"
	done
}

cri_import_image() {
	local ref=$1 w=$CRI_DIR/image i base tag
	shift
	base=${ref%:*}
	tag=${ref##*:}
	local -a cmd=()
	for i; do cmd+=(--config.cmd "$i"); done
	rm -rf "$w"
	mkdir -p "$w" || return 1
	if ! {
		e2e_make_rootfs "$w/rootfs" &&
			umoci init --layout "$w/layout" &&
			umoci new --image "$w/layout:$tag" &&
			umoci unpack --image "$w/layout:$tag" "$w/bundle" &&
			cp -a "$w/rootfs/." "$w/bundle/rootfs/" &&
			umoci repack --image "$w/layout:$tag" "$w/bundle" &&
			umoci config --image "$w/layout:$tag" "${cmd[@]}" --config.env PATH=/bin:/sbin:/usr/bin &&
			umoci gc --layout "$w/layout" &&
			tar -C "$w/layout" -cf "$w/image.tar" . &&
			cri_ctr images import --base-name "$base" "$w/image.tar"
	} >"$w/build.log" 2>&1; then
		cat "$w/build.log" >&2
		return 1
	fi
	rm -rf "$w"
	# The CRI learns of images through containerd's events: wait until it lists it.
	e2e_wait_for 10 _cri_image_known "$ref" || {
		echo "cri_import_image: the CRI does not list $ref" >&2
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
	cri ImageService/ImageStatus "{\"image\": {\"image\": \"$1\"}}" | jq -e '.image.id' >/dev/null
}

cri_kubelet_hosts() {
	# kubelet's managedHostsFileContent, written with os.WriteFile (O_TRUNC, same inode).
	printf '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n%s\t%s\n' \
		"$2" "$3" >"$1"
}
