"""What an inspector does with a batch's results: review decisions (reviewed / accepted /
rejected, with a reason) and exports (CSV, the HTML report). The window's menus call it; every
database read and file write runs in the window's TaskOwner, never on the GUI thread (exporting a
20-photo gallery's CSV beside a million stored rows held the window 17.3 s when it did)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..core.outputs.report import write_report
from ..core.outputs.reviews import add_review, current_reviews, with_reviews
from ..core.outputs.scores_csv import write_scores_csv
from ..core.store.repository import score_rows
from .gallery import PathRole
from .tasks import describe_failure


def gallery_rows(db, model_version_id: int | None, shown: set[str]) -> list[dict]:
    """The stored results of the photos in the gallery (what the inspector sees), this model's,
    with their review decisions."""
    if model_version_id is None:
        return []
    return with_reviews(score_rows(db, model_version_id, shown), current_reviews(db))


class BatchOutputs:
    def __init__(self, window):
        self.window = window

    @property
    def _ws(self):
        return self.window.workspace

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text)

    def review_current(self, decision: str) -> None:
        """The inspector's decision on the photo in the viewer, stored with who, when and why."""
        current = self.window.gallery.currentIndex()
        item = self.window.model.item(current.data(PathRole)) if current.isValid() else None
        if item is None or item.status != "ok":
            self._say("Select a scored photo to review")
            return
        reason = None
        if decision != "reviewed":
            reason, ok = QInputDialog.getText(self.window, "Override the verdict", f"Why is it {decision}? (optional)")
            if not ok:
                return
        db, version, path = self._ws.db, self._ws.model_version_id, item.path
        reviewer = self.window.operators.recorded_name()  # the person signed in, not the OS login

        def store():
            add_review(db, version, path, decision, reason, reviewer=reviewer)
            return current_reviews(db)

        def stored(reviews) -> None:
            self.window.model.set_reviews(reviews)
            self._say(f"{Path(path).name}: {decision}" + (f" ({reason})" if reason else ""))

        # Not replaced by a later decision: every decision is kept (append-only), in order.
        self.window.tasks.submit("reviews", store, on_done=stored, replace=False)

    def show_reviews(self) -> None:
        db, version = self._ws.db, self._ws.model_version_id
        if version is None:
            return
        self.window.tasks.submit("reviews", lambda: current_reviews(db), on_done=self.window.model.set_reviews,
                                 replace=False)

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export scores", "scores.csv", "CSV (*.csv)")
        if path:
            self.export_csv(Path(path))

    def _shown(self) -> set[str]:
        return {it.path for it in self.window.model.items}

    def export_csv(self, path: Path) -> None:
        self._write_gallery("export", path, write_scores_csv, f"Exporting {path}…",
                            lambda n: f"Exported {n} photos to {path}",
                            "Nothing exported: no photo in the gallery has a result from this model",
                            lambda exc: f"Nothing exported: {exc}")

    def choose_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Batch report", "report.html", "HTML (*.html)")
        if path:
            self.export_report(Path(path))

    def export_report(self, path: Path) -> None:
        """Written off the GUI thread (it decodes and reads the worst photos again)."""
        engine, thresholds = self._ws.engine, self._ws.thresholds
        self._write_gallery("report", path, lambda rows, out: write_report(rows, engine, thresholds, out),
                            f"Writing report {path}…", lambda n: f"Wrote report {path} ({n} photos)",
                            "No report: no photo in the gallery has a result from this model",
                            lambda exc: f"Report not written: {describe_failure(exc)}")

    def _write_gallery(self, kind: str, path: Path, write, started: str, done, nothing: str, failed) -> None:
        """Write the gallery's rows with ``write(rows, path)`` off the GUI thread, saying how it went."""
        db, version, shown = self._ws.db, self._ws.model_version_id, self._shown()

        def work() -> int:
            rows = gallery_rows(db, version, shown)
            if rows:
                write(rows, path)
            return len(rows)

        self._say(started)
        self.window.tasks.submit((kind, str(path)), work, on_done=lambda n: self._say(done(n) if n else nothing),
                                 on_error=lambda exc: self._say(failed(exc)))
