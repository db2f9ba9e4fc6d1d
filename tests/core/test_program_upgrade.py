"""A program upgrade replaces the shipped model on disk. When the new version's card says it gives
the old version's scores bit for bit, the site's thresholds, calibration and choice of model
carry over; otherwise the new version starts from the defaults, as every new model does."""
import numpy as np
import pytest

from app.core.scoring.photo import score_batch
from app.core.site.station_sync import StationSync
from app.core.store.repository import active_version, model_calibration, threshold_profiles
from app.core.store.schema import Score
from app.core.verdict import Thresholds
from app.core.workspace import Workspace
from tests.conftest import install_in_place, scores_as, write_photos


def _site_set_up_on(ws, photos) -> None:
    """A supervisor's two profiles (the strict one in force) and an applied calibration."""
    score_batch(photos, ws.engine, ws.db, ws.model_version_id)
    ws.set_thresholds(Thresholds(55, 30), "lenient", changed_by="Ana")
    ws.set_thresholds(Thresholds(70, 45), "strict", changed_by="Ana")
    with ws.db.session() as s:
        rows = s.query(Score).filter(Score.status == "ok").all()
        embeddings, raw = [r.embedding for r in rows], [r.raw_score for r in rows]
    rng = np.random.default_rng(0)
    from app.core.calibration import fit_calibration

    ws.apply_calibration(fit_calibration(embeddings, raw, list(rng.uniform(0, 100, len(raw))), resamples=50),
                         calibrated_by="Ben")


@pytest.fixture(params=["sqlite", "postgresql"])
def site_db(request, tmp_path):
    """The site's database: a station's own SQLite file, or the PostgreSQL its stations share (a
    database of its own: other tests leave rows in the cluster's default one)."""
    if request.param == "sqlite":
        return tmp_path / "site.db"
    return request.getfixturevalue("postgres_cluster").new_database("program_upgrade")


def test_an_upgrade_that_gives_the_same_scores_keeps_the_sites_thresholds_calibration_and_choice(
        tmp_path, exported_student, site_db):
    install = tmp_path / "program" / "models"
    old_path, old_card = install_in_place(exported_student, install, "0.0.1")
    photos = write_photos(tmp_path / "photos", 12, (64, 80))
    ws = Workspace(site_db)
    ws.load_model(old_path, site_choice=True, chosen_by="Ana")
    _site_set_up_on(ws, photos)
    calibration = model_calibration(ws.db, ws.model_version_id)
    old_id = ws.model_version_id
    ws.close()

    install_in_place(exported_student, install, "0.0.2", claim=scores_as(old_card))  # the upgrade, in place
    station = Workspace(site_db)
    station.load_model(old_path)  # the station opens on the site's path, as every launch does
    assert station.model.version == "0.0.2" and station.model_version_id != old_id
    assert station.thresholds == Thresholds(70, 45) and station.profile == "strict"
    assert [p.name for p in threshold_profiles(station.db, station.model_version_id)] == ["strict", "lenient"]
    assert station.calibration == calibration
    assert active_version(station.db) == station.model_version_id  # the site runs the new version now
    assert StationSync(station.db).poll(station.model_version_id, station.thresholds).model is None
    assert station.notice == ("tiny v0.0.2 gives v0.0.1's scores: its thresholds 'strict' (pass ≥ 70, fail < 45), "
                               "profile 'lenient', its calibration and the site's choice of model carried over from "
                               "v0.0.1")
    # Its scores are the old version's, calibrated alike, and judged by the carried thresholds.
    score_batch(photos, station.engine, station.db, station.model_version_id)
    with station.db.session() as s:
        by_version = {}
        for r in s.query(Score).filter(Score.status == "ok"):
            by_version.setdefault(r.model_version_id, {})[r.image_id] = (round(r.score, 4), r.verdict)
    assert by_version[station.model_version_id] == by_version[old_id]
    station.close()

    # A supervisor who then removes the calibration is not overruled at the next launch.
    station = Workspace(site_db)
    station.load_model(old_path)
    assert station.notice is None  # nothing is carried twice
    station.apply_calibration(None, calibrated_by="Ben")
    station.set_thresholds(Thresholds(65, 35), "night", changed_by="Ben")
    station.close()
    again = Workspace(site_db)
    again.load_model(old_path)
    assert again.calibration is None and again.thresholds == Thresholds(65, 35) and again.notice is None


def test_an_upgrade_to_a_model_with_other_scores_starts_from_the_defaults(tmp_path, exported_student):
    install = tmp_path / "program" / "models"
    old_path, old_card = install_in_place(exported_student, install, "0.0.1")
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(old_path, site_choice=True, chosen_by="Ana")
    _site_set_up_on(ws, write_photos(tmp_path / "photos", 12, (64, 80)))
    old_id = ws.model_version_id
    # No claim, or one that names nothing: each a new version with other scores, installed in place.
    for version, claim in (("0.1.0", None), ("0.1.1", "v0.0.1"), ("0.1.2", {"identity": "not a hash"}),
                           ("0.1.3", scores_as(old_card) | {"identity": "0" * 64})):
        install_in_place(exported_student, install, version, claim)
        station = Workspace(tmp_path / "site.db")
        station.load_model(old_path)
        assert station.model.version == version
        assert station.thresholds == Thresholds() and station.profile is None and station.calibration is None
        assert active_version(station.db) == old_id  # nobody chose the new version for the site
        assert station.notice == (
            f"The site runs tiny v0.0.1 from {old_path}, where this program now has tiny v{version} (an upgrade "
            f"replaced it; its scores differ): scoring with v{version} on its own thresholds (pass ≥ 60, fail < 40) "
            "until a supervisor chooses the site's model (Training panel) and saves thresholds for it")
        station.close()


def test_a_version_that_scores_as_one_this_station_never_ran_carries_nothing(tmp_path, exported_student):
    _, old_card = install_in_place(exported_student, tmp_path / "old", "0.0.1")
    new_path, _ = install_in_place(exported_student, tmp_path / "new", "0.0.2", claim=scores_as(old_card))
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(new_path)
    assert ws.notice is None and ws.thresholds == Thresholds() and active_version(ws.db) == ws.model_version_id


def test_scores_stored_by_the_new_version_before_the_carry_are_judged_and_calibrated_again(
        tmp_path, exported_student):
    """A station upgraded by a program that did not carry yet scored on the defaults: the first
    launch that carries recomputes what it stored, as a supervisor's own change would."""
    old_path, old_card = install_in_place(exported_student, tmp_path / "old", "0.0.1")
    new_path, _ = install_in_place(exported_student, tmp_path / "new", "0.0.2", claim=scores_as(old_card))
    photos = write_photos(tmp_path / "photos", 12, (64, 80))
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(old_path)
    _site_set_up_on(ws, photos)
    install_in_place(exported_student, tmp_path / "new", "0.0.2")  # as an earlier program shipped it: no claim
    ws.load_model(new_path)
    score_batch(photos, ws.engine, ws.db, ws.model_version_id)
    new_id = ws.model_version_id
    install_in_place(exported_student, tmp_path / "new", "0.0.2", claim=scores_as(old_card))
    ws.load_model(new_path)
    assert ws.model_version_id == new_id and ws.notice  # the claim is descriptive: the same version
    with ws.db.session() as s:
        stored = {}
        for r in s.query(Score).filter(Score.status == "ok"):
            stored.setdefault(r.model_version_id, {})[r.image_id] = (round(r.score, 4), r.verdict)
    assert stored[new_id] == stored[next(k for k in stored if k != new_id)]
