#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the plugin writes, and what can stop it (issue 7, items 3, 4 and 5), through the
# binary with bridge + host-local:
#  - CNI_NETNS=/proc/PID/ns/net of a process under `ip netns exec` (a private mount
#    namespace that still has this machine's root): ADD succeeds, says why, and the
#    machine's /etc/hosts is untouched (compared by content, inode and mtime; it is saved
#    first and restored at exit should the plugin ever write it);
#  - another process holds flock(LOCK_EX) on the container's hosts file for ever (any
#    process of a container sharing the file can): ADD still finishes (hang guard 20 s)
#    and writes the names; DEL too;
#  - a 1 MiB hosts file of short names: ADD merges it (hang guard 20 s; it took 41 s
#    before), every user byte kept;
#  - stateDir a symlink, or writable by others: ADD refuses it (code 105), DEL exits 0
#    and follows nothing; logFile a symlink to a canary: the canary is untouched.
. "$(dirname "$0")/cni-lib.sh"
hg_init cni-hosts-guards
hg_require_bin
hg_require_cmd jq flock sha256sum timeout
hg_guard_forwarding on

net=hgt-guards br=hg$$gd subnet=10.250.34.0/24
hg_subnet_free "$subnet"
hg_defer ip link del "$br"
list=$HG_TMP/list.conflist
hg_bridge_list "$net" 1.0.0 "$br" "$subnet" >"$list"

fingerprint() { printf '%s %s\n' "$(stat -c '%i %s %Y' "$1")" "$(sha256sum <"$1" | cut -d' ' -f1)"; }
add() { # add NAME CID NETNS [LIST]: ADD with a hang guard; DEL deferred
	hg_defer hg_chain DEL "${4:-$list}" "$2" "$3" eth0
	HG_TMP=$HG_TMP timeout -k 1 20 bash -c '. "$HG_SOURCE_ROOT/tests/lib/common.sh"; hg_chain "$@"' _ \
		ADD "${4:-$list}" "$2" "$3" eth0 >"$HG_TMP/$1.json" 2>"$HG_TMP/$1.err"
}

