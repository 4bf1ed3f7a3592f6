# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared helpers of the e2e runtime libraries (rootfs-lib.sh, containerd-lib.sh, podman-lib.sh).
# Sourced, never run, after tests/lib/common.sh (every test sources it first, through
# e2e-cni-lib.sh or hook-lib.sh, and calls hg_init: hg_defer, hg_skip, the host lock).
#
# Works under common.sh's `set -euo pipefail` + ERR trap: setup functions return
# non-zero on failure (so a bare call aborts the test with a message); cleanup functions
# never fail on what is already gone.
#
#   e2e_log MSG...             message on stderr, seconds since the library was sourced
#   e2e_now_ms                 milliseconds since the epoch
#   e2e_wait_for SECS CMD...   poll CMD every 20 ms until it succeeds; 1 on timeout
#   e2e_del_link NAME          delete a root-netns link if it exists
#   e2e_cni_defer_bridge_cleanup CONFLIST
#                              register deletion of the bridges a conflist names that do
#                              not exist yet (the bridge plugin never deletes them)
#   e2e_cover_paths SCRATCH PATH SRC [PATH SRC]...
#                              inside a private mount namespace only: make each PATH
#                              show SRC, even when PATH does not exist, without writing
#                              to the machine's directories
#   e2e_kill_mntns PID         SIGKILL every process in PID's mount namespace, and PID
#   e2e_janitor                remove what e2e runs killed by SIGKILL left behind

[ -n "${_E2E_COMMON_SOURCED:-}" ] && return 0
_E2E_COMMON_SOURCED=1

E2E_T0=${E2E_T0:-$(date +%s%N)}

e2e_now_ms() { echo $(($(date +%s%N) / 1000000)); }

e2e_log() {
	local ms=$((($(date +%s%N) - E2E_T0) / 1000000))
	printf '[e2e %d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}


e2e_wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# _e2e_pid_alive PID: PID exists and is not a zombie (a daemonized shim's or conmon's
# zombie waits for PID 1 to reap it, which can take a second here).
_e2e_pid_alive() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# _e2e_wait_gone SECS PID...: until none of the PIDs is alive.
_e2e_wait_gone() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000)) p alive
	shift
	while :; do
		alive=
		for p; do _e2e_pid_alive "$p" && alive=1; done
		[ -z "$alive" ] && return 0
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# _e2e_pids: every pid on the machine.
_e2e_pids() {
	local p
	for p in /proc/[0-9]*; do echo "${p#/proc/}"; done
}

# _e2e_argv0 PID: first word of the command line.
_e2e_argv0() { { tr '\0' '\n' <"/proc/$1/cmdline" | head -n1; } 2>/dev/null || :; }

e2e_del_link() {
	ip link show dev "$1" >/dev/null 2>&1 || return 0
	ip link del dev "$1" 2>/dev/null || :
}

_E2E_BRIDGES_DEFERRED=" "
e2e_cni_defer_bridge_cleanup() {
	local br
	for br in $(jq -r '(.plugins // [.])[] | select(.type == "bridge") | .bridge // "cni0"' "$1"); do
		case $_E2E_BRIDGES_DEFERRED in *" $br "*) continue ;; esac
		ip link show dev "$br" >/dev/null 2>&1 && continue
		_E2E_BRIDGES_DEFERRED="$_E2E_BRIDGES_DEFERRED$br "
		hg_defer e2e_del_link "$br"
	done
}

