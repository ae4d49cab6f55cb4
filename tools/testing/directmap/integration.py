#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap integration tests: the test kernel booted with a real userspace.

Boots the kernel with directmap on and with directmap=collapse (the stock
secretmem path, repaired by the collapse worker), runs the memfd_secret
workload (65,536 pages), the kernel's memfd_secret selftest, stress-ng
--secretmem and gmemtest (guest_memfd without the direct map, its own TAP
relayed check by check); with directmap=off (the stock kernel: nothing
cached, nothing re-formed); with 4 vCPUs for the short reliability storm
(storm.py); and with a DIMM hot-added and removed (hotplug.py).  Prints
TAP.

usage: integration.py BZIMAGE BUILD_DIR
"""

import os
import re
import subprocess
import sys
import tempfile

import checks
from checks import large
from qemu import boot, prepare, delta, tagged
from hotplug import hotplug_checks
from kdump import kdump_checks
from storm import storm_checks
from tap import Tap

HERE = os.path.dirname(os.path.realpath(__file__))
SCRIPTS = os.path.realpath(os.path.join(HERE, "..", "..", "perf-scripts"))


def perfstat_rows(lines):
    """directmap-stat's table: {label: (tracepoint, vmstat)}"""
    rows = {}
    for line in lines:
        m = re.match(r"(\S.*?)\s{2,}(\S+)\s+(\S+)\s{2}\S", line)
        if m and m.group(1) != "event":
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def gmem_checks(t, side, ex, con):
    """gmemtest's TAP (guest/gmemtest.c): each of its checks is one here,
    its diagnostics are ours; then one check that it ran to its plan"""
    lines = tagged(con, "GMEM")
    n, plan, bail = 0, None, None
    for line in lines:
        m = re.match(r"(not )?ok \d+ (.*?)(?: # (.*))?$", line)
        if m:
            n += 1
            t.check(f"{side}: gmemtest: {m.group(2)}", not m.group(1),
                    m.group(3) or "")
        elif line.startswith("#"):
            print(f"# {side}: gmemtest: {line[1:].strip()}", flush=True)
        elif re.match(r"1\.\.\d+$", line):
            plan = int(line[3:])
        elif line.startswith("Bail out!"):
            bail = line
    t.check(f"{side}: gmemtest ran every check it planned and passed",
            ex.get("gmemtest") == 0 and plan == n and n > 0 and not bail,
            f"exit {ex.get('gmemtest')}, {n} checks of plan {plan}"
            + (f", {bail}" if bail else ""))


