"""Only regular files are read, with a size bound: a FIFO or a device never hangs a batch."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.imageio.decode import ImageLoadError, read_bytes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_and_a_link_to_a_device_get_a_status_and_never_hang(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    # In a child process with a deadline: a hang here would otherwise stall the whole suite.
    code = textwrap.dedent(f"""
        from app.core.imageio.decode import ImageLoadError, read_bytes
        for p in ({str(fifo)!r}, {str(zero)!r}):
            try:
                read_bytes(p)
                print("read", p)
            except ImageLoadError as exc:
                print(exc.kind, exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=os.getcwd())
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("not_a_file") and "FIFO" in lines[0]
    assert lines[1].startswith("not_a_file") and "device" in lines[1]


def test_a_file_over_the_size_bound_is_refused_before_reading(tmp_path, monkeypatch):
    from app.core.imageio import decode as imageio

    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\x00" * 4096)
    monkeypatch.setattr(imageio, "MAX_FILE_BYTES", 1024)
    with pytest.raises(ImageLoadError) as err:
        read_bytes(big)
    assert err.value.kind == "too_large" and "bytes" in str(err.value)


@pytest.mark.skipif(sys.platform != "linux", reason="file names of arbitrary bytes are a Linux thing")
def test_a_file_name_that_is_not_utf8_gets_a_status_and_the_batch_goes_on(exported_student, tmp_path):
    import shutil

    from app.cli import iter_photos
    from app.core.scoring.photo import score_batch
    from app.core.workspace import Workspace

    folder = tmp_path / "names"
    folder.mkdir()
    sample = next((Path(__file__).resolve().parents[2] / "resources" / "samples").glob("*.png"))
    shutil.copy(sample, folder / "good.png")
    shutil.copy(sample, os.fsdecode(bytes(folder) + b"/caf\xe9.png"))
    ws = Workspace(tmp_path / "names.db")
    ws.load_model(exported_student[1])
    try:
        summary = score_batch(iter_photos([folder], recursive=False), ws.engine, ws.db, ws.model_version_id)
        statuses = {Path(r["path"]).name: r["status"] for r in ws.rows()}
    finally:
        ws.close()
    assert summary.scored == 1 and summary.failed == 1
    assert statuses == {"good.png": "ok", "caf\\xe9.png": "bad_name"}
