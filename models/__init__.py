"""NumPy golden model of the recommendation-inference accelerator.

The numbers here define the bit-exact contract (docs/contracts.md); RTL and
testbenches are checked against them. Pure Python + NumPy, no cocotb.
"""

from .config import (
    BUILTINS,
    ConfigError,
    ModelConfig,
    TableConfig,
    builtin,
    load_config,
    save_config,
)
from .dlrm import DlrmWeights, dlrm_float, dlrm_infer, dlrm_weights
from .golden import float_infer, gather, golden_infer, mlp_forward, mlp_weights
from .quant import QuantModel, golden_infer_q, quantize
from .multihot import Bags, multihot_queries

__all__ = [
    "BUILTINS",
    "ConfigError",
    "ModelConfig",
    "TableConfig",
    "builtin",
    "load_config",
    "save_config",
    "Bags",
    "DlrmWeights",
    "dlrm_float",
    "dlrm_infer",
    "dlrm_weights",
    "multihot_queries",
    "float_infer",
    "gather",
    "golden_infer",
    "mlp_forward",
    "mlp_weights",
    "QuantModel",
    "golden_infer_q",
    "quantize",
]
