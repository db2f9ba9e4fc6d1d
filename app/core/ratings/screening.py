"""Rater screening (Qt-free, numpy only).

A rater is rejected (flagged, never deleted; the MOS is available with and
without them) for any of these reasons, each stated in words:
- ``bt500``: ITU-R BT.500's P/Q rule, applied only on photos where it can flag a vote (below);
- ``constant``: the same answer to every photo while the other raters saw differences;
- ``correlation``: votes that follow the other raters' too weakly (ITU-T P.913 style);
- ``inconsistent``: an inconsistency outlier of the P.913 / Li & Bampis subject model
  (app.core.ratings.subject_model), which works with few votes per photo;
- ``gold``: too few right answers on the hidden gold photos.

Where BT.500's rule can work. A vote lies at most (n - 1) / sqrt(n) sample standard deviations
from the mean of n votes: under 2 for n <= 5, so with 5 votes or fewer no vote can ever be an
outlier. The rule's wider limit, sqrt(20) S for photos whose votes are far from normal
(kurtosis outside 2-4), needs n >= 22 to be reachable, and one dissenting vote among six is
enough to raise the kurtosis above 4 (five 5s and a 1 give 4.2): a 1 against five 5s is then
inside the limit. So a photo is *screened* by the rule only where its limit is reachable (6+
votes with normal kurtosis, 22+ otherwise); a rater's outlier share is counted over their votes
on screened photos only, and a rater with none gets "not applicable", never a silent pass.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .subject_model import SubjectModel, fit_subject_model, inconsistency_reference


# --- Thresholds, and where each comes from ----------------------------------------------------
# ITU-R BT.500 (observer screening), the standard's own numbers: limits of 2 S or sqrt(20) S by
# the kurtosis test (2..4), a rater rejected above a 5 % outlier share unless the outliers lean
# one way (|P - Q| / (P + Q) >= 0.3). Kept as written, though on simulated integer-vote panels of
# 11-16 raters rating every photo it also rejected 2-6 % of the honest raters (when most agree,
# S is small and a neighbour vote passes 2 S); none at 25 raters.
BT500_NORMAL_KURTOSIS = (2.0, 4.0)
BT500_OUTLIER_SHARE = 0.05
BT500_LEAN = 0.3
# Arithmetic, not a choice: the fewest votes for which a vote can lie beyond 2 S (6) or
# sqrt(20) S (22) from the mean; see the module docstring.
BT500_MIN_VOTES = 6
# Ours, not a standard, and tuned on the very rater simulator the tests use (integer votes,
# honest noise 0.5 ACR steps, true quality spread over 1.5-4.5): honest raters there correlate
# 0.66-0.9 with the others' mean (0.42 and up at noise 0.4-0.9), random ones about -0.2..0.15.
# P.913's suggested 0.75 would reject honest raters of such panels. The tests therefore show the rule does what it was tuned to do,
# not that 0.5 is right for a site's photos; hence the guard below.
MIN_CORRELATION = 0.5
# Ours: the others' mean is taken only on photos with 5+ other votes (on sparse panels, 2-3
# others per photo, it is so noisy that 1-3 % of simulated honest raters fell below 0.5; the
# subject model judges those panels); a correlation needs 10+ such photos (on 5 it swings by
# +-0.4); and the rule is applied only while the panel's median rater correlates 0.7 or more:
# on a batch of photos of much the same quality even careful raters correlate weakly (median
# 0.36 in simulation), and the rule would reject them for the batch's sake, not theirs.
CORRELATION_MIN_OTHERS = 5
MIN_SHARED_PHOTOS = 10
CORRELATION_PANEL_MEDIAN = 0.7
# Ours, again from that simulator: a rater is an inconsistency outlier of the subject model when
# their inconsistency is at least twice the panel's median and the lower end of its 95 % Fisher
# interval is above that median (so a rater with a handful of votes is not rejected by chance).
# Uniformly random ACR raters came out at a median 2.6-3.8x the panel's median, honest raters
# (noise 0.4-0.9 ACR steps) at 1.5-1.8x at the 99th percentile, dense or sparse (3-5 votes per
# photo). Needs 3+ raters for a median that one bad rater cannot set.
INCONSISTENCY_RATIO = 2.0
MIN_RATERS_FOR_MODEL = 3
# Ours: the same answer to this many photos is a constant rater, when the other raters' MOS of
# those photos spans at least a full ACR step (they saw a difference the rater did not).
CONSTANT_MIN_VOTES = 5
CONSTANT_OTHERS_SPAN = 1.0
# Ours, after crowdsourcing practice (the P.808 toolkit drops a session whose gold question
# fails): fewer than 2 in 3 gold answers within tolerance, judged only with 3 or more gold votes.
GOLD_MIN_VOTES = 3
GOLD_MIN_ACCURACY = 2.0 / 3.0

REASONS = ("bt500", "constant", "correlation", "inconsistent", "gold")


@dataclass(frozen=True)
class RaterScreening:
    rater: str
    votes: int
    outliers_high: int  # P
    outliers_low: int  # Q
    gold_votes: int = 0
    gold_correct: int = 0
    correlation: float = math.nan  # Pearson r with the other raters' mean on the same photos
    bt500_votes: int = 0  # votes on photos where BT.500's limit is reachable
    shared_photos: int = 0  # photos the correlation was computed on
    std: float = math.nan  # of their own votes
    bias: float = math.nan  # subject model: delta, ACR steps
    inconsistency: float = math.nan  # subject model: upsilon
    inconsistency_ci95: float = math.nan
    flags: tuple[str, ...] = ()  # codes of REASONS
    reasons: tuple[str, ...] = ()  # one sentence per flag
    notes: tuple[str, ...] = ()  # what could not be judged, and why

    @property
    def rejected(self) -> bool:
        return bool(self.flags)

    @property
    def outlier_rule(self) -> bool:
        """Rejected by BT.500's P/Q rule."""
        return "bt500" in self.flags

    @property
    def outlier_share(self) -> float:
        """(P + Q) over votes on screened photos; NaN where none was screened."""
        return (self.outliers_high + self.outliers_low) / self.bt500_votes if self.bt500_votes else math.nan

    @property
    def gold_accuracy(self) -> float:
        return self.gold_correct / self.gold_votes if self.gold_votes else math.nan

    def verdict(self) -> str:
        """``rejected: ...`` or ``kept`` (notes in brackets)."""
        text = ("rejected: " + "; ".join(self.reasons)) if self.rejected else "kept"
        return text + (f" ({'; '.join(self.notes)})" if self.notes else "")


