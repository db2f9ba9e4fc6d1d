"""Fault classes of a site's shared state and of ratings files, through the real command line:
a station scoring with a model of its own must not change the site's model; a batch must store
the verdicts of the thresholds in force; a ratings file that is broken anywhere gives skipped
rows or one refusal, never a traceback, and stores nothing that is not a photo.
"""
from __future__ import annotations

import random
import shutil
import sqlite3

from .common import Context, Outcome, cli_args, run_cli, write_photos
from .scenarios import judge, ok_rc, outcome, scenario


def _site(db) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("select id, path from model_versions where active = 1").fetchall()


@scenario("own_model_does_not_flip_the_site", 13)
def own_model_does_not_flip_the_site(ctx: Context) -> Outcome:
    o = outcome("own_model_does_not_flip_the_site", 13)
    base = ctx.folder("c13_site")
    write_photos(base / "photos", 1)
    db = base / "site.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [base / "photos"], db, model=ctx.bundled)), "score with the bundled "
                 "model", ok_rc, "0"):
        return o
    chosen = [(1, str(next(ctx.bundled.glob("*.onnx"))))]  # a supervisor's choice, as the window records it
    with sqlite3.connect(db) as c:
        c.execute("update model_versions set active = 1, path = ? where id = 1", (chosen[0][1],))
    before = _site(db)
    local = base / "this_pcs_copy"  # the same model, from another folder of a second station
    shutil.copytree(ctx.bundled, local)
    for model, what in ((local, "the site's model from a local copy"), (ctx.tiny["ok"], "a model of its own")):
        if judge(o, run_cli(ctx, cli_args(ctx, [base / "photos"], db, model=model)),
                 f"score with {what} at a second station", ok_rc, "0") and _site(db) != before:
            o.note("wrong", f"scoring with {what} changed the site's model from {before} to {_site(db)}")
    return o


RATINGS_HEADER = "rater,photo,vote,time,response_ms\n"
BAD_FIELDS = ["inf", "1e20", "nan", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "../../etc/passwd",
              "/etc/shadow", "/dev/zero", "=HYPERLINK(\"x\")", "x" * 200_000, "\x00", "-1", "1e30", ""]


def _ratings_mutant(rng: random.Random) -> str:
    fields = ["anna", "p1.jpg", "4", "2026-12-01T10:00:00Z", "900"]
    for _ in range(rng.randint(1, 3)):
        fields[rng.randrange(len(fields))] = rng.choice(BAD_FIELDS)
    return RATINGS_HEADER + "bob,p2.jpg,3,2026-12-01T10:00:00Z,700\n" + ",".join(fields) + "\n"


@scenario("ratings_files_broken_anywhere", 14)
def ratings_files_broken_anywhere(ctx: Context) -> Outcome:
    o = outcome("ratings_files_broken_anywhere", 14)
    base = ctx.folder("c14_ratings")
    rng = random.Random(0)
    o.cases = 24
    for i in range(o.cases):
        path = base / f"votes_{i}.csv"
        path.write_text(_ratings_mutant(rng), encoding="utf-8", errors="surrogateescape")
        db = base / f"r{i}.db"
        run = run_cli(ctx, [ctx.python, "-m", "app", "ratings", "--db", str(db), "import", str(path), "--root", str(base)])
        if not judge(o, run, f"ratings import of {path.name}"):
            continue
        if db.exists():
            with sqlite3.connect(db) as c:
                stored = [p for (p,) in c.execute("select path from images")]
            odd = [p for p in stored if not p.endswith((".jpg", ".png"))]
            if odd:
                o.note("wrong", f"{path.name}: stored as photos: {odd}")
    return o
