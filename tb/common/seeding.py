"""Every random source of a bench derives from cocotb's seed (and, in soak
mode, the memory timing and backpressure do too), so a seed reproduces a run."""
from __future__ import annotations

import random
import zlib

import cocotb
import numpy as np

from tb.common.spec import load_spec


def test_seed() -> int:
    """The cocotb run's seed; every random source of a bench derives from it."""
    return int(cocotb.RANDOM_SEED)


def rng(stream: int = 0) -> np.random.Generator:
    """A NumPy generator for one named stream of this test's randomness."""
    return np.random.default_rng([test_seed(), stream])


def py_random(stream: int = 0) -> random.Random:
    return random.Random(test_seed() * 1000003 + stream)


def soak_stimulus() -> dict | None:
    """Soak mode (``make regress PROFILE=nightly``, the spec's ``soak`` flag): the
    memory timing (ideal at a random latency, or u280 HBM, which reorders across
    IDs and refreshes) and the input idle / output stall probabilities are drawn
    from the test seed, so each seed of a test meets different timing. None
    otherwise."""
    spec = load_spec()
    if not spec.soak:
        return None
    # the seed and the test's own name: each test of a seed meets different timing,
    # and a rerun of one test with its seed meets the same
    name = spec.test_dir.rstrip("/").rsplit("/", 1)[-1]
    r = random.Random(test_seed() * 7919 + zlib.crc32(name.encode()))
    return {"preset": r.choice(["ideal", "u280"]), "latency": r.randint(1, 150),
            "in_idle": r.choice([0.0, 0.1, 0.3, 0.6]), "out_stall": r.choice([0.0, 0.2, 0.5, 0.8])}
