"""The real-ratings site benchmark (training/sitebench, scripts/site_benchmark.py): its simulated
raters vote as asked, its test photos never change with n, and it runs end to end on a tiny site."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from training.site_split import SplitRule, assign
from training.sitebench.plan import content_key, plan_site
from training.sitebench.sites import SitePhoto
from training.sitebench.votes import RaterPanel, acr_from_mos100, draw_votes

ROOT = Path(__file__).resolve().parents[2]


def _residuals(photos, panel):
    votes = draw_votes(photos, panel)
    truth = dict(photos)
    bias = panel.biases()
    rater = np.array([int(v.rater.rsplit("-", 1)[1]) for v in votes])
    res = np.array([v.vote - acr_from_mos100(truth[v.photo]) for v in votes])
    return votes, rater, res, bias


def test_votes_scatter_around_the_mos_with_the_bias_and_noise_asked():
    rng = np.random.default_rng(5)
    # MOS 25-75 (ACR 2-4): clipping at 1 and 5 stays out of the way, rounding is spread evenly.
    photos = [(f"p{i:04d}", float(m)) for i, m in enumerate(rng.uniform(25, 75, 3000))]
    panel = RaterPanel(per_photo=5, pool=100, bias_sd=0.25, noise_sd=0.6, seed=1)
    votes, rater, res, bias = _residuals(photos, panel)
    assert len(votes) == 5 * len(photos)
    assert all(len({v.rater for v in votes[5 * i:5 * i + 5]}) == 5 for i in range(len(photos)))  # five different raters
    # The mean vote sits on the MOS, moved only by the biases of the raters who voted.
    assert abs(res.mean() - bias[rater].mean()) < 0.02
    # Within a rater: the vote noise plus rounding's 1/12 (sd 0.666 for 0.6).
    within = res - bias[rater]
    assert 0.64 < within.std() < 0.70
    # Between raters: their mean residuals spread by the bias sd (less the noise each mean carries).
    means = np.array([res[rater == r].mean() for r in range(panel.pool)])
    counts = np.array([(rater == r).sum() for r in range(panel.pool)])
    bias_var = means.var() - np.mean(within.var() / counts)
    assert 0.18 < np.sqrt(bias_var) < 0.32


def test_without_bias_or_noise_every_vote_is_the_rounded_mos_and_the_seed_decides_the_rest():
    photos = [("a", 0.0), ("b", 37.0), ("c", 62.6), ("d", 100.0)]
    exact = draw_votes(photos, RaterPanel(bias_sd=0.0, noise_sd=0.0))
    assert [v.vote for v in exact] == [1] * 5 + [2] * 5 + [4] * 5 + [5] * 5  # 1 + 4 * 0.37 = 2.48, 3.504
    one, again, other = (draw_votes(photos * 10, RaterPanel(seed=s)) for s in (3, 3, 4))
    assert one == again
    assert [v.vote for v in one] != [v.vote for v in other]


def test_a_photo_gets_the_same_votes_whether_the_site_is_rated_in_part_or_whole():
    photos = [(f"p{i:03d}", 50.0 + i % 40) for i in range(60)]
    whole = draw_votes(photos, RaterPanel(seed=2))
    assert [v for v in whole if v.photo == "p010"] == [v for v in draw_votes(photos, RaterPanel(seed=2)) if v.photo == "p010"]


def _site(folder: Path, n: int) -> list[SitePhoto]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for i in range(n):
        path = folder / f"{i:03d}.bin"
        path.write_bytes(f"photo {i}".encode())
        photos.append(SitePhoto(str(path.resolve()), float(i % 100)))
    return photos


def test_the_test_photos_never_change_with_n_and_are_the_ones_the_fine_tune_will_test_on(tmp_path):
    photos = _site(tmp_path / "site", 400)
    rule = SplitRule(seed=0, val_fraction=0.2, test_fraction=0.25, min_val=5, min_test=8)
    plan = plan_site(photos, rule, seed=0)
    assert 60 < len(plan.test) < 140 and plan.available() == 400 - len(plan.test)
    test = {p.path for p in plan.test}
    previous: set[str] = set()
    for n in (20, 50, 150, 1000):
        rated = plan.rated(n)
        others = {p.path for p in rated} - test
        assert {p.path for p in rated} >= test
        assert len(others) == min(n, plan.available())
        assert others >= previous  # nested: the photos rated at a smaller n stay rated
        previous = others
        # The fine-tune splits the rated photos by the same rule on their content hashes.
        split = assign([content_key(p.path) for p in rated], rule)
        assert {p.path for p in rated if split[content_key(p.path)] == "test"} == test
    # Another seed rates the photos in another order, but tests on the same photos.
    again = plan_site(photos, rule, seed=1)
    assert {p.path for p in again.test} == test and again.order != plan.order


@pytest.mark.slow
def test_the_benchmark_runs_end_to_end_on_a_tiny_site(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from PIL import Image

    from models import create_model
    from app.core.store import open_database
    from app.core.store.repository import model_approval
    from training.export import export_model
    from training.sitebench.station import APPROVER

    rng = np.random.default_rng(0)
    folder = tmp_path / "site"
    folder.mkdir()
    rows = []
    for i in range(40):
        level = i % 4
        img = np.clip(rng.normal(128, 10 + 25 * level, (72, 88, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{i:02d}.png")
        rows.append((f"{i:02d}.png", 85 - 20 * level + float(rng.normal(0, 3))))
    with open(folder / "mos.csv", "w", newline="") as f:
        csv.writer(f).writerows([("image", "mos"), *rows])
    torch.manual_seed(0)
    student = create_model("student", weights=None)
    base = tmp_path / "models" / "base"
    export_model(student, base, {"version": "0.1.0"})
    # Not a shipped model: the benchmark approves the base it is given, in its own station only.
    # (Other tests ship this very network for their own stations; here the program ships none.)
    from app.core.model import trust as model_trust

    monkeypatch.setattr(model_trust, "SHIPPED", set())
    torch.save({"config": student.config.to_dict(), "model": student.state_dict(), "card_info": {}}, base.with_suffix(".pt"))
    cfg = tmp_path / "ft.json"
    cfg.write_text(json.dumps({
        "model": "student", "crop": 64, "batch_size": 6, "epochs": 2, "lr_backbone": 1e-3, "lr_head": 3e-3,
        "warmup_epochs": 0, "min_votes": 3, "min_photos": 10, "split_seed": 0, "test_fraction": 0.25,
        "val_fraction": 0.2, "min_test": 5, "min_val": 3, "seed": 0}))
    sys.path.insert(0, str(ROOT / "scripts"))
    import site_benchmark

    out = tmp_path / "bench"
    assert site_benchmark.main(["--base", str(base.with_suffix(".onnx")), "--csv", str(folder / "mos.csv"),
                                "--root", str(folder), "--sizes", "12", "100", "--out", str(out), "--threads", "1",
                                "--config", str(cfg)]) == 0
    cells = sorted(out.glob("*-0.1.0/mos/n*/result.json"))
    results = [json.loads(p.read_text()) for p in cells]
    assert [r["n"] for r in sorted(results, key=lambda r: r["n"])] == [12, 40 - results[0]["test_n"]]  # 100: all there is
    for r in results:
        # Votes went through `ratings import` into the station's own home, five per photo.
        assert r["station"]["db"].startswith(str(out)) and r["station"]["scored"] == r["n"] + r["test_n"]
        for method in ("calibration", "finetune"):
            assert r[method]["test"]["n"] == r["test_n"] and r[method]["peak_mb"] > 20 and r[method]["seconds"] > 0
        assert r["calibration"]["test"]["before"] == pytest.approx(r["finetune"]["test"]["before"], abs=1e-6)
        assert len(r["finetune"]["curve"]) == 2
        assert r["calibration"]["peak_mb"] < r["finetune"]["peak_mb"]  # the panel's fit is torch-free
        db = open_database(r["station"]["db"])
        try:
            assert model_approval(db, json.loads(base.with_suffix(".json").read_text())) == ("approved", APPROVER)
        finally:
            db.close()
    # The two methods of a cell, paired photo by photo on the same test photos and MOS.
    from training.sitebench.compare import compare_cells

    paired = compare_cells(cells[0].parent, cells[0].parent, methods=("calibration", "finetune"))
    assert paired["n"] == results[0]["test_n"]
    assert paired["a"]["gain"] == pytest.approx(results[0]["calibration"]["test"]["gain"], abs=0.01)
    assert paired["b"]["gain"] == pytest.approx(results[0]["finetune"]["test"]["gain"], abs=0.01)
    table = next(out.glob("*-0.1.0-mos.md")).read_text()
    assert table.count("| calibration |") == 2 and table.count("| fine-tune |") == 2
    # Done cells are kept: a second run resumes without redoing them.
    stamp = cells[0].stat().st_mtime
    assert site_benchmark.main(["--base", str(base.with_suffix(".onnx")), "--csv", str(folder / "mos.csv"),
                                "--root", str(folder), "--sizes", "12", "--out", str(out), "--threads", "1",
                                "--config", str(cfg)]) == 0
    assert cells[0].stat().st_mtime == stamp
    # bench/calibration_features.py refits the panel's calibration on richer pooled features of the
    # same network, computed from its checkpoint; on what the station stores (the embedding and the
    # graph's pooled stages: its "+ both stages") it must give the cell's own calibration gain.
    import subprocess

    largest = max(cells, key=lambda c: json.loads(c.read_text())["n"]).parent
    run = subprocess.run([sys.executable, "bench/calibration_features.py", "--home", str(largest / "home"),
                          "--config", str(cfg), "--checkpoint", str(base.with_suffix(".pt")),
                          "--card", str(base.with_suffix(".json")), "--cache", str(tmp_path / "f.npz")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [line.split(" | ") for line in run.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r[0].lstrip("| ") for r in rows] == ["stored embedding (96)", "+ the stage before the last", "+ the last stage",
                                                 "+ both stages", "+ both stages, LDA spread, views"], run.stdout
    stored_gain = float(rows[3][3].split(" [")[0])
    assert stored_gain == pytest.approx(json.loads((largest / "result.json").read_text())["calibration"]["test"]["gain"],
                                        abs=1e-3), run.stdout
    assert (tmp_path / "f.npz").exists()


def _cell(run: Path, n: int, mos, before, after) -> None:
    cell = run / "base-1.0" / "site" / f"n{n}"
    (cell / "finetune").mkdir(parents=True)
    (cell / "result.json").write_text(json.dumps({"n": n}))
    with open(cell / "finetune" / "test_predictions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "mos", "before", "after"])
        w.writerows((f"/p/{i}.jpg", m, b, a) for i, (m, b, a) in enumerate(zip(mos, before, after)))


def test_two_recipes_are_compared_on_the_same_test_photos_and_a_better_one_shows(tmp_path):
    from training.sitebench.compare import cells, compare_cells, markdown

    rng = np.random.default_rng(0)
    mos = rng.uniform(0, 100, 200)
    before = mos + rng.normal(0, 40, 200)
    _cell(tmp_path / "a", 150, mos, before, before + rng.normal(0, 5, 200))  # recipe A changes nothing
    _cell(tmp_path / "b", 150, mos, before, mos + rng.normal(0, 10, 200))  # recipe B learns the site
    result = compare_cells(*(cells(tmp_path / r)[("base-1.0", "site", 150)] for r in ("a", "b")))
    assert result["n"] == 200 and result["b_minus_a"]["gain_ci"][0] > 0.2
    assert result["a"]["gain_ci"][0] < 0 < result["a"]["gain_ci"][1]
    assert "| base-1.0 | site | 150 | 200 |" in markdown(tmp_path / "a", tmp_path / "b", ("A", "B"))
    _cell(tmp_path / "c", 150, mos[:-1], before[:-1], before[:-1])  # judged on other photos: refused
    with pytest.raises(ValueError, match="different test photos"):
        compare_cells(cells(tmp_path / "a")[("base-1.0", "site", 150)], cells(tmp_path / "c")[("base-1.0", "site", 150)])


def test_two_versions_of_one_base_have_their_calibrations_compared_photo_by_photo(tmp_path):
    """A base and its next version (the same network storing more for its calibration) run as two
    benchmarks: their calibrations are paired cell by cell on the same test photos."""
    from training.sitebench.compare import main

    rng = np.random.default_rng(1)
    mos = rng.uniform(0, 100, 200)
    before = mos + rng.normal(0, 40, 200)
    for run, base, after in (("old", "base-0.0.1", before + rng.normal(0, 5, 200)), ("new", "base-0.0.2", mos)):
        cell = tmp_path / run / base / "site" / "n150"
        cell.mkdir(parents=True)
        (cell / "result.json").write_text(json.dumps({"n": 150}))
        rows = [[f"/p/{i}.jpg", m, b, a] for i, (m, b, a) in enumerate(zip(mos, before, after))]
        (cell / "calibration.json").write_text(json.dumps({"test_predictions": rows}))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--a", str(tmp_path / "old"), "--b", str(tmp_path / "new"), "--method", "calibration"])
    row = [line for line in out.getvalue().splitlines() if line.startswith("| base-0.0.1 | site | 150 | 200 |")]
    assert row and float(row[0].split(" | ")[-1].split(" [")[1].split(",")[0]) > 0.2, out.getvalue()


def test_biq2021s_training_photos_are_a_new_site_only_for_a_base_that_never_learnt_them(tmp_path):
    """A LIVEC-only top names BIQ2021 in its recipe (its validation fractions, a cross-dataset
    figure) without learning it: the site is offered. A base that learnt BIQ2021 is refused."""
    from training.sitebench.sites import named_site

    (tmp_path / "Train (Images and MOS).csv").write_bytes(
        b"Image Name,MOS\r\nss02 (1).jpg,0.5\r\nss02 (2).jpg,0.7\r\nss03 (1).jpg,0.6\r\n")
    recipe = 'stage top (frozen trunk of imagenet.pt): {"train_on": %s, "val_fractions": {"biq2021": 0.1, "livec": 0.15}}'
    livec_only = {"name": "livec-only", "version": "0.0.1", "training": {"recipe": recipe % '["livec"]'}}
    both = {"name": "both", "version": "0.0.1", "training": {"recipe": recipe % '["biq2021", "livec"]'}}
    joint = {"name": "joint", "version": "0.0.1", "training": {"data": "BIQ2021's training split and LIVEC"}}
    assert [p.subset for p in named_site("biq-train-ss02", tmp_path, livec_only)] == ["ss02", "ss02"]
    assert [p.subset for p in named_site("biq-train", tmp_path, livec_only)] == ["ss02", "ss02", "ss03"]
    for site in ("biq-train", "biq-train-ss02"):
        for learnt in (both, joint):
            with pytest.raises(ValueError, match="not a new site"):
                named_site(site, tmp_path, learnt)
