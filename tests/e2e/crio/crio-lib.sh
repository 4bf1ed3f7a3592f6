# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A private CRI-O (built from its release by scripts/install-runtimes.sh), driven like
# kubelet through crictl (crictl-lib.sh: cc, cc_runp, ...). Sourced, never run, after
# tests/lib/common.sh and hg_init (hg_defer, the host lock). Needs root.
#
#   crio_need                   crio_janitor; skip unless runc, conmon, skopeo, umoci, jq,
#                               unshare and nsenter are installed; CRIO_BIN = the folder of
#                               crio and pinns, HG_CNI_PLUGINS_BIN = the reference plugins
#                               v1.10.0, CRICTL (fails when one of them cannot be built).
#                               Call it right after hg_init: before the test checks its
#                               subnets and ports are free
#   crio_janitor                what a run of this test killed by SIGKILL left (its CRI-O,
#                               conmon, containers, cgroups: see _crio_janitor; the host-side
#                               listeners of hg_listener), then e2e_janitor
#   crio_prepare DIR            the folders under DIR (absolute, no spaces) the caller
#                               fills before crio_start, DIR/crio.conf, and the private
#                               mount namespace CRI-O runs in, held by a sleeping process
#                               (argv[0] hgt-$$-crions), in which
#         /opt/cni/bin        = DIR/opt-cni-bin       what a node has there (the shipped
#         /etc/host-gateway   = DIR/etc-host-gateway  hooks.d files name
#                                                     /opt/cni/bin/host-gateway; the hook's
#                                                     config.json)
#         /run/host-gateway   = DIR/run-host-gateway  (hosts-file locks and registries)
#         /var/lib/cni        = DIR/var-lib-cni       (libcni's result cache)
#         /etc/containers, /etc/crio, /etc/cdi, /etc/nri, /opt/nri, /run/crio,
#         /run/containers, /run/nri, /run/cdi, /var/lib/crio, /var/lib/containers,
#         /var/log/crio       = empty folders of DIR (CRI-O's and containers/image's
#                               defaults: nothing of the machine is read or written)
#       Sets CRIO_DIR, CRI_SOCK (DIR/crio.sock, for crictl-lib.sh) and CRIO_CGROUP
#       (hgt-$$-crio: give pods cgroup parents /CRIO_CGROUP/...; cgroupfs). Registers
#       crio_stop with hg_defer. The caller fills
#         DIR/net.d           network_dir (the conflists)
#         DIR/cni-bin         plugin_dirs (the plugins, loopback included: ocicni uses it)
#         DIR/hooks.d         hooks_dir (read when CRI-O starts, never again)
#         DIR/opt-cni-bin, DIR/etc-host-gateway (above)
#   crio_conf DIR               prints the crio.conf crio_prepare writes: every path under
#                               DIR, cgroupfs, runc (Debian's) as the default runtime with
#                               Debian's conmon in the pod's cgroup, the pause image
#                               localhost/hgt/busybox:1 with its own command, no infra
#                               container for pods without a shared pid namespace
#                               (drop_infra_ctr, CRI-O's default), NRI on (its default)
#   crio_import_image REF CMD...
#                               an OCI image of a busybox rootfs whose command is CMD
#                               (cri_image_layout), copied by skopeo into CRI-O's
#                               containers/storage under REF (in the namespace)
#   crio_start                  crio --config DIR/crio.conf --config-dir DIR/crio.conf.d
#                               (empty) in the namespace, argv[0] hgt-$$-crio, stderr
#                               appended to DIR/crio.log; waits until the CRI answers
#                               Version. Sets CRIO_PID and CRIO_START_MS
#   crio_stop_daemon            SIGTERM to crio, as a node restarting CRI-O: pods,
#                               containers and their conmon keep running, the namespace
#                               (netns pins, rootfs mounts) stays for the next crio_start
#   crio_stop                   remove every container (no grace) and pod still there
#                               (crictl stopp + rmp: CNI DEL), stop crio, kill what is
#                               left in the namespace (conmon) and in /CRIO_CGROUP
#                               (containers), end the namespace, remove the cgroups and
#                               the iptables-nft tables left empty. Returns 1 when cgroups
#                               or mounts are left. Safe to call twice.
#   crio_ns CMD...              CMD in CRI-O's mount namespace
#   crio_network_ready          "true", or "false: REASON MESSAGE" (crictl info)
#   crio_spec CID               the OCI spec CRI-O gave runc for container CID

