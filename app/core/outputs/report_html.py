"""The batch report as one HTML page. Self-contained by default (every picture a data URI, so the
file can be mailed or archived as it is); ``src`` names pictures otherwise (the PDF writer
registers them as resources under their keys).

Only what Qt's rich text also lays out (tables, headings, class colours, img width): the PDF is
this same page printed by QTextDocument, so the two never say different things."""
from __future__ import annotations

import html
from collections.abc import Callable

from .batch_report import BatchReport
from .report_images import Picture
from .report_rows import NOT_SCORED, PhotoLine

THUMB_WIDTH, OVERLAY_WIDTH, SCALE_WIDTH = 64, 220, 256  # px on the page; three overlays fit an A4 width
STYLE = """
body { font-family: sans-serif; font-size: 10pt; }
table { border-collapse: collapse; }
td, th { padding: 3px 6px; text-align: left; vertical-align: middle; }
#photos th, #counts th { background-color: #e8e8e8; }
#photos { font-size: 8pt; }
#batch th { font-weight: normal; color: #555555; }
.pass { color: #2a7a2a; } .review { color: #9a6a00; } .fail { color: #b02020; font-weight: bold; }
.decided { font-style: italic; }
.caption { font-size: 9pt; color: #444444; }
"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _minutes(iso: str) -> str:
    """ISO time -> "YYYY-MM-DD HH:MM" (a report reads to the minute)."""
    return iso.replace("T", " ")[:16] if iso else ""


def _img(picture: Picture, src: Callable[[Picture], str], width: int) -> str:
    return f"<img src='{esc(src(picture))}' alt='{esc(picture.text)}' width='{width}'>"


def _batch_table(report: BatchReport) -> str:
    c, m, t = report.context, report.model, report.thresholds
    thresholds = f"pass ≥ {t.pass_at:g}, fail < {t.fail_below:g}" + (f" (profile {c.profile})" if c.profile else "")
    span = f"{_minutes(report.span[0])} – {_minutes(report.span[1])}" if report.span else "—"
    pairs = [("folder", c.source or "—"), ("lot", c.lot or "—"), ("operator", c.operator or "—"),
             ("station", c.station or "—"), ("model", f"{m['name']} {m['version']}".strip()),
             ("model identity (SHA-256)", m["sha256"] or "—"), ("runs on", m["provider"] or "—"),
             ("thresholds", thresholds), ("scored (UTC)", span),
             ("report written (UTC)", _minutes(report.written_at.isoformat()))]
    return "<table id='batch'>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs) + "</table>"


def _counts_table(report: BatchReport) -> str:
    heads = ["photos", "fail", "review", "pass", NOT_SCORED, "accepted", "rejected"]
    values = [len(report.lines)] + [report.counts[h] for h in heads[1:]]
    classes = ["", "fail", "review", "pass", "", "", ""]
    return ("<table id='counts'><tr>" + "".join(f"<th class='{k}'>{esc(h)}</th>" for h, k in zip(heads, classes))
            + "</tr><tr>" + "".join(f"<td>{v}</td>" for v in values) + "</tr></table>"
            "<p class='caption'>By disposition: the model's verdict unless a person accepted (counted as pass) "
            "or rejected (counted as fail) the photo.</p>")


def _disposition(line: PhotoLine) -> str:
    if not line.disposition:
        return ""
    text = f"{line.decision}: {line.disposition}" if line.overridden else line.disposition
    return f"<span class='{line.disposition}{' decided' if line.overridden else ''}'>{esc(text)}</span>"


def _photo_row(line: PhotoLine, report: BatchReport, src) -> str:
    thumb = report.thumbnails.get(line.path)
    cells = [_img(thumb, src, THUMB_WIDTH) if thumb else "",
             esc(line.name),
             f"{line.score:.1f}" if line.score is not None else esc(NOT_SCORED),
             esc(line.verdict or ""), _disposition(line), esc(line.reason or line.error),
             esc(line.decided_by), esc(_minutes(line.decided_at))]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _photos_table(report: BatchReport, src) -> str:
    # Widths in percent of the page: without them Qt's layout breaks "disposition" and file names
    # mid-word on an A4 page.
    heads = (("thumbnail", 11), ("file", 18), ("score", 7), ("model verdict", 10), ("disposition", 14),
             ("reason", 16), ("decided by", 10), ("when (UTC)", 14))
    return ("<table id='photos' width='100%'><tr>" + "".join(f"<th width='{w}%'>{h}</th>" for h, w in heads) + "</tr>"
            + "".join(_photo_row(line, report, src) for line in report.lines) + "</table>")


def _not_scored(report: BatchReport) -> str:
    if not report.not_scored:
        return "<h2>Not scored</h2><p>Every file was scored.</p>"
    return ("<h2>Not scored</h2><table id='not-scored'><tr><th>file</th><th>status</th><th>message</th></tr>"
            + "".join(f"<tr><td>{esc(line.name)}</td><td>{esc(line.status)}</td><td>{esc(line.error)}</td></tr>"
                      for line in report.not_scored) + "</table>")


def _worst(report: BatchReport, src) -> str:
    if not report.worst:
        return ""
    parts = [f"<h2>The {len(report.worst)} worst photos</h2>"
             "<p class='caption'>Each photo, where the model looked and where it found damage. The colours are on "
             "fixed scales, the same for every photo:</p>"]
    for (bar, low, high), of in zip(report.scales, ("where the model looked", "where it found damage")):
        parts.append(f"<table id='{esc(bar.key)}'><tr><td class='caption' width='150'>{esc(of)}:</td>"
                     f"<td class='caption' width='120' align='right'>{esc(low)}</td>"
                     f"<td width='{SCALE_WIDTH + 8}'>{_img(bar, src, SCALE_WIDTH)}</td>"
                     f"<td class='caption' width='140'>{esc(high)}</td></tr></table>")
    for n, shown in enumerate(report.worst, 1):
        line = shown.line
        parts.append(f"<h3>{n}. {esc(line.name)} — {line.score:.1f}, {_disposition(line)}"
                     + (f" ({esc(line.reason)})" if line.reason else "") + "</h3>")
        if not shown.pictures:
            parts.append(f"<p>{esc(shown.problem)}</p>")
            continue
        parts.append(f"<table id='worst-{n}'><tr>"
                     + "".join(f"<td>{_img(p, src, OVERLAY_WIDTH)}</td>" for p in shown.pictures) + "</tr><tr>"
                     + "".join(f"<td class='caption'>{esc(p.text)}</td>" for p in shown.pictures) + "</tr></table>")
    return "".join(parts)


def render_html(report: BatchReport, src: Callable[[Picture], str] = Picture.data_uri) -> str:
    c = report.context
    title = "Batch report" + (f" — lot {c.lot}" if c.lot else "") + (f" — {c.source}" if c.source else "")
    return "\n".join([
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>", _batch_table(report),
        "<h2>Counts</h2>", _counts_table(report),
        f"<h2>Scores</h2><p>{_img(report.histogram, src, 480)}</p>"
        "<p class='caption'>How many photos scored 0 to 100, in steps of 5, coloured by the model's verdict; "
        "the lines are the thresholds.</p>",
        "<h2>Every photo, worst first</h2>", _photos_table(report, src),
        _not_scored(report), _worst(report, src), "</body></html>",
    ])
