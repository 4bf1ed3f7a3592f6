# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers shared by the nftables-mode integration tests (issue 3). Sourced after
# hg_init; everything registers its own cleanup with hg_defer.
#
#   . "$(dirname "$0")/nat-lib.sh"
#   hgn_init virtual-ip
#   hgn_bridge "hgt-$$-b" 10.211.1.0/24
#   hg_bridge_list --no-route NET 1.0.0 "hgt-$$-b" 10.211.1.0/24 '{"virtualIPs":["169.254.1.2"]}' >"$HG_TMP/net.conflist"
#   hgn_container c1            # netns hgt-$$-c1, HGN_NETNS[c1]=/var/run/netns/hgt-$$-c1
#   hgn_add c1 "$HG_TMP/net.conflist"

# shellcheck source-path=SCRIPTDIR source=../../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"

declare -gA HGN_NETNS=() # short name -> CNI_NETNS path
declare -gA HGN_NSNAME=() # short name -> netns name for ip netns exec / hg_in
# shellcheck disable=SC2034 # read by the tests
declare -gA HGN_PID=()   # short name -> pid of the holder process (hgn_container_proc)

# hgn_init NAME: hg_init plus the checks every test of this folder needs.
hgn_init() {
	hg_init "$1"
	hg_require_bin
	# A private copy: on a shared machine another job may relink the build
	# tree's binary while this test runs (seen as "failed to find plugin").
	cp "$HG_BIN" "$HG_TMP/host-gateway.bin"
	"$HG_TMP/host-gateway.bin" --version >/dev/null 2>&1 || hg_fail "$HG_BIN does not run (being rebuilt?)"
	HG_BIN=$HG_TMP/host-gateway.bin
	ln -sf "$HG_BIN" "$HG_PLUGIN_DIR/host-gateway"
	hg_require_cmd nft socat jq ip unshare nsenter
	if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then
		hg_skip "reference CNI plugins not installed in /usr/lib/cni"
	fi
	HGN_CID_PREFIX=hgt-$$
}

