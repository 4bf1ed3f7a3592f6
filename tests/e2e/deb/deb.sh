#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package (issue 10), on this machine for real:
#  1. scripts/build-deb.sh builds host-gateway_VERSION_ARCH.deb offline; lintian reports no
#     error (the script fails otherwise);
#  2. `apt-get install ./…deb` (its dependencies, libc6 and libnftables1, are installed:
#     nothing is downloaded); the files: the binary in /usr/lib/cni, the /usr/sbin link,
#     the /opt/cni/bin link postinst makes (only where nothing was), the conffile
#     /etc/host-gateway/config.json, the hooks.d files in /usr/share/containers/oci/hooks.d
#     naming /usr/lib/cni/host-gateway and gated by the opt-in annotation, the containerd
#     base spec naming it too, host-gateway(8) without a groff or man warning;
#  3. podman (private, as in the other e2e tests) reads the installed hooks.d (hooks_dir =
#     /usr/share/containers/oci/hooks.d, the first of podman's default dirs) on a bridge
#     network whose conflist chains the installed plugin, found in /usr/lib/cni, with its
#     defaults (stateDir /run/host-gateway, as the installed hook config): a container
#     without the annotation gets no names; one with host-gateway.io/enabled=true gets
#     them from the installed hook in its hosts file, resolves host.docker.internal and
#     reaches a host listener by name;
#  4. `apt-get purge host-gateway` leaves nothing of ours: binary, links, /etc/host-gateway,
#     hooks.d files, /usr/share/host-gateway, the man page, /var/lib/host-gateway,
#     /run/host-gateway; /opt/cni is as it was before.
# The package is purged at exit even when the test fails. Skips when a package
# host-gateway is already on the machine: never purge a package this test did not install.
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
# shellcheck source=../../lib/common.sh
. "$HG_SOURCE_ROOT/tests/lib/common.sh"
# shellcheck source=../podman-lib.sh
. "$HG_SOURCE_ROOT/tests/e2e/podman-lib.sh"
hg_init deb

PKG=host-gateway
BIN=/usr/lib/cni/host-gateway
HOOKS_D=/usr/share/containers/oci/hooks.d
OPT_LINK=/opt/cni/bin/host-gateway
PORT=18477
NET_PREFIX=10.219.7

_deb_status() { dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || :; }

st=$(_deb_status)
case $st in "" | not-installed) ;; *) hg_skip "a package $PKG is already on this machine ($st): not ours to install over or purge" ;; esac
hg_require_cmd dpkg-buildpackage dh lintian meson apt-get dpkg-query jq groff man socat
for p in libnftables1 libc6; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
		hg_skip "$p not installed: the offline install needs it"
done
if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then hg_skip "reference CNI plugins not installed"; fi
[ -x "$E2E_BUSYBOX" ] || hg_skip "busybox-static not installed"
if [ -d /run/host-gateway ] && [ -n "$(find /run/host-gateway/cni /run/host-gateway/hook -name '*.json' 2>/dev/null)" ]; then
	hg_skip "/run/host-gateway holds attachment records: a host-gateway is in use on this machine"
fi

# What the package must leave as it was.
_deb_exists() { if [ -e "$1" ] || [ -L "$1" ]; then echo yes; else echo no; fi; }
declare -A before=()
for f in /opt/cni /opt/cni/bin "$OPT_LINK" "$HOOKS_D" /usr/share/containers/oci /var/lib/host-gateway; do
	before[$f]=$(_deb_exists "$f")
done
[ "${before[$OPT_LINK]}" = no ] || hg_log "$OPT_LINK exists already: postinst must leave it alone"
opt_fp=$(ls -ld --time-style=+%s "$OPT_LINK" 2>/dev/null || :)
etc_fp=$(sha256sum /etc/hosts)
# The state folder may hold what an earlier use of host-gateway left (a registry of a hosts
# file, by-netns links): postrm keeps the folder then. Asserted below: what the package's own
# containers made is gone, and what was there before is still there.
_deb_state_in_use() { { find /run/host-gateway -mindepth 2 \( -name '*.json' -o -type l \) 2>/dev/null || :; } | sort; }
state_before=$(_deb_state_in_use)

# 1. Build (offline, lintian).
t0=$(e2e_now_ms)
deb=$("$HG_SOURCE_ROOT/scripts/build-deb.sh" "$HG_TMP/deb" 2>"$HG_TMP/build-deb.log") || {
	cat "$HG_TMP/build-deb.log" >&2
	hg_fail "scripts/build-deb.sh failed"
}
version=$(meson introspect --projectinfo "$HG_SOURCE_ROOT/meson.build" | jq -r .version)
hg_assert_eq "$deb" "$HG_TMP/deb/${PKG}_${version}_$(dpkg --print-architecture).deb" "the .deb's path"
[ -f "$deb" ] || hg_fail "no $deb"
grep -E '^(E|W): |lintian' "$HG_TMP/build-deb.log" >&2 || :
grep -q '^E: ' "$HG_TMP/build-deb.log" && hg_fail "lintian errors"
hg_log "1. built $(basename "$deb") in $(($(e2e_now_ms) - t0)) ms; lintian: no errors"

