"""The training loop every stage shares: optimiser, schedule, validation, checkpoints, logs.

A stage supplies the model, the data and a loss function; ``fit`` does the rest:
- AdamW with a lower learning rate for the backbone than for the new head, linear warm-up then
  cosine decay;
- one checkpoint per epoch (``last.pt``, written atomically) and the best one by validation
  SRCC (``best.pt``); a rerun with the same output folder resumes from ``last.pt``, exactly:
  the checkpoint keeps every generator (Python's, NumPy's, torch's CPU and CUDA ones, the
  loader's and the dataset's), so 2 + 2 epochs end with the weights of 4;
- after timm's train.py: ``train_one_epoch`` trains, ``validate_fn`` (by default ``validate``)
  measures, and the driver (``_fit``) owns the loader, optimiser, schedule and checkpoints;
- ``history.csv`` and ``curves.png`` (loss and validation SRCC/PLCC per epoch), ``train.log``.
"""
from __future__ import annotations

import csv
import logging
import math
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from .atomic import atomic_path
from .curves import plot_curves
from .device import pick_device, reseed_worker, to_device
from .metrics import iqa_metrics

log = logging.getLogger(__name__)

LossFn = Callable[[nn.Module, dict], dict[str, torch.Tensor]]


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def param_groups(model: nn.Module, lr_backbone: float, lr_head: float, weight_decay: float) -> list[dict]:
    backbone, head = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (backbone if name.startswith("backbone.") else head).append(p)
    return [
        {"params": backbone, "lr": lr_backbone, "weight_decay": weight_decay},
        {"params": head, "lr": lr_head, "weight_decay": weight_decay},
    ]


def warmup_cosine(total_steps: int, warmup_steps: int, floor: float = 0.02) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def keep_frozen_norms_in_eval(model: nn.Module) -> None:
    """Frozen layers keep their ImageNet BatchNorm statistics instead of drifting."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in m.parameters()):
            m.eval()


def save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(model: nn.Module, dataset: Dataset) -> np.ndarray:
    """Scores (0-100) for every item, one full-size image at a time."""
    model.eval()
    device = model_device(model)
    return np.array([float(model(dataset[i]["image"][None].to(device))["score"][0]) for i in range(len(dataset))])


def validate(model: nn.Module, dataset: Dataset) -> dict[str, float]:
    mos = np.array([float(dataset[i]["mos"]) * 100 for i in range(len(dataset))])
    return iqa_metrics(predict(model, dataset), mos)


def fit(
    model: nn.Module,
    cfg: dict,
    train_set: Dataset,
    val_set: Dataset | None,
    out_dir: Path,
    loss_fn: LossFn,
    card_info: dict | None = None,
    collate=None,
    extra: nn.Module | None = None,
    validate_fn: Callable[[nn.Module], dict[str, float]] | None = None,
    select_by: str = "val_srcc",
    batch_sampler=None,
) -> list[dict]:
    """Train ``model`` per ``cfg`` (epochs, batch_size, lr_backbone, lr_head, weight_decay,
    warmup_epochs, seed, stop_after, time_limit_s, device, num_workers); resume from
    ``out_dir/last.pt`` when it exists.

    ``extra``: modules trained alongside the model at the head's learning rate but not part of
    it (distillation adapters); checkpointed under "extra", never exported.
    ``validate_fn``: replaces MOS validation on ``val_set``; its figures are logged as ``val_*``
    and ``select_by`` names the one (higher is better) that picks ``best.pt``.
    ``batch_sampler``: a function of the loader's generator returning a batch sampler, for stages
    that choose which items share a batch (one dataset per batch)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("training")
    level = logger.level
    logger.setLevel(logging.INFO)  # train.log keeps every epoch, whatever the caller logs
    logger.addHandler(handler)
    try:
        if validate_fn is None and val_set is not None and len(val_set) >= 3:
            validate_fn = lambda m: validate(m, val_set)
        return _fit(model, cfg, train_set, out_dir, loss_fn, card_info or {}, collate, extra, validate_fn, select_by,
                    batch_sampler)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def train_one_epoch(model: nn.Module, loader: DataLoader, loss_fn: LossFn, optimiser: torch.optim.Optimizer,
                    scheduler, device: torch.device, step: int, extra: nn.Module | None = None,
                    desc: str = "") -> tuple[dict[str, float], int]:
    """One pass over ``loader``, an optimiser and scheduler step per batch. Returns each loss's
    mean over the epoch (``loss_<name>``) and the step reached."""
    model.train()
    keep_frozen_norms_in_eval(model)
    if extra is not None:
        extra.train()
    sums: dict[str, float] = {}
    bar = tqdm(loader, desc=desc, leave=False, dynamic_ncols=True)
    for batch in bar:
        losses = loss_fn(model, to_device(batch, device))
        optimiser.zero_grad(set_to_none=True)
        losses["total"].backward()
        optimiser.step()
        scheduler.step()
        step += 1
        for k, v in losses.items():  # kept on the device: reading a GPU value waits for it
            sums[k] = sums.get(k, 0.0) + v.detach()
        if step % 10 == 0:
            bar.set_postfix(loss=f"{float(losses['total'].detach()):.4f}")
    return {f"loss_{k}": float(v) / len(loader) for k, v in sums.items()}, step


