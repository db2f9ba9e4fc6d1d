"""The fine-tune's small-site recipe on planted sites (issue 24): a site whose truth is a known
monotone function of something the model sees (brightness) is learned and the new version is
advised for use; a site whose ratings are pure noise never gets a version advised as better.
The recipe is chosen by how many photos the fine-tune trains on, and says why."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from app.core.site.finetune_job import standing, summary
from app.core.store import open_database
from app.core.store.database import sqlite_url
from models import create_model, load_checkpoint
from training import finetune
from training.site_recipe import HEADS, choose_recipe, set_trainable

SHIPPED_RECIPE = json.loads((finetune.Path(finetune.__file__).parent / "configs" / "finetune.json").read_text())


def planted_site(tmp_path, photos: int, truth, seed: int = 0):
    """``photos`` textured photos of random brightness, each rated by four raters whose votes
    are ``truth(brightness 0-1, rng)`` (1-5) give or take a step now and then; a random student
    as the station's trusted model, its torch weights beside it."""
    from app.core.model.trust import admit_model
    from app.core.ratings.session import LabelingSession
    from tests.conftest import ship_for_tests
    from training.export import export_model

    rng = np.random.default_rng(seed)
    site, votes = tmp_path / "site", {}
    site.mkdir()
    for i in range(photos):
        level = rng.uniform(0.1, 0.9)
        img = np.clip(rng.normal(255 * level, 12, (72, 88, 3)), 0, 255).astype(np.uint8)
        path = site / f"{i:03d}.png"
        Image.fromarray(img).save(path)
        votes[str(path)] = truth(level, rng)
    db_path = tmp_path / "site.db"
    db = open_database(db_path)
    for r in range(4):
        session = LabelingSession(db, f"rater{r}", "site", sorted(votes))
        while (item := session.current()) is not None:
            step = rng.integers(-1, 2) if rng.random() < 0.2 else 0
            session.vote(int(np.clip(round(votes[item.path]) + step, 1, 5)))
    torch.manual_seed(0)
    student = create_model("student", weights=None)
    base = tmp_path / "models" / "base"
    export_model(student, base, {"version": "0.1.0"})
    ship_for_tests(base.with_suffix(".json"))
    admit_model(db, json.loads(base.with_suffix(".json").read_text()), str(base.with_suffix(".onnx")))
    db.close()
    torch.save({"config": student.config.to_dict(), "model": student.state_dict(), "card_info": {}},
               base.with_suffix(".pt"))
    return sqlite_url(db_path), base.with_suffix(".onnx")


def small_site_recipe() -> dict:
    """The shipped recipe's small-site settings on tiny photos and two threads."""
    return SHIPPED_RECIPE | {"crop": 64, "batch_size": 8, "min_photos": 20, "threads": 2, "warmup_epochs": 0,
                             "epochs": 8} | {"small_site": SHIPPED_RECIPE["small_site"] | {"lr_head": 3e-3, "crop": 64}}


def test_the_recipe_trains_only_the_top_below_the_shipped_threshold_and_says_why():
    below = SHIPPED_RECIPE["small_site"]["heads_below"]
    run, said = choose_recipe(SHIPPED_RECIPE, below - 1)
    assert run["trainable"] == "heads" and run["rehearsal"] > 0 and run["distill"] is False
    assert "small_site" not in run and f"only {below - 1} training photos" in said["why"]
    # The supervisor's number of epochs (the panel's, --epochs) is the recipe's whatever its size.
    assert choose_recipe(SHIPPED_RECIPE | {"epochs": 3}, below - 1)[0]["epochs"] == 3
    run, said = choose_recipe(SHIPPED_RECIPE, below)
    assert run.get("trainable", "all") == "all" and not run.get("rehearsal") and "whole network" in said["name"]


def test_heads_leave_every_backbone_weight_frozen():
    model = create_model("student", weights=None)
    learning = set_trainable(model, "heads")
    assert learning == sum(p.numel() for n, p in model.named_parameters() if n.split(".")[0] in HEADS)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    with pytest.raises(ValueError):
        set_trainable(model, "neck")


@pytest.mark.slow
def test_a_site_that_prefers_darker_photos_is_learned_and_the_version_advised(tmp_path):
    db_url, base = planted_site(tmp_path, 80, lambda level, rng: 5 - 4 * level)
    report = finetune.run_finetune(small_site_recipe(), db_url, base, tmp_path / "ft")
    # The random base ranks brighter photos higher; this site's raters rank them lower.
    assert report["before"]["srcc"] < -0.5
    assert report["recipe"]["trainable"] == "heads" and "training photos" in report["recipe"]["why"]
    assert standing(report) == "better", report["decision"]
    assert report["test"]["gain_ci"][0] > 0 and report["after"]["srcc"] > 0.5
    text = summary(report)
    assert text.startswith("Use the new version: it helps") and "Recipe: heads only, ranking the site's photos, with rehearsal" in text
    # Only the top learned: the new version's backbone is the base's, weight for weight.
    new, _ = load_checkpoint(tmp_path / "ft" / "run" / "best.pt")  # the chosen weights, in float32
    old, _ = load_checkpoint(base.with_suffix(".pt"))
    assert all(torch.equal(a, b) for a, b in zip(new.backbone.state_dict().values(), old.backbone.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(new.lda.state_dict().values(), old.lda.state_dict().values()))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_site_rated_at_random_never_gets_a_version_advised_as_better(tmp_path, seed):
    db_url, base = planted_site(tmp_path, 80, lambda level, rng: rng.uniform(1, 5), seed)
    report = finetune.run_finetune(small_site_recipe(), db_url, base, tmp_path / "ft")
    assert standing(report) != "better", report["decision"]
    assert summary(report).startswith("Keep the current model")