# 2. Install. The purge is registered first: a half-done install is purged too (the
# package was not on the machine before, so whatever state it is in now is ours).
_deb_purge() {
	case $(_deb_status) in "" | not-installed) return 0 ;; esac
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 purge -y -qq "$PKG" ||
		dpkg --purge --force-all "$PKG"
}
hg_defer _deb_purge
t0=$(e2e_now_ms)
# Offline: apt's plan installs this package and nothing else (nothing to fetch).
# (--no-download is refused with a local .deb by apt 2.6.)
plan=$(apt-get -s -o DPkg::Lock::Timeout=120 install --no-install-recommends "$deb" 2>&1) ||
	hg_fail "apt-get -s install failed: $plan"
hg_assert_eq "$(printf '%s\n' "$plan" | awk '$1 == "Inst" { print $2 }' | paste -sd' ')" "$PKG" \
	"apt would install only the package (output: $plan)"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends \
	"$deb" >"$HG_TMP/apt-install.log" 2>&1 || {
	cat "$HG_TMP/apt-install.log" >&2
	hg_fail "apt-get install $deb failed"
}
hg_assert_eq "$(_deb_status)" installed "dpkg status after apt-get install"
hg_log "2. installed in $(($(e2e_now_ms) - t0)) ms"

if [ ! -f "$BIN" ] || [ -L "$BIN" ] || [ ! -x "$BIN" ]; then hg_fail "$BIN is not an executable file"; fi
hg_assert_eq "$("$BIN" --version | head -n1)" "host-gateway $version" "$BIN --version"
hg_assert_eq "$(readlink -f /usr/sbin/host-gateway)" "$BIN" "/usr/sbin/host-gateway"
hg_assert_eq "$(dpkg-query -W -f='${Depends}' "$PKG" | tr -d ' ' | tr ',' '\n' | sed 's/(.*//' | sort | paste -sd' ')" \
	"libc6 libnftables1" "the package's dependencies"
dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q '^ /etc/host-gateway/config.json ' ||
	hg_fail "/etc/host-gateway/config.json is not a conffile: $(dpkg-query -W -f='${Conffiles}' "$PKG")"
cmp -s /etc/host-gateway/config.json "$HG_SOURCE_ROOT/conf/config.json" || hg_fail "/etc/host-gateway/config.json differs from conf/config.json"
for stage in createruntime poststop; do
	f=$HOOKS_D/host-gateway-$stage.json
	[ -f "$f" ] || hg_fail "no $f"
	hg_assert_eq "$(jq -r .hook.path "$f")" "$BIN" "$f: hook.path"
	hg_assert_eq "$(jq -c .when "$f")" '{"annotations":{"^host-gateway\\.io/enabled$":"^true$"}}' "$f: opt-in"
	hg_assert_eq "$(jq -r .hook.path "/usr/share/host-gateway/hooks.d/host-gateway-$stage.json")" "$BIN" \
		"the always variant names $BIN"
done
hg_assert_eq "$(jq -r '[.hooks[][].path] | unique | join(" ")' /usr/share/host-gateway/containerd/base-spec-host-gateway.json)" \
	"$BIN" "the containerd base spec's hook paths"
hg_assert_eq "$(jq -r '[.hooks[][].path] | unique | join(" ")' /usr/share/host-gateway/oci/config-hooks.json)" \
	"$BIN" "config-hooks.json's hook paths"
if [ "${before[$OPT_LINK]}" = no ]; then
	[ -L "$OPT_LINK" ] || hg_fail "postinst made no link $OPT_LINK"
	hg_assert_eq "$(readlink "$OPT_LINK")" "$BIN" "$OPT_LINK"
	dpkg -S "$OPT_LINK" >/dev/null 2>&1 && hg_fail "$OPT_LINK is a file of the package (lintian forbids /opt)"
else
	hg_assert_eq "$(ls -ld --time-style=+%s "$OPT_LINK" 2>/dev/null || :)" "$opt_fp" "$OPT_LINK left alone"
fi
man=/usr/share/man/man8/host-gateway.8.gz
[ -f "$man" ] || hg_fail "no $man"
w=$(zcat "$man" | groff -man -Tutf8 -ww -z 2>&1) || hg_fail "groff failed on $man: $w"
[ -z "$w" ] || hg_fail "groff warnings on $man: $w"
w=$(man --warnings -l "$man" 2>&1 >/dev/null) || hg_fail "man -l $man failed: $w"
[ -z "$w" ] || hg_fail "man warnings on $man: $w"
hg_log "2. files: ok (binary, links, conffile, opt-in hooks.d and base spec naming $BIN, man page without warnings)"

