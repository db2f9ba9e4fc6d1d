"""``python -m app ratings import|export|mos`` through the real entry point: raw votes in and out
(this program's layout, avrateNG's, P.808's), nothing stored twice, MOS with and without the
rejected raters and each rater's reason."""
import csv
import io
import os
import sqlite3

import numpy as np
import pytest

from app.__main__ import main
from app.core.ratings.session import LabelingSession, screened_site_mos
from app.core.ratings.csv_export import batch_summary, site_ratings
from app.core.ratings.votes_file import parse_time
from app.core.store import open_database

PHOTOS = [f"p{i:02d}.jpg" for i in range(12)]


def _rate(db_path, folder, raters=6, constant=None, seed=0):
    """Raters answer a batch in the labeling panel's own session (one undo each, so every
    export holds a withdrawn vote); ``constant`` always answers 3."""
    rng = np.random.default_rng(seed)
    photos = [str(folder / p) for p in PHOTOS]
    truth = dict(zip(photos, rng.uniform(1.5, 4.5, len(photos))))
    gold = [(str(folder / "gold.jpg"), 2, 1)]
    db = open_database(db_path)
    try:
        for r in [f"rater{i}" for i in range(raters)] + ([constant] if constant else []):
            s = LabelingSession(db, r, "batch", photos, (), gold, display={"screen": "1920x1080", "panel": "800x600"})
            first = True
            while (item := s.current()) is not None:
                if r == constant:
                    value = 3
                elif item.kind == "gold":
                    value = 2
                else:
                    value = int(np.clip(round(truth[item.path] + rng.normal(0, 0.5)), 1, 5))
                s.vote(value, 700)
                if first:
                    s.undo()  # withdrawn, kept
                    first = False
    finally:
        db.close()


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _count(db_path, sql):
    with sqlite3.connect(db_path) as c:
        return c.execute(sql).fetchone()[0]


