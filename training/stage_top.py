"""Stage ``top``: retrain the network's top on a frozen trunk's cached features (``trunk_cache``).

The whole student learns BIQ2021 within one epoch, but at ~30 min per epoch on 2 CPU cores, and
on crops where its raters judged whole photos. Here the trunk is run once per photo (the cache)
and the top (last blocks, LDA, MAL, fusion) trains on whole 512-px photos, several epochs an hour:
- rated photos, every batch from one dataset; L1 only on the anchor's MOS (the score's scale),
  batch PLCC and pairwise ranking on every dataset; ``repeat`` gives a small dataset more batches;
- synthetic ladders of clean photos as the overview reads them (long side 512): each damage kind's
  levels in order (ranking) and the verdict hinges (clean above the pass line, from each kind's
  heavy level on below the fail line), so the default thresholds mean something.
Validation: every dataset's own held-out photos (the joint stage's split), and its subsets;
``best.pt`` has the best mean SRCC over the datasets, or with ``select: last`` the last epoch (for
the detail reader's views, whose one rated dataset barely moves while its verdicts improve).
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from torch.utils.data import Dataset

from models.configs import IQAConfig

from .aux_synthetic import HEAVY_FROM
from .data.cache_rows import ladder_rows, rated_rows, tile_rows
from .data.mixed import list_images
from .data.rated_sets import RatedSet, SameDatasetBatches
from .data.synthetic import DISTORTIONS
from .loop import fit
from .losses import ranking_loss, rated_batch_losses, verdict_loss
from .metrics import iqa_metrics
from .onnx_views import ViewsHead, graph_card, load_graph, views_from_onnx, with_grid_output, write_views
from .stage_joint import val_fraction_of
from .stage_mos import build_model, store_best_metrics
from .teacher_labels import TeacherTargets
from .trunk_cache import TrunkCache, build_cache, freeze_trunk, top_stages

log = logging.getLogger(__name__)


def build_top_cache(features, mean, std, sets: list[RatedSet], cfg: dict, pristine: list[Path], out: Path,
                    side: int = 512, tiles: tuple[int, int] | None = None, tile_sides: tuple[int, ...] = (0,)) -> dict:
    """Two caches under ``out``: ``rated`` (whole photos at the overview's size) and ``ladders``:
    the clean photos at the overview's size, or with ``tiles`` (tile, count) the native tiles the
    detail reader reads. ``features`` is what is kept of each photo (``trunk_cache.torch_trunk``,
    or a graph's LDA grid: ``views_features``). Returns how many rows each cache holds."""
    counts = {"rated": build_cache(features, mean, std, list(rated_rows(sets, cfg, side)), out / "rated", side)}
    if pristine:
        seed = cfg.get("seed", 0)
        if tiles:
            saved = cfg.get("saved_jpeg_quality")
            rows = list(tile_rows(list_images(pristine), *tiles, seed=seed, sides=tile_sides,
                                  saved_quality=tuple(saved) if saved else None))
            counts["ladders"] = build_cache(features, mean, std, rows, out / "ladders", tiles[0])
        else:
            rows = list(ladder_rows(pristine, side, seed))
            counts["ladders"] = build_cache(features, mean, std, rows, out / "ladders", side)
    return counts


def views_features(onnx_path: Path, threads: int = 0):
    """The LDA grid a graph's views read, computed by ONNX Runtime (``onnx_views``)."""
    import onnxruntime as ort

    graph = with_grid_output(load_graph(onnx_path))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda image: [session.run(["grid"], {"image": image.numpy()})[0][0]]


class CachedRated(Dataset):
    """The training rows of a rated cache; ``repeat`` {dataset: k} lists a dataset's rows k times;
    ``crop_cells`` (grid cells of the trunk's last stage) cuts a random square of the features,
    as an image crop of ``crop_cells`` x its stride pixels would (cheaper steps, some variety);
    ``train_on`` keeps only these datasets' rows (the others are then validated on only)."""

    def __init__(self, cache: TrunkCache, anchor: str, repeat: dict[str, int], crop_cells: int = 0, seed: int = 0,
                 train_on: list[str] | None = None):
        self.cache = cache
        self.ids = [i for i, r in enumerate(cache.rows) if r["split"] == "train"
                    and (train_on is None or r["dataset"] in train_on)
                    for _ in range(repeat.get(r["dataset"], 1))]
        self.anchor = anchor
        self.crop_cells = crop_cells
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.ids)

    def groups(self) -> list[str]:
        return [self.cache.rows[i]["dataset"] for i in self.ids]

    def __getitem__(self, n: int) -> dict:
        i = self.ids[n]
        row = self.cache.rows[i]
        stages, h, w = [s[0] for s in self.cache.stages([i])], row["h"], row["w"]
        if self.crop_cells:
            stages, h, w = self.crop(stages, h, w)
        return {"stages": stages, "mos": torch.tensor(row["mos"] / 100.0), "row": i,
                "anchor": torch.tensor(row["dataset"] == self.anchor), "h": h, "w": w}

    def crop(self, stages: list[torch.Tensor], h: int, w: int) -> tuple[list[torch.Tensor], int, int]:
        cells = self.crop_cells
        last = stages[-1].shape[-1]  # the cache's square, in the last cached stage's cells
        stride = self.cache.side // last
        top = int(self.rng.integers(0, max(0, h // stride - cells) + 1))
        left = int(self.rng.integers(0, max(0, w // stride - cells) + 1))
        cut = []
        for s in stages:
            f = s.shape[-1] // last  # this stage's cells per last-stage cell
            cut.append(s[:, top * f:(top + cells) * f, left * f:(left + cells) * f])
        return cut, cells * stride, cells * stride


def forward_cached(model, stages: list[torch.Tensor], h: int, w: int) -> dict:
    """The model's outputs from the cached features of photos whose valid size is (h, w)."""
    if isinstance(model, ViewsHead):  # the cache holds the LDA grid of the padded square
        s = model.config.grid_stride
        return model(stages[0][:, :, : (h + s - 1) // s, : (w + s - 1) // s])
    return model.forward_from_stages(top_stages(model.backbone, stages), h, w)


class Ladders:
    """Draws synthetic ladders (one photo, one kind, clean + every level) from a ladder cache."""

    def __init__(self, cache: TrunkCache, seed: int, heavy_from: dict[str, int]):
        self.cache = cache
        self.clean = {r["photo"]: i for i, r in enumerate(cache.rows) if not r["kind"]}
        self.levels: dict[tuple[str, str], list[int]] = {}
        for i, r in enumerate(cache.rows):
            if r["kind"]:
                self.levels.setdefault((r["photo"], r["kind"]), []).append(i)
        self.keys = sorted(k for k in self.levels if k[0] in self.clean)
        self.rng = np.random.default_rng(seed + 11)
        self.heavy_from = {kind: int(heavy_from.get(kind, 4)) for kind in DISTORTIONS}

    def ladder(self, key: tuple[str, str]) -> tuple[list[int], int]:
        ids = [self.clean[key[0]]] + sorted(self.levels[key], key=lambda i: self.cache.rows[i]["level"])
        return ids, self.heavy_from[key[1]]

    def draw(self) -> tuple[list[int], int]:
        return self.ladder(self.keys[self.rng.integers(len(self.keys))])


def ladder_scores(model, ladders: Ladders, ids: list[int], device) -> torch.Tensor:
    row = ladders.cache.rows[ids[0]]
    stages = [s.to(device) for s in ladders.cache.stages(ids)]
    return forward_cached(model, stages, row["h"], row["w"])["score"] / 100.0


@torch.no_grad()
def score_rows(model, cache: TrunkCache, ids, batch: int = 32) -> dict[int, float]:
    """The model's score (0-100) of each cached row in ``ids``, read whole: {row: score}."""
    model.eval()
    device = next(model.parameters()).device
    ids, pred = list(ids), {}
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        for h, w in {(cache.rows[i]["h"], cache.rows[i]["w"]) for i in chunk}:  # one pass per valid size
            same = [i for i in chunk if (cache.rows[i]["h"], cache.rows[i]["w"]) == (h, w)]
            stages = [s.to(device) for s in cache.stages(same)]
            pred.update(zip(same, forward_cached(model, stages, h, w)["score"].cpu().numpy().tolist()))
    return pred


@torch.no_grad()
def validate_cached(model, cache: TrunkCache, ladders: Ladders | None, pass_line: float, fail_line: float,
                    batch: int = 32, trained_on: list[str] | None = None) -> dict[str, float]:
    """SRCC/PLCC per dataset and subset on the cache's held-out rows (``srcc``: their mean over the
    datasets ``trained_on``, default all: a dataset the top never trained on is a cross-dataset
    figure, never what picks an epoch), and the share of the training ladders' clean photos above
    the pass line and heavy copies below the fail line (a check of the hinge on photos it trains
    on, not a held-out figure)."""
    model.eval()
    device = next(model.parameters()).device
    val = [i for i, r in enumerate(cache.rows) if r["split"] == "val"]
    pred = score_rows(model, cache, val, batch)
    figures: dict[str, float] = {}
    datasets = sorted({cache.rows[i]["dataset"] for i in val})
    for name in datasets:
        ids = [i for i in val if cache.rows[i]["dataset"] == name]
        p, mos = np.array([pred[i] for i in ids]), np.array([cache.rows[i]["mos"] for i in ids])
        for k, v in iqa_metrics(p, mos).items():
            figures[f"{name}_{k}"] = v
        for subset in sorted({cache.rows[i]["subset"] for i in ids} - {""}):
            keep = np.array([cache.rows[i]["subset"] == subset for i in ids])
            figures[f"{name}_{subset}_srcc"] = iqa_metrics(p[keep], mos[keep])["srcc"]
    chosen_by = [n for n in datasets if trained_on is None or n in trained_on]
    figures["srcc"] = float(np.mean([figures[f"{n}_srcc"] for n in chosen_by]))
    figures["plcc"] = float(np.mean([figures[f"{n}_plcc"] for n in chosen_by]))
    if ladders is not None:
        clean, heavy = [], []
        for key in ladders.keys:
            ids, heavy_from = ladders.ladder(key)
            scores = ladder_scores(model, ladders, ids, device).cpu().numpy()
            clean.append(scores[0] >= pass_line)
            if heavy_from:
                heavy += list(scores[heavy_from:] < fail_line)
        figures["train_ladders_clean_pass"] = float(np.mean(clean))
        figures["train_ladders_heavy_fail"] = float(np.mean(heavy))
    return figures


def run_top_stage(cfg: dict, cache_dir: Path, anchor: str, out_dir: Path) -> list[dict]:
    """Train the top of ``cfg['init']``'s network on the caches in ``cache_dir``."""
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    if cfg.get("views_onnx"):
        model = views_from_onnx(load_graph(Path(cfg["views_onnx"])), views_config(cfg))
    else:
        model = build_model(cfg)
        freeze_trunk(model)
    if cfg.get("train") == "views" and not cfg.get("views_onnx"):
        # Only the MAL views and the fusion learn: the features (and a damage head reading them,
        # whose maps were judged on their own) stay exactly as they were.
        for module in (model.backbone, model.lda, getattr(model, "damage_head", None)):
            for p in module.parameters() if module is not None else ():
                p.requires_grad_(False)
    # Read into memory by default (fastest); mapped, two runs on one cache share the page cache
    # instead of holding a copy each (BIQ2021's is 7 GB).
    rated = TrunkCache(cache_dir / "rated", in_memory=cfg.get("cache_in_memory", True))
    cached = {r["dataset"] for r in rated.rows}
    train_on = cfg.get("train_on")  # None: every cached dataset
    if train_on is not None and not set(train_on) <= cached:
        raise ValueError(f"train_on {sorted(set(train_on) - cached)} is not among the cached datasets {sorted(cached)}")
    if anchor not in (train_on or cached):
        raise ValueError(f"the anchor {anchor!r} is none of the datasets trained on")
    train_set = CachedRated(rated, anchor, cfg.get("repeat", {}), cfg.get("crop_cells", 0), cfg.get("seed", 0),
                            train_on)
    synth = cfg.get("synthetic", {})
    ladders = None
    if (cache_dir / "ladders").exists() and synth.get("groups", 0):
        ladders = Ladders(TrunkCache(cache_dir / "ladders"), cfg.get("seed", 0), HEAVY_FROM | synth.get("heavy_from", {}))
    weights = cfg["loss"]
    pass_line, fail_line = synth.get("pass_line", 0.65), synth.get("fail_line", 0.35)
    teacher = TeacherTargets(cfg, rated, train_set.ids, ladders)

    def loss_fn(m, batch):
        h, w = int(batch["h"].min()), int(batch["w"].min())  # a batch's photos share one valid size or are cut to it
        out = forward_cached(m, batch["stages"], h, w)
        terms = rated_batch_losses(out, batch["mos"], bool(batch["anchor"][0]), weights)
        teacher.add_rated(terms, out["score"] / 100.0, batch["row"])
        if ladders is not None:
            device = batch["mos"].device
            rank, verdict = [], []
            for _ in range(synth["groups"]):
                ids, heavy_from = ladders.draw()
                scores = ladder_scores(m, ladders, ids, device)[None]
                teacher.add_ladder(scores[0], ids)
                rank.append(ranking_loss(scores))
                verdict.append(verdict_loss(scores, torch.tensor([heavy_from], device=device), pass_line, fail_line))
            terms["synth_rank"], terms["synth_verdict"] = torch.stack(rank).mean(), torch.stack(verdict).mean()
            terms["total"] = terms["total"] + synth.get("rank", 0.5) * terms["synth_rank"] \
                + synth.get("verdict", 1.0) * terms["synth_verdict"]
        return teacher.finish(terms)

    datasets = sorted(train_on or cached)
    card_info = {"training": {
        "data": f"rated photos cached in {cache_dir} ({len(train_set)} training rows, datasets {datasets}); "
                f"synthetic ladders of {sorted(ladders.clean) if ladders else []}",
        "recipe": f"stage top (frozen trunk of {cfg.get('init')}, top retrained on whole 512-px photos"
                  f"{teacher.described()}): {json.dumps(cfg, sort_keys=True)}",
        "score_scale": f"the MOS scale of {anchor}, on 0-100",
    }}
    history = fit(model, cfg, train_set, None, out_dir, loss_fn, card_info,
                  validate_fn=lambda m: validate_cached(m, rated, ladders, pass_line, fail_line, trained_on=train_on),
                  batch_sampler=lambda gen: SameDatasetBatches(train_set.groups(), cfg["batch_size"], gen))
    if cfg.get("select") == "last":  # a fixed schedule: the last epoch is the result, chosen by nothing
        shutil.copyfile(out_dir / "last.pt", out_dir / "best.pt")
    store_best_metrics(out_dir, cfg, split="; ".join(
        f"{val_fraction_of(cfg, n):.0%} of {n} (by subset), seed {cfg.get('split_seed', 0)}" for n in datasets))
    if cfg.get("views_onnx"):  # the graph itself, its views retrained, is the result
        model.load_state_dict(torch.load(out_dir / "best.pt", weights_only=True)["model"])
        onnx.save(write_views(load_graph(Path(cfg["views_onnx"])), model), str(out_dir / "views.onnx"))
    return history


def views_config(cfg: dict) -> IQAConfig:
    """The network config of the graph whose views are retrained, from its card."""
    return IQAConfig.from_dict(graph_card(Path(cfg["views_onnx"]))["config"])
