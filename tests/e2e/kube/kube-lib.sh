# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A real kubelet (Kubernetes built from its release by scripts/install-runtimes.sh) on the
# private containerd 2.x of cri-lib.sh. Sourced, never run, after cri-lib.sh and hg_init.
#
#   kube_need                   HG_KUBE_BIN = the built Kubernetes commands (fails when
#                               they cannot be built)
#   kube_kubelet_start DIR NODE [EXTRA_CONFIG_JSON [KUBECONFIG]]
#       kubelet with its config in DIR (absolute, no spaces), node name NODE, on the
#       containerd started by cri_containerd_start with CRI_KUBELET=1: it runs in the
#       daemon's mount and network namespaces (the pods' etc-hosts, volumes and netns
#       mounts are the daemon's; KUBE_NODE_IP its --node-ip), so its /var/lib/kubelet, /var/log/pods and /var/log/containers are the
#       daemon's private ones (CRI_DIR/kubelet, ...). Static pods from DIR/manifests;
#       without KUBECONFIG it runs standalone (no API server). cgroupfs driver under the
#       daemon's cgroup CRI_CGROUP (removed with it), cgroup v1 allowed, its servers on
#       127.0.0.1 only (KUBE_KUBELET_PORT, KUBE_HEALTHZ_PORT). argv[0] hgt-$$-kubelet
#       (e2e_janitor ends it if the test is SIGKILLed). Waits until /healthz answers ok;
#       registers kube_kubelet_stop. Sets KUBE_KUBELET_PID KUBE_KUBELET_LOG.
#   kube_kubelet_stop           TERM (KILL after 10 s); its pods keep running, as after a
#                               kubelet crash. Safe to call twice.
#   kube_pod_sandbox NAMESPACE NAME
#                               the id of the READY sandbox of that pod (crictl), or nothing
#   kube_has_sandbox NS NAME, kube_no_sandbox NS NAME, kube_no_running SANDBOX
#                               conditions to wait for (e2e_wait_for)
#   kube_wait_running SANDBOX N SECS
#                               until N containers of SANDBOX run; fail naming what runs
#   kube_container_id SANDBOX NAME
#                               the id of the running container NAME of SANDBOX
#   kube_pki DIR NODE_IP        CA, API server certificate, service-account keys, a static
#                               admin token, DIR/admin.kubeconfig; sets KUBE_DIR KUBE_TOKEN
#   kube_daemon NAME CMD ARG... a control-plane process in netns KUBE_NETNS (log
#                               KUBE_DIR/NAME.log), stopped at exit or by
#                               kube_daemons_stop
#   kc ARG...                   kubectl in KUBE_NETNS as the admin
#   kube_import_program REF BINARY ARG...
#                               an image of one program and its shared objects
#   kube_import_pause REF       the sandbox image: tests/tools/pause/pause.c built static,
#                               its one file, imported as REF

KUBE_KUBELET_PID=${KUBE_KUBELET_PID:-}
KUBE_DAEMONS=()
KUBE_KUBELET_PORT=${KUBE_KUBELET_PORT:-28750}
KUBE_HEALTHZ_PORT=${KUBE_HEALTHZ_PORT:-28751}

kube_need() {
	local env
	env=$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env kubernetes) ||
		hg_fail "Kubernetes could not be built (scripts/install-runtimes.sh kubernetes)"
	eval "$env"
	[ -x "$HG_KUBE_BIN/kubelet" ] || hg_fail "kubelet missing in $HG_KUBE_BIN"
}

