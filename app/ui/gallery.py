"""The thumbnail gallery: a list model of scored photos, a sort/filter proxy, and the view."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView

from ..core.imageio.thumbnail import THUMB_SIDE, thumbnail_side
from ..core.outputs.reviews import ReviewState
from ..core.verdict import Thresholds, in_force, severity_rank

VERDICT_COLOURS = {"pass": QColor(200, 240, 200), "review": QColor(255, 236, 179), "fail": QColor(255, 205, 205)}
ERROR_COLOUR = QColor(220, 220, 220)
ICON_CACHE = 600  # decoded thumbnails kept: a few screens' worth

PathRole = Qt.UserRole + 1
ScoreRole = Qt.UserRole + 2
VerdictRole = Qt.UserRole + 3
StatusRole = Qt.UserRole + 4
TimeRole = Qt.UserRole + 5
NameRole = Qt.UserRole + 6
SeverityRole = Qt.UserRole + 7  # sorts worst first: fail, review, pass, then files not scored


@dataclass
class GalleryItem:
    path: str
    status: str
    score: float | None
    verdict: str | None
    error: str | None = None
    opinions: list[float] | None = None
    added: datetime = field(default_factory=datetime.now)
    thumb: bytes | None = None  # JPEG: ~15 KB instead of a 256 KB pixmap per photo
    reviewed: bool = False  # opened in the viewer this session (N skips it)
    review: ReviewState | None = None  # the inspector's decision in force, from the database

    @property
    def decision(self) -> str | None:
        return self.review.decision if self.review else None

    @property
    def verdict_in_force(self) -> str | None:
        """What people see: an inspector's accept or reject over the model's verdict."""
        return in_force(self.verdict, self.decision)


class GalleryModel(QAbstractListModel):
    reviews_changed = Signal()  # the decisions in force changed: counts follow them

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[GalleryItem] = []
        self._row_of: dict[str, int] = {}
        # Icons are decoded from the stored JPEG when a cell is drawn, and only the most recently
        # drawn ones are kept: memory then grows by ~5 KB per photo, not by a pixmap per photo.
        self._icons: OrderedDict[str, QIcon] = OrderedDict()
        self.cell = CELL_SIZE  # follows the thumbnail size the inspector chose (GalleryView.set_thumb_size)
        self.thumb_px = THUMB_SIZE  # the same, in px: icons are decoded no larger than it

    def set_thumb_px(self, px: int) -> None:
        if px != self.thumb_px:
            self.thumb_px = px
            self._icons.clear()  # decoded for the old size

    def icon(self, item: GalleryItem) -> QIcon | None:
        if item.thumb is None:
            return None
        icon = self._icons.get(item.path)
        if icon is None:
            image = QImage.fromData(item.thumb, "JPG")
            if image.width() > self.thumb_px:  # stored at the largest size: kept decoded at the one shown
                image = image.scaled(self.thumb_px, self.thumb_px, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            icon = QIcon(QPixmap.fromImage(image))
            self._icons[item.path] = icon
            if len(self._icons) > ICON_CACHE:
                self._icons.popitem(last=False)
        else:
            self._icons.move_to_end(item.path)
        return icon

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        it = self.items[index.row()]
        if role == Qt.DisplayRole:
            label = f"{it.score:.1f} {it.verdict_in_force.upper()}" if it.score is not None else it.status.upper()
            badge = REVIEW_BADGES.get(it.review.decision, "") if it.review else ""
            if it.review and it.review.reason_code:  # the code alone fits the cell; the tooltip has the text
                badge += f" {it.review.reason_code}"
            return f"{label}{badge}\n{Path(it.path).name}"
        if role == Qt.DecorationRole:
            return self.icon(it)
        if role == Qt.BackgroundRole:
            return VERDICT_COLOURS.get(it.verdict_in_force, ERROR_COLOUR)
        if role == Qt.ToolTipRole:
            tip = it.error or it.path
            if it.review:
                r = it.review
                tip += (f"\n{r.decision} by {r.reviewer}, {r.at:%Y-%m-%d %H:%M}" + (f": {r.why}" if r.why else ""))
                if it.verdict and it.verdict_in_force != it.verdict:
                    tip += f"\nthe model said {it.verdict.upper()}"
            return tip
        if role == Qt.SizeHintRole:
            # Uniform item sizes are taken from one item: a text-only error cell must not shrink
            # every cell to a strip, so every item states the full cell size.
            return self.cell
        # Only the asked role is computed: sorting asks for one role thousands of times.
        if role == ScoreRole:
            return it.score if it.score is not None else -1.0
        if role == PathRole:
            return it.path
        if role == VerdictRole:
            return it.verdict_in_force or ""
        if role == StatusRole:
            return it.status
        if role == TimeRole:
            return it.added.timestamp()
        if role == NameRole:
            return Path(it.path).name.lower()
        if role == SeverityRole:
            # The verdict in force first (a rejected photo among the fails), then the score within it.
            return severity_rank(it.verdict_in_force) * 1000.0 + (it.score if it.score is not None else 0.0)
        return None

    def upsert(self, record, thumb: bytes | None, thresholds: Thresholds | None = None) -> None:
        """Add or refresh one photo from a ScoreRecord (called in the GUI thread). Only this
        photo's verdict is computed: refreshing every row per photo made 10,000 photos quadratic."""
        verdict = thresholds.verdict(record.score) if thresholds is not None and record.score is not None else None
        item = GalleryItem(record.path, record.status, record.score, verdict, record.error, record.opinions, thumb=thumb)
        self._icons.pop(record.path, None)
        row = self._row_of.get(record.path)
        if row is None:
            self.beginInsertRows(QModelIndex(), len(self.items), len(self.items))
            self._row_of[record.path] = len(self.items)
            self.items.append(item)
            self.endInsertRows()
        else:
            self.items[row] = item
            self.dataChanged.emit(self.index(row), self.index(row))

    def set_thumb(self, path: str, thumb: bytes) -> None:
        """A larger thumbnail for a photo shown (one stored at 128 px, drawn again)."""
        row = self._row_of.get(path)
        if row is None:
            return
        self.items[row].thumb = thumb
        self._icons.pop(path, None)
        self.dataChanged.emit(self.index(row), self.index(row), [Qt.DecorationRole])

    def smaller_thumbs(self, px: int) -> list[str]:
        """The scored photos whose stored thumbnail is narrower than ``px`` (up to THUMB_SIDE):
        shown at ``px`` they would be upscaled."""
        want = min(px, THUMB_SIDE)
        return [it.path for it in self.items
                if it.thumb is not None and it.status == "ok" and thumbnail_side(it.thumb) < want]

    def item(self, path: str) -> GalleryItem | None:
        row = self._row_of.get(path)
        return None if row is None else self.items[row]

    def rename(self, old: str, new: str) -> None:
        row = self._row_of.pop(old, None)
        if row is None:
            return
        self.items[row].path = new
        self._row_of[new] = row
        self.dataChanged.emit(self.index(row), self.index(row))

    def remove(self, path: str) -> None:
        row = self._row_of.pop(path, None)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.items[row]
        self.endRemoveRows()
        self._row_of = {it.path: i for i, it in enumerate(self.items)}

    def apply_thresholds(self, thresholds: Thresholds) -> None:
        """Every verdict follows the thresholds (from the stored score, never by rescoring)."""
        for it in self.items:
            it.verdict = thresholds.verdict(it.score) if it.score is not None else None
        if self.items:
            self.dataChanged.emit(self.index(0), self.index(len(self.items) - 1))

    def set_scores(self, scores: dict[str, float], thresholds: Thresholds) -> None:
        """New scores for photos already shown (after a calibration is applied or removed)."""
        for it in self.items:
            if it.path in scores and scores[it.path] is not None:
                it.score = scores[it.path]
        self.apply_thresholds(thresholds)

    def set_reviews(self, reviews: dict) -> None:
        """The review in force for each photo (path -> ReviewState); photos not in it have none."""
        for it in self.items:
            it.review = reviews.get(it.path)
        if self.items:
            self.dataChanged.emit(self.index(0), self.index(len(self.items) - 1))
        self.reviews_changed.emit()

    def scores(self) -> list[float]:
        return [it.score for it in self.items if it.score is not None]

    def decisions(self) -> list[str | None]:
        """Each scored photo's review decision, in the order of ``scores``."""
        return [it.decision for it in self.items if it.score is not None]

    def clear(self) -> None:
        self.beginResetModel()
        self.items, self._row_of = [], {}
        self._icons.clear()
        self.endResetModel()


