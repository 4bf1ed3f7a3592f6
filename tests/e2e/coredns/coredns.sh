#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Names through the real CoreDNS (issue 15 §4, issue 20 §1's last sentence), for clients
# that never read /etc/hosts. CoreDNS is built from its release module by
# scripts/install-runtimes.sh (cached); nothing of it is mocked.
#
# The pipeline of docs/kubernetes.md ("Names in pods: CoreDNS"): kubeadm's default Corefile
# (tests/unit/golden/corefile/kubeadm.in) piped through `host-gateway corefile --ip VIP`,
# with two changes made to the input BEFORE the pipe, because this machine has no cluster:
#   - the `kubernetes` plugin's block is dropped: it needs an API server, and without one
#     CoreDNS exits at once ("plugin/kubernetes: unable to load in-cluster configuration,
#     KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
#   - `forward . /etc/resolv.conf` forwards to 127.0.0.1:5353 instead, an upstream of the
#     test's own (a second CoreDNS serving the zone example.test), so that no query
#     leaves the test's namespaces.
# CoreDNS runs that output inside netns DNS (`coredns -conf FILE -dns.port 53`, all of its
# addresses; 10.216.54.1 on a veth to the container). The container netns C is attached
# by the real CNI chain (bridge + host-local + host-gateway with `virtualIPs`, CNI_NETNS a
# /var/run/netns path so that no hosts file is written): inside C, host-gateway's table
# DNATs the VIP to the bridge's host address. C's processes run in a mount namespace of
# the test's own whose /etc/resolv.conf names CoreDNS and whose /etc/hosts has localhost
# only (the machine's /etc is never written). Then, from C:
#   1. getent ahostsv4 (glibc, through resolv.conf): the three default names resolve to
#      the VIP; www.example.test still forwards and resolves (upstream's record);
#   2. nginx (Debian's) with `resolver 10.216.54.1;` and `set $up
#      http://host.docker.internal:PORT; proxy_pass $up;` (a variable: resolved at request
#      time, /etc/hosts ignored; a decoy line for the name in C's /etc/hosts proves it)
#      reaches a "host" nginx listening on the bridge's host address only, through the
#      VIP: the body names C's address as the peer, the proxy's log names VIP:PORT as the
#      upstream;
#   3. `corefile` run again on its own output prints the same bytes, and CoreDNS loaded
#      with that second output starts and answers as before;
#   4. every golden output tests/unit/golden/corefile/*.out is loaded in the real CoreDNS
#      and must start and answer (a refusal is a product defect: the test fails with
#      CoreDNS's own message). Changed in each before loading, and only this: the
#      `kubernetes` plugin (line or block) dropped; every `forward . X` forwards to the
#      test's upstream; /etc/coredns/NodeHosts and /etc/coredns/custom/ (k3s) point into
#      the test's folder (a NodeHosts file with one node line; the custom folder empty,
#      except for k3s-override.out, which is a snippet and is loaded the way k3s loads it:
#      as custom/host-gateway.override imported by k3s.in, edited the same way). Each
#      `VIP NAME... # host-gateway` line's names must answer VIP; plus a forwarded name, a
#      NodeHosts name, the other inline entries, as each Corefile has them.
# At the end: the host as before (nft ruleset, links, routes, addresses, forwarding),
# the machine's /etc/hosts and /etc/resolv.conf untouched, no record left.
# shellcheck source-path=SCRIPTDIR source=../cni/e2e-cni-lib.sh
. "$(dirname "$0")/../cni/e2e-cni-lib.sh"
# shellcheck source=../../integration/nat/nat-lib.sh
. "$(dirname "$0")/../../integration/nat/nat-lib.sh"
# Built by scripts/test.sh before the suite; here it only waits for a build in progress
# (the script's lock) or finds the cache. Before hgn_init: a build under the host lock
# would hold up every other test on the machine.
if [ "$(id -u)" -eq 0 ]; then
	runtime_env=$("$HG_SOURCE_ROOT/scripts/install-runtimes.sh" --print-env coredns) ||
		hg_fail "scripts/install-runtimes.sh could not build CoreDNS"
	eval "$runtime_env"
