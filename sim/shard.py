"""Deterministic 1/N slices of a regression, for spreading it over machines.

A shard is a slice of the (test x seed) list, i.e. of the pytest node ids
that the profile's marker and ``-k`` selection leaves: sort them as strings
and take every N-th, starting at the (i-1)-th. That depends only on the node
ids (so on the code, the seed count and the base seed), not on the machine,
the order of collection or pytest-xdist; the N slices are disjoint and their
union is the whole list. Sorting puts the seeds of one test side by side, so
dealing them round robin spreads each test's cost over the shards.

Also a pytest plugin (``-p sim.shard --shard i/N``): it deselects everything
outside the slice after the marker and keyword selection. Under xdist each
worker collects and slices the same way, so they agree.
"""
from __future__ import annotations

import re

import pytest

SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N) with 1 <= i <= N; ValueError naming SHARD otherwise."""
    m = SHARD_RE.match(text or "")
    if not m:
        raise ValueError(f"SHARD={text!r}: expected i/N, e.g. SHARD=2/4")
    i, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= i <= n:
        raise ValueError(f"SHARD={text!r}: need 1 <= i <= N (shards are numbered from 1)")
    return i, n


def shard_slice(nodeids, index: int, count: int) -> list[str]:
    """The ``index``-th (1-based) of ``count`` slices of ``nodeids``, sorted."""
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}: need 1 <= i <= N")
    return sorted(set(nodeids))[index - 1::count]


def shard_dir_name(index: int, count: int) -> str:
    return f"shard-{index}-of-{count}"


def pytest_addoption(parser):
    parser.getgroup("microrec").addoption(
        "--shard", default=None, metavar="i/N",
        help="run only the i-th of N deterministic slices of the selected tests (sim/shard.py)")


@pytest.hookimpl(trylast=True)   # after -m / -k deselection: slice what the profile selected
def pytest_collection_modifyitems(config, items):
    text = config.getoption("--shard")
    if not text:
        return
    try:
        index, count = parse_shard(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    keep = set(shard_slice([it.nodeid for it in items], index, count))
    dropped = [it for it in items if it.nodeid not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [it for it in items if it.nodeid in keep]
