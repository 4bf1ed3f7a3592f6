#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real one-node Kubernetes cluster (v1.37.2, built from its release by
# scripts/install-runtimes.sh): etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kube-proxy (nftables mode) as processes of the test, kubelet joined as
# the node on containerd 2.x, all inside a network namespace of the test (the node: a portless
# bridge eth0 10.215.40.2 with the default route, so that nothing leaves it). Images made here and
# imported into containerd: the pause image (tests/tools/pause), busybox (busybox-static),
# host-gateway's own (scripts/build-image.sh), CoreDNS v1.15.0 from its module. The node's
# conflist is kindnet's (ptp + host-local + portmap, cniVersion 1.1.0) in /etc/cni/net.d,
# the daemon's private one.
#   1. CoreDNS as a Deployment with kubeadm's Corefile (ConfigMap coredns, Service kube-dns
#      10.96.0.10), kubeadm's shape
#   2. kubectl apply -f conf/kubernetes/host-gateway.yaml: the DaemonSet's pod chains the
#      entry and copies the binary, its readiness probe (install --check) passes; a rolling
#      update (rollout restart, maxSurge): the entry and the binary stay throughout
#   3. README's CoreDNS pipeline, run as README prints it: CoreDNS serves the names
#   4. a Deployment's pod (ClusterFirst DNS, no name in its /etc/hosts) resolves
#      host.docker.internal through the cluster DNS Service (kube-proxy) and reaches a
#      listener on the node by that name and by 169.254.1.2
#   5. kubectl delete -f conf/kubernetes/host-gateway.yaml with the pod still attached:
#      the entry goes, the binary stays (the attachment needs it); the pod removed, `gc`
#      and `uninstall` of the kept binary: the node's folders as before the DaemonSet
#   6. kubectl apply -f conf/kubernetes/host-gateway-nri.yaml: the NRI DaemonSet connects;
#      a new pod gets the names in kubelet's etc-hosts and reaches the node by name and by
#      169.254.1.2; the running CoreDNS pod was attached by Synchronize; the pod deleted:
#      its record and registry go; the DaemonSet deleted, then CoreDNS: `gc` leaves nothing
#      in the node's /run/host-gateway
# At the end: the host as before, the machine's /etc/cni, /opt/cni, /var/lib/kubelet,
# /run/containerd, /run/nri and /etc/hosts untouched.
# shellcheck disable=SC2119 # library functions whose arguments are optional
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=../cri/cri-lib.sh
. "$(dirname "$0")/../cri/cri-lib.sh"
# shellcheck source=kube-lib.sh
. "$(dirname "$0")/kube-lib.sh"
cri_prebuild containerd crictl cni-plugins kubernetes coredns
hg_init e2e-cluster
hg_require_bin
hg_require_cmd runc unshare nsenter umoci jq socat ss curl openssl gcc
"$CRI_PY" -c 'import tomllib' 2>/dev/null || hg_skip "$CRI_PY lacks tomllib"
cri_containerd2
crictl_need
kube_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins coredns)"
T_START=$(e2e_now_ms)
SRC=$HG_SOURCE_ROOT

NODE=hgt-node
NODE_IP=10.215.40.2
PODS=10.215.41.0/24
GW=10.215.41.1
VIP=169.254.1.2
PORT=28760
hg_subnet_free 10.215.40.0/24 "$PODS" 10.96.0.0/16
machine_paths() { ec_machine_paths /etc/containerd /etc/host-gateway /opt /run/nri /etc/nri /var/lib/kubelet /var/log/pods /var/log/containers; }
machine_paths >"$HG_TMP/machine.before"
sha_hosts=$(sha256sum /etc/hosts)
hg_guard_forwarding
hg_snapshot_host

# ---- the node: its network namespace, containerd, images ------------------------------
KUBE_NETNS=hgt-$$-node
hg_netns_add "$KUBE_NETNS"
hg_in "$KUBE_NETNS" ip link set lo up
# A bridge without ports: the node's own address and default route, and nothing behind them.
hg_in "$KUBE_NETNS" ip link add eth0 type bridge
hg_in "$KUBE_NETNS" ip addr add "$NODE_IP/24" dev eth0
hg_in "$KUBE_NETNS" ip link set eth0 up
hg_in "$KUBE_NETNS" ip route add default dev eth0

