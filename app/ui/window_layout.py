"""The main window's layout: the source and gallery column, the viewer, the docks (thresholds,
EXIF, messages) and the status bar's permanent part. Built once by ``MainWindow`` (as the menus
are by ``menus.build_menus``); the widgets it makes are the window's attributes, wired to one
another here and to the window's controllers (navigation, batch, camera) by the window."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from .batch_tabs import CAMERA, FOLDER, BatchSwitch
from .camera_panel import CameraPanel
from .compare_controller import CompareController
from .gallery import FILTERS, SORT_ROLES
from .gallery_controls import GalleryControls
from .message_log import MessageLogPanel
from .station_status import StationStatus
from .loupe import Loupe
from .status_line import FittedProgressBar
from .thumbnail_jobs import FullSizeThumbnails
from .view_options import ViewOptions


def build_layout(window) -> None:
    window.filter_box, window.sort_box = QComboBox(), QComboBox()
    window.filter_box.addItems(FILTERS)
    window.sort_box.addItems(list(SORT_ROLES))
    window.descending = QCheckBox("descending")
    window.recursive = QCheckBox("sub-folders")
    window.watch = QCheckBox("keep watching")
    window.proxy.set_sort("score")  # worst first: what an inspector looks at first
    window.gallery_controls = GalleryControls(window.proxy, window.gallery)  # search, score range, size
    window.gallery_controls.status.connect(window.statusBar().showMessage)
    gc = window.gallery_controls
    # Thumbnails stored smaller than the size chosen are drawn again, off the GUI thread.
    window.thumbnails = FullSizeThumbnails(window.tasks, window.model, lambda: window.workspace.db, parent=window)
    gc.size.valueChanged.connect(window.thumbnails.want)
    window.view_options = ViewOptions(window.settings, window.filter_box, window.sort_box, window.descending,
                                    window.recursive, window.watch,
                                    {"search": gc.search, "score_min": gc.low, "score_max": gc.high,
                                     "thumb_size": gc.size})
    window.view_options.restore()
    gc.apply()
    window.proxy.set_filter(window.filter_box.currentText())

    def sort(_=None) -> None:
        window.proxy.set_sort(window.sort_box.currentText(), window.descending.isChecked())

    sort()
    window.filter_box.currentTextChanged.connect(window.proxy.set_filter)  # then the window's ``narrowed``
    window.sort_box.currentTextChanged.connect(sort)
    window.descending.toggled.connect(sort)
    window.view_options.remember_changes()
    controls = QHBoxLayout()
    for w in (QLabel("Show"), window.filter_box, QLabel("Sort"), window.sort_box, window.descending):
        controls.addWidget(w)
    folder_page = QWidget()
    source = QHBoxLayout(folder_page)
    source.setContentsMargins(0, 0, 0, 0)
    window.open_button = QPushButton("Open folder…")
    for w in (window.open_button, window.recursive, window.watch):
        source.addWidget(w)
    source.addStretch(1)
    camera = window.camera_panel = CameraPanel(window.settings.value("camera", "0"))  # wired by CameraController
    pages = QStackedWidget()  # what feeds the batch shown: the folder's controls or the camera's
    pages.addWidget(folder_page)
    pages.addWidget(camera)
    pages.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
    tabs = QTabBar()
    tabs.setExpanding(False)
    window.batches = BatchSwitch(window, {FOLDER: window.folder_model, CAMERA: window.camera.model}, tabs, pages)
    left = QWidget()
    lv = QVBoxLayout(left)
    lv.addWidget(tabs)
    lv.addWidget(pages)
    lv.addLayout(controls)
    lv.addWidget(window.gallery_controls)
    lv.addWidget(window.gallery, 1)
    # The viewer, or the compare view in its place (C; Esc goes back).
    photo_side = QStackedWidget()
    photo_side.addWidget(window.viewer)
    window.compare = CompareController(window.tasks, photo_side, window.viewer, window.model.item, parent=window)
    window.compare.status.connect(window.statusBar().showMessage)
    window.loupe = Loupe(window.viewer, parent=window)
    split = QSplitter()
    split.addWidget(left)
    split.addWidget(photo_side)
    split.setSizes([460, 820])
    window.setCentralWidget(split)
    dock = window.thresholds_dock = QDockWidget("Thresholds (supervisor)", window)
    dock.setObjectName("thresholds")
    # A column too short for the panel's least height (the Messages panel opened below, a small
    # screen) scrolls it: Qt would otherwise draw its rows over one another.
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.NoFrame)
    scroll.setWidget(window.panel)
    # Up and down only: as narrow as the panel goes, and no narrower (its sliders and chart).
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(window.panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
    dock.setWidget(scroll)
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    exif = window.exif_dock = QDockWidget("EXIF: how the photo was taken", window)
    exif.setObjectName("exif")
    exif.setWidget(window.exif_panel)
    window.addDockWidget(Qt.RightDockWidgetArea, exif)  # below the thresholds
    # The thresholds panel stretches to any height; the EXIF panel needs its form's at least.
    window.resizeDocks([dock, exif], [470, 330], Qt.Vertical)  # the histogram needs ~170 px with its axes
    log = window.messages_dock = QDockWidget("Messages: errors and warnings", window)
    log.setObjectName("messages")
    log.setWidget(MessageLogPanel(window.messages))
    window.addDockWidget(Qt.BottomDockWidgetArea, log)
    log.hide()  # opened from the View menu when wanted; the status bar says the latest
    window.progress = FittedProgressBar()
    window.progress.setMaximumWidth(240)
    window.progress.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)  # the message keeps the rest
    window.cancel_button = QPushButton("Cancel")
    window.cancel_button.setEnabled(False)
    window.cancel_button.clicked.connect(window.cancel)
    window.station_status = StationStatus(window.statusBar())  # who, which model, which thresholds: always
    window.station_status.operator.clicked.connect(window.operators.sign_in)
    window.operators.changed.connect(window._show_operator)
    window._show_operator()
    window.statusBar().addPermanentWidget(window.progress)
    window.statusBar().addPermanentWidget(window.cancel_button)
