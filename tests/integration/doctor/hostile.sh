#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor on files and names it does not control, through the real binary:
#   1. --cni-conf-dir whose first file is a FIFO: a failed check at once (it used to hang);
#      a symlink to /dev/zero: refused, never read (it used to grow past 900 MB); a file
#      over 1 MiB: refused; a symlink to a valid file: followed, as runtimes do
#   2. --json with a host interface whose name is not UTF-8: valid JSON, the bytes as '?'
#      (it used to print nothing and exit 3, "cannot write stdout"); the human output keeps
#      the name's bytes
#   3. --pid: a read-only bind mount of /etc/hosts is read (it used to be "unknown": opened
#      read-write); a line over 1023 bytes still maps the names on it (they used to be
#      "missing", and the fix offered a duplicate line); refusals say "not read", never
#      "refusing to write it" (a FIFO, a file over 1 MiB, the machine's own /etc/hosts)
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-hostile
hg_require_bin
hg_require_cmd jq timeout mkfifo

# A run that used to take unbounded memory is bounded here too (unless the binary is built
# with AddressSanitizer, whose shadow memory an address-space limit forbids).
bounded() {
	if grep -qa __asan_init "$HG_BIN"; then
		timeout -s KILL 10 "$@"
	else
		(ulimit -v $((1 << 20)) && exec timeout -s KILL 10 "$@")
	fi
}

# ---- 1. the conf folder ----
dir=$HG_TMP/net.d
mkdir -p "$dir"
echo '{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "host-gateway"}]}' >"$HG_TMP/good.conflist"
echo '{"cniVersion": "1.0.0", "name": "z", "plugins": [{"type": "bridge"}]}' >"$dir/20-z.conflist"
conf() { DR_RC=0; DR_OUT=$(bounded "$HG_BIN" doctor --cni-conf-dir "$dir") || DR_RC=$?; printf '%s\n' "$DR_OUT" >&2; }

mkfifo "$dir/00-a.conflist"
conf
[ "$DR_RC" != 137 ] || hg_fail "doctor hung on a FIFO"
dr_expect 1
hg_assert_eq "$DR_OUT" "✘ cannot read $dir/00-a.conflist: $dir/00-a.conflist is not a regular file"
rm "$dir/00-a.conflist"

ln -s /dev/zero "$dir/00-a.conflist"
conf
[ "$DR_RC" != 137 ] || hg_fail "doctor read /dev/zero until it was killed"
dr_expect 1
hg_assert_eq "$DR_OUT" "✘ cannot read $dir/00-a.conflist: $dir/00-a.conflist is not a regular file"
rm "$dir/00-a.conflist"

truncate -s 2M "$dir/00-a.conflist"
conf
dr_expect 1
hg_assert_eq "$DR_OUT" "✘ cannot read $dir/00-a.conflist: $dir/00-a.conflist is larger than 1048576 bytes"
rm "$dir/00-a.conflist"

ln -s "$HG_TMP/good.conflist" "$dir/00-a.conflist"
conf
dr_expect 0
hg_assert_eq "$DR_OUT" "✔ $dir/00-a.conflist chains host-gateway after bridge"

# ---- 2. --json with an interface name that is not UTF-8 ----
ifname=$'hgt-'"$$"$'-\xff'
dr_topology "$ifname"
dr_doctor
hg_assert_contains "$DR_OUT" "rp_filter on $ifname is" "the human output keeps the name's bytes"
dr_doctor --json
hg_assert_eq "$DR_RC" 0 "doctor --json exit status"
jq -e . <<<"$DR_OUT" >/dev/null || hg_fail "doctor --json printed no valid JSON"
hg_assert_contains "$(jq -r '.checks[] | select(.id == "rp-filter") | .message' <<<"$DR_OUT")" "rp_filter on hgt-$$-? is"

# ---- 3. --pid: the container's /etc/hosts ----
names="host.docker.internal host.containers.internal gateway.docker.internal"
pid_doctor() {
	DR_RC=0
	DR_OUT=$(ip netns exec "$DR_HOST" "$HG_BIN" doctor --pid "$1" --config "$HG_TMP/config.json") || DR_RC=$?
	printf '%s\n' "$DR_OUT" >&2
}
# A read-only bind mount.
printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$DR_HOST_IP" "$names" >"$HG_TMP/hosts-ro"
# shellcheck disable=SC2016 # $1 is the inner sh's
hg_container_proc_with "$DR_CT" 'mount --bind "$1" /etc/hosts && mount -o remount,bind,ro /etc/hosts' "$HG_TMP/hosts-ro"
ip netns exec "$DR_HOST" nsenter -t "$HG_CONTAINER_PID" -m sh -c 'echo x >>/etc/hosts' 2>/dev/null &&
	hg_fail "the container's /etc/hosts is writable"
pid_doctor "$HG_CONTAINER_PID"
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ the container's /etc/hosts maps all 3 names"

# A line of 2000 bytes: the names after its 1023rd byte are still on it.
pad=$(for i in $(seq 1 150); do printf 'alias%03d.internal ' "$i"; done)
printf '127.0.0.1\tlocalhost\n%s\t%s%s\n' "$DR_HOST_IP" "$pad" "$names" >"$HG_TMP/hosts-long"
(($(sed -n 2p "$HG_TMP/hosts-long" | wc -c) > 2000)) || hg_fail "the long line is not long"
hg_container_proc "$DR_CT" "$HG_TMP/hosts-long"
pid_doctor "$HG_CONTAINER_PID"
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ the container's /etc/hosts maps all 3 names"
# Shadowed on a long line: the line is named, not taken for missing.
printf '127.0.0.1\tlocalhost\n10.9.9.9\t%s%s\n%s\t%s\n' "$pad" "$names" "$DR_HOST_IP" "$names" >"$HG_TMP/hosts-long"
pid_doctor "$HG_CONTAINER_PID"
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ host.docker.internal is shadowed in the container's /etc/hosts: line 2 maps it to 10.9.9.9"

# Refusals of a command that writes nothing say so.
refused() {
	pid_doctor "$1"
	hg_assert_contains "$DR_OUT" "$2"
	case $DR_OUT in *"refusing to write"*) hg_fail "doctor says it refuses to write" ;; esac
}
mkfifo "$HG_TMP/hosts-fifo"
hg_container_proc "$DR_CT" "$HG_TMP/hosts-fifo"
refused "$HG_CONTAINER_PID" "? cannot open /etc/hosts of process $HG_CONTAINER_PID: /etc/hosts (in container root /proc/$HG_CONTAINER_PID/root) is not a regular file, not read"
truncate -s 2M "$HG_TMP/hosts-big"
hg_container_proc "$DR_CT" "$HG_TMP/hosts-big"
refused "$HG_CONTAINER_PID" "is larger than 1048576 bytes, not read"
# A private mount namespace with this machine's root: its /etc/hosts is the machine's.
hg_container_proc_with "$DR_CT" true
refused "$HG_CONTAINER_PID" "is this machine's own /etc/hosts, which host-gateway never writes"
hg_log "ok"