CRIO_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/e2e-lib.sh
. "$CRIO_LIB_DIR/../e2e-lib.sh"
# shellcheck source=tests/e2e/rootfs-lib.sh
. "$CRIO_LIB_DIR/../rootfs-lib.sh"
# shellcheck source=tests/e2e/cri/crictl-lib.sh
. "$CRIO_LIB_DIR/../cri/crictl-lib.sh"

CRIO_PID=${CRIO_PID:-}
CRIO_NS_PID=${CRIO_NS_PID:-}
CRIO_DIR=${CRIO_DIR:-}

crio_need() {
	local env
	crio_janitor
	hg_require_cmd runc conmon skopeo umoci jq unshare nsenter flock
	env=$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cri-o cni-plugins) ||
		hg_fail "CRI-O could not be built (scripts/install-runtimes.sh cri-o cni-plugins)"
	eval "$env"
	CRIO_BIN=$HG_CRIO_BIN
	if [ ! -x "$CRIO_BIN/crio" ] || [ ! -x "$CRIO_BIN/pinns" ]; then
		hg_fail "crio or pinns missing in $CRIO_BIN"
	fi
	crictl_need
}

crio_conf() {
	local d=$1
	cat <<-EOF
		# CRI-O for host-gateway's e2e-crio: everything under $d.
		[crio]
		root = "$d/storage/root"
		runroot = "$d/storage/run"
		storage_driver = "overlay"
		log_dir = "$d/log"
		version_file = "$d/version"
		version_file_persist = "$d/version-persist"
		clean_shutdown_file = "$d/clean.shutdown"

		[crio.api]
		listen = "$d/crio.sock"
		stream_address = "127.0.0.1"
		stream_port = "0"

		[crio.runtime]
		default_runtime = "runc"
		cgroup_manager = "cgroupfs"
		hooks_dir = ["$d/hooks.d"]
		container_exits_dir = "$d/exits"
		container_attach_socket_dir = "$d/attach"
		namespaces_dir = "$d/ns"
		pinns_path = "$CRIO_BIN/pinns"
		cdi_spec_dirs = ["$d/cdi"]
		decryption_keys_path = "$d/keys"
		irqbalance_config_file = "$d/irqbalance"
		irqbalance_config_restore_file = ""
		drop_infra_ctr = true

		[crio.runtime.runtimes.runc]
		runtime_path = "/usr/bin/runc"
		runtime_type = "oci"
		runtime_root = "$d/runc"
		monitor_path = "/usr/bin/conmon"
		monitor_cgroup = "pod"
		monitor_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

		# CRI-O's built-in handler stays whatever the file says: its state under DIR too.
		# Unused (crun 1.8 refuses this machine's hybrid cgroups).
		[crio.runtime.runtimes.crun]
		runtime_path = "/usr/bin/crun"
		runtime_root = "$d/crun"
		monitor_path = "/usr/bin/conmon"
		monitor_cgroup = "pod"

		[crio.image]
		pause_image = "localhost/hgt/busybox:1"
		pause_command = ""
		signature_policy = "$d/policy.json"
		signature_policy_dir = "$d/policies"
		big_files_temporary_dir = "$d/tmp"

		[crio.network]
		network_dir = "$d/net.d"
		plugin_dirs = ["$d/cni-bin"]

		[crio.nri]
		enable_nri = true
		nri_listen = "$d/nri/nri.sock"
		nri_plugin_dir = "$d/nri-opt"
		nri_plugin_config_dir = "$d/nri-etc"
	EOF
}

crio_ns() {
	nsenter --mount="/proc/$CRIO_NS_PID/ns/mnt" -- "$@"
}

# _crio_janitor: a CRI-O of a test that was SIGKILLed (e2e_janitor knows containerd and
# podman only): for a holder hgt-OWNER-crions whose owner is gone, every process of its
# mount namespace (crio, conmon) is killed, as e2e_janitor does for podman's; the
# containers, in their own mount namespaces, sit in the cgroup hgt-OWNER-crio, which
# e2e_janitor removes after this.
_crio_janitor() {
	local p a owner
	for p in $(_e2e_pids); do
		a=$(_e2e_argv0 "$p")
		case $a in hgt-[0-9]*-crions | hgt-[0-9]*-crio) ;; *) continue ;; esac
		owner=${a#hgt-}
		owner=${owner%%-*}
		kill -0 "$owner" 2>/dev/null && continue
		e2e_log "crio janitor: $a (pid $p) outlived its test"
		e2e_kill_mntns "$p"
	done
	return 0
}

