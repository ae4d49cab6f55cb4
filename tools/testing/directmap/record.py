#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make record: traces of real workloads for the simulator.

Boots the test kernel with directmap on (suite "record" of guest/init),
where tools/perf-scripts/directmap-trace records directmap's page events
while each workload runs (memfd_secret churns of small and large files,
with anonymous memory around them; a software-protected VM whose
guest_memfd keeps its memory out of the direct map, created, converted and
destroyed) and turns them into dmsim's trace format.  Neither
stress-ng --secretmem nor KVM's guest_memfd_test is among them: here they
hand out fewer than MIN_PAGES pages (3 in 10 s, and 10).  The guest runs
under TCG with the test kernel's debugging options, so the gaps between
events are longer than on hardware; the pages of one allocation become as
many single-page allocations in a row.  Each trace is checked by replaying it through dmsim, then
written to OUT_DIR/<workload>.trace with a comment that says how it was
made; make sim and make check replay what is there.

usage: record.py BZIMAGE BUILD_DIR OUT_DIR
"""

import os
import subprocess
import sys
import tempfile

from qemu import accel_name, boot, prepare, tagged

HERE = os.path.dirname(os.path.realpath(__file__))
MIN_PAGES = 100     # fewer: the workload did not use directmap
DMSIM = os.path.join(HERE, "harness", "dmsim")
WORKLOADS = {
    "churn": "dmbench churn 3 8 64 5 (memfd_secret files of 1-64 pages)",
    "churn-large": "dmbench churn 2 16 2048 11 (memfd_secret files of "
                   "1-2048 pages)",
    "gmem": "a SW-protected VM, guest_memfd GUEST_MEMFD_FLAG_NO_DIRECT_MAP, "
            "converted and destroyed (gmemtest on)",
}


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    bzimage, build, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    logs, initrd = prepare(build)
    print(f"  RECORD  {', '.join(WORKLOADS)} ({accel_name(False)})",
          flush=True)
    m, exits, con = boot(bzimage, initrd, "record", timeout=1500,
                         log=os.path.join(logs, "record.log"))
    kernel = os.environ.get("KERNEL", "6.12")
    failed = 0
    for w, what in WORKLOADS.items():
        lines = tagged(con, f"TRACE {w}")
        if exits.get(f"record_{w}") != 0 or exits.get(f"report_{w}") != 0 \
                or len(lines) != m.get(f"record.{w}.lines"):
            print(f"record: {w}: recording failed or its lines were not "
                  f"all read ({len(lines)} of {m.get(f'record.{w}.lines')})"
                  f"; see {logs}/record.log", file=sys.stderr)
            failed += 1
            continue
        pages = sum(1 for x in lines if x.startswith("a "))
        if pages < MIN_PAGES:
            print(f"record: {w}: only {pages} pages handed out, fewer "
                  f"than {MIN_PAGES}: not a workload of directmap's",
                  file=sys.stderr)
            failed += 1
            continue
        text = (f"# {w}: {what}\n# recorded by make record on Linux "
                f"{kernel} with directmap, QEMU TCG, 2 nodes of 2 GiB\n" +
                "\n".join(lines) + "\n")
        with tempfile.NamedTemporaryFile("w", suffix=".trace") as f:
            f.write(text)
            f.flush()
            r = subprocess.run([DMSIM, "-n", "2", "-g", "4", "-r", f.name],
                               capture_output=True, text=True)
        if r.returncode != 0:
            print(f"record: {w}: dmsim refused the trace: "
                  f"{r.stderr.strip()}", file=sys.stderr)
            failed += 1
            continue
        path = os.path.join(out, f"{w}.trace")
        with open(path, "w") as f:
            f.write(text)
        print(f"  TRACE   {path}: {len(lines)} lines", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
