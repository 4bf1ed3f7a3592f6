#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark of host-gateway (not a test: it prints figures). As root:
#
#   tests/bench/run.sh                    # N=200 runs per figure
#   BENCH_N=1000 BENCH_N_PORTMAP=50 tests/bench/run.sh
#
# Environment: BENCH_N (default 200), BENCH_N_PORTMAP (default 20: portmap ADD+DEL
# takes ~130 ms), BENCH_N_HL (default 100: the hostLoopbackPorts figures),
# BENCH_HL_CONTAINERS (default 300: attachments in the host tables for the second of
# them), BENCH_GAP_MS (default 30: the pause of the "apart" figures), BENCH_ROUNDS (default 10: the iterations of every figure are spread
# over that many rounds, see run_measurements), BENCH_WARMUP (unmeasured runs before a
# figure's first chunk, default 5; 1 before the others), BENCH_N_HOSTS (default 50: merges
# of the 1 MiB hosts file), BENCH_NO_BUILD=1 (use build/host-gateway, or HG_BIN, as it is).
#
# Every figure is the wall time of fork + execve + wait of the program, measured by
# exec-bench.c (CLOCK_MONOTONIC), with its CPU time (user + sys) and peak RSS from wait4.
# CNI plugins run the way a runtime runs them: config on stdin, CNI_* in an environment of
# their own, in a fixed position (after bridge + host-local, whose result is the
# prevResult of every run). A pair "ADD / DEL" is one iteration: ADD, then DEL.
# One figure is in-process instead: "1 MiB hosts file merged" is one hg_hosts_merge call on
# the largest /etc/hosts the plugin accepts, timed by hosts-merge-bench.c (built by meson
# next to the binary, linked with the library) after the exec figures.
#
# The attachment is made once with the reference bridge + host-local plugins in a netns
# of ours; the bridge's isGateway needs ip_forward, so the workplace guard table is
# installed first (tests/lib/common.sh). No packet is sent. Everything (netns, bridge,
# the guard, portmap's iptables-nft chains and rules, temp files) is removed at exit.
#
# To add a figure: `measure LABEL [-n N] [-i STDIN] [-e K=V]... CMD [ARG]...` for one
# command, with `::: [-i STDIN] [-e K=V]... CMD_B [ARG]...` appended for a pair (PAIR_A
# and PAIR_B name its parts in the table), among the other `measure` lines; after
# run_measurements, read its values with `val LABEL KEY`.

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SRC/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$SRC/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/bench.sh
. "$SRC/../lib/bench.sh"

# crun 1.8 refuses this machine's "hybrid" cgroups (runtimes.md): the whole benchmark runs
# in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified, so that crun is
# timed without a wrapper and nothing changes for the rest of the machine.
if [ -z "${HG_BENCH_PRIVATE:-}" ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || :)" = cgroup2fs ]; then
	HG_BENCH_PRIVATE=1 exec unshare -m --propagation private bash -c \
		'mount -t tmpfs -o size=1m,mode=755 hg-bench-no-unified /sys/fs/cgroup/unified && exec "$0" "$@"' \
		"$0" "$@"
fi

N=${BENCH_N:-200}
N_PORTMAP=${BENCH_N_PORTMAP:-20}
N_HOSTS=${BENCH_N_HOSTS:-50}
N_HL=${BENCH_N_HL:-100}
N_HL_CONTAINERS=${BENCH_HL_CONTAINERS:-300}
GAP=${BENCH_GAP_MS:-30}
ROUNDS=${BENCH_ROUNDS:-10}
WARMUP=${BENCH_WARMUP:-5}

cd "$ROOT"
hg_bench_build

hg_init bench
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
hg_require_bin
hg_require_cmd gcc pkg-config jq nft ip
hg_bench_require_plugins bridge host-local tuning portmap

# ---------------------------------------------------------------- the programs
BIN=$HG_TMP/bin
mkdir -p "$BIN"
CFLAGS=(-O2 -Wall -Wextra -Werror)
gcc "${CFLAGS[@]}" -o "$BIN/exec-bench" "$SRC/exec-bench.c"
# shellcheck disable=SC2046 # pkg-config prints several words
gcc "${CFLAGS[@]}" $(pkg-config --cflags libnftables) -o "$BIN/nft-floor" "$SRC/nft-floor.c" \
	$(pkg-config --libs libnftables)