fi
hgn_init e2e-coredns
hg_require_cmd nginx dig getent busybox flock
T_START=$(date +%s%N)
COREDNS=$HG_COREDNS_BIN/coredns
[ -x "$COREDNS" ] || hg_fail "no CoreDNS binary at $COREDNS"
hg_log "CoreDNS $HG_COREDNS_VERSION: $("$COREDNS" -version | sed -n 1p)"

GOLDEN=$HG_SOURCE_ROOT/tests/unit/golden/corefile
VIP=169.254.1.2
SUBNET=10.216.53.0/24 # the CNI bridge network (C's eth0)
DNSNET=10.216.54.0/24 # the veth between C and DNS
DNS_IP=10.216.54.1
C_DNS_IP=10.216.54.2
UPSTREAM=127.0.0.1:5353 # inside DNS: the second CoreDNS, zone example.test
UP_NAME=www.example.test
UP_ADDR=198.51.100.80 # a record of that zone (documentation range: only ever an answer)
P_HOST=28916          # the "host" nginx, on the bridge's address in the root netns
P_PROXY=28917         # the proxy nginx, on C's own address in C
NET=hgt-coredns
BR=hgt-$$-b
hg_subnet_free "$SUBNET" "$DNSNET"
ec_port_free "$P_HOST" "$P_PROXY"

machine_files() { sha256sum /etc/hosts /etc/resolv.conf; }
machine_files >"$HG_TMP/machine.before"
hg_guard_forwarding on
# shellcheck disable=SC2119 # no directories: records are checked at the end
hg_snapshot_host

# ---- helpers ------------------------------------------------------------------------

# cd_edit FILE: FILE with what needs a cluster or the machine replaced (see the header),
# on stdout.
cd_edit() {
	awk -v up="$UPSTREAM" -v dir="$HG_TMP/coredns-etc" '
		# Inside a dropped block: count braces until it closes.
		skip > 0 { skip += gsub(/\{/, "{") - gsub(/\}/, "}"); next }
		$1 == "kubernetes" { skip = gsub(/\{/, "{") - gsub(/\}/, "}"); next }
		$1 == "forward" { sub(/forward[ \t]+\.[ \t]+[^ \t{]+/, "forward . " up) }
		{ gsub("/etc/coredns/", dir "/"); print }' "$1"
}

# defer_kill PID: PID killed at exit while it is still the process started here (its start
# time unchanged). CoreDNS and nginx are stopped and started again and again during the
# test; by its exit their old pids may be any other program's (pids wrap on a busy machine).
defer_kill() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }') || :
	[ -n "$st" ] || return 0
	hg_defer _kill_if_same "$1" "$st"
}
_kill_if_same() {
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }')" = "$2" ] || return 0
	kill -KILL "$1"
}

# cd_start TAG CONF: CoreDNS with CONF in netns DNS (its log: $HG_TMP/coredns-TAG.log);
# sets CD_PID. Killed at exit.
cd_start() {
	ip netns exec "$DNSNS" "$COREDNS" -conf "$2" -dns.port 53 >"$HG_TMP/coredns-$1.log" 2>&1 &
	CD_PID=$!
	disown "$CD_PID"
	defer_kill "$CD_PID"
}

# cd_alive: CD_PID runs (a zombie does not: it waits to be reaped).
cd_alive() {
	[ "$(awk '/^State:/ { print $2 }' "/proc/$CD_PID/status" 2>/dev/null || :)" != Z ] &&
		kill -0 "$CD_PID" 2>/dev/null
}

# cd_stop: kill CD_PID, until it is gone (its ports are free then).
cd_stop() {
	local i
	kill -KILL "$CD_PID" 2>/dev/null || :
	for ((i = 0; i < 100; i++)); do
		cd_alive || return 0
		sleep 0.05
	done
	hg_fail "CoreDNS (pid $CD_PID) did not die"
}

# cd_query SERVER[:PORT] NAME TYPE: "RCODE [ANSWER...]" of one query, asked from netns DNS
# (answers of TYPE only); "" when nothing answered.
cd_query() {
	local out port=53 server=$1
	case $server in *:*) port=${server##*:} server=${server%:*} ;; esac
	out=$(ip netns exec "$DNSNS" dig +time=1 +tries=1 -p "$port" "@$server" "$2" "$3" +noall +comments +answer 2>&1) || :
	awk -v t="$3" '
		/status: / { s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s) }
		$1 !~ /^;/ && NF >= 5 && $4 == t { a = a " " $5 }
		END { if (s != "") print s a }' <<<"$out"
}