# e2e_cover_paths SCRATCH_DIR PATH SRC_DIR [PATH SRC_DIR]...
# Must run inside a private mount namespace (unshare -m --propagation private).
# A PATH that exists gets SRC_DIR bound over it. For a missing PATH, its deepest
# existing ancestor A first gets an overlayfs (lower = A itself, upper/work in
# SCRATCH_DIR), so the missing components are created in the upper layer only; a tmpfs
# is the fallback when overlayfs refuses. All overlays are mounted before any bind,
# shallowest first and each ancestor once: an overlay mounted on A later would hide the
# binds already made below A.
e2e_cover_paths() {
	local scratch=$1 path anc key i
	local -a paths=() srcs=() ancs=()
	shift
	while [ $# -ge 2 ]; do
		paths+=("$1")
		srcs+=("$2")
		shift 2
	done
	for path in "${paths[@]}"; do
		[ -d "$path" ] && continue
		anc=$path
		while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
		[ "$anc" != / ] || { echo "e2e_cover_paths: no overlay on /" >&2; return 1; }
		ancs+=("$anc")
	done
	if [ ${#ancs[@]} -gt 0 ]; then
		# Shortest first, each once: -u on the whole line (sort -n -u would keep one path
		# per length, and /etc, /opt and /run would then share one overlay).
		for anc in $(printf '%s\n' "${ancs[@]}" | awk '{ print length, $0 }' | sort -u | sort -n -s -k1,1 | cut -d' ' -f2-); do
			key=$(echo "$anc" | tr / _)
			mkdir -p "$scratch/ovl$key/up" "$scratch/ovl$key/work" || return 1
			mount -t overlay overlay -o \
				"lowerdir=$anc,upperdir=$scratch/ovl$key/up,workdir=$scratch/ovl$key/work" "$anc" ||
				mount -t tmpfs e2e-cover "$anc" || return 1
		done
	fi
	for i in "${!paths[@]}"; do
		mkdir -p "${paths[i]}" && mount --bind "${srcs[i]}" "${paths[i]}" || return 1
	done
}

# ---- firewall leftovers ---------------------------------------------------------

# _e2e_fw_snapshot: sorted nft tables and CNI-* iptables chains (for diffs).
_e2e_fw_snapshot() {
	local ipt t
	{
		nft list tables 2>/dev/null | sed 's/^/nft /' || :
		for ipt in iptables ip6tables; do
			command -v "$ipt" >/dev/null || continue
			for t in filter nat mangle; do
				"$ipt" -w 5 -t "$t" -S 2>/dev/null |
					awk -v p="$ipt $t" '$1 == "-N" && $2 ~ /^CNI-/ { print p, $2 }' || :
			done
		done
	} | LC_ALL=C sort
}

# _e2e_cni_purge_iptables NETWORK: remove the iptables/ip6tables rules the reference
# plugins (bridge ipMasq, portmap) left for NETWORK, recognised by their comment
# `name: "NETWORK"`, and the per-attachment CNI-* chains they jump to. Rules of other
# networks are never touched. Normally a no-op: DEL removes them.
_e2e_cni_purge_iptables() {
	local net=$1 ipt t line chain chains
	[ -n "$net" ] || return 0
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		for t in filter nat mangle; do
			chains=
			while IFS= read -r line; do
				case $line in -A\ *"name: \\\"$net\\\" "*) ;; *) continue ;; esac
				chain=$(sed -n 's/.* -j \(CNI-[^ ]*\).*/\1/p' <<<"$line")
				[ -z "$chain" ] || chains="$chains $chain"
				if eval "$ipt -w 5 -t $t -D ${line#-A }" 2>/dev/null; then
					e2e_log "purged leftover $ipt -t $t rule: $line"
				fi
			done < <("$ipt" -w 5 -t "$t" -S 2>/dev/null || :)
			for chain in $chains; do
				"$ipt" -w 5 -t "$t" -S 2>/dev/null | grep -q -- "-j $chain\( \|$\)" && continue
				"$ipt" -w 5 -t "$t" -F "$chain" 2>/dev/null || :
				"$ipt" -w 5 -t "$t" -X "$chain" 2>/dev/null || :
			done
		done
	done
	return 0
}

# _e2e_fw_purge_new_empty BEFORE_SNAPSHOT_FILE: delete the iptables-nft compatibility
# tables (ip/ip6 filter|nat|mangle|raw|security) absent from the snapshot that now hold
# no rule: iptables-nft creates them for a first rule (bridge ipMasq, portmap) and never
# removes them. Tables with rules, and any other table, are left alone.
_e2e_fw_purge_new_empty() {
	local fam name
	[ -f "$1" ] || return 0
	while read -r _ _ fam name; do
		case $fam in ip | ip6) ;; *) continue ;; esac
		case $name in filter | nat | mangle | raw | security) ;; *) continue ;; esac
		nft list table "$fam" "$name" 2>/dev/null |
			grep -qvE '^[[:space:]]*(table |chain |type |}|$)' && continue
		if nft delete table "$fam" "$name" 2>/dev/null; then
			e2e_log "removed empty iptables-nft table $fam $name created during the test"
		fi
	done < <(_e2e_fw_snapshot | LC_ALL=C comm -13 "$1" - | grep '^nft table ' || :)
	return 0
}

