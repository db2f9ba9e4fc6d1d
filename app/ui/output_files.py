"""Where an export goes and in what format: the save dialogs start in the photo folder with a
dated name, and the file type chosen in the dialog decides the report's format (the suffix
follows it when none was typed). Also the relay that carries a report's progress from the
TaskOwner's thread to the status bar."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

HTML_FILTER, PDF_FILTER = "HTML, images included (*.html)", "PDF (*.pdf)"
REPORT_FILTERS = f"{HTML_FILTER};;{PDF_FILTER}"
CSV_FILTER = "CSV (*.csv)"


def proposed_path(folder: Path | None, stem: str, suffix: str, today: date | None = None) -> str:
    """``folder/stem-YYYY-MM-DD.suffix``: beside the photos it is about, dated so a day's files
    do not overwrite each other; a bare name (the dialog's own folder) when there is no folder."""
    name = f"{stem}-{(today or date.today()):%Y-%m-%d}.{suffix}"
    return str(folder / name) if folder else name


def report_target(path: str, chosen_filter: str) -> tuple[Path, str]:
    """(the file to write, "html" or "pdf"). The file type chosen in the dialog decides, as its
    suffix is the proposed name's (a person who picks PDF and keeps the name means PDF); a typed
    .pdf means PDF whatever the type. The suffix is made to match."""
    target = Path(path)
    kind = "pdf" if "*.pdf" in chosen_filter or target.suffix.lower() == ".pdf" else "html"
    if target.suffix.lower() in (".pdf", ".html", ".htm"):
        if (target.suffix.lower() == ".pdf") == (kind == "pdf"):
            return target, kind
        return target.with_suffix(f".{kind}"), kind
    return target.with_name(f"{target.name}.{kind}"), kind


class ProgressRelay(QObject):
    """Lives on the GUI thread; ``advance`` may be called from any thread. Qt queues a
    cross-thread signal only to a receiver's slot, so the text is built here, on the GUI thread."""

    said = Signal(str)
    _advanced = Signal(int, int)

    def __init__(self, started: str, parent: QObject | None = None):
        super().__init__(parent)
        self.started = started
        self._advanced.connect(self._show)

    def advance(self, done: int, total: int) -> None:
        self._advanced.emit(done, total)

    @Slot(int, int)
    def _show(self, done: int, total: int) -> None:
        self.said.emit(f"{self.started}: overlays {done}/{total}" + (", writing the file…" if done == total else "…"))
