#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# GC and STATUS (cniVersion 1.1.0) through the real binary. Three attachments (each with a
# host route and a hosts block); GC with cni.dev/valid-attachments naming one removes the
# other two records, routes and blocks and keeps the valid one intact (CHECK still passes);
# the older key cni.dev/attachments works the same. `host-gateway gc` keeps a record whose
# netns path it cannot open while a process is in that namespace or a mount holds it, and
# removes it once the namespace is gone, and never takes what an ADD of the same key is
# writing at the same moment. STATUS: 0 with a usable stateDir,
# code 50 with a stateDir under a regular file.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-gc-status
hg_require_bin
hg_require_cmd jq unshare gcc
hg_guard_forwarding on

net=hgt-gc br=hg$$gc subnet=10.250.80.0/24 hostip=10.250.81.1
hg_subnet_free "$subnet" 10.250.81.0/24
hg_defer ip link del "$br"
# ADDs at 1.0.0 (the reference plugins 1.1.1 stop there); GC/STATUS at 1.1.0.
list=$(hg_bridge_list --no-route "$net" 1.0.0 "$br" "$subnet" "{\"hostIPs\": [\"$hostip\"]}")
declare -a PIDS
for i in 1 2 3; do
	hg_netns_add "hgt-$$-g$i"
	hgc_user_hosts >"$HG_TMP/hosts-$i"
	hgc_container "hgt-$$-g$i" "$HG_TMP/hosts-$i"
	PIDS[i]=$HGC_PID
	hg_defer hg_chain DEL "$list" "hgt-$$-g$i-c" "/proc/$HGC_PID/ns/net" eth0
done
cp "$HG_TMP/hosts-1" "$HG_TMP/hosts.orig"

# add I [again]: the chain's ADD; "again": host-gateway's ADD alone with the cached result
# (the interface made by the bridge plugin is still there; GC does not touch it).
add() {
	local cid=hgt-$$-g$1-c conf
	if [ -z "${2:-}" ]; then
		hg_chain ADD "$list" "$cid" "/proc/${PIDS[$1]}/ns/net" eth0 >/dev/null
	else
		conf=$(jq -c --slurpfile prev "$HG_TMP/cache/$cid-eth0.json" \
			'.plugins[1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' <<<"$list")
		hg_plugin ADD "$conf" "$cid" "/proc/${PIDS[$1]}/ns/net" eth0 >/dev/null || hg_fail "ADD $1 again failed"
	fi
	[ -f "$(hgc_record "$net" "hgt-$$-g$1-c" eth0)" ] || hg_fail "no record after ADD $1"
	[ -n "$(ip -n "hgt-$$-g$1" route show "$hostip/32")" ] || hg_fail "no host route after ADD $1"
	hg_assert_eq "$(hg_nblocks "$HG_TMP/hosts-$1")" 1 "block after ADD $1"
}
intact() {
	[ -f "$(hgc_record "$net" "hgt-$$-g$1-c" eth0)" ] || hg_fail "$2: record of valid attachment $1 removed"
	[ -n "$(ip -n "hgt-$$-g$1" route show "$hostip/32")" ] || hg_fail "$2: route of valid attachment $1 removed"
	hg_assert_eq "$(hg_block "$HG_TMP/hosts-$1")" "$(printf '%s\t%s' "$hostip" "$HG_DEFAULT_NAMES")" "$2: block of valid attachment $1"
	hg_chain CHECK "$list" "hgt-$$-g$1-c" "/proc/${PIDS[$1]}/ns/net" eth0 || hg_fail "$2: CHECK of valid attachment $1 failed"
}
collected() {
	[ ! -e "$(hgc_record "$net" "hgt-$$-g$1-c" eth0)" ] || hg_fail "$2: record of attachment $1 not collected"
	hg_assert_eq "$(ip -n "hgt-$$-g$1" route show "$hostip/32")" "" "$2: route of attachment $1 not collected"
	cmp -s "$HG_TMP/hosts-$1" "$HG_TMP/hosts.orig" || hg_fail "$2: block of attachment $1 not collected: $(cat "$HG_TMP/hosts-$1")"
}
# gc KEY VALID_JSON: GC as libcni 1.1 sends it (only CNI_COMMAND and CNI_PATH set).
gc() {
	local conf out rc=0
	conf=$(jq -c --arg key "$1" --argjson valid "$2" \
		'.plugins[1] + {name: .name, cniVersion: "1.1.0", ($key): $valid}' <<<"$list")
	out=$(hg_plugin GC "$conf" "" "" "") || rc=$?
	hg_assert_eq "$rc" 0 "GC ($1) exit status: $out"
	hg_assert_eq "$out" "" "GC ($1) stdout"
}

