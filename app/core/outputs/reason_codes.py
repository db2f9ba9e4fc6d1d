"""Reason codes for an inspector's decision: the site's short list, so rejects can be counted by
cause ("blur", "exposure", ...) in a sheet; the free text stays for what the list does not say
("other: a scratch on the lens"). The list is the site's, in the database (table reason_codes):
every station sharing it offers the same codes, whoever is logged in to the computer. A
supervisor changes it (Review → Reason codes); no list stored means the defaults."""
from __future__ import annotations

from sqlalchemy import delete, select

from ..store.database import Database
from ..store.schema import ReasonCode, utcnow

OTHER = "other"  # the code whose meaning is its free text
DEFAULT_CODES = ("blur", "exposure", "noise", "framing", OTHER)
MAX_CODE = 32  # the column's width (reviews.reason_code)


def parse_codes(value) -> tuple[str, ...]:
    """A list, or text separated by commas -> the codes, cleaned, in order, each once, "other"
    always last (free text must always be possible). Empty: the defaults."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    codes: list[str] = []
    for item in items:
        code = str(item).strip().lower()[:MAX_CODE]
        if code and code != OTHER and code not in codes:
            codes.append(code)
    return tuple(codes) + (OTHER,) if codes else DEFAULT_CODES


def site_reason_codes(db: Database) -> tuple[str, ...]:
    """The site's codes, in the order offered (the defaults while none are stored)."""
    with db.session() as s:
        return parse_codes(s.scalars(select(ReasonCode.code).order_by(ReasonCode.position)).all())


def has_site_reason_codes(db: Database) -> bool:
    with db.session() as s:
        return s.scalar(select(ReasonCode.position).limit(1)) is not None


def set_site_reason_codes(db: Database, value, who: str) -> tuple[str, ...]:
    """Replace the site's list (``value`` as parse_codes reads it) in one transaction; returns
    the list now in force. The decisions already made keep their codes."""
    codes = parse_codes(value)
    with db.session() as s:
        s.execute(delete(ReasonCode))
        s.flush()  # the old rows gone before the new ones take their positions and codes
        now = utcnow()
        s.add_all(ReasonCode(position=i, code=code, changed_by=who, changed_at=now) for i, code in enumerate(codes))
    return codes


def reason_label(code: str | None, text: str | None) -> str:
    """How a decision's reason reads: "blur", "blur: soft on the left", "other: scratch"; a
    decision stored before codes existed has its text alone."""
    text = (text or "").strip()
    if not code:
        return text
    return f"{code}: {text}" if text else code
