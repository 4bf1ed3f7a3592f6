#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds the container runtimes the e2e tests run against, from their released Go modules,
# into a cache outside the repository: /var/cache/host-gateway-test/NAME-VERSION/bin
# (HG_RUNTIME_CACHE overrides the root). Idempotent: a component whose folder is complete
# is not rebuilt, so a second run costs about a second. Nothing downloaded enters the tree.
#
# Usage: install-runtimes.sh [--print-env] [COMPONENT...]
#   COMPONENT: containerd cri-o crictl coredns cni-plugins kubernetes (default: all)
#   --print-env: after building, print shell assignments (HG_CONTAINERD_BIN=DIR ...) for
#                the tests to eval; the only thing written to stdout.
# The versions below are the single place they are pinned; docs/testing.md's runtime table names them.
set -euo pipefail

CONTAINERD_VERSION=v2.4.2  # github.com/containerd/containerd/v2: the newest 2.x the proxy serves
CRIO_VERSION=v1.36.2       # github.com/cri-o/cri-o
CRICTL_VERSION=v1.37.0     # sigs.k8s.io/cri-tools
COREDNS_VERSION=v1.15.0    # github.com/coredns/coredns
CNI_PLUGINS_VERSION=v1.10.0 # github.com/containernetworking/plugins: the first reference
                           # plugins that speak cniVersion 1.1.0 (STATUS, GC); Debian's are 1.1.1
KUBERNETES_VERSION=v1.37.2 # k8s.io/kubernetes: kubelet, kube-apiserver, kube-controller-manager,
                           # kube-scheduler, kube-proxy, kubectl; etcd is the go.etcd.io/etcd/server/v3
                           # that this release's go.mod requires (v3.7.0)

CACHE=${HG_RUNTIME_CACHE:-/var/cache/host-gateway-test}
GO=${HG_GO:-/usr/local/go/bin/go}

print_env=0
components=()
for a in "$@"; do
	case $a in
	--print-env) print_env=1 ;;
	containerd | cri-o | crictl | coredns | cni-plugins | kubernetes) components+=("$a") ;;
	*) echo "install-runtimes: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
