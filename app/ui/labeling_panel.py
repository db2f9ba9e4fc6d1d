"""The labeling panel: a rater signs in and gives ACR opinions, keys 1-5, with undo.

The photo is shown without the model's score, so raters are not biased. The session logic
(order, resume, gold, undo, skips) lives in app.core.ratings.session; each key press's database
work (five or more queries; the last photo's runs the whole screening) and each photo's decoding
run in a TaskOwner (the window's), and the answer comes back on the GUI thread. The photo is
shown fitted or at 100 % (Z) by app.ui.rating_photo_view. A vote is taken only while the photo
is on screen; a key pressed before is refused out loud, never silently dropped; a photo that
cannot be shown is skipped (S).
Before a rater's first photo at the site the panel shows how to rate (app.ui.rater_help), and
again on request (F1); no vote is taken while it is shown. The rater id offered is the operator
signed in at the window.
"""
from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.imageio.decode import load_rgb
from ..core.ratings.csv_export import batch_summary
from ..core.ratings.session import ACR_LEVELS, LabelingSession
from ..core.store import Database
from .images import to_qimage
from .rater_help import InstructionsPage, SeenInstructions
from .rating_photo_view import RatingPhotoView
from .tasks import TaskOwner

SKIP_KEY, ACTUAL_SIZE_KEY, HELP_KEY = "S", "Z", "F1"  # 1..5 are the votes


def panel_keys() -> dict[str, str]:
    """Every key the panel answers (key -> what it does), from the constants that bind them: the
    instructions page and the window's shortcuts sheet list these."""
    keys = {str(v): f"Vote {v}: {ACR_LEVELS[v]}" for v in sorted(ACR_LEVELS, reverse=True)}
    keys |= {"Ctrl+Z or Backspace": "Undo the last vote", ACTUAL_SIZE_KEY: "Show the photo at 100 % or fitted",
             SKIP_KEY: "Skip a photo that cannot be shown (never one you can see)", HELP_KEY: "How to rate"}
    return keys


def _where_now(db: Database, session: LabelingSession, item, photos: list[str]):
    """(item, (answered, total), skipped, the batch's summary once every photo is done): what the
    panel shows after a step, read off the GUI thread in one go."""
    done, total = session.progress()
    return item, (done, total), session.skipped(), batch_summary(db, photos) if item is None else None


def _decoded(path: str):
    return to_qimage(load_rgb(path))  # a QImage may be made off the GUI thread (a QPixmap may not)