kube_kubelet_start() {
	local dir=$1 node=$2 extra=${3:-'{}'} kubeconfig=${4:-}
	[ -n "$CRI_PID" ] || { echo "kube_kubelet_start: no containerd" >&2; return 1; }
	[ -z "$KUBE_KUBELET_PID" ] || { echo "kube_kubelet_start: already running" >&2; return 1; }
	mkdir -p "$dir/manifests" || return 1
	# What a kubeadm node's kubelet has, less what needs a cluster or a machine of its own:
	# servers on loopback, no anonymous access, the manifests re-read every second.
	jq -n --arg d "$dir" --arg sock "$CRI_SOCK" --arg cg "/$CRI_CGROUP" \
		--argjson port "$KUBE_KUBELET_PORT" --argjson hz "$KUBE_HEALTHZ_PORT" --argjson extra "$extra" '
		{apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration",
		 staticPodPath: "\($d)/manifests", fileCheckFrequency: "1s",
		 containerRuntimeEndpoint: "unix://\($sock)", imageServiceEndpoint: "unix://\($sock)",
		 cgroupDriver: "cgroupfs", cgroupRoot: $cg, failCgroupV1: false, failSwapOn: false,
		 address: "127.0.0.1", port: $port, readOnlyPort: 0,
		 healthzBindAddress: "127.0.0.1", healthzPort: $hz,
		 authentication: {anonymous: {enabled: false}, webhook: {enabled: false}},
		 authorization: {mode: "AlwaysAllow"},
		 resolvConf: "/etc/resolv.conf", podLogsDir: "/var/log/pods",
		 syncFrequency: "10s", nodeStatusReportFrequency: "10s",
		 imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
		 evictionHard: {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
		 localStorageCapacityIsolation: false, serializeImagePulls: false,
		 shutdownGracePeriod: "0s"} * $extra' >"$dir/kubelet.json" || return 1
	KUBE_KUBELET_LOG=$dir/kubelet.log
	_kube_cgroup_root "$CRI_CGROUP" || return 1
	local -a args=(--config "$dir/kubelet.json" --hostname-override "$node" --v 2)
	[ -z "$kubeconfig" ] || args+=(--kubeconfig "$kubeconfig")
	[ -z "${KUBE_NODE_IP:-}" ] || args+=(--node-ip "$KUBE_NODE_IP")
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	nsenter -t "$CRI_PID" -m -n -- bash -c 'exec -a "$1" "$2" "${@:3}"' kubelet \
		"hgt-$$-kubelet" "$HG_KUBE_BIN/kubelet" "${args[@]}" >>"$KUBE_KUBELET_LOG" 2>&1 &
	KUBE_KUBELET_PID=$!
	hg_defer kube_kubelet_stop
	if ! e2e_wait_for 60 _kube_healthz; then
		echo "kube_kubelet_start: kubelet not healthy; log:" >&2
		grep -E '^[EF][0-9]{4}' "$KUBE_KUBELET_LOG" | tail -n 20 >&2
		tail -n 10 "$KUBE_KUBELET_LOG" >&2
		return 1
	fi
	e2e_log "kubelet $HG_KUBE_VERSION pid $KUBE_KUBELET_PID healthy"
}

# _kube_cgroup_root NAME: kubelet checks that its cgroupRoot exists in every hierarchy
# (cgroup v1) before it makes kubepods under it; cpuset's needs its parent's cpus and mems.
_kube_cgroup_root() {
	local cg
	for cg in /sys/fs/cgroup/*/; do
		case $(stat -f -c %T "$cg" 2>/dev/null) in cgroupfs | cgroup2fs) ;; *) continue ;; esac
		mkdir -p "$cg$1" || return 1
		if [ -f "$cg/cpuset.cpus" ]; then
			cat "$cg/cpuset.cpus" >"$cg$1/cpuset.cpus" && cat "$cg/cpuset.mems" >"$cg$1/cpuset.mems" || return 1
		fi
	done
}

_kube_healthz() {
	kill -0 "$KUBE_KUBELET_PID" 2>/dev/null || return 2
	[ "$(nsenter -t "$KUBE_KUBELET_PID" -n curl -s --max-time 1 "http://127.0.0.1:$KUBE_HEALTHZ_PORT/healthz" 2>/dev/null)" = ok ]
}

kube_kubelet_stop() {
	[ -n "$KUBE_KUBELET_PID" ] || return 0
	kill -TERM "$KUBE_KUBELET_PID" 2>/dev/null || :
	_e2e_wait_gone 10 "$KUBE_KUBELET_PID" || kill -KILL "$KUBE_KUBELET_PID" 2>/dev/null || :
	wait "$KUBE_KUBELET_PID" 2>/dev/null || :
	KUBE_KUBELET_PID=
}

kube_pod_sandbox() {
	cc pods --namespace "$1" --name "^$2\$" --state ready -q 2>/dev/null | head -n1
}

# kube_has_sandbox NAMESPACE NAME, kube_no_sandbox NAMESPACE NAME, kube_no_running SANDBOX:
# conditions for e2e_wait_for.
kube_has_sandbox() { [ -n "$(kube_pod_sandbox "$1" "$2")" ]; }
kube_no_sandbox() { [ -z "$(kube_pod_sandbox "$1" "$2")" ]; }
kube_no_running() { [ -z "$(cc ps --pod "$1" --state running -q 2>/dev/null)" ]; }

kube_wait_running() {
	local sb=$1 n=$2 secs=$3 i
	for ((i = 0; i < secs * 5; i++)); do
		[ "$(cc ps --pod "$sb" --state running -q 2>/dev/null | wc -l)" -ge "$n" ] && return 0
		sleep 0.2
	done
	hg_fail "pod $sb: fewer than $n containers running after $secs s: $(cc ps -a --pod "$sb" 2>&1)"
}

kube_container_id() {
	cc ps --pod "$1" --name "^$2\$" --state running -q 2>/dev/null | head -n1
}

# kube_import_pause REF: the sandbox image, as kubelet's pods have it: one static program
# (tests/tools/pause/pause.c, built here) as /pause, imported into namespace k8s.io.
kube_import_pause() {
	local w=$CRI_DIR/pause-build
	rm -rf "$w"
	mkdir -p "$w" || return 1
	gcc -static -Os -o "$w/pause" "$HG_SOURCE_ROOT/tests/tools/pause/pause.c" || return 1
	kube_import_program "$1" "$w/pause" || return 1
	rm -rf "$w"
}

# ---- a one-node cluster: the control plane as processes of the test -------------------

# kube_pki DIR NODE_IP: what kubeadm would make, the least of it: a CA, the API server's
# serving certificate (the node's IP, the kubernetes Service's first IP and names), the
# service-account key pair, one static token (group system:masters) for every component
# and kubectl, and DIR/admin.kubeconfig naming https://NODE_IP:6443 with that CA.
kube_pki() {
	local dir=$1 ip=$2
	mkdir -p "$dir/pki" || return 1
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hgt-kubernetes-ca \
			-keyout "$dir/pki/ca.key" -out "$dir/pki/ca.crt" &&
			openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
				-keyout "$dir/pki/apiserver.key" -out "$dir/pki/apiserver.csr" &&
			printf 'subjectAltName=IP:%s,IP:10.96.0.1,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' "$ip" >"$dir/pki/san.ext" &&
			openssl x509 -req -in "$dir/pki/apiserver.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" \
				-CAcreateserial -days 2 -extfile "$dir/pki/san.ext" -out "$dir/pki/apiserver.crt" &&
			openssl genrsa -out "$dir/pki/sa.key" 2048 &&
			openssl rsa -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub"
	} >"$dir/pki/openssl.log" 2>&1 || { cat "$dir/pki/openssl.log" >&2; return 1; }
	KUBE_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s,hgt-admin,hgt-admin,"system:masters"\n' "$KUBE_TOKEN" >"$dir/pki/tokens.csv"
	jq -n --arg ca "$(base64 -w0 "$dir/pki/ca.crt")" --arg ip "$ip" --arg t "$KUBE_TOKEN" '
		{apiVersion: "v1", kind: "Config", "current-context": "hgt",
		 clusters: [{name: "hgt", cluster: {server: "https://\($ip):6443", "certificate-authority-data": $ca}}],
		 users: [{name: "hgt-admin", user: {token: $t}}],
		 contexts: [{name: "hgt", context: {cluster: "hgt", user: "hgt-admin"}}]}' >"$dir/admin.kubeconfig"
	KUBE_DIR=$dir
}

# kube_daemon NAME CMD ARG...: CMD in network namespace KUBE_NETNS, argv[0]
# hgt-$$-kube-NAME (e2e_janitor ends it if the test is SIGKILLed), log KUBE_DIR/NAME.log;
# killed at exit.
kube_daemon() {
	local name=$1
	shift
	# shellcheck disable=SC2016 # the script's $1.. are expanded by its own bash
	nsenter "--net=/run/netns/$KUBE_NETNS" -- bash -c 'exec -a "$1" "${@:2}"' kube \
		"hgt-$$-kube-$name" "$@" >>"$KUBE_DIR/$name.log" 2>&1 &
	KUBE_DAEMONS+=("$!")
	hg_defer _kube_daemon_stop "$!"
}

# kube_daemons_stop: every kube_daemon, the last started first.
kube_daemons_stop() {
	local i
	for ((i = ${#KUBE_DAEMONS[@]} - 1; i >= 0; i--)); do _kube_daemon_stop "${KUBE_DAEMONS[i]}"; done
	KUBE_DAEMONS=()
}

_kube_daemon_stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	_e2e_wait_gone 5 "$1" || kill -KILL "$1" 2>/dev/null || :
}

# kc ARG...: kubectl in the node's network namespace, as the cluster's admin.
kc() {
	nsenter "--net=/run/netns/$KUBE_NETNS" -- "$HG_KUBE_BIN/kubectl" --kubeconfig "$KUBE_DIR/admin.kubeconfig" \
		--request-timeout 30s "$@"
}

# kube_import_program REF BINARY ARG...: an image of BINARY (at /BASENAME, with the shared
# objects ldd names, at their paths) whose entrypoint is it with ARG..., imported as REF.
kube_import_program() {
	local ref=$1 bin=$2 w=$CRI_DIR/program-image lib a
	shift 2
	local -a cfg=(--config.entrypoint "/$(basename "$bin")")
	for a in "$@"; do cfg+=(--config.cmd "$a"); done
	rm -rf "$w"
	mkdir -p "$w" || return 1
	if ! {
		umoci init --layout "$w/layout" &&
			umoci new --image "$w/layout:${ref##*:}" &&
			umoci unpack --image "$w/layout:${ref##*:}" "$w/bundle" &&
			install -m 0755 "$bin" "$w/bundle/rootfs/$(basename "$bin")" &&
			for lib in $(ldd "$bin" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }'); do
				mkdir -p "$w/bundle/rootfs$(dirname "$lib")" && cp -L "$lib" "$w/bundle/rootfs$lib" || return 1
			done &&
			umoci repack --image "$w/layout:${ref##*:}" "$w/bundle" &&
			umoci config --image "$w/layout:${ref##*:}" "${cfg[@]}" &&
			umoci gc --layout "$w/layout" &&
			tar -C "$w/layout" -cf "$w/image.tar" .
	} >"$w/build.log" 2>&1; then
		cat "$w/build.log" >&2
		return 1
	fi
	cri_import_tar "$ref" "$w/image.tar" || return 1
	rm -rf "$w"
}
