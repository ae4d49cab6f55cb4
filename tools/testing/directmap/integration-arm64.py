#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap's integration tests on arm64: the arm64 test kernel booted on
QEMU's virt board (TCG, -cpu max, 2 vCPUs on 2 NUMA nodes, 4G), with
directmap on and with directmap=off, running the memfd_secret workload
(65,536 pages) under rodata=full, and printing TAP.

QEMU 7.2 has no FEAT_BBM, so every live change of the linear map here is
a break-before-make under stop_machine().

usage: integration-arm64.py IMAGE BUILD_DIR
"""

import os
import subprocess
import sys

from qemu import boot, delta, tagged
from tap import Tap

HERE = os.path.dirname(os.path.realpath(__file__))


def large(r, phase):
    return (r.get(f"{phase}.directmap_2m_kb", 0) +
            r.get(f"{phase}.directmap_1g_kb", 0))


def total(r, phase):
    return large(r, phase) + r.get(f"{phase}.directmap_4k_kb", 0)


def main():
    image, build = sys.argv[1], sys.argv[2]
    logs = os.path.join(build, "logs")
    os.makedirs(logs, exist_ok=True)
    initrd = os.path.join(build, "initramfs-arm64.cpio")
    subprocess.run([os.path.join(HERE, "mkinitramfs-arm64.sh"), initrd],
                   check=True)

    print("TAP version 13", flush=True)
    t = Tap()
    on, on_exit, on_con = boot(image, initrd, "check", arch="arm64",
                               log=os.path.join(logs, "guest-arm64-on.log"))
    off, off_exit, off_con = boot(image, initrd, "off", "directmap=off",
                                  arch="arm64",
                                  log=os.path.join(logs,
                                                   "guest-arm64-off.log"))

    pages = int(on.get("run.pages", 0))
    pmd_on = delta(on, "pmd_splits", "boot", "held")
    pud_on = delta(on, "pud_splits", "boot", "held")
    for side, r in (("on", on), ("off", off)):
        print(f"# {side}: DirectMap4k/2M/1G at boot "
              f"{r.get('boot.directmap_4k_kb')}/{r.get('boot.directmap_2m_kb')}"
              f"/{r.get('boot.directmap_1g_kb')} kB, held "
              f"{r.get('held.directmap_4k_kb')}/{r.get('held.directmap_2m_kb')}"
              f"/{r.get('held.directmap_1g_kb')} kB, drained "
              f"{r.get('drained.directmap_4k_kb')}/"
              f"{r.get('drained.directmap_2m_kb')}/"
              f"{r.get('drained.directmap_1g_kb')} kB; PMD/PUD splits "
              f"{delta(r, 'pmd_splits', 'boot', 'held')}/"
              f"{delta(r, 'pud_splits', 'boot', 'held')}, collapses by the "
              f"drain {delta(r, 'pmd_collapses', 'held', 'drained')}/"
              f"{delta(r, 'pud_collapses', 'held', 'drained')}; fault "
              f"{r.get('run.fault_ms')} ms, free {r.get('run.free_ms')} ms",
              flush=True)

    t.check("arm64 on: guest ran to the end", on.get("run.completed") == 1)
    t.check("arm64 on: blocks kept under rodata=full, changed by "
            "break-before-make under stop_machine",
            "linear map keeps its blocks; they change by break-before-make"
            in on_con and "rodata=full is off" not in on_con)
    t.check("arm64 on: as booted, 90% of the linear map is blocks",
            total(on, "boot") > 0 and
            large(on, "boot") * 10 >= total(on, "boot") * 9,
            f"{large(on, 'boot')} of {total(on, 'boot')} kB")
    t.check("arm64 on: memfd_secret workload ran", on_exit.get("dmtest") == 0)
    t.check("arm64 on: every secret page arrived zeroed",
            on.get("run.nonzero_pages") == 0)
    t.check("arm64 on: no PMD split for 65536 secret pages",
            pages == 65536 and pmd_on == 0, f"delta {pmd_on}")
    t.check("arm64 on: at most one PUD split per GiB used",
            pud_on is not None and pud_on <= 2, f"delta {pud_on}")
    t.check("arm64 on: DirectMap4k unchanged while secrets are held",
            delta(on, "directmap_4k_kb", "boot", "held") == 0)
    t.check("arm64 on: pages came from regions, no single-page fallback",
            delta(on, "dmap_fallbacks", "boot", "held") == 0)
    t.check("arm64 on: every page returned to directmap after free",
            on.get("freed.dmap_used") == 0 and
            on.get("freed.dmap_pending") == 0)
    t.check("arm64 on: after a drain the linear map is as booted, "
            "1G blocks re-formed",
            all(delta(on, f"directmap_{s}_kb", "boot", "drained") == 0
                for s in ("4k", "2m", "1g")) and
            (delta(on, "pud_collapses", "held", "drained") or 0) >= pud_on,
            f"4K/2M/1G deltas "
            f"{[delta(on, f'directmap_{s}_kb', 'boot', 'drained') for s in ('4k', '2m', '1g')]}"
            f", {delta(on, 'pud_collapses', 'held', 'drained')} PUD "
            f"collapses for {pud_on} splits")
    alloc = delta(on, "vm_pages_alloc", "boot", "freed")
    t.check("arm64 on: vmstat: every page handed out was given back",
            alloc is not None and alloc >= pages and
            alloc == delta(on, "vm_pages_free", "boot", "freed"),
            f"{alloc} out, {delta(on, 'vm_pages_free', 'boot', 'freed')} back")
    summary = "\n".join(tagged(on_con, "SUMMARY"))
    t.check("arm64 on: debugfs summary has the nodes, DirectMap and worker",
            all(w in summary for w in ("directmap on", "node", "regions",
                                       "DirectMap4k", "collapse worker")))
    t.check("arm64 on: no warning in dmesg", on.get("run.dmesg_splats") == 0,
            f"{on.get('run.dmesg_splats')} lines")

    t.check("arm64 off: guest ran to the end", off.get("run.completed") == 1)
    # as in 6.12, only the kernel image's alias keeps its blocks
    t.check("arm64 off: the 6.12 linear map, 99% at 4K, and said so once",
            total(off, "boot") > 0 and
            off.get("boot.directmap_4k_kb", 0) * 100 >=
            total(off, "boot") * 99 and
            off_con.count("linear map at 4K for directmap=off") == 1,
            f"{large(off, 'boot')} kB in blocks")
    t.check("arm64 off: stock memfd_secret workload ran",
            off_exit.get("dmtest") == 0 and off.get("run.nonzero_pages") == 0)
    t.check("arm64 off: no warning in dmesg",
            off.get("run.dmesg_splats") == 0)
    t.check("arm64: on and off map the same memory",
            total(on, "boot") == total(off, "boot"),
            f"{total(on, 'boot')} vs {total(off, 'boot')} kB")

    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
