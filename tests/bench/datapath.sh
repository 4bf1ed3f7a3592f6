#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data-path benchmark of host-gateway (not a test: it prints figures; not run by meson).
# As root:
#
#   tests/bench/datapath.sh
#   BENCH_ROUNDS=5 BENCH_SECONDS=5 BENCH_CONNECTS=300 HG_BIN=/path/to/host-gateway tests/bench/datapath.sh
#
# From a container netns to a service on the host, through six paths:
#   gateway  host-gateway with names only: the bridge's address, no NAT (the reference)
#   vip      virtualIPs: 169.254.1.2, DNATed to the gateway in the container's netns
#   lh       localhostPorts: 127.0.0.1:P in the container, DNATed to the gateway
#   alias    virtualIPs + hostAlias: a /32 on the host's lo, routed via the gateway
# and the ways people do it without host-gateway:
#   socat    a relay inside the container: socat TCP-LISTEN:P,fork TCP:GATEWAY:P, the
#            client connects to 127.0.0.1:P (what localhostPorts replaces)
#   relay    a docker-host-style relay "container": a second netns on the same bridge that
#            DNATs to the gateway and masquerades (nftables), the client connects to the
#            relay's address: one forwarding hop more (what virtualIPs replaces)
#
# Figures: TCP throughput (iperf3, one stream, BENCH_SECONDS measured after 1 s omitted)
# and TCP connect latency (connect-lat.c: from connect() until the server's first byte has
# been read, BENCH_CONNECTS back-to-back connections). Every figure is measured in
# BENCH_ROUNDS rounds (default 5); in each round every path is measured once, in an order
# rotated by one per round, so that all paths share the machine's drift. Throughput: the
# median and min–max of the rounds. Latency: the median and p99 of all connections of all
# rounds, and the min–max of the rounds' medians.
#
# Environment: BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_CONNECTS (300 per round),
# BENCH_NO_BUILD=1 (use build/host-gateway, or HG_BIN, as it is).
#
# Setup: a bridge of ours (10.212.96.0/24), containers attached with the reference bridge +
# host-local plugins and host-gateway chained (hg_chain), no default route in them. The
# host's services (an iperf3 server and connect-lat's accept-and-write-one-byte server)
# listen on the bridge's address and on the hostAlias address only, never on 0.0.0.0.
# Traffic never leaves the bridge: only addresses of the bridge, of our namespaces, and the
# lo alias are used. Everything (netns, bridge, nft tables, listeners, the lo alias, the
# forwarding sysctls) is removed at exit; the host-wide test lock is held throughout.

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SRC/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$SRC/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/bench.sh
. "$SRC/../lib/bench.sh"

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-5}
NCONN=${BENCH_CONNECTS:-300}

cd "$ROOT"
hg_bench_build

hg_init datapath
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
hg_require_bin
hg_require_cmd gcc jq nft ip ss iperf3 socat
hg_bench_require_plugins bridge host-local

BIN=$HG_TMP/bin
mkdir -p "$BIN"
gcc -O2 -Wall -Wextra -Werror -o "$BIN/connect-lat" "$SRC/connect-lat.c"

# ---------------------------------------------------------------- the network
hg_guard_forwarding on

BR=hgt-$$-b
SUBNET=10.212.96.0/24
NET=hgt-datapath
VIP=169.254.1.2      # virtualIPs (DNAT in the container)
ALIAS=169.254.77.9   # virtualIPs + hostAlias (on the host's lo)
P_IPERF=15201
P_LAT=15202
hg_subnet_free "$SUBNET" "$VIP/32" "$ALIAS/32"
for p in $P_IPERF $P_LAT; do
	[ -z "$(ss -Hltn "sport = :$p")" ] || hg_fail "port $p is in use on this host: $(ss -Hltnp "sport = :$p")"
done
if ip -4 -o addr show | grep -qF " $ALIAS/"; then
	hg_fail "$ALIAS is already assigned on this host"
fi
# Should the plugin leak it, it still goes (after the DEL, which runs first).
hg_defer ip addr del "$ALIAS/32" dev lo

ip link add "$BR" type bridge
hg_defer ip link del dev "$BR"

