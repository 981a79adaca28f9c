"""HBM/DDR AXI memory model: Python side (the SV model is tb/hdl/hbm_mem_model.sv).

See README.md in this folder for ports, registers and the API.
"""
from .config import HbmConfig, HbmTiming, ddr4, ideal, preset, u280
from .memory import (HbmCoverage, HbmMemory, HbmMemoryAgent, HbmProtocolError, HbmStats, HbmTxn,
                     HbmViolation)
from .regions import HbmRegion, expected_bytes, layout
from .regs import HARNESS_SOURCES, MODEL_SOURCES

__all__ = ["HbmConfig", "HbmTiming", "ddr4", "ideal", "preset", "u280", "HbmCoverage", "HbmMemory",
           "HbmMemoryAgent", "HbmProtocolError", "HbmStats", "HbmTxn", "HbmViolation", "HbmRegion",
           "expected_bytes", "layout", "HARNESS_SOURCES", "MODEL_SOURCES"]
