#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on a healthy attachment: the host listens on every address, nothing filters, the
# route back is symmetric: every check is ✔, exit 0, and --json has the documented schema.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-healthy
hg_require_bin
hg_require_cmd socat jq
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
hg_udp_listener "$DR_HOST" 0.0.0.0 5353 pong

dr_doctor --port 8080 --port 5353/udp
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ host address for IPv4: $DR_HOST_IP"
hg_assert_contains "$DR_OUT" "✔ the container has a route to $DR_HOST_IP"
hg_assert_contains "$DR_OUT" "✔ $DR_HOST_IP:8080/tcp answers from the container"
hg_assert_contains "$DR_OUT" "✔ $DR_HOST_IP:5353/udp answers from the container"
case $DR_OUT in *✘* | *\?\ *) hg_fail "a check did not pass" ;; esac

dr_doctor --port 8080 --port 5353/udp --json
dr_expect 0
jq -e '(keys == ["checks"]) and (.checks | length >= 4) and
	all(.checks[]; (keys == ["fix", "id", "message", "status"]) and (.id | type == "string")
		and (.message | type == "string") and .status == "pass" and .fix == null)' <<<"$DR_OUT" >/dev/null ||
	hg_fail "--json schema"
hg_assert_eq "$(jq -r '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | .status' <<<"$DR_OUT")" pass

# Usage errors are 2, a namespace that is not there is 3 (no diagnosis).
DR_RC=0
"$HG_BIN" doctor --port 80 2>/dev/null || DR_RC=$?
dr_expect 2
DR_RC=0
"$HG_BIN" doctor --netns /x --port 80/sctp 2>/dev/null || DR_RC=$?
dr_expect 2
DR_RC=0
ip netns exec "$DR_HOST" "$HG_BIN" doctor --netns "/var/run/netns/hgt-$$-gone" 2>"$HG_TMP/err" || DR_RC=$?
dr_expect 3
hg_assert_contains "$(cat "$HG_TMP/err")" "cannot diagnose"
hg_log "ok"