[ ${#components[@]} -gt 0 ] || components=(containerd cri-o crictl coredns cni-plugins kubernetes)

log() { echo "install-runtimes: $*" >&2; }

# The Go environment is ours alone: the module and build caches live in the cache folder,
# the machine's Go is used as it is (GOTOOLCHAIN=local: no toolchain download behind our back).
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOPATH=$CACHE/go/path
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}

need_go() {
	[ -x "$GO" ] || { log "Go not found at $GO (set HG_GO)"; exit 1; }
}

# Debian packages a component needs to build or run (cgo headers, conmon).
need_pkgs() {
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "apt-get install$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
}

# go_install DEST TAGS MODULE/PKG... @VERSION: builds each package of one module version
# into DEST (go install takes a module without replace directives as it is).
go_install() {
	local dest=$1 tags=$2 version=$3
	shift 3
	local pkgs=()
	local p
	for p in "$@"; do pkgs+=("$p@$version"); done
	GOBIN=$dest "$GO" install -trimpath ${tags:+-tags "$tags"} "${pkgs[@]}" >&2
}

# complete DIR: a component folder counts only once its build finished (a killed build
# leaves no marker and is redone from scratch; the go it started keeps the lock, fd 9,
# until it ends, so the next build cannot start beside it).
complete() { [ -f "$1/.complete" ]; }

build_containerd() {
	local dir=$CACHE/containerd-$CONTAINERD_VERSION
	complete "$dir" && return 0
	need_go
	need_pkgs runc
	log "building containerd $CONTAINERD_VERSION (a few minutes the first time)"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	# no_btrfs: the btrfs snapshotter needs btrfs headers and is never used here.
	go_install "$dir/bin" no_btrfs "$CONTAINERD_VERSION" \
		github.com/containerd/containerd/v2/cmd/containerd \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
		github.com/containerd/containerd/v2/cmd/ctr
	touch "$dir/.complete"
}

build_crio() {
	local dir=$CACHE/cri-o-$CRIO_VERSION
	complete "$dir" && return 0
	need_go
	need_pkgs libseccomp-dev libc6-dev conmon runc make gcc
	log "building CRI-O $CRIO_VERSION and pinns (a few minutes the first time)"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	# Built in a scratch copy of the module (the module cache is read-only), not with
	# `go install MODULE@VERSION`: the proxy answers 403 for github.com/cri-o/cri-o/@v/list,
	# which go install reads to check for a deprecation (a fatal error), and 403 for
	# k8s.io/cri-client v0.36.0-rc.0, which v1.36.2's go.mod requires ("This module version
	# is not available"). The copy replaces that one version by its release v0.36.0 (MVS
	# then also takes the other k8s.io/* modules from v0.36.0-rc.0 to v0.36.0); -mod=mod
	# records their sums, checked against the checksum database, in the copy's go.sum. A
	# replace of a version the graph does not hold is ignored, so a newer pin is unaffected.
	local src work
	src=$("$GO" mod download -json "github.com/cri-o/cri-o@$CRIO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	{ [ -f "$src/go.mod" ] && [ -d "$src/pinns" ]; } || { log "CRI-O sources not found in $src"; exit 1; }
	# The scratch copy lives in the cache, under the lock: a build killed half-way (no trap
	# runs on SIGKILL) leaves it there and the next build starts by removing it, instead of
	# leaving a copy of the module in /tmp at every kill.
	work=$CACHE/work-cri-o
	rm -rf "$work"
	mkdir -p "$work"
	cp -r "$src" "$work/cri-o"
	chmod -R u+w "$work"
	# The tags of CRI-O's own Makefile that avoid C libraries this build does not need
	# (gpgme, btrfs, devicemapper); seccomp stays on, as in a packaged CRI-O. pinns is C
	# inside the same module (its Makefile links it statically into cri-o/bin).
	if ! (cd "$work/cri-o" &&
		"$GO" mod edit -replace=k8s.io/cri-client@v0.36.0-rc.0=k8s.io/cri-client@v0.36.0 &&
		GOBIN=$dir/bin "$GO" install -mod=mod -trimpath \
			-tags "containers_image_openpgp seccomp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_ostree_stub" \
			./cmd/crio &&
		make -C pinns &&
		install -m 0755 bin/pinns "$dir/bin/pinns") >&2; then
		rm -rf "$work"
		log "building CRI-O $CRIO_VERSION failed"
		exit 1
	fi
	rm -rf "$work"
	touch "$dir/.complete"
}

build_crictl() {
	local dir=$CACHE/crictl-$CRICTL_VERSION
	complete "$dir" && return 0
	need_go
	log "building crictl $CRICTL_VERSION"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	go_install "$dir/bin" "" "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
	touch "$dir/.complete"
}

build_coredns() {
	local dir=$CACHE/coredns-$COREDNS_VERSION
	complete "$dir" && return 0
	need_go
	log "building CoreDNS $COREDNS_VERSION"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	go_install "$dir/bin" "" "$COREDNS_VERSION" github.com/coredns/coredns
	touch "$dir/.complete"
}

build_cni_plugins() {
	local dir=$CACHE/cni-plugins-$CNI_PLUGINS_VERSION
	complete "$dir" && return 0
	need_go
	log "building the reference CNI plugins $CNI_PLUGINS_VERSION"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	local m=github.com/containernetworking/plugins/plugins
	go_install "$dir/bin" "" "$CNI_PLUGINS_VERSION" \
		$m/main/ptp $m/main/bridge $m/main/loopback $m/ipam/host-local $m/meta/portmap
	touch "$dir/.complete"
}

# Kubernetes cannot be `go install`ed by module path: k8s.io/kubernetes's go.mod replaces
# each staging module (k8s.io/api, k8s.io/kubelet, ...) by a folder of its own tree, and go
# install refuses a module with replace directives. The usual way round, written here: a
# small build module of our own (in the cache, never in the repository) that requires
# k8s.io/kubernetes at the release and replaces each staging module by its published
# version of the same release (v1.37.2 -> v0.37.2), read from the release's own go.mod so
# that a newer pin brings its own list. etcd comes from the same graph: a three-line main
# of ours calls etcdmain.Main of the go.etcd.io/etcd/server/v3 the release requires (the
# etcd binary's own module, go.etcd.io/etcd/v3, has replace directives too). The version
# variables of component-base are set as Kubernetes' own build sets them, so that every
# component reports v1.37.2 (kubelet registers its node with it).
build_kubernetes() {
	local dir=$CACHE/kubernetes-$KUBERNETES_VERSION
	complete "$dir" && return 0
	need_go
	log "building Kubernetes $KUBERNETES_VERSION and etcd (about 20 minutes on 2 cores the first time)"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	local gomod work minor=${KUBERNETES_VERSION#v1.} staging
	minor=${minor%%.*}
	gomod=$("$GO" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[ -f "$gomod" ] || { log "k8s.io/kubernetes $KUBERNETES_VERSION: no go.mod from the module proxy"; exit 1; }
	staging=$(sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*|\1|p' "$gomod")
	[ -n "$staging" ] || { log "k8s.io/kubernetes $KUBERNETES_VERSION: no staging replace directives in its go.mod"; exit 1; }
	work=$CACHE/work-kubernetes
	rm -rf "$work"
	mkdir -p "$work/etcd"
	{
		echo "module hgtest/kubernetes"
		echo
		sed -n 's/^go \(.*\)$/go \1/p; s/^godebug \(.*\)$/godebug \1/p' "$gomod"
		echo
		echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
		echo
		for m in $staging; do echo "replace $m => $m v0.$minor.${KUBERNETES_VERSION##*.}"; done
	} >"$work/go.mod"
	cat >"$work/tools.go" <<-'EOF'
		//go:build tools

		// The Kubernetes commands this module builds, so that go mod tidy keeps their graph.
		package tools

		import (
			_ "k8s.io/kubernetes/cmd/kube-apiserver"
			_ "k8s.io/kubernetes/cmd/kube-controller-manager"
			_ "k8s.io/kubernetes/cmd/kube-proxy"
			_ "k8s.io/kubernetes/cmd/kube-scheduler"
			_ "k8s.io/kubernetes/cmd/kubectl"
			_ "k8s.io/kubernetes/cmd/kubelet"
		)
	EOF
	cat >"$work/etcd/main.go" <<-'EOF'
		// etcd's own main, calling the server the Kubernetes release requires.
		package main

		import (
			"os"

			"go.etcd.io/etcd/server/v3/etcdmain"
		)

		func main() { etcdmain.Main(os.Args) }
	EOF
	local v=k8s.io/component-base/version ldflags
	ldflags="-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
	ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
	if ! (cd "$work" && "$GO" mod tidy &&
		GOBIN=$dir/bin "$GO" install -trimpath -ldflags "$ldflags" \
			k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
			k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl ./etcd) >&2; then
		log "building Kubernetes $KUBERNETES_VERSION failed"
		exit 1
	fi
	"$dir/bin/kubelet" --version >&2
	touch "$dir/.complete"
}

# cache_name COMPONENT: its folder under CACHE.
cache_name() {
	case $1 in
	containerd) echo "containerd-$CONTAINERD_VERSION" ;;
	cri-o) echo "cri-o-$CRIO_VERSION" ;;
	crictl) echo "crictl-$CRICTL_VERSION" ;;
	coredns) echo "coredns-$COREDNS_VERSION" ;;
	cni-plugins) echo "cni-plugins-$CNI_PLUGINS_VERSION" ;;
	kubernetes) echo "kubernetes-$KUBERNETES_VERSION" ;;
	esac
}

