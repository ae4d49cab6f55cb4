#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""KSPP gate: every object of the patched tree that calls set_memory_*(),
set_pages_*() or set_direct_map_*() (directly, or through a header's
wrapper), or that patches/KERNEL/series changes, compiles with
CONFIG_WERROR under each configuration below.

  kspp_gate.py TREE OUTDIR [CONFIG...]
  kspp_gate.py --fixes TARBALL OUTDIR

For each configuration: generate it in OUTDIR/CONFIG, turn on WERROR and
off the instrumentation and debug info that only slow the compiler down
(the diagnostic, -Wunused-result, does not depend on them), prepare, ask
kbuild which objects the configuration builds (make -n), and compile the
callers and changed files among them.  TAP on stdout: one check per
configuration, failing with every diagnostic the compiler printed for
those objects, in the order given.  Configurations run two at a time (or one for every two CPUs), each
with two jobs: much of each one's time is single-threaded (olddefconfig,
the dry run), so two of them keep two CPUs busy.

With --fixes: the error-handling fixes (patches/KERNEL/series.fixes) stand
alone: each applies on its own to the kernel of TARBALL, all of them
apply in order, and patches/KERNEL/series starts with them.
"""

import os
import re
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

from tap import Tap

HERE = os.path.dirname(os.path.realpath(__file__))
# the series of the kernel the tree is built from (make's KERNEL)
PATCHES = os.path.realpath(os.path.join(HERE, "..", "..", "..", "patches",
                                        os.environ.get("KERNEL", "6.12")))


# name: (ARCH, config target, CROSS_COMPILE, scripts/config arguments)
CONFIGS = {
    "x86_64-defconfig": ("x86_64", "defconfig", "", []),
    "x86_64-allmodconfig": ("x86_64", "allmodconfig", "", []),
    # directmap without what it can do without: every #ifdef stub it uses
    "x86_64-directmap-minimal": ("x86_64", "defconfig", "",
                                 ["-e", "DIRECTMAP", "-d", "MEMCG",
                                  "-d", "NUMA", "-d", "MEMORY_HOTPLUG",
                                  "-d", "HIBERNATION", "-d", "DEBUG_FS",
                                  # selects DEBUG_FS in defconfig
                                  "-d", "BLK_DEV_IO_TRACE",
                                  "-d", "KUNIT"]),
    "i386-allmodconfig": ("i386", "allmodconfig", "", []),
    "arm64-defconfig": ("arm64", "defconfig", "aarch64-linux-gnu-", []),
    # directmap on arm64 and its debugging: 48-bit virtual addresses (52
    # bits, the defconfig's and allmodconfig's, take 52-bit physical ones
    # with 4K pages, which leave directmap out)
    "arm64-directmap": ("arm64", "defconfig", "aarch64-linux-gnu-",
                        ["-d", "ARM64_VA_BITS_52", "-e", "ARM64_VA_BITS_48",
                         "-e", "DIRECTMAP", "-e", "DIRECTMAP_DEBUG",
                         "-e", "DIRECTMAP_BENCH", "-e", "FAULT_INJECTION",
                         "-e", "FAIL_DIRECTMAP", "-e", "KUNIT",
                         "-e", "DIRECTMAP_KUNIT_TEST"]),
    "arm64-allmodconfig": ("arm64", "allmodconfig", "aarch64-linux-gnu-",
                           []),
}
# directmap itself, which every configuration that has it builds whole
LIBRARY = re.compile(r"^(mm/directmap/[\w-]+|arch/(x86|arm64)/mm/directmap)\.c$")

# The API, and the wrappers in headers that call it for their users
CALLS = re.compile(
    rb"\b(set_memory_[a-z0-9_]+|set_pages_[a-z_]+|set_direct_map_[a-z_]+|"
    rb"map_page_into_agp|unmap_page_from_agp|VGA_MAP_MEM|"
    rb"kfence_protect_page|arch_kfence_init_pool|bpf_jit_binary_lock_ro|"
    rb"bpf_prog_lock_ro)\s*\(")
# Other architectures' own code, which their maintainers keep
OTHER_ARCHES = re.compile(r"^arch/(?!x86/|arm64/)")
DIAG = re.compile(r"^(?:\.\./)?(?:[\w./+-]+/)?([\w./+-]+\.[ch]):\d+:\d+: "
                  r"(?:error|warning): .*$")
NOCONFIG = ["KASAN", "KCSAN", "KMSAN", "UBSAN", "GCOV_KERNEL", "KCOV",
            "DEBUG_INFO", "DEBUG_INFO_DWARF4", "DEBUG_INFO_DWARF5",
            "DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT", "GCC_PLUGINS",
            "TRIM_UNUSED_KSYMS"]


def callers(tree):
    """C files of TREE that call the API or are directmap, other
    architectures' left out"""
    out = []
    for top in ("arch", "block", "crypto", "drivers", "fs", "init", "ipc",
                "kernel", "lib", "mm", "net", "samples", "security", "sound",
                "virt"):
        for root, dirs, names in os.walk(os.path.join(tree, top)):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for n in names:
                if not n.endswith(".c"):
                    continue
                p = os.path.join(root, n)
                rel = os.path.relpath(p, tree)
                if OTHER_ARCHES.match(rel):
                    continue
                with open(p, "rb") as f:
                    if CALLS.search(f.read()) or LIBRARY.match(rel):
                        out.append(rel)
    return sorted(out)