# list HG_ENTRY_JSON|none: the conflist of a container (one network, one IPAM pool; only
# host-gateway's entry differs).
list() {
	if [ "$1" = none ]; then
		hg_bridge_list --no-route "$NET" 1.0.0 "$BR" "$SUBNET" | jq -c 'del(.plugins[1])'
	else
		hg_bridge_list --no-route "$NET" 1.0.0 "$BR" "$SUBNET" "$1"
	fi
}
NAMES='"names": ["host.docker.internal", "host.containers.internal"]'
declare -A NS=() ADDR=()
# container SHORT HG_ENTRY_JSON|none: netns hgt-$$-SHORT attached to the bridge.
container() {
	local ns=hgt-$$-$1 l
	l=$(list "$2")
	hg_netns_add "$ns"
	hg_defer hg_chain DEL "$l" "hgt-$$-$1" "" eth0
	hg_chain ADD "$l" "hgt-$$-$1" "/var/run/netns/$ns" eth0 >"$HG_TMP/result-$1.json" ||
		hg_fail "ADD of $1 failed"
	NS[$1]=$ns
	ADDR[$1]=$(jq -er '.ips[0].address | sub("/.*"; "")' "$HG_TMP/result-$1.json")
}
container gateway "{$NAMES}"
container vip "{$NAMES, \"virtualIPs\": [\"$VIP\"]}"
container lh "{$NAMES, \"localhostPorts\": [\"$P_IPERF\", \"$P_LAT\"]}"
container alias "{$NAMES, \"virtualIPs\": [\"$ALIAS\"], \"hostAlias\": true}"
container socat none
container relayclient none
container relay none
GW=$(jq -er '.ips[0].gateway' "$HG_TMP/result-gateway.json")
ip -4 -o addr show dev lo | grep -qF " $ALIAS/32 " || hg_fail "hostAlias did not put $ALIAS on lo"

# The socat relay in its container, one per port, as people write it.
for p in $P_IPERF $P_LAT; do
	ip netns exec "${NS[socat]}" socat "TCP4-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork" "TCP4:$GW:$p" \
		2>>"$HG_TMP/socat.log" &
	pid=$!
	disown "$pid"
	hg_defer kill "$pid"
done

# The docker-host-style relay: forwarding on in its netns, DNAT of both ports to the
# gateway, masquerade of what was DNATed (the replies must come back through it), no ICMP
# redirects (the packets leave through the interface they came in by).
# shellcheck disable=SC2016 # $k is the inner sh's
ip netns exec "${NS[relay]}" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward
	for k in all default eth0; do echo 0 >/proc/sys/net/ipv4/conf/$k/send_redirects; done'
ip netns exec "${NS[relay]}" nft -f - <<EOF
table ip docker_host_relay {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "eth0" tcp dport { $P_IPERF, $P_LAT } dnat to $GW
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ct status dnat oifname "eth0" masquerade
	}
}
EOF

# The host's services: on the gateway address and on the alias only.
# serve CMD...: started in the background, killed at exit.
serve() {
	"$@" >>"$HG_TMP/servers.log" 2>&1 &
	local pid=$!
	disown "$pid"
	hg_defer kill "$pid"
}
serve iperf3 -s -B "$GW" -p "$P_IPERF"
serve iperf3 -s -B "$ALIAS" -p "$P_IPERF"
serve "$BIN/connect-lat" serve "$GW:$P_LAT" "$ALIAS:$P_LAT"
for a in "$GW:$P_IPERF" "$ALIAS:$P_IPERF" "$GW:$P_LAT" "$ALIAS:$P_LAT"; do
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "src $a")" ] && break
		sleep 0.05
	done
	[ -n "$(ss -Hltn "src $a")" ] || hg_fail "no listener on $a: $(cat "$HG_TMP/servers.log")"
done
for p in $P_IPERF $P_LAT; do
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip netns exec "${NS[socat]}" ss -Hltn "src 127.0.0.1:$p")" ] && break
		sleep 0.05
	done
done

