"""cocotb/pyuvm test for `python -m sim.bench`: the lookup RTL with the planner's placement.

The stock `tb.lookup.tb_lookup` tests place a model by its config's tiers
and channels, which only exist on the full 32 HBM + 2 DDR platform. This
test instead places the model the way `models.planner` does (automatic
tiers, balanced channels: `placement.place(..., respect_tiers=False,
respect_channels=False)`) on the platform of the build (`LOOKUP_DDR` of its
NUM_CH channels are DDR), so a sweep over channel counts measures exactly
the placement the performance model predicts. `LOOKUP_BANKS` (default:
all of the build's) limits the on-chip banks the placement may use, so one
build serves models sized for different bank counts. `LOOKUP_NREG` sets the
memory model's region descriptors per channel (a channel holding more
than 8 tables needs more; the DUT must be built with the same NREG).
Everything else (knobs, scoreboard, perf.json) is the base test's.
"""
from __future__ import annotations

import dataclasses
import os

import pyuvm
from pyuvm import ConfigDB

from models.config import load_config
from models.placement import place
from tb.hbm.config import HbmConfig
from tb.lookup import tb_lookup
from tb.lookup.layout import LookupBuild, LookupLayout
from tb.lookup.lookup_env import LookupEnv


def bench_platform(build: LookupBuild, ddr: int, banks: int | None = None):
    """The build's platform with `ddr` DDR channels and the first `banks` on-chip banks."""
    plat = build.platform(ddr_channels=ddr)
    if banks is not None and banks != build.num_banks:
        if not 0 <= banks <= build.num_banks:
            raise ValueError(f"banks: {banks} outside 0..{build.num_banks} of this build")
        plat = dataclasses.replace(plat, onchip_banks=banks,
                                   onchip_bytes=banks * build.bank_words * build.word_bytes)
    return plat


def bench_placement(cfg, build: LookupBuild, pairs, ddr: int, banks: int | None = None):
    """The placement the bench simulates and predicts (planner's automatic rule)."""
    return place(cfg, [tuple(p) for p in pairs], bench_platform(build, ddr, banks),
                 respect_tiers=False, respect_channels=False)


@pyuvm.test(timeout_time=400, timeout_unit="ms")
class BenchLookupTest(tb_lookup.LookupUniformTest):
    """Uniform queries; placement by the planner's rule on this build's platform."""

    def build_phase(self):
        self.cfg = load_config(os.environ.get("LOOKUP_CONFIG", "tiny"))
        self.build = LookupBuild(**tb_lookup.env_json("LOOKUP_BUILD", {}))
        placement = bench_placement(self.cfg, self.build, tb_lookup.env_json("LOOKUP_PAIRS", []),
                                    int(os.environ.get("LOOKUP_DDR", "0")),
                                    int(os.environ.get("LOOKUP_BANKS", self.build.num_banks)))
        self.layout = LookupLayout(self.cfg, self.build, placement=placement)
        cdb = ConfigDB()
        cdb.set(None, "*", "model_cfg", self.cfg)
        cdb.set(None, "*", "layout", self.layout)
        cdb.set(None, "*", "t_max", self.build.t_max)
        cdb.set(None, "*", "feat_max", self.build.feat_max)
        cdb.set(None, "*", "num_queries", int(os.environ.get("LOOKUP_QUERIES", "200")))
        cdb.set(None, "*", "in_idle_prob", float(os.environ.get("LOOKUP_IN_IDLE", self.in_idle_prob)))
        cdb.set(None, "*", "out_stall_prob", float(os.environ.get("LOOKUP_OUT_STALL", self.out_stall_prob)))
        cdb.set(None, "*", "expected_errors", self.expected_errors)
        cdb.set(None, "*", "first_qid", 0)
        self.env = LookupEnv("env", self)

    def hbm_config(self) -> HbmConfig:
        cfg = super().hbm_config()
        return dataclasses.replace(cfg, nreg=int(os.environ.get("LOOKUP_NREG", cfg.nreg)))
