# shellcheck shell=bash
# A private containerd 1.6 daemon and `ctr run --cni` for e2e tests. Sourced, never run.
# Source tests/lib/common.sh first when available (for hg_defer); needs root.
#
#   e2e_containerd_start DIR
#       Start containerd with root/state/sockets under DIR (absolute, no spaces), CRI off.
#       The daemon runs in its own private mount namespace in which DIR/run covers
#       /run/containerd (shim sockets, runc state), so nothing is written to /run or
#       mounted on the machine; its snapshot mounts die with it. Waits until it answers,
#       registers e2e_containerd_stop with hg_defer. Sets E2E_CTRD_DIR, E2E_CTRD_SOCK,
#       E2E_CTRD_PID, E2E_CTR_NS (default "hge2e-$$"; set it before to change).
#   e2e_containerd_stop
#       Remove tasks/containers of E2E_CTR_NS, stop the daemon (TERM, then KILL) and the
#       shims it left, remove the cgroups ctr created (/sys/fs/cgroup/*/E2E_CTR_NS).
#   e2e_ctr ARG...
#       ctr --address E2E_CTRD_SOCK -n E2E_CTR_NS ARG...
#   e2e_containerd_import_busybox [ROOTFS_DIR] [REF]
#       Build an OCI image from a busybox rootfs (made with e2e_make_rootfs when ROOTFS_DIR
#       is absent) with umoci, import it as REF (default docker.io/x/busybox:latest).
#       Sets E2E_CTR_IMAGE.
#   e2e_ctr_run_cni NAME CONFLIST_FILE PLUGIN_DIR [CTR_RUN_FLAG...] -- CMD [ARG...]
#       `ctr run --rm --cni [CTR_RUN_FLAG...] E2E_CTR_IMAGE NAME CMD...`; prints the
#       container's stdout (stderr of ctr and container on stderr) and returns ctr's exit
#       code. ctr reads /etc/cni/net.d and /opt/cni/bin and caches in /var/lib/cni with no
#       way to change that, so it runs in a private mount namespace where:
#         /etc/cni/net.d  = DIR/cni/NAME/net.d (holds only a copy of CONFLIST_FILE)
#         /opt/cni/bin    = PLUGIN_DIR (bind, read as is; /usr/lib/cni is ctr's fallback)
#         /var/lib/cni    = DIR/cni/NAME/var-lib-cni (result cache, host-local leases)
#       The machine's directories are never written. Task and container are removed by
#       hg_defer even when ctr fails or times out (E2E_CTR_TIMEOUT seconds, default 60).
#       The bridge named in CONFLIST_FILE is deleted at cleanup if it did not exist.

# shellcheck source=tests/e2e/e2e-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-common.sh"
# shellcheck source=tests/e2e/rootfs.sh
. "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

E2E_CTR_TIMEOUT=${E2E_CTR_TIMEOUT:-60}

e2e_ctr() {
	ctr --address "$E2E_CTRD_SOCK" -n "$E2E_CTR_NS" "$@"
}