# configurations at once (see the docstring), and make's jobs for each
AT_ONCE = max(2, len(os.sched_getaffinity(0)) // 2)
JOBS = "-j2"


def make(tree, out, arch, cross, *args, check=True):
    cc = f"ccache {cross}gcc"
    cmd = ["make", "-s", "-C", tree, f"O={out}", f"ARCH={arch}", f"CC={cc}",
           f"HOSTCC=ccache gcc"]
    if cross:
        cmd.append(f"CROSS_COMPILE={cross}")
    return subprocess.run(cmd + list(args), capture_output=True, text=True,
                          check=check)


def configure(tree, out, arch, target, cross, extra):
    """OUTDIR's configuration, made again only when the tree changed"""
    stamp = os.path.join(out, ".gate-stamp")
    want = "\n".join(open(os.path.join(tree, p)).read()
                     for p in (".directmap-patches/series",)
                     if os.path.exists(os.path.join(tree, p)))
    want += f"\n{arch} {target} {cross} {' '.join(extra)}\n"
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    os.makedirs(out, exist_ok=True)
    make(tree, out, arch, cross, target)
    cfg = [os.path.join(tree, "scripts", "config"), "--file",
           os.path.join(out, ".config"), "-e", "WERROR", "-e",
           "DEBUG_INFO_NONE"]
    for c in NOCONFIG:
        cfg += ["-d", c]
    subprocess.run(cfg + extra, check=True)
    make(tree, out, arch, cross, "olddefconfig")
    # what olddefconfig undid (a select) would leave a leg untested
    with open(os.path.join(out, ".config")) as f:
        config = f.read()
    for how, name in zip(extra[::2], extra[1::2]):
        on = re.search(rf"^CONFIG_{name}=[ym]$", config, re.M) is not None
        if on != (how == "-e"):
            raise subprocess.CalledProcessError(
                1, "olddefconfig", stderr=f"CONFIG_{name} is "
                f"{'on' if on else 'off'} after olddefconfig")
    with open(stamp, "w") as f:
        f.write(want)


def enabled(tree, out, arch, cross):
    """Objects the configuration builds, by kbuild's dry run"""
    r = make(tree, out, arch, cross, "-n", "-j1", "vmlinux", "modules",
             check=False)
    return set(m.group(1) for m in
               re.finditer(r" -c -o (\S+\.o) ", r.stdout))


def gate(tree, base, name, objs, calling):
    """(check, ok, detail, diagnostics) of configuration NAME, for the
    objects OBJS, of which CALLING call the API"""
    arch, target, cross, extra = CONFIGS[name]
    out = os.path.join(base, name)
    t0 = time.time()
    try:
        configure(tree, out, arch, target, cross, extra)
        make(tree, out, arch, cross, JOBS, "prepare")
    except subprocess.CalledProcessError as e:
        return (f"kspp gate: {name}: configured and prepared", False,
                (e.stderr or e.stdout or "")[-400:].replace("\n", " | "), [])
    # an earlier run's objects would hide their diagnostics, and be left
    # out of kbuild's dry run
    for o in objs:
        try:
            os.unlink(os.path.join(out, o))
        except FileNotFoundError:
            pass
    built = enabled(tree, out, arch, cross)
    objs = [o for o in objs if o in built]
    # for the audit: the callers this configuration builds
    with open(os.path.join(out, "gate-objects.txt"), "w") as f:
        f.write("".join(o[:-2] + ".c\n" for o in objs if o in calling))
    r = make(tree, out, arch, cross, "-k", JOBS, *objs, check=False)
    diags = sorted(set(m.group(0).replace(tree + "/", "")
                       for m in (DIAG.match(line) for line in
                                 r.stderr.splitlines()) if m))
    missing = [o for o in objs if not os.path.exists(os.path.join(out, o))]
    return (f"kspp gate: {name}: the {len(objs)} objects that call the API "
            f"or that the series changes compile with -Werror",
            len(objs) > 0 and not diags and not missing and r.returncode == 0,
            f"{len(diags)} diagnostics, {len(missing)} objects not built, "
            f"{time.time() - t0:.0f} s", diags)


def series(name):
    with open(os.path.join(PATCHES, name)) as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith("#")]


