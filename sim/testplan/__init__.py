"""`python -m sim.testplan`: the testplan and each feature's status from test results.

The testplan's one source is docs/testplan.toml (one ``[[feature]]`` per
feature of docs/design.md: the tests that check it as pytest node-id
patterns, optionally naming one cocotb test, and its functional coverage
points). docs/testplan.md is generated from it (``--write-md``).

Status of every feature from results (default: the newest of
build/test-results.xml and build/regress/*/junit.xml):

  * pytest JUnit XML (``pytest --junitxml``, also what ``make regress``
    writes): one testcase per pytest node id, e.g.
    ``tests/test_top.py::test_top_tiny[seed1-TopZipfTest]``;
  * the per-simulation cocotb results, build/tests/<node id>/results.xml
    (sim/runner.py names the directory after the sanitized node id), so a
    pattern ``file::function::CocotbTest`` is judged by that cocotb test's
    own result. With a JUnit file only the ones written during that pytest
    run count (by file time); without one, every directory counts.

A feature is PASS when every listed test matched a result and all passed,
FAIL when any matched result failed, NOT RUN when a listed test matched no
result (e.g. a profile deselected it). Prints a Markdown table and writes
build/testplan_status.md and .json. Exit 1 on any FAIL (and, with
``--require-all``, on any NOT RUN).

``--check``: docs/testplan.md is up to date and every pattern names a test
that exists (``pytest --collect-only``; a cocotb name must be a
``@pyuvm.test`` class or ``@cocotb.test`` function in tb/); RTL tests no
feature lists are warnings. Exit 1 on any error.

:func:`feature_coverage` maps merged functional coverage (``{group: {point:
{bin: count}}}``, sim/coverage.py) onto the features.
"""
from __future__ import annotations

from .plan import *      # noqa: F401,F403 - the package's face: plan, results, report, CLI
from .plan import _strip_seed  # noqa: F401
from .report import *    # noqa: F401,F403
from .results import *   # noqa: F401,F403


def main(argv=None) -> int:
    from .__main__ import main as _main
    return _main(argv)
