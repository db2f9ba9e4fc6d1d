"""Retraining a network's top on its frozen trunk's cached features (stage ``top``)."""
import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from models import create_model
from training.__main__ import main
from training.trunk_cache import TrunkCache, pad_square, top_stages, trunk_stages


def test_the_trunk_then_the_top_give_the_whole_networks_outputs():
    torch.manual_seed(0)
    model = create_model("student", weights=None).eval()

    def split(image, side):
        h, w = image.shape[-2:]
        stages = trunk_stages(model.backbone, pad_square(image, side))
        return model.forward_from_stages(top_stages(model.backbone, stages), h, w)

    with torch.no_grad():
        square = torch.rand(1, 3, 128, 128)
        whole, parts = model(square), split(square, 128)
        for key in ("score", "opinions", "distortion", "embedding"):
            torch.testing.assert_close(parts[key], whole[key])
        # A smaller photo is edge-padded further than the network pads it: only the border differs.
        photo = torch.rand(1, 3, 90, 120)
        assert abs(float(split(photo, 128)["score"] - model(photo)["score"])) < 0.1


def write_texture(path, height, width):
    """A clean textured photo: fine detail every damage kind visibly changes."""
    yy, xx = np.mgrid[0:height, 0:width]
    texture = (np.sin(xx / 3) * np.cos(yy / 4) * 70 + 128)[..., None] * np.array([1.0, 0.9, 0.7])
    Image.fromarray(texture.astype(np.uint8)).save(path)


def save_checkpoint(path, seed=0):
    torch.manual_seed(seed)
    model = create_model("student", weights=None)
    torch.save({"config": model.config.to_dict(), "model": model.state_dict()}, path)
    return model


def write_cache(tmp_path, cfg, csv_path, root, kodak):
    """The stage config written to disk and ``top-cache`` of base.pt's trunk over the tiny rated
    set and the clean photos in ``kodak``: (config path, cache folder)."""
    config = tmp_path / "top.json"
    config.write_text(json.dumps(cfg))
    cache = tmp_path / "cache"
    assert main(["top-cache", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--data", "livec",
                 str(csv_path), str(root), "--kodak", str(kodak), "--out", str(cache)]) == 0
    return config, cache


def test_a_cache_of_rated_photos_and_ladders_trains_only_the_top_and_resumes(tmp_path, tiny_mos_set):
    csv_path, root = tiny_mos_set
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    write_texture(kodak / "clean.png", 80, 112)
    Image.open(kodak / "clean.png").save(kodak / "broken.png")
    (kodak / "broken.png").write_bytes(b"\x89PNG not really")  # one unreadable photo skips its rows only
    base = save_checkpoint(tmp_path / "base.pt")
    cfg = {"model": "student", "side": 128, "batch_size": 4, "epochs": 2, "lr_backbone": 1e-3, "lr_head": 1e-3,
           "warmup_epochs": 0.2, "repeat": {"livec": 2}, "crop_cells": 6, "synthetic": {"groups": 1, "rank": 0.5, "verdict": 1.0},
           "loss": {"l1": 1.0, "plcc": 0.3, "rank": 0.3}, "val_fractions": {"livec": 0.25}, "split_seed": 0, "seed": 0}
    config, cache = write_cache(tmp_path, cfg, csv_path, root, kodak)
    rated = TrunkCache(cache / "rated")
    assert len(rated) == 24 and sum(r["split"] == "val" for r in rated.rows) == 6
    ladders = TrunkCache(cache / "ladders")
    assert len(ladders) == 1 + 14 * 5 and {r["photo"] for r in ladders.rows} == {"clean.png"}

    args = ["top", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--cache", str(cache),
            "--anchor", "livec", "--out", str(tmp_path / "run")]
    assert main(args + ["--stop-after", "1"]) == 0
    assert main(args) == 0
    history = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert [row["epoch"] for row in history] == ["1", "2"]
    for key in ("val_livec_srcc", "val_train_ladders_heavy_fail", "loss_synth_verdict", "loss_l1"):
        assert key in history[-1]
    trained = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["model"]
    before = base.state_dict()
    assert torch.equal(trained["backbone.blocks.4.0.conv_pw.weight"], before["backbone.blocks.4.0.conv_pw.weight"])
    assert torch.equal(trained["backbone.bn1.running_mean"], before["backbone.bn1.running_mean"])
    assert not torch.equal(trained["backbone.blocks.5.0.conv_pw.weight"], before["backbone.blocks.5.0.conv_pw.weight"])
    assert not torch.equal(trained["lda.project.0.0.weight"], before["lda.project.0.0.weight"])