@dataclass(frozen=True)
class Screening:
    """Every rater's result, and what the panel as a whole allowed to be judged."""

    raters: dict[str, RaterScreening]
    photos: int
    bt500_photos: int  # photos whose BT.500 limit is reachable
    max_votes_per_photo: int
    correlation_median: float
    correlation_applied: bool
    model: SubjectModel | None = None
    inconsistency_median: float = math.nan
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rejected(self) -> set[str]:
        return {r for r, s in self.raters.items() if s.rejected}

    def summary(self) -> str:
        """What the panel says about screening, in a few sentences."""
        if not self.raters:
            return "No votes to screen yet."
        lines = [f"Screening of {len(self.raters)} rater{'s' if len(self.raters) != 1 else ''} on {self.photos} "
                 f"photo{'s' if self.photos != 1 else ''}."]
        lines += list(self.notes)
        rejected = sorted(self.rejected)
        if rejected:
            lines.append("Rejected (left out of the MOS, votes kept): "
                         + "; ".join(f"{r}: {', '.join(self.raters[r].flags)}" for r in rejected) + ".")
        else:
            lines.append("No rater rejected.")
        return " ".join(lines)


def _bt500_limits(values: np.ndarray) -> tuple[float, float, bool]:
    """(mean, reach, reachable) of one photo's votes under BT.500's kurtosis rule."""
    n = len(values)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n > 1 else 0.0
    m2 = float(((values - mean) ** 2).mean())
    kurtosis = float(((values - mean) ** 4).mean()) / m2**2 if m2 > 0 else 3.0
    lo, hi = BT500_NORMAL_KURTOSIS
    k = 2.0 if lo <= kurtosis <= hi else math.sqrt(20.0)
    reachable = n >= BT500_MIN_VOTES and (n - 1) / math.sqrt(n) > k and std > 0
    return mean, k * std, reachable


