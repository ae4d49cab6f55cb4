#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""KSPP audit: calls of set_memory_*(), set_pages_*() and set_direct_map_*()
whose result is ignored, cast away, stored and never read, or only warned
about, found by scripts/coccinelle/api/set_memory_unchecked.cocci.

  audit.py --selftest
        run the semantic patch over fixture.c and check that it reports
        exactly the calls marked "want KIND" there (TAP)
  audit.py --check KOBJ TREE
        the selftest, then the files KOBJ built: no call there may drop
        its result (TAP; make check)
  audit.py [--built KOBJ] [--before TARBALL] [--json OUT] TREE
        audit TREE (files that mention the functions), or only the files
        KOBJ built; with --before, the same files of the pristine tarball
        too.  Prints a table of the calls and totals; --json writes them.
  audit.py --configs GATEDIR TREE
        one line per configuration that kspp_gate.py compiled under
        GATEDIR: the calls left unchecked in the files it builds

Kinds: ignored (result dropped or cast to void), dropped (stored, then
overwritten unread), warned (only WARN_ON()ed: seen, not handled).
"""

import argparse
import glob
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.realpath(os.path.join(HERE, "..", "..", "..", ".."))
COCCI = os.path.join(REPO, "scripts", "coccinelle", "api",
                     "set_memory_unchecked.cocci")
sys.path.insert(0, os.path.dirname(HERE))

from tap import Tap  # noqa: E402
# the page-attribute API, and vmalloc's pointer to set_direct_map_*()
CALLS = re.compile(rb"\b(set_memory_(ro|rw|x|nx|rox|np|p|4k|uc|wc|wt|wb|"
                   rb"encrypted|decrypted|valid|np_noalias|global|nonglobal)|"
                   rb"set_pages_(ro|rw|x|nx|uc|wb|array_uc|array_wc|array_wt|"
                   rb"array_wb)|set_direct_map(_[a-z_]+)?)\s*\(")
REPORT = re.compile(r"^(?:\./)?(\S+?):(\d+):[0-9-]+: (ignored|dropped|warned): "
                    r"result of (\w+)\(\)")
KINDS = ("ignored", "dropped", "warned")
# Other architectures' own code, which their maintainers keep
OTHER_ARCHES = re.compile(r"^arch/(?!x86/|arm64/)")


def spatch(files, cwd):
    """report lines for FILES (paths relative to CWD), two at a time"""
    def one(batch):
        r = subprocess.run(["spatch", "--very-quiet", "--no-show-diff",
                            "--no-includes", "--include-headers",
                            "-D", "report", "--sp-file", COCCI, *batch],
                           cwd=cwd, capture_output=True, text=True)
        return r.stdout
    batches = [files[i::4] for i in range(4) if files[i::4]]
    found = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for out in pool.map(one, batches):
            for line in out.splitlines():
                m = REPORT.match(line)
                if m:
                    found.add((m.group(1), int(m.group(2)), m.group(3),
                               m.group(4)))
    return sorted(found)


def candidates(tree):
    """C files and headers of TREE that call one of the functions"""
    out = []
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for n in names:
            if not n.endswith((".c", ".h")):
                continue
            p = os.path.join(root, n)
            try:
                with open(p, "rb") as f:
                    if CALLS.search(f.read()):
                        out.append(os.path.relpath(p, tree))
            except OSError:
                pass
    return sorted(out)


def built(files, kobj):
    return [f for f in files if f.endswith(".c") and
            os.path.exists(os.path.join(kobj, f[:-2] + ".o"))]


def pristine(tarball, files, dest):
    """extract FILES from Debian's source tarball into DEST"""
    with tarfile.open(tarball) as tar:
        top = None
        wanted = set(files)
        for m in tar:
            if top is None:
                top = m.name.split("/")[0]
            rel = m.name[len(top) + 1:]
            if rel in wanted and m.isfile():
                m.name = rel
                tar.extract(m, dest)
    return [f for f in files if os.path.exists(os.path.join(dest, f))]