def test_a_detail_cache_holds_each_native_tiles_ladder_cut_from_the_damaged_photo(tmp_path, tiny_mos_set):
    csv_path, root = tiny_mos_set
    hires = tmp_path / "hires"
    hires.mkdir()
    for name in ("a.png", "b.png"):  # one lands in the held-out half, never cached
        write_texture(hires / name, 300, 400)
    save_checkpoint(tmp_path / "base.pt")
    config = tmp_path / "top.json"
    config.write_text(json.dumps({"side": 128, "val_fractions": {"livec": 0.25}, "split_seed": 0, "seed": 0}))
    assert main(["top-cache", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--data", "livec",
                 str(csv_path), str(root), "--hires", str(hires), "--tiles", "96", "4", "--tile-sides", "0", "200", "1000",
                 "--out", str(tmp_path / "c")]) == 0
    ladders = TrunkCache(tmp_path / "c" / "ladders")
    photos = {r["photo"] for r in ladders.rows}
    assert len({p.split("@")[0] for p in photos}) == 1  # the training half's photo alone
    # 4 native tiles, and 2 of the photo reduced to 200 px (1000 px would enlarge it: skipped)
    assert {p.split("@")[1] for p in photos} == {f"native#{i}" for i in range(4)} | {"200#0", "200#1"}
    assert len(ladders) == 6 * (1 + 14 * 5) and ladders.side == 96
    assert {(r["h"], r["w"]) for r in ladders.rows} == {(96, 96)}


def test_a_graphs_views_are_rebuilt_exactly_retrained_and_written_back_leaving_the_rest_as_it_was(
        tmp_path, tiny_mos_set, exported_student):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from models.configs import IQAConfig
    from training.onnx_views import views_from_onnx, with_grid_output

    _, onnx_path, card_path = exported_student
    graph = onnx.load(str(onnx_path))
    session = ort.InferenceSession(with_grid_output(graph).SerializeToString(), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).uniform(-1, 1, (1, 3, 96, 128)).astype(np.float32)
    score, grid = session.run(["score", "grid"], {"image": image})
    head = views_from_onnx(graph, IQAConfig.from_dict(json.loads(card_path.read_text())["config"])).eval()
    with torch.no_grad():
        np.testing.assert_allclose(head(torch.from_numpy(grid))["score"].numpy(), score, atol=1e-4)

    csv_path, root = tiny_mos_set
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    write_texture(kodak / "k.png", 160, 200)
    config = tmp_path / "views.json"
    config.write_text(json.dumps({
        "side": 128, "batch_size": 4, "epochs": 1, "lr_backbone": 0, "lr_head": 3e-3, "warmup_epochs": 0,
        "synthetic": {"groups": 1}, "loss": {"l1": 1.0, "plcc": 0.3, "rank": 0.3},
        "val_fractions": {"livec": 0.25}, "split_seed": 0, "seed": 0, "views_onnx": str(onnx_path)}))
    assert main(["top-cache", "--views-onnx", str(onnx_path), "--config", str(config), "--data", "livec",
                 str(csv_path), str(root), "--kodak", str(kodak), "--tiles", "96", "4", "--out", str(tmp_path / "c")]) == 0
    assert main(["top", "--config", str(config), "--cache", str(tmp_path / "c"), "--anchor", "livec",
                 "--out", str(tmp_path / "run")]) == 0
    retrained = onnx.load(str(tmp_path / "run" / "views.onnx"))
    before = {t.name: numpy_helper.to_array(t) for t in graph.graph.initializer}
    after = {t.name: numpy_helper.to_array(t) for t in retrained.graph.initializer}
    changed = {name for name in before if name not in after or not np.array_equal(before[name], after[name])}
    added = set(after) - set(before)
    assert added and all("/mal/views." in name for name in added)  # each view's own retrained convolutions
    assert changed and not any(name.startswith(("model.backbone", "model.lda")) for name in changed)
    grid_after = ort.InferenceSession(with_grid_output(retrained).SerializeToString(),
                                      providers=["CPUExecutionProvider"]).run(["grid"], {"image": image})[0]
    np.testing.assert_array_equal(grid_after, grid)  # what the views read is untouched
    new_score = ort.InferenceSession(retrained.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        ["score"], {"image": image})[0]
    assert not np.allclose(new_score, score)