crio_janitor() {
	local p a
	_crio_janitor
	# hg_listener's socat names its run's HG_TMP (/tmp/hgt-NAME.XXXX); under the host lock
	# no other run of this test is alive, so one that is not ours outlived a SIGKILL.
	for p in $(pgrep -x socat || :); do
		a=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || :)
		case $a in *" /tmp/hgt-$HG_NAME."*) ;; *) continue ;; esac
		case $a in *" $HG_TMP/"*) continue ;; esac
		e2e_log "crio janitor: listener $p of a killed run: $a"
		kill -KILL "$p" 2>/dev/null || :
	done
	e2e_janitor
}

crio_prepare() {
	local d=$1
	case $d in /*) ;; *)
		echo "crio_prepare: DIR must be absolute" >&2
		return 1
		;;
	esac
	[ -z "$CRIO_NS_PID" ] || { echo "crio_prepare: already prepared" >&2; return 1; }
	crio_janitor
	mkdir -p "$d"/{net.d,cni-bin,hooks.d,opt-cni-bin,etc-host-gateway,run-host-gateway,var-lib-cni} \
		"$d"/{storage,log,exits,attach,ns,runc,crun,cdi,keys,policies,tmp,nri,nri-opt,nri-etc,crio.conf.d,ovl} \
		"$d"/empty/{etc-containers,etc-crio,etc-cdi,run-crio,run-containers,run-cdi,var-lib-crio,var-lib-containers,var-log-crio} ||
		return 1
	CRIO_DIR=$d
	CRIO_CGROUP=hgt-$$-crio
	CRI_SOCK=$d/crio.sock
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$d/policy.json"
	crio_conf "$d" >"$d/crio.conf"
	_e2e_fw_snapshot >"$d/fw-before.txt"
	rm -f "$d/ns-ready"
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	unshare -m --propagation private -- bash -c '
		'"$(declare -f e2e_cover_paths)"'
		d=$1 e=$1/empty
		# One call per top-level tree (see cri-lib.sh): each missing path gets an overlay
		# on its deepest existing ancestor, whose upper layer is in DIR/ovl.
		e2e_cover_paths "$d/ovl" /run/crio "$e/run-crio" /run/containers "$e/run-containers" \
			/run/nri "$d/nri" /run/cdi "$e/run-cdi" /run/host-gateway "$d/run-host-gateway" || exit 1
		e2e_cover_paths "$d/ovl" /var/lib/cni "$d/var-lib-cni" /var/lib/crio "$e/var-lib-crio" \
			/var/lib/containers "$e/var-lib-containers" || exit 1
		e2e_cover_paths "$d/ovl" /var/log/crio "$e/var-log-crio" || exit 1
		e2e_cover_paths "$d/ovl" /opt/cni/bin "$d/opt-cni-bin" /opt/nri "$d/nri-opt" || exit 1
		e2e_cover_paths "$d/ovl" /etc/containers "$e/etc-containers" /etc/crio "$e/etc-crio" \
			/etc/cdi "$e/etc-cdi" /etc/nri "$d/nri-etc" /etc/host-gateway "$d/etc-host-gateway" || exit 1
		: >"$d/ns-ready"
		exec -a "$2" sleep infinity
	' crio-ns "$d" "hgt-$$-crions" >"$d/ns.log" 2>&1 &
	CRIO_NS_PID=$!
	hg_defer crio_stop
	if ! e2e_wait_for 10 test -e "$d/ns-ready"; then
		cat "$d/ns.log" >&2
		return 1
	fi
}

crio_import_image() {
	local ref=$1 w=$CRIO_DIR/image
	shift
	cri_image_layout "$w" "${ref##*:}" "$@" || return 1
	crio_ns skopeo --policy "$CRIO_DIR/policy.json" copy --quiet "oci:$w/layout:${ref##*:}" \
		"containers-storage:[overlay@$CRIO_DIR/storage/root+$CRIO_DIR/storage/run]$ref" \
		>"$w/import.log" 2>&1 || {
		cat "$w/import.log" >&2
		return 1
	}
	rm -rf "$w"
}

crio_start() {
	local d=$CRIO_DIR t0
	[ -n "$CRIO_NS_PID" ] || { echo "crio_start: crio_prepare first" >&2; return 1; }
	[ -z "$CRIO_PID" ] || { echo "crio_start: already running" >&2; return 1; }
	t0=$(e2e_now_ms)
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	nsenter --mount="/proc/$CRIO_NS_PID/ns/mnt" -- bash -c '
		exec -a "$2" "$1/crio" --config "$3/crio.conf" --config-dir "$3/crio.conf.d" \
			--log-level "${CRIO_LOG_LEVEL:-info}"
	' crio "$CRIO_BIN" "hgt-$$-crio" "$d" >>"$d/crio.log" 2>&1 &
	CRIO_PID=$!
	if ! e2e_wait_for 30 cc --timeout 1s version; then
		echo "crio_start: CRI not ready; log:" >&2
		tail -n 30 "$d/crio.log" >&2
		return 1
	fi
	CRIO_START_MS=$(($(e2e_now_ms) - t0))
	e2e_log "CRI-O pid $CRIO_PID ready in ${CRIO_START_MS} ms"
}

crio_stop_daemon() {
	[ -n "$CRIO_PID" ] || return 0
	kill -TERM "$CRIO_PID" 2>/dev/null || :
	_e2e_wait_gone 15 "$CRIO_PID" || kill -KILL "$CRIO_PID" 2>/dev/null || :
	wait "$CRIO_PID" 2>/dev/null || :
	CRIO_PID=
}

# _crio_ns_pids: the processes in CRI-O's mount namespace but its holder (crio, conmon,
# a hook or plugin still running).
_crio_ns_pids() {
	local ns q
	ns=$(readlink "/proc/$CRIO_NS_PID/ns/mnt" 2>/dev/null) || return 0
	for q in $(_e2e_pids); do
		[ "$q" != "$CRIO_NS_PID" ] || continue
		[ "$(readlink "/proc/$q/ns/mnt" 2>/dev/null || :)" = "$ns" ] && echo "$q"
	done
	return 0
}

crio_stop() {
	[ -n "$CRIO_DIR" ] || return 0
	local p rest rc=0
	if [ -n "$CRIO_PID" ] && kill -0 "$CRIO_PID" 2>/dev/null; then
		# Containers first, without grace: stopp would give each CRI-O's 30 s.
		for p in $(cc ps -aq 2>/dev/null || :); do
			cc stop --timeout 0 "$p" >/dev/null 2>&1 || :
			cc rm -f "$p" >/dev/null 2>&1 || :
		done
		for p in $(cc pods -q 2>/dev/null || :); do
			cc stopp "$p" >/dev/null 2>&1 || :
			cc rmp -f "$p" >/dev/null 2>&1 || :
		done
	fi
	crio_stop_daemon
	if [ -n "$CRIO_NS_PID" ]; then
		rest=$(_crio_ns_pids)
		# shellcheck disable=SC2086 # one pid per word
		[ -z "$rest" ] || { kill -KILL $rest 2>/dev/null || :; _e2e_wait_gone 3 $rest || :; }
	fi
	_e2e_cgroup_kill_rm "$CRIO_CGROUP" || rc=1
	if [ -n "$CRIO_NS_PID" ]; then
		kill -KILL "$CRIO_NS_PID" 2>/dev/null || :
		wait "$CRIO_NS_PID" 2>/dev/null || :
		CRIO_NS_PID=
	fi
	_e2e_fw_purge_new_empty "$CRIO_DIR/fw-before.txt"
	_e2e_fw_report "$CRIO_DIR/fw-before.txt" "CRI-O stop"
	if grep -qF " $CRIO_DIR/" /proc/self/mounts; then
		e2e_log "CRI-O stop: mounts left under $CRIO_DIR"
		rc=1
	fi
	[ "$rc" != 0 ] || rm -rf "${CRIO_DIR:?}"/{storage,ovl,runc,crun,ns} || :
	CRIO_DIR=
	return "$rc"
}

crio_network_ready() {
	cc info | jq -r '.status.conditions[] | select(.type == "NetworkReady") |
		if .status then "true" else "false: \(.reason) \(.message)" end'
}

crio_spec() {
	cat "$CRIO_DIR/storage/run/overlay-containers/$1/userdata/config.json"
}