D=$HG_TMP/node-$$
mkdir -p "$D"/{net.d,opt-cni-bin,ipam}
cri_kindnet_conflist 1.1.0 "$PODS" "$D/ipam" >"$D/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
node_before() { # the node's CNI folders, as a user would compare them
	echo "== conf"
	ls -A "$D/net.d"
	jq -S . "$D/net.d/10-kindnet.conflist"
	echo "== bin"
	ls -A "$D/opt-cni-bin"
}
node_before >"$HG_TMP/node.before"
jq -S . "$D/net.d/10-kindnet.conflist" >"$HG_TMP/kindnet.before"
# A kubeadm node's containerd: CNI from /etc/cni/net.d, pods' netns in /var/run/netns.
config=$(cri_minimal_config_v3 "$D" | jq '.plugins."io.containerd.cri.v1.runtime" *=
	{cni: {conf_dir: "/etc/cni/net.d"}, netns_mounts_under_state_dir: false}')
CRI_NETNS=$KUBE_NETNS CRI_OWN_RUN=1 CRI_KUBELET=1 cri_containerd_start "$D" "$config"
CC_NETNS=$KUBE_NETNS
STATE=$D/run-host-gateway
t0=$(e2e_now_ms)
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
kube_import_pause localhost/hgt/pause:1 || hg_fail "no pause image"
kube_import_program localhost/hgt/coredns:v1.15.0 "$HG_COREDNS_BIN/coredns" || hg_fail "no CoreDNS image"
"$SRC/scripts/build-image.sh" "$HG_BIN" "$HG_TMP/hg-image" 0.1.0 >"$HG_TMP/build-image.log" 2>&1 ||
	hg_fail "scripts/build-image.sh failed: $(cat "$HG_TMP/build-image.log")"
tar -C "$HG_TMP/hg-image" -cf "$HG_TMP/hg-image.tar" .
# kubelet asks for host-gateway:0.1.0, which it reads as docker.io/library/host-gateway:0.1.0.
cri_import_tar docker.io/library/host-gateway:0.1.0 "$HG_TMP/hg-image.tar" || hg_fail "could not import the host-gateway image"
hg_log "images made and imported in $(($(e2e_now_ms) - t0)) ms"

# ---- the control plane -----------------------------------------------------------------
t0=$(e2e_now_ms)
kube_pki "$HG_TMP/k8s" "$NODE_IP" || hg_fail "no PKI"
K=$KUBE_DIR
P=$K/pki
kube_daemon etcd "$HG_KUBE_BIN/etcd" --name hgt --data-dir "$K/etcd" \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster hgt=http://127.0.0.1:2380
kube_daemon apiserver "$HG_KUBE_BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
	--bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
	--tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
	--client-ca-file "$P/ca.crt" --token-auth-file "$P/tokens.csv" --authorization-mode AlwaysAllow \
	--service-cluster-ip-range 10.96.0.0/16 --allow-privileged=true \
	--service-account-issuer https://kubernetes.default.svc.cluster.local \
	--service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key"
api_ready() { [ "$(kc get --raw /readyz 2>/dev/null)" = ok ]; }
e2e_wait_for 90 api_ready || hg_fail "kube-apiserver not ready: $(tail -n 20 "$K/apiserver.log"; tail -n 5 "$K/etcd.log")"
hg_log "etcd and kube-apiserver ready in $(($(e2e_now_ms) - t0)) ms"
kube_daemon controller-manager "$HG_KUBE_BIN/kube-controller-manager" --kubeconfig "$K/admin.kubeconfig" \
	--leader-elect=false --root-ca-file "$P/ca.crt" --service-account-private-key-file "$P/sa.key" \
	--bind-address 127.0.0.1 --secure-port 10257
kube_daemon scheduler "$HG_KUBE_BIN/kube-scheduler" --kubeconfig "$K/admin.kubeconfig" \
	--leader-elect=false --bind-address 127.0.0.1 --secure-port 10259
jq -n --arg k "$K/admin.kubeconfig" --arg n "$NODE" --arg c "$PODS" '
	{apiVersion: "kubeproxy.config.k8s.io/v1alpha1", kind: "KubeProxyConfiguration", mode: "nftables",
	 clientConnection: {kubeconfig: $k}, hostnameOverride: $n, clusterCIDR: $c,
	 metricsBindAddress: "127.0.0.1:10249", healthzBindAddress: "127.0.0.1:10256",
	 conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s"}}' >"$K/kube-proxy.json"
kube_daemon proxy "$HG_KUBE_BIN/kube-proxy" --config "$K/kube-proxy.json"
# The node's resolver: an address where nothing answers (CoreDNS's upstream stays inside).
echo "nameserver 10.215.40.53" >"$K/resolv.conf"
KUBE_NODE_IP=$NODE_IP kube_kubelet_start "$K/kubelet" "$NODE" \
	"$(jq -n --arg r "$K/resolv.conf" '{clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local", resolvConf: $r}')" \
	"$K/admin.kubeconfig" || hg_fail "kubelet did not start"
# kubelet answers healthz before its node object exists, and `kubectl wait` fails at once on
# a missing object: wait for the registration first (one look every 0.25 s).
for _ in $(seq 480); do kc get node "$NODE" >/dev/null 2>&1 && break; sleep 0.25; done
kc wait --for=condition=Ready "node/$NODE" --timeout 120s >/dev/null ||
	hg_fail "node $NODE not Ready: $(kc describe node "$NODE" | tail -n 20; tail -n 20 "$KUBE_KUBELET_LOG" 2>/dev/null)"
hg_log "node $NODE Ready in $(($(e2e_now_ms) - t0)) ms: $(kc get node "$NODE" -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}')"

# wait_rollout KIND/NAME: ready within 120 s, or fail with what the pods say.
wait_rollout() {
	kc -n "${2:-kube-system}" rollout status "$1" --timeout 120s >/dev/null ||
		hg_fail "$1 not ready: $(kc -n "${2:-kube-system}" get pods -o wide; kc -n "${2:-kube-system}" describe pods | grep -A12 '^Events' | tail -n 30)"
}
# pod_sandbox LABEL NAMESPACE: the sandbox id of the one running pod with that app label.
pod_sandbox() {
	local name
	name=$(kc -n "${2:-default}" get pods -l "app=$1" --field-selector status.phase=Running -o jsonpath='{.items[0].metadata.name}')
	[ -n "$name" ] || return 1
	kube_pod_sandbox "${2:-default}" "$name"
}
pod_container() { cc ps --pod "$1" --state running -q | head -n1; }

# ---- 1. CoreDNS, as kubeadm deploys it ---------------------------------------------------
jq -n --rawfile corefile "$SRC/tests/unit/golden/corefile/kubeadm.in" -f "$(dirname "$0")/coredns.jq" >"$K/coredns.json"
kc apply -f "$K/coredns.json" >/dev/null
wait_rollout deployment/coredns
hg_log "CoreDNS ready"

# ---- 2. the DaemonSet ------------------------------------------------------------------
kc apply -f "$SRC/conf/kubernetes/host-gateway.yaml" >/dev/null
wait_rollout daemonset/host-gateway
hg_assert_eq "$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway -o jsonpath='{.items[0].status.conditions[?(@.type=="Ready")].status}')" \
	True "the DaemonSet's pod is Ready (its readiness probe: install --check)"
hg_assert_eq "$(jq -c '.plugins[-1]' "$D/net.d/10-kindnet.conflist")" \
	'{"type":"host-gateway","capabilities":{"io.kubernetes.cri.pod-annotations":true},"virtualIPs":["169.254.1.2"]}' \
	"the DaemonSet chained the ConfigMap's entry into the node's conflist"
cmp "$D/opt-cni-bin/host-gateway" "$HG_BIN" || hg_fail "the node's binary is not the image's"
# A rolling update through the API (maxSurge 1): the new pod runs before the old one stops,
# so the entry and the binary never leave the node.
old_pod=$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway -o jsonpath='{.items[0].metadata.name}')
kc -n kube-system rollout restart daemonset/host-gateway >/dev/null
missing=0
for _ in $(seq 600); do
	{ it=$(jq '[.plugins[] | select(.type == "host-gateway")] | length' "$D/net.d/10-kindnet.conflist" 2>/dev/null) &&
		[ "$it" = 1 ] && [ -x "$D/opt-cni-bin/host-gateway" ]; } || missing=$((missing + 1))
	[ -n "$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway -o name 2>/dev/null | grep -v "/$old_pod\$")" ] &&
		! kc -n kube-system get pod "$old_pod" >/dev/null 2>&1 && break
	sleep 0.1
