#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The hosts registry and the file it was made for (issue 20, item 2), through the binary:
#  1. inode reuse, with runc containers whose roots are on a small loop-mounted ext4 (a
#     file created there gets the inode number of the one just deleted): container A
#     (extra-hosts api.internal:6.6.6.6) gets its block; A renames a new file over its own
#     /etc/hosts and keeps running; container B's image lays down an /etc/hosts that gets
#     A's old inode number. B's createRuntime writes B's names only (inside B, api.internal
#     is not in /etc/hosts) and B's registry lists B only; after A's poststop and `gc`,
#     B's file still holds nothing of A; B's poststop leaves its file as the image had it;
#  2. registries whose file is gone, or was replaced at its path, while the owner lives
#     (the suite left such registries in the machine's /run/host-gateway): gc removes
#     them and writes no file;
#  3. owners whose process is unknown (the OCI state has no PID): alive while younger than
#     a day (gc keeps them, a rewrite of the file brings their block back); older, gc
#     removes a registry of only such owners (their names stay in the file, not removed
#     on a guess: their poststop removes them), and a write by another owner forgets them
#     (their names are no longer in the block it renders); a process whose namespace links cannot be read (PID 1 on some VMs)
#     still has its PID recorded;
#  4. a poststop killed between its write of the shorter file and its truncate (strace
#     injects SIGKILL at the ftruncate): the file holds the live owner's names and lines a
#     resolver skips, not the old file's tail (fragments of the removed names and a second
#     copy of the live owner's, which nobody ever removed); after every poststop, the
#     user's lines and nothing that maps a name;
#  5. a createRuntime killed (strace) before its hosts-file write (at the registry's rename
#     before it), at that write, and after it (at the rename of the registry's final save);
#     its container dies and no poststop comes (the runtime crashed): a kill before the
#     write leaves no name in the file; after it, the next write of the file or gc removes
#     the block (it used to stay for ever, listed by no registry); gc removes the killed
#     registry writes' temp files. The kill points are found on a twin file's trace.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-registry
hk_runtime_need runc
hg_require_cmd mkfs.ext4 mount umount
conf=$HG_TMP/hook.json
hk_config "$conf"
gc() { env -i timeout -k 1 10 "$HG_BIN" gc --config "$conf" 2>"$HG_TMP/gc.err"; }
owners() { jq -r '[.owners[].key] | join(" ")' "$1"; }
api_lines() { grep -c 'api.internal' "$1" || :; }
# lo NAMES...: the block lines of a host-network container.
lo() {
	printf '127.0.0.1\t%s' "$*"
	if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6; then printf '\n::1\t%s' "$*"; fi
}
# A stand-in for a container's process, alive throughout.
sleep 600 >/dev/null 2>&1 &
sleeper=$!
disown "$sleeper"
hg_defer kill -KILL "$sleeper"
# Registries are the machine's (whatever stateDir a configuration names): what an earlier
# run left there is collected first, so that the counts below are this test's.
gc >/dev/null || hg_fail "the first gc failed: $(cat "$HG_TMP/gc.err")"

KUBELET=$'# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.244.0.5\tweb-0'
# owner ID FILE [PID]: createRuntime of container ID (names ID.local) with a bind mount of
# FILE at /etc/hosts; no PID in the OCI state unless given.
owner() {
	local b=$HG_TMP/b-$1
	hk_bundle "$b" "$conf" host "$2"
	jq --arg n "$1.local" '.annotations["host-gateway.io/names"] = $n' "$b/config.json" >"$b/c.new"
	mv "$b/c.new" "$b/config.json"
	hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-$1" "${3:-0}" "$b")" ||
		hg_fail "createRuntime $1: exit $? ($(cat "$HG_TMP/hook.err"))"
}
# age FILE: its registry's owners last wrote 25 hours ago.
age() {
	local reg
	reg=$(hg_registry_of "$1")
	jq '.owners[] |= (.since = ((.since // (now | floor)) - 90000))' "$reg" >"$reg.new"
	mv "$reg.new" "$reg"
}
# block_of FILE C: the lines of FILE's block with container C's names (C.local).
block_of() { hg_block "$1" | grep -F "	$2.local" || :; }

