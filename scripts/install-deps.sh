#!/bin/sh
# Installs everything host-gateway needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are skipped by apt.
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential meson ninja-build pkg-config
libjansson-dev libnl-3-dev libnl-route-3-dev libnftables-dev libcmocka-dev
nftables iptables iproute2 socat iperf3 jq busybox-static procps util-linux python3 hyperfine
containernetworking-plugins golang-go golang-github-appc-cni-dev
crun runc podman containerd umoci skopeo
python3-grpcio python3-protobuf protobuf-compiler python3-yaml
debhelper lintian dpkg-dev fakeroot"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
fi
