#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The command line through the real binary, and the man page against it:
#   1. `host-gateway help` lists the commands (install, uninstall, doctor, corefile, hook,
#      gc, ...); each answers --help and -h with its usage on stdout, exit 0, nothing on
#      stderr, and `help COMMAND` prints the same bytes; each refuses an unknown option in
#      the one shape (two lines on stderr: "host-gateway CMD: unknown argument ..." and
#      "Try 'host-gateway CMD --help'.", nothing on stdout, exit 2), and so does an option
#      without its value
#   2. packaging/host-gateway.8 cannot drift from --help: for every command, the long
#      options its --help names are exactly those of its SYNOPSIS line and of its section
#      under COMMANDS (.SS COMMAND), and every such line and section is of a listed
#      command; the top-level --help's options are those of the first SYNOPSIS line
#   3. the CNI versions the man page states are those --version prints
#   4. the hook's command line as runtimes write it (`hook STAGE --config PATH`) means the
#      same with POSIXLY_CORRECT in the environment (getopt would stop at STAGE and refuse
#      --config with exit 2, failing every container): the configuration named is read
#      (its failurePolicy "fail" turns an empty OCI state into exit 1); `--` and a second
#      operand still refused
# Needs no privileges and changes nothing; it runs with the root tests for their harness.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../../lib/common.sh"
hg_init cli-help
hg_require_bin

MAN=${HG_SOURCE_ROOT:?}/packaging/host-gateway.8
[ -r "$MAN" ] || hg_fail "test setup: no $MAN"

# The long options a text names, one per line, sorted; --help left out (every command has it).
long_opts() { { grep -o -- '--[a-z0-9][a-z0-9-]*' || :; } | { grep -vx -- '--help' || :; } | sort -u; }

