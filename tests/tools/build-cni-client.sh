#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build tests/tools/cni-client offline against Debian's libcni sources
# (golang-github-appc-cni-dev under /usr/share/gocode). GOPATH mode because
# Debian ships sources, not a module cache, and there is no network.
# Usage: build-cni-client.sh OUT
set -euo pipefail

out=${1:?usage: build-cni-client.sh OUT}
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/cni-client" && pwd)
case $out in /*) ;; *) out=$PWD/$out ;; esac

# Debian's Go (golang-go, 1.19), whatever else is first on PATH: it matches Debian's libcni
# sources and still has GOPATH mode. /usr/local/go (the test runtimes' toolchain) is not
# used here, so the client is the same on machines with and without it.
GO=${HG_DEBIAN_GO:-/usr/lib/go/bin/go}
if [ ! -x "$GO" ]; then
	echo "build-cni-client: $GO not found (apt-get install golang-go)" >&2
	exit 77
fi
if [ ! -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ]; then
	echo "build-cni-client: libcni sources missing (apt-get install golang-github-appc-cni-dev)" >&2
	exit 77
fi

# GOPATH mode refuses to build a main package outside a GOPATH: put the
# source in a private GOPATH and list Debian's tree after it for the imports.
work=$(mktemp -d /tmp/hg-cni-client.XXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gopath/src/hg/cni-client"
cp "$src_dir/main.go" "$work/gopath/src/hg/cni-client/"

cd "$work/gopath/src/hg/cni-client"
GO111MODULE=off GOFLAGS='' GOTOOLCHAIN=local GOPATH="$work/gopath:/usr/share/gocode" \
	GOCACHE="${GOCACHE:-/tmp/hg-go-cache}" CGO_ENABLED=0 GOROOT= \
	"$GO" build -o "$out" .