# ---- 1. an inode number reused ---------------------------------------------------------
img=$HG_TMP/ext4.img fs=$HG_TMP/fs
truncate -s 32M "$img"
# One block group (4 KiB blocks: 128 MiB per group), with a journal: a new file then takes
# the lowest free inode (without a journal, ext4 skips recently deleted ones).
mkfs.ext4 -q -F -b 4096 "$img"
mkdir "$fs"
mount -o loop "$img" "$fs"
# A lazy unmount when a container still pins it; the loop device goes with the last user.
# shellcheck disable=SC2016 # the inner sh expands $1
hg_defer sh -c 'umount "$1" 2>/dev/null || umount -l "$1"' sh "$fs"

ba=$fs/a bb=$fs/b ida=$HK_CID-a idb=$HK_CID-b
# A's /etc/hosts is made first, so every inode freed below (config.json rewrites, B's
# image file) has a higher number; once A's old file is gone, nothing else is created on
# the filesystem until B's file: that one gets A's old inode number.
hk_rootfs "$ba/rootfs"
hk_rootfs "$bb/rootfs"
# B's image lays its /etc/hosts down later, once A's old file is gone.
cp "$bb/rootfs/etc/hosts" "$HG_TMP/image-hosts"
rm "$bb/rootfs/etc/hosts"
hk_bundle "$ba" "$conf" host
jq '.annotations["host-gateway.io/extra-hosts"] = "api.internal:6.6.6.6"' "$ba/config.json" >"$ba/c.new"
mv "$ba/c.new" "$ba/config.json"
hk_bundle_cmd "$ba" 'while [ ! -e /tmp/go ]; do sleep 0.05; done
cp /etc/hosts /etc/hosts.new && mv /etc/hosts.new /etc/hosts && echo replaced; exec sleep 600'
hk_bundle "$bb" "$conf" host
hk_bundle_cmd "$bb" "echo \"api=\$($(e2e_hosts_lookup_snippet api.internal))\"; echo done; exec sleep 600"

hg_defer _hk_rt_cleanup runc "$ida" "hgt-$$-a"
hk_rt runc create --bundle "$ba" "$ida" >"$HG_TMP/$ida.out" 2>"$HG_TMP/$ida.err" </dev/null ||
	hg_fail "runc create A failed: $(cat "$HG_TMP/$ida.err")"
hk_rt runc start "$ida" || hg_fail "runc start A failed"
hg_assert_contains "$(hg_block "$ba/rootfs/etc/hosts")" "6.6.6.6"$'\t'"api.internal" "1. A's block"
old_ino=$(stat -c %i "$ba/rootfs/etc/hosts")
touch "$ba/rootfs/tmp/go"
e2e_wait_for 10 grep -q '^replaced$' "$HG_TMP/$ida.out" || hg_fail "1. A did not replace its /etc/hosts: $(cat "$HG_TMP/$ida.out" "$HG_TMP/$ida.err")"
[ "$(stat -c %i "$ba/rootfs/etc/hosts")" != "$old_ino" ] || hg_fail "1. A's /etc/hosts kept its inode"
cp "$HG_TMP/image-hosts" "$bb/rootfs/etc/hosts"
hg_assert_eq "$(stat -c %i "$bb/rootfs/etc/hosts")" "$old_ino" \
	"1. precondition: B's new /etc/hosts got the inode number of A's old one (ext4 reuses the lowest free inode)"
reg=$(hg_registry_of "$bb/rootfs/etc/hosts")
[ -e "$reg" ] || hg_fail "1. precondition: A's registry is under that inode number"

