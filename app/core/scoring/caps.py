"""How a reader's probability that a photo fails caps its score (shared by the exposure and the
sharpness readers): the top of the score range up to the card's ``onset``, falling linearly to
its bottom at p = 1. A cap only ever lowers a score."""
from __future__ import annotations

import numpy as np


def probability_cap(p, onset: float, score_range: tuple[float, float] = (0.0, 100.0)):
    """The most a score may be for failure probability ``p`` (a number or an array)."""
    low, high = score_range
    past = np.clip((np.asarray(p, np.float64) - onset) / (1.0 - onset), 0.0, 1.0)
    return low + (high - low) * (1.0 - past)


def cap_in_words(onset: float) -> str:
    """What ``probability_cap`` does, as a card says it."""
    return "100 x (1 - p)" if onset == 0 else f"100 x (1 - (p - {onset:g}) / {1 - onset:g}) once p passes {onset:g}"
