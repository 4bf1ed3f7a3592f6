#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Real fuzzing with libFuzzer (clang): builds every harness of tests/fuzz against the
# library with ASan+UBSan and runs each for SECONDS (default 60), growing its corpus
# (FUZZ_NAMES="corefile" runs only the harnesses named).
# Crashes, and inputs slower than FUZZ_TIMEOUT seconds (default 10: reported as a timeout),
# land in build-fuzz/; copy a reproducer into tests/fuzz/corpus/NAME/ to keep it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
timeout=${FUZZ_TIMEOUT:-10}
# libFuzzer's default max_len (4096, or the largest seed) would never try the inputs whose
# cost grows with their size. hosts: the largest /etc/hosts the plugin reads is
# HG_HOSTS_MAX_SIZE (1 MiB), plus a little to cross the limit. The JSON inputs: past the
# config's largest string (a 16 KiB annotation) and its longest lists. corefile: the
# Corefile's limit is HG_COREFILE_MAX_SIZE (1 MiB), but its shapes are small: 64 KiB lets
# libFuzzer try many of them (snippet import bombs grow with the count, not the size).
# nri: a trunk of several frames; the 4 MiB limits are crossed by the headers' lengths.
declare -A max_len=([hosts]=1100000 [config]=65536 [oci]=65536 [result]=65536 [corefile]=65536 [nri]=65536)
command -v clang >/dev/null || apt-get install -y -qq clang libclang-rt-14-dev
CC=clang meson setup --reconfigure build-fuzz -Db_sanitize=address,undefined -Dintegration=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null 2>&1 ||
	CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Dintegration=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
libs_hg="build-fuzz/libhg-plugin.a build-fuzz/libhg-hook.a build-fuzz/libhg-nri.a build-fuzz/libhg-ops.a build-fuzz/libhg-os.a build-fuzz/libhg-base.a"
ninja -C build-fuzz ${libs_hg//build-fuzz\//} >/dev/null
flags=$(pkg-config --cflags jansson libnftables libnl-route-3.0)
libs=$(pkg-config --static --libs jansson libnl-route-3.0 libprotobuf-c)
names=${FUZZ_NAMES:-hosts config oci result corefile nri}
for name in $names; do
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ibuild-fuzz -Ibuild-fuzz/layers/cli $flags \
		"tests/fuzz/fuzz-$name.c" $libs_hg $libs -ldl -lpthread -o "build-fuzz/libfuzzer-$name"
	mkdir -p "build-fuzz/corpus-$name"
	(cd build-fuzz && "./libfuzzer-$name" -max_total_time="$seconds" -max_len="${max_len[$name]}" \
		-timeout="$timeout" "corpus-$name" "../tests/fuzz/corpus/$name")
done
