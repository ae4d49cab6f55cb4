#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a postable series from patches/KERNEL/, and gate it.

  series.py write REPO TARBALL KERNEL OUTDIR [NAME...]
  series.py check REPO KERNEL TREE

A series is patches/KERNEL/post/NAME.series: one line per patch, either
the name of a patch of patches/KERNEL/ (a change to existing kernel
files) or "new FILE.new", a patch that adds files of the overlay: FILE.new
holds its Subject header and changelog, then a line "Files:" and the
overlay paths it adds, one per line (its author is whoever posts).  Lines starting with # are comments;
"prefix: RFC PATCH" sets the subject prefix, "cover: FILE" the cover
letter's text (with "*** SUBJECT HERE ***" on its first line), "after:
NAME" the series it goes on (else the one before it by name).

write: unpack TARBALL into OUTDIR/base, make it a git repository, apply
every series in turn with `git am` (a patch that does not apply fails
the gate), sign each off as whoever runs it (git config user.name and
user.email: no identity, no series), and write them with `git
format-patch` to OUTDIR/NAME/, To/Cc from get_maintainer.pl.  Then the
gate, on the written files: checkpatch.pl --strict (no error, warning or
check but those allowed in patches/KERNEL/post/checkpatch.allow, each
with its reason), kernel-doc -Wall on every C file the series adds or
changes, get_abi validate over Documentation/ABI, the summary of every
subject at most 75 characters, a Signed-off-by on every patch.  TAP.

check: the short gate `make check` runs: the same checkpatch and subject
rules over the patch files of patches/KERNEL/series as they are (no
sign-off yet: that is added by whoever posts), using TREE's checkpatch.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

from tap import Tap

SUMMARY_MAX = 75
KDOC_EXT = (".c", ".h")


def run(cmd, cwd=None, check=True, env=None, inp=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                       env=env, input=inp)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n"
                           f"{r.stdout}{r.stderr}")
    return r


def read_series(path):
    """[(kind, value)], options: kind is 'patch' or 'new'"""
    entries, opts = [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"(prefix|cover|after):\s*(.*)", line)
            if m:
                opts[m.group(1)] = m.group(2)
            elif line.startswith("new "):
                entries.append(("new", line[4:].strip()))
            else:
                entries.append(("patch", line))
    return entries, opts


def allowed(repo, kernel):
    """The checkpatch messages allowed, as compiled regexes"""
    path = os.path.join(repo, "patches", kernel, "post", "checkpatch.allow")
    pats = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    pats.append(re.compile(line))
    return pats


def checkpatch(tree, patch, allow):
    """checkpatch --strict's messages that are not allowed"""
    r = run(["perl", "scripts/checkpatch.pl", "--strict", "--showfile",
             "-q", patch], cwd=tree, check=False)
    bad = []
    for line in r.stdout.splitlines():
        # --showfile: "FILE:LINE: ERROR: ..."; without a file, at the start
        if re.search(r"(^|: )(ERROR|WARNING|CHECK):", line) and \
           not any(p.search(line) for p in allow):
            bad.append(line)
    return bad


# A line checkpatch takes for CamelCase: it looks up the names of
# include/ then, from a cache in the tree that it writes the first time
CAMEL = "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,0 +1,1 @@\n+int seedCamelCase;\n"


def seed_camelcase(tree):
    """Have checkpatch write its CamelCase cache in TREE before runs that
    would read it while another writes it"""
    run(["perl", "scripts/checkpatch.pl", "--strict", "-q", "-"], cwd=tree,
        check=False, inp=CAMEL)


def subject_of(patch):
    """The subject's summary, without its [PATCH ...] prefix"""
    with open(patch) as f:
        head = f.read().split("\n\n", 1)[0]
    m = re.search(r"^Subject: (.*(?:\n .*)*)", head, re.M)
    subj = re.sub(r"\n ", " ", m.group(1)) if m else ""
    return re.sub(r"^\[[^]]*\]\s*", "", subj)


