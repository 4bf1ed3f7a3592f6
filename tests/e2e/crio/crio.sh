#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CRI-O (built from its release by scripts/install-runtimes.sh) driven by crictl as kubelet
# drives it, with the shipped hooks.d files as they are: first conf/hooks.d-opt-in, then
# (CRI-O restarted) conf/hooks.d, in CRI-O's hooks_dir, naming the hook at
# /opt/cni/bin/host-gateway (bound in CRI-O's mount namespace only, with the hook's
# /etc/host-gateway/config.json). CRI-O's CNI folder holds a kindnet-shaped conflist at
# cniVersion 1.1.0 (ptp + host-local + portmap, the reference plugins v1.10.0, which speak
# 1.1.0) with host-gateway chained, wrapped by a tracer that records every call CRI-O
# (ocicni/libcni) makes with its config and host-gateway's answer.
#   1. STATUS and the first GC: CRI-O starts with a stateDir that is a regular file:
#      host-gateway answers STATUS with code 50 and CRI-O reports NetworkReady false
#      with its message; the conflist fixed, NetworkReady turns true and CRI-O runs the
#      GC it deferred, with no pod: `cni.dev/valid-attachments` null (libcni's empty
#      list), which removes a stale attachment (its netns gone, its DEL lost)
#   2. opt-in hooks: pod web with host-gateway.io/enabled "true" and extra-hosts: the ADD
#      got the pod annotations and recorded db.local; app1 (kubelet's etc-hosts at
#      /etc/hosts) gets the names through the hook, matched on the pod's annotation
#      (CRI-O matches hooks.d on container ∪ pod annotations and copies every pod
#      annotation into the container's spec); crictl exec reaches a host listener by
#      host.docker.internal and db.local; kubelet rewrites etc-hosts, app2 (its own
#      host-gateway.io/names) brings app1's block back beside its own
#   3. opt-in, pod plain without the annotation: a container without it gets no hook and no
#      names; one whose own annotation opts in gets them; each block goes when its
#      container is removed (CRI-O runs poststop at RemoveContainer, not at stop); stopp:
#      DEL, record gone
#   4. CRI-O restarted while web runs (the way to change hooks.d: CRI-O reads it at start
#      only; switched to the always variant): restore runs CNI GC with web's attachment
#      valid: web's record survives byte for byte, a second stale attachment goes, app1
#      still reaches the host
#   5. always hooks: pod plain2 without any annotation gets the names; app3 in web after a
#      kubelet rewrite; then everything stopped and removed: blocks gone with their
#      containers, DEL removes the records
# At the end: every call CRI-O made is listed and none is unexpected, no record, hook
# state or hosts registry left, the host as before (nft ruleset, links, routes, addresses,
# forwarding), the machine's CNI/CRI-O/containers/NRI paths and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=crio-lib.sh
. "$(dirname "$0")/crio-lib.sh"
cri_prebuild cri-o crictl cni-plugins
hg_init e2e-crio
hg_require_bin
crio_need
hg_require_cmd socat ss
T_START=$(e2e_now_ms)

SUBNET=10.217.1.0/24
GW=10.217.1.1
STALE_SUBNET=10.217.2.0/24
NET=kindnet
PORT=28751
hg_subnet_free "$SUBNET" "$STALE_SUBNET"
ec_port_free "$PORT"

machine_paths() { ec_machine_paths /etc/containers /etc/crio /etc/cdi /etc/nri /etc/host-gateway /opt /run/crio /run/containers /run/nri /run/cdi /run/host-gateway /var/lib/crio /var/lib/containers /var/log/crio /usr/share/containers; } # + what the daemon's mount namespace covers
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

# ---- the node: CNI, hooks, hook config ----------------------------------------------
D=$HG_TMP/crio-$$
LOG=$HG_TMP/host-gateway.log
EC_LOG=$LOG
TRACE=$HG_TMP/cni-calls.jsonl
crio_prepare "$D"
cri_cni_tracer "$D/cni-bin/host-gateway" "$HG_BIN" "$TRACE"
for p in ptp host-local portmap loopback; do ln -s "$HG_CNI_PLUGINS_BIN/$p" "$D/cni-bin/"; done
ln -s "$HG_BIN" "$D/opt-cni-bin/host-gateway"
jq -n --arg s "$HG_STATE" --arg l "$LOG" '{stateDir: $s, logFile: $l, failurePolicy: "fail"}' \
	>"$D/etc-host-gateway/config.json"
