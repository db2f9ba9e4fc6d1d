"""Cases that need the real command line, a database or a measurement, classes 1 to 9: each runs
``python -m app score`` as a user would and judges its exit code, output and stored rows.

Most are rows of a table (``score_case.ScoreCase``: one run, then checks of what it stored); a
case that needs two runs or a change between them is a function of its own. The database faults
(class 4), kills and concurrent stations have modules of their own.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path

from PIL import Image

from .common import Context, Outcome, cli_args, photo, run_cli, sqlite_rows, write_photos
from .corpus import build_exif_jpeg, png_of_size
from .registry import EXIT_0, REFUSAL, judge, scenario
from .score_case import (ScoreCase, all_stored, model_errors_only, no_ok_rows, no_rows, one_row, peak_rss_below,
                         register, rows_at_least, tiny)

# --- class 1: exceptions must not escape into a batch ---------------------------------------


def _bad_exif(ctx: Context, base: Path) -> None:
    build_exif_jpeg(0x010A)(base / "photos" / "photo_0001b_exif.jpg")  # sorted between the two good photos


def _non_utf8_name(ctx: Context, base: Path) -> None:
    Image.fromarray(photo(64, 80, 9)).save(os.fsencode(base / "photos") + b"/\xff\xfe.jpg", "JPEG")


register([
    ScoreCase("cli_batch_with_bad_exif", 1, photos=2, make=_bad_exif, checks=(rows_at_least(3),)),
    ScoreCase("cli_batch_with_non_utf8_name", 1, photos=2, make=_non_utf8_name, checks=(rows_at_least(3),)),
])


# --- class 2: identity of a photo -----------------------------------------------------------

def _status_of(db: Path, name: str) -> list[tuple]:
    return [r for r in sqlite_rows(db) if os.path.basename(r[0]) == name]


@scenario("truncated_then_completed", 2)
def truncated_then_completed(ctx: Context, o: Outcome) -> None:
    """A photo scored while still being copied (cut off), then completed: scored the second time."""
    folder = ctx.folder("c2_copy/photos")
    whole = folder.parent / "whole.jpg"
    Image.fromarray(photo(120, 160, 11)).save(whole, quality=90)
    data = whole.read_bytes()
    target = folder / "incoming.jpg"
    target.write_bytes(data[: len(data) // 2])
    db = folder.parent / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", EXIT_0):
        return
    first = _status_of(db, "incoming.jpg")
    if not first or first[0][1] == "ok":
        o.note("wrong", f"half a JPEG stored as {first}")
    target.write_bytes(data)  # the copy completes
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "second score", EXIT_0):
        return
    rows = _status_of(db, "incoming.jpg")
    if len(rows) > 1:
        o.note("dup", f"{len(rows)} rows for one photo", len(rows) - 1)
    if not rows or rows[0][1] != "ok":
        o.note("wrong", f"left unscored after it became readable: status {rows[0][1] if rows else None}")


@scenario("replaced_same_name_and_size", 2)
def replaced_same_name_and_size(ctx: Context, o: Outcome) -> None:
    """Another picture written over a photo, same name, same byte size: its new content is scored."""
    folder = ctx.folder("c2_replace/photos")
    target = folder / "station.bmp"  # a BMP's size depends on its dimensions only
    Image.fromarray(photo(96, 128, 1)).save(target)
    db = folder.parent / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", EXIT_0):
        return
    size = target.stat().st_size
    Image.fromarray(255 - photo(96, 128, 2)).save(target)
    assert target.stat().st_size == size
    new_hash = hashlib.sha256(target.read_bytes()).hexdigest()
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "second score", EXIT_0):
        return
    with sqlite3.connect(db) as c:
        stored = c.execute("select content_hash from images where path like ?", ("%station.bmp",)).fetchall()
    if len(stored) > 1:
        o.note("dup", f"{len(stored)} image rows for one photo", len(stored) - 1)
    if not stored or stored[-1][0] != new_hash:
        o.note("wrong", "the replaced photo was not rescored: the stored content hash is the old picture's")


@scenario("relative_absolute_symlink_paths", 2)
def relative_absolute_symlink_paths(ctx: Context, o: Outcome) -> None:
    """The same three photos reached by an absolute path, a relative one, a symlinked folder and
    a path with ./ and ..: one row per photo."""
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
        if not judge(o, run_cli(ctx, cli_args(ctx, paths, db), cwd=cwd), f"score {paths[0]}", EXIT_0):
            return
    rows = sqlite_rows(db)
    if len(rows) > 3:
        o.note("dup", f"{len(rows)} rows for 3 photos: " + ", ".join(sorted(r[0] for r in rows))[:300], len(rows) - 3)
    if len(rows) < 3:
        o.note("lost", f"{len(rows)} rows for 3 photos", 3 - len(rows))


# --- class 6: nothing hangs -----------------------------------------------------------------

def _special_file(case: str, name: str, make) -> ScoreCase:
    """A file that is no photo (a FIFO, a link to /dev/zero) named on the command line: scored
    without hanging, exit 0, stored once with its status."""
    def make_it(ctx: Context, base: Path) -> None:
        path = base / name
        if not (path.exists() or path.is_symlink()):
            make(path)
    return ScoreCase(case, 6, f"score {name}", make=make_it, target=name, timeout=60, checks=(one_row(not_ok=True),))


register([
    _special_file("fifo_on_command_line", "pipe.jpg", os.mkfifo),
    _special_file("symlink_to_dev_zero", "zero.jpg", lambda p: p.symlink_to("/dev/zero")),
])


@scenario("report_after_photo_became_fifo", 6)
def report_after_photo_became_fifo(ctx: Context, o: Outcome) -> None:
    base = ctx.folder("c6_report")
    folder = base / "photos"
    paths = write_photos(folder, 2)
    db = base / "d.db"
    if not judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), "first score", EXIT_0):
        return
    paths[0].unlink()
    os.mkfifo(paths[0])  # the stored photo is now a FIFO: the report must not block reading it
    report = base / "r.html"
    run = run_cli(ctx, cli_args(ctx, [paths[1]], db, extra=["--report", str(report)]), timeout=60)
    if judge(o, run, "score --report", EXIT_0) and not report.exists():
        o.note("wrong", "no report written")


@scenario("export_to_a_device_node", 6)
def export_to_a_device_node(ctx: Context, o: Outcome) -> None:
    """``--csv`` / ``--report`` naming a device (a user's ``--csv /dev/null``) must write into it or
    refuse, never replace the device with a regular file (an atomic write's os.replace would).
    Tried on a private copy of /dev/null's node, never on /dev/null itself."""
    import stat

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
            return
    for flag, node in nodes.items():
        run = run_cli(ctx, cli_args(ctx, [folder], base / "d.db", extra=[flag, str(node)]), timeout=60)
        if judge(o, run, f"score {flag} DEVICE") and not stat.S_ISCHR(os.lstat(node).st_mode):
            o.note("wrong", f"{flag}: the device node was replaced by a regular file")


# --- class 7: memory ------------------------------------------------------------------------

PEAK_RSS_MB = 1500


def _png_14000(ctx: Context, base: Path) -> None:
    """A 196 MP PNG in well under 1 MB."""
    path = base / "huge.png"
    if not path.exists():
        size = png_of_size(path, 14000, 14000)
        assert size < 1_000_000, size


def _jpeg_12000(ctx: Context, base: Path) -> None:
    path = base / "huge.jpg"
    if not path.exists():
        import cv2
        import numpy as np

        tile = np.tile(photo(500, 500, 3), (24, 24, 1))
        cv2.imwrite(str(path), tile, [cv2.IMWRITE_JPEG_QUALITY, 80])
        del tile


# A huge picture must not be decoded at full size: its peak RSS is bounded.
register([
    ScoreCase("png_14000x14000_small_file", 7, make=_png_14000, target="huge.png", timeout=300,
              checks=(one_row(not_ok=False), peak_rss_below(PEAK_RSS_MB, " (decoded at full size)"))),
    ScoreCase("jpeg_12000x12000", 7, make=_jpeg_12000, target="huge.jpg", timeout=300, slow=True,
              checks=(one_row(not_ok=False), peak_rss_below(PEAK_RSS_MB))),
])


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


register([
    # Not approved: the card claims the shipped model, so nothing should need approving.
    ScoreCase("tampered_shipped_model", 8, "score with a tampered model", REFUSAL, photos=1,
              model=lambda ctx, base: tampered_copy(ctx), approve=False,
              checks=(no_rows("rows were scored by the tampered model"),)),
    # A model answering NaN or a score out of its range: every photo a model error, never a score.
    *(ScoreCase(f"model_{variant}_score", 8, f"score with a model answering {variant}", None, photos=2,
                model=tiny(variant), checks=(model_errors_only,)) for variant in ("nan", "range250")),
])


# --- class 9: exit codes and folder listing ---------------------------------------------------

# .gif, .jfif, .jpe (and upper case) in a folder are offered, not skipped silently.
ODD_SUFFIXES = {"a.gif": "GIF", "b.jfif": "JPEG", "c.jpe": "JPEG", "d.JPE": "JPEG", "e.GIF": "GIF", "f.Jfif": "JPEG",
                "g.tiff": "TIFF", "h.webp": "WEBP", "i.bmp": "BMP"}


def _odd_suffixes(ctx: Context, base: Path) -> None:
    folder = base / "photos"
    folder.mkdir(exist_ok=True)
    rgb = photo(64, 80, 5)
    for name, fmt in ODD_SUFFIXES.items():
        Image.fromarray(rgb).save(folder / name, fmt)


register([
    ScoreCase("mistyped_folder_exits_non_zero", 9, "score a folder that does not exist", REFUSAL,
              target="no_such_folder"),
    ScoreCase("model_failing_every_photo_exits_non_zero", 9, "score with a model failing on every photo", REFUSAL,
              photos=3, model=tiny("fail"),
              checks=(no_ok_rows("a photo stored as ok by a model that fails on every input"),)),
    ScoreCase("odd_suffixes_in_folder", 9, "score folder", make=_odd_suffixes, checks=(all_stored(ODD_SUFFIXES),)),
])
