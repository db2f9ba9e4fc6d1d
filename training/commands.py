"""Sub-commands of ``python -m training``; each registers its own arguments and runner: the stages
(``stage_commands``), tools for exported models (``model_commands``, ``reader_commands``) and the site's fine-tune
(``site_commands``)."""
from __future__ import annotations

from .model_commands import (register_annotate, register_evaluate, register_evaluate_synthetic, register_export,
                             register_graft_stages, register_split)
from .reader_commands import register_exposure_reader, register_reading_rule, register_sharpness_reader
from .site_commands import register_finetune
from .stage_commands import (register_damage, register_distill, register_joint, register_pretrain, register_scale,
                             register_teacher, register_top)

# The order of `python -m training --help`: the recipe's stages first, then the tools.
REGISTRY = [
    register_pretrain, register_teacher, register_joint, register_top, register_distill, register_scale, register_damage, register_export, register_evaluate,
    register_evaluate_synthetic, register_split, register_annotate, register_finetune, register_exposure_reader,
    register_sharpness_reader, register_reading_rule, register_graft_stages,
]