def test_detail_tiles_can_be_saved_as_the_jpegs_users_hand_over_each_row_the_same_on_a_rebuild(tmp_path):
    """A blurred photo saved as a JPEG gets fine block edges back; the detail reader must learn
    from tiles as users' files hold them (every copy, the clean one too), seeded per row."""
    import numpy as np

    from training.data.cache_rows import tile_rows

    write_texture(tmp_path / "a.png", 300, 400)
    plain = list(tile_rows([tmp_path / "a.png"], 96, 2))
    saved = list(tile_rows([tmp_path / "a.png"], 96, 2, saved_quality=(80, 95)))
    again = list(tile_rows([tmp_path / "a.png"], 96, 2, saved_quality=(80, 95)))
    assert [d for d, _ in saved] == [d for d, _ in plain]
    for (_, load_plain), (_, load_saved), (_, load_again) in zip(plain, saved, again):
        a, b = load_plain(), load_saved()
        assert a.shape == b.shape and not np.array_equal(a, b)  # every row, clean ones too, is re-encoded
        assert np.array_equal(b, load_again())


def test_a_top_trained_on_one_dataset_is_chosen_by_it_and_reports_the_other_as_a_cross_dataset_figure(
        tmp_path, tiny_mos_set):
    from .test_joint_stage import make_biq_folder

    csv_path, root = tiny_mos_set
    biq_rows = [(f"ss0{1 + i % 3} ({i}).jpg", round(0.1 + 0.8 * ((i * 7) % 30) / 30, 4)) for i in range(30)]
    biq_csv = make_biq_folder(tmp_path / "biq", biq_rows)
    save_checkpoint(tmp_path / "base.pt")
    cfg = {"model": "student", "side": 96, "batch_size": 4, "epochs": 1, "lr_backbone": 1e-3, "lr_head": 1e-3,
           "warmup_epochs": 0.2, "loss": {"l1": 1.0, "plcc": 0.3, "rank": 0.3},
           "val_fractions": {"livec": 0.25, "biq2021": 0.3}, "split_seed": 0, "seed": 0}
    config = tmp_path / "top.json"
    config.write_text(json.dumps(cfg))
    cache = tmp_path / "cache"
    assert main(["top-cache", "--init", str(tmp_path / "base.pt"), "--config", str(config),
                 "--data", "livec", str(csv_path), str(root), "--data", "biq2021", str(biq_csv), str(biq_csv.parent),
                 "--out", str(cache)]) == 0
    args = ["top", "--init", str(tmp_path / "base.pt"), "--config", str(config), "--cache", str(cache)]

    with pytest.raises(SystemExit, match="anchor 'livec' is none of the datasets trained on"):
        main(args + ["--anchor", "livec", "--out", str(tmp_path / "refused"), "--set", 'train_on=["biq2021"]'])
    with pytest.raises(SystemExit, match=r"train_on \['kadid'\] is not among the cached datasets"):
        main(args + ["--anchor", "livec", "--out", str(tmp_path / "refused"), "--set", 'train_on=["kadid"]'])

    assert main(args + ["--anchor", "biq2021", "--out", str(tmp_path / "run"), "--set", 'train_on=["biq2021"]']) == 0
    last = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))[-1]
    # LIVEC's held-out photos are scored (the cross-dataset figure) but do not choose the epoch.
    assert float(last["val_srcc"]) == pytest.approx(float(last["val_biq2021_srcc"]))
    assert "val_livec_srcc" in last and last["val_livec_srcc"] != last["val_biq2021_srcc"]
    card_info = torch.load(tmp_path / "run" / "best.pt", weights_only=True)["card_info"]
    assert "21 training rows, datasets ['biq2021']" in card_info["training"]["data"]
