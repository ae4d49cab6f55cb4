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
