"""Torch model code for MobileIQA: backbones, LDA, MAL, the IQA network and its configs.

Knows nothing of the app or of training loops.
"""
from .configs import CONFIGS, IQAConfig, get_config
from .iqa_net import (
    CONTRACT_OUTPUTS,
    IQANet,
    count_parameters,
    contract_outputs,
    create_model,
    load_checkpoint,
)
from .mal import view_diversity_loss

__all__ = [
    "CONFIGS",
    "CONTRACT_OUTPUTS",
    "IQAConfig",
    "IQANet",
    "contract_outputs",
    "count_parameters",
    "create_model",
    "get_config",
    "load_checkpoint",
    "view_diversity_loss",
]
