"""Which benches can see a mutated RTL file, and what of each to run.

A bench is a DUT build the tests make (its source list, taken from the test
module's own DUT factory so the two cannot drift) and the fast subset of
its pytest nodes that a mutant runs (a pytest ``-k`` expression over test
function names). A mutant of file F runs every bench whose DUT compiles F,
unit benches first, stopping at the first kill.

Re-point this table, and nothing else, when the DUT definitions move (e.g.
to tb/<dut>/dut.py and rtl/<block>/*.f lists): ``sources`` only has to
return the paths the DUT compiles.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ..toolchain import ROOT


@dataclass(frozen=True)
class Bench:
    name: str
    sources: Callable[[], Iterable[Path]]   # what the DUT compiles
    select: str                              # pytest -k: the nodes a mutant runs


def _tests_module(stem: str):
    """Import tests/<stem>.py by path (tests/ is not a package)."""
    name = f"_mutate_bench_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _dut(stem: str, make: Callable) -> Callable[[], Iterable[Path]]:
    return lambda: make(_tests_module(stem)).sources


# unit benches first: they build and run fastest, and most mutants die there
BENCHES = (
    Bench("mac_pe", _dut("test_mac_pe", lambda m: m.mac_pe_dut(4)),
          "test_mac_pe and lanes4"),
    Bench("mlp_engine", _dut("test_mlp_engine", lambda m: m.mlp_dut()),
          "test_mlp_engine and not microrec"),
    Bench("csr", _dut("test_csr", lambda m: m.csr_dut()),
          "test_csr"),
    Bench("lookup", _dut("test_lookup", lambda m: m.lookup_dut(m.TINY_BUILD)),
          "test_lookup_tiny or test_lookup_bank_full or test_lookup_products or test_lookup_wide_rows"),
    Bench("top", _dut("test_top", lambda m: m.top_dut(m.TINY_TOP)),
          "test_top_tiny or test_top_reconfigure"),
)


@lru_cache(maxsize=1)
def file_map(rtl_dir: Path = ROOT / "rtl") -> dict[str, tuple[str, ...]]:
    """rtl-relative file -> names of the benches whose DUT compiles it, in bench order."""
    out: dict[str, list[str]] = {}
    for bench in BENCHES:
        for src in bench.sources():
            p = Path(src).resolve()
            try:
                rel = p.relative_to(rtl_dir.resolve()).as_posix()
            except ValueError:
                continue        # a bench-harness file, not RTL
            out.setdefault(rel, [])
            if bench.name not in out[rel]:
                out[rel].append(bench.name)
    return {k: tuple(v) for k, v in out.items()}


def benches_for(rel_file: str) -> list[Bench]:
    names = file_map().get(rel_file, ())
    return [b for b in BENCHES if b.name in names]