def benches(t, on, on_exit, on_con, off, off_exit, off_con, logs):
    """the benchmarks and perf scripts, in their short modes"""
    for side, m, ex in (("on", on, on_exit), ("collapse", off, off_exit)):
        t.check(f"{side}: dmbench micro: plain and stock paths measured",
                ex.get("dmbench_micro") == 0 and
                all((m.get(f"micro.{p}.ns_per_page") or 0) > 0
                    for p in ("plain", "stock")))
        t.check(f"{side}: micro: the stock path flushes once per page",
                (m.get("micro.stock.tlb_flushes_per_1000_pages") or 0)
                >= 1000, m.get("micro.stock.tlb_flushes_per_1000_pages"))
        t.check(f"{side}: dmbench walk: a split walk set is all 4K, "
                "as booted mostly not",
                ex.get("dmbench_walk") == 0 and
                m.get("walk.split.pages_at_4k") == m.get("walk.split.pages")
                and (m.get("walk.intact.pages_at_4k") or 0) * 2 <
                (m.get("walk.intact.pages") or 0),
                f"split {m.get('walk.split.pages_at_4k')}, as booted "
                f"{m.get('walk.intact.pages_at_4k')} of "
                f"{m.get('walk.intact.pages')} at 4K")
        t.check(f"{side}: dmbench churn ran",
                ex.get("dmbench_churn") == 0 and
                (m.get("churn.pages") or 0) > 0)
    t.check("on: micro: directmap, warm, no PMD split, <= 1 flush per 512",
            on.get("micro.directmap.pmd_splits") == 0 and
            on.get("micro.directmap.tlb_flushes_per_1000_pages") is not None
            and on["micro.directmap.tlb_flushes_per_1000_pages"] <= 2,
            f"{on.get('micro.directmap.tlb_flushes_per_1000_pages')} "
            "flushes per 1000")
    t.check("on: micro: directmap's wipe and a plain clear_page() timed",
            (on.get("micro.wipe.wipe_ns_per_page") or 0) > 0 and
            (on.get("micro.wipe.direct_ns_per_page") or 0) > 0)
    t.check("collapse: micro: directmap mode refused with EOPNOTSUPP",
            off.get("micro.directmap.errno") == 95)
    t.check("on: churn: no PMD split; collapse: the stock path splits",
            on.get("churn.pmd_splits") == 0 and
            (off.get("churn.pmd_splits") or 0) > 0,
            f"on {on.get('churn.pmd_splits')}, collapse "
            f"{off.get('churn.pmd_splits')}")

    for side, ex, con in (("on", on_exit, on_con),
                          ("collapse", off_exit, off_con)):
        rows = perfstat_rows(tagged(con, "PERFSTAT"))
        numeric = {k: v for k, v in rows.items() if v[1] != "-"}
        t.check(f"{side}: directmap-stat: tracepoints equal vmstat, "
                "row by row",
                ex.get("directmap_stat") == 0 and len(numeric) >= 8 and
                all(a == b for a, b in numeric.values()), str(rows))
        busy = "region unmap" if side == "on" else "2M split"
        t.check(f"{side}: directmap-stat saw the churn ({busy})",
                rows.get(busy, ("0",))[0] not in ("0", "n/a"),
                str(rows.get(busy)))

        tl = tagged(con, "TIMELINE")
        m = [re.match(r"# (\d+) events over (\d+) areas", x) for x in tl]
        m = [x for x in m if x]
        n = int(m[0].group(1)) if m else 0
        t.check(f"{side}: directmap-timeline recorded and reported events",
                ex.get("timeline_record") == 0 and n > 0, f"{n} events")
        script = tagged(con, "PSCRIPT")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "script.txt")
            png = os.path.join(logs, f"timeline-{side}.png")
            with open(src, "w") as f:
                f.write("\n".join(script) + "\n")
            r = subprocess.run([os.path.join(SCRIPTS, "directmap-timeline"),
                                "report", "-s", src, "-p", png, "-n", "0"],
                               capture_output=True, text=True)
            host = re.search(r"# (\d+) events over", r.stdout)
            t.check(f"{side}: the timeline of the guest's recording "
                    "plots on the host",
                    r.returncode == 0 and os.path.getsize(png) > 1000 and
                    host is not None and
                    (len(script) >= 3000 or int(host.group(1)) == n),
                    f"{host.group(1) if host else r.stderr.strip()} events")
        tlb = " ".join(tagged(con, "TLB"))
        t.check(f"{side}: directmap-tlb says what the PMU can count",
                "no hardware PMU" in tlb or "can count" in tlb, tlb[:80])
        t.check(f"{side}: every perf script has --help",
                ex.get("perf_scripts_help") == 0)

    bad = bad_script_options(SCRIPTS)
    t.check("perf scripts answer --help and -h, and a bad option with one "
            "line and exit 2", not bad, "; ".join(bad)[:200])
    r = subprocess.run(["shellcheck", "-x"] +
                       [os.path.join(SCRIPTS, f) for f in
                        sorted(os.listdir(SCRIPTS))],
                       capture_output=True, text=True)
    t.check("perf scripts are shellcheck-clean", r.returncode == 0,
            r.stdout.strip().replace("\n", " ")[:200])


def bad_script_options(scripts):
    """What each script in SCRIPTS does wrong with --help, -h and a bad
    option, as perf's tools answer them"""
    bad = []
    for name in sorted(os.listdir(scripts)):
        path = os.path.join(scripts, name)
        if not os.access(path, os.X_OK):
            continue    # directmap-common.sh, which the scripts source
        for arg in ("--help", "-h"):
            r = subprocess.run([path, arg], capture_output=True, text=True)
            if r.returncode != 0 or not r.stdout.startswith("usage:"):
                bad.append(f"{name} {arg}: exit {r.returncode}")
        for arg in ("--no-such-option", "-Z"):
            r = subprocess.run([path, arg, "true"], capture_output=True,
                               text=True)
            lines = r.stderr.strip().splitlines()
            if r.returncode != 2 or len(lines) != 1 or arg not in lines[0]:
                bad.append(f"{name} {arg}: exit {r.returncode}, "
                           f"{len(lines)} lines")
    return bad


