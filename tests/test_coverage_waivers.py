"""The coverage report's waiver rules (sim/coverage.py): what a rule accepts, and
that the checked-in waiver file parses and anchors to existing code."""
from __future__ import annotations

import pytest

from sim import coverage
from sim.coverage import CodeWaiver


def test_toggle_rule_accepts_only_high_bits():
    r = CodeWaiver(r"toggle rtl/lookup/emb_lookup_top.sv perf_\w+ bits>=16 64-bit counters", 1)
    assert r.matches("rtl/lookup/emb_lookup_top.sv", 1, "toggle", "perf_cycles[16]:0->1")
    assert not r.matches("rtl/lookup/emb_lookup_top.sv", 1, "toggle", "perf_cycles[15]:0->1")
    assert not r.matches("rtl/lookup/emb_lookup_top.sv", 1, "toggle", "araddr[40]:0->1")
    assert not r.matches("rtl/top/microrec_top.sv", 1, "toggle", "perf_cycles[40]:0->1")
    assert not r.matches("rtl/lookup/emb_lookup_top.sv", 1, "line", "perf_cycles[40]:0->1")


def test_packed_lane_rule_uses_the_index_modulo_the_lane():
    r = CodeWaiver(r"toggle rtl/mlp/mlp_engine.sv perf_\w+ bits%32>=16 per-PE counters", 1)
    assert r.matches("rtl/mlp/mlp_engine.sv", 1, "toggle", "perf_sat[48]:1->0")       # PE 1, bit 16
    assert not r.matches("rtl/mlp/mlp_engine.sv", 1, "toggle", "perf_sat[47]:1->0")   # PE 1, bit 15


def test_line_rule_follows_its_text_anchor():
    r = CodeWaiver("line rtl/lookup/lookup_config.sv default:~state~<=~S_IDLE; complete case", 1)
    text = (coverage.ROOT / "rtl/lookup/lookup_config.sv").read_text().splitlines()
    assert "default: state <= S_IDLE;" in text[r.line - 1]
    assert r.matches("rtl/lookup/lookup_config.sv", r.line, "line", "")


@pytest.mark.parametrize("bad", ["toggle rtl/x.sv sig", "branch rtl/lookup/lookup_config.sv 12",
                                 "line rtl/lookup/lookup_config.sv no~such~text~anywhere why"])
def test_malformed_or_unanchored_rules_are_refused(bad):
    with pytest.raises(ValueError):
        CodeWaiver(bad, 7)


def test_checked_in_waivers_parse_with_reasons():
    rules = coverage.load_code_waivers()
    assert rules and all(r.reason for r in rules)
    assert isinstance(coverage.load_waivers(), dict)
