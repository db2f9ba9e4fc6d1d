"""A photo is its content at its real location: what changed or failed is scored again, and one
file reached by several paths is one row."""
import os
import sqlite3
import time

from PIL import Image

from app.core.scoring.photo import score_batch
from app.sources.folder import FolderWatcher
from tests.conftest import write_photos


def _photo(path, seed, size=(96, 128)):
    """One random JPEG at ``path``, its content decided by ``seed``."""
    write_photos(path.parent, 1, size, name=path.name, seed=seed, quality=90)


def _rows(ws):
    return {r["path"]: r for r in ws.rows()}


def test_a_photo_truncated_while_copied_is_scored_once_the_copy_completes(station, tmp_path):
    path = tmp_path / "copying.jpg"
    _photo(path, 0)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    score_batch([path], station.engine, station.db, station.model_version_id)
    assert _rows(station)[str(path)]["status"] == "truncated"
    path.write_bytes(whole)  # the copy finished
    summary = score_batch([path], station.engine, station.db, station.model_version_id)
    assert summary.scored == 1 and _rows(station)[str(path)]["status"] == "ok"


def test_a_photo_replaced_in_place_with_the_same_name_and_size_is_scored_again(station, tmp_path):
    path = tmp_path / "same_name.bmp"  # uncompressed: every picture of this size has this file size
    Image.new("RGB", (96, 128), (20, 200, 40)).save(path)
    size = path.stat().st_size
    score_batch([path], station.engine, station.db, station.model_version_id)
    first = _rows(station)[str(path)]["score"]
    write_photos(path.parent, 1, (128, 96), name=path.name, seed=3)
    assert path.stat().st_size == size
    summary = score_batch([path], station.engine, station.db, station.model_version_id)
    assert (summary.skipped, summary.scored) == (0, 1)
    assert _rows(station)[str(path)]["score"] != first


def test_an_unchanged_photo_is_skipped_on_a_rerun(station, tmp_path):
    path = tmp_path / "kept.jpg"
    _photo(path, 1)
    score_batch([path], station.engine, station.db, station.model_version_id)
    again = score_batch([path], station.engine, station.db, station.model_version_id)
    assert (again.skipped, again.scored) == (1, 0)


def test_one_file_reached_by_relative_absolute_and_symlinked_paths_is_one_row(station, tmp_path, monkeypatch):
    real = tmp_path / "photos"
    real.mkdir()
    for i in range(2):
        _photo(real / f"p{i}.jpg", i)
    (tmp_path / "shortcut").symlink_to(real, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for paths in ([real / "p0.jpg", real / "p1.jpg"],
                  [os.path.join("photos", "p0.jpg"), os.path.join("photos", "p1.jpg")],
                  [tmp_path / "shortcut" / "p0.jpg", tmp_path / "shortcut" / "p1.jpg"]):
        score_batch([os.fspath(p) for p in paths], station.engine, station.db, station.model_version_id)
    with sqlite3.connect(tmp_path / "station.db") as c:
        assert c.execute("select count(*) from images").fetchone()[0] == 2
        assert c.execute("select count(*) from scores").fetchone()[0] == 2
    assert sorted(_rows(station)) == [str(real / "p0.jpg"), str(real / "p1.jpg")]


def test_the_watcher_offers_a_photo_again_when_it_is_overwritten_with_the_same_size(tmp_path):
    now = [0.0]
    watcher = FolderWatcher(tmp_path, settle_seconds=1.0, clock=lambda: now[0])
    path = tmp_path / "cam.png"
    path.write_bytes(b"A" * 100)
    watcher.poll()
    now[0] = 2.0
    assert [e.path for e in watcher.poll() if e.kind == "ready"] == [path]
    time.sleep(0.01)
    path.write_bytes(b"B" * 100)  # same inode, same size, new content and time
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    watcher.poll()
    now[0] = 4.0
    assert [e.path for e in watcher.poll() if e.kind == "ready"] == [path]
