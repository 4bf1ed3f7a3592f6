#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor names the rule that drops or rejects the probe, whatever its shape, each built in
# the test's own "host" namespace: a counter-less drop in a user's table (issue 17's
# example), a reject with an ICMP error, a drop by source prefix, a drop through a named
# port set, a firewalld-shaped table, a policy drop chain whose only accept does not match.
# Each without --trace (the ruleset evaluated against the probe) and with it (the kernel's
# trace): exit 1, the table, chain, handle and rule text named, the narrowest fix, and the
# ruleset byte-for-byte what it was after each run.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-rules
hg_require_bin
hg_require_cmd socat jq nft
dr_topology
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
nft_host() { ip netns exec "$DR_HOST" nft "$@"; }
flush() { nft_host flush ruleset; }

# 1. Issue 17: one plain rule, no counter, in a table of the user's own.
nft_host -f - <<NFT
table inet myfw { chain input { type filter hook input priority 0; policy accept;
  iifname "$DR_IF" tcp dport 8080 drop
}
}
NFT
dr_rule_case 1 "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (nftables: inet myfw input rule handle 2: iifname \"$DR_IF\" tcp dport 8080 drop)" --port 8080
hg_assert_contains "$DR_OUT" ", traced"
hg_assert_contains "$DR_OUT" "— fix: nft insert rule inet myfw input iifname \"$DR_IF\" tcp dport 8080 accept"
# Two ports, one of which fails: exit 1 with --json too, and the rule in the check.
hg_listener "$DR_HOST" 0.0.0.0 8081 hello
dr_doctor --port 8081 --port 8080 --json
dr_expect 1
hg_assert_eq "$(jq -r '.checks[] | select(.id == "port-tcp-10.251.7.1-8081") | .status' <<<"$DR_OUT")" pass
hg_assert_eq "$(jq -c '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | [.status, .rule.family, .rule.table, .rule.chain, .rule.handle, .rule.verdict, .rule.certain]' <<<"$DR_OUT")" \
	'["fail","inet","myfw","input",2,"drop",true]'
jq -e 'all(.checks[]; (keys - ["rule"]) == ["fix", "id", "message", "status"])' <<<"$DR_OUT" >/dev/null ||
	hg_fail "--json schema"
# The fix it prints works.
nft_host insert rule inet myfw input iifname "$DR_IF" tcp dport 8080 accept
dr_doctor --port 8080
dr_expect 0
flush

# 2. A reject with an ICMP error: the connection is "refused" although 8080 listens.
nft_host -f - <<'NFT'
table ip guard { chain in { type filter hook input priority -10;
  tcp dport 8080 reject with icmp type port-unreachable
}
}
NFT
dr_rule_case 1 "✘ $DR_HOST_IP:8080/tcp: the host's input path rejects it (nftables: ip guard in rule handle 2: tcp dport 8080 reject" --port 8080
flush

# 3. A drop by source prefix, behind a rule for another prefix.
nft_host -f - <<'NFT'
table inet edge { chain pre { type filter hook prerouting priority -150; policy accept;
  ip saddr 192.168.0.0/16 accept
  ip saddr 10.251.0.0/16 ip daddr 10.251.7.1 drop
}
}
NFT
dr_rule_case 1 "(nftables: inet edge pre rule handle 3: ip saddr 10.251.0.0/16 ip daddr 10.251.7.1 drop)" --port 8080
flush

# 4. A drop through a named port set.
nft_host -f - <<NFT
table inet myfw {
  set blocked { type inet_service; flags interval; elements = { 8000-8090, 9000 }
  }
  chain input { type filter hook input priority 0; policy accept;
    ct state established,related accept
    iifname "$DR_IF" tcp dport @blocked drop
}
}
NFT
dr_rule_case 1 "(nftables: inet myfw input rule handle 4: iifname \"$DR_IF\" tcp dport @blocked drop)" --port 8080
flush

# 5. firewalld's shape: its rules carry no counters, its last rule rejects.
nft_host -f "$(dirname "$0")/firewalld.nft"
dr_rule_case 1 "✘ $DR_HOST_IP:8080/tcp: the host's input path rejects it (firewalld: inet firewalld filter_INPUT rule handle 9: reject with icmpx admin-prohibited)" --port 8080
hg_assert_contains "$DR_OUT" "— fix: firewall-cmd --zone=public --add-rich-rule='rule family=\"ipv4\" source address=\"$DR_CT_IP\" port port=\"8080\" protocol=\"tcp\" accept'"
flush

# 6. A policy drop chain whose one accept does not match the probe.
nft_host -f - <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		tcp dport 22 accept
	}
}
NFT
dr_rule_case 1 "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (policy drop: inet filter input policy drop)" --port 8080
hg_assert_contains "$DR_OUT" "— fix: nft insert rule inet filter input iifname \"$DR_IF\" tcp dport 8080 accept"
flush

# 7. What the rules alone cannot tell: a fib match before the drop makes it "may drop"
# (a failure all the same for TCP, with the rule and the expression named); the trace is
# sure.
nft_host -f - <<'NFT'
table inet myfw { chain input { type filter hook input priority 0; policy accept;
  fib daddr type local tcp dport 8080 drop
}
}
NFT
before=$(dr_ruleset)
dr_doctor --port 8080
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: no answer within 1000 ms; the host's input path may drop it (nftables: inet myfw input rule handle 2: fib daddr type local tcp dport 8080 drop), after \"fib\" that doctor cannot evaluate (--trace tells)"
dr_doctor --port 8080 --trace
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ $DR_HOST_IP:8080/tcp: the host's input path drops it (nftables: inet myfw input rule handle 2: fib daddr type local tcp dport 8080 drop), traced"
hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor"
flush

# 8. A drop in a netdev ingress chain of the container's interface, before every hook the
# trace marks at: named from the rules (certain where nft lists the chain's device, "may"
# where it does not: nft before 1.0.7).
nft_host -f - <<NFT
table netdev n {
	chain ing {
		type filter hook ingress device "$DR_IF" priority 0;
		tcp dport 8080 drop
	}
}
NFT
dr_rule_case 1 "(nftables: netdev n ing rule handle 2: tcp dport 8080 drop)" --port 8080
flush
hg_log "ok"