add 1
add 2
add 3
hg_assert_eq "$(hg_nrecords "cni/$net")" 3 "records before GC"
# Temp files of record writers: one of a dead writer (killed between its link and its
# rename) is collected, one of a live writer (this shell) is not.
dead=$(sh -c 'echo $$')
echo '{}' >"$HG_STATE/cni/$net/.tmp.$dead.json"
echo '{}' >"$HG_STATE/cni/$net/.tmp.$$.json"
# Names our writer never makes, and what is not a regular file, stay.
others=(".tmp.0$dead.json" ".tmp.+$dead.json" ".tmp. $dead.json" ".tmp.${dead}x.json")
for f in "${others[@]}"; do echo '{}' >"$HG_STATE/cni/$net/$f"; done
dead2=$(sh -c 'echo $$')
mkfifo "$HG_STATE/cni/$net/.tmp.$dead2.json"
gc cni.dev/valid-attachments "[{\"containerID\": \"hgt-$$-g2-c\", \"ifname\": \"eth0\"}]"
hg_assert_eq "$(hg_nrecords "cni/$net")" 1 "records after GC"
[ ! -e "$HG_STATE/cni/$net/.tmp.$dead.json" ] || hg_fail "GC left the temp file of a dead writer"
[ -e "$HG_STATE/cni/$net/.tmp.$$.json" ] || hg_fail "GC removed the temp file of a live writer"
for f in "${others[@]}" ".tmp.$dead2.json"; do
	[ -e "$HG_STATE/cni/$net/$f" ] || hg_fail "GC removed $f, which no writer of ours names so or is not a file"
	rm -f "$HG_STATE/cni/$net/$f"
done
rm -f "$HG_STATE/cni/$net/.tmp.$$.json"
intact 2 valid-attachments
collected 1 valid-attachments
collected 3 valid-attachments

# The older key; attachment 2 is no longer valid, 1 is again.
add 1 again
gc cni.dev/attachments "[{\"containerID\": \"hgt-$$-g1-c\", \"ifname\": \"eth0\"}, {\"containerID\": \"hgt-$$-g2-c\", \"ifname\": \"eth1\"}]"
hg_assert_eq "$(hg_nrecords "cni/$net")" 1 "records after GC with cni.dev/attachments"
intact 1 attachments
collected 2 attachments

# `host-gateway gc` (no runtime GC: containerd sends none, and after the entry left the
# conflist no DEL comes): attachment 1's record whose netns path cannot be opened from here
# (a runtime's private mount) while a process is in the namespace is kept; once the
# namespace is gone, the record goes.
rec1=$(hgc_record "$net" "hgt-$$-g1-c" eth0)
jq '.netns.path = "/nonexistent/private-mount/netns"' "$rec1" >"$rec1.edit" && mv "$rec1.edit" "$rec1"
jq -n --arg s "$HG_STATE" '{stateDir: $s}' >"$HG_TMP/gc.json"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
[ -f "$rec1" ] || hg_fail "gc removed the record of a namespace a process is in: $(cat "$HG_TMP/gc.out")"
# No process in it any more, but pinned by its mount (/run/netns): held, kept.
kill -KILL "${PIDS[1]}"
for _ in $(seq 100); do kill -0 "${PIDS[1]}" 2>/dev/null || break; sleep 0.02; done
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
[ -f "$rec1" ] || hg_fail "gc removed the record of a namespace still mounted at /run/netns: $(cat "$HG_TMP/gc.out")"
hg_netns_del "hgt-$$-g1"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
[ ! -e "$rec1" ] || hg_fail "gc kept the record of a namespace that is gone: $(cat "$HG_TMP/gc.out")"
hg_assert_contains "$(cat "$HG_TMP/gc.out")" "removed the CNI attachment $net+hgt-$$-g1-c+eth0 (its network namespace is gone)" "gc names what it removed"

