"""The camera's batch beside the folder's: opening a camera, Space to capture, and switching
between the two batches' tabs (what the exports name and the counts follow the batch shown).

The camera's work itself is app.ui.camera_batch's (in the window's TaskOwner); this controller
wires it to the camera panel and the tabs, and keeps the capture key in force only while the
camera runs and its batch is shown (``capture_allowed``), so that Space stays the viewer's key
for the next photo otherwise.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from .batch_controller import BatchController
from .batch_outputs import BatchOutputs
from .batch_tabs import CAMERA, FOLDER, BatchSwitch
from .camera_batch import CameraBatch
from .camera_panel import CameraPanel


class CameraController(QObject):
    capture_allowed = Signal(bool)  # Space captures (True) or stays the viewer's key
    added = Signal()  # a frame joined the camera's batch while it is shown
    counts_changed = Signal()  # the batch shown changed, or its photos did

    def __init__(self, window: QWidget, camera: CameraBatch, panel: CameraPanel, batches: BatchSwitch,
                 batch: BatchController, outputs: BatchOutputs, settings: QSettings,
                 has_model: Callable[[], bool]):
        super().__init__(window)
        self.window, self.camera, self.panel, self.batches = window, camera, panel, batches
        self.batch, self.outputs, self.settings, self.has_model = batch, outputs, settings, has_model
        panel.start_requested.connect(lambda spec, every: self.open_camera(spec, every))
        panel.stop_requested.connect(camera.stop)
        panel.capture_requested.connect(self.snap)
        panel.find_requested.connect(camera.find_devices)
        camera.state.connect(panel.show_state)
        camera.preview.connect(panel.show_preview)
        camera.running_changed.connect(panel.show_running)
        camera.devices.connect(panel.show_devices)
        camera.running_changed.connect(lambda _running: self._capture_key_in_force())
        camera.added.connect(self._camera_added)
        camera.reloaded.connect(self._camera_added)
        batches.switched.connect(self._batch_shown)

    def choose_camera(self) -> None:
        spec, ok = QInputDialog.getText(self.window, "Camera", "Device number, stream URL or video file:",
                                        text=self.settings.value("camera", "0"))
        if ok and spec.strip():
            self.open_camera(spec.strip(), self.panel.every.value() * 1000)

    def open_camera(self, spec: str, interval_ms: int = 0, save_dir: Path | None = None) -> None:
        """A new camera batch beside the folder's, shown: Space captures a frame (and the clock
        every ``interval_ms``, when set); its frames are saved to ``save_dir``."""
        if not self.has_model():  # held, like a folder, until the first model is in
            self.batch.hold_until_model(lambda: self.open_camera(spec, interval_ms, save_dir), "the camera starts")
            return
        self.batches.show(CAMERA)
        self.camera.start(spec, interval_ms, save_dir)
        self.panel.show_camera(self.camera.source_name)
        self.outputs.batch_started(f"camera {self.camera.source_name}", self.camera.folder)

    def snap(self) -> None:
        """Space: the camera's newest frame into its batch."""
        self.camera.capture()

    def show_folder_batch(self) -> None:
        self.batches.show(FOLDER)

    def show_camera_batch(self) -> None:
        self.batches.show(CAMERA)

    def _batch_shown(self, name: str) -> None:
        """The other batch is shown: its counts, its decisions, and what exports name."""
        if name == CAMERA:
            self.outputs.batch_started(f"camera {self.camera.source_name}", self.camera.folder)
        else:
            last = self.settings.value("last_folder")
            self.outputs.batch_started(str(last or ""), Path(last) if last else None)
        self.outputs.show_reviews()
        self.counts_changed.emit()
        self._capture_key_in_force()

    def _capture_key_in_force(self) -> None:
        self.capture_allowed.emit(self.camera.running and self.batches.shown == CAMERA)

    def _camera_added(self, record=None) -> None:
        if self.batches.shown == CAMERA:
            self.counts_changed.emit()
            self.added.emit()
