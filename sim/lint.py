"""`make lint`: verilator --lint-only -Wall on every module of rtl/.

Each module is linted as the top (with its default parameters) against all
of rtl/, so a module nobody instantiates yet is still checked. Waivers live
next to the code they excuse (lint_off comments, or a .vlt under rtl/ for
generated files); there is no blanket waiver here.
"""
from __future__ import annotations

import re
import subprocess
import sys

from . import toolchain

MODULE_RE = re.compile(r"^\s*module\s+(?:automatic\s+)?(\w+)", re.M)


def rtl_files():
    files = sorted(toolchain.RTL_DIR.rglob("*.sv")) + sorted(toolchain.RTL_DIR.rglob("*.v"))
    # packages first: modules import them
    pkgs = [f for f in files if f.name.endswith("_pkg.sv")]
    return pkgs + [f for f in files if f not in pkgs]


def control_files():
    return sorted(toolchain.RTL_DIR.rglob("*.vlt"))


def main() -> int:
    env = toolchain.setup_env(dict(__import__("os").environ))
    files = rtl_files()
    if not files:
        print("lint: no RTL files found")
        return 1
    modules = []
    for f in files:
        modules += [(m, f) for m in MODULE_RE.findall(f.read_text())]
    failures = 0
    for module, path in modules:
        cmd = [str(toolchain.verilator_bin()), "--lint-only", "-Wall", "--top-module", module,
               *map(str, control_files()), *map(str, files)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        status = "ok" if proc.returncode == 0 else "FAIL"
        print(f"lint {status:4} {module:28} {path.relative_to(toolchain.ROOT)}")
        if proc.returncode != 0:
            failures += 1
            print(proc.stderr.strip())
    print(f"lint: {len(modules) - failures} of {len(modules)} modules clean (verilator -Wall)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
