"""How to rate: the page the labeling panel shows a rater before their first photo, and again on
request (F1 or *How to rate*), and the site's record of which raters have read it (in the
database, so a rater reads it once at any station, under any computer login).

Opinions are only comparable when every rater reads the same scale the same way (ITU-T P.910
trains its subjects before the session): the ACR scale in words, what a flaw looks like, and
what not to judge. The level names are the session's own (ACR_LEVELS), so the page and the
buttons cannot disagree.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ..core.ratings.instructions import instructions_seen, mark_instructions_seen
from ..core.ratings.session import ACR_LEVELS
from ..core.store.database import Database

# What each level means, in words a rater can apply (after P.910's impairment wording).
LEVEL_MEANING = {
    5: "no flaw you can see, even looking closely",
    4: "a flaw you can find when you look for it, but it does not disturb",
    3: "a flaw you notice at once; slightly annoying",
    2: "flaws that are annoying; the photo is hard to use",
    1: "flaws so strong the photo is of no use",
}
assert set(LEVEL_MEANING) == set(ACR_LEVELS), "a level without its meaning"

LOOK_FOR = (
    ("Blur", "edges, text and fine texture soft, smeared or doubled (out of focus, a shaking hand or a moving subject)"),
    ("Noise", "grain, speckles or coloured blotches, above all in dark and flat areas"),
    ("Exposure", "too dark or too bright: shadows crushed to black, highlights burnt to white, detail lost in them"),
    ("Compression", "8×8 blocks, halos or ringing along edges, bands in skies, texture that looks painted"),
)


def instructions_html(keys: dict[str, str]) -> str:
    """The page's text. ``keys``: what each of the panel's keys does, from the panel's own
    constants (key -> what)."""
    levels = "".join(f"<tr><td><b>{v}&nbsp;&nbsp;{escape(ACR_LEVELS[v])}</b></td><td>{escape(LEVEL_MEANING[v])}</td></tr>"
                     for v in sorted(ACR_LEVELS, reverse=True))
    look = "".join(f"<li><b>{escape(name)}</b>: {escape(what)}</li>" for name, what in LOOK_FOR)
    votes = [str(v) for v in sorted(ACR_LEVELS)]
    others = {f"{votes[0]} to {votes[-1]}": "your answer (or click its button)"}
    others |= {k: what for k, what in keys.items() if k not in votes}  # the votes are the scale above
    key_rows = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(what)}</td></tr>" for k, what in others.items())
    return (
        "<h2>How to rate</h2>"
        "<p>You see one photo at a time, without the program's score. For each, answer one question: "
        "<b>how good is this photo's quality?</b> Use the whole scale:</p>"
        f"<table cellspacing='6'>{levels}</table>"
        f"<h3>What to look for</h3><ul>{look}</ul>"
        "<h3>What not to judge</h3>"
        "<p>Not the subject, the framing or whether you like the scene: a dull subject sharply taken is "
        "<i>Excellent</i>, a lovely scene out of focus is not. Trust your first impression (a few seconds); "
        "when in doubt about fine detail, look at 100 % (Z). A practice photo tells you the answer expected.</p>"
        f"<h3>Keys</h3><table cellspacing='4'>{key_rows}</table>"
    )


class InstructionsPage(QWidget):
    """The instructions, scrollable, with the one button that leaves them."""

    def __init__(self, keys: dict[str, str], parent=None):
        super().__init__(parent)
        self.text = QLabel(instructions_html(keys))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.text.setContentsMargins(12, 6, 12, 6)
        scroll = QScrollArea()
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        self.done_button = QPushButton("Start rating")
        self.done_button.setAutoDefault(True)  # Enter, as well as Space, leaves the page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.done_button, 0, Qt.AlignHCenter)


class SeenInstructions:
    """Which raters have read the instructions: the site's record in the database
    (app.core.ratings.instructions), asked off the GUI thread (the labeling panel calls these in
    its TaskOwner). ``carried``: the raters a station's settings listed before the record moved
    to the database; marked there with the first question, so none of them reads it again."""

    LEGACY_KEY = "rating/instructions_seen"  # where a station's settings kept the list before

    def __init__(self, db: Database, carried: list[str] | None = None):
        self.db, self._carried = db, list(carried or [])

    @classmethod
    def for_station(cls, db: Database, settings: QSettings) -> SeenInstructions:
        """The record of the site, with what this station's settings still listed moved into it."""
        value = settings.value(cls.LEGACY_KEY, [])
        carried = [value] if isinstance(value, str) else list(value or [])  # one entry reads back as a str
        if carried:
            settings.remove(cls.LEGACY_KEY)
        return cls(db, carried)

    def _carry(self) -> None:
        if self._carried:
            self.db.run(mark_instructions_seen, self.db, self._carried)
            self._carried = []

    def seen(self, rater: str) -> bool:
        self._carry()
        return self.db.run(instructions_seen, self.db, rater)

    def mark(self, rater: str) -> None:
        self._carry()
        self.db.run(mark_instructions_seen, self.db, [rater])
