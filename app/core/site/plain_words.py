"""What the Training panel says first, in a supervisor's words: per model version what to do with
it and why, per rated photo what the raters thought and whether it counts for a fine-tune, and what
a site calibration would do. The figures behind each (SRCC, intervals, screening rules) stay in
the panel's *Details*; nothing here names a statistic (Qt-free, so the words are tested alone)."""
from __future__ import annotations

from ..calibration import Calibration
from ..ratings.mos import ImageMOS
from ..ratings.session import ACR_LEVELS
from ..stats import above_zero, below_zero
from ..store.repository import VersionRow

# A site test on fewer photos than this says nothing a supervisor should act on: the interval of
# the gain is then about as wide as any gain a fine-tune brings (0.3 of rank agreement and more).
FEW_TEST_PHOTOS = 8

BETTER = "Better on this site's test photos"
NO_BETTER = "No better: keep the current model"
WORSE = "Worse: keep the current model"
TOO_FEW = "Too few test photos to tell"
NOT_TESTED = "Not tested on this site's photos"


def version_decision(v: VersionRow) -> tuple[str, str]:
    """(what to do with the version, why), from its site test when it has one."""
    if v.srcc_after is None:
        origin = {"shipped": "it came with the program", "approved": "it was approved at this station"}.get(
            v.origin or "", "it was registered without a site test")
        return NOT_TESTED, f"{origin[0].upper()}{origin[1:]}; rate photos and fine-tune to compare it on them."
    n = v.site_test_n
    counted = f"{n} test photo{'s' if n != 1 else ''}" if n is not None else "its test photos"
    if v.site_gain_ci is None or (n is not None and n < FEW_TEST_PHOTOS):
        return TOO_FEW, f"Only {counted} were kept apart for the test; rate more photos and fine-tune again."
    if above_zero(list(v.site_gain_ci)):
        return BETTER, f"It orders the {counted} more like your raters than the version it came from, beyond chance."
    if below_zero(list(v.site_gain_ci)):
        return WORSE, f"It orders the {counted} less like your raters than the version it came from."
    return NO_BETTER, f"On the {counted} the difference from the version it came from is within chance."


def opinion(m: ImageMOS) -> str:
    """The raters' mean opinion as the ACR word nearest to it: "Good", "Fair"…"""
    return ACR_LEVELS[min(5, max(1, round(m.mos)))]


def counts_for_finetune(m: ImageMOS, votes_needed: int) -> str:
    """"Yes" once the photo has the votes a fine-tune needs, else how many are missing."""
    missing = votes_needed - m.n
    return "Yes" if missing <= 0 else f"Needs {missing} more vote{'s' if missing != 1 else ''}"


def ratings_in_words(photos: int, raters: int, left_out: list[str]) -> str:
    """How many photos and raters, and whom screening left out, in one or two sentences."""
    if not photos:
        return "No rated photos yet: raters rate photos in the labeling panel (Ctrl+L)."
    text = f"{photos} rated photo{'s' if photos != 1 else ''} from {raters} rater{'s' if raters != 1 else ''}."
    if left_out:
        who = ", ".join(left_out)
        text += (f" Left out: {who} (their votes disagree with the others' too often to count; the votes are "
                 "kept).")
    return text


def calibration_in_words(c: Calibration) -> str:
    """What applying a fitted calibration would do, and whether to."""
    if c.helps:
        return (f"Apply it: fitted on {c.n} rated photos, it brings the scores closer to your raters' opinions, "
                "beyond chance.")
    if c.reversal_unsure:
        return (f"Do not apply it yet: on {c.n} rated photos your raters seem to rank the photos the other way round "
                "from the model, but not surely enough to turn its order around. Check that the rating scale was "
                "not swapped (5 is the best), or rate more photos.")
    if below_zero(c.gain_ci):
        return f"Do not apply it: on {c.n} rated photos it moves the scores away from your raters' opinions."
    return (f"No need to apply it: on {c.n} rated photos it is not shown to bring the scores closer to your "
            "raters' opinions.")


def applied_calibration_in_words(c: Calibration | None) -> str:
    if c is None:
        return "Site calibration: none (the scores are the model's own)."
    return f"Site calibration applied: the scores are adjusted to this site's raters ({c.n} rated photos)."
