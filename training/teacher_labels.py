"""Teacher labels for the top stage: an ensemble of trained networks scores every cached photo once.

The student's top learns from cached trunk features (``trunk_cache``). A teacher that reads the
same features could run beside it, but the strongest teacher here is an ensemble of networks on
*different* trunks (the shipped overview's, an ImageNet one), each with its own cache. So each
member scores every photo of its cache whole, once, and the weighted mean of its members is
stored per photo: rated photos by their path, ladder copies by (photo, kind, level). A student
then learns the teacher's score of the whole photo from a crop of it, as it learns a rater's MOS.

Each member is put on the first member's scale (a top anchored to another dataset's MOS
scores on that scale), and a dataset's photos may have their own weights. The labels file keeps
each member's scores too, so another weighting needs no second pass, and the members' and the
ensemble's figures on the validation photos with the ensemble's paired gain over its first
member, so a teacher is only used where it is stronger than the student it teaches. ``TeacherTargets`` turns the labels into the top
stage's extra loss terms.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from app.core.stats import compare_srcc

from .losses import pairwise_rank_loss
from .metrics import iqa_metrics
from .trunk_cache import TrunkCache

log = logging.getLogger(__name__)

PARTS = ("rated", "ladders")


def row_key(row: dict) -> str:
    """What a cached row is, independent of the cache it sits in."""
    if "image" in row:
        return row["image"]
    return f"{row['photo']}|{row['kind']}|{row['level']}"


def member_scores(checkpoint: Path, cache_dir: Path, batch: int = 32) -> dict[str, dict[str, float]]:
    """{part: {row key: score 0-100}} of one trained top over every row of its trunk's cache."""
    from models import load_checkpoint

    from .stage_top import score_rows  # here, not at the top: stage_top imports this module

    model, _ = load_checkpoint(checkpoint)
    scores = {}
    for part in PARTS:
        if not (cache_dir / part / "index.json").exists():
            continue
        cache = TrunkCache(cache_dir / part, in_memory=False)
        pred = score_rows(model, cache, range(len(cache)), batch)
        scores[part] = {row_key(r): pred[i] for i, r in enumerate(cache.rows)}
        log.info("%s: scored %d %s rows of %s", checkpoint, len(cache), part, cache_dir)
    return scores


def on_first_scale(members: list[dict[str, dict[str, float]]], rows: list[dict]) -> tuple[list[dict], list[list[float]]]:
    """Each member's scores mapped linearly onto the first member's scale (least squares over the
    training photos' scores: no MOS is read), so a member anchored to another dataset's MOS (a
    BIQ2021-only top scores on BIQ2021's scale) can join the mean. Returns the mapped members and
    each one's (slope, offset)."""
    train = [r["image"] for r in rows if r["split"] == "train"
             and all(r["image"] in m.get("rated", {}) for m in members)]
    first = np.array([members[0]["rated"][k] for k in train])
    mapped, maps = [members[0]], [[1.0, 0.0]]
    for n, member in enumerate(members[1:], start=2):
        slope, offset = np.polyfit(np.array([member["rated"][k] for k in train]), first, 1)
        if slope <= 0:
            raise ValueError(f"member {n}'s scores fall as the first member's rise: it ranks the other way round")
        mapped.append({part: {k: float(slope * v + offset) for k, v in scores.items()} for part, scores in member.items()})
        maps.append([float(slope), float(offset)])
    return mapped, maps


def ensemble(members: list[dict[str, dict[str, float]]], weights: list[float], rows: list[dict],
             weights_for: dict[str, list[float]] | None = None) -> dict[str, dict[str, float]]:
    """The weighted mean of the members' scores, on the rows every member scored; a rated photo of
    a dataset in ``weights_for`` takes that dataset's weights (a member that never learnt a
    dataset can stay out of its photos' labels)."""
    dataset = {r["image"]: r["dataset"] for r in rows}
    weights_for = weights_for or {}
    out = {}
    for part in PARTS:
        keys = set.intersection(*(set(m.get(part, {})) for m in members))
        out[part] = {}
        for k in sorted(keys):
            w = weights_for.get(dataset.get(k), weights) if part == "rated" else weights
            out[part][k] = sum(wi * m[part][k] for wi, m in zip(w, members)) / float(sum(w))
    return out


