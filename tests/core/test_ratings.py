"""MOS, its confidence interval and rater screening, each on planted data whose answer is known."""
import csv
import math

import numpy as np
import pytest

from app.core.ratings.mos import acr_to_100, image_mos, votes_per_photo_text, write_mos_csv
from app.core.ratings.screening import BT500_MIN_VOTES, screen, screen_raters
from app.core.stats import t95, t_quantile

stats = pytest.importorskip("scipy.stats")  # a test-time reference only: the app never imports scipy


def test_mos_std_and_confidence_interval_of_known_votes():
    votes = [(f"r{i}", "a.jpg", v) for i, v in enumerate([4, 5, 3, 4, 4])]
    m = image_mos(votes)["a.jpg"]
    assert m.mos == 4.0 and m.n == 5
    assert m.std == pytest.approx(np.std([4, 5, 3, 4, 4], ddof=1))
    assert m.ci95 == pytest.approx(stats.t.ppf(0.975, 4) * m.std / math.sqrt(5), rel=1e-10)
    assert m.mos100 == 75.0 and acr_to_100(1) == 0 and acr_to_100(5) == 100
    assert m.text() == f"4.00 ± {m.ci95:.2f} (5 votes)"
    one = image_mos([("r", "b.jpg", 3)])["b.jpg"]
    assert math.isnan(one.ci95) and one.text() == "3.00 ± ? (1 vote)"


@pytest.mark.parametrize("n", [2, 3, 5, 10, 30, 31, 32, 45, 120])
def test_the_ci_is_scipys_t_interval_at_every_sample_size(n):
    values = np.random.default_rng(n).integers(1, 6, n)
    values[0], values[1] = 1, 5  # never all alike
    m = image_mos([(f"r{i}", "p", int(v)) for i, v in enumerate(values)])["p"]
    lo, hi = stats.t.interval(0.95, n - 1, loc=values.mean(), scale=stats.sem(values))
    assert (m.mos - m.ci95, m.mos + m.ci95) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))


def test_the_t_quantile_is_exact_and_has_no_jump_at_31_degrees_of_freedom():
    for df in (1, 2, 3, 4, 7, 29, 30, 31, 50, 200, 10_000, 2.5):
        for p in (0.6, 0.9, 0.975, 0.995, 0.025):
            assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9, abs=1e-12)
    factors = [t95(df) for df in range(1, 80)]
    assert all(a > b for a, b in zip(factors, factors[1:]))  # falls smoothly towards 1.96
    assert factors[29] - factors[30] < 0.003  # the old table jumped 2.042 -> 1.96 (0.08) here
    assert t95(31) > 1.96


# --- BT.500: only where it can work -----------------------------------------------------------
def test_bt500_cannot_flag_a_vote_among_five_and_says_it_is_not_applicable():
    # A lone 1 against four 5s lies (n - 1) / sqrt(n) = 1.79 S from the mean: never beyond 2 S.
    votes = [(f"r{i}", f"p{j}", 5) for i in range(4) for j in range(12)] + [("odd", f"p{j}", 1) for j in range(12)]
    result = screen(votes)
    assert result.bt500_photos == 0
    odd = result.raters["odd"]
    assert not odd.outlier_rule and odd.bt500_votes == 0 and math.isnan(odd.outlier_share)
    assert any("BT.500 not applicable" in note for note in odd.notes)
    assert "BT.500's P/Q rule is not applicable" in result.summary()


def test_one_dissent_among_six_lifts_the_kurtosis_so_that_photo_is_not_counted_as_screened():
    values = np.array([5, 5, 5, 5, 5, 1], float)
    m2 = ((values - values.mean()) ** 2).mean()
    assert ((values - values.mean()) ** 4).mean() / m2**2 > 4  # the example: kurtosis 4.2
    result = screen([(f"r{i}", "p", int(v)) for i, v in enumerate(values)])
    assert result.bt500_photos == 0 and result.raters["r5"].bt500_votes == 0
    # With the votes near normal, six are enough: the limit of 2 S is reachable.
    normal = [3, 4, 3, 2, 3, 4]
    assert screen([(f"r{i}", "q", v) for i, v in enumerate(normal)]).bt500_photos == 1
    assert BT500_MIN_VOTES == 6


