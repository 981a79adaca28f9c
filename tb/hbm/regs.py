"""Register, command, statistic and violation numbers of the SV memory model.

Read from tb/hdl/hbm_pkg.sv (and the generator's localparams in
tb/hdl/hbm_axi_tgen.sv) at import, so the SV package is the single source of
truth and Python cannot drift from it.
"""
from __future__ import annotations

import re
from pathlib import Path

from sim.filelist import read_filelist

HDL_DIR = Path(__file__).resolve().parents[1] / "hdl"
PKG_FILE = HDL_DIR / "hbm_pkg.sv"
TGEN_FILE = HDL_DIR / "hbm_axi_tgen.sv"

# The model alone (for reuse in other harnesses) and with the self-test harness:
# the file lists tb/hdl/hbm_model.f and hbm_harness.f.
MODEL_FILELIST = HDL_DIR / "hbm_model.f"
HARNESS_FILELIST = HDL_DIR / "hbm_harness.f"
MODEL_SOURCES = tuple(read_filelist(MODEL_FILELIST).sources)
HARNESS_SOURCES = tuple(read_filelist(HARNESS_FILELIST).sources)

_PARAM_RE = re.compile(r"localparam\s+(?:int\s+|logic\s*\[[^\]]*\]\s*)?([^;]+);", re.S)
_ITEM_RE = re.compile(r"([A-Z][A-Z0-9_]*)\s*=\s*([^,]+)")


def _parse(path: Path) -> dict[str, int]:
    text = re.sub(r"//[^\n]*", "", path.read_text())
    out: dict[str, int] = {}
    for body in _PARAM_RE.findall(text):
        for name, expr in _ITEM_RE.findall(body):
            expr = expr.strip()
            m = re.fullmatch(r"\d+'h([0-9A-Fa-f_]+)", expr)
            if m:
                out[name] = int(m.group(1).replace("_", ""), 16)
                continue
            try:
                out[name] = int(eval(expr, {"__builtins__": {}}, dict(out)))  # noqa: S307 - own file
            except Exception:  # noqa: BLE001 - expressions on parameters (e.g. $clog2) are skipped
                pass
    return out


P = _parse(PKG_FILE)
T = _parse(TGEN_FILE)

globals().update({k: v for k, v in P.items() if k.startswith(("OP_", "R_", "S_", "V_", "K_", "N_", "REG_"))})

STAT_NAMES = {v: k[2:].lower() for k, v in P.items() if k.startswith("S_") and k != "S_HIST"}
VIOLATION_NAMES = {v: k[2:] for k, v in P.items() if k.startswith("V_")}
KIND_NAMES = {v: k[2:] for k, v in P.items() if k.startswith("K_")}
RESP_NAMES = {0: "OKAY", 1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}
RESP_CODES = {v: k for k, v in RESP_NAMES.items()}
ALL_CHANNELS = 0xFF
