"""The batch report a quality manager files: every photo with the decision in force, the batch it
came from, counts by disposition, the files that could not be scored, the worst photos' overlays."""
from datetime import datetime

import numpy as np
import pytest

from app.core.outputs.batch_report import BatchContext, build_report
from app.core.outputs.report import write_report
from app.core.outputs.report_html import render_html
from app.core.outputs.report_rows import disposition_counts, photo_lines, score_span
from app.core.outputs.reviews import ReviewState, with_reviews
from app.core.verdict import Thresholds
from tests.html_tables import ReportPage

WHEN = datetime(2026, 12, 6, 9, 30)


def stored(path, score, verdict, status="ok", error=None, at="2026-12-06T08:00:00"):
    """One row as the store exports it (app.core.store.repository.score_rows)."""
    return {"path": path, "score": score, "verdict": verdict, "status": status, "error": error, "opinions": None,
            "model": "tiny", "model_version": "1.2", "model_sha256": "ab" * 32, "scored_at": at}


@pytest.fixture
def batch_rows():
    rows = [stored("/b/low.jpg", 20.0, "fail", at="2026-12-06T08:00:00"),
            stored("/b/sharp.jpg", 80.0, "pass", at="2026-12-06T08:05:00"),
            stored("/b/mid.jpg", 50.0, "review", at="2026-12-06T08:02:00"),
            stored("/b/fine.jpg", 70.0, "pass", at="2026-12-06T08:03:00"),
            stored("/b/<i>broken.jpg", None, None, status="decode_error", error="not a JPEG", at="2026-12-06T08:01:00")]
    reviews = {"/b/low.jpg": ReviewState("accepted", "Ana", WHEN, "lighting is intended"),
               "/b/sharp.jpg": ReviewState("rejected", "B-1042", WHEN, "smudge"),
               "/b/mid.jpg": ReviewState("reviewed", "Ana", WHEN)}
    return with_reviews(rows, reviews)


def test_a_decision_sets_the_disposition_and_the_counts_follow_it(batch_rows):
    by_path = {r["path"]: r for r in batch_rows}
    assert by_path["/b/low.jpg"]["disposition"] == "pass"  # accepted over the model's fail
    assert by_path["/b/sharp.jpg"]["disposition"] == "fail"  # rejected over the model's pass
    assert by_path["/b/mid.jpg"]["disposition"] == "review"  # looked at, nothing overridden
    assert by_path["/b/<i>broken.jpg"]["disposition"] == ""  # not scored: no disposition
    counts = disposition_counts(photo_lines(batch_rows))
    assert counts == {"fail": 1, "review": 1, "pass": 2, "not scored": 1, "accepted": 1, "rejected": 1}


def test_photo_lines_put_the_worst_first_and_the_files_not_scored_last(batch_rows):
    lines = photo_lines(batch_rows)
    assert [line.name for line in lines] == ["sharp.jpg", "mid.jpg", "low.jpg", "fine.jpg", "<i>broken.jpg"]
    rejected = lines[0]
    assert (rejected.verdict, rejected.disposition, rejected.reason, rejected.decided_by) == \
        ("pass", "fail", "smudge", "B-1042")


def test_the_score_span_runs_from_the_first_to_the_last_photo_scored(batch_rows):
    assert score_span(batch_rows) == ("2026-12-06T08:00:00", "2026-12-06T08:05:00")
    assert score_span([]) is None