# `host-gateway gc` beside an ADD of the same key (a runtime re-adding a container, gc from
# a timer): gc acts on a record only after reading it again under the attachment's lock
# (.NAME.lock beside NAME.json), which ADD holds while it replaces the record.
hg_netns_add "hgt-$$-g4"
hgc_user_hosts >"$HG_TMP/hosts-4"
hgc_container "hgt-$$-g4" "$HG_TMP/hosts-4"
PIDS[4]=$HGC_PID
hg_defer hg_chain DEL "$list" "hgt-$$-g4-c" "/proc/$HGC_PID/ns/net" eth0
add 4
rec4=$(hgc_record "$net" "hgt-$$-g4-c" eth0)
lock4=$HG_STATE/cni/$net/.hgt-$$-g4-c+eth0.lock
[ -f "$lock4" ] || hg_fail "no attachment lock beside the record after ADD"
ino4=$(stat -L -c %i "/proc/${PIDS[4]}/ns/net")
cp "$rec4" "$HG_TMP/rec4.fresh"
# stale: as gc sees a record whose namespace went (its path leads nowhere, its inode is no one's).
stale() { jq '.netns.path = "/nonexistent/gone/netns" | .netns.ino = 1' "$rec4" >"$rec4.edit" && mv "$rec4.edit" "$rec4"; }
new_add_intact() {
	[ -f "$rec4" ] || hg_fail "$1: gc removed the record an ADD had just written: $(cat "$HG_TMP/gc.out")"
	hg_assert_eq "$(jq -r .netns.ino "$rec4")" "$ino4" "$1: the record is the new ADD's ($(cat "$HG_TMP/gc.out"))"
	hg_assert_eq "$(hg_nblocks "$HG_TMP/hosts-4")" 1 "$1: the names the ADD wrote are there ($(cat "$HG_TMP/gc.out"))"
	[ -n "$(ip -n "hgt-$$-g4" route show "$hostip/32")" ] || hg_fail "$1: the route the ADD made is gone"
}
# 1. An ADD holds the lock while gc finds the old record stale, and writes the new one: gc
# leaves the attachment to the next gc.
stale
rm -f "$HG_TMP/held"
rm -f "$HG_TMP/gc-done"
(
	exec {fd}>>"$lock4"
	flock -x "$fd"
	: >"$HG_TMP/held"
	for _ in $(seq 1000); do [ -e "$HG_TMP/gc-done" ] && break; sleep 0.01; done
	cp "$HG_TMP/rec4.fresh" "$rec4.edit" && mv "$rec4.edit" "$rec4"
) &
holder=$!
for _ in $(seq 200); do [ -e "$HG_TMP/held" ] && break; sleep 0.01; done
[ -e "$HG_TMP/held" ] || hg_fail "could not take $lock4"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
: >"$HG_TMP/gc-done"
wait "$holder"
hg_assert_eq "$(tail -n1 "$HG_TMP/gc.out")" "host-gateway gc: removed 0 stale items" "gc took nothing an ADD holds"
hg_assert_contains "$(cat "$HG_TMP/gc.out")" "left for the next gc" "gc says what it left"
new_add_intact "gc beside a held lock"
# 2. Real ADDs beside gc: the hosts files' locks, held by the test for a moment, stop the ADD
# while it replaces the old record and gc while it undoes the one it found stale, so that
# both go on together once released; the rounds vary which one starts first.
hold_hosts_locks() {
	local n fd
	for n in $(seq -w 0 63); do
		exec {fd}>>"/run/host-gateway/.hosts-$n.lock" && flock -x "$fd" || exit 1
	done
	: >"$HG_TMP/held"
	sleep 0.4
}
conf4=$(jq -c --slurpfile prev "$HG_TMP/cache/hgt-$$-g4-c-eth0.json" \
	'.plugins[1] + {name: .name, cniVersion: .cniVersion, prevResult: $prev[0]}' <<<"$list")
for it in $(seq 8); do
	stale
	rm -f "$HG_TMP/held"
	hold_hosts_locks &
	holder=$!
	for _ in $(seq 200); do [ -e "$HG_TMP/held" ] && break; sleep 0.01; done
	[ -e "$HG_TMP/held" ] || hg_fail "could not take the hosts files' locks"
	if ((it % 2)); then
		hg_plugin ADD "$conf4" "hgt-$$-g4-c" "/proc/${PIDS[4]}/ns/net" eth0 >"$HG_TMP/race-add.out" 2>&1 &
		adder=$!
		sleep 0.1
		"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
	else
		"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 &
		gcer=$!
		sleep 0.1
		hg_plugin ADD "$conf4" "hgt-$$-g4-c" "/proc/${PIDS[4]}/ns/net" eth0 >"$HG_TMP/race-add.out" 2>&1 &
		adder=$!
		wait "$gcer" || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
	fi
	wait "$adder" || hg_fail "round $it: the ADD beside gc failed: $(cat "$HG_TMP/race-add.out")"
	wait "$holder" || :
	new_add_intact "round $it"
