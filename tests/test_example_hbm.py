"""The "use the HBM model in your own bench" example (examples/hbm_in_your_bench) runs.

In `make test` from this checkout; the same after `pip install -e .` into a fresh
virtual environment outside the repository is marked ``install`` (minutes of
pip): `make regress PROFILE=nightly` runs it, `make test` does not."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hbm_in_your_bench"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "PYTHONPATH")}
    env.update(extra)
    return env


@pytest.mark.app
def test_example_runs_from_the_checkout(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLE / "run_example.py"), "--build-dir", str(ROOT / "build" / "examples")],
                          cwd=tmp_path, env=_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0 and "example: 1 test(s) passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.install
def test_example_runs_after_pip_install_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], env=_env(),
                         capture_output=True, text=True, timeout=3600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "project"
    shutil.copytree(EXAMPLE, work / "hbm_in_your_bench")
    proc = subprocess.run([str(venv / "bin" / "python"), "run_example.py"], cwd=work / "hbm_in_your_bench",
                          env=_env(), capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0 and "example: 1 test(s) passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