def gate_patches(t, tag, tree, patches, allow, signoff, each=True):
    """The rules for each patch file; EACH: a check per patch and rule,
    else one per rule over them all"""
    found = {"checkpatch --strict clean": [],
             f"summary at most {SUMMARY_MAX} characters": []}
    if signoff:
        found[f"signed off by {signoff}"] = []
    # checkpatch runs on one CPU: one patch a CPU
    seed_camelcase(tree)
    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        bads = list(pool.map(lambda p: checkpatch(tree, p, allow), patches))
    for p, bad in zip(patches, bads):
        name = os.path.basename(p)
        s = subject_of(p)
        with open(p) as f:
            text = f.read()
        got = {"checkpatch --strict clean": "; ".join(bad),
               f"summary at most {SUMMARY_MAX} characters":
               "" if 0 < len(s) <= SUMMARY_MAX else f"{len(s)}: {s}"}
        if signoff:
            got[f"signed off by {signoff}"] = (
                "" if f"\nSigned-off-by: {signoff}\n" in text else "none")
        for rule, why in got.items():
            if each:
                t.check(f"{tag}: {name}: {rule}", not why, why[:300])
            elif why:
                found[rule].append(f"{name}: {why}")
    if not each:
        for rule, bad in found.items():
            t.check(f"{tag}: every patch: {rule}", not bad,
                    "; ".join(bad)[:300])


def check(repo, kernel, tree):
    """The short gate over patches/KERNEL/series as they are"""
    t = Tap()
    pdir = os.path.join(repo, "patches", kernel)
    allow = allowed(repo, kernel) + [re.compile(r"Missing Signed-off-by")]
    with open(os.path.join(pdir, "series")) as f:
        names = [x.strip() for x in f if x.strip() and x[0] != "#"]
    gate_patches(t, f"series {kernel}", tree,
                 [os.path.join(pdir, n) for n in names], allow, None,
                 each=False)
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


def base_repo(tarball, base):
    """OUTDIR/base: the pristine tree as one commit, reset to it"""
    stamp = os.path.join(base, ".git", "directmap-tarball")
    want = f"{tarball} {os.path.getsize(tarball)} {os.path.getmtime(tarball)}"
    if os.path.exists(stamp) and open(stamp).read() == want:
        run(["git", "am", "--abort"], cwd=base, check=False)
        run(["git", "checkout", "-qf", "pristine"], cwd=base)
        run(["git", "clean", "-qfdx"], cwd=base)
        return
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    with tarfile.open(tarball) as tf:
        members = tf.getmembers()
        for m in members:
            m.name = m.name.split("/", 1)[1] if "/" in m.name else ""
        tf.extractall(base, [m for m in members if m.name],
                      filter="fully_trusted")
    env = dict(os.environ, GIT_AUTHOR_DATE="2000-01-01T00:00:00Z",
               GIT_COMMITTER_DATE="2000-01-01T00:00:00Z")
    run(["git", "init", "-q", "-b", "pristine"], cwd=base)
    run(["git", "add", "-A", "-f"], cwd=base)
    version = run(["make", "-s", "kernelversion"], cwd=base).stdout.strip()
    run(["git", "-c", "user.name=base", "-c", "user.email=base@invalid",
         "commit", "-q", "-m", f"Linux {version}"], cwd=base, env=env)
    with open(stamp, "w") as f:
        f.write(want)


def new_patch(repo, spec, base, ident, env):
    """A commit of base that adds the overlay files SPEC lists"""
    with open(spec) as f:
        text = f.read()
    head, _, files = text.partition("\nFiles:\n")
    hdr, _, body = head.partition("\n\n")
    subj = re.search(r"^Subject: (.*)$", hdr, re.M).group(1)
    for rel in files.split():
        dst = os.path.join(base, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(repo, rel), dst)
        run(["git", "add", "-f", rel], cwd=base)
    msg = f"{subj}\n\n{body.strip()}\n\nSigned-off-by: {ident}\n"
    run(["git", "commit", "-q", "-F", "-"], cwd=base, inp=msg, env=env)


