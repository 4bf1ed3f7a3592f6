# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The start shared by the benchmarks (tests/bench/run.sh, datapath.sh), sourced after
# common.sh.
#
#   hg_bench_build                 from the source root: build build/host-gateway unless
#                                  HG_BIN names a binary or BENCH_NO_BUILD is set
#   hg_bench_require_plugins P...  skip unless the reference CNI plugins /usr/lib/cni/P exist

hg_bench_build() {
	[ -z "${HG_BIN:-}" ] && [ -z "${BENCH_NO_BUILD:-}" ] || return 0
	{
		[ -d build ] || meson setup build
		ninja -C build
	} >&2 || {
		echo "bench: build failed" >&2
		exit 1
	}
}

hg_bench_require_plugins() {
	local p
	for p; do
		[ -x "/usr/lib/cni/$p" ] || hg_skip "reference CNI plugin /usr/lib/cni/$p not installed"
	done
}
