"""Learning from several rated datasets: their files, their splits, and pairs that never cross."""
import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from training.__main__ import main
from training.data.rated_sets import (RatedSet, SameDatasetBatches, read_rated_set, refuse_reserved,
                                      stratified_split)
from training.losses import pairwise_rank_loss, rated_batch_losses, verdict_loss


def make_biq_folder(root, rows, *, crlf=True, name="Train (Images and MOS).csv"):
    """A made-up folder in BIQ2021's layout: Images/ and its ratings file (header with trailing
    empty columns, CRLF line ends)."""
    (root / "Images").mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:64, 0:80]
    for i, (file_name, mos) in enumerate(rows):
        noise = np.random.default_rng(i).normal(0, 60 * (1 - mos), (64, 80, 1))
        img = (np.sin(xx / 4)[..., None] * 60 + 128 + noise).clip(0, 255).astype(np.uint8).repeat(3, axis=2)
        Image.fromarray(img).save(root / "Images" / file_name)
    end = "\r\n" if crlf else "\n"
    lines = ["Image Name,MOS,,"] + [f"{n},{m},," for n, m in rows]
    (root / name).write_text(end.join(lines) + end, encoding="utf-8")
    return root / name


@pytest.fixture
def biq_folder(tmp_path):
    rows = [(f"ss0{1 + i % 3} ({i}).jpg", round(0.1 + 0.8 * ((i * 7) % 30) / 30, 4)) for i in range(30)]
    rows[4] = ("ss02 (4).JPG", rows[4][1])  # on disk as .JPG ...
    csv_path = make_biq_folder(tmp_path / "biq", rows)
    text = csv_path.read_bytes().replace(b"ss02 (4).JPG", b"ss02 (4).jpg")  # ... named .jpg in the file
    csv_path.write_bytes(text)
    return csv_path


def test_biq2021_ratings_are_read_on_0_100_with_their_subsets_and_the_files_as_on_disk(biq_folder):
    items = read_rated_set(RatedSet("biq2021", biq_folder, biq_folder.parent))
    assert len(items) == 30
    assert {it.subset for it in items} == {"ss01", "ss02", "ss03"}
    assert all(it.dataset == "biq2021" and 0 <= it.mos <= 100 for it in items)
    assert items[0].mos == pytest.approx(10.0)
    assert "Images/ss02 (4).JPG" in {it.image for it in items}
    assert all((biq_folder.parent / it.image).is_file() for it in items)


def test_a_pyiqa_file_is_read_with_its_dataset_name(tiny_mos_set):
    csv_path, root = tiny_mos_set
    items = read_rated_set(RatedSet("livec", csv_path, root))
    assert len(items) == 24 and {it.dataset for it in items} == {"livec"}


@pytest.mark.parametrize("content, message", [
    ("Image Name,MOS\r\nss01 (1).jpg,high\r\n", "no numeric MOS"),
    ("Image Name,MOS\r\nss01 (1).jpg,7.5\r\n", "outside BIQ2021's 0-1 range"),
    ("Image Name,MOS\r\n", "no rows"),
])
def test_a_broken_biq2021_file_is_refused_with_the_line_that_breaks_it(tmp_path, content, message):
    path = tmp_path / "Train (Images and MOS).csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_rated_set(RatedSet("biq2021", path, tmp_path))


def test_the_reserved_test_split_is_refused_by_every_reader(tmp_path):
    path = make_biq_folder(tmp_path, [("ss01 (1).jpg", 0.5)], name="Test (Images and MOS).csv")
    with pytest.raises(ValueError, match="reserved for independent evaluation"):
        read_rated_set(RatedSet("biq2021", path, tmp_path))
    with pytest.raises(ValueError, match="reserved"):
        refuse_reserved(tmp_path / "TEST (Images and MOS).csv")


def test_the_validation_split_takes_every_subset_in_proportion_and_is_fixed_by_its_seed(biq_folder):
    items = read_rated_set(RatedSet("biq2021", biq_folder, biq_folder.parent))
    train, val = stratified_split(items, 0.2, seed=0)
    assert len(val) == 6 and {it.subset for it in val} == {"ss01", "ss02", "ss03"}
    assert not {it.image for it in train} & {it.image for it in val}
    assert stratified_split(items, 0.2, seed=0)[1] == val
    assert stratified_split(items, 0.2, seed=1)[1] != val


