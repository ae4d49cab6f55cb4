#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test guest's initramfs: Debian's busybox-static, the static
# test programs, the kernel's own memfd_secret selftest and stress-ng with
# the libraries it links, perf, bash and directmap's perf scripts.
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

gcc -static -O2 -Wall -o "$root/bin/dmbench" "$here/guest/dmbench.c"
gcc -static -O2 -Wall -o "$root/bin/gmemtest" "$here/guest/gmemtest.c"

# KVM's own guest_memfd selftests, from the patched tree, against its uapi
kvm=$(mktemp -d)
make -s -j"$(nproc)" -C "$tree" O="$kvm/obj" headers_install \
	INSTALL_HDR_PATH="$kvm/usr" ARCH=x86_64 >/dev/null
mkdir -p "$root/bin/kvm"
# x86's tests are in x86_64/ up to 6.12, in x86/ since
x86=x86
[ -d "$tree/tools/testing/selftests/kvm/x86" ] || x86=x86_64
tests="guest_memfd_test $x86/private_mem_conversions_test
       $x86/private_mem_kvm_exits_test"
targets=
for t in $tests; do
	targets="$targets $kvm/out/$t"
done
# shellcheck disable=SC2086 # one word per test
make -s -j"$(nproc)" -C "$tree/tools/testing/selftests/kvm" OUTPUT="$kvm/out" \
	KHDR_INCLUDES="-isystem $kvm/usr/include" USERLDFLAGS=-static \
	$targets >/dev/null
for t in $tests; do
	cp "$kvm/out/$t" "$root/bin/kvm/"
done
rm -rf "$kvm"
gcc -static -O2 -Wall -o "$root/bin/hibtest" "$here/guest/hibtest.c"
gcc -static -O2 -Wall -o "$root/bin/numatest" "$here/guest/numatest.c"
gcc -static -O2 -Wall -o "$root/bin/kdumptest" "$here/guest/kdumptest.c"
cp "$here"/../../perf-scripts/directmap-* "$root/usr/bin/"

# dynamically linked tools, with the libraries they need
for bin in /usr/bin/stress-ng /usr/bin/perf /bin/bash /usr/sbin/kexec; do
	mkdir -p "$root$(dirname "$bin")"
	cp "$bin" "$root$bin"
	ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