def test_bt500_flags_a_rater_whose_outliers_go_both_ways_counting_screened_photos_only():
    rng = np.random.default_rng(3)
    truth = rng.uniform(2.0, 4.0, 30)
    votes = []
    for j, t in enumerate(truth):
        for i in range(15):
            votes.append((f"honest{i}", f"p{j}", int(np.clip(round(t + rng.normal(0, 0.6)), 1, 5))))
        votes.append(("wild", f"p{j}", 5 if j % 2 else 1))  # far off, half high and half low
    for j in range(10):  # photos nobody else rated: never screened, so not in the share
        votes += [("wild", f"solo{j}", 3), ("honest0", f"solo{j}", 3)]
    result = screen(votes)
    wild = result.raters["wild"]
    assert wild.outlier_rule and "bt500" in wild.flags
    assert wild.bt500_votes == result.bt500_photos <= 30 and wild.votes == 40
    assert wild.outlier_share == (wild.outliers_high + wild.outliers_low) / wild.bt500_votes
    assert wild.outliers_high > 0 and wild.outliers_low > 0
    assert "BT.500 P/Q rule" in wild.reasons[wild.flags.index("bt500")]


# --- The other rules, on planted raters -------------------------------------------------------
def _panel(rng, n_images=40, honest=12, random_raters=("noise",), per_photo=None, constant=()):
    """Honest raters see the true quality with a little noise; random raters press anything;
    constant raters always give the same answer. ``per_photo``: votes per photo (sparse)."""
    truth = rng.uniform(1.5, 4.5, n_images)
    names = [f"honest{r}" for r in range(honest)] + list(random_raters) + [c for c, _ in constant]
    fixed = dict(constant)
    votes = []
    for i, t in enumerate(truth):
        who = names if per_photo is None else [names[k] for k in rng.choice(len(names), per_photo, replace=False)]
        for name in who:
            if name in fixed:
                value = fixed[name]
            elif name.startswith("honest"):
                value = int(np.clip(round(t + rng.normal(0, 0.5)), 1, 5))
            else:
                value = int(rng.integers(1, 6))
            votes.append((name, f"img{i}", value))
    return truth, votes


def test_a_random_rater_is_flagged_and_consistent_ones_are_not():
    rng = np.random.default_rng(0)
    _, votes = _panel(rng)
    screening = screen_raters(votes)
    assert screening["noise"].rejected
    assert {"correlation", "inconsistent"} <= set(screening["noise"].flags)
    assert not any(s.rejected for name, s in screening.items() if name.startswith("honest"))


def test_a_random_rater_among_few_is_caught_by_correlation_where_bt500_misses():
    rng = np.random.default_rng(0)
    _, votes = _panel(rng, n_images=100, honest=5)
    screening = screen_raters(votes)
    # Seen in the simulated site trial: one random rater of six slips through the P/Q rule.
    assert not screening["noise"].outlier_rule
    assert screening["noise"].correlation < 0.3 and "correlation" in screening["noise"].flags
    assert all(s.correlation > 0.6 and not s.rejected for name, s in screening.items() if name.startswith("honest"))


def test_random_raters_with_few_votes_per_photo_are_caught_by_the_subject_model():
    rng = np.random.default_rng(5)
    _, votes = _panel(rng, n_images=200, honest=30, random_raters=("noise1", "noise2"), per_photo=4)
    result = screen(votes)
    assert result.bt500_photos == 0 and not result.correlation_applied  # neither can work at 4 votes a photo
    assert result.rejected == {"noise1", "noise2"}
    for name in ("noise1", "noise2"):
        r = result.raters[name]
        assert r.flags == ("inconsistent",) and r.inconsistency > 2 * result.inconsistency_median
        assert any("correlation not computed" in n for n in r.notes)
    assert "Subject model" in result.summary() and "not applicable" in result.summary()


