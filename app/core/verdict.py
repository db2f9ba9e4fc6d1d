"""Pass / review / fail from a score and a supervisor's thresholds."""
from __future__ import annotations

from dataclasses import dataclass

PASS, REVIEW, FAIL = "pass", "review", "fail"


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

    def counts(self, scores) -> dict[str, int]:
        """How many of ``scores`` each verdict gets (what a supervisor sees while moving sliders)."""
        out = {PASS: 0, REVIEW: 0, FAIL: 0}
        for s in scores:
            out[self.verdict(s)] += 1
        return out
