# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers shared by the CNI integration tests of this folder (sourced, never run).
# The hosts block, subnets, bridge conflists and record counts are tests/lib's (hg_*).
# Sources tests/lib/common.sh, so a test only needs:
#   . "$(dirname "$0")/cni-lib.sh"
#   hg_init NAME

HGC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$HGC_DIR/../../.." && pwd)}
export HG_SOURCE_ROOT
# shellcheck source=../../lib/common.sh
. "$HG_SOURCE_ROOT/tests/lib/common.sh"

# A user's /etc/hosts, with a comment, an IPv6 line, no block of ours.
hgc_user_hosts() {
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n# a user comment\n10.99.99.99\tuser.example user\n'
}

# hgc_ptp_list NAME VERSION SUBNET [HG_ENTRY_JSON]: the kind shape (ptp + host-local).
hgc_ptp_list() {
	local name=$1 ver=$2 subnet=$3 hg=${4:-'{}'}
	jq -nc --arg name "$name" --arg ver "$ver" --arg subnet "$subnet" \
		--arg data "$HG_TMP/ipam" --arg state "$HG_STATE" --argjson hg "$hg" '
		{cniVersion: $ver, name: $name, plugins: [
			{type: "ptp", ipMasq: false, mtu: 1500,
			 ipam: {type: "host-local", dataDir: $data,
			        ranges: [[{subnet: $subnet}]], routes: [{dst: "0.0.0.0/0"}]}},
			({type: "host-gateway", stateDir: $state} + $hg)]}'
}

# hgc_container NS HOSTS_FILE: a long-lived process in netns NS with its own mount
# namespace whose /etc/hosts is HOSTS_FILE (as ctr's containers: the plugin sees it as
# /proc/PID/root/etc/hosts). Sets HGC_PID. Killed at exit.
hgc_container() {
	hg_container_proc "$1" "$2"
	# shellcheck disable=SC2034 # read by the caller
	HGC_PID=$HG_CONTAINER_PID
}

# hgc_record NETWORK CID IFNAME: the path of the plugin's record.
hgc_record() {
	printf '%s/cni/%s/%s+%s.json' "$HG_STATE" "$1" "$2" "$3"
}

# hgc_chain_err_code: from the stderr of a failed hg_chain (stdin), the "code" of the
# plugin's error JSON; "none" when it printed no such JSON.
hgc_chain_err_code() {
	sed -n 's/^hg_chain: plugin [^ ]* failed ([A-Z]*), exit [0-9]*: //p' |
		jq -r '.code // "none"' 2>/dev/null | head -n1 | grep . || echo none
}

# hgc_write_in_place FILE < NEW: replace FILE's content without changing its inode.
hgc_write_in_place() {
	local tmp
	tmp=$(mktemp "$HG_TMP/inplace.XXXX")
	cat >"$tmp"
	cat "$tmp" >"$1"
	rm -f "$tmp"
}

# hgc_inode FILE
hgc_inode() { stat -c %i "$1"; }

# hgc_cni_client: builds tests/tools/cni-client into $HG_TMP (skip when Go or the
# libcni sources are missing). Sets HGC_CLIENT.
hgc_cni_client() {
	local rc=0
	HGC_CLIENT=$HG_TMP/cni-client
	"$HG_SOURCE_ROOT/tests/tools/build-cni-client.sh" "$HGC_CLIENT" >"$HG_TMP/build-client.log" 2>&1 || rc=$?
	[ "$rc" -eq 77 ] && hg_skip "cannot build the libcni client: $(cat "$HG_TMP/build-client.log")"
	[ "$rc" -eq 0 ] || hg_fail "building the libcni client failed: $(cat "$HG_TMP/build-client.log")"
}