def test_a_batch_never_holds_photos_of_two_datasets_and_every_photo_is_seen():
    groups = ["a"] * 37 + ["b"] * 21 + ["a"] * 5
    sampler = SameDatasetBatches(groups, batch_size=4, generator=torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler) == 42 // 4 + 21 // 4
    for batch in batches:
        assert len({groups[i] for i in batch}) == 1
    seen = [i for b in batches for i in b]
    assert len(seen) == len(set(seen))
    assert sum(groups[i] == "b" for i in seen) == 20


def test_only_the_anchor_dataset_pulls_the_score_to_its_mos():
    out = {"score": torch.tensor([20.0, 40.0, 60.0, 80.0]), "attention": torch.softmax(torch.randn(4, 2, 3, 3), -1)}
    mos = torch.tensor([0.6, 0.7, 0.8, 0.9])  # the same order on another scale
    weights = {"l1": 1.0, "plcc": 0.3, "rank": 0.3}
    anchored = rated_batch_losses(out, mos, anchor=True, weights=weights)
    ranked = rated_batch_losses(out, mos, anchor=False, weights=weights)
    assert anchored["l1"] == pytest.approx(0.25) and ranked["l1"] == 0
    assert ranked["plcc"] < 1e-6  # perfectly linear: nothing to learn across scales


def test_the_pairwise_ranking_loss_prefers_the_right_order_and_ignores_ties():
    mos = torch.tensor([0.2, 0.5, 0.8])
    right = pairwise_rank_loss(torch.tensor([0.1, 0.4, 0.9]), mos)
    wrong = pairwise_rank_loss(torch.tensor([0.9, 0.4, 0.1]), mos)
    assert right < 0.2 < wrong
    assert pairwise_rank_loss(torch.tensor([0.1, 0.9]), torch.tensor([0.5, 0.505])) == 0


def test_the_verdict_term_wants_clean_crops_passed_and_heavy_damage_failed_from_each_kinds_own_level():
    heavy_from = torch.tensor([4, 0, 2])  # blur-like, a kind that is no damage, under-exposure-like
    good = torch.tensor([[0.8, 0.7, 0.6, 0.5, 0.2, 0.1], [0.8, 0.7, 0.7, 0.7, 0.7, 0.7],
                         [0.8, 0.6, 0.3, 0.2, 0.1, 0.1]])
    assert verdict_loss(good, heavy_from, 0.65, 0.35) == 0  # the second kind may stay high
    clean_low, heavy_high, early = good.clone(), good.clone(), good.clone()
    clean_low[0, 0] = 0.5
    heavy_high[0, 5] = 0.6
    early[2, 2] = 0.5  # level 2 of the third kind is already heavy
    for bad in (clean_low, heavy_high, early):
        assert verdict_loss(bad, heavy_from, 0.65, 0.35) > 0


@pytest.mark.slow
def test_joint_training_reports_every_dataset_resumes_and_refuses_two_anchors(tmp_path, tiny_mos_set, biq_folder):
    csv_path, root = tiny_mos_set
    args = ["joint", "--data", "biq2021", str(biq_folder), str(biq_folder.parent), "--data", "livec", str(csv_path),
            str(root), "--anchor", "biq2021", "--config", str(write_config(tmp_path)), "--out", str(tmp_path / "run")]
    assert main(args + ["--stop-after", "1"]) == 0
    assert main(args) == 0
    history = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert [row["epoch"] for row in history] == ["1", "2"]  # resumed, not restarted
    for key in ("val_biq2021_srcc", "val_livec_srcc", "val_biq2021_ss02_srcc", "loss_rank"):
        assert key in history[-1]
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert "biq2021" in best["card_info"]["training"]["score_scale"]
    with pytest.raises(SystemExit, match="names none"):
        main(args[:-6] + ["--anchor", "koniq", "--out", str(tmp_path / "other")])


def write_config(tmp_path):
    cfg = {"model": "student", "backbone_weights": None, "crop": 64, "batch_size": 4, "epochs": 2,
           "lr_backbone": 1e-4, "lr_head": 1e-3, "warmup_epochs": 0.5, "loss": {"l1": 1.0, "plcc": 0.3, "rank": 0.3},
           "val_fractions": {"livec": 0.25, "biq2021": 0.2}, "split_seed": 0, "seed": 0}
    path = tmp_path / "joint.json"
    path.write_text(json.dumps(cfg))
    return path
