"""Cases that need the real command line, a database or a measurement: each runs
``python -m app score`` as a user would and judges its exit code, output and stored rows.

A scenario is a function (ctx) -> Outcome, registered with ``@scenario(name, cls)``. The
database faults (class 4), kills and concurrent stations have modules of their own.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .common import Context, Outcome, cli_args, photo, run_cli, sqlite_rows, write_photos
from .corpus import build_exif_jpeg, png_of_size

GROUPS = {1: "1 exceptions", 2: "2 identity", 3: "3 first start", 4: "4 db faults", 5: "5 damaged jpeg",
          6: "6 hangs", 7: "7 memory", 8: "8 model trust", 9: "9 tone/exit/suffix", 10: "10 card trust",
          11: "11 external data", 12: "12 secrets", 13: "13 site coherence", 14: "14 ratings files",
          15: "15 archive start-up"}


@dataclass(frozen=True)
class Scenario:
    name: str
    cls: int
    run: Callable[[Context], Outcome]
    slow: bool = False  # left out of --quick and CI when it costs more than a few seconds


SCENARIOS: list[Scenario] = []


def scenario(name: str, cls: int, slow: bool = False):
    def register(fn):
        SCENARIOS.append(Scenario(name, cls, fn, slow))
        return fn
    return register


def outcome(name: str, cls: int) -> Outcome:
    return Outcome(name, GROUPS[cls])


def judge(o: Outcome, run, what: str, want_rc: Callable[[int], bool] | None = None, rc_text: str = "") -> bool:
    """Count a crash / hang, or a wrong exit code; True when the run may be judged further."""
    if run.hung:
        o.note("hangs", f"{what}: {run.why()}")
        return False
    if run.crashed:
        o.note("crashes", f"{what}: {run.why()}")
        return False
    if want_rc is not None and not want_rc(run.rc):
        o.note("wrong", f"{what}: exit {run.rc}, expected {rc_text}; {run.why()}")
        return False
    return True


def ok_rc(rc: int) -> bool:
    return rc == 0


def refused_rc(rc: int) -> bool:
    """A refusal: non-zero, and not 1 (Python's own code for an uncaught exception)."""
    return rc not in (0, 1)


def rows_for(db: Path, name_part: str = "") -> list[tuple]:
    return [r for r in sqlite_rows(db) if name_part in r[0]]


# --- class 1: exceptions must not escape into a batch ---------------------------------------

@scenario("cli_batch_with_bad_exif", 1)
def cli_batch_with_bad_exif(ctx: Context) -> Outcome:
    o = outcome("cli_batch_with_bad_exif", 1)
    folder = ctx.folder("c1_exif_batch/photos")
    write_photos(folder, 2)
    build_exif_jpeg(0x010A)(folder / "photo_0001b_exif.jpg")  # sorted between the two good photos
    db = folder.parent / "d.db"
    run = run_cli(ctx, cli_args(ctx, [folder], db))
    if judge(o, run, "score", ok_rc, "0"):
        got = len(sqlite_rows(db))
        if got < 3:
            o.note("lost", f"{3 - got} of 3 photos have no row", 3 - got)
    return o


@scenario("cli_batch_with_non_utf8_name", 1)
def cli_batch_with_non_utf8_name(ctx: Context) -> Outcome:
    o = outcome("cli_batch_with_non_utf8_name", 1)
    folder = ctx.folder("c1_names/photos")
    write_photos(folder, 2)
    Image.fromarray(photo(64, 80, 9)).save(os.fsencode(folder) + b"/\xff\xfe.jpg", "JPEG")
    db = folder.parent / "d.db"
    run = run_cli(ctx, cli_args(ctx, [folder], db))
    if judge(o, run, "score", ok_rc, "0"):
        rows = sqlite_rows(db)
        if len(rows) < 3:
            o.note("lost", f"{3 - len(rows)} of 3 photos have no row", 3 - len(rows))
    return o


# --- class 2: identity of a photo -----------------------------------------------------------

def _status_of(db: Path, name: str) -> list[tuple]:
    return [r for r in sqlite_rows(db) if os.path.basename(r[0]) == name]


@scenario("truncated_then_completed", 2)
def truncated_then_completed(ctx: Context) -> Outcome:
    """A photo scored while still being copied (cut off), then completed: scored the second time."""
    o = outcome("truncated_then_completed", 2)
    folder = ctx.folder("c2_copy/photos")
    whole = folder.parent / "whole.jpg"
    Image.fromarray(photo(120, 160, 11)).save(whole, quality=90)
    data = whole.read_bytes()
    target = folder / "incoming.jpg"
    target.write_bytes(data[: len(data) // 2])
    db = folder.parent / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", ok_rc, "0"):
        return o
    first = _status_of(db, "incoming.jpg")
    if not first or first[0][1] == "ok":
        o.note("wrong", f"half a JPEG stored as {first}")
    target.write_bytes(data)  # the copy completes
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "second score", ok_rc, "0"):
        return o
    rows = _status_of(db, "incoming.jpg")
    if len(rows) > 1:
        o.note("dup", f"{len(rows)} rows for one photo", len(rows) - 1)
    if not rows or rows[0][1] != "ok":
        o.note("wrong", f"left unscored after it became readable: status {rows[0][1] if rows else None}")
    return o


@scenario("replaced_same_name_and_size", 2)
def replaced_same_name_and_size(ctx: Context) -> Outcome:
    """Another picture written over a photo, same name, same byte size: its new content is scored."""
    o = outcome("replaced_same_name_and_size", 2)
    folder = ctx.folder("c2_replace/photos")
    target = folder / "station.bmp"  # a BMP's size depends on its dimensions only
    Image.fromarray(photo(96, 128, 1)).save(target)
    db = folder.parent / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", ok_rc, "0"):
        return o
    size = target.stat().st_size
    Image.fromarray(255 - photo(96, 128, 2)).save(target)
    assert target.stat().st_size == size
    new_hash = hashlib.sha256(target.read_bytes()).hexdigest()
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "second score", ok_rc, "0"):
        return o
    with sqlite3.connect(db) as c:
        stored = c.execute("select content_hash from images where path like ?", ("%station.bmp",)).fetchall()
    if len(stored) > 1:
        o.note("dup", f"{len(stored)} image rows for one photo", len(stored) - 1)
    if not stored or stored[-1][0] != new_hash:
        o.note("wrong", "the replaced photo was not rescored: the stored content hash is the old picture's")
    return o


@scenario("relative_absolute_symlink_paths", 2)
def relative_absolute_symlink_paths(ctx: Context) -> Outcome:
    """The same three photos reached by an absolute path, a relative one, a symlinked folder and
    a path with ./ and ..: one row per photo."""
    o = outcome("relative_absolute_symlink_paths", 2)
    base = ctx.folder("c2_paths")
    folder = base / "photos"
    write_photos(folder, 3)
    link = base / "link"
    if not link.exists():
        link.symlink_to(folder, target_is_directory=True)
    db = base / "d.db"
    spellings = [([folder], None), ([Path("photos")], base), ([link], None),
                 ([base / "photos" / ".." / "photos" / "." / "photo_0001.png"], None)]
    for paths, cwd in spellings:
        if not judge(o, run_cli(ctx, cli_args(ctx, paths, db), cwd=cwd), f"score {paths[0]}", ok_rc, "0"):
            return o
    rows = sqlite_rows(db)
    if len(rows) > 3:
        o.note("dup", f"{len(rows)} rows for 3 photos: " + ", ".join(sorted(r[0] for r in rows))[:300], len(rows) - 3)
    if len(rows) < 3:
        o.note("lost", f"{len(rows)} rows for 3 photos", 3 - len(rows))
    return o


# --- class 6: nothing hangs -----------------------------------------------------------------

def _single_status(o: Outcome, db: Path, want_not_ok: bool = True) -> None:
    rows = sqlite_rows(db)
    if not rows:
        o.note("lost", "no row stored for the file named on the command line")
    elif want_not_ok and rows[0][1] == "ok":
        o.note("wrong", f"scored as a photo: {rows[0]}")


def _special_file_on_command_line(ctx: Context, o: Outcome, folder: str, name: str, make) -> None:
    """A file that is no photo (a FIFO, a link to /dev/zero) named on the command line: scored
    without hanging, exit 0, stored once with its status."""
    path = ctx.folder(folder) / name
    if not (path.exists() or path.is_symlink()):
        make(path)
    db = path.parent / "d.db"
    if judge(o, run_cli(ctx, cli_args(ctx, [path], db), timeout=60), f"score {name}", ok_rc, "0"):
        _single_status(o, db)


@scenario("fifo_on_command_line", 6)
def fifo_on_command_line(ctx: Context) -> Outcome:
    o = outcome("fifo_on_command_line", 6)
    _special_file_on_command_line(ctx, o, "c6_fifo", "pipe.jpg", os.mkfifo)
    return o


@scenario("symlink_to_dev_zero", 6)
def symlink_to_dev_zero(ctx: Context) -> Outcome:
    o = outcome("symlink_to_dev_zero", 6)
    _special_file_on_command_line(ctx, o, "c6_zero", "zero.jpg", lambda p: p.symlink_to("/dev/zero"))
    return o


@scenario("report_after_photo_became_fifo", 6)
def report_after_photo_became_fifo(ctx: Context) -> Outcome:
    o = outcome("report_after_photo_became_fifo", 6)
    base = ctx.folder("c6_report")
    folder = base / "photos"
    paths = write_photos(folder, 2)
    db = base / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", ok_rc, "0"):
        return o
    paths[0].unlink()
    os.mkfifo(paths[0])  # the stored photo is now a FIFO: the report must not block reading it
    report = base / "r.html"
    run = run_cli(ctx, cli_args(ctx, [paths[1]], db, extra=["--report", str(report)]), timeout=60)
    if judge(o, run, "score --report", ok_rc, "0") and not report.exists():
        o.note("wrong", "no report written")
    return o


@scenario("export_to_a_device_node", 6)
def export_to_a_device_node(ctx: Context) -> Outcome:
    """``--csv`` / ``--report`` naming a device (a user's ``--csv /dev/null``) must write into it or
    refuse, never replace the device with a regular file (an atomic write's os.replace would).
    Tried on a private copy of /dev/null's node, never on /dev/null itself."""
    import stat

    o = outcome("export_to_a_device_node", 6)
    base = ctx.folder("c6_device")
    folder = base / "photos"
    write_photos(folder, 1)
    nodes = {"--csv": base / "null.csv", "--report": base / "null.html"}
    for node in nodes.values():
        node.unlink(missing_ok=True)
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except (PermissionError, AttributeError):
            o.skipped = "cannot make a device node here (needs root / CAP_MKNOD)"
            return o
    for flag, node in nodes.items():
        run = run_cli(ctx, cli_args(ctx, [folder], base / "d.db", extra=[flag, str(node)]), timeout=60)
        if judge(o, run, f"score {flag} DEVICE") and not stat.S_ISCHR(os.lstat(node).st_mode):
            o.note("wrong", f"{flag}: the device node was replaced by a regular file")
    return o


# --- class 7: memory ------------------------------------------------------------------------

PEAK_RSS_MB = 1500


@scenario("png_14000x14000_small_file", 7)
def png_14000(ctx: Context) -> Outcome:
    """A 196 MP PNG in well under 1 MB must not be decoded at full size (peak RSS bounded)."""
    o = outcome("png_14000x14000_small_file", 7)
    base = ctx.folder("c7_big")
    path = base / "huge.png"
    if not path.exists():
        size = png_of_size(path, 14000, 14000)
        assert size < 1_000_000, size
    db = base / "d.db"
    run = run_cli(ctx, cli_args(ctx, [path], db), timeout=300)
    if judge(o, run, "score", ok_rc, "0"):
        _single_status(o, db, want_not_ok=False)
        if run.max_rss_mb > PEAK_RSS_MB:
            o.note("wrong", f"peak RSS {run.max_rss_mb:.0f} MB > {PEAK_RSS_MB} MB (decoded at full size)")
    return o


@scenario("jpeg_12000x12000", 7, slow=True)
def jpeg_12000(ctx: Context) -> Outcome:
    o = outcome("jpeg_12000x12000", 7)
    base = ctx.folder("c7_bigjpeg")
    path = base / "huge.jpg"
    if not path.exists():
        import cv2
        import numpy as np

        tile = np.tile(photo(500, 500, 3), (24, 24, 1))
        cv2.imwrite(str(path), tile, [cv2.IMWRITE_JPEG_QUALITY, 80])
        del tile
    db = base / "d.db"
    run = run_cli(ctx, cli_args(ctx, [path], db), timeout=300)
    if judge(o, run, "score", ok_rc, "0"):
        _single_status(o, db, want_not_ok=False)
        if run.max_rss_mb > PEAK_RSS_MB:
            o.note("wrong", f"peak RSS {run.max_rss_mb:.0f} MB > {PEAK_RSS_MB} MB")
    return o


# --- class 8: model trust -------------------------------------------------------------------

def tampered_copy(ctx: Context) -> Path:
    """The shipped model with one weight changed and its card's sha256 updated to match: the
    card still says it is the shipped model, its bytes are not."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    out = ctx.root / "tampered_model"
    if out.exists():
        return out
    out.mkdir()
    card_path = next(ctx.bundled.glob("*.json"))
    card = json.loads(card_path.read_text())
    model = onnx.load(str(ctx.bundled / card["onnx_file"]))
    init = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    weights = numpy_helper.to_array(init).copy()
    weights.flat[0] += 0.5
    init.CopyFrom(numpy_helper.from_array(weights, init.name))
    onnx_path = out / card["onnx_file"]
    onnx.save(model, str(onnx_path))
    card["sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if card.get("detail_model"):
        shutil.copy(ctx.bundled / card["detail_model"]["onnx_file"], out)
    (out / card_path.name).write_text(json.dumps(card, indent=1))
    return out


@scenario("tampered_shipped_model", 8)
def tampered_shipped_model(ctx: Context) -> Outcome:
    o = outcome("tampered_shipped_model", 8)
    base = ctx.folder("c8_tamper")
    folder = base / "photos"
    write_photos(folder, 1)
    db = base / "d.db"
    # Not approved: the card claims the shipped model, so nothing should need approving.
    run = run_cli(ctx, cli_args(ctx, [folder], db, model=tampered_copy(ctx), approve=False))
    if judge(o, run, "score with a tampered model", refused_rc, "a refusal (non-zero, not 1)"):
        if sqlite_rows(db):
            o.note("wrong", "rows were scored by the tampered model")
    return o


def _bad_model_rows(ctx: Context, variant: str) -> Outcome:
    name = f"model_{variant}_score"
    o = outcome(name, 8)
    base = ctx.folder(f"c8_{variant}")
    folder = base / "photos"
    write_photos(folder, 2)
    db = base / "d.db"
    run = run_cli(ctx, cli_args(ctx, [folder], db, model=ctx.tiny[variant]))
    if judge(o, run, f"score with a model answering {variant}"):
        rows = sqlite_rows(db)
        for path, status, score, verdict, *_ in rows:
            if status == "ok" or verdict is not None or score is not None:
                o.note("wrong", f"{os.path.basename(path)}: stored status {status}, score {score}, verdict {verdict} "
                                "(should be a model error, no score)")
    return o


@scenario("model_nan_score", 8)
def model_nan_score(ctx: Context) -> Outcome:
    return _bad_model_rows(ctx, "nan")


@scenario("model_range250_score", 8)
def model_range250_score(ctx: Context) -> Outcome:
    return _bad_model_rows(ctx, "range250")


# --- class 9: exit codes and folder listing ---------------------------------------------------

@scenario("mistyped_folder_exits_non_zero", 9)
def mistyped_folder(ctx: Context) -> Outcome:
    o = outcome("mistyped_folder_exits_non_zero", 9)
    base = ctx.folder("c9_mistyped")
    run = run_cli(ctx, cli_args(ctx, [base / "no_such_folder"], base / "d.db"))
    judge(o, run, "score a folder that does not exist", refused_rc, "non-zero (not 1)")
    return o


@scenario("model_failing_every_photo_exits_non_zero", 9)
def model_failing_every_photo(ctx: Context) -> Outcome:
    o = outcome("model_failing_every_photo_exits_non_zero", 9)
    base = ctx.folder("c9_fail")
    folder = base / "photos"
    write_photos(folder, 3)
    db = base / "d.db"
    run = run_cli(ctx, cli_args(ctx, [folder], db, model=ctx.tiny["fail"]))
    if judge(o, run, "score with a model failing on every photo", refused_rc, "non-zero (not 1)"):
        if any(r[1] == "ok" for r in sqlite_rows(db)):
            o.note("wrong", "a photo stored as ok by a model that fails on every input")
    return o


@scenario("odd_suffixes_in_folder", 9)
def odd_suffixes_in_folder(ctx: Context) -> Outcome:
    """.gif, .jfif, .jpe (and upper case) in a folder are offered, not skipped silently."""
    o = outcome("odd_suffixes_in_folder", 9)
    base = ctx.folder("c9_suffixes")
    folder = base / "photos"
    folder.mkdir(exist_ok=True)
    rgb = photo(64, 80, 5)
    names = {"a.gif": "GIF", "b.jfif": "JPEG", "c.jpe": "JPEG", "d.JPE": "JPEG", "e.GIF": "GIF", "f.Jfif": "JPEG",
             "g.tiff": "TIFF", "h.webp": "WEBP", "i.bmp": "BMP"}
    for name, fmt in names.items():
        Image.fromarray(rgb).save(folder / name, fmt)
    db = base / "d.db"
    if judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "score folder", ok_rc, "0"):
        got = {os.path.basename(r[0]) for r in sqlite_rows(db)}
        missing = sorted(set(names) - got)
        if missing:
            o.note("lost", f"skipped silently: {', '.join(missing)}", len(missing))
    return o
