"""The PDF report's page layout, checked on the laid-out document the PDF is painted from (Qt's
own text layout) and on the written file: no table row and no line cut by a page, header words
whole, every label of the colour scales drawn once and inside the page."""
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QPdfWriter, QTextTable

from app.core.outputs.batch_report import BatchContext, build_report
from app.core.outputs.reviews import add_review, current_reviews, with_reviews
from app.core.verdict import Thresholds
from app.ui.report_pdf import a4_layout, pages_of, report_document, write_report_pdf

pytestmark = pytest.mark.gui
# Photos of several sizes and shapes (their thumbnails make rows of several heights), a long name.
SIZES = [(600, 800), (1200, 900), (300, 2000), (1500, 1000), (480, 640), (700, 700)]


@pytest.fixture(scope="module")
def report(exported_student, tmp_path_factory):
    from app.core.model.loader import load_model
    from app.core.scoring.engine import Engine
    from app.core.scoring.photo import score_batch
    from app.core.store import open_database
    from app.core.store.repository import register_model, score_rows

    folder = tmp_path_factory.mktemp("lot")
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate(SIZES * 4):
        img = np.linspace(0, 255, w)[None, :, None] * np.ones((h, 1, 3)) + rng.normal(0, 6 * (i % 6), (h, w, 3))
        p = folder / (f"photo_{i:02d}_" + ("a_long_descriptive_name_" if i % 5 == 0 else "") + f"{w}x{h}.png")
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(p)
        paths.append(p)
    (folder / "broken.jpg").write_bytes(b"not a photo")
    model = load_model(exported_student[1])
    db = open_database(folder / "r.db")
    mv = register_model(db, model.card, str(model.onnx_path))
    engine = Engine(model)
    score_batch(paths + [folder / "broken.jpg"], engine, db, mv)
    add_review(db, mv, str(paths[0]), "rejected", "scratch on the lens, visible on the left near the edge", "B-1042")
    add_review(db, mv, str(paths[3]), "accepted", "customer accepts", "Ana")
    thumbs = {}
    for p in paths:
        im = cv2.imread(str(p))
        f = 160 / max(im.shape[:2])
        thumbs[str(p)] = cv2.imencode(".jpg", cv2.resize(im, None, fx=f, fy=f))[1].tobytes()
    rows = with_reviews(score_rows(db, mv), current_reviews(db))
    yield build_report(rows, engine, Thresholds(60, 40), BatchContext(source=str(folder), lot="LOT-7"), thumbs, worst=4)
    db.close()


@pytest.fixture
def laid_out(qapp, report, tmp_path):
    writer = QPdfWriter(str(tmp_path / "layout.pdf"))
    writer.setPageLayout(a4_layout())
    doc = report_document(report, writer)
    yield doc, pages_of(doc, writer), writer
    del writer


def tables(doc) -> list[QTextTable]:
    found, it = [], doc.rootFrame().begin()
    while not it.atEnd():
        if isinstance(it.currentFrame(), QTextTable):
            found.append(it.currentFrame())
        it += 1
    return found


def table_with(doc, text: str) -> QTextTable:
    return next(t for t in tables(doc) if text in t.cellAt(0, 0).firstCursorPosition().block().text())


def cell_lines(doc, cell):
    """(text, top, bottom, right) of each laid-out line in ``cell``."""
    layout, block = doc.documentLayout(), cell.firstCursorPosition().block()
    while block.isValid() and block.position() <= cell.lastPosition():
        rect, lines = layout.blockBoundingRect(block), block.layout()
        for i in range(lines.lineCount()):
            line = lines.lineAt(i)
            yield (block.text()[line.textStart():line.textStart() + line.textLength()], rect.top() + line.y(),
                   rect.top() + line.y() + line.height(), rect.left() + line.x() + line.naturalTextWidth())
        block = block.next()


def pages_touched(pages, top: float, bottom: float) -> list[int]:
    """The pages whose clip a span from ``top`` to ``bottom`` is (partly) drawn in."""
    return [n for n, (a, b) in enumerate(pages) if top < b and bottom > a]


def test_no_row_of_the_photo_table_is_split_between_pages(laid_out):
    doc, pages, _ = laid_out
    photos = table_with(doc, "thumbnail")
    assert photos.rows() == 26 and len(pages_touched(pages, *doc.documentLayout().frameBoundingRect(photos)
                                                     .getCoords()[1::2])) >= 2  # the table runs over pages
    layout = doc.documentLayout()
    for r in range(photos.rows()):
        cells = [photos.cellAt(r, c) for c in range(photos.columns())]
        top = min(layout.blockBoundingRect(c.firstCursorPosition().block()).top() for c in cells)
        bottom = max(layout.blockBoundingRect(c.lastCursorPosition().block()).bottom() for c in cells)
        assert len(pages_touched(pages, top, bottom)) == 1, f"row {r} ({cells[1].firstCursorPosition().block().text()}) is split"


def test_no_line_of_text_is_cut_by_a_page(laid_out):
    doc, pages, _ = laid_out
    layout, block = doc.documentLayout(), doc.begin()
    while block.isValid():
        rect, lines = layout.blockBoundingRect(block), block.layout()
        for i in range(lines.lineCount()):
            line = lines.lineAt(i)
            assert len(pages_touched(pages, rect.top() + line.y(), rect.top() + line.y() + line.height())) == 1, block.text()
        block = block.next()


def test_every_header_word_fits_its_cell_whole(laid_out):
    doc, _, _ = laid_out
    for table in (table_with(doc, "thumbnail"), table_with(doc, "photos"), table_with(doc, "file")):
        for c in range(table.columns()):
            lines = [text for text, *_ in cell_lines(doc, table.cellAt(0, c))]
            words = " ".join(lines).split()
            assert [w for line in lines for w in line.split()] == words and all(
                line == "" or line.endswith(" ") or line is lines[-1] for line in lines), f"header broken: {lines}"


def test_the_colour_scales_labels_are_each_drawn_once_and_inside_the_page(laid_out):
    doc, pages, writer = laid_out
    for caption in ("where the model looked:", "where it found damage:"):
        scale = table_with(doc, caption)
        for c in range(scale.columns()):
            for text, top, bottom, right in cell_lines(doc, scale.cellAt(0, c)):
                assert len(pages_touched(pages, top, bottom)) == 1, text
                assert right <= writer.width(), f"{text!r} runs off the page"
    for table in tables(doc):  # whatever a table holds fits the page's width: three overlays too
        for r in range(table.rows()):
            for c in range(table.columns()):
                block = table.cellAt(r, c).lastCursorPosition().block()
                assert doc.documentLayout().blockBoundingRect(block).right() <= writer.width(), block.text()


def test_the_written_pdf_names_each_scale_end_once(report, qapp, tmp_path):
    out = write_report_pdf(report, tmp_path / "report.pdf")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for label in ("4× the average", "1 (badly damaged)", "0 (clean)"):
        assert len(re.findall(re.escape(label), text)) == 1, label
    pages = text.split("\f")
    assert pages[-1].strip() == "" or re.search(r"\b\d+ / \d+\s*$", pages[-2] if not pages[-1].strip() else pages[-1])
