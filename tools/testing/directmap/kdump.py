#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""No secret in a crash dump: a kdump test in QEMU.

The guest reserves memory for a capture kernel (crashkernel=), loads it
with kexec -p, writes 512 memfd_secret pages it keeps and 512 it frees
(guest/kdumptest.c), and crashes (sysrq c).  The capture kernel
(guest/kdump-init) runs Debian's makedumpfile over /proc/vmcore at its
default filter level (-d 31) and counts the pages whose marker is in the
filtered dump, and, as the control, in the unfiltered vmcore.  The same
runs on the stock kernel (directmap=off) for the figure beside it.

usage: kdump.py BZIMAGE BUILD_DIR (integration.py runs it too)
"""

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from qemu import boot, initrd_with, tagged
from tap import run

HERE = os.path.dirname(os.path.realpath(__file__))
PAGES = 512


def capture_initrd(out):
    """the capture kernel's initramfs: busybox, makedumpfile, kdumpscan"""
    with tempfile.TemporaryDirectory() as root:
        for d in ("bin", "proc", "sys", "tmp", "dev", "usr/bin"):
            os.makedirs(os.path.join(root, d))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        shutil.copy(os.path.join(HERE, "guest", "kdump-init"),
                    os.path.join(root, "init"))
        os.chmod(os.path.join(root, "init"), 0o755)
        subprocess.run(["gcc", "-static", "-O2", "-Wall", "-o",
                        os.path.join(root, "bin", "kdumpscan"),
                        os.path.join(HERE, "guest", "kdumpscan.c")],
                       check=True)
        for exe in (shutil.which("makedumpfile"),):
            shutil.copy(exe, os.path.join(root, "usr/bin"))
            ldd = subprocess.run(["ldd", exe], capture_output=True,
                                 text=True, check=True).stdout
            for lib in (w for w in ldd.split() if w.startswith("/")):
                dst = root + lib
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(lib, dst)
        data = subprocess.run("find . | cpio -o -H newc --quiet", shell=True,
                              cwd=root, check=True,
                              capture_output=True).stdout
    with open(out, "wb") as f:
        f.write(data)


def with_capture(initrd, bzimage):
    """INITRD with /boot/bzImage and /boot/kdump.cpio appended"""
    with tempfile.TemporaryDirectory() as d:
        capture = os.path.join(d, "kdump.cpio")
        capture_initrd(capture)
        return initrd_with(initrd, "kdump", {"boot/bzImage": bzimage,
                                             "boot/kdump.cpio": capture})


def crash(bzimage, initrd, logs, side, extra=""):
    """one crash and capture: the capture kernel's metrics"""
    # 1G a node: the capture kernel reads the whole vmcore, twice, in TCG
    m, ex, con = boot(bzimage, initrd, "kdump",
                      f"crashkernel=384M {extra}".strip(), timeout=1200,
                      log=os.path.join(logs, f"guest-kdump-{side}.log"),
                      node="1G")
    first, _, capture = con.partition("KDUMP GO")
    return m, ex, first, capture


def kdump_checks(t, bzimage, initrd, logs):
    kinitrd = with_capture(initrd, bzimage)
    # both at once: each capture kernel runs on one vCPU, most of the time
    with ThreadPoolExecutor(2) as pool:
        stock = pool.submit(crash, bzimage, kinitrd, logs, "stock",
                            "directmap=off")
        on, on_ex, on_first, on_cap = crash(bzimage, kinitrd, logs, "on")
        off, off_ex, _, off_cap = stock.result()

    for side, m in (("on", on), ("stock", off)):
        print(f"# kdump {side}: vmcore {m.get('kdump.vmcore_mb')} MiB; "
              f"secret pages in the filtered dump (-d 31): held "
              f"{m.get('filtered.HELD')}, freed {m.get('filtered.FREED')} "
              f"of {PAGES} each; in the vmcore: held {m.get('raw.HELD')}, "
              f"freed {m.get('raw.FREED')}; offline pages "
              f"{m.get('kdump.offline_pages')}", flush=True)

    for side, m, ex, cap in (("on", on, on_ex, on_cap),
                             ("stock", off, off_ex, off_cap)):
        t.check(f"kdump {side}: capture kernel loaded, crash captured",
                ex.get("kdump_load") == 0 and "KDUMP CAPTURE" in cap and
                m.get("run.completed") == 1)
        t.check(f"kdump {side}: makedumpfile -d 31 completed",
                ex.get("makedumpfile") == 0,
                " ".join(tagged(cap, "MKDUMP")[-3:]))
        # the control: the secrets are in memory at the crash
        t.check(f"kdump {side}: the unfiltered vmcore holds the "
                f"{PAGES} secret pages still held",
                m.get("raw.HELD") == PAGES, f"{m.get('raw.HELD')}")
    for side, m in (("on", on), ("stock", off)):
        t.check(f"kdump {side}: the filtered dump keeps kernel memory "
                "(a pipe's buffer, the control)",
                (m.get("filtered.KEPT") or 0) >= 1, f"{m.get('filtered.KEPT')}")
    t.check("kdump on: no secret page, held or freed, in the filtered dump",
            on.get("filtered.HELD") == 0 and on.get("filtered.FREED") == 0,
            f"held {on.get('filtered.HELD')} freed {on.get('filtered.FREED')}")
    t.check("kdump on: makedumpfile excludes directmap's free slots as "
            "offline pages",
            (on.get("kdump.offline_pages") or 0) >= PAGES,
            f"{on.get('kdump.offline_pages')}")
    t.check("kdump on: freed secrets are gone from the vmcore too (wiped)",
            on.get("raw.FREED") == 0, f"{on.get('raw.FREED')}")


if __name__ == "__main__":
    sys.exit(run(kdump_checks))
