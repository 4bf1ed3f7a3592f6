# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# podman 4.3 with the CNI backend for e2e tests, confined to a test directory.
# Sourced, never run. Source tests/lib/common.sh and call hg_init first (hg_defer, host
# lock). Needs root.
#
#   e2e_podman_setup DIR CONFLIST_FILE PLUGIN_DIR [HOOKS_DIR] [RUNTIME]
#       DIR absolute, no spaces; RUNTIME crun (default) or runc; HOOKS_DIR default
#       DIR/hooks.d (empty: the machine's hooks.d directories are never used).
#       Writes DIR/containers.conf ([network] network_backend "cni", cni_plugin_dirs
#       [PLUGIN_DIR, /usr/lib/cni], network_config_dir DIR/net.d holding NAME.conflist,
#       default_network NAME; [engine] cgroupfs, file events in DIR, runtime, hooks_dir,
#       tmp_dir, volume_path; [containers] ulimits nofile/nproc 4096, log_driver
#       k8s-file, dns_servers 127.0.0.1 so no DNS query leaves a container) and
#       DIR/storage.conf (E2E_PODMAN_STORAGE_DRIVER, default overlay, under DIR), exports
#       CONTAINERS_CONF and CONTAINERS_STORAGE_CONF, sets E2E_PODMAN_NETWORK (= NAME, the
#       conflist's "name") and E2E_PODMAN_CGROUP. More networks: drop NAME2.conflist
#       files into DIR/net.d. Builds DIR/rootfs with e2e_make_rootfs unless it exists.
#       All podman commands run (through e2e_podman) in ONE private mount namespace,
#       held by a sleeping process (argv[0] hgt-$$-podmanns), where
#         /var/lib/cni   = DIR/var-lib-cni  (libcni result cache, host-local leases)
#         /run/netns     = DIR/netns        (podman's netns-UUID bind mounts)
#         /etc/cni/net.d = DIR/net.d
#         /run/crun      = DIR/run-crun, /run/runc = DIR/run-runc (runtime state)
#         /dev/shm       = a private tmpfs  (podman's lock file libpod_lock)
#       so podman's mounts (overlay storage, netns, shm) never reach the machine and die
#       with the namespace. The crun fix (see _e2e_podman_crun_fix) also lives there.
#       Registers e2e_podman_teardown with hg_defer.
#   e2e_podman ARG...           podman ARG... in that namespace
#   e2e_podman_nsenter CMD...   any command in that namespace (ls /run/netns, ip netns
#                               exec netns-UUID ..., cat DIR/storage/.../userdata/hosts)
#   e2e_podman_run NAME NETWORK [PODMAN_RUN_FLAG...] -- CMD [ARG...]
#       podman run --rm --name NAME --network NETWORK --cgroup-parent E2E_PODMAN_CGROUP
#       [FLAGS] --rootfs DIR/rootfs-NAME CMD... where DIR/rootfs-NAME is a fresh copy
#       of DIR/rootfs. Prints the container's stdout, returns podman's status (the
#       container's code; 125 podman error, 126 e.g. CNI ADD failed, 124 or 137 on timeout,
#       E2E_PODMAN_TIMEOUT default 60 s). Under set -e: `out=$(...) || rc=$?`.
#       Note: podman writes the container's /etc/hosts itself (from the machine's
#       /etc/hosts + host.containers.internal + the container), ignoring the rootfs's:
#       use --add-host NAME:IP, or --no-hosts to keep the rootfs's file.
#       Sets E2E_PODMAN_RUN_MS. Other podman commands (run -d, exec, inspect) go
#       through e2e_podman; pass --cgroup-parent "$E2E_PODMAN_CGROUP" to run/create.
#   e2e_podman_teardown
#       podman rm -af, kill what is left in the namespace and in E2E_PODMAN_CGROUP, end
#       the namespace, remove the cgroups, the iptables rules the reference plugins left
#       for NETWORK (comment `name: "NETWORK"`) and iptables-nft tables left empty, and
#       the bridge if podman created it. Returns 1 when cgroups or mounts are left.

# shellcheck source=tests/e2e/e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"
# shellcheck source=tests/e2e/rootfs-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rootfs-lib.sh"

E2E_PODMAN_TIMEOUT=${E2E_PODMAN_TIMEOUT:-60}
E2E_PODMAN_NS_PID=${E2E_PODMAN_NS_PID:-}

e2e_podman_nsenter() {
	nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- "$@"
}

e2e_podman() {
	nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- podman "$@"
}

