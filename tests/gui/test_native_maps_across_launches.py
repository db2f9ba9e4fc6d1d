"""A photo's native damage map, computed once, is shown again after a relaunch without its tiles."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.core.scoring.native_maps import NativeMaps
from tests.gui.conftest import relaunched

pytestmark = pytest.mark.gui


def show_mapped(qtbot, window, name: str):
    window.filter_box.setCurrentText("all")
    row = next(r for r in range(window.proxy.rowCount())
               if window.proxy.index(r, 0).data(Qt.UserRole + 1).endswith(name))
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    qtbot.waitUntil(lambda: window.viewer.native is not None and window.viewer.outcome is not None
                    and window.viewer.outcome.record.path.endswith(name), timeout=30000)
    assert window.navigation.viewer_jobs.wait(10000)
    return window.viewer.native


def counted_maps(monkeypatch) -> list:
    """The native maps as the window computes them, each computation's photo (its score) listed."""
    from app.ui import viewer_jobs

    computed = []
    real = viewer_jobs.native_maps
    monkeypatch.setattr(viewer_jobs, "native_maps", lambda engine, rgb, result, **k:
                        (computed.append(result.score), real(engine, rgb, result, **k))[1])
    return computed


def opened(qtbot, window, folder) -> None:
    window.batch.open_folder(folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)


def test_a_map_computed_before_a_relaunch_is_shown_after_it_without_computing_it_again(
        qtbot, window, photo_folder, exported_student, tmp_path, monkeypatch):

    computed = counted_maps(monkeypatch)
    opened(qtbot, window, photo_folder)
    before = show_mapped(qtbot, window, "p2.png")
    score = window.viewer.outcome.record.score  # which photo a computation was for
    assert computed.count(score) == 1
    assert list((tmp_path / "home" / "native-maps").glob("*.npz")), "the map should be kept on disk"
    window.close()

    again = relaunched(qtbot, exported_student[1], tmp_path)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=30000)
    after = show_mapped(qtbot, again, "p2.png")
    assert computed.count(score) == 1, "the relaunched window computed the map again"
    assert after.tiles.shape == before.tiles.shape
    assert np.allclose(after.tiles, before.tiles, atol=2e-3) and np.allclose(after.in_score, before.in_score, atol=2e-3)
    again.close()


def test_a_corrupt_map_file_is_computed_again_not_a_failure(qtbot, window, photo_folder, monkeypatch):
    computed = counted_maps(monkeypatch)
    opened(qtbot, window, photo_folder)
    show_mapped(qtbot, window, "p2.png")
    score = window.viewer.outcome.record.score
    for f in window.navigation.viewer_jobs.disk.folder.glob("*.npz"):
        f.write_bytes(b"garbage")
    window.navigation.viewer_jobs._maps.clear()  # as after a relaunch: only the disk has it
    show_mapped(qtbot, window, "p3.png")
    shown = show_mapped(qtbot, window, "p2.png")
    assert computed.count(score) == 2 and isinstance(shown, NativeMaps)  # computed again and shown, no error
    stored = next(window.navigation.viewer_jobs.disk.folder.glob(f"*{window.viewer.outcome.record.content_hash}.npz"))
    assert np.load(stored)["tiles"].shape == shown.tiles.shape  # stored again, whole
