"""The supervisor's panel: a score histogram with the two threshold lines (app.ui.score_histogram),
sliders, live counts, and the model's saved profiles: who changed which thresholds, and when, in
plain words."""
from __future__ import annotations

from datetime import UTC

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..core.verdict import Thresholds
from .score_histogram import ScoreHistogram

HISTOGRAM_MAX_HEIGHT = 420  # px
SHOWN_PROFILES = 6  # the latest changes; the rest are counted


class ThresholdsPanel(QWidget):
    changed = Signal(object)  # Thresholds, while the sliders move
    save_requested = Signal(object, str)  # Thresholds, profile name

    def __init__(self, parent=None):
        super().__init__(parent)
        self.histogram = ScoreHistogram()
        self.pass_slider = QSlider(Qt.Horizontal)
        self.fail_slider = QSlider(Qt.Horizontal)
        for s in (self.pass_slider, self.fail_slider):
            s.setRange(0, 100)
        self.pass_label, self.fail_label = QLabel(), QLabel()
        self.counts = QLabel()
        self.counts.setObjectName("counts")
        self.profile = QLineEdit("default")
        save = QPushButton("Save profile")
        form = QFormLayout()
        form.addRow("Pass at ≥", self.pass_slider)
        form.addRow("", self.pass_label)
        form.addRow("Fail below <", self.fail_slider)
        form.addRow("", self.fail_label)
        form.addRow("Profile", self.profile)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Scores of this batch"))
        # A taller panel (a 1920x1080 screen) grows the chart, not an empty band under the profiles.
        self.histogram.setMaximumHeight(HISTOGRAM_MAX_HEIGHT)
        layout.addWidget(self.histogram, 1)
        layout.addLayout(form)
        layout.addWidget(self.counts)
        layout.addWidget(save)
        layout.addWidget(QLabel("<b>Saved profiles of this model</b>"))
        self.history = QLabel()
        self.history.setObjectName("history")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.PlainText)  # names are typed by people: never markup
        layout.addWidget(self.history)
        layout.addStretch(0)  # past the chart's greatest height, the rest stays below
        self.show_profiles([])
        self._scores: list[float] = []
        self._decisions: list[str | None] | None = None
        self.set_thresholds(Thresholds())
        self.pass_slider.valueChanged.connect(self._moved)
        self.fail_slider.valueChanged.connect(self._moved)
        save.clicked.connect(lambda: self.save_requested.emit(self.thresholds(), self.profile.text().strip() or "default"))

    def thresholds(self) -> Thresholds:
        return Thresholds(float(self.pass_slider.value()), float(self.fail_slider.value()))

    def set_thresholds(self, t: Thresholds) -> None:
        for s, v in ((self.pass_slider, t.pass_at), (self.fail_slider, t.fail_below)):
            s.blockSignals(True)
            s.setValue(round(v))
            s.blockSignals(False)
        self._refresh()

    def set_scores(self, scores, decisions=None) -> None:
        """The batch's scores, and each one's review decision (or None): the counts are of the
        verdicts in force, an inspector's accept or reject over the thresholds'."""
        self._scores = list(scores)
        self._decisions = list(decisions) if decisions is not None else None
        self.histogram.set_scores(self._scores)
        self._refresh()

    def _moved(self) -> None:
        # Keep fail_below <= pass_at: the slider being moved pushes the other one.
        if self.fail_slider.value() > self.pass_slider.value():
            other = self.pass_slider if self.sender() is self.fail_slider else self.fail_slider
            other.blockSignals(True)
            other.setValue(self.sender().value())
            other.blockSignals(False)
        self._refresh()
        self.changed.emit(self.thresholds())

    def _refresh(self) -> None:
        t = self.thresholds()
        self.pass_label.setText(f"{t.pass_at:.0f}")
        self.fail_label.setText(f"{t.fail_below:.0f}")
        self.histogram.set_thresholds(t)
        c = t.counts(self._scores, self._decisions)
        self.counts.setText(f"pass {c['pass']}   review {c['review']}   fail {c['fail']}")

    def show_profiles(self, profiles) -> None:
        """The model's saved profiles (ThresholdProfile rows, the latest change first)."""
        if not profiles:
            d = Thresholds()
            self.history.setText(f"None saved yet: the defaults are in force (pass at {d.pass_at:g} or more, "
                                 f"fail below {d.fail_below:g}).")
            return
        lines = ["\u2022 " + describe_profile(p) for p in profiles[:SHOWN_PROFILES]]  # one bullet each: they wrap
        if len(profiles) > SHOWN_PROFILES:
            lines.append(f"… and {len(profiles) - SHOWN_PROFILES} older")
        self.history.setText("\n".join(lines))


def describe_profile(p) -> str:
    """'"night" (in force): pass at 70 or more, fail below 45. Saved by Ana on 30 Nov 2026 at 22:10.'"""
    when = p.changed_at or p.created_at
    local = when.replace(tzinfo=UTC).astimezone() if when is not None else None  # stored in UTC
    said = f" on {local:%d %b %Y at %H:%M}" if local else ""
    who = f"Saved by {p.changed_by}{said}." if p.changed_by else f"Saved{said} (by whom was not recorded then)."
    return (f"\u201c{p.name}\u201d{' (in force)' if p.active else ''}: pass at {p.pass_at:g} or more, "
            f"fail below {p.fail_below:g}. {who}")