# cd_ready TAG NAME TYPE: until CoreDNS (CD_PID) answers NAME, for up to 15 s; fails with
# CoreDNS's log when it exits first (it refused its Corefile) or never answers.
cd_ready() {
	local i out
	for ((i = 0; i < 150; i++)); do
		if ! cd_alive; then
			hg_fail "CoreDNS $HG_COREDNS_VERSION refused the Corefile of $1 (it exited); its log:"$'\n'"$(cat "$HG_TMP/coredns-$1.log")"
		fi
		out=$(cd_query 127.0.0.1 "$2" "$3")
		[ -n "$out" ] && return 0
		sleep 0.1
	done
	hg_fail "CoreDNS ($1) answers nothing after 15 s; its log:"$'\n'"$(cat "$HG_TMP/coredns-$1.log")"
}

# cd_expect TAG NAME TYPE WANT: CoreDNS's answer to NAME is WANT ("RCODE ANSWER...").
cd_expect() {
	hg_assert_eq "$(cd_query 127.0.0.1 "$2" "$3")" "$4" "$1: $2 $3"
}

# in_c CMD...: CMD in C's network and mount namespaces (its resolv.conf and hosts).
in_c() { nsenter -t "$C_PID" -m -n "$@"; }

# c_resolve NAME: the first IPv4 address glibc in C gives for NAME ("" for none).
c_resolve() { in_c getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }' || :; }

# nginx_conf DIR HTTP-DIRECTIVES: DIR/nginx.conf, with paths in DIR only (pid, logs, temp
# paths), one process in the foreground.
nginx_conf() {
	mkdir -p "$1/tmp"
	cat >"$1/nginx.conf" <<-EOF
		daemon off;
		master_process off;
		pid $1/nginx.pid;
		error_log $1/error.log info;
		events { worker_connections 64; }
		http {
		    log_format hg '\$remote_addr "\$request" \$status upstream=\$upstream_addr';
		    access_log $1/access.log hg;
		    client_body_temp_path $1/tmp/body;
		    proxy_temp_path $1/tmp/proxy;
		    fastcgi_temp_path $1/tmp/fastcgi;
		    uwsgi_temp_path $1/tmp/uwsgi;
		    scgi_temp_path $1/tmp/scgi;
		    default_type text/plain;
		$2
		}
	EOF
}

# nginx_start NS DIR PORT [CMD-PREFIX...]: nginx with DIR's config, through CMD-PREFIX
# (the namespaces it runs in), killed at exit; until it listens on PORT in NS. Sets
# NGINX_PID.
nginx_start() {
	local ns=$1 dir=$2 port=$3
	shift 3
	"$@" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>>"$dir/stderr.log" &
	NGINX_PID=$!
	disown "$NGINX_PID"
	defer_kill "$NGINX_PID"
	_hg_wait_port "$ns" tcp "$port" "$NGINX_PID" ||
		hg_fail "nginx ($dir) did not start: $(cat "$dir/stderr.log" "$dir/error.log" 2>/dev/null)"
}

# ---- the namespaces: DNS, C attached by the CNI chain, C's mount namespace -------------
DNSNS=hgt-$$-dns
hg_netns_add "$DNSNS"
hgn_container c
CNS=${HGN_NSNAME[c]}
# The veth lives in the two test namespaces only (made in C, its peer moved to DNS).
ip -n "$CNS" link add dns0 type veth peer name c0 netns "$DNSNS"
ip -n "$CNS" addr add "$C_DNS_IP/24" dev dns0
ip -n "$DNSNS" addr add "$DNS_IP/24" dev c0
ip -n "$CNS" link set dns0 up
ip -n "$DNSNS" link set c0 up

