"""Rating at the station: which photos a rater gives ACR opinions on (the gallery's, or a
selection over every scored photo, chosen off the GUI thread), and the labeling panel they rate
in, one rater at a time."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from ..core.ratings.selection import select_for_rating
from ..core.ratings.session import batch_name
from ..core.workspace import Workspace
from .labeling_panel import LabelingPanel
from .rater_help import SeenInstructions
from .tasks import TaskOwner

# What the labeling panel rates: the gallery's photos, or a selection over every scored photo.
RATING_CHOICES = {
    "The photos in the gallery": None,
    "Most uncertain first (the model's views disagree)": "uncertain",
    "Nearest the thresholds first": "borderline",
    "A random sample": "random",
}


class RatingController(QObject):
    status = Signal(str)  # one line for the status bar
    ratings_changed = Signal()  # a rater's answer is stored

    def __init__(self, window: QWidget, workspace: Workspace, tasks: TaskOwner, settings: QSettings,
                 shown_photos: Callable[[], list[str]], signed_in: Callable[[], str | None]):
        """``shown_photos()``: the gallery's scored photos; ``signed_in()``: who is, if anyone."""
        super().__init__(window)
        self.window, self.workspace, self.tasks, self.settings = window, workspace, tasks, settings
        self.shown_photos, self.signed_in = shown_photos, signed_in
        self.panel: LabelingPanel | None = None

    def open_labeling(self, choice: str | None = None, count: int | None = None) -> None:
        """Raters give ACR opinions (photos shown without their scores). ``choice``: which photos,
        one of RATING_CHOICES (asked in a dialog when not given); ``count`` for a selection."""
        if choice is None:
            choice, ok = QInputDialog.getItem(self.window, "What to rate", "Photos", list(RATING_CHOICES), 0, False)
            if not ok:
                return
        strategy = RATING_CHOICES[choice]
        if strategy is None:
            self._rate(self.shown_photos())
            return
        if count is None:
            count, ok = QInputDialog.getInt(self.window, "What to rate", "How many photos", 50, 1, 100_000)
            if not ok:
                return
        ws = self.workspace
        version, thresholds = ws.model_version_id, ws.thresholds
        self.status.emit("Choosing photos to rate…")
        self.tasks.submit("rating selection", lambda: select_for_rating(ws.db, version, strategy, count, thresholds),
                          on_done=self._rate)

    def _rate(self, photos: list[str]) -> None:
        if not photos:
            self.status.emit("No scored photos to rate yet: open a folder first")
            return
        self.close()  # one rater at a time at this station
        self.panel = LabelingPanel(self.workspace.db, batch_name(photos), photos, tasks=self.tasks,
                                   instructions=SeenInstructions.for_station(self.workspace.db, self.settings))
        self.panel.answered.connect(self.ratings_changed)
        who = self.signed_in()
        if who is not None:  # who rates is, by default, who is signed in (typing replaces it)
            self.panel.rater.setText(who)
            self.panel.rater.selectAll()
        self.panel.resize(900, 700)
        self.panel.show()

    def close(self) -> None:
        if self.panel is not None:
            self.panel.close()
