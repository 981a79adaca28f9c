"""The mutation scorer itself (sim/mutate.py, sim/mutants/): what counts as a kill,
which lines the generator may touch, and that a broken baseline scores nothing.
Pure Python: no simulator runs here."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from sim import mutate, runner
from sim.mutants import classify as C
from sim.mutants import generate
from sim.mutants.benches import file_map
from sim.toolchain import ROOT

RTL = ROOT / "rtl"


# ---------------------------------------------------------------------------
# classification, from the records sim/runner.py writes
# ---------------------------------------------------------------------------

RESULTS_XML = """<?xml version='1.0' encoding='utf-8'?>
<testsuites name="cocotb tests"><testsuite name="tb.x" errors="0" failures="1" skipped="0" tests="2">
<testcase classname="tb.x" name="GoodTest" time="0.1"/>
<testcase classname="tb.x" name="BadTest" time="0.1"><failure message="{message}" type="{type}">Traceback (most recent call last):
  File "{root}/.venv/lib/python3.11/site-packages/pyuvm/_extension_classes.py", line 41, in run
  File "{where}", line 305, in check_phase
{type}: {message}
</failure></testcase></testsuite></testsuites>
"""


def fake_run(tmp_path: Path, exc_type: str, message: str, where: str, log: str = "") -> dict:
    """A failing run's results.xml and sim.log as cocotb and Verilator write them,
    turned into a failure record by the runner's own code."""
    d = tmp_path / "run"
    d.mkdir(exist_ok=True)
    (d / "results.xml").write_text(RESULTS_XML.format(type=exc_type, message=message, where=where, root=ROOT))
    (d / "sim.log").write_text(log)
    res = runner.RunResult(2, 1, d, d / "results.xml", d / "sim.log", None)
    return runner.failure_record(res, "tests/test_x.py::test_x[seed1]", 1, "1 of 2 cocotb tests failed")


def test_scoreboard_mismatch_is_a_kill(tmp_path):
    rec = fake_run(tmp_path, "AssertionError", "3 mismatches; first: MISMATCH query 4 table 1 elem 2",
                   f"{ROOT}/tb/lookup/lookup_env.py")
    assert rec["failures"][0]["in_repo"] and rec["failures"][0]["where"] == "tb/lookup/lookup_env.py:305"
    status, evidence = C.classify_failure(rec)
    assert status == C.KILLED and "MISMATCH" in evidence


def test_watchdog_and_never_answered_are_kills(tmp_path):
    for msg in ("lookup watchdog: no progress for 20000 cycles (cycle 20032); outstanding:",
                "2 queries sent but never answered"):
        rec = fake_run(tmp_path, "AssertionError", msg, f"{ROOT}/tb/common/bench.py")
        assert C.classify_failure(rec)[0] == C.KILLED


def test_rtl_assertion_is_a_kill(tmp_path):
    log = ("[1501000] %Error: emb_lookup_engine.sv:412: Assertion failed in lookup_tb_top.u_dut.g_eng[2]."
           "u_engine.a_ar_stable: emb_lookup_engine: AR changed or dropped before ARREADY\n"
           "%Error: /x/rtl/lookup/emb_lookup_engine.sv:412: Verilog $stop\n")
    rec = fake_run(tmp_path, "SimFailure", "cocotb expected it would shut down the simulation, but the "
                   "simulation ended prematurely.", f"{ROOT}/.venv/lib/python3.11/site-packages/cocotb/x.py", log)
    status, evidence = C.classify_failure(rec)
    assert status == C.KILLED and evidence.startswith("assertion a_ar_stable: emb_lookup_engine: AR changed")


def test_timeout_is_its_own_class(tmp_path):
    rec = fake_run(tmp_path, "SimTimeoutError", "Test timed out after 20 ms",
                   f"{ROOT}/.venv/lib/python3.11/site-packages/cocotb/_extended_awaitables.py")
    assert C.classify_failure(rec)[0] == C.TIMEOUT


def test_crash_without_a_check_is_not_a_kill(tmp_path):
    # a Python error in the bench, the simulator dying silently, an assert inside a library
    rec = fake_run(tmp_path, "KeyError", "'desc'", f"{ROOT}/tb/lookup/layout.py")
    assert C.classify_failure(rec)[0] == C.CRASHED
    rec = fake_run(tmp_path, "SimFailure", "the simulation ended prematurely",
                   f"{ROOT}/.venv/lib/python3.11/site-packages/cocotb/regression.py", "%Error: segfault\n")
    assert C.classify_failure(rec)[0] == C.CRASHED
    rec = fake_run(tmp_path, "AssertionError", "", f"{ROOT}/.venv/lib/python3.11/site-packages/cocotbext/axi/x.py")
    assert C.classify_failure(rec)[0] == C.CRASHED
    assert C.classify_failure(None)[0] == C.CRASHED


