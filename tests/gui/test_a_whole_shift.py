"""A line inspector's whole shift in one story, through the real window: signed in, a folder of
real-size photos read with its sub-folders and watched, twenty photos reviewed (one by one, then a
batch reject undone and done right), the model version switched by a supervisor, the program
relaunched, the report filed. Every decision must still be in force, named and in the report."""
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.ui.gallery import PathRole, StatusRole
from tests.gui.conftest import relaunched, settled
from tests.gui.test_report_user_actions import answer_save_dialog, answer_text_dialogs
from tests.gui.test_user_actions import (action_for, answer_reason, answer_sign_in, answer_supervisor,
                                         choose_folder_with_ctrl_o, signed_in_with_ctrl_u)
from tests.html_tables import ReportPage

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LARGE = {"cam-a_12mp.jpg": (3000, 4000), "cam-b_16mp.jpg": (3456, 4608), "cam-c_24mp.jpg": (4000, 6000)}


def camera_like_photo(path: Path, height: int, width: int, seed: int) -> None:
    """A JPEG of ``height`` x ``width`` with a camera photo's smooth content (a small random
    picture enlarged), so a 24 MP file is a few MB like a camera's, not 50 MB of noise."""
    import cv2

    small = np.random.default_rng(seed).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC),
                [cv2.IMWRITE_JPEG_QUALITY, 90])