cp "$HG_SOURCE_ROOT"/conf/hooks.d-opt-in/*.json "$D/hooks.d/"
# kindnet SUBNET IPAM_DIR [ENTRY]: kindnetd's conflist shape at cniVersion 1.1.0.
kindnet() { cri_kindnet_conflist 1.1.0 "$@"; } # SUBNET IPAM_DIR [ENTRY]
hg_entry() { # STATE_DIR
	jq -nc --arg s "$1" --arg l "$LOG" '[{type: "host-gateway",
		capabilities: {"io.kubernetes.cri.pod-annotations": true}, stateDir: $s, logFile: $l}]'
}
set_conflist() { # STATE_DIR: written as kindnetd writes it (temp file + rename)
	kindnet "$SUBNET" "$D/ipam" "$(hg_entry "$1")" >"$D/net.d/.10-kindnet.conflist.tmp"
	mv "$D/net.d/.10-kindnet.conflist.tmp" "$D/net.d/10-kindnet.conflist"
}
: >"$HG_TMP/not-a-dir"
set_conflist "$HG_TMP/not-a-dir"

# stale_attachment CID: an attachment of network kindnet in our stateDir whose DEL was lost:
# ADD by hand (hg_chain, in CRI-O's mount namespace) into a netns that is then destroyed.
stale_attachment() {
	local ns=$D/stale-$1
	: >"$ns"
	crio_ns unshare --net="$ns" true
	# shellcheck disable=SC2016 # expanded by the inner bash
	crio_ns env HG_CNI_PATH="$HG_PLUGIN_DIR:$HG_CNI_PLUGINS_BIN" bash -c '
		. "$1/tests/lib/common.sh"
		hg_chain ADD "$2" "$3" "$4" eth0 >/dev/null' _ "$HG_SOURCE_ROOT" \
		"$(kindnet "$STALE_SUBNET" "$D/ipam-stale" "$(hg_entry "$HG_STATE")")" "$1" "$ns"
	crio_ns umount "$ns"
	[ -f "$HG_STATE/cni/$NET/$1+eth0.json" ] || hg_fail "no record for the stale attachment $1"
}

t0=$(e2e_now_ms)
# One image serves as the pause image (drop_infra_ctr: only its storage is used) and the
# app image (crictl create names the command).
crio_import_image localhost/hgt/busybox:1 sleep 2147483647
hg_log "image built and copied into CRI-O's storage in $(($(e2e_now_ms) - t0)) ms"
stale_attachment hgt-stale1-$$

# ---- 1. STATUS, and the GC CRI-O deferred until the network is ready --------------------
crio_start
ver=$(cc version)
hg_log "crictl version:"$'\n'"$ver"
hg_assert_contains "$ver" "RuntimeVersion:  ${HG_CRIO_VERSION#v}" "CRI-O $HG_CRIO_VERSION answers the CRI"
# (jq -e would not do: jq 1.6 sets its status from the last input line only.)
failing_status() { [ -n "$(jq -c 'select(.cmd == "STATUS" and .rc != 0)' "$TRACE")" ]; }
calls_since() { jq -c --arg c "$1" --argjson t "$2" 'select(.cmd == $c and .t > $t)' "$TRACE"; }
has_call_since() { [ -n "$(calls_since "$@")" ]; }
e2e_wait_for 10 failing_status ||
	hg_fail "no failing STATUS with a stateDir that is a file; calls: $(cat "$TRACE")"
notready=
for _ in $(seq 50); do
	notready=$(crio_network_ready)
	case $notready in false:*"$HG_TMP/not-a-dir"*) break ;; esac
	sleep 0.1
done
hg_log "NetworkReady with a stateDir that is a file: $notready"
case $notready in
false:*"$HG_TMP/not-a-dir"*) ;;
*) hg_fail "NetworkReady did not turn false naming the stateDir: $notready" ;;
esac
hg_assert_eq "$(jq -c 'select(.cmd == "STATUS" and .rc != 0) | [.conf.stateDir, .out.code]' "$TRACE" | sed -n 1p)" \
	"[\"$HG_TMP/not-a-dir\",50]" "STATUS answered code 50 for the unusable stateDir"
[ -z "$(jq -c 'select(.cmd == "GC")' "$TRACE")" ] || hg_fail "GC before the network was ready"
t_fix=$(date +%s.%N)
set_conflist "$HG_STATE"
ready=
for _ in $(seq 100); do
	ready=$(crio_network_ready)
	[ "$ready" != true ] || break
	sleep 0.1
done
hg_assert_eq "$ready" true "NetworkReady once the conflist names a usable stateDir"
e2e_wait_for 10 has_call_since GC "$t_fix" ||
	hg_fail "no GC once the network was ready"
gc=$(calls_since GC "$t_fix" | sed -n 1p)
hg_log "the first GC (deferred until ready): $(jq -c '{valid: .conf["cni.dev/valid-attachments"],
	attachments: .conf["cni.dev/attachments"], rc, out}' <<<"$gc")"
hg_assert_eq "$(jq -c '[.conf | has("cni.dev/valid-attachments"), .["cni.dev/valid-attachments"]], .rc' <<<"$gc" |
	paste -sd' ')" '[true,null] 0' "no pod: valid-attachments null (libcni's empty list), and GC succeeds"
[ ! -e "$HG_STATE/cni/$NET/hgt-stale1-$$+eth0.json" ] || hg_fail "the stale attachment survived GC with no pod"

spec_hg() { # CID: host-gateway.io/* annotations and the hook stages of the container's spec
	crio_spec "$1" | jq -c '[(.annotations | with_entries(select(.key | startswith("host-gateway.io/")))),
		((.hooks // {}) | keys)]'
}
reach() { # the command a container runs to reach the host listener by NAME
	echo "r=\$(echo hi | nc -w3 $1 $PORT); echo \"$1=\$? \$r\""
}
fail_log() { echo "$1; log: $(tail -n 20 "$D/crio.log"; tail -n 20 "$LOG" 2>/dev/null)"; }
# kubelet's container security context: the pod's namespaces (pid per container); CRI-O
# refuses a container asking for a pod pid namespace its sandbox does not have.
CTR_NS='{"linux": {"security_context": {"namespace_options": {"network": 0, "pid": 1, "ipc": 0}}}}'
# run_ctr POD_ID POD_CONFIG POD_UID NAME HOSTS ANNOTATIONS: kubelet makes the container's log
# folder (conmon does not), then crictl create + start; prints the container id.
run_ctr() {
	mkdir -p "$HG_TMP/pods/$3/logs/$4"
	cc_run_container "$1" "$(cc_ctr_config "$4" localhost/hgt/busybox:1 "$5" "$6" "$CTR_NS")" "$2"
}
rm_ctr() { # CID HOSTS BLOCKS_BEFORE: the block goes at removal, not at stop
	cc stop --timeout 0 "$1" >/dev/null
	hg_assert_eq "$(hg_nblocks "$2")" "$3" "the block stays while the stopped container is not removed"
	cc rm "$1" >/dev/null
}
DEFAULT_BLOCK=$(printf '%s\t%s' "$GW" "$HG_DEFAULT_NAMES")
DB_BLOCK=$(printf '%s\t%s;%s' "$GW" db.local "$DEFAULT_BLOCK")

# ---- 2. opt-in hooks: pod web opts in, with an extra host ---------------------------
WEB_UID=0f1e2d3c-0000-4000-8000-00000000c301
web=$(cc_pod_config web "$WEB_UID" \
	'{"host-gateway.io/enabled": "true", "host-gateway.io/extra-hosts": "db.local:host-gateway"}' \
	"/$CRIO_CGROUP/pod$WEB_UID")
t0=$(e2e_now_ms)
sb=$(cc_runp "$web") || hg_fail "$(fail_log "crictl runp web failed")"
hg_log "runp web: $sb in $(($(e2e_now_ms) - t0)) ms"
ip=$(cc_pod_ip "$sb")
[[ $ip == 10.217.1.* ]] || hg_fail "pod IP $ip not in $SUBNET"
rec=$HG_STATE/cni/$NET/$sb+eth0.json
ec_wait_record "$rec" 5
hg_assert_eq "$(jq -c --arg c "$sb" 'select(.cmd == "ADD" and .cid == $c) | .conf.runtimeConfig' "$TRACE")" \
	'{"io.kubernetes.cri.pod-annotations":{"host-gateway.io/enabled":"true","host-gateway.io/extra-hosts":"db.local:host-gateway"}}' \
	"the ADD got the pod's annotations (capability io.kubernetes.cri.pod-annotations)"
hg_assert_eq "$(jq -r '.entries[] | "\(.ip) \(.names | join(" "))"' "$rec" | sort | paste -sd';')" \
	"$GW db.local;$GW $HG_DEFAULT_NAMES" "the record: default names and the pod annotation's extra host"
hg_listener - "$GW" "$PORT" "hello-from-host"

HOSTS=$HG_TMP/pods/$WEB_UID/etc-hosts
cri_kubelet_hosts "$HOSTS" "$ip" web
ino=$(stat -c %i "$HOSTS")
kubelet_lines=$(cat "$HOSTS")
t0=$(e2e_now_ms)
c1=$(run_ctr "$sb" "$web" "$WEB_UID" app1 "$HOSTS" '{}') || hg_fail "$(fail_log "app1 did not start")"
hg_log "app1: created and started in $(($(e2e_now_ms) - t0)) ms; etc-hosts:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(spec_hg "$c1")" \
	'[{"host-gateway.io/enabled":"true","host-gateway.io/extra-hosts":"db.local:host-gateway"},["createRuntime","poststop"]]' \
	"app1's spec: the pod's annotations copied, the opt-in hooks matched on the pod's annotation"
hg_assert_eq "$(stat -c %i "$HOSTS")" "$ino" "etc-hosts written in place"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block after app1"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" "$DB_BLOCK" "app1's block: the record's names"
# The positive control of the leftover check at the end: the hook keeps etc-hosts' registry
# in /run/host-gateway of CRI-O's mount namespace, DIR/run-host-gateway.
[ -f "$D/run-host-gateway/hosts/$(stat -c %d "$HOSTS")-$(stat -c %i "$HOSTS").json" ] ||
	hg_fail "no hosts registry for etc-hosts in $D/run-host-gateway while app1 runs (the check for leftovers would see nothing): $(find "$D/run-host-gateway" 2>&1)"
out=$(cc_exec "$c1" "$(reach host.docker.internal); $(reach db.local)") || hg_fail "crictl exec in app1 failed: $out"
hg_log "app1 exec:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 reaches the host by host.docker.internal"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app1 reaches the host by the pod annotation's db.local"

cri_kubelet_hosts "$HOSTS" "$ip" web
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "kubelet's rewrite dropped the blocks"
c2=$(run_ctr "$sb" "$web" "$WEB_UID" app2 "$HOSTS" '{"host-gateway.io/names": "app2.local"}') ||
	hg_fail "$(fail_log "app2 did not start")"
hg_log "etc-hosts after app2:"$'\n'"$(cat "$HOSTS")"
hg_assert_eq "$(stat -c %i "$HOSTS")" "$ino" "etc-hosts still the same inode"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block for both containers"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" \
	"$(printf '%s\t%s;%s' "$GW" app2.local "$DB_BLOCK")" "app1's names back, app2's own added, each name once"
out=$(cc_exec "$c2" "$(reach app2.local); $(reach host.docker.internal)") || hg_fail "crictl exec in app2 failed: $out"
hg_assert_contains "$out" "app2.local=0 hello-from-host" "app2 reaches the host by its annotation's name"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app2 reaches the host by host.docker.internal"

# ---- 3. opt-in hooks: pod plain, without the annotation -------------------------------
PLAIN_UID=0f1e2d3c-0000-4000-8000-00000000c302
plain=$(cc_pod_config plain "$PLAIN_UID" '{}' "/$CRIO_CGROUP/pod$PLAIN_UID")
psb=$(cc_runp "$plain") || hg_fail "$(fail_log "crictl runp plain failed")"
prec=$HG_STATE/cni/$NET/$psb+eth0.json
ec_wait_record "$prec" 5
PHOSTS=$HG_TMP/pods/$PLAIN_UID/etc-hosts
cri_kubelet_hosts "$PHOSTS" "$(cc_pod_ip "$psb")" plain
off=$(run_ctr "$psb" "$plain" "$PLAIN_UID" off "$PHOSTS" '{}') || hg_fail "$(fail_log "plain/off did not start")"
hg_assert_eq "$(spec_hg "$off")" '[{},[]]' "opt-in, no annotation: no hook in the spec"
hg_assert_eq "$(hg_nblocks "$PHOSTS")" 0 "opt-in, no annotation: no names"
on=$(run_ctr "$psb" "$plain" "$PLAIN_UID" on "$PHOSTS" '{"host-gateway.io/enabled": "true"}') ||
	hg_fail "$(fail_log "plain/on did not start")"
hg_assert_eq "$(spec_hg "$on")" '[{"host-gateway.io/enabled":"true"},["createRuntime","poststop"]]' \
	"opt-in by the container's own annotation: the hooks are in its spec"
hg_assert_eq "$(hg_block "$PHOSTS" | paste -sd';')" "$DEFAULT_BLOCK" "opt-in by the container's annotation: the names"
out=$(cc_exec "$on" "$(reach host.docker.internal)") || hg_fail "crictl exec in plain/on failed: $out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "plain/on reaches the host by name"
rm_ctr "$on" "$PHOSTS" 1
hg_assert_eq "$(hg_nblocks "$PHOSTS")" 0 "plain/on's block gone with its removal (poststop)"
rm_ctr "$off" "$PHOSTS" 0
cc stopp "$psb" >/dev/null
[ ! -e "$prec" ] || hg_fail "record left after crictl stopp (CNI DEL): $(cat "$prec")"
cc rmp "$psb" >/dev/null
rm_ctr "$c2" "$HOSTS" 1
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "the block stays after app2"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" "$DB_BLOCK" "app2's names gone with app2, app1's stay"

# ---- 4. CRI-O restarted while web runs: restore, GC -------------------------------------
stale_attachment hgt-stale2-$$
cp "$rec" "$HG_TMP/web-record.before"
t0=$(e2e_now_ms)
crio_stop_daemon
# The way to change hooks.d: CRI-O reads it when it starts, never again.
rm -f "$D"/hooks.d/*.json
cp "$HG_SOURCE_ROOT"/conf/hooks.d/*.json "$D/hooks.d/"
t_restart=$(date +%s.%N)
crio_start
e2e_wait_for 10 has_call_since GC "$t_restart" ||
	hg_fail "$(fail_log "no GC after CRI-O restarted")"
hg_log "CRI-O restarted in $(($(e2e_now_ms) - t0)) ms; calls since:"$'\n'"$(jq -c --argjson t "$t_restart" \
	'select(.t > $t) | {cmd, cid: .cid[0:12], rc, valid: .conf["cni.dev/valid-attachments"]}' "$TRACE")"
gc=$(calls_since GC "$t_restart" | sed -n 1p)
hg_assert_eq "$(jq -c '.conf["cni.dev/valid-attachments"], .rc' <<<"$gc" | paste -sd' ')" \
	"[{\"containerID\":\"$sb\",\"ifname\":\"eth0\"}] 0" "GC at restore: web's attachment is the valid one"
cmp -s "$rec" "$HG_TMP/web-record.before" || hg_fail "web's record changed or went in GC: $(cat "$rec" 2>&1)"
[ ! -e "$HG_STATE/cni/$NET/hgt-stale2-$$+eth0.json" ] || hg_fail "the stale attachment survived GC"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" "$DB_BLOCK" "app1's block still there"
out=$(cc_exec "$c1" "$(reach host.docker.internal); $(reach db.local)") || hg_fail "crictl exec in app1 failed: $out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "app1 still reaches the host after GC"
hg_assert_contains "$out" "db.local=0 hello-from-host" "... and by db.local"

# ---- 5. always hooks --------------------------------------------------------------------
PLAIN2_UID=0f1e2d3c-0000-4000-8000-00000000c303
plain2=$(cc_pod_config plain2 "$PLAIN2_UID" '{}' "/$CRIO_CGROUP/pod$PLAIN2_UID")
p2sb=$(cc_runp "$plain2") || hg_fail "$(fail_log "crictl runp plain2 failed")"
p2rec=$HG_STATE/cni/$NET/$p2sb+eth0.json
ec_wait_record "$p2rec" 5
P2HOSTS=$HG_TMP/pods/$PLAIN2_UID/etc-hosts
cri_kubelet_hosts "$P2HOSTS" "$(cc_pod_ip "$p2sb")" plain2
c4=$(run_ctr "$p2sb" "$plain2" "$PLAIN2_UID" app "$P2HOSTS" '{}') || hg_fail "$(fail_log "plain2/app did not start")"
hg_assert_eq "$(spec_hg "$c4")" '[{},["createRuntime","poststop"]]' "always: the hooks without any annotation"
hg_assert_eq "$(hg_block "$P2HOSTS" | paste -sd';')" "$DEFAULT_BLOCK" "always: the names without any annotation"
out=$(cc_exec "$c4" "$(reach host.docker.internal)") || hg_fail "crictl exec in plain2/app failed: $out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "plain2/app reaches the host by name"
cri_kubelet_hosts "$HOSTS" "$ip" web
c3=$(run_ctr "$sb" "$web" "$WEB_UID" app3 "$HOSTS" '{}') || hg_fail "$(fail_log "app3 did not start")"
hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "one block for app1 and app3"
hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" "$DB_BLOCK" "app1's names back, app3's the same, each once"
hg_assert_eq "$(hg_strip "$HOSTS")" "$kubelet_lines" "kubelet's lines kept byte for byte"
out=$(cc_exec "$c3" "$(reach db.local)") || hg_fail "crictl exec in app3 failed: $out"
hg_assert_contains "$out" "db.local=0 hello-from-host" "app3 reaches the host by the pod's extra host"

rm_ctr "$c3" "$HOSTS" 1
rm_ctr "$c1" "$HOSTS" 1
hg_assert_eq "$(hg_nblocks "$HOSTS")" 0 "no block once web's containers are removed"
rm_ctr "$c4" "$P2HOSTS" 1
hg_assert_eq "$(hg_nblocks "$P2HOSTS")" 0 "no block once plain2's container is removed"
t0=$(e2e_now_ms)
cc_stopp_rmp "$sb"
cc_stopp_rmp "$p2sb"
hg_log "stopp + rmp of two pods in $(($(e2e_now_ms) - t0)) ms"
[ ! -e "$rec" ] || hg_fail "web's record left after stopp (CNI DEL): $(cat "$rec")"
[ ! -e "$p2rec" ] || hg_fail "plain2's record left after stopp (CNI DEL): $(cat "$p2rec")"

# ---- what CRI-O sent, and what is left -------------------------------------------------
hg_log "every call CRI-O $HG_CRIO_VERSION made to host-gateway (t, command, container, answer):"$'\n'"$(jq -r '
	"\(.t | floor % 1000) \(.cmd) \(.cid[0:12]) rc=\(.rc)" +
	(if .cmd == "GC" then " valid-attachments=\(.conf["cni.dev/valid-attachments"] | tojson)"
	 elif .cmd == "STATUS" then " stateDir=\(.conf.stateDir)" + (if .rc != 0 then " code=\(.out.code)" else "" end)
	 elif .cmd == "VERSION" then " netns=\(.netns)"
	 else "" end)' "$TRACE")"
unexpected=$(jq -r 'select(.cmd | IN("ADD", "CHECK", "DEL", "GC", "STATUS", "VERSION") | not) | .cmd' "$TRACE")
[ -z "$unexpected" ] || hg_fail "calls of an unknown kind: $unexpected"
failed=$(jq -c --arg bad "$HG_TMP/not-a-dir" 'select(.rc != 0 and (.cmd != "STATUS" or .conf.stateDir != $bad))' "$TRACE")
[ -z "$failed" ] || hg_fail "host-gateway failed calls other than STATUS on the unusable stateDir: $failed"
pod_calls() { # POD_ID: how many calls of each command CRI-O made for the pod
	jq -r --arg c "$1" 'select(.cid == $c) | .cmd' "$TRACE" | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' '
}
for p in "$psb" "$p2sb"; do
	hg_assert_eq "$(pod_calls "$p")" "ADD=1 CHECK=1 DEL=1" \
		"pod ${p:0:12}: one ADD, the CHECK right after it (runp's network status), one DEL at stopp"
done
hg_assert_eq "$(pod_calls "$sb")" "ADD=1 CHECK=2 DEL=1" "pod web: the same, and a second CHECK when CRI-O restored it"
hg_assert_eq "$(jq -r --arg c "$sb" --argjson t "$t_restart" 'select(.t > $t and (.cmd == "GC" or .cid == $c)) | .cmd' \
	"$TRACE" | sed -n 1,2p | paste -sd' ')" "GC CHECK" "restore: GC, then the CHECK of web's network"
left=$(find "$HG_STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "files left in stateDir: $left"
regs=$(find "$D/run-host-gateway" -name '*.json' 2>/dev/null || :)
[ -z "$regs" ] || hg_fail "hosts registries or host-side users left: $regs"
t0=$(e2e_now_ms)
crio_stop || hg_fail "CRI-O cleanup left cgroups or mounts"
hg_log "CRI-O stopped in $(($(e2e_now_ms) - t0)) ms"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI/CRI-O/containers/NRI paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
