#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Short run of the trace-driven simulator for make check; prints TAP.

Runs dmsim-asan (the simulator under ASan and UBSan) over a 64 GiB, two-node
direct map with every invariant recounted as it goes, then checks the form
of its JSON, what the policies must achieve on each trace, a trace file
round trip, and that bad trace files are refused with a clear error; then
converts a recording with directmap-trace, and replays the traces that
make record keeps (traces/) with the same rules: never worse than stock.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "dmsim-asan")
ARGS = ["-g", "32", "-n", "2", "-o", "200000", "-k", "20000"]
POLICIES = ["stock", "mainline", "cache", "collapse"]
TRACES = ["secretmem", "cvm", "convert", "ro-noise"]
FIELDS = ["pmd_splits", "pud_splits", "tlb_flushes", "mib_4k_avg",
          "mib_4k_peak", "mib_4k_end", "split_1g_avg", "idle_mib_avg",
          "gap_pct", "times_limit", "times_limit_by_figure",
          "invariants_broken", "limit"]
# The figures on which directmap (cache+collapse) must never lose to stock
NEVER_WORSE = ["pmd_splits", "pud_splits", "mib_4k_avg", "mib_4k_peak",
               "split_1g_avg", "tlb_flushes"]
# Where it cannot: ro-noise has no secrets, so nothing is saved, and every
# re-form before the noise stops is paid for with a split and a flush
# later, and the repair after it with a flush, which stock never does.
# These may not grow past what the policy does today (short run).
KNOWN_WORSE = {("ro-noise", "pmd_splits"): 29,
               ("ro-noise", "tlb_flushes"): 100324}

results = []


def check(name, ok, why=""):
    results.append(ok)
    print("%sok %d %s" % ("" if ok else "not ", len(results), name))
    if not ok and why:
        for line in str(why).splitlines()[-15:]:
            print("#   " + line)


def run(args):
    return subprocess.run([SIM] + args, capture_output=True, text=True,
                          timeout=600)


def main():
    print("TAP version 13")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sim.json")
        p = run(ARGS + ["--json", out, "--write", tmp])
        check("sim: every trace and policy, invariants recounted, no "
              "sanitizer report", p.returncode == 0, p.stderr + p.stdout)
        try:
            data = json.load(open(out))
            runs = {(t["name"], r["policy"]): r
                    for t in data["traces"] for r in t["runs"]}
        except (OSError, ValueError, KeyError) as e:
            data, runs = None, {}
            check("sim: JSON parses", False, e)
        form = data is not None and all(
            (t, pol) in runs and all(f in runs[(t, pol)] for f in FIELDS)
            for t in TRACES for pol in POLICIES)
        check("sim: JSON has every trace, policy and figure", form)
        if not form:
            return
        print(p.stdout.replace("\n", "\n# ").rstrip("# "), end="")
        print()

        for t in ["secretmem", "cvm"]:
            st, ca, co = runs[(t, "stock")], runs[(t, "cache")], \
                runs[(t, "collapse")]
            check("sim %s: the cache splits no 2M for secrets (%d splits, "
                  "limit %d)" % (t, ca["pmd_splits"],
                                 ca["limit"]["pmd_splits"]),
                  ca["pmd_splits"] == ca["limit"]["pmd_splits"])
            check("sim %s: stock maps more than twice the limit at 4K "
                  "(%.1f times)" % (t, st["times_limit"]),
                  st["times_limit"] > 2)
            check("sim %s: at most 1 TLB flush per 16 stock flushes "
                  "(%d vs %d)" % (t, co["tlb_flushes"], st["tlb_flushes"]),
                  co["tlb_flushes"] * 16 <= st["tlb_flushes"])
        for t in TRACES:
            co, st = runs[(t, "collapse")], runs[(t, "stock")]
            check("sim %s: the worker repairs everything after teardown "
                  "(%.1f MiB at 4K at the end, stock %.1f)" %
                  (t, co["mib_4k_end"], st["mib_4k_end"]),
                  co["mib_4k_end"] == 0 and st["mib_4k_end"] > 0)
            check("sim %s: collapse no worse than cache, cache no worse "
                  "than stock (4K MiB avg %.1f <= %.1f <= %.1f)" %
                  (t, co["mib_4k_avg"], runs[(t, "cache")]["mib_4k_avg"],
                   st["mib_4k_avg"]),
                  co["mib_4k_avg"] <= runs[(t, "cache")]["mib_4k_avg"]
                  <= st["mib_4k_avg"])
            check("sim %s: idle at the end: no 1G area left split (%d, "
                  "stock %d)" % (t, co["split_1g_end"], st["split_1g_end"]),
                  co["split_1g_end"] == 0 and st["split_1g_end"] > 0)
            check("sim %s: no policy beats the limit" % t,
                  all(runs[(t, pol)]["times_limit"] >= 1 - 1e-9
                      for pol in POLICIES))

        for t in TRACES:
            co, st = runs[(t, "collapse")], runs[(t, "stock")]
            for f in NEVER_WORSE:
                bound = KNOWN_WORSE.get((t, f))
                if bound is None:
                    check("sim %s: %s no worse than stock (%g vs %g)" %
                          (t, f, co[f], st[f]), co[f] <= st[f])
                else:
                    check("sim %s: %s at most %g, stock %g (cannot match "
                          "stock: see KNOWN_WORSE) (%g)" %
                          (t, f, bound, st[f], co[f]), co[f] <= bound)
            by = co["times_limit_by_figure"]
            check("sim %s: x limit reported for every figure" % t,
                  all(f in by for f in NEVER_WORSE + ["idle_mib_avg"]) and
                  by["pud_splits"] is None and by["mib_4k_avg"] ==
                  round(co["times_limit"], 4))

        # The written cvm trace replays to the same figures
        p = run(ARGS + ["--read", os.path.join(tmp, "cvm.trace"),
                        "--json", out])
        same = False
        if p.returncode == 0:
            r2 = {r["policy"]: r for r in json.load(open(out))["traces"][0]
                  ["runs"]}
            same = all(r2[pol][f] == runs[("cvm", pol)][f]
                       for pol in POLICIES for f in FIELDS)
        check("sim: a written trace replays to the same figures", same,
              p.stderr)

        bad = os.path.join(tmp, "bad.trace")
        with open(bad, "w") as f:
            f.write("nodes 2\na 0 0\nf 0\nf 0\n")
        p = run(ARGS + ["--read", bad])
        check("sim: a trace that frees a page twice is refused",
              p.returncode == 2 and "frees the unallocated id 0"
              in p.stderr, p.stderr)
        with open(bad, "w") as f:
            f.write("nodes 2\na 0 0\nq 1 2\n")
        p = run(ARGS + ["--read", bad])
        check("sim: a malformed line is refused with its number",
              p.returncode == 2 and "bad.trace:3:" in p.stderr, p.stderr)
        for idle in ("i 0", "i abc", "i 10000001"):
            with open(bad, "w") as f:
                f.write("nodes 2\na 0 0\n%s\n" % idle)
            p = run(ARGS + ["--read", bad])
            check("sim: an idle run '%s' is refused" % idle,
                  p.returncode == 2 and "bad.trace:3:" in p.stderr, p.stderr)
        p = run(["--help"])
        check("sim: --help lists the traces", p.returncode == 0 and
              all(t in p.stdout for t in TRACES))

        check_conversion(tmp)
        check_recorded(tmp)
    print("1..%d" % len(results))