hg_defer _hk_rt_cleanup runc "$idb" "hgt-$$-b"
hk_rt runc create --bundle "$bb" "$idb" >"$HG_TMP/$idb.out" 2>"$HG_TMP/$idb.err" </dev/null ||
	hg_fail "runc create B failed: $(cat "$HG_TMP/$idb.err")"
hk_rt runc start "$idb" || hg_fail "runc start B failed"
e2e_wait_for 10 grep -q '^done$' "$HG_TMP/$idb.out" || hg_fail "1. B did not run: $(cat "$HG_TMP/$idb.out" "$HG_TMP/$idb.err")"
hg_assert_eq "$(api_lines "$bb/rootfs/etc/hosts")" 0 "1. A's names in B's file ($(cat "$bb/rootfs/etc/hosts"))"
hg_assert_eq "$(hg_nblocks "$bb/rootfs/etc/hosts")" 1 "1. B's file has one block"
[ -n "$(hg_block "$bb/rootfs/etc/hosts")" ] || hg_fail "1. B's own block is missing"
hg_assert_contains "$(cat "$HG_TMP/$idb.out")" "api="$'\n' "1. inside B, api.internal is not in /etc/hosts"
hg_assert_eq "$(owners "$reg")" "=hook+$idb+-" "1. the registry of B's file lists B only"

hk_rt runc delete -f "$ida" || hg_fail "1. runc delete A failed"
out=$(gc) || hg_fail "1. gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$(api_lines "$bb/rootfs/etc/hosts")" 0 "1. after A's poststop and gc ($out), A's names in B's file"
[ -n "$(hg_block "$bb/rootfs/etc/hosts")" ] || hg_fail "1. gc removed the block of B, which still runs"
hk_rt runc delete -f "$idb" || hg_fail "1. runc delete B failed"
hg_assert_eq "$(cat "$bb/rootfs/etc/hosts")" "$(cat "$HG_TMP/image-hosts")" "1. B's file after its poststop"
[ ! -e "$reg" ] || hg_fail "1. registry left after B's poststop: $(cat "$reg")"
hg_log "1. inode reuse: ok"

# ---- 2. a file gone, or replaced at its path, while its owner lives ---------------------
replaced=$HG_TMP/replaced-hosts gone=$HG_TMP/gone-hosts
for f in "$replaced" "$gone"; do
	printf '127.0.0.1\tlocalhost\n' >"$f"
	owner "$(basename "$f")" "$f" "$sleeper"
done
reg_replaced=$(hg_registry_of "$replaced") reg_gone=$(hg_registry_of "$gone")
for r in "$reg_replaced" "$reg_gone"; do [ -e "$r" ] || hg_fail "2. precondition: no registry $r"; done
# Replaced the way runtimes replace files (a copy renamed over it): the block comes along.
cp -p "$replaced" "$replaced.new"
mv "$replaced.new" "$replaced"
rm "$gone"
fp=$(hk_fingerprint "$replaced")
out=$(gc) || hg_fail "2. gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$out" "host-gateway gc: removed 2 stale items" "2. gc with the owner alive"
[ ! -e "$reg_replaced" ] || hg_fail "2. the registry of the replaced file stayed: $(cat "$reg_replaced")"
[ ! -e "$reg_gone" ] || hg_fail "2. the registry of the deleted file stayed: $(cat "$reg_gone")"
hg_assert_eq "$(hk_fingerprint "$replaced")" "$fp" "2. the file now at the path is not written"
hg_assert_contains "$(cat "$HG_TMP/gc.err")" "is gone or is another file now" "2. gc says why"
hg_log "2. registries of files gone or replaced: ok"

