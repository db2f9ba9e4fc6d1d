"""Export scores: CSV safe to open in a spreadsheet.

Written with a UTF-8 byte order mark: without one, Excel and LibreOffice guess a legacy code page
and a file name such as "Čaj-ü.jpg" opens garbled. Python's "utf-8-sig" reads it back unchanged."""
from __future__ import annotations

import csv
from pathlib import Path, PurePath

from .atomic import written_whole

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# "disposition" beside "verdict": the decision in force (an inspector's accept or reject over the
# model's verdict); "name": the file name alone, what a person sorts and filters a sheet by;
# "review_reason_code" last, so a sheet or script reading the columns by position still reads.
COLUMNS = ("path", "name", "score", "verdict", "disposition", "status", "error", "opinions", "model", "model_version", "model_sha256", "scored_at",
           "review", "review_reason", "reviewed_by", "reviewed_at", "review_reason_code")


def spreadsheet_safe(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def from_spreadsheet_safe(text: str) -> str:
    """The value ``spreadsheet_safe`` was given: this program's own exports read back unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class SpreadsheetSafeWriter:
    """A ``csv.writer`` whose every text cell goes through ``spreadsheet_safe``."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row) -> None:
        self._writer.writerow([spreadsheet_safe(v) for v in row])


def write_scores_csv(rows: list[dict], path: str | Path) -> Path:
    path = Path(path)
    with written_whole(path, newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            row = row | {"name": row.get("name") or PurePath(row["path"]).name}
            writer.writerow({k: spreadsheet_safe(row.get(k)) for k in COLUMNS})
    return path
