# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A private containerd 1.6 daemon and `ctr run --cni` for e2e tests. Sourced, never run.
# Source tests/lib/common.sh and call hg_init first (hg_defer, host lock). Needs root.
#
#   e2e_containerd_start DIR
#       Start containerd with root, state and sockets under DIR (absolute, no spaces), CRI
#       plugin disabled, opt plugin in DIR/opt. It runs in its own private mount
#       namespace where DIR/run covers /run/containerd (1.6 puts shim sockets in
#       /run/containerd/s and runc state in /run/containerd/runc whatever `state` says):
#       nothing is created in /run, and its snapshot mounts never reach the machine.
#       Waits until it answers (~0.1 s), registers e2e_containerd_stop with hg_defer.
#       Sets E2E_CTRD_DIR E2E_CTRD_SOCK E2E_CTRD_PID E2E_CTRD_START_MS and E2E_CTR_NS
#       (containerd namespace, default hgt-$$-ctr; ctr's cgroups are /E2E_CTR_NS/ID).
#   e2e_containerd_stop
#       Remove tasks/containers, stop the daemon (TERM, then KILL after 5 s) and its
#       shims, remove the cgroups /E2E_CTR_NS, purge firewall leftovers of the networks
#       used. Returns 1 if cgroups or mounts are left. Safe to call twice.
#   e2e_ctr ARG...
#       ctr --address E2E_CTRD_SOCK -n E2E_CTR_NS ARG...
#   e2e_containerd_import_busybox [ROOTFS_DIR] [REF]
#       OCI image from a busybox rootfs (e2e_make_rootfs DIR/image/rootfs-src when no
#       ROOTFS_DIR) built with umoci (init, new, unpack, copy, repack, config cmd /bin/sh),
#       imported with `ctr images import --base-name`. REF default
#       docker.io/x/busybox:latest. Sets E2E_CTR_IMAGE. ~0.5-0.8 s.
#   e2e_ctr_run_cni NAME CONFLIST_FILE PLUGIN_DIR [CTR_RUN_FLAG...] -- CMD [ARG...]
#       `ctr run --rm --cni [FLAGS] E2E_CTR_IMAGE NAME CMD...`: prints the container's
#       stdout (ctr's and the container's stderr go to stderr), returns ctr's status:
#       the container's exit code, 1 on a CNI failure, 124 on timeout (137 when the
#       container ignored the SIGTERM ctr forwarded). Under `set -e` call it as
#       `out=$(e2e_ctr_run_cni ...) || rc=$?` or inside `if`.
#       ctr 1.6 takes the first file of /etc/cni/net.d and plugins from /opt/cni/bin
#       then /usr/lib/cni, caches in /var/lib/cni, with no flag, config or env to change
#       that; so ctr runs in a private mount namespace where
#         /etc/cni/net.d = DIR/cni/NAME/net.d (only a copy of CONFLIST_FILE)
#         /opt/cni/bin   = PLUGIN_DIR (bind; /usr/lib/cni stays the fallback)
#         /var/lib/cni   = DIR/cni/NAME/var-lib-cni (libcni cache, host-local leases)
#       and the machine's directories are never written (missing ones are created in an
#       overlay whose upper layer is in DIR). The plugins inherit ctr's environment.
#       Task and container are removed after a failure or timeout (E2E_CTR_TIMEOUT,
#       default 60 s) and again by hg_defer. The conflist's bridge is deleted at cleanup
#       when it did not exist before. Sets E2E_CTR_RUN_MS.
#       ctr's DEL comes after the task is gone, with CNI_NETNS empty: the reference
#       bridge plugin then cannot learn the container's IP and leaks its ipMasq rules;
#       e2e_containerd_stop purges them (by their comment `name: "NETWORK"`).

# shellcheck source=tests/e2e/e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"
# shellcheck source=tests/e2e/rootfs-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rootfs-lib.sh"

E2E_CTR_TIMEOUT=${E2E_CTR_TIMEOUT:-60}
E2E_CTRD_PID=${E2E_CTRD_PID:-}

e2e_ctr() {
	ctr --address "$E2E_CTRD_SOCK" -n "$E2E_CTR_NS" "$@"
}

