import numpy as np
import pytest
from scipy import stats

from app.core.calibration import Calibration, fit_calibration, ranks, srcc


def test_ranks_and_srcc_match_scipy():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 10, 50).astype(float)  # with ties
    b = a + rng.normal(0, 3, 50)
    assert np.allclose(ranks(a), stats.rankdata(a) - 1)
    assert srcc(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)


def test_calibration_fixes_a_biased_model_on_planted_data():
    """The site's MOS depends on a feature the model's score under-weights: the embedding knows
    it, so ridge on the embedding recovers what the raw score misses."""
    rng = np.random.default_rng(1)
    n = 120
    emb = rng.normal(size=(n, 16))
    truth = 50 + 12 * emb[:, 0] + 8 * emb[:, 3]
    mos = truth + rng.normal(0, 3, n)
    score = 50 + 12 * emb[:, 0] - 8 * emb[:, 3] + rng.normal(0, 3, n)  # biased on feature 3
    cal = fit_calibration(emb, score, mos)
    assert cal.cv_srcc > cal.base_srcc + 0.2
    assert cal.cv_srcc > 0.9
    again = Calibration.from_json(cal.to_json())
    assert again.apply(emb[0], score[0]) == pytest.approx(cal.apply(emb[0], score[0]))
    assert 0 <= cal.apply(emb[0] * 100, 500.0) <= 100  # clipped to the score range


def test_too_few_ratings_are_refused():
    with pytest.raises(ValueError, match="at least"):
        fit_calibration(np.zeros((5, 3)), np.zeros(5), np.zeros(5))
