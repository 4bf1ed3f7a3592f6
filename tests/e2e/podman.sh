# shellcheck shell=bash
# podman 4.3 with the CNI backend for e2e tests, confined to a test directory.
# Sourced, never run. Source tests/lib/common.sh first when available (hg_defer); root.
#
#   e2e_podman_setup DIR CONFLIST_FILE PLUGIN_DIR [HOOKS_DIR] [RUNTIME]
#       DIR absolute without spaces; RUNTIME crun (default) or runc; HOOKS_DIR default
#       DIR/hooks.d (empty, so the machine's hooks.d is never used).
#       Writes DIR/containers.conf (network_backend "cni", cni_plugin_dirs [PLUGIN_DIR,
#       /usr/lib/cni], network_config_dir DIR/net.d holding NAME.conflist, cgroupfs, file
#       events, runtime, hooks_dir, ulimits nofile/nproc 4096, dns 127.0.0.1) and
#       DIR/storage.conf (overlay under DIR), exports CONTAINERS_CONF and
#       CONTAINERS_STORAGE_CONF, sets E2E_PODMAN_NETWORK (the conflist's name).
#       Builds DIR/rootfs with e2e_make_rootfs unless it exists (make it yourself before
#       setup to add /etc/hosts lines).
#       Every podman command runs (through e2e_podman) in ONE private mount namespace held
#       by a sleeping process, where
#         /var/lib/cni   = DIR/var-lib-cni   (libcni result cache, host-local leases)
#         /run/netns     = DIR/netns         (podman's netns bind mounts)
#         /etc/cni/net.d = DIR/net.d
#         /dev/shm       = a private tmpfs   (podman's SHM lock file libpod_lock)
#         /run/crun, /run/runc = DIR/run-crun, DIR/run-runc (runtime state)
#       so podman's mounts (overlay storage, netns, shm) never appear on the machine and
#       disappear with the namespace. With crun the hybrid-cgroup fix is applied inside that
#       namespace (see _e2e_podman_crun_fix); it vanishes with the namespace.
#       Registers e2e_podman_teardown with hg_defer.
#   e2e_podman ARG...
#       podman ARG... inside the namespace (CONTAINERS_* exported).
#   e2e_podman_nsenter CMD...
#       any command inside the namespace (e.g. `ip netns exec netns-… ip a`, cat a file
#       under /run/netns).
#   e2e_podman_run NAME NETWORK [PODMAN_RUN_FLAG...] -- CMD [ARG...]
#       podman run --rm --name NAME --network NETWORK --cgroup-parent E2E_PODMAN_CGROUP
#       [FLAGS] --rootfs COPY_OF_DIR/rootfs CMD...; prints stdout, returns podman's code.
#       Timeout E2E_PODMAN_TIMEOUT (default 60 s). Container and copy are removed after.
#   e2e_podman_teardown
#       rm -af, kill what is left in the namespace, unmount, remove cgroups, end the
#       namespace, undo the cgroup fix, remove iptables rules the reference plugins left
#       for this network (comment `name: "NETWORK"`), delete bridges podman created,
#       warn about new nft tables / CNI iptables chains.

# shellcheck source=tests/e2e/e2e-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-common.sh"
# shellcheck source=tests/e2e/rootfs.sh
. "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

E2E_PODMAN_TIMEOUT=${E2E_PODMAN_TIMEOUT:-60}

e2e_podman_nsenter() {
	nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- "$@"
}

e2e_podman() {
	nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- podman "$@"
}