printf 'int main(void) { return 0; }\n' >"$BIN/empty.c"
gcc "${CFLAGS[@]}" -o "$BIN/empty" "$BIN/empty.c"
# Built with the library, in the build directory of the binary (or build/ when HG_BIN is
# an installed one).
HOSTS_BENCH=$(dirname "$HG_BIN")/tests/bench/hosts-merge-bench
[ -x "$HOSTS_BENCH" ] || HOSTS_BENCH=$ROOT/build/tests/bench/hosts-merge-bench
[ -x "$HOSTS_BENCH" ] || hg_fail "tests/bench/hosts-merge-bench not built (ninja -C build)"

# ---------------------------------------------------------------- measuring
# Figures are measured in rounds: each round runs 1/ROUNDS of every figure's iterations,
# in the order they were declared, so that the machine's load drifting during the run
# (other jobs) touches every figure alike and the ratios stay meaningful.
declare -A R=()    # label -> exec-bench's result line
declare -A M_N=() M_CMD=() M_PARTS=() M_GAP=()
M_LABELS=()
ROWS=()            # the table, in order
PAIR_A=ADD PAIR_B=DEL

# measure LABEL [-n N] [-g MS] [-i STDIN] [-e K=V]... CMD [ARG]... [::: [-i ..] [-e ..] CMD_B [ARG]...]
# declares a figure (N iterations, default $N; -g: an unmeasured pause of MS ms after
# every run, see exec-bench.c); run_measurements measures them all. A single command
# gives one table row, a pair three: PAIR_A, PAIR_B (as set now) and the sum.
measure() {
	local label=$1 n=$N gap=0 q
	shift
	if [ "$1" = -n ]; then
		n=$2
		shift 2
	fi
	if [ "$1" = -g ]; then
		gap=$2
		shift 2
	fi
	M_GAP[$label]=$gap
	printf -v q '%q ' "$@"
	M_LABELS+=("$label")
	M_N[$label]=$n
	M_CMD[$label]=$q
	M_PARTS[$label]="$PAIR_A $PAIR_B"
}

# val LABEL KEY: a value of LABEL's result line (KEY e.g. median_ms, a_cpu_median_ms).
val() {
	local kv
	for kv in ${R[$1]}; do
		[ "${kv%%=*}" = "$2" ] && echo "${kv#*=}" && return 0
	done
	hg_fail "no $2 in the result of \"$1\": ${R[$1]}"
}

_row() { # _row NAME LABEL PREFIX
	local l=$2 p=$3
	ROWS+=("$(printf '| %s | %s | %.2f | %.2f–%.2f | %.2f | %.2f | %s |' "$1" "$(val "$l" n)" \
		"$(val "$l" "${p}median_ms")" "$(val "$l" "${p}min_ms")" "$(val "$l" "${p}max_ms")" \
		"$(val "$l" "${p}p90_ms")" "$(val "$l" "${p}cpu_median_ms")" "$(val "$l" "${p}maxrss_kib")")")
}

run_measurements() {
	local r i label n lo hi w parts
	local -A warm=()
	mkdir -p "$HG_TMP/raw"
	for ((r = 0; r < ROUNDS; r++)); do
		hg_log "round $((r + 1))/$ROUNDS"
		for i in "${!M_LABELS[@]}"; do
			label=${M_LABELS[i]}
			n=${M_N[$label]}
			lo=$((n * r / ROUNDS))
			hi=$((n * (r + 1) / ROUNDS))
			((hi > lo)) || continue
			# Full warm-up before a figure's first chunk, one run before the others.
			w=1
			[ -n "${warm[$label]:-}" ] || w=$WARMUP
			warm[$label]=1
			eval "\"\$BIN/exec-bench\" -x -n $((hi - lo)) -w $w -g ${M_GAP[$label]} -r \"\$HG_TMP/raw/${label//[^A-Za-z0-9]/_}\" ${M_CMD[$label]}" \
				>/dev/null || hg_fail "exec-bench failed for \"$label\""
		done
	done
	for i in "${!M_LABELS[@]}"; do
		label=${M_LABELS[i]}
		R[$label]=$("$BIN/exec-bench" -l "${label//[^A-Za-z0-9]/_}" -s "$HG_TMP/raw/${label//[^A-Za-z0-9]/_}")
		case " ${R[$label]} " in
		*" sum_median_ms="*)
			read -ra parts <<<"${M_PARTS[$label]}"
			_row "$label ${parts[0]}" "$label" a_
			_row "$label ${parts[1]}" "$label" b_
			_row "$label ${parts[0]}+${parts[1]}" "$label" sum_
			;;
		*) _row "$label" "$label" "" ;;
		esac
	done
}

# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
# verdict VALUE LIMIT: met / missed.
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l ? "met" : "MISSED") }'; }

# ---------------------------------------------------------------- the attachment
hg_guard_forwarding on

NS=hgt-$$-c1
NSPATH=/var/run/netns/$NS
BR=hgbr$$
SUBNET=10.212.98.0/23 # 300 containers for the hostLoopbackPorts figures
CID=hgbench-$$
NET=hgbench
hg_subnet_free "$SUBNET"
hg_netns_add "$NS"
hg_defer ip link del dev "$BR"
jq -n --arg net "$NET" --arg br "$BR" --arg sub "$SUBNET" --arg ipam "$HG_TMP/ipam" '{
	cniVersion: "1.0.0", name: $net,
	plugins: [{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
		ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $sub}]],
			routes: [{dst: "0.0.0.0/0"}]}}]}' >"$HG_TMP/bridge.conflist"
hg_defer hg_chain DEL "$HG_TMP/bridge.conflist" "$CID" "$NSPATH" eth0
hg_chain ADD "$HG_TMP/bridge.conflist" "$CID" "$NSPATH" eth0 >"$HG_TMP/prev.json"
GW=$(jq -er '.ips[0].gateway' "$HG_TMP/prev.json")

# conf FILE ENTRY_JSON: a plugin entry as libcni hands it over after bridge.
conf() {
	jq -c --arg net "$NET" --slurpfile prev "$HG_TMP/prev.json" \
		'. + {name: $net, cniVersion: "1.0.0", prevResult: $prev[0]}' <<<"$2" >"$HG_TMP/$1"
	echo "$HG_TMP/$1"
}
STATE=$HG_TMP/state
HG_PLAIN=$(conf hg-plain.json "$(jq -n --arg s "$STATE" '{type: "host-gateway", stateDir: $s,
	names: ["host.docker.internal", "host.containers.internal", "gateway.docker.internal"]}')")
HG_NAT=$(conf hg-nat.json "$(jq -n --arg s "$STATE" '{type: "host-gateway", stateDir: $s,
	names: ["host.docker.internal", "host.containers.internal", "gateway.docker.internal"],
	virtualIPs: ["169.254.1.2"], localhostPorts: ["5432"]}')")
HG_HL=$(conf hg-hl.json "$(jq -n --arg s "$STATE" '{type: "host-gateway", stateDir: $s,
	names: ["host.docker.internal", "host.containers.internal", "gateway.docker.internal"],
	hostLoopbackPorts: ["5432"]}')")
# The same with the state directory on a tmpfs, as /run is on most machines (on this kind
# of VM /run, like /tmp, is ext4, where creating a file is the larger part of an ADD).
mkdir "$HG_TMP/tmpfs"
mount -t tmpfs -o size=16m,mode=0700 hgbench "$HG_TMP/tmpfs"
hg_defer umount "$HG_TMP/tmpfs"
HG_TMPFS=$(conf hg-tmpfs.json "$(jq -c --arg s "$HG_TMP/tmpfs/state" '.stateDir = $s | del(.prevResult, .name, .cniVersion)' "$HG_PLAIN")")
TUNING=$(conf tuning.json "$(jq -n --arg d "$HG_TMP/tuning" '{type: "tuning",
	sysctl: {"net.core.somaxconn": "512"}, dataDir: $d}')")
