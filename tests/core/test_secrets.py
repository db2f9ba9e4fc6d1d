"""Secrets stay secret: database and camera passwords are masked wherever a URL is shown, a
password on a command line is warned of (and only then), the station's database is its owner's
alone, and exported ratings cannot run as formulas in a spreadsheet."""
import csv
import os
import stat

import pytest

from app.__main__ import main
from app.core.store import open_database
from app.core.store.urls import hide_password
from app.sources.camera import CameraSource


@pytest.mark.parametrize("url, shown", [
    ("postgresql://inspector:s3cret@db.site/photos", "postgresql://inspector:***@db.site/photos"),
    ("postgresql://inspector@db.site/photos?password=s3cret&sslmode=require",
     "postgresql://inspector@db.site/photos?password=***&sslmode=require"),
    ("postgresql+psycopg://u:p@ss/w0rd%40@db.site:5433/photos", "postgresql+psycopg://u:***@db.site:5433/photos"),
    ("postgresql:///photos?host=/var/run/postgresql", "postgresql:///photos?host=/var/run/postgresql"),
    ("postgresql://u@h/db?sslkey=/home/u/.pg/key.pem&sslpassword=pw", "postgresql://u@h/db?sslkey=/home/u/.pg/key.pem&sslpassword=***"),
    ("rtsp://admin:cam-pass@10.0.0.9:554/stream1", "rtsp://admin:***@10.0.0.9:554/stream1"),
    ("/home/anna/.local/share/mobileiqa/inspector.db", "/home/anna/.local/share/mobileiqa/inspector.db"),
])
def test_every_password_in_a_url_is_masked_whatever_it_holds(url, shown):
    assert hide_password(url) == shown
    assert all(secret not in hide_password(url) for secret in ("s3cret", "p@ss", "w0rd", "cam-pass", "=pw"))


def test_score_warns_of_a_password_on_its_command_line_and_only_then(tmp_path, capsys):
    missing = str(tmp_path / "no-such-folder")
    main(["score", missing, "--db", "postgresql://inspector:s3cret@127.0.0.1:1/photos"])
    err = capsys.readouterr().err
    assert "shows in this PC's process list" in err and "s3cret" not in err
    main(["score", missing, "--db", "postgresql:///photos?host=/nonexistent/socket"])
    assert "process list" not in capsys.readouterr().err


def test_a_new_station_database_is_readable_by_its_owner_alone(tmp_path):
    home = tmp_path / "home" / "mobileiqa"
    open_database(home / "inspector.db").close()
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for f in home.glob("inspector.db*"):
        assert stat.S_IMODE(os.stat(f).st_mode) & 0o077 == 0, f.name


def test_an_existing_database_keeps_the_permissions_its_site_gave_it(tmp_path):
    path = tmp_path / "shared.db"
    open_database(path).close()
    os.chmod(path, 0o660)
    open_database(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660


def test_a_camera_password_never_reaches_a_message():
    source = CameraSource("rtsp://admin:cam-pass@127.0.0.1:9/none", open_capture=lambda spec: _Closed(),
                          reconnect_seconds=0)
    frame = source.read()
    assert "cam-pass" not in frame.message and "admin:***@" in frame.message
    assert source.shown == "rtsp://admin:***@127.0.0.1:9/none"


class _Closed:
    def isOpened(self):
        return False

    def release(self):
        pass


def test_ratings_exports_neutralise_formulas_and_read_back_unchanged(tmp_path, capsys):
    photo = tmp_path / "=HYPERLINK(photo).jpg"
    photo.write_bytes(b"")
    votes = tmp_path / "votes.csv"
    with open(votes, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rater", "photo", "vote", "time"])
        for i, rater in enumerate(['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1"]):
            w.writerow([rater, photo.name, 3 + i % 2, f"2026-12-0{i + 1}T10:00:00Z"])
    db = str(tmp_path / "r.db")
    assert main(["ratings", "--db", db, "import", str(votes), "--root", str(tmp_path)]) == 0
    out = tmp_path / "out.csv"
    assert main(["ratings", "--db", db, "export", "--csv", str(out)]) == 0
    for row in csv.reader(open(out, newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert main(["ratings", "--db", db, "mos", "--csv", str(tmp_path / "mos.csv"),
                 "--raters", str(tmp_path / "raters.csv")]) == 0
    for name in ("mos.csv", "raters.csv"):
        for row in csv.reader(open(tmp_path / name, newline="")):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), (name, row)
    # Imported again into another station, the export gives back the very raters and photo.
    db2 = str(tmp_path / "r2.db")
    assert main(["ratings", "--db", db2, "import", str(out), "--root", str(tmp_path)]) == 0
    out2 = tmp_path / "out2.csv"
    main(["ratings", "--db", db2, "export", "--csv", str(out2)])
    assert open(out2).read() == open(out).read()
