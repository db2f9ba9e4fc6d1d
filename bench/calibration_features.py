"""What a richer stored representation would give a site's calibration (issue 24, item 3).

The station stored one embedding with every score (the pooled LDA context, 96 values) and the
panel's calibration was fitted on it; this measurement is why models since v0.7.3 also store the
pooled stages, so "+ both stages" is what the panel fits on now ("stored embedding" here is the
embedding alone). Here the same network (the site's base, its training
checkpoint) is run once more over every rated photo, as the overview reads it, and other pooled
features are kept: the backbone's last two stages, the LDA features' spread, the views' hidden
features. ``app.core.calibration.fit_calibration`` (the panel's own fit: linear map, ridge or
kernel ridge, nested cross-validation) is then fitted on each set with the rated train +
validation photos, as ``training.sitebench.calibrate`` does, and judged on the site's test photos:
the SRCC gain over the score, and the gain over the stored embedding's calibration and over the
cell's fine-tune (its ``finetune/test_predictions.csv``, where the benchmark ran one), paired on
the same photos (95 % bootstrap).

    .venv/bin/python bench/calibration_features.py --home SITEBENCH/BASE/SITE/n600/home \\
        --config SITEBENCH/finetune-config.json --checkpoint BASE.pt --card BASE.json \\
        --cache SITEBENCH/BASE/SITE/features.npz
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.calibration import fit_calibration  # noqa: E402
from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.scoring.engine import Engine  # noqa: E402
from app.core.scoring.reading import overview  # noqa: E402
from app.core.stats import compare_srcc  # noqa: E402
from app.core.store import open_database  # noqa: E402
from app.core.store.repository import active_version, calibration_rows  # noqa: E402
from training.sitebench.calibrate import split_rated  # noqa: E402

# Each set: the pooled features it joins, in order ("stored" is the embedding the station holds).
SETS = {
    "stored embedding (96)": ("stored",),
    "+ the stage before the last": ("stored", "stage_before"),
    "+ the last stage": ("stored", "last_stage"),
    "+ both stages": ("stored", "stage_before", "last_stage"),
    "+ both stages, LDA spread, views": ("stored", "stage_before", "last_stage", "lda_spread", "views"),
}


def pooled_features(checkpoint: Path, onnx: Path, paths: list[str], cache: Path | None, threads: int) -> dict:
    """path -> {name: pooled values} for every photo, as the overview reads it (cached by path):
    the engine of the base's exported graph cuts and normalises the input, the checkpoint's
    network pads it as its own forward does."""
    import torch

    from models.registry import load_checkpoint

    torch.set_num_threads(threads)
    known = dict(np.load(cache, allow_pickle=True)["features"].item()) if cache and cache.exists() else {}
    todo = [p for p in paths if p not in known]
    if not todo:
        return known
    model, _ = load_checkpoint(checkpoint)
    model.eval()
    engine = Engine(load_model(onnx, threads=threads))
    for n, path in enumerate(todo, 1):
        x = torch.from_numpy(engine.preprocess(overview(load_rgb(path), engine.reading.overview_side)))
        h, w = x.shape[-2:]
        with torch.no_grad():
            stages = model.stages(x)
            out = model.forward_from_stages(stages, h, w)
        known[path] = {"last_stage": stages[-1][0].mean(dim=(1, 2)).numpy(),
                       "stage_before": stages[-2][0].mean(dim=(1, 2)).numpy(),
                       "lda_spread": out["lda"][0].std(dim=(1, 2)).numpy(),
                       "views": out["view_features"][0].mean(dim=(2, 3)).reshape(-1).numpy()}
        if cache and (n % 100 == 0 or n == len(todo)):
            np.savez(cache, features=np.array(known, dtype=object))
        if n % 100 == 0:
            print(f"features of {n} / {len(todo)} photos", file=sys.stderr)
    return known


def fine_tune_predictions(csv_path: Path, test: list[str]) -> np.ndarray | None:
    """The fine-tuned model's scores of the test photos, in ``test``'s order (None without them)."""
    import csv

    if not csv_path.exists():
        return None
    with open(csv_path, newline="") as f:
        after = {row["image"]: float(row["after"]) for row in csv.DictReader(f)}
    return np.array([after[p] for p in test]) if all(p in after for p in test) else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="the site station's home folder")
    ap.add_argument("--config", type=Path, required=True, help="the fine-tune config (vote and split rules)")
    ap.add_argument("--checkpoint", type=Path, required=True, help="the base model's training checkpoint (.pt)")
    ap.add_argument("--card", type=Path, required=True, help="the base model's card, its exported graph beside it")
    ap.add_argument("--cache", type=Path, help="keep the pooled features here (.npz), by photo path")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    cfg = json.loads(args.config.read_text())
    db = open_database(f"sqlite:///{args.home / 'inspector.db'}")
    try:
        mos_of, split, _ = split_rated(db, cfg)
        rows = {p: (np.asarray(e, float), float(r)) for p, e, r, _ in calibration_rows(db, active_version(db), list(mos_of))}
    finally:
        db.close()
    fit = sorted(p for p, s in split.items() if s != "test" and p in rows)
    test = sorted(p for p, s in split.items() if s == "test" and p in rows)
    extra = pooled_features(args.checkpoint, args.card.with_suffix(".onnx"), fit + test, args.cache, args.threads)

    def features(path: str, names: tuple[str, ...]) -> np.ndarray:
        return np.concatenate([rows[path][0] if name == "stored" else extra[path][name] for name in names])

    raw, raw_t = (np.array([rows[p][1] for p in part]) for part in (fit, test))
    mos, mos_t = (np.array([mos_of[p].mos100 for p in part]) for part in (fit, test))
    tuned = fine_tune_predictions(args.home.parent / "finetune" / "test_predictions.csv", test)
    print(f"{args.home.parent.name}: {len(fit)} rated photos fitted on, {len(test)} test photos\n")
    print("| features | values | test SRCC before → after | gain [95 %] | gain over the stored embedding's [95 % paired] "
          "| over the fine-tune's [95 % paired] | the fit chosen | *Apply* |")
    print("|---|---|---|---|---|---|---|---|")
    stored_after = None
    for name, parts in SETS.items():
        x, x_t = (np.array([features(p, parts) for p in part]) for part in (fit, test))
        cal = fit_calibration(x, raw, mos, min_votes=int(cfg.get("min_votes", 3)))
        after = np.array([cal.apply(e, r) for e, r in zip(x_t, raw_t)])
        gain = compare_srcc(mos_t, raw_t, after, seed=0)
        if stored_after is None:
            stored_after, over = after, "(reference)"
        else:
            o = compare_srcc(mos_t, stored_after, after, seed=0)
            over = f"{o.gain:+.3f} [{o.gain_ci[0]:+.3f}, {o.gain_ci[1]:+.3f}]"
        if tuned is None:
            versus = "–"
        else:
            t = compare_srcc(mos_t, tuned, after, seed=0)
            versus = f"{t.gain:+.3f} [{t.gain_ci[0]:+.3f}, {t.gain_ci[1]:+.3f}]"
        print(f"| {name} | {x.shape[1]} | {gain.before:.3f} → {gain.after:.3f} | {gain.gain:+.3f} "
              f"[{gain.gain_ci[0]:+.3f}, {gain.gain_ci[1]:+.3f}] | {over} | {versus} | {cal.describe().split(' (')[0]} | "
              f"{'offered' if cal.helps else 'off'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
