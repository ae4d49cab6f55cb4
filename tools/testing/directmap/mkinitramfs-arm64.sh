#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the arm64 test guest's initramfs: no busybox, which Debian ships
# for the host's architecture only, but a small static /init (mininit.c)
# and dmtest and dmbench, cross-compiled.
#
# usage: mkinitramfs-arm64.sh OUT_CPIO
set -euo pipefail

here=$(dirname "$(realpath "$0")")
out=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
cc=aarch64-linux-gnu-gcc

mkdir -p "$root"/{bin,dev,proc,sys,tmp}
$cc -static -O2 -Wall -o "$root/init" "$here/guest/mininit.c"
$cc -static -O2 -Wall -o "$root/bin/dmtest" "$here/guest/dmtest.c"
$cc -static -O2 -Wall -o "$root/bin/dmbench" "$here/guest/dmbench.c"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
