"""The batch report as a PDF, with Qt's own writer: the same page ``report_html`` writes, laid out
by QTextDocument and painted on A4 by QPdfWriter (no new dependency), page by page where
``report_pages`` cuts it (never through a table row or a line). The pictures are registered as
the document's resources under their keys instead of data URIs.

Runs off the GUI thread (the window's TaskOwner): QTextDocument, QImage and QPdfWriter paint
without a screen, and nothing here touches a widget."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPagedPaintDevice,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from ..core.outputs.batch_report import BatchReport
from ..core.outputs.report_html import render_html
from .report_pages import page_spans, units

RESOURCE = "report:"  # the scheme of the pictures' names inside the document
MARGIN_MM = 12
FOOTER_PT = 9  # the page number's font; its line is kept free under every page


def a4_layout() -> QPageLayout:
    return QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait,
                       QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Millimeter)


def report_document(report: BatchReport, device: QPagedPaintDevice) -> QTextDocument:
    """The report laid out for ``device`` as one page of its printable width (its own margins
    are the page's: the document adds none, where print_ added 2 cm and squeezed the tables)."""
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(device)  # fonts and px measured as the PDF will draw them
    doc.setDocumentMargin(0)
    for picture in report.pictures():
        doc.addResource(QTextDocument.ImageResource, QUrl(RESOURCE + picture.key), QImage.fromData(picture.data))
    doc.setHtml(render_html(report, src=lambda picture: RESOURCE + picture.key))
    doc.setPageSize(QSizeF(device.width(), -1))  # no height: one long page, cut by report_pages
    return doc


def footer_height(device: QPagedPaintDevice) -> float:
    return 2 * FOOTER_PT / 72 * device.logicalDpiY()


def pages_of(doc: QTextDocument, device: QPagedPaintDevice) -> list[tuple[float, float]]:
    """(top, bottom) of each page in ``doc``'s coordinates."""
    return page_spans(units(doc), device.height() - footer_height(device), doc.size().height())


def _paint(doc: QTextDocument, writer: QPdfWriter) -> None:
    pages = pages_of(doc, writer)
    width, footer = writer.width(), footer_height(writer)
    painter = QPainter(writer)
    try:
        for n, (top, bottom) in enumerate(pages, 1):
            if n > 1:
                writer.newPage()
            painter.save()
            painter.translate(0, -top)
            clip = QRectF(0, top, width, bottom - top)
            painter.setClipRect(clip)
            context = QAbstractTextDocumentLayout.PaintContext()
            context.clip = clip
            doc.documentLayout().draw(painter, context)
            painter.restore()
            font = QFont(doc.defaultFont())
            font.setPointSizeF(FOOTER_PT)
            painter.setFont(QFont(font, writer))
            painter.drawText(QRectF(0, writer.height() - footer, width, footer), Qt.AlignRight | Qt.AlignBottom,
                             f"{n} / {len(pages)}")
    finally:
        painter.end()


def write_report_pdf(report: BatchReport, out: str | Path) -> Path:
    """Write ``report`` to ``out`` whole or not at all (beside it, then renamed over it)."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    try:
        writer = QPdfWriter(str(tmp))
        writer.setCreator("MobileIQA Inspector")
        writer.setPageLayout(a4_layout())
        doc = report_document(report, writer)
        writer.setTitle(doc.metaInformation(QTextDocument.DocumentTitle))
        _paint(doc, writer)
        del writer  # the file is complete only once the writer is gone
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"{out}: the PDF could not be written")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
