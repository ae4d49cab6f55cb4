#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""directmap and memory hotplug, with a real DIMM through the QEMU monitor.

The guest (guest/init, hotplug()) has nodes 0 and 1 with a CPU and 2 GiB
each, and node 2 with neither.  On its cue the host hot-adds a 1 GiB DIMM
to node 2; the guest onlines it as kernel memory, and the donation
sample takes pages from node 2, so that directmap's regions sit on the
DIMM and nothing else of the kernel's does.  With stress-ng churning
memfd_secret on the other nodes and the collapse worker running, the
guest tries to offline every block of the DIMM while the pages are out
(each try fails fast or goes offline), gives them back so that empty
regions stay cached on the DIMM, and offlines every block of the DIMM: it
must succeed, never wait for a signal.  On its next cue the host removes
the DIMM.  Then the guest offlines every boot memory block while
directmap holds cached regions.  The consistency verifier (bookkeeping,
page tables, DirectMap counters) runs after each phase.

make check runs it inside integration.py; on its own:

usage: hotplug.py BZIMAGE BUILD_DIR
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

from qemu import cpu, metrics_of, numa
from storm import splats
from tap import run

# what an offline that waited for its signal took (the guest's timeout is
# 20 s, 60 s for boot memory, where migration takes its time); one that
# failed fast or went offline takes far less under TCG
SLOW_MS = 15000
SLOW_BOOT_MS = 55000


def machine(sock):
    """2 vCPUs on nodes 0 and 1, 2 GiB each; node 2 empty, room for a DIMM"""
    return [
        *cpu(), *numa(memory="4G,slots=2,maxmem=6G"),
        "-numa", "node,nodeid=2",
        "-monitor", f"unix:{sock},server=on,wait=off",
    ]


def monitor(sock, command):
    """one HMP command; what the monitor answered"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.settimeout(10)
        s.sendall(command.encode() + b"\n")
        out = b""
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if out.count(b"(qemu)") >= 2:
                break
    return out.decode(errors="replace")


def boot_hotplug(bzimage, initrd, log, timeout=900):
    """run the guest's hotplug suite, answering its cues on the monitor"""
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "monitor.sock")
        append = ("console=ttyS0 no5lvl kunit.enable=0 panic=-1 oops=panic "
                  "dmtest=hotplug")
        cmd = ["qemu-system-x86_64", "-nographic", "-no-reboot",
               *machine(sock), "-kernel", bzimage, "-initrd", initrd,
               "-append", append]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        lines, answers = [], []
        live = open(log, "w")
        try:
            for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip("\r\n")
                lines.append(line)
                live.write(line + "\n")
                live.flush()
                if line.endswith("HOTPLUG ADD"):
                    answers.append(monitor(sock, "object_add memory-backend-ram,"
                                                 "id=hp0,size=1G"))
                    answers.append(monitor(sock, "device_add pc-dimm,id=dimm0,"
                                                 "memdev=hp0,node=2"))
                elif line.endswith("HOTPLUG REMOVE"):
                    answers.append(monitor(sock, "device_del dimm0"))
        finally:
            proc.wait()
            timer.cancel()
            live.close()
    out = "\n".join(lines) + "\n"
    if not timer.is_alive() and proc.returncode == -9:
        out += f"DMTEST TIMEOUT after {timeout}s\n"
    with open(log, "w") as f:
        f.write(out)
        f.write("\n# monitor\n" + "\n".join(answers) + "\n")
    return out


def offlines(console):
    """the guest's OFFLINE lines: [(phase, block, rc, ms)]"""
    rows = []
    for line in console.splitlines():
        m = re.match(r"OFFLINE (\S+) (\S+) (\d+) (\d+)\s*$", line.strip("\r"))
        if m:
            rows.append((m.group(1), m.group(2), int(m.group(3)),
                         int(m.group(4))))
    return rows