# ---- a private mount namespace with this machine's root -------------------------------
cp -a /etc/hosts "$HG_TMP/machine-hosts.saved"
before=$(fingerprint /etc/hosts)
hg_defer _restore_machine_hosts
_restore_machine_hosts() {
	[ "$(fingerprint /etc/hosts)" = "$before" ] || cat "$HG_TMP/machine-hosts.saved" >/etc/hosts
}
ns=hgt-$$-shared
hg_netns_add "$ns"
ip netns exec "$ns" sleep 600 </dev/null >/dev/null 2>&1 &
pid=$!
hg_defer kill -KILL "$pid"
# Wait until the process really sits in the mount namespace `ip netns exec` makes.
for _ in $(seq 50); do
	[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || hg_fail "ip netns exec gave no private mount namespace"
add shared hgt-$$-shared "/proc/$pid/ns/net" || hg_fail "ADD for an ip-netns-exec process failed: $(cat "$HG_TMP/shared.err")"
hg_assert_eq "$(fingerprint /etc/hosts)" "$before" "the machine's /etc/hosts after ADD"
hg_assert_contains "$(cat "$HG_TMP/shared.err")" "this machine's own /etc/hosts" "ADD says why it wrote nothing"
hg_chain DEL "$list" hgt-$$-shared "/proc/$pid/ns/net" eth0 || hg_fail "DEL failed"
hg_assert_eq "$(fingerprint /etc/hosts)" "$before" "the machine's /etc/hosts after DEL"

# ---- a lock held for ever on the container's hosts file -------------------------------
hosts=$HG_TMP/locked-hosts
hgc_user_hosts >"$hosts"
ns=hgt-$$-locked
hg_netns_add "$ns"
hgc_container "$ns" "$hosts"
flock "$hosts" sleep 600 </dev/null >/dev/null 2>&1 &
holder=$!
hg_defer kill -KILL "$holder"
for _ in $(seq 50); do grep -q "FLOCK.*WRITE.*:$(stat -c %i "$hosts") " /proc/locks && break; sleep 0.1; done
grep -q "FLOCK.*WRITE.*:$(stat -c %i "$hosts") " /proc/locks || hg_fail "the holder took no lock"
add locked hgt-$$-locked "/proc/$HGC_PID/ns/net" || hg_fail "ADD with a held lock on the hosts file failed (124 = hung): $(cat "$HG_TMP/locked.err")"
gw=$(jq -r '.ips[0].gateway' "$HG_TMP/locked.json")
hg_assert_eq "$(hg_block "$hosts")" "$gw"$'\t'"$HG_DEFAULT_NAMES" "names written although the file is locked"
timeout -k 1 20 bash -c '. "$HG_SOURCE_ROOT/tests/lib/common.sh"; HG_TMP='"$HG_TMP"' hg_chain DEL "$@"' _ \
	"$list" hgt-$$-locked "/proc/$HGC_PID/ns/net" eth0 || hg_fail "DEL with a held lock failed"
hg_assert_eq "$(hg_nblocks "$hosts")" 0 "DEL removed the block although the file is locked"

# ---- 1 MiB of short names -------------------------------------------------------------
big=$HG_TMP/big-hosts
awk 'BEGIN { while (n < 1040000) { l = sprintf("10.%d.%d.%d a%d b%d c%d d%d e%d f%d\n", i % 200, (i / 200) % 200, i % 250 + 1, i, i, i, i, i, i); printf "%s", l; n += length(l); i++ } }' >"$big"
cp "$big" "$big.orig"
ns=hgt-$$-big
hg_netns_add "$ns"
hgc_container "$ns" "$big"
t0=$(date +%s%N)
add big hgt-$$-big "/proc/$HGC_PID/ns/net" || hg_fail "ADD with a $(stat -c %s "$big.orig")-byte hosts file failed (124 = hung): $(cat "$HG_TMP/big.err")"
hg_log "ADD with a $(stat -c %s "$big.orig")-byte hosts file: $((($(date +%s%N) - t0) / 1000000)) ms (the whole chain)"
hg_assert_eq "$(hg_nblocks "$big")" 1 "block in the 1 MiB file"
cmp <(hg_strip "$big") "$big.orig" || hg_fail "user lines of the 1 MiB file changed"

# ---- stateDir and logFile -------------------------------------------------------------
canary=$HG_TMP/canary
echo canary >"$canary"
cfp=$(fingerprint "$canary")
mkdir -p "$HG_TMP/real-state"
ln -s "$HG_TMP/real-state" "$HG_TMP/link-state"
mkdir -m 0777 "$HG_TMP/open-state"
chmod 0777 "$HG_TMP/open-state"
ln -s "$canary" "$HG_TMP/log-link"
ns=hgt-$$-sd
hg_netns_add "$ns"
for sd in link-state open-state; do
	l=$HG_TMP/$sd.conflist
	jq --arg s "$HG_TMP/$sd" --arg l "$HG_TMP/log-link" '.plugins[-1] += {stateDir: $s, logFile: $l}' "$list" >"$l"
	rc=0
	add "$sd" "hgt-$$-$sd" "/var/run/netns/$ns" "$l" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || hg_fail "ADD with stateDir $sd: exit $rc, expected a refusal"
	hg_assert_eq "$(hgc_chain_err_code <"$HG_TMP/$sd.err")" 105 "ADD with stateDir $sd: code"
	hg_assert_contains "$(cat "$HG_TMP/$sd.err")" "$HG_TMP/$sd" "ADD with stateDir $sd: names it"
	hg_chain DEL "$l" "hgt-$$-$sd" "/var/run/netns/$ns" eth0 2>"$HG_TMP/$sd-del.err" || hg_fail "DEL with stateDir $sd failed: $(cat "$HG_TMP/$sd-del.err")"
	hg_assert_eq "$(find "$HG_TMP/$sd/" -mindepth 1 | wc -l)" 0 "nothing written into stateDir $sd"
done
hg_assert_eq "$(fingerprint "$canary")" "$cfp" "the log symlink's target"
hg_log "PASS"
