#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what directmap's build and tests need on Debian 12, as root.
# Quiet and quick when everything is already there.
set -euo pipefail

pkgs="linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
dwarves cpio kmod rsync python3 xz-utils ccache quilt qemu-system-x86
stress-ng busybox-static gnuplot-nox clang libcap-dev linux-perf coccinelle
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
shellcheck kexec-tools makedumpfile"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root)" >&2
	exit 1
fi
echo "  APT     $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
