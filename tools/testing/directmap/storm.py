#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap's reliability storm in a guest with 4 vCPUs on 2 nodes.

The test kernel has KASAN, lockdep and DEBUG_VM.  The guest runs
directmap's torture threads against memory pressure, memfd_secret and
drop_caches, then fail_directmap alone and with fail_page_alloc, reads
ptdump while regions are out, and runs the consistency verifier after
each phase (guest/init, storm()).

make check runs it short (10 s, 1,000 failures) inside integration.py;
make stress runs it full (60 s, 10,000 failures) on its own:

usage: storm.py BZIMAGE BUILD_DIR
"""

import os
import sys

from qemu import boot, initrd_with, prepare, tagged
from tap import Tap

# What KASAN, lockdep, DEBUG_VM and WARN print first.  Not "Call Trace":
# warn_alloc() prints one for each allocation fail_page_alloc fails.
SPLATS = ("WARNING:", "BUG:", "Oops", "general protection", "KASAN",
          "possible circular", "possible recursive", "inconsistent lock",
          "INFO: task")


def same(a, b):
    """two figures the guest reported, and equal: a missing one is not"""
    return a is not None and a == b


def splats(console):
    """the console's kernel splat lines"""
    return [x for x in console.splitlines() if any(s in x for s in SPLATS)]


def with_kernel(initrd, bzimage):
    """INITRD with /boot/bzImage appended, for kexec in the guest"""
    return initrd_with(initrd, "kexec", {"boot/bzImage": bzimage})


def storm_checks(t, bzimage, initrd, logs, full):
    suite = "stress" if full else "storm"
    secs, faults = (60, 10000) if full else (10, 1000)
    # boot() adds no5lvl (see there); the kexec'd kernel gets it too
    m, ex, whole = boot(bzimage, with_kernel(initrd, bzimage), suite, cpus=4,
                        timeout=1800,
                        log=os.path.join(logs, f"guest-{suite}.log"))
    con, _, kexecd = whole.partition("KEXEC GO")

    def g(key):
        return m.get(key)

    print(f"# {suite}: {g('storm.cpus')} CPUs, storm {secs} s: "
          f"{g('storm.ops')} ops ({g('storm.allocs')} allocs, "
          f"{g('storm.frees')} frees, {g('storm.ro_rw')} ro/rw, "
          f"{g('storm.drains')} drains, {g('storm.collapses')} collapses)",
          flush=True)
    for phase in ("faults", "faults_pa"):
        print(f"# {suite}: {phase}: {g(phase + '.ops')} ops, "
              f"{g(phase + '.injected')} injected, {g(phase + '.errors')} "
              f"errors, {g(phase + '.nulls')} NULL, leaked "
              f"{g(phase + '.leaked')}, free pages {g(phase + '.free_delta')}"
              f", verifier {g(phase + '.problems')}", flush=True)

    t.check(f"{suite}: guest ran to the end", g("run.completed") == 1)
    t.check(f"{suite}: every report line came through whole",
            g("run.garbled_reports") == 0,
            f"{g('run.garbled_reports')} garbled")
    t.check(f"{suite}: 4 vCPUs, KASAN and lockdep on",
            g("storm.cpus") == 4 and g("storm.kasan") == 1 and
            (g("storm.lockdep") or 0) >= 1)
    t.check(f"{suite}: verifier clean at boot",
            g("verify.boot.problems") == 0)
    t.check(f"{suite}: storm of {secs} s ran on every CPU",
            ex.get("storm") == 0 and (g("storm.ops") or 0) > 1000 and
            (g("storm.allocs") or 0) > 0 and (g("storm.ro_rw") or 0) > 0,
            f"{g('storm.ops')} ops")
    # counted once stress-ng ended: the storm's own count and verifier
    # are exact only if nothing else used directmap as it ended
    t.check(f"{suite}: storm: every free succeeded, nothing handed out "
            "was readable, nothing leaked",
            g("storm.free_errors") == 0 and g("storm.readable") == 0 and
            g("verify.storm.leaked") == 0,
            f"free errors {g('storm.free_errors')}, readable "
            f"{g('storm.readable')}, leaked {g('verify.storm.leaked')}")
    t.check(f"{suite}: stress-ng --vm --secretmem alongside",
            ex.get("storm_stress_ng") == 0)
    t.check(f"{suite}: verifier clean after the storm",
            g("verify.storm.problems") == 0,
            f"{g('verify.storm.problems')} problems (as the storm ended, "
            f"with stress-ng still on: leaked {g('storm.leaked')}, "
            f"{g('storm.problems')} problems)")

    t.check(f"{suite}: {faults} failures injected across the points",
            ex.get("faults") == 0 and (g("faults.injected") or 0) >= faults,
            f"{g('faults.injected')}")
    t.check(f"{suite}: each injected failure is one error returned",
            same(g("faults.errors"), g("faults.injected")) and
            same(g("faults.nulls"), g("faults.fallback_failures")),
            f"{g('faults.errors')} errors, {g('faults.nulls')} NULL, "
            f"{g('faults.fallback_failures')} fallback failures")
    t.check(f"{suite}: injected failures leaked nothing, verifier clean",
            g("faults.leaked") == 0 and g("faults.problems") == 0 and
            g("faults.free_errors") == 0 and g("faults.readable") == 0,
            f"leaked {g('faults.leaked')}, problems {g('faults.problems')}")
    inj = {k: int(v) for k, v in
           (x.split() for x in tagged(con, "INJECTED") if len(x.split()) == 2)}
    t.check(f"{suite}: failures reached every point",
            len(inj) == 5 and all(v > 0 for v in inj.values()), str(inj))
    t.check(f"{suite}: with fail_page_alloc as well: errors, no leak, "
            "verifier clean",
            ex.get("faults_page_alloc") == 0 and
            (g("faults_pa.injected") or 0) >= faults // 5 and
            (g("faults_pa.errors") or 0) >= g("faults_pa.injected") and
            same(g("faults_pa.nulls"), g("faults_pa.fallback_failures")) and
            g("faults_pa.leaked") == 0 and g("faults_pa.problems") == 0,
            f"{g('faults_pa.injected')} injected, {g('faults_pa.errors')} "
            f"errors, leaked {g('faults_pa.leaked')}")
    t.check(f"{suite}: ptdump reads the direct map while regions are out",
            ex.get("ptdump") == 0 and (g("ptdump.lines") or 0) > 10 and
            (g("ptdump.regions_out") or 0) > 0,
            f"{g('ptdump.lines')} lines, {g('ptdump.regions_out')} regions")
    t.check(f"{suite}: verifier clean at the end",
            g("verify.end.problems") == 0 and
            g("verify.end.regions") == 0)
    bad = splats(con)
    t.check(f"{suite}: 0 splats (KASAN, lockdep, DEBUG_VM, WARN)", not bad,
            "; ".join(bad[:3]))
    t.check(f"{suite}: kexec with {g('kexec.regions_out')} regions out: "
            "the next kernel boots",
            ex.get("kexec_load") == 0 and (g("kexec.regions_out") or 0) > 0
            and "Linux version" in kexecd and
            "directmap: per-node caches of 2M regions ready" in kexecd and
            "Unable to mount root" in kexecd and not splats(kexecd),
            kexecd.strip().splitlines()[-1][:100] if kexecd.strip()
            else "no second boot")


def main():
    bzimage, build = sys.argv[1], sys.argv[2]
    logs, initrd = prepare(build)
    print("TAP version 13", flush=True)
    t = Tap()
    storm_checks(t, bzimage, initrd, logs, full=True)
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
