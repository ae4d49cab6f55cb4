#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the kernel tree that directmap builds in: unpack Debian's
# linux-source-KERNEL, apply patches/KERNEL/series, copy the overlay in.
# Only what changed is touched, so make does not rebuild the whole kernel.
#
# usage: prepare-tree.sh REPO_DIR TREE_DIR [KERNEL]
#
# KERNEL is 6.12 (Debian 12's linux-source-6.12, the default) or 7.2
# (Debian sid's, fetched into build/sid by fetch-sid-source.sh);
# DIRECTMAP_KERNEL_TARBALL names another tarball of that version.
set -euo pipefail

repo=$(realpath "$1")
tree=$2
kernel=${3:-6.12}
patches="$repo/patches/$kernel"
overlay="mm include arch Documentation samples scripts"

die() { echo "prepare-tree: $*" >&2; exit 1; }

[ -d "$patches" ] || die "no patches/$kernel: no series for Linux $kernel"
if [ -n "${DIRECTMAP_KERNEL_TARBALL:-}" ]; then
	tarball=$DIRECTMAP_KERNEL_TARBALL
elif [ "$kernel" = 6.12 ]; then
	tarball=/usr/src/linux-source-6.12.tar.xz
else
	tarball=$("$repo/tools/testing/directmap/fetch-sid-source.sh" \
		  "$repo/build" "$kernel") || die "cannot fetch linux-source-$kernel"
fi
[ -r "$tarball" ] || die "$tarball missing (apt-get install linux-source-$kernel)"

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

# Patches that this series shares with the one applied last time, counted
# from the start, stay applied: only the tail that differs is taken back,
# so that a new patch does not rebuild the files of every other one.
applied="$tree/.directmap-patches"
keep=0
if [ -d "$applied" ]; then
	mapfile -t old < <(grep -v -e '^$' -e '^#' "$applied/series")
	mapfile -t new < <(grep -v -e '^$' -e '^#' "$patches/series")
	while [ "$keep" -lt "${#old[@]}" ] && [ "$keep" -lt "${#new[@]}" ] &&
	      [ "${old[$keep]}" = "${new[$keep]}" ] &&
	      cmp -s "$applied/${old[$keep]}" "$patches/${new[$keep]}"; do
		keep=$((keep + 1))
	done
	for ((i = ${#old[@]} - 1; i >= keep; i--)); do
		echo "  REVERT  ${old[$i]}"
		patch -d "$tree" -p1 -R -s --no-backup-if-mismatch \
			< "$applied/${old[$i]}" || die "cannot revert ${old[$i]}; rm -rf $tree"
	done
fi

version=$(make -s -C "$tree" kernelversion 2>/dev/null || echo unknown)
# Without fuzz: a hunk whose context moved fails here instead of landing
# somewhere else that looks alike
mapfile -t new < <(grep -v -e '^$' -e '^#' "$patches/series")
for ((i = keep; i < ${#new[@]}; i++)); do
	p=${new[$i]}
	echo "  PATCH   $p"
	if ! out=$(patch -d "$tree" -p1 -s -N -F0 --no-backup-if-mismatch \
			--dry-run < "$patches/$p" 2>&1); then
		printf '%s\n' "$out" >&2
		rm -f "$stamp"
		die "patches/$kernel/$p does not apply to Linux $version ($tarball)"
	fi
	patch -d "$tree" -p1 -s -N -F0 --no-backup-if-mismatch < "$patches/$p"
done
rm -rf "$applied"
cp -r "$patches" "$applied"

# Overlay: checksum copy keeps the mtime of files that did not change.
for d in $overlay; do
	[ -d "$repo/$d" ] || continue
	rsync -rc --exclude='*.orig' "$repo/$d/" "$tree/$d/"
done
