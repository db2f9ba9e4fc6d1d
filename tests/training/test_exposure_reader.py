"""Fitting the exposure reader: its targets, what it learns, and the command that gives a model one."""
import json

import numpy as np
import pytest

from app.core.model.contract import model_identity
from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from training.__main__ import main
from training.data.heavy_damage import exposed
from training.exposure_reader import Ladders, exposure_targets, fit_reader, refit_or_keep


def test_exposure_targets_accept_one_stop_and_fail_two_on_each_side():
    stops = np.array([-3, -2, -1.5, -1, 0, 0.5, 1, 1.5, 2, 3.0])
    t = exposure_targets(stops)
    assert t["over"].tolist() == [0, 0, 0, 0, 0, 0, 0, 0.5, 1, 1]
    assert t["under"].tolist() == [1, 1, 0.5, 0, 0, 0, 0, 0, 0, 0]


def test_an_exposure_copy_is_made_in_linear_light():
    grey = np.full((4, 4, 3), 118, np.uint8)  # ~18 % grey in linear light
    assert exposed(grey, 0.0).tolist() == grey.tolist()
    assert 160 < exposed(grey, 1.0)[0, 0, 0] < 170  # twice the light is not twice the value
    assert exposed(grey, 3.0)[0, 0, 0] == 255 and exposed(grey, -3.0)[0, 0, 0] < 50


def test_only_the_photos_rated_at_or_above_the_median_get_exposure_copies(exported_student):
    from training.exposure_reader import copies_of_the_good, ladder_features

    assert copies_of_the_good([10, 50, 90, 70]) == [False, False, True, True]
    engine = Engine(load_model(exported_student[1]))
    photos = [np.random.default_rng(i).integers(0, 256, (64, 80, 3), dtype=np.uint8) for i in range(3)]
    ladders = ladder_features(engine, photos, copies=2, with_copies=[True, False, True])
    assert ladders.photo.tolist() == [0, 0, 0, 1, 2, 2, 2] and ladders.stops[3] == 0.0
    assert ladders.features.shape[1] == engine.run(photos[0])["embedding"].shape[-1] + 32  # and the tones


def _ladders(photos=60, seed=0):
    """Features that carry the exposure (value 0: the stops plus noise) among noise values."""
    rng = np.random.default_rng(seed)
    stops = rng.choice([-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3], photos * 5)
    stops[::5] = 0.0
    features = rng.normal(0, 1, (len(stops), 6))
    features[:, 0] = stops + rng.normal(0, 0.2, len(stops))
    return Ladders(features, stops.astype(float), np.repeat(np.arange(photos), 5))


def test_a_fine_tune_keeps_the_base_reader_where_it_reads_the_sites_ladders_better_than_a_refit():
    """A refit on a site's few photos can over-fit; the base's reader, never fitted on them, is
    judged on them as they stand and kept when its loss is the lower."""
    site = _ladders(photos=12, seed=1)  # a small site
    good_base, _ = fit_reader(_ladders(photos=200, seed=2))  # a reader that learnt from many photos
    reader, report = refit_or_keep(site, good_base)
    assert report["kept"] == "base" and reader is good_base
    assert report["base_reader_loss"] <= report["refit_cv_loss"]
    wrong = {k: -w for k, w in good_base.weights.items()}  # a base whose heads read the other way
    bad_base = type(good_base)(good_base.center, good_base.scale, wrong, good_base.bias, good_base.features, 0.3)
    reader, report = refit_or_keep(site, bad_base)
    assert report["kept"] == "refit" and reader is not bad_base and reader.onset == 0.3
    other_size = type(good_base)(good_base.center[:3], good_base.scale[:3], {k: w[:3] for k, w in wrong.items()},
                                 good_base.bias, good_base.features)
    reader, report = refit_or_keep(site, other_size)  # a base that reads other features cannot be judged
    assert report["kept"] == "refit" and report["base_reader_loss"] is None


def test_the_reader_learns_which_copies_an_inspector_fails_cross_validated_over_photos():
    reader, report = fit_reader(_ladders(), features=("embedding",))
    cv = report["cross_validated"]
    for stop in ("+3", "-3", "+2.5", "-2.5"):
        assert cv[stop]["cap_below_40"] >= 0.9, (stop, cv[stop])
    assert cv["+0"]["cap_below_60"] <= 0.05 and cv["+0.5"]["cap_below_60"] <= 0.1
    assert report["photos"] == 60
    clean, over, under = (reader.probabilities(np.array([s, 0, 0, 0, 0, 0], float)) for s in (0.0, 3.0, -3.0))
    assert max(clean.values()) < 0.1
    assert over["over"] > 0.8 > over["under"] and under["under"] > 0.8 > under["over"]


