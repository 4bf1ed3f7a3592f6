# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers of the install/uninstall tests: node-like trees in $HG_TMP and kindnetd's way of
# writing its configuration. Sourced after tests/lib/common.sh and hg_init.
#
#   it_tree                  NET_D=$HG_TMP/etc/cni/net.d and BIN_D=$HG_TMP/opt/cni/bin,
#                            made empty (never the machine's /etc/cni or /opt/cni)
#   it_kindnet CIDR          kindnetd's 10-kindnet.conflist (cniVersion 0.3.1, ptp +
#                            host-local + portmap) as its template renders it, on stdout
#   it_kindnetd_write CIDR   what kindnetd does on every start: the file written as
#                            NAME.temp and renamed over NAME
#   it_hg ARG...             $HG_BIN ARG... with the tree's folders; stderr in $IT_ERR,
#                            status in $IT_RC (never fails the caller)
#   it_has_entry FILE        0 when FILE lists exactly one host-gateway entry
#   it_without_ours FILE     FILE's JSON without our entries, keys sorted (to compare)
#   it_wait_entry FILE SECS  until FILE has the entry; prints the milliseconds it took

# shellcheck disable=SC2034 # NET_D, BIN_D, IT_RC and IT_ERR are read by the tests
it_tree() {
	NET_D=${HG_TMP:?}/etc/cni/net.d
	BIN_D=$HG_TMP/opt/cni/bin
	rm -rf "${HG_TMP:?}/etc" "${HG_TMP:?}/opt"
	mkdir -p "$NET_D"
}

it_kindnet() {
	# Byte for byte what kindnetd's text/template (kind 0.2x) produces with one route, one
	# pod CIDR and an MTU: tabs, blank template lines and the comma before "mtu".
	printf '\n{\n\t"cniVersion": "0.3.1",\n\t"name": "kindnet",\n\t"plugins": [\n\t{\n\t\t"type": "ptp",\n\t\t"ipMasq": false,\n\t\t"ipam": {\n\t\t\t"type": "host-local",\n\t\t\t"dataDir": "/run/cni-ipam-state",\n\t\t\t"routes": [\n\t\t\t\t\n\t\t\t\t\n\t\t\t\t{ "dst": "0.0.0.0/0" }\n\t\t\t],\n\t\t\t"ranges": [\n\t\t\t\t\n\t\t\t\t\n\t\t\t\t[ { "subnet": "%s" } ]\n\t\t\t]\n\t\t}\n\t\t,\n\t\t"mtu": 1500\n\t\t\n\t},\n\t{\n\t\t"type": "portmap",\n\t\t"capabilities": {\n\t\t\t"portMappings": true\n\t\t}\n\t}\n\t]\n}\n' "$1"
}

it_kindnetd_write() {
	it_kindnet "$1" >"$NET_D/10-kindnet.conflist.temp"
	mv "$NET_D/10-kindnet.conflist.temp" "$NET_D/10-kindnet.conflist"
}

it_hg() {
	IT_ERR=$HG_TMP/hg.err
	IT_RC=0
	"$HG_BIN" "$@" 2>"$IT_ERR" || IT_RC=$?
	sed 's/^/    | /' "$IT_ERR" >&2
}

it_has_entry() {
	[ "$(jq '[.plugins[] | select(.type == "host-gateway")] | length' "$1" 2>/dev/null)" = 1 ]
}

it_without_ours() {
	jq -S 'if .plugins then .plugins |= map(select(.type != "host-gateway")) else . end' "$1"
}

it_wait_entry() {
	local file=$1 secs=$2 t0 i
	t0=$(date +%s%N)
	for ((i = 0; i < secs * 50; i++)); do
		if it_has_entry "$file"; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	return 1
}
