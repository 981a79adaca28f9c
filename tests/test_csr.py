"""The CSR block: generated files in sync with the .rdl, and the pyuvm bench
of rtl/csr/microrec_csr.sv (tb/csr)."""
from __future__ import annotations

import pytest

from sim import csr_gen
from tb.csr.dut import BENCH, CsrBuild

TESTS = ["CsrIdTest", "CsrRwTest", "CsrPulseTest", "CsrDescTest", "CsrStatusTest", "CsrPerfHiResetTest", "CsrErrTest",
         "CsrBadAccessTest"]


def test_csr_generated_files_match_rdl():
    """`python -m sim.csr_gen --check`: checked-in outputs equal a fresh generation."""
    problems = csr_gen.check()
    assert not problems, "\n".join(problems) + "\nrun `python -m sim.csr_gen` and commit"


@pytest.mark.rtl
def test_csr(seed):
    # all tests in one simulator run: the build is shared and each is short
    result = BENCH.run(CsrBuild(), TESTS, seed, name="csr")
    assert result.tests == len(TESTS)


# Each define breaks the wrapper in one way; the bench must notice.
INJECTED_BUGS = ["MICROREC_CSR_BUG_SWAP_DESC_WORDS"]


@pytest.mark.rtl
@pytest.mark.mutant
@pytest.mark.parametrize("bug", INJECTED_BUGS)
def test_csr_injected_bug_is_caught(bug, seed):
    result = BENCH.run(CsrBuild(), "CsrAllTest", seed, defines={bug: 1},
                       expect_fail=True, expect_in_log="MISMATCH", coverage=False)
    assert result.failed >= 1
