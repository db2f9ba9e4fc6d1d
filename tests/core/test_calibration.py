"""The site calibration's statistics (numpy only in the app; scipy here as the reference): rank
correlations, the paired bootstrap, the monotone map, and the nested cross-validation that
decides whether a residual learner on the embedding (a ridge or a kernel ridge) earns its place
and whether the whole helps."""
import json

import numpy as np
import pytest
from scipy import stats

from app.core.calibration import Calibration, fit_calibration, fit_monotone
from app.core.calibration.fit import Choice, fit_candidates
from app.core.site.plain_words import calibration_in_words
from app.core.stats import compare_srcc, ranks, srcc


def test_ranks_and_srcc_match_scipy():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 10, 50).astype(float)  # with ties
    b = a + rng.normal(0, 3, 50)
    assert np.allclose(ranks(a), stats.rankdata(a) - 1)
    assert srcc(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert np.isnan(srcc(np.ones(5), np.arange(5)))  # a constant ranks nothing


def test_the_paired_bootstrap_matches_a_scipy_reference_on_the_same_resamples():
    rng = np.random.default_rng(1)
    mos = rng.normal(50, 15, 40)
    before, after = mos + rng.normal(0, 12, 40), mos + rng.normal(0, 6, 40)
    got = compare_srcc(mos, before, after, resamples=1000, seed=3)
    draws, ref = np.random.default_rng(3), []
    for start in range(0, 1000, 500):
        for i in draws.integers(0, 40, (500, 40)):
            ref.append(stats.spearmanr(after[i], mos[i]).statistic - stats.spearmanr(before[i], mos[i]).statistic)
    assert got.gain_ci == pytest.approx(list(np.percentile(ref, [2.5, 97.5])), abs=1e-9)
    assert got.before == pytest.approx(stats.spearmanr(before, mos).statistic)
    assert got.better and not got.worse and got.gain_ci[0] > 0


def test_a_monotone_map_keeps_the_ranking_and_fits_the_sites_scale():
    rng = np.random.default_rng(2)
    s = rng.uniform(20, 80, 60)
    y = 10 + 80 / (1 + np.exp(-(s - 50) / 6)) + rng.normal(0, 2, 60)  # the site's S-shaped use of the scale
    m = fit_monotone(s, y)
    from app.core.calibration import apply_monotone

    mapped = apply_monotone(m, s)
    assert srcc(mapped, y) == pytest.approx(srcc(s, y))
    assert np.sqrt(np.mean((mapped - y) ** 2)) < np.sqrt(np.mean((apply_monotone(fit_monotone(s, y, "linear"), s) - y) ** 2))
    with pytest.raises(ValueError, match="same score"):
        fit_monotone(np.full(10, 50.0), y[:10])


def test_calibration_fixes_a_biased_model_on_planted_data():
    """The site's MOS depends on a feature the model's score weighs the wrong way: the embedding
    knows it, so the ridge on the residual earns its place and the gain lies above 0."""
    rng = np.random.default_rng(1)
    n = 120
    emb = rng.normal(size=(n, 16))
    truth = 50 + 12 * emb[:, 0] + 8 * emb[:, 3]
    mos = truth + rng.normal(0, 3, n)
    score = 50 + 12 * emb[:, 0] - 8 * emb[:, 3] + rng.normal(0, 3, n)  # biased on feature 3
    cal = fit_calibration(emb, score, mos)
    assert cal.cv_srcc > cal.base_srcc + 0.2 and cal.cv_srcc > 0.85
    assert cal.helps and cal.gain_ci[0] > 0.1
    assert cal.weights and cal.ridge_folds == cal.folds == 5
    again = Calibration.from_json(cal.to_json())
    assert again == cal
    assert again.apply(emb[0], score[0]) == pytest.approx(cal.apply(emb[0], score[0]))
    assert 0 <= cal.apply(emb[0] * 100, 500.0) <= 100  # clipped to the score range


def test_raters_who_punish_what_no_line_through_the_embedding_sees_are_learnt_by_the_kernel():
    """The site's raters mark down photos where two features the model sees act together (their
    product: no linear trace at all). A ridge cannot learn it at any strength; the kernel ridge
    can, earns its place in the nested cross-validation, and ranks new photos far better. Stored
    and loaded again, it applies exactly as fitted, one photo or a chunk at a time."""
    rng = np.random.default_rng(0)
    n, rated = 700, 300
    emb, q = rng.normal(size=(n, 16)), rng.normal(size=n)
    mos = 50 + 8 * q + 10 * emb[:, 0] * emb[:, 1] + rng.normal(0, 3, n)
    score = 50 + 8 * q + rng.normal(0, 3, n)
    cal = fit_calibration(emb[:rated], score[:rated], mos[:rated])
    assert cal.kernel and cal.helps and cal.gain_ci[0] > 0.05
    new = cal.apply_many(emb[rated:], score[rated:])
    assert srcc(new, mos[rated:]) > srcc(score[rated:], mos[rated:]) + 0.1
    ridges = fit_candidates(emb[:rated], score[:rated], mos[:rated],
                            tuple(Choice("linear", "ridge", lam) for lam in (0.1, 1.0, 10.0, 100.0, 1000.0)))
    best_ridge = max(srcc(f.predict(emb[rated:], score[rated:]), mos[rated:]) for f in ridges.values())
    assert best_ridge < srcc(score[rated:], mos[rated:]) + 0.03
    again = Calibration.from_json(json.loads(json.dumps(cal.to_json())))
    assert again == cal and "kernel ridge" in again.describe()
    assert [again.apply(e, s) for e, s in zip(emb[rated:rated + 5], score[rated:rated + 5])] == pytest.approx(new[:5])


def test_what_only_the_pooled_stages_know_is_learnt_when_every_photo_carries_them():
    """The site's MOS follows a feature of the backbone's pooled stages that the embedding does
    not carry: fitted on the stages as well, the calibration gains beyond noise where the embedding
    alone cannot; it records how many stage values it reads and needs them to apply. One rated
    photo without stages (stored by an older station) and the fit reads the embedding alone."""
    rng = np.random.default_rng(3)
    n = 200
    emb, stages = rng.normal(size=(n, 16)), rng.normal(size=(n, 24))
    mos = 50 + 10 * emb[:, 0] + 10 * stages[:, 5] + rng.normal(0, 3, n)
    score = 50 + 10 * emb[:, 0] + rng.normal(0, 3, n)
    alone = fit_calibration(emb, score, mos)
    cal = fit_calibration(emb, score, mos, stages=list(stages))
    assert cal.stage_values == 24 and cal.helps and cal.cv_srcc > alone.cv_srcc + 0.1
    assert "the embedding and the pooled backbone stages" in cal.describe()
    again = Calibration.from_json(json.loads(json.dumps(cal.to_json())))
    assert again == cal
    assert again.apply(emb[0], score[0], stages[0]) == pytest.approx(cal.apply_many(emb[:1], score[:1], stages[:1])[0])
    assert cal.can_read(emb[0], stages[0]) and not cal.can_read(emb[0], None) and not cal.can_read(emb[0], stages[0][:5])
    with pytest.raises(ValueError, match="pooled backbone stages"):
        cal.apply(emb[0], score[0])
    partly = [*stages[:-1], None]
    assert fit_calibration(emb, score, mos, stages=partly).stage_values == 0


def test_a_calibration_stored_in_format_2_still_applies_as_fitted():
    """Format 2: a monotone map + a ridge on the standardised embedding, no kernel field."""
    stored = {"mean": [0.0, 1.0], "std": [1.0, 2.0], "weights": [2.0, -1.0], "bias": 0.5, "lam": 10.0, "n": 50,
              "cv_srcc": 0.8, "cv_plcc": 0.8, "base_srcc": 0.7, "base_plcc": 0.7, "format": 2,
              "map": {"kind": "linear", "a": 5.0, "b": 0.9, "c": 0.0, "d": 0.0}, "ridge_folds": 5, "folds": 5}
    cal = Calibration.from_json(stored)
    expected = 5.0 + 0.9 * 60.0 + (3.0 - 0) / 1 * 2.0 + (5.0 - 1.0) / 2 * -1.0 + 0.5
    assert cal.apply(np.array([3.0, 5.0]), 60.0) == pytest.approx(expected)
    assert cal.apply_many([[3.0, 5.0], [3.0, 5.0]], [60.0, 60.0]) == pytest.approx([expected, expected])
    assert "ridge on the embedding (λ 10)" in cal.describe()


def test_a_good_score_with_few_ratings_keeps_its_ranking_and_is_not_said_to_help():
    """The issue's simulation: 40 rated photos, a 96-dimension embedding that knows nothing the
    score does not. The score, unpenalised, keeps its weight: new photos rank as well calibrated
    as raw (a ridge on embedding + score lost 0.44 SRCC here), and Apply is not offered."""
    rng = np.random.default_rng(5)
    losses = []
    for trial in range(4):
        q = rng.normal(size=440)
        emb = rng.normal(size=(440, 96))
        mos = np.clip(50 + 15 * q + rng.normal(0, 6, 440), 0, 100)
        score = 40 + 9 * q + rng.normal(0, 3, 440)
        cal = fit_calibration(emb[:40], score[:40], mos[:40], seed=trial)
        new = [cal.apply(e, s) for e, s in zip(emb[40:], score[40:])]
        losses.append(srcc(score[40:], mos[40:]) - srcc(new, mos[40:]))
        assert not cal.helps
        assert cal.gain_ci[0] <= 0 <= cal.gain_ci[1] + 1e-12
    assert max(losses) < 0.02


def test_a_site_that_ranks_the_other_way_gets_a_decreasing_map_that_helps():
    rng = np.random.default_rng(3)
    score = rng.uniform(20, 80, 30)
    mos = 100 - score + rng.normal(0, 5, 30)
    cal = fit_calibration(rng.normal(size=(30, 8)), score, mos)
    assert cal.base_srcc < -0.8 and cal.cv_srcc > 0.8 and cal.reverses and cal.surely_reversed and cal.helps
    assert cal.apply(np.zeros(8), 25.0) > cal.apply(np.zeros(8), 75.0)


def test_pure_noise_that_happens_to_rank_against_the_score_is_not_turned_around():
    """Ratings with nothing to do with the photos: on 150 photos the score ranks them at SRCC
    -0.18 by chance, and a reversing map "gains" beyond the 95 % rule; it is not offered."""
    rng = np.random.default_rng(37)
    score = rng.uniform(20, 80, 150)
    mos = rng.uniform(0, 100, 150)
    cal = fit_calibration(rng.normal(size=(150, 8)), score, mos)
    assert cal.base_srcc < -0.15 and cal.reverses and cal.gain_ci[0] > 0  # the 95 % rule alone would apply it
    assert not cal.surely_reversed and not cal.helps
    words = calibration_in_words(cal)
    assert words.startswith("Do not apply it yet") and "other way round" in words and "swapped" in words


def test_a_calibration_stored_before_format_2_still_loads_and_applies_as_fitted():
    """Format 1: a ridge on the standardised [embedding, score], with only these fields."""
    stored = {"mean": [0.0, 0.0, 50.0], "std": [1.0, 2.0, 10.0], "weights": [3.0, -1.0, 12.0], "bias": 55.0,
              "lam": 1.0, "n": 40, "cv_srcc": 0.8, "cv_plcc": 0.8, "base_srcc": 0.7, "base_plcc": 0.7}
    cal = Calibration.from_json(stored)
    assert cal.format == 1 and cal.map is None and not cal.helps
    expected = (1.0 - 0) / 1 * 3.0 + (4.0 - 0) / 2 * -1.0 + (60.0 - 50) / 10 * 12.0 + 55.0
    assert cal.apply(np.array([1.0, 4.0]), 60.0) == pytest.approx(expected)
    assert "before intervals" in cal.describe()


def test_too_few_ratings_or_one_score_for_all_are_refused():
    with pytest.raises(ValueError, match="at least"):
        fit_calibration(np.zeros((5, 3)), np.arange(5.0), np.zeros(5))
    with pytest.raises(ValueError, match="same score"):
        fit_calibration(np.zeros((12, 3)), np.full(12, 40.0), np.arange(12.0))
