# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers of the CNI e2e tests (real runtimes: ctr run --cni, podman's CNI backend).
# Sourced, never run. Sources tests/lib/common.sh, so a test needs only:
#   . "$(dirname "$0")/e2e-cni-lib.sh"
#   hg_init NAME
# then sources containerd-lib.sh and/or podman-lib.sh itself.
#
#   ec_port_free PORT...         fail when something listens on PORT (a listener of ours
#                                would then be reported ready when it is not)
#   EC_LOG                       the logFile of the plugin in the tests' conflists (set
#                                by the test)
#   ec_wait_record FILE SECS     until FILE exists; fail with the plugin log otherwise
#   ec_wait_no_records NETWORK SECS
#                                until NETWORK has no record; fail listing them otherwise
#   ec_traced_plugin_dir         a plugin dir (EC_PLUGIN_DIR) whose host-gateway is a tiny
#                                wrapper appending "COMMAND cid=.. netns=[..] by=[parent's
#                                command line]" to $EC_TRACE before it execs $HG_BIN: shows
#                                which calls the runtime made, from which process
#   ec_trace                     that trace
#   ec_calls CID                 the ADD and DEL lines of CID in the trace, without by=
#   ec_machine_paths [PATH...]   fingerprint of the machine's CNI paths and /etc/hosts
#                                (never written by the tests: compared before/after), and
#                                of each PATH two levels deep (what a runtime's private
#                                mount namespace covers)
# The hosts block (hg_block, ...), subnets (hg_subnet_free), conflists (hg_bridge_list)
# and records (hg_records cni/NETWORK) are tests/lib's; the plugin's stateDir is HG_STATE.

ECL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$ECL_DIR/../../.." && pwd)}
export HG_SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$HG_SOURCE_ROOT/tests/lib/common.sh"

ec_port_free() {
	local p
	for p; do
		[ -z "$(ss -Hlnt "sport = :$p")" ] || hg_fail "port $p already has a listener on this machine"
	done
}

ec_wait_record() {
	e2e_wait_for "$2" test -f "$1" && return 0
	hg_log "records now: $(find "$HG_STATE" -type f 2>/dev/null | tr '\n' ' ')"
	hg_log "plugin log: $(cat "$EC_LOG" 2>/dev/null || :)"
	hg_fail "no record $1 after $2 s"
}

ec_wait_no_records() {
	local net=$1 secs=$2
	# shellcheck disable=SC2016 # expanded by the inner bash
	e2e_wait_for "$secs" bash -c '[ -z "$(find "$1" -maxdepth 1 -name "*.json" 2>/dev/null)" ]' \
		_ "$HG_STATE/cni/$net" && return 0
	hg_log "plugin log: $(tail -n 20 "$EC_LOG" 2>/dev/null || :)"
	hg_fail "records of $net still there after $secs s: $(hg_records "cni/$net" | tr '\n' ' ')"
}

ec_traced_plugin_dir() {
	EC_PLUGIN_DIR=$HG_TMP/cni-traced
	EC_TRACE=$HG_TMP/cni-calls.log
	mkdir -p "$EC_PLUGIN_DIR"
	: >"$EC_TRACE"
	cat >"$EC_PLUGIN_DIR/host-gateway" <<-EOF
		#!/bin/sh
		by=\$(/usr/bin/tr '\\0\\n' '  ' </proc/\$PPID/cmdline)
		echo "\$CNI_COMMAND cid=\$CNI_CONTAINERID netns=[\$CNI_NETNS] by=[\${by% }]" >>'$EC_TRACE'
		exec '$HG_BIN' "\$@"
	EOF
	chmod 755 "$EC_PLUGIN_DIR/host-gateway"
}

ec_trace() { cat "$EC_TRACE" 2>/dev/null || :; }

ec_calls() {
	grep -E "^(ADD|DEL) cid=$1 " "$EC_TRACE" | sed 's/ by=\[.*\]$//' || :
}

ec_machine_paths() {
	local p
	for p in /etc/cni /opt/cni /var/lib/cni /run/containerd; do
		if [ -e "$p" ]; then
			echo "== $p"
			find "$p" -printf '%p %y %i %s %T@\n' 2>/dev/null | sort
		else
			echo "== $p absent"
		fi
	done
	# Shared with other tools and tests: only what the runtimes would put there.
	echo "== podman netns in /run/netns"
	hg_dir_entries /run/netns -name 'netns-*'
	for p in /run/crun /run/runc; do
		echo "== $p entries"
		hg_dir_entries "$p" ! -name 'hgt-*'
	done
	echo "== /etc/hosts $(stat -c '%i %s %Y %a %u' /etc/hosts) $(sha256sum </etc/hosts)"
	for p; do
		echo "== $p"
		find "$p" -maxdepth 2 -printf '%p %y %i %s %T@\n' 2>/dev/null | sort || :
	done
}

# ec_finish: the end both runtimes' tests share, after their own cleanup: the host as it
# was, the machine's CNI paths and /etc/hosts untouched, then what the plugin did.
ec_finish() {
	hg_assert_host_unchanged
	ec_machine_paths >"$HG_TMP/machine.after"
	diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 ||
		hg_fail "the machine's CNI paths or /etc/hosts changed"
	hg_log "plugin log (last 20 lines):"$'\n'"$(tail -n 20 "$EC_LOG" 2>/dev/null || :)"
	hg_log "CNI calls of host-gateway:"$'\n'"$(ec_trace | cut -c1-160)"
	hg_log "PASS in $(($(e2e_now_ms) - T_START)) ms (after the host lock)"
}