def held_out_by_dataset(rows: list[dict], *scored: dict[str, float]) -> dict[str, list[dict]]:
    """The held-out rated rows (the split the student validates on) that every one of ``scored``
    holds, per dataset."""
    val = [r for r in rows if r["split"] == "val" and all(r["image"] in s for s in scored)]
    return {name: [r for r in val if r["dataset"] == name] for name in sorted({r["dataset"] for r in val})}


def validation_figures(scores: dict[str, float], rows: list[dict]) -> dict[str, dict[str, float]]:
    """SRCC / PLCC per dataset on the held-out rated rows."""
    figures = {}
    for name, mine in held_out_by_dataset(rows, scores).items():
        metrics = iqa_metrics(np.array([scores[r["image"]] for r in mine]), np.array([r["mos"] for r in mine]))
        figures[name] = {"srcc": metrics["srcc"], "plcc": metrics["plcc"], "photos": len(mine)}
    return figures


def gain_over(before: dict[str, float], after: dict[str, float], rows: list[dict]) -> dict[str, dict]:
    """Per dataset, the paired SRCC gain of ``after`` over ``before`` on the held-out rated rows:
    is the ensemble stronger than its first member (the student it is to teach) beyond noise?"""
    return {name: compare_srcc([r["mos"] for r in mine], [before[r["image"]] for r in mine],
                               [after[r["image"]] for r in mine]).to_json()
            for name, mine in held_out_by_dataset(rows, before, after).items()}


def make_labels(members: list[tuple[Path, Path]], weights: list[float] | None, out: Path,
                earlier: list[Path] = (), weights_for: dict[str, list[float]] | None = None) -> dict:
    """Score with every (checkpoint, cache) member, add the members already scored in the
    ``earlier`` labels files (no second pass: a member is scored once however it is weighed),
    write the labels file and return its summary. ``weights``: one per member, earlier ones
    first (default: equal); ``weights_for``: {dataset: weights} for that dataset's rated photos.
    Every member is first put on the first member's scale (``on_first_scale``)."""
    known = [json.loads(Path(f).read_text()) for f in earlier]
    described = [m for k in known for m in k["members"]]
    scored = [s for k in known for s in k["member_scores"]]
    caches = [Path(m["cache"]) for m in described]
    for ckpt, cache in members:
        scored.append(member_scores(ckpt, cache))
        described.append({"checkpoint": str(ckpt), "cache": str(cache)})
        caches.append(Path(cache))
    weights = list(weights) if weights else [1.0] * len(scored)
    weights_for = dict(weights_for or {})
    for w in [weights, *weights_for.values()]:
        if len(w) != len(scored):
            raise ValueError(f"{len(scored)} members but {len(w)} weights")
        if min(w) < 0 or sum(w) <= 0:
            raise ValueError("weights must be non-negative and not all 0")
    rows = json.loads((caches[0] / "rated" / "index.json").read_text())["rows"]
    mapped, maps = on_first_scale(scored, rows)
    labels = ensemble(mapped, weights, rows, weights_for)
    if not labels["rated"]:
        raise ValueError("the members' caches share no rated photo: were they made from the same data?")
    summary = {
        "members": [{"checkpoint": m["checkpoint"], "cache": m["cache"], "weight": w, "scale_map": scale_map,
                     "weights_for": {name: ws[n] for name, ws in weights_for.items()},
                     "validation": validation_figures(s["rated"], rows)}
                    for n, (m, w, s, scale_map) in enumerate(zip(described, weights, scored, maps))],
        "validation": validation_figures(labels["rated"], rows),
        "over_first_member": gain_over(scored[0]["rated"], labels["rated"], rows),
        "rows": {part: len(labels[part]) for part in PARTS},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary | {"labels": labels, "member_scores": scored}))
    return summary


def load_labels(path: Path) -> dict[str, dict[str, float]]:
    return json.loads(Path(path).read_text())["labels"]