hgn_bridge "$BR" "$SUBNET"
LIST=$HG_TMP/net.conflist
hg_bridge_list --no-route "$NET" 1.0.0 "$BR" "$SUBNET" "{\"virtualIPs\":[\"$VIP\"]}" >"$LIST"
hgn_add c "$LIST" || hg_fail "CNI ADD failed"
GW=$(hgn_gateway c)
C_IP=$(hgn_address c)
hg_log "C: $C_IP (gateway $GW) on $BR, $C_DNS_IP on the veth to DNS ($DNS_IP)"
hg_assert_contains "$(ip netns exec "$CNS" nft list table inet host_gateway)" "ip daddr $VIP dnat ip to $GW" \
	"host-gateway's DNAT of the VIP in C"

mkdir -p "$HG_TMP/c-etc"
printf 'nameserver %s\noptions timeout:1 attempts:3\n' "$DNS_IP" >"$HG_TMP/c-etc/resolv.conf"
C_HOSTS=$'127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
printf '%s' "$C_HOSTS" >"$HG_TMP/c-etc/hosts"
# shellcheck disable=SC2016 # $1 is the inner sh's
hg_container_proc_with "$CNS" 'mount --bind "$1/resolv.conf" /etc/resolv.conf && mount --bind "$1/hosts" /etc/hosts' \
	"$HG_TMP/c-etc"
C_PID=$HG_CONTAINER_PID
hg_assert_eq "$(in_c cat /etc/resolv.conf | head -n1)" "nameserver $DNS_IP" "C's resolv.conf"

# ---- the upstream: a second CoreDNS, zone example.test on 127.0.0.1:5353 in DNS -------
mkdir -p "$HG_TMP/upstream" "$HG_TMP/coredns-etc/custom"
cat >"$HG_TMP/upstream/example.test.zone" <<EOF
\$ORIGIN example.test.
@    3600 IN SOA ns.example.test. hostmaster.example.test. 1 7200 3600 1209600 3600
@    3600 IN NS  ns.example.test.
ns   3600 IN A   127.0.0.1
www  3600 IN A   $UP_ADDR
EOF
cat >"$HG_TMP/upstream/Corefile" <<EOF
example.test:${UPSTREAM##*:} {
    bind ${UPSTREAM%:*}
    file $HG_TMP/upstream/example.test.zone
}
EOF
ip netns exec "$DNSNS" "$COREDNS" -conf "$HG_TMP/upstream/Corefile" >"$HG_TMP/upstream.log" 2>&1 &
UP_PID=$!
disown "$UP_PID"
defer_kill "$UP_PID"
for ((i = 0; i < 150; i++)); do
	kill -0 "$UP_PID" 2>/dev/null || hg_fail "upstream CoreDNS exited: $(cat "$HG_TMP/upstream.log")"
	[ -n "$(cd_query "$UPSTREAM" "$UP_NAME" A)" ] && break
	sleep 0.1
done
hg_assert_eq "$(cd_query "$UPSTREAM" "$UP_NAME" A)" "NOERROR $UP_ADDR" "the upstream serves $UP_NAME"

# The files the goldens' paths are pointed at (the k3s shapes).
printf '198.51.100.7 node1\n' >"$HG_TMP/coredns-etc/NodeHosts"

# ---- 1. docs/kubernetes.md's pipeline on kubeadm's Corefile, served by the real CoreDNS -
cd_edit "$GOLDEN/kubeadm.in" >"$HG_TMP/kubeadm.in"
hg_log "kubeadm.in as piped (diff against the golden input):"$'\n'"$(diff -u "$GOLDEN/kubeadm.in" "$HG_TMP/kubeadm.in" || :)"
"$HG_BIN" corefile --ip "$VIP" <"$HG_TMP/kubeadm.in" >"$HG_TMP/Corefile" || hg_fail "corefile: exit $?"
hg_log "Corefile served:"$'\n'"$(cat "$HG_TMP/Corefile")"
cd_start main "$HG_TMP/Corefile"
cd_ready main host.docker.internal A
hg_log "CoreDNS serves on $DNS_IP:53 in $DNSNS (pid $CD_PID)"

for name in $HG_DEFAULT_NAMES; do
	hg_assert_eq "$(c_resolve "$name")" "$VIP" "getent ahostsv4 $name in C (through CoreDNS)"
