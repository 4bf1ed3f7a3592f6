# shellcheck shell=bash
# Helpers shared by the nftables-mode integration tests (issue 3). Sourced after
# hg_init; everything registers its own cleanup with hg_defer.
#
#   . "$(dirname "$0")/nat-lib.sh"
#   hgn_init virtual-ip
#   hgn_bridge_list NET BRIDGE 10.211.1.0/24 '{"virtualIPs":["169.254.1.2"]}' >"$HG_TMP/net.conflist"
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
	_hgn_janitor
	HGN_STATE=$HG_TMP/state
	HGN_IPAM=$HG_TMP/ipam
	HGN_CID_PREFIX=hgt-$$
	export HGN_STATE HGN_IPAM
}

# Bridges "hgt-PID-b" of test runs that were SIGKILLed (common.sh's janitor
# only knows netns): their subnet would make hgn_subnet_free fail every later run.
_hgn_janitor() {
	local br pid
	for br in $(ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -E '^hgt-[0-9]+-b$' || true); do
		pid=${br#hgt-}
		pid=${pid%-b}
		kill -0 "$pid" 2>/dev/null || ip link del dev "$br" || true
	done
}

# hgn_subnet_free CIDR: fail when the host already routes (part of) CIDR, so a
# test never talks to a real network.
hgn_subnet_free() {
	local fam=-4
	case $1 in *:*) fam=-6 ;; esac
	local covering inside
	covering=$(ip "$fam" route show table all to match "$1" | grep -v '^default' || true)
	inside=$(ip "$fam" route show table all root "$1" || true)
	if [ -n "$covering$inside" ]; then
		hg_fail "subnet $1 is already routed on this host; pick another one for the test: $covering $inside"
	fi
}

# hgn_bridge_list NET BRIDGE SUBNET4 [HG_JSON] [VERSION] [SUBNET6]: a conflist
# bridge(isGateway) + host-local + host-gateway. HG_JSON is merged into the
# host-gateway entry (stateDir is always set inside $HG_TMP). The bridge is
# deleted at exit.
hgn_bridge_list() {
	local net=$1 br=$2 sub4=$3 hg=${4:-'{}'} ver=${5:-1.0.0} sub6=${6:-} ranges
	[ ${#br} -le 15 ] || hg_fail "bridge name $br longer than 15 bytes"
	hgn_subnet_free "$sub4"
	ranges=$(jq -cn --arg s "$sub4" '[[{subnet: $s}]]')
	if [ -n "$sub6" ]; then
		hgn_subnet_free "$sub6"
		ranges=$(jq -cn --arg s "$sub4" --arg s6 "$sub6" '[[{subnet: $s}], [{subnet: $s6}]]')
	fi
	_hgn_defer_bridge "$br"
	jq -n --arg net "$net" --arg br "$br" --arg ver "$ver" --arg ipam "$HGN_IPAM" \
		--arg state "$HGN_STATE" --argjson ranges "$ranges" --argjson hg "$hg" '{
		cniVersion: $ver, name: $net,
		plugins: [
			{type: "bridge", bridge: $br, isGateway: true, ipMasq: false, hairpinMode: false,
			 ipam: {type: "host-local", dataDir: $ipam, ranges: $ranges}},
			({type: "host-gateway", stateDir: $state} + $hg)
		]}'
}

# The bridge plugin creates the bridge on the first ADD and never deletes it.
declare -gA _HGN_BRIDGES=()
_hgn_defer_bridge() {
	[ -n "${_HGN_BRIDGES[$1]:-}" ] && return 0
	_HGN_BRIDGES[$1]=1
	hg_defer ip link del dev "$1"
}

# hgn_container NAME: netns hgt-$$-NAME (lo up), removed at exit.
hgn_container() {
	local ns=hgt-$$-$1
	hg_netns_add "$ns"
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