class LabelingPanel(QWidget):
    finished = Signal()
    answered = Signal()  # a vote, skip or undo is stored (what a fine-tune or calibration reads changed)

    def __init__(self, db: Database, batch: str, photos: list[str], training=(), gold=(), parent=None,
                 tasks: TaskOwner | None = None, instructions: SeenInstructions | None = None):
        super().__init__(parent)
        # Which raters have read how to rate (None: shown only on request, never before a first photo).
        self.instructions = instructions
        self._first_reading: str | None = None  # the rater who signs in once they have read them
        self.tasks = tasks or TaskOwner(self)
        self.setWindowTitle("Rate photos")
        self.db, self.batch, self.photos, self.training, self.gold = db, batch, photos, list(training), list(gold)
        self.session: LabelingSession | None = None
        self.item = None
        self.failure: str | None = None  # why the current photo cannot be shown
        self._refused: list[int] = []  # vote keys refused since the last photo was shown
        self._clock = QElapsedTimer()

        self.rater = QLineEdit()
        self.rater.setPlaceholderText("your rater id")
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.sign_in)
        self.rater.returnPressed.connect(self.sign_in)
        top = QHBoxLayout()
        top.addWidget(QLabel("Rater"))
        top.addWidget(self.rater, 1)
        top.addWidget(self.start_button)

        self.view = RatingPhotoView("Sign in to start")
        self.photo = self.view.photo  # the photo, or why there is none
        self.hint = QLabel(alignment=Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.progress = QLabel()
        self.scale = QLabel()
        self.view.scale_said.connect(self.scale.setText)
        self.actual = QPushButton(f"100 % ({ACTUAL_SIZE_KEY})")
        self.actual.setCheckable(True)
        self.actual.setToolTip("Show the photo at 100 % (one photo pixel per screen pixel) or fitted to the panel")
        self.actual.toggled.connect(self.view.set_actual_size)
        self.skip_button = QPushButton(f"Skip this photo ({SKIP_KEY})")
        self.skip_button.setToolTip("Only for a photo that cannot be shown: recorded as skipped, not as a vote")
        self.skip_button.setEnabled(False)
        self.skip_button.clicked.connect(self.skip)
        self.help_button = QPushButton(f"How to rate ({HELP_KEY})")
        self.help_button.clicked.connect(self.show_instructions)
        self.instructions_page = InstructionsPage(panel_keys())
        self.instructions_page.done_button.clicked.connect(self.close_instructions)
        self.stack = QStackedWidget()  # the photo, or how to rate in its place
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.instructions_page)
        self.buttons = {}
        row = QHBoxLayout()
        for value in sorted(ACR_LEVELS, reverse=True):
            b = QPushButton(f"{value}  {ACR_LEVELS[value]}")
            b.setEnabled(False)
            b.setFocusPolicy(Qt.NoFocus)  # Space or Enter must never repeat a vote on the next photo
            b.clicked.connect(lambda _=False, v=value: self.vote(v))
            self.buttons[value] = b
            row.addWidget(b)
        undo = QPushButton("Undo last")
        undo.setFocusPolicy(Qt.NoFocus)
        undo.clicked.connect(self.undo)
        row.addWidget(undo)
        for b in (self.actual, self.skip_button, self.help_button):
            b.setFocusPolicy(Qt.NoFocus)
        status = QHBoxLayout()
        status.addWidget(self.progress, 1)
        status.addWidget(self.scale)
        status.addWidget(self.actual)
        status.addWidget(self.skip_button)
        status.addWidget(self.help_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hint)
        layout.addLayout(row)
        layout.addLayout(status)
        for value in ACR_LEVELS:
            key = QShortcut(QKeySequence(str(value)), self, activated=lambda v=value: self.vote(v))
            key.setAutoRepeat(False)  # a held key must not vote on the photos that follow
        QShortcut(QKeySequence(SKIP_KEY), self, activated=self.skip).setAutoRepeat(False)
        QShortcut(QKeySequence(ACTUAL_SIZE_KEY), self, activated=self.actual.toggle).setAutoRepeat(False)
        QShortcut(QKeySequence.Undo, self, activated=self.undo)
        QShortcut(QKeySequence(Qt.Key_Backspace), self, activated=self.undo)
        QShortcut(QKeySequence(HELP_KEY), self, activated=self.show_instructions)
        self.setFocusPolicy(Qt.StrongFocus)  # so that sign_in's setFocus lands here, off the rater field

    def keyPressEvent(self, event) -> None:
        """The same keys for a press that reaches the panel with no shortcut taking it. A shortcut
        acts only in the active window, and a window shown a moment ago may not be active yet:
        a vote typed at once was dropped without a word."""
        key = event.text().upper()
        plain = not (event.modifiers() & ~Qt.KeypadModifier)
        if plain and not event.isAutoRepeat() and key in {str(v) for v in ACR_LEVELS} | {SKIP_KEY, ACTUAL_SIZE_KEY}:
            if key == SKIP_KEY:
                self.skip()
            elif key == ACTUAL_SIZE_KEY:
                self.actual.toggle()
            else:
                self.vote(int(key))
            return
        super().keyPressEvent(event)

    def sign_in(self) -> None:
        if self.session is not None or self._first_reading is not None:
            return
        key = self.rater.text().strip()
        if not key:
            self._say("A rater id is required")
            return
        if self.instructions is None:
            self._open_session(key)
            return
        # Has this rater read how to rate? The site's record, asked off the GUI thread.
        self.rater.setEnabled(False)
        self.start_button.setEnabled(False)
        seen = self.instructions
        self.tasks.submit("labeling", lambda: seen.seen(key), on_done=lambda already: self._read_or_rate(key, already),
                          on_error=self._sign_in_failed)

    def _read_or_rate(self, key: str, already_read: bool) -> None:
        if already_read:
            self._open_session(key)
            return
        # Read before the first photo: the session opens once the rater leaves the page.
        self._first_reading = key
        self.show_instructions()

    def _open_session(self, key: str) -> None:
        screen = self.screen().size() if self.screen() else None
        display = {"screen": f"{screen.width()}x{screen.height()}" if screen else None, "panel": f"{self.width()}x{self.height()}"}
        db, batch, photos, training, gold = self.db, self.batch, self.photos, self.training, self.gold

        def open_session():
            session = LabelingSession(db, key, batch, photos, training, gold, display)
            return session, _where_now(db, session, session.current(), photos)

        self.rater.setEnabled(False)
        self.start_button.setEnabled(False)
        self.setFocus()
        self._say("Signing in…")
        self.tasks.submit("labeling", open_session, on_done=self._signed_in, on_error=self._sign_in_failed)

    # --- how to rate ------------------------------------------------------------------------
    def instructions_showing(self) -> bool:
        return self.stack.currentWidget() is self.instructions_page

    def show_instructions(self) -> None:
        """How to rate, in the photo's place; the votes are off until the rater goes back."""
        first = self._first_reading is not None
        self.instructions_page.done_button.setText("Start rating" if first else "Back to the photo")
        self.stack.setCurrentWidget(self.instructions_page)
        for b in self.buttons.values():
            b.setEnabled(False)
        self.hint.setText("Read how to rate, then press Start rating (Enter)" if first else
                          "How to rate: press Back to the photo (Enter) to go on")
        self.instructions_page.done_button.setFocus()

    def close_instructions(self) -> None:
        self.stack.setCurrentWidget(self.view)
        self.setFocus()  # Enter or Space must not press the page's button again
        if self._first_reading is not None:
            key, self._first_reading = self._first_reading, None
            seen = self.instructions
            # Recorded before the session opens (one thread, in order); a failure is said, the rating goes on.
            self.tasks.submit("instructions read", lambda: seen.mark(key), replace=False,
                              on_error=lambda exc: self.hint.setText(f"Could not record that {key} read how to rate: {exc}"))
            self._open_session(key)
            return
        if self.item is not None:
            self.hint.setText("How good is this photo's quality?")
        if self.view.has_photo() and self.failure is None:
            self.view.refit()
            for b in self.buttons.values():
                b.setEnabled(True)
            self._clock.start()  # the answer's time counts from the photo, not from the page

    def _signed_in(self, answer) -> None:
        self.session, where = answer
        self._advance(where)

    def _sign_in_failed(self, exc: Exception) -> None:
        self.rater.setEnabled(True)
        self.start_button.setEnabled(True)
        self._say(f"Could not sign in: {exc}")

    def _step(self, action) -> None:
        """Run one of the session's steps (vote, skip, undo) off the GUI thread, then show where
        it leads. No answer is taken meanwhile: the votes are off until the next photo is shown.
        Steps are never dropped (a vote, then its undo, both happen, in order)."""
        for b in self.buttons.values():
            b.setEnabled(False)
        self.skip_button.setEnabled(False)
        db, session, photos = self.db, self.session, self.photos
        self.tasks.submit("labeling", lambda: _where_now(db, session, action(session), photos),
                          on_done=self._stored, on_error=lambda exc: self.hint.setText(f"Not saved: {exc}"),
                          replace=False)

    def _stored(self, where) -> None:
        self.answered.emit()
        self._advance(where)

    # --- the photo shown ------------------------------------------------------------------
    def _advance(self, where) -> None:
        item, (done, total), skipped, summary = where
        self.item, self.failure, self._refused = item, None, []
        self.progress.setText(f"{done} of {total} answered" + (f", {skipped} skipped" if skipped else ""))
        for b in self.buttons.values():
            b.setEnabled(False)  # an answer is accepted only once the photo is on screen
        self.skip_button.setEnabled(False)
        if item is None:
            self._say("Thank you: every photo of this batch is rated" if not skipped else
                      f"Thank you: every photo you could see is rated. {skipped} could not be shown and "
                      "were skipped; they are offered again at your next sitting")
            self.hint.setText(summary)  # MOS ± CI, votes per photo, screening
            self.finished.emit()
            return
        if item.kind == "training":
            self.hint.setText(f"Practice photo: the expected answer is {item.expected} ({ACR_LEVELS[item.expected]})")
        elif item.skipped_before:
            self.hint.setText("This photo could not be shown at an earlier sitting; here it is again. "
                              "How good is its quality?")
        else:
            self.hint.setText("How good is this photo's quality?")
        self._say("Loading…")
        path = item.path
        # Any failure is said (the rater skips), never a photo loading forever.
        self.tasks.submit("labeling photo", lambda: _decoded(path), on_done=lambda image: self._shown(path, image),
                          on_error=lambda exc: self._shown(path, str(exc) or type(exc).__name__))

    def _shown(self, path: str, image) -> None:
        if self.item is None or path != self.item.path or self.view.has_photo() or self.failure is not None:
            return
        if isinstance(image, str):
            # No vote on a photo nobody could see: the votes stay off, the reason is shown, Skip is offered.
            self.failure = image
            self._say(f"This photo cannot be shown, so it cannot be rated:\n{image}")
            self.hint.setText(f"Press {SKIP_KEY} (Skip) to go on: it is recorded as skipped, not as a vote, and "
                              "offered again at your next sitting. Tell the supervisor.")
            self.skip_button.setEnabled(True)
            return
        self.view.show_photo(QPixmap.fromImage(image))
        for b in self.buttons.values():
            b.setEnabled(not self.instructions_showing())
        self._clock.start()

    def _say(self, text: str) -> None:
        self.view.say(text)

    def ready(self) -> bool:
        return (self.item is not None and not self.instructions_showing()
                and all(b.isEnabled() for b in self.buttons.values()))

    # --- what the rater does ----------------------------------------------------------------
    def vote(self, value: int) -> None:
        if self.instructions_showing():
            self.hint.setText(f"Not counted: {value} (leave how to rate first: "
                              f"{self.instructions_page.done_button.text()}, Enter)")
            QApplication.beep()
            return
        if self.session is None and self.rater.isEnabled():
            self.hint.setText(f"Not counted: {value} (sign in with your rater id first)")
            return
        if not self.ready():  # never silently dropped: the rater is told, and why
            self._refused.append(value)
            keys = ", ".join(str(v) for v in self._refused)
            if self.session is None:  # signing in: the first photo is on its way
                why = "wait until the photo is shown, then answer"
            elif self.item is None:
                why = "every photo is already rated"
            elif self.failure is not None:
                why = f"this photo cannot be shown; press {SKIP_KEY} to skip it"
            else:
                why = "wait until the photo is shown, then answer"
            self.hint.setText(f"Not counted: {keys} ({why})")
            QApplication.beep()
            return
        elapsed = int(self._clock.elapsed())
        self._step(lambda session: session.vote(value, elapsed))

    def skip(self) -> None:
        """Skip the photo shown as unshowable (only then: a photo on screen needs an answer)."""
        if self.session is None or self.item is None or self.failure is None:
            return
        failure = self.failure
        self._step(lambda session: session.skip(failure))

    def undo(self) -> None:
        if self.session is not None:
            self._step(lambda session: session.undo())
