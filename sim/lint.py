"""`make lint`: verilator --lint-only -Wall on every module of rtl/.

Each module is linted as the top (with its default parameters) against all
of rtl/, so a module nobody instantiates yet is still checked. A module with
injected bugs (``ifdef INJECT_BUGS``, docs/toolchain.md) is linted a second
time with them compiled in, since the benches build it that way. Waivers live
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
    runs = [(m, f, ()) for m, f in modules]
    runs += [(m, f, ("+define+INJECT_BUGS",)) for m, f in modules if "INJECT_BUGS" in f.read_text()]
    failures = 0
    for module, path, defines in runs:
        cmd = [str(toolchain.verilator_bin()), "--lint-only", "-Wall", *defines, "--top-module", module,
               *map(str, control_files()), *map(str, files)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        status = "ok" if proc.returncode == 0 else "FAIL"
        label = module + (" +INJECT_BUGS" if defines else "")
        print(f"lint {status:4} {label:40} {path.relative_to(toolchain.ROOT)}")
        if proc.returncode != 0:
            failures += 1
            print(proc.stderr.strip())
    print(f"lint: {len(runs) - failures} of {len(runs)} module builds clean (verilator -Wall; "
          f"{len(runs) - len(modules)} with injected bugs compiled in)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