THUMB_SIZE, THUMB_MIN, THUMB_MAX, THUMB_STEP = 128, 64, THUMB_SIDE, 32  # px; thumbnails are stored at THUMB_MAX


def cell_size(thumb: int) -> QSize:
    """A cell for a ``thumb`` px thumbnail: room for it, the score line and the name."""
    return QSize(thumb + 20, thumb + 42)


CELL_SIZE = cell_size(THUMB_SIZE)
SORT_ROLES = {"score": ScoreRole, "name": NameRole, "time": TimeRole, "verdict": SeverityRole}
FILTERS = ("all", "pass", "review", "fail", "errors", "reviewed", "overridden", "not reviewed")
# Short marks, so the file name still fits its cell; the tooltip says who decided, when and why.
REVIEW_BADGES = {"accepted": "  ✓", "rejected": "  ✗", "reviewed": "  ·"}


class GalleryFilter(QSortFilterProxyModel):
    """Show one verdict (or only failed files), file names holding a text, scores in a range;
    all at once. Sort by score, name, time or verdict."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.show = "all"
        self.search = ""  # lower case: names are compared without case
        self.score_range: tuple[float, float] | None = None  # None: every score, and unscored files
        self.setSortRole(ScoreRole)
        self.setDynamicSortFilter(True)

    def set_filter(self, show: str) -> None:
        self.beginFilterChange()  # Qt >= 6.10: invalidateFilter() is deprecated
        self.show = show
        self.endFilterChange()

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self.search = text.strip().lower()
        self.endFilterChange()

    def set_score_range(self, low: float | None, high: float | None) -> None:
        """Only photos scored ``low`` to ``high`` (both included); None, None: no range, and the
        files that could not be scored show again."""
        self.beginFilterChange()
        self.score_range = None if low is None and high is None else (
            float("-inf") if low is None else low, float("inf") if high is None else high)
        self.endFilterChange()

    def set_sort(self, key: str, descending: bool = False) -> None:
        self.setSortRole(SORT_ROLES[key])
        self.sort(0, Qt.DescendingOrder if descending else Qt.AscendingOrder)

    def filterAcceptsRow(self, row, parent) -> bool:
        index = self.sourceModel().index(row, 0, parent)
        if self.search and self.search not in index.data(NameRole):
            return False
        if self.score_range is not None:
            score = self.sourceModel().items[row].score  # None for a file that could not be scored
            if score is None or not self.score_range[0] <= score <= self.score_range[1]:
                return False
        return self._shows(index)

    def _shows(self, index) -> bool:
        """The Show box's filter."""
        if self.show == "all":
            return True
        if self.show == "errors":
            return index.data(StatusRole) != "ok"
        if self.show in ("reviewed", "overridden", "not reviewed"):
            review = self.sourceModel().item(index.data(PathRole)).review
            if self.show == "not reviewed":
                return review is None
            return review is not None and (self.show == "reviewed" or review.overridden)
        return index.data(VerdictRole) == self.show


