"""The Training window's box for a missing training pipeline (a ./run.sh install leaves torch out):
what a fine-tune needs, the one install command as a button, and the install's output as it runs.
Hidden while the training Python has the pipeline. A widget only: the training controller checks
and installs."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from ..core.site.finetune_job import install_hint


class PipelineSetupBox(QWidget):
    install_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.button = QPushButton("Install the training pipeline…")
        self.button.clicked.connect(self.install_requested)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(2000)  # pip's output, bounded
        self.output.setPlaceholderText("The install's output appears here.")
        self.output.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button, 0, Qt.AlignLeft)
        layout.addWidget(self.output, 1)
        for w in (self.label, self.button, self.output):
            w.setVisible(False)
        self.setVisible(False)  # an empty box would still take its share of the window's height

    def show_missing(self, python: str | None, missing: list[str], command: str | None) -> None:
        """What ``python`` lacks (nothing: the box hides) and the command that installs it (None:
        nothing this program can run, as in a bundle: the install hint says what to do)."""
        if missing:
            how = (f"Install it once with this command in the program's folder (it downloads a few GB, so this PC "
                   f"needs the internet or the site's package mirror):\n    {command}\nThe button runs it for you."
                   if command else install_hint())
            self.label.setText(
                f"Fine-tuning needs the training pipeline (torch and timm), which ./run.sh leaves out to keep the "
                f"program small; {python} lacks {' and '.join(missing)}. {how}")
        self.setVisible(bool(missing))
        self.label.setVisible(bool(missing))
        self.button.setVisible(bool(missing) and command is not None)
        self.output.setVisible(bool(missing) and bool(self.output.toPlainText()))

    def started(self, command: str) -> None:
        self.button.setEnabled(False)
        self.output.clear()
        self.output.setVisible(True)
        self.output.appendPlainText(f"$ {command}")

    @Slot(str)
    def append(self, line: str) -> None:
        self.output.appendPlainText(line)

    def finished(self, message: str) -> None:
        self.button.setEnabled(True)
        self.output.appendPlainText(f"\n{message}")  # the outcome under the output it sums up
