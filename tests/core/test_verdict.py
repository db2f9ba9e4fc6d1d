from app.core.verdict import FAIL, PASS, REVIEW, Thresholds, in_force


def test_an_inspectors_accept_or_reject_is_the_verdict_in_force_whatever_the_thresholds():
    assert in_force(REVIEW, "rejected") == FAIL and in_force(FAIL, "accepted") == PASS
    assert in_force(PASS, "reviewed") == PASS and in_force(REVIEW, None) == REVIEW


def test_counts_are_of_the_verdicts_in_force():
    t = Thresholds(pass_at=60, fail_below=40)
    scores = [70, 50, 50, 30]
    assert t.counts(scores) == {PASS: 1, REVIEW: 2, FAIL: 1}
    assert t.counts(scores, [None, "rejected", "reviewed", "accepted"]) == {PASS: 2, REVIEW: 1, FAIL: 1}