# ---------------------------------------------------------------- the paths
PATHS=(gateway vip lh alias socat relay)
declare -A P_NS=() P_DST=() P_DESC=()
P_NS[gateway]=${NS[gateway]} P_DST[gateway]=$GW
P_DESC[gateway]="(1) host-gateway, names only: the gateway address"
P_NS[vip]=${NS[vip]} P_DST[vip]=$VIP
P_DESC[vip]="(2) host-gateway virtualIPs (DNAT in the container)"
P_NS[lh]=${NS[lh]} P_DST[lh]=127.0.0.1
P_DESC[lh]="(3) host-gateway localhostPorts (DNAT of 127.0.0.1)"
P_NS[alias]=${NS[alias]} P_DST[alias]=$ALIAS
P_DESC[alias]="(4) host-gateway hostAlias (address on the host's lo)"
P_NS[socat]=${NS[socat]} P_DST[socat]=127.0.0.1
P_DESC[socat]="(5) socat relay in the container"
P_NS[relay]=${NS[relayclient]} P_DST[relay]=${ADDR[relay]}
P_DESC[relay]="(6) relay container (netns, nftables DNAT + masquerade)"

# Sanity (not timed): every path answers, and only through what it is meant to use.
[ "$(ip netns exec "${NS[vip]}" nft list tables)" = "table inet host_gateway" ] ||
	hg_fail "virtualIPs: no table inet host_gateway in the container"
[ "$(ip netns exec "${NS[lh]}" nft list tables)" = "table inet host_gateway" ] ||
	hg_fail "localhostPorts: no table inet host_gateway in the container"
[ -z "$(ip netns exec "${NS[gateway]}" nft list tables)$(ip netns exec "${NS[alias]}" nft list tables)" ] ||
	hg_fail "names only / hostAlias: unexpected nftables table in the container"
for p in "${PATHS[@]}"; do
	ip netns exec "${P_NS[$p]}" "$BIN/connect-lat" client -w 0 -n 3 "${P_DST[$p]}:$P_LAT" >/dev/null ||
		hg_fail "path $p: no connection to ${P_DST[$p]}:$P_LAT"
done