done
wait_rollout daemonset/host-gateway
new_pod=$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway -o jsonpath='{.items[0].metadata.name}')
[ "$new_pod" != "$old_pod" ] || hg_fail "the rolling update made no new pod"
hg_assert_eq "$missing" 0 "looks at the node during the rolling update with the entry or the binary missing"
[ -f "$D/net.d/.host-gateway-watch.lock" ] || hg_fail "no watchers' lock after the rolling update"
hg_log "rolling update: $old_pod -> $new_pod, the entry and the binary there throughout"

# ---- 3. README's CoreDNS pipeline ----------------------------------------------------
# The lines README shows (its Kubernetes section), run as they are: kubectl is the
# cluster's, build/host-gateway the binary under test.
pipeline=$(awk '/^### Kubernetes/ { k = 1 } k && /^kubectl -n kube-system get configmap coredns/ { p = 1 }
	p { print } p && !/\\$/ { exit }' "$SRC/README.md")
[ -n "$pipeline" ] || hg_fail "no CoreDNS pipeline in README's Kubernetes section"
hg_log "README's pipeline:"$'\n'"$pipeline"
kubectl() { kc "$@"; }
mkdir -p "$HG_TMP/readme/build"
ln -s "$HG_BIN" "$HG_TMP/readme/build/host-gateway"
(cd "$HG_TMP/readme" && eval "$pipeline") >/dev/null || hg_fail "README's pipeline failed"
unset -f kubectl
corefile=$(kc -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')
hg_assert_contains "$corefile" "$VIP host.docker.internal host.containers.internal gateway.docker.internal # host-gateway" \
	"the coredns ConfigMap has the names"

# ---- 4. a Deployment's pod reaches the node by name, through the cluster DNS ----------
client() { # NAME: a Deployment of one busybox pod
	jq -n --arg n "$1" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: $n, namespace: "default"},
		spec: {replicas: 1, selector: {matchLabels: {app: $n}},
		 template: {metadata: {labels: {app: $n}},
		  spec: {terminationGracePeriodSeconds: 1, automountServiceAccountToken: false,
		   containers: [{name: "app", image: "localhost/hgt/busybox:1", imagePullPolicy: "Never",
		                 command: ["sleep", "2147483647"]}]}}}}'
}
client web >"$K/web.json"
kc apply -f "$K/web.json" >/dev/null
wait_rollout deployment/web default
sb=$(pod_sandbox web) || hg_fail "no running pod of web"
c=$(pod_container "$sb")
hg_listener "$KUBE_NETNS" "$GW" "$PORT" "hello-from-the-node"
out=$(cc_exec "$c" "cat /etc/resolv.conf; grep -c host.docker.internal /etc/hosts || :") || hg_fail "exec in web: $out"
hg_log "web's resolv.conf and hosts:"$'\n'"$out"
hg_assert_contains "$out" "nameserver 10.96.0.10" "web resolves through the cluster DNS Service"
[ "$(tail -n1 <<<"$out")" = 0 ] || hg_fail "web's /etc/hosts has the names: the test would not show DNS"
# CoreDNS's reload notices the ConfigMap once kubelet has updated the mounted file.
resolved() { cc_exec "$c" "nslookup host.docker.internal" 2>/dev/null | grep -q "Address: $VIP"; }
t0=$(e2e_now_ms)
e2e_wait_for 120 resolved || hg_fail "host.docker.internal not served by CoreDNS: $(cc_exec "$c" "nslookup host.docker.internal" 2>&1 | tail -n 5)"
hg_log "CoreDNS answers host.docker.internal $(($(e2e_now_ms) - t0)) ms after the pipeline"
out=$(cc_exec "$c" "for n in host.docker.internal gateway.docker.internal $VIP; do r=\$(echo hi | nc -w3 \$n $PORT); echo \"\$n=\$? \$r\"; done") ||
	hg_fail "exec in web: $out"