def test_build_error_is_invalid_and_recorded_by_the_runner(tmp_path, monkeypatch):
    """The runner turns a failed Verilator build into failure.json (phase build) and re-raises."""
    def broken_build(dut, **kw):
        raise runner.BuildFailure("build of x failed", ["%Error: mac_pe.sv:12:5: syntax error, unexpected ';'"],
                                  tmp_path / "build.log")
    monkeypatch.setattr(runner, "build", broken_build)
    monkeypatch.setattr(runner, "BUILD_ROOT", tmp_path)
    with pytest.raises(runner.BuildFailure):
        runner.run_test(runner.Dut("x", "x", ()), "tb.x")
    nodeid = runner.current_test_name("x")     # this very test, as the runner names its directory
    rec = json.loads((runner.test_dir_for(nodeid, tmp_path) / "failure.json").read_text())
    assert rec["phase"] == "build"
    status, evidence = C.classify_failure(rec)
    assert status == C.INVALID and "syntax error" in evidence


def test_interrupted_build_is_not_invalid():
    """A build killed by a signal (no Verilator or compiler error) says nothing of the mutant."""
    rec = {"phase": "build", "build_errors": [], "build_returncode": -15, "reason": "return code: -15"}
    assert C.is_interrupted_build(rec)
    assert C.classify_failure(rec)[0] == C.CRASHED


def test_mutant_verdict():
    assert C.mutant_verdict([C.PASSED, C.CRASHED, C.KILLED]) == C.KILLED
    assert C.mutant_verdict([C.INVALID]) == C.INVALID
    assert C.mutant_verdict([C.PASSED, C.TIMEOUT, C.CRASHED]) == C.TIMEOUT
    assert C.mutant_verdict([C.PASSED, C.PASSED]) == C.SURVIVED


def test_score_line_format():
    recs = [{"status": s, "seconds": 1} for s in (C.KILLED, C.KILLED, C.SURVIVED, C.TIMEOUT, C.INVALID,
                                                   C.EQUIVALENT)]
    t = mutate.totals(recs)
    assert (t["scored"], t[C.INVALID], t[C.EQUIVALENT]) == (4, 1, 1)
    assert mutate.score_line(t) == "mutation check: 2 of 4 killed (50%)"


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------

SV = textwrap.dedent("""\
    // header comment: a < b && c
    module m #(
        parameter int N = 4
    ) (
        input  logic clk, rst_n,
        output logic [7:0] q
    );
        localparam int W = N + 1;                  // L8: design
        logic [W-1:0] c;
        always_ff @(posedge clk) begin
            if (!rst_n) q <= '0;                   // L11: design; q <= is an assignment
            else q <= q + 8'd1;                    // L12: design
        end
        assign c = (q == 8'd3) ? 5'd1 : 5'd2;      /* L14: design; a /* block */
    `ifdef M_BUG_X
        assign q2 = q - 1;
    `else
        assign q3 = q < 8'd7;                      // L18: design (the bug's other branch)
    `endif
        always_comb begin
    `ifdef INJECT_BUGS
            if ($test$plusargs("M_BUG_Y")) r = q > 8'd9;
            else
    `endif
            r = q > 8'd2;                          // L25: design (the code after an injected bug)
        end
        logic sva_armed = 1'b0;
        always_ff @(posedge clk) if (!rst_n) sva_armed <= 1'b1;
        a_q: assert property (@(posedge clk) disable iff (!rst_n || !sva_armed) q != 8'd255)
            else $error("m: q == %0d", q + 1);
        if (N > 8) begin : g_bad
            $error("m: N=%0d > 8", N);
        end
        assign unused_c = ^c;
    endmodule
    """)


def test_generator_mutates_design_lines_only():
    lines = sorted({m.line for m in generate.mutants_of_text("m.sv", SV)})
    assert lines == [8, 11, 12, 14, 18, 25]


def test_generator_never_treats_the_nonblocking_assignment_as_a_comparison():
    muts = generate.mutants_of_text("m.sv", SV)
    assert not [m for m in muts if m.line in (11, 12) and m.op == "rel"]
    assert [m for m in muts if m.line == 18 and m.op == "rel"]       # q < 8'd7 is a comparison
    stuck = [m for m in muts if m.line == 12 and m.op == "stuck"]
    assert [m.new.strip() for m in stuck] == [
        "else q <= type(q)'((q + 8'd1) | type(q)'(1));                    // L12: design",
        "else q <= type(q)'((q + 8'd1) & ~type(q)'(1));                    // L12: design"]


