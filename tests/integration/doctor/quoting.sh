#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor's output when the host's names and the rule's text hold hostile bytes: the host end
# of the container's veth named a$(id)`x` (a name may hold any byte but '/', ':' and blanks)
# and a drop rule whose comment holds bytes that are not UTF-8 and an escape. The fix it
# prints is safe to paste into a shell (the name quoted: no command substitution runs) and
# works; --json keeps its schema: "rule" is there, its text made valid UTF-8. With and
# without --trace; the ruleset byte-for-byte what it was after each run.
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-quoting
hg_require_bin
hg_require_cmd socat jq nft
# shellcheck disable=SC2016 # the name is literally this
dr_topology 'a$(id)`x`'
hg_listener "$DR_HOST" 0.0.0.0 8080 hello
printf 'table inet myfw {\n chain input {\n  type filter hook input priority 0; policy accept;\n  iifname "%s" tcp dport 8080 drop comment "c\xff\xfe\x1b[31mred"\n }\n}\n' "$DR_IF" |
	ip netns exec "$DR_HOST" nft -f -
before=$(dr_ruleset)
for t in "" --trace; do
	dr_doctor --port 8080 --json $t
	dr_expect 1
	jq -e 'all(.checks[]; (keys - ["rule"]) == ["fix", "id", "message", "status"])' <<<"$DR_OUT" >/dev/null ||
		hg_fail "--json schema"
	hg_assert_eq "$(jq -c '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | [.status, .rule.table, .rule.chain, .rule.handle, .rule.text]' <<<"$DR_OUT")" \
		"[\"fail\",\"myfw\",\"input\",2,\"iifname \\\"$DR_IF\\\" tcp dport 8080 drop comment \\\"c??\\u001b[31mred\\\"\"]"
	fix=$(jq -r '.checks[] | select(.id == "port-tcp-10.251.7.1-8080") | .fix' <<<"$DR_OUT")
	hg_assert_eq "$fix" "nft 'insert rule inet myfw input iifname \"$DR_IF\" tcp dport 8080 accept'"
	hg_assert_eq "$(dr_ruleset)" "$before" "the ruleset after doctor ${t:-without --trace}"
done
# Pasted into a shell, the fix runs nothing else and lets the port in.
ip netns exec "$DR_HOST" sh -c "$fix"
dr_doctor --port 8080
dr_expect 0
hg_log "ok"
