# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Run a CNI conflist by hand the way libcni v1.1.2 does (sourced by common.sh).
# Needs HG_TMP and HG_CNI_PATH from hg_init.
#
# Differences from libcni kept on purpose (tests/tools/cni-client is the
# real thing when they matter):
#  - results are passed on verbatim (libcni re-encodes them through its Go
#    types, dropping unknown fields and converting the cached result's
#    version to the list's);
#  - plugin stderr is always passed through (libcni shows it on success, and
#    on failure only when stdout is empty);
#  - the cache holds the bare result, not libcni's cniCacheV1 wrapper.
#
# HG_EXEC_NETNS=NS runs the plugins under `ip netns exec NS` (a "node" netns
# for kind-style nesting).

# _hg_ver_ge A B: version A >= version B.
_hg_ver_ge() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# _hg_find_plugin TYPE: first executable TYPE in CNI_PATH, like FindInPath.
_hg_find_plugin() {
	local d dirs
	IFS=: read -ra dirs <<<"$HG_CNI_PATH"
	for d in "${dirs[@]}"; do
		[ -n "$d" ] && [ -x "$d/$1" ] && [ ! -d "$d/$1" ] && echo "$d/$1" && return 0
	done
	echo "failed to find plugin \"$1\" in path [$HG_CNI_PATH]" >&2
	return 1
}

# _hg_exec PLUGIN CMD CID NETNS IFNAME ARGS <CONF: all six CNI_* variables
# exported, empty ones included, as libcni does.
_hg_exec() {
	local pre=()
	[ -n "${HG_EXEC_NETNS:-}" ] && pre=(ip netns exec "$HG_EXEC_NETNS")
	CNI_COMMAND=$2 CNI_CONTAINERID=$3 CNI_NETNS=$4 CNI_IFNAME=$5 CNI_ARGS=$6 \
		CNI_PATH=$HG_CNI_PATH "${pre[@]}" "$1"
}

# hg_chain CMD CONFLIST CID NETNS IFNAME [CNI_ARGS] [RUNTIME_CONFIG_JSON]
#   CMD: ADD|CHECK|DEL. CONFLIST: a file or the JSON text itself. NETNS: a
#   path (/var/run/netns/NAME), may be empty for DEL. ADD prints the final
#   result. On failure the plugin's stdout goes to stderr and its exit code
#   is returned.
hg_chain() {
	local cmd=$1 list=$2 cid=$3 netns=$4 ifname=$5 args=${6:-} rc_json=${7:-'{}'}
	local name ver n i idx conf prev='' plugin out rc cache
	[ -f "$list" ] && list=$(cat "$list")
	name=$(jq -er '.name | strings' <<<"$list") || {
		echo "hg_chain: conflist has no name" >&2
		return 1
	}
	ver=$(jq -r '.cniVersion // "0.1.0"' <<<"$list")
	n=$(jq '.plugins | length' <<<"$list")
	mkdir -p "$HG_TMP/cache"
	cache=$HG_TMP/cache/$cid-$ifname.json

	case $cmd in
	ADD) ;;
	CHECK)
		_hg_ver_ge "$ver" 0.4.0 || {
			echo "hg_chain: configuration version \"$ver\" does not support the CHECK command" >&2
			return 1
		}
		[ "$(jq '.disableCheck // false' <<<"$list")" = true ] && return 0
		[ -f "$cache" ] && prev=$(cat "$cache")
		;;
	DEL)
		# Below 0.4.0 DEL gets no prevResult even when a result is cached.
		_hg_ver_ge "$ver" 0.4.0 && [ -f "$cache" ] && prev=$(cat "$cache")
		;;
	*)
		echo "hg_chain: unknown command $cmd" >&2
		return 1
		;;
	esac

	for ((i = 0; i < n; i++)); do
		idx=$i
		[ "$cmd" = DEL ] && idx=$((n - 1 - i))
		# name/cniVersion/prevResult injected; runtimeConfig only with the keys
		# the plugin declares as capabilities, and only when one matches.
		conf=$(jq -c --argjson i "$idx" --arg name "$name" --arg ver "$ver" \
			--arg prev "$prev" --argjson rc "$rc_json" '
			.plugins[$i] | . + {name: $name, cniVersion: $ver}
			| if $prev != "" then .prevResult = ($prev | fromjson) else . end
			| [(.capabilities // {}) | to_entries[] | select(.value == true) | .key] as $caps
			| ($rc | with_entries(select(.key as $k | $caps | index($k)))) as $f
			| if ($f | length) > 0 then .runtimeConfig = $f else . end' <<<"$list") ||
			return 1
		plugin=$(_hg_find_plugin "$(jq -r .type <<<"$conf")") || return 1
		rc=0
		out=$(_hg_exec "$plugin" "$cmd" "$cid" "$netns" "$ifname" "$args" <<<"$conf") || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "hg_chain: plugin $(basename "$plugin") failed ($cmd), exit $rc: $out" >&2
			return "$rc"
		fi
		if [ "$cmd" = ADD ]; then
			# Exactly one JSON object, as Go's json.Unmarshal demands; without
			# cniVersion it is taken to be the config's version.
			prev=$(jq -cse --arg ver "$ver" 'if length == 1 and (.[0] | type) == "object"
				then .[0] | .cniVersion //= $ver else error("not one JSON object") end' <<<"$out") || {
				echo "hg_chain: plugin $(basename "$plugin") printed no valid result: $out" >&2
				return 1
			}
		fi
	done

	case $cmd in
	ADD)
		printf '%s\n' "$prev" >"$cache"
		printf '%s\n' "$prev"
		;;
	DEL) rm -f "$cache" ;;
	esac
}

# hg_plugin CMD CONFJSON CID NETNS IFNAME [CNI_ARGS]: run host-gateway alone
# with CONFJSON on stdin; prints its stdout, returns its exit code.
hg_plugin() {
	_hg_exec "$HG_PLUGIN_DIR/host-gateway" "$1" "$3" "$4" "$5" "${6:-}" <<<"$2"
}