hg_log "web:"$'\n'"$out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-the-node" "web reaches the node by host.docker.internal (cluster DNS)"
hg_assert_contains "$out" "gateway.docker.internal=0 hello-from-the-node" "web reaches the node by gateway.docker.internal"
hg_assert_contains "$out" "$VIP=0 hello-from-the-node" "web reaches the node by $VIP"
[ -n "$(find "$STATE/cni" -name '*.json' 2>/dev/null)" ] || hg_fail "no record of web's attachment in the node's /run/host-gateway"

# ---- 5. kubectl delete: the node as it was ---------------------------------------------
kc delete -f "$SRC/conf/kubernetes/host-gateway.yaml" --wait=true --timeout 60s >/dev/null
ds_gone() { [ -z "$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway -o name 2>/dev/null)" ]; }
e2e_wait_for 60 ds_gone || hg_fail "the DaemonSet's pod did not go"
hg_assert_eq "$(jq -S . "$D/net.d/10-kindnet.conflist")" "$(cat "$HG_TMP/kindnet.before")" \
	"kubectl delete: the entry is gone from the node's conflist"
[ -x "$D/opt-cni-bin/host-gateway" ] || hg_fail "kubectl delete: the binary went though web's attachment needs it"
[ ! -e "$D/net.d/.host-gateway-watch.lock" ] || hg_fail "kubectl delete: the watchers' lock file stayed"
kc delete deployment web --wait=true --timeout 60s >/dev/null
e2e_wait_for 60 kube_no_sandbox default "$(cc inspectp -o json "$sb" | jq -r .status.metadata.name)" || hg_fail "web's pod did not stop"
left=$(find "$STATE/cni" -name '*.json' 2>/dev/null || :)
hg_log "after web stopped (no host-gateway in the conflist any more): records: ${left:-none}"
# Its network namespace goes when containerd removes the sandbox (kubelet's sandbox GC).
netns_gone() { ! nsenter -t "$CRI_PID" -m -- test -e "$1"; }
t0=$(e2e_now_ms)
for rec in $left; do
	e2e_wait_for 120 netns_gone "$(jq -r .netns.path "$rec")" || hg_fail "web's network namespace stays: $(jq -r .netns.path "$rec")"
