"""Pytest options shared by every RTL test: seeds, waves, regression profile.

RTL tests take a ``seed`` argument; it is parametrized here from
``--seed`` (one seed, e.g. to rerun a failure) or ``--seeds N`` (N seeds
from ``--base-seed``, for regressions), so a test id names its seed:
``test_mac_pe[lanes4-MacRandomTest-seed7]``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_addoption(parser):
    g = parser.getgroup("microrec")
    g.addoption("--seed", type=int, default=None, help="run RTL tests with exactly this seed")
    g.addoption("--seeds", type=int, default=int(os.environ.get("SEEDS", "1")),
                help="number of seeds per RTL test (regressions)")
    g.addoption("--base-seed", type=int, default=int(os.environ.get("BASE_SEED", "1")),
                help="first seed of --seeds")
    g.addoption("--waves", action="store_true", default=False, help="build with FST tracing and dump waves")
    g.addoption("--coverage-rtl", action="store_true", default=False,
                help="build with Verilator line/toggle/branch coverage, one .dat per test")


def pytest_configure(config):
    config.addinivalue_line("markers", "rtl: runs a Verilator simulation")
    config.addinivalue_line("markers", "slow: long simulation, kept out of the smoke profile")
    config.addinivalue_line("markers", "mutant: builds deliberately broken RTL (kept out of coverage)")
    config.addinivalue_line("markers", "install: pip-installs the package into a fresh venv (minutes; nightly, not make test)")
    config.addinivalue_line("markers", "app: runs a user-facing make target (make sim, make bench-*) at a tiny size")
    config.addinivalue_line("markers", "fullsize: full-size model shapes; same RTL as the small builds, "
                                       "too slow with coverage instrumentation (kept out of make coverage)")
    if config.getoption("--waves"):
        os.environ["MICROREC_WAVES"] = "1"
    if config.getoption("--coverage-rtl"):
        os.environ["MICROREC_COVERAGE"] = "1"


def pytest_generate_tests(metafunc):
    if "seed" in metafunc.fixturenames:
        cfg = metafunc.config
        if cfg.getoption("--seed") is not None:
            seeds = [cfg.getoption("--seed")]
        else:
            base = cfg.getoption("--base-seed")
            seeds = [base + i for i in range(max(1, cfg.getoption("--seeds")))]
        metafunc.parametrize("seed", seeds, ids=[f"seed{s}" for s in seeds])
