import threading
import time

import pytest

from app.sources.folder import FolderWatcher, is_candidate


def _ready(events):
    return [e.path.name for e in events if e.kind == "ready"]


def test_existing_files_come_first_sorted_and_only_once(tmp_path, clock):
    for name in ("b.jpg", "a.png", "c.JPG"):
        (tmp_path / name).write_bytes(b"x" * 10)
    w = FolderWatcher(tmp_path, settle_seconds=1.0, clock=clock)
    assert _ready(w.poll()) == []  # not settled yet
    clock.t = 1.5
    (tmp_path / "new.jpg").write_bytes(b"y")
    assert _ready(w.poll()) == ["a.png", "b.jpg", "c.JPG"]
    clock.t = 3.0
    assert _ready(w.poll()) == ["new.jpg"]
    clock.t = 5.0
    assert w.poll() == []


@pytest.mark.parametrize("name", [".hidden.jpg", "~$lock.jpg", "img.jpg.part", "x.tmp", "dl.jpg.crdownload", "notes.txt"])
def test_hidden_temp_and_non_images_are_ignored(name, tmp_path):
    from pathlib import Path

    assert not is_candidate(Path(name))


def test_a_file_still_being_written_is_not_ready_until_it_stops_growing(tmp_path):
    path = tmp_path / "slow.jpg"
    stop = threading.Event()

    def writer():
        with open(path, "wb") as f:
            for _ in range(8):
                f.write(b"z" * 1000)
                f.flush()
                time.sleep(0.1)
        stop.set()

    w = FolderWatcher(tmp_path, settle_seconds=0.3)
    thread = threading.Thread(target=writer)
    thread.start()
    seen_while_writing = []
    while not stop.is_set():
        seen_while_writing += _ready(w.poll())
        time.sleep(0.05)
    thread.join()
    assert seen_while_writing == []
    time.sleep(0.35)
    assert _ready(w.poll()) == ["slow.jpg"]
    assert path.stat().st_size == 8000


def test_a_rename_is_a_move_not_a_new_photo_and_deletion_is_reported(tmp_path, clock):
    (tmp_path / "a.jpg").write_bytes(b"a" * 5)
    w = FolderWatcher(tmp_path, settle_seconds=0.5, clock=clock)
    w.poll()
    clock.t = 1
    assert _ready(w.poll()) == ["a.jpg"]
    (tmp_path / "a.jpg").rename(tmp_path / "renamed.jpg")
    clock.t = 2
    events = w.poll()
    assert [(e.kind, e.path.name, e.old_path.name) for e in events] == [("moved", "renamed.jpg", "a.jpg")]
    (tmp_path / "renamed.jpg").unlink()
    assert [(e.kind, e.path.name) for e in w.poll()] == [("removed", "renamed.jpg")]


def test_recursive_watching_and_unreadable_files_are_retried_then_given_up(tmp_path, clock):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.png").write_bytes(b"p")
    flat = FolderWatcher(tmp_path, settle_seconds=0, clock=clock)
    assert _ready(flat.poll()) == []
    w = FolderWatcher(tmp_path, recursive=True, settle_seconds=0, max_retries=2, clock=clock)
    assert _ready(w.poll()) == ["deep.png"]
    path = tmp_path / "sub" / "deep.png"
    assert w.retry_later(path) is True
    assert _ready(w.poll()) == ["deep.png"]
    assert w.retry_later(path) is True
    assert _ready(w.poll()) == ["deep.png"]
    assert w.retry_later(path) is False


def test_a_vanished_folder_yields_removals_not_a_crash(tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"a")
    w = FolderWatcher(folder, settle_seconds=0)
    assert _ready(w.poll()) == ["a.jpg"]
    (folder / "a.jpg").unlink()
    folder.rmdir()
    assert [e.kind for e in w.poll()] == ["removed"]