def test_exposure_reader_command_gives_a_model_a_reader_as_a_new_model(exported_student, tiny_mos_set, tmp_path):
    _, onnx_path, card_path = exported_student
    csv_path, root = tiny_mos_set
    out = tmp_path / "with-reader"
    assert main(["exposure-reader", "--model", str(onnx_path), "--data", "livec", str(csv_path), str(root),
                 "--photos", "12", "--copies", "2", "--version", "9.9.9", "--out", str(out), "--threads", "1"]) == 0
    model = load_model(out / onnx_path.name)
    card, base = model.card, json.loads(card_path.read_text())
    assert card["version"] == "9.9.9" and card["sha256"] == base["sha256"]  # the same graph ...
    assert model_identity(card) != model_identity(base)  # ... read another way: another model
    exposure = card["reading"]["exposure"]
    assert set(exposure) >= {"center", "scale", "over", "under", "meaning"}
    # 12 of the 20 training photos; those rated at or above their median get copies
    assert card["training"]["exposure_reader"]["data"] == {"livec": {"photos": 12, "with_copies": 6}}
    assert card["reading"]["exposure"]["features"] == ["embedding", "luminance_histogram", "tone_statistics"]
    assert "exposure-reader" in card["commands"][-1] and "evaluations" not in card
    rgb = np.random.default_rng(0).integers(0, 256, (80, 96, 3), dtype=np.uint8)
    result = Engine(model).score(rgb)
    assert result.exposure is not None and result.score <= Engine(load_model(onnx_path)).score(rgb).score + 1e-6
    assert exposure["onset"] == 0.0 and "100 x (1 - p)" in card["notes"]["exposure"]


def test_the_exposure_reader_command_writes_the_onset_it_is_given_and_refuses_a_nonsense_one(
        exported_student, tiny_mos_set, tmp_path):
    _, onnx_path, _ = exported_student
    csv_path, root = tiny_mos_set
    args = ["exposure-reader", "--model", str(onnx_path), "--data", "livec", str(csv_path), str(root), "--photos", "8",
            "--copies", "1", "--version", "9.9.9", "--threads", "1"]
    assert main([*args, "--onset", "0.5", "--out", str(tmp_path / "half")]) == 0
    card = load_model(tmp_path / "half" / onnx_path.name).card
    assert card["reading"]["exposure"]["onset"] == 0.5 and "once p passes 0.5" in card["notes"]["exposure"]
    with pytest.raises(SystemExit, match="--onset 1"):
        main([*args, "--onset", "1", "--out", str(tmp_path / "one")])


@pytest.mark.slow
def test_a_fine_tune_of_a_model_with_an_exposure_reader_refits_it_through_its_own_graph(rated_site, tmp_path):
    from app.core.model.trust import admit_model
    from app.core.store import open_database

    db_path, base, cfg = rated_site
    with_reader = tmp_path / "reader"
    csv = tmp_path / "site.csv"
    photos = sorted((tmp_path / "site").glob("*.png"))
    csv.write_text("image,mos,std\n" + "".join(f"{p.name},50,5\n" for p in photos))
    assert main(["exposure-reader", "--model", str(base), "--data", "site", str(csv), str(tmp_path / "site"),
                 "--copies", "2", "--version", "0.1.1", "--out", str(with_reader), "--threads", "1", "--onset", "0.25"]) == 0
    base_card = load_model(with_reader / base.name).card
    db = open_database(db_path)
    admit_model(db, base_card, str(with_reader / base.name), approved_by="test")
    db.close()
    out = tmp_path / "ft"
    assert main(["finetune", "--db", str(db_path), "--base", str(with_reader / base.name), "--out", str(out),
                 "--config", str(cfg)]) == 0
    report = json.loads((out / "finetune_report.json").read_text())
    child = load_model(report["model"]).card
    refit = child["reading"]["exposure"]
    said = child["training"]["exposure_reader"]
    assert said["kept"] in ("base", "refit") and said["refit_cv_loss"] > 0 and said["base_reader_loss"] > 0
    kept_base = refit["center"] == base_card["reading"]["exposure"]["center"]
    assert kept_base == (said["kept"] == "base")  # the card holds the reader it says it kept
    assert refit["onset"] == 0.25  # the base's choice of where the cap falls is kept either way
    assert child["training"]["exposure_reader"]["photos"] == report["split"]["counts"]["train"]
    assert Engine(load_model(report["model"])).score(np.full((72, 88, 3), 128, np.uint8)).exposure is not None


def test_a_ladder_run_stopped_part_way_resumes_and_gives_what_an_uninterrupted_run_gives(exported_student, tmp_path):
    from training.exposure_reader import ladder_features

    engine = Engine(load_model(exported_student[1]))
    photos = [np.random.default_rng(i).integers(0, 256, (64, 80, 3), dtype=np.uint8) for i in range(5)]
    names = [f"p{i}.png" for i in range(5)]
    whole = ladder_features(engine, photos, copies=2, names=names)

    def stops_at_the_fourth(i):
        def load():
            if i == 3:
                raise KeyboardInterrupt  # the session ends here
            return photos[i]
        return load

    progress = tmp_path / "ladders.npz"
    with pytest.raises(KeyboardInterrupt):
        ladder_features(engine, [stops_at_the_fourth(i) for i in range(5)], copies=2, names=names,
                        progress=progress, save_every=1)
    loaded = []
    resumed = ladder_features(engine, [lambda i=i: loaded.append(i) or photos[i] for i in range(5)], copies=2,
                              names=names, progress=progress, save_every=1)
    assert loaded == [3, 4]  # the three photos done before the stop are not read again
    assert resumed.stops.tolist() == whole.stops.tolist() and resumed.photo.tolist() == whole.photo.tolist()
    np.testing.assert_allclose(resumed.features, whole.features, rtol=1e-6)
    other = ladder_features(engine, photos, copies=2, names=names[::-1], progress=progress)  # other photos: afresh
    assert other.features.shape == whole.features.shape
