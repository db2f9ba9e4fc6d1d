"""The batch report as a PDF, with Qt's own writer: the same page ``report_html`` writes, laid out
by QTextDocument and printed on A4 by QPdfWriter (no new dependency). The pictures are registered
as the document's resources under their keys instead of data URIs.

Runs off the GUI thread (the window's TaskOwner): QTextDocument, QImage and QPdfWriter paint
without a screen, and nothing here touches a widget."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from ..core.outputs.batch_report import BatchReport
from ..core.outputs.report_html import render_html

RESOURCE = "report:"  # the scheme of the pictures' names inside the document


def write_report_pdf(report: BatchReport, out: str | Path) -> Path:
    """Write ``report`` to ``out`` whole or not at all (beside it, then renamed over it)."""
    out = Path(out)
    doc = QTextDocument()
    for picture in report.pictures():
        doc.addResource(QTextDocument.ImageResource, QUrl(RESOURCE + picture.key), QImage.fromData(picture.data))
    doc.setHtml(render_html(report, src=lambda picture: RESOURCE + picture.key))
    tmp = out.with_name(f".{out.name}.part")
    try:
        writer = QPdfWriter(str(tmp))
        writer.setTitle(doc.metaInformation(QTextDocument.DocumentTitle))
        writer.setCreator("MobileIQA Inspector")
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait, QMarginsF(12, 12, 12, 12),
                                         QPageLayout.Millimeter))
        doc.print_(writer)
        del writer  # the file is complete only once the writer is gone
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"{out}: the PDF could not be written")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
