"""A SIMULATED site, end to end (scripted raters, not people: labelled so wherever it is reported).

The site's photos are synthetic distortions of the clean photos in ``../shared/data/pristine``
(Kodak, mate: reduced to a long side of ``--side`` px *before* any damage, so the rated photos
are never resized). Its raters penalise noise and blur much harder than LIVEC's did, and other
damage (compression, exposure, contrast, colour) mildly. ``--raters`` honest raters vote the
site's quality plus their own bias and noise (each rates a random 85 % of the photos); one
rater always answers 3 and one answers at random, so rater screening has work to do. The votes
go through ``python -m app ratings import`` (the labeling core where that command is missing).

Then, on the split the fine-tune uses (train / validation / test, ``training.site_split``):
1. the quick calibration, fitted on the train + validation photos and judged on the test photos
   (SRCC before/after with the paired bootstrap interval), next to the format-1 calibration it
   replaces (a ridge on embedding + score, λ chosen on the same folds it was reported on), and the
   panel's own nested-cross-validation figures on every rated photo;
2. the fine-tune (``python -m training finetune``, a separate process), before/after on the test
   photos with the interval, its time and its peak memory; with several ``--finetune-config``
   recipes, each one, then every pair compared on the same test photos.

    .venv/bin/python scripts/simulate_site.py --out /tmp/site --photos 150 [--epochs 6]
        [--finetune-config training/configs/finetune.json training/configs/finetune_no_teacher.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.scoring.photo import score_batch  # noqa: E402
from tests.peak_memory import wait_recording_peak  # noqa: E402
from app.core.calibration import fit_calibration  # noqa: E402
from app.core.stats import compare_srcc, srcc  # noqa: E402
from app.core.paths import default_model_dir  # noqa: E402
from app.core.store.repository import calibration_rows  # noqa: E402
from app.core.workspace import Workspace  # noqa: E402
from training.data.synthetic import distort  # noqa: E402
from training.finetune import site_photos, split_site  # noqa: E402
from training.site_split import SplitRule  # noqa: E402

# How much each kind of damage costs on the site's 1-5 scale, per level 1..4: the site's raters
# are strict about noise and blur, lenient about the rest.
STRICT = (1.3, 2.1, 2.8, 3.3)
LENIENT = (0.15, 0.35, 0.6, 0.9)
KINDS = {
    "gaussian_noise": STRICT, "poisson_noise": STRICT, "gaussian_blur": STRICT, "defocus_blur": STRICT,
    "motion_blur": STRICT, "jpeg": LENIENT, "overexposure": LENIENT, "underexposure": LENIENT,
    "contrast_loss": LENIENT, "desaturation": LENIENT, "webp": LENIENT,
}


def sources(pristine: Path, side: int) -> list[tuple[str, np.ndarray]]:
    found = sorted((pristine / "kodak").glob("*.png")) + sorted((pristine / "mate").glob("*.jpg"))
    out = []
    for path in found:
        img = Image.open(path).convert("RGB")
        f = side / max(img.size)
        if f < 1:
            img = img.resize((round(img.width * f), round(img.height * f)), Image.LANCZOS, reducing_gap=2.0)
        out.append((path.stem, np.asarray(img)))
    return out


def make_photos(pristine: Path, folder: Path, n: int, side: int, rng) -> dict[str, float]:
    """n photos, the sources in turn, a fifth of them clean and the rest damaged at random;
    path -> the site's quality on the 1-5 scale."""
    from training.data.synthetic import DISTORTIONS

    kinds = [k for k in KINDS if k in DISTORTIONS]
    base = sources(pristine, side)
    content = {name: float(rng.normal(0, 0.25)) for name, _ in base}  # some scenes please more
    folder.mkdir(parents=True, exist_ok=True)
    quality = {}
    for i in range(n):
        name, img = base[i % len(base)]
        if rng.random() < 0.2:
            kind, level, photo = "clean", 0, img
        else:
            kind, level = kinds[int(rng.integers(len(kinds)))], int(rng.integers(1, 5))
            photo = distort(img, kind, level, rng)
        path = folder / f"{i:03d}-{name}-{kind}-{level}.png"
        Image.fromarray(photo).save(path)
        penalty = 0.0 if kind == "clean" else KINDS[kind][level - 1]
        quality[str(path.resolve())] = float(np.clip(4.6 + content[name] - penalty, 1.0, 5.0))
    return quality


def write_votes(quality: dict[str, float], raters: int, path: Path, rng) -> int:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    rows = []
    for r in range(raters + 2):
        kind = "honest" if r < raters else ("constant" if r == raters else "random")
        bias, noise = float(rng.uniform(-0.3, 0.3)), float(np.linspace(0.35, 0.9, max(2, raters))[min(r, raters - 1)])
        for j, (photo, q) in enumerate(quality.items()):
            if kind == "honest" and rng.random() > 0.85:
                continue
            vote = {"honest": lambda: np.rint(q + bias + rng.normal(0, noise)), "constant": lambda: 3,
                    "random": lambda: rng.integers(1, 6)}[kind]()
            rows.append([f"simulated-{kind}-{r}", photo, int(np.clip(vote, 1, 5)),
                         (start + timedelta(minutes=r * 300, seconds=7 * j)).isoformat()])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["rater", "photo", "vote", "time"])
        writer.writerows(rows)
    return len(rows)


