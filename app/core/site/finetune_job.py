"""Fine-tuning from the app, Qt-free: which Python runs the training pipeline, the command that
runs it as a separate process, and reading its progress and result from the run folder.

The pipeline needs torch; the app and its bundle do not ship it (torch would make the bundle
~10x larger), so fine-tuning runs in a Python that has ``requirements/training.txt`` installed:
the one the app runs in when started from a checkout, or the one named by the setting or by
``MOBILEIQA_TRAINING_PYTHON``. Progress is read from the files the pipeline writes atomically
(``run/history.csv`` per epoch, ``finetune_report.json`` at the end), so no protocol is needed
and a killed run leaves nothing half-written behind.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..stats import above_zero
from ..store.urls import DB_URL_ENV

TRAINING_PYTHON_ENV = "MOBILEIQA_TRAINING_PYTHON"

def install_hint() -> str:
    """What to install for fine-tuning, naming the requirements file that travels with the program."""
    requirements = source_root() / "requirements" / "training.txt"
    return (
        "Fine-tuning needs the training pipeline (torch 2.14.1, timm), which this program leaves out to "
        "stay small. Install it once beside the program (Python 3.11):\n"
        "    python3.11 -m venv mobileiqa-training\n"
        f"    mobileiqa-training/bin/pip install -r {requirements}\n"
        f"then set {TRAINING_PYTHON_ENV}=<that venv>/bin/python, or choose it with 'Training Python…'."
    )


def training_python(setting: str | None = None) -> str | None:
    """The Python that runs ``python -m training``: the setting, the environment variable, else
    this interpreter when running from source. None in a frozen build with nothing configured."""
    for candidate in (setting, os.environ.get(TRAINING_PYTHON_ENV)):
        if candidate:
            found = shutil.which(candidate) or (candidate if Path(candidate).exists() else None)
            if found:
                return found
    if getattr(sys, "frozen", False):
        return None
    return sys.executable


def source_root() -> Path:
    """The folder holding ``training/`` (the process's working folder, so ``-m training`` resolves):
    the checkout, or in a frozen build the pipeline's sources that travel with it (build.spec)."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) / "pipeline" if frozen else Path(__file__).resolve().parents[3]  # app/core/site/ -> checkout


@dataclass(frozen=True)
class Recipe:
    """What the window needs to know of the pipeline's fine-tune config (data, not code: the
    app never imports the training package)."""

    min_photos: int = 30  # photos with min_votes standing votes a fine-tune needs
    min_votes: int = 3
    epochs: int = 6  # what the recipe runs (validation chooses among them), the panel's start value

    @classmethod
    def read(cls, config: Path | None = None) -> Recipe:
        """The config's values; the defaults where it cannot be read."""
        path = config or source_root() / "training" / "configs" / "finetune.json"
        try:
            cfg = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cfg = {}
        return cls(int(cfg.get("min_photos", cls.min_photos)), int(cfg.get("min_votes", cls.min_votes)),
                   int(cfg.get("epochs", cls.epochs)))


def requirement(config: Path | None = None) -> tuple[int, int]:
    """(photos, votes per photo) a fine-tune needs."""
    recipe = Recipe.read(config)
    return recipe.min_photos, recipe.min_votes


@dataclass
class FinetuneJob:
    python: str
    db_url: str
    base_model: Path
    out_dir: Path
    epochs: int | None = None
    config: Path | None = None
    extra_env: dict = field(default_factory=dict)

    @classmethod
    def in_folder(cls, python: str, db_url: str, base_model: Path, runs_dir: Path, **kw) -> FinetuneJob:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        return cls(python, db_url, Path(base_model), Path(runs_dir) / f"finetune-{stamp}", **kw)

    def command(self) -> list[str]:
        """The command line; the database URL (which may hold a password) goes in ``environment``,
        since any user can read a process's command line (``ps``)."""
        cmd = [self.python, "-m", "training", "finetune",
               "--base", str(self.base_model), "--out", str(self.out_dir)]
        if self.epochs:
            cmd += ["--epochs", str(self.epochs)]
        if self.config:
            cmd += ["--config", str(self.config)]
        return cmd

    def environment(self) -> dict[str, str]:
        """What the child process needs in its environment besides the caller's own."""
        return {DB_URL_ENV: self.db_url} | self.extra_env

    def history(self) -> list[dict[str, float]]:
        """Per-epoch figures written so far (empty before the first epoch ends)."""
        return read_history(self.out_dir / "run" / "history.csv")

    def report(self) -> dict | None:
        """The finished run's report (before/after metrics, new model path), or None."""
        path = self.out_dir / "finetune_report.json"
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def new_model(self) -> Path | None:
        """The new version's .onnx, once the run has finished (registered or not)."""
        report = self.report()
        return Path(report["model"]) if report and report.get("model") else None


def read_history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            try:
                rows.append({k: float(v) for k, v in row.items() if v not in (None, "")})
            except ValueError:  # a column that is not a number: skip the row, never crash the view
                continue
        return rows


_TQDM = re.compile(r"epoch (\d+)/(\d+):\s*(\d+)%")


def parse_progress(text: str) -> tuple[int, int, float] | None:
    """(epoch, epochs, fraction of the run done) from the last progress bar in ``text``."""
    found = _TQDM.findall(text)
    if not found:
        return None
    epoch, epochs, percent = (int(v) for v in found[-1])
    return epoch, epochs, min(1.0, ((epoch - 1) + percent / 100) / max(1, epochs))


# --- what a finished fine-tune leaves to the supervisor ------------------------------------------
def standing(report: dict) -> str:
    """"better" (shown better beyond noise on the test photos, ``stats.PairedComparison.better``:
    use it), "candidate" (registered, not shown better: the current model stays ahead) or "kept
    back" (not registered)."""
    if not report.get("registered"):
        return "kept back"
    test = report.get("test") or {}
    shown = test.get("better")  # reports before it was recorded: the gain's interval alone
    return "better" if (shown if shown is not None else above_zero(test.get("gain_ci"))) else "candidate"


def rated_photos(report: dict) -> int | None:
    counts = (report.get("split") or {}).get("counts") or {}
    return sum(counts.get(k, 0) for k in ("train", "val", "test")) or report.get("rated_photos")


def more_ratings(report: dict) -> str:
    """What more ratings would likely change, in words: the interval's half-width shrinks with the
    square root of the test photos (a quarter of every new rating is a test photo), so twice the
    rated photos narrow it by about 1/sqrt(2); a gain of the present size needs (half-width /
    gain)^2 times the present photos before its interval clears 0."""
    test = report.get("test") or {}
    ci, gain, rated = test.get("gain_ci"), test.get("gain"), rated_photos(report)
    if not ci or gain is None or gain != gain:
        return ("Too few test photos for an interval: rate more photos (a part of them is held out as test "
                "photos) before judging a new version.")
    half = (ci[1] - ci[0]) / 2
    twice = f"twice the rated photos ({2 * rated})" if rated else "twice the rated photos"
    narrower = f"With {twice} the uncertainty would shrink from ±{half:.3f} to about ±{half / 2 ** 0.5:.3f}"
    if above_zero(ci):
        return f"{narrower}, which would pin the gain down further."
    if gain <= 0:
        return (f"{narrower}; more test photos alone are unlikely to show this version better, since it gains "
                "nothing now (a fine-tune on more photos may learn more).")
    times = (half / gain) ** 2
    if times <= 2:
        return f"{narrower}: enough to show a gain of this size ({gain:+.3f}) beyond noise, if it is real."
    needed = f" (about {int(times * rated + 0.5):,} rated photos)" if rated else ""
    factor = f"{times:.1f}" if times < 10 else f"{times:.0f}"
    return (f"{narrower}, still too wide for a gain of {gain:+.3f}: showing a gain that small would take about "
            f"{factor} times the ratings{needed}.")


def advice(report: dict) -> str:
    """What the supervisor should do, in plain words and without figures (those are ``details``):
    use the new version only when it ranks the site's test photos better beyond noise; otherwise
    keep the current model (a version no better beyond noise is kept as a candidate, never pressed
    on the site); and which recipe made it, and why."""
    n, said = report.get("held_out", "?"), standing(report)
    if said == "kept back":
        return ("Keep the current model: the new version was not registered. "
                f"{_sentence(report.get('decision', ''))} You may still register it.")
    if said == "better":
        return (f"Use the new version: it helps. It orders this site's {n} test photos more like your raters than "
                f"the current model does, beyond noise.{recipe_text(report)}")
    ci = (report.get("test") or {}).get("gain_ci")
    return (f"Keep the current model: the new version is no better beyond noise on this site's {n} test photos, "
            "so it is not shown to help. It is kept as a candidate you may try (select it below and 'Use')."
            + (" More rated photos would show whether it is better (Details says how many)." if ci else "")
            + recipe_text(report))


def recipe_text(report: dict) -> str:
    recipe = report.get("recipe") or {}
    return f" Recipe: {recipe['name']}, because {recipe['why']}." if recipe.get("name") else ""


def details(report: dict) -> str:
    """The figures behind the advice: the test with its n and interval, what more ratings would
    likely change, the validation that chose the epoch, the split, and how it was registered."""
    test, val, counts = report.get("test") or {}, report.get("validation") or {}, (report.get("split") or {}).get("counts") or {}
    before, after = report["before"], report["after"]
    ci = test.get("gain_ci")
    interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else " (too few photos for an interval)"
    epoch = (f" Epoch {val['epoch']} of {val.get('epochs_run', '?')} was chosen on {val.get('n', '?')} validation photos"
             f" (site val SRCC {_num(val.get('srcc'))}; {_num(val.get('start_srcc'))} before training)."
             if val.get("epoch") else "")
    registered = {"better": "Registered as a version of this station.",
                  "candidate": "Registered as a candidate version of this station (not in use).",
                  "kept back": ""}[standing(report)]
    return (f"Site test ({report.get('held_out', '?')} photos never trained on or chosen by): "
            f"SRCC {_num(before.get('srcc'))} → "
            f"{_num(after.get('srcc'))}, gain {_num(test.get('gain'), sign=True)}{interval} (95 % paired bootstrap); "
            f"PLCC {_num(before.get('plcc'))} → {_num(after.get('plcc'))}. {more_ratings(report)} Split: "
            f"{counts.get('train', '?')} train / {counts.get('val', '?')} validation / {counts.get('test', '?')} test."
            f"{epoch} " + registered)


def summary(report: dict) -> str:
    """The run's outcome in the supervisor's words: the advice first, then the details."""
    return f"{advice(report)}\n\nDetails: {details(report)}"


def _num(value, sign: bool = False) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:+.3f}" if sign else f"{value:.3f}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def register_anyway(db, report: dict, approved_by: str) -> int:
    """Register a version the fine-tune kept back (not shown better, or worse beyond noise): the
    supervisor's decision, recorded with their name beside the test result it overrides."""
    from ..model.loader import load_model
    from ..store.repository import register_model

    model = load_model(report["model"])
    test = report.get("test") or {}
    ci = test.get("gain_ci")
    said = f"gain {_num(test.get('gain'), sign=True)}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
    return register_model(db, model.card, str(model.onnx_path), origin="fine-tuned",
                          approved_by=f"{approved_by}, registered against the fine-tune's test result ({said})")


def inherited_thresholds(versions, path: str) -> tuple[object, object] | None:
    """(version, its parent) when the version at ``path`` has no threshold profile
    of its own and the version it was fine-tuned from has one; else None. ``versions``: the
    station's VersionRows."""
    target = next((v for v in versions if v.path == str(path)), None)
    if target is None or target.thresholds is not None or not target.parent_identity:
        return None
    parent = next((v for v in versions if v.sha256 == target.parent_identity), None)
    if parent is None or parent.thresholds is None:
        return None
    return target, parent
