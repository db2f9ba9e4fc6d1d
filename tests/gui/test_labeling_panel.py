import pytest
from PySide6.QtCore import Qt

from app.core.ratings.session import batch_name, standing_votes
from app.core.store import open_database
from app.ui.labeling_panel import LabelingPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def photos(tmp_path, make_photos):
    return [str(p) for p in make_photos(tmp_path, 5, (60, 80), name="r{i}.png")]


def _panel(qtbot, db, photos):
    panel = LabelingPanel(db, batch_name(photos), photos[1:], training=[(photos[0], 4)])
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _wait_ready(qtbot, panel):
    qtbot.waitUntil(panel.ready, timeout=10000)


def test_rate_with_the_keyboard_restart_and_resume(qtbot, photos, tmp_path):
    db = open_database(tmp_path / "rate.db")
    panel = _panel(qtbot, db, photos)
    panel.vote(5)  # nobody signed in: ignored
    qtbot.keyClicks(panel.rater, "carol")
    qtbot.keyClick(panel.rater, Qt.Key_Return)
    _wait_ready(qtbot, panel)
    assert "expected answer is 4" in panel.hint.text()  # the practice photo comes first
    assert panel.item.path == photos[0]
    for key in (Qt.Key_4, Qt.Key_2, Qt.Key_5):
        qtbot.keyClick(panel, key)
        _wait_ready(qtbot, panel)
    assert panel.progress.text() == "3 of 5 answered"
    qtbot.keyClick(panel, Qt.Key_Z, Qt.ControlModifier)  # undo the 5
    _wait_ready(qtbot, panel)
    assert panel.progress.text() == "2 of 5 answered"
    resume_at = panel.item.path
    panel.close()

    again = _panel(qtbot, db, photos)  # the program restarted
    again.rater.setText("carol")
    again.sign_in()
    _wait_ready(qtbot, again)
    assert again.item.path == resume_at
    for key in (Qt.Key_1, Qt.Key_3, Qt.Key_3):
        qtbot.keyClick(again, key)
        qtbot.waitUntil(lambda: again.ready() or again.item is None, timeout=10000)
    assert again.item is None and "every photo" in again.photo.text()
    votes = standing_votes(db, kinds=("normal", "training", "gold"))
    assert len(votes) == 5 and {r for r, _, _ in votes} == {"carol"}
    db.close()


def test_a_decoder_failing_in_any_way_is_shown_and_skippable_never_loading_forever(qtbot, photos, tmp_path, monkeypatch):
    from app.ui import labeling_panel

    def out_of_memory(path):
        raise MemoryError("cannot allocate 3.4 GB")

    monkeypatch.setattr(labeling_panel, "load_rgb", out_of_memory)  # not an ImageLoadError
    db = open_database(tmp_path / "rate.db")
    panel = _panel(qtbot, db, photos)
    panel.vote(3)
    assert "sign in" in panel.hint.text()  # nobody signed in: said, not counted
    panel.rater.setText("dave")
    panel.sign_in()
    qtbot.waitUntil(lambda: "cannot be shown" in panel.photo.text(), timeout=10000)
    assert "3.4 GB" in panel.photo.text() and panel.skip_button.isEnabled() and not panel.ready()
    panel.skip_button.click()
    qtbot.waitUntil(lambda: "cannot be shown" in panel.photo.text() and panel.item.path != photos[0], timeout=10000)
    assert panel.progress.text() == "0 of 5 answered, 1 skipped"
    db.close()
