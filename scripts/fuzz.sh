#!/bin/bash
# Real fuzzing with libFuzzer (clang): builds every harness of tests/fuzz against the
# library with ASan+UBSan and runs each for SECONDS (default 60), growing its corpus.
# Crashes land in build-fuzz/; copy a reproducer into tests/fuzz/corpus/NAME/ to keep it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v clang >/dev/null || apt-get install -y -qq clang libclang-rt-14-dev
CC=clang meson setup --reconfigure build-fuzz -Dsanitize=true -Dintegration=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null 2>&1 ||
	CC=clang meson setup build-fuzz -Dsanitize=true -Dintegration=false -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
ninja -C build-fuzz libhg.a >/dev/null
flags=$(pkg-config --cflags jansson libnftables libnl-route-3.0)
libs=$(pkg-config --static --libs jansson libnl-route-3.0)
for name in hosts config oci result; do
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ibuild-fuzz -Ilib -Iplugin -Ihook $flags \
		"tests/fuzz/fuzz-$name.c" build-fuzz/libhg.a $libs -ldl -lpthread -o "build-fuzz/libfuzzer-$name"
	mkdir -p "build-fuzz/corpus-$name"
	(cd build-fuzz && "./libfuzzer-$name" -max_total_time="$seconds" "corpus-$name" "../tests/fuzz/corpus/$name")
done