def totals(rows):
    t = {k: 0 for k in KINDS}
    for r in rows:
        t[r[2]] += 1
    return t


def table(title, rows):
    print(f"\n{title}: {len(rows)} calls  " +
          "  ".join(f"{k} {v}" for k, v in totals(rows).items()))
    for f, line, kind, fn in rows:
        print(f"  {f + ':' + str(line):<52} {fn + '()':<36} {kind}")


def selftest(t):
    fixture = os.path.join(HERE, "fixture.c")
    want = set()
    with open(fixture) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"want (\w+)", line)
            if m and "KIND" not in line:
                want.add((n, m.group(1)))
    got = {(r[1], r[2]) for r in spatch(["fixture.c"], HERE)}
    t.check("audit: the semantic patch reports exactly the marked calls",
            got == want, f"got {sorted(got)} want {sorted(want)}")
    t.check("audit: it finds every kind",
            all(k in {g[1] for g in got} for k in KINDS))
    t.check("audit: the fixture marks at least five cases", len(want) >= 5)

    # patch mode: every ignored call, and only those, becomes WARN_ON_ONCE()
    r = subprocess.run(["spatch", "--very-quiet", "--no-includes",
                        "--include-headers", "-D", "patch", "--sp-file",
                        COCCI, "fixture.c"], cwd=HERE, capture_output=True,
                       text=True)
    added = [line for line in r.stdout.splitlines()
             if line.startswith("+") and "WARN_ON_ONCE(" in line]
    ignored = sum(1 for _, kind in want if kind == "ignored")
    t.check("audit: patch mode makes each ignored call a WARN_ON_ONCE()",
            r.returncode == 0 and len(added) == ignored,
            f"{len(added)} of {ignored}")


PLAIN_API = ("directmap_alloc_pages", "directmap_free_pages",
             "directmap_free_folio")


def exports(t, tree):
    """The owner API is the only way in: exported GPL-only, every function
    a module calls exported, and the plain API neither exported nor
    declared to drivers.  (No symbol namespace: 6.12 names namespaces with
    tokens, later kernels with strings, and the overlay builds on both.)
    The test kernels build without modules, so this reads the tree that
    was built."""
    exp = re.compile(r"EXPORT_SYMBOL\w*\((\w+)(?:,\s*([^)]+))?\)")
    found, bad = [], []
    for path in sorted(glob.glob(os.path.join(tree, "mm/directmap/*.c"))):
        with open(path) as f:
            for m in exp.finditer(f.read()):
                found.append(m.group(1))
                if m.group(1) in PLAIN_API or \
                        not m.group(0).startswith("EXPORT_SYMBOL_GPL("):
                    bad.append(m.group(0))
    t.check("audit: every directmap export is GPL-only, none of the plain API",
            len(found) >= 10 and not bad, " ".join(bad) or f"{len(found)}")
    with open(os.path.join(tree, "include/linux/directmap.h")) as f:
        header = f.read()
    declared = [n for n in PLAIN_API if re.search(rf"\b{n}\(", header)]
    t.check("audit: drivers see no allocation without an owner",
            not declared, " ".join(declared))
    users = subprocess.run(
        ["grep", "-rlE", r"\bdirectmap_(owner_|share|unshare|owns|shared|"
         r"enabled|page)\w*\(", "virt", "drivers", "samples", "arch/x86/kvm",
         "arch/arm64/kvm", "--include=*.c"],
        cwd=tree, capture_output=True, text=True).stdout.split()
    called = set()
    for u in users:
        with open(os.path.join(tree, u)) as f:
            called |= set(re.findall(r"\b(directmap_\w+|page_is_directmap)\(",
                                     f.read()))
    missing = sorted(called - set(found))
    t.check("audit: every directmap function a module calls is exported",
            users and not missing, " ".join(missing) or " ".join(users))