# ---- 3. owners whose process is unknown ------------------------------------------------
# 3a. Alone in its file: gc keeps it while young, removes its registry once old; its block
# stays until its poststop.
p1=$HG_TMP/pod1-hosts
printf '%s\n' "$KUBELET" >"$p1"
owner u1 "$p1"
reg=$(hg_registry_of "$p1")
hg_assert_eq "$(jq -r '.owners[0] | has("pid")' "$reg")" false "3a. the owner has no PID"
out=$(gc) || hg_fail "3a. gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$out" "host-gateway gc: removed 0 stale items" "3a. gc keeps a young owner of unknown process"
age "$p1"
out=$(gc) || hg_fail "3a. gc failed: $(cat "$HG_TMP/gc.err")"
hg_assert_eq "$out" "host-gateway gc: removed 1 stale item" "3a. gc after a day"
[ ! -e "$reg" ] || hg_fail "3a. the registry of an owner unknown for a day stayed: $(cat "$reg")"
[ -n "$(block_of "$p1" u1)" ] || hg_fail "3a. gc removed a block whose owner may live"
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-u1" 0 "$HG_TMP/b-u1")" || hg_fail "3a. poststop u1 exit $?"
hg_assert_eq "$(cat "$p1")" "$KUBELET" "3a. the file after its poststop"

# 3b. In a pod file with a live owner: rebuilt after a rewrite while young, forgotten once
# old.
p2=$HG_TMP/pod2-hosts
printf '%s\n' "$KUBELET" >"$p2"
owner u2 "$p2"
printf '%s\n' "$KUBELET" >"$p2"
owner q1 "$p2" "$sleeper"
hg_assert_eq "$(block_of "$p2" u2)" "$(lo u2.local)" "3b. a young owner's block is rebuilt"
age "$p2"
printf '%s\n' "$KUBELET" >"$p2"
owner q2 "$p2" "$sleeper"
hg_assert_eq "$(block_of "$p2" u2)" "" "3b. an owner unknown for a day is not rebuilt"
hg_assert_eq "$(owners "$(hg_registry_of "$p2")")" "=hook+$HK_CID-q1+- =hook+$HK_CID-q2+-" "3b. the registry forgot it"
for c in u2 q1 q2; do
	hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-$c" 0 "$HG_TMP/b-$c")" || hg_fail "3b. poststop $c exit $?"
done
hg_assert_eq "$(cat "$p2")" "$KUBELET" "3b. the file after every poststop"
[ ! -e "$(hg_registry_of "$p2")" ] || hg_fail "3b. registry left: $(cat "$(hg_registry_of "$p2")")"

# 3c. PID 1, whose namespace links root may not read on some VMs (this one): its start
# time is all that is needed.
p3=$HG_TMP/pod3-hosts
printf '%s\n' "$KUBELET" >"$p3"
owner init "$p3" 1
hg_assert_eq "$(jq -r '.owners[0].pid' "$(hg_registry_of "$p3")")" 1 "3c. PID 1 recorded"
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-init" 0 "$HG_TMP/b-init")" || hg_fail "3c. poststop exit $?"
[ ! -e "$(hg_registry_of "$p3")" ] || hg_fail "3c. registry left: $(cat "$(hg_registry_of "$p3")")"
hg_log "3. owners of unknown process: ok"

