"""Faults a real station meets: killed processes, hostile files, odd names."""
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from app.core.imageio import ImageLoadError, load_rgb


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims a huge size: a decompression bomb's calling card."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(40000, 40000))
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == "too_large" and "40000x40000" in str(err.value)


def test_non_ascii_names_load(tmp_path):
    folder = tmp_path / "Prüfung 検査"
    folder.mkdir()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(folder / "фото_ü.jpg")
    assert load_rgb(folder / "фото_ü.jpg").shape == (30, 40, 3)


def _rows(db):
    try:
        with sqlite3.connect(db, timeout=10) as c:
            return c.execute("select count(*) from scores").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
def test_kill_9_mid_batch_leaves_a_consistent_database_and_a_rerun_finishes_without_duplicates(exported_student, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(60):
        Image.fromarray(rng.integers(0, 256, (200, 260, 3), dtype=np.uint8)).save(photos / f"{i:03d}.png")
    db = tmp_path / "crash.db"
    cmd = [sys.executable, "-m", "app", "--model", str(exported_student[1]), "score", str(photos), "--db", str(db)]
    kills = 0
    for target in (5, 20, 35):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while _rows(db) < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        with sqlite3.connect(db) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            # Every stored row is whole: a score, opinions and verdict together, or an error.
            half = c.execute("select count(*) from scores where status = 'ok' and (score is null or opinions is null or verdict is null)").fetchone()[0]
            assert half == 0
    assert kills >= 2, "the batch finished before it could be killed: make it longer"
    before = _rows(db)
    assert 0 < before < 60
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    assert f"{60 - before} scored, 0 failed, {before} already in the database" in result.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*), count(distinct image_id) from scores").fetchone() == (60, 60)
        assert c.execute("select count(*) from images").fetchone()[0] == 60


@pytest.mark.slow
def test_a_fine_tune_killed_mid_way_leaves_the_model_usable_and_resumes(rated_site, tmp_path):
    from app.core.model_loader import load_model

    db_path, base, cfg = rated_site
    base_sha = load_model(base).card["sha256"]
    out = tmp_path / "ft"
    cmd = [sys.executable, "-m", "training", "finetune", "--db", str(db_path), "--base", str(base),
           "--out", str(out), "--config", str(cfg), "--epochs", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while not (out / "run" / "last.pt").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the fine-tune ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # after its first epoch's checkpoint, mid-run
    proc.wait()
    # The model in use is untouched and still loads; no half-made version is registered.
    assert load_model(base).card["sha256"] == base_sha
    with sqlite3.connect(db_path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("select count(*) from model_versions where version like '%+site.%'").fetchone()[0] == 0
    assert not list(out.glob("*-site-*.onnx"))
    # The same command resumes from the last complete epoch and finishes.
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resumed from" in (out / "run" / "train.log").read_text()
    assert len(list(out.glob("*-site-*.onnx"))) == 1
    with sqlite3.connect(db_path) as c:
        assert c.execute("select count(*) from model_versions where version like '%+site.%'").fetchone()[0] == 1
