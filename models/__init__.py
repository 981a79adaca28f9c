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
from .golden import float_infer, gather, golden_infer, mlp_forward, mlp_weights
from .quant import QuantModel, golden_infer_q, quantize

__all__ = [
    "BUILTINS",
    "ConfigError",
    "ModelConfig",
    "TableConfig",
    "builtin",
    "load_config",
    "save_config",
    "float_infer",
    "gather",
    "golden_infer",
    "mlp_forward",
    "mlp_weights",
    "QuantModel",
    "golden_infer_q",
    "quantize",
]
