#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it on a fresh Debian 12 machine as root: installs what
# the tests need (Debian's packages, then the runtimes built from their releases), builds
# with -Werror, runs the unit tests once under ASan+UBSan, then
# every suite (unit, integration, e2e) against the normal build. Ends with meson's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (the tests create network namespaces)" >&2; exit 1; }

scripts/install-deps.sh
# The runtimes of today (containerd 2.x, CRI-O, crictl, CoreDNS, the 1.1.0 reference
# plugins, Kubernetes and etcd), built from their releases into a cache outside the tree: minutes on a fresh
# machine, about a second once cached. Built here, not inside a test's timeout.
scripts/install-runtimes.sh

setup() { # setup DIR OPTIONS...
	local dir=$1
	shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null
	else
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	fi
}

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined -Dintegration=false
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs

echo "== every suite"
setup build
meson test -C build --print-errorlogs "$@"
