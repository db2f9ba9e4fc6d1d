"""The site's records that every station shares, without a window: the reason codes offered
for a decision, and which raters have read how to rate."""
from app.core.outputs.reason_codes import (
    DEFAULT_CODES,
    has_site_reason_codes,
    set_site_reason_codes,
    site_reason_codes,
)
from app.core.ratings.instructions import instructions_seen, mark_instructions_seen
from app.core.store import open_database


def test_the_sites_reason_codes_are_the_defaults_until_a_list_is_stored_and_other_stays_last(tmp_path):
    db = open_database(tmp_path / "site.db")
    assert site_reason_codes(db) == DEFAULT_CODES and not has_site_reason_codes(db)
    assert set_site_reason_codes(db, "Glare, other, dust, glare", "Ana") == ("glare", "dust", "other")
    assert site_reason_codes(db) == ("glare", "dust", "other")
    set_site_reason_codes(db, ["dust", "tilt"], "Ben")  # replaced whole: dust keeps no old position
    assert site_reason_codes(db) == ("dust", "tilt", "other")
    set_site_reason_codes(db, "", "Ben")
    assert site_reason_codes(db) == DEFAULT_CODES
    db.close()


def test_a_rater_who_read_how_to_rate_is_recorded_once_by_the_id_they_rate_under(tmp_path):
    db = open_database(tmp_path / "site.db")
    assert not instructions_seen(db, "Ana")
    mark_instructions_seen(db, ["Ana", " Ana ", ""])
    assert instructions_seen(db, "Ana") and not instructions_seen(db, "Ben")
    db.close()
