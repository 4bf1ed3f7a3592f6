# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers of the OCI hook e2e tests (issue 4). Sourced, never run; sources common.sh and
# rootfs-lib.sh, so a test needs only:
#   . "$(dirname "$0")/hook-lib.sh"
#   hk_init hook-runc
#
#   hk_config FILE [JSON]       hook config: stateDir $HG_STATE, logFile $HK_LOG,
#                               failurePolicy "fail", merged with JSON
#   hk_netns NAME IDX           netns hgt-$$-NAME with a veth to the host: host side
#                               10.213.IDX.1/24 (HK_HOSTIP[NAME]), container eth0 .2/24
#                               (HK_CIP[NAME]) with a default route via .1; HK_NSPATH[NAME]
#   hk_rootfs DIR [HOSTS_LINE...] a busybox rootfs (copied from one template)
#   hk_bundle DIR CONF NETMODE [HOSTS_SRC]
#                               DIR/config.json from `runc spec` (the rootfs is DIR/rootfs,
#                               made if missing): hooks createRuntime + poststop running
#                               $HG_BIN --config CONF; NETMODE: path:P (network namespace
#                               by path), new (a network namespace the runtime creates),
#                               host (no network namespace entry); HOSTS_SRC: a bind mount
#                               of that file at /etc/hosts. HK_BUNDLE_STAGE=prestart puts
#                               the create hook under prestart instead.
#   hk_bundle_cmd DIR SCRIPT    the container runs `sh -c SCRIPT`
#   hk_run RUNTIME DIR ID       runtime run (foreground, stdout to $HG_TMP/ID.out, stderr to
#                               $HG_TMP/ID.err), returns the runtime's status; the runtime
#                               state, the cgroup and a left container are cleaned at exit
#   hk_rt RUNTIME ARG...        the runtime with its test --root (crun behind the cgroup fix)
#   hk_hook STAGE CONF STATE_JSON [BUNDLE]
#                               the hook run directly as a runtime does it (empty
#                               environment, cwd the bundle, `timeout 5`); stderr to
#                               $HG_TMP/hook.err, returns its status (124 = hung)
#   hk_state_json ID PID BUNDLE [crun|runc]   the OCI state as that runtime sends it
#   hk_fingerprint FILE         "inode size mtime sha256" (for "untouched" asserts)
#   hk_netns_table NAME         the container netns' table inet host_gateway (empty: none)
#   hk_runtime_need RUNTIME     skip unless installed
# The hosts block (hg_block, hg_nblocks, hg_strip), subnets (hg_subnet_free) and hook
# records (hg_nrecords hook) are tests/lib's.

HK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HG_SOURCE_ROOT=${HG_SOURCE_ROOT:-$(cd "$HK_DIR/../../.." && pwd)}
export HG_SOURCE_ROOT
# shellcheck source=../../lib/common.sh
. "$HG_SOURCE_ROOT/tests/lib/common.sh"
# shellcheck source=../rootfs-lib.sh
. "$HG_SOURCE_ROOT/tests/e2e/rootfs-lib.sh"

declare -gA HK_NS=() HK_NSPATH=() HK_HOSTIP=() HK_CIP=()

hk_init() {
	hg_init "$1"
	hg_require_bin
	hg_require_cmd jq socat nft ip unshare nsenter timeout sha256sum
	[ -x "$E2E_BUSYBOX" ] || hg_skip "busybox-static not installed"
	HK_LOG=$HG_TMP/hook.log
	# shellcheck disable=SC2034 # read by the tests
	HK_CID=hgt-$$
	: >"$HK_LOG"
	export HK_LOG
	# A failure shows what the hook logged: its messages are the evidence.
	hg_defer _hk_dump_log
}

_hk_dump_log() {
	[ -s "$HK_LOG" ] || return 0
	echo "---- hook log ($HK_LOG) ----" >&2
	tail -n 40 "$HK_LOG" >&2
}

hk_runtime_need() {
	hg_require_cmd "$1"
	case $1 in crun | runc) ;; *) hg_fail "unknown runtime $1" ;; esac
}

hk_config() {
	local file=$1 extra=${2:-'{}'}
	jq -n --arg s "$HG_STATE" --arg l "$HK_LOG" --argjson x "$extra" \
		'{stateDir: $s, logFile: $l, failurePolicy: "fail"} + $x' >"$file"
}

