# SPDX-License-Identifier: GPL-2.0
"""Boot directmap's test kernel with its initramfs and collect what it says."""

import os
import re
import shutil
import subprocess
import tempfile
import time

# arm64 with the linear map in blocks: QEMU's "max" CPU lacks BBML2_NOABORT
ARM64_BLOCKS = "arm64.bbml2_noabort_emulated"


def numa(cpus=2, memory="4G", node="2G"):
    """The test guests' memory: NODE (2G) on each of two nodes, CPUS split
    over them; MEMORY (twice NODE) may leave room for hot-added DIMMs"""
    half = cpus // 2
    return [
        "-m", memory,
        "-object", f"memory-backend-ram,id=m0,size={node}",
        "-object", f"memory-backend-ram,id=m1,size={node}",
        "-numa", f"node,nodeid=0,cpus=0-{half - 1},memdev=m0",
        "-numa", f"node,nodeid=1,cpus={half}-{cpus - 1},memdev=m1",
    ]


def cpu(cpus=2, arch="x86_64", kvm=False):
    """x86-64's "max" CPU (1G pages) on one socket per node, or arm64's;
    the host's under KVM"""
    if arch == "arm64":
        return ["-cpu", "max,pauth-impdef=on", "-smp", str(cpus)]
    return ["-cpu", "host" if kvm else "max", "-smp",
            f"{cpus},sockets=2,cores={cpus // 2},threads=1"]


def kvm_usable(arch="x86_64"):
    """May QEMU run ARCH guests under KVM here?  Only where the host CPU
    virtualises in hardware: /dev/kvm alone is not enough (a nested host
    may offer one without VMX, slower than TCG).  DIRECTMAP_ACCEL=tcg or
    kvm overrides, for guests of the host's architecture."""
    want = os.environ.get("DIRECTMAP_ACCEL", "auto")
    host = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine)
    if arch != host:
        return False    # no KVM for another architecture's guest
    if want in ("tcg", "kvm"):
        return want == "kvm"
    if arch != "x86_64":
        return False
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return False
    return "vmx" in flags or "svm" in flags


def accel_name(kvm):
    return "KVM" if kvm else "TCG"


def machine(cpus=2, arch="x86_64", node="2G", kvm=False):
    """x86-64 with 1G pages, or arm64's virt board: NODE of memory on each
    of two nodes, CPUS split over them; under KVM if KVM"""
    board = ["-M", "virt"] if arch == "arm64" else []
    accel = ["-accel", "kvm"] if kvm else []
    total = f"{2 * int(node[:-1])}{node[-1]}"
    return [*board, *accel, *cpu(cpus, arch, kvm), *numa(cpus, total, node)]


def kunit_args(arch):
    """kunit.py's --qemu_args for ARCH: its own QEMU config has the board
    (and arm64's CPU); arm64 gets GICv3, for pseudo-NMIs"""
    if arch == "arm64":
        return ["-machine", "gic-version=3", "-smp", "2", *numa()]
    return [*cpu(), *numa()]


def boot(bzimage, initrd, suite, extra_args="", log=None, timeout=900,
         cpus=2, arch="x86_64", node="2G", kvm=False):
    """Run one guest suite on NODE of memory a node, under KVM if KVM (else
    TCG, as every test does); return (metrics, exits, console text)."""
    # no5lvl: -cpu max has LA57, and 6.12 with KASAN takes a timer
    # interrupt that lands in identify_cpu() at boot (LA57 cleared for a
    # moment, so 5-level addresses look wild) for a splat, in 3 of 9
    # 4-vCPU boots and in a 2-vCPU one here.  Not directmap's.
    console = "console=ttyAMA0" if arch == "arm64" else "console=ttyS0 no5lvl"
    append = (f"{console} kunit.enable=0 panic=-1 oops=panic "
              f"dmtest={suite} {extra_args}").strip()
    if arch == "arm64":
        cmd = ["qemu-system-aarch64", "-nographic", "-no-reboot"]
    else:
        cmd = ["qemu-system-x86_64", "-nographic", "-no-reboot",
               "-bios", "qboot.rom"]
    cmd += [*machine(cpus, arch, node, kvm),
            "-kernel", bzimage, "-initrd", initrd, "-append", append]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             timeout=timeout).stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        out += f"\nDMTEST TIMEOUT after {timeout}s\n"
    wall = time.monotonic() - start
    if log:
        with open(log, "w") as f:
            f.write(out)
    metrics, exits = metrics_of(out)
    metrics["run.qemu_wall_s"] = wall
    return metrics, exits, out