def rng_states(loader_rng: torch.Generator, train_set: Dataset) -> dict:
    """Every generator a run draws from, as a checkpoint keeps them: Python's ``random``, NumPy's
    global one, torch's CPU and CUDA ones, the loader's (the shuffle) and the dataset's own
    (crops and flips). Plain values and tensors only, so a checkpoint loads with weights_only."""
    numpy_state = np.random.get_state(legacy=False)
    return {
        "python_rng": random.getstate(),
        "numpy_rng": {**numpy_state, "state": {"key": numpy_state["state"]["key"].tolist(),
                                                "pos": numpy_state["state"]["pos"]}},
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "loader_rng": loader_rng.get_state(),
        "data_rng": train_set.rng.bit_generator.state if hasattr(train_set, "rng") else None,
    }


def restore_rng_states(ckpt: dict, loader_rng: torch.Generator, train_set: Dataset) -> None:
    """Continue every generator where the checkpoint left it (``rng_states``); a checkpoint from
    before Python's, NumPy's and CUDA's states were kept leaves those as seeded."""
    if ckpt.get("python_rng") is not None:
        version, internal, gauss = ckpt["python_rng"]
        random.setstate((version, tuple(internal), gauss))
    if ckpt.get("numpy_rng") is not None:
        state = ckpt["numpy_rng"]
        np.random.set_state({**state, "state": {"key": np.array(state["state"]["key"], dtype=np.uint32),
                                                "pos": state["state"]["pos"]}})
    torch.set_rng_state(ckpt["torch_rng"])
    if ckpt.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
    loader_rng.set_state(ckpt["loader_rng"])
    if ckpt.get("data_rng") and hasattr(train_set, "rng"):
        train_set.rng.bit_generator.state = ckpt["data_rng"]


def _loader(train_set: Dataset, cfg: dict, device: torch.device, gen: torch.Generator, collate,
            batch_sampler) -> DataLoader:
    workers = cfg.get("num_workers", 0)
    batching = ({"batch_sampler": batch_sampler(gen)} if batch_sampler else
                {"batch_size": cfg["batch_size"], "shuffle": True, "drop_last": True, "generator": gen})
    loader = DataLoader(train_set, **batching, collate_fn=collate, num_workers=workers,
                        worker_init_fn=reseed_worker if workers else None, pin_memory=device.type == "cuda")
    if len(loader) == 0:
        raise ValueError(f"{len(train_set)} training samples is fewer than one batch of {cfg['batch_size']}")
    return loader


