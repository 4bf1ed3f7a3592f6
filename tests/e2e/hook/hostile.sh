#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile images (issue 4, Safety): the hook runs as root over files an image controls.
# Each case is a rootfs (or an /etc/hosts mount source) crafted to make the hook write
# outside the container, block, or eat memory. Every one must be refused with exactly
# one log line, and the target outside (a canary file in $HG_TMP, and the machine's
# /etc/hosts, which is only ever read here) must keep its checksum, inode and mtime.
#
# Driven through `host-gateway hook createRuntime` directly (hand-written OCI state and
# config.json, empty environment, cwd the bundle, `timeout 5`), each case in two bundle
# shapes: a network namespace by path (the hook does its plumbing first) and host
# network. Then the /etc -> / case through a real runc run (fail: refused; ignore: the
# container starts) and, when installed, crun.
. "$(dirname "$0")/hook-lib.sh"
hk_init hook-hostile
hk_runtime_need runc
hg_guard_forwarding
hk_netns c1 73

# The canary is a file named "hosts" in a host directory: the target of a symlinked
# /etc/hosts as well as of a symlinked /etc.
OUTSIDE=$HG_TMP/outside
CANARY=$OUTSIDE/hosts
mkdir "$OUTSIDE"
printf '127.0.0.1\tlocalhost\n10.1.1.1\tcanary.example\n' >"$CANARY"
touch -d '2001-02-03 04:05:06' "$CANARY"
canary_fp=$(hk_fingerprint "$CANARY")
etc_fp=$(hk_fingerprint /etc/hosts)
conf=$HG_TMP/hook.json conf_ignore=$HG_TMP/hook-ignore.json
hk_config "$conf"
hk_config "$conf_ignore" '{"failurePolicy":"ignore"}'

_hk_untouched() {
	hg_assert_eq "$(hk_fingerprint "$CANARY")" "$canary_fp" "$1: the canary outside the container is untouched"
	hg_assert_eq "$(hk_fingerprint /etc/hosts)" "$etc_fp" "$1: the machine's /etc/hosts is untouched"
}

# _hk_refused CASE SHAPE CONF WANT_RC WHY [HOSTS_SRC]: run createRuntime on bundle
# $HG_TMP/CASE-SHAPE (rootfs already crafted) and check the refusal.
_hk_refused() {
	local name=$1 shape=$2 cf=$3 want=$4 why=$5 src=${6:-} b id mode rc=0 err t0 ms
	b=$HG_TMP/$name-$shape id=$HK_CID-$name-$shape
	mode=host
	[ "$shape" = netns ] && mode=path:${HK_NSPATH[c1]}
	hk_bundle "$b" "$cf" "$mode" "$src"
	t0=$(e2e_now_ms)
	hk_hook createRuntime "$cf" "$(hk_state_json "$id" 1 "$b")" || rc=$?
	ms=$(($(e2e_now_ms) - t0))
	err=$(cat "$HG_TMP/hook.err")
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || hg_fail "$name/$shape: the hook hung (killed by timeout 5)"
	hg_assert_eq "$rc" "$want" "$name/$shape: exit status (stderr: $err)"
	hg_assert_eq "$(grep -c . <<<"$err")" 1 "$name/$shape: exactly one log line"
	hg_assert_contains "$err" "$why" "$name/$shape: the line says why"
	_hk_untouched "$name/$shape"
	# What a runtime does next: poststop (runc runs it after a failed createRuntime too).
	hk_hook poststop "$cf" "$(hk_state_json "$id" 0 "$b")" || hg_fail "$name/$shape: poststop exit $?"
	hg_log "$name/$shape: refused in $ms ms: $err"
}

# _hk_case NAME WHY SETUP_FN: for both shapes, a fresh rootfs crafted by SETUP_FN ROOTFS.
_hk_case() {
	local name=$1 why=$2 fn=$3 shape
	for shape in netns host; do
		hk_rootfs "$HG_TMP/$name-$shape/rootfs"
		"$fn" "$HG_TMP/$name-$shape/rootfs"
		_hk_refused "$name" "$shape" "$conf" 1 "$why"
	done
}

abs_link() { ln -sfn "$CANARY" "${1:?}/etc/hosts"; }
rel_link() { ln -sfn "../../../../../../../../../..$CANARY" "${1:?}/etc/hosts"; }
etc_root() { rm -rf "${1:?}/etc"; ln -s / "$1/etc"; }
etc_up() { rm -rf "${1:?}/etc"; ln -s ../../../../../../../../etc "$1/etc"; }
etc_outside() { rm -rf "${1:?}/etc"; ln -s "$OUTSIDE" "$1/etc"; }
etc_outside_rel() { rm -rf "${1:?}/etc"; ln -s "../../../../../../../../..$OUTSIDE" "$1/etc"; }
fifo() { rm -f "${1:?}/etc/hosts"; mkfifo "$1/etc/hosts"; }
dir() { rm -f "${1:?}/etc/hosts"; mkdir "$1/etc/hosts"; }
devnull() { rm -f "${1:?}/etc/hosts"; mknod -m 666 "$1/etc/hosts" c 1 3; }
sparse() { rm -f "${1:?}/etc/hosts"; truncate -s 2G "$1/etc/hosts"; }

