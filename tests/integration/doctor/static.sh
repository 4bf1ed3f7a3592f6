#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# doctor's static checks: the conflist runtimes load (--cni-conf-dir on a temporary folder:
# entry missing, entry before the main plugin, entry in place), and the names in a
# container's /etc/hosts (--pid of a process with its own mount namespace: names missing,
# one shadowed by a user line, then all there).
. "$(dirname "$0")/doctor-lib.sh"
hg_init doctor-static
hg_require_bin
hg_require_cmd jq
dir=$HG_TMP/net.d
mkdir -p "$dir"

conf() { DR_RC=0; DR_OUT=$("$HG_BIN" doctor --cni-conf-dir "$dir" "$@") || DR_RC=$?; printf '%s\n' "$DR_OUT" >&2; }
echo '{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}' >"$dir/10-n.conflist"
echo '{"cniVersion": "1.0.0", "name": "z", "plugins": [{"type": "bridge"}, {"type": "host-gateway"}]}' >"$dir/20-z.conflist"
conf
dr_expect 1
hg_assert_eq "$DR_OUT" "✘ host-gateway is missing from $dir/10-n.conflist, the configuration runtimes load — fix: host-gateway install --cni-conf-dir $dir"
echo '{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "host-gateway"}, {"type": "bridge"}]}' >"$dir/10-n.conflist"
conf --json
dr_expect 1
hg_assert_eq "$(jq -c '.checks[0] | [.id, .status]' <<<"$DR_OUT")" '["cni-conflist","fail"]'
hg_assert_contains "$(jq -r '.checks[0].message' <<<"$DR_OUT")" "is the first plugin of $dir/10-n.conflist"
echo '{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "host-gateway"}]}' >"$dir/10-n.conflist"
conf
dr_expect 0
hg_assert_eq "$DR_OUT" "✔ $dir/10-n.conflist chains host-gateway after bridge"

# The container's /etc/hosts, reached through /proc/PID/root.
dr_topology
printf '127.0.0.1\tlocalhost\n10.9.9.9\thost.docker.internal\n' >"$HG_TMP/hosts"
hg_container_proc "$DR_CT" "$HG_TMP/hosts"
pid_doctor() {
	DR_RC=0
	DR_OUT=$(ip netns exec "$DR_HOST" "$HG_BIN" doctor --pid "$HG_CONTAINER_PID" --config "$HG_TMP/config.json" "$@") ||
		DR_RC=$?
	printf '%s\n' "$DR_OUT" >&2
}
pid_doctor
dr_expect 1
hg_assert_contains "$DR_OUT" "✘ host.docker.internal is shadowed in the container's /etc/hosts: line 2 maps it to 10.9.9.9, not $DR_HOST_IP — fix: remove line 2 (\"10.9.9.9 host.docker.internal\") from the container's /etc/hosts"
hg_assert_contains "$DR_OUT" "✘ host.containers.internal is missing from the container's /etc/hosts — fix: restart the container (its CNI ADD or OCI hook writes the names), or add the line \"$DR_HOST_IP host.containers.internal\""
hg_assert_contains "$DR_OUT" "✘ gateway.docker.internal is missing"
# doctor reads, never writes.
hg_assert_eq "$(cat "$HG_TMP/hosts")" "$(printf '127.0.0.1\tlocalhost\n10.9.9.9\thost.docker.internal')"

printf '127.0.0.1\tlocalhost\n%s\thost.docker.internal host.containers.internal gateway.docker.internal\n' \
	"$DR_HOST_IP" >"$HG_TMP/hosts"
pid_doctor --cni-conf-dir "$dir"
dr_expect 0
hg_assert_contains "$DR_OUT" "✔ the container's /etc/hosts maps all 3 names"
hg_assert_contains "$DR_OUT" "✔ $dir/10-n.conflist chains host-gateway after bridge"
hg_log "ok"