e2e_podman_setup() {
	local dir=$1 conflist=$2 plugdir=$3 hooks=${4:-} runtime=${5:-crun} net
	e2e_need podman conmon nsenter unshare jq "$runtime"
	case $dir in /*) ;; *) echo "e2e_podman_setup: DIR must be absolute" >&2; return 1 ;; esac
	case $runtime in crun|runc) ;; *) echo "e2e_podman_setup: runtime crun|runc" >&2; return 1 ;; esac
	net=$(jq -er .name "$conflist") || { echo "e2e_podman_setup: conflist without name" >&2; return 1; }
	plugdir=$(cd "$plugdir" && pwd) || return 1
	mkdir -p "$dir"/{net.d,hooks.d,storage,runroot,tmp,var-lib-cni,netns,run-crun,run-runc,ovl,volumes} || return 1
	hooks=${hooks:-$dir/hooks.d}
	cp "$conflist" "$dir/net.d/$net.conflist" || return 1
	E2E_PODMAN_DIR=$dir E2E_PODMAN_NETWORK=$net E2E_PODMAN_RUNTIME=$runtime
	E2E_PODMAN_CGROUP=/hge2e-podman-$$
	# podman commands without --cgroup-parent use libpod_parent: clean it only if new.
	E2E_PODMAN_LIBPOD_PARENT=()
	local h
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "${h}libpod_parent" ] || E2E_PODMAN_LIBPOD_PARENT+=("${h}libpod_parent")
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
	unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_path)"'
		d=$1
		e2e_cover_path /var/lib/cni "$d/var-lib-cni" "$d/ovl" &&
		e2e_cover_path /run/netns "$d/netns" "$d/ovl" &&
		e2e_cover_path /etc/cni/net.d "$d/net.d" "$d/ovl" &&
		e2e_cover_path /run/crun "$d/run-crun" "$d/ovl" &&
		e2e_cover_path /run/runc "$d/run-runc" "$d/ovl" &&
		mount -t tmpfs -o mode=1777,size=64m e2e-shm /dev/shm || exit 1
		: >"$d/ns-ready"
		exec sleep infinity
	' e2e-podman-ns "$dir" >"$dir/ns.log" 2>&1 &
	E2E_PODMAN_NS_PID=$!
	hg_defer e2e_podman_teardown
	e2e_wait_for 10 test -e "$dir/ns-ready" || { cat "$dir/ns.log" >&2; return 1; }
	if [ "$runtime" = crun ]; then _e2e_podman_crun_fix || return 1; fi
	local t0; t0=$(e2e_now_ms)
	e2e_podman info --format '{{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}' >"$dir/info.txt" 2>&1 ||
		{ cat "$dir/info.txt" >&2; return 1; }
	e2e_log "podman ready ($(cat "$dir/info.txt")) in $(( $(e2e_now_ms) - t0 )) ms"
}

# crun 1.8 refuses "hybrid" cgroups (tmpfs /sys/fs/cgroup with v1 hierarchies plus a
# cgroup2 at /sys/fs/cgroup/unified that owns a controller, here hugetlb). Fix used here,
# confined to the podman namespace: cover /sys/fs/cgroup/unified with a private tmpfs, so
# crun sees plain v1 ("legacy") cgroups. Nothing changes outside the namespace (unlike
# moving hugetlb to a v1 mount, which is kernel-wide and outlives its umount while
# dying child cgroups exist). crun still writes cgroup.procs files below
# /sys/fs/cgroup/unified: they land in that private tmpfs and vanish with it.
_e2e_podman_crun_fix() {
	local u=/sys/fs/cgroup/unified
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] || return 0
	[ "$(stat -f -c %T "$u" 2>/dev/null)" = cgroup2fs ] || return 0
	e2e_podman_nsenter mount -t tmpfs -o size=1m,mode=755 e2e-no-unified "$u" || return 1
	e2e_log "crun hybrid-cgroup fix: $u covered by a tmpfs in the podman namespace"
}

e2e_podman_run() {
	local name=$1 net=$2; shift 2
	local flags=() rc copy
	while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || { echo "e2e_podman_run: no command" >&2; return 2; }
	copy=$E2E_PODMAN_DIR/rootfs-$name
	rm -rf "$copy" && cp -a "$E2E_PODMAN_DIR/rootfs" "$copy" || return 1
	hg_defer _e2e_podman_rm "$name" "$copy"
	local t0; t0=$(e2e_now_ms)
	timeout -k 5 "$E2E_PODMAN_TIMEOUT" nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- \
		podman run --rm --name "$name" --network "$net" --cgroup-parent "$E2E_PODMAN_CGROUP" \
		"${flags[@]}" --rootfs "$copy" "$@"
	rc=$?
	E2E_PODMAN_RUN_MS=$(( $(e2e_now_ms) - t0 ))
	e2e_log "podman run $name ($E2E_PODMAN_RUNTIME): rc $rc in ${E2E_PODMAN_RUN_MS} ms"
	_e2e_podman_rm "$name" "$copy"
	return "$rc"
}

_e2e_podman_rm() { # NAME COPY
	[ -n "${E2E_PODMAN_NS_PID:-}" ] && kill -0 "$E2E_PODMAN_NS_PID" 2>/dev/null &&
		e2e_podman rm -f -t 0 --ignore "$1" >/dev/null 2>&1
	rm -rf "$2"
	return 0
}

# Processes in the podman mount namespace, except its holder.
_e2e_podman_ns_pids() {
	local ns p
	ns=$(readlink "/proc/$E2E_PODMAN_NS_PID/ns/mnt") || return 0
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$E2E_PODMAN_NS_PID" ] && continue
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
}

# e2e_podman_cgroup_cleanup: remove our cgroup parent (and libpod_parent when it did not
# exist at setup) in every hierarchy, as seen from the podman namespace. Retries while
# the killed conmon is a zombie not yet reaped by PID 1 (its cgroup stays busy).
_e2e_podman_cgroup_cleanup() {
	e2e_podman_nsenter bash -c '
		left=
		for i in $(seq 150); do
			left=
			for cg in "$@"; do
				[ -d "$cg" ] || continue
				case $(stat -f -c %T "$cg") in
				cgroupfs|cgroup2fs)
					find "$cg" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
					rmdir "$cg" 2>/dev/null || left="$left $cg" ;;
				*) rm -rf "$cg" ;;
				esac
			done
			[ -z "$left" ] && exit 0
			sleep 0.02
		done
		echo "podman teardown: cgroups left:$left" >&2; exit 1
	' e2e /sys/fs/cgroup/*/"${E2E_PODMAN_CGROUP#/}" /sys/fs/cgroup/"${E2E_PODMAN_CGROUP#/}" \
		"${E2E_PODMAN_LIBPOD_PARENT[@]}"
}