done
hg_assert_eq "$(c_resolve "$UP_NAME")" "$UP_ADDR" "getent ahostsv4 $UP_NAME in C (forwarded upstream)"
hg_log "ok: the names resolve to $VIP in C through CoreDNS; $UP_NAME still forwards"

# ---- 2. nginx resolving at request time, through the VIP to the host ------------------
hg_log "host listener: nginx on $GW:$P_HOST (root netns)"
nginx_conf "$HG_TMP/nginx-host" "server {
    listen $GW:$P_HOST;
    location / { return 200 \"hello-from-the-host peer=\$remote_addr\\n\"; }
}"
nginx_start - "$HG_TMP/nginx-host" "$P_HOST"
HOST_NGINX_PID=$NGINX_PID
# The decoy: if nginx read /etc/hosts, it would go to 192.0.2.1 (no route in C: it fails).
printf '192.0.2.1\thost.docker.internal\n' >>"$HG_TMP/c-etc/hosts"
nginx_conf "$HG_TMP/nginx-proxy" "resolver $DNS_IP ipv6=off valid=5s;
resolver_timeout 3s;
server {
    listen $C_IP:$P_PROXY;
    location / {
        set \$up http://host.docker.internal:$P_HOST;
        proxy_pass \$up;
    }
}"
nginx_start "$CNS" "$HG_TMP/nginx-proxy" "$P_PROXY" nsenter -t "$C_PID" -m -n
body=$(in_c timeout 10 busybox wget -q -Y off -O - "http://$C_IP:$P_PROXY/" 2>"$HG_TMP/wget.err") ||
	hg_fail "wget through the proxy nginx failed: $(cat "$HG_TMP/wget.err"); the proxy's error log:"$'\n'"$(cat "$HG_TMP/nginx-proxy/error.log")"
hg_assert_eq "$body" "hello-from-the-host peer=$C_IP" "the host listener's body through nginx in C"
hg_assert_contains "$(cat "$HG_TMP/nginx-proxy/access.log")" " 200 upstream=$VIP:$P_HOST" \
	"the proxy nginx went to the VIP (resolved by CoreDNS, not the decoy in /etc/hosts)"
hg_assert_contains "$(cat "$HG_TMP/nginx-host/access.log")" "$C_IP \"GET / HTTP/1.0\" 200" \
	"the host nginx got the request from C's address"
hg_log "ok: nginx in C reached the host listener through $VIP (decoy in C's /etc/hosts ignored)"
hg_log "proxy's access log: $(cat "$HG_TMP/nginx-proxy/access.log")"
kill -KILL "$HOST_NGINX_PID"
# The decoy goes before glibc is asked again (rewritten in place: it is bind-mounted).
printf '%s' "$C_HOSTS" >"$HG_TMP/c-etc/hosts"

# ---- 3. idempotent: the output piped again, and CoreDNS loading that --------------------
"$HG_BIN" corefile --ip "$VIP" <"$HG_TMP/Corefile" >"$HG_TMP/Corefile.2" || hg_fail "corefile, second run: exit $?"
cmp "$HG_TMP/Corefile" "$HG_TMP/Corefile.2" || {
	diff -u "$HG_TMP/Corefile" "$HG_TMP/Corefile.2" >&2 || :
	hg_fail "corefile on its own output changed it"
}
cd_stop
cd_start second "$HG_TMP/Corefile.2"
cd_ready second host.docker.internal A
hg_assert_eq "$(c_resolve host.docker.internal)" "$VIP" "host.docker.internal in C, CoreDNS on the second output"
hg_assert_eq "$(c_resolve "$UP_NAME")" "$UP_ADDR" "$UP_NAME in C, CoreDNS on the second output"
hg_log "ok: the second run printed the same bytes; CoreDNS loads and answers them"
cd_stop