# ---- 4. a removal killed between its write and its truncate ------------------------------
if command -v strace >/dev/null; then
	p4=$HG_TMP/pod4-hosts
	printf '%s\n' "$KUBELET" >"$p4"
	# k1's block (first, longer) goes; k2's stays.
	owner k1 "$p4" "$sleeper"
	jq '.annotations["host-gateway.io/names"] = "k1.local,k1-second-name.local"' "$HG_TMP/b-k1/config.json" >"$HG_TMP/c.new"
	mv "$HG_TMP/c.new" "$HG_TMP/b-k1/config.json"
	hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-k1" "$sleeper" "$HG_TMP/b-k1")" || hg_fail "4. createRuntime k1 exit $?"
	owner k2 "$p4" "$sleeper"
	k2=$(block_of "$p4" k2)
	rc=0
	(cd "$HG_TMP/b-k1" && hk_state_json "$HK_CID-k1" "$sleeper" "$HG_TMP/b-k1" |
		env -i strace -qq -o /dev/null -e trace=ftruncate -e inject=ftruncate:signal=SIGKILL \
			"$HG_BIN" hook poststop --config "$conf") 2>/dev/null || rc=$?
	hg_assert_eq "$rc" 137 "4. precondition: the poststop was killed at its truncate"
	hg_assert_eq "$(hg_nblocks "$p4")" 1 "4. blocks in the file after the kill ($(cat "$p4"))"
	hg_assert_eq "$(block_of "$p4" k2)" "$k2" "4. k2's block after the kill"
	# Every line outside the block: the user's, or one a resolver skips.
	stray=$(sed '/^# BEGIN host-gateway/,/^# END host-gateway/d' "$p4" | grep -v -x -F -e "$KUBELET" | grep -v '^#' | grep -v '^$' || :)
	hg_assert_eq "$stray" "" "4. lines left of the old file's tail ($(cat "$p4"))"
	for c in k1 k2; do
		hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-$c" "$sleeper" "$HG_TMP/b-$c")" || hg_fail "4. poststop $c exit $?"
	done
	stray=$(grep -v -x -F -e "$KUBELET" "$p4" | grep -v '^#' | grep -v '^$' || :)
	hg_assert_eq "$stray" "" "4. after every poststop, lines other than the user's ($(cat "$p4"))"
	[ ! -e "$(hg_registry_of "$p4")" ] || hg_fail "4. registry left: $(cat "$(hg_registry_of "$p4")")"
	hg_log "4. a removal killed at its truncate: ok"
else
	hg_log "4. skipped: no strace to kill the hook at its truncate"
fi

