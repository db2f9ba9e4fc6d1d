"""Reading back the HTML the program writes, by its structure: the tables by id, their rows as
cell texts, and the images, so a test asks "the row of p1.png says rejected", not "the text
contains rejected somewhere"."""
from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []  # each <img>'s attributes
        self.row_images: dict[str, list[list[int]]] = {}  # table id -> per row, indexes into images
        self._table: list[str | None] = []  # the ids of the tables we are in (None: no id)
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table.append(attrs.get("id"))
            if attrs.get("id"):
                self.tables[attrs["id"]] = []
                self.row_images[attrs["id"]] = []
        elif tag == "tr" and self._table and self._table[-1]:
            self._row = []
            self.row_images[self._table[-1]].append([])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs)
            if self._row is not None and self._table and self._table[-1]:
                self.row_images[self._table[-1]][-1].append(len(self.images) - 1)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table[-1]].append(self._row)
            self._row = None
        elif tag == "table" and self._table:
            self._table.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> list[dict[str, str]]:
        """A table's body rows as {header: cell text}, the first row being the header."""
        header, *body = self.tables[table]
        return [dict(zip(header, row)) for row in body]

    def pairs(self, table: str) -> dict[str, str]:
        """A two-column table (label, value) as a dict."""
        return {row[0]: row[1] for row in self.tables[table] if len(row) >= 2}
