# SPDX-License-Identifier: GPL-2.0
"""The checks both integration drivers (x86 and arm64) make of a boot with
directmap on: the memfd_secret workload, the pages it got and gave back,
the debugfs summary and dmesg.  Each takes the Tap, a tag naming the boot,
and the guest's report (key -> value) and exit codes."""

from qemu import delta, tagged


def large(r, phase):
    """kB of the direct map in 2M and 1G entries at PHASE"""
    return (r.get(f"{phase}.directmap_2m_kb", 0) +
            r.get(f"{phase}.directmap_1g_kb", 0))


def total(r, phase):
    """kB of the direct map at PHASE"""
    return large(r, phase) + r.get(f"{phase}.directmap_4k_kb", 0)


def workload(t, tag, r, ex):
    """the memfd_secret workload ran, got zeroed pages, split no PMD"""
    pages = int(r.get("run.pages", 0))
    pmd = delta(r, "pmd_splits", "boot", "held")
    t.check(f"{tag}: guest ran to the end", r.get("run.completed") == 1)
    t.check(f"{tag}: memfd_secret workload ran", ex.get("dmtest") == 0)
    t.check(f"{tag}: every secret page arrived zeroed",
            r.get("run.nonzero_pages") == 0)
    t.check(f"{tag}: no PMD split for 65536 secret pages",
            pages == 65536 and pmd == 0, f"delta {pmd}")


def pages_held(t, tag, r):
    """while the secrets are held: no 4K entry more, no fallback"""
    t.check(f"{tag}: DirectMap4k unchanged while secrets are held",
            delta(r, "directmap_4k_kb", "boot", "held") == 0)
    t.check(f"{tag}: pages came from regions, no single-page fallback",
            delta(r, "dmap_fallbacks", "boot", "held") == 0)


def pages_back(t, tag, r):
    """after the free: every page back in directmap, and vmstat agrees"""
    pages = int(r.get("run.pages", 0))
    t.check(f"{tag}: every page returned to directmap after free",
            r.get("freed.dmap_used") == 0 and
            r.get("freed.dmap_pending") == 0)
    alloc = delta(r, "vm_pages_alloc", "boot", "freed")
    t.check(f"{tag}: vmstat: every page handed out was given back",
            alloc is not None and alloc >= pages and
            alloc == delta(r, "vm_pages_free", "boot", "freed"),
            f"{alloc} out, {delta(r, 'vm_pages_free', 'boot', 'freed')} back")


def summary(t, tag, con, words):
    """the debugfs summary the guest printed names WORDS"""
    text = "\n".join(tagged(con, "SUMMARY"))
    t.check(f"{tag}: debugfs summary has " + ", ".join(words),
            all(w in text for w in words))


def no_warning(t, tag, r):
    """no warning, oops or lockdep splat in the guest's dmesg"""
    t.check(f"{tag}: no warning in dmesg", r.get("run.dmesg_splats") == 0,
            f"{r.get('run.dmesg_splats')} lines")
