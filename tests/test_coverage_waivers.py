"""The coverage report's waiver rules (sim/coverage.py): what a rule accepts, and
that the checked-in waiver file parses and anchors to existing code."""
from __future__ import annotations

import re

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


def test_per_layer_rule_uses_the_counter_width_of_the_rtl():
    """perf_* of mlp_engine.sv pack one 48-bit (CNT_W) counter per layer: the rule waives
    bits 16..47 of every layer's counter and never bit 0 of any of them."""
    r = CodeWaiver(r"toggle rtl/mlp/mlp_engine.sv perf_\w+ bits%CNT_W>=16 per-layer counters", 1)
    assert r.lane == 48
    f = "rtl/mlp/mlp_engine.sv"
    accepted = {b for b in range(4 * 48) if r.matches(f, 1, "toggle", f"perf_sat[{b}]:1->0")}
    for layer in range(4):
        assert {layer * 48 + k for k in range(16, 48)} <= accepted, f"layer {layer} bits 16..47"
        assert not {layer * 48 + k for k in range(16)} & accepted, f"layer {layer} bits 0..15"
    assert 32 in accepted and 47 in accepted          # layer 0, bits 32..47 (missed by bits%32)
    assert 48 not in accepted and 144 not in accepted  # bit 0 of layers 1 and 3 (accepted by bits%32)


def _points(file: str, sig: str, nbits: int, covered=()) -> dict:
    return {(str(coverage.ROOT / file), 1, "", "toggle", f"{sig}[{b}]:0->1"): {"count": int(b in covered), "span": "1"}
            for b in range(nbits)}


def test_audit_finds_a_rule_that_accepts_bit_0_of_a_packed_counter():
    """The rule as it was (bits%32>=16 on 48-bit per-layer counters) must fail the audit,
    which takes the element width from the RTL declaration, not from the rule."""
    merged = _points("rtl/mlp/mlp_engine.sv", "perf_busy", 4 * 48)
    old = CodeWaiver(r"toggle rtl/mlp/mlp_engine.sv perf_\w+ bits%32>=16 per-PE counters", 1)
    problems = coverage.audit_code_waivers(merged, [old])
    assert any("bit 0 of element 1 of perf_busy" in p for p in problems), problems
    assert any("bit 0 of element 3 of perf_busy" in p for p in problems), problems
    assert any("48-bit elements, the rule says 32" in p for p in problems), problems
    new = CodeWaiver(r"toggle rtl/mlp/mlp_engine.sv perf_\w+ bits%CNT_W>=16 per-layer counters", 1)
    assert coverage.audit_code_waivers(merged, [new]) == []


def test_audit_finds_a_plain_rule_on_a_packed_vector():
    """bits>=16 on a packed per-layer vector accepts bit 0 of layers 1..3 (index 48, 96, 144)."""
    merged = _points("rtl/top/microrec_top.sv", "mlp_perf_macs", 4 * 48)
    r = CodeWaiver(r"toggle rtl/top/microrec_top.sv mlp_perf_\w+ bits>=16 counters", 1)
    problems = coverage.audit_code_waivers(merged, [r])
    assert sum("bit 0 of element" in p for p in problems) == 3, problems


def test_audit_fails_a_const_rule_on_a_signal_that_toggles():
    """A constant 1 bit shows one 0->1 (from the simulator's initial 0) and never 1->0;
    a bit that went both ways is not constant."""
    def points(both: bool) -> dict:
        out = {}
        for b in range(3):
            for d in ("0->1", "1->0"):
                hit = b == 0 and d == "0->1" or both and b == 1
                out[(str(coverage.ROOT / "rtl/top/config_dma.sv"), 1, "", "toggle", f"m_arsize[{b}]:{d}")] = \
                    {"count": int(hit), "span": "1"}
        return out
    r = CodeWaiver("toggle rtl/top/config_dma.sv m_ar(size|burst|id) const full-width bursts", 1)
    assert any("not constant" in p for p in coverage.audit_code_waivers(points(both=True), [r]))
    assert coverage.audit_code_waivers(points(both=False), [r]) == []


@pytest.mark.parametrize("bad", ["toggle rtl/top/config_dma.sv words_done bits>=0 accepts bit 0",
                                 "toggle rtl/mlp/mlp_engine.sv perf_\\w+ bits%CNT_W>=48 nothing left",
                                 "toggle rtl/top/config_dma.sv words_done 64-bit counters"])
def test_toggle_rules_must_say_which_bits_and_spare_bit_0(bad):
    with pytest.raises(ValueError):
        CodeWaiver(bad, 3)


def test_no_checked_in_rule_accepts_bit_0():
    """Each bit rule of the waiver file against every bit of the signals it names, widths
    from the RTL declarations: no element's bit 0 is accepted."""
    merged = {}
    for r in coverage.load_code_waivers():
        if r.kind != "toggle" or r.const:
            continue
        text = (coverage.ROOT / r.file).read_text()
        for sig in set(re.findall(r"\b\w+\b", text)):
            if r.sig.fullmatch(sig):
                shape = coverage.declared_shape(r.file, sig)
                if shape:
                    merged.update(_points(r.file, sig, shape[0] * shape[1]))
    assert merged, "the bit rules name no declared signal"
    assert coverage.audit_code_waivers(merged, coverage.load_code_waivers()) == []


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
