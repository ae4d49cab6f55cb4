#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the results of one suite, or add up all of them.

  tap-summary.py SUITE LOG [RAW]
                              print "SUITE PASSED FAILED" for LOG, then a
                              "# " line for each of its first failures; for
                              kunit, RAW (the kernel log) adds one check: no
                              splat
  tap-summary.py total SUM..  print each suite, those failures, and "N
                              passed, N failed"; exit 1 if anything failed
                              or a suite of make check is missing
  tap-summary.py sum SUM..    the same for any suites (make stress)

kunit-arm64 and integration-arm64 are the same for the arm64 kernel;
a -7.2 suffix names the same suite run on Linux 7.2.
TAP logs (harness, integration) count top-level "ok"/"not ok" lines.  KUnit
logs are kunit.py's own report: "Testing complete. Ran N tests: passed: P,
failed: F, skipped: S, crashed: C"; skipped and crashed count as failed,
since the test kernel is booted where every case must run.  A log with no
result at all counts as one failure.
"""

import os
import re
import sys

SUITES = ["harness", "gate", "series", "audit", "kunit", "kunit-pagealloc",
          "kunit-small",
          # Linux 7.2, the mainline base: the integration runs here
          "kunit-7.2", "kunit-pagealloc-7.2", "kunit-small-7.2",
          "gate-7.2", "audit-7.2", "integration-7.2", "kunit-i386-7.2",
          "kunit-arm64-7.2", "kunit-arm64-4k-7.2", "kunit-arm64-kpti-7.2",
          "kunit-arm64-pagealloc-7.2", "integration-arm64-7.2"]


# the failures a suite's summary names, so that the end of make check's
# output says what failed
WHY = 8


def count_tap(text, why):
    passed = failed = 0
    for line in text.splitlines():
        m = re.match(r"(not )?ok \d+ ", line)
        if m:
            if m.group(1) or "# SKIP" in line:
                failed += 1
                why.append(line.strip())
            else:
                passed += 1
    return passed, failed


def count_kunit(text, why):
    lines = [re.sub(r"^\[[\d:]+\] ", "", line).strip()
             for line in text.splitlines()]
    for i, line in enumerate(lines):
        if re.search(r"\[(FAILED|SKIPPED|CRASHED)\] ", line):
            why.append(line)
        elif re.search(r"(EXPECTATION|ASSERTION) FAILED", line):
            # and what the expectation found
            why.append(" ".join(lines[i:i + 4]))
    m = None
    for m in re.finditer(r"Testing complete\. Ran (\d+) tests?: (.*)", text):
        pass
    if not m:
        why.append("no result in the log")
        return 0, 1
    fields = dict((k, int(v)) for k, v in
                  re.findall(r"(passed|failed|skipped|crashed|errors): (\d+)",
                             m.group(2)))
    bad = fields.get("failed", 0) + fields.get("skipped", 0) + \
        fields.get("crashed", 0) + fields.get("errors", 0)
    passed = fields.get("passed", 0)
    if passed + bad != int(m.group(1)):
        bad += 1
    return passed, bad


# Skips that are the expected outcome of a suite's boot: 4K mode has no
# blocks to split or re-form; the small machine has one CPU, one node and
# no 1G pages
EXPECTED_SKIP = {
    "kunit-arm64-4k": re.compile(r"# SKIP .*no BBML2_NOABORT"),
    "kunit-small": re.compile(r"# SKIP (needs \d+ (CPUs online|NUMA nodes "
                              r"with memory)|the direct map has no 1G "
                              r"entries)"),
}


def expected_skips(suite, text):
    """The cases that skipped as the suite's boot expects"""
    # the same boot on either kernel: kunit-small-7.2 is kunit-small
    pat = EXPECTED_SKIP.get(re.sub(r"-\d+\.\d+$", "", suite))
    if not pat:
        return []
    # cases, indented under their suite: not a suite whose cases all skipped
    return [m.group(1) for m in
            (re.search(r"^\s+ok \d+ (\S+)", line)
             for line in text.splitlines() if pat.search(line)) if m]


# Warnings the misuse cases provoke on purpose (the format of 6.12, and
# of 7.2: "WARNING: FILE:LINE at FUNC, CPU#N: TASK")
EXPECTED_WARN = re.compile(r"WARNING: (CPU: \d+ PID: \d+ at )?\S*mm/directmap/"
                           r"(core|single|owner)\.c:")
SPLAT = re.compile(r"WARNING:|BUG:|Oops|general protection|"
                   r"INFO: task .* blocked|circular locking|"
                   r"recursive locking|inconsistent lock state")


def count_splats(text, why):
    """Kernel log lines that show a splat no test case asked for."""
    bad = [line for line in text.splitlines()
           if SPLAT.search(line) and not EXPECTED_WARN.search(line)]
    for line in bad[:10]:
        print(f"# unexpected: {line.strip()}", file=sys.stderr)
    why += [f"unexpected: {line.strip()}" for line in bad]
    return len(bad)


def main():
    if sys.argv[1] in ("total", "sum"):
        total_p = total_f = 0
        seen = set()
        whys = []
        for path in sys.argv[2:]:
            with open(path) as f:
                first, *rest = f.read().splitlines() or [""]
            try:
                suite, p, fl = first.split()
            except ValueError:
                suite, p, fl = os.path.basename(path), 0, 1
                rest = ["# no summary in the file"]
            seen.add(suite)
            total_p += int(p)
            total_f += int(fl)
            print(f"{suite}: {p} passed, {fl} failed")
            whys += [f"{suite}: {line[2:]}" for line in rest
                     if line.startswith("# ")]
        for suite in SUITES if sys.argv[1] == "total" else []:
            if suite not in seen:
                print(f"{suite}: did not run")
                total_f += 1
        for line in whys:
            print(f"# {line[:300]}")
        print(f"{total_p} passed, {total_f} failed")
        return 1 if total_f else 0

    suite, log = sys.argv[1], sys.argv[2]
    try:
        with open(log, errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    kunit = suite.startswith("kunit")
    why = []
    p, fl = count_kunit(text, why) if kunit else count_tap(text, why)
    if p + fl == 0:
        fl = 1
        why.append(f"nothing ran: {log}")
    # kunit: the raw kernel log must show no splat besides the misuse WARNs
    if kunit and len(sys.argv) > 3:
        try:
            with open(sys.argv[3], errors="replace") as f:
                raw = f.read()
        except OSError:
            raw = "BUG: no kernel log"
        # the kernel's TAP says why a case skipped
        skips = expected_skips(suite, raw)
        p, fl = p + len(skips), fl - len(skips)
        why = [line for line in why
               if not any(re.match(rf"\[SKIPPED\] {re.escape(c)}( |$)", line)
                          for c in skips)]
        if count_splats(raw, why) or "directmap" not in raw:
            fl += 1
            if "directmap" not in raw:
                why.append("the kernel log does not name directmap")
        else:
            p += 1
    print(f"{suite} {p} {fl}")
    # a suite that passed: its expected skips are no failures to name
    for line in why[:WHY] if fl else []:
        print(f"# {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
