"""Fault classes of a site's trust: a card edited where it changes scores, a graph whose weights
live in external data, and secrets (database and camera passwords, the database's permissions,
formulas in exported ratings). Each case runs the real command line as a user would.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

from .common import CliRun, Context, Outcome, cli_args, run_cli, write_photos
from .registry import EXIT_0, REFUSAL, judge, scenario
from .score_case import ScoreCase, no_rows, register, says

CARD_EDITS = {
    "input_scale": lambda c: c["input"].__setitem__("scale", 0.0045),
    "input_scale_as_text": lambda c: c["input"].__setitem__("scale", "1/255"),
    "min_side_0": lambda c: c["input"].__setitem__("min_side", 0),
    "score_range": lambda c: c.__setitem__("score_range", [0.0, 90.0]),
    "reading": lambda c: c.setdefault("reading", {}).__setitem__("detail_weight", 0.9),
}


def edited_shipped_copy(ctx: Context, name: str, edit) -> Path:
    """The shipped graphs, untouched, beside a card edited by ``edit``."""
    out = ctx.root / f"edited_card_{name}"
    if out.exists():
        return out
    shutil.copytree(ctx.bundled, out)
    card_path = next(out.glob("*.json"))
    card = json.loads(card_path.read_text())
    edit(card)
    card_path.write_text(json.dumps(card, indent=1))
    return out


def _graph_with_external_data(ctx: Context, base: Path) -> Path:
    """The tiny model, its graph saved with its weights in a file beside it (and hashed so)."""
    import onnx

    model_dir = base / "model"
    model_dir.mkdir()
    card_path = model_dir / ctx.tiny["ok"].name
    card = json.loads(ctx.tiny["ok"].read_text())
    shutil.copy(ctx.tiny["ok"].with_name(card["onnx_file"]), model_dir)
    onnx_path = model_dir / card["onnx_file"]
    onnx.save_model(onnx.load(str(onnx_path)), str(onnx_path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    card["sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    card_path.write_text(json.dumps(card))
    return card_path


def _home_is_private(o: Outcome, run: CliRun, db: Path) -> None:
    """The folder the database was created in, and every file of the database, are the user's alone."""
    home = db.parent
    if stat.S_IMODE(os.stat(home).st_mode) & 0o077:
        o.note("wrong", f"home folder is {oct(stat.S_IMODE(os.stat(home).st_mode))}")
    for f in home.glob("inspector.db*"):
        if stat.S_IMODE(os.stat(f).st_mode) & 0o077:
            o.note("wrong", f"{f.name} is {oct(stat.S_IMODE(os.stat(f).st_mode))}")


register([
    # The shipped graphs beside a card edited where it changes scores: refused until approved.
    *(ScoreCase(f"card_edited_{name}", 10, f"score with the shipped graphs and a card whose {name} was edited",
                REFUSAL, photos=1, approve=False,
                model=lambda ctx, base, name=name, edit=edit: edited_shipped_copy(ctx, name, edit),
                checks=(no_rows("rows were scored under an edited card without an approval"),))
      for name, edit in CARD_EDITS.items()),
    # The graph file hashed by the card keeps its weights in a file beside it: swapping that file
    # would change the model without changing the hash, so the graph must not load.
    ScoreCase("graph_with_external_data", 11, "score with a graph whose weights are external data", REFUSAL,
              photos=1, model=_graph_with_external_data,
              checks=(says("external data", "refused, but not for its external data"),)),
    ScoreCase("new_home_is_private", 12, "score into a new home", photos=1, db="home/mobileiqa/inspector.db",
              checks=(_home_is_private,)),
])


SECRET = "s3cr@t/pw"


@scenario("password_in_db_url_forms", 12)
def password_in_db_url_forms(ctx: Context, o: Outcome) -> None:
    """A database that cannot be reached, named with a password in each form: the error names the
    database without the password, and a password on the command line is warned of."""
    base = ctx.folder("c12_urls")
    write_photos(base / "photos", 1)
    for url in (f"postgresql://inspector:{SECRET}@127.0.0.1:9/photos",
                f"postgresql://inspector@127.0.0.1:9/photos?password={SECRET}"):
        run = run_cli(ctx, cli_args(ctx, [base / "photos"], url))
        if judge(o, run, "score with an unreachable database", REFUSAL):
            shown = run.out + run.err
            if SECRET in shown or "s3cr" in shown:
                o.note("wrong", f"the password shows in the output: {run.why()}")
            if "process list" not in run.err:
                o.note("wrong", "no warning of the password on the command line")
    run = run_cli(ctx, cli_args(ctx, [base / "photos"], "postgresql:///photos?host=/nonexistent/socket"))
    if "process list" in run.err:
        o.note("wrong", "warned of a password in a URL that has none")


@scenario("ratings_export_formulas", 12)
def ratings_export_formulas(ctx: Context, o: Outcome) -> None:
    base = ctx.folder("c12_ratings")
    votes = base / "votes.csv"
    with open(votes, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rater", "photo", "vote", "time"])
        for i, rater in enumerate(['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)"]):
            w.writerow([rater, "=1+1.jpg", 3, f"2026-12-0{i + 1}T10:00:00Z"])
    db = base / "r.db"
    app = [ctx.python, "-m", "app", "ratings", "--db", str(db)]
    if not judge(o, run_cli(ctx, app + ["import", str(votes), "--root", str(base)]), "ratings import", EXIT_0):
        return
    for command in (["export", "--csv", str(base / "votes_out.csv")],
                    ["mos", "--csv", str(base / "mos.csv"), "--raters", str(base / "raters.csv")]):
        judge(o, run_cli(ctx, app + command), f"ratings {command[0]}", EXIT_0)
    for name in ("votes_out.csv", "mos.csv", "raters.csv"):
        path = base / name
        if path.exists():
            for row in csv.reader(open(path, newline="")):
                if any(cell.startswith(("=", "+", "@")) for cell in row):
                    o.note("wrong", f"{name}: a cell a spreadsheet runs as a formula: {row}")
                    break
