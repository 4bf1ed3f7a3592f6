#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/build-deb.sh [OUTDIR]
# Builds host-gateway_VERSION_ARCH.deb offline with Debian's tools (dpkg-buildpackage,
# debhelper, meson) and checks it with lintian. The source tree is copied into a temp
# folder where packaging/debian becomes debian/, so nothing but OUTDIR (default
# build-deb/ at the top of the tree) is written here. VERSION is meson's project version,
# ARCH dpkg's. Prints the .deb's path on stdout; the build log goes to stderr only when
# the build fails. Exit 1 when the build fails or lintian reports an error (its warnings
# are printed and allowed).
# Needs: scripts/install-deps.sh's packages (debhelper lintian dpkg-dev meson ...).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${1:-$SRC/build-deb}

say() { echo "build-deb: $*" >&2; }
die() {
	say "$*"
	exit 1
}

for c in dpkg-buildpackage dh lintian meson dpkg-parsechangelog tar; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found: run scripts/install-deps.sh"
done

# meson's project version; `meson introspect` on the source file writes nothing.
VERSION=$(meson introspect --projectinfo "$SRC/meson.build" |
	sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')
[ -n "$VERSION" ] || die "cannot read the project version from $SRC/meson.build"
ARCH=$(dpkg --print-architecture)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/host-gateway-deb.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TREE=$TMP/host-gateway-$VERSION
mkdir "$TREE"

# The files of the tree: git's (tracked and untracked, not ignored: no build dirs), else
# everything but build*/ and .git.
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# shellcheck disable=SC2016 # the inner sh expands $f
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done; :' sh |
		tar --null --no-recursion -T - -cf -) | tar -xf - -C "$TREE"
else
	(cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$TREE"
fi
[ -d "$TREE/packaging/debian" ] || die "no packaging/debian in $SRC"
rm -rf "$TREE/debian"
cp -a "$TREE/packaging/debian" "$TREE/debian"
chmod 0755 "$TREE/debian/rules"

# The package's version is meson's: a changelog that names another one gets an entry in
# the copy (and a warning), so that the .deb is never labelled with a stale version.
CL_VERSION=$(dpkg-parsechangelog -l "$TREE/debian/changelog" -S Version)
if [ "$CL_VERSION" != "$VERSION" ]; then
	say "warning: packaging/debian/changelog is at $CL_VERSION, meson.build at $VERSION: add an entry"
	CL_MAINT=$(dpkg-parsechangelog -l "$TREE/debian/changelog" -S Maintainer)
	{
		printf 'host-gateway (%s) unstable; urgency=medium\n\n' "$VERSION"
		printf '  * Built from the source tree at version %s (no changelog entry yet).\n\n' "$VERSION"
		printf ' -- %s  %s\n\n' "$CL_MAINT" "$(date -R)"
		cat "$TREE/debian/changelog"
	} >"$TMP/changelog"
	mv "$TMP/changelog" "$TREE/debian/changelog"
fi

say "building host-gateway $VERSION for $ARCH in $TREE"
if ! (cd "$TREE" && dpkg-buildpackage -b -us -uc -Jauto) >"$TMP/build.log" 2>&1; then
	tail -n 80 "$TMP/build.log" >&2
	die "dpkg-buildpackage failed (the last 80 lines of its log are above)"
fi
DEB=$TMP/host-gateway_${VERSION}_$ARCH.deb
[ -f "$DEB" ] || die "dpkg-buildpackage made no $(basename "$DEB"): $(ls "$TMP")"

# lintian: errors fail the build, warnings are shown. Its "running as root" notice is noise.
rc=0
lintian --fail-on error --display-info "$DEB" >"$TMP/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$TMP/lintian.log" >&2 || :
[ "$rc" -eq 0 ] || die "lintian reported errors (exit $rc)"
say "lintian: no errors ($(grep -c '^W: ' "$TMP/lintian.log" || :) warnings)"

mkdir -p "$OUTDIR"
cp "$DEB" "$OUTDIR/"
OUT=$(cd "$OUTDIR" && pwd)/$(basename "$DEB")
echo "$OUT"