def test_export_import_export_is_a_round_trip_that_keeps_every_raw_vote(tmp_path, capsys):
    _rate(tmp_path / "a.db", tmp_path)
    assert main(["ratings", "--db", str(tmp_path / "a.db"), "export", "--csv", str(tmp_path / "a.csv")]) == 0
    rows = _csv(tmp_path / "a.csv")
    assert list(rows[0]) == ["rater", "photo", "vote", "time", "session", "condition", "kind", "response_ms", "withdrawn"]
    assert len(rows) == _count(tmp_path / "a.db", "select count(*) from votes") == 6 * 14
    assert sum(1 for r in rows if r["withdrawn"]) == 6 and {r["kind"] for r in rows} == {"normal", "gold"}
    assert rows[0]["condition"] == "panel=800x600 screen=1920x1080"

    assert main(["ratings", "--db", str(tmp_path / "b.db"), "import", str(tmp_path / "a.csv")]) == 0
    assert "84 vote(s) imported (mobileiqa layout) from 6 rater(s)" in capsys.readouterr().err
    assert main(["ratings", "--db", str(tmp_path / "b.db"), "export", "--csv", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "a.csv").read_text()

    # The statistics agree too (gold answers travel in their own file).
    assert main(["ratings", "--db", str(tmp_path / "a.db"), "export", "--csv", os.devnull,
                 "--gold", str(tmp_path / "gold.csv")]) == 0
    assert main(["ratings", "--db", str(tmp_path / "c.db"), "import", str(tmp_path / "a.csv"),
                 "--gold", str(tmp_path / "gold.csv")]) == 0
    for db in ("a", "c"):
        assert main(["ratings", "--db", str(tmp_path / f"{db}.db"), "mos", "--csv", str(tmp_path / f"{db}-mos.csv")]) == 0
    assert (tmp_path / "a-mos.csv").read_text() == (tmp_path / "c-mos.csv").read_text()
    assert (tmp_path / "a-mos-raters.csv").read_text() == (tmp_path / "c-mos-raters.csv").read_text()


def test_importing_twice_or_into_the_source_database_adds_nothing(tmp_path, capsys):
    _rate(tmp_path / "a.db", tmp_path, raters=3)
    main(["ratings", "--db", str(tmp_path / "a.db"), "export", "--csv", str(tmp_path / "a.csv")])
    before = _count(tmp_path / "a.db", "select count(*) from votes")
    assert main(["ratings", "--db", str(tmp_path / "a.db"), "import", str(tmp_path / "a.csv")]) == 0
    err = capsys.readouterr().err
    assert "0 vote(s) imported" in err and f"{before} already in the database" in err
    assert _count(tmp_path / "a.db", "select count(*) from votes") == before
    for _ in range(2):
        main(["ratings", "--db", str(tmp_path / "b.db"), "import", str(tmp_path / "a.csv")])
    assert _count(tmp_path / "b.db", "select count(*) from votes") == before
    assert "already in the database" in capsys.readouterr().err


def test_an_avrateng_export_imports_its_acr_votes_with_paths_under_root(tmp_path, capsys):
    (tmp_path / "stimuli").mkdir()
    for p in PHOTOS[:3]:
        (tmp_path / "stimuli" / p).write_bytes(b"")
    text = ("user_ID,stimuli_ID,stimuli_file,rating_type,rating,timestamp\n"
            "1,-1,,user_registered,-1,2026-11-30 10:00:00 000001\n"
            + "".join(f"{u},{k},stimuli/{p},acr,{(u + k) % 5 + 1},2026-11-30 10:0{k}:0{u} 123456\n"
                      for u in (1, 2) for k, p in enumerate(PHOTOS[:3]))
            + "2,9,stimuli/p00.jpg,acr,7,2026-11-30 10:09:00 000000\n")
    (tmp_path / "exp" / "_ratings.csv").parent.mkdir()
    (tmp_path / "exp" / "_ratings.csv").write_text(text)
    code = main(["ratings", "--db", str(tmp_path / "i.db"), "import", str(tmp_path / "exp" / "_ratings.csv"),
                 "--root", str(tmp_path), "--rater-prefix", "lab1-"])
    err = capsys.readouterr().err
    assert code == 0
    assert "line 9: skipped: vote '7' is not an ACR level 1-5" in err
    assert "6 vote(s) imported (avrateng layout) from 2 rater(s) on 3 photo(s)" in err
    assert "1 row(s) that are not ACR votes left out" in err and "not on this station's disk" not in err
    with sqlite3.connect(tmp_path / "i.db") as c:
        rows = c.execute("select r.key, i.path, v.value, v.created_at from votes v join raters r on r.id = v.rater_id "
                         "join images i on i.id = v.image_id order by v.created_at").fetchall()
    assert rows[0] == ("lab1-1", str(tmp_path / "stimuli" / "p00.jpg"), 2, "2026-11-30 10:00:01.123456")


def test_a_p808_per_worker_file_without_times_imports_once(tmp_path, capsys):
    text = "HITId,workerid,assignment_id,file,short_file_name,vote,question_type,condition_name\n" + "".join(
        f"H1,W{w},A{w},https://host/clips/{p},{p},{(w + k) % 5 + 1},MOS,c{k % 2}\n"
        for w in range(3) for k, p in enumerate(PHOTOS[:4]))
    path = tmp_path / "votes_per_worker.csv"
    path.write_text(text)
    for _ in range(2):
        assert main(["ratings", "--db", str(tmp_path / "p.db"), "import", str(path), "--root", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "12 vote(s) imported (p808 layout)" in err and "12 already in the database" in err
    assert _count(tmp_path / "p.db", "select count(*) from votes") == 12
    main(["ratings", "--db", str(tmp_path / "p.db"), "export", "--csv", str(tmp_path / "out.csv")])
    rows = _csv(tmp_path / "out.csv")
    assert {r["time"] for r in rows} == {""} and {r["session"] for r in rows} == {"A0", "A1", "A2"}
    assert {r["condition"] for r in rows} == {"c0", "c1"} and rows[0]["photo"].startswith(str(tmp_path))


def test_relative_and_symlinked_paths_become_one_canonical_photo(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.jpg").write_bytes(b"")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "v.csv").write_text("rater,photo,vote,time\n"
                                    "x,real/a.jpg,4,2026-11-30T10:00:00Z\n"
                                    f"y,{tmp_path}/link/a.jpg,3,2026-11-30T10:00:01+01:00\n"
                                    "z,./link/../real/a.jpg,5,1764496800\n")
    assert main(["ratings", "--db", str(tmp_path / "r.db"), "import", str(tmp_path / "v.csv")]) == 0
    assert _count(tmp_path / "r.db", "select count(*) from images") == 1
    assert _count(tmp_path / "r.db", "select path from images") == os.path.realpath(tmp_path / "real" / "a.jpg")
    assert parse_time("2026-11-30T10:00:01+01:00") == parse_time("2026-11-30T09:00:01")


def test_bad_rows_are_skipped_with_their_line_and_a_file_that_is_not_votes_stores_nothing(tmp_path, capsys):
    (tmp_path / "v.csv").write_text("rater;photo;vote;time\n"
                                    "x;a.jpg;4;2026-11-30T10:00:00Z\n"
                                    "x;b.jpg;4.5;2026-11-30T10:00:00Z\n"
                                    ";c.jpg;4;2026-11-30T10:00:00Z\n"
                                    "x;d.jpg;3;yesterday\n")
    assert main(["ratings", "--db", str(tmp_path / "r.db"), "import", str(tmp_path / "v.csv")]) == 0
    err = capsys.readouterr().err
    assert "line 3: skipped: vote '4.5' is not an ACR level 1-5" in err
    assert "line 4: skipped: no rater" in err and "line 5: skipped: time 'yesterday'" in err
    assert _count(tmp_path / "r.db", "select count(*) from votes") == 1

    (tmp_path / "scores.csv").write_text("image,score\na.jpg,50\n")
    assert main(["ratings", "--db", str(tmp_path / "s.db"), "import", str(tmp_path / "scores.csv")]) == 2
    assert "matches no known layout" in capsys.readouterr().err
    assert main(["ratings", "--db", str(tmp_path / "s.db"), "import", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert _count(tmp_path / "s.db", "select count(*) from votes") == 0


def test_mos_tables_give_both_mos_and_each_raters_reason(tmp_path, capsys):
    _rate(tmp_path / "m.db", tmp_path, raters=6, constant="always3")
    assert main(["ratings", "--db", str(tmp_path / "m.db"), "mos", "--csv", str(tmp_path / "mos.csv")]) == 0
    photos = {r["photo"]: r for r in _csv(tmp_path / "mos.csv")}
    raters = {r["rater"]: r for r in _csv(tmp_path / "mos-raters.csv")}
    assert raters["always3"]["rejected"] == "yes" and "constant rater: all 13 votes are 3" in raters["always3"]["reasons"]
    assert all(raters[f"rater{i}"]["rejected"] == "no" for i in range(6))
    row = photos[str(tmp_path / PHOTOS[0])]
    assert (row["n"], row["n_all"]) == ("6", "7")
    db = open_database(tmp_path / "m.db")
    try:
        mos, info = screened_site_mos(db)
        m = mos[str(tmp_path / PHOTOS[0])]
        assert float(row["mos"]) == pytest.approx(m.mos, abs=1e-4) and float(row["ci95"]) == pytest.approx(m.ci95, abs=1e-4)
        assert info["rejected_raters"] == ["always3"] and "always3: constant" in info["summary"]
        assert photos[str(tmp_path / "gold.jpg")]["gold"] == "2±1" and float(row["model_ci95"]) > 0
        # The labeling panel's end-of-batch summary: votes per photo, MOS ± CI, what screening judged.
        summary = batch_summary(db, [str(tmp_path / p) for p in PHOTOS])
        assert summary.startswith("This batch: 12 photos, 6 votes each")
        assert f"{PHOTOS[0]}: {m.text()}" in summary and "BT.500" in summary
    finally:
        db.close()

    assert main(["ratings", "--db", str(tmp_path / "m.db"), "mos"]) == 0
    out = capsys.readouterr().out
    assert "always3: rejected: constant rater" in out and "Rejected raters left out: 13 photos, 6 votes each" in out
    assert main(["ratings", "--db", str(tmp_path / "m.db"), "mos", "--csv", "-"]) == 0
    photo_table, rater_table = capsys.readouterr().out.split("\n\n")
    assert len(list(csv.DictReader(io.StringIO(photo_table)))) == 13
    assert len(list(csv.DictReader(io.StringIO(rater_table)))) == 7


def test_imported_votes_count_in_screening_like_the_panels(tmp_path):
    lines = ["rater,photo,vote,time"]
    rng = np.random.default_rng(1)
    truth = rng.uniform(1.5, 4.5, 30)
    for i in range(8):
        for j, t in enumerate(truth):
            v = int(rng.integers(1, 6)) if i == 0 else int(np.clip(round(t + rng.normal(0, 0.5)), 1, 5))
            lines.append(f"r{i},ph{j}.jpg,{v},2026-11-30T10:{i:02d}:{j:02d}Z")
    (tmp_path / "v.csv").write_text("\n".join(lines) + "\n")
    assert main(["ratings", "--db", str(tmp_path / "v.db"), "import", str(tmp_path / "v.csv")]) == 0
    db = open_database(tmp_path / "v.db")
    try:
        site = site_ratings(db)
        assert site.rejected == {"r0"} and len(site.screened) == 30
        assert all(m.n == 7 for m in site.screened.values()) and all(m.n == 8 for m in site.all.values())
    finally:
        db.close()
