# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the doctor tests: a "host" network namespace joined by a veth to a "container"
# one, so that every listener, firewall rule and sysctl a test sets up lives in the test's
# namespaces, never on the machine; doctor runs inside the host namespace.
#
#   dr_topology [IF]       DR_HOST (10.251.7.1 on DR_IF, named IF, default hgt-PID-v) <-veth->
#                          DR_CT (10.251.7.2 on eth0, default route via 10.251.7.1);
#                          $HG_TMP/config.json: {stateDir}
#   dr_doctor ARGS...      host-gateway doctor --netns DR_CT --config ... ARGS, in DR_HOST;
#                          sets DR_OUT (stdout) and DR_RC (exit status), never fails itself

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"

DR_HOST_IP=10.251.7.1
DR_CT_IP=10.251.7.2

dr_topology() {
	DR_HOST=hgt-$$-h
	DR_CT=hgt-$$-c
	DR_IF=${1:-hgt-$$-v}
	hg_netns_add "$DR_HOST"
	hg_netns_add "$DR_CT"
	ip -n "$DR_HOST" link add "$DR_IF" type veth peer name eth0 netns "$DR_CT"
	ip -n "$DR_HOST" addr add "$DR_HOST_IP/24" dev "$DR_IF"
	ip -n "$DR_HOST" link set "$DR_IF" up
	ip -n "$DR_CT" addr add "$DR_CT_IP/24" dev eth0
	ip -n "$DR_CT" link set eth0 up
	ip -n "$DR_CT" route add default via "$DR_HOST_IP"
	jq -n --arg s "$HG_STATE" '{stateDir: $s}' >"$HG_TMP/config.json"
}

dr_doctor() {
	DR_RC=0
	DR_OUT=$(ip netns exec "$DR_HOST" "$HG_BIN" doctor --netns "/var/run/netns/$DR_CT" \
		--config "$HG_TMP/config.json" "$@") || DR_RC=$?
	printf '%s\n' "$DR_OUT" >&2
}

# dr_expect RC: the last dr_doctor's exit status.
dr_expect() {
	hg_assert_eq "$DR_RC" "$1" "doctor exit status"
}

# dr_ruleset: the host namespace's ruleset as `nft list ruleset` prints it ("-s", without
# the counters' values, when DR_STATELESS is set: iptables-nft's rules count the probe).
dr_ruleset() {
	ip netns exec "$DR_HOST" nft ${DR_STATELESS:+-s} list ruleset
}

# dr_rule_case RC NEEDLE ARGS...: doctor ARGS without and with --trace; each exits RC and
# prints NEEDLE, and leaves the host's ruleset byte-for-byte as it was (no trace table left).
dr_rule_case() {
	local rc=$1 needle=$2 before after t
	shift 2
	before=$(dr_ruleset)
	for t in "" --trace; do
		dr_doctor "$@" $t
		dr_expect "$rc"
		hg_assert_contains "$DR_OUT" "$needle" "doctor ${t:-without --trace}"
		after=$(dr_ruleset)
		hg_assert_eq "$after" "$before" "the ruleset after doctor ${t:-without --trace}"
	done
}