def test_no_stuck_bit_on_whole_arrays_or_where_a_constant_already_has_it():
    sv = textwrap.dedent("""\
        module s (input logic clk, input logic [3:0] a [2], output logic [3:0] b [2], output logic [3:0] c);
            localparam logic [3:0] K = 4'd5;
            always_ff @(posedge clk) begin
                b <= a;
                b[0] <= a[1];
                c <= K;
                c <= 4'd2;
            end
        endmodule
        """)
    stuck = {(m.line, m.detail) for m in generate.mutants_of_text("s.sv", sv) if m.op == "stuck"}
    assert stuck == {(5, "b[0] bit 0 stuck at 1"), (5, "b[0] bit 0 stuck at 0"),
                     (6, "c bit 0 stuck at 0"), (7, "c bit 0 stuck at 1")}


def test_generator_operators_on_one_line():
    got = {(m.op, m.detail) for m in generate.mutants_of_text("m.sv", SV) if m.line == 14}
    assert ("eq", "== -> !=") in got
    assert ("const", "8'd3 -> 8'd4") in got and ("const", "5'd1 -> 5'd0") in got
    cond = {m.new.strip() for m in generate.mutants_of_text("m.sv", SV) if m.line == 11 and m.op == "cond"}
    assert "if (!(!rst_n)) q <= '0;                   // L11: design; q <= is an assignment" in cond


def test_generator_exclusions_on_the_real_rtl():
    muts = generate.all_mutants(RTL)
    assert len(muts) > 1000
    assert not [m for m in muts if m.file.startswith("csr/generated/")]
    for m in muts:
        old_code = generate.mask_comments_and_strings(m.old)
        assert not any(w in old_code for w in ("assert", "sva_armed", "$error", "$fatal", "`if", "`else")), m
        # comments and strings are never touched
        comment = m.old.find("//")
        if comment >= 0:
            assert m.new.endswith(m.old[comment:]), m
    # an injected-bug branch is never mutated, the design branch is
    text = (RTL / "mlp" / "mac_pe.sv").read_text().split("\n")
    bug_lines = {i + 1 for i, ln in enumerate(text) if "injected bug" in ln}
    assert not [m for m in muts if m.file == "mlp/mac_pe.sv" and m.line - 1 in bug_lines]


def test_sample_is_deterministic_for_a_seed():
    a = [m.id for m in generate.sample(RTL, 30, 7)]
    assert a == [m.id for m in generate.sample(RTL, 30, 7)]
    assert a != [m.id for m in generate.sample(RTL, 30, 8)]
    assert len(set(a)) == 30


def test_mutant_id_survives_unrelated_edits():
    ids = {m.id for m in generate.mutants_of_text("m.sv", SV)}
    assert ids == {m.id for m in generate.mutants_of_text("m.sv", "// a new first line\n" + SV)}


def test_apply_and_stale(tmp_path):
    m = next(m for m in generate.mutants_of_text("m.sv", SV) if m.line == 12)
    (tmp_path / "m.sv").write_text(SV)
    original = generate.apply(m, tmp_path)
    assert original == SV and (tmp_path / "m.sv").read_text().split("\n")[11] == m.new
    with pytest.raises(ValueError, match="stale mutant"):
        generate.apply(m, tmp_path)


def test_every_hand_written_rtl_file_has_a_bench():
    mapped = file_map()
    for p in generate.rtl_sources(RTL):
        if generate.mutants_of_text(p.name, p.read_text()):
            assert mapped.get(p.relative_to(RTL).as_posix()), f"no bench compiles {p}"


def test_equivalent_list_loads_with_reasons():
    eq = mutate.load_equivalents()
    assert eq and all(reason.strip() for reason in eq.values())


# ---------------------------------------------------------------------------
# the campaign: baseline first, non-kills do not stop a mutant's nodes
# ---------------------------------------------------------------------------

