"""The report's pages: where the one long page that QTextDocument lays out is cut into A4 pages.

QTextDocument.print_ paginates by itself, and it splits a table row across two pages (it moves
a row whole only when no cell's first line fits, so a thumbnail went over while its file name
stayed behind) and draws a line straddling the cut in halves on both pages. Here the document is
laid out as one page of the printable width, and cut only between lines of text and between
table rows: a thing taller than a page alone is cut inside.

Qt GUI classes only (QTextDocument, no widget): it runs off the GUI thread."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QTextDocument, QTextTable


# A table this short is kept whole: pictures with their captions, a colour bar with its labels.
WHOLE_TABLE_ROWS = 3


@dataclass(frozen=True)
class Unit:
    """A span of the document (device pixels from its top) that no page cut may go through."""

    top: float
    bottom: float
    heading: bool = False  # kept on the page of what follows it


def _row_spans(doc: QTextDocument, table: QTextTable) -> list[Unit]:
    """Each row of ``table``, cut from the next halfway between its contents and theirs (in the
    cells' padding, where nothing but a background is drawn). A cell's blocks lie where Qt laid
    them out, its vertical alignment aside (applied when drawing, within the row): the row's
    contents run from its cells' highest first block to their lowest last one."""
    layout = doc.documentLayout()
    tops, bottoms = [], []
    for r in range(table.rows()):
        cells = [table.cellAt(r, c) for c in range(table.columns())]
        tops.append(min(layout.blockBoundingRect(cell.firstCursorPosition().block()).top() for cell in cells))
        bottoms.append(max(layout.blockBoundingRect(cell.lastCursorPosition().block()).bottom() for cell in cells))
    frame = layout.frameBoundingRect(table)
    if len(tops) <= WHOLE_TABLE_ROWS:
        return [Unit(frame.top(), frame.bottom())]
    cuts = [frame.top()] + [(bottom + top) / 2 for bottom, top in zip(bottoms, tops[1:])] + [frame.bottom()]
    # The header row stays with the first row under it.
    return [Unit(top, bottom, heading=r == 0) for r, (top, bottom) in enumerate(zip(cuts, cuts[1:]))]


def units(doc: QTextDocument) -> list[Unit]:
    """Every span a cut must not split, top to bottom: each line of the page's own text (an
    image inline is a line) and each row of each table; a heading joined to what follows it."""
    layout = doc.documentLayout()
    out: list[Unit] = []
    it = doc.rootFrame().begin()
    while not it.atEnd():
        frame, block = it.currentFrame(), it.currentBlock()
        if isinstance(frame, QTextTable):
            out += _row_spans(doc, frame)
        elif frame is None and block.isValid():
            top = layout.blockBoundingRect(block).top()
            lines, heading = block.layout(), block.blockFormat().headingLevel() > 0
            for i in range(lines.lineCount()):
                line = lines.lineAt(i)
                out.append(Unit(top + line.y(), top + line.y() + line.height(), heading))
        it += 1
    return _headings_kept(out)


def _headings_kept(spans: list[Unit]) -> list[Unit]:
    """A heading's lines and the first span after them as one span (a heading alone at the foot
    of a page, its table or pictures overleaf, read as a page of the wrong thing)."""
    out: list[Unit] = []
    for span in spans:
        if out and out[-1].heading:
            span = Unit(out.pop().top, span.bottom, span.heading)
        out.append(span)
    return out


def page_spans(spans: list[Unit], page_height: float, end: float) -> list[tuple[float, float]]:
    """(top, bottom) of each page over a document ``end`` high: a page ends before the first
    span that would cross its bottom; one taller than a page is cut where the page ends."""
    pages, top = [], 0.0
    end = max([end] + [span.bottom for span in spans])  # a table's frame may end below the last block
    while top < end:
        bottom = min(top + page_height, end)
        for span in spans:
            if span.top >= bottom:
                break
            if span.bottom > bottom and span.top > top:  # it starts on this page and would cross
                bottom = span.top
                break
        pages.append((top, bottom))
        top = bottom
    return pages