def _optimiser(model: nn.Module, extra: nn.Module | None, cfg: dict, steps_per_epoch: int):
    """AdamW (backbone and head learning rates; ``extra`` at the head's) and its warm-up + cosine schedule."""
    groups = param_groups(model, cfg["lr_backbone"], cfg["lr_head"], cfg.get("weight_decay", 1e-4))
    if extra is not None:
        groups[1]["params"] += [p for p in extra.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(groups)
    warmup = int(cfg.get("warmup_epochs", 1) * steps_per_epoch)
    total = steps_per_epoch * cfg["epochs"]
    return optimiser, torch.optim.lr_scheduler.LambdaLR(optimiser, warmup_cosine(total, max(1, warmup)))


def _fit(model, cfg, train_set, out_dir, loss_fn, card_info, collate, extra, validate_fn, select_by, batch_sampler) -> list[dict]:
    """The driver: the loader, optimiser and schedule, resuming from ``last.pt``, then per epoch
    ``train_one_epoch``, validation (``validate_fn``) and the checkpoints."""
    set_seed(cfg.get("seed", 0))
    device = pick_device(cfg.get("device"))
    model.to(device)
    if extra is not None:
        extra.to(device)
    gen = torch.Generator().manual_seed(cfg.get("seed", 0))
    loader = _loader(train_set, cfg, device, gen, collate, batch_sampler)
    steps_per_epoch = len(loader)
    optimiser, scheduler = _optimiser(model, extra, cfg, steps_per_epoch)

    history: list[dict] = []
    start_epoch, step = 0, 0
    best = -math.inf
    last = out_dir / "last.pt"
    if last.exists():
        ckpt = torch.load(last, map_location="cpu", weights_only=True)
        model.load_state_dict(ckpt["model"])
        if extra is not None:
            extra.load_state_dict(ckpt["extra"])
        optimiser.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        start_epoch, step, history = ckpt["epoch"], ckpt["step"], list(ckpt["history"])
        best = max((h.get(select_by, -math.inf) for h in history), default=-math.inf)
        restore_rng_states(ckpt, gen, train_set)
        log.info("resumed from %s at epoch %d (step %d)", last, start_epoch, step)

    # ``stop_after`` ends this run early (time-boxed machines); rerunning the command resumes.
    # ``time_limit_s`` does the same by the clock: no epoch starts that would not end in time.
    end_epoch = min(cfg["epochs"], cfg.get("stop_after") or cfg["epochs"])
    started, limit = time.time(), cfg.get("time_limit_s")
    for epoch in range(start_epoch, end_epoch):
        if stale_epochs(history, select_by) >= (cfg.get("patience") or math.inf):
            log.info("stopped early: no better %s for %d epochs (best: epoch %d)", select_by, cfg["patience"],
                     len(history) - stale_epochs(history, select_by))
            break
        if limit and history and time.time() - started + history[-1]["seconds"] > limit:
            log.info("time limit of %d s reached after epoch %d of %d; rerun to resume", limit, epoch, cfg["epochs"])
            break
        t0 = time.time()
        losses, step = train_one_epoch(model, loader, loss_fn, optimiser, scheduler, device, step, extra,
                                       desc=f"epoch {epoch + 1}/{cfg['epochs']}")
        row = {"epoch": epoch + 1, "step": step, **losses}
        if validate_fn is not None:
            row.update({f"val_{k}": float(v) for k, v in validate_fn(model).items()})
        row["seconds"] = round(time.time() - t0, 1)  # training and validation
        history.append(row)
        log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        state = {
            "config": model.config.to_dict(),
            "model": model.state_dict(),
            "extra": extra.state_dict() if extra is not None else None,
            "optimizer": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch + 1,
            "step": step,
            "history": history,
            "stage": dict(cfg),
            # Every generator, taken after validation (which may draw too): the resumed run
            # continues each one where this epoch left it.
            **rng_states(gen, train_set),
            "card_info": card_info,
        }
        figure = row.get(select_by, -math.inf)
        if not math.isnan(figure) and figure > best:
            best = figure
            save_checkpoint(out_dir / "best.pt", state)
        save_checkpoint(last, state)
        write_history(out_dir, history)
    if not (out_dir / "best.pt").exists():  # no validation: the last epoch is the result
        save_checkpoint(out_dir / "best.pt", torch.load(last, map_location="cpu", weights_only=True))
    return history


def stale_epochs(history: list[dict], select_by: str) -> int:
    """Epochs since the best one by ``select_by`` (0 when the last is the best, or none was
    validated). ``patience`` in a stage's config stops a run after that many: a fine-tune on a
    few hundred photos peaked at epoch 1-4 and then only over-fitted, for up to 8 more minutes."""
    figures = [h.get(select_by, math.nan) for h in history]
    scored = [(f, i) for i, f in enumerate(figures) if not math.isnan(f)]
    if not scored:
        return 0
    best = max(scored, key=lambda fi: (fi[0], -fi[1]))[1]  # the first of equal figures, as best.pt keeps it
    return len(history) - 1 - best


def write_history(out_dir: Path, history: list[dict]) -> None:
    keys = sorted({k for row in history for k in row}, key=lambda k: (k not in ("epoch", "step", "seconds"), k))
    with atomic_path(out_dir / "history.csv") as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    plot_curves(history, out_dir / "curves.png")