e2e_podman_teardown() {
	[ -n "${E2E_PODMAN_NS_PID:-}" ] || return 0
	local d=$E2E_PODMAN_DIR p i mp
	if kill -0 "$E2E_PODMAN_NS_PID" 2>/dev/null; then
		timeout 60 nsenter --mount="/proc/$E2E_PODMAN_NS_PID/ns/mnt" -- \
			podman rm -a -f -t 0 >/dev/null 2>&1
		p=$(_e2e_podman_ns_pids)
		[ -z "$p" ] || { e2e_log "podman teardown: killing leftover pids $p"; kill -KILL $p 2>/dev/null; }
		for i in $(seq 100); do
			p=; for mp in $(_e2e_podman_ns_pids); do _e2e_pid_alive "$mp" && p=1; done
			[ -z "$p" ] && break; sleep 0.02
		done
		_e2e_podman_cgroup_cleanup
		kill -KILL "$E2E_PODMAN_NS_PID" 2>/dev/null
	fi
	wait "$E2E_PODMAN_NS_PID" 2>/dev/null
	E2E_PODMAN_NS_PID=
	_e2e_cni_purge_iptables "$E2E_PODMAN_NETWORK"
	_e2e_fw_purge_new_empty "$d/fw-before.txt"
	if [ -f "$d/fw-before.txt" ]; then
		local new; new=$(_e2e_fw_snapshot | comm -13 "$d/fw-before.txt" -)
		[ -z "$new" ] || e2e_log "podman teardown: firewall objects new since setup, kept (not empty or not ours): $new"
	fi
	# Every podman mount lived in the namespace: no mount can remain under DIR.
	if grep -qF " $d/" /proc/self/mounts; then
		e2e_log "podman teardown: mounts left under $d"; return 1
	fi
	rm -rf "${d:?}"/{storage,runroot,tmp,var-lib-cni,netns,run-crun,run-runc,ovl,volumes}
	rm -rf "$d"/rootfs-*
}
