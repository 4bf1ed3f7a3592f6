#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# containerd 1.6 `ctr run --cni` with host-gateway chained after bridge (isGateway) +
# host-local, through the real runtime (containerd, runc shim, libcni in ctr):
#   1. a first container creates the bridge; its record is gone after its DEL
#   2. names: a command in the container reaches a listener on the bridge gateway by
#      host.docker.internal; the container's own /etc/hosts (cat from inside) has the
#      managed block; the record exists while it runs (netns /proc/PID/ns/net, the hosts
#      file reached through /proc/PID/root) and is gone after ctr's DEL (CNI_NETNS empty)
#   3. virtualIPs ["169.254.1.2"] + localhostPorts ["5432"]: 169.254.1.2:PORT reaches the
#      listener on the gateway, the names map to 169.254.1.2 and connect, 127.0.0.1:5432
#      reaches the host listener on gateway:5432, a port not listed stays local
# At the end: no record left, the host as before (nft ruleset, links, routes, addresses,
# forwarding), the machine's /etc/cni, /opt/cni, /var/lib/cni and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=e2e-cni-lib.sh
. "$(dirname "$0")/e2e-cni-lib.sh"
# shellcheck source=../containerd-lib.sh
. "$(dirname "$0")/../containerd-lib.sh"
hg_init e2e-ctr-cni
hg_require_bin
hg_require_cmd containerd ctr runc umoci jq socat ss
hg_require_cmd nsenter unshare
T_START=$(e2e_now_ms)

SUBNET=10.214.1.0/24
GW=10.214.1.1
BR=hgt-$$-cb
NET=hgt-e2e-ctr
NET_NAT=hgt-e2e-ctr-nat
P_NAME=28711    # the listener reached by name / virtual IP
P_LOCAL=28712   # a port NOT in localhostPorts: must stay the container's own
P_PG=5432       # localhostPorts
hg_subnet_free "$SUBNET"
ec_port_free "$P_NAME" "$P_LOCAL" "$P_PG"

ec_machine_paths >"$HG_TMP/machine.before"
hg_guard_forwarding on
hg_snapshot_host

e2e_containerd_start "$HG_TMP/ctrd"
e2e_containerd_import_busybox
ns_prefix=$E2E_CTR_NS
ec_traced_plugin_dir

EC_LOG=$HG_TMP/plugin.log
hg_bridge_list "$NET" 1.0.0 "$BR" "$SUBNET" "$(jq -nc --arg l "$EC_LOG" '{logFile: $l}')" >"$HG_TMP/net.conflist"
hg_bridge_list "$NET_NAT" 1.0.0 "$BR" "$SUBNET" \
	"$(jq -nc --arg l "$EC_LOG" '{logFile: $l, virtualIPs: ["169.254.1.2"], localhostPorts: ["5432"]}')" >"$HG_TMP/nat.conflist"

# ---- 1. the bridge appears with the first container ---------------------------------
rc=0
out=$(e2e_ctr_run_cni c0 "$HG_TMP/net.conflist" "$EC_PLUGIN_DIR" -- true) || rc=$?
hg_assert_eq "$rc" 0 "ctr run --cni true (plugin log: $(cat "$EC_LOG" 2>/dev/null || :))"
ip -4 addr show dev "$BR" | grep -qF "inet $GW/24" || hg_fail "bridge $BR has no $GW/24: $(ip addr show dev "$BR" 2>&1)"
ec_wait_no_records "$NET" 5

# run_bg NAME CONFLIST SCRIPT: ctr run --cni in the background, output to $HG_TMP/NAME.*;
# sets BG_PID. The container gets `sh -c SCRIPT`.
run_bg() {
	: >"$HG_TMP/$1.out"
	e2e_ctr_run_cni "$1" "$2" "$EC_PLUGIN_DIR" -- sh -c "$3" >"$HG_TMP/$1.out" 2>"$HG_TMP/$1.err" &
	BG_PID=$!
	BG_T0=$(e2e_now_ms)
	hg_defer kill "$BG_PID"
}

# check_record NAME NETWORK: the record of container NAME while it runs.
check_record() {
	local rec=$HG_STATE/cni/$2/$ns_prefix-$1+eth0.json
	ec_wait_record "$rec" 15
	kill -0 "$BG_PID" 2>/dev/null || hg_fail "ctr run $1 ended before its record could be checked"
	hg_assert_eq "$(jq -r .containerID "$rec")" "$ns_prefix-$1" "record containerID"
	hg_assert_eq "$(jq -r .network "$rec")" "$2" "record network"
	hg_assert_eq "$(jq -r .ifname "$rec")" eth0 "record ifname"
	[[ $(jq -r .netns.path "$rec") =~ ^/proc/[0-9]+/ns/net$ ]] ||
		hg_fail "record netns path is not /proc/PID/ns/net: $(jq -c .netns "$rec")"
	hg_assert_eq "$(jq -c .hostIPs "$rec")" "[\"$GW\"]" "record hostIPs"
	REC=$rec
}

