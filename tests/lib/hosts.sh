# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The managed block host-gateway writes into hosts files (sourced by common.sh).
#
#   HG_BEGIN, HG_END     the markers: the block starts at a line that begins with HG_BEGIN
#                        (the plugin appends a note to it) and ends at a line that is
#                        HG_END; the previous version wrote one block per owner, its
#                        markers followed by a blank and the owner
#   hg_owner_block FILE KEY  the lines inside the previous version's block of owner KEY
#   hg_registry_of FILE  the path of FILE's owner registry (in the default stateDir, where
#                        the plugin keeps it whatever stateDir a configuration names)
#   HG_DEFAULT_NAMES     the names a block carries when the config names none
#   hg_block FILE|-      the lines inside the block(s), markers left out
#   hg_nblocks FILE|-    how many BEGIN markers
#   hg_strip FILE|-      everything but the block(s): the user's lines

# Used by the scripts that source this file.
# shellcheck disable=SC2034
HG_BEGIN='# BEGIN host-gateway'
# shellcheck disable=SC2034
HG_END='# END host-gateway'
# shellcheck disable=SC2034
HG_DEFAULT_NAMES='host.docker.internal host.containers.internal gateway.docker.internal'

hg_block() {
	awk -v b="$HG_BEGIN" -v e="$HG_END" '
		index($0, b) == 1 { inb = 1; next }
		$0 == e || index($0, e " ") == 1 { inb = 0; next }
		inb { print }' "$1"
}

hg_owner_block() {
	awk -v b="$HG_BEGIN $2 " -v e="$HG_END $2" '
		index($0, b) == 1 { inb = 1; next }
		$0 == e { inb = 0; next }
		inb { print }' "$1"
}

hg_nblocks() {
	grep -c "^$HG_BEGIN" "$1" || true
}

hg_strip() {
	awk -v b="$HG_BEGIN" -v e="$HG_END" '
		index($0, b) == 1 { inb = 1; next }
		inb && ($0 == e || index($0, e " ") == 1) { inb = 0; next }
		!inb { print }' "$1"
}

hg_registry_of() {
	printf '/run/host-gateway/hosts/%s-%s.json' "$(stat -c %d "$1")" "$(stat -c %i "$1")"
}
