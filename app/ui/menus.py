"""The window's menus, as data: each entry a text, a shortcut and what it does.

Every entry has a user-action test (``tests/gui/test_user_actions.py``, ``EXERCISED``): a menu
path can break while the slot behind it still passes its own test.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

from .help_dialogs import HelpMenu


def _add(window, menu, text: str, keys, slot) -> QAction:
    action = QAction(text, window)
    action.setShortcut(keys)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def _add_photo_views(window, view_menu) -> None:
    """Zoom (the viewer, or both compare panes at once), compare, the loupe."""
    view_menu.addSeparator()
    zoom = window.compare.zoom_target  # asked at each press: the viewer or the compare pane in use
    _add(window, view_menu, "Zoom &in", "+", lambda: zoom().zoom_by(1.25)).setShortcuts(
        [QKeySequence("+"), QKeySequence("=")])  # = is + without Shift
    _add(window, view_menu, "Zoom &out", "-", lambda: zoom().zoom_by(0.8))
    _add(window, view_menu, "&Fit the photo", "Ctrl+0", lambda: zoom().fit())
    _add(window, view_menu, "100 % (&actual pixels)", "Ctrl+1", lambda: zoom().actual_size())
    def compare_or_back() -> None:
        window.compare.toggle(window.gallery.selected_paths())
        compare.setChecked(window.compare.is_open)  # a compare that could not open leaves no tick

    compare = _add(window, view_menu, "&Compare side by side (two selected, or one with its map)", "C",
                   compare_or_back)
    compare.setCheckable(True)
    back = _add(window, view_menu, "&Back to the single viewer", "Esc", window.compare.close)
    back.setEnabled(False)  # Esc is free for anything else while no compare is open
    window.compare.toggled.connect(compare.setChecked)
    window.compare.toggled.connect(back.setEnabled)
    loupe = _add(window, view_menu, "&Loupe: 100 % under the cursor", "L", window.loupe.set_on)
    loupe.setCheckable(True)


def build_menus(window) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for text, keys, slot in (
        ("&Open folder…", QKeySequence.Open, window.batch.choose_folder),
        ("Open &camera…", "Ctrl+K", window.camera_controller.choose_camera),
        ("&Load model…", "Ctrl+M", window.choose_model),
        ("&Export CSV…", "Ctrl+E", window.outputs.choose_export),
        ("Export &report…", "Ctrl+R", window.outputs.choose_report),
        ("&Quit", "Ctrl+Q", window.quit_asking),  # QKeySequence.Quit is empty on some platforms
    ):
        _add(window, file_menu, text, keys, slot)
    # The camera's shutter: Space (S as before), in force only while the camera runs and its batch
    # is shown, so that Space stays the viewer's "next photo" otherwise (CameraController.capture_allowed).
    window.capture_action = _add(window, file_menu, "&Capture camera frame", "Space", window.camera_controller.snap)
    window.capture_action.setShortcuts([QKeySequence("Space"), QKeySequence("S")])
    window.capture_action.setEnabled(False)
    window.camera_controller.capture_allowed.connect(window.capture_action.setEnabled)
    file_menu.insertAction(file_menu.actions()[2], window.capture_action)  # beside Open camera
    # triggered(bool) would arrive as ``choice``: the menu always asks which photos.
    _add(window, bar.addMenu("&Ratings"), "&Rate these photos…", "Ctrl+L", lambda: window.rating.open_labeling())
    _add(window, bar.addMenu("&Training"), "&Fine-tune and model versions…", "Ctrl+T", window.open_training)
    review_menu = bar.addMenu("Re&view")
    for text, keys, decision in (
        ("&Accept (override the verdict)…", "A", "accepted"),
        ("Re&ject (override the verdict)…", "X", "rejected"),
        ("&Mark reviewed", "M", "reviewed"),
    ):
        _add(window, review_menu, text, keys, lambda _=False, d=decision: window.outputs.review_current(d))
    review_menu.addSeparator()
    _add(window, review_menu, "&Undo the last decision", QKeySequence.Undo, window.outputs.undo)
    _add(window, review_menu, "&Redo", "Ctrl+Shift+Z", window.outputs.redo)
    # A, X and M decide every selected photo: this selects every photo the filters show.
    _add(window, review_menu, "Select &all shown", QKeySequence.SelectAll, window.gallery.selectAll)
    review_menu.addSeparator()
    _add(window, review_menu, "Reason &codes for every station (supervisor)…", "Ctrl+Shift+R",
         window.reason_codes.edit)
    operator_menu = bar.addMenu("&Operator")
    for text, keys, slot in (
        ("&Sign in / switch operator…", "Ctrl+U", window.operators.sign_in),
        ("Set my &PIN…", "Ctrl+Shift+P", window.operators.set_my_pin),
        ("Operator &roles (supervisor)…", "Ctrl+Shift+U", window.operators.change_role),
    ):
        _add(window, operator_menu, text, keys, slot)
    # A closed panel comes back from here (it could only be restored from a context menu).
    show_thresholds = window.thresholds_dock.toggleViewAction()
    show_thresholds.setText("&Thresholds panel")
    show_thresholds.setShortcut("Ctrl+Shift+T")
    view_menu = bar.addMenu("V&iew")
    # The two batches beside each other (also the tabs above the gallery).
    _add(window, view_menu, "&Folder batch", "Alt+1", window.camera_controller.show_folder_batch)
    _add(window, view_menu, "Ca&mera batch", "Alt+2", window.camera_controller.show_camera_batch)
    view_menu.addSeparator()
    view_menu.addAction(show_thresholds)
    # The gallery's thumbnails (also its Size slider); Ctrl+= is Ctrl++ without Shift.
    _add(window, view_menu, "&Larger thumbnails", "Ctrl++", window.gallery_controls.larger).setShortcuts(
        [QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
    _add(window, view_menu, "&Smaller thumbnails", "Ctrl+-", window.gallery_controls.smaller)
    for dock, text, keys in ((window.exif_dock, "&EXIF panel (ISO, shutter, lens…)", "Ctrl+Shift+E"),
                             (window.messages_dock, "&Messages (errors and warnings)", "Ctrl+Shift+L")):
        shown = dock.toggleViewAction()
        shown.setText(text)
        shown.setShortcut(keys)
        view_menu.addAction(shown)
    _add_photo_views(window, view_menu)
    _add(window, bar.addMenu("&Go"), "Next &unreviewed", "N", window.navigation.next_unreviewed)
    # Help comes last; its sheet reads the menus when it opens, so menus added above are listed too.
    helper = HelpMenu(window)
    help_menu = bar.addMenu("&Help")
    _add(window, help_menu, "&Keyboard shortcuts", "F1", helper.show_shortcuts)
    _add(window, help_menu, "&About MobileIQA Inspector", QKeySequence(), helper.show_about)
