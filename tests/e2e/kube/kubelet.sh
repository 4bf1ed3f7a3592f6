#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real kubelet (Kubernetes built from its release by scripts/install-runtimes.sh), standalone
# (no API server), on containerd 2.x, with static pods, once for each way host-gateway goes
# onto a node, each set up as README says:
#   cni   README's containerd recipe: conf/containerd/base-spec-host-gateway.json in
#         /etc/containerd/, config-v3.toml merged into the daemon's version 3 config, and
#         `host-gateway install` chaining the plugin into the node's conflist
#   hook  the base spec and config-v3.toml only: no conflist entry (the hook does the
#         plumbing itself)
#   nri   `host-gateway install --nri` only: containerd launches the plugin; nothing of the
#         runtime's configuration changed
# The node's conflist is kindnet's shape at cniVersion 1.1.0 (ptp + host-local + portmap, the
# reference plugins v1.10.0). In each way:
#   1. a static pod of two containers with host-gateway.io/extra-hosts in its annotations:
#      kubelet's own etc-hosts file (mounted at /etc/hosts of both) gets the names; crictl
#      exec in both: host.docker.internal and the extra name reach a listener on the host
#      side of the pod network
#   2. app2's process killed: kubelet restarts the container (and rewrites etc-hosts first):
#      the names are back, the new app2 reaches the host
#   3. kubelet stopped and started again: the pod keeps running with its names; app1 killed
#      then: kubelet restarts it with the names back
#   4. the manifest removed: kubelet stops the pod; no record, no registry, no block left
# and what kubelet does, set against the emulation of the other e2e tests (cri_kubelet_hosts,
# cc_pod_config): its etc-hosts lines are the emulation's byte for byte; the CNI calls of the
# cni way (a tracer in front of the installed binary) and the annotations kubelet sends.
# At the end: the host as before (nft ruleset, links, routes, addresses, forwarding), the
# machine's /etc/cni, /opt/cni, /var/lib/cni, /var/lib/kubelet, /var/log/pods, /run/containerd,
# /run/nri and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=../cri/cri-lib.sh
. "$(dirname "$0")/../cri/cri-lib.sh"
# shellcheck source=kube-lib.sh
. "$(dirname "$0")/kube-lib.sh"
cri_prebuild containerd crictl cni-plugins kubernetes
hg_init e2e-kubelet
hg_require_bin
hg_require_cmd runc unshare nsenter umoci jq socat ss curl
"$CRI_PY" -c 'import tomllib' 2>/dev/null || hg_skip "$CRI_PY lacks tomllib"
cri_containerd2
crictl_need
kube_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins)"
T_START=$(e2e_now_ms)

SUBNET=10.215.30.0/24
GW=10.215.30.1
PORT=28740
NODE=hgt-node
CONF=$HG_SOURCE_ROOT/conf/containerd
hg_subnet_free "$SUBNET"
ec_port_free "$PORT" $((PORT + 1)) $((PORT + 2)) "$KUBE_KUBELET_PORT" "$KUBE_HEALTHZ_PORT"

machine_paths() { ec_machine_paths /etc/containerd /etc/host-gateway /opt /run/nri /etc/nri /var/lib/kubelet /var/log/pods /var/log/containers; }
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding on
hg_snapshot_host

