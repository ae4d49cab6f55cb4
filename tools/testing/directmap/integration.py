#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap integration tests: the test kernel booted with a real userspace.

Boots the kernel twice, with directmap on and with directmap=off, runs the
memfd_secret workload (65,536 pages), the kernel's memfd_secret selftest and
stress-ng --secretmem, and prints TAP.

usage: integration.py BZIMAGE BUILD_DIR
"""

import os
import sys

from qemu import boot, build_initramfs, delta

HERE = os.path.dirname(os.path.realpath(__file__))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        self.n += 1
        self.failed += not ok
        print(f"{'' if ok else 'not '}ok {self.n} {name}"
              + (f" # {detail}" if detail else ""), flush=True)


def main():
    bzimage, build = sys.argv[1], sys.argv[2]
    logs = os.path.join(build, "logs")
    os.makedirs(logs, exist_ok=True)
    initrd = os.path.join(build, "initramfs.cpio")
    build_initramfs(HERE, os.path.join(build, "linux"), initrd)

    print("TAP version 13", flush=True)
    t = Tap()

    on, on_exit, _ = boot(bzimage, initrd, "check",
                          log=os.path.join(logs, "guest-on.log"))
    off, off_exit, _ = boot(bzimage, initrd, "off", "directmap=off",
                            log=os.path.join(logs, "guest-off.log"))

    pmd_on = delta(on, "pmd_splits", "boot", "held")
    pud_on = delta(on, "pud_splits", "boot", "held")
    pmd_off = delta(off, "pmd_splits", "boot", "held")
    pud_off = delta(off, "pud_splits", "boot", "held")
    pages = int(on.get("run.pages", 0))
    print(f"# {pages} memfd_secret pages: PMD splits on={pmd_on} off={pmd_off}"
          f", PUD splits on={pud_on} off={pud_off}", flush=True)

    t.check("on: guest ran to the end", on.get("run.completed") == 1)
    t.check("on: memfd_secret workload ran", on_exit.get("dmtest") == 0)
    t.check("on: every secret page arrived zeroed",
            on.get("run.nonzero_pages") == 0)
    t.check("on: no PMD split for 65536 secret pages",
            pages == 65536 and pmd_on == 0, f"delta {pmd_on}")
    t.check("on: at most one PUD split per GiB used (256M on 2 nodes)",
            pud_on is not None and pud_on <= 2, f"delta {pud_on}")
    t.check("on: DirectMap4k unchanged while secrets are held",
            delta(on, "directmap_4k_kb", "boot", "held") == 0)
    t.check("on: pages were served from regions, no single-page fallback",
            delta(on, "dmap_fallbacks", "boot", "held") == 0)
    t.check("on: every page returned to directmap after free",
            on.get("freed.dmap_used") == 0 and on.get("freed.dmap_pending") == 0)
    t.check("on: DirectMap4k unchanged after free",
            delta(on, "directmap_4k_kb", "boot", "freed") == 0)
    t.check("on: after a drain the 1G entries are whole again",
            all(delta(on, f"directmap_{s}_kb", "boot", "drained") == 0
                for s in ("4k", "2m", "1g")),
            f"1G delta {delta(on, 'directmap_1g_kb', 'boot', 'drained')}")
    t.check("on: kernel memfd_secret selftest",
            on_exit.get("memfd_secret_selftest") == 0)
    t.check("on: stress-ng --secretmem 30s",
            on_exit.get("stress_ng_secretmem") == 0)
    t.check("on: no warning in dmesg", on.get("run.dmesg_splats") == 0,
            f"{on.get('run.dmesg_splats')} lines")

    t.check("off: guest ran to the end", off.get("run.completed") == 1)
    t.check("off: stock memfd_secret workload ran",
            off_exit.get("dmtest") == 0 and off.get("run.nonzero_pages") == 0)
    t.check("off: stock path splits PMDs for the same workload",
            pmd_off is not None and pmd_off > 0, f"delta {pmd_off}")
    t.check("off: no warning in dmesg", off.get("run.dmesg_splats") == 0)

    # The collapse worker repairs what the stock path split
    def large(r, phase):
        return (r.get(f"{phase}.directmap_2m_kb", 0) +
                r.get(f"{phase}.directmap_1g_kb", 0))

    repair = off.get("run.repair_ms", -1)
    print(f"# off: DirectMap2M+1G boot {large(off, 'boot')} held "
          f"{large(off, 'held')} freed {large(off, 'freed')} kB, repaired in "
          f"{repair} ms by {delta(off, 'pmd_collapses', 'held', 'freed')} "
          f"PMD and {delta(off, 'pud_collapses', 'held', 'freed')} PUD "
          f"collapses", flush=True)
    t.check("off: DirectMap2M+1G back to 99.9% of boot within 1 s of free",
            0 <= repair <= 1000 and
            large(off, "freed") * 1000 >= large(off, "boot") * 999,
            f"{repair} ms, {large(off, 'freed')} of {large(off, 'boot')} kB")
    t.check("off: the worker re-formed the split PMDs",
            (delta(off, "pmd_collapses", "held", "freed") or 0) >= pmd_off,
            f"{delta(off, 'pmd_collapses', 'held', 'freed')} collapses for "
            f"{pmd_off} splits")
    print(f"# on: after the drain {delta(on, 'pud_collapses', 'freed', 'drained')}"
          f" PUD collapses, DirectMap1G {on.get('drained.directmap_1g_kb')} kB"
          f" (boot {on.get('boot.directmap_1g_kb')})", flush=True)
    t.check("on: the drain re-formed every 1G entry the cache split",
            (delta(on, "pud_collapses", "freed", "drained") or 0) >= pud_on
            and on.get("drained.directmap_1g_kb") ==
            on.get("boot.directmap_1g_kb"),
            f"{delta(on, 'pud_collapses', 'freed', 'drained')} collapses for "
            f"{pud_on} splits")

    # The tracepoints against the counters over the same run, both sides
    for side, r in (("on", on), ("off", off)):
        pairs = [("region_unmap", "dmap_refills"),
                 ("region_restore", "dmap_releases"),
                 ("fallback", "dmap_fallbacks"),
                 ("pmd_collapses", "pmd_collapses"),
                 ("pud_collapses", "pud_collapses")]
        got = {ev: r.get("trace." + ev) for ev, _ in pairs}
        want = {ev: delta(r, key, "trace_on", "trace_off")
                for ev, key in pairs}
        print(f"# {side}: tracepoints {got}, counters {want}, "
              f"lost {r.get('trace.lost')}", flush=True)
        t.check(f"{side}: directmap tracepoints equal the counters' deltas",
                r.get("trace.lost") == 0 and
                all(got[ev] is not None and got[ev] == want[ev]
                    for ev in got), f"{got} vs {want}")
    t.check("on: tracepoints saw regions unmapped and restored",
            (on.get("trace.region_unmap") or 0) > 0 and
            (on.get("trace.region_restore") or 0) > 0 and
            on.get("trace.error") == 0)

    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