# 3. podman with the installed hooks.d and the installed plugin.
hg_guard_forwarding on
hg_subnet_free "$NET_PREFIX.0/24"
br=hgt$$deb
ip link add "$br" type bridge
hg_defer e2e_del_link "$br"
ip addr add "$NET_PREFIX.1/24" dev "$br"
ip link set "$br" up
jq -n --arg br "$br" --arg sub "$NET_PREFIX.0/24" '
	{cniVersion: "1.0.0", name: "hgt-deb", plugins: [
		{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
		 ipam: {type: "host-local", ranges: [[{subnet: $sub}]], routes: [{dst: "0.0.0.0/0"}]}},
		{type: "host-gateway"}]}' >"$HG_TMP/deb.conflist"
hg_listener - "$NET_PREFIX.1" "$PORT" "deb %PEER%"
e2e_podman_setup "$HG_TMP/podman" "$HG_TMP/deb.conflist" /usr/lib/cni "$HOOKS_D" crun

out=$(e2e_podman_run deb-off hgt-deb -- cat /etc/hosts) || hg_fail "podman run without the annotation failed: $out"
case $out in *"$HG_BEGIN"*) hg_fail "names without the opt-in annotation: $out" ;; esac
hg_log "3. no annotation: no names (the hook did not run)"

probe="cat /etc/hosts; echo \"resolved=\$($(e2e_resolve_snippet host.docker.internal))\";
	for i in 1 2 3; do a=\$(echo ping | nc -w 3 host.docker.internal $PORT) && [ -n \"\$a\" ] && break; sleep 0.2; done
	echo \"answer=\$a\""
rc=0
out=$(e2e_podman_run deb-on hgt-deb --cap-add NET_RAW --annotation host-gateway.io/enabled=true -- sh -c "$probe") || rc=$?
printf '%s\n' "$out" >"$HG_TMP/on.out"
hg_assert_eq "$rc" 0 "podman run with the annotation (output: $out)"
sed '/^resolved=/,$d' "$HG_TMP/on.out" >"$HG_TMP/on.hosts"
hg_assert_eq "$(hg_nblocks "$HG_TMP/on.hosts")" 1 "one block in the container's /etc/hosts ($(cat "$HG_TMP/on.hosts"))"
# podman writes host.containers.internal itself: its line wins, the block leaves it out.
names=$HG_DEFAULT_NAMES
if hg_strip "$HG_TMP/on.hosts" | grep -qw host.containers.internal; then
	names="host.docker.internal gateway.docker.internal"
fi
hg_assert_eq "$(hg_block "$HG_TMP/on.hosts")" "$NET_PREFIX.1"$'\t'"$names" "the block the installed hook wrote"
hg_assert_contains "$out" "resolved=$NET_PREFIX.1"$'\n' "host.docker.internal resolves to the bridge's gateway"
hg_assert_contains "$out" "answer=deb $NET_PREFIX." "the host listener answers by name"
_deb_no_records() { [ -z "$(find /run/host-gateway/cni /run/host-gateway/hook -name '*.json' 2>/dev/null)" ]; }
e2e_wait_for 10 _deb_no_records ||
	hg_fail "records left in /run/host-gateway after the containers: $(find /run/host-gateway -name '*.json')"
hg_log "3. host-gateway.io/enabled=true: names written by the installed hook, resolved, host reached by name"
e2e_podman_teardown || hg_fail "podman teardown left cgroups or mounts"

# 4. Purge.
t0=$(e2e_now_ms)
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 purge -y -qq "$PKG" >"$HG_TMP/apt-purge.log" 2>&1 || {
	cat "$HG_TMP/apt-purge.log" >&2
	hg_fail "apt-get purge failed"
}
case $(_deb_status) in "" | not-installed) ;; *) hg_fail "dpkg status after purge: $(_deb_status)" ;; esac
for f in "$BIN" /usr/sbin/host-gateway /etc/host-gateway "$HOOKS_D/host-gateway-createruntime.json" \
	"$HOOKS_D/host-gateway-poststop.json" /usr/share/host-gateway "$man" /usr/share/doc/host-gateway \
	/var/lib/host-gateway; do
	[ "$(_deb_exists "$f")" = no ] || hg_fail "left after purge: $f"
done
if [ -z "$state_before" ]; then
	[ "$(_deb_exists /run/host-gateway)" = no ] || hg_fail "left after purge: /run/host-gateway"
else
	hg_assert_eq "$(_deb_state_in_use)" "$state_before" \
		"after purge, /run/host-gateway holds what it held before the package (and nothing of its containers)"
fi
for f in "${!before[@]}"; do
	hg_assert_eq "$(_deb_exists "$f")" "${before[$f]}" "after purge, $f exists as before"
done
[ "${before[$OPT_LINK]}" = no ] ||
	hg_assert_eq "$(ls -ld --time-style=+%s "$OPT_LINK" 2>/dev/null || :)" "$opt_fp" "$OPT_LINK left alone"
hg_assert_eq "$(sha256sum /etc/hosts)" "$etc_fp" "the machine's /etc/hosts is untouched"
hg_log "4. purged in $(($(e2e_now_ms) - t0)) ms: nothing of the package is left"
hg_log PASS