e2e_containerd_start() {
	local dir=$1 t0
	hg_require_cmd containerd ctr containerd-shim-runc-v2 runc unshare umoci jq
	case $dir in /*) ;; *)
		echo "e2e_containerd_start: DIR must be absolute" >&2
		return 1
		;;
	esac
	[ -z "$E2E_CTRD_PID" ] || { echo "e2e_containerd_start: already running" >&2; return 1; }
	e2e_janitor
	mkdir -p "$dir"/{root,state,run,opt,fifo,ovl} || return 1
	E2E_CTRD_DIR=$dir
	E2E_CTRD_SOCK=$dir/containerd.sock
	E2E_CTR_NS=${E2E_CTR_NS:-hgt-$$-ctr}
	E2E_CTR_NETWORKS=" "
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
	_e2e_fw_snapshot >"$dir/fw-before.txt"
	t0=$(e2e_now_ms)
	# The daemon and every shim it forks live in this mount namespace only. argv[0]
	# hgt-$$-containerd lets e2e_janitor find it if this test is SIGKILLed.
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_paths)"'
		e2e_cover_paths "$1/ovl" /run/containerd "$1/run" || exit 1
		exec -a "$2" containerd --config "$1/config.toml" --log-level warn
	' e2e-containerd "$dir" "hgt-$$-containerd" >"$dir/containerd.log" 2>&1 &
	E2E_CTRD_PID=$!
	hg_defer e2e_containerd_stop
	if ! e2e_wait_for 20 ctr --address "$E2E_CTRD_SOCK" version; then
		echo "e2e_containerd_start: containerd not ready; log:" >&2
		tail -n 30 "$dir/containerd.log" >&2
		return 1
	fi
	E2E_CTRD_START_MS=$(($(e2e_now_ms) - t0))
	e2e_log "containerd pid $E2E_CTRD_PID ready in ${E2E_CTRD_START_MS} ms"
}

# Shims of our daemon: their command line names our socket.
_e2e_ctrd_shims() {
	local p
	for p in $(pgrep -f "^/usr/bin/containerd-shim-runc-v2 .*-address $E2E_CTRD_SOCK( |\$)" || :); do
		echo "$p"
	done
}

# _e2e_ctr_remove NAME: best effort, silent.
_e2e_ctr_remove() {
	[ -n "$E2E_CTRD_PID" ] && [ -S "$E2E_CTRD_SOCK" ] || return 0
	e2e_ctr tasks kill -s KILL "$1" >/dev/null 2>&1 || :
	e2e_ctr tasks rm -f "$1" >/dev/null 2>&1 || :
	e2e_ctr containers rm "$1" >/dev/null 2>&1 || :
	e2e_ctr snapshots rm "$1" >/dev/null 2>&1 || :
}

e2e_containerd_stop() {
	[ -n "$E2E_CTRD_PID" ] || return 0
	local c shims rc=0 net
	if kill -0 "$E2E_CTRD_PID" 2>/dev/null; then
		for c in $(e2e_ctr containers ls -q 2>/dev/null || :); do _e2e_ctr_remove "$c"; done
		shims=$(_e2e_ctrd_shims)
		kill -TERM "$E2E_CTRD_PID" 2>/dev/null || :
		_e2e_wait_gone 5 "$E2E_CTRD_PID" || kill -KILL "$E2E_CTRD_PID" 2>/dev/null || :
		shims="$shims $(_e2e_ctrd_shims)"
		# shellcheck disable=SC2086 # one pid per word
		[ -z "${shims// /}" ] || { kill -KILL $shims 2>/dev/null || :; _e2e_wait_gone 3 $shims || :; }
	fi
	wait "$E2E_CTRD_PID" 2>/dev/null || :
	E2E_CTRD_PID=
	# ctr's cgroup is /NS/ID in every hierarchy; runc removes ID, not NS.
	_e2e_cgroup_kill_rm "$E2E_CTR_NS" || rc=1
	for net in $E2E_CTR_NETWORKS; do _e2e_cni_purge_iptables "$net"; done
	_e2e_fw_purge_new_empty "$E2E_CTRD_DIR/fw-before.txt"
	_e2e_fw_report "$E2E_CTRD_DIR/fw-before.txt" "containerd stop"
	# All mounts lived in the daemon's namespace; anything under DIR would be a bug.
	if grep -qF " $E2E_CTRD_DIR/" /proc/self/mounts; then
		e2e_log "containerd stop: mounts left under $E2E_CTRD_DIR"
		return 1
	fi
	rm -rf "${E2E_CTRD_DIR:?}"/{root,state,run,opt,fifo,ovl,image,cni} \
		"$E2E_CTRD_DIR"/containerd.sock "$E2E_CTRD_DIR"/containerd.sock.ttrpc \
		"$E2E_CTRD_DIR"/fw-before.txt || :
	return "$rc"
}

e2e_containerd_import_busybox() {
	local rootfs=${1:-} ref=${2:-docker.io/x/busybox:latest}
	local w=$E2E_CTRD_DIR/image base tag
	base=${ref%:*}
	tag=${ref##*:}
	if [ "$base" = "$ref" ] || [[ $tag == */* ]]; then
		base=$ref
		tag=latest
	fi
	rm -rf "$w"
	mkdir -p "$w" || return 1
	if [ -z "$rootfs" ]; then
		rootfs=$w/rootfs-src
		e2e_make_rootfs "$rootfs" || return 1
	fi
	if ! {
		umoci init --layout "$w/layout" &&
			umoci new --image "$w/layout:$tag" &&
			umoci unpack --image "$w/layout:$tag" "$w/bundle" &&
			cp -a "$rootfs/." "$w/bundle/rootfs/" &&
			umoci repack --image "$w/layout:$tag" "$w/bundle" &&
			umoci config --image "$w/layout:$tag" --config.cmd /bin/sh \
				--config.env PATH=/bin:/sbin:/usr/bin &&
			umoci gc --layout "$w/layout" &&
			tar -C "$w/layout" -cf "$w/image.tar" . &&
			e2e_ctr images import --base-name "$base" "$w/image.tar"
	} >"$w/build.log" 2>&1; then
		cat "$w/build.log" >&2
		return 1
	fi
	rm -rf "$w/bundle" "$w/layout"
	E2E_CTR_IMAGE=$base:$tag
	if ! e2e_ctr images ls -q | grep -qxF "$E2E_CTR_IMAGE"; then
		echo "e2e_containerd_import_busybox: $E2E_CTR_IMAGE not listed" >&2
		return 1
	fi
}