def series_order(post):
    """The series of POST in the order they go on each other: by name,
    each one after the series its "after:" names"""
    names = sorted(f[:-7] for f in os.listdir(post) if f.endswith(".series"))
    after = {n: read_series(os.path.join(post, f"{n}.series"))[1].get("after")
             for n in names}
    order = []
    while len(order) < len(names):
        ready = [n for n in names if n not in order and
                 (not after[n] or after[n] in order or after[n] not in names)]
        if not ready:
            raise RuntimeError(f"{post}: the after: of the series loop")
        order.append(ready[0])
    return order


def write(repo, tarball, kernel, out, names):
    out = os.path.abspath(out)
    t = Tap()
    name = run(["git", "config", "user.name"], cwd=repo, check=False)
    mail = run(["git", "config", "user.email"], cwd=repo, check=False)
    ident = (f"{name.stdout.strip()} <{mail.stdout.strip()}>"
             if name.returncode == 0 and mail.returncode == 0 else None)
    t.check("series: git config has the identity that signs off",
            ident is not None,
            "" if ident else "set git config user.name and user.email")
    if not ident:
        return 1
    base = os.path.join(out, "base")
    base_repo(tarball, base)
    # author, committer and sign-off: whoever runs it, whatever else
    # the base repository's or the global git config says
    who = {"NAME": name.stdout.strip(), "EMAIL": mail.stdout.strip()}
    env = dict(os.environ, **{f"GIT_{r}_{k}": v for r in ("AUTHOR",
                                                        "COMMITTER")
                              for k, v in who.items()})
    pdir = os.path.join(repo, "patches", kernel)
    post = os.path.join(pdir, "post")
    if not names:
        names = series_order(post)
    allow = allowed(repo, kernel)
    prev = "pristine"
    for sname in names:
        entries, opts = read_series(os.path.join(post, f"{sname}.series"))
        run(["git", "checkout", "-q", "-B", sname, prev], cwd=base)
        failed = None
        for kind, value in entries:
            try:
                if kind == "new":
                    new_patch(repo, os.path.join(post, value), base, ident,
                              env)
                else:
                    run(["git", "am", "-q", "--signoff", "--keep-cr",
                         os.path.join(pdir, value)], cwd=base, env=env)
                    # am takes the author from the patch: the poster's
                    run(["git", "commit", "-q", "--amend", "--no-edit",
                         "--reset-author"], cwd=base, env=env)
            except (RuntimeError, OSError) as e:
                failed = f"{value}: {str(e).splitlines()[-1][:200]}"
                run(["git", "am", "--abort"], cwd=base, check=False)
                run(["git", "reset", "-q", "--hard"], cwd=base, check=False)
                run(["git", "clean", "-qfdx"], cwd=base, check=False)
                break
        t.check(f"{sname}: every patch applies with git am onto {prev}",
                failed is None, failed or "")
        if failed:
            continue
        dest = os.path.join(out, sname)
        shutil.rmtree(dest, ignore_errors=True)
        prefix = opts.get("prefix", "PATCH")
        run(["git", "format-patch", "-q", "--cover-letter", "--thread",
             f"--subject-prefix={prefix}", "-o", dest, f"{prev}..{sname}"],
            cwd=base, env=env)
        cover, *patches = sorted(os.path.join(dest, f)
                                 for f in os.listdir(dest)
                                 if f.endswith(".patch"))
        add_recipients(base, cover, patches)
        if "cover" in opts:
            fill_cover(os.path.join(post, opts["cover"]), cover)
        gate_patches(t, sname, base, patches, allow, ident)
        gate_tree(t, sname, base, f"{prev}..{sname}")
        prev = sname
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0


def maintainers(base, patch, which):
    """get_maintainer.pl's people (which="people") or lists of PATCH"""
    opts = (["--no-l"] if which == "people" else
            ["--no-m", "--no-r", "--l"])
    r = run(["perl", "scripts/get_maintainer.pl", "--no-rolestats",
             "--no-git", "--no-git-fallback", "--no-tree"] + opts + [patch],
            cwd=base, check=False)
    return [x.strip() for x in r.stdout.splitlines() if "@" in x]