def hotplug_checks(t, bzimage, initrd, logs):
    con = boot_hotplug(bzimage, initrd, os.path.join(logs, "guest-hotplug.log"))
    m, ex = metrics_of(con)

    def g(key):
        return m.get(key)

    rows = offlines(con)
    by_phase = {}
    for phase, block, rc, ms in rows:
        by_phase.setdefault(phase, []).append((block, rc, ms))
    for phase, r in by_phase.items():
        print(f"# hotplug: {phase}: " + ", ".join(
            f"{b} rc {rc} {ms} ms" for b, rc, ms in r), flush=True)
    print(f"# hotplug: {g('hotplug.blocks_added')} blocks added, regions on "
          f"the DIMM held {g('hotplug.regions_on_dimm')}, empty and cached "
          f"{g('hotplug.empty_on_dimm')}", flush=True)

    t.check("hotplug: guest ran to the end", g("run.completed") == 1)
    t.check("hotplug: a 1 GiB DIMM hot-added and onlined as kernel memory",
            (g("hotplug.blocks_added") or 0) >= 8 and
            g("hotplug.online_failed") == 0,
            f"{g('hotplug.blocks_added')} blocks")
    t.check("hotplug: directmap's regions came from the DIMM",
            ex.get("donate") == 0 and (g("hotplug.regions_on_dimm") or 0) > 0,
            f"{g('hotplug.regions_on_dimm')} regions")
    held = by_phase.get("held", [])
    t.check("hotplug: with pages out, the offline of their block fails fast",
            held and all(ms < SLOW_MS and rc != 0 for _, rc, ms in held),
            f"{len(held)} tries, slowest "
            f"{max((ms for _, _, ms in held), default=0)} ms")
    t.check("hotplug: empty regions stayed cached on the DIMM",
            (g("hotplug.empty_on_dimm") or 0) > 0,
            f"{g('hotplug.empty_on_dimm')}")
    freed = by_phase.get("freed", [])
    t.check("hotplug: with only cached regions on the DIMM, every block "
            "goes offline, and no try waits for a signal",
            freed and all(ms < SLOW_MS for _, _, ms in freed) and
            g("hotplug.dimm_online") == 0,
            f"{g('hotplug.dimm_online')} blocks left online; " +
            "; ".join(f"{b} rc {rc} {ms} ms" for b, rc, ms in freed
                      if rc or ms >= SLOW_MS)[:300])
    t.check("hotplug: the DIMM was removed", g("hotplug.removed") == 1)
    for phase in ("hp_boot", "hp_held", "hp_offline", "hp_removed", "hp_end"):
        t.check(f"hotplug: verifier clean ({phase}): bookkeeping, page "
                "tables and DirectMap counters agree",
                g(f"verify.{phase}.problems") == 0,
                f"{g(f'verify.{phase}.problems')} problems")
    t.check("hotplug: DirectMap covers what boot mapped again after removal",
            g("hp_boot.directmap_total_kb") is not None and
            g("hp_boot.directmap_total_kb") ==
            g("hp_removed.directmap_total_kb"),
            f"boot {g('hp_boot.directmap_total_kb')}, removed "
            f"{g('hp_removed.directmap_total_kb')} kB")
    boot = by_phase.get("boot", [])
    t.check("hotplug: offline of every boot memory block with cached "
            "regions: none waits for a signal",
            boot and all(ms < SLOW_BOOT_MS for _, _, ms in boot) and
            (g("hotplug.boot_cached") or 0) > 0,
            f"{len(boot)} blocks, {sum(rc == 0 for _, rc, _ in boot)} "
            f"offline, {g('hotplug.boot_cached')} regions cached, slowest "
            f"{max((ms for _, _, ms in boot), default=0)} ms")
    bad = splats(con)
    t.check("hotplug: 0 splats (KASAN, lockdep, DEBUG_VM, WARN)", not bad,
            "; ".join(bad[:3]))


if __name__ == "__main__":
    sys.exit(run(hotplug_checks))
