"""What an inspector does with a batch's results: review decisions (reviewed / accepted /
rejected, with a reason) and exports (CSV, the HTML report). The window's menus call it; every
database read and file write runs in the window's TaskOwner, never on the GUI thread (exporting a
20-photo gallery's CSV beside a million stored rows held the window 17.3 s when it did)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..core.outputs.atomic import written_whole
from ..core.outputs.batch_report import BatchContext, build_report
from ..core.outputs.reason_codes import parse_codes, reason_label
from ..core.outputs.report_html import render_html
from ..core.outputs.reviews import add_review, current_reviews, review_of, with_reviews
from ..core.outputs.scores_csv import write_scores_csv
from ..core.store.repository import score_rows
from . import reason_dialog
from .gallery import PathRole
from .output_files import CSV_FILTER, REPORT_FILTERS, ProgressRelay, proposed_path, report_target
from .report_pdf import write_report_pdf
from .tasks import describe_failure

REASON_CODES = "review/reason_codes"  # the settings key of the site's codes (a list, or text with commas)


def gallery_rows(db, model_version_id: int | None, shown: set[str]) -> list[dict]:
    """The stored results of the photos in the gallery (what the inspector sees), this model's,
    with their review decisions."""
    if model_version_id is None:
        return []
    return with_reviews(score_rows(db, model_version_id, shown), current_reviews(db))


class BatchOutputs:
    def __init__(self, window):
        self.window = window
        # Decisions made at this window, newest last: (path, the decision replaced or None, the new one).
        self._undo: list = []
        self._redo: list = []

    @property
    def _ws(self):
        return self.window.workspace

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text)

    def reason_codes(self) -> tuple[str, ...]:
        """The site's reason codes, from the settings (the defaults when none are set)."""
        return parse_codes(self.window.settings.value(REASON_CODES, ""))

    def review_current(self, decision: str) -> None:
        """The inspector's decision on the photo in the viewer, stored with who, when and why (a
        reason code and a note, for an accept or a reject)."""
        current = self.window.gallery.currentIndex()
        item = self.window.model.item(current.data(PathRole)) if current.isValid() else None
        if item is None or item.status != "ok":
            self._say("Select a scored photo to review")
            return
        code = reason = None
        if decision != "reviewed":
            answer = reason_dialog.ask_reason(self.window, decision, self.reason_codes())
            if answer is None:
                return
            code, reason = answer
        self._redo.clear()  # a new decision ends what could be redone
        why = reason_label(code, reason)
        self._decide(item.path, decision, reason, self._undo, f"{Path(item.path).name}: {decision}"
                     + (f" ({why})" if why else ""), code)

    def _decide(self, path: str, decision: str, reason: str | None, history: list, said: str,
                code: str | None = None) -> None:
        """Store a decision on ``path``; (path, the decision it replaced, itself) goes on ``history``."""
        db, version = self._ws.db, self._ws.model_version_id
        reviewer = self.window.operators.recorded_name()  # the person signed in, not the OS login

        def store():
            before = review_of(db, path)
            add_review(db, version, path, decision, reason, reviewer=reviewer, reason_code=code)
            return before, current_reviews(db)

        def stored(result) -> None:
            before, reviews = result
            history.append((path, before, (decision, reason, code)))
            self.window.model.set_reviews(reviews)
            self._say(said)

        # Not replaced by a later decision: every decision is kept (append-only), in order.
        self.window.tasks.submit("reviews", store, on_done=stored, replace=False)

    def undo(self) -> None:
        """Ctrl+Z: the last decision made here is withdrawn and the one it replaced (or none) is in
        force again; on record as a new row, like every decision."""
        self._restore(self._undo, self._redo, "undo", "Undone")

    def redo(self) -> None:
        """Ctrl+Shift+Z: the decision the last undo withdrew is in force again."""
        self._restore(self._redo, self._undo, "redo", "Redone")

    def _restore(self, source: list, target: list, word: str, done: str) -> None:
        """Put back the decision that the newest entry of ``source`` replaced; the step goes on
        ``target``, so undo and redo are the same move in opposite directions."""
        if not source:
            self._say(f"Nothing to {word}")
            return
        path, before, _ = source.pop()
        decision, reason, code = (before.decision, before.reason, before.reason_code) if before else ("cleared", None, None)
        self._decide(path, decision, reason, target,
                     f"{done}: {Path(path).name} is {decision if before else 'not decided'}", code)

    def show_reviews(self) -> None:
        db, version = self._ws.db, self._ws.model_version_id
        if version is None:
            return
        self.window.tasks.submit("reviews", lambda: current_reviews(db), on_done=self.window.model.set_reviews,
                                 replace=False)

    def _proposed(self, stem: str, suffix: str) -> str:
        folder = self.window.batch_folder
        if folder is None and self.window.settings.value("last_folder"):
            folder = Path(self.window.settings.value("last_folder"))
        return proposed_path(folder, stem, suffix)

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export scores", self._proposed("scores", "csv"), CSV_FILTER)
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
        """Where (the file type chosen decides HTML or PDF), then the lot id, then write it."""
        path, chosen = QFileDialog.getSaveFileName(self.window, "Batch report", self._proposed("report", "html"),
                                                   REPORT_FILTERS)
        if not path:
            return
        lot, ok = QInputDialog.getText(self.window, "Batch report", "Lot id (optional):")
        if not ok:  # cancelled: no report, even with the file chosen
            return
        target, kind = report_target(path, chosen)
        self.export_report(target, lot.strip(), kind)

    def export_report(self, path: Path, lot: str = "", kind: str = "html") -> None:
        """Written off the GUI thread (it decodes and reads the worst photos again), its progress
        in the status bar."""
        ws, window = self._ws, self.window
        engine, thresholds = ws.engine, ws.thresholds
        context = BatchContext(source=window.batch_source, lot=lot, operator=window.operators.recorded_name(),
                               profile=ws.profile)
        # The gallery's thumbnails (JPEG bytes, never changed in place): the report needs no decoding for them.
        thumbnails = {it.path: it.thumb for it in window.model.items if it.thumb}
        started = f"Writing report {path}"
        relay = ProgressRelay(started, window)
        relay.said.connect(self._say)

        def write(rows, out) -> None:
            report = build_report(rows, engine, thresholds, context, thumbnails, progress=relay.advance)
            if kind == "pdf":
                write_report_pdf(report, out)
            else:
                with written_whole(out) as f:
                    f.write(render_html(report))

        self._write_gallery("report", path, write, f"{started}…", lambda n: f"Wrote report {path} ({n} photos)",
                            "No report: no photo in the gallery has a result from this model",
                            lambda exc: f"Report not written: {describe_failure(exc)}", after=relay.deleteLater)

    def _write_gallery(self, kind: str, path: Path, write, started: str, done, nothing: str, failed,
                       after=None) -> None:
        """Write the gallery's rows with ``write(rows, path)`` off the GUI thread, saying how it
        went; ``after()`` runs once it has, either way."""
        db, version, shown = self._ws.db, self._ws.model_version_id, self._shown()

        def work() -> int:
            rows = gallery_rows(db, version, shown)
            if rows:
                write(rows, path)
            return len(rows)

        self._say(started)
        def said(text: str) -> None:
            self._say(text)
            if after is not None:
                after()

        self.window.tasks.submit((kind, str(path)), work, on_done=lambda n: said(done(n) if n else nothing),
                                 on_error=lambda exc: said(failed(exc)))
