"""Names and numbers read from the SystemVerilog sources themselves, so the
Python side cannot drift from the RTL (enum items, localparams)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL_DIR = ROOT / "rtl"

_ENUM_HEAD = r"typedef\s+enum\s+logic\s*\[[^\]]*\]\s*\{(?P<body>[^}]*)\}\s*"


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


@lru_cache(maxsize=None)
def enum_items(path: Path, enum: str) -> dict[str, int]:
    """{identifier: value} of ``typedef enum ... {...} <enum>;`` in ``path``."""
    text = _strip_comments(Path(path).read_text())
    m = re.search(_ENUM_HEAD + re.escape(enum) + r"\s*;", text)
    if not m:
        raise LookupError(f"enum {enum} not found in {path}")
    items, nxt = {}, 0
    for part in m.group("body").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = (s.strip() for s in part.partition("="))
        if value:
            vm = re.fullmatch(r"(?:\d+)?'([dhb])([0-9a-fA-F_]+)|(\d+)", value)
            if not vm:
                raise LookupError(f"{enum}.{name}: cannot read value {value!r}")
            if vm.group(3):
                nxt = int(vm.group(3))
            else:
                nxt = int(vm.group(2).replace("_", ""), {"d": 10, "h": 16, "b": 2}[vm.group(1)])
        items[name] = nxt
        nxt += 1
    return items


def lookup_err_names() -> dict[int, str]:
    """Error-record codes -> short names, from ``lookup_pkg::err_code_e``: the
    identifier without ``ERR_`` and without the ``AXI_`` qualifier, lower case
    (``ERR_AXI_SLVERR`` -> ``slverr``)."""
    items = enum_items(RTL_DIR / "lookup" / "lookup_pkg.sv", "err_code_e")
    return {v: k.removeprefix("ERR_").removeprefix("AXI_").lower() for k, v in items.items()}


def cfg_err_names() -> dict[int, str]:
    """Commit-time reasons -> names, from ``lookup_pkg::cfg_err_e`` (``CFG_BAD_STRIDE`` -> ``bad_stride``)."""
    items = enum_items(RTL_DIR / "lookup" / "lookup_pkg.sv", "cfg_err_e")
    return {v: k.removeprefix("CFG_").lower() for k, v in items.items()}


def csr_perf_names() -> list[str]:
    """Performance counters in CSR index order, from ``PERF_<NAME>_LO`` in the SystemRDL."""
    text = _strip_comments((RTL_DIR / "csr" / "microrec_csr.rdl").read_text())
    regs = re.findall(r"perf_lo_r\s+PERF_(\w+)_LO\s*@\s*(0x[0-9A-Fa-f]+)", text)
    if not regs:
        raise LookupError("no PERF_*_LO registers in microrec_csr.rdl")
    return [name.lower() for name, _ in sorted(regs, key=lambda r: int(r[1], 16))]


def lookup_harness_perf_names() -> list[str]:
    """The lookup harness's packed counters (tb/hdl/lookup_tb_top.sv: ``.perf_<name>(perf[i*64 +: 64])``)."""
    text = _strip_comments((ROOT / "tb" / "hdl" / "lookup_tb_top.sv").read_text())
    ports = re.findall(r"\.perf_(\w+)\s*\(\s*perf\s*\[\s*(\d+)\s*\*\s*64", text)
    if not ports:
        raise LookupError("no perf_* connections in lookup_tb_top.sv")
    return [name for name, _ in sorted(ports, key=lambda p: int(p[1]))]


def lookup_harness_cache_names() -> list[str]:
    """The lookup harness's packed cache counters (``.perf_cache_<name>(perf_cache[i*64 +: 64])``)."""
    text = _strip_comments((ROOT / "tb" / "hdl" / "lookup_tb_top.sv").read_text())
    ports = re.findall(r"\.perf_cache_(\w+)\s*\(\s*perf_cache\s*\[\s*(\d+)\s*\*\s*64", text)
    if not ports:
        raise LookupError("no perf_cache_* connections in lookup_tb_top.sv")
    return [name for name, _ in sorted(ports, key=lambda p: int(p[1]))]
