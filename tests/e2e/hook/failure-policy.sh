#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# failurePolicy and the hook's configuration file (issue 4).
#  - Through runc and crun: the rootfs's /etc/hosts is a directory (unusable), network
#    namespace by path, virtualIPs configured (so the hook has plumbing to undo):
#    "fail" -> the runtime refuses to start the container, and neither the hook's record
#    nor its table in the netns stays behind; "ignore" -> the container starts without
#    names, and poststop cleans up.
#  - Directly: an invalid config file is an error naming the file, the key and the value
#    (exit non-zero whatever the policy); a malformed one names the file and the line; a
#    missing one means the defaults; a bundle without config.json obeys the policy.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-failure-policy
hk_runtime_need runc
hg_guard_forwarding
hk_netns c1 72
NSP=${HK_NSPATH[c1]}

conf_fail=$HG_TMP/fail.json conf_ignore=$HG_TMP/ignore.json
hk_config "$conf_fail" '{"virtualIPs":["169.254.1.2"]}'
hk_config "$conf_ignore" '{"virtualIPs":["169.254.1.2"], "failurePolicy":"ignore"}'

# _hk_clean ID: no record and no table after the runtime is done with ID.
_hk_clean() {
	[ ! -e "$HG_STATE/hook/$1.json" ] || hg_fail "$2: the hook's record $HG_STATE/hook/$1.json stayed behind: $(cat "$HG_STATE/hook/$1.json")"
	[ -z "$(hk_netns_table c1)" ] || hg_fail "$2: table inet host_gateway stayed behind in the container netns: $(hk_netns_table c1)"
}

# ---- the configuration file, directly -------------------------------------------------
b=$HG_TMP/b-direct
hk_bundle "$b" "$conf_fail" host
state=$(hk_state_json "$HK_CID-direct" 1 "$b")

# _hk_invalid NAME JSON KEY VALUE: the hook refuses the file, naming it, KEY and VALUE.
_hk_invalid() {
	local f=$HG_TMP/$1.json rc=0 err
	printf '%s' "$2" >"$f"
	hk_hook createRuntime "$f" "$state" || rc=$?
	err=$(cat "$HG_TMP/hook.err")
	case $rc in 0 | 124) hg_fail "invalid config $1: exit $rc (stderr: $err)" ;; esac
	hg_assert_contains "$err" "$f" "invalid config $1: names the file"
	hg_assert_contains "$err" "$3" "invalid config $1: names the key"
	hg_assert_contains "$err" "$4" "invalid config $1: names the value"
	hg_assert_eq "$(grep -c . <<<"$err")" 1 "invalid config $1: one line"
	hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "invalid config $1: nothing written"
}
_hk_invalid policy '{"failurePolicy":"sometimes"}' '"failurePolicy"' sometimes
_hk_invalid policy-ignore-first '{"failurePolicy":"ignore","names":["bad name!"]}' '"names"' 'bad name!'
_hk_invalid vip '{"virtualIPs":["not-an-ip"]}' '"virtualIPs"' not-an-ip
_hk_invalid statedir '{"stateDir":"relative/dir"}' '"stateDir"' relative/dir
_hk_invalid hostips '{"hostIPs":"auto"}' '"hostIPs"' auto
# Malformed JSON: the file and the line.
f=$HG_TMP/malformed.json
printf '{\n  "stateDir": "/x",\n  oops\n}\n' >"$f"
rc=0
hk_hook createRuntime "$f" "$state" || rc=$?
err=$(cat "$HG_TMP/hook.err")
case $rc in 0 | 124) hg_fail "malformed config: exit $rc ($err)" ;; esac
hg_assert_contains "$err" "$f" "malformed config: names the file"
hg_assert_contains "$err" "line 3" "malformed config: names the line"

# A missing file: the defaults (names into the rootfs for a host-network container, the
# default stateDir /run/host-gateway, checked or made private; the test harness removes
# it again when this run made it).
hk_hook createRuntime "$HG_TMP/does-not-exist.json" "$state" || hg_fail "missing config: exit $? ($(cat "$HG_TMP/hook.err"))"
hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 1 "missing config: defaults, block written"
hg_assert_contains "$(hg_block "$b/rootfs/etc/hosts")" "127.0.0.1"$'\t'"$HG_DEFAULT_NAMES" "missing config: the default names"
hg_assert_eq "$(stat -c '%a %U' /run/host-gateway)" "700 root" "missing config: the default stateDir, private"
hk_hook poststop "$HG_TMP/does-not-exist.json" "$(hk_state_json "$HK_CID-direct" 0 "$b")" || hg_fail "missing config: poststop exit $?"

