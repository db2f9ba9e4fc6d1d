"""Where training runs: the GPU when there is one (or the config names a device), else the CPU.

The app never trains on a GPU it does not have: ``device`` in a stage config is optional, and
"auto" (the default) picks CUDA only when torch sees it.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import ConcatDataset, get_worker_info


def pick_device(requested: str | None = "auto") -> torch.device:
    if requested in (None, "auto"):
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(requested)
    if device.type == "cuda":
        # Fixed-size training crops: let cuDNN pick its fastest kernels; TF32 costs no accuracy
        # that matters for a regression trained in float32 on noisy human scores.
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device


def to_device(batch: dict, device: torch.device) -> dict:
    non_blocking = device.type == "cuda"
    return {k: v.to(device, non_blocking=non_blocking) if torch.is_tensor(v) else v for k, v in batch.items()}


def reseed_worker(_worker_id: int) -> None:
    """DataLoader workers start with a copy of the dataset's numpy generator, so without this all
    of them would draw the same crops. torch gives each worker a seed derived from the loader's
    generator (checkpointed), so crops stay reproducible and resumable."""
    info = get_worker_info()
    rng = np.random.default_rng(info.seed % 2**32)
    dataset = info.dataset
    parts = list(dataset.datasets) if isinstance(dataset, ConcatDataset) else []
    for part in parts + [dataset]:
        if hasattr(part, "rng"):
            part.rng = rng