class GalleryView(QListView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)  # cells flow again into more columns as the view widens
        self.setUniformItemSizes(True)
        self.setMovement(QListView.Static)
        self.setWordWrap(True)
        # Shift-click a range, Ctrl-click one more, Ctrl+A all shown: a decision is on all of them.
        self.setSelectionMode(QListView.ExtendedSelection)
        self.set_thumb_size(THUMB_SIZE)

    def setModel(self, model) -> None:
        super().setModel(model)
        self.set_thumb_size(self.thumb_size())  # the model's cells take the view's size

    def set_thumb_size(self, px: int) -> None:
        px = max(THUMB_MIN, min(THUMB_MAX, int(px)))
        cell = cell_size(px)
        model = self.model()
        source = model.sourceModel() if isinstance(model, QSortFilterProxyModel) else model
        if isinstance(source, GalleryModel):
            source.cell = cell  # uniform sizes are read from an item: it must state the new one
            source.set_thumb_px(px)
        self.setIconSize(QSize(px, px))
        self._cell = QSize(cell.width() + 8, cell.height() + 8)
        self._spread()

    def _spread(self) -> None:
        """As many columns as fit, widened to share the row's room: a 2-column gallery left a
        strip of ~90 px empty at its right. The width counts the scroll bar whether it shows or
        not, so a scroll bar appearing cannot change the columns and flip it back."""
        bar = self.verticalScrollBar()
        room = self.viewport().width() - (0 if bar.isVisible() else bar.sizeHint().width()) - 4  # 4: the layout's slack
        columns = max(1, room // self._cell.width())
        self.setGridSize(QSize(max(self._cell.width(), room // columns), self._cell.height()))

    def resizeEvent(self, event) -> None:
        self._spread()
        super().resizeEvent(event)

    def thumb_size(self) -> int:
        return self.iconSize().width()

    def selected_paths(self) -> list[str]:
        """The selected photos, in the order shown."""
        return [i.data(PathRole) for i in sorted(self.selectionModel().selectedIndexes(), key=lambda i: i.row())]
