# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# CNI fixtures shared by the root tests (sourced by common.sh; HG_TMP and HG_STATE come
# from hg_init).
#
#   hg_subnet_free CIDR...   fail when the machine already routes (part of) one of them
#   hg_bridge_list [--no-route] NET VERSION BRIDGE SUBNETS [HG_ENTRY_JSON]
#                            a bridge network conflist with host-gateway chained
#   hg_records DIR           the plugin's records in $HG_STATE/DIR (DIR: cni/NETWORK,
#                            hook), full paths, sorted; nothing when DIR does not exist
#   hg_nrecords DIR          how many

# hg_subnet_free CIDR...: fail when a route of the machine (any table, the default routes
# aside) covers CIDR or lies inside it: the tests' fixed subnets must neither shadow nor
# reach a real network.
# A run killed by SIGKILL whose pods sat in the root netns (ptp host ends: an address and
# a /32 route per pod) leaves them until its janitor ends the pods' processes; the kernel
# then tears their netns down asynchronously. So a route found is looked at again for up
# to 10 s before the subnet counts as taken.
hg_subnet_free() {
	local c fam covering inside i
	for c; do
		fam=-4
		case $c in *:*) fam=-6 ;; esac
		for ((i = 0; i < 100; i++)); do
			covering=$(ip "$fam" route show table all to match "$c" | grep -v '^default' || true)
			inside=$(ip "$fam" route show table all root "$c" || true)
			[ -n "$covering$inside" ] || break
			sleep 0.1
		done
		[ -z "$covering$inside" ] ||
			hg_fail "subnet $c is already routed on this host; pick another one for the test: $covering $inside"
	done
}

# hg_bridge_list [--no-route] NET VERSION BRIDGE SUBNETS [HG_ENTRY_JSON]
#   bridge (isGateway, no ipMasq) + host-local + host-gateway, printed as one line of
#   JSON (no side effect: fine in $(...)). SUBNETS: one subnet, or several separated by
#   spaces, each its own range set ("10.0.0.0/24 fd00::/64": dual stack). host-local
#   hands out a default route via the bridge unless --no-route. IPAM data in
#   $HG_TMP/ipam; the host-gateway entry is {stateDir: $HG_STATE} + HG_ENTRY_JSON.
hg_bridge_list() {
	local routes='[{"dst": "0.0.0.0/0"}]'
	if [ "${1:-}" = --no-route ]; then
		routes=null
		shift
	fi
	local name=$1 ver=$2 br=$3 subnets=$4 hg=${5:-'{}'}
	jq -nc --arg name "$name" --arg ver "$ver" --arg br "$br" --arg subnets "$subnets" \
		--arg data "$HG_TMP/ipam" --arg state "$HG_STATE" --argjson hg "$hg" --argjson routes "$routes" '
		{cniVersion: $ver, name: $name, plugins: [
			{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
			 ipam: ({type: "host-local", dataDir: $data,
			         ranges: [$subnets | splits(" +") | select(. != "") | [{subnet: .}]]}
			        + if $routes == null then {} else {routes: $routes} end)},
			({type: "host-gateway", stateDir: $state} + $hg)]}'
}

hg_records() {
	hg_dir_entries "$HG_STATE/$1" -name '*.json' ! -name '.*'
}

hg_nrecords() {
	hg_records "$1" | wc -l
}