done
# 3. The runtime's GC judged the record stale by its list, and an ADD of the key replaced it
# before GC took the attachment's lock (a runtime re-adding the container after making its
# list): GC retires only the file it judged, so nothing. The window is microseconds: a
# preloaded flock (tests/tools/flock-pause) holds GC there while the test runs the ADD.
gcc -shared -fPIC -o "$HG_TMP/flock-pause.so" "$HG_SOURCE_ROOT/tests/tools/flock-pause/flock-pause.c" -ldl ||
	hg_fail "cannot build tests/tools/flock-pause"
mkdir "$HG_TMP/pause"
gc_conf=$(jq -c '.plugins[1] + {name: .name, cniVersion: "1.1.0", "cni.dev/valid-attachments": []}' <<<"$list")
HG_FLOCK_PAUSE_DIR=$HG_TMP/pause LD_PRELOAD=$HG_TMP/flock-pause.so \
	hg_plugin GC "$gc_conf" "" "" "" >"$HG_TMP/gc.out" 2>&1 &
gcer=$!
for _ in $(seq 500); do [ -e "$HG_TMP/pause/paused" ] && break; sleep 0.01; done
[ -e "$HG_TMP/pause/paused" ] || { kill "$gcer"; hg_fail "GC never reached the attachment's lock: $(cat "$HG_TMP/gc.out")"; }
hg_plugin ADD "$conf4" "hgt-$$-g4-c" "/proc/${PIDS[4]}/ns/net" eth0 >"$HG_TMP/race-add.out" 2>&1 ||
	hg_fail "the ADD beside GC failed: $(cat "$HG_TMP/race-add.out")"
: >"$HG_TMP/pause/go"
wait "$gcer" || hg_fail "GC failed: $(cat "$HG_TMP/gc.out")"
[ ! -e "$HG_TMP/pause/timedout" ] || hg_fail "GC went on before the ADD was done: the window was not driven"
case $(cat "$HG_TMP/gc.out") in *"left for the next GC"*) hg_fail "GC found the lock held: the window was not driven: $(cat "$HG_TMP/gc.out")" ;; esac
new_add_intact "the runtime's GC after an ADD replaced the record it judged"
# 4. The lock of a record that is gone (an ADD killed before it saved) goes with gc; the
# attachment's own stays while its record does.
: >"$HG_STATE/cni/$net/.hgt-$$-killed-c+eth0.lock"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
[ ! -e "$HG_STATE/cni/$net/.hgt-$$-killed-c+eth0.lock" ] || hg_fail "gc left the lock of a record that is gone"
[ -f "$lock4" ] || hg_fail "gc removed the lock of a record that is there"
# ... and with the DEL of that attachment, whose record is not there.
: >"$HG_STATE/cni/$net/.hgt-$$-killed-c+eth0.lock"
hg_plugin DEL "$conf4" "hgt-$$-killed-c" "/proc/${PIDS[4]}/ns/net" eth0 >"$HG_TMP/del.out" 2>&1 || hg_fail "DEL failed: $(cat "$HG_TMP/del.out")"
[ ! -e "$HG_STATE/cni/$net/.hgt-$$-killed-c+eth0.lock" ] || hg_fail "DEL left the lock of its attachment whose ADD was killed"
# A lock that no record's name makes (another stateDir nested here) is not gc's.
: >"$HG_STATE/cni/$net/.host.lock"
"$HG_BIN" gc --config "$HG_TMP/gc.json" >"$HG_TMP/gc.out" 2>&1 || hg_fail "gc failed: $(cat "$HG_TMP/gc.out")"
[ -e "$HG_STATE/cni/$net/.host.lock" ] || hg_fail "gc removed a lock no record names"
rm -f "$HG_STATE/cni/$net/.host.lock"

# STATUS
status_conf=$(jq -c '.plugins[1] + {name: .name, cniVersion: "1.1.0"}' <<<"$list")
rc=0
out=$(hg_plugin STATUS "$status_conf" "" "" "") || rc=$?
hg_assert_eq "$rc" 0 "STATUS exit status: $out"
hg_assert_eq "$out" "" "STATUS stdout"
: >"$HG_TMP/afile"
bad=$(jq -c --arg d "$HG_TMP/afile/state" '.stateDir = $d' <<<"$status_conf")
rc=0
out=$(hg_plugin STATUS "$bad" "" "" "") || rc=$?
[ "$rc" -ne 0 ] || hg_fail "STATUS with a stateDir under a regular file exited 0: $out"
hg_assert_eq "$(jq -r .code <<<"$out")" 50 "STATUS code with an unusable stateDir ($out)"
hg_assert_eq "$(jq -r .cniVersion <<<"$out")" 1.1.0 "STATUS error cniVersion"
[ -f "$HG_TMP/afile" ] || hg_fail "STATUS replaced the regular file"
hg_log "PASS"
