import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from app.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


# Three photos, a file that is no JPEG and an empty one whose name a spreadsheet would run.
BROKEN = {"broken.jpg": b"\xff\xd8\xff garbage", "=cmd.jpg": b""}


def test_score_stores_rows_writes_csv_and_reports_bad_photos_without_failing(exported_student, tmp_path, capsys,
                                                                            make_photos):
    make_photos(tmp_path / "in", 3, (96, 128), name="good{i}.png", broken=BROKEN)
    db = tmp_path / "i.db"
    out = tmp_path / "scores.csv"
    report = tmp_path / "report.html"
    code = main(["--model", str(exported_student[1]), "score", str(tmp_path / "in"), "--db", str(db), "--csv", str(out),
                 "--report", str(report)])
    stdout, stderr = capsys.readouterr()
    assert code == 0
    good = next(line for line in stdout.splitlines() if "good0.png" in line)
    assert 0 <= float(good.split("\t")[1]) <= 100
    assert "broken.jpg\tERROR\tcorrupt" in stdout or "broken.jpg\tERROR\tnot_an_image" in stdout
    assert "3 scored, 2 failed, 0 already in the database" in stderr
    with sqlite3.connect(db) as c:
        rows = c.execute("select i.path, s.status, s.score, s.verdict from scores s join images i on i.id = s.image_id").fetchall()
    assert len(rows) == 5
    assert sum(1 for r in rows if r[1] == "ok" and r[3] in ("pass", "review", "fail")) == 3
    with open(out, newline="", encoding="utf-8-sig") as f:  # the BOM spreadsheets need, read back
        exported = list(csv.DictReader(f))
    assert len(exported) == 5
    assert "Batch report" in report.read_text()
    injected = next(r for r in exported if "cmd.jpg" in r["path"])
    assert injected["status"] == "empty"
    # A rerun adds nothing, skips what is scored and unchanged, and tries the failed ones again.
    assert main(["--model", str(exported_student[1]), "score", str(tmp_path / "in"), "--db", str(db)]) == 0
    assert "0 scored, 2 failed, 3 already in the database and unchanged" in capsys.readouterr().err
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from scores").fetchone()[0] == 5


def test_exported_text_cannot_run_as_a_spreadsheet_formula(tmp_path):
    from app.core.outputs.scores_csv import spreadsheet_safe, write_scores_csv

    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("-1+2") == "'-1+2"
    assert spreadsheet_safe(-3.5) == -3.5 and spreadsheet_safe("photo.jpg") == "photo.jpg"
    path = write_scores_csv([{"path": "@SUM(A1)", "score": 12.5}], tmp_path / "x.csv")
    assert "'@SUM(A1)" in path.read_text()


def test_a_bad_model_is_a_usage_error(tmp_path, capsys):
    assert main(["--model", str(tmp_path), "score", str(tmp_path), "--db", str(tmp_path / "d.db")]) == 2
    assert "no model card" in capsys.readouterr().err


def test_without_a_display_the_program_says_how_to_run_headless():
    env = {"PATH": "/usr/bin:/bin"}  # no DISPLAY, no QT_QPA_PLATFORM
    result = subprocess.run([sys.executable, "-m", "app"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "No display found" in result.stderr and "score" in result.stderr


def test_the_app_never_loads_torch():
    code = "import sys, app.__main__, app.cli, app.ui.main_window; print('torch' in sys.modules or 'timm' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_self_test_scores_the_bundled_sample(exported_student, capsys):
    assert main(["--model", str(exported_student[1]), "--self-test"]) == 0
    out, err = capsys.readouterr()
    assert "parrots_kodak23.png: ok score" in out and "self-test passed" in err


def test_self_test_fails_loudly_without_a_model(tmp_path, capsys):
    assert main(["--model", str(tmp_path), "--self-test"]) == 1
    assert "self-test FAILED" in capsys.readouterr().err


def test_a_mistyped_folder_is_an_error_before_anything_is_scored(exported_student, tmp_path, capsys, make_photos):
    make_photos(tmp_path / "in", 3, (96, 128), name="good{i}.png", broken=BROKEN)
    db = tmp_path / "i.db"
    code = main(["--model", str(exported_student[1]), "score", str(tmp_path / "in"), str(tmp_path / "ni"), "--db", str(db)])
    assert code == 2 and "no such file or folder" in capsys.readouterr().err and not db.exists()


def test_files_a_folder_holds_besides_photos_are_counted_not_silently_skipped(exported_student, tmp_path, capsys,
                                                                               make_photos):
    folder = tmp_path / "in"
    make_photos(folder, size=(64, 64), name=("a.jpe", "b.jfif", "c.gif"))  # each written as its suffix says
    (folder / "notes.txt").write_text("minutes")
    assert main(["--model", str(exported_student[1]), "score", str(folder), "--db", str(tmp_path / "i.db")]) == 0
    err = capsys.readouterr().err
    assert "3 scored" in err and "1 other files left out (not photos by name)" in err


def test_ctrl_c_during_a_batch_ends_with_one_line_and_130(tmp_path, make_photos):
    """A real process, a real SIGINT while it scores: exit 130, one line, the rows stored so far kept."""
    folder = tmp_path / "photos"
    make_photos(folder, 400, (300, 400), name="p{i:03d}.png")
    db = tmp_path / "c.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    # As from a terminal: Ctrl+C's default disposition. (A process that inherits SIGINT ignored, as
    # a shell's background job does and as this test run may after tests that start clusters,
    # rightly never hears it.)
    proc = subprocess.Popen([sys.executable, "-m", "app", "score", str(folder), "--db", str(db)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        if line.endswith("ms\n"):  # a photo was scored
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted:" in err
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from scores").fetchone()[0] >= 1


def test_score_after_an_upgrade_that_keeps_the_scores_judges_by_the_sites_thresholds_and_says_so(
        exported_student, tmp_path, capsys, make_photos):
    from app.core.verdict import Thresholds
    from app.core.workspace import Workspace
    from tests.conftest import install_in_place, scores_as

    make_photos(tmp_path / "in", 3, (96, 128))
    shipped, card = install_in_place(exported_student, tmp_path / "program", "0.0.1")
    station = Workspace(tmp_path / "i.db")
    station.load_model(shipped)
    station.set_thresholds(Thresholds(99, 98), "strict", changed_by="Ana")  # nothing passes, nothing reviews
    station.close()
    install_in_place(exported_student, tmp_path / "program", "0.0.2", scores_as(card))
    assert main(["--model", str(shipped), "score", str(tmp_path / "in"), "--db", str(tmp_path / "i.db")]) == 0
    assert ("tiny v0.0.2 gives v0.0.1's scores: its thresholds 'strict' (pass ≥ 99, fail < 98) and the site's choice "
            "of model carried over from v0.0.1") in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "i.db") as c:
        assert c.execute("select s.verdict from scores s join model_versions m on m.id = s.model_version_id "
                         "where m.version = '0.0.2'").fetchall() == [("fail",)] * 3
