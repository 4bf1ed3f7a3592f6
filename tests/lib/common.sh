# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared helpers for host-gateway integration / e2e tests. Also sources chain.sh (CNI
# chains by hand), hosts.sh (the managed hosts block) and cni.sh (subnets, bridge
# conflists, records).
#
# A test is a standalone bash script run by `meson test`:
#   exit 0 = pass, 77 = skip, anything else = fail.
#
#   . "$(dirname "$0")/../lib/common.sh"
#   hg_init my-test
#   hg_guard_forwarding on
#   hg_netns_add "hgt-$$-c1"
#   ...
#
# Everything a test creates is registered with hg_defer right after it is
# created, so the EXIT trap can undo it even when the test dies half-way.
# The binary keeps hosts-file locks and registries in the machine's
# /run/host-gateway whatever stateDir a test configures: a test that leaves there
# more than a user's own use would (lock files, empty folders) fails.
#
# Tests that touch host-global state (nft ruleset, ip_forward, root-netns
# links) must not run concurrently with each other: hg_init takes a host-wide
# lock, and meson should still declare such tests `is_parallel : false` so that
# waiting for the lock does not eat into a test's own timeout.

HG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HG_LOCK_DIR=/run/lock/host-gateway-tests.lock
HG_CLEANUPS=()
HG_GUARD_TABLE=
HG_HAVE_LOCK=
HG_NLISTEN=0
HG_SNAPSHOT_DIRS=()

hg_log() { printf '[%s] %s\n' "${HG_NAME:-hg}" "$*" >&2; }

hg_fail() {
	printf '[%s] FAIL: %s\n' "${HG_NAME:-hg}" "$*" >&2
	exit 1
}

# hg_skip MSG: exit 77 so meson reports SKIP rather than FAIL.
hg_skip() {
	printf '[%s] SKIP: %s\n' "${HG_NAME:-hg}" "$*" >&2
	exit 77
}

# hg_assert_eq ACTUAL EXPECTED [MSG]
hg_assert_eq() {
	[ "$1" = "$2" ] && return 0
	printf '[%s] FAIL: %s\n  expected: %q\n  actual:   %q\n' "${HG_NAME:-hg}" "${3:-values differ}" "$2" "$1" >&2
	exit 1
}

# hg_assert_contains HAYSTACK NEEDLE [MSG]
hg_assert_contains() {
	case $1 in *"$2"*) return 0 ;; esac
	printf '[%s] FAIL: %s\n  missing:  %q\n  in:\n%s\n' "${HG_NAME:-hg}" "${3:-substring missing}" "$2" "$1" >&2
	exit 1
}

# hg_defer CMD ARGS...: run CMD at exit, last registered first. Arguments are
# quoted now, so later changes to variables do not affect the cleanup.
hg_defer() {
	local q
	printf -v q '%q ' "$@"
	HG_CLEANUPS+=("$q")
}