POD=web-$NODE
reach() { # the command a container runs to reach the host listener by NAME
	echo "r=\$(echo hi | nc -w3 $1 $LPORT); echo \"$1=\$? \$r\""
}
fail_log() {
	echo "$1; kubelet: $(grep -E '^[EW][0-9]{4}' "$KUBE_KUBELET_LOG" | tail -n 15)"
	echo "containerd: $(tail -n 15 "$D/containerd.log")"
}
# manifest: the static pod, as a user writes it (kubelet adds its own annotations).
manifest() {
	jq -n '{apiVersion: "v1", kind: "Pod",
		metadata: {name: "web", namespace: "default",
			annotations: {"host-gateway.io/extra-hosts": "db.local:host-gateway"}},
		spec: {terminationGracePeriodSeconds: 1, containers: [
			{name: "app1", image: "localhost/hgt/busybox:1", imagePullPolicy: "Never",
			 command: ["sleep", "2147483647"]},
			{name: "app2", image: "localhost/hgt/busybox:1", imagePullPolicy: "Never",
			 command: ["sleep", "2147483647"]}]}}'
}
# names_in WHAT: etc-hosts holds one block with the pod's names, kubelet's lines as the
# emulation writes them.
names_in() {
	local want
	want=$(printf '%s\t%s;%s\t%s' "$GW" db.local "$GW" "$HG_DEFAULT_NAMES")
	hg_assert_eq "$(hg_nblocks "$HOSTS")" 1 "$WAY: $1: one block in kubelet's etc-hosts"
	hg_assert_eq "$(hg_block "$HOSTS" | sort | paste -sd';')" "$want" "$WAY: $1: the default names and the pod annotation's db.local"
	cri_kubelet_hosts "$HG_TMP/emulated-hosts" "$IP" "$POD"
	hg_assert_eq "$(hg_strip "$HOSTS")" "$(cat "$HG_TMP/emulated-hosts")" \
		"$WAY: $1: kubelet's lines are the emulation's (cri_kubelet_hosts) byte for byte"
}
# reaches CID WHAT: the container reaches the host by both names.
reaches() {
	local out
	out=$(cc_exec "$1" "$(reach host.docker.internal); $(reach db.local)") ||
		hg_fail "$WAY: $2: crictl exec failed: $out"
	hg_assert_contains "$out" "host.docker.internal=0 hello-from-host" "$WAY: $2 reaches the host by host.docker.internal"
	hg_assert_contains "$out" "db.local=0 hello-from-host" "$WAY: $2 reaches the host by the pod annotation's db.local"
}
# crash NAME: kill the container's process; kubelet restarts it as a new container.
crash() {
	local old pid new="" i
	old=$(kube_container_id "$SB" "$1")
	pid=$(cc inspect -o json "$old" | jq -r .info.pid)
	[ "$pid" -gt 1 ] 2>/dev/null || hg_fail "$WAY: no pid for $1 ($old)"
	kill -KILL "$pid"
	for i in $(seq 300); do
		new=$(kube_container_id "$SB" "$1")
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		new=""
		sleep 0.2
	done
	[ -n "$new" ] || hg_fail "$(fail_log "$WAY: kubelet did not restart $1 within 60 s")"
	hg_log "$WAY: $1 killed ($old), restarted by kubelet as $new"
	echo "$new"
}

