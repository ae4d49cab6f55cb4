#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap's integration tests on arm64: the arm64 test kernel booted on
QEMU's virt board (TCG, -cpu max, 2 vCPUs on 2 NUMA nodes, 4G), running
the memfd_secret workload (65,536 pages) under rodata=full three times:

- directmap on, as on CPUs without BBML2_NOABORT: the linear map at 4K,
  regions taken out 4K entry by 4K entry, nothing split or re-formed;
- directmap on with arm64.bbml2_noabort_emulated: QEMU's "max" CPU has a
  software MIDR that no allow-list names, and TCG never raises a TLB
  conflict abort, so the switch lets it stand for a BBML2_NOABORT CPU:
  blocks kept, split and re-formed in place;
- directmap=off: the stock kernel.

Then the storm, in BBML2 mode under lockdep: directmap's torture threads
next to memfd_secret churn and memory pressure with the page cache
dropped (reclaim runs the shrinker while splits allocate), a CPU going
offline and online, a module loaded and unloaded and BPF programs JITed
and freed (both change their linear aliases' permissions), fault
injection, and kexec into the same kernel while regions are out.

It prints TAP.

usage: integration-arm64.py IMAGE BUILD_DIR [--storm-only TAG]

With --storm-only, only the storm runs, its checks named after TAG (make
stress runs it so on the arm64 kernel with KASAN).
"""

import os
import subprocess
import sys

import checks
from checks import large, total
from qemu import ARM64_BLOCKS, boot, delta, initrd_with
from storm import same, splats
from tap import Tap

HERE = os.path.dirname(os.path.realpath(__file__))


def check_on(t, tag, on, on_exit, on_con, blocks):
    """The checks of a boot with directmap on; @blocks: BBML2_NOABORT"""
    pud_on = delta(on, "pud_splits", "boot", "held")
    checks.workload(t, tag, on, on_exit)
    if blocks:
        t.check(f"{tag}: blocks kept under rodata=full, changed in place, "
                "no stop_machine()",
                "linear map keeps its blocks; BBML2_NOABORT changes their "
                "size in place" in on_con and "stop_machine" not in on_con
                and "rodata=full is off" not in on_con)
        t.check(f"{tag}: as booted, 90% of the linear map is blocks",
                total(on, "boot") > 0 and
                large(on, "boot") * 10 >= total(on, "boot") * 9,
                f"{large(on, 'boot')} of {total(on, 'boot')} kB")
    else:
        t.check(f"{tag}: without BBML2_NOABORT the linear map is at 4K "
                "and says why",
                "linear map at 4K for CPUs without BBML2_NOABORT" in on_con
                and "keeps its blocks" not in on_con and
                on.get("boot.directmap_4k_kb", 0) * 100 >=
                total(on, "boot") * 99,
                f"{large(on, 'boot')} kB in blocks")
    t.check(f"{tag}: at most one PUD split per GiB used" if blocks else
            f"{tag}: no PUD split",
            pud_on is not None and pud_on <= (2 if blocks else 0),
            f"delta {pud_on}")
    checks.pages_held(t, tag, on)
    checks.pages_back(t, tag, on)
    if blocks:
        t.check(f"{tag}: after a drain the linear map is as booted, "
                "1G blocks re-formed",
                all(delta(on, f"directmap_{s}_kb", "boot", "drained") == 0
                    for s in ("4k", "2m", "1g")) and
                (delta(on, "pud_collapses", "held", "drained") or 0) >= pud_on,
                f"4K/2M/1G deltas "
                f"{[delta(on, f'directmap_{s}_kb', 'boot', 'drained') for s in ('4k', '2m', '1g')]}"
                f", {delta(on, 'pud_collapses', 'held', 'drained')} PUD "
                f"collapses for {pud_on} splits")
    else:
        t.check(f"{tag}: after a drain the linear map is as booted, "
                "nothing re-formed",
                all(delta(on, f"directmap_{s}_kb", "boot", "drained") == 0
                    for s in ("4k", "2m", "1g")) and
                delta(on, "pmd_collapses", "boot", "drained") == 0 and
                delta(on, "pud_collapses", "boot", "drained") == 0)
    checks.summary(t, tag, on_con,
                   ("directmap on", "node", "regions", "DirectMap4k",
                    "collapse worker"))
    checks.no_warning(t, tag, on)


def check_storm(t, image, initrd, logs, tag="arm64 storm"):
    """The storm and kexec, BBML2 mode, lockdep on; TAG names the kernel"""
    kernel = os.path.join(os.path.dirname(image), "Image")
    # IMAGE is KOBJ/arch/arm64/boot/Image.gz
    kobj = os.path.realpath(os.path.join(os.path.dirname(image), "..", "..", ".."))
    module = os.path.join(kobj, "lib", "test_module.ko")
    m, ex, whole = boot(image, initrd_with(initrd, "kexec",
                                           {"boot/Image": kernel,
                                            "lib/test_module.ko": module}),
                        "storm", ARM64_BLOCKS + " dmsecs=10 "
                        "log_buf_len=4M",
                        arch="arm64", timeout=900,
                        log=os.path.join(logs,
                                         f"guest-{tag.replace(' ', '-')}.log"))
    con, _, kexecd = whole.partition("KEXEC GO")
    g = m.get
    print(f"# storm: {g('storm.ops')} ops ({g('storm.allocs')} allocs, "
          f"{g('storm.frees')} frees, {g('storm.ro_rw')} ro/rw, "
          f"{g('storm.drains')} drains, {g('storm.collapses')} collapses); "
          f"faults: {g('faults.injected')} injected, {g('faults.errors')} "
          f"errors; kexec with {g('kexec.regions_out')} regions out",
          flush=True)
    t.check(f"{tag}: every report line came through whole",
            g("run.garbled_reports") == 0,
            f"{g('run.garbled_reports')} garbled")
    t.check(f"{tag}: lockdep on", g("storm.lockdep") == 1)
    t.check(f"{tag}: verifier clean at boot",
            g("verify.boot.problems") == 0)
    t.check(f"{tag}: 10 s of torture next to memfd_secret churn and "
            "reclaim",
            ex.get("storm") == 0 and (g("storm.ops") or 0) > 1000 and
            (g("storm.allocs") or 0) > 0 and (g("storm.ro_rw") or 0) > 0 and
            (g("storm.drains") or 0) > 0, f"{g('storm.ops')} ops")
    print(f"# meanwhile: {g('code.cpu_toggles')} CPU offline/online "
          f"cycles, {g('code.module_loads')} module loads and unloads, "
          f"{g('code.bpf_progs')} BPF programs JITed, "
          f"{g('code.secret_churns')} memfd_secret rounds, "
          f"{g('code.reclaims')} reclaim rounds", flush=True)
    t.check(f"{tag}: meanwhile a CPU went offline and online, a module "
            "was loaded and unloaded, BPF programs were JITed",
            (g("code.cpu_toggles") or 0) > 0 and
            (g("code.module_loads") or 0) > 0 and
            (g("code.bpf_progs") or 0) > 0,
            f"{g('code.cpu_toggles')} / {g('code.module_loads')} / "
            f"{g('code.bpf_progs')}")
    # counted once the churn alongside ended: the storm's own count and
    # verifier are exact only if nothing else used directmap as it ended
    t.check(f"{tag}: every free succeeded, nothing handed out was "
            "readable; then nothing leaked, verifier clean",
            g("storm.free_errors") == 0 and g("storm.readable") == 0 and
            g("verify.storm.leaked") == 0 and
            g("verify.storm.problems") == 0,
            f"free errors {g('storm.free_errors')}, readable "
            f"{g('storm.readable')}, leaked {g('verify.storm.leaked')}, "
            f"problems {g('verify.storm.problems')} (as the storm ended, "
            f"with the churn still on: {g('storm.leaked')} and "
            f"{g('storm.problems')})")
    t.check(f"{tag}: 1000 injected failures, one error each, no leak",
            ex.get("faults") == 0 and (g("faults.injected") or 0) >= 1000 and
            same(g("faults.errors"), g("faults.injected")) and
            g("faults.leaked") == 0 and g("faults.problems") == 0,
            f"{g('faults.injected')} injected, {g('faults.errors')} errors")
    t.check(f"{tag}: verifier clean at the end",
            g("verify.end.problems") == 0 and g("verify.end.regions") == 0)
    # warnings reach the console only as mininit's DMESG lines
    bad = splats(con)
    t.check(f"{tag}: 0 splats (lockdep, DEBUG_VM, WARN), the whole log "
            "read", not bad and g("run.dmesg_wrapped") == 0,
            "; ".join(bad[:3]) or f"wrapped {g('run.dmesg_wrapped')}")
    t.check(f"{tag}: kexec with {g('kexec.regions_out')} regions out "
            "boots the next kernel",
            ex.get("kexec_load") == 0 and "kexec_hold" not in ex and
            (g("kexec.regions_out") or 0) > 0 and
            "Linux version" in kexecd and
            "directmap: per-node caches of 2M regions ready" in kexecd and
            "Unable to mount root" in kexecd and not splats(kexecd),
            kexecd.strip().splitlines()[-1][:100] if kexecd.strip() else
            "nothing after KEXEC GO")


def main():
    image, build = sys.argv[1], sys.argv[2]
    logs = os.path.join(build, "logs")
    os.makedirs(logs, exist_ok=True)
    initrd = os.path.join(build, "initramfs-arm64.cpio")
    subprocess.run([os.path.join(HERE, "mkinitramfs-arm64.sh"), initrd],
                   check=True)

    print("TAP version 13", flush=True)
    t = Tap()
    if sys.argv[3:4] == ["--storm-only"]:
        check_storm(t, image, initrd, logs, sys.argv[4])
        print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
        return 1 if t.failed else 0
    boots = {}
    for side, args in (("4k", ""), ("bbml2", ARM64_BLOCKS),
                       ("off", "directmap=off")):
        boots[side] = boot(image, initrd, "off" if side == "off" else "check",
                           args, arch="arm64",
                           log=os.path.join(logs, f"guest-arm64-{side}.log"))
    for side, (r, _, _) in boots.items():
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

    for side in ("4k", "bbml2"):
        on, on_exit, on_con = boots[side]
        check_on(t, f"arm64 {side}", on, on_exit, on_con, side == "bbml2")

    off, off_exit, off_con = boots["off"]
    t.check("arm64 off: guest ran to the end", off.get("run.completed") == 1)
    # as without directmap, only the kernel image's alias keeps its blocks
    t.check("arm64 off: the stock linear map, 99% at 4K, and said so once",
            total(off, "boot") > 0 and
            off.get("boot.directmap_4k_kb", 0) * 100 >=
            total(off, "boot") * 99 and
            off_con.count("linear map at 4K for ") == 1,
            f"{large(off, 'boot')} kB in blocks")
    t.check("arm64 off: stock memfd_secret workload ran",
            off_exit.get("dmtest") == 0 and off.get("run.nonzero_pages") == 0)
    t.check("arm64 off: no warning in dmesg",
            off.get("run.dmesg_splats") == 0)
    for side in ("4k", "bbml2"):
        on = boots[side][0]
        t.check(f"arm64 {side} and off map the same memory",
                total(on, "boot") == total(off, "boot"),
                f"{total(on, 'boot')} vs {total(off, 'boot')} kB")

    check_storm(t, image, initrd, logs)

    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
