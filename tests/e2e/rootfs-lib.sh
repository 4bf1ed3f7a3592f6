# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Minimal busybox-static container root filesystem, no registry needed.
#
#   e2e_make_rootfs DIR [HOSTS_LINE...]
#       DIR/bin/busybox (static) + a symlink per applet in DIR/bin (sh cat nc wget ping ip
#       nslookup sleep grep ...), DIR/etc/{hosts,passwd,group,nsswitch.conf,resolv.conf},
#       empty DIR/{tmp,proc,sys,dev,root,run,var/tmp}.
#       /etc/hosts = "127.0.0.1 localhost" + "::1 localhost" + each HOSTS_LINE (ctr uses
#       the image's file as is; podman writes its own unless --no-hosts).
#       resolv.conf names 127.0.0.1 only, so a stray DNS lookup never leaves the container.
#
# Name resolution inside the container (busybox has no getent; its nslookup speaks DNS
# only and ignores /etc/hosts). The static busybox resolves through /etc/hosts:
#   sh -c "$(e2e_resolve_snippet NAME)"      prints NAME's address, no packet leaves lo
#   sh -c "$(e2e_hosts_lookup_snippet NAME)" prints the /etc/hosts entry (no resolver)
#   echo x | nc -w2 NAME PORT                connects by name (test addresses only)
#   ping -c1 -W1 NAME                        sends ICMP: test addresses only

# shellcheck source=tests/e2e/e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

E2E_BUSYBOX=${E2E_BUSYBOX:-/bin/busybox}

e2e_make_rootfs() {
	local dir=$1 a
	shift
	if [ ! -x "$E2E_BUSYBOX" ]; then
		echo "e2e_make_rootfs: $E2E_BUSYBOX missing (busybox-static)" >&2
		return 1
	fi
	# A dynamically linked busybox would need its libraries in the rootfs.
	if command -v ldd >/dev/null && ldd "$E2E_BUSYBOX" 2>&1 | grep -q '=>'; then
		echo "e2e_make_rootfs: $E2E_BUSYBOX is not static (install busybox-static)" >&2
		return 1
	fi
	mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root,run,var/tmp} || return 1
	chmod 1777 "$dir/tmp" "$dir/var/tmp"
	cp "$E2E_BUSYBOX" "$dir/bin/busybox" || return 1
	# One symlink /bin/APPLET -> /bin/busybox per applet; chroot makes the targets right
	# for the container (~10 ms, against ~1 s for one ln per applet).
	if ! chroot "$dir" /bin/busybox --install -s /bin 2>/dev/null; then
		for a in $("$E2E_BUSYBOX" --list); do
			[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
		done
	fi
	# usr/bin and sbin point at bin so absolute paths like /usr/bin/env work.
	mkdir -p "$dir/usr"
	[ -e "$dir/usr/bin" ] || ln -s ../bin "$dir/usr/bin"
	[ -e "$dir/sbin" ] || ln -s bin "$dir/sbin"
	{
		echo "127.0.0.1	localhost"
		echo "::1	localhost ip6-localhost ip6-loopback"
		for a in "$@"; do echo "$a"; done
	} >"$dir/etc/hosts"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$dir/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$dir/etc/group"
	echo "hosts: files dns" >"$dir/etc/nsswitch.conf"
	echo "nameserver 127.0.0.1" >"$dir/etc/resolv.conf"
	echo "e2e" >"$dir/etc/hostname"
}

# e2e_resolve_snippet NAME: shell snippet (for the container's `sh -c`) printing the
# address NAME resolves to through the container's libc resolver (/etc/hosts first), or
# nothing when it does not resolve. It pings with SO_BINDTODEVICE=lo, so the only packet
# goes out on the container's own loopback (measured: 0 bytes on eth0). Takes ~1 s.
e2e_resolve_snippet() {
	printf '%s' "ping -c1 -W1 -I lo '$1' 2>/dev/null | sed -n '1s/^PING [^ ]* (\\([^)]*\\)).*/\\1/p'"
}

# e2e_hosts_lookup_snippet NAME: snippet printing the first /etc/hosts address for NAME
# (file lookup only, instant, no resolver involved).
e2e_hosts_lookup_snippet() {
	printf '%s' "awk -v n='$1' '\$0 !~ /^[ \\t]*#/ { for (i = 2; i <= NF; i++) if (\$i == n) { print \$1; exit } }' /etc/hosts"
}