# _e2e_fw_report BEFORE_SNAPSHOT_FILE WHO: log firewall objects new since the snapshot.
_e2e_fw_report() {
	local new
	[ -f "$1" ] || return 0
	new=$(_e2e_fw_snapshot | LC_ALL=C comm -13 "$1" - | tr '\n' ';' || :)
	[ -z "$new" ] || e2e_log "$2: firewall objects new since setup, kept (in use or not ours): $new"
	return 0
}

# ---- cgroups --------------------------------------------------------------------

# _e2e_cgroup_kill_rm NAME: kill the processes of cgroup /NAME (every real cgroup
# hierarchy) and remove it with its children. Retries for 3 s: a killed task leaves
# its cgroup only once reaped. Returns 1 when something is left.
_e2e_cgroup_kill_rm() {
	local name=${1#/} cg i left pids
	for i in $(seq 150); do
		left=
		for cg in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
			[ -d "$cg" ] || continue
			case $(stat -f -c %T "$cg" 2>/dev/null) in cgroupfs | cgroup2fs) ;; *) continue ;; esac
			pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || :)
			# shellcheck disable=SC2086 # one pid per word
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || :
			find "$cg" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null || :
			rmdir "$cg" 2>/dev/null || left="$left $cg"
		done
		[ -z "$left" ] && return 0
		sleep 0.02
	done
	e2e_log "cgroups left:$left"
	return 1
}

# ---- janitor --------------------------------------------------------------------

# e2e_kill_mntns PID: SIGKILL every process in PID's mount namespace, and PID.
e2e_kill_mntns() {
	local p=$1 q ns
	ns=$(readlink "/proc/$p/ns/mnt" 2>/dev/null || :)
	for q in $(_e2e_pids); do
		[ -n "$ns" ] || break
		[ "$q" != "$p" ] || continue
		if [ "$(readlink "/proc/$q/ns/mnt" 2>/dev/null || :)" = "$ns" ]; then
			kill -KILL "$q" 2>/dev/null || :
		fi
	done
	kill -KILL "$p" 2>/dev/null || :
}

# e2e_janitor: after a test was SIGKILLed (meson timeout), its daemons keep running.
# Every long-lived e2e process carries argv[0] "hgt-OWNERPID-KIND"; for owners that are
# gone: end the podman namespace (all its processes), containerd and its shims, and the
# cgroups hgt-OWNERPID-*. Called by e2e_containerd_start and e2e_podman_setup.
e2e_janitor() {
	local p a owner ns q shim cg
	for p in $(_e2e_pids); do
		a=$(_e2e_argv0 "$p")
		case $a in hgt-[0-9]*-containerd | hgt-[0-9]*-podmanns | hgt-[0-9]*-kube*) ;; *) continue ;; esac
		owner=${a#hgt-}
		owner=${owner%%-*}
		kill -0 "$owner" 2>/dev/null && continue
		e2e_log "janitor: $a (pid $p) outlived its test"
		if [ "${a##*-}" = podmanns ]; then
			e2e_kill_mntns "$p"
		else
			kill -KILL "$p" 2>/dev/null || :
		fi
	done
	for shim in $(pgrep -f '^/usr/bin/containerd-shim-runc-v2 -namespace hgt-[0-9]+-' || :); do
		owner=$(tr '\0' ' ' <"/proc/$shim/cmdline" 2>/dev/null | sed -n 's/.*-namespace hgt-\([0-9]*\)-.*/\1/p' || :)
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			kill -KILL "$shim" 2>/dev/null || :
		fi
	done
	for cg in /sys/fs/cgroup/*/hgt-[0-9]*-* /sys/fs/cgroup/hgt-[0-9]*-*; do
		[ -d "$cg" ] || continue
		owner=${cg##*/hgt-}
		owner=${owner%%-*}
		kill -0 "$owner" 2>/dev/null || _e2e_cgroup_kill_rm "${cg##*/}" || :
	done
	return 0
}