e2e_ctr_run_cni() {
	local name=$1 conflist=$2 plugdir=$3 rc=0 t0 cd net
	local -a flags=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] || { echo "e2e_ctr_run_cni: no command" >&2; return 2; }
	[ -f "$conflist" ] || { echo "e2e_ctr_run_cni: no conflist $conflist" >&2; return 2; }
	plugdir=$(cd "$plugdir" && pwd) || return 2
	cd=$E2E_CTRD_DIR/cni/$name
	rm -rf "$cd"
	mkdir -p "$cd/net.d" "$cd/var-lib-cni" "$cd/ovl" || return 1
	cp "$conflist" "$cd/net.d/10-e2e.conflist" || return 1
	e2e_cni_defer_bridge_cleanup "$conflist"
	net=$(jq -r '.name // empty' "$conflist")
	case $E2E_CTR_NETWORKS in *" $net "*) ;; *) E2E_CTR_NETWORKS="$E2E_CTR_NETWORKS$net " ;; esac
	hg_defer _e2e_ctr_remove "$name"
	t0=$(e2e_now_ms)
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	timeout -k 2 "$E2E_CTR_TIMEOUT" unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_paths)"'
		cd=$1 plug=$2
		shift 2
		e2e_cover_paths "$cd/ovl" /etc/cni/net.d "$cd/net.d" /opt/cni/bin "$plug" \
			/var/lib/cni "$cd/var-lib-cni" || exit 125
		exec "$@"
	' e2e-ctr "$cd" "$plugdir" \
		ctr --address "$E2E_CTRD_SOCK" -n "$E2E_CTR_NS" run --rm --cni \
		--fifo-dir "$E2E_CTRD_DIR/fifo" "${flags[@]}" "$E2E_CTR_IMAGE" "$name" "$@" || rc=$?
	E2E_CTR_RUN_MS=$(($(e2e_now_ms) - t0))
	e2e_log "ctr run $name: status $rc in ${E2E_CTR_RUN_MS} ms"
	# --rm removes container and task when all went well. After a failed CNI ADD or a
	# timeout they stay behind (and, on timeout, the DEL never ran).
	[ "$rc" -eq 0 ] || _e2e_ctr_remove "$name"
	return "$rc"
}
