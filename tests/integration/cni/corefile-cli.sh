#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `host-gateway corefile` through the real binary: each golden input of the unit test
# (tests/unit/golden/corefile/NAME.in, with the same arguments as test-corefile.c) piped
# through it gives NAME.out, byte for byte, and its output piped through again is the same
# (idempotent); --k3s-override gives k3s-override.out without reading stdin. Exit codes: 1
# (and a message naming the line on stderr, nothing on stdout) for a Corefile without a main
# server block or with unbalanced braces, and for one over 1 MiB; 2 for usage errors.
# Issue 20 §1, each case printed a Corefile CoreDNS refuses (or a cut one) with exit 0
# before: a NUL byte in a comment (exit 1 now, the line named); a hosts block in a snippet
# the main block imports (import-snippet: edited there; the issue's one-line snippet:
# exit 1, its '}' is read by CoreDNS as fallthrough's zone; an import of a file: exit 1);
# `hosts FILE { }` on one line (hosts-empty-block); a no-break space after `hosts`
# (unicode-space); another server block whose zone holds a name (`internal:53`): CoreDNS
# answers the name there, and the entries in the main block were never read (exit 1 now,
# that block's line named; one on another port, or a reverse zone, is let be).
# No root feature is needed; it runs with the root suite because that is
# where the binary's command-line tests live.
. "$(dirname "$0")/../../lib/common.sh"
hg_init corefile-cli
hg_require_bin

golden=${HG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/unit/golden/corefile
[ -d "$golden" ] || hg_fail "golden files not found: $golden"

# NAME ARGS...: the table of test-corefile.c.
cases=(
	"kubeadm --ip 169.254.1.2"
	"k3s --ip 169.254.1.2"
	"hosts-old-vip --ip 169.254.1.2"
	"tabs --ip 169.254.1.2 --ip fd00:254::2 --name host.docker.internal --name registry.host"
	"multi-block --ip=169.254.1.2"
	"import-snippet --ip 169.254.1.2"
	"hosts-empty-block --ip 169.254.1.2"
	"unicode-space --ip 169.254.1.2"
)
for c in "${cases[@]}"; do
	read -r -a words <<<"$c"
	name=${words[0]}
	args=("${words[@]:1}")
	out=$HG_TMP/$name.out
	"$HG_BIN" corefile "${args[@]}" <"$golden/$name.in" >"$out" ||
		hg_fail "$name: exit $? (stderr above)"
	cmp -s "$out" "$golden/$name.out" || {
		diff -u "$golden/$name.out" "$out" >&2 || true
		hg_fail "$name: output differs from $name.out"
	}
	"$HG_BIN" corefile "${args[@]}" <"$out" >"$out.2" || hg_fail "$name: second run: exit $?"
	cmp -s "$out" "$out.2" || hg_fail "$name: a second run changed the output"
	hg_log "ok: $name"
done

"$HG_BIN" corefile --k3s-override --ip 169.254.1.2 </dev/null >"$HG_TMP/override" ||
	hg_fail "--k3s-override: exit $?"
cmp -s "$HG_TMP/override" "$golden/k3s-override.out" || hg_fail "--k3s-override differs from k3s-override.out"

# expect_exit WANT WHAT [STDERR-SUBSTRING] -- ARGS... < input: exit code, empty stdout.
expect_exit() {
	local want=$1 what=$2 msg=$3 rc=0
	shift 3
	"$HG_BIN" corefile "$@" >"$HG_TMP/stdout" 2>"$HG_TMP/stderr" || rc=$?
	[ "$rc" -eq "$want" ] || hg_fail "$what: exit $rc, want $want (stderr: $(cat "$HG_TMP/stderr"))"
	[ ! -s "$HG_TMP/stdout" ] || hg_fail "$what: wrote to stdout"
	[ -z "$msg" ] || hg_assert_contains "$(cat "$HG_TMP/stderr")" "$msg" "$what: stderr"
}
expect_exit 1 "no main block" "no main server block" --ip 169.254.1.2 <"$golden/no-main.in"
expect_exit 1 "unbalanced" "line 1: this '{' is never closed" --ip 169.254.1.2 <"$golden/unbalanced.in"
# A NUL byte in a comment: refused, not printed up to the NUL (issue 20: 5 bytes, exit 0).
{
	printf '# ops\0\n'
	cat "$golden/kubeadm.in"
} >"$HG_TMP/nul"
expect_exit 1 "NUL in a comment" "line 1: a NUL byte" --ip 169.254.1.2 <"$HG_TMP/nul"
# The issue's snippet: its hosts is seen through the import (no second block is added);
# its one-line block is refused because CoreDNS reads the '}' as fallthrough's zone.
printf '(common) { hosts /etc/coredns/NodeHosts { fallthrough } }\n.:53 {\n    import common\n    forward . /etc/resolv.conf\n}\n' \
	>"$HG_TMP/import-oneline"
expect_exit 1 "one-line snippet" "line 1: the '}' of the hosts block is on the line of \"fallthrough\"" \
	--ip 169.254.1.2 <"$HG_TMP/import-oneline"
# A file import may hold a hosts directive: refused when the main block shows none.
printf '.:53 {\n    errors\n    import /etc/coredns/custom/*.conf\n    forward . /etc/resolv.conf\n}\n' >"$HG_TMP/import-glob"
expect_exit 1 "import of a glob" "line 3: the main server block imports \"/etc/coredns/custom/*.conf\"" \
	--ip 169.254.1.2 <"$HG_TMP/import-glob"
# A server block of a zone that holds the names: CoreDNS answers them there.
for key in 'internal:53' 'dns://docker.internal' 'example.org, Docker.Internal.'; do
	printf '.:53 {\n    forward . /etc/resolv.conf\n}\n%s {\n    whoami\n}\n' "$key" >"$HG_TMP/zone-block"
	expect_exit 1 "a block of zone $key" "line 4: the server block \"${key##* }\" serves \"host.docker.internal\"" \
		--ip 169.254.1.2 <"$HG_TMP/zone-block"
done
for key in 'internal:5353' 'tls://internal' '10.0.0.0/8' 'example.org'; do
	printf '.:53 {\n    forward . /etc/resolv.conf\n}\n%s {\n    whoami\n}\n' "$key" >"$HG_TMP/zone-block"
	"$HG_BIN" corefile --ip 169.254.1.2 <"$HG_TMP/zone-block" >/dev/null || hg_fail "a block of zone $key: exit $?"
done
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$HG_TMP/big"
expect_exit 1 "over 1 MiB" "larger than" --ip 169.254.1.2 <"$HG_TMP/big"
expect_exit 2 "no --ip" "no address" </dev/null
expect_exit 2 "bad --ip" "not an IPv4 or IPv6 address" --ip 300.1.1.1 </dev/null
expect_exit 2 "two IPv4" "at most one IPv4" --ip 10.0.0.1 --ip 10.0.0.2 </dev/null
expect_exit 2 "bad --name" "not a valid host name" --ip 169.254.1.2 --name 'a;b' </dev/null
expect_exit 2 "unknown argument" "unknown argument" --ip 169.254.1.2 --frobnicate </dev/null
expect_exit 2 "--ip without value" "needs a value" --ip </dev/null
"$HG_BIN" corefile --help | grep -q -- '--k3s-override' || hg_fail "corefile --help does not describe --k3s-override"
"$HG_BIN" --help | grep -q '^  corefile ' || hg_fail "--help does not list the corefile command"
hg_log "ok: exit codes"
