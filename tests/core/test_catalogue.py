"""A scored photo and the catalogue, without a window: a new result is stored with its thumbnail
(camera frames keep none), and a photo scored and unchanged comes back with its stored thumbnail
without being decoded again."""

from app.core.imageio.file_names import canonical_path
from app.core.scoring import catalogue
from app.core.scoring.catalogue import already_scored, store_scored
from app.core.scoring.photo import score_photo
from app.core.store.repository import stored_ok
from app.core.store.thumbnails import stored_thumbnail
from tests.conftest import write_photos


def _photo(path, seed):
    """One random JPEG at ``path`` (its content decided by ``seed``), by its canonical path."""
    return canonical_path(write_photos(path.parent, 1, (96, 128), name=path.name, seed=seed, quality=90)[0])


def test_a_new_result_is_stored_with_its_thumbnail_and_a_camera_frame_keeps_none(station, tmp_path):
    folder_photo, frame = _photo(tmp_path / "a.jpg", 0), _photo(tmp_path / "frame.jpg", 1)
    thumb = store_scored(station.db, station.model_version_id, score_photo(station.engine, folder_photo))
    assert thumb[:2] == b"\xff\xd8"  # JPEG bytes for the gallery
    record = stored_ok(station.db, station.model_version_id, [str(folder_photo)])[str(folder_photo)][1]
    assert stored_thumbnail(station.db, str(folder_photo), record.content_hash) == thumb

    outcome = score_photo(station.engine, frame, source="camera")
    assert store_scored(station.db, station.model_version_id, outcome, keep_thumbnail=False) is not None
    assert stored_thumbnail(station.db, str(frame), outcome.record.content_hash) is None
    assert str(frame) in stored_ok(station.db, station.model_version_id, [str(frame)])


def test_an_unchanged_photo_comes_back_from_the_catalogue_without_decoding(station, tmp_path, monkeypatch):
    path = _photo(tmp_path / "a.jpg", 0)
    thumb = store_scored(station.db, station.model_version_id, score_photo(station.engine, path))
    known = stored_ok(station.db, station.model_version_id, [str(path)])

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(catalogue, "load_preview_rgb", no_decoding)
    record, again = already_scored(station.db, path, known)
    assert record.path == str(path) and again == thumb

    _photo(path, 2)  # replaced under the same name: scored again, not reused
    assert already_scored(station.db, path, known) is None


def test_a_stored_result_without_a_thumbnail_gets_one_drawn_and_kept(station, tmp_path):
    path = _photo(tmp_path / "a.jpg", 0)
    outcome = score_photo(station.engine, path, source="camera")
    store_scored(station.db, station.model_version_id, outcome, keep_thumbnail=False)
    known = stored_ok(station.db, station.model_version_id, [str(path)])
    record, thumb = already_scored(station.db, path, known)
    assert thumb[:2] == b"\xff\xd8"
    assert stored_thumbnail(station.db, str(path), record.content_hash) == thumb


def test_a_128_px_thumbnail_is_drawn_again_at_full_size_only_while_the_file_is_unchanged(station, tmp_path):
    from app.core.imageio.thumbnail import THUMB_SIDE, thumbnail_side
    from app.core.scoring.catalogue import full_size_thumbnail
    from app.core.store.thumbnails import store_thumbnail

    path = _photo(tmp_path / "a.jpg", 0)
    outcome = score_photo(station.engine, path)
    store_scored(station.db, station.model_version_id, outcome)
    key, content = str(path), outcome.record.content_hash
    assert thumbnail_side(stored_thumbnail(station.db, key, content)) == THUMB_SIDE
    old = catalogue.thumbnail_jpeg(outcome.rgb, side=128)  # as stored before
    store_thumbnail(station.db, key, content, old, replace=True)
    assert thumbnail_side(stored_thumbnail(station.db, key, content)) == 128

    drawn = full_size_thumbnail(station.db, key)
    assert thumbnail_side(drawn) == THUMB_SIDE and stored_thumbnail(station.db, key, content) == drawn
    store_thumbnail(station.db, key, content, old, replace=True)
    _photo(path, 2)  # replaced since it was scored: its old content's thumbnail is not redrawn from it
    assert full_size_thumbnail(station.db, key) is None
    assert full_size_thumbnail(station.db, str(tmp_path / "never.jpg")) is None
