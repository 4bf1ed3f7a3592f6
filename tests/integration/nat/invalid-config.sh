#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Invalid nftables-mode configuration through the binary: CNI error code 7
# (invalid network config) naming the key, non-zero exit, and nothing applied
# (no record, no table or route in the container, no host table, no alias).
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-invalid-config
hg_guard_forwarding on

NET=hgt-inval
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.12.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.12.0/24 '{}' >"$LIST"
hgn_container c1
NS=${HGN_NSNAME[c1]}
# The container is attached by bridge alone; host-gateway then gets its result.
hgn_add c1 "$(jq '.plugins |= .[:1]' "$LIST")"
routes_before=$(hg_in "$NS" ip -4 route)

failures=0
# case KEY HG_JSON: host-gateway ADD with HG_JSON must fail with code 7 naming KEY.
case_() {
	local key=$1 hg=$2 conf out rc=0 code
	conf=$(jq -c --argjson hg "$hg" --slurpfile prev "$HG_TMP/result-c1.json" \
		'.plugins[-1] + $hg + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' "$LIST")
	out=$(hg_plugin ADD "$conf" "$(hgn_cid c1)" "${HGN_NETNS[c1]}" eth0 2>"$HG_TMP/stderr") || rc=$?
	code=$(hgn_cni_error_code "$out")
	if [ "$rc" -eq 0 ] || [ "$code" != 7 ] || [[ $out != *"$key"* ]]; then
		hg_log "FAIL: $hg: expected exit != 0 and CNI error 7 naming \"$key\";" \
			"got exit $rc, stdout: $out, stderr: $(cat "$HG_TMP/stderr")"
		failures=$((failures + 1))
		# Whatever a wrongly accepted ADD did must not leak into the next case.
		hg_plugin DEL "$conf" "$(hgn_cid c1)" "${HGN_NETNS[c1]}" eth0 >/dev/null 2>&1 || true
		return 0
	fi
	# Nothing applied.
	local left=
	[ -z "$(find "$HG_STATE" -name '*.json' 2>/dev/null)" ] || left+=" record"
	hg_in "$NS" nft list table inet host_gateway >/dev/null 2>&1 && left+=" container-table"
	[ "$(hg_in "$NS" ip -4 route)" = "$routes_before" ] || left+=" container-route"
	[ -z "$(hgn_host_table)" ] || left+=" host-table"
	ip -4 -o addr show dev lo | grep -q ' 169\.254\.' && left+=" alias"
	if [ -n "$left" ]; then
		hg_log "FAIL: $hg: rejected (code 7) but left:$left"
		failures=$((failures + 1))
		hg_plugin DEL "$conf" "$(hgn_cid c1)" "${HGN_NETNS[c1]}" eth0 >/dev/null 2>&1 || true
	fi
	hg_log "ok: $hg -> $(jq -r .msg <<<"$out")"
}

case_ localhostPorts '{"localhostPorts":["70000"]}'
case_ localhostPorts '{"localhostPorts":["0"]}'
case_ localhostPorts '{"localhostPorts":["8000-7000"]}'
case_ localhostPorts '{"localhostPorts":["80/sctp"]}'
case_ localhostPorts '{"localhostPorts":["8080:"]}'
case_ localhostPorts '{"localhostPorts":["abc"]}'
case_ localhostPorts '{"localhostPorts":[5432]}'
case_ localhostPorts '{"localhostPorts":"5432"}'
case_ hostLoopbackPorts '{"hostLoopbackPorts":["65536"]}'
case_ hostLoopbackPorts '{"hostLoopbackPorts":["7000-6000/udp"]}'
case_ virtualIPs '{"virtualIPs":["169.254.1.2","169.254.1.3"]}'
case_ virtualIPs '{"virtualIPs":["fd00:254::2","fd00:254::3"]}'
case_ virtualIPs '{"virtualIPs":["169.254.1.2","fd00:254::2","169.254.1.3"]}'
case_ virtualIPs '{"virtualIPs":["not-an-ip"]}'
case_ virtualIPs '{"virtualIPs":["169.254.1.0/24"]}'
case_ hostAlias '{"hostAlias":true}'
case_ hostAlias '{"hostAlias":true,"virtualIPs":[]}'
case_ hostAlias '{"hostAlias":"yes","virtualIPs":["169.254.77.2"]}'
# A virtual IP inside the container's own subnet (10.211.12.0/24).
case_ virtualIPs '{"virtualIPs":["10.211.12.5"]}'
case_ virtualIPs '{"virtualIPs":["10.211.12.5"],"hostAlias":true}'
case_ virtualIPs '{"virtualIPs":["10.211.12.1"]}'
# An annotation with a bad value is the same error, naming the annotation.
case_ host-gateway.io/localhost-ports \
	'{"capabilities":{"io.kubernetes.cri.pod-annotations":true},"runtimeConfig":{"io.kubernetes.cri.pod-annotations":{"host-gateway.io/localhost-ports":"8000-7000"}}}'

[ "$failures" -eq 0 ] || hg_fail "$failures invalid configuration(s) not rejected as expected (see above)"
hg_log "PASS"
