#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap demo: the same memfd_secret workload with directmap=off and on.

directmap=off is the stock kernel (no region cache, no collapse worker).

Boots the test kernel twice in QEMU, faults in 65,536 memfd_secret pages,
frees them, and prints the direct map's side of it in one table; the
figures also go to BUILD_DIR/demo.json, and DirectMap 4K/2M/1G over time,
off against on, to BUILD_DIR/demo.png (gnuplot).

usage: demo.py BZIMAGE BUILD_DIR [PAGES]
"""

import json
import os
import re
import subprocess
import sys

from qemu import ARM64_BLOCKS, accel_name, boot, delta, kvm_usable, prepare


def mb(kb):
    return "?" if kb is None or kb < 0 else f"{kb / 1024:.0f}"


def samples(console):
    """SAMPLE and PHASE lines of dmtest: [(s, 4k, 2m, 1g) kB], [(s, name)]"""
    points, phases = [], []
    for line in console.splitlines():
        m = re.match(r"SAMPLE ([0-9.]+) (-?\d+) (-?\d+) (-?\d+)\s*$", line)
        if m:
            points.append((float(m.group(1)), *map(int, m.group(2, 3, 4))))
        m = re.match(r"PHASE ([0-9.]+) (\S+)\s*$", line)
        if m:
            phases.append((float(m.group(1)), m.group(2)))
    return points, phases


def plot(series, out, acc):
    """DirectMap 4K, 2M and 1G in MiB over time, off against on"""
    base = os.path.splitext(out)[0]
    for name, (points, phases) in series.items():
        with open(f"{base}-{name}.dat", "w") as f:
            for t, k4, m2, g1 in points:
                f.write(f"{t:.3f} {k4 / 1024:.1f} {m2 / 1024:.1f} "
                        f"{g1 / 1024:.1f}\n")
    colours = {"off": "#9400d3", "on": "#009e73"}
    arrows = "".join(
        f'set arrow from {t:.3f}, graph 0 to {t:.3f}, graph 1 nohead '
        f'lc "{colours[name]}" dt 3\nset label "{name}: {p}" at {t:.3f}, '
        f'graph {0.95 if name == "off" else 0.55} rotate by 90 right '
        f'font ",8" tc "{colours[name]}"\n'
        for name, (_, phases) in series.items()
        for t, p in phases if p in ("held", "freed"))
    panels = "".join(
        f'set title "DirectMap{title}"\n'
        f'plot "{base}-off.dat" using 1:{col} with steps lw 2 '
        f'lc "{colours["off"]}" title "directmap=off", '
        f'"{base}-on.dat" using 1:{col} with steps lw 2 '
        f'lc "{colours["on"]}" title "directmap=on"\n'
        for title, col in (("4k", 2), ("2M", 3), ("1G", 4)))
    script = (f'set terminal pngcairo size 1100,1000 font ",10" '
              f'noenhanced\n'
              f'set output "{out}"\nset multiplot layout 3,1 title '
              f'"memfd_secret demo: the direct map over time (QEMU {acc})"\n'
              f'set xlabel "seconds since dmtest started"\n'
              f'set ylabel "MiB"\nset grid\nset key top left\n'
              f'{arrows}{panels}unset multiplot\n')
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def main():
    bzimage, build = sys.argv[1], sys.argv[2]
    pages = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
    arch = sys.argv[4] if len(sys.argv) > 4 else "x86_64"
    if arch == "arm64":
        logs = os.path.join(build, "logs")
        os.makedirs(logs, exist_ok=True)
        initrd = os.path.join(build, "initramfs-arm64.cpio")
        subprocess.run([os.path.join(os.path.dirname(
            os.path.realpath(__file__)), "mkinitramfs-arm64.sh"), initrd],
            check=True)
    else:
        logs, initrd = prepare(build)
    tag = "-arm64" if arch == "arm64" else ""
    # arm64: the linear map in blocks, split in place (BBML2_NOABORT)
    extra = " " + ARM64_BLOCKS if arch == "arm64" else ""

    kvm = kvm_usable(arch)
    acc = accel_name(kvm)
    runs, series = {}, {}
    for name, args in (("off", "directmap=off"), ("on", "")):
        print(f"  BOOT    directmap={name}, {pages} memfd_secret pages",
              flush=True)
        m, exits, console = boot(bzimage, initrd, "demo",
                                 f"{args} dmpages={pages}{extra}",
                                 arch=arch,
                                 kvm=kvm,
                                 log=os.path.join(logs,
                                                  f"demo{tag}-{name}.log"))
        if exits.get("dmtest") != 0 or m.get("run.completed") != 1:
            print(f"demo: the directmap={name} guest failed; see "
                  f"{logs}/demo{tag}-{name}.log", file=sys.stderr)
            return 1
        runs[name] = m
        series[name] = samples(console)

    def row(label, fn):
        cells = [fn(runs[k]) for k in ("off", "on")]
        print(f"{label:<40}{cells[0]:>30}{cells[1]:>30}")

    def dm(level):
        return lambda m: " / ".join(mb(m.get(f"{p}.directmap_{level}_kb"))
                                    for p in ("boot", "held", "freed",
                                              "drained"))

    print()
    print(f"directmap demo ({arch}): {pages} memfd_secret pages "
          f"({pages * 4 // 1024} MiB), QEMU {acc}, 2 vCPUs, 2 NUMA nodes, 4 GiB")
    print()
    print("off: the stock kernel, no region cache and no collapse worker; "
          "on: both")
    if arch == "arm64":
        print("arm64: the linear map in blocks, split in place "
              "(arm64.bbml2_noabort_emulated); only directmap's own TLB "
              "flushes are counted")
    print(f"{'':<40}{'directmap=off':>30}{'directmap=on':>30}")
    row("PMD splits (direct_map_level2_splits)",
        lambda m: f"{delta(m, 'pmd_splits', 'boot', 'held'):.0f}")
    row("PUD splits (direct_map_level3_splits)",
        lambda m: f"{delta(m, 'pud_splits', 'boot', 'held'):.0f}")
    row("DirectMap4k MB boot/held/freed/drained", dm("4k"))
    row("DirectMap2M MB boot/held/freed/drained", dm("2m"))
    row("DirectMap1G MB boot/held/freed/drained", dm("1g"))
    row("PMD/PUD collapses after free",
        lambda m: f"{delta(m, 'pmd_collapses', 'held', 'freed'):.0f} / "
                  f"{delta(m, 'pud_collapses', 'held', 'freed'):.0f}")
    row("PMD/PUD collapses at the drain",
        lambda m: f"{delta(m, 'pmd_collapses', 'freed', 'drained'):.0f} / "
                  f"{delta(m, 'pud_collapses', 'freed', 'drained'):.0f}")
    row("DirectMap as booted after the last free, ms",
        lambda m: "never (no drain)" if m.get("run.idle_ms", -1) < 0
        else f"{m['run.idle_ms']:.0f} (no drain)")
    row("time to repair 2M+1G to 99.9% of boot, ms",
        lambda m: "not repaired" if m.get("run.repair_ms", -1) < 0
        else f"{m['run.repair_ms']:.0f}")
    def flushes(m, a, b):
        # arm64 counts directmap's own flushes only: stock's are not seen
        if arch == "arm64" and m is runs["off"]:
            return "-"
        return f"{delta(m, 'tlb_flushes', a, b):.0f}"

    row("kernel TLB flushes, fault-in",
        lambda m: flushes(m, "boot", "held"))
    row("kernel TLB flushes, free",
        lambda m: flushes(m, "held", "freed"))
    row(f"fault-in time, ms ({acc})",
        lambda m: f"{m['run.fault_ms']:.0f}")
    row(f"munmap+close time, ms ({acc})",
        lambda m: f"{m['run.free_ms']:.0f}")
    print()
    print("freed: secrets closed and the collapse worker done; directmap "
          "still caches a few empty")
    print("regions per node (absent 2M entries), for release_idle_ms "
          "after each emptied; drained:")
    print("those given back at once, their 1G entries re-formed.")
    print(f"Times are QEMU {acc} wall times: compare the two columns" +
          (", on this host's hardware." if kvm else
           ", not the numbers with real hardware."))

    out = os.path.join(build, f"demo{tag}.json")
    with open(out, "w") as f:
        json.dump({"pages": pages, "runs": runs,
                   "samples": {k: {"seconds_4k_2m_1g_kb": v[0], "phases": v[1]}
                               for k, v in series.items()}},
                  f, indent=1, sort_keys=True)
    print(f"figures: {out}")
    png = os.path.join(build, f"demo{tag}.png")
    if all(len(series[k][0]) >= 2 for k in series):
        plot(series, png, acc)
        print(f"plot: {png} (DirectMap 4K/2M/1G over time, off vs on)")
    else:
        print("demo: too few DirectMap samples to plot", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