def metrics_of(out):
    """the METRIC and EXIT lines of a console: (metrics, exits)"""
    metrics, exits = {}, {}
    garbled = 0
    for line in out.splitlines():
        line = line.strip("\r")
        m = re.match(r"METRIC (\S+) (-?[0-9.]+)$", line)
        if m:
            metrics[m.group(1)] = float(m.group(2))
        elif "METRIC " in line:
            garbled += 1
        m = re.match(r"EXIT (\S+) (\d+)$", line)
        if m:
            exits[m.group(1)] = int(m.group(2))
    metrics["run.completed"] = 1.0 if "DMTEST END" in out else 0.0
    # a report line the kernel's console wrote into
    metrics["run.garbled_reports"] = float(garbled)
    return metrics, exits


def tagged(console, tag):
    """the console lines the guest prefixed with TAG, without it"""
    return [line[len(tag) + 2:].rstrip("\r")
            for line in console.splitlines() if line.startswith(tag + ": ")]


def delta(metrics, key, phase_from, phase_to):
    a = metrics.get(f"{phase_from}.{key}")
    b = metrics.get(f"{phase_to}.{key}")
    if a is None or b is None or a < 0 or b < 0:
        return None
    return b - a


def kernel_suffix():
    """"" for Linux 6.12 (the default), "-7.2" for $KERNEL=7.2, as make
    names the trees and build folders"""
    kernel = os.environ.get("KERNEL", "6.12")
    return "" if kernel == "6.12" else f"-{kernel}"


def prepare(build):
    """BUILD's logs folder and its initramfs, built afresh from the tree of
    the kernel under test ($KERNEL): (logs, initrd)"""
    suffix = kernel_suffix()
    logs = os.path.join(build, "logs", suffix[1:]) if suffix else \
        os.path.join(build, "logs")
    os.makedirs(logs, exist_ok=True)
    initrd = os.path.join(build, f"initramfs{suffix}.cpio")
    here = os.path.dirname(os.path.realpath(__file__))
    subprocess.run([os.path.join(here, "mkinitramfs.sh"),
                    os.path.join(build, f"linux{suffix}"), initrd], check=True)
    return logs, initrd


def initrd_with(initrd, suffix, files):
    """INITRD with FILES ({path in the guest: file here}) appended, as
    INITRD-SUFFIX.cpio"""
    out = initrd.replace(".cpio", f"-{suffix}.cpio")
    with tempfile.TemporaryDirectory() as d:
        for dst, src in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(dst)), exist_ok=True)
            shutil.copy(src, os.path.join(d, dst))
        extra = subprocess.run(
            "find . -mindepth 1 -printf '%P\\n' | cpio -o -H newc --quiet",
            shell=True, cwd=d, check=True, capture_output=True).stdout
    with open(out, "wb") as f, open(initrd, "rb") as src:
        shutil.copyfileobj(src, f)
        f.write(extra)
    return out


if __name__ == "__main__":
    # qemu.py kunit-args ARCH: for the Makefile
    import sys
    if sys.argv[1:2] != ["kunit-args"] or len(sys.argv) != 3:
        sys.exit("usage: qemu.py kunit-args x86_64|arm64")
    print(" ".join(kunit_args(sys.argv[2])))
