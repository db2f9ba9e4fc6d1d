"""A teacher ensemble labels every cached photo once; the top stage learns from its labels."""
import json

import numpy as np
import pytest

from models import load_checkpoint
from training.__main__ import main
from training.stage_top import score_rows
from training.trunk_cache import TrunkCache

from .test_top_stage import save_checkpoint, write_cache, write_texture


@pytest.fixture
def cached_site(tmp_path, tiny_mos_set):
    """A base checkpoint, a second network, a stage config and the base trunk's cache of 24 rated
    photos and one clean photo's ladders."""
    csv_path, root = tiny_mos_set
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    write_texture(kodak / "clean.png", 80, 112)
    save_checkpoint(tmp_path / "base.pt", seed=0)
    save_checkpoint(tmp_path / "other.pt", seed=1)
    cfg = {"model": "student", "side": 128, "batch_size": 4, "epochs": 1, "lr_backbone": 3e-3, "lr_head": 3e-3,
           "warmup_epochs": 0.1, "crop_cells": 6, "synthetic": {"groups": 1, "rank": 0.5, "verdict": 0.0},
           "loss": {"l1": 1.0, "plcc": 0.0, "rank": 0.0}, "val_fractions": {"livec": 0.25}, "split_seed": 0, "seed": 0}
    config, cache = write_cache(tmp_path, cfg, csv_path, root, kodak)
    return tmp_path, config, cache


def test_an_ensemble_labels_every_cached_photo_with_its_members_weighted_mean(cached_site, capsys):
    tmp_path, _, cache = cached_site
    out = tmp_path / "labels.json"
    assert main(["teacher-labels", "--member", str(tmp_path / "base.pt"), str(cache),
                 "--member", str(tmp_path / "other.pt"), str(cache), "--weights", "1", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "the ensemble (the labels)" in printed and "livec val SRCC" in printed
    assert "the ensemble over the first member, paired 95 %" in printed

    written = json.loads(out.read_text())
    rated = TrunkCache(cache / "rated")
    assert written["rows"] == {"rated": 24, "ladders": 1 + 14 * 5}
    # Each label is the weighted mean of what each member scores the whole photo, the second
    # member's scores first put on the first's scale by a line fitted over the training photos.
    a = score_rows(load_checkpoint(tmp_path / "base.pt")[0], rated, range(len(rated)))
    b = score_rows(load_checkpoint(tmp_path / "other.pt")[0], rated, range(len(rated)))
    assert a[0] != pytest.approx(b[0], abs=1e-3)  # two members that disagree: the weights matter
    slope, offset = written["members"][1]["scale_map"]
    train = [i for i, r in enumerate(rated.rows) if r["split"] == "train"]
    assert np.mean([slope * b[i] + offset for i in train]) == pytest.approx(np.mean([a[i] for i in train]), abs=1e-3)
    for i, row in enumerate(rated.rows):
        assert written["labels"]["rated"][row["image"]] == pytest.approx((a[i] + 3 * (slope * b[i] + offset)) / 4, abs=1e-3)
    assert set(written["validation"]) == {"livec"} and written["validation"]["livec"]["photos"] == 6

    # Weighed again from the file, without scoring anything again: the rated photos of the one
    # dataset from the second member alone, the ladders from the first.
    (tmp_path / "other.pt").unlink()
    assert main(["teacher-labels", "--from", str(out), "--weights", "1", "0", "--weights-for", "livec", "0", "1",
                 "--out", str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["labels"]["rated"][rated.rows[0]["image"]] == pytest.approx(slope * b[0] + offset, abs=1e-3)
    assert again["labels"]["ladders"] == pytest.approx(json.loads(out.read_text())["member_scores"][0]["ladders"])
    assert again["validation"]["livec"]["srcc"] == pytest.approx(again["members"][1]["validation"]["livec"]["srcc"])


def planted_labels(path, cache, score):
    """A teacher that scores every cached photo ``score``."""
    labels = {"rated": {r["image"]: score for r in TrunkCache(cache / "rated").rows},
              "ladders": {f"{r['photo']}|{r['kind']}|{r['level']}": score for r in TrunkCache(cache / "ladders").rows}}
    path.write_text(json.dumps({"labels": labels}))


def mean_training_score(run, cache):
    model, _ = load_checkpoint(run / "last.pt")
    rated = TrunkCache(cache / "rated")
    return float(np.mean(list(score_rows(model, rated, range(len(rated))).values())))


def test_a_top_taught_by_the_teachers_labels_moves_toward_them_and_the_same_recipe_without_does_not(cached_site):
    tmp_path, config, cache = cached_site
    planted_labels(tmp_path / "low.json", cache, 5.0)  # far below every MOS of the tiny set
    base = ["top", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--cache", str(cache),
            "--anchor", "livec", "--epochs", "4"]
    rates = ["lr_head=0.01", "lr_backbone=0.01"]
    assert main(base + ["--out", str(tmp_path / "plain"), "--set", *rates]) == 0
    assert main(base + ["--out", str(tmp_path / "taught"), "--set", *rates, f"teacher_labels={tmp_path / 'low.json'}",
                        'distill={"l1": 5.0, "rank": 0.3, "ladders": 5.0}']) == 0
    plain, taught = mean_training_score(tmp_path / "plain", cache), mean_training_score(tmp_path / "taught", cache)
    assert taught < 20 < plain, (plain, taught)  # near the teacher's 5; without it, near the MOS
    history = (tmp_path / "taught" / "history.csv").read_text()
    assert "loss_teacher_l1" in history and "loss_teacher_ladders" in history
    assert "loss_teacher_l1" not in (tmp_path / "plain" / "history.csv").read_text()


def test_labels_made_from_other_caches_are_refused_with_what_is_missing(cached_site, tmp_path_factory):
    tmp_path, config, cache = cached_site
    planted_labels(tmp_path / "labels.json", cache, 50.0)
    partial = json.loads((tmp_path / "labels.json").read_text())
    partial["labels"]["rated"] = dict(list(partial["labels"]["rated"].items())[:3])
    (tmp_path / "partial.json").write_text(json.dumps(partial))
    with pytest.raises(SystemExit, match="lack .* of the rated rows"):
        main(["top", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--cache", str(cache),
              "--anchor", "livec", "--out", str(tmp_path / "run"), "--set", f"teacher_labels={tmp_path / 'partial.json'}"])
    with pytest.raises(SystemExit, match="2 members but 1 weights"):
        main(["teacher-labels", "--member", str(tmp_path / "base.pt"), str(cache), "--member",
              str(tmp_path / "base.pt"), str(cache), "--weights", "1", "--out", str(tmp_path / "x.json")])


def test_a_member_that_ranks_the_photos_the_other_way_round_is_refused():
    from training.teacher_labels import on_first_scale

    rows = [{"image": f"p{i}", "split": "train", "dataset": "livec"} for i in range(5)]
    first = {"rated": {f"p{i}": 10.0 * i for i in range(5)}}
    assert on_first_scale([first, {"rated": {f"p{i}": 3.0 * i + 1 for i in range(5)}}], rows)[1][1] == \
        pytest.approx([10 / 3, -10 / 3])
    with pytest.raises(ValueError, match="ranks the other way round"):
        on_first_scale([first, {"rated": {f"p{i}": -1.0 * i for i in range(5)}}], rows)