_hk_case abs-symlink "symbolic link" abs_link
_hk_case rel-symlink "symbolic link" rel_link
# /etc -> /: inside the root, /etc/hosts is ROOT/hosts, which does not exist.
_hk_case etc-to-root "/etc/hosts" etc_root
_hk_case etc-up "/etc/hosts" etc_up
# /etc -> the canary's directory, absolute and relative.
_hk_case etc-outside "/etc/hosts" etc_outside
_hk_case etc-outside-rel "/etc/hosts" etc_outside_rel
_hk_case fifo "not a regular file" fifo
_hk_case directory "not a regular file" dir
_hk_case device "not a regular file" devnull
_hk_case sparse-2g "larger than" sparse
# The 2 GiB file is left as it was (no truncation, no write).
hg_assert_eq "$(stat -c %s "$HG_TMP/sparse-2g-host/rootfs/etc/hosts")" 2147483648 "sparse-2g: size kept"
hg_assert_eq "$(du -k "$HG_TMP/sparse-2g-host/rootfs/etc/hosts" | cut -f1)" 0 "sparse-2g: still sparse (nothing written)"

# The policy "ignore" refuses just the same, with status 0.
hk_rootfs "$HG_TMP/ign-host/rootfs"
abs_link "$HG_TMP/ign-host/rootfs"
_hk_refused ign host "$conf_ignore" 0 "symbolic link"

# /etc/hosts mount sources: a symlink to the canary, a directory, a FIFO.
ln -s "$CANARY" "$HG_TMP/src-link"
mkdir "$HG_TMP/src-dir"
mkfifo "$HG_TMP/src-fifo"
for s in link dir fifo; do
	why="not a regular file"
	[ $s = link ] && why="symbolic link"
	for shape in netns host; do
		_hk_refused "src-$s" "$shape" "$conf" 1 "$why" "$HG_TMP/src-$s"
	done
done
# A relative mount source is refused at parse time.
b=$HG_TMP/src-rel
hk_bundle "$b" "$conf" host "$CANARY"
jq '(.mounts[] | select(.destination == "/etc/hosts")).source = "outside/hosts"' "$b/config.json" >"$b/c.new"
mv "$b/c.new" "$b/config.json"
rc=0
hk_hook createRuntime "$conf" "$(hk_state_json "$HK_CID-src-rel" 1 "$b")" || rc=$?
hg_assert_eq "$rc" 1 "relative mount source: refused ($(cat "$HG_TMP/hook.err"))"
hg_assert_contains "$(cat "$HG_TMP/hook.err")" "not absolute" "relative mount source: says why"
_hk_untouched "relative mount source"

# No records or tables left by all of the above (poststop ran for each).
[ -z "$(hk_netns_table c1)" ] || hg_fail "table left in the container netns: $(hk_netns_table c1)"
if [ -d "$HG_STATE/hook" ] && [ -n "$(ls -A "$HG_STATE/hook")" ]; then
	hg_fail "records left: $(ls -A "$HG_STATE/hook")"
fi

# ---- /etc -> / through real runtimes ----------------------------------------------------
read -ra runtimes <<<"${HK_RUNTIMES:-runc crun}"
for rt in "${runtimes[@]}"; do
	command -v "$rt" >/dev/null || { hg_log "$rt not installed, skipped"; continue; }
	for policy in fail ignore; do
		b=$HG_TMP/rt-$rt-$policy id=$HK_CID-rt-$rt-$policy cf=$conf
		[ "$policy" = ignore ] && cf=$conf_ignore
		hk_rootfs "$b/rootfs"
		# busybox stays reachable: only /etc is swapped for a link to /.
		etc_root "$b/rootfs"
		hk_bundle "$b" "$cf" "path:${HK_NSPATH[c1]}"
		hk_bundle_cmd "$b" 'echo started'
		rc=0
		hk_run "$rt" "$b" "$id" || rc=$?
		if [ "$policy" = fail ]; then
			[ "$rc" -ne 0 ] || hg_fail "$rt /etc->/ fail: the container started"
		else
			hg_assert_eq "$rc" 0 "$rt /etc->/ ignore: status ($(cat "$HG_TMP/$id.err"))"
			hg_assert_eq "$(cat "$HG_TMP/$id.out")" started "$rt /etc->/ ignore: the container ran"
		fi
		grep "hook createRuntime $id:" "$HK_LOG" | grep -q "/etc/hosts" ||
			hg_fail "$rt /etc->/ $policy: no refusal line in the hook log"
		_hk_untouched "$rt /etc->/ $policy"
		hk_rt "$rt" delete -f "$id" >/dev/null 2>&1 || :
		hg_log "$rt /etc->/ $policy: ok (status $rc)"
	done
done
hg_log PASS
