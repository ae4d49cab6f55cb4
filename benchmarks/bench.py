#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: directmap off against on, same kernel, one invocation.

Boots the test kernel twice in QEMU: once as the stock kernel
(directmap=off: no cache, no collapse worker) and once with directmap on, and
runs the same benchmarks in each (suite "bench" of
tools/testing/directmap/guest/init; on arm64, of guest/mininit.c):

  micro   in-kernel alloc+free of zeroed pages: plain alloc_page(), the
          stock 6.12 secretmem path and directmap, in one boot
  churn   memfd_secret churn: secret files of random sizes, faulted in and
          closed at random, interleaved with anonymous memory; and the
          same sequence of plain memfd_create() files, the baseline
  stress  stress-ng --secretmem
  walk    kernel reads of random pages over the direct map: as booted,
          split to 4K on purpose, and after the churn

Under KVM where the host has it (kvm_usable(): /dev/kvm and VMX or SVM;
DIRECTMAP_ACCEL=tcg|kvm overrides), else TCG; the table says which.

With ARM64_IMAGE, the same on arm64 (QEMU virt, the linear map in blocks
split in place as on BBML2_NOABORT hardware), all but stress-ng.

Writes RESULTS/bench-off.json, RESULTS/bench-on.json (every metric; arm64:
bench-arm64-*.json) and RESULTS/bench.json (the tables; arm64's under
"arm64"), and prints a table with ratios per architecture.