def touched(patch):
    with open(os.path.join(PATCHES, patch)) as f:
        return re.findall(r"^\+\+\+ b/(\S+)", f.read(), re.M)


def dry_run(tree, patch):
    with open(os.path.join(PATCHES, patch)) as f:
        r = subprocess.run(["patch", "-d", tree, "-p1", "-s", "-N",
                            "--dry-run"], stdin=f, capture_output=True,
                           text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()


def fixes(t, tarball, base):
    """Each fix applies alone to the pristine files; all apply in order"""
    fx = series("series.fixes")
    files = sorted(set(f for p in fx for f in touched(p)))
    tree = os.path.join(base, "pristine-fixes")
    subprocess.run(["rm", "-rf", tree], check=True)
    os.makedirs(tree)
    with tarfile.open(tarball) as tar:
        for m in tar:
            rel = m.name.split("/", 1)[1] if "/" in m.name else ""
            if rel in files and m.isfile():
                m.name = rel
                tar.extract(m, tree)
    bad = []
    for p in fx:
        ok, out = dry_run(tree, p)
        if not ok:
            bad.append(f"{p}: {out[:120]}")
    t.check(f"kspp gate: each of the {len(fx)} fixes applies on its own "
            f"to {os.path.basename(tarball)}", fx and not bad,
            " | ".join(bad))
    bad = []
    for p in fx:
        with open(os.path.join(PATCHES, p)) as f:
            r = subprocess.run(["patch", "-d", tree, "-p1", "-s", "-N"],
                               stdin=f, capture_output=True, text=True)
        if r.returncode:
            bad.append(p)
    t.check("kspp gate: the fixes apply in order, and patches/series "
            "starts with them",
            not bad and series("series")[:len(fx)] == fx, " ".join(bad))


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "--fixes":
        print("TAP version 13", flush=True)
        t = Tap()
        fixes(t, sys.argv[2], os.path.realpath(sys.argv[3]))
        print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
        return 1 if t.failed else 0
    tree, base = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    names = sys.argv[3:] or list(CONFIGS)
    print("TAP version 13", flush=True)
    t = Tap()
    # and every C file the series changes
    changed = set(f for p in series("series") for f in touched(p)
                  if f.endswith(".c") and not OTHER_ARCHES.match(f))
    calls = set(callers(tree))
    objs = [c[:-2] + ".o" for c in sorted(calls | changed)]
    calling = set(c[:-2] + ".o" for c in calls)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        # the allmodconfigs, the longest, first
        runs = {name: pool.submit(gate, tree, base, name, objs, calling)
                for name in sorted(names, key=lambda n: "allmod" not in n)}
        for name in names:
            check, ok, detail, diags = runs[name].result()
            for d in diags:
                print(f"# {name}: {d}", flush=True)
            t.check(check, ok, detail)
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
