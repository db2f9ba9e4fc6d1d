"""Which model the window runs: load, approve, switch, all off the GUI thread.

Loading a model hashes its files, starts an ONNX Runtime session and runs three transactions
(trust, the site's choice, its calibration and thresholds): seconds on a shared database, so it
runs in the window's TaskOwner, and the Workspace takes the new model on the GUI thread, all at
once (never a model beside another model's thresholds). An untrusted model is put to a person
through ``approve`` (the window asks, and a supervisor must stand behind it) and, approved, loaded
again with their name.
A person's switch (``switch``) is put to them first through ``confirm``, saying what changes:
verdicts are recomputed from the new version's scores, decisions are kept (they belong to the
photo's content, not to a model). A site's switch followed from another station is not asked.
The controller knows nothing of the window: what follows leaves as signals.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core.model.contract import ModelError
from ..core.model.trust import UntrustedModel
from ..core.site.station_sync import site_state
from ..core.workspace import Workspace
from .tasks import TaskOwner, describe_failure

KEY = "model"

# approve(card, chosen_by, approved, declined): asks whether to run an untrusted model, then calls
# approved(who approves) or declined(why, None for a plain no). chosen_by: the supervisor who
# already confirmed the switch, if any.
Approve = Callable[[dict, str | None, Callable[[str], None], Callable[[str | None], None]], None]
# confirm(title, question): True when the person answers yes.
Confirm = Callable[[str, str], bool]


class ModelController(QObject):
    loaded = Signal(object, object)  # LoadedModel, now the workspace's; the path it was asked for
    refused = Signal(str)  # one line: why, and which model is kept

    def __init__(self, workspace: Workspace, tasks: TaskOwner, approve: Approve,
                 parent: QObject | None = None, confirm: Confirm = lambda title, question: True):
        super().__init__(parent)
        self.workspace, self.tasks, self.approve, self.confirm = workspace, tasks, approve, confirm

    def switch(self, path: Path, photos: int = 0, decisions: int = 0, site_choice: bool = True,
               chosen_by: str | None = None) -> bool:
        """A person's switch to the version at ``path``, once they confirm what changes
        (``photos`` in the gallery, ``decisions`` on them); True when the load has started."""
        current = self.workspace.model
        if current is None or Path(path).absolute() == Path(current.onnx_path).absolute():
            self.load(Path(path), site_choice=site_choice, chosen_by=chosen_by)  # nothing to weigh up
            return True
        if not self.confirm("Switch the model version?", switch_question(current, Path(path), photos, decisions,
                                                                         site_choice)):
            return False
        self.load(Path(path), site_choice=site_choice, chosen_by=chosen_by)
        return True

    def busy(self) -> bool:
        return self.tasks.busy(KEY)

    def load(self, path: Path, fallback: Path | None = None, site_choice: bool = False,
             approved_by: str | None = None, on_refused: Callable[[], None] | None = None,
             chosen_by: str | None = None) -> None:
        """Verify and switch to the model at ``path`` (``fallback`` when it is refused);
        ``on_refused`` is called when neither could be loaded. ``chosen_by``: the supervisor whose
        choice for the site this is, recorded."""
        ws = self.workspace
        self.tasks.submit(
            KEY, lambda: ws.prepare_model(path, approved_by=approved_by, site_choice=site_choice, chosen_by=chosen_by),
            on_done=lambda prepared: self._adopt(prepared, path),
            on_error=lambda exc: self._refused(exc, path, fallback, site_choice, approved_by, on_refused, chosen_by))

    def load_start_model(self, default: Path, remembered: Path, no_site_model: Callable[[object], None]) -> None:
        """A station opens on the version the site runs. When the site has chosen one and it
        cannot be loaded here, ``no_site_model(site)`` is told and nothing else is loaded: falling
        back to another model would score the site's photos with a model nobody chose for them.
        Without a site choice, ``remembered`` (the station's last model), else ``default``."""
        ws = self.workspace

        def site_model():
            try:
                return site_state(ws.db, None).model
            except Exception:  # an unreadable site state is no site choice
                return None

        def chosen(site) -> None:
            if site is None:
                self.load(remembered, fallback=default)
            else:
                self.load(Path(site.path), on_refused=lambda: no_site_model(site))

        self.tasks.submit(KEY, site_model, on_done=chosen)

    def _adopt(self, prepared, path: Path) -> None:
        self.workspace.adopt(prepared)
        self.loaded.emit(prepared.model, path)

    def _refused(self, exc: Exception, path: Path, fallback: Path | None, site_choice: bool,
                 approved_by: str | None, on_refused: Callable[[], None] | None, chosen_by: str | None = None) -> None:
        if isinstance(exc, UntrustedModel) and approved_by is None:
            self.approve(exc.card, chosen_by,
                         lambda who: self.load(path, fallback, site_choice, who, on_refused, chosen_by),
                         lambda why: self._not_loaded(exc, path, fallback, site_choice, on_refused, why))
            return
        self._not_loaded(exc, path, fallback, site_choice, on_refused)

    def _not_loaded(self, exc: Exception, path: Path, fallback: Path | None, site_choice: bool,
                    on_refused: Callable[[], None] | None, why: str | None = None) -> None:
        if isinstance(exc, ModelError) and fallback is not None and Path(fallback) != Path(path):
            self.load(fallback, site_choice=site_choice, on_refused=on_refused)
            return
        self._say_refused(exc, why)
        if on_refused is not None:
            on_refused()

    def _say_refused(self, exc: Exception, why: str | None = None) -> None:
        reason = why or (str(exc) if isinstance(exc, ModelError) else describe_failure(exc))
        kept = f" Keeping {self.workspace.model.name}." if self.workspace.model else ""
        self.refused.emit(f"Model refused: {reason}.{kept}")


def switch_question(current, target: Path, photos: int, decisions: int, site_choice: bool) -> str:
    """What a switch from ``current`` (the LoadedModel in use) to the model at ``target`` changes,
    and what it keeps, in the words a supervisor weighs it in."""
    shown = target.parent.name + "/" + target.name if target.parent.name else target.name
    gallery = (f"the {photos} photo{'s' if photos != 1 else ''} in the gallery are scored by the new version "
               "(those it scored before come from the database), and their verdicts (pass, review, fail) are "
               "recomputed from the new scores, with the new version's thresholds."
               if photos else "photos are scored by the new version from now on, and judged by its thresholds.")
    kept = (f"the {decisions} inspector decision{'s' if decisions != 1 else ''} on these photos "
            if decisions else "inspectors' decisions (accepted, rejected, reviewed) ")
    site = ("\n\nEvery station sharing this database follows the switch." if site_choice else "")
    return (f"Switch from {current.name} v{current.version} to {shown}?\n\n"
            f"What changes: {gallery}\n\n"
            f"What is kept: {kept}stay in force: a decision belongs to the photo's content, not to a model. "
            f"{current.name} v{current.version}'s scores stay on record; switching back shows them again.{site}")