e2e_containerd_start() {
	local dir=$1 t0
	e2e_need containerd ctr containerd-shim-runc-v2 runc unshare
	case $dir in /*) ;; *) echo "e2e_containerd_start: DIR must be absolute" >&2; return 1 ;; esac
	mkdir -p "$dir"/{root,state,run,opt,fifo} || return 1
	E2E_CTRD_DIR=$dir
	E2E_CTRD_SOCK=$dir/containerd.sock
	E2E_CTR_NS=${E2E_CTR_NS:-hge2e-$$}
	cat >"$dir/config.toml" <<-EOF
	version = 2
	root = "$dir/root"
	state = "$dir/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$dir/containerd.sock"
	[ttrpc]
	  address = "$dir/containerd.sock.ttrpc"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$dir/opt"
	EOF
	E2E_CTR_NETWORKS=" "
	_e2e_fw_snapshot >"$dir/fw-before.txt"
	t0=$(e2e_now_ms)
	# The daemon and every shim it forks live in this mount namespace only.
	unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_path)"'
		e2e_cover_path /run/containerd "$1/run" "$1/ovl" || exit 1
		exec containerd --config "$1/config.toml" --log-level warn
	' e2e-containerd "$dir" >"$dir/containerd.log" 2>&1 &
	E2E_CTRD_PID=$!
	hg_defer e2e_containerd_stop
	if ! e2e_wait_for 20 ctr --address "$E2E_CTRD_SOCK" version; then
		echo "e2e_containerd_start: containerd not ready; log:" >&2
		tail -n 30 "$dir/containerd.log" >&2
		return 1
	fi
	E2E_CTRD_START_MS=$(( $(e2e_now_ms) - t0 ))
	e2e_log "containerd pid $E2E_CTRD_PID ready in ${E2E_CTRD_START_MS} ms"
}

# Pids whose command line names our socket (the shims: -address DIR/containerd.sock).
_e2e_ctrd_own_pids() {
	local p cmd
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		case $cmd in *"-address $E2E_CTRD_SOCK "*) echo "${p#/proc/}" ;; esac
	done
}

_e2e_ctr_remove() { # NAME: best effort, silent
	local name=$1
	[ -S "${E2E_CTRD_SOCK:-}" ] || return 0
	e2e_ctr tasks kill -s KILL "$name" >/dev/null 2>&1
	e2e_ctr tasks rm -f "$name" >/dev/null 2>&1
	e2e_ctr containers rm "$name" >/dev/null 2>&1
	e2e_ctr snapshots rm "$name" >/dev/null 2>&1
	return 0
}

e2e_containerd_stop() {
	[ -n "${E2E_CTRD_PID:-}" ] || return 0
	local c p i cg alive
	if kill -0 "$E2E_CTRD_PID" 2>/dev/null; then
		for c in $(e2e_ctr containers ls -q 2>/dev/null); do _e2e_ctr_remove "$c"; done
		kill -TERM "$E2E_CTRD_PID" 2>/dev/null
		for i in $(seq 100); do kill -0 "$E2E_CTRD_PID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$E2E_CTRD_PID" 2>/dev/null
	fi
	wait "$E2E_CTRD_PID" 2>/dev/null
	local left; left=$(_e2e_ctrd_own_pids)
	if [ -n "$left" ]; then
		kill -KILL $left 2>/dev/null
		for i in $(seq 100); do
			alive=0
			for p in $left; do _e2e_pid_alive "$p" && alive=1; done
			[ "$alive" = 0 ] && break
			sleep 0.02
		done
	fi
	# ctr's default cgroup is /NS/ID in every hierarchy; runc removes ID, not NS.
	for cg in /sys/fs/cgroup/*/"$E2E_CTR_NS" /sys/fs/cgroup/"$E2E_CTR_NS"; do
		[ -d "$cg" ] || continue
		find "$cg" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
		rmdir "$cg" 2>/dev/null || echo "e2e_containerd_stop: cannot remove cgroup $cg" >&2
	done
	# Leftovers of reference plugins after failed DELs (normally none).
	for c in $E2E_CTR_NETWORKS; do _e2e_cni_purge_iptables "$c"; done
	_e2e_fw_purge_new_empty "$E2E_CTRD_DIR/fw-before.txt"
	c=$(_e2e_fw_snapshot | comm -13 "$E2E_CTRD_DIR/fw-before.txt" -)
	[ -z "$c" ] || e2e_log "containerd stop: firewall objects new since start, kept (not empty or not ours): $c"
	# Mounts happened in the daemon's private namespace; defensively check the machine.
	grep -F " $E2E_CTRD_DIR/" /proc/self/mounts | awk '{print $2}' | sort -r |
		while read -r p; do umount -l "$p"; done
	rm -rf "${E2E_CTRD_DIR:?}"/{root,state,run,opt,fifo,ovl,image,cni} \
		"$E2E_CTRD_DIR"/containerd.sock "$E2E_CTRD_DIR"/containerd.sock.ttrpc \
		"$E2E_CTRD_DIR"/fw-before.txt
	E2E_CTRD_PID=
}

