#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A container whose /etc/hosts cannot take names is not refused: an image without
# /etc/hosts (ENOENT) or a read-only one (EROFS) gets a successful ADD, the plumbing, the
# names in the record for the hook, one log line, and its file untouched. A hosts file that
# is refused for safety (a directory here) still fails ADD with code 103.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-hosts-unwritable
hg_require_bin
hg_require_cmd jq nsenter unshare
hg_guard_forwarding on

net=hgt-unwr subnet=10.250.96.0/24
hg_subnet_free "$subnet"
br=hgt-$$-ub
hg_defer ip link del "$br"
list=$(hg_bridge_list "$net" 1.0.0 "$br" "$subnet" "$(jq -nc --arg log "$HG_TMP/plugin.log" '{logFile: $log}')")

n=0
for shape in missing readonly directory; do
	n=$((n + 1))
	ns=hgt-$$-u$n cid=hgt-$$-$shape
	hg_netns_add "$ns"
	hosts=$HG_TMP/hosts-$shape
	hgc_user_hosts >"$hosts"
	cp "$hosts" "$hosts.orig"
	# shellcheck disable=SC2016 # "$1" is the inner sh's
	case $shape in
	missing) hg_container_proc_with "$ns" "mount -t tmpfs hgt-etc /etc" ;;
	readonly) hg_container_proc_with "$ns" 'mount --bind "$1" /etc/hosts && mount -o remount,ro,bind /etc/hosts' "$hosts" ;;
	directory) hg_container_proc_with "$ns" "mount -t tmpfs hgt-etc /etc && mkdir /etc/hosts" ;;
	esac
	netns=/proc/$HG_CONTAINER_PID/ns/net
	rec=$(hgc_record "$net" "$cid" eth0)
	hg_defer hg_chain DEL "$list" "$cid" "$netns" eth0
	if [ "$shape" = directory ]; then
		rc=0
		hg_chain ADD "$list" "$cid" "$netns" eth0 >/dev/null 2>"$HG_TMP/err" || rc=$?
		[ "$rc" -ne 0 ] || hg_fail "ADD accepted a directory as /etc/hosts"
		hg_assert_contains "$(cat "$HG_TMP/err")" '"code":103' "a refused hosts file is code 103"
		[ ! -f "$rec" ] || hg_fail "a failed ADD left its record"
		continue
	fi
	hg_chain ADD "$list" "$cid" "$netns" eth0 >/dev/null || hg_fail "$shape: ADD failed"
	[ -f "$rec" ] || hg_fail "$shape: no record"
	hg_assert_eq "$(jq -r 'has("hosts")' "$rec")" false "$shape: the record claims a hosts file"
	hg_assert_contains "$(jq -c .entries "$rec")" host.docker.internal "$shape: names recorded for the hook"
	hg_assert_contains "$(cat "$HG_TMP/plugin.log")" "names not written" "$shape: the log says why"
	cmp -s "$hosts" "$hosts.orig" || hg_fail "$shape: the hosts file changed"
	hg_chain CHECK "$list" "$cid" "$netns" eth0 || hg_fail "$shape: CHECK failed"
	hg_chain DEL "$list" "$cid" "$netns" eth0 || hg_fail "$shape: DEL failed"
	[ ! -f "$rec" ] || hg_fail "$shape: DEL left the record"
done
hg_log PASS
