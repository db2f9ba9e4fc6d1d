import csv
import math

import numpy as np
import pytest

from app.core.ratings import acr_to_100, image_mos, screen_raters, write_mos_csv


def test_mos_std_and_confidence_interval_of_known_votes():
    votes = [(f"r{i}", "a.jpg", v) for i, v in enumerate([4, 5, 3, 4, 4])]
    m = image_mos(votes)["a.jpg"]
    assert m.mos == 4.0 and m.n == 5
    assert m.std == pytest.approx(np.std([4, 5, 3, 4, 4], ddof=1))
    assert m.ci95 == pytest.approx(2.776 * m.std / math.sqrt(5))
    assert m.mos100 == 75.0 and acr_to_100(1) == 0 and acr_to_100(5) == 100


def _panel(rng, n_images=40, honest=12, random_raters=("noise",)):
    """Honest raters see the true quality with a little noise; random raters press anything."""
    truth = rng.uniform(1.5, 4.5, n_images)
    votes = []
    for r in range(honest):
        for i, t in enumerate(truth):
            votes.append((f"honest{r}", f"img{i}", int(np.clip(round(t + rng.normal(0, 0.5)), 1, 5))))
    for name in random_raters:
        for i in range(n_images):
            votes.append((name, f"img{i}", int(rng.integers(1, 6))))
    return truth, votes


def test_a_random_rater_is_flagged_and_consistent_ones_are_not():
    rng = np.random.default_rng(0)
    _, votes = _panel(rng)
    screening = screen_raters(votes)
    assert screening["noise"].rejected
    assert not any(s.rejected for name, s in screening.items() if name.startswith("honest"))


def test_a_random_rater_among_few_is_caught_by_correlation_where_bt500_misses():
    rng = np.random.default_rng(0)
    _, votes = _panel(rng, n_images=100, honest=5)
    screening = screen_raters(votes)
    # Seen in the simulated site trial: one random rater of six slips through the P/Q rule.
    assert not screening["noise"].outlier_rule
    assert screening["noise"].correlation < 0.3 and screening["noise"].rejected
    assert all(s.correlation > 0.6 and not s.rejected for name, s in screening.items() if name.startswith("honest"))


def test_screened_mos_is_closer_to_the_truth_and_both_are_available():
    rng = np.random.default_rng(1)
    truth, votes = _panel(rng, honest=8, random_raters=("noise1", "noise2", "noise3"))
    rejected = {r for r, s in screen_raters(votes).items() if s.rejected}
    # Three random raters among eleven widen every image's spread, so BT.500's P/Q rule misses
    # some of them; the correlation rule catches the rest, and neither flags an honest rater.
    assert rejected == {"noise1", "noise2", "noise3"}
    all_votes = image_mos(votes)
    screened = image_mos(votes, exclude=rejected)
    err_all = np.mean([abs(all_votes[f"img{i}"].mos - t) for i, t in enumerate(truth)])
    err_screened = np.mean([abs(screened[f"img{i}"].mos - t) for i, t in enumerate(truth)])
    assert err_screened < err_all


def test_gold_accuracy_and_csv_export(tmp_path):
    votes = [("a", "g1", 5), ("a", "g2", 1), ("b", "g1", 2), ("b", "g2", 1), ("a", "x", 3), ("b", "x", 4)]
    screening = screen_raters(votes, gold={"g1": (5, 1), "g2": (1, 0)})
    assert screening["a"].gold_accuracy == 1.0 and screening["b"].gold_accuracy == 0.5
    path = write_mos_csv(image_mos(votes), tmp_path / "mos.csv")
    with open(path) as f:
        rows = {r["image"]: r for r in csv.DictReader(f)}
    assert list(rows["x"]) == ["image", "mos", "std", "n"]
    assert float(rows["x"]["mos"]) == pytest.approx(62.5) and rows["x"]["n"] == "2"