def import_votes(db: Path, votes: Path) -> str:
    """Through the program's own import; the labeling core where that command does not exist."""
    done = subprocess.run([sys.executable, "-m", "app", "ratings", "--db", str(db), "import", str(votes)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 0:
        return "python -m app ratings import"
    from app.core.ratings.session import LabelingSession
    from app.core.store import open_database

    print(f"(ratings import unavailable: {done.stderr.strip().splitlines()[-1:]}; voting through the labeling core)")
    store = open_database(db)
    by_rater: dict[str, dict[str, int]] = {}
    with open(votes, newline="") as f:
        for row in csv.DictReader(f):
            by_rater.setdefault(row["rater"], {})[row["photo"]] = int(row["vote"])
    for rater, answers in by_rater.items():
        session = LabelingSession(store, rater, "simulated-site", list(answers), display={"simulated": True})
        while (item := session.current()) is not None:
            session.vote(answers[item.path])
    store.close()
    return "app.core.ratings.session (LabelingSession)"


def format1(emb, s, y, emb_t, s_t, k: int = 5, seed: int = 0):
    """The calibration this replaces, for comparison: a ridge on standardised [embedding, score],
    λ chosen by the pooled k-fold SRCC it then reported."""
    x, xt = np.column_stack([emb, s]), np.column_stack([emb_t, s_t])
    order = np.random.default_rng(seed).permutation(len(y))
    folds = [order[i::k] for i in range(k)]

    def fit(x, y, lam):
        mean, std = x.mean(0), x.std(0)
        std[std == 0] = 1
        z = (x - mean) / std
        w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (y - y.mean()))
        return lambda q: ((q - mean) / std) @ w + y.mean()

    def cv(lam):
        pred = np.empty(len(y))
        for fold in folds:
            train = np.setdiff1d(np.arange(len(y)), fold)
            pred[fold] = fit(x[train], y[train], lam)(x[fold])
        return srcc(pred, y)

    lam = max((0.01, 0.1, 1.0, 10.0, 100.0, 1000.0), key=cv)
    return np.clip(fit(x, y, lam)(xt), 0, 100), lam, cv(lam)


def ci(v):
    return f"[{v[0]:+.3f}, {v[1]:+.3f}]" if v else "[no interval]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pristine", type=Path, default=ROOT.parent / "shared" / "data" / "pristine")
    ap.add_argument("--photos", type=int, default=150)
    ap.add_argument("--side", type=int, default=768, help="long side of the clean photos before damage")
    ap.add_argument("--raters", type=int, default=6, help="honest raters (plus one constant and one random)")
    ap.add_argument("--model", type=Path, default=default_model_dir() / "mobileiqa-student.onnx")
    ap.add_argument("--config", type=Path, default=ROOT / "training" / "configs" / "finetune.json",
                    help="the fine-tune config whose split and vote rule the site uses")
    ap.add_argument("--finetune-config", type=Path, nargs="+",
                    help="fine-tune with each of these recipes (default: --config); two or more are "
                         "compared on the same test photos")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--skip-finetune", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "site.db"
    if db.exists():
        raise SystemExit(f"{db} exists: give a new --out")

    t0 = time.time()
    quality = make_photos(args.pristine, args.out / "photos", args.photos, args.side, rng)
    ws = Workspace(db)
    ws.load_model(args.model)
    score_batch([Path(p) for p in quality], ws.engine, ws.db, ws.model_version_id)
    ws.close()
    n_votes = write_votes(quality, args.raters, args.out / "votes.csv", rng)
    how = import_votes(db, args.out / "votes.csv")
    print(f"SIMULATED site: {len(quality)} photos, {n_votes} votes by {args.raters} honest + 1 constant + 1 random "
          f"rater, stored through {how}; scored by {args.model.name} ({time.time() - t0:.0f} s)")

    cfg = json.loads(args.config.read_text())
    photos, unrated, info = site_photos(f"sqlite:///{db}", int(cfg.get("min_votes", 3)))
    data = split_site(photos, unrated, SplitRule.from_config(cfg))
    n = data.info["split"]
    print(f"screening rejected {info['rejected_raters'] or 'no rater'}; {len(photos)} photos with {cfg.get('min_votes', 3)}+ "
          f"standing votes: {n['train']} train / {n['val']} validation / {n['test']} test")
    truth_srcc = srcc([quality[p.item.image] for p in photos], [p.item.mos for p in photos])
    print(f"the screened MOS against the simulated truth: SRCC {truth_srcc:.3f}")

    # 1. calibration: fitted on train + validation, judged on test
    ws = Workspace(db)
    ws.load_model(args.model)
    rows = {p: (np.asarray(e), r) for p, e, r, _ in calibration_rows(ws.db, ws.model_version_id, list(quality))}
    fit_part = [p for name in ("train", "val") for p in data.photos[name]]
    test = data.photos["test"]
    emb = np.array([rows[p.item.image][0] for p in fit_part])
    s = np.array([rows[p.item.image][1] for p in fit_part])
    y = np.array([p.item.mos for p in fit_part])
    emb_t = np.array([rows[p.item.image][0] for p in test])
    s_t = np.array([rows[p.item.image][1] for p in test])
    y_t = np.array([p.item.mos for p in test])
    t1 = time.time()
    cal = fit_calibration(emb, s, y, min_votes=int(cfg.get("min_votes", 3)))
    seconds = time.time() - t1
    calibrated = np.array([cal.apply(e, v) for e, v in zip(emb_t, s_t)])
    on_test = compare_srcc(y_t, s_t, calibrated)
    old_pred, old_lam, old_cv = format1(emb, s, y, emb_t, s_t)
    old_test = compare_srcc(y_t, s_t, old_pred)
    panel = ws.fit_calibration()
    ws.close()
    print("\n| calibration (SIMULATED raters) | fitted on | test photos: SRCC raw → calibrated | gain, 95 % paired bootstrap |")
    print("|---|---|---|---|")
    print(f"| this one: {cal.describe()} ({seconds:.1f} s) | {cal.n} | {on_test.before:.3f} → {on_test.after:.3f} "
          f"(n {on_test.n}) | {on_test.gain:+.3f} {ci(on_test.gain_ci)} |")
    print(f"| format 1: ridge on embedding + score, λ {old_lam:g} (its CV SRCC {old_cv:.3f}) | {len(y)} | "
          f"{old_test.before:.3f} → {old_test.after:.3f} (n {old_test.n}) | {old_test.gain:+.3f} {ci(old_test.gain_ci)} |")
    print(f"\nthe panel's fit on all {panel.n} rated photos (nested 5-fold CV): SRCC {panel.base_srcc:.3f} → {panel.cv_srcc:.3f}, "
          f"gain {panel.gain:+.3f} {ci(panel.gain_ci)}: {'Apply offered' if panel.helps else 'Apply stays off'}")

    if args.skip_finetune:
        return 0
    # 2. fine-tune(s), each a separate process as the window runs it, on the same site and split
    after = {}
    for config in args.finetune_config or [args.config]:
        report, predictions = finetune(args, db, config)
        if report is None:
            return 1
        after[config.stem] = predictions
    if len(after) > 1:  # recipes compared on the same test photos: which one is better beyond noise?
        names = list(after)
        print("\n| recipes compared on the same test photos | SRCC | gain of the second, 95 % paired bootstrap |")
        print("|---|---|---|")
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                rows_a, rows_b = after[a], after[b]
                keys = sorted(rows_a)
                c = compare_srcc([rows_a[k][0] for k in keys], [rows_a[k][1] for k in keys], [rows_b[k][1] for k in keys])
                print(f"| {a} → {b} (n {c.n}) | {c.before:.3f} → {c.after:.3f} | {c.gain:+.3f} {ci(c.gain_ci)} |")
    return 0


