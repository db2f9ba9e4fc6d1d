"""What an inspector does with a batch's results: review decisions (reviewed / accepted /
rejected, with a reason) and exports (CSV, the HTML report). The window's menus call it; every
database read and file write runs in the window's TaskOwner, never on the GUI thread (exporting a
20-photo gallery's CSV beside a million stored rows held the window 17.3 s when it did).

It knows nothing of the main window: it is given the Workspace, the TaskOwner, the gallery's
model, the photo in view, who is signed in and the settings; what it has to say leaves as
``status``, which the window shows. Every answer of the TaskOwner arrives on the GUI thread."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from ..core.outputs.atomic import written_whole
from ..core.outputs.batch_report import BatchContext, build_report
from ..core.outputs.reason_codes import DEFAULT_CODES, reason_label
from ..core.outputs.report_html import render_html
from ..core.outputs.reviews import add_reviews, current_reviews, with_reviews
from ..core.outputs.scores_csv import write_scores_csv
from ..core.store.repository import score_rows
from ..core.workspace import Workspace
from . import reason_dialog
from .gallery import GalleryModel
from .output_files import CSV_FILTER, REPORT_FILTERS, ProgressRelay, proposed_path, report_target
from .report_pdf import write_report_pdf
from .site_reason_codes import SiteReasonCodes
from .tasks import TaskOwner, describe_failure


def gallery_rows(db, model_version_id: int | None, shown: set[str]) -> list[dict]:
    """The stored results of the photos in the gallery (what the inspector sees), this model's,
    with their review decisions."""
    if model_version_id is None:
        return []
    return with_reviews(score_rows(db, model_version_id, shown), current_reviews(db))


class BatchOutputs(QObject):
    status = Signal(str)  # one line for the status bar
    failed = Signal(str)  # the same line, when it says an export or a report failed (kept in the window's log)

    def __init__(self, workspace: Workspace, tasks: TaskOwner, model: GalleryModel,
                 current_path: Callable[[], str | None], reviewer: Callable[[], str], settings: QSettings,
                 parent: QWidget | None = None, selected_paths: Callable[[], list[str]] | None = None,
                 reason_codes: SiteReasonCodes | None = None):
        """``current_path()``: the photo in the viewer (None when none is); ``reviewer()``: the
        name recorded on a decision or a report (the person signed in, not the OS login);
        ``parent``: the widget the dialogs belong to; ``selected_paths()``: the photos selected
        in the gallery (a decision with more than one selected is on all of them); ``reason_codes``:
        the site's list the accept / reject question offers (None: the defaults)."""
        super().__init__(parent)
        self.workspace, self.tasks, self.model, self.settings = workspace, tasks, model, settings
        self.current_path, self.reviewer = current_path, reviewer
        self.selected_paths = selected_paths or (lambda: [])
        self.site_codes = reason_codes
        self._dialogs = parent
        # Where the gallery's photos came from, named in the report: a folder (whose path the
        # export dialogs start in) or a camera (its frames' folder). Told by ``batch_started``.
        self.batch_source, self.batch_folder = "", None
        # Decisions made at this window, newest last, a step each (one photo's, or a selection's
        # all together, so one Ctrl+Z undoes it): a list of (path, the decision replaced or None, the new one).
        self._undo: list = []
        self._redo: list = []

    def batch_started(self, source: str, folder: Path | None) -> None:
        """A batch began: ``source`` is named in reports, ``folder`` is where the dialogs start."""
        self.batch_source, self.batch_folder = source, folder

    def _say(self, text: str) -> None:
        self.status.emit(text)

    def reason_codes(self) -> tuple[str, ...]:
        """The site's reason codes, as last read from the database (the defaults when none are set)."""
        return self.site_codes.codes if self.site_codes is not None else DEFAULT_CODES

    def review_current(self, decision: str) -> None:
        """The inspector's decision on the photo in the viewer, or on every photo selected, stored
        with who, when and why (a reason code and a note, for an accept or a reject): one reason
        question, one transaction, one undo step. Files that could not be scored are left as they
        are, and said."""
        selected = self.selected_paths()
        paths = selected if len(selected) > 1 else [p for p in (self.current_path(),) if p is not None]
        items = [self.model.item(p) for p in paths]
        scored = [it.path for it in items if it is not None and it.status == "ok"]
        if not scored:
            self._say("Select a scored photo to review")
            return
        code = reason = None
        if decision != "reviewed":
            answer = reason_dialog.ask_reason(self._dialogs, decision, self.reason_codes())
            if answer is None:
                return
            code, reason = answer
        self._redo.clear()  # a new decision ends what could be redone
        why = f" ({reason_label(code, reason)})" if reason_label(code, reason) else ""
        left = len(paths) - len(scored)
        said = (f"{Path(scored[0]).name}: {decision}{why}" if len(paths) == 1 else
                f"{decision.capitalize()} {len(scored)} photos{why}" + (f"; {left} not scored, left as they are" if left else ""))
        self._decide_all([(p, decision, reason, code) for p in scored], self._undo, said)

    def _decide_all(self, decisions: list[tuple], history: list, said: str) -> None:
        """Store (path, decision, reason, code) for one photo or many in one transaction; the
        whole batch goes on ``history`` as one step, [(path, the decision it replaced, itself)]."""
        db, version = self.workspace.db, self.workspace.model_version_id
        reviewer = self.reviewer()

        def store():
            # One transaction, retried whole while the database is briefly locked (a shared one).
            before = db.run(add_reviews, db, version, decisions, reviewer=reviewer)
            return before, current_reviews(db)

        def stored(result) -> None:
            before, reviews = result
            history.append([(path, before[path], (decision, reason, code))
                            for path, decision, reason, code in decisions])
            self.model.set_reviews(reviews)
            self._say(said)

        self.tasks.submit("reviews", store, on_done=stored, replace=False)

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
        step = source.pop()
        put_back = [(path, *((before.decision, before.reason, before.reason_code) if before
                             else ("cleared", None, None))) for path, before, _ in step]
        # A selection's decision is undone (or redone) whole, as it was made.
        path, before = step[0][0], step[0][1]
        said = (f"{done}: the decision on {len(step)} photos" if len(step) > 1 else
                f"{done}: {Path(path).name} is {put_back[0][1] if before else 'not decided'}")
        self._decide_all(put_back, target, said)

    def show_reviews(self) -> None:
        db, version = self.workspace.db, self.workspace.model_version_id
        if version is None:
            return
        self.tasks.submit("reviews", lambda: current_reviews(db), on_done=self.model.set_reviews, replace=False)

    def _proposed(self, stem: str, suffix: str) -> str:
        folder = self.batch_folder
        if folder is None and self.settings.value("last_folder"):
            folder = Path(self.settings.value("last_folder"))
        return proposed_path(folder, stem, suffix)

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._dialogs, "Export scores", self._proposed("scores", "csv"), CSV_FILTER)
        if path:
            self.export_csv(Path(path))

    def _shown(self) -> set[str]:
        return {it.path for it in self.model.items}

    def export_csv(self, path: Path) -> None:
        self._write_gallery("export", path, write_scores_csv, f"Exporting {path}…",
                            lambda n: f"Exported {n} photos to {path}",
                            "Nothing exported: no photo in the gallery has a result from this model",
                            lambda exc: f"Nothing exported: {exc}")

    def choose_report(self) -> None:
        """Where (the file type chosen decides HTML or PDF), then the lot id, then write it."""
        path, chosen = QFileDialog.getSaveFileName(self._dialogs, "Batch report", self._proposed("report", "html"),
                                                   REPORT_FILTERS)
        if not path:
            return
        lot, ok = QInputDialog.getText(self._dialogs, "Batch report", "Lot id (optional):")
        if not ok:  # cancelled: no report, even with the file chosen
            return
        target, kind = report_target(path, chosen)
        self.export_report(target, lot.strip(), kind)

    def export_report(self, path: Path, lot: str = "", kind: str = "html") -> None:
        """Written off the GUI thread (it decodes and reads the worst photos again), its progress
        in the status bar."""
        ws = self.workspace
        engine, thresholds = ws.engine, ws.thresholds
        context = BatchContext(source=self.batch_source, lot=lot, operator=self.reviewer(), profile=ws.profile)
        # The gallery's thumbnails (JPEG bytes, never changed in place): the report needs no decoding for them.
        thumbnails = {it.path: it.thumb for it in self.model.items if it.thumb}
        started = f"Writing report {path}"
        relay = ProgressRelay(started, self)
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
        db, version, shown = self.workspace.db, self.workspace.model_version_id, self._shown()

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

        self.tasks.submit((kind, str(path)), work, on_done=lambda n: said(done(n) if n else nothing),
                          on_error=lambda exc: self._failed(said, failed(exc)))

    def _failed(self, said, text: str) -> None:
        said(text)
        self.failed.emit(text)