# ---- 4. every golden output in the real CoreDNS --------------------------------------
# gold_load TAG FILE QUERY...: FILE edited (cd_edit) and loaded; every `VIP NAME... #
# host-gateway` line of FILE answers VIP for each NAME, and each QUERY "NAME TYPE=WANT"
# gets WANT.
gold_load() {
	local tag=$1 file=$2 conf=$HG_TMP/gold-$1.Corefile q ip names n type first=
	shift 2
	cd_edit "$file" >"$conf"
	hg_log "$tag: loaded with these changes:"$'\n'"$(diff -u "$file" "$conf" | tail -n +3 || :)"
	while read -r ip names; do
		type=A
		case $ip in *:*) type=AAAA ;; esac
		# shellcheck disable=SC2086 # the names, one per word
		for n in ${names%%#*}; do
			first=${first:-"$n $type"}
			set -- "$@" "$n $type=NOERROR $ip"
		done
	done < <(awk '/# host-gateway$/ { print }' "$file")
	[ $# -gt 0 ] || hg_fail "$tag: nothing to ask"
	cd_start "$tag" "$conf"
	# shellcheck disable=SC2086 # "NAME TYPE"
	cd_ready "$tag" ${first:-${1%%=*}}
	for q; do
		# shellcheck disable=SC2086 # "NAME TYPE"
		cd_expect "$tag" ${q%%=*} "${q#*=}"
	done
	hg_log "ok: $tag: CoreDNS $HG_COREDNS_VERSION loads it and answers $# queries$(
		grep -E '\[(WARNING|ERROR)\]' "$HG_TMP/coredns-$tag.log" | sed 's/^/; log: /' | paste -sd' ' || :)"
	cd_stop
}
for f in "$GOLDEN"/*.out; do
	g=$(basename "$f" .out)
	case $g in
	kubeadm) gold_load "$g" "$f" "$UP_NAME A=NOERROR $UP_ADDR" ;;
	k3s) gold_load "$g" "$f" "$UP_NAME A=NOERROR $UP_ADDR" "node1 A=NOERROR 198.51.100.7" ;;
	hosts-old-vip) gold_load "$g" "$f" "$UP_NAME A=NOERROR $UP_ADDR" "registry.local A=NOERROR 10.0.0.5" \
		"node1 A=NOERROR 198.51.100.7" ;;
	tabs) gold_load "$g" "$f" "$UP_NAME A=NOERROR $UP_ADDR" ;;
	multi-block) gold_load "$g" "$f" "www.example.org A=NOERROR 10.1.2.3" ;;
	# Issue 20 §1: the names in a snippet's hosts block; in a block that was `{ }` on one
	# line (it has no fallthrough: nothing else is forwarded); after a no-break space.
	import-snippet | unicode-space) gold_load "$g" "$f" "$UP_NAME A=NOERROR $UP_ADDR" "node1 A=NOERROR 198.51.100.7" ;;
	hosts-empty-block) gold_load "$g" "$f" "node1 A=NOERROR 198.51.100.7" ;;
	k3s-override)
		# A snippet: k3s imports it into its main block (k3s.in, edited like the others).
		# Without it, these names would go upstream, which refuses them.
		cp "$f" "$HG_TMP/coredns-etc/custom/host-gateway.override"
		queries=("$UP_NAME A=NOERROR $UP_ADDR" "node1 A=NOERROR 198.51.100.7")
		for n in $HG_DEFAULT_NAMES; do
			grep -qF "template IN A $n {" "$f" || hg_fail "k3s-override.out has no template for $n"
			queries+=("$n A=NOERROR $VIP" "$n AAAA=NOERROR")
		done
		gold_load k3s-override "$GOLDEN/k3s.in" "${queries[@]}"
		rm "$HG_TMP/coredns-etc/custom/host-gateway.override"
		;;
	*) gold_load "$g" "$f" ;; # a new golden: its host-gateway lines at least
	esac
done

# ---- the end: nothing left ----------------------------------------------------------
hgn_del c "$LIST" || hg_fail "CNI DEL failed"
[ "$(hg_nrecords "cni/$NET")" -eq 0 ] || hg_fail "records left: $(hg_records "cni/$NET")"
hg_netns_del "$CNS"
hg_netns_del "$DNSNS"
ip link del dev "$BR"
hg_assert_host_unchanged
machine_files >"$HG_TMP/machine.after"
diff -u "$HG_TMP/machine.before" "$HG_TMP/machine.after" >&2 ||
	hg_fail "the machine's /etc/hosts or /etc/resolv.conf changed"
hg_log "PASS in $((($(date +%s%N) - T_START) / 1000000)) ms (after the host lock; CoreDNS $HG_COREDNS_VERSION)"
