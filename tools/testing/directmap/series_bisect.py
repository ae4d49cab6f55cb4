#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build every step of a series that make series wrote, and report the
first that fails.

  series_bisect.py BASE FROM TO OUT

BASE is make series' git repository of the pristine tree with a branch
per series (build/series/KERNEL/base), FROM..TO the commits to build
(e.g. must-check..directmap).  Each commit is checked out in a worktree
of BASE under OUT and built for x86_64 in a small configuration
(tinyconfig and what directmap and its users need: SMP, NUMA, memory
hotplug, hibernation, KVM with software-protected VMs, modules), once
with CONFIG_DIRECTMAP=y (with its debugfs, benchmarks, fault injection
and sample) and once with it off, each in a build folder of its own, so
that a step only rebuilds what it changed.  TAP, one line a commit and
configuration; a configuration stops at its first failure, whose
compiler output ends the log.
"""

import os
import sys

from series import run
from tap import Tap

COMMON = ["64BIT", "SMP", "PRINTK", "BUG", "MULTIUSER", "PROC_FS", "SYSFS",
          "DEBUG_FS", "NUMA", "SPARSEMEM_VMEMMAP", "MEMORY_HOTPLUG",
          "MEMORY_HOTREMOVE", "HIBERNATION", "MODULES", "MEMCG",
          "VIRTUALIZATION", "KVM", "KVM_AMD", "KVM_SW_PROTECTED_VM",
          "FAULT_INJECTION", "SAMPLES", "BLOCK", "TTY", "SERIAL_8250",
          "SERIAL_8250_CONSOLE"]
WITH = ["DIRECTMAP", "DIRECTMAP_BENCH", "DIRECTMAP_DEBUG", "FAIL_DIRECTMAP"]
MODULES = ["SAMPLE_DIRECTMAP"]


def configure(src, obj, directmap):
    make = ["make", "-s", "ARCH=x86_64", f"O={obj}"]
    run(make + ["tinyconfig"], cwd=src)
    opts = []
    for o in COMMON + (WITH if directmap else []):
        opts += ["-e", o]
    for o in MODULES if directmap else []:
        opts += ["-m", o]
    if not directmap:
        opts += ["-d", "DIRECTMAP"]
    run([os.path.join(src, "scripts/config"), "--file",
         os.path.join(obj, ".config")] + opts)
    run(make + ["olddefconfig"], cwd=src)


def build(src, obj, jobs):
    return run(["make", "-s", "ARCH=x86_64", f"O={obj}", f"-j{jobs}",
                "CC=ccache gcc", "vmlinux", "modules"], cwd=src, check=False)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    base, frm, to, out = sys.argv[1:5]
    out = os.path.abspath(out)
    jobs = os.cpu_count() or 2
    commits = run(["git", "rev-list", "--reverse", f"{frm}..{to}"],
                  cwd=base).stdout.split()
    src = os.path.join(out, "src")
    run(["git", "worktree", "remove", "--force", src], cwd=base, check=False)
    run(["git", "worktree", "prune"], cwd=base)
    run(["git", "worktree", "add", "-q", "--detach", src, frm], cwd=base)
    t = Tap()
    broken = {}
    for c in commits:
        run(["git", "checkout", "-q", "--detach", c], cwd=src)
        subj = run(["git", "log", "-1", "--format=%s", c], cwd=src).stdout
        for directmap in (True, False):
            tag = "y" if directmap else "n"
            if tag in broken:
                continue
            obj = os.path.join(out, f"obj-{tag}")
            os.makedirs(obj, exist_ok=True)
            # each step: a step may add Kconfig symbols
            configure(src, obj, directmap)
            r = build(src, obj, jobs)
            ok = r.returncode == 0
            if not ok:
                broken[tag] = c
            t.check(f"DIRECTMAP={tag}: {c[:12]} {subj.strip()}", ok,
                    "" if ok else (r.stdout + r.stderr)[-600:])
    for tag in ("y", "n"):
        first = broken.get(tag)
        print(f"# DIRECTMAP={tag}: " + (f"first failing step {first[:12]}"
                                        if first else
                                        f"all {len(commits)} steps build"))
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
