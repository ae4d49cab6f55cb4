#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's initramfs: Debian's busybox-static, the static
# test programs, the kernel's own memfd_secret selftest and stress-ng with
# the libraries it links.
#
# usage: mkinitramfs.sh KERNEL_TREE OUT_CPIO
set -euo pipefail

here=$(dirname "$(realpath "$0")")
tree=$(realpath "$1")
out=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib64,usr/bin}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest/init" "$root/init"
chmod +x "$root/init"

gcc -static -O2 -Wall -o "$root/bin/dmtest" "$here/guest/dmtest.c"
gcc -static -O2 -I "$tree/tools/testing/selftests" \
	-o "$root/bin/memfd_secret" \
	"$tree/tools/testing/selftests/mm/memfd_secret.c" -lcap

cp /usr/bin/stress-ng "$root/usr/bin/"
ldd /usr/bin/stress-ng | grep -o '/[^ ]*' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