PORTMAP=$(conf portmap.json '{"type": "portmap", "capabilities": {"portMappings": true},
	"runtimeConfig": {"portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]}}')

# The environment a runtime gives a plugin (libcni also passes its own environment on;
# PATH is needed by portmap, which runs iptables).
CNI_KV=("CNI_CONTAINERID=$CID" "CNI_NETNS=$NSPATH" CNI_IFNAME=eth0 CNI_ARGS= CNI_PATH=/usr/lib/cni
	PATH=/usr/sbin:/usr/bin:/sbin:/bin)
CNI_ENV=()
for kv in "${CNI_KV[@]}"; do CNI_ENV+=(-e "$kv"); done

# cni CMD PLUGIN CONF: one run outside the measurements, stdout printed.
cni() { env -i "${CNI_KV[@]}" CNI_COMMAND="$1" "$2" <"$3"; }

# measure_cni LABEL PLUGIN CONF [N]: ADD then DEL per iteration.
measure_cni() {
	measure "$1" -n "${4:-$N}" -i "$3" "${CNI_ENV[@]}" -e CNI_COMMAND=ADD "$2" ::: -e CNI_COMMAND=DEL "$2"
}

# ---------------------------------------------------------------- sanity checks (not timed)
out=$(cni ADD "$HG_BIN" "$HG_PLAIN") || hg_fail "host-gateway ADD failed: $out"
[ "$(jq -S . <<<"$out")" = "$(jq -S .prevResult "$HG_PLAIN")" ] || hg_fail "ADD did not print prevResult back: $out"
cni DEL "$HG_BIN" "$HG_PLAIN" >/dev/null || hg_fail "host-gateway DEL failed"
# The floor must build exactly host-gateway's table.
out=$(cni ADD "$HG_BIN" "$HG_NAT") || hg_fail "host-gateway ADD (nat) failed: $out"
hg_table=$(ip netns exec "$NS" nft list table inet host_gateway)
cni DEL "$HG_BIN" "$HG_NAT" >/dev/null || hg_fail "host-gateway DEL (nat) failed"
[ -z "$(ip netns exec "$NS" nft list tables)" ] || hg_fail "host-gateway DEL left a table"
"$BIN/nft-floor" "$NSPATH" "$GW" add
floor_table=$(ip netns exec "$NS" nft list table inet host_gateway)
"$BIN/nft-floor" "$NSPATH" "$GW" del
[ "$hg_table" = "$floor_table" ] || {
	diff -u <(echo "$hg_table") <(echo "$floor_table") >&2
	hg_fail "the floor's table differs from host-gateway's"
}

# portmap's iptables-nft leftovers (its top-level chains and the jumps to them stay after
# DEL): every table, chain and rule (by handle) of the iptables tables (ip/ip6 nat, filter,
# mangle, raw) that appears after this is removed; nothing else is touched.
nft -j list ruleset >"$HG_TMP/ruleset.before.json"
nft_revert() {
	local before=$1 cmds
	cmds=$(nft -j list ruleset | jq -r --slurpfile b "$before" '
		def xt: (.family == "ip" or .family == "ip6")
			and ((.table // .name) | IN("nat", "filter", "mangle", "raw"));
		def items(k): [.nftables[] | select(has(k)) | .[k] | select(xt)];
		($b[0] | items("table") | map([.family, .name])) as $bt
		| ($b[0] | items("chain") | map([.family, .table, .name])) as $bc
		| ($b[0] | items("rule") | map([.family, .table, .handle])) as $br
		| items("table") as $t | items("chain") as $c | items("rule") as $r
		| ($t | map(select([.family, .name] as $k | $bt | index([$k]) | not))) as $newt
		| ($newt | map([.family, .name])) as $newtk
		| ($c | map(select([.family, .table] as $k | $newtk | index([$k]) | not)
			| select([.family, .table, .name] as $k | $bc | index([$k]) | not))) as $newc
		| ($r | map(select([.family, .table] as $k | $newtk | index([$k]) | not)
			| select([.family, .table, .handle] as $k | $br | index([$k]) | not)
			| select([.family, .table, .chain] as $k | $newc | map([.family, .table, .name]) | index([$k]) | not)))
		| (.[] | "delete rule \(.family) \(.table) \(.chain) handle \(.handle)"),
		  ($newc[] | "flush chain \(.family) \(.table) \(.name)"),
		  ($newc[] | "delete chain \(.family) \(.table) \(.name)"),
		  ($newt[] | "delete table \(.family) \(.name)")')
	[ -z "$cmds" ] || nft -f - <<<"$cmds"
}
hg_defer nft_revert "$HG_TMP/ruleset.before.json"
out=$(cni ADD /usr/lib/cni/portmap "$PORTMAP") || hg_fail "portmap ADD failed: $out"
cni DEL /usr/lib/cni/portmap "$PORTMAP" >/dev/null || hg_fail "portmap DEL failed"
out=$(cni ADD /usr/lib/cni/tuning "$TUNING") || hg_fail "tuning ADD failed: $out"
cni DEL /usr/lib/cni/tuning "$TUNING" >/dev/null || hg_fail "tuning DEL failed"

# ---------------------------------------------------------------- the OCI hook
# A prepared bundle: the container root's own /etc/hosts, the bench netns by path, and a
# hook config with its own stateDir (the hook does the plumbing: no CNI record there).
HOOKB=$HG_TMP/hook-bundle
mkdir -p "$HOOKB/rootfs/etc" "$HG_TMP/hookstate"
printf '127.0.0.1\tlocalhost\n' >"$HOOKB/rootfs/etc/hosts"
jq -n --arg ns "$NSPATH" '{ociVersion: "1.0.2", root: {path: "rootfs"}, mounts: [],
	linux: {namespaces: [{type: "pid"}, {type: "network", path: $ns}]}}' >"$HOOKB/config.json"
HOOK_CONF=$HG_TMP/hook-config.json
jq -n --arg s "$HG_TMP/hookstate" '{stateDir: $s, failurePolicy: "fail"}' >"$HOOK_CONF"
HOOK_STATE=$HG_TMP/hook-state.json
jq -n --arg b "$HOOKB" '{ociVersion: "1.0", id: "hg-bench", pid: 1, bundle: $b, status: "creating"}' >"$HOOK_STATE"
"$HG_BIN" hook createRuntime --config "$HOOK_CONF" <"$HOOK_STATE" || hg_fail "hook createRuntime failed"
grep -q host.docker.internal "$HOOKB/rootfs/etc/hosts" || hg_fail "the hook wrote no names"
"$HG_BIN" hook poststop --config "$HOOK_CONF" <"$HOOK_STATE" || hg_fail "hook poststop failed"
HOOK_CONF_TMPFS=$HG_TMP/hook-config-tmpfs.json
jq -n --arg s "$HG_TMP/tmpfs/hookstate" '{stateDir: $s, failurePolicy: "fail"}' >"$HOOK_CONF_TMPFS"

# crun running /bin/true from a busybox root: the reference the hook runs next to.
CRUN=$(command -v crun || :)
N_CRUN=${BENCH_N_CRUN:-50}
if [ -n "$CRUN" ] && [ -x /bin/busybox ]; then
	mkdir -p "$HG_TMP/crun/rootfs/bin" "$HG_TMP/crun-root"
	cp /bin/busybox "$HG_TMP/crun/rootfs/bin/"
	ln -s busybox "$HG_TMP/crun/rootfs/bin/true"
	(cd "$HG_TMP/crun" && crun spec)
	jq '.process.terminal = false | .process.args = ["/bin/true"]' "$HG_TMP/crun/config.json" >"$HG_TMP/crun/c.json"
	mv "$HG_TMP/crun/c.json" "$HG_TMP/crun/config.json"
	"$CRUN" --root "$HG_TMP/crun-root" run -b "$HG_TMP/crun" hg-bench-true || hg_fail "crun run /bin/true failed"
else
	CRUN=
fi

# ---------------------------------------------------------------- the figures
measure "empty C program exec" "$BIN/empty"
measure_cni "host-gateway" "$HG_BIN" "$HG_PLAIN"
measure_cni "host-gateway, stateDir on tmpfs" "$HG_BIN" "$HG_TMPFS"
measure_cni "tuning (reference)" /usr/lib/cni/tuning "$TUNING"
measure_cni "host-gateway virtualIPs+localhostPorts" "$HG_BIN" "$HG_NAT"
PAIR_A=add PAIR_B=del
measure "nft floor (C, libnftables)" "$BIN/nft-floor" "$NSPATH" "$GW" add ::: "$BIN/nft-floor" "$NSPATH" "$GW" del
measure "nft floor, add+del in one process" "$BIN/nft-floor" "$NSPATH" "$GW" both
measure "exec of a libnftables-linked no-op" "$BIN/nft-floor" "$NSPATH" "$GW" print
# Operations of a runtime are seconds apart, not back to back: these meet a kernel that has
# finished what the previous run left it (see docs/benchmarks.md, "nftables: where the time goes").
measure "nft floor, ${GAP} ms apart" -g "$GAP" "$BIN/nft-floor" "$NSPATH" "$GW" add ::: "$BIN/nft-floor" "$NSPATH" "$GW" del
measure "nft floor, socket released after exit, ${GAP} ms apart" -g "$GAP" \
	"$BIN/nft-floor" "$NSPATH" "$GW" add detach ::: "$BIN/nft-floor" "$NSPATH" "$GW" del detach
PAIR_A=ADD PAIR_B=DEL
measure "host-gateway virtualIPs+localhostPorts, ${GAP} ms apart" -g "$GAP" -i "$HG_NAT" "${CNI_ENV[@]}" \
	-e CNI_COMMAND=ADD "$HG_BIN" ::: -e CNI_COMMAND=DEL "$HG_BIN"
measure_cni "portmap (reference), one DNAT" /usr/lib/cni/portmap "$PORTMAP" "$N_PORTMAP"
PAIR_A=createRuntime PAIR_B=poststop
measure "host-gateway hook" -i "$HOOK_STATE" "$HG_BIN" hook createRuntime --config "$HOOK_CONF" \
	::: -i "$HOOK_STATE" "$HG_BIN" hook poststop --config "$HOOK_CONF"
measure "host-gateway hook, stateDir on tmpfs" -i "$HOOK_STATE" "$HG_BIN" hook createRuntime --config "$HOOK_CONF_TMPFS" \
	::: -i "$HOOK_STATE" "$HG_BIN" hook poststop --config "$HOOK_CONF_TMPFS"
PAIR_A=ADD PAIR_B=DEL
if [ -n "$CRUN" ]; then
	measure "crun run /bin/true" -n "$N_CRUN" "$CRUN" --root "$HG_TMP/crun-root" run -b "$HG_TMP/crun" hg-bench-true
fi
run_measurements

# hostLoopbackPorts: one map element (and one bridge anti-spoof element) per port into the
# host's shared tables. First alone on the bridge (ADD creates the host tables, DEL removes
# them), then with N_HL_CONTAINERS - 1 other attachments in them, made by the chain.
MAIN_LABELS=("${M_LABELS[@]}")
hl_phase() { # hl_phase CONTAINERS
	M_LABELS=()
	measure "host-gateway hostLoopbackPorts, $1 container(s), ${GAP} ms apart" -n "$N_HL" -g "$GAP" \
		-i "$HG_HL" "${CNI_ENV[@]}" -e CNI_COMMAND=ADD "$HG_BIN" ::: -e CNI_COMMAND=DEL "$HG_BIN"
	measure "host-gateway hostLoopbackPorts, $1 container(s), back to back" -n "$N_HL" \
		-i "$HG_HL" "${CNI_ENV[@]}" -e CNI_COMMAND=ADD "$HG_BIN" ::: -e CNI_COMMAND=DEL "$HG_BIN"
	run_measurements
	MAIN_LABELS+=("${M_LABELS[@]}")
}
hl_phase 1
jq --arg s "$STATE" --argjson bridge "$(jq '.plugins[0]' "$HG_TMP/bridge.conflist")" \
	'{cniVersion, name, plugins: [$bridge, {type: "host-gateway", stateDir: $s, hostLoopbackPorts: ["5432"]}]}' \
	"$HG_TMP/bridge.conflist" >"$HG_TMP/hl.conflist"
hg_log "hostLoopbackPorts: $((N_HL_CONTAINERS - 1)) more attachments"
for ((i = 2; i <= N_HL_CONTAINERS; i++)); do
	hg_netns_add "hgt-$$-h$i"
	hg_defer hg_chain DEL "$HG_TMP/hl.conflist" "$CID-h$i" "/var/run/netns/hgt-$$-h$i" eth0
	hg_chain ADD "$HG_TMP/hl.conflist" "$CID-h$i" "/var/run/netns/hgt-$$-h$i" eth0 >/dev/null ||
		hg_fail "ADD of attachment $i failed"
done
elements=$(nft -j list map inet host_gateway loopback4 | jq '[.nftables[] | select(.map) | .map.elem // [] | .[]] | length')
[ "$elements" -eq $((N_HL_CONTAINERS - 1)) ] || hg_fail "host map holds $elements elements, not $((N_HL_CONTAINERS - 1))"
hl_phase "$N_HL_CONTAINERS"
M_LABELS=("${MAIN_LABELS[@]}")

HOSTS="1 MiB hosts file merged"
hg_log "$HOSTS: $N_HOSTS merges in-process"
R[$HOSTS]=$("$HOSTS_BENCH" -n "$N_HOSTS" -l "${HOSTS//[^A-Za-z0-9]/_}") || hg_fail "hosts-merge-bench failed"
_row "$HOSTS" "$HOSTS" ""

[ -z "$(ip netns exec "$NS" nft list tables)" ] || hg_fail "a table was left in the container netns"
[ -z "$(find "$STATE" "$HG_TMP/tmpfs" -name "$CID+eth0.json" 2>/dev/null)" ] || hg_fail "records of the measured attachment left in a stateDir"

# ---------------------------------------------------------------- the report
HG="host-gateway"
NAT="host-gateway virtualIPs+localhostPorts"
FLOOR="nft floor (C, libnftables)"
PM="portmap (reference), one DNAT"
add=$(val "$HG" a_median_ms)
empty=$(val "empty C program exec" median_ms)
rss=$(val "$HG" sum_maxrss_kib)
nat=$(val "$NAT" sum_median_ms)
floor=$(val "$FLOOR" sum_median_ms)
over=$(calc "$nat - $floor")
natcpu=$(val "$NAT" sum_cpu_median_ms)
floorcpu=$(val "$FLOOR" sum_cpu_median_ms)
pm=$(val "$PM" sum_median_ms)
NATG="host-gateway virtualIPs+localhostPorts, ${GAP} ms apart"
FLOORG="nft floor, ${GAP} ms apart"
FLOORD="nft floor, socket released after exit, ${GAP} ms apart"
natg=$(val "$NATG" sum_median_ms)
floorg=$(val "$FLOORG" sum_median_ms)
floord=$(val "$FLOORD" sum_median_ms)
overd=$(calc "$natg - $floord")
natgcpu=$(val "$NATG" sum_cpu_median_ms)
HL1="host-gateway hostLoopbackPorts, 1 container(s), ${GAP} ms apart"
HLN="host-gateway hostLoopbackPorts, $N_HL_CONTAINERS container(s), ${GAP} ms apart"

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
build=$(meson introspect "$(dirname "$HG_BIN")" --buildoptions 2>/dev/null |
	jq -r '[.[] | select(.name == "buildtype" or .name == "b_sanitize") | "\(.name)=\(.value)"] | join(" ")' 2>/dev/null || true)
cat <<EOF
host-gateway benchmark: tests/bench/run.sh (BENCH_N=$N BENCH_N_PORTMAP=$N_PORTMAP BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP)
date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')
kernel:   $(uname -sr) $(uname -m)
cpu:      ${cpu:-?} ($(nproc) online); load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end
binary:   $("$HG_BIN" --version | head -n1), $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), ${build:-?}
plugins:  containernetworking-plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?'), libnftables $(dpkg-query -W -f '${Version}' libnftables1 2>/dev/null || echo '?')
setup:    cniVersion 1.0.0, prevResult of bridge (isGateway) + host-local; stateDir, host-local and tuning dataDir on $(df --output=fstype "$HG_TMP" | tail -n1)
runs:     N=$N per figure (portmap $N_PORTMAP, hosts merge $N_HOSTS, hostLoopbackPorts $N_HL), in $ROUNDS rounds of N/$ROUNDS per figure in turn, $WARMUP warm-up runs first
times:    wall ms of fork+exec+wait; CPU = user+sys of the process and its children; RSS = peak
          ("N ms apart": an unmeasured pause of N ms after every run; host-gateway's and the
          "released after exit" floor's socket-releasing child is not theirs to wait for, its CPU not counted)
          ("$HOSTS": one hg_hosts_merge call in-process, $(val "$HOSTS" size_bytes) bytes of short-name lines, no exec)

| measured | n | median ms | min–max ms | p90 ms | CPU median ms | peak RSS KiB |
|---|--:|--:|--:|--:|--:|--:|
EOF
printf '%s\n' "${ROWS[@]}"
cat <<EOF

| target | figure | verdict |
|---|---|---|
| host-gateway ADD median ≤ 2 ms | $(calc "$add") ms | $(verdict "$add" 2) |
| host-gateway ADD ≤ 2× empty exec | $(calc "$add / $empty")× ($(calc "$add") / $(calc "$empty") ms) | $(verdict "$(calc "$add / $empty")" 2) |
| host-gateway peak RSS ≤ 4 MiB | $rss KiB | $(verdict "$rss" 4096) |
| virtualIPs+localhostPorts ADD+DEL ≤ floor + 1 ms, back to back | $(calc "$nat") − $(calc "$floor") = $over ms | $(verdict "$over" 1) |
| virtualIPs+localhostPorts ADD+DEL ≤ floor + 1 ms, ${GAP} ms apart, floor releasing its socket after exit too | $(calc "$natg") − $(calc "$floord") = $overd ms | $(verdict "$overd" 1) |
| virtualIPs+localhostPorts ADD+DEL under the floor that waits in close(), ${GAP} ms apart | $(calc "$natg") vs $(calc "$floorg") ms ($(calc "$natg - $floorg") ms) | $(verdict "$natg" "$floorg") |
| virtualIPs+localhostPorts ADD+DEL CPU median ≤ 3 ms | $(calc "$natgcpu") ms ${GAP} ms apart, $(calc "$natcpu") ms back to back (the floor's: $(calc "$floorcpu") ms) | $(verdict "$natgcpu" 3) |
| hostLoopbackPorts ADD+DEL flat from 1 to $N_HL_CONTAINERS containers (≤ 1.25×), ${GAP} ms apart | $(calc "$(val "$HL1" sum_median_ms)") → $(calc "$(val "$HLN" sum_median_ms)") ms ($(calc "$(val "$HLN" sum_median_ms) / $(val "$HL1" sum_median_ms)")×) | $(verdict "$(calc "$(val "$HLN" sum_median_ms) / $(val "$HL1" sum_median_ms)")" 1.25) |
| 1 MiB hosts merge median ≤ 20 ms | $(calc "$(val "$HOSTS" median_ms)") ms (min–max $(calc "$(val "$HOSTS" min_ms)")–$(calc "$(val "$HOSTS" max_ms)") ms) | $(verdict "$(val "$HOSTS" median_ms)" 20) |
| hook createRuntime median ≤ 2 ms | $(calc "$(val "host-gateway hook" a_median_ms)") ms$([ -n "$CRUN" ] && echo " (crun run /bin/true: $(calc "$(val "crun run /bin/true" median_ms)") ms)") | $(verdict "$(val "host-gateway hook" a_median_ms)" 2) |

host-gateway virtualIPs+localhostPorts minus the floor, medians, back to back: \
ADD $(calc "$(val "$NAT" a_median_ms) - $(val "$FLOOR" a_median_ms)") ms, \
DEL $(calc "$(val "$NAT" b_median_ms) - $(val "$FLOOR" b_median_ms)") ms; \
CPU ADD $(calc "$(val "$NAT" a_cpu_median_ms) - $(val "$FLOOR" a_cpu_median_ms)") ms, \
DEL $(calc "$(val "$NAT" b_cpu_median_ms) - $(val "$FLOOR" b_cpu_median_ms)") ms
the same ${GAP} ms apart, against the floor releasing its socket after exit: \
ADD $(calc "$(val "$NATG" a_median_ms) - $(val "$FLOORD" a_median_ms)") ms, \
DEL $(calc "$(val "$NATG" b_median_ms) - $(val "$FLOORD" b_median_ms)") ms; \
CPU ADD $(calc "$(val "$NATG" a_cpu_median_ms) - $(val "$FLOORD" a_cpu_median_ms)") ms, \
DEL $(calc "$(val "$NATG" b_cpu_median_ms) - $(val "$FLOORD" b_cpu_median_ms)") ms

ratios (medians): host-gateway ADD+DEL / empty exec $(calc "$(val "$HG" sum_median_ms) / $empty"); \
tuning ADD+DEL / host-gateway ADD+DEL $(calc "$(val "tuning (reference)" sum_median_ms) / $(val "$HG" sum_median_ms)"); \
portmap ADD+DEL / host-gateway virtualIPs+localhostPorts ADD+DEL $(calc "$pm / $nat"); \
portmap / plain host-gateway ADD+DEL $(calc "$pm / $(val "$HG" sum_median_ms)")
EOF