usage: PYTHONPATH=tools/testing/directmap bench.py BZIMAGE BUILD_DIR RESULTS_DIR [ARM64_IMAGE]
(make bench sets it: the QEMU runner is the tests' own, tools/testing/directmap/qemu.py)
"""

import json
import os
import subprocess
import sys

from qemu import ARM64_BLOCKS, accel_name, boot, kvm_usable, prepare


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, float) and digits:
        return f"{v:.{digits}f}"
    return f"{v:,.0f}"


def per_1000(m, key, pages_key):
    a, n = m.get(key), m.get(pages_key)
    if a is None or a < 0 or not n:
        return None
    return a * 1000.0 / n


def rows_side_by_side(off, on):
    """(label, off, on, better-is) for the benchmarks run in both boots"""
    def g(m, k):
        v = m.get(k)
        return None if v is None or v < 0 else v

    def walk_ns(m, k):
        v = g(m, k)
        return None if v is None else v / 1000.0

    def over_plain(m):
        """secret fault-in time per page against plain memfd_create()'s"""
        return ratio(g(m, "churn_plain.pages_per_s"), g(m, "churn.pages_per_s"))

    return [
        ("churn: plain memfd_create pages faulted in per s",
         g(off, "churn_plain.pages_per_s"), g(on, "churn_plain.pages_per_s"),
         "higher"),
        ("churn: secret pages faulted in per s",
         g(off, "churn.pages_per_s"), g(on, "churn.pages_per_s"), "higher"),
        ("churn: secret / plain time per page (x)",
         over_plain(off), over_plain(on), "lower"),
        ("churn: PMD (2M) splits",
         g(off, "churn.pmd_splits"), g(on, "churn.pmd_splits"), "lower"),
        ("churn: PUD (1G) splits",
         g(off, "churn.pud_splits"), g(on, "churn.pud_splits"), "lower"),
        ("churn: kernel TLB flushes per 1,000 pages",
         per_1000(off, "churn.tlb_flushes", "churn.pages"),
         per_1000(on, "churn.tlb_flushes", "churn.pages"), "lower"),
        ("churn: DirectMap4k after, MiB",
         (g(off, "churn.directmap_4k_kb") or 0) / 1024,
         (g(on, "churn.directmap_4k_kb") or 0) / 1024, "lower"),
        ("stress-ng --secretmem: bogo ops/s",
         g(off, "stressng.bogo_ops_per_s"), g(on, "stressng.bogo_ops_per_s"),
         "higher"),
        ("stress-ng --secretmem: PMD splits",
         g(off, "stressng.direct_map_level2_splits"),
         g(on, "stressng.direct_map_level2_splits"), "lower"),
        ("walk after churn: ns per kernel read",
         walk_ns(off, "walk.after_churn.ns_per_touch_x1000"),
         walk_ns(on, "walk.after_churn.ns_per_touch_x1000"), "lower"),
        ("walk after churn: walked pages mapped 4K",
         g(off, "walk.after_churn.pages_at_4k"),
         g(on, "walk.after_churn.pages_at_4k"), "lower"),
    ]


def rows_micro(on, name):
    """the in-kernel microbenchmark NAME of the directmap=on boot"""
    out = []
    for key, label in (("ns_per_page", "alloc+free, ns per page"),
                       ("alloc_ns_per_page", "  alloc, ns per page"),
                       ("free_ns_per_page", "  free (and wipe), ns per page"),
                       ("tlb_flushes_per_1000_pages",
                        "kernel TLB flushes per 1,000 pages"),
                       ("pmd_splits", "PMD (2M) splits")):
        vals = [on.get(f"{name}.{mode}.{key}")
                for mode in ("plain", "stock", "directmap")]
        out.append((f"{name}: {label}", *vals))
    return out


def walk_rows(m):
    return [(f"walk {name}: ns per kernel read, pages at 4K/2M/1G",
             None if m.get(f"walk.{name}.ns_per_touch_x1000") is None
             else m[f"walk.{name}.ns_per_touch_x1000"] / 1000.0,
             "/".join(fmt(m.get(f"walk.{name}.pages_at_{s}"))
                      for s in ("4k", "2m", "1g")))
            for name in ("intact", "split")]


def boot_both(image, initrd, logs, results, arch, kvm):
    """the off and on boots of ARCH's kernel: (off, on) metrics, or None"""
    tag = "-arm64" if arch == "arm64" else ""
    # arm64: the linear map in blocks, split in place (BBML2_NOABORT)
    extra = ARM64_BLOCKS if arch == "arm64" else ""
    runs = {}
    for name, args in (("off", "directmap=off"), ("on", "")):
        print(f"  BENCH   {arch} directmap={name} ({accel_name(kvm)})",
              flush=True)
        m, exits, _ = boot(image, initrd, "bench", f"{args} {extra}".strip(),
                           timeout=1500, kvm=kvm, arch=arch,
                           log=os.path.join(logs, f"bench{tag}-{name}.log"))
        failed = sorted(k for k, v in exits.items() if v != 0)
        if m.get("run.garbled_reports"):
            print(f"bench: {m['run.garbled_reports']:.0f} report lines of "
                  f"the {arch} directmap={name} guest were cut by kernel "
                  "messages: their figures show as '-'", file=sys.stderr)
        if m.get("run.completed") != 1 or failed:
            print(f"bench: the {arch} directmap={name} guest failed "
                  f"({failed}); see {logs}/bench{tag}-{name}.log",
                  file=sys.stderr)
            return None
        m["run.exits"] = exits
        runs[name] = m
        with open(os.path.join(results, f"bench{tag}-{name}.json"), "w") as f:
            json.dump(m, f, indent=1, sort_keys=True)
    return runs["off"], runs["on"]


def report(off, on, arch, kvm):
    """print ARCH's tables; the JSON of them"""
    side = rows_side_by_side(off, on)
    micro = rows_micro(on, "micro") + rows_micro(on, "micro_batch")
    if arch == "arm64":
        # arm64 counts the flushes directmap issues, not the kernel's own
        # flush_tlb_kernel_range() calls: stock's would read 0
        side = [(lb, None if "TLB flushes" in lb else a, b, bt)
                for lb, a, b, bt in side]
        micro = [(lb, p, None if "TLB flushes" in lb else st, dm)
                 for lb, p, st, dm in micro]

    env = f"{arch}, QEMU {accel_name(kvm)}, 2 vCPUs, 2 NUMA nodes, 4 GiB"
    print()
    if kvm:
        print(f"directmap bench: {env}; times are wall-clock on this host's "
              "CPU, TLBs and IPIs.")
    else:
        print(f"directmap bench: {env}; times are")
        print("emulated wall-clock (no -icount): compare ratios, never "
              "absolute figures with hardware.")
    print("off = stock kernel (directmap=off: no cache, no collapse worker); "
          "on = directmap and its worker.")
    if arch == "arm64":
        print("arm64: the linear map in blocks, split in place "
              "(arm64.bbml2_noabort_emulated); no stress-ng in this guest.")
        print("Only directmap's own TLB flushes are counted on arm64 (stock "
              "secretmem: one broadcast TLBI range a page): '-' for stock.")
    print()
    print(f"{'':<46}{'off':>14}{'on':>14}{'on/off':>10}")
    for label, a, b, _ in side:
        r = ratio(b, a)
        print(f"{label:<46}{fmt(a, 1 if isinstance(a, float) and a < 100 else 0):>14}"
              f"{fmt(b, 1 if isinstance(b, float) and b < 100 else 0):>14}"
              f"{(f'{r:.2f}x' if r is not None else '-'):>10}")
    print()
    print("in-kernel microbenchmark, directmap=on boot, after a warm-up "
          f"round: micro {fmt(on.get('micro.plain.pages'))} pages x "
          f"{fmt(on.get('micro.plain.rounds'))} rounds (fits the regions a "
          "node keeps),")
    print(f"micro_batch {fmt(on.get('micro_batch.plain.pages'))} pages x "
          f"{fmt(on.get('micro_batch.plain.rounds'))} rounds (each round "
          "refills and releases regions):")
    print(f"{'':<46}{'plain':>10}{'stock':>10}{'directmap':>11}"
          f"{'stock/dm':>10}{'dm/plain':>10}")
    for label, plain, stock, dm in micro:
        s_dm = ratio(stock, dm)
        dm_p = ratio(dm, plain)
        print(f"{label:<46}{fmt(plain):>10}{fmt(stock):>10}{fmt(dm):>11}"
              f"{(f'{s_dm:.1f}x' if s_dm is not None else '-'):>10}"
              f"{(f'{dm_p:.2f}x' if dm_p is not None else '-'):>10}")
    wipe = (on.get("micro.wipe.wipe_ns_per_page"),
            on.get("micro.wipe.direct_ns_per_page"))
    batch = on.get("micro.wipe.wipe_batch_ns_per_page")
    per_wipe = on.get("micro.wipe.batch_pages")
    print(f"{'zeroing a page: directmap wipe / direct map, ns':<46}"
          f"{fmt(wipe[0]):>10}{fmt(wipe[1]):>10}"
          f"{(f'{ratio(*wipe):.2f}x' if ratio(*wipe) else '-'):>21}")
    print(f"{f'  {fmt(per_wipe)} pages a wipe / direct map, ns':<46}"
          f"{fmt(batch):>10}{fmt(wipe[1]):>10}"
          f"{(f'{ratio(batch, wipe[1]):.2f}x' if ratio(batch, wipe[1]) else '-'):>21}")
    print()
    print("kernel reads of random pages, same boot (directmap=on): "
          "the direct map as booted, then split to 4K")
    for label, ns, levels in walk_rows(on):
        print(f"{label:<60}{fmt(ns, 1):>10}   {levels}")
    w = ratio(on.get("walk.split.ns_per_touch_x1000"),
              on.get("walk.intact.ns_per_touch_x1000"))
    print(f"{'walk split/intact':<60}{(f'{w:.2f}x' if w else '-'):>10}   " +
          ("(under KVM: the host's TLB reach)" if kvm else
           "(TCG's software TLB, not the hardware's reach: see "
           "directmap-tlb on hardware)"))

    return {
        "environment": env + ", wall clock",
        "accelerator": accel_name(kvm),
        "side_by_side": [dict(zip(("label", "off", "on", "better"), r),
                              ratio=ratio(r[2], r[1])) for r in side],
        "micro": [dict(zip(("label", "plain", "stock", "directmap"), r),
                       stock_over_directmap=ratio(r[2], r[3]),
                       directmap_over_plain=ratio(r[3], r[1]))
                  for r in micro],
        "wipe_ns_per_page": {"alias": wipe[0], "direct_map": wipe[1],
                             "batched": batch,
                             "pages_a_batched_wipe": per_wipe},
        "walk": {"split_over_intact": w,
                 "rows": [dict(zip(("label", "ns", "pages_4k_2m_1g"), r))
                          for r in walk_rows(on)]},
    }


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    bzimage, build, results = sys.argv[1:4]
    arm64_image = sys.argv[4] if len(sys.argv) == 5 else None
    os.makedirs(results, exist_ok=True)
    logs, initrd = prepare(build)

    if arm64_image:
        initrd_arm64 = os.path.join(build, "initramfs-arm64.cpio")
        subprocess.run([os.path.join(os.path.dirname(os.path.realpath(
            sys.modules["qemu"].__file__)), "mkinitramfs-arm64.sh"),
                        initrd_arm64], check=True)

    kvm = kvm_usable()
    runs = boot_both(bzimage, initrd, logs, results, "x86_64", kvm)
    if not runs:
        return 1
    table = report(*runs, "x86_64", kvm)
    if arm64_image:
        print(flush=True)
        kvm_arm64 = kvm_usable("arm64")
        runs_arm64 = boot_both(arm64_image, initrd_arm64, logs, results,
                               "arm64", kvm_arm64)
        if runs_arm64:
            table["arm64"] = report(*runs_arm64, "arm64", kvm_arm64)
    out = os.path.join(results, "bench.json")
    with open(out, "w") as f:
        json.dump(table, f, indent=1)
    print(f"\nresults: {out}, bench{{,-arm64}}-{{off,on}}.json")
    return 0 if not arm64_image or "arm64" in table else 1


if __name__ == "__main__":
    sys.exit(main())