# hgn_bridge BRIDGE CIDR...: the bridge the test's conflists name (the bridge plugin
# adopts it), deleted at exit, after checking its name and that the CIDRs are free. Made
# here so that its route_localnet starts at 0 whatever the machine's
# net.ipv4.conf.default.route_localnet (which a new link copies): the tests assert what
# host-gateway does to it, and its DEL restores the value it found.
hgn_bridge() {
	local br=$1
	shift
	[ ${#br} -le 15 ] || hg_fail "bridge name $br longer than 15 bytes"
	hg_subnet_free "$@"
	ip link add "$br" type bridge
	hg_defer ip link del dev "$br"
	echo 0 >"/proc/sys/net/ipv4/conf/$br/route_localnet"
}

# hgn_container NAME: netns hgt-$$-NAME (lo up), removed at exit. Its route_localnet (all,
# default, lo; eth0 copies default) is 0 whatever the machine's: a new netns copies the
# host's all/default.
hgn_container() {
	local ns=hgt-$$-$1
	hg_netns_add "$ns"
	# shellcheck disable=SC2016 # $k is the inner sh's
	ip netns exec "$ns" sh -c 'for k in all default lo; do echo 0 >/proc/sys/net/ipv4/conf/$k/route_localnet; done'
	HGN_NSNAME[$1]=$ns
	HGN_NETNS[$1]=/var/run/netns/$ns
}

# hgn_container_proc NAME HOSTSFILE: like hgn_container, plus a process in the
# netns with its own mount namespace whose /etc/hosts is HOSTSFILE (the shape of
# ctr's /proc/PID/ns/net). HGN_NETNS[NAME] becomes /proc/PID/ns/net.
hgn_container_proc() {
	local name=$1 file=$2
	hgn_container "$name"
	hg_container_proc "${HGN_NSNAME[$name]}" "$file"
	# shellcheck disable=SC2034 # read by the tests
	HGN_PID[$name]=$HG_CONTAINER_PID
	HGN_NETNS[$name]=/proc/$HG_CONTAINER_PID/ns/net
}

# hgn_cid NAME: the container ID used for NAME.
hgn_cid() { echo "$HGN_CID_PREFIX-$1"; }

# hgn_add NAME CONFLIST [CNI_ARGS] [RUNTIME_CONFIG]: ADD, DEL deferred. Result
# in $HG_TMP/result-NAME.json. Returns the chain's exit code.
hgn_add() {
	local name=$1 list=$2 args=${3:-} rc=${4:-'{}'}
	hg_defer hg_chain DEL "$list" "$(hgn_cid "$name")" "" eth0 "$args" "$rc"
	hg_chain ADD "$list" "$(hgn_cid "$name")" "${HGN_NETNS[$name]}" eth0 "$args" "$rc" \
		>"$HG_TMP/result-$name.json"
}

# hgn_hg NAME CMD CONFLIST [CNI_ARGS]: host-gateway alone (the last entry of
# CONFLIST) with the cached chain result as prevResult, e.g. a repeated ADD
# (the bridge plugin refuses to create eth0 twice).
hgn_hg() {
	local name=$1 cmd=$2 list=$3 conf
	[ -f "$list" ] && list=$(cat "$list")
	conf=$(jq -c --slurpfile prev "$HG_TMP/result-$name.json" \
		'.plugins[-1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' <<<"$list")
	hg_plugin "$cmd" "$conf" "$(hgn_cid "$name")" "${HGN_NETNS[$name]}" eth0 "${4:-}"
}

# hgn_del NAME CONFLIST [CNI_ARGS]
hgn_del() {
	hg_chain DEL "$2" "$(hgn_cid "$1")" "${HGN_NETNS[$1]}" eth0 "${3:-}"
}

# hgn_check NAME CONFLIST [CNI_ARGS]
hgn_check() {
	hg_chain CHECK "$2" "$(hgn_cid "$1")" "${HGN_NETNS[$1]}" eth0 "${3:-}"
}

# hgn_gateway NAME [4|6]: the gateway of NAME's eth0 from its ADD result.
hgn_gateway() {
	local fam=${2:-4}
	jq -er --arg f "$fam" '[.ips[] | select((.address | contains(":")) == ($f == "6")) | .gateway][0] // empty' \
		"$HG_TMP/result-$1.json"
}

# hgn_address NAME [4|6]: NAME's own address (no prefix) from its ADD result.
hgn_address() {
	local fam=${2:-4}
	jq -er --arg f "$fam" '[.ips[] | select((.address | contains(":")) == ($f == "6")) | .address][0] // empty
		| sub("/.*"; "")' "$HG_TMP/result-$1.json"
}

# hgn_no_answer NS ADDR PORT [tcp|udp]: assert that nothing answers.
hgn_no_answer() {
	local out
	if out=$(hg_connect "$@" 2>/dev/null) && [ -n "$out" ]; then
		hg_fail "unexpected answer from $2:$3 (${4:-tcp}) in ${1}: $out"
	fi
	return 0
}

# hgn_expect_answer NS ADDR PORT PROTO EXPECTED [MSG]: up to 3 attempts. The
# helpers' socat pairs give up after 2 s (client -t2) and UDP may drop; on a
# loaded machine (other jobs' builds) the forked reply can come too late. A
# rule that is missing fails all three.
hgn_expect_answer() {
	local out i
	for ((i = 1; i <= 3; i++)); do
		out=$(hg_connect "$1" "$2" "$3" "$4" 2>&1) || true
		[ "$out" = "$5" ] && break
		hg_log "attempt $i: ${6:-answer from $2:$3/$4 in $1}: got '$out'"
	done
	hg_assert_eq "$out" "$5" "${6:-answer from $2:$3/$4 in $1}"
}

# hgn_sysctl NS KEY: value of sysctl KEY in NS ("-" = here).
hgn_sysctl() {
	hg_in "$1" cat "/proc/sys/${2//.//}"
}

# hgn_host_table: the host's table inet host_gateway as JSON ("" when absent).
hgn_host_table() {
	nft -j list table inet host_gateway 2>/dev/null || true
}

# hgn_map_elements: the elements of the host map loopback4, one JSON per line.
hgn_map_elements() {
	nft -j list map inet host_gateway loopback4 2>/dev/null |
		jq -c '.nftables[] | select(.map) | .map.elem // [] | .[]' || true
}

# hgn_add_fails NAME CONFLIST [CNI_ARGS] [RUNTIME_CONFIG]: an ADD that must
# fail in host-gateway. Sets HGN_ERR to host-gateway's stdout (the CNI error
# JSON); fails the test when the chain succeeds or another plugin fails. Not
# in $(...): the deferred DEL must be registered in the test's own shell.
hgn_add_fails() {
	local name=$1 list=$2 args=${3:-} rc=${4:-'{}'} err=$HG_TMP/add-fails.err
	hg_defer hg_chain DEL "$list" "$(hgn_cid "$name")" "${HGN_NETNS[$name]}" eth0 "$args" "$rc"
	if hg_chain ADD "$list" "$(hgn_cid "$name")" "${HGN_NETNS[$name]}" eth0 "$args" "$rc" \
		>/dev/null 2>"$err"; then
		hg_fail "ADD of $name succeeded; expected host-gateway to fail (config: $(jq -c '.plugins[-1]' "$list"), runtimeConfig: $rc)"
	fi
	grep -q '^hg_chain: plugin host-gateway failed (ADD)' "$err" ||
		hg_fail "ADD of $name did not fail in host-gateway: $(cat "$err")"
	# shellcheck disable=SC2034 # read by the caller
	HGN_ERR=$(sed -n '/^hg_chain: plugin host-gateway failed (ADD)/,$p' "$err" |
		sed '1s/^hg_chain: plugin host-gateway failed (ADD), exit [0-9]*: //')
}

# hgn_cni_error_code OUTPUT: the "code" of a CNI error JSON.
hgn_cni_error_code() {
	jq -r '.code // empty' <<<"$1" 2>/dev/null || true
}
