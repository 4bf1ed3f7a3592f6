#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Try host-gateway on this machine (Debian 12, root): installs what is needed, builds, then
# shows the main job: a container network namespace on a bridge network, with host-gateway
# chained after the reference bridge plugin, reaches a listener on the host BY NAME
# (host.docker.internal), the way `ctr run --cni` containers do. Everything it creates is
# removed at the end, even on failure; the machine's /etc/hosts and /etc/cni are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "try.sh: run as root (it creates network namespaces)" >&2; exit 1; }

scripts/install-deps.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
echo "built $(build/host-gateway --version | head -1)"

export HG_BIN=$PWD/build/host-gateway
. tests/lib/common.sh
hg_init try
hg_guard_forwarding on
ns=hgt-$$-demo
hg_netns_add "$ns"
bridge=hgdemo$$
bridge=${bridge:0:15}
hg_defer ip link del "$bridge"

cat >"$HG_TMP/demo.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "demo", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "subnet": "10.254.99.0/24", "dataDir": "$HG_TMP/ipam"}},
  {"type": "host-gateway", "stateDir": "$HG_TMP/state"}]}
JSON
echo "== the conflist"
cat "$HG_TMP/demo.conflist"

# The "container": a process in the netns with its own mount namespace and /etc/hosts.
printf '127.0.0.1\tlocalhost\n' >"$HG_TMP/hosts"
hg_container_proc "$ns" "$HG_TMP/hosts"
pid=$HG_CONTAINER_PID

echo "== CNI ADD (bridge, then host-gateway) for /proc/$pid/ns/net"
hg_chain ADD "$HG_TMP/demo.conflist" demo1 "/proc/$pid/ns/net" eth0 >/dev/null
hg_defer hg_chain DEL "$HG_TMP/demo.conflist" demo1 "/proc/$pid/ns/net" eth0
echo "== the container's /etc/hosts"
nsenter -t "$pid" -m cat /etc/hosts

hg_listener - 10.254.99.1 8080 "hello from the host"
echo "== in the container: socat - TCP:host.docker.internal:8080"
answer=$(printf 'hi' | nsenter -t "$pid" -n -m timeout 3 socat -t2 - TCP:host.docker.internal:8080)
echo "$answer"
[ "$answer" = "hello from the host" ] || hg_fail "the container did not reach the host by name"
echo "== CHECK"
hg_chain CHECK "$HG_TMP/demo.conflist" demo1 "/proc/$pid/ns/net" eth0 && echo ok
echo "== DEL, then the container's /etc/hosts again"
hg_chain DEL "$HG_TMP/demo.conflist" demo1 "/proc/$pid/ns/net" eth0
nsenter -t "$pid" -m cat /etc/hosts
echo "== done: everything the demo created is being removed"