def add_recipients(base, cover, patches):
    """To: the maintainers and reviewers of each patch, Cc: its lists;
    the cover letter to all of them"""
    people, lists = [], []
    for p in patches:
        to, cc = maintainers(base, p, "people"), maintainers(base, p, "lists")
        people += [w for w in to if w not in people]
        lists += [w for w in cc if w not in lists]
        put_recipients(p, to, cc)
    put_recipients(cover, people, lists)


def put_recipients(patch, to, cc):
    if not to and not cc:
        return
    with open(patch) as f:
        text = f.read()
    head, sep, rest = text.partition("\nSubject: ")
    lines = ""
    if to:
        lines += "To: " + ",\n    ".join(to) + "\n"
    if cc:
        lines += "Cc: " + ",\n    ".join(cc) + "\n"
    with open(patch, "w") as f:
        f.write(head + "\n" + lines.rstrip("\n") + sep + rest)


def fill_cover(src, cover):
    """The cover letter's subject and text from SRC"""
    with open(src) as f:
        subj, _, body = f.read().partition("\n")
    with open(cover) as f:
        text = f.read()
    text = text.replace("*** SUBJECT HERE ***", subj.strip())
    text = text.replace("*** BLURB HERE ***", body.strip())
    with open(cover, "w") as f:
        f.write(text)


def kdoc_warnings(base, path):
    """kernel-doc -Wall's warnings on PATH, without line numbers"""
    r = run(["perl", "scripts/kernel-doc", "-Wall", "-none", path],
            cwd=base, check=False)
    # 6.12's perl kernel-doc says FILE:LINE:, 7.2's python one FILE:LINE
    return {re.sub(r"FILE:\d+:?", "FILE:", x.replace(path, "FILE"))
            for x in r.stderr.splitlines() if x.strip()}


def gate_tree(t, tag, base, rng):
    """kernel-doc over the C files the series touches (what it adds to
    what was there); the ABI documents"""
    prev = rng.split("..")[0]
    files = run(["git", "diff", "--name-only", "--no-renames",
                 "--diff-filter=AM", rng],
                cwd=base).stdout.split()
    bad = []
    for f in files:
        if not f.endswith(KDOC_EXT) or f.startswith("tools/"):
            continue
        after = kdoc_warnings(base, f)
        old = run(["git", "show", f"{prev}:{f}"], cwd=base, check=False)
        before = set()
        if old.returncode == 0 and after:
            tmp = os.path.join(base, ".git", "kdoc-before" +
                               os.path.splitext(f)[1])
            with open(tmp, "w") as fh:
                fh.write(old.stdout)
            before = kdoc_warnings(base, tmp)
            before = {x.replace(tmp, "FILE") for x in before}
        bad += [f"{f}: {x}" for x in sorted(after - before)]
    t.check(f"{tag}: kernel-doc -Wall adds no warning to the files it "
            "touches", not bad, "; ".join(bad)[:300])
    if any(f.startswith("Documentation/ABI/") for f in files):
        tool = ("scripts/get_abi.pl" if os.path.exists(
            os.path.join(base, "scripts/get_abi.pl")) else
            "tools/docs/get_abi.py")
        # 6.12's get_abi.pl takes --dir after the command, 7.2's
        # get_abi.py -D before it
        cmd = (["perl", tool, "validate", "--dir", "Documentation/ABI"]
               if tool.endswith(".pl") else
               ["python3", tool, "-D", "Documentation/ABI", "validate"])
        r = run(cmd, cwd=base, check=False)
        # what the tree says already is not the series' (7.2 has some)
        abi = [f for f in files if f.startswith("Documentation/ABI/")]
        out = [x for x in (r.stdout + r.stderr).splitlines()
               if any(f in x for f in abi)]
        t.check(f"{tag}: get_abi validate silent about the ABI files it "
                "touches", not out, "; ".join(out)[:300])


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "write":
        return write(*sys.argv[2:6], sys.argv[6:])
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        return check(*sys.argv[2:5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
