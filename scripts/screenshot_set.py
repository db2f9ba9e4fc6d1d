"""The set of screenshots of the real window in docs/screenshots/ (run under Xvfb):

    xvfb-run -s "-screen 0 1500x950x24" .venv/bin/python scripts/screenshot_set.py docs/screenshots PHOTO_FOLDER

first launch (empty), a scored folder with two verdicts overridden (filter: overridden shown
next), the viewer with the native damage map and its legend, and the labeling panel: fitted, at
100 % (Z), and on a photo moved away since it was scored (no vote; S skips it).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.ratings.session import batch_name  # noqa: E402
from app.core.paths import default_model_dir  # noqa: E402
from app.core.outputs.reviews import add_review  # noqa: E402
from app.ui.gallery import PathRole, StatusRole  # noqa: E402
from app.ui.labeling_panel import LabelingPanel  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.viewer import NATIVE  # noqa: E402


def settle(app, until=lambda: True, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while not until() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    out, folder = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(default_model_dir(), tmp / "shot.db", QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    window.resize(1480, 920)
    window.show()
    settle(app)
    window.grab().save(str(out / "1_first_launch.png"))

    window.batch.open_folder(folder)
    settle(app, lambda: not window.is_busy() and window.model.items)
    window.sort_box.setCurrentText("score")
    scored = [window.proxy.index(r, 0) for r in range(window.proxy.rowCount())
              if window.proxy.index(r, 0).data(StatusRole) == "ok"]
    ws = window.workspace
    add_review(ws.db, ws.model_version_id, scored[0].data(PathRole),
               "accepted", "blur is the subject's motion", "inspector-1")
    add_review(ws.db, ws.model_version_id, scored[-1].data(PathRole), "rejected", "lens smear, top right", "inspector-1")
    window.outputs.show_reviews()
    window.gallery.setCurrentIndex(scored[-1])
    window.viewer.overlay_box.setCurrentText(NATIVE)
    settle(app, lambda: window.viewer.native is not None)
    window.grab().save(str(out / "2_scored_folder_with_overrides_and_native_map.png"))

    window.filter_box.setCurrentText("overridden")
    settle(app)
    window.grab().save(str(out / "3_filter_overridden.png"))

    window.filter_box.setCurrentText("all")
    window.rating.open_labeling("The photos in the gallery")
    panel = window.labeling
    panel.rater.setText("rater-7")
    panel.sign_in()
    # A rater new to the site reads how to rate first (app.ui.rater_help), then starts rating.
    settle(app, lambda: panel.ready() or panel.instructions_showing(), seconds=60)
    if panel.instructions_showing():
        panel.instructions_page.done_button.click()
    settle(app, panel.ready, seconds=60)
    panel.grab().save(str(out / "4_labeling_panel.png"))
    panel.actual.setChecked(True)  # what Z does
    settle(app)
    panel.grab().save(str(out / "5_labeling_panel_100_percent.png"))
    panel.close()

    # A photo moved away after it was scored: the reason is shown, no vote is taken, S skips it.
    gone = str(tmp / "moved_away" / "IMG_0412.jpg")
    panel = LabelingPanel(ws.db, batch_name([gone]), [gone])
    panel.resize(900, 700)
    panel.show()
    panel.rater.setText("rater-7")
    panel.sign_in()
    settle(app, lambda: panel.failure is not None, seconds=30)
    panel.vote(4)  # a vote key pressed anyway: refused, and said so
    settle(app)
    panel.grab().save(str(out / "6_labeling_photo_cannot_be_shown.png"))
    panel.close()
    window.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