# perf script text of directmap's page events, as the guest records them
PERF_SCRIPT = """\
 1000.000000:  directmap:directmap_alloc: nid=0 pfn=0x1000 order=0
 1000.000010:  directmap:directmap_alloc: nid=1 pfn=0x80000 order=1
 1000.000500:  directmap:directmap_free: nid=0 pfn=0x1000 order=0
 1000.000600:  directmap:directmap_free: nid=0 pfn=0x5000 order=0
 1000.001000:  directmap:directmap_alloc: nid=0 pfn=0x1000 order=0
"""


def check_conversion(tmp):
    """directmap-trace's report turns a recording into what dmsim reads"""
    src = os.path.join(tmp, "script.txt")
    with open(src, "w") as f:
        f.write(PERF_SCRIPT)
    p = subprocess.run([os.path.join(HERE, "..", "..", "..", "perf-scripts",
                                     "directmap-trace"), "report", "-s", src],
                       capture_output=True, text=True)
    ops = [x for x in p.stdout.splitlines() if not x.startswith("#")]
    # three pages out (steps 0-2), one back at step 50, one unknown free
    # left out, one out again at step 100; what is still out goes back at
    # the end, in any order, then 10 s idle
    want = ["nodes 2", "a 0 0", "a 1 1", "a 1 2", "i 47", "f 0", "i 49",
            "a 0 3"]
    check("sim: directmap-trace report converts a recording (%d lines)" %
          len(ops), p.returncode == 0 and ops[:-4] == want and
          sorted(ops[-4:-1]) == ["f 1", "f 2", "f 3"] and
          ops[-1] == "i 1000000", p.stdout + p.stderr)
    trace = os.path.join(tmp, "converted.trace")
    with open(trace, "w") as f:
        f.write(p.stdout)
    p = run(["-n", "2", "-g", "4", "-r", trace])
    check("sim: the converted recording replays", p.returncode == 0,
          p.stderr)


def check_recorded(tmp):
    """The traces make record keeps: each replays, and directmap does no
    worse than stock on any figure of any of them"""
    kept = os.path.join(HERE, "traces")
    recorded = sorted(os.path.join(kept, f) for f in
                      (os.listdir(kept) if os.path.isdir(kept) else [])
                      if f.endswith(".trace"))
    check("sim: %d traces recorded in the guest are kept" % len(recorded),
          len(recorded) >= 3)
    if not recorded:
        return
    out = os.path.join(tmp, "recorded.json")
    args = ["-n", "2", "-g", "4", "-k", "20000", "--json", out]
    for f in recorded:
        args += ["-r", f]
    p = run(args)
    check("sim recorded: every trace replays, invariants recounted, no "
          "sanitizer report", p.returncode == 0, p.stderr + p.stdout)
    if p.returncode != 0:
        return
    print(p.stdout.replace("\n", "\n# ").rstrip("# "), end="")
    print()
    for t in json.load(open(out))["traces"]:
        runs = {r["policy"]: r for r in t["runs"]}
        co, st = runs["collapse"], runs["stock"]
        worse = [f"{f} {co[f]:g} vs {st[f]:g}" for f in NEVER_WORSE
                 if co[f] > st[f]]
        check("sim %s (recorded): no figure worse than stock" % t["name"],
              not worse, "; ".join(worse))
        check("sim %s (recorded): nothing at 4K and no 1G area split at "
              "the end (%g MiB, %d)" % (t["name"], co["mib_4k_end"],
                                        co["split_1g_end"]),
              co["mib_4k_end"] == 0 and co["split_1g_end"] == 0)


if __name__ == "__main__":
    main()
    sys.exit(0 if all(results) else 1)