e2e_podman_setup() {
	local dir=$1 conflist=$2 plugdir=$3 hooks=${4:-} runtime=${5:-crun} net h t0
	hg_require_cmd podman conmon nsenter unshare jq "$runtime"
	case $dir in /*) ;; *)
		echo "e2e_podman_setup: DIR must be absolute" >&2
		return 1
		;;
	esac
	case $runtime in crun | runc) ;; *)
		echo "e2e_podman_setup: RUNTIME is crun or runc" >&2
		return 1
		;;
	esac
	[ -z "$E2E_PODMAN_NS_PID" ] || { echo "e2e_podman_setup: already set up" >&2; return 1; }
	net=$(jq -er .name "$conflist") || { echo "e2e_podman_setup: conflist has no name" >&2; return 1; }
	plugdir=$(cd "$plugdir" && pwd) || return 1
	e2e_janitor
	mkdir -p "$dir"/{net.d,hooks.d,storage,runroot,tmp,var-lib-cni,netns,run-crun,run-runc,ovl,volumes} ||
		return 1
	hooks=${hooks:-$dir/hooks.d}
	cp "$conflist" "$dir/net.d/$net.conflist" || return 1
	E2E_PODMAN_DIR=$dir
	E2E_PODMAN_NETWORK=$net
	E2E_PODMAN_RUNTIME=$runtime
	E2E_PODMAN_CGROUP=/hgt-$$-podman
	# A podman command without --cgroup-parent uses libpod_parent: removed at teardown
	# only if it did not exist now (rmdir fails on one in use).
	E2E_PODMAN_LIBPOD_PARENT=
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "${h}libpod_parent" ] && E2E_PODMAN_LIBPOD_PARENT=keep
	done
	cat >"$dir/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
		dns_servers = ["127.0.0.1"]
		log_driver = "k8s-file"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$dir/events.log"
		runtime = "$runtime"
		hooks_dir = ["$hooks"]
		tmp_dir = "$dir/tmp"
		volume_path = "$dir/volumes"
		[network]
		network_backend = "cni"
		cni_plugin_dirs = ["$plugdir", "/usr/lib/cni"]
		network_config_dir = "$dir/net.d"
		default_network = "$net"
	EOF
	cat >"$dir/storage.conf" <<-EOF
		[storage]
		driver = "${E2E_PODMAN_STORAGE_DRIVER:-overlay}"
		graphroot = "$dir/storage"
		runroot = "$dir/runroot"
	EOF
	export CONTAINERS_CONF=$dir/containers.conf CONTAINERS_STORAGE_CONF=$dir/storage.conf
	[ -d "$dir/rootfs" ] || e2e_make_rootfs "$dir/rootfs" || return 1
	e2e_cni_defer_bridge_cleanup "$conflist"
	_e2e_fw_snapshot >"$dir/fw-before.txt"

	rm -f "$dir/ns-ready"
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_paths)"'
		d=$1
		e2e_cover_paths "$d/ovl" /var/lib/cni "$d/var-lib-cni" /run/netns "$d/netns" \
			/etc/cni/net.d "$d/net.d" /run/crun "$d/run-crun" /run/runc "$d/run-runc" &&
			mount -t tmpfs -o mode=1777,size=64m e2e-shm /dev/shm || exit 1
		: >"$d/ns-ready"
		exec -a "$2" sleep infinity
	' e2e-podman-ns "$dir" "hgt-$$-podmanns" >"$dir/ns.log" 2>&1 &
	E2E_PODMAN_NS_PID=$!
	hg_defer e2e_podman_teardown
	if ! e2e_wait_for 10 test -e "$dir/ns-ready"; then
		cat "$dir/ns.log" >&2
		return 1
	fi
	if [ "$runtime" = crun ]; then _e2e_podman_crun_fix || return 1; fi
	t0=$(e2e_now_ms)
	if ! e2e_podman info --format '{{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}' \
		>"$dir/info.txt" 2>&1; then
		cat "$dir/info.txt" >&2
		return 1
	fi
	e2e_log "podman ready ($(cat "$dir/info.txt")) in $(($(e2e_now_ms) - t0)) ms"
}

# crun 1.8 refuses "hybrid" cgroups (a tmpfs /sys/fs/cgroup with v1 hierarchies plus a
# cgroup2 at /sys/fs/cgroup/unified that owns a controller, here hugetlb). The fix,
# confined to the podman namespace: cover /sys/fs/cgroup/unified with a private tmpfs,
# so crun sees plain v1 ("legacy") cgroups; the cgroup.procs files crun still writes
# under /sys/fs/cgroup/unified land in that tmpfs and vanish with it. Unlike moving
# hugetlb to a v1 mount (runtimes.md), nothing changes for the rest of the machine:
# that move is kernel-wide, and umount alone does not undo it while dying child cgroups
# exist (the hierarchy stays, unmounted, and unified loses hugetlb until a later
# mount/umount of an empty hierarchy).
_e2e_podman_crun_fix() {
	local u=/sys/fs/cgroup/unified
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || :)" = tmpfs ] || return 0
	[ "$(stat -f -c %T "$u" 2>/dev/null || :)" = cgroup2fs ] || return 0
	e2e_podman_nsenter mount -t tmpfs -o size=1m,mode=755 e2e-no-unified "$u" || return 1
	e2e_log "crun hybrid-cgroup fix: $u covered by a tmpfs in the podman namespace"
}

e2e_podman_run() {
	local name=$1 net=$2 rc=0 copy t0
	local -a flags=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] || { echo "e2e_podman_run: no command" >&2; return 2; }
	copy=$E2E_PODMAN_DIR/rootfs-$name
	rm -rf "$copy"
	cp -a "$E2E_PODMAN_DIR/rootfs" "$copy" || return 1
	hg_defer _e2e_podman_rm "$name" "$copy"
	t0=$(e2e_now_ms)
	timeout -k 2 "$E2E_PODMAN_TIMEOUT" nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- \
		podman run --rm --name "$name" --network "$net" --cgroup-parent "$E2E_PODMAN_CGROUP" \
		"${flags[@]}" --rootfs "$copy" "$@" || rc=$?
	E2E_PODMAN_RUN_MS=$(($(e2e_now_ms) - t0))
	e2e_log "podman run $name ($E2E_PODMAN_RUNTIME): status $rc in ${E2E_PODMAN_RUN_MS} ms"
	_e2e_podman_rm "$name" "$copy"
	return "$rc"
}

# _e2e_podman_rm NAME ROOTFS_COPY: best effort, silent.
_e2e_podman_rm() {
	if [ -n "$E2E_PODMAN_NS_PID" ] && kill -0 "$E2E_PODMAN_NS_PID" 2>/dev/null; then
		timeout 30 nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- \
			podman rm -f -t 0 --ignore "$1" >/dev/null 2>&1 || :
	fi
	rm -rf "$2" || :
}

# Processes in the podman mount namespace, except its holder.
_e2e_podman_ns_pids() {
	local ns p
	ns=$(readlink "/proc/$E2E_PODMAN_NS_PID/ns/mnt" 2>/dev/null) || return 0
	for p in $(_e2e_pids); do
		[ "$p" != "$E2E_PODMAN_NS_PID" ] || continue
		[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null || :)" = "$ns" ] && echo "$p"
	done
	return 0
}

e2e_podman_teardown() {
	[ -n "$E2E_PODMAN_NS_PID" ] || return 0
	local d=$E2E_PODMAN_DIR p rc=0
	if kill -0 "$E2E_PODMAN_NS_PID" 2>/dev/null; then
		timeout 60 nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- \
			podman rm -a -f -t 0 >/dev/null 2>&1 || :
		p=$(_e2e_podman_ns_pids)
		if [ -n "$p" ]; then
			e2e_log "podman teardown: killing leftover pids $p"
			# shellcheck disable=SC2086 # one pid per word
			kill -KILL $p 2>/dev/null || :
			# shellcheck disable=SC2086
			_e2e_wait_gone 3 $p || :
		fi
		kill -KILL "$E2E_PODMAN_NS_PID" 2>/dev/null || :
	fi
	wait "$E2E_PODMAN_NS_PID" 2>/dev/null || :
	E2E_PODMAN_NS_PID=
	# Container processes have mount namespaces of their own: reach them by cgroup.
	_e2e_cgroup_kill_rm "$E2E_PODMAN_CGROUP" || rc=1
	if [ -z "$E2E_PODMAN_LIBPOD_PARENT" ]; then
		_e2e_cgroup_rmdir_tree libpod_parent
	fi
	_e2e_cni_purge_iptables "$E2E_PODMAN_NETWORK"
	_e2e_fw_purge_new_empty "$d/fw-before.txt"
	_e2e_fw_report "$d/fw-before.txt" "podman teardown"
	# Every podman mount lived in the namespace: none can remain under DIR.
	if grep -qF " $d/" /proc/self/mounts; then
		e2e_log "podman teardown: mounts left under $d"
		return 1
	fi
	rm -rf "${d:?}"/{storage,runroot,tmp,var-lib-cni,netns,run-crun,run-runc,ovl,volumes} \
		"$d"/rootfs-* "$d"/fw-before.txt "$d"/ns-ready || :
	return "$rc"
}

# _e2e_cgroup_rmdir_tree NAME: rmdir /NAME and its empty children in every real
# hierarchy; cgroups in use stay (rmdir refuses them).
_e2e_cgroup_rmdir_tree() {
	local cg
	for cg in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$cg" ] || continue
		case $(stat -f -c %T "$cg" 2>/dev/null || :) in cgroupfs | cgroup2fs) ;; *) continue ;; esac
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || :
	done
	return 0
}
