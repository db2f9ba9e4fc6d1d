"""The people who work at a station: who is signed in, and who may change what the site runs.

An operator signs in with a name or badge id; a supervisor may also save thresholds, switch the
model version, approve a model, fine-tune and calibrate. An optional PIN (PBKDF2 with a salt of
its own) keeps a slip of the hand from signing in as someone else or passing as a supervisor:
this is a guard against accidents, not access control (the database is open to anyone who can
read its file).

A station with no operator at all makes the first person to sign in a supervisor, so a fresh
install is never locked out; the last supervisor cannot be made an operator, for the same reason.
Qt-free: the window calls these off its GUI thread.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import func, select

from ..store.database import Database
from ..store.schema import Operator as OperatorRow
from ..store.schema import utcnow

ROLES = ("operator", "supervisor")
# PBKDF2-HMAC-SHA256 rounds: about 0.1 s a check, slow enough that guessing a 4-digit PIN from
# a copied database takes a while, quick enough for a person waiting on a dialog.
PIN_ROUNDS = 200_000


class OperatorError(ValueError):
    """A sign-in or supervisor check that did not pass, said in one line."""


class PinRequired(OperatorError):
    """The person has a PIN and none was typed: ask for it."""


class WrongPin(OperatorError):
    pass


@dataclass(frozen=True)
class Operator:
    name: str
    role: str
    has_pin: bool = False

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


@dataclass(frozen=True)
class SignedIn:
    operator: Operator
    new: bool  # first time at this station (or any station sharing the database)
    first_supervisor: bool  # made a supervisor as the first person of a fresh station


def key_of(name: str) -> str:
    """One person, however the name is typed: "Ana", " ana" and "ANA" are the same operator."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise OperatorError("type a name or badge id")
    if len(cleaned) > 255:
        raise OperatorError("a name or badge id of at most 255 characters")
    return cleaned


def hash_pin(pin: str, salt: bytes | None = None) -> tuple[str, str]:
    """(salt, hash) in hex for ``pin``; a new random salt unless one is given."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, PIN_ROUNDS)
    return salt.hex(), digest.hex()


def pin_matches(pin: str, salt_hex: str, hash_hex: str) -> bool:
    _, digest = hash_pin(pin, bytes.fromhex(salt_hex))
    return hmac.compare_digest(digest, hash_hex)


def _operator(row: OperatorRow) -> Operator:
    return Operator(row.name, row.role, row.pin_hash is not None)


def _row(s, name: str) -> OperatorRow | None:
    return s.scalar(select(OperatorRow).where(OperatorRow.key == key_of(name)))


def _check_pin(row: OperatorRow, pin: str | None) -> None:
    if row.pin_hash is None:
        return
    if not pin:
        raise PinRequired(f"{row.name} has a PIN: type it")
    if not pin_matches(pin, row.pin_salt, row.pin_hash):
        raise WrongPin(f"wrong PIN for {row.name}")


def sign_in(db: Database, name: str, pin: str | None = None) -> SignedIn:
    """Sign ``name`` in, adding them as an operator on first sight (as a supervisor when the
    station has nobody yet). Raises PinRequired / WrongPin for a person with a PIN."""
    name = clean_name(name)
    with db.session() as s:
        row = _row(s, name)
        new = first = False
        if row is None:
            first = s.scalar(select(func.count()).select_from(OperatorRow)) == 0
            row = OperatorRow(name=name, key=key_of(name), role="supervisor" if first else "operator",
                              created_at=utcnow())
            s.add(row)
            new = True
        else:
            _check_pin(row, pin)
        row.last_signed_in = utcnow()
        s.commit()
        return SignedIn(_operator(row), new, first)


def operators(db: Database) -> list[Operator]:
    with db.session() as s:
        return [_operator(r) for r in s.scalars(select(OperatorRow).order_by(OperatorRow.key))]


def supervisors(db: Database) -> list[Operator]:
    return [o for o in operators(db) if o.is_supervisor]


def confirm_supervisor(db: Database, name: str, pin: str | None) -> Operator:
    """The supervisor ``name``, once their PIN (if they have one) is right; raises OperatorError
    (PinRequired, WrongPin, or not a supervisor) otherwise."""
    with db.session() as s:
        row = _row(s, name)
        if row is None or row.role != "supervisor":
            raise OperatorError(f"{name} is not a supervisor at this station")
        _check_pin(row, pin)
        return _operator(row)


def set_pin(db: Database, name: str, new_pin: str | None, old_pin: str | None = None) -> Operator:
    """Set (or, with an empty ``new_pin``, remove) ``name``'s PIN; the old one must be typed when
    there is one."""
    with db.session() as s:
        row = _row(s, name)
        if row is None:
            raise OperatorError(f"{name} has never signed in at this station")
        _check_pin(row, old_pin)
        new_pin = (new_pin or "").strip()
        row.pin_salt, row.pin_hash = hash_pin(new_pin) if new_pin else (None, None)
        s.commit()
        return _operator(row)


def set_role(db: Database, name: str, role: str) -> Operator:
    """Make ``name`` an operator or a supervisor; the last supervisor stays one (a station with
    supervisors but none left could never change its thresholds again)."""
    if role not in ROLES:
        raise OperatorError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    with db.session() as s:
        row = _row(s, name)
        if row is None:
            raise OperatorError(f"{name} has never signed in at this station")
        if row.role == "supervisor" and role != "supervisor":
            others = s.scalar(select(func.count()).select_from(OperatorRow)
                              .where(OperatorRow.role == "supervisor", OperatorRow.id != row.id))
            if not others:
                raise OperatorError(f"{row.name} is the last supervisor: make someone else a supervisor first")
        row.role = role
        s.commit()
        return _operator(row)
