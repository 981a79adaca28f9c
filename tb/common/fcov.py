"""Functional coverage: named covergroups with explicit bins, saved per test.

Kept deliberately small so the merge/report side (sim/coverage.py) can read
every test's file and list holes by name. Bins are declared up front: a bin
nobody hits is a hole, which is the point of declaring them.
"""
from __future__ import annotations

import json
import os
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


class Covergroup:
    """A set of coverpoints for one feature; ``sample(point, bin)`` counts."""

    def __init__(self, name: str):
        self.name = name
        self.points: dict[str, Coverpoint] = {}

    def point(self, name: str, bins, description: str = "") -> Coverpoint:
        cp = Coverpoint(name, bins, description)
        self.points[name] = cp
        return cp

    def sample(self, point: str, bin_name) -> None:
        self.points[point].sample(bin_name)

    def holes(self) -> list[str]:
        return [f"{self.name}.{p}.{b}" for p, cp in self.points.items() for b in cp.holes()]

    def percent(self) -> float:
        total = sum(len(cp.hits) for cp in self.points.values())
        hit = sum(1 for cp in self.points.values() for n in cp.hits.values() if n)
        return 100.0 * hit / total if total else 100.0

    def to_dict(self) -> dict:
        return {p: {"description": cp.description, "bins": dict(cp.hits)} for p, cp in self.points.items()}

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