def test_the_report_names_every_photo_its_decision_and_the_batch_it_came_from(batch_rows):
    context = BatchContext(source="/b", lot="LOT-7 <a>", operator="B-1042", station="line-3", profile="night shift")
    report = build_report(batch_rows, None, Thresholds(60, 40), context, thumbnails={"/b/low.jpg": _jpeg()}, worst=0)
    page = ReportPage(render_html(report))
    photos = {row["file"]: row for row in page.rows("photos")}
    assert len(photos) == 5  # every photo of the batch, the unscored one too
    assert photos["sharp.jpg"]["model verdict"] == "pass" and photos["sharp.jpg"]["disposition"] == "rejected: fail"
    assert photos["sharp.jpg"]["reason"] == "smudge" and photos["sharp.jpg"]["decided by"] == "B-1042"
    assert photos["sharp.jpg"]["when (UTC)"] == "2026-12-06 09:30"
    assert photos["low.jpg"]["disposition"] == "accepted: pass" and photos["<i>broken.jpg"]["score"] == "not scored"
    thumbs = page.row_images["photos"][1:]  # below the header
    names = [row["file"] for row in page.rows("photos")]
    assert [page.images[i]["src"].startswith("data:image/jpeg;base64,") for i in thumbs[names.index("low.jpg")]] == [True]
    assert thumbs[names.index("mid.jpg")] == []  # no thumbnail kept: an empty cell, not a broken image
    batch = page.pairs("batch")
    assert batch["lot"] == "LOT-7 <a>" and batch["folder"] == "/b"  # escaped, read back as typed
    assert batch["operator"] == "B-1042" and batch["station"] == "line-3"
    assert batch["model"] == "tiny 1.2" and batch["model identity (SHA-256)"] == "ab" * 32
    assert batch["thresholds"] == "pass ≥ 60, fail < 40 (profile night shift)"
    assert batch["scored (UTC)"] == "2026-12-06 08:00 – 2026-12-06 08:05"
    counts = page.rows("counts")[0]
    assert (counts["photos"], counts["fail"], counts["review"], counts["pass"], counts["not scored"]) == \
        ("5", "1", "1", "2", "1")
    assert page.rows("not-scored") == [{"file": "<i>broken.jpg", "status": "decode_error", "message": "not a JPEG"}]


def test_a_report_of_an_empty_lot_says_no_lot_and_a_profile_left_unnamed_is_not_invented(batch_rows):
    report = build_report(batch_rows, None, Thresholds(60, 40), BatchContext(source="/b"), worst=0)
    batch = ReportPage(render_html(report)).pairs("batch")
    assert batch["lot"] == "—" and batch["thresholds"] == "pass ≥ 60, fail < 40"


def _jpeg() -> bytes:
    import cv2

    return cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()


def test_the_worst_photos_are_shown_with_captioned_overlays_and_their_colour_scales(exported_student, tmp_path,
                                                                                    make_photos):
    from app.core.model.loader import load_model
    from app.core.outputs.reviews import current_reviews
    from app.core.scoring.engine import Engine
    from app.core.scoring.photo import score_batch
    from app.core.store import open_database
    from app.core.store.repository import register_model, score_rows

    paths = make_photos(tmp_path, 4, (64, 80), broken={"<i>bad.jpg": b"not a photo"}) + [tmp_path / "<i>bad.jpg"]
    model = load_model(exported_student[1])
    db = open_database(tmp_path / "r.db")
    mv = register_model(db, model.card, str(model.onnx_path))
    engine = Engine(model)
    score_batch(paths, engine, db, mv)
    steps = []
    rows = with_reviews(score_rows(db, mv), current_reviews(db))
    out = write_report(rows, engine, Thresholds(60, 40), tmp_path / "report.html", worst=3,
                       progress=lambda done, total: steps.append((done, total)))
    text = out.read_text()
    page = ReportPage(text)
    assert page.rows("counts")[0]["photos"] == "5"
    for n in (1, 2, 3):
        cells = page.tables[f"worst-{n}"]
        assert len(page.row_images[f"worst-{n}"][0]) == 3  # the photo, where it looked, where it found damage
        assert cells[1] == ["the photo", "where the model looked", "where it found damage"]
    assert "worst-4" not in page.tables
    scales = {img["alt"] for img in page.images if "colour scale" in img.get("alt", "")}
    assert scales == {"attention colour scale", "damage colour scale"}
    attention, damage = page.tables["scale-attention"][0], page.tables["scale-damage"][0]
    assert attention[0] == "where the model looked:" and damage[0] == "where it found damage:"
    assert attention[1].startswith("0×") and attention[-1].startswith("4×")  # the fixed scales of app.core.scoring.overlay
    assert damage[1].startswith("0 ") and damage[-1].startswith("1 ")
    assert steps[-1] == (3, 3) and [d for d, _ in steps] == [1, 2, 3]  # one step per worst photo
    assert "&lt;i&gt;bad.jpg" in text and "<i>bad" not in text  # file names are escaped
    db.close()