def finetune(args, db: Path, config: Path):
    """One fine-tune of the site's base model with ``config``: its report and its test
    predictions (photo -> (MOS, score after)), or (None, None) when it failed."""
    run = args.out / f"finetune-{config.stem}"
    cmd = [sys.executable, "-m", "training", "finetune", "--base", str(args.model), "--out", str(run),
           "--config", str(config)] + (["--epochs", str(args.epochs)] if args.epochs else [])
    env = os.environ | {"MOBILEIQA_DB_URL": f"sqlite:///{db}"}
    t2 = time.time()
    log_path = args.out / f"finetune-{config.stem}.log"
    with open(log_path, "w") as log:
        child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        code, peak = wait_recording_peak(child)
    took = time.time() - t2
    if code != 0:
        print(f"fine-tune failed (see {log_path})")
        return None, None
    report = json.loads((run / "finetune_report.json").read_text())
    t = report["test"]
    print(f"\nfine-tune with {config.name} ({report['teacher'] or 'no teacher'}, {report['unlabeled_photos']} unlabeled "
          f"photos; epoch {report['validation']['epoch']} of {report['validation']['epochs_run']} chosen on "
          f"{report['validation']['n']} validation photos): {took:.0f} s, peak RSS {peak:.0f} MB")
    print(f"test photos (n {t['n']}): SRCC {t['before']:.3f} {ci(t['before_ci'])} → {t['after']:.3f} {ci(t['after_ci'])}, "
          f"gain {t['gain']:+.3f} {ci(t['gain_ci'])}; PLCC {report['before']['plcc']:.3f} → {report['after']['plcc']:.3f}")
    print(report["decision"])
    with open(run / "test_predictions.csv", newline="") as f:
        predictions = {row["image"]: (float(row["mos"]), float(row["after"])) for row in csv.DictReader(f)}
    return report, predictions


if __name__ == "__main__":
    sys.exit(main())
