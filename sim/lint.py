"""`make lint`: verilator --lint-only -Wall on every module of rtl/.

Each module is linted as the top (with its default parameters) against all
of rtl/, so a module nobody instantiates yet is still checked. A module with
injected bugs (``ifdef INJECT_BUGS``, docs/toolchain.md) is linted a second
time with them compiled in, since the benches build it that way. A module
whose build parameters switch logic on (PARAM_VARIANTS) is linted once more
per variant, with and without injected bugs. Waivers live
next to the code they excuse (lint_off comments, or a .vlt under rtl/ for
generated files); there is no blanket waiver here.
"""
from __future__ import annotations

import re
import subprocess
import sys

from . import toolchain

# parameter sets that elaborate logic the defaults leave out
PARAM_VARIANTS = {
    "mlp_engine": [("-GVEC_OUT=1", "-GP=4", "-GU=8", "-GVEC_LANES=8")],   # vector output (s.9.3)
    "emb_lookup_top": [("-GCACHE=1",), ("-GMH=1",)],                       # caches (s.11), multi-hot (s.9.9)
    "microrec_top": [("-GCACHE=1",), ("-GDLRM=1",), ("-GDLRM=1", "-GMH=1"), ("-GDLRM=1", "-GP=6", "-GT_MAX=8", "-GFEAT_MAX=160"),   # DLRM back half (s.7.2)
                     ("-GTOPK=1",), ("-GTOPK=1", "-GTOPK_K_MAX=16", "-GTOPK_N_MAX=64", "-GP=6")],  # top-k (s.10.6)
}

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
    for m, f in modules:
        for params in PARAM_VARIANTS.get(m, []):
            runs.append((m, f, params))
            if "INJECT_BUGS" in f.read_text():
                runs.append((m, f, params + ("+define+INJECT_BUGS",)))
    failures = 0
    for module, path, defines in runs:
        cmd = [str(toolchain.verilator_bin()), "--lint-only", "-Wall", *defines, "--top-module", module,
               *map(str, control_files()), *map(str, files)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        status = "ok" if proc.returncode == 0 else "FAIL"
        label = " ".join((module, *(d.replace("+define+", "+") for d in defines)))
        print(f"lint {status:4} {label:40} {path.relative_to(toolchain.ROOT)}")
        if proc.returncode != 0:
            failures += 1
            print(proc.stderr.strip())
    print(f"lint: {len(runs) - failures} of {len(runs)} module builds clean (verilator -Wall; "
          f"{sum('+define+INJECT_BUGS' in d for _, _, d in runs)} with injected bugs compiled in, "
          f"{sum(any(a.startswith('-G') for a in d) for _, _, d in runs)} with non-default parameters)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
