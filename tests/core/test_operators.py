"""People at a station: signing in, roles, PINs, and who is recorded for what they changed."""
import sqlite3

import pytest

from app.core.site.operators import (
    OperatorError,
    PinRequired,
    WrongPin,
    confirm_supervisor,
    hash_pin,
    operators,
    pin_matches,
    set_pin,
    set_role,
    sign_in,
    supervisors,
)
from app.core.store.repository import mark_active, register_model, rescore_stored, save_thresholds
from app.core.verdict import Thresholds


def test_the_first_person_at_a_fresh_station_becomes_its_supervisor_and_the_next_an_operator(db):
    first = sign_in(db, "Ana")
    assert first.new and first.first_supervisor and first.operator.is_supervisor
    second = sign_in(db, "B-1042")  # a badge id is a name like any other
    assert second.new and not second.first_supervisor and second.operator.role == "operator"
    again = sign_in(db, "  ana ")  # the same person, however it is typed
    assert not again.new and again.operator.name == "Ana" and again.operator.is_supervisor
    assert [o.name for o in operators(db)] == ["Ana", "B-1042"]
    assert [o.name for o in supervisors(db)] == ["Ana"]


def test_an_empty_name_signs_nobody_in(db):
    with pytest.raises(OperatorError, match="name or badge id"):
        sign_in(db, "   ")
    assert operators(db) == []


def test_a_pin_is_stored_salted_and_hashed_and_asked_at_sign_in(db, tmp_path):
    sign_in(db, "Ana")
    assert set_pin(db, "Ana", "4711").has_pin
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        salt, hashed = c.execute("select pin_salt, pin_hash from operators").fetchone()
    assert "4711" not in salt + hashed and pin_matches("4711", salt, hashed) and not pin_matches("4712", salt, hashed)
    assert hash_pin("4711")[0] != hash_pin("4711")[0]  # a salt of its own each time
    with pytest.raises(PinRequired):
        sign_in(db, "Ana")
    with pytest.raises(WrongPin):
        sign_in(db, "Ana", "0000")
    assert sign_in(db, "Ana", "4711").operator.name == "Ana"


def test_changing_a_pin_needs_the_old_one_and_an_empty_pin_removes_it(db):
    sign_in(db, "Ana")
    set_pin(db, "Ana", "4711")
    with pytest.raises(WrongPin):
        set_pin(db, "Ana", "1234", old_pin="9999")
    assert not set_pin(db, "Ana", "", old_pin="4711").has_pin
    assert sign_in(db, "Ana").operator.name == "Ana"


def test_a_supervisor_is_confirmed_only_with_their_pin_and_an_operator_never(db):
    sign_in(db, "Ana")
    sign_in(db, "Ben")
    set_pin(db, "Ana", "4711")
    assert confirm_supervisor(db, "Ana", "4711").name == "Ana"
    with pytest.raises(WrongPin):
        confirm_supervisor(db, "Ana", "1111")
    with pytest.raises(PinRequired):
        confirm_supervisor(db, "Ana", None)
    with pytest.raises(OperatorError, match="not a supervisor"):
        confirm_supervisor(db, "Ben", None)


def test_the_last_supervisor_cannot_be_made_an_operator(db):
    sign_in(db, "Ana")
    sign_in(db, "Ben")
    with pytest.raises(OperatorError, match="last supervisor"):
        set_role(db, "Ana", "operator")
    assert set_role(db, "Ben", "supervisor").is_supervisor
    assert set_role(db, "Ana", "operator").role == "operator"
    assert [o.name for o in supervisors(db)] == ["Ben"]
    with pytest.raises(OperatorError, match="unknown role"):
        set_role(db, "Ana", "admin")


def test_thresholds_model_choice_and_calibration_record_who_changed_them(db, tmp_path):
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m1.onnx")
    save_thresholds(db, mv, "night shift", Thresholds(70, 40), changed_by="Ana")
    mark_active(db, mv, "/m1.onnx", chosen_by="Ana")
    rescore_stored(db, mv, None, Thresholds(70, 40), calibrated_by="Ben")
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        profile = c.execute("select name, changed_by, changed_at from threshold_profiles").fetchone()
        version = c.execute("select chosen_by, chosen_at, calibrated_by, calibrated_at from model_versions").fetchone()
    assert profile[:2] == ("night shift", "Ana") and profile[2]
    assert version[0] == "Ana" and version[1] and version[2] == "Ben" and version[3]
