# shellcheck shell=bash
# Shared helpers for the e2e runtime libraries (rootfs.sh, containerd.sh, podman.sh).
# Sourced, never executed. Source tests/lib/common.sh BEFORE this file when it exists:
# its hg_defer is then used; otherwise a minimal LIFO fallback is defined here.
#
#   e2e_log MSG...              message on stderr with elapsed seconds
#   e2e_skip MSG...             print "SKIP: MSG" and exit 77
#   e2e_need CMD...             skip (77) unless every CMD is on PATH
#   e2e_now_ms                  milliseconds since the epoch
#   e2e_wait_for TIMEOUT_S CMD...   poll CMD every 20 ms until it succeeds; 1 on timeout
#   e2e_cover_path PATH SRC_DIR SCRATCH
#       (only inside a private mount namespace) make PATH show SRC_DIR, even when PATH
#       does not exist on the machine, without writing to the machine's filesystem.

[ -n "${_E2E_COMMON_SOURCED:-}" ] && return 0
_E2E_COMMON_SOURCED=1

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_T0=${E2E_T0:-$(date +%s%N)}

e2e_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

e2e_log() {
	local now; now=$(date +%s%N)
	printf '[e2e %6.2fs] %s\n' "$(( (now - E2E_T0) / 1000000 ))e-3" "$*" >&2
}

e2e_skip() { echo "SKIP: $*"; exit 77; }

e2e_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || e2e_skip "missing $c"
	done
}

e2e_wait_for() {
	local timeout=$1; shift
	local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# ---- cleanup registry fallback -------------------------------------------------------
# tests/lib/common.sh provides hg_init/hg_defer. When it was not sourced, define a
# minimal equivalent: hg_defer CMD [ARG...] pushes a command, run LIFO on EXIT.
# Every deferred command runs even if an earlier one fails; output goes to stderr.
if ! declare -F hg_defer >/dev/null; then
	_E2E_DEFERRED=()
	hg_defer() {
		local q
		q=$(printf '%q ' "$@")
		_E2E_DEFERRED+=("$q")
	}
	_e2e_run_deferred() {
		local rc=$? i
		trap - EXIT INT TERM
		set +e
		for (( i=${#_E2E_DEFERRED[@]}-1; i>=0; i-- )); do
			eval "${_E2E_DEFERRED[i]}" >&2 2>&1 || true
		done
		_E2E_DEFERRED=()
		exit "$rc"
	}
	trap _e2e_run_deferred EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	E2E_FALLBACK_DEFER=1
fi

# e2e_cover_path PATH SRC_DIR SCRATCH_DIR
# Must run inside a private mount namespace (unshare -m --propagation private).
# If PATH exists: bind SRC_DIR over it. Otherwise the deepest existing ancestor A gets an
# overlayfs (lower = A itself, upper/work in SCRATCH_DIR) so that the missing components
# can be created in the upper layer only; then SRC_DIR is bound over PATH.
# An ancestor is overlaid once per shell (_E2E_OVERLAID): a second overlay on the same
# directory would hide the binds made below the first one.
# Nothing is ever written to the machine's own directories.
e2e_cover_path() {
	local path=$1 src=$2 scratch=$3 anc key
	if [ ! -d "$path" ]; then
		anc=$path
		while [ ! -d "$anc" ]; do anc=$(dirname "$anc"); done
		[ "$anc" != / ] || { echo "e2e_cover_path: refusing overlay on /" >&2; return 1; }
		case " ${_E2E_OVERLAID:-} " in
		*" $anc "*) ;;
		*)
			key=$(echo "$anc" | tr / _)
			mkdir -p "$scratch/ovl$key/up" "$scratch/ovl$key/work" || return 1
			mount -t overlay overlay -o \
				"lowerdir=$anc,upperdir=$scratch/ovl$key/up,workdir=$scratch/ovl$key/work" "$anc" ||
				mount -t tmpfs tmpfs "$anc" || return 1
			_E2E_OVERLAID="${_E2E_OVERLAID:-} $anc"
			;;
		esac
		mkdir -p "$path" || return 1
	fi
	mount --bind "$src" "$path"
}

# e2e_cni_defer_bridge_cleanup CONFLIST_FILE
# For each bridge the conflist's bridge plugins name (default cni0) that does not exist
# yet, register its deletion (the bridge plugin never deletes its bridge on DEL).
# Registered once per name per test process.
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

# e2e_del_link NAME: delete a link of the root netns if it exists.
e2e_del_link() {
	ip link show dev "$1" >/dev/null 2>&1 || return 0
	ip link del dev "$1"
}

# e2e_pid_alive PID: true while PID exists and is not a zombie (a daemonized shim's
# zombie waits for PID 1 to reap it).
_e2e_pid_alive() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# _e2e_fw_snapshot: sorted list of nft tables and CNI-* iptables chains (for diffs).
_e2e_fw_snapshot() {
	{
		nft list tables 2>/dev/null | sed 's/^/nft /'
		local ipt t
		for ipt in iptables ip6tables; do
			command -v "$ipt" >/dev/null || continue
			for t in filter nat mangle; do
				"$ipt" -w 5 -t "$t" -S 2>/dev/null | awk -v p="$ipt $t" '$1 == "-N" && $2 ~ /^CNI-/ {print p, $2}'
			done
		done
	} | sort
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
				[ -n "$chain" ] && chains="$chains $chain"
				eval "$ipt -w 5 -t $t -D ${line#-A }" 2>/dev/null &&
					e2e_log "purged leftover $ipt -t $t rule: $line"
			done < <("$ipt" -w 5 -t "$t" -S 2>/dev/null)
			for chain in $chains; do
				"$ipt" -w 5 -t "$t" -S 2>/dev/null | grep -q -- "-j $chain\\( \\|$\\)" && continue
				"$ipt" -w 5 -t "$t" -F "$chain" 2>/dev/null
				"$ipt" -w 5 -t "$t" -X "$chain" 2>/dev/null
			done
		done
	done
}

# _e2e_fw_purge_new_empty BEFORE_SNAPSHOT_FILE: delete the iptables-nft compatibility
# tables (ip/ip6 filter|nat|mangle|raw|security) that did not exist in the snapshot and
# now hold no rule: iptables-nft creates them for the first rule (bridge ipMasq, portmap)
# and never removes them. Tables with rules, and any other table, are left alone.
_e2e_fw_purge_new_empty() {
	[ -f "$1" ] || return 0
	local fam name
	while read -r _ _ fam name; do
		case $fam in ip|ip6) ;; *) continue ;; esac
		case $name in filter|nat|mangle|raw|security) ;; *) continue ;; esac
		nft list table "$fam" "$name" 2>/dev/null |
			grep -qvE '^[[:space:]]*(table |chain |type |}|$)' && continue
		nft delete table "$fam" "$name" 2>/dev/null &&
			e2e_log "removed empty iptables-nft table $fam $name created during the test"
	done < <(_e2e_fw_snapshot | comm -13 "$1" - | grep '^nft table ')
}
