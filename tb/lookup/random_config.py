"""Random legal lookup configurations for one build: runtime-configurable shapes.

A configuration test draws many models (table count, rows, dims, tiers,
channels, Cartesian pairs) inside the build maxima and commits each one to
the same RTL build, so the descriptor store, the per-engine lists and the
gather see shapes no hand-written config has.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from models.config import ModelConfig, TableConfig
from models.placement import PlacementError
from tb.lookup.layout import LookupBuild, LookupLayout


def random_model(g: np.random.Generator, build: LookupBuild, name: str = "random") -> ModelConfig:
    """One model whose tables fit this build's P_MAX, T_MAX, DIM_MAX and FEAT_MAX.
    Sometimes every table is crowded onto one or two engines, so the per-engine
    lists fill to their depth."""
    n = int(g.integers(1, min(build.t_max, build.p_max) + 1))
    crowd = g.random() < 0.5
    crowd_bank = build.num_banks > 0 and g.random() < 0.3
    crowd_ch = int(g.integers(0, build.num_banks if crowd_bank else build.num_ch))
    dims = [int(g.integers(1, build.dim_max + 1)) for _ in range(n)]
    while sum(dims) > build.feat_max:
        i = int(g.integers(0, n))
        dims[i] = max(1, dims[i] // 2)
    tables = []
    for i, dim in enumerate(dims):
        rows = int(np.exp(g.uniform(0, np.log(20000))))
        tier = "onchip" if g.random() < 0.3 and build.num_banks else "hbm"
        channel = None
        if crowd and g.random() < 0.7:
            tier, channel = ("onchip" if crowd_bank else "hbm"), crowd_ch
        elif g.random() < 0.5:
            channel = int(g.integers(0, build.num_banks if tier == "onchip" else build.num_ch))
        tables.append(TableConfig(f"t{i}", rows, dim, tier, channel))
    return ModelConfig(name, tables, mlp=[sum(dims), 1], emb_shift=int(g.integers(0, 9)),
                       seed=int(g.integers(0, 2**32)))


def relocate(g: np.random.Generator, layout: LookupLayout, space: int, lo: int = 0) -> None:
    """Move the memory tables of a placed model to random 4 KiB-aligned bases anywhere
    in ``[lo, lo + space)`` (per channel, in order, never overlapping), so the address
    paths see high bits too."""
    by_ch: dict[int, list[int]] = {}
    for p, d in enumerate(layout.descs):
        if not d.onchip:
            by_ch.setdefault(d.channel, []).append(p)
    for ch, ps in by_ch.items():
        sizes = [-(-(layout.descs[p].rows * layout.descs[p].stride) // 4096) * 4096 for p in ps]
        slack = (space - sum(sizes)) // 4096
        cuts = np.sort(g.integers(0, slack + 1, size=len(ps)))
        base = lo
        for k, p in enumerate(ps):
            gap = int(cuts[k] - (cuts[k - 1] if k else 0)) * 4096
            base += gap
            layout.descs[p] = dataclasses.replace(layout.descs[p], base=base)
            base += sizes[k]
        assert base <= lo + space


def random_layout(g: np.random.Generator, build: LookupBuild, name: str = "random",
                  tries: int = 50, relocate_in: int | None = None) -> LookupLayout:
    """A placed random model (maybe with one Cartesian pair); redraws what does not fit.
    ``relocate_in``: spread the memory tables over an address space of that many bytes."""
    for _ in range(tries):
        cfg = random_model(g, build, name)
        pairs = []
        if cfg.num_tables >= 2 and g.random() < 0.4:
            a, b = (int(x) for x in g.choice(cfg.num_tables, 2, replace=False))
            if cfg.tables[a].rows * cfg.tables[b].rows < 200_000:
                pairs = [[a, b]]
        try:
            layout = LookupLayout(cfg, build, pairs=pairs)
        except (PlacementError, ValueError):
            continue
        per_engine: dict[int, int] = {}
        for p in range(len(layout.descs)):
            per_engine[layout.engine_of(p)] = per_engine.get(layout.engine_of(p), 0) + 1
        if max(per_engine.values()) <= build.list_max:
            if relocate_in:
                relocate(g, layout, relocate_in)
            return layout
    raise RuntimeError(f"no random model fits build {build} in {tries} tries")
