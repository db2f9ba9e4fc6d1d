"""Help: the keyboard shortcuts sheet and About.

The sheet is read off the window's menu bar each time it opens, so it lists every shortcut the
menus define (app.ui.menus), whoever added them, and never a list kept by hand beside them; the
labeling panel's keys come from that panel's own constants. About's facts (versions, licences
read from installed metadata) are gathered in the window's TaskOwner: the dialogs read nothing.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QObject, Qt, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QMenuBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..core.about import AboutFacts, about_facts
from ..core.site.finetune_job import source_root
from .labeling_panel import panel_keys

PROGRAM = "MobileIQA Inspector"


def _plain(text: str) -> str:
    """A menu text without its mnemonic marks ("&Open" -> "Open", "&&" stays one "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(keys, what, menu) for every action with a shortcut in the bar's menus, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, where: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{where} → {_plain(action.text())}")
            elif not action.isSeparator() and action.shortcuts():
                keys = " or ".join(k.toString(QKeySequence.NativeText) for k in action.shortcuts())
                rows.append((keys, _plain(action.text()).rstrip("…"), where))

    for top in bar.actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.text()))
    return rows


class ShortcutsSheet(QDialog):
    COLUMNS = ("Keys", "What it does", "Where")

    def __init__(self, rows: list[tuple[str, str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)  # one screen, no scrolling
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Menu keys work in the main window; the labeling panel's keys while it is in front."))
        layout.addWidget(self.table, 1)
        layout.addWidget(close)
        width = sum(self.table.columnWidth(c) for c in range(len(self.COLUMNS))) + 60
        height = self.table.horizontalHeader().height() + self.table.verticalHeader().length() + 110
        # Within the screen: at 1280x800 a 900 px sheet hid its Close button below the screen's edge.
        screen = (parent.screen() if parent is not None else None) or QApplication.primaryScreen()
        room = screen.availableGeometry().height() - 80 if screen is not None else 900
        self.resize(max(560, min(width, 900)), max(300, min(900, height, room)))

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]


def _table(rows, header: tuple[str, ...] = (), bold_first: bool = False) -> str:
    head = "<tr>" + "".join(f"<th align='left'>{escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(
        f"<td>{'<b>' if bold_first and i == 0 else ''}{escape(str(cell))}{'</b>' if bold_first and i == 0 else ''}</td>"
        for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table cellspacing='3'>{head}{body}</table>"


def about_html(facts: AboutFacts) -> str:
    return (
        f"<h2>{PROGRAM} {escape(facts.program_version)}</h2>"
        "<p>Photo quality inspection with a mobile no-reference image quality model, run by ONNX Runtime.</p>"
        "<h3>Model in force</h3>"
        + (_table(facts.model, bold_first=True) if facts.model else "<p>No model is loaded.</p>")
        + "<h3>Data credits (from the model's card)</h3>"
        + f"<p>{escape(facts.credits) if facts.credits else 'The model card names none.'}</p>"
        + "<h3>Running on</h3>" + _table(facts.runtime, bold_first=True)
        + "<h3>Components and their licences</h3>"
        + _table([(c.name, c.version, c.licence) for c in facts.components], header=("Component", "Version", "Licence"))
    )


def about_text(facts: AboutFacts) -> str:
    """The same facts as plain text (Copy, for a support request)."""
    lines = [f"{PROGRAM} {facts.program_version}", "", "Model in force:"]
    lines += [f"  {what}: {value}" for what, value in facts.model] or ["  none"]
    lines += ["", f"Data credits: {facts.credits or 'none named'}", "", "Running on:"]
    lines += [f"  {what} {value}" for what, value in facts.runtime]
    lines += ["", "Components:"] + [f"  {c.name} {c.version}: {c.licence}" for c in facts.components]
    return "\n".join(lines)


class AboutBox(QDialog):
    def __init__(self, facts: AboutFacts, parent=None):
        super().__init__(parent)
        self.facts = facts
        self.setWindowTitle(f"About {PROGRAM}")
        self.text = QLabel(about_html(facts))
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text.setContentsMargins(10, 4, 10, 4)
        scroll = QScrollArea()
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = QPushButton("Copy")
        copy.setToolTip("Copy these facts as text (for a support request)")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(about_text(facts)))
        buttons.addButton(copy, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(640, 720)


class HelpMenu(QObject):
    """What the Help menu's entries do. One sheet and one About box at a time, each brought to
    the front again when asked twice."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.sheet: ShortcutsSheet | None = None
        self.about: AboutBox | None = None

    def show_shortcuts(self) -> None:
        rows = shortcut_rows(self.window.menuBar())
        rows += [(keys, what, "Labeling panel") for keys, what in panel_keys().items()]
        if self.sheet is not None:
            self.sheet.close()
            self.sheet.deleteLater()
        self.sheet = ShortcutsSheet(rows, self.window)
        self.sheet.show()

    def show_about(self) -> None:
        model = self.window.workspace.model  # the model in force (None before the first is in)
        card = dict(model.card) if model is not None else None
        path = str(model.onnx_path) if model is not None else None
        requirements = source_root() / "requirements" / "runtime.txt"
        self.window.tasks.submit("about", lambda: about_facts(card, path, qVersion(), requirements),
                                 on_done=self._show_about)

    def _show_about(self, facts: AboutFacts) -> None:
        if self.about is not None:
            self.about.close()
            self.about.deleteLater()
        self.about = AboutBox(facts, self.window)
        self.about.show()
