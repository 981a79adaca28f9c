"""Functional coverage: named covergroups with explicit bins and crosses, saved per test.

Kept deliberately small so the merge/report side (sim/coverage.py) can read
every test's file and list holes by name. Bins are declared up front: a bin
nobody hits is a hole, which is the point of declaring them. A cross is a
coverpoint whose bins are combinations of axis values (impossible ones
excluded with a reason), so it merges, reports and waives like any point.
(cocotb-coverage was pinned once and never used: its decorator-based global
database would need a second export and merge path beside this one.)
"""
from __future__ import annotations

import json
import os
from itertools import product
from pathlib import Path

from tb.common.spec import load_spec


class Coverpoint:
    def __init__(self, name: str, bins, description: str = ""):
        self.name = name
        self.description = description
        self.hits = {str(b): 0 for b in bins}

    def sample(self, bin_name) -> None:
        key = str(bin_name)
        if key not in self.hits:
            raise KeyError(f"coverpoint {self.name}: undeclared bin {key!r} (declared: {list(self.hits)})")
        self.hits[key] += 1

    def holes(self) -> list[str]:
        return [b for b, n in self.hits.items() if n == 0]


class Cross(Coverpoint):
    """The cross product of named axes, minus combinations that cannot happen.

    A bin is one combination, named by its values joined with '/' in axis order
    ("slverr/ch2"). ``exclude`` lists impossible combinations as (values..., reason)
    with '*' matching any value of an axis; they are not bins (the reason stays in
    the description, so the report says why a combination is absent).
    """

    SEP = "/"

    def __init__(self, name: str, axes: dict, description: str = "", exclude=()):
        self.axes = {a: [str(v) for v in vals] for a, vals in axes.items()}
        self.excluded = [(tuple(str(v) for v in ex[:-1]), ex[-1]) for ex in exclude]
        for combo, _ in self.excluded:
            if len(combo) != len(self.axes):
                raise ValueError(f"cross {name}: exclusion {combo} needs {len(self.axes)} values")
        bins = [self.SEP.join(c) for c in product(*self.axes.values()) if not self._excluded(c)]
        notes = "; ".join(f"{self.SEP.join(c)} excluded: {why}" for c, why in self.excluded)
        super().__init__(name, bins, description + (f" ({notes})" if notes else ""))

    def _excluded(self, combo) -> bool:
        return any(all(e in ("*", v) for e, v in zip(ex, combo)) for ex, _ in self.excluded)

    def sample(self, *values) -> None:
        combo = tuple(str(v) for v in values)
        if self._excluded(combo):
            raise KeyError(f"cross {self.name}: {combo} was declared impossible but happened")
        super().sample(self.SEP.join(combo))


class Covergroup:
    """A set of coverpoints for one feature; ``sample(point, bin)`` counts."""

    def __init__(self, name: str):
        self.name = name
        self.points: dict[str, Coverpoint] = {}

    def point(self, name: str, bins, description: str = "") -> Coverpoint:
        cp = Coverpoint(name, bins, description)
        self.points[name] = cp
        return cp

    def cross(self, name: str, axes: dict, description: str = "", exclude=()) -> Cross:
        cp = Cross(name, axes, description, exclude)
        self.points[name] = cp
        return cp

    def sample(self, point: str, *bin_name) -> None:
        self.points[point].sample(*bin_name)

    def holes(self) -> list[str]:
        return [f"{self.name}.{p}.{b}" for p, cp in self.points.items() for b in cp.holes()]

    def percent(self) -> float:
        total = sum(len(cp.hits) for cp in self.points.values())
        hit = sum(1 for cp in self.points.values() for n in cp.hits.values() if n)
        return 100.0 * hit / total if total else 100.0

    def to_dict(self) -> dict:
        out = {}
        for p, cp in self.points.items():
            out[p] = {"description": cp.description, "bins": dict(cp.hits)}
            if isinstance(cp, Cross):
                out[p]["cross"] = list(cp.axes)
        return out

    def report(self, logger) -> None:
        """Save this test's bins and log the percentage and the holes by name."""
        self.save()
        holes = self.holes()
        logger.info(f"functional coverage {self.name}: {self.percent():.1f}% "
                    f"({'no holes' if not holes else 'holes: ' + ', '.join(holes)})")

    def save(self, directory: str | os.PathLike | None = None) -> Path | None:
        """Write ``fcov_<group>.json`` into the test's own directory."""
        directory = directory or load_spec().test_dir
        if not directory:
            return None
        path = Path(directory) / f"fcov_{self.name}.json"
        path.write_text(json.dumps({"group": self.name, "points": self.to_dict()}, indent=1))
        return path
