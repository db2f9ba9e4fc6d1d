"""What an inspector does with a batch's results: review decisions (reviewed / accepted /
rejected, with a reason) and exports (CSV, the HTML report written off the GUI thread). The
window's menus call it; it holds no state of its own but the report jobs in flight."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..core.outputs.reviews import add_review, current_reviews, with_reviews
from ..core.outputs.scores_csv import write_scores_csv
from .gallery import PathRole
from .workers import ReportJob


class BatchOutputs:
    def __init__(self, window):
        self.window = window
        self._report_jobs: set[ReportJob] = set()

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
        add_review(self._ws.db, self._ws.model_version_id, item.path, decision, reason)
        self.show_reviews()
        self._say(f"{Path(item.path).name}: {decision}" + (f" ({reason})" if reason else ""))

    def show_reviews(self) -> None:
        self.window.model.set_reviews(current_reviews(self._ws.db, self._ws.model_version_id))

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export scores", "scores.csv", "CSV (*.csv)")
        if path:
            self.export_csv(Path(path))

    def batch_rows(self) -> list[dict]:
        """The stored results of the photos in the gallery (what the inspector sees), this model's."""
        shown = {it.path for it in self.window.model.items}
        reviews = current_reviews(self._ws.db, self._ws.model_version_id)
        return with_reviews([r for r in self._ws.rows() if r["path"] in shown], reviews)

    def export_csv(self, path: Path) -> None:
        rows = self.batch_rows()
        if not rows:
            self._say("Nothing exported: no photo in the gallery has a result from this model")
            return
        write_scores_csv(rows, path)
        self._say(f"Exported {len(rows)} photos to {path}")

    def choose_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Batch report", "report.html", "HTML (*.html)")
        if path:
            self.export_report(Path(path))

    def export_report(self, path: Path) -> None:
        """Written off the GUI thread (it decodes and reads the worst photos again)."""
        rows = self.batch_rows()
        if not rows:
            self._say("No report: no photo in the gallery has a result from this model")
            return
        job = ReportJob(rows, self._ws.engine, self._ws.thresholds, path)
        self._report_jobs.add(job)  # keeps its signals alive until it reports back
        job.signals.done.connect(lambda p: (self._report_jobs.discard(job), self._say(f"Wrote report {p} ({len(rows)} photos)")))
        job.signals.failed.connect(lambda msg: (self._report_jobs.discard(job), self._say(f"Report not written: {msg}")))
        self._say(f"Writing report {path}…")
        QThreadPool.globalInstance().start(job)

