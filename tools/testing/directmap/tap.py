# SPDX-License-Identifier: GPL-2.0
"""TAP output for directmap's Python test programs."""


class Tap:
    """Numbered ok / not ok lines; counts what failed"""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        self.n += 1
        self.failed += not ok
        print(f"{'' if ok else 'not '}ok {self.n} {name}" +
              (f" # {detail}" if detail else ""), flush=True)


def run(checks):
    """main() of a test program: BZIMAGE BUILD_DIR on the command line,
    CHECKS(tap, bzimage, initrd, logs) run as TAP; the exit status"""
    import sys
    from qemu import prepare

    bzimage, build = sys.argv[1], sys.argv[2]
    logs, initrd = prepare(build)
    print("TAP version 13", flush=True)
    t = Tap()
    checks(t, bzimage, initrd, logs)
    print(f"# {t.n - t.failed} passed, {t.failed} failed", flush=True)
    return 1 if t.failed else 0