def test_baseline_failure_stops_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mutate, "MUTATE_DIR", tmp_path)
    monkeypatch.setattr(mutate, "collect", lambda select, seed: ["tests/test_a.py::test_a[seed1]"])
    monkeypatch.setattr(mutate.Workspace, "fresh", lambda self: None)

    def failing(nodes, **kw):
        return [mutate.NodeResult(n, C.KILLED, "MISMATCH (the unmutated RTL)", 1.0) for n in nodes]
    monkeypatch.setattr(mutate, "run_nodes", failing)
    monkeypatch.setattr(mutate, "run_job", lambda *a, **k: pytest.fail("a mutant ran after a failed baseline"))
    assert mutate.main(["--only", "pe_round_off_by_one"]) == 2
    out = capsys.readouterr().out
    assert "baseline FAILED" in out and "killed" not in out.split("baseline FAILED")[1].split("\n")[0]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["sets"]["named"]["error"] == "baseline failed"


FAKE_NODE = """
import json, sys, time, pathlib
node = sys.argv[-1]
build = pathlib.Path({build!r})
kind = node.split("::")[1]
d = build / "tests" / {sanitize}(node)
d.mkdir(parents=True, exist_ok=True)
if kind in ("hang", "slowbuild"):
    if kind == "hang":
        (d / "sim_started").touch()
    time.sleep(30)
if kind == "flaky" and not (d / "tried").exists():    # a build killed by a signal, once
    (d / "tried").write_text("")
    (d / "failure.json").write_text(json.dumps({{"phase": "build", "build_errors": [], "build_returncode": -15}}))
    sys.exit(1)
exc = {{"crash": "KeyError", "kill": "AssertionError"}}.get(kind)
if exc:
    (d / "failure.json").write_text(json.dumps({{"phase": "run", "failures": [
        {{"test": "T", "type": exc, "message": "MISMATCH" if exc == "AssertionError" else "x",
          "where": "tb/x.py:1", "in_repo": True}}], "log_errors": []}}))
    sys.exit(1)
"""


def test_run_nodes_continues_past_non_kills_and_stops_at_a_kill(tmp_path, monkeypatch):
    script = FAKE_NODE.format(build=str(tmp_path), sanitize="(lambda n: __import__('sim.runner', fromlist=['x'])"
                              "._sanitize(n))")
    monkeypatch.setattr(mutate, "_pytest_base", lambda seed: [sys.executable, "-c", script])
    nodes = [f"tests/t.py::{k}" for k in ("crash", "hang", "slowbuild", "flaky", "kill", "never")]
    res = mutate.run_nodes(nodes, env={"PYTHONPATH": str(ROOT)}, build_root=tmp_path, log_dir=tmp_path / "logs",
                           jobs=1, test_seed=1, sim_limit=lambda n: 1.0, build_limit=2.0, stop_on_kill=True)
    assert [(r.nodeid.split("::")[1], r.status) for r in res] == [
        ("crash", C.CRASHED), ("hang", C.TIMEOUT), ("slowbuild", C.TIMEOUT), ("flaky", C.PASSED),
        ("kill", C.KILLED)]
    assert "simulation over" in res[1].evidence and "build over" in res[2].evidence
    assert C.mutant_verdict([r.status for r in res]) == C.KILLED


def test_only_accepts_sampled_ids(capsys):
    """--only takes the ids make mutate prints for sampled mutants too (any generated
    mutant, drawn or not), so a survivor can be rerun alone; named ids still work."""
    drawn = generate.sample(RTL, 5, 3)
    pick = [drawn[3].id, drawn[1].id]
    jobs = mutate.sampled_jobs(0, 1, ids=pick)
    assert [j.id for j in jobs] == pick and all(j.set == "sampled" and j.selections for j in jobs)
    undrawn = next(m for m in generate.all_mutants(RTL) if m.id not in {d.id for d in drawn})
    assert [j.id for j in mutate.sampled_jobs(0, 1, ids=[undrawn.id])] == [undrawn.id]
    with pytest.raises(SystemExit, match="no sampled mutant lookup/x.sv:rel:00000000"):
        mutate.sampled_jobs(0, 1, ids=["lookup/x.sv:rel:00000000"])
    assert mutate.is_sampled_id(drawn[0].id)
    assert not mutate.is_sampled_id("named:top_no_drain") and not mutate.is_sampled_id("top_no_drain")

    name = mutate.MUTATIONS[0].name
    assert mutate.main(["--list", "--sample", "60", "--only", pick[0], name]) == 0
    out = capsys.readouterr().out
    assert "named (1):" in out and f"named:{name}" in out
    assert "sampled (1):" in out and pick[0] in out and pick[1] not in out
    assert mutate.main(["--list", "--only", pick[1]]) == 0
    out = capsys.readouterr().out
    assert "named" not in out.split("sampled")[0] and pick[1] in out