def rater_correlations(by_image: dict[str, list[tuple[str, int]]]) -> dict[str, tuple[float, int]]:
    """Per rater: (Pearson r between their votes and the mean of the other raters' votes on the
    photos they share with CORRELATION_MIN_OTHERS or more others, number of such photos). NaN
    where either side is constant or fewer than MIN_SHARED_PHOTOS photos are shared."""
    pairs: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for votes in by_image.values():
        if len(votes) < CORRELATION_MIN_OTHERS + 1:
            continue
        total = sum(v for _, v in votes)
        for rater, value in votes:
            mine, others = pairs[rater]
            mine.append(value)
            others.append((total - value) / (len(votes) - 1))
    out = {}
    for rater, (mine, others) in pairs.items():
        r = math.nan
        if len(mine) >= MIN_SHARED_PHOTOS and np.std(mine) > 0 and np.std(others) > 0:
            r = float(np.corrcoef(mine, others)[0, 1])
        out[rater] = (r, len(mine))
    return out


def screen(votes: list[tuple[str, str, int]], gold: dict[str, tuple[int, int]] | None = None) -> Screening:
    """Screen every rater of ``votes`` = (rater, image, value 1-5); ``gold``: image ->
    (expected, tolerance). Every standing vote takes part, gold photos included (they were
    rated blind like the rest); only the MOS for training leaves gold photos out."""
    gold = gold or {}
    by_image: dict[str, list[tuple[str, int]]] = defaultdict(list)
    by_rater: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for rater, image, value in votes:
        by_image[image].append((rater, value))
        by_rater[rater].append((image, value))

    # BT.500, on the photos where it can work.
    p, q, screened_votes = defaultdict(int), defaultdict(int), defaultdict(int)
    bt500_photos = 0
    for pairs in by_image.values():
        mean, reach, reachable = _bt500_limits(np.asarray([v for _, v in pairs], float))
        if not reachable:
            continue
        bt500_photos += 1
        for rater, value in pairs:
            screened_votes[rater] += 1
            if value > mean + reach:
                p[rater] += 1
            elif value < mean - reach:
                q[rater] += 1

    # Correlation with the others.
    correlations = rater_correlations(by_image)
    finite = [r for r, _ in correlations.values() if not math.isnan(r)]
    correlation_median = float(np.median(finite)) if finite else math.nan
    correlation_applied = len(finite) >= MIN_RATERS_FOR_MODEL and correlation_median >= CORRELATION_PANEL_MEDIAN

    # The subject model.
    model, reference = None, math.nan
    if len(by_rater) >= MIN_RATERS_FOR_MODEL:
        model = fit_subject_model(votes)
        reference = inconsistency_reference(model)

    # The others' MOS of each photo without one rater: for the constant-rater rule.
    sums = {image: (sum(v for _, v in pairs), len(pairs)) for image, pairs in by_image.items()}

    raters = {}
    for rater, given in by_rater.items():
        values = np.asarray([v for _, v in given], float)
        flags, reasons, notes = [], [], []

        pq, screened = p[rater] + q[rater], screened_votes[rater]
        if screened == 0:
            notes.append(f"BT.500 not applicable: none of their photos has the {BT500_MIN_VOTES}+ votes "
                         "(22+ where the votes are far from normal) the rule needs to flag a vote")
        elif pq / screened > BT500_OUTLIER_SHARE and abs(p[rater] - q[rater]) / pq < BT500_LEAN:
            flags.append("bt500")
            reasons.append(f"BT.500 P/Q rule: {pq} of their {screened} screened votes ({pq / screened:.0%}) "
                           f"outside the photo's limits, {p[rater]} high and {q[rater]} low")

        if len(values) >= CONSTANT_MIN_VOTES and values.std() == 0:
            others = [(sums[i][0] - v) / (sums[i][1] - 1) for i, v in given if sums[i][1] > 1]
            span = max(others) - min(others) if len(others) >= 2 else math.nan
            if math.isnan(span) or span >= CONSTANT_OTHERS_SPAN:
                flags.append("constant")
                seen = ("nobody else rated enough of those photos to say they are alike" if math.isnan(span)
                        else f"the other raters' MOS of those photos spans {span:.1f} ACR steps")
                reasons.append(f"constant rater: all {len(values)} votes are {int(values[0])}, while {seen}")
            else:
                notes.append(f"all votes are {int(values[0])}, as the other raters judged those photos alike")

        r, shared = correlations.get(rater, (math.nan, 0))
        if math.isnan(r):
            if not (len(values) >= CONSTANT_MIN_VOTES and values.std() == 0):
                notes.append(f"correlation not computed: {shared} of their photos have {CORRELATION_MIN_OTHERS}+ "
                             f"other votes (needs {MIN_SHARED_PHOTOS})" if shared < MIN_SHARED_PHOTOS else
                             "correlation not computed: their votes or the others' do not vary")
        elif r < MIN_CORRELATION:
            if correlation_applied:
                flags.append("correlation")
                reasons.append(f"correlation {r:.2f} with the other raters' mean over {shared} photos "
                               f"(below {MIN_CORRELATION})")
            else:
                notes.append(f"correlation {r:.2f} not held against them: the panel's median is only "
                             f"{correlation_median:.2f}")

        bias = inconsistency = inconsistency_ci = math.nan
        if model is not None:
            k = model.rater(rater)
            bias, inconsistency = float(model.bias[k]), float(model.inconsistency[k])
            inconsistency_ci = float(model.inconsistency_ci95[k])
            if inconsistency >= INCONSISTENCY_RATIO * reference and inconsistency - inconsistency_ci > reference:
                flags.append("inconsistent")
                reasons.append(f"subject model: inconsistency {inconsistency:.2f} ± {inconsistency_ci:.2f}, "
                               f"{inconsistency / reference:.1f}x the panel's median {reference:.2f}")

        gold_given = [(i, v) for i, v in given if i in gold]
        gold_ok = sum(abs(v - gold[i][0]) <= gold[i][1] for i, v in gold_given)
        if len(gold_given) >= GOLD_MIN_VOTES and gold_ok / len(gold_given) < GOLD_MIN_ACCURACY:
            flags.append("gold")
            reasons.append(f"gold: {gold_ok} of {len(gold_given)} known answers within tolerance (needs 2 in 3)")
        elif 0 < len(gold_given) < GOLD_MIN_VOTES:
            notes.append(f"gold not judged: {len(gold_given)} gold vote(s), needs {GOLD_MIN_VOTES}")

        raters[rater] = RaterScreening(
            rater, len(values), p[rater], q[rater], len(gold_given), gold_ok, r, screened, shared,
            float(values.std(ddof=1)) if len(values) > 1 else math.nan, bias, inconsistency, inconsistency_ci,
            tuple(flags), tuple(reasons), tuple(notes))

    max_votes = max((len(v) for v in by_image.values()), default=0)
    panel_notes = []
    if bt500_photos == 0:
        panel_notes.append(f"BT.500's P/Q rule is not applicable: no photo has the {BT500_MIN_VOTES}+ votes "
                           f"it needs to flag a vote (most votes on a photo: {max_votes}).")
    elif bt500_photos < len(by_image):
        panel_notes.append(f"BT.500's P/Q rule screened {bt500_photos} of {len(by_image)} photos: on the others no "
                           f"vote can lie beyond its limit (fewer than {BT500_MIN_VOTES} votes, or fewer than 22 "
                           f"where the votes are far from normal).")
    if model is None:
        panel_notes.append(f"Subject model not fitted: it needs {MIN_RATERS_FOR_MODEL}+ raters.")
    else:
        panel_notes.append(f"Subject model (P.913 / Li & Bampis): median inconsistency {reference:.2f} ACR steps.")
    if finite and not correlation_applied:
        panel_notes.append(f"Correlation rule not applied: the panel's median correlation is "
                           f"{correlation_median:.2f} (the rule needs {CORRELATION_PANEL_MEDIAN}).")
    return Screening(raters, len(by_image), bt500_photos, max_votes, correlation_median, correlation_applied,
                     model, reference, tuple(panel_notes))


def screen_raters(votes: list[tuple[str, str, int]], gold: dict[str, tuple[int, int]] | None = None) -> dict[str, RaterScreening]:
    """Every rater's screening result; see ``screen`` for the panel-level view."""
    return screen(votes, gold).raters
