#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian unstable's linux-source-VERSION package into build/sid and
# unpack it there, without touching the host's apt configuration: a sid
# source list, lists and cache of its own, `apt-get download` of that one
# package (it depends only on binutils and xz-utils) and `dpkg -x`.
# Prints the path of the kernel tarball.
#
# usage: fetch-sid-source.sh BUILD_DIR VERSION
set -euo pipefail

build=$(realpath -m "$1")
version=$2
sid="$build/sid"
tarball="$sid/x/usr/src/linux-source-$version.tar.xz"

die() { echo "fetch-sid-source: $*" >&2; exit 1; }

if [ -r "$tarball" ]; then
	echo "$tarball"
	exit 0
fi
mkdir -p "$sid/lists/partial" "$sid/cache" "$sid/archives/partial"
echo "deb http://deb.debian.org/debian sid main" > "$sid/sources.list"
opts=(-o "Dir::Etc::SourceList=$sid/sources.list"
      -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$sid/lists"
      -o "Dir::Cache=$sid/cache" -o "Dir::Cache::Archives=$sid/archives"
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
echo "  FETCH   linux-source-$version (Debian sid)" >&2
apt-get "${opts[@]}" -qq update >&2 || die "apt-get update of sid failed"
(cd "$sid" && apt-get "${opts[@]}" -qq download "linux-source-$version") >&2 ||
	die "no linux-source-$version in sid"
# the newest, by Debian's version order (7.2.10 after 7.2.9)
deb=$(printf '%s\n' "$sid"/linux-source-"$version"_*_all.deb | sort -V | tail -1)
rm -rf "$sid/x"
dpkg -x "$deb" "$sid/x"
[ -r "$tarball" ] || die "$deb has no $tarball"
echo "$tarball"
