#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# localhostPorts via the pod annotation host-gateway.io/localhost-ports (runtimeConfig
# capability io.kubernetes.cri.pod-annotations): the annotated pod gets the
# extra ports on top of the configured one, a pod without it does not; an
# invalid annotation value is CNI error 7 naming the annotation.
. "$(dirname "$0")/nat-lib.sh"
hgn_init nat-localhost-ports-annotation
hg_guard_forwarding on

P_CONF=18440   # from the conflist
P_ANN=18441    # from the annotation
P_ANN_UDP=18442
NET=hgt-lpann
BR=hgt-$$-b
LIST=$HG_TMP/net.conflist
hgn_bridge "$BR" 10.211.7.0/24
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" 10.211.7.0/24 \
	"{\"localhostPorts\":[\"$P_CONF\"],\"capabilities\":{\"io.kubernetes.cri.pod-annotations\":true}}" >"$LIST"
RC=$(jq -cn --arg v "$P_ANN, $P_ANN_UDP/udp" \
	'{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/localhost-ports": $v, "other": "x"}}')
ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=annotated"

hgn_container c1   # annotated
hgn_container c2   # not annotated
hgn_add c1 "$LIST" "$ARGS" "$RC"
hgn_add c2 "$LIST"
GW=$(hgn_gateway c1)
hg_listener - "$GW" "$P_CONF" "conf-ok %PEER%"
hg_listener - "$GW" "$P_ANN" "ann-ok %PEER%"
hg_udp_listener - "$GW" "$P_ANN_UDP" "ann-udp-ok %PEER%"

NS1=${HGN_NSNAME[c1]}
NS2=${HGN_NSNAME[c2]}
hgn_expect_answer "$NS1" 127.0.0.1 "$P_CONF" tcp "conf-ok $(hgn_address c1)" "annotated pod, configured port"
hgn_expect_answer "$NS1" 127.0.0.1 "$P_ANN" tcp "ann-ok $(hgn_address c1)" "annotated pod, port from the annotation"
hgn_expect_answer "$NS1" 127.0.0.1 "$P_ANN_UDP" udp "ann-udp-ok $(hgn_address c1)" \
	"annotated pod, udp port from the annotation"
hgn_expect_answer "$NS2" 127.0.0.1 "$P_CONF" tcp "conf-ok $(hgn_address c2)" "plain pod, configured port"
hgn_no_answer "$NS2" 127.0.0.1 "$P_ANN"
hgn_no_answer "$NS2" 127.0.0.1 "$P_ANN_UDP" udp

# An invalid annotation value: error 7 naming the annotation, nothing applied.
hgn_container c3
bad=$(jq -cn '{"io.kubernetes.cri.pod-annotations": {"host-gateway.io/localhost-ports": "70000"}}')
hgn_add_fails c3 "$LIST" "$ARGS" "$bad"
json=$HGN_ERR
hg_assert_eq "$(hgn_cni_error_code "$json")" 7 "error code for a bad annotation"
hg_assert_contains "$json" "host-gateway.io/localhost-ports" "error names the annotation"
if hg_in "${HGN_NSNAME[c3]}" nft list table inet host_gateway >/dev/null 2>&1; then
	hg_fail "a failed ADD left table inet host_gateway in the container"
fi

hgn_del c1 "$LIST" "$ARGS"
hgn_del c2 "$LIST"
hg_log "PASS"
