"""Fault classes of a site's shared state and of ratings files, through the real command line:
a station scoring with a model of its own must not change the site's model; a batch must store
the verdicts of the thresholds in force; a ratings file that is broken anywhere gives skipped
rows or one refusal, never a traceback, and stores nothing that is not a photo.
"""
from __future__ import annotations

import csv
import random
import shutil
import sqlite3

from .common import Context, Outcome, cli_args, run_cli, write_photos
from .registry import EXIT_0, judge, scenario


def _site(db) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("select id, path from model_versions where active = 1").fetchall()


@scenario("own_model_does_not_flip_the_site", 13)
def own_model_does_not_flip_the_site(ctx: Context, o: Outcome) -> None:
    base = ctx.folder("c13_site")
    write_photos(base / "photos", 1)
    db = base / "site.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [base / "photos"], db, model=ctx.bundled)), "score with the bundled "
                 "model", EXIT_0):
        return
    chosen = [(1, str(next(ctx.bundled.glob("*.onnx"))))]  # a supervisor's choice, as the window records it
    with sqlite3.connect(db) as c:
        c.execute("update model_versions set active = 1, path = ? where id = 1", (chosen[0][1],))
    before = _site(db)
    local = base / "this_pcs_copy"  # the same model, from another folder of a second station
    shutil.copytree(ctx.bundled, local)
    for model, what in ((local, "the site's model from a local copy"), (ctx.tiny["ok"], "a model of its own")):
        if judge(o, run_cli(ctx, cli_args(ctx, [base / "photos"], db, model=model)),
                 f"score with {what} at a second station", EXIT_0) and _site(db) != before:
            o.note("wrong", f"scoring with {what} changed the site's model from {before} to {_site(db)}")


RATINGS_HEADER = "rater,photo,vote,time,response_ms\n"
BAD_FIELDS = ["inf", "1e20", "nan", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "../../etc/passwd",
              "/etc/shadow", "/dev/zero", "=HYPERLINK(\"x\")", "x" * 200_000, "\x00", "-1", "1e30", ""]


def _ratings_mutant(rng: random.Random) -> str:
    fields = ["anna", "p1.jpg", "4", "2026-12-01T10:00:00Z", "900"]
    for _ in range(rng.randint(1, 3)):
        fields[rng.randrange(len(fields))] = rng.choice(BAD_FIELDS)
    return RATINGS_HEADER + "bob,p2.jpg,3,2026-12-01T10:00:00Z,700\n" + ",".join(fields) + "\n"


@scenario("ratings_files_broken_anywhere", 14)
def ratings_files_broken_anywhere(ctx: Context, o: Outcome) -> None:
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


PRACTICE = (("practice_a.png", 5), ("practice_b.png", 1), ("practice_c.png", 4))

# A rater's practice sitting, as the labeling panel runs it (app.core.ratings.session): the
# practice answers are shown, then every practice photo is answered as shown.
_PRACTICE_SITTING = """
import sys
from app.core.ratings.session import LabelingSession
from app.core.store import open_database
db = open_database(sys.argv[1])
practice = [(p, int(e)) for p, e in zip(sys.argv[2::2], sys.argv[3::2])]
s = LabelingSession(db, "trainee", "practice", [], practice)
while (item := s.current()) is not None:
    s.vote(item.expected)
db.close()
"""


@scenario("practice_photos_are_never_gold_checks", 13)
def practice_photos_are_never_gold_checks(ctx: Context, o: Outcome) -> None:
    """Practice photos rated later as normal photos: honest votes one step off the practice
    answer must not fail a gold check (they rejected every rater when practice answers were
    stored as gold with tolerance 0)."""
    base = ctx.folder("c13_practice")
    photos = write_photos(base, 6)
    for path, (name, _) in zip(photos, PRACTICE):
        path.rename(base / name)
    others = [p.name for p in photos[len(PRACTICE):]]
    db = base / "site.db"
    args = [str(base / name) if i % 2 == 0 else str(expected) for name, expected in PRACTICE for i in (0, 1)]
    if not judge(o, run_cli(ctx, [ctx.python, "-c", _PRACTICE_SITTING, str(db), *args]), "a practice sitting",
                 EXIT_0):
        return
    votes = base / "votes.csv"
    lines = [RATINGS_HEADER]
    for r, rater in enumerate(("anna", "ben", "cleo")):
        for name, expected in PRACTICE:  # honest, one step from the practice answer
            lines.append(f"{rater},{name},{expected - 1 if expected > 1 else 2},2026-12-01T10:0{r}:00Z,900\n")
        lines += [f"{rater},{name},{3 + (i % 2)},2026-12-01T10:0{r}:30Z,900\n" for i, name in enumerate(others)]
    votes.write_text("".join(lines), encoding="utf-8")
    ratings = [ctx.python, "-m", "app", "ratings", "--db", str(db)]
    if not judge(o, run_cli(ctx, ratings + ["import", str(votes), "--root", str(base)]), "ratings import", EXIT_0):
        return
    table = base / "raters.csv"
    if not judge(o, run_cli(ctx, ratings + ["mos", "--csv", str(base / "mos.csv"), "--raters", str(table)]),
                 "ratings mos", EXIT_0):
        return
    with open(table, newline="", encoding="utf-8") as f:
        raters = {row["rater"]: row for row in csv.DictReader(f)}
    o.cases = 3
    for rater in ("anna", "ben", "cleo"):
        row = raters.get(rater)
        if row is None:
            o.note("wrong", f"{rater}: not in the screening table")
        elif row["rejected"] != "no" or row["gold_votes"] != "0":
            o.note("wrong", f"{rater}: rejected {row['rejected']} ({row['reasons']}), "
                            f"{row['gold_votes']} gold votes on practice photos")
