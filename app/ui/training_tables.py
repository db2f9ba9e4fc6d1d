"""The Training window's two tables, each leading with plain words and keeping its figures in
columns that only *Details* shows: the model versions (what to do with each and why, then the
SRCC of each evaluation with its n) and the rated photos (what the raters thought and whether the
photo counts for a fine-tune, then its MOS with the 95 % interval). Widgets only: they show what
they are handed."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from ..core.ratings.mos import ImageMOS
from ..core.site.plain_words import counts_for_finetune, opinion, version_decision


WITH_DETAILS_WIDTH = 300  # px: the long plain column beside the figures


class DetailsTable(QTableWidget):
    """A read-only table whose first columns speak plainly and whose last ones (the figures) show
    only with *Details*. Cells are read by their column's title, so callers need no indices."""

    def __init__(self, plain: tuple[str, ...], details: tuple[str, ...], stretch: str, many_details: bool = True,
                 parent=None):
        super().__init__(0, len(plain) + len(details), parent)
        self.plain, self.details = plain, details
        self.setHorizontalHeaderLabels(plain + details)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setWordWrap(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        # The one long plain column takes the width left, wrapping, so no column is cut at the edge.
        self._stretch, self._many_details = self.column(stretch), many_details
        self.set_details(False)

    def column(self, title: str) -> int:
        return (self.plain + self.details).index(title)

    def set_details(self, shown: bool) -> None:
        for title in self.details:
            self.setColumnHidden(self.column(title), not shown)
        # With the figures beside it the long column keeps a readable width and the table scrolls
        # sideways; stretched, it was squeezed to a word per line.
        header = self.horizontalHeader()
        fixed = shown and self._many_details
        header.setSectionResizeMode(self._stretch, QHeaderView.Interactive if fixed else QHeaderView.Stretch)
        if fixed:
            self.setColumnWidth(self._stretch, max(WITH_DETAILS_WIDTH, header.sectionSizeHint(self._stretch)))
        self.resizeRowsToContents()

    def shown_titles(self) -> list[str]:
        return [t for t in self.plain + self.details if not self.isColumnHidden(self.column(t))]

    def cell(self, row: int, title: str) -> str:
        item = self.item(row, self.column(title))
        return item.text() if item is not None else ""

    def fill(self, rows: list[tuple[str, ...]], data: list | None = None, tips: list[str] | None = None) -> None:
        self.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if data is not None:
                    item.setData(Qt.UserRole, data[r])
                if tips is not None and c < len(self.plain):
                    item.setToolTip(tips[r])
                self.setItem(r, c, item)
        self.resizeRowsToContents()


# --- the model versions ----------------------------------------------------------------------
VERSION_PLAIN = ("Decision", "Why", "Model", "Version", "In use", "Registered")
# Each figure in its own column with the number of photos behind it: LIVEC validation (the
# shipped recipe's), the site validation that chose a fine-tune's epoch, the site test.
VERSION_DETAILS = ("LIVEC val SRCC (n)", "Site val SRCC (n)", "Site test SRCC before → after (n)",
                   "Test gain, 95 % interval")


def _fmt(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"


def _with_n(value: float | None, n: int | None) -> str:
    if value is None:
        return "–"
    return f"{_fmt(value)} ({n if n is not None else '?'})"


def version_figures(v) -> tuple[str, ...]:
    """The Details columns for one VersionRow."""
    test = "–"
    if v.srcc_after is not None:
        test = f"{_fmt(v.srcc_before)} → {_fmt(v.srcc_after)} ({v.site_test_n if v.site_test_n is not None else '?'})"
    gain = "–"
    if v.srcc_after is not None and v.srcc_before is not None:
        gain = f"{v.srcc_after - v.srcc_before:+.3f}"
        gain += f" [{v.site_gain_ci[0]:+.3f}, {v.site_gain_ci[1]:+.3f}]" if v.site_gain_ci else " [none]"
    return _with_n(v.val_srcc, v.val_n), _with_n(v.site_val_srcc, v.site_val_n), test, gain


class VersionsTable(DetailsTable):
    def __init__(self, parent=None):
        super().__init__(VERSION_PLAIN, VERSION_DETAILS, stretch="Why", parent=parent)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)

    def show_versions(self, rows) -> None:
        cells, tips = [], []
        for v in rows:
            decision, why = version_decision(v)
            cells.append((decision, why, v.name, v.version, "in use" if v.active else "",
                          v.registered_at.strftime("%Y-%m-%d %H:%M")) + version_figures(v))
            tips.append(f"{decision}. {why}")
        self.fill(cells, data=[v.path for v in rows], tips=tips)

    def row_of(self, version: str) -> int:
        return next(r for r in range(self.rowCount()) if self.cell(r, "Version") == version)

    def selected_path(self) -> str | None:
        row = self.currentRow()
        return self.item(row, 0).data(Qt.UserRole) if row >= 0 else None


# --- the rated photos ------------------------------------------------------------------------
RATED_PLAIN = ("Rated photo", "Raters' opinion", "Votes", "Counts for a fine-tune")
RATED_DETAILS = ("MOS ± 95 % CI (0-100)",)


class RatedPhotosTable(DetailsTable):
    """The site's ratings as fine-tuning and calibration see them (rejected raters left out)."""

    def __init__(self, parent=None):
        super().__init__(RATED_PLAIN, RATED_DETAILS, stretch="Rated photo", many_details=False, parent=parent)

    def show_rated(self, rated: dict[str, ImageMOS], votes_needed: int) -> None:
        cells = []
        for m in sorted(rated.values(), key=lambda m: m.image):
            ci = "?" if m.n < 2 else f"{m.ci100:.0f}"
            cells.append((Path(m.image).name, opinion(m), str(m.n), counts_for_finetune(m, votes_needed),
                          f"{m.mos100:.0f} ± {ci}"))
        self.fill(cells)