# way NAME: one node set up in that way, the pod's life on it, the node taken down.
way() {
	WAY=$1
	D=$HG_TMP/k$WAY-$$
	local config trace=$HG_TMP/cni-$WAY.trace c1 c2 uid state calls left reg
	mkdir -p "$D"/{net.d,opt-cni-bin,etc-containerd,ipam,nri-opt}
	cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" >"$D/net.d/10-kindnet.conflist"
	for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
	config=$(cri_minimal_config_v3 "$D")
	case $WAY in
	cni | hook)
		cp "$CONF/base-spec-host-gateway.json" "$D/etc-containerd/"
		config=$(jq --argjson patch "$("$CRI_PY" "$CRI_TOOLS/toml.py" to-json "$CONF/config-v3.toml")" '. * $patch' <<<"$config")
		;;&
	cni)
		"$HG_BIN" install --cni-conf-dir "$D/net.d" --cni-bin-dir "$D/opt-cni-bin" ||
			hg_fail "cni: host-gateway install failed"
		# A tracer in front of the installed copy: every call the runtime makes, as made.
		mv "$D/opt-cni-bin/host-gateway" "$D/opt-cni-bin/host-gateway.installed"
		cri_cni_tracer "$D/opt-cni-bin/host-gateway" "$D/opt-cni-bin/host-gateway.installed" "$trace"
		;;
	hook)
		# The base spec names /opt/cni/bin/host-gateway; without `install` it is copied.
		install -m 0755 "$HG_BIN" "$D/opt-cni-bin/host-gateway"
		;;
	nri)
		"$HG_BIN" install --nri --nri-plugin-dir "$D/nri-opt/plugins" || hg_fail "nri: install --nri failed"
		;;
	esac
	CRI_OWN_RUN=1 CRI_KUBELET=1 cri_containerd_start "$D" "$config"
	state=$D/run-host-gateway
	cri_import_image localhost/hgt/busybox:1 sleep 2147483647
	kube_import_pause localhost/hgt/pause:1 || hg_fail "$WAY: no pause image"
	kube_kubelet_start "$D" "$NODE" || hg_fail "$WAY: kubelet did not start"

	# ---- 1. the static pod -------------------------------------------------------
	local t0
	t0=$(e2e_now_ms)
	# Written whole, then renamed in: kubelet reads a file as soon as it appears.
	manifest >"$D/web.json"
	mv "$D/web.json" "$D/manifests/web.json"
	e2e_wait_for 60 kube_has_sandbox default "$POD" || hg_fail "$(fail_log "$WAY: kubelet started no sandbox for $POD")"
	SB=$(kube_pod_sandbox default "$POD")
	kube_wait_running "$SB" 2 60
	hg_log "$WAY: $POD running in $(($(e2e_now_ms) - t0)) ms"
	uid=$(cc inspectp -o json "$SB" | jq -r '.status.labels."io.kubernetes.pod.uid"')
	IP=$(cc_pod_ip "$SB")
	[[ $IP == 10.215.30.* ]] || hg_fail "$WAY: pod IP $IP not in $SUBNET"
	HOSTS=$D/kubelet/pods/$uid/etc-hosts
	[ -f "$HOSTS" ] || hg_fail "$WAY: no etc-hosts at $HOSTS"
	c1=$(kube_container_id "$SB" app1)
	c2=$(kube_container_id "$SB" app2)
	hg_assert_eq "$(cc inspect -o json "$c1" | jq -r '.status.mounts[] | select(.containerPath == "/etc/hosts") | .hostPath')" \
		"/var/lib/kubelet/pods/$uid/etc-hosts" "$WAY: kubelet mounts its etc-hosts at app1's /etc/hosts"
	hg_log "$WAY: etc-hosts:"$'\n'"$(cat "$HOSTS")"
	names_in "the pod started"
	LPORT=$PORT
	[ "$WAY" = hook ] && LPORT=$((PORT + 1))
	[ "$WAY" = nri ] && LPORT=$((PORT + 2))
	hg_listener - "$GW" "$LPORT" "hello-from-host"
	reaches "$c1" app1
	reaches "$c2" app2
	# What kubelet sends, beside what the emulation sends.
	hg_log "$WAY: the sandbox's annotations: $(cc inspectp -o json "$SB" | jq -c .status.annotations)"
	hg_log "$WAY: app1's annotations: $(cc inspect -o json "$c1" | jq -c .status.annotations)"
	# The emulation's containers carried host-gateway.io/names of their own; kubelet sends
	# only its io.kubernetes.* keys per container: per-container names cannot come from a
	# Pod (written down in docs/kubernetes.md). The pod's annotations arrive with kubelet's
	# kubernetes.io/config.* beside them.
	hg_assert_eq "$(cc inspect -o json "$c1" | jq -r '.status.annotations | keys[] | select(startswith("io.kubernetes.") | not)')" "" \
		"$WAY: kubelet sends a container no annotation but its own io.kubernetes.* keys"
	hg_assert_eq "$(cc inspectp -o json "$SB" | jq -r '.status.annotations | keys | join(" ")')" \
		"host-gateway.io/extra-hosts kubernetes.io/config.hash kubernetes.io/config.seen kubernetes.io/config.source" \
		"$WAY: the sandbox gets the pod's annotation and kubelet's config.* keys"

	# ---- 2. a container crashes --------------------------------------------------
	c2=$(crash app2)
	names_in "app2 restarted"
	reaches "$c2" "the restarted app2"
	reaches "$c1" app1

	# ---- 3. kubelet restarts -----------------------------------------------------
	kube_kubelet_stop
	hg_assert_eq "$(kube_container_id "$SB" app1) $(kube_container_id "$SB" app2)" "$c1 $c2" \
		"$WAY: the pod runs on while kubelet is down"
	log_at=$(stat -c %s "$KUBE_KUBELET_LOG")
	kube_kubelet_start "$D" "$NODE" || hg_fail "$WAY: kubelet did not start again"
	# healthz answers before the first sync: wait until the new kubelet has taken the pod
	# from its manifest, then watch it keep the pod for longer than its first syncs.
	pod_added() { tail -c +"$((log_at + 1))" "$KUBE_KUBELET_LOG" | grep '"SyncLoop ADD"' | grep -q "default/$POD"; }
	e2e_wait_for 60 pod_added || hg_fail "$(fail_log "$WAY: the new kubelet did not take $POD")"
	for _ in $(seq 10); do
		sleep 0.5
		hg_assert_eq "$(kube_pod_sandbox default "$POD") $(kube_container_id "$SB" app1) $(kube_container_id "$SB" app2)" \
			"$SB $c1 $c2" "$WAY: the new kubelet keeps the pod as it was"
	done
	names_in "kubelet restarted"
	c1=$(crash app1)
	names_in "app1 restarted by the new kubelet"
	reaches "$c1" "the restarted app1"
	reaches "$c2" app2

	# ---- 4. the pod removed ------------------------------------------------------
	rm "$D/manifests/web.json"
	e2e_wait_for 60 kube_no_running "$SB" ||
		hg_fail "$(fail_log "$WAY: kubelet did not stop $POD")"
	e2e_wait_for 60 kube_no_sandbox default "$POD" ||
		hg_fail "$(fail_log "$WAY: kubelet did not stop the sandbox of $POD")"
	# shellcheck disable=SC2016 # expanded by the inner bash
	e2e_wait_for 30 bash -c '[ -z "$(find "$1" -type f ! -name ".*.lock" 2>/dev/null)" ]' _ "$state" ||
		hg_fail "$WAY: left in the node's /run/host-gateway after the pod stopped: $(find "$state" -type f ! -name '.*.lock')"
	# kubelet removes the dead pod's folder on its own schedule: read the file once, if still there.
	if h=$(cat "$HOSTS" 2>/dev/null); then
		hg_assert_eq "$(grep -c "^$HG_BEGIN" <<<"$h" || true)" 0 "$WAY: no block left in etc-hosts"
	fi
	if [ "$WAY" = cni ]; then
		# The tracer appends a call's line after the plugin has answered (and removed the record).
		del_traced() { jq -rR --arg c "$SB" 'fromjson? | select(.cmd == "DEL" and .cid == $c and .rc == 0) | .cid' "$trace" | grep -q .; }
		e2e_wait_for 30 del_traced || hg_fail "cni: no DEL for the pod"
		calls=$(jq -r '"\(.cmd) cid=\(.cid) rc=\(.rc)"' "$trace" | grep -v '^ ' || :)
		hg_log "cni: the calls containerd made for kubelet's pod:"$'\n'"$calls"
		hg_assert_eq "$(grep -c "^ADD cid=$SB rc=0" <<<"$calls")" 1 "cni: one ADD for the pod, answered"
		[ "$(grep -c "^DEL cid=$SB rc=0" <<<"$calls")" -ge 1 ] || hg_fail "cni: no DEL for the pod"
		hg_log "cni: ADD's CNI_ARGS: $(jq -r "select(.cmd == \"ADD\" and .cid == \"$SB\") | .args" "$trace")"
		hg_log "cni: ADD's pod annotations: $(jq -c "select(.cmd == \"ADD\" and .cid == \"$SB\") | .conf.runtimeConfig[\"io.kubernetes.cri.pod-annotations\"]" "$trace")"
		hg_assert_eq "$(jq -r "select(.cmd == \"ADD\" and .cid == \"$SB\") | .conf.runtimeConfig[\"io.kubernetes.cri.pod-annotations\"][\"host-gateway.io/extra-hosts\"]" "$trace")" \
			db.local:host-gateway "cni: the pod annotation reached ADD (runtimeConfig)"
	fi
	kube_kubelet_stop
	cri_containerd_stop || hg_fail "$WAY: containerd cleanup left cgroups or mounts"
	left=$(find "$state" -type f ! -name '.*.lock' 2>/dev/null || :)
	[ -z "$left" ] || hg_fail "$WAY: left in the node's /run/host-gateway: $left"
	case $WAY in
	cni) "$HG_BIN" uninstall --cni-conf-dir "$D/net.d" --cni-bin-dir "$D/opt-cni-bin" || hg_fail "cni: uninstall failed" ;;
	nri) "$HG_BIN" uninstall --nri --nri-plugin-dir "$D/nri-opt/plugins" || hg_fail "nri: uninstall --nri failed" ;;
	esac
	reg=$(find "$state/hosts" -name '*.json' 2>/dev/null || :)
	[ -z "$reg" ] || hg_fail "$WAY: hosts registries left: $reg"
	hg_log "$WAY: done"
}

way cni
way hook
way nri

hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI/containerd/NRI/kubelet paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
