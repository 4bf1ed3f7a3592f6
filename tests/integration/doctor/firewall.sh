#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on the host's input path dropping the probe, in the three shapes it recognises, all
# built inside the test's host namespace: ufw's (iptables-nft rules with a policy DROP and
# ufw-* chains, as ufw writes them), firewalld's (table inet firewalld, written with nft),
# and a plain nftables input chain with policy drop. Each names the shape and prints the
# command that opens the port for the container's interface.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-firewall
hg_require_bin
hg_require_cmd socat jq nft iptables-nft
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello

# ufw: default deny incoming, ssh allowed, nothing for 8080.
ip netns exec "$DR_HOST" sh -e -c '
	iptables-nft -N ufw-before-input
	iptables-nft -N ufw-user-input
	iptables-nft -A INPUT -j ufw-before-input
	iptables-nft -A INPUT -j ufw-user-input
	iptables-nft -A ufw-before-input -i lo -j ACCEPT
	iptables-nft -A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	iptables-nft -A ufw-user-input -p tcp --dport 22 -j ACCEPT
	iptables-nft -P INPUT DROP'
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (ufw: ip filter INPUT policy drop) — fix: ufw allow in on $DR_IF to any port 8080 proto tcp"
dr_doctor --port 8080 --json
hg_assert_eq "$(jq -r '.checks[] | select(.status == "fail") | .fix' <<<"$DR_OUT")" \
	"ufw allow in on $DR_IF to any port 8080 proto tcp"
ip netns exec "$DR_HOST" nft flush ruleset

# firewalld: its rules carry no counters, its final reject says "admin prohibited": the
# rule is found by evaluating the ruleset against the probe.
ip netns exec "$DR_HOST" nft -f "$(dirname "$0")/firewalld.nft"
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path rejects it (firewalld: inet firewalld filter_INPUT rule handle 9: reject with icmpx admin-prohibited) — fix: firewall-cmd --zone=public --add-rich-rule='rule family=\"ipv4\" source address=\"$DR_CT_IP\" port port=\"8080\" protocol=\"tcp\" accept'"
ip netns exec "$DR_HOST" nft flush ruleset

# A plain policy drop.
ip netns exec "$DR_HOST" nft -f - <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		tcp dport 22 counter accept
	}
}
NFT
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (policy drop: inet filter input policy drop) — fix: nft insert rule inet filter input iifname \"$DR_IF\" tcp dport 8080 accept"
# The fix it prints works.
ip netns exec "$DR_HOST" nft insert rule inet filter input iifname "$DR_IF" tcp dport 8080 accept
dr_doctor --port 8080
dr_expect 0
hg_log "ok"