_hg_exit() {
	local rc=$? i
	set +eE
	trap - EXIT INT TERM HUP ERR
	for ((i = ${#HG_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${HG_CLEANUPS[i]}" >/dev/null 2>&1
	done
	# Keep the evidence of a failed run when asked to.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${HG_KEEP_TMP:-}" ]; then
		hg_log "keeping $HG_TMP"
		rm -f "$HG_TMP/.hg-owner" # kept on purpose: not a killed run's for _hg_janitor
	else
		[ -n "${HG_TMP:-}" ] && rm -rf "$HG_TMP"
	fi
	# The plugin keeps hosts-file locks and owner registries in the default stateDir
	# whatever stateDir a test configures. A test must leave there no more than a user's
	# own use does (lock files, empty folders): what it left is named, fails the test, and
	# goes. A run that made the folder takes it away.
	if [ -n "$HG_HAVE_LOCK" ]; then
		_hg_run_leaks || { [ "$rc" -eq 0 ] && rc=1; }
		_hg_forwarding_kept || { [ "$rc" -eq 0 ] && rc=1; }
	fi
	[ -n "${HG_MADE_RUN_DIR:-}" ] && [ -n "$HG_HAVE_LOCK" ] && rm -rf /run/host-gateway
	[ -n "$HG_HAVE_LOCK" ] && rm -rf "$HG_LOCK_DIR"
	exit "$rc"
}

# _hg_forwarding_kept: a runtime or plugin a test starts (ptp, bridge with isGateway,
# CRI-O) switches the machine's forwarding on; hg_guard_forwarding puts it back. A test
# that left it changed is named, fails, and the value it found is restored.
_hg_forwarding_kept() {
	local f now kept=0
	for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do
		[ -e "$f" ] || continue
		now=$(cat "$f")
		[ "$now" = "${HG_FORWARDING_BEFORE[$f]:-$now}" ] && continue
		printf '[%s] FAIL: left %s at %s (it was %s; hg_guard_forwarding restores it)\n' \
			"${HG_NAME:-hg}" "$f" "$now" "${HG_FORWARDING_BEFORE[$f]}" >&2
		echo "${HG_FORWARDING_BEFORE[$f]}" >"$f"
		kept=1
	done
	return "$kept"
}

# _hg_run_entries: what /run/host-gateway holds beyond what a user's own use leaves there
# (its lock files and empty folders), one path per line, sorted.
_hg_run_entries() {
	[ -d /run/host-gateway ] || return 0
	find /run/host-gateway -mindepth 1 ! -type d ! -path '/run/host-gateway/.*.lock' 2>/dev/null | sort
}

# _hg_run_leaks: what this test added to /run/host-gateway (see _hg_run_entries). Each is
# named; a hosts registry of a file under $HG_TMP or of this test's containers (hgt-PID)
# is removed, since no user's container can own it. Fails when there was any.
_hg_run_leaks() {
	local left f
	left=$(comm -13 <(printf '%s\n' "$HG_RUN_BEFORE" | sed '/^$/d') <(_hg_run_entries))
	[ -n "$left" ] || return 0
	printf '[%s] FAIL: left in the machine'"'"'s /run/host-gateway:\n' "${HG_NAME:-hg}" >&2
	while IFS= read -r f; do
		printf '  %s: %s\n' "$f" "$(head -c 600 "$f" 2>/dev/null | tr '\n' ' ')" >&2
		case $f in /run/host-gateway/hosts/*.json) ;; *) continue ;; esac
		if grep -qF -e "${HG_TMP:-/nonexistent}/" -e "hgt-$$-" "$f" 2>/dev/null; then rm -f "$f"; fi
	done <<<"$left"
	return 1
}

# A lock directory rather than flock(1): an flock fd would be inherited by
# every daemon a test spawns (socat, conmon, containerd) and could outlive it.
_hg_lock() {
	local waited=0 owner
	# A test script started by another test (HG_LOCK_PID exported) shares
	# its parent's lock instead of deadlocking on it.
	owner=$(cat "$HG_LOCK_DIR/pid" 2>/dev/null || true)
	[ -n "$owner" ] && [ "$owner" = "${HG_LOCK_PID:-}" ] && return 0
	while ! mkdir "$HG_LOCK_DIR" 2>/dev/null; do
		owner=$(cat "$HG_LOCK_DIR/pid" 2>/dev/null || true)
		if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
			rm -rf "$HG_LOCK_DIR" # owner died without its trap (SIGKILL)
			continue
		fi
		# No owner for more than 5 s: a holder killed between its mkdir and its pid, or in
		# the middle of its release (rm -rf takes the pid first). rmdir removes only an
		# empty lock: one whose owner has written its pid meanwhile stays.
		if [ -z "$owner" ] && (($(date +%s) - $(stat -c %Y "$HG_LOCK_DIR" 2>/dev/null || date +%s) > 5)); then
			rmdir "$HG_LOCK_DIR" 2>/dev/null || true
			continue
		fi
		((waited++ < 3000)) || hg_fail "host lock $HG_LOCK_DIR held by pid ${owner:-?} for 300s"
		sleep 0.1
	done
	echo $$ >"$HG_LOCK_DIR/pid"
	HG_HAVE_LOCK=1
	export HG_LOCK_PID=$$
}

# Remove what an earlier test left when it was SIGKILLed (meson sends SIGKILL
# 0.5 s after SIGTERM on timeout): netns "hgt-PID-*" and guard tables of
# PIDs that are gone. Their sysctls cannot be recovered.
_hg_janitor() {
	local ns t pid
	for ns in $(ip netns list | awk '$1 ~ /^hgt-[0-9]+-/ { print $1 }'); do
		pid=${ns#hgt-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || hg_netns_del "$ns" || true
	done
	for t in $(nft list tables inet | awk '$3 ~ /^hg_guard_[0-9]+$/ { print $3 }'); do
		kill -0 "${t#hg_guard_}" 2>/dev/null || nft delete table inet "$t" || true
	done
	# Links on the host named after a test's PID (bridges "hgt-PID-b", veth ends).
	for t in $(ip -o link show | awk -F': ' '$2 ~ /^hgt-[0-9]+-/ { sub(/@.*/, "", $2); print $2 }'); do
		pid=${t#hgt-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null || ip link del "$t" 2>/dev/null || true
	done
	_hg_janitor_tmp
}

# _hg_janitor_tmp: the HG_TMP folders of runs killed by SIGKILL (no EXIT trap ran), known
# by their .hg-owner (the run's pid, gone). First every process still naming the folder on
# its command line dies: what a test started in the root netns outlives it there when its
# shell alone is killed (socat listeners, nginx, CoreDNS, conmon, shims) and would hold
# its ports for the next run. Then the folder goes, unless something is mounted below it.
# Folders without .hg-owner (kept with HG_KEEP_TMP, older runs) are left alone.
_hg_janitor_tmp() {
	local d owner p procs
	local -a argv
	for d in /tmp/hgt-*.*/.hg-owner; do
		[ -f "$d" ] || continue
		d=${d%/.hg-owner}
		owner=$(cat "$d/.hg-owner" 2>/dev/null || :)
		case $owner in '' | *[!0-9]*) continue ;; esac
		kill -0 "$owner" 2>/dev/null && continue
		procs=
		for p in /proc/[0-9]*; do
			p=${p#/proc/}
			[ "$p" != $$ ] || continue
			mapfile -d '' -t argv 2>/dev/null <"/proc/$p/cmdline" || continue
			case " ${argv[*]} " in *"$d/"*) procs="$procs $p" ;; esac
		done
		if [ -n "$procs" ]; then
			hg_log "janitor: processes of a killed run ($d):$procs"
			# shellcheck disable=SC2086 # one pid per word
			kill -KILL $procs 2>/dev/null || true
		fi
		awk -v d="$d/" 'index($2, d) == 1 { f = 1 } END { exit !f }' /proc/self/mounts && continue
		rm -rf --one-file-system "$d" 2>/dev/null || true
	done
	return 0
}

# hg_init NAME: strict mode, root check, temp dir, cleanup trap, plugin dir.
hg_init() {
	HG_NAME=${1:?hg_init NAME}
	set -euo pipefail
	[ "$(id -u)" -eq 0 ] || hg_skip "needs root"
	trap _hg_exit EXIT
	# Name the command that tripped set -e; the bare exit status says little.
	set -E
	trap 'hg_log "command failed (exit $?) at ${BASH_SOURCE[0]:-$0}:$LINENO: $BASH_COMMAND"' ERR
	# Signals must go through exit so the EXIT trap runs the cleanups.
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	HG_TMP=$(mktemp -d "/tmp/hgt-$HG_NAME.XXXX")
	echo $$ >"$HG_TMP/.hg-owner"
	_hg_lock
	_hg_janitor
	HG_MADE_RUN_DIR=
	[ -e /run/host-gateway ] || HG_MADE_RUN_DIR=1
	HG_RUN_BEFORE=$(_hg_run_entries)
	declare -gA HG_FORWARDING_BEFORE=()
	local fwd
	for fwd in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do
		[ -e "$fwd" ] && HG_FORWARDING_BEFORE[$fwd]=$(cat "$fwd")
	done

	if [ -z "${HG_BIN:-}" ]; then
		if [ -n "${MESON_BUILD_ROOT:-}" ]; then
			HG_BIN=$MESON_BUILD_ROOT/host-gateway
		else
			HG_BIN=$PWD/build/host-gateway
		fi
	fi
	HG_BIN=$(realpath -m "$HG_BIN")
	# The plugin is looked up by its CNI "type" name in CNI_PATH.
	HG_PLUGIN_DIR=$HG_TMP/cni-bin
	mkdir -p "$HG_PLUGIN_DIR"
	# A copy, not a link: a test writing through this path must never reach the build's
	# binary, which every later test runs.
	cp "$HG_BIN" "$HG_PLUGIN_DIR/host-gateway"
	HG_CNI_PATH=$HG_PLUGIN_DIR:/usr/lib/cni
	# The plugin's (and the hook's) stateDir in every test config.
	HG_STATE=$HG_TMP/state
	export HG_TMP HG_BIN HG_PLUGIN_DIR HG_CNI_PATH HG_STATE
}

# hg_require_bin: fail (not skip) when the binary under test was not built.
hg_require_bin() {
	[ -x "$HG_BIN" ] || hg_fail "binary under test not found: $HG_BIN (set HG_BIN)"
}

# hg_require_cmd CMD...: skip when a tool the test needs is not installed.
hg_require_cmd() {
	local c
	for c; do
		command -v "$c" >/dev/null 2>&1 || hg_skip "$c not installed"
	done
}

# hg_netns_add NAME: new netns with lo up, deleted at exit.
hg_netns_add() {
	ip netns add "$1"
	hg_defer hg_netns_del "$1"
	ip -n "$1" link set lo up
}

# hg_netns_del NAME: kill what runs in it and delete its links before the
# netns itself: the kernel frees a netns (and the host ends of its veths)
# asynchronously, which would leak into the next test's host snapshot.
hg_netns_del() {
	local pids dev
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	# shellcheck disable=SC2086 # one pid per word
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	for dev in $(ip -n "$1" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		# Both ends of a veth may sit here: the second is gone with the first.
		[ "$dev" = lo ] || ip -n "$1" link del dev "$dev" 2>/dev/null || true
	done
	ip netns delete "$1"
}

# hg_container_proc NS HOSTS_FILE: a long-lived process in netns NS with its own mount
# namespace whose /etc/hosts is HOSTS_FILE: the shape of a ctr container, whose hosts file
# the plugin reaches as /proc/PID/root/etc/hosts. Sets HG_CONTAINER_PID once the process
# really sits in its own mount namespace (only then may an ADD write through it). Killed
# at exit.
hg_container_proc() {
	# shellcheck disable=SC2016 # $1 is the inner sh's
	hg_container_proc_with "$1" 'mount --bind "$1" /etc/hosts' "$2"
}

# hg_container_proc_with NS SETUP [ARG]: the same, with the mount namespace prepared by the
# shell snippet SETUP instead (ARG is its $1), e.g. a tmpfs over /etc.
hg_container_proc_with() {
	local ns=$1 setup=$2 pid i ours
	ip netns exec "$ns" unshare -m --propagation private \
		sh -c "$setup && exec sleep 600" sh "${3:-}" &
	pid=$!
	disown "$pid"
	hg_defer kill -KILL "$pid"
	ours=$(readlink /proc/self/ns/mnt)
	# ip netns exec execs unshare, which execs sh, which execs sleep after the setup: the
	# same pid throughout. Wait for sleep in the other mount namespace.
	for ((i = 0; i < 100; i++)); do
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ] &&
			[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" != "$ours" ]; then
			# shellcheck disable=SC2034 # read by the caller
			HG_CONTAINER_PID=$pid
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || hg_fail "container process in $ns died"
		sleep 0.05
	done
	hg_fail "container process in $ns did not start"
}

# hg_in NS CMD...: run CMD in netns NS, or in the current one when NS is "-".
hg_in() {
	local ns=$1
	shift
	if [ "$ns" = - ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# hg_default_route_devs: interfaces that carry a default route (v4 or v6, any
# table) in the current netns, one per line. Multipath nexthops included.
hg_default_route_devs() {
	{
		ip -4 -j route show table all default 2>/dev/null || echo '[]'
		ip -6 -j route show table all default 2>/dev/null || echo '[]'
	} | jq -r '.[] | (.dev // empty), (.nexthops[]?.dev // empty)' | sort -u
}

# hg_guard_forwarding [on]: the workplace network-safety rule. Drops every
# forwarded packet leaving through an interface that carries a default route,
# and restores the forwarding sysctls at exit. With "on", IPv4 forwarding is
# switched on now (restored at exit), so a bridge plugin with isGateway does
# not change it later and host snapshots stay comparable. IPv6 forwarding is
# never switched on here: it makes the host ignore router advertisements.
hg_guard_forwarding() {
	local v4 v6=/proc/sys/net/ipv6/conf/all/forwarding devs rule=
	v4=$(cat /proc/sys/net/ipv4/ip_forward)
	hg_defer sh -c "echo $v4 >/proc/sys/net/ipv4/ip_forward"
	if [ -e "$v6" ]; then
		hg_defer sh -c "echo $(cat "$v6") >$v6"
	fi

	devs=$(hg_default_route_devs | jq -R . | paste -sd, -)
	if [ -n "$devs" ]; then
		rule="oifname { $devs } counter drop"
	else
		hg_log "guard: no default-route interface found"
	fi
	HG_GUARD_TABLE=hg_guard_$$
	# Priority -300: before any filter chain of the host could accept it.
	nft -f - <<-EOF
		table inet $HG_GUARD_TABLE {
			chain forward {
				type filter hook forward priority -300; policy accept;
				$rule
			}
		}
	EOF
	hg_defer nft delete table inet "$HG_GUARD_TABLE"

	if [ "${1:-}" = on ]; then
		echo 1 >/proc/sys/net/ipv4/ip_forward
	fi
}

# _hg_wait_port NS PROTO PORT PID: until something listens on PORT in NS.
_hg_wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$4" 2>/dev/null || return 1
		[ -n "$(hg_in "$1" ss -Hln"${2:0:1}" "sport = :$3")" ] && return 0
		sleep 0.05
	done
	return 1
}

# _hg_listen PROTO NS ADDR PORT [REPLY]: shared by the TCP and UDP listeners.
# REPLY is sent for every connection/datagram; "%PEER%" in it becomes the
# client's address (to check SNAT); without REPLY the input is echoed.
_hg_listen() {
	local proto=$1 ns=$2 addr=$3 port=$4 fam=4 bind=$3 n pid log handler pre=()
	case $addr in *:*) fam=6 bind="[$addr]" ;; esac
	n=$((HG_NLISTEN++))
	log=$HG_TMP/listener$n.log
	if [ $# -ge 5 ]; then
		printf '%s' "$5" >"$HG_TMP/listener$n.reply"
		handler="SYSTEM:sed -e s/%PEER%/\$SOCAT_PEERADDR/g $HG_TMP/listener$n.reply"
	else
		handler="SYSTEM:cat"
	fi
	# Started directly, not via hg_in: $! must be socat itself (ip netns exec
	# execs in place) so that the deferred kill reaches it.
	[ "$ns" != - ] && pre=(ip netns exec "$ns")
	if [ "$proto" = tcp ]; then
		# nofork: the handler's stdio is the connection itself. With a socat process
		# in between, socat 1.7.4 sometimes closes the connection when the handler
		# exits before relaying its output: ~0.3% of replies were lost (empty reply,
		# clean EOF), measured over 2000 connections; 0 in 2000 with nofork.
		# -t5: socat's default 0.5 s after the client's half-close can cut a reply
		# that is still being written under CPU load (2 in 60 connections seen).
		"${pre[@]}" socat -t5 "TCP$fam-LISTEN:$port,bind=$bind,reuseaddr,fork" "$handler,nofork" 2>"$log" &
	else
		"${pre[@]}" socat "UDP$fam-RECVFROM:$port,bind=$bind,fork" "$handler" 2>"$log" &
	fi
	pid=$!
	disown "$pid" # no "Killed" job notices when the cleanup kills it
	hg_defer kill "$pid"
	_hg_wait_port "$ns" "$proto" "$port" "$pid" ||
		hg_fail "$proto listener $ns $addr:$port did not start: $(cat "$log")"
}

# hg_listener NS ADDR PORT [REPLY]: TCP server in netns NS ("-" = current).
hg_listener() { _hg_listen tcp "$@"; }

# hg_udp_listener NS ADDR PORT [REPLY]: UDP server, one reply per datagram.
hg_udp_listener() { _hg_listen udp "$@"; }

# hg_connect NS ADDR PORT [tcp|udp] [DATA]: print what the server answers;
# fails after 2 s without an answer. Only for loopback or test-netns addresses.
hg_connect() {
	local ns=$1 addr=$2 port=$3 proto=${4:-tcp} data=${5:-ping} fam=4
	case $addr in *:*) fam=6 addr="[$addr]" ;; esac
	printf '%s' "$data" |
		hg_in "$ns" timeout 3 socat -t2 -T2 - "${proto^^}$fam:$addr:$port"
}

# Host state that a test must leave as it found it. Volatile details (nft
# counters, route expiry, netns ids) are dropped to keep the diff meaningful.
_hg_host_state() {
	local d
	echo "== nft ruleset"
	nft -s list ruleset | awk -v t="table inet $HG_GUARD_TABLE {" '
		$0 == t { skip = 1 } !skip { print } skip && /^}/ { skip = 0 }'
	echo "== ip addr show lo"
	ip addr show lo
	echo "== ip -br link"
	ip -br link
	echo "== ip route"
	ip -4 route show table all | sed 's/ expires [^ ]*//'
	ip -6 route show table all | sed 's/ expires [^ ]*//'
	echo "== ip rule"
	ip rule
	ip -6 rule
	echo "== ip netns list"
	ip netns list | sed 's/ (id: [0-9]*)//'
	echo "== forwarding"
	cat /proc/sys/net/ipv4/ip_forward
	cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null || true
	for d in "${HG_SNAPSHOT_DIRS[@]}"; do
		echo "== files in $d"
		{ find "$d" 2>/dev/null || true; } | sort
	done
}

# hg_snapshot_host [DIR...]: remember host state; DIRs (e.g. the plugin's
# state directory) are compared by their file lists.
hg_snapshot_host() {
	HG_SNAPSHOT_DIRS=("$@")
	_hg_host_state >"$HG_TMP/host.before"
}

# hg_assert_host_unchanged: compare with hg_snapshot_host. Retries for a few
# seconds because a deleted netns (and the veths in it) is torn down
# asynchronously by the kernel.
hg_assert_host_unchanged() {
	local i
	for ((i = 0; i < 30; i++)); do
		_hg_host_state >"$HG_TMP/host.after"
		cmp -s "$HG_TMP/host.before" "$HG_TMP/host.after" && return 0
		sleep 0.1
	done
	diff -u "$HG_TMP/host.before" "$HG_TMP/host.after" >&2 || true
	hg_fail "host state changed (see diff above)"
}

# shellcheck source-path=SCRIPTDIR source=chain.sh
. "$HG_LIB_DIR/chain.sh"
# shellcheck source-path=SCRIPTDIR source=hosts.sh
. "$HG_LIB_DIR/hosts.sh"
# shellcheck source-path=SCRIPTDIR source=cni.sh
. "$HG_LIB_DIR/cni.sh"

# hg_dir_entries DIR [FIND-TEST...]: the entries of DIR matching the find tests, full
# paths, sorted; nothing when DIR does not exist. On a fresh machine /run/netns, /run/crun
# and /run/runc appear only when something first uses them, and an absent folder simply
# has no entries; any other error of find still fails the caller (pipefail).
hg_dir_entries() {
	local dir=$1
	shift
	[ -e "$dir" ] || return 0
	find "$dir" -mindepth 1 -maxdepth 1 "$@" | sort
}
