"""Use the HBM memory model in your own bench: build my_harness.sv with the
model's file list and run the cocotb test. Works from a checkout or after
`pip install -e <repo>` in another project's virtual environment:

    python run_example.py [--build-dir DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(Path.cwd() / "build"), help="where the simulator is built")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    os.environ.setdefault("MICROREC_BUILD", args.build_dir)       # read by sim.toolchain at import
    sys.path.insert(0, str(HERE))                                  # the test module, for the simulator

    from sim.filelist import read_filelist
    from sim.runner import Dut, SimFailure, run_test
    from tb.hbm.regs import MODEL_FILELIST

    model = read_filelist(MODEL_FILELIST)                          # hbm_pkg, hbm_channel, hbm_mem_model
    dut = Dut(name="my_harness", toplevel="my_harness",
              sources=(*model.sources, HERE / "my_harness.sv"), includes=tuple(model.includes),
              ports_only=True)
    try:
        res = run_test(dut, "test_my_harness", seed=args.seed, name="my_harness_example")
    except SimFailure as exc:
        print(exc)
        return 1
    print(f"example: {res.tests} test(s) passed; log {res.log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
