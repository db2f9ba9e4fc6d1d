"""A fine-tuned version not shown to help the site is a candidate, at the real window (issue 24
item 4): the Training panel says in plain words whether a finished fine-tune helps, by how much,
on how many photos, which recipe it used and why, and what more ratings would likely change; the
versions table says which versions help; using a candidate asks first, a version that helps does
not."""

import pytest

import torch
from PySide6.QtWidgets import QMessageBox

from app.core.model.contract import model_identity
from app.core.model.loader import load_model
from app.core.site.plain_words import BETTER, NO_BETTER, NOT_TESTED
from app.core.store.repository import register_model
from tests.gui.conftest import fine_tune_ended_with, settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui

# v0.5.0 on the real-ratings site at n = 150 with the small-site recipe (training README).
CANDIDATE = {"held_out": 289, "before": {"srcc": 0.726, "plcc": 0.74}, "after": {"srcc": 0.733, "plcc": 0.75},
             "test": {"n": 289, "gain": 0.007, "gain_ci": [-0.003, 0.018]}}
HELPS = {"held_out": 289, "before": {"srcc": 0.620, "plcc": 0.63}, "after": {"srcc": 0.674, "plcc": 0.68},
         "test": {"n": 289, "gain": 0.054, "gain_ci": [0.013, 0.099]}}


def fine_tuned(window, tmp_path, name: str, evaluation: dict, seed: int):
    """A version fine-tuned from the window's model, its site evaluation on its card, registered
    as the fine-tune registers it."""
    from models import create_model
    from training.export import annotate_card, export_model

    torch.manual_seed(seed)
    onnx, card = export_model(create_model("student", weights=None).eval(), tmp_path / "v" / name,
                              {"version": f"0.0.0+site.{name}"})
    parent = window.workspace.model.card
    annotate_card(card, {"site_evaluation": evaluation, "parent": {
        "name": parent["name"], "version": parent["version"], "sha256": parent["sha256"],
        "identity": model_identity(parent)}})
    register_model(window.workspace.db, load_model(onnx).card, str(onnx), origin="fine-tuned", approved_by="fine-tune")
    return onnx


def answer(monkeypatch, replies: dict) -> list:
    """QMessageBox.question answered per title (Yes by default); returns the titles asked."""
    asked = []

    def question(parent, title, text, *a, **k):
        asked.append(title)
        return replies.get(title, QMessageBox.Yes)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def rows(panel) -> dict[str, int]:
    return {panel.table.cell(r, "Version"): r for r in range(panel.table.rowCount())}


def test_the_versions_table_says_which_help_and_using_a_candidate_asks_first(qtbot, window, tmp_path, monkeypatch):
    candidate = fine_tuned(window, tmp_path, "cand", CANDIDATE, 1)
    helps = fine_tuned(window, tmp_path, "helps", HELPS, 2)
    first = window.workspace.model.onnx_path
    action_for(window, "Ctrl+T").trigger()
    settled(qtbot, window)
    panel = window.training
    said = {v: panel.table.cell(r, "Decision") for v, r in rows(panel).items()}
    assert said == {"0.0.0+site.cand": NO_BETTER, "0.0.0+site.helps": BETTER, "0.0.0": NOT_TESTED}

    asked = answer(monkeypatch, {"Use a candidate version?": QMessageBox.No})
    panel.table.selectRow(rows(panel)["0.0.0+site.cand"])
    panel.use_button.click()  # No: nothing switches
    settled(qtbot, window)
    assert asked == ["Use a candidate version?"] and window.workspace.model.onnx_path == first

    asked = answer(monkeypatch, {})
    panel.use_button.click()  # Yes: then the window's usual question, then the switch
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == candidate, timeout=30000)
    settled(qtbot, window)
    assert asked == ["Use a candidate version?", "Switch the model version?"]

    asked = answer(monkeypatch, {})
    panel.table.selectRow(rows(panel)["0.0.0+site.helps"])
    panel.use_button.click()  # a version that helps: only the switch is asked
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == helps, timeout=30000)
    settled(qtbot, window)
    assert asked == ["Switch the model version?"]
    panel.close()


def test_a_finished_fine_tune_that_does_not_help_is_kept_as_a_candidate_and_says_what_more_ratings_would_do(
        qtbot, window, tmp_path):
    action_for(window, "Ctrl+T").trigger()
    settled(qtbot, window)
    panel = window.training
    report = CANDIDATE | {
        "registered": True, "model": str(tmp_path / "new.onnx"),
        "decision": "registered as a candidate: not better than the current version beyond noise",
        "validation": {"n": 40, "epoch": 1, "epochs_run": 4, "srcc": 0.723, "start_srcc": 0.709},
        "split": {"counts": {"train": 110, "val": 40, "test": 289}},
        "recipe": {"name": "heads only, with rehearsal", "trainable": "heads",
                   "why": "only 110 training photos (fewer than 400): the whole network over-fits so few"}}
    assert fine_tune_ended_with(qtbot, panel, tmp_path, report) is True
    advice, details = panel.status.text(), panel.status_details.text()  # plain words; the figures behind Details
    assert advice.startswith("Done: new.onnx. Keep the current model: the new version is no better beyond noise "
                             "on this site's 289 test photos, so it is not shown to help.")
    assert "It is kept as a candidate you may try" in advice and "SRCC" not in advice
    assert "More rated photos would show whether it is better" in advice
    assert "Recipe: heads only, with rehearsal, because only 110 training photos" in advice
    assert "gain +0.007 [-0.003, +0.018]" in details
    assert "With twice the rated photos (878) the uncertainty would shrink from ±0.010 to about ±0.007" in details
    assert "about 2.2 times the ratings (about 988 rated photos)" in details
    assert "Registered as a candidate version of this station (not in use)" in details
    assert panel.register_button.isHidden()  # registered already: nothing to override
    panel.close()