def main():
    bzimage, build = sys.argv[1], sys.argv[2]
    logs, initrd = prepare(build)

    print("TAP version 13", flush=True)
    t = Tap()

    on, on_exit, on_con = boot(bzimage, initrd, "check",
                               log=os.path.join(logs, "guest-on.log"))
    # the stock path, with the worker to repair it
    off, off_exit, off_con = boot(bzimage, initrd, "off", "directmap=collapse",
                                  log=os.path.join(logs, "guest-collapse.log"))
    # the stock kernel
    stock, stock_exit, stock_con = boot(bzimage, initrd, "stock",
                                        "directmap=off dmpages=16384",
                                        log=os.path.join(logs, "guest-off.log"))

    pmd_on = delta(on, "pmd_splits", "boot", "held")
    pud_on = delta(on, "pud_splits", "boot", "held")
    pmd_off = delta(off, "pmd_splits", "boot", "held")
    pud_off = delta(off, "pud_splits", "boot", "held")
    pages = int(on.get("run.pages", 0))
    print(f"# {pages} memfd_secret pages: PMD splits on={pmd_on} "
          f"collapse={pmd_off}"
          f", PUD splits on={pud_on} collapse={pud_off}", flush=True)

    checks.workload(t, "on", on, on_exit)
    t.check("on: at most one PUD split per GiB used (256M on 2 nodes)",
            pud_on is not None and pud_on <= 2, f"delta {pud_on}")
    checks.pages_held(t, "on", on)
    t.check("on: secretmem holds every page as directmap's owner",
            on.get("held.secretmem_owned") == pages,
            f"{on.get('held.secretmem_owned')} of {pages}")
    checks.pages_back(t, "on", on)
    t.check("on: DirectMap4k unchanged after free",
            delta(on, "directmap_4k_kb", "boot", "freed") == 0)
    t.check("on: nothing split while idle: without a drain, the empty "
            "regions go back and DirectMap4k/1G are as booted "
            f"({on.get('run.idle_ms')} ms after the last free)",
            (on.get("run.idle_ms") or -1) >= 0 and
            delta(on, "directmap_1g_kb", "boot", "idle") == 0 and
            delta(on, "directmap_4k_kb", "boot", "idle") == 0 and
            on.get("idle.dmap_regions") == 0,
            f"1G delta {delta(on, 'directmap_1g_kb', 'boot', 'idle')}, "
            f"4K delta {delta(on, 'directmap_4k_kb', 'boot', 'idle')}, "
            f"regions {on.get('idle.dmap_regions')}")
    # whether the workload leaves a 1G area waiting is the page
    # allocator's choice and KASLR's: dmtest then gives one region on
    # node 1 back, whose 1G area waits in the queue until the direct map
    # is idle
    split = delta(on, "directmap_1g_kb", "w1g_start", "w1g_held")
    passes = delta(on, "worker_passes", "w1g_held", "w1g_idle")
    slept = delta(on, "worker_slept", "w1g_held", "w1g_idle")
    t.check("on: while only a 1G area waited for an idle direct map, the "
            "worker slept through passes instead of waking for each",
            (on.get("w1g.idle_ms") or -1) >= 0 and
            slept is not None and passes is not None and slept > 0 and
            passes < slept,
            f"tried {on.get('w1g.idle_ms')} ms after the free of a region "
            f"that split {-split if split is not None else None} kB of 1G "
            f"entries: {passes} passes run, {slept} slept through; "
            f"{on.get('w1g.pending_before')} areas queued before")
    t.check("on: after a drain the 1G entries are whole again",
            all(delta(on, f"directmap_{s}_kb", "boot", "drained") == 0
                for s in ("4k", "2m", "1g")),
            f"1G delta {delta(on, 'directmap_1g_kb', 'boot', 'drained')}")
    t.check("on: /dev/snapshot held open: a secretmem fault waits for "
            "its close, then completes",
            on.get("hib.snapshot_open") == 0 and
            on.get("hib.snapshot_fault_while_open") == -1 and
            on.get("hib.snapshot_fault_after_close") == 1,
            f"while open {on.get('hib.snapshot_fault_while_open')}, "
            f"after {on.get('hib.snapshot_fault_after_close')}")
    t.check("on: /sys/power/state disk (pm_test=freezer): refused with a "
            "secret held, runs without, faults work after",
            on.get("hib.state_without_secret") == 0 and
            on.get("hib.state_with_secret_held") in (1, 16) and
            on.get("hib.state_fault_after") == 1,
            f"held {on.get('hib.state_with_secret_held')}, without "
            f"{on.get('hib.state_without_secret')}, after "
            f"{on.get('hib.state_fault_after')}")
    t.check("on: hibtest ran to the end", on_exit.get("hibtest") == 0)
    for how in ("mempolicy", "cpuset"):
        t.check(f"on: secret pages follow the task's {how} (node 1), not "
                "its CPU (node 0)",
                on.get(f"numa.{how}_node1", 0) >= 256 and
                on.get(f"numa.{how}_node0") == 0,
                f"node 0 +{on.get(f'numa.{how}_node0')}, node 1 "
                f"+{on.get(f'numa.{how}_node1')}")
    t.check("on: directmap's entries for a task's secret pages are charged "
            "to its memcg (2x the page cache's xarray at least)",
            (on.get("numa.memcg_slab_bytes") or 0) >=
            2 * (on.get("numa.memcg_page_cache_xarray_bytes") or 1e9),
            f"{on.get('numa.memcg_slab_bytes')} bytes of slab for "
            f"8192 pages")
    def pin(key, missing):
        value = on.get(f"numa.pin_{key}")
        return missing if value is None else value

    full = pin("charged_full", 0)
    t.check("on: a memcg that frees all but one page in 256 stays charged "
            "for the slots it pins; reusing them moves the charge; none "
            "stays once its pages are gone",
            full >= 1900 and
            pin("charged_punched", 0) >= full / 2 and
            pin("kept_slots", 0) >= 1020 and
            pin("charged_refaulted", 1e9) <=
            2048 + pin("kept_refaulted", 1e9) + 128 and
            pin("charged_after_close", 1e9) <= full / 8 and
            pin("kept_after_close", 1e9) <= 0,
            f"memory.current +{full:.0f} pages faulted, "
            f"{pin('charged_punched', None)} after freeing 2040 "
            f"({pin('kept_slots', None)} kept slots), "
            f"{pin('charged_refaulted', None)} refaulted, "
            f"{pin('charged_after_close', None)} after close")
    t.check("on: numatest ran to the end", on_exit.get("numatest") == 0)
    t.check("on: kernel memfd_secret selftest",
            on_exit.get("memfd_secret_selftest") == 0)
    t.check("on: stress-ng --secretmem 30s",
            on_exit.get("stress_ng_secretmem") == 0)
    checks.no_warning(t, "on", on)

    t.check("collapse: guest ran to the end", off.get("run.completed") == 1)
    t.check("collapse: stock memfd_secret workload ran",
            off_exit.get("dmtest") == 0 and off.get("run.nonzero_pages") == 0)
    t.check("collapse: stock path splits PMDs for the same workload",
            pmd_off is not None and pmd_off > 0, f"delta {pmd_off}")
    checks.no_warning(t, "collapse", off)

    gmem_checks(t, "on", on_exit, on_con)
    gmem_checks(t, "collapse", off_exit, off_con)
    for side, ex in (("on", on_exit), ("collapse", off_exit)):
        for test in ("guest_memfd_test", "private_mem_conversions_test",
                     "private_mem_kvm_exits_test"):
            t.check(f"{side}: KVM selftest {test}",
                    ex.get(f"kvm_{test}") == 0,
                    f"exit {ex.get(f'kvm_{test}')}")

    # directmap=off: the stock kernel, whose splits stay
    pmd_stock = delta(stock, "pmd_splits", "boot", "held")
    t.check("off: guest ran to the end, stock memfd_secret workload ran",
            stock.get("run.completed") == 1 and stock_exit.get("dmtest") == 0
            and stock.get("run.nonzero_pages") == 0)
    t.check("off: no collapse worker (no kdirectmapd, no sysfs knobs)",
            stock.get("stock.kdirectmapd") == 0 and
            stock.get("stock.worker_sysfs") == 0,
            f"{stock.get('stock.kdirectmapd')} threads, "
            f"{stock.get('stock.worker_sysfs')} files")
    t.check("off: the stock path splits and nothing re-forms the splits",
            (pmd_stock or 0) > 0 and stock.get("run.repair_ms") == -1 and
            large(stock, "freed") < large(stock, "boot") and
            delta(stock, "pmd_collapses", "boot", "freed") == 0 and
            delta(stock, "pud_collapses", "boot", "freed") == 0,
            f"{pmd_stock} splits, 2M+1G {large(stock, 'freed')} of "
            f"{large(stock, 'boot')} kB after free")
    checks.no_warning(t, "off", stock)

    # The collapse worker repairs what the stock path split
    repair = off.get("run.repair_ms", -1)
    print(f"# collapse: DirectMap2M+1G boot {large(off, 'boot')} held "
          f"{large(off, 'held')} freed {large(off, 'freed')} kB, repaired in "
          f"{repair} ms by {delta(off, 'pmd_collapses', 'held', 'freed')} "
          f"PMD and {delta(off, 'pud_collapses', 'held', 'freed')} PUD "
          f"collapses", flush=True)
    t.check("collapse: DirectMap2M+1G back to 99.9% of boot within 1 s of "
            "free",
            0 <= repair <= 1000 and
            large(off, "freed") * 1000 >= large(off, "boot") * 999,
            f"{repair} ms, {large(off, 'freed')} of {large(off, 'boot')} kB")
    t.check("collapse: the worker re-formed the split PMDs",
            (delta(off, "pmd_collapses", "held", "freed") or 0) >= pmd_off,
            f"{delta(off, 'pmd_collapses', 'held', 'freed')} collapses for "
            f"{pmd_off} splits")
    print(f"# on: after the drain {delta(on, 'pud_collapses', 'freed', 'drained')}"
          f" PUD collapses, DirectMap1G {on.get('drained.directmap_1g_kb')} kB"
          f" (boot {on.get('boot.directmap_1g_kb')})", flush=True)
    # the worker may re-form a 1G entry before the drain, once every
    # region under it is back: count from the free on
    t.check("on: free and drain re-formed every 1G entry the cache split",
            (delta(on, "pud_collapses", "held", "drained") or 0) >= pud_on
            and on.get("drained.directmap_1g_kb") ==
            on.get("boot.directmap_1g_kb"),
            f"{delta(on, 'pud_collapses', 'held', 'drained')} collapses for "
            f"{pud_on} splits")

    # The tracepoints against the counters over the same run, both sides
    for side, r in (("on", on), ("collapse", off)):
        pairs = [("region_unmap", ["vm_refill"]),
                 ("region_restore", ["vm_release"]),
                 ("fallback", ["vm_fallback"]),
                 ("error", ["vm_refill_fail", "vm_fallback_fail",
                            "vm_misuse"]),
                 ("pmd_splits", ["pmd_splits"]),
                 ("pud_splits", ["pud_splits"]),
                 ("pmd_collapses", ["pmd_collapses"]),
                 ("pud_collapses", ["pud_collapses"]),
                 ("pages_alloc", ["vm_pages_alloc"]),
                 ("pages_free", ["vm_pages_free"])]
        got = {ev: r.get("trace." + ev) for ev, _ in pairs}
        want = {}
        for ev, keys in pairs:
            ds = [delta(r, k, "trace_on", "trace_off") for k in keys]
            want[ev] = None if None in ds else sum(ds)
        print(f"# {side}: tracepoints {got}, counters {want}, "
              f"lost {r.get('trace.lost')}", flush=True)
        t.check(f"{side}: directmap tracepoints equal the vmstat deltas",
                r.get("trace.lost") == 0 and
                all(got[ev] is not None and got[ev] == want[ev]
                    for ev in got), f"{got} vs {want}")
    t.check("on: tracepoints saw regions unmapped and restored, pages "
            "handed out and given back",
            (on.get("trace.region_unmap") or 0) > 0 and
            (on.get("trace.region_restore") or 0) > 0 and
            (on.get("trace.pages_alloc") or 0) > 0 and
            (on.get("trace.pages_free") or 0) > 0 and
            on.get("trace.error") == 0)

    t.check("on: the cache's own counters agree with vmstat",
            delta(on, "dmap_refills", "boot", "drained") ==
            delta(on, "vm_refill", "boot", "drained") and
            delta(on, "dmap_releases", "boot", "drained") ==
            delta(on, "vm_release", "boot", "drained"))
    t.check("on: vmstat: allocations were cache hits after the refills",
            (delta(on, "vm_alloc_hit", "boot", "held") or 0) >
            99 * (delta(on, "vm_alloc_miss", "boot", "held") or 1))

    checks.summary(t, "on", on_con,
                   ("directmap on", "node", "regions", "allocations",
                    "DirectMap4k", "collapse worker"))

    benches(t, on, on_exit, on_con, off, off_exit, off_con, logs)

    storm_checks(t, bzimage, initrd, logs, full=False)
    hotplug_checks(t, bzimage, initrd, logs)
    kdump_checks(t, bzimage, initrd, logs)

    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
