"""One bench spec: what a simulation run is, defined once, read once.

A :class:`BenchSpec` names the bench (which knob schema applies), carries the
build (the same parameters the DUT is elaborated with), the bench knobs and
the soak flag. The runner (sim/runner.py) writes it as ``spec.json`` into the
test's directory and points ``MICROREC_SPEC`` at it; :func:`load_spec` is the
only place in tb/ that reads the process environment.

Knobs are typed: each bench declares a frozen dataclass of its knobs (in
``tb/<dut>/dut.py``), and :meth:`BenchSpec.knobs_as` builds it, so a
misspelt knob is an error naming the key and listing the valid ones instead
of a silent fallback to a default.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

SPEC_ENV = "MICROREC_SPEC"      # path of spec.json, set by sim/runner.py
SPEC_FILE = "spec.json"


class SpecError(ValueError):
    """A bench spec names a knob or field the bench does not have, or a bad value."""


def _plain(value: Any) -> Any:
    """JSON-able form of a knob value (dataclasses, tuples and paths included)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def build_dataclass(cls, values: Mapping, what: str):
    """``cls(**values)``, with an unknown key named (and the valid keys listed)."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise SpecError(f"{what}: unknown {'key' if len(unknown) == 1 else 'keys'} "
                        f"{', '.join(repr(k) for k in unknown)} (valid: {', '.join(names)})")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{what}: {exc}") from exc


@dataclass(frozen=True)
class BenchSpec:
    """Everything a bench needs to know about its run, as one JSON document."""

    bench: str                                   # the bench (its knob schema): "lookup", "top", ...
    build: Mapping = field(default_factory=dict)  # build parameters (the bench's Build dataclass)
    knobs: Mapping = field(default_factory=dict)  # bench knobs (the bench's Knobs dataclass)
    soak: bool = False                           # draw memory timing and backpressure from the seed
    test_dir: str = "."                          # filled in by the runner
    test_name: str = ""                          # filled in by the runner

    @classmethod
    def make(cls, bench: str, build=None, knobs=None, **kw) -> "BenchSpec":
        return cls(bench=bench, build=_plain(build or {}), knobs=_plain(knobs or {}), **kw)

    def with_run(self, test_dir: str, test_name: str, soak: bool) -> "BenchSpec":
        return dataclasses.replace(self, test_dir=str(test_dir), test_name=test_name, soak=soak)

    def with_knobs(self, **changes) -> "BenchSpec":
        return dataclasses.replace(self, knobs={**self.knobs, **_plain(changes)})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "BenchSpec":
        return build_dataclass(cls, json.loads(text), "bench spec")

    def write(self, directory: Path) -> Path:
        path = Path(directory) / SPEC_FILE
        path.write_text(self.to_json())
        return path

    def knobs_as(self, knobs_cls):
        """The knobs as the bench's dataclass; unknown keys are an error naming them."""
        return build_dataclass(knobs_cls, self.knobs, f"{self.bench} bench knobs")

    def build_as(self, build_cls):
        return build_dataclass(build_cls, self.build, f"{self.bench} bench build")


@lru_cache(maxsize=1)
def load_spec() -> BenchSpec:
    """This simulation's spec (the one reader of the environment in tb/).

    Outside a runner-started simulation (a bench module imported by a tool)
    there is none: an empty spec with the current directory as test dir.
    """
    path = os.environ.get(SPEC_ENV)
    if not path:
        return BenchSpec(bench="none")
    return BenchSpec.from_json(Path(path).read_text())


def run_dir() -> Path:
    """This test's own output directory (scoreboard.json, fcov_*.json, ...)."""
    return Path(load_spec().test_dir)