e2e_containerd_import_busybox() {
	local rootfs=${1:-} ref=${2:-docker.io/x/busybox:latest}
	local w=$E2E_CTRD_DIR/image base tag
	e2e_need umoci tar
	base=${ref%:*}; tag=${ref##*:}
	[ "$base" != "$ref" ] || { base=$ref; tag=latest; }
	rm -rf "$w"; mkdir -p "$w" || return 1
	if [ -z "$rootfs" ]; then
		rootfs=$w/rootfs-src
		e2e_make_rootfs "$rootfs" || return 1
	fi
	{
		umoci init --layout "$w/layout" &&
		umoci new --image "$w/layout:$tag" &&
		umoci unpack --image "$w/layout:$tag" "$w/bundle" &&
		cp -a "$rootfs/." "$w/bundle/rootfs/" &&
		umoci repack --image "$w/layout:$tag" "$w/bundle" &&
		umoci config --image "$w/layout:$tag" --config.cmd /bin/sh \
			--config.env PATH=/bin:/sbin:/usr/bin &&
		umoci gc --layout "$w/layout" &&
		tar -C "$w/layout" -cf "$w/image.tar" . &&
		e2e_ctr images import --base-name "$base" "$w/image.tar" >/dev/null
	} >"$w/build.log" 2>&1 || { cat "$w/build.log" >&2; return 1; }
	rm -rf "$w/bundle" "$w/layout"
	E2E_CTR_IMAGE=$base:$tag
	e2e_ctr images ls -q | grep -qxF "$E2E_CTR_IMAGE" ||
		{ echo "e2e_containerd_import_busybox: $E2E_CTR_IMAGE not listed" >&2; return 1; }
}

e2e_ctr_run_cni() {
	local name=$1 conflist=$2 plugdir=$3; shift 3
	local flags=() rc
	while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || { echo "e2e_ctr_run_cni: no command" >&2; return 2; }
	[ -f "$conflist" ] && [ -d "$plugdir" ] || { echo "e2e_ctr_run_cni: bad conflist/plugin dir" >&2; return 2; }
	local cd=$E2E_CTRD_DIR/cni/$name
	rm -rf "$cd"; mkdir -p "$cd/net.d" "$cd/var-lib-cni" "$cd/ovl" || return 1
	cp "$conflist" "$cd/net.d/10-e2e.conflist" || return 1
	plugdir=$(cd "$plugdir" && pwd)
	e2e_cni_defer_bridge_cleanup "$conflist"
	local net; net=$(jq -r '.name // empty' "$conflist")
	case $E2E_CTR_NETWORKS in *" $net "*) ;; *) E2E_CTR_NETWORKS="$E2E_CTR_NETWORKS$net " ;; esac
	hg_defer _e2e_ctr_remove "$name"
	local t0; t0=$(e2e_now_ms)
	timeout -k 5 "$E2E_CTR_TIMEOUT" unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_path)"'
		cd=$1 plug=$2; shift 2
		e2e_cover_path /etc/cni/net.d "$cd/net.d" "$cd/ovl" &&
		e2e_cover_path /opt/cni/bin "$plug" "$cd/ovl" &&
		e2e_cover_path /var/lib/cni "$cd/var-lib-cni" "$cd/ovl" || exit 125
		exec "$@"
	' e2e-ctr "$cd" "$plugdir" \
		ctr --address "$E2E_CTRD_SOCK" -n "$E2E_CTR_NS" run --rm --cni \
		--fifo-dir "$E2E_CTRD_DIR/fifo" "${flags[@]}" "$E2E_CTR_IMAGE" "$name" "$@"
	rc=$?
	E2E_CTR_RUN_MS=$(( $(e2e_now_ms) - t0 ))
	e2e_log "ctr run $name: rc $rc in ${E2E_CTR_RUN_MS} ms"
	# `--rm` removes container and task on success; after a failed CNI ADD or a timeout
	# they stay behind: remove them now (the deferred call is a no-op then).
	[ "$rc" -eq 0 ] || _e2e_ctr_remove "$name"
	return "$rc"
}