def test_a_constant_rater_is_flagged_with_the_reason_where_correlation_is_nan():
    rng = np.random.default_rng(2)
    _, votes = _panel(rng, honest=8, random_raters=(), constant=[("always3", 3)])
    r = screen(votes).raters["always3"]
    assert math.isnan(r.correlation)  # zero variance: the old rule read NaN as "not rejected"
    assert "constant" in r.flags and r.std == 0
    assert "all 40 votes are 3" in r.reasons[r.flags.index("constant")]
    assert all(not s.rejected for name, s in screen(votes).raters.items() if name.startswith("honest"))


def test_a_constant_rater_on_photos_everyone_judged_alike_is_kept():
    votes = [(f"r{i}", f"p{j}", 4 if (i + j) % 7 else 3) for i in range(6) for j in range(10)]
    votes += [("steady", f"p{j}", 4) for j in range(10)]
    r = screen(votes).raters["steady"]
    assert "constant" not in r.flags
    assert any("judged those photos alike" in n for n in r.notes)


def test_gold_failures_reject_a_rater_only_with_enough_gold_votes():
    rng = np.random.default_rng(4)
    _, votes = _panel(rng, n_images=30, honest=6, random_raters=())
    gold = {"g1": (5, 1), "g2": (1, 1), "g3": (3, 0)}
    votes += [(f"honest{i}", g, expected) for i in range(6) for g, (expected, _) in gold.items()]
    votes += [("careless", "g1", 1), ("careless", "g2", 5), ("careless", "g3", 3)]  # 1 of 3 right
    votes += [("new", "g1", 1), ("new", "g2", 5)]  # 0 of 2: too few to judge
    result = screen(votes, gold)
    careless, new = result.raters["careless"], result.raters["new"]
    assert "gold" in careless.flags and careless.gold_accuracy == pytest.approx(1 / 3)
    assert "1 of 3 known answers" in careless.reasons[careless.flags.index("gold")]
    assert not new.rejected and any("gold not judged" in n for n in new.notes)
    assert all(result.raters[f"honest{i}"].gold_accuracy == 1.0 for i in range(6))


def test_screened_mos_is_closer_to_the_truth_and_both_are_available():
    rng = np.random.default_rng(1)
    truth, votes = _panel(rng, honest=8, random_raters=("noise1", "noise2", "noise3"))
    rejected = {r for r, s in screen_raters(votes).items() if s.rejected}
    # Three random raters among eleven widen every image's spread, so BT.500's P/Q rule misses
    # some of them; the correlation rule and the subject model catch the rest, and no rule
    # flags an honest rater.
    assert rejected == {"noise1", "noise2", "noise3"}
    all_votes = image_mos(votes)
    screened = image_mos(votes, exclude=rejected)
    err_all = np.mean([abs(all_votes[f"img{i}"].mos - t) for i, t in enumerate(truth)])
    err_screened = np.mean([abs(screened[f"img{i}"].mos - t) for i, t in enumerate(truth)])
    assert err_screened < err_all


def test_every_rejection_has_a_reason_and_the_verdict_says_it():
    rng = np.random.default_rng(0)
    _, votes = _panel(rng)
    for r in screen_raters(votes).values():
        assert len(r.flags) == len(r.reasons)
        assert r.verdict().startswith("rejected: " if r.rejected else "kept")


def test_gold_accuracy_votes_per_photo_and_csv_export(tmp_path):
    votes = [("a", "g1", 5), ("a", "g2", 1), ("b", "g1", 2), ("b", "g2", 1), ("a", "x", 3), ("b", "x", 4)]
    screening = screen_raters(votes, gold={"g1": (5, 1), "g2": (1, 0)})
    assert screening["a"].gold_accuracy == 1.0 and screening["b"].gold_accuracy == 0.5
    mos = image_mos(votes)
    assert votes_per_photo_text(mos).startswith("3 photos, 2 votes each, 95 % CI median ±")
    path = write_mos_csv(mos, tmp_path / "mos.csv")
    with open(path) as f:
        rows = {r["image"]: r for r in csv.DictReader(f)}
    assert list(rows["x"]) == ["image", "mos", "std", "n", "ci95"]
    assert float(rows["x"]["mos"]) == pytest.approx(62.5) and rows["x"]["n"] == "2"
    assert float(rows["x"]["ci95"]) == pytest.approx(mos["x"].ci95 * 25, abs=1e-4)
