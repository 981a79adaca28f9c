"""Which benches can see a mutated RTL file, and what of each to run.

A bench here is an RTL file list (rtl/<block>/*.f, the same list its
tb/<dut>/dut.py builds from, so the two cannot drift) and the fast subset of
its pytest nodes that a mutant runs (a pytest ``-k`` expression over test
function names). A mutant of file F runs every bench whose list holds F,
unit benches first, stopping at the first kill.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..filelist import read_filelist
from ..toolchain import ROOT


@dataclass(frozen=True)
class Bench:
    name: str
    filelist: str                            # rtl-relative file list the DUT compiles
    select: str                              # pytest -k: the nodes a mutant runs

    def sources(self, rtl_dir: Path = ROOT / "rtl") -> Iterable[Path]:
        return read_filelist(rtl_dir / self.filelist).sources


# unit benches first: they build and run fastest, and most mutants die there
BENCHES = (
    Bench("mac_pe", "mlp/mac_pe.f", "test_mac_pe and lanes4"),
    Bench("mlp_engine", "mlp/mlp_engine.f", "test_mlp_engine and not microrec"),
    Bench("dot_interaction", "mlp/dot_interaction.f",
          "test_dot_interaction_small or test_dot_interaction_backpressure"),
    Bench("csr", "csr/csr.f", "test_csr"),
    Bench("topk", "topk/topk.f", "test_topk_small"),
    Bench("cache", "cache/cache.f", "test_cache and not injected"),
    Bench("dlrm_ingress", "lookup/dlrm_ingress.f",
          "(test_dlrm_ingress and (Random or Error or Corner or Saturation or Mean or BackToBack) and not injected) "
          "or test_dlrm_ingress_full_header or test_dlrm_ingress_widths"),   # W = 3: an odd header beat count
    Bench("lookup", "lookup/lookup.f",
          "test_lookup_tiny or test_lookup_bank_full or test_lookup_products or test_lookup_wide_rows "
          "or test_lookup_id_pool_saturated "
          "or (test_lookup_multihot and not rate and not u280 and not one_hot and not injected)"),
    # + one multi-hot DLRM run: the top's multi-hot wiring (TBL_POOL -> per-table bag_max /
    # pool_shift, MULTIHOT) is dead on the MH = 0 tiny build, so only an MH build can see it
    Bench("top", "top/top.f", "test_top_tiny or test_top_reconfigure or (test_top_dlrm_multihot and fixed)"),
)


@lru_cache(maxsize=1)
def file_map(rtl_dir: Path = ROOT / "rtl") -> dict[str, tuple[str, ...]]:
    """rtl-relative file -> names of the benches whose DUT compiles it, in bench order."""
    out: dict[str, list[str]] = {}
    for bench in BENCHES:
        for src in bench.sources(rtl_dir):
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