# check_calls NAME: ctr called ADD with /proc/PID/ns/net, then DEL with CNI_NETNS empty.
check_calls() {
	local calls
	calls=$(ec_calls "$ns_prefix-$1" | sed -E 's#/proc/[0-9]+/#/proc/PID/#')
	hg_assert_eq "$calls" "ADD cid=$ns_prefix-$1 netns=[/proc/PID/ns/net]
DEL cid=$ns_prefix-$1 netns=[]" "the CNI calls ctr made for $1 (trace: $(ec_trace))"
	hg_assert_eq "$(grep -cE "^(ADD|DEL) cid=$ns_prefix-$1 .* by=\[ctr .* run --rm --cni " "$EC_TRACE")" 2 \
		"ADD and DEL of $1 made by ctr run (trace: $(ec_trace))"
}

# ---- 2. names -----------------------------------------------------------------------
hg_listener - "$GW" "$P_NAME" "hello-from-host"
run_bg c1 "$HG_TMP/net.conflist" "
	cat /etc/hosts
	echo '--- nc'
	r=\$(echo hi | nc -w3 host.docker.internal $P_NAME); echo \"nc=\$? \$r\"
	sleep 3"
check_record c1 "$NET"
hg_log "c1 record: $(jq -c . "$REC")"
pid=$(jq -r .netns.path "$REC" | cut -d/ -f3)
hg_assert_eq "$(jq -r .hosts.root "$REC")" "/proc/$pid/root" "record: the hosts file reached through the container's root"
hg_assert_eq "$(jq -r .hosts.path "$REC")" /etc/hosts "record: hosts path inside the root"
hg_assert_eq "$(jq -r .hosts.block "$REC")" "$(printf '%s\t%s' "$GW" "$HG_DEFAULT_NAMES")" "record: block"
rc=0
wait "$BG_PID" || rc=$?
BG_MS=$(($(e2e_now_ms) - BG_T0))
out=$(cat "$HG_TMP/c1.out")
hg_log "c1 output:"$'\n'"$out"
hg_assert_eq "$rc" 0 "ctr run c1 status; stdout: $out; stderr: $(cat "$HG_TMP/c1.err")"
hosts=${out%%--- nc*}
hg_assert_eq "$(hg_block - <<<"$hosts")" "$(printf '%s\t%s' "$GW" "$HG_DEFAULT_NAMES")" \
	"managed block in the container's /etc/hosts"
hg_assert_eq "$(hg_nblocks - <<<"$hosts")" 1 "one BEGIN marker"
hg_assert_eq "$(grep -c "^$HG_END\( \|$\)" <<<"$hosts")" 1 "one END marker"
hg_assert_contains "$hosts" "127.0.0.1	localhost" "the image's own lines kept"
hg_assert_contains "$out" "nc=0 hello-from-host" "host listener reached by host.docker.internal"
ec_wait_no_records "$NET" 5
check_calls c1
hg_log "names: ok (ctr run incl. 3 s sleep: $((BG_MS)) ms)"

# ---- 3. virtualIPs + localhostPorts -------------------------------------------------
hg_listener - "$GW" "$P_PG" "pg-on-host"
hg_listener - 127.0.0.1 "$P_LOCAL" "host-loopback-must-not-answer"
run_bg c2 "$HG_TMP/nat.conflist" "
	cat /etc/hosts
	echo '--- nc'
	r=\$(echo hi | nc -w3 169.254.1.2 $P_NAME); echo \"vip=\$? \$r\"
	r=\$(echo hi | nc -w3 host.docker.internal $P_NAME); echo \"name=\$? \$r\"
	r=\$(echo hi | nc -w3 127.0.0.1 $P_PG); echo \"pg=\$? \$r\"
	r=\$(echo hi | nc -w1 127.0.0.1 $P_LOCAL 2>&1); echo \"local=\$? \$r\"
	sleep 3"
check_record c2 "$NET_NAT"
hg_assert_eq "$(jq -r .containerTable "$REC")" true "record: container nft table"
rc=0
wait "$BG_PID" || rc=$?
BG_MS=$(($(e2e_now_ms) - BG_T0))
out=$(cat "$HG_TMP/c2.out")
hg_log "c2 output:"$'\n'"$out"
hg_assert_eq "$rc" 0 "ctr run c2 status; stdout: $out; stderr: $(cat "$HG_TMP/c2.err")"
hosts=${out%%--- nc*}
hg_assert_eq "$(hg_block - <<<"$hosts")" "$(printf '169.254.1.2\t%s' "$HG_DEFAULT_NAMES")" \
	"managed block maps the names to the virtual IP"
hg_assert_contains "$out" "vip=0 hello-from-host" "169.254.1.2:$P_NAME reaches the listener on $GW"
hg_assert_contains "$out" "name=0 hello-from-host" "host.docker.internal:$P_NAME (virtual IP) reaches the listener"
hg_assert_contains "$out" "pg=0 pg-on-host" "the container's 127.0.0.1:$P_PG reaches the host's $GW:$P_PG"
case $out in *"local=0"* | *host-loopback-must-not-answer*)
	hg_fail "127.0.0.1:$P_LOCAL (not listed) left the container: $out" ;;
esac
ec_wait_no_records "$NET_NAT" 5
check_calls c2
hg_log "virtualIPs + localhostPorts: ok (ctr run incl. 3 s sleep: $((BG_MS)) ms)"

# ---- the end: nothing left ----------------------------------------------------------
# Lock files stay (at most 64 + 2, never records).
left=$(find "$HG_STATE" -type f ! -name '.*.lock' 2>/dev/null)
[ -z "$left" ] || hg_fail "files left in stateDir: $left"
# The infrastructure's own cleanup first (daemon, shims, cgroups), then the bridge the
# bridge plugin made and never deletes, then compare.
e2e_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"
e2e_del_link "$BR"
ec_finish
