#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the hook writes, and what cannot stop it (issue 7, items 1, 3 and 4), the hook run
# directly as a runtime runs it (empty environment, `timeout 5`):
#  - an /etc/hosts mount with "ro" (a read-only hostPath): the source is untouched, the
#    hook says why and exits 0;
#  - a mount whose source is this machine's /etc/hosts (rw): untouched (saved first and
#    restored at exit should the hook ever write it), exit 0;
#  - a container ID "../../escape" (and one of 300 bytes): refused before any state
#    path is made of it; nothing appears outside the state directory;
#  - another process holds flock(LOCK_EX) on the pod hosts file for ever: createRuntime
#    still finishes and writes the names, poststop removes them and the registry;
#  - poststop with the config file broken since createRuntime (invalid values), and bad
#    annotations:
#    exit 0, and the plumbing (virtualIPs table, record) is undone;
#  - a stateDir writable by others: createRuntime refuses it (failurePolicy fail: exit 1
#    naming it; ignore: exit 0), nothing is written into it.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-guards
hg_require_cmd flock
conf=$HG_TMP/conf.json
hk_config "$conf"

# ---- read-only mount ------------------------------------------------------------------
src=$HG_TMP/ro-hosts
printf '127.0.0.1\tlocalhost\n' >"$src"
fp=$(hk_fingerprint "$src")
b=$HG_TMP/b-ro
hk_bundle "$b" "$conf" host "$src"
jq '(.mounts[] | select(.destination == "/etc/hosts") | .options) = ["rbind", "ro"]' "$b/config.json" >"$b/c.new"
mv "$b/c.new" "$b/config.json"
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-ro" 1 "$b")" || hg_fail "createRuntime with a ro /etc/hosts mount: exit $? ($(cat "$HG_TMP/hook.err"))"
hg_assert_eq "$(hk_fingerprint "$src")" "$fp" "the ro mount's source"
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "read-only" "the hook says why"

# ---- this machine's /etc/hosts as the mount source ------------------------------------
cp -a /etc/hosts "$HG_TMP/machine-hosts.saved"
mfp=$(hk_fingerprint /etc/hosts)
_restore_machine_hosts() { [ "$(hk_fingerprint /etc/hosts)" = "$mfp" ] || cat "$HG_TMP/machine-hosts.saved" >/etc/hosts; }
hg_defer _restore_machine_hosts
b=$HG_TMP/b-machine
hk_bundle "$b" "$conf" host /etc/hosts
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-m" 1 "$b")" || hg_fail "createRuntime with the machine's /etc/hosts mounted: exit $? ($(cat "$HG_TMP/hook.err"))"
hg_assert_eq "$(hk_fingerprint /etc/hosts)" "$mfp" "the machine's /etc/hosts"
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "this machine's own /etc/hosts" "the hook says why"

# ---- container IDs that would leave the state directory --------------------------------
b=$HG_TMP/b-id
hk_bundle "$b" "$conf" host
before=$(find "$HG_TMP" -path "$HG_STATE" -prune -o -print | sort)
long=$(printf 'a%.0s' $(seq 300))
for id in ../../escape "$long" 'a b' .hidden; do
	rc=0
	hk_hook createRuntime "$conf" "$(hk_state_json "$id" 1 "$b")" || rc=$?
	hg_assert_eq "$rc" 1 "createRuntime of container ID '${id:0:20}' (failurePolicy fail)"
	hg_assert_contains "$(cat "$HG_TMP/hook.err")" "container ID" "the refusal names the ID"
	hk_hook poststop "$conf" "$(hk_state_json "$id" 0 "$b")" || hg_fail "poststop of container ID '${id:0:20}' failed"
done
after=$(find "$HG_TMP" -path "$HG_STATE" -prune -o -print | grep -v "$HG_TMP/hook.err" | sort)
hg_assert_eq "$after" "$(grep -v "$HG_TMP/hook.err" <<<"$before")" "no file outside the state directory"
hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "nothing written for a refused ID"