# main: the whole run is parsed before it starts (bash reads a script as it runs: an edit
# or a new checkout of this file under a running build must not change what it does).
main() {
	mkdir -p "$CACHE"
	# One builder at a time: two test scripts starting together must not build into the same
	# folder at once.
	# A component already complete needs no lock: a test asking for CoreDNS does not
	# wait for another's containerd build.
	local c todo=0
	for c in "${components[@]}"; do
		complete "$CACHE/$(cache_name "$c")" || todo=1
	done
	if [ "$todo" = 1 ]; then
		exec 9>"$CACHE/.lock"
		flock 9
	fi

	for c in "${components[@]}"; do
		case $c in
		containerd) build_containerd ;;
		cri-o) build_crio ;;
		crictl) build_crictl ;;
		coredns) build_coredns ;;
		cni-plugins) build_cni_plugins ;;
		kubernetes) build_kubernetes ;;
		esac
	done

	if [ "$print_env" = 1 ]; then
		for c in "${components[@]}"; do
			case $c in
			containerd) echo "HG_CONTAINERD_BIN=$CACHE/containerd-$CONTAINERD_VERSION/bin HG_CONTAINERD_VERSION=$CONTAINERD_VERSION" ;;
			cri-o) echo "HG_CRIO_BIN=$CACHE/cri-o-$CRIO_VERSION/bin HG_CRIO_VERSION=$CRIO_VERSION" ;;
			crictl) echo "HG_CRICTL_BIN=$CACHE/crictl-$CRICTL_VERSION/bin HG_CRICTL_VERSION=$CRICTL_VERSION" ;;
			coredns) echo "HG_COREDNS_BIN=$CACHE/coredns-$COREDNS_VERSION/bin HG_COREDNS_VERSION=$COREDNS_VERSION" ;;
			cni-plugins) echo "HG_CNI_PLUGINS_BIN=$CACHE/cni-plugins-$CNI_PLUGINS_VERSION/bin HG_CNI_PLUGINS_VERSION=$CNI_PLUGINS_VERSION" ;;
			kubernetes) echo "HG_KUBE_BIN=$CACHE/kubernetes-$KUBERNETES_VERSION/bin HG_KUBE_VERSION=$KUBERNETES_VERSION" ;;
			esac
		done
	fi
}
main "$@"; exit $?