done
hg_log "web's network namespace gone $(($(e2e_now_ms) - t0)) ms later"
# As README says: the kept binary collects what the pods left, then goes.
nsenter -t "$CRI_PID" -m -n -- "$D/opt-cni-bin/host-gateway" gc 2>"$HG_TMP/gc.err" >"$HG_TMP/gc.out" || hg_fail "gc failed: $(cat "$HG_TMP/gc.err")"
hg_log "gc: $(cat "$HG_TMP/gc.out" "$HG_TMP/gc.err")"
nsenter -t "$CRI_PID" -m -- "$D/opt-cni-bin/host-gateway" uninstall 2>"$HG_TMP/uninstall.err" || hg_fail "uninstall failed: $(cat "$HG_TMP/uninstall.err")"
node_before >"$HG_TMP/node.after"
diff -u "$HG_TMP/node.before" "$HG_TMP/node.after" >&2 || hg_fail "the node's CNI folders are not as before the DaemonSet"
left=$(find "$STATE" -type f ! -name '.*.lock' 2>/dev/null || :)
[ -z "$left" ] || hg_fail "left in the node's /run/host-gateway: $left"

# ---- 6. the NRI DaemonSet --------------------------------------------------------------
kc apply -f "$SRC/conf/kubernetes/host-gateway-nri.yaml" >/dev/null
wait_rollout daemonset/host-gateway-nri
# Its log as kubelet keeps it (kubectl logs would need the API server to reach kubelet).
nri_log() { cat "$D"/log-pods/kube-system_host-gateway-nri-*/nri/*.log 2>/dev/null; }
connected() { nri_log | grep -q "configured by"; }
e2e_wait_for 30 connected || hg_fail "the NRI plugin did not connect: $(nri_log | tail -n 10)"
hg_log "the NRI DaemonSet's plugin: $(nri_log | grep -m1 "configured by" | cut -c1-200)"
client api >"$K/api.json"
kc apply -f "$K/api.json" >/dev/null
wait_rollout deployment/api default
sb=$(pod_sandbox api) || hg_fail "no running pod of api"
c=$(pod_container "$sb")
uid=$(cc inspectp -o json "$sb" | jq -r '.status.labels."io.kubernetes.pod.uid"')
hosts=$D/kubelet/pods/$uid/etc-hosts
hg_log "api's etc-hosts:"$'\n'"$(cat "$hosts")"
hg_assert_eq "$(hg_block "$hosts" | sort | paste -sd';')" "$(printf '%s\t%s' "$VIP" "$HG_DEFAULT_NAMES")" \
	"the NRI plugin wrote the names (the virtual IP) into kubelet's etc-hosts"
out=$(cc_exec "$c" "for n in host.docker.internal $VIP; do r=\$(echo hi | nc -w3 \$n $PORT); echo \"\$n=\$? \$r\"; done") ||
	hg_fail "exec in api: $out"
hg_assert_contains "$out" "host.docker.internal=0 hello-from-the-node" "api reaches the node by host.docker.internal (NRI)"
hg_assert_contains "$out" "$VIP=0 hello-from-the-node" "api reaches the node by $VIP (NRI)"
kc delete deployment api --wait=true --timeout 60s >/dev/null
e2e_wait_for 60 kube_no_sandbox default "$(cc inspectp -o json "$sb" | jq -r .status.metadata.name)" || hg_fail "api's pod did not stop"
# Synchronize attached the pods already running when the plugin connected (CoreDNS): only
# their records stay.
coredns_sb=$(kube_pod_sandbox kube-system "$(kc -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[0].metadata.name}')")
only_coredns() { [ "$(find "$STATE/nri" -name '*.json' -printf '%f\n' 2>/dev/null)" = "$coredns_sb.json" ]; }
e2e_wait_for 30 only_coredns ||
	hg_fail "NRI records after api stopped: $(find "$STATE/nri" -name '*.json' -printf '%f ' 2>/dev/null) (CoreDNS: $coredns_sb); the plugin's log: $(nri_log | cut -c1-300 | tail -n 15)"
hg_assert_contains "$(nri_log)" "pod $coredns_sb: attached" "Synchronize attached the CoreDNS pod that ran before the plugin"
kc delete -f "$SRC/conf/kubernetes/host-gateway-nri.yaml" --wait=true --timeout 60s >/dev/null
nri_gone() { [ -z "$(kc -n kube-system get pods -l app.kubernetes.io/name=host-gateway-nri -o name 2>/dev/null)" ]; }
e2e_wait_for 60 nri_gone || hg_fail "the NRI DaemonSet's pod did not go"
# Pods attached before the DaemonSet went keep their plumbing until they stop; then gc (from
# a timer, as README says) takes what they left.
kc -n kube-system delete deployment coredns --wait=true --timeout 60s >/dev/null
e2e_wait_for 60 kube_no_sandbox kube-system "$(cc inspectp -o json "$coredns_sb" | jq -r .status.metadata.name)" || hg_fail "CoreDNS did not stop"
gc_clean() {
	nsenter -t "$CRI_PID" -m -n -- "$HG_BIN" gc >/dev/null 2>>"$HG_TMP/gc-nri.err"
	[ -z "$(find "$STATE" -type f ! -name '.*.lock' 2>/dev/null)" ]
}
e2e_wait_for 120 gc_clean || hg_fail "left in the node's /run/host-gateway after gc: $(find "$STATE" -type f ! -name '.*.lock'); gc: $(tail -n 5 "$HG_TMP/gc-nri.err")"
hg_log "gc after the NRI DaemonSet and CoreDNS went:"$'\n'"$(sort -u "$HG_TMP/gc-nri.err")"

# ---- the end -----------------------------------------------------------------------------
kube_kubelet_stop
kube_daemons_stop
cri_containerd_stop || hg_fail "containerd cleanup left cgroups or mounts"
hg_netns_del "$KUBE_NETNS"
hg_assert_host_unchanged
machine_paths >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 || hg_fail "the machine's CNI/containerd/NRI/kubelet paths changed"
hg_assert_eq "$(sha256sum /etc/hosts)" "$sha_hosts" "the machine's /etc/hosts untouched"
hg_log "ok in $(($(e2e_now_ms) - T_START)) ms"