# A bundle without config.json: the policy decides.
nob=$HG_TMP/no-bundle
mkdir -p "$nob"
nstate=$(hk_state_json "$HK_CID-nob" 1 "$nob" runc)
rc=0
hk_hook createRuntime "$conf_fail" "$nstate" || rc=$?
hg_assert_eq "$rc" 1 "no config.json, fail: exit status ($(cat "$HG_TMP/hook.err"))"
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "$nob/config.json" "no config.json: named"
hk_hook createRuntime "$conf_ignore" "$nstate" || hg_fail "no config.json, ignore: exit $? ($(cat "$HG_TMP/hook.err"))"
# Garbage on stdin.
rc=0
hk_hook createRuntime "$conf_fail" 'not json' "$nob" || rc=$?
hg_assert_eq "$rc" 1 "garbage state, fail: exit status"
hk_hook createRuntime "$conf_ignore" 'not json' "$nob" || hg_fail "garbage state, ignore: exit $?"
# poststop never fails the delete.
hk_hook poststop "$conf_fail" "$nstate" || hg_fail "poststop with no config.json: exit $? ($(cat "$HG_TMP/hook.err"))"
hk_hook poststop "$conf_fail" 'not json' "$nob" || hg_fail "poststop with garbage state: exit $?"
# An unknown stage.
rc=0
hk_hook createContainer "$conf_ignore" "$state" || rc=$?
case $rc in 0 | 124) hg_fail "unknown stage: exit $rc" ;; esac
hg_assert_contains "$(cat "$HG_TMP/hook.err")" createContainer "unknown stage: named"
hg_log "config file and policy, direct: ok"

# ---- failurePolicy through the runtimes ------------------------------------------------
# HK_RUNTIMES="runc" narrows the runtimes (default: runc, and crun when installed).
read -ra runtimes <<<"${HK_RUNTIMES:-runc crun}"
for rt in "${runtimes[@]}"; do hk_runtime_need "$rt"; done
for rt in "${runtimes[@]}"; do
	for policy in fail ignore; do
		b=$HG_TMP/b-$rt-$policy id=$HK_CID-$rt-$policy
		hk_rootfs "$b/rootfs"
		rm -f "$b/rootfs/etc/hosts"
		mkdir "$b/rootfs/etc/hosts"
		conf=$conf_fail
		[ "$policy" = ignore ] && conf=$conf_ignore
		hk_bundle "$b" "$conf" "path:$NSP"
		hk_bundle_cmd "$b" 'echo started'
		rc=0
		hk_run "$rt" "$b" "$id" || rc=$?
		out=$(cat "$HG_TMP/$id.out")
		line=$(grep "hook createRuntime $id:" "$HK_LOG" || :)
		hg_assert_eq "$(grep -c . <<<"$line")" 1 "$rt/$policy: one log line for the refusal"
		hg_assert_contains "$line" "$b/rootfs" "$rt/$policy: the log line names the container root"
		hg_assert_contains "$line" "not a regular file" "$rt/$policy: the log line says why"
		if [ "$policy" = fail ]; then
			[ "$rc" -ne 0 ] || hg_fail "$rt/fail: the runtime started the container (status 0): $out"
			case $out in *started*) hg_fail "$rt/fail: the container's process ran: $out" ;; esac
			# runc passes the hook's stderr on; crun 1.8 only says "error executing hook"
			# (its stderr goes where the run.oci.hooks.stderr annotation says).
			if [ "$rt" = runc ]; then
				hg_assert_contains "$(cat "$HG_TMP/$id.err")" "not a regular file" "$rt/fail: the runtime's error shows the hook's message"
			else
				hg_assert_contains "$(cat "$HG_TMP/$id.err")" "hook" "$rt/fail: the runtime's error names the hook"
			fi
		else
			hg_assert_eq "$rc" 0 "$rt/ignore: the runtime's status ($(cat "$HG_TMP/$id.err"))"
			hg_assert_eq "$out" started "$rt/ignore: the container ran"
			hg_assert_contains "$line" "failurePolicy ignore" "$rt/ignore: the log line names the policy"
		fi
		hk_rt "$rt" delete -f "$id" >/dev/null 2>&1 || :
		_hk_clean "$id" "$rt/$policy"
		[ -d "$b/rootfs/etc/hosts" ] || hg_fail "$rt/$policy: the directory at /etc/hosts was replaced"
		hg_log "$rt/$policy: ok (status $rc)"
	done
done

hg_log PASS
