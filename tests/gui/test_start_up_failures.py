"""Starting with a home folder that cannot hold the database (issue 22, finding 1 / build 8), through
the real entry point (``python -m app``'s main): the window shows one dialog that says what to do
and ends with a non-zero code; ``python -m app score`` says the same in one line. Never a traceback.

As root, read-only modes are ignored, so the home is blocked by a file standing where its folder
should be; a full disk is simulated by the database file's creation failing with ENOSPC."""
import errno
import os

import pytest
from PySide6.QtWidgets import QMessageBox

from app.__main__ import main
from app.core.store import database

pytestmark = pytest.mark.gui


@pytest.fixture
def blocked_home(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    home = tmp_path / "a-file" / "mobileiqa"  # its folder cannot be made: a file is in the way
    monkeypatch.setenv("MOBILEIQA_HOME", str(home))
    return home


@pytest.fixture
def full_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MOBILEIQA_HOME", str(home))

    def no_space(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(database, "create_private_file", no_space)
    return home


def answered_no(monkeypatch) -> list[tuple[str, str]]:
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append((title, text)) or QMessageBox.No))
    return asked


def test_python_m_app_score_with_a_home_blocked_by_a_file_says_what_to_do_in_one_line(
        blocked_home, exported_student, make_photos, tmp_path, capsys):
    photo, = make_photos(tmp_path / "photos", 1)
    assert main(["--model", str(exported_student[1]), "score", str(photo)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(blocked_home / "inspector.db") in err and "Not a directory" in err
    assert "a file stands where a folder should be" in err and "MOBILEIQA_HOME" in err


def test_python_m_app_score_with_a_full_home_says_to_free_space_in_one_line(
        full_home, exported_student, make_photos, tmp_path, capsys):
    photo, = make_photos(tmp_path / "photos", 1)
    assert main(["--model", str(exported_student[1]), "score", str(photo)]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "No space left on device" in err and "free some disk space" in err


def test_the_window_with_a_full_home_shows_one_dialog_saying_what_to_do_and_exits_non_zero(
        qtbot, full_home, exported_student, monkeypatch, capsys):
    asked = answered_no(monkeypatch)
    code = main(["--model", str(exported_student[1])])
    assert code != 0
    [(title, text)] = asked  # one dialog
    assert title == "Cannot open the database" and "Traceback" not in text
    assert "No space left on device" in text and "free some disk space" in text
    assert "Choose another folder" in text  # and the way out it offers
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_window_with_a_home_blocked_by_a_file_shows_one_dialog_saying_what_to_do_and_exits_non_zero(
        qtbot, blocked_home, exported_student, monkeypatch, capsys):
    asked = answered_no(monkeypatch)
    assert main(["--model", str(exported_student[1])]) != 0
    [(title, text)] = asked
    assert str(blocked_home / "inspector.db") in text and "a file stands where a folder should be" in text
    assert "Traceback" not in text and "Traceback" not in capsys.readouterr().err
    assert not blocked_home.exists()  # nothing was written