def per_config(gatedir, tree):
    """{configuration: report rows} over the files each one builds"""
    out = {}
    for lst in sorted(glob.glob(os.path.join(gatedir, "*",
                                             "gate-objects.txt"))):
        with open(lst) as f:
            files = [line.strip() for line in f if line.strip()]
        out[os.path.basename(os.path.dirname(lst))] = spatch(files, tree)
    return out


def configs_table(rows_by_config):
    print(f"{'configuration':<24} unchecked  " + "  ".join(KINDS))
    for name, rows in rows_by_config.items():
        t = totals(rows)
        print(f"{name:<24} {t['ignored'] + t['dropped']:>9}  " +
              "  ".join(f"{t[k]:>{len(k)}}" for k in KINDS))


def check(kobj, tree, gatedir=None):
    t = Tap()
    print("TAP version 13")
    selftest(t)
    exports(t, tree)
    if gatedir:
        by_config = per_config(gatedir, tree)
        configs_table(by_config)
        bad = [f"{name}: {r[0]}:{r[1]} {r[3]}"
               for name, rows in by_config.items()
               for r in rows if r[2] != "warned"]
        # make check's 6.12 gate builds the defconfigs only: one of
        # each architecture at least
        both = all(any(n.startswith(a) for n in by_config)
                   for a in ("x86_64-", "arm64-"))
        t.check("audit: no call that x86 or arm64 configurations build "
                "drops its result", both and not bad,
                " ".join(bad) or f"{len(by_config)} configurations")
    files = built(candidates(tree), kobj)
    rows = spatch(files, tree)
    bad = [r for r in rows if r[2] != "warned"]
    print(f"# built files calling them: {len(files)}; calls reported: "
          f"{len(rows)} ({totals(rows)})", flush=True)
    t.check("audit: the built config was audited", len(files) >= 10,
            f"{len(files)} files")
    t.check("audit: no call in the built config drops its result",
            not bad, " ".join(f"{r[0]}:{r[1]} {r[3]}" for r in bad))
    print(f"# {t.n - t.failed} passed, {t.failed} failed")
    return 1 if t.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tree", nargs="?")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--check", metavar="KOBJ")
    ap.add_argument("--built", metavar="KOBJ")
    ap.add_argument("--before", metavar="TARBALL")
    ap.add_argument("--json", metavar="OUT")
    ap.add_argument("--configs", metavar="GATEDIR")
    a = ap.parse_args()
    if a.selftest:
        t = Tap()
        print("TAP version 13")
        selftest(t)
        return 1 if t.failed else 0
    if a.check:
        return check(a.check, a.tree, a.configs)
    if not a.tree:
        ap.error("TREE is needed")
    if a.configs:
        configs_table(per_config(a.configs, a.tree))
        return 0

    files = candidates(a.tree)
    scope = "whole tree"
    if a.built:
        files = built(files, a.built)
        scope = "files the test config builds"
    result = {"scope": scope, "files": len(files)}
    after = spatch(files, a.tree)
    result["after"] = {"totals": totals(after),
                       "calls": [dict(zip(("file", "line", "kind", "function"),
                                          r)) for r in after]}
    if a.before:
        with tempfile.TemporaryDirectory() as d:
            old = pristine(a.before, files, d)
            before = spatch(old, d)
        result["before"] = {"files": len(old), "totals": totals(before),
                            "calls": [dict(zip(("file", "line", "kind",
                                                "function"), r))
                                      for r in before]}
        table(f"before ({os.path.basename(a.before)}, {scope}, "
              f"{len(old)} files)", before)
    table(f"after ({a.tree}, {scope}, {len(files)} files)", after)
    ours = [r for r in after if not OTHER_ARCHES.match(r[0])]
    t = totals(ours)
    print(f"\nafter, x86, arm64 and the generic kernel ({scope}): "
          f"unchecked {t['ignored'] + t['dropped']}  " +
          "  ".join(f"{k} {v}" for k, v in t.items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
        print(f"\njson: {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
