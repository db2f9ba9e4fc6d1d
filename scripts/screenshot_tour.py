"""Every part of the station's window as a person sees it, on one screen size, for docs/screenshots/:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot_tour.py OUT SOURCE_PHOTOS...

The window fills the screen Xvfb gives (run it again with 1920x1080x24 for a large screen). From
the source photos it makes a day's folder (clean copies, blurred and noisy ones in a sub-folder,
a file that is no photo), signs an inspector in, scores the folder, decides a few photos and
writes into OUT:

  01_gallery_viewer_decisions  the gallery with decisions, the viewer with the native map, EXIF
  02_thresholds_histogram      the Thresholds panel: histogram with its axes, profiles
  03_review_dialog             the reject question with the site's reason codes
  04_compare                   two photos side by side (C)
  05_camera_batch              the camera's batch beside the folder's (a video stands in)
  06_training_window           the Training window (Ctrl+T) as it opens on this screen
  07_shortcuts_sheet           F1
  08_report_page1, _page2      the PDF report's first pages (needs pdftoppm; skipped without)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.paths import default_model_dir  # noqa: E402
from app.ui import reason_dialog, sign_in  # noqa: E402
from app.ui.gallery import PathRole  # noqa: E402
from app.ui.help_dialogs import HelpMenu  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.viewer import NATIVE  # noqa: E402
from screenshot_set import settle  # noqa: E402  (this folder is on the path of a script run from it)


def a_days_folder(sources: list[Path], root: Path) -> Path:
    """Clean copies of the sources (at most 8, as 3-6 MP JPEGs), a blurred and a noisy copy of
    the first four in a sub-folder, and one broken file."""
    rng = np.random.default_rng(0)
    (root / "line-2").mkdir(parents=True)
    for i, source in enumerate(sources[:8]):
        rgb = cv2.resize(load_rgb(source), None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(root / f"part{i:02d}.jpg"), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
        if i < 4:
            blurred = cv2.GaussianBlur(rgb, (0, 0), 6)
            noisy = np.clip(rgb + rng.normal(0, 28, rgb.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(root / "line-2" / f"part{i:02d}_blur.jpg"), blurred[..., ::-1])
            cv2.imwrite(str(root / "line-2" / f"part{i:02d}_noise.jpg"), noisy[..., ::-1])
    (root / "line-2" / "scan_0413.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut off in transfer")
    return root


def a_camera_video(path: Path, source: Path) -> Path:
    """A short video of one source photo panning, standing in for a camera."""
    rgb = cv2.resize(load_rgb(source), (800, 600))[..., ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
    for i in range(250):
        writer.write(np.ascontiguousarray(rgb[i % 100: i % 100 + 480, i % 160: i % 160 + 640]))
    writer.release()
    return path


def select(window, names: list[str]) -> None:
    from PySide6.QtCore import QItemSelectionModel

    window.gallery.clearSelection()
    for r in range(window.proxy.rowCount()):
        index = window.proxy.index(r, 0)
        if index.data(PathRole).rsplit("/", 1)[1] in names:
            flag = QItemSelectionModel.Select if window.gallery.selected_paths() else QItemSelectionModel.ClearAndSelect
            window.gallery.selectionModel().setCurrentIndex(index, flag)


def decide(app, window, names: list[str], decision: str, code: str, note: str) -> None:
    reason_dialog.ask_reason = lambda parent, d, codes: (code, note)
    select(window, names)
    window.outputs.review_current(decision)
    settle(app, lambda: not window.tasks.busy())


def grab_dialog_when_shown(app, out: Path, make) -> None:
    """Open the dialog ``make`` builds, grab it once laid out, close it."""
    dialog = make()
    dialog.show()
    settle(app)
    dialog.grab().save(str(out))
    dialog.close()


def main() -> None:
    out, sources = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    sources = sorted(p for s in sources for p in ([s] if s.is_file() else s.iterdir())
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp())
    folder = a_days_folder(sources, tmp / "shift")
    window = MainWindow(default_model_dir(), tmp / "shot.db", QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    window.setGeometry(app.primaryScreen().availableGeometry())
    window.show()
    settle(app, lambda: window.workspace.engine is not None and not window.models.busy())

    sign_in.ask_name = lambda parent, offer: "B-1042"
    window.operators.sign_in()
    settle(app, lambda: not window.tasks.busy())
    window.recursive.setChecked(True)
    window.batch.open_folder(folder)
    settle(app, lambda: not window.is_busy() and len(window.model.items) == len(list(folder.rglob("*.jpg"))))
    window.sort_box.setCurrentText("verdict")
    window.exif_dock.show()
    names = sorted(it.path.rsplit("/", 1)[1] for it in window.model.items if it.status == "ok")
    decide(app, window, [n for n in names if n.endswith("_noise.jpg")][:2], "rejected", "noise", "grain on the part")
    decide(app, window, [n for n in names if n.endswith("_blur.jpg")][:1], "accepted", "other", "customer sample")
    decide(app, window, names[:1], "reviewed", None, None)
    worst = next(window.proxy.index(r, 0) for r in range(window.proxy.rowCount())
                 if window.proxy.index(r, 0).data(PathRole).endswith("_noise.jpg"))
    window.gallery.clearSelection()
    window.gallery.setCurrentIndex(worst)
    window.viewer.overlay_box.setCurrentText(NATIVE)
    shown = worst.data(PathRole)
    settle(app, lambda: window.viewer.outcome is not None and window.viewer.outcome.record.path == shown
           and window.viewer.native is not None)  # this photo's map, not the one shown before
    window.grab().save(str(out / "01_gallery_viewer_decisions.png"))
    window.thresholds_dock.grab().save(str(out / "02_thresholds_histogram.png"))

    codes = window.outputs.reason_codes()
    grab_dialog_when_shown(app, out / "03_review_dialog.png",
                           lambda: reason_dialog.ReasonDialog(window, "rejected", codes))

    select(window, [n for n in names if n.startswith("part01")][:2])
    window.compare.toggle(window.gallery.selected_paths())
    settle(app, lambda: not window.tasks.busy())
    settle(app)
    window.grab().save(str(out / "04_compare.png"))
    window.compare.toggle([])
    settle(app)

    video = a_camera_video(tmp / "line-camera.avi", sources[0])
    window.camera_controller.open_camera(str(video))
    settle(app, lambda: not window.camera_panel.preview.pixmap().isNull(), seconds=30)
    for _ in range(2):
        window.camera_controller.snap()
        settle(app, lambda: not window.tasks.busy())
        time.sleep(0.3)
    settle(app, lambda: len(window.camera.model.items) >= 2, seconds=30)
    window.grab().save(str(out / "05_camera_batch.png"))
    window.camera.stop()
    window.camera_controller.show_folder_batch()
    settle(app)

    window.open_training()
    settle(app, lambda: window.training is not None and not window.tasks.busy(), seconds=60)
    settle(app)
    window.training.window().grab().save(str(out / "06_training_window.png"))
    window.training.close()

    helper = HelpMenu(window)
    QTimer.singleShot(1500, lambda: [w.grab().save(str(out / "07_shortcuts_sheet.png")) and w.close()
                                     for w in app.topLevelWidgets() if w.isVisible() and w is not window])
    helper.show_shortcuts()
    settle(app)

    if shutil.which("pdftoppm"):
        pdf = tmp / "report.pdf"
        window.outputs.export_report(pdf, "LOT-22", "pdf")
        settle(app, lambda: pdf.exists() and not window.tasks.busy(), seconds=120)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(out / "08_report_page")],
                       check=True)
    window.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