def labels_for(rows: list[dict], labels: dict[str, float], what: str) -> np.ndarray:
    """The label of each row (0-1, the score's scale); a row the teacher never scored is an error,
    not a silent zero."""
    missing = [row_key(r) for r in rows if row_key(r) not in labels]
    if missing:
        raise ValueError(f"the teacher labels lack {len(missing)} of the {what} rows (first: {missing[0]}): "
                         f"they were made from other caches")
    return np.array([labels[row_key(r)] / 100.0 for r in rows], dtype=np.float32)


def summary_table(summary: dict) -> str:
    names = sorted(summary["validation"])
    lines = ["| teacher | weight | " + " | ".join(f"{n} val SRCC / PLCC" for n in names) + " |",
             "|---" * (len(names) + 2) + "|"]
    for m in summary["members"]:
        cells = [f"{m['validation'][n]['srcc']:.3f} / {m['validation'][n]['plcc']:.3f}" for n in names]
        weight = f"{m['weight']:g}" + "".join(f"; {k}: {v:g}" for k, v in m["weights_for"].items())
        lines.append(f"| {m['checkpoint']} | {weight} | " + " | ".join(cells) + " |")
    cells = [f"**{summary['validation'][n]['srcc']:.3f}** / {summary['validation'][n]['plcc']:.3f}" for n in names]
    lines.append("| the ensemble (the labels) | | " + " | ".join(cells) + " |")
    gains = summary["over_first_member"]
    cells = [f"{gains[n]['gain']:+.3f} [{gains[n]['gain_ci'][0]:+.3f}, {gains[n]['gain_ci'][1]:+.3f}]"
             if gains[n]["gain_ci"] else "no interval" for n in names]
    lines.append("| the ensemble over the first member, paired 95 % | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class TeacherTargets:
    """The teacher's labels (``teacher_labels``) as extra targets of the top's loss: with
    ``teacher_labels`` in the config, L1 and pairwise ranking of each rated batch against the
    teacher's scores of those photos (on the anchor's scale, so every dataset's photos get an
    absolute target, not only the anchor's), and L1 of each synthetic ladder against the
    teacher's scores of its copies. Weights: ``distill`` {l1, rank, ladders}. Without labels it
    adds nothing, so one recipe with and without the teacher differs by the teacher alone."""

    def __init__(self, cfg: dict, rated: TrunkCache, train_ids: list[int], ladders=None):
        """``ladders``: the stage's synthetic ladders (``stage_top.Ladders``), if any."""
        self.path = cfg.get("teacher_labels")
        self.weights = {"l1": 1.0, "rank": 0.3, "ladders": 0.5} | cfg.get("distill", {})
        self.rated = self.ladders = None
        self.ladder_terms: list[torch.Tensor] = []
        if not self.path:
            return
        labels = load_labels(Path(self.path))
        self.rated = torch.full((len(rated.rows),), float("nan"))
        ids = sorted(set(train_ids))
        self.rated[ids] = torch.from_numpy(labels_for([rated.rows[i] for i in ids], labels["rated"], "rated"))
        if ladders is not None and self.weights["ladders"]:
            self.ladders = torch.from_numpy(labels_for(ladders.cache.rows, labels["ladders"], "ladder"))

    def described(self) -> str:
        return f", taught by the teacher labels {self.path} with weights {self.weights}" if self.path else ""

    def add_rated(self, terms: dict, pred: torch.Tensor, rows: torch.Tensor) -> None:
        if self.rated is None:
            return
        target = self.rated[rows].to(pred.device)
        terms["teacher_l1"] = F.l1_loss(pred, target)
        terms["teacher_rank"] = pairwise_rank_loss(pred, target)

    def add_ladder(self, scores: torch.Tensor, ids: list[int]) -> None:
        if self.ladders is not None:
            self.ladder_terms.append(F.l1_loss(scores, self.ladders[ids].to(scores.device)))

    def finish(self, terms: dict) -> dict:
        if self.rated is None:
            return terms
        w = self.weights
        terms["total"] = terms["total"] + w["l1"] * terms["teacher_l1"] + w["rank"] * terms["teacher_rank"]
        if self.ladder_terms:
            terms["teacher_ladders"] = torch.stack(self.ladder_terms).mean()
            terms["total"] = terms["total"] + w["ladders"] * terms["teacher_ladders"]
            self.ladder_terms = []
        return terms
