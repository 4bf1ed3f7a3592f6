#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on the host's forward path in Docker's shape, made with iptables-nft (Debian's
# `iptables`) in the test's "host" namespace: the container's host address is a service in
# a third namespace that the host routes to (hostIPs), and the filter table has Docker's
# FORWARD (policy DROP) -> DOCKER-USER chains.
#   1. a DROP rule in DOCKER-USER: named by its counter, and by the trace with --trace
#   2. FORWARD's policy DROP alone: without --trace, certain all the same (Docker's
#      conntrack match is an xt match doctor cannot evaluate, but its rule's counter did not
#      move: it did not take the probe); with --trace, certain
# Each exit 1, fix "iptables -I DOCKER-USER -i IF -p tcp --dport 8080 -j ACCEPT", and the
# ruleset (counter values aside) byte-for-byte what it was.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-forward
hg_require_bin
hg_require_cmd socat jq nft iptables-nft
dr_topology
svc=hgt-$$-s
hg_netns_add "$svc"
ip -n "$DR_HOST" link add "hgt-$$-w" type veth peer name eth0 netns "$svc"
ip -n "$DR_HOST" addr add 10.251.8.1/24 dev "hgt-$$-w"
ip -n "$DR_HOST" link set "hgt-$$-w" up
ip -n "$svc" addr add 10.251.8.2/24 dev eth0
ip -n "$svc" link set eth0 up
ip -n "$svc" route add default via 10.251.8.1
ip netns exec "$DR_HOST" sysctl -qw net.ipv4.ip_forward=1
hg_listener "$svc" 0.0.0.0 8080 hello
jq -n --arg s "$HG_STATE" '{stateDir: $s, hostIPs: ["10.251.8.2"]}' >"$HG_TMP/config.json"
dr_doctor --port 8080
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ 10.251.8.2:8080/tcp answers from the container"

ip netns exec "$DR_HOST" sh -e -c '
	iptables-nft -N DOCKER
	iptables-nft -N DOCKER-USER
	iptables-nft -P FORWARD DROP
	iptables-nft -A FORWARD -j DOCKER-USER
	iptables-nft -A FORWARD -o "$1" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	iptables-nft -A FORWARD -o "$1" -j DOCKER
	iptables-nft -A DOCKER-USER -i "$2" -p tcp --dport 8080 -j DROP
	iptables-nft -A DOCKER-USER -j RETURN' sh "hgt-$$-w" "$DR_IF"
fix="— fix: iptables -I DOCKER-USER -i $DR_IF -p tcp --dport 8080 -j ACCEPT"
DR_STATELESS=1
dr_rule_case 1 "✘ 10.251.8.2:8080/tcp: the host's forward path drops it (docker: ip filter DOCKER-USER rule handle" --port 8080
hg_assert_contains "$DR_OUT" ": iifname \"$DR_IF\" tcp dport 8080 counter drop), traced $fix"

# 2. Only FORWARD's policy.
ip netns exec "$DR_HOST" iptables-nft -D DOCKER-USER -i "$DR_IF" -p tcp --dport 8080 -j DROP
before=$(dr_ruleset)
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ 10.251.8.2:8080/tcp: the host's forward path drops it (docker: ip filter FORWARD policy drop) $fix"
dr_doctor --port 8080 --json
dr_expect 1
hg_assert_eq "$(jq -c '.checks[] | select(.status == "fail") | [.rule.chain, .rule.verdict, .rule.certain, .rule.unevaluated, .rule.evidence]' <<<"$DR_OUT")" \
	'["FORWARD","policy drop",true,null,"rules"]'
dr_doctor --port 8080 --trace
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ 10.251.8.2:8080/tcp: the host's forward path drops it (docker: ip filter FORWARD policy drop), traced $fix"
hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor"
# The fix it prints works.
ip netns exec "$DR_HOST" iptables-nft -I DOCKER-USER -i "$DR_IF" -p tcp --dport 8080 -j ACCEPT
ip netns exec "$DR_HOST" iptables-nft -I FORWARD -i "hgt-$$-w" -o "$DR_IF" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
dr_doctor --port 8080
dr_expect 0
hg_log "ok"
