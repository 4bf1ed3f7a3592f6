#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman 4.3 with its CNI backend and host-gateway chained after bridge (isGateway) +
# host-local, once with crun and once with runc. Per runtime:
#   1. a detached container: while it runs, the plugin's record exists (netns
#      /run/netns/netns-UUID, the names recorded for the hook: podman's hosts file is
#      podman's own and the plugin cannot see it), and `nc` to the bridge gateway from
#      inside reaches a listener on the host; the container then exits by itself, and
#      the DEL of `podman container cleanup` (spawned by conmon with a filtered
#      environment: every setting is in the conflist) removes the record
#   2. the same with virtualIPs ["169.254.1.2"] + localhostPorts ["5432"] (a second
#      network): the record has the container table, 169.254.1.2:PORT reaches the
#      listener on the gateway, the container's 127.0.0.1:5432 reaches the host listener
#      on gateway:5432, a port not listed stays local
# At the end: no record left, the host as before, the machine's CNI paths and
# /etc/hosts untouched (podman runs in the private mount namespace of podman-lib.sh).
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=e2e-cni-lib.sh
. "$(dirname "$0")/e2e-cni-lib.sh"
# shellcheck source=../podman-lib.sh
. "$(dirname "$0")/../podman-lib.sh"
hg_init e2e-podman-cni
hg_require_bin
hg_require_cmd podman conmon crun runc jq socat ss nsenter
T_START=$(e2e_now_ms)

NET=hgt-e2e-pod
NET_NAT=hgt-e2e-pod-nat
BR=hgt-$$-pb
BR_NAT=hgt-$$-pn
SUBNET=10.214.2.0/24
GW=10.214.2.1
SUBNET_NAT=10.214.3.0/24
GW_NAT=10.214.3.1
P_GW=28721      # listener on GW
P_VIP=28722     # listener on GW_NAT, reached at 169.254.1.2
P_LOCAL=28723   # not in localhostPorts: must stay the container's own
P_PG=5432       # localhostPorts, listener on GW_NAT
hg_subnet_free "$SUBNET" "$SUBNET_NAT"
ec_port_free "$P_GW" "$P_VIP" "$P_LOCAL" "$P_PG"

ec_machine_paths >"$HG_TMP/machine.before"
hg_guard_forwarding on
hg_snapshot_host
ec_traced_plugin_dir

EC_LOG=$HG_TMP/plugin.log
hg_bridge_list "$NET" 1.0.0 "$BR" "$SUBNET" "$(jq -nc --arg l "$EC_LOG" '{logFile: $l}')" >"$HG_TMP/pod.conflist"
hg_bridge_list "$NET_NAT" 1.0.0 "$BR_NAT" "$SUBNET_NAT" \
	"$(jq -nc --arg l "$EC_LOG" '{logFile: $l, virtualIPs: ["169.254.1.2"], localhostPorts: ["5432"]}')" >"$HG_TMP/nat.conflist"
LISTENERS=