# ---- 1. every command ----
cmds=$("$HG_BIN" help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
hg_log "commands: $(echo $cmds)"
for c in install uninstall doctor corefile hook gc version help; do
	grep -qx "$c" <<<"$cmds" || hg_fail "host-gateway help does not list $c"
done
for c in $cmds; do
	rc=0
	"$HG_BIN" "$c" --help </dev/null >"$HG_TMP/help" 2>"$HG_TMP/err" || rc=$?
	hg_assert_eq "$rc" 0 "$c --help: exit status"
	[ ! -s "$HG_TMP/err" ] || hg_fail "$c --help wrote to stderr: $(cat "$HG_TMP/err")"
	head -n1 "$HG_TMP/help" | grep -q "^Usage: host-gateway $c\b" || hg_fail "$c --help: no usage line: $(head -n1 "$HG_TMP/help")"
	"$HG_BIN" "$c" -h </dev/null >"$HG_TMP/h" || hg_fail "$c -h: exit $?"
	cmp -s "$HG_TMP/help" "$HG_TMP/h" || hg_fail "$c -h differs from $c --help"
	"$HG_BIN" help "$c" </dev/null >"$HG_TMP/h" || hg_fail "help $c: exit $?"
	cmp -s "$HG_TMP/help" "$HG_TMP/h" || hg_fail "help $c differs from $c --help"

	rc=0
	"$HG_BIN" "$c" --no-such-option </dev/null >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
	hg_assert_eq "$rc" 2 "$c --no-such-option: exit status"
	[ ! -s "$HG_TMP/out" ] || hg_fail "$c --no-such-option wrote to stdout"
	hg_assert_eq "$(cat "$HG_TMP/err")" "host-gateway $c: unknown argument \"--no-such-option\"
Try 'host-gateway $c --help'." "$c --no-such-option: stderr"

	# The first option that takes a value (the usage names its VALUE in capitals), alone.
	opt=$(grep -o -- '--[a-z0-9-]* [A-Z]' "$HG_TMP/help" | head -n1 | cut -d' ' -f1 || :)
	if [ -n "$opt" ]; then
		rc=0
		"$HG_BIN" "$c" "$opt" </dev/null >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
		hg_assert_eq "$rc" 2 "$c $opt without value: exit status"
		hg_assert_eq "$(cat "$HG_TMP/err")" "host-gateway $c: $opt needs a value
Try 'host-gateway $c --help'." "$c $opt without value: stderr"
	fi
done
rc=0
"$HG_BIN" no-such-command >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
hg_assert_eq "$rc" 2 "unknown command: exit status"
hg_assert_eq "$(cat "$HG_TMP/err")" "host-gateway: unknown command \"no-such-command\"
Try 'host-gateway --help'." "unknown command: stderr"
"$HG_BIN" help >"$HG_TMP/h1"
"$HG_BIN" --help >"$HG_TMP/h2"
cmp -s "$HG_TMP/h1" "$HG_TMP/h2" || hg_fail "help differs from --help"
hg_log "ok: --help, help COMMAND, usage errors"

# ---- 2. the man page ----
# "syn CMD OPTION" for each option of a SYNOPSIS line (CMD "-" for the first, bare line),
# "sec CMD OPTION" for each option of a .SS section under COMMANDS, and "syn CMD" /
# "sec CMD" once per line or section, so that one without options is seen too.
sed 's/\\-/-/g' "$MAN" | awk '
	function opts(kind, cmd, line,   m) {
		while (match(line, /--[a-z0-9][a-z0-9-]*/)) {
			print kind, cmd, substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
		}
	}
	/^\.SH / { sh = $2; sec = ""; next }
	sh == "SYNOPSIS" && /^\.SY / { syn = "-"; first = 1; print "syn", syn; next }
	sh == "SYNOPSIS" && /^\.YS/ { syn = ""; next }
	sh == "SYNOPSIS" && syn != "" && first && /^\.B [a-z]+$/ { syn = $2; first = 0; print "syn", syn; next }
	sh == "SYNOPSIS" && syn != "" { first = 0; opts("syn", syn, $0); next }
	sh == "COMMANDS" && /^\.SS / { sec = ($2 == "The" ? "" : $2); if (sec != "") print "sec", sec; opts("sec", sec, $0); next }
	sh == "COMMANDS" && sec != "" { opts("sec", sec, $0) }
' | grep -v -- ' --help$' | sort -u >"$HG_TMP/man"
[ -s "$HG_TMP/man" ] || hg_fail "test setup: nothing read from $MAN"

man_opts() { awk -v k="$1" -v c="$2" '$1 == k && $2 == c && NF == 3 { print $3 }' "$HG_TMP/man" | sort -u; }
for c in $cmds; do
	"$HG_BIN" "$c" --help | long_opts >"$HG_TMP/want"
	for kind in syn sec; do
		grep -qx "$kind $c" "$HG_TMP/man" ||
			hg_fail "host-gateway.8 has no $([ $kind = syn ] && echo SYNOPSIS line || echo section) for $c"
		man_opts "$kind" "$c" >"$HG_TMP/got"
		diff -u --label "$c --help" --label "host-gateway.8 $kind $c" "$HG_TMP/want" "$HG_TMP/got" >&2 ||
			hg_fail "the options of $c differ between --help and the man page's $([ $kind = syn ] && echo SYNOPSIS || echo section) (above)"
	done
done
for c in $(awk 'NF == 2 && $2 != "-" { print $2 }' "$HG_TMP/man" | sort -u); do
	grep -qx "$c" <<<"$cmds" || hg_fail "host-gateway.8 documents \"$c\", which host-gateway help does not list"
done
"$HG_BIN" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u >"$HG_TMP/want"
awk '$1 == "syn" && $2 == "-" && NF == 3 { print $3 }' "$HG_TMP/man" >"$HG_TMP/got"
# The bare line's --help was filtered with the others: put it back to compare.
{ cat "$HG_TMP/got"; echo --help; } | sort -u >"$HG_TMP/got2"
diff -u --label "host-gateway --help" --label "host-gateway.8 SYNOPSIS" "$HG_TMP/want" "$HG_TMP/got2" >&2 ||
	hg_fail "the top-level options differ between --help and the man page (above)"
hg_log "ok: the man page names each command's options, no more"

# ---- 3. the CNI versions ----
want=$("$HG_BIN" --version | sed -n 's/^CNI spec versions: //p')
[ -n "$want" ] || hg_fail "--version prints no CNI versions"
got=$(grep '^Spec versions' "$MAN" | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | tr '\n' ' ' | sed 's/ $//')
hg_assert_eq "$got" "$want" "the man page's CNI versions"

# ---- 4. the hook's command line under POSIXLY_CORRECT ----
printf '{"stateDir": "%s", "failurePolicy": "fail"}\n' "$HG_TMP/state" >"$HG_TMP/hook.json"
for e in "" POSIXLY_CORRECT=1; do
	for args in "hook createRuntime --config $HG_TMP/hook.json" "hook --config $HG_TMP/hook.json createRuntime" \
		"hook createRuntime --config=$HG_TMP/hook.json"; do
		rc=0
		# shellcheck disable=SC2086 # the words of $e and $args
		env -i $e "$HG_BIN" $args </dev/null >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
		hg_assert_eq "$rc" 1 "${e:-no POSIXLY_CORRECT}: $args with an empty OCI state under failurePolicy fail ($(cat "$HG_TMP/err"))"
		hg_assert_contains "$(cat "$HG_TMP/err")" "OCI state on stdin" "${e:-no POSIXLY_CORRECT}: $args read the state"
	done
	rc=0
	env -i $e "$HG_BIN" gc --config "$HG_TMP/hook.json" >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
	hg_assert_eq "$rc" 0 "${e:-no POSIXLY_CORRECT}: gc --config ($(cat "$HG_TMP/err"))"
	for args in "hook createRuntime extra --config $HG_TMP/hook.json" "hook createRuntime -- --config" "gc -- extra"; do
		rc=0
		# shellcheck disable=SC2086
		env -i $e "$HG_BIN" $args </dev/null >"$HG_TMP/out" 2>"$HG_TMP/err" || rc=$?
		hg_assert_eq "$rc" 2 "${e:-no POSIXLY_CORRECT}: $args is a usage error"
		hg_assert_contains "$(head -n1 "$HG_TMP/err")" "unknown argument" "${e:-no POSIXLY_CORRECT}: $args"
	done
done
hg_log "ok: hook STAGE --config PATH under POSIXLY_CORRECT"
hg_log "PASS"
