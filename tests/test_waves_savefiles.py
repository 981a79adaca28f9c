"""The GTKWave save files of `make waves` (tb/hdl/waves/*.gtkw) name signals that exist:
each one is a port of its harness toplevel, with the declared width."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAVES = sorted((ROOT / "tb" / "hdl" / "waves").glob("*.gtkw"))


def port_widths(top: str) -> dict[str, str]:
    src = next(p for p in list((ROOT / "tb" / "hdl").glob("*.sv")) + list((ROOT / "rtl").rglob("*.sv"))
               if re.search(rf"^\s*module\s+{top}\b", p.read_text(), re.M))
    text = src.read_text()
    for inc in re.findall(r'`include\s+"([^"]+)"', text):
        text += (ROOT / "tb" / "hdl" / inc).read_text()
    ports = {}
    for m in re.finditer(r"^\s*(?:input|output)\s+logic\s*(\[[^\]]*\])?\s*(?:\[[^\]]*\]\s*)?(\w+)", text, re.M):
        ports[m.group(2)] = m.group(1) or ""
    return ports


@pytest.mark.parametrize("save", SAVES, ids=[p.stem for p in SAVES])
def test_save_file_names_existing_ports(save):
    top = save.stem
    ports = port_widths(top)
    sigs = [ln.strip() for ln in save.read_text().splitlines() if ln.startswith(top + ".")]
    assert sigs, f"{save.name} names no signal"
    for s in sigs:
        name = s[len(top) + 1:].split("[")[0]
        assert name in ports, f"{save.name}: {name} is not a port of {top}"
        if "[" in s:
            assert ports[name], f"{save.name}: {name} is 1 bit wide, listed with a range"
