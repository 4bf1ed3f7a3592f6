#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the NRI plugin adds to a pod's start and a container's creation (not a test: it prints
# figures and asserts none; not run by meson). As root, after a build:
#
#   tests/bench/nri-bench.sh
#   BENCH_ROUNDS=10 BENCH_PODS=5 tests/bench/nri-bench.sh
#
# One private containerd 2.x (scripts/install-runtimes.sh; NRI at its default, kindnet's
# conflist without host-gateway), driven by crictl as the e2e tests drive it. In each of
# BENCH_ROUNDS rounds (default 6), BENCH_PODS pods (default 5) are started with the plugin
# connected and BENCH_PODS without it, the order swapped every round so that both share the
# machine's drift; per pod: `crictl runp` and `crictl create` of a container with kubelet's
# etc-hosts mount, each timed from the outside (crictl's own start-up included, the same in
# both columns), then removed untimed. Printed: the medians with and without, and their
# difference (targets: <= 2 ms per pod, <= 1 ms per container); crictl's own spread (tens
# of ms) hides a difference of that size in a short run, so the plugin's own time per
# event (from its log: RunPodSandbox's attachment, CreateContainer's names) is printed too.
set -u
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
HG_BUILD_ROOT=${HG_BUILD_ROOT:-$HG_SOURCE_ROOT/build}
HG_BIN=${HG_BIN:-$HG_BUILD_ROOT/host-gateway}
export HG_SOURCE_ROOT HG_BUILD_ROOT HG_BIN
# shellcheck source=tests/e2e/cni/e2e-cni-lib.sh
. "$HG_SOURCE_ROOT/tests/e2e/cni/e2e-cni-lib.sh"
# shellcheck source=tests/e2e/cri/cri-lib.sh
. "$HG_SOURCE_ROOT/tests/e2e/cri/cri-lib.sh"
cri_prebuild containerd crictl cni-plugins
hg_init nri-bench
hg_require_bin
hg_require_cmd runc unshare nsenter umoci jq
cri_containerd2
crictl_need
eval "$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env cni-plugins)"
ROUNDS=${BENCH_ROUNDS:-6}
PODS=${BENCH_PODS:-5}

SUBNET=10.215.26.0/24
hg_subnet_free "$SUBNET"
# ptp switches ip_forward on: the guard restores it and drops forwarding off the machine.
hg_guard_forwarding on
D=$HG_TMP/ctrd-$$
mkdir -p "$D"/{net.d,opt-cni-bin,ipam}
cri_kindnet_conflist 1.1.0 "$SUBNET" "$D/ipam" '[]' >"$D/net.d/10-kindnet.conflist"
for p in "$HG_CNI_PLUGINS_BIN"/*; do ln -s "$p" "$D/opt-cni-bin/"; done
CRI_OWN_RUN=1 cri_containerd_start "$D" "$(cri_minimal_config_v3 "$D")"
e2e_wait_for 10 test -S "$D/nri-run/nri.sock" || hg_fail "no NRI socket"
cri_import_image localhost/hgt/busybox:1 sleep 2147483647
cri_tag_image localhost/hgt/busybox:1 localhost/hgt/pause:1
echo '{}' >"$HG_TMP/hg.json"
PLOG=$HG_TMP/nri.log
PLUGIN_PID=
plugin_on() {
	local n
	n=$(grep -c 'synchronized ' "$PLOG" 2>/dev/null || :)
	nsenter -t "$CRI_PID" -m -- "$HG_BIN" nri --config "$HG_TMP/hg.json" >>"$PLOG" 2>&1 &
	PLUGIN_PID=$!
	hg_defer kill -9 "$PLUGIN_PID"
	# shellcheck disable=SC2016
	e2e_wait_for 10 bash -c '[ "$(grep -c "synchronized " "$1")" -gt "$2" ]' _ "$PLOG" "${n:-0}" ||
		hg_fail "the plugin did not connect: $(tail -n 5 "$PLOG")"
}
plugin_off() {
	kill -TERM "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null || :
	PLUGIN_PID=
}
now_us() { local t; t=$(date +%s%N); echo $((t / 1000)); }

# one_pod LABEL I: times runp and create into $HG_TMP/LABEL.{runp,create} (microseconds).
one_pod() {
	local uid pod sb ctr hosts t0 t1 t2
	uid=$(printf '0f1e2d3c-0000-4000-8000-%012d' "$2")
	pod=$(cc_pod_config "b$2" "$uid" '{}' "/$CRI_CGROUP/pod$uid")
	t0=$(now_us)
	sb=$(cc_runp "$pod") || hg_fail "runp failed"
	t1=$(now_us)
	cri_pod_created "$sb"
	hosts=$HG_TMP/pods/$uid/etc-hosts
	cri_kubelet_hosts "$hosts" "$(cc_pod_ip "$sb")" "b$2"
	local cfg
	cfg=$(cc_ctr_config app localhost/hgt/busybox:1 "$hosts" '{}')
	t2=$(now_us)
	ctr=$(cc create "$sb" "$cfg" "$pod") || hg_fail "create failed"
	echo $(($(now_us) - t2)) >>"$HG_TMP/$1.create"
	echo $((t1 - t0)) >>"$HG_TMP/$1.runp"
	cc rm "$ctr" >/dev/null 2>&1
	cc_stopp_rmp "$sb" 2>/dev/null
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

i=0
one_pod warmup $((i += 1)) # images, caches: not counted
for r in $(seq "$ROUNDS"); do
	for phase in $( ((r % 2)) && echo "with without" || echo "without with"); do
		[ "$phase" = with ] && plugin_on
		for _ in $(seq "$PODS"); do one_pod "$phase" $((i += 1)); done
		[ "$phase" = with ] && plugin_off
	done
done

wr=$(median "$HG_TMP/with.runp") wor=$(median "$HG_TMP/without.runp")
wc_=$(median "$HG_TMP/with.create") woc=$(median "$HG_TMP/without.create")
n=$(wc -l <"$HG_TMP/with.runp")
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
printf '\nNRI plugin cost, containerd %s, crictl, %d pods each way (medians, ms)\n' "$HG_CONTAINERD_VERSION" "$n"
printf '%-22s %10s %10s %10s\n' "" with without added
printf '%-22s %10s %10s %10s\n' "crictl runp" "$(ms "$wr")" "$(ms "$wor")" "$(ms $((wr - wor)))"
printf '%-22s %10s %10s %10s\n' "crictl create" "$(ms "$wc_")" "$(ms "$woc")" "$(ms $((wc_ - woc)))"
grep -o 'attached in [0-9]* us' "$PLOG" | awk '{ print $3 }' >"$HG_TMP/attach.us"
grep -o 'names written in [0-9]* us' "$PLOG" | awk '{ print $4 }' >"$HG_TMP/names.us"
printf '%-22s %10s   (plugin: RunPodSandbox attachment, median of %d)\n' "in the plugin: pod" \
	"$(ms "$(median "$HG_TMP/attach.us")")" "$(wc -l <"$HG_TMP/attach.us")"
printf '%-22s %10s   (plugin: CreateContainer names, median of %d)\n' "in the plugin: container" \
	"$(ms "$(median "$HG_TMP/names.us")")" "$(wc -l <"$HG_TMP/names.us")"
left=$(find "$D/run-host-gateway/nri" -name '*.json' 2>/dev/null | wc -l)
[ "$left" = 0 ] || echo "note: $left NRI records left" >&2
