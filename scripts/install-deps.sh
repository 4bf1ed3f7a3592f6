#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs everything host-gateway needs to build, test and benchmark on Debian 12.
# Idempotent: packages already present are skipped by apt.
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential meson ninja-build pkg-config
libjansson-dev libnl-3-dev libnl-route-3-dev libnftables-dev libcmocka-dev
libprotobuf-c-dev protobuf-c-compiler
nftables iptables iproute2 socat iperf3 jq busybox-static procps util-linux python3 hyperfine
containernetworking-plugins golang-go golang-github-appc-cni-dev
crun runc podman containerd umoci skopeo
python3-grpcio python3-protobuf protobuf-compiler python3-yaml
nginx-light bind9-dnsutils
debhelper lintian dpkg-dev fakeroot"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# nginx-light (e2e-coredns runs its own instances with its own configuration) would start a
# system nginx on port 80 and enable it at boot. A policy-rc.d answering 101 refuses every
# service start during the install; it is ours only for the install and goes at exit, even
# when apt fails. A policy-rc.d the machine already has (Docker images carry one) is left
# as it is. Ours names its run's pid: one that a run killed by SIGKILL left (no trap runs
# then) would refuse every service start on the machine for good, so a later run takes it
# away, whatever it has to install (a file of the first version, without the pid, too).
policy=/usr/sbin/policy-rc.d
mark="# scripts/install-deps.sh: no service starts during its install"
if [ -f "$policy" ]; then
	owner=$(awk -v m="$mark" '$0 == m { print "none"; exit } index($0, m ", pid ") == 1 { print substr($0, length(m) + 7); exit }' "$policy")
	if [ "$owner" = none ] || { [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; }; then
		echo "install-deps: removing $policy left by a killed run" >&2
		rm -f "$policy"
	fi
fi
if [ -n "$missing" ]; then
	apt-get update -qq
	if [ ! -e "$policy" ]; then
		# Removed at exit only while it is still this run's.
		trap 'grep -qxF "$mark, pid $$" "$policy" 2>/dev/null && rm -f "$policy"' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		trap 'exit 129' HUP
		printf '#!/bin/sh\n%s, pid %s\nexit 101\n' "$mark" "$$" >"$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing
	# Nor at boot, when this run installed it (an nginx the machine had stays as it was).
	case " $missing " in
	*" nginx-light "*)
		update-rc.d nginx disable >/dev/null 2>&1 || :
		deb-systemd-helper disable nginx.service >/dev/null 2>&1 || :
		;;
	esac
fi
