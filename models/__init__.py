"""Torch model code for MobileIQA: backbones, LDA, MAL, the registered networks and their configs.

Two architectures, one file each, registered by name (``list_models()``):
    mobileiqa        models/mobileiqa.py                  MobileIQANet, the product's network
    paper_mobileiqa  models/reference/paper_mobileiqa.py  PaperMobileIQANet, the authors' (benchmarks)
Configs are data (models/configs.py: ``student``, ``teacher``, ``paper``); ``create_model`` builds
one from a config name, an ``IQAConfig`` or an architecture name, ``load_checkpoint`` rebuilds a
training checkpoint. Knows nothing of the app or of training loops.
"""
from .base import CONTRACT_OUTPUTS, IQANetBase, contract_outputs, count_parameters
from .configs import CONFIGS, IQAConfig, get_config
from .mal import view_diversity_loss
from .mobileiqa import MobileIQANet
from .reference.paper_mobileiqa import PaperMobileIQANet
from .registry import create_model, list_models, load_checkpoint, register_model

# The single class every network used to be; kept as a name for the type all of them share.
IQANet = IQANetBase

__all__ = [
    "CONFIGS",
    "CONTRACT_OUTPUTS",
    "IQAConfig",
    "IQANet",
    "IQANetBase",
    "MobileIQANet",
    "PaperMobileIQANet",
    "contract_outputs",
    "count_parameters",
    "create_model",
    "get_config",
    "list_models",
    "load_checkpoint",
    "register_model",
    "view_diversity_loss",
]
