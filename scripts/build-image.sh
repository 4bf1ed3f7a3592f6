#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the DaemonSet's image offline, from the built binary, as an OCI image layout
# (umoci; no registry, no Docker daemon):
#
#   scripts/build-image.sh [BINARY] [LAYOUT_DIR] [TAG]
#     BINARY      default build/host-gateway
#     LAYOUT_DIR  default build/image (an OCI layout: push it with
#                 `skopeo copy oci:build/image:TAG docker://REGISTRY/host-gateway:TAG`, or
#                 load it into kind with `kind load image-archive` after
#                 `skopeo copy oci:build/image:TAG docker-archive:hg.tar:host-gateway:TAG`)
#     TAG         default the binary's version
#
# The image holds the binary, the C library it needs and libnftables' library set (for
# nodes without it), nothing else: its one job is `host-gateway install --watch` into the
# node's CNI folders (conf/kubernetes). The same image from a registry build:
# conf/image/Containerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/host-gateway}
out=${2:-build/image}
[ -x "$bin" ] || { echo "build-image.sh: $bin is not an executable (build first: meson setup build && ninja -C build)" >&2; exit 1; }
tag=${3:-$("$bin" --version | awk 'NR == 1 { print $2 }')}
command -v umoci >/dev/null || { echo "build-image.sh: umoci is needed (apt-get install umoci)" >&2; exit 1; }

work=$(mktemp -d /tmp/hg-image.XXXX)
trap 'rm -rf "$work"' EXIT
[ -d "$out" ] || umoci init --layout "$out"
umoci new --image "$out:$tag"
umoci unpack --image "$out:$tag" "$work/bundle" >/dev/null
root=$work/bundle/rootfs

install -D -m 0755 "$bin" "$root/usr/local/bin/host-gateway"
# The shared objects the binary loads at start (jansson and libnl are linked in): the C
# library and its loader, copied with their paths.
for lib in $(ldd "$bin" | awk '/=>/ { print $3 } !/=>/ && $1 ~ /^\// { print $1 }'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# libnftables and its libraries, beside the binary: install copies them next to the
# node's copy, so that the nftables modes (virtualIPs) work on nodes without them.
lib=$root/usr/local/bin/host-gateway.lib
mkdir -p "$lib"
for l in libnftables.so.1 libmnl.so.0 libnftnl.so.11 libjansson.so.4 libgmp.so.10 libxtables.so.12; do
	src=$(ldconfig -p | awk -v l="$l" '$1 == l && !f { print $NF; f = 1 }')
	[ -n "$src" ] || { echo "build-image.sh: $l not found (apt-get install libnftables1)" >&2; exit 1; }
	cp -L "$src" "$lib/$l"
done
chmod 0755 "$lib"
install -D -m 0644 conf/kubernetes/plugin.json "$root/etc/host-gateway/plugin.json"

umoci repack --image "$out:$tag" "$work/bundle"
umoci config --image "$out:$tag" \
	--config.entrypoint /usr/local/bin/host-gateway \
	--config.cmd install --config.cmd --watch \
	--config.cmd --cni-conf-dir --config.cmd /host/etc/cni/net.d \
	--config.cmd --cni-bin-dir --config.cmd /host/opt/cni/bin \
	--config.cmd --plugin-config --config.cmd @/etc/host-gateway/plugin.json \
	--config.label "org.opencontainers.image.title=host-gateway" \
	--config.label "org.opencontainers.image.version=$tag" \
	--config.label "org.opencontainers.image.source=conf/image/Containerfile"
umoci gc --layout "$out"
echo "$out:$tag"