def a_days_folder(root: Path) -> Path:
    """Three camera-size photos (12, 16 and 24 MP) and nineteen smaller ones spread over two
    lines' sub-folders, plus a file that is no photo."""
    for i, (name, (h, w)) in enumerate(LARGE.items()):
        camera_like_photo(root / ("line-1" if i < 2 else "line-2/tray-3") / name, h, w, seed=i)
    for i in range(19):
        where = ("", "line-1", "line-2/tray-3")[i % 3]
        camera_like_photo(root / where / f"part{i:02d}.jpg", 480, 640, seed=100 + i)
    (root / "line-2" / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def name_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def current(window):
    return window.model.item(window.gallery.currentIndex().data(PathRole))


def click(qtbot, window, name: str, modifier=Qt.NoModifier) -> None:
    row = next(r for r in range(window.proxy.rowCount()) if name_of(window.proxy.index(r, 0).data(PathRole)) == name)
    index = window.proxy.index(row, 0)
    window.gallery.scrollTo(index)
    qtbot.mouseClick(window.gallery.viewport(), Qt.LeftButton, modifier, window.gallery.visualRect(index).center())


def stored_decisions(db: Path) -> dict[str, tuple[str, str]]:
    """Each photo's latest decision on record: {file name: (decision, reviewer)}."""
    with sqlite3.connect(db) as c:
        rows = c.execute("select images.path, decision, reviewer from reviews join images on images.id = image_id"
                         " order by reviews.id").fetchall()
    latest = {name_of(p): (d, who) for p, d, who in rows}
    return {n: v for n, v in latest.items() if v[0] != "cleared"}


def test_a_whole_shift_ends_with_every_decision_kept_named_and_in_the_report(
        qtbot, window, exported_student, tmp_path, monkeypatch):
    import torch

    from models import create_model
    from training.export import export_model

    folder = a_days_folder(tmp_path / "shift")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)

    # Sign in: the station's first operator is its supervisor; the inspector signs in after her.
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "B-1042")
    assert window.station_status.operator.full_text() == "B-1042 (operator)"

    # The folder with its sub-folders, watched, as a line station runs all day.
    qtbot.mouseClick(window.recursive, Qt.LeftButton)
    qtbot.mouseClick(window.watch, Qt.LeftButton)
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 23 and window.progress.value() == 23, timeout=240000)
    assert window.is_busy()  # still watching
    camera_like_photo(folder / "line-2" / "tray-3" / "late.jpg", 480, 640, seed=999)  # a photo arriving mid-shift
    qtbot.waitUntil(lambda: window.model.item(str(folder / "line-2" / "tray-3" / "late.jpg")) is not None,
                    timeout=30000)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("name")

    # Fifteen photos one by one: N to the next not looked at, M for most, A and X where the model erred.
    keys = {3: "A", 7: "X", 11: "A"}
    answer_reason(monkeypatch, ("other", "customer sample"), ("noise", "grain in the shadows"),
                  ("framing", "the part is whole, only off-centre"))
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    one_by_one = []
    while len(one_by_one) < 15:
        item = current(window)
        if item.status == "ok" and item.review is None:
            action_for(window, keys.get(len(one_by_one), "M")).trigger()
            settled(qtbot, window)
            one_by_one.append(name_of(item.path))
        action_for(window, "N").trigger()
    assert len(set(one_by_one)) == 15
    # The marks show in the mode of the whole day (sub-folders and watching): the review filters agree.
    window.filter_box.setCurrentText("reviewed")
    assert sorted(name_of(window.proxy.index(r, 0).data(PathRole)) for r in range(window.proxy.rowCount())) == \
        sorted(one_by_one)
    window.filter_box.setCurrentText("not reviewed")
    left = [name_of(window.proxy.index(r, 0).data(PathRole)) for r in range(window.proxy.rowCount())
            if window.proxy.index(r, 0).data(StatusRole) == "ok"]
    assert len(left) == 24 - 1 - 15

    # A batch reject of six, one of them by mistake: Ctrl+Z undoes it whole, then the right five.
    batch, mistake = left[:5], left[5]
    for i, name in enumerate(batch + [mistake]):
        click(qtbot, window, name, Qt.NoModifier if i == 0 else Qt.ControlModifier)
    assert len(window.gallery.selected_paths()) == 6
    answer_reason(monkeypatch, ("blur", "tray out of focus"), ("blur", "tray out of focus"))
    action_for(window, "X").trigger()
    settled(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Rejected 6 photos")
    action_for(window, "Ctrl+Z").trigger()
    settled(qtbot, window)
    assert window.statusBar().currentMessage() == "Undone: the decision on 6 photos"
    window.filter_box.setCurrentText("not reviewed")  # the six are back among the photos to review
    for i, name in enumerate(batch):
        click(qtbot, window, name, Qt.NoModifier if i == 0 else Qt.ControlModifier)
    action_for(window, "X").trigger()
    settled(qtbot, window)
    reviewed = one_by_one + batch
    assert len(reviewed) == 20
    decided = stored_decisions(tmp_path / "inspector.db")
    assert sorted(decided) == sorted(reviewed) and {who for _, who in decided.values()} == {"B-1042"}
    assert mistake not in decided

    # The supervisor switches the model version: stop watching first (a batch keeps its model).
    qtbot.mouseClick(window.watch, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=120000)
    torch.manual_seed(5)
    other, _ = export_model(create_model("student", weights=None).eval(), tmp_path / "other" / "tiny-b",
                            {"version": "9.9.9"})
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), "")))
    supervisor_asked = answer_supervisor(monkeypatch, "Ana")
    questions = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: questions.append((title, text)) or QMessageBox.Yes))
    action_for(window, "Ctrl+M").trigger()
    qtbot.waitUntil(lambda: window.workspace.model.version == "9.9.9", timeout=60000)
    qtbot.waitUntil(lambda: not window.is_busy() and len(window.model.items) == 24, timeout=240000)
    settled(qtbot, window)
    assert supervisor_asked and "decisions" in " ".join(text for _, text in questions)  # said what changes
    for name, (decision, _who) in decided.items():
        item = next(it for it in window.model.items if name_of(it.path) == name)
        assert item.decision == decision and item.review.reviewer == "B-1042"  # kept under the new version

    # Relaunch: the station comes back as it was left.
    window.close()
    again = relaunched(qtbot, exported_student[1], tmp_path)
    qtbot.waitUntil(lambda: len(again.model.items) == 24 and not again.is_busy(), timeout=120000)
    settled(qtbot, again)
    assert again.workspace.model.version == "9.9.9"
    assert again.recursive.isChecked() and not again.watch.isChecked()
    for name, (decision, _who) in decided.items():
        item = next(it for it in again.model.items if name_of(it.path) == name)
        assert item.decision == decision and item.review.reviewer == "B-1042"
    offered = answer_sign_in(monkeypatch, "B-1042")
    action_for(again, "Ctrl+U").trigger()
    settled(qtbot, again)
    assert offered == ["B-1042"]  # the station remembers who worked it last

    # The report a quality manager files.
    answer_text_dialogs(monkeypatch, {"Batch report": "LOT-22"})
    out = tmp_path / "shift.html"
    answer_save_dialog(monkeypatch, out, "HTML, images included (*.html)")
    action_for(again, "Ctrl+R").trigger()
    qtbot.waitUntil(lambda: again.statusBar().currentMessage().startswith("Wrote report"), timeout=120000)
    page = ReportPage(out.read_text(encoding="utf-8"))
    photos = {row["file"].rsplit("/", 1)[-1]: row for row in page.rows("photos")}
    assert len(photos) == 24
    for name, (decision, _who) in decided.items():
        row = photos[name]
        assert row["decided by"] == "B-1042", row
        assert row["disposition"].startswith({"accepted": "accepted", "rejected": "rejected",
                                              "reviewed": ""}[decision]), row
    assert photos["cam-c_24mp.jpg"]["score"] != "not scored"
    batch_pairs = page.pairs("batch")
    assert batch_pairs["lot"] == "LOT-22" and batch_pairs["operator"] == "B-1042"
    assert "9.9.9" in " ".join(batch_pairs.values())
    counts = page.rows("counts")[0]
    assert int(counts["rejected"]) == 6 and int(counts["accepted"]) == 2
    again.close()
