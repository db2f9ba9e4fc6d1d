"""The P.913 / Li & Bampis subject model on planted data: what it recovers, that its solution is
the likelihood's maximum, that its Fisher intervals cover, and that odd designs do not break it."""
import math

import numpy as np
import pytest

from app.core.ratings.subject_model import MIN_VARIANCE, fit_subject_model


def _planted(rng, n_raters=30, n_photos=80, per_photo=None, ambiguity=0.0, rounded=False):
    """Votes drawn from the model itself: psi_j + delta_i + sqrt(upsilon_i^2 + phi^2) N(0, 1)."""
    psi = rng.uniform(1.5, 4.5, n_photos)
    delta = rng.normal(0, 0.4, n_raters)
    delta -= delta.mean()
    upsilon = rng.uniform(0.3, 1.0, n_raters)
    votes = []
    for j in range(n_photos):
        who = range(n_raters) if per_photo is None else rng.choice(n_raters, per_photo, replace=False)
        for i in who:
            x = psi[j] + delta[i] + math.hypot(upsilon[i], ambiguity) * rng.normal()
            votes.append((f"r{i:02d}", f"p{j:03d}", float(np.clip(round(x), 1, 5)) if rounded else x))
    return psi, delta, upsilon, votes


def _log_likelihood(votes, model):
    """The model's log-likelihood written out again, independently of the fit's code."""
    raters = {r: k for k, r in enumerate(model.raters)}
    photos = {p: k for k, p in enumerate(model.photos)}
    total = 0.0
    for r, p, x in votes:
        i, j = raters[r], photos[p]
        v = model.inconsistency[i] ** 2 + model.ambiguity[j] ** 2
        total += -0.5 * math.log(2 * math.pi * v) - (x - model.quality[j] - model.bias[i]) ** 2 / (2 * v)
    return total


def test_planted_quality_bias_and_inconsistency_are_recovered():
    rng = np.random.default_rng(0)
    psi, delta, upsilon, votes = _planted(rng)
    m = fit_subject_model(votes, own_ambiguity_from=10**9)  # one ambiguity for all (planted: none)
    assert m.converged and m.ambiguity.max() < 0.1
    assert np.abs(m.quality - psi).mean() < 0.12  # about 0.8 of the Fisher standard error (0.11)
    assert np.corrcoef(m.bias, delta)[0, 1] > 0.95
    assert np.all(np.abs(m.bias - delta) < 3.5 * m.bias_ci95 / 1.96)
    assert abs(np.mean(m.inconsistency / upsilon) - 1) < 0.08 and np.corrcoef(m.inconsistency, upsilon)[0, 1] > 0.9
    assert m.bias.mean() == pytest.approx(0, abs=1e-9)  # the shared constant: biases average to 0


def test_each_photos_own_ambiguity_is_recovered_where_it_has_the_votes():
    rng = np.random.default_rng(6)
    n_raters, n_photos = 40, 60
    psi, phi = rng.uniform(1.5, 4.5, n_photos), rng.uniform(0.0, 1.2, n_photos)
    upsilon = rng.uniform(0.3, 0.6, n_raters)
    votes = [(f"r{i}", f"p{j:02d}", psi[j] + math.hypot(upsilon[i], phi[j]) * rng.normal())
             for i in range(n_raters) for j in range(n_photos)]
    m = fit_subject_model(votes)
    assert np.corrcoef(m.ambiguity, phi)[0, 1] > 0.85
    assert np.abs(m.quality - psi).mean() < 0.15


def test_the_solution_is_a_maximum_of_the_likelihood():
    rng = np.random.default_rng(1)
    _, _, _, votes = _planted(rng, n_raters=12, n_photos=30, ambiguity=0.3)
    m = fit_subject_model(votes, own_ambiguity_from=1)  # every photo its own ambiguity
    best = _log_likelihood(votes, m)
    assert best == pytest.approx(m.log_likelihood, rel=1e-9)
    for attribute in ("quality", "bias", "inconsistency", "ambiguity"):
        for k in range(0, len(getattr(m, attribute)), 5):
            for step in (1e-3, -1e-3):
                values = getattr(m, attribute).copy()
                values[k] = max(values[k] + step, 0.0)
                if attribute == "inconsistency" and values[k] < math.sqrt(MIN_VARIANCE):
                    continue  # the floor is a bound of the search, not a stationary point
                moved = m.__class__(**{**m.__dict__, attribute: values})
                assert _log_likelihood(votes, moved) <= best + 1e-9, (attribute, k, step)


def test_the_fisher_intervals_of_quality_cover_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(2)
    psi, _, _, votes = _planted(rng, n_raters=40, n_photos=400, per_photo=8)
    m = fit_subject_model(votes)
    covered = np.abs(m.quality - psi) <= m.quality_ci95
    assert 0.91 <= covered.mean() <= 0.99


def test_with_few_votes_per_photo_and_biased_raters_it_beats_the_plain_mean():
    rng = np.random.default_rng(3)
    psi, _, _, votes = _planted(rng, n_raters=40, n_photos=300, per_photo=4, rounded=True)
    m = fit_subject_model(votes)
    by_photo = {}
    for _, p, x in votes:
        by_photo.setdefault(p, []).append(x)
    plain = np.array([np.mean(by_photo[p]) for p in m.photos])
    assert np.abs(m.quality - psi).mean() < 0.85 * np.abs(plain - psi).mean()


def test_panels_sharing_no_photo_are_each_centred_on_their_own():
    votes = [(f"a{i}", f"pa{j}", 3 + (i == 0) + (j % 3 == 0)) for i in range(4) for j in range(10)]
    votes += [(f"b{i}", f"pb{j}", 2 + (j % 2)) for i in range(3) for j in range(8)]
    m = fit_subject_model(votes)
    a = [m.rater(f"a{i}") for i in range(4)]
    b = [m.rater(f"b{i}") for i in range(3)]
    assert m.bias[a].mean() == pytest.approx(0, abs=1e-9) and m.bias[b].mean() == pytest.approx(0, abs=1e-9)
    assert m.bias[m.rater("a0")] == pytest.approx(0.75, abs=1e-6)  # one step above the three others


def test_lone_votes_and_constant_raters_give_finite_answers_at_the_floor():
    votes = [("only", "alone.jpg", 4), ("r1", "p1", 3), ("r2", "p1", 3), ("r1", "p2", 5), ("r2", "p2", 5)]
    m = fit_subject_model(votes)
    for values in (m.quality, m.bias, m.inconsistency, m.ambiguity, m.quality_ci95, m.inconsistency_ci95):
        assert np.all(np.isfinite(values))
    assert m.inconsistency.min() >= math.sqrt(MIN_VARIANCE) - 1e-12
    assert m.photo_quality()["alone.jpg"][0] == pytest.approx(4.0)


def test_no_votes_is_an_error_not_a_crash():
    with pytest.raises(ValueError):
        fit_subject_model([])
