#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the kernel tree that directmap builds in: unpack Debian's
# linux-source-6.12, apply patches/series, copy the overlay in.  Only what
# changed is touched, so make does not rebuild the whole kernel.
#
# usage: prepare-tree.sh REPO_DIR TREE_DIR
set -euo pipefail

repo=$(realpath "$1")
tree=$2
tarball=${DIRECTMAP_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
overlay="mm include arch Documentation samples scripts"

die() { echo "prepare-tree: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.12)"

stamp="$tree/.directmap-tarball"
want=$(stat -c '%n %s %Y' "$tarball")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	echo "  UNPACK  $tarball"
	rm -rf "$tree" "$tree.new"
	mkdir -p "$tree.new"
	tar -xf "$tarball" -C "$tree.new" --strip-components=1
	mv "$tree.new" "$tree"
	echo "$want" > "$stamp"
fi

# Take back the series applied last time if it differs from ours.
applied="$tree/.directmap-patches"
if [ -d "$applied" ] && ! diff -rq "$applied" "$repo/patches" >/dev/null; then
	echo "  REVERT  old patch series"
	tac "$applied/series" | while read -r p; do
		[ -n "$p" ] || continue
		patch -d "$tree" -p1 -R -s --no-backup-if-mismatch \
			< "$applied/$p" || die "cannot revert $p; rm -rf $tree"
	done
	rm -rf "$applied"
fi

if [ ! -d "$applied" ]; then
	version=$(make -s -C "$tree" kernelversion 2>/dev/null || echo unknown)
	while read -r p; do
		[ -n "$p" ] || continue
		echo "  PATCH   $p"
		if ! patch -d "$tree" -p1 -s -N --no-backup-if-mismatch \
				--dry-run < "$repo/patches/$p" >/tmp/directmap-patch.log 2>&1; then
			cat /tmp/directmap-patch.log >&2
			rm -f "$stamp"
			die "patches/$p does not apply to Linux $version ($tarball)"
		fi
		patch -d "$tree" -p1 -s -N --no-backup-if-mismatch < "$repo/patches/$p"
	done < "$repo/patches/series"
	cp -r "$repo/patches" "$applied"
fi

# Overlay: checksum copy keeps the mtime of files that did not change.
for d in $overlay; do
	[ -d "$repo/$d" ] || continue
	rsync -rc --exclude='*.orig' "$repo/$d/" "$tree/$d/"
done
