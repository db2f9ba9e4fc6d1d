"""Reason codes for an inspector's decision: a short list a site can change (the window reads it
from its settings), so rejects can be counted by cause ("blur", "exposure", ...) in a sheet; the
free text stays for what the list does not say ("other: a scratch on the lens")."""
from __future__ import annotations

OTHER = "other"  # the code whose meaning is its free text
DEFAULT_CODES = ("blur", "exposure", "noise", "framing", OTHER)
MAX_CODE = 32  # the column's width (reviews.reason_code)


def parse_codes(value) -> tuple[str, ...]:
    """A settings value (a list, or text separated by commas) -> the codes, cleaned, in order,
    each once, "other" always last (free text must always be possible). Empty: the defaults."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    codes: list[str] = []
    for item in items:
        code = str(item).strip().lower()[:MAX_CODE]
        if code and code != OTHER and code not in codes:
            codes.append(code)
    return tuple(codes) + (OTHER,) if codes else DEFAULT_CODES


def reason_label(code: str | None, text: str | None) -> str:
    """How a decision's reason reads: "blur", "blur: soft on the left", "other: scratch"; a
    decision stored before codes existed has its text alone."""
    text = (text or "").strip()
    if not code:
        return text
    return f"{code}: {text}" if text else code
