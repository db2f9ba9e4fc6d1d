"""Pass / review / fail from a score and a supervisor's thresholds."""
from __future__ import annotations

from dataclasses import dataclass

PASS, REVIEW, FAIL = "pass", "review", "fail"

# An inspector's decision stands over the model's verdict; the model's own stays on record.
DECIDED = {"accepted": PASS, "rejected": FAIL}


# Worst first, the order an inspector and a quality manager read a batch in; a photo with no
# verdict (it could not be scored) comes after every verdict.
WORST_FIRST = (FAIL, REVIEW, PASS)


def severity_rank(verdict: str | None) -> int:
    """0 for fail, 1 for review, 2 for pass, 3 for no verdict: sorting by it puts the worst first."""
    return WORST_FIRST.index(verdict) if verdict in WORST_FIRST else len(WORST_FIRST)


def in_force(model_verdict: str | None, decision: str | None) -> str | None:
    """The verdict people see: an accepted photo passes and a rejected one fails, whatever the
    thresholds say now; any other photo has the model's verdict."""
    return DECIDED.get(decision, model_verdict)


@dataclass(frozen=True)
class Thresholds:
    """pass if score >= pass_at; fail if score < fail_below; review in between."""

    pass_at: float = 60.0
    fail_below: float = 40.0

    def __post_init__(self):
        if not 0 <= self.fail_below <= self.pass_at <= 100:
            raise ValueError(f"need 0 <= fail_below ({self.fail_below}) <= pass_at ({self.pass_at}) <= 100")

    def verdict(self, score: float) -> str:
        if score >= self.pass_at:
            return PASS
        if score < self.fail_below:
            return FAIL
        return REVIEW

    def counts(self, scores, decisions=None) -> dict[str, int]:
        """How many of ``scores`` each verdict in force gets (what a supervisor sees while moving
        sliders); ``decisions`` gives each score's review decision (or None)."""
        out = {PASS: 0, REVIEW: 0, FAIL: 0}
        for s, decision in zip(scores, decisions or [None] * len(scores)):
            out[in_force(self.verdict(s), decision)] += 1
        return out
