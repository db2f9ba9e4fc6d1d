"""The archive walk streams canonical photo paths, folder by folder."""
from __future__ import annotations

import os
import types

from app.archive.walk import WalkCounts, chunked, walk_photos


def test_the_walk_yields_canonical_photo_paths_as_it_goes_and_counts_the_rest(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".thumbnails").mkdir()
    for p in ("a/1.jpg", "a/b/2.PNG", "a/b/3.heic", "a/notes.txt", ".thumbnails/x.jpg", "a/.hidden.jpg", "a/c.jpg.part"):
        (tmp_path / p).write_bytes(b"x")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")  # a loop: read once
    os.symlink(tmp_path / "a" / "1.jpg", tmp_path / "link.jpg")  # a link: its target's name
    counts = WalkCounts()
    walk = walk_photos([tmp_path / "a" / ".." / "."], counts)
    assert isinstance(walk, types.GeneratorType)  # nothing listed until asked for
    first = next(walk)
    got = sorted([first, *walk])
    real = os.path.realpath(tmp_path)
    assert sorted(set(got)) == sorted(f"{real}/{p}" for p in ("a/1.jpg", "a/b/2.PNG", "a/b/3.heic"))
    assert counts.ignored == 3  # notes.txt, .hidden.jpg, the .part file
    assert counts.photos == len(got)


def test_a_named_file_is_yielded_whatever_its_name_and_an_unreadable_folder_is_reported(tmp_path):
    (tmp_path / "doc.txt").write_text("x")
    counts = WalkCounts()
    assert list(walk_photos([tmp_path / "doc.txt"], counts)) == [str(tmp_path / "doc.txt")]
    locked = tmp_path / "locked"
    locked.mkdir()
    os.symlink(tmp_path / "gone", tmp_path / "locked" / "gone.jpg")  # a broken link: scored as missing
    assert list(walk_photos([locked], counts)) == [str(tmp_path / "gone")]
    if os.geteuid() != 0:  # root reads any folder
        locked.chmod(0)
        assert list(walk_photos([locked], counts)) == [] and counts.unreadable
        locked.chmod(0o755)


def test_chunks_are_drawn_lazily():
    drawn = []

    def paths():
        for i in range(10):
            drawn.append(i)
            yield str(i)

    chunks = chunked(paths(), 4)
    assert next(chunks) == ["0", "1", "2", "3"] and len(drawn) == 4
    assert list(chunks) == [["4", "5", "6", "7"], ["8", "9"]]