# start_detached NAME NETWORK: a container that waits until /tmp/go exists, then exits by
# itself (so that conmon's `podman container cleanup` does the DEL). Sets CID and REC.
start_detached() {
	local name=$1 net=$2 copy=$E2E_PODMAN_DIR/rootfs-$1
	rm -rf "$copy"
	cp -a "$E2E_PODMAN_DIR/rootfs" "$copy"
	hg_defer _e2e_podman_rm "$name" "$copy"
	CID=$(e2e_podman run -d --name "$name" --network "$net" --cgroup-parent "$E2E_PODMAN_CGROUP" \
		--rootfs "$copy" sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done') ||
		hg_fail "podman run -d $name failed (plugin log: $(cat "$EC_LOG" 2>/dev/null || :))"
	[[ $CID =~ ^[0-9a-f]{64}$ ]] || hg_fail "podman run -d printed no container ID: $CID"
	REC=$HG_STATE/cni/$net/$CID+eth0.json
	ec_wait_record "$REC" 10
}

# check_record NETWORK GW TARGET: the record of the running container.
check_record() {
	hg_assert_eq "$(jq -r .containerID "$REC")" "$CID" "record containerID"
	hg_assert_eq "$(jq -r .network "$REC")" "$1" "record network"
	hg_assert_eq "$(jq -r .ifname "$REC")" eth0 "record ifname"
	[[ $(jq -r .netns.path "$REC") =~ ^/run/netns/netns-[0-9a-f-]+$ ]] ||
		hg_fail "record netns is not podman's /run/netns/netns-UUID: $(jq -c .netns "$REC")"
	hg_assert_eq "$(jq -c .hostIPs "$REC")" "[\"$2\"]" "record hostIPs"
	hg_assert_eq "$(jq -c .entries "$REC")" \
		"$(jq -nc --arg ip "$3" --arg n "$HG_DEFAULT_NAMES" '[{ip: $ip, names: ($n | split(" "))}]')" \
		"record: the names recorded for the hook"
	hg_assert_eq "$(jq -c .hosts "$REC")" null "record: no hosts file (podman's is out of the plugin's reach)"
}

# finish NAME NETWORK: let the container exit, wait for conmon's cleanup DEL to remove the
# record, check the CNI calls podman made, remove the container.
finish() {
	local name=$1 net=$2 nspath calls t0
	nspath=$(jq -r .netns.path "$REC")
	t0=$(e2e_now_ms)
	e2e_podman exec "$name" touch /tmp/go
	ec_wait_no_records "$net" 15
	hg_log "$name: record gone $(($(e2e_now_ms) - t0)) ms after the container was told to exit"
	e2e_wait_for 10 sh -c "[ \"\$(nsenter --mount=/proc/$E2E_PODMAN_NS_PID/ns/mnt -- podman inspect -f '{{.State.Status}}' $name)\" = exited ]" ||
		hg_fail "$name not exited: $(e2e_podman inspect -f '{{.State.Status}}' "$name" 2>&1)"
	calls=$(ec_calls "$CID")
	hg_assert_eq "$calls" "ADD cid=$CID netns=[$nspath]
DEL cid=$CID netns=[$nspath]" "the CNI calls podman made for $name (trace: $(ec_trace))"
	grep -qE "^DEL cid=$CID .* by=\[[^]]*podman .*container cleanup " "$EC_TRACE" ||
		hg_fail "the DEL of $name did not come from podman container cleanup: $(grep "^DEL cid=$CID " "$EC_TRACE")"
	e2e_podman rm "$name" >/dev/null
	# No second DEL from rm (the network was already torn down), and no record.
	hg_assert_eq "$(grep -cE "^DEL cid=$CID " "$EC_TRACE")" 1 "DEL calls for $name after podman rm"
	hg_assert_eq "$(hg_records "cni/$net")" "" "records of $net after podman rm"
}

phase() {
	local rt=$1 out t0
	t0=$(e2e_now_ms)
	e2e_podman_setup "$HG_TMP/podman-$rt" "$HG_TMP/pod.conflist" "$EC_PLUGIN_DIR" "" "$rt"
	cp "$HG_TMP/nat.conflist" "$E2E_PODMAN_DIR/net.d/$NET_NAT.conflist"
	e2e_cni_defer_bridge_cleanup "$HG_TMP/nat.conflist"
	hg_assert_eq "$(cat "$E2E_PODMAN_DIR/info.txt")" "cni $rt" "podman network backend and runtime"

	# ---- 1. gateway routable, record during the run, DEL by podman's cleanup ----
	start_detached "c-$rt" "$NET"
	check_record "$NET" "$GW" "$GW"
	if [ -z "$LISTENERS" ]; then
		hg_listener - "$GW" "$P_GW" "hello-from-host"
	fi
	out=$(e2e_podman exec "c-$rt" sh -c "r=\$(echo hi | nc -w3 $GW $P_GW); echo \"gw=\$? \$r\"")
	hg_log "c-$rt: $out"
	hg_assert_eq "$out" "gw=0 hello-from-host" "from the $rt container, nc to the gateway $GW:$P_GW"
	finish "c-$rt" "$NET"

	# ---- 2. virtualIPs + localhostPorts ----
	start_detached "n-$rt" "$NET_NAT"
	check_record "$NET_NAT" "$GW_NAT" 169.254.1.2
	hg_assert_eq "$(jq -r .containerTable "$REC")" true "record: container nft table"
	e2e_podman_nsenter ip netns exec "$(basename "$(jq -r .netns.path "$REC")")" \
		nft list table inet host_gateway >/dev/null ||
		hg_fail "no table inet host_gateway in the podman container's netns"
	if [ -z "$LISTENERS" ]; then
		hg_listener - "$GW_NAT" "$P_VIP" "vip-on-host"
		hg_listener - "$GW_NAT" "$P_PG" "pg-on-host"
		hg_listener - 127.0.0.1 "$P_LOCAL" "host-loopback-must-not-answer"
		LISTENERS=1
	fi
	out=$(e2e_podman exec "n-$rt" sh -c "
		r=\$(echo hi | nc -w3 169.254.1.2 $P_VIP); echo \"vip=\$? \$r\"
		r=\$(echo hi | nc -w3 127.0.0.1 $P_PG); echo \"pg=\$? \$r\"
		r=\$(echo hi | nc -w1 127.0.0.1 $P_LOCAL 2>&1); echo \"local=\$? \$r\"")
	hg_log "n-$rt:"$'\n'"$out"
	hg_assert_contains "$out" "vip=0 vip-on-host" "from the $rt container, 169.254.1.2:$P_VIP reaches $GW_NAT:$P_VIP"
	hg_assert_contains "$out" "pg=0 pg-on-host" "from the $rt container, 127.0.0.1:$P_PG reaches $GW_NAT:$P_PG"
	case $out in *"local=0"* | *host-loopback-must-not-answer*)
		hg_fail "127.0.0.1:$P_LOCAL (not listed) left the $rt container: $out" ;;
	esac
	finish "n-$rt" "$NET_NAT"

	e2e_podman_teardown || hg_fail "podman teardown ($rt) left cgroups or mounts"
	hg_log "$rt: ok in $(($(e2e_now_ms) - t0)) ms"
}

phase crun
phase runc

# Lock files stay (at most 64 + 2, never records).
left=$(find "$HG_STATE" -type f ! -name '.*.lock' 2>/dev/null)
[ -z "$left" ] || hg_fail "files left in stateDir: $left"
e2e_del_link "$BR"
e2e_del_link "$BR_NAT"
ec_finish
