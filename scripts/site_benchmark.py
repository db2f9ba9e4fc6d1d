"""Site benchmark on real ratings (issue 24 item 1): does fine-tuning, or the calibration, help a
site whose photos the base model never trained on?

A site's photos carry laboratory MOS; five simulated raters per photo vote around it (rater bias
sd 0.25, vote noise sd 0.6 ACR steps, rounded, clipped to 1-5, seeded), imported with the
program's own ``ratings import`` into a fresh station (MOBILEIQA_HOME in --out). The site is split
by the fine-tune's own seeded rule; the test photos stay the same at every n, and n (the photos
rated for training + validation) grows as nested sets. At each n, on the test photos: SRCC before
and after with the paired 95 % bootstrap interval of the gain, for the fine-tune (``python -m
training finetune``, its default recipe) and the calibration (``fit_calibration``, fitted on
train + validation), each with wall time and peak memory of its process. Markdown on stdout and
in --out; every artefact stays in --out (outside the repository).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/site_benchmark.py --base resources/models/mobileiqa-student.onnx \\
        --site biq-val --sizes 150 300 600 1000 --threads 1 --out /tmp/sitebench
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.model.loader import load_model  # noqa: E402
from training.site_split import SplitRule  # noqa: E402
from training.sitebench.benchmark import Cell, run_cell  # noqa: E402
from training.sitebench.plan import plan_site  # noqa: E402
from training.sitebench.report import markdown  # noqa: E402
from training.sitebench.sites import NAMED, csv_site, named_site  # noqa: E402
from training.sitebench.votes import RaterPanel, draw_votes  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, nargs="+", required=True, help="base model(s): .onnx with NAME.pt beside it")
    ap.add_argument("--site", choices=NAMED, default="biq-val")
    ap.add_argument("--csv", type=Path, help="a site of your own: image,mos (0-100) or BIQ2021's layout (with --root)")
    ap.add_argument("--root", type=Path, help="the folder --csv's image paths start from")
    ap.add_argument("--biq", type=Path, default=ROOT.parent / "data" / "biq2021",
                    help="BIQ2021's folder (its training split's CSV and Images/)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[150, 300, 600, 1000],
                    help="rated photos for training + validation (capped at what the site has besides its test photos)")
    ap.add_argument("--out", type=Path, required=True, help="where every artefact goes (outside the repository)")
    ap.add_argument("--threads", type=int, default=0, help="threads of every process (0: the libraries' default)")
    ap.add_argument("--config", type=Path, default=ROOT / "training" / "configs" / "finetune.json",
                    help="the fine-tune recipe; its split and vote rules are the site's")
    ap.add_argument("--epochs", type=int, help="override the recipe's epochs")
    ap.add_argument("--raters-per-photo", type=int, default=5)
    ap.add_argument("--rater-pool", type=int, default=20)
    ap.add_argument("--bias-sd", type=float, default=0.25)
    ap.add_argument("--noise-sd", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0, help="seeds the votes and the order photos are rated in")
    args = ap.parse_args(argv)
    if bool(args.csv) != bool(args.root):
        ap.error("--csv and --root go together")
    if args.out.resolve().is_relative_to(ROOT):
        ap.error("--out must lie outside the repository")
    return args


def sizes_to_run(sizes: list[int], available: int) -> list[int]:
    """The asked sizes, those above what the site has replaced by everything it has (once)."""
    kept = sorted({min(n, available) for n in sizes})
    return [n for n in kept if n > 0]


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = json.loads(args.config.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    config = args.out / "finetune-config.json"  # the recipe as given, on the benchmark's threads
    config.write_text(json.dumps(cfg | ({"threads": args.threads} if args.threads else {}), indent=1) + "\n")
    panel = RaterPanel(args.raters_per_photo, args.rater_pool, args.bias_sd, args.noise_sd, args.seed)
    site_name = args.csv.stem if args.csv else args.site
    reports = []
    for base in args.base:
        card = load_model(base).card
        label = f"{card['name']}-{card['version']}"
        photos = csv_site(args.csv, args.root) if args.csv else named_site(args.site, args.biq, card)
        plan = plan_site(photos, SplitRule.from_config(cfg), args.seed)
        votes = draw_votes([(p.path, p.mos) for p in photos], panel)
        print(f"{label} on site {site_name}: {len(photos)} photos, {len(plan.test)} test (fixed), {plan.available()} "
              f"to rate for training + validation; {len(votes)} simulated votes ({panel})", flush=True)
        results = []
        for n in sizes_to_run(args.sizes, plan.available()):
            started = time.time()
            cell = Cell(base.resolve(), n, args.out / label / site_name / f"n{n}", config, args.threads, args.epochs)
            results.append(run_cell(cell, plan, votes, log=lambda s: print(s, flush=True)))
            print(f"  n {n} done in {time.time() - started:.0f} s", flush=True)
        text = markdown(f"{label} on {site_name} ({len(plan.test)} test photos; SIMULATED raters around laboratory MOS)",
                        results)
        (args.out / f"{label}-{site_name}.md").write_text(text)
        reports.append(text)
        print("\n" + text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