# ---------------------------------------------------------------- measuring
RAW=$HG_TMP/raw
mkdir -p "$RAW"
for ((r = 0; r < ROUNDS; r++)); do
	hg_log "round $((r + 1))/$ROUNDS"
	for ((k = 0; k < ${#PATHS[@]}; k++)); do
		p=${PATHS[(k + r) % ${#PATHS[@]}]}
		ip netns exec "${P_NS[$p]}" "$BIN/connect-lat" client -w 5 -n "$NCONN" "${P_DST[$p]}:$P_LAT" \
			>"$RAW/lat-$p-$r" || hg_fail "path $p: connect-lat failed"
		ip netns exec "${P_NS[$p]}" timeout $((SECS + 30)) iperf3 -J -c "${P_DST[$p]}" -p "$P_IPERF" \
			-t "$SECS" -O 1 >"$RAW/iperf-$p-$r.json" || hg_fail "path $p: iperf3 failed: $(jq -r '.error // empty' "$RAW/iperf-$p-$r.json" 2>/dev/null)"
		jq -er '.end.sum_received.bits_per_second / 1e9' "$RAW/iperf-$p-$r.json" >"$RAW/thr-$p-$r" ||
			hg_fail "path $p: no throughput in iperf3's output"
		hg_log "  $p: $(printf '%.2f' "$(cat "$RAW/thr-$p-$r")") Gbit/s, connect median $(sort -n "$RAW/lat-$p-$r" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }') µs"
	done
done

# stats FILE...: "median min max p99 n" of the numbers in the files (median: mean of the
# middle two; p99: nearest rank).
stats() {
	cat "$@" | sort -g | awk '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		k = int(NR * 0.99); if (k < NR * 0.99) k++
		printf "%s %s %s %s %d\n", m, a[1], a[NR], a[k], NR }'
}
declare -A THR=() THR_MIN=() THR_MAX=() LAT=() LAT_P99=() LATR_MIN=() LATR_MAX=() LAT_N=()
for p in "${PATHS[@]}"; do
	read -r "THR[$p]" "THR_MIN[$p]" "THR_MAX[$p]" _ _ < <(stats "$RAW"/thr-"$p"-*)
	read -r "LAT[$p]" _ _ "LAT_P99[$p]" "LAT_N[$p]" < <(stats "$RAW"/lat-"$p"-*)
	for ((r = 0; r < ROUNDS; r++)); do stats "$RAW/lat-$p-$r" | cut -d' ' -f1; done >"$RAW/latmed-$p"
	read -r _ "LATR_MIN[$p]" "LATR_MAX[$p]" _ _ < <(stats "$RAW/latmed-$p")
done

# ---------------------------------------------------------------- the report
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
ge() { awk -v v="$1" -v l="$2" 'BEGIN { print (v >= l ? "met" : "MISSED") }'; }
le() { awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l ? "met" : "MISSED") }'; }

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
build=$(meson introspect "$(dirname "$HG_BIN")" --buildoptions 2>/dev/null |
	jq -r '[.[] | select(.name == "buildtype" or .name == "b_sanitize") | "\(.name)=\(.value)"] | join(" ")' 2>/dev/null || true)
G=gateway
cat <<EOF
host-gateway data-path benchmark: tests/bench/datapath.sh (BENCH_ROUNDS=$ROUNDS BENCH_SECONDS=$SECS BENCH_CONNECTS=$NCONN)
date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')
kernel:   $(uname -sr) $(uname -m)
cpu:      ${cpu:-?} ($(nproc) online); load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end
binary:   $("$HG_BIN" --version | head -n1), $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), ${build:-?}
tools:    $(iperf3 --version | head -n1 | cut -d' ' -f1-2), $(socat -V | awk '/socat version/ && !f { print "socat " $3; f = 1 }'), containernetworking-plugins $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?')
setup:    bridge + host-local (+ host-gateway) on bridge $BR, $SUBNET; the host's servers on $GW and the alias $ALIAS
runs:     $ROUNDS rounds, every path once per round (order rotated); per path and round: $NCONN connects (after 5 unmeasured), then iperf3 -t $SECS -O 1 (one TCP stream)

| path | client connects to | Gbit/s median | min–max | vs (1) | connect+1st byte µs median | p99 | round medians min–max | vs (1) |
|---|---|--:|--:|--:|--:|--:|--:|--:|
EOF
for p in "${PATHS[@]}"; do
	printf '| %s | %s | %.2f | %.2f–%.2f | %s%% | %.0f | %.0f | %.0f–%.0f | %s× |\n' "${P_DESC[$p]}" \
		"${P_DST[$p]}:port" "${THR[$p]}" "${THR_MIN[$p]}" "${THR_MAX[$p]}" \
		"$(calc "100 * ${THR[$p]} / ${THR[$G]}" 0)" "${LAT[$p]}" "${LAT_P99[$p]}" \
		"${LATR_MIN[$p]}" "${LATR_MAX[$p]}" "$(calc "${LAT[$p]} / ${LAT[$G]}")"
done
echo
echo "| target | figure | verdict |"
echo "|---|---|---|"
for p in vip lh alias; do
	rt=$(calc "${THR[$p]} / ${THR[$G]}" 3)
	echo "| (${P_DESC[$p]:1:1}) $p throughput ≥ 95 % of (1) | $(calc "100 * $rt" 1) % ($(calc "${THR[$p]}") / $(calc "${THR[$G]}") Gbit/s) | $(ge "$rt" 0.95) |"
	rl=$(calc "${LAT[$p]} / ${LAT[$G]}" 3)
	echo "| (${P_DESC[$p]:1:1}) $p connect latency ≤ 1.1× (1) | $(calc "$rl")× ($(calc "${LAT[$p]}" 0) / $(calc "${LAT[$G]}" 0) µs) | $(le "$rl" 1.1) |"
done
for p in gateway vip lh alias; do
	rs=$(calc "${THR[$p]} / ${THR[socat]}" 3)
	echo "| (${P_DESC[$p]:1:1}) $p throughput ≥ 3× the socat relay (5) | $(calc "$rs")× ($(calc "${THR[$p]}") / $(calc "${THR[socat]}") Gbit/s) | $(ge "$rs" 3) |"
done
echo
echo "connections measured per path: ${LAT_N[$G]}; relay container (6) vs (1): throughput $(calc "100 * ${THR[relay]} / ${THR[$G]}" 0) %, connect latency $(calc "${LAT[relay]} / ${LAT[$G]}")×; socat (5) connect latency $(calc "${LAT[socat]} / ${LAT[$G]}")× (1)"