# ---- a lock held for ever on the pod hosts file ---------------------------------------
pod=$HG_TMP/pod-hosts
printf '127.0.0.1\tlocalhost\n' >"$pod"
flock "$pod" sleep 600 </dev/null >/dev/null 2>&1 &
holder=$!
hg_defer kill -KILL "$holder"
for _ in $(seq 50); do grep -q "FLOCK.*WRITE.*:$(stat -c %i "$pod") " /proc/locks && break; sleep 0.1; done
b=$HG_TMP/b-lock
hk_bundle "$b" "$conf" host "$pod"
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-lock" 1 "$b")" || hg_fail "createRuntime with a held lock on the pod hosts file: exit $? (124 = hung) ($(cat "$HG_TMP/hook.err"))"
hg_assert_eq "$(hg_nblocks "$pod")" 1 "names written although the file is locked"
hk_hook poststop "$conf" "$(hk_state_json "$HK_CID-lock" 0 "$b")" || hg_fail "poststop with a held lock on the pod hosts file: exit $? (124 = hung)"
hg_assert_eq "$(hg_nblocks "$pod")" 0 "poststop removes the block although the file is locked"
[ ! -e "$(hg_registry_of "$pod")" ] || hg_fail "registry left after poststop: $(cat "$(hg_registry_of "$pod")")"

# ---- poststop whatever the configuration says -----------------------------------------
hg_guard_forwarding
hk_netns c1 74
conf_vip=$HG_TMP/vip.json
hk_config "$conf_vip" '{"virtualIPs":["169.254.1.2"]}'
b=$HG_TMP/b-vip
hk_bundle "$b" "$conf_vip" "path:${HK_NSPATH[c1]}"
pid=$(hk_sleeper c1)
hk_hook createRuntime "$conf_vip" "$(hk_state_json "$HK_CID-vip" "$pid" "$b")" || hg_fail "createRuntime (virtualIPs): exit $? ($(cat "$HG_TMP/hook.err"))"
[ -n "$(hk_netns_table c1)" ] || hg_fail "no table after createRuntime"
hg_assert_eq "$(hg_nrecords hook)" 1 "one hook record"
# Broken since: keys createRuntime would refuse (an unparsable file has no stateDir to
# read, so poststop could only look in the default one).
jq -n --arg s "$HG_STATE" --arg l "$HK_LOG" '{stateDir: $s, logFile: $l, virtualIPs: "oops", names: ["bad name!"], failurePolicy: "sometimes"}' >"$conf_vip"
state=$(hk_state_json "$HK_CID-vip" 0 "$b" | jq -c '.annotations = {"host-gateway.io/localhost-ports": "abc", "host-gateway.io/enabled": "maybe"}')
hk_hook poststop "$conf_vip" "$state" || hg_fail "poststop with a broken config file: exit $? ($(cat "$HG_TMP/hook.err"))"
hg_assert_eq "$(hk_netns_table c1)" "" "the table after poststop"
hg_assert_eq "$(hg_nrecords hook)" 0 "hook records after poststop"

# ---- a stateDir others can write ------------------------------------------------------
open=$HG_TMP/open-state
mkdir -m 0777 "$open"
chmod 0777 "$open"
conf_open=$HG_TMP/open.json
hk_config "$conf_open" "$(jq -cn --arg s "$open" '{stateDir: $s}')"
b=$HG_TMP/b-open
hk_bundle "$b" "$conf_open" host
rc=0
hk_hook createRuntime "$conf_open" "$(hk_state_json "$HK_CID-open" 1 "$b")" || rc=$?
hg_assert_eq "$rc" 1 "createRuntime with a world-writable stateDir (failurePolicy fail)"
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "$open" "the refusal names the stateDir"
hg_assert_eq "$(find "$open" -mindepth 1 | wc -l)" 0 "nothing written into it"
hg_assert_eq "$(hg_nblocks "$b/rootfs/etc/hosts")" 0 "no names written"
hg_log "PASS"