hk_netns() {
	local name=$1 idx=$2 ns=hgt-$$-$1 host=hgt$$h$2
	[ ${#host} -le 15 ] || hg_fail "link name $host too long"
	hg_subnet_free "10.213.$idx.0/24"
	hg_netns_add "$ns"
	ip link add "$host" type veth peer name eth0 netns "$ns"
	hg_defer e2e_del_link "$host"
	ip addr add "10.213.$idx.1/24" dev "$host"
	ip link set "$host" up
	ip -n "$ns" addr add "10.213.$idx.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "10.213.$idx.1"
	HK_NS[$name]=$ns
	# shellcheck disable=SC2034 # read by the tests
	HK_NSPATH[$name]=/var/run/netns/$ns
	# shellcheck disable=SC2034
	HK_HOSTIP[$name]=10.213.$idx.1
	# shellcheck disable=SC2034
	HK_CIP[$name]=10.213.$idx.2
}

hk_rootfs() {
	local dir=$1
	shift
	if [ ! -d "$HG_TMP/rootfs-template" ]; then
		e2e_make_rootfs "$HG_TMP/rootfs-template" || hg_fail "cannot build the busybox rootfs"
	fi
	mkdir -p "$(dirname "$dir")"
	cp -a "$HG_TMP/rootfs-template" "$dir"
	if [ $# -gt 0 ]; then printf '%s\n' "$@" >>"$dir/etc/hosts"; fi
}

hk_bundle() {
	local dir=$1 conf=$2 mode=$3 src=${4:-} stage=${HK_BUNDLE_STAGE:-createRuntime} ns
	mkdir -p "$dir"
	[ -d "$dir/rootfs" ] || hk_rootfs "$dir/rootfs"
	rm -f "$dir/config.json"
	(cd "$dir" && runc spec) || hg_fail "runc spec failed"
	case $mode in
	path:*) ns=$(jq -n --arg p "${mode#path:}" '{type: "network", path: $p}') ;;
	new) ns='{"type":"network"}' ;;
	host) ns=null ;;
	*) hg_fail "hk_bundle: NETMODE $mode" ;;
	esac
	jq --arg bin "$HG_BIN" --arg conf "$conf" --arg stage "$stage" --argjson ns "$ns" \
		--arg src "$src" --arg cg "/hgt-$$-$(basename "$dir")" '
		.process.terminal = false
		| .process.args = ["sh", "-c", "true"]
		| .root = {path: "rootfs", readonly: false}
		# NET_RAW (as Docker and podman grant it): busybox ping resolves names for the tests.
		| .process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])
		| .linux.cgroupsPath = $cg
		| .linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
			+ (if $ns == null then [] else [$ns] end))
		| if $src != "" then .mounts += [{destination: "/etc/hosts", type: "bind",
			source: $src, options: ["rbind", "rw"]}] else . end
		| .hooks = {
			($stage): [{path: $bin, args: ["host-gateway", "hook", $stage, "--config", $conf]}],
			poststop: [{path: $bin, args: ["host-gateway", "hook", "poststop", "--config", $conf]}]}
		' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

hk_bundle_cmd() {
	local dir=$1 script=$2
	jq --arg s "$script" '.process.args = ["sh", "-c", $s]' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# crun 1.8 refuses this machine's "hybrid" cgroups (a cgroup2 at /sys/fs/cgroup/unified
# owning hugetlb). The fix lives in a private mount namespace per crun command: a tmpfs
# over /sys/fs/cgroup/unified, so crun sees plain v1 cgroups. Nothing changes for the
# rest of the machine, and it is undone by construction when the command exits (the
# kernel-wide alternative of runtimes.md, mounting hugetlb as v1, is not reliably undone
# by umount: see tests/e2e/README.md). Same approach as tests/e2e/podman-lib.sh.
_hk_need_crun_fix() {
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || :)" = tmpfs ] &&
		[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || :)" = cgroup2fs ]
}

hk_rt() {
	local rt=$1
	shift
	mkdir -p "$HG_TMP/$rt-root"
	if [ "$rt" = crun ] && _hk_need_crun_fix; then
		# shellcheck disable=SC2016 # $@ is the inner sh's
		timeout -k 2 60 unshare -m --propagation private -- sh -c \
			'mount -t tmpfs -o size=1m,mode=755 hk-no-unified /sys/fs/cgroup/unified && exec "$@"' \
			sh crun --root "$HG_TMP/crun-root" "$@"
	else
		timeout -k 2 60 "$rt" --root "$HG_TMP/$rt-root" "$@"
	fi
}

hk_run() {
	local rt=$1 dir=$2 id=$3 rc=0
	hg_defer _hk_rt_cleanup "$rt" "$id" "hgt-$$-$(basename "$dir")"
	hk_rt "$rt" run --bundle "$dir" "$id" >"$HG_TMP/$id.out" 2>"$HG_TMP/$id.err" </dev/null || rc=$?
	return "$rc"
}

_hk_rt_cleanup() {
	hk_rt "$1" delete -f "$2" >/dev/null 2>&1 || :
	_e2e_cgroup_kill_rm "$3" || :
}

hk_state_json() {
	local id=$1 pid=$2 bundle=$3 shape=${4:-crun}
	# printf, not jq: the concurrency tests make hundreds (IDs and paths need no escaping).
	if [ "$shape" = crun ]; then
		printf '{"ociVersion":"1.0","id":"%s","pid":%s,"root":"/run/crun/%s","bundle":"%s","status":"created","annotations":{}}\n' \
			"$id" "$pid" "$id" "$bundle"
	else
		printf '{"ociVersion":"1.0.2-dev","id":"%s","status":"creating","pid":%s,"bundle":"%s","annotations":{}}\n' \
			"$id" "$pid" "$bundle"
	fi
}

hk_hook() {
	local stage=$1 conf=$2 state=$3 bundle=${4:-} rc=0
	[ -n "$bundle" ] || bundle=$(jq -r .bundle <<<"$state")
	(cd "$bundle" && printf '%s' "$state" |
		env -i timeout -k 1 5 "$HG_BIN" hook "$stage" --config "$conf") 2>"$HG_TMP/hook.err" || rc=$?
	return "$rc"
}

hk_fingerprint() {
	local f=$1
	printf '%s %s\n' "$(stat -c '%i %s %y' "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
}

hk_netns_table() {
	ip netns exec "${HK_NS[$1]}" nft list table inet host_gateway 2>/dev/null || :
}

# hk_sleeper NAME: a process in netns NAME (a stand-in for the container's init), pid
# printed; killed at exit.
hk_sleeper() {
	local pid
	ip netns exec "${HK_NS[$1]}" sleep 600 </dev/null >/dev/null 2>&1 &
	pid=$!
	disown "$pid"
	hg_defer kill -KILL "$pid"
	echo "$pid"
}