# ---- 5. a write killed around its hosts-file write ---------------------------------------
if command -v strace >/dev/null; then
	sleep 600 >/dev/null 2>&1 &
	c5=$!
	disown "$c5"
	hg_defer kill -KILL "$c5"
	# traced ID FILE STRACE_ARG...: createRuntime of ID (names ID.local, a bundle of FILE,
	# the process c5) under strace.
	traced() {
		local id=$1 file=$2 b=$HG_TMP/b-$1
		shift 2
		hk_bundle "$b" "$conf" host "$file"
		jq --arg n "$id.local" '.annotations["host-gateway.io/names"] = $n' "$b/config.json" >"$b/c.new"
		mv "$b/c.new" "$b/config.json"
		(cd "$b" && hk_state_json "$HK_CID-$id" "$c5" "$b" |
			env -i strace -qq -f "$@" "$HG_BIN" hook createRuntime --config "$conf")
	}
	# temps ID: the temp files of registry writes that list ID (a killed write's).
	temps() { grep -lF "\"=hook+$HK_CID-$1+-\"" /run/host-gateway/hosts/.tmp.*.json 2>/dev/null || :; }
	# The system calls of a first write of a file, on a twin file: the renames (registry
	# saves: which syscall a rename is depends on the libc and the flags) and the writes of
	# the hosts file (-y names an fd's file). strace's when= counts each syscall apart: a
	# kill point is SYSCALL:when=K, the Kth call of that syscall.
	twin=$HG_TMP/pod5-twin
	printf '%s\n' "$KUBELET" >"$twin"
	traced k5t "$twin" -y -o "$HG_TMP/k5t.trace" \
		-e trace=rename,renameat,renameat2,write,pwrite64,pwritev,pwritev2 ||
		hg_fail "5. the traced createRuntime failed"
	# before: the last rename before the file's first write; at: that write; after: the
	# first rename after it (the registry's final save).
	mapfile -t points < <(awk -v f="<$twin>, " '
		{
			s = ""
			for (i = 1; i <= NF && s == ""; i++)
				if ($i ~ /^[a-z_0-9]+\(/) { s = $i; sub(/\(.*/, "", s) }
			if (s == "") next
			n[s]++
			if (s ~ /^rename/) {
				if (at == "") before = s ":when=" n[s]
				else if (after == "") after = s ":when=" n[s]
			} else if (at == "" && index($0, f)) at = s ":when=" n[s]
		}
		END { print before; print at; print after }' "$HG_TMP/k5t.trace")
	[ -n "${points[1]}" ] || hg_fail "5. precondition: the twin's hosts file written ($(cat "$HG_TMP/k5t.trace"))"
	# after and next: killed at the same point; gc cleans one file, the next write the other.
	declare -A point=([before]=${points[0]} [at]=${points[1]} [after]=${points[2]} [next]=${points[2]})
	cases=()
	for k in before at after next; do
		if [ -z "${point[$k]}" ]; then
			hg_log "5$k. skipped: no registry save on that side of the hosts write"
			continue
		fi
		cases+=("$k")
		p=$HG_TMP/pod5-$k
		printf '%s\n' "$KUBELET" >"$p"
		rc=0
		traced "k5$k" "$p" -o /dev/null -e trace="${point[$k]%%:*}" \
			-e inject="${point[$k]%%:*}:signal=SIGKILL:${point[$k]#*:}" 2>/dev/null || rc=$?
		hg_assert_eq "$rc" 137 "5$k. precondition: createRuntime killed at ${point[$k]}"
		case $k in
		before | at)
			# Killed before its write: no name of it in the file.
			hg_assert_eq "$(cat "$p")" "$KUBELET" "5$k. the file after a kill before the hosts write"
			;;
		*)
			hg_assert_eq "$(block_of "$p" "k5$k")" "$(lo "k5$k.local")" "5$k. precondition: the block written before the kill"
			;;
		esac
		case $k in
		at) [ -z "$(temps "k5$k")" ] || hg_fail "5$k. a temp file left by a kill outside a registry write" ;;
		*) [ -n "$(temps "k5$k")" ] || hg_fail "5$k. precondition: the kill left the registry write's temp file" ;;
		esac
	done
	kill -KILL "$c5"
	while kill -0 "$c5" 2>/dev/null; do sleep 0.05; done
	# The next writer of the file drops the killed owner's names (its container is gone).
	if [ -n "${point[next]}" ]; then
		owner w5 "$HG_TMP/pod5-next" "$sleeper"
		hg_assert_eq "$(block_of "$HG_TMP/pod5-next" k5next)" "" "5next. the next write kept the killed owner's names"
		hg_assert_eq "$(block_of "$HG_TMP/pod5-next" w5)" "$(lo w5.local)" "5next. the next writer's block"
	fi
	out=$(gc) || hg_fail "5. gc failed: $(cat "$HG_TMP/gc.err")"
	for k in "${cases[@]}"; do
		[ -z "$(temps "k5$k")" ] || hg_fail "5$k. gc left the killed registry write's temp file $(temps "k5$k")"
		[ "$k" != next ] || continue
		hg_assert_eq "$(cat "$HG_TMP/pod5-$k")" "$KUBELET" "5$k. the file after gc ($out)"
		[ ! -e "$(hg_registry_of "$HG_TMP/pod5-$k")" ] || hg_fail "5$k. registry left: $(cat "$(hg_registry_of "$HG_TMP/pod5-$k")")"
	done
	hg_assert_eq "$(cat "$twin")" "$KUBELET" "5. the twin after gc ($out)"
	[ ! -e "$(hg_registry_of "$twin")" ] || hg_fail "5. the twin's registry left"
	if [ -n "${point[next]}" ]; then
		hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-w5" "$sleeper" "$HG_TMP/b-w5")" || hg_fail "5next. poststop w5 exit $?"
		hg_assert_eq "$(cat "$HG_TMP/pod5-next")" "$KUBELET" "5next. the file after the next writer's poststop"
		[ ! -e "$(hg_registry_of "$HG_TMP/pod5-next")" ] || hg_fail "5next. registry left: $(cat "$(hg_registry_of "$HG_TMP/pod5-next")")"
	fi
	hg_log "5. a write killed before, at and after its hosts-file write: ok"
else
	hg_log "5. skipped: no strace to kill the hook around its hosts-file write"
fi
hg_log PASS
