"""Ruled registers (第4〜7号様式): a title, header boxes, a ruled table that runs over as many
A4 pages as it needs (its heading repeated), blank ruled lines to the foot of the last page as
on the paper book, and the print footer on every page (「1 / 3 頁」).

A section may be printed dense (`Ledger.line`, `min_row`) and in blocks side by side
(`Section.blocks`), as the paper 索引簿 is. Cost: a 交番's 索引簿 is thousands of rows, so each
cell is measured once (when it is wrapped) and drawn from one text object per page; the rules are
one line per row and one per column, not a rectangle per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from junkai.documents.pdf import (
    FONT,
    MM,
    boxes_width,
    draw_boxes,
    draw_fitted,
    draw_footer,
    draw_title,
    new_canvas,
    wrap_text,
)

MARGIN = 12 * MM
LINE = 3.6 * MM  # one text line in a cell
PAD = 1.6 * MM
MIN_ROW = 7 * MM
HEAD_ROW = 9 * MM
MAX_LINES = 6
BLOCK_GAP = 4 * MM


@dataclass(frozen=True)
class Column:
    label: str
    weight: float
    align: str = "left"
    size: float = 8.0
    wrap: bool = True  # False: one line, shrunk to fit (a phone number is never broken)


@dataclass
class Section:
    """A run of rows under its own heading (「索引番号順」「50音順」)."""

    heading: str
    rows: list[list[str]]
    columns: list[Column] | None = None  # the ledger's when None
    blocks: int = 1  # tables side by side on a page (a list of short rows, as the 索引簿)


@dataclass
class Ledger:
    title: str
    form_number: str
    header: list[tuple[str, str, float]]
    columns: list[Column]
    sections: list[Section]
    landscape: bool = True
    closing: list[str] = field(default_factory=list)
    empty_text: str = "記載はありません"
    line: float = LINE  # a text line in a cell
    min_row: float = MIN_ROW


@dataclass
class _Row:
    lines: list[list[str]]
    height: float
    span: bool = False  # one cell across the table (「記載はありません」)


@dataclass
class _Page:
    heading: str
    columns: list[Column]
    blocks: int = 1
    rows: list[list[_Row]] = field(default_factory=lambda: [[]])
    last: bool = False


def _widths(columns: list[Column], table_width: float) -> list[float]:
    total = sum(c.weight for c in columns)
    return [table_width * c.weight / total for c in columns]


def _block_width(table_width: float, blocks: int) -> float:
    return (table_width - (blocks - 1) * BLOCK_GAP) / blocks


def _pad(ledger: Ledger) -> float:
    return min(PAD, (ledger.min_row - ledger.line) / 2)


def _cell_lines(canvas: Canvas, text: str, width: float, column: Column) -> list[str]:
    if not text:
        return []
    if not column.wrap:
        return [text]
    return wrap_text(canvas, text, width - 2 * PAD, column.size)[:MAX_LINES]


def _layout(canvas: Canvas, ledger: Ledger, table_width: float, room: float) -> list[_Page]:
    pages: list[_Page] = []
    wrapped: dict[tuple[str, float, float, bool], list[str]] = {}
    pad = _pad(ledger)
    closing_height = (len(ledger.closing) * LINE + 2 * PAD) if ledger.closing else 0.0
    for section in ledger.sections:
        columns = section.columns or ledger.columns
        blocks = max(1, section.blocks)
        widths = _widths(columns, _block_width(table_width, blocks))
        page = _Page(section.heading, columns, blocks)
        pages.append(page)
        used = 0.0
        if not section.rows:
            page.rows[0].append(_Row([[ledger.empty_text]], ledger.min_row, span=True))
            used += ledger.min_row
        for cells in section.rows:
            lines = []
            for text, width, column in zip(cells, widths, columns, strict=True):
                # A book repeats its 受持区, 続柄 and 簿冊番号 thousands of times: wrap each once.
                key = (text, width, column.size, column.wrap)
                cell = wrapped.get(key)
                if cell is None:
                    cell = wrapped[key] = _cell_lines(canvas, text, width, column)
                lines.append(cell)
            tallest = max((len(cell) for cell in lines), default=0)
            height = max(ledger.min_row, tallest * ledger.line + 2 * pad)
            if used + height > room and (page.rows[-1] or len(page.rows) > 1):
                if len(page.rows) < blocks:
                    page.rows.append([])
                else:
                    page = _Page(section.heading, columns, blocks)
                    pages.append(page)
                used = 0.0
            page.rows[-1].append(_Row(lines, height))
            used += height
    if pages:
        pages[-1].last = True
        if ledger.closing:
            used = sum(r.height for r in pages[-1].rows[-1])
            if used + closing_height + 4 * MM > room:
                pages.append(
                    _Page(pages[-1].heading, pages[-1].columns, pages[-1].blocks, last=True)
                )
                pages[-2].last = False
    return pages


def render_ledger(ledger: Ledger, footer: str) -> bytes:
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=ledger.title, landscape=ledger.landscape)
    page_width, page_height = canvas._pagesize
    table_width = page_width - 2 * MARGIN
    top = page_height - MARGIN
    table_top = top - 24 * MM
    bottom = 14 * MM
    room = table_top - HEAD_ROW - 6 * MM - bottom
    pages = _layout(canvas, ledger, table_width, room)
    encoder = _Encoder(canvas)
    for number, page in enumerate(pages, start=1):
        block_width = _block_width(table_width, page.blocks)
        widths = _widths(page.columns, block_width)
        draw_title(canvas, ledger.title, ledger.form_number, top=top)
        header_width = boxes_width(canvas, ledger.header)
        draw_boxes(canvas, ledger.header, x=page_width - MARGIN - header_width, top=top - 11 * MM)
        y = table_top
        if page.heading:
            canvas.setFont(FONT, 10)
            canvas.drawString(MARGIN, y - 4 * MM, f"【{page.heading}】")
        y -= 6 * MM
        body_top = y - HEAD_ROW
        closing_height = (len(ledger.closing) * LINE + 2 * PAD) if ledger.closing else 0.0
        ends = []
        for block in range(page.blocks):
            x0 = MARGIN + block * (block_width + BLOCK_GAP)
            _draw_head(canvas, page.columns, widths, x0, y)
            rows = page.rows[block] if block < len(page.rows) else []
            end = _draw_rows(canvas, ledger, page.columns, widths, x0, body_top, rows, encoder)
            if (page.last and block == len(page.rows) - 1) or block >= len(page.rows):
                # Blank ruled lines to the foot of the page, as in the paper book.
                reserve = closing_height + (4 * MM if closing_height else 0)
                count = int((end - bottom - reserve) // ledger.min_row)
                blanks = [_Row([[] for _ in widths], ledger.min_row)] * max(0, count)
                end = _draw_rows(canvas, ledger, page.columns, widths, x0, end, blanks, encoder)
            ends.append(end)
        if page.last and ledger.closing:
            _draw_closing(canvas, ledger.closing, min(ends) - 3 * MM, table_width)
        draw_footer(canvas, footer, page=number, pages=len(pages))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_head(
    canvas: Canvas, columns: list[Column], widths: list[float], x: float, y: float
) -> None:
    """Column headings, on two lines where a heading is longer than its column."""
    canvas.setLineWidth(0.8)
    for column, width in zip(columns, widths, strict=True):
        canvas.setFillGray(0.9)
        canvas.rect(x, y - HEAD_ROW, width, HEAD_ROW, stroke=1, fill=1)
        canvas.setFillGray(0)
        lines = wrap_text(canvas, column.label, width - 2 * PAD, 8)[:2]
        first = y - HEAD_ROW / 2 - 3 + (len(lines) - 1) * 4.5
        for i, line in enumerate(lines):
            draw_fitted(
                canvas, line, x + PAD, first - i * 9, width - 2 * PAD, size=8, align="center"
            )
        x += width


def _draw_rows(
    canvas: Canvas,
    ledger: Ledger,
    columns: list[Column],
    widths: list[float],
    x0: float,
    y: float,
    rows: list[_Row],
    encoder: _Encoder,
) -> float:
    """The rows from `y` down: their text from one text object, then the rules (a line under
    each row, a line between the columns). Returns the y under the last row."""
    if not rows:
        return y
    total = sum(widths)
    top = y
    text = canvas.beginText()
    pad = _pad(ledger)
    size_now = 0.0
    for row in rows:
        if row.span:
            canvas.setFont(FONT, 9)
            canvas.drawCentredString(x0 + total / 2, y - pad - ledger.line + 1, row.lines[0][0])
            y -= row.height
            continue
        x = x0
        for column, width, lines in zip(columns, widths, row.lines, strict=True):
            for i, line in enumerate(lines):
                baseline = y - pad - (i + 1) * ledger.line + 1
                if not column.wrap:
                    # One line shrunk to fit: measured here (few columns are).
                    canvas.drawText(text)
                    draw_fitted(
                        canvas, line, x + PAD, baseline, width - 2 * PAD, size=column.size,
                        align=column.align,
                    )  # fmt: skip
                    text = canvas.beginText()
                    size_now = 0.0
                    continue
                if column.size != size_now:
                    text.setFont(FONT, column.size)
                    size_now = column.size
                _place(encoder, text, line, x, baseline, width, column)
            x += width
        y -= row.height
    canvas.drawText(text)
    # The rules.
    canvas.setLineWidth(0.5)
    path = canvas.beginPath()
    path.moveTo(x0, top)
    path.lineTo(x0 + total, top)
    edge = top
    for row in rows:
        edge -= row.height
        path.moveTo(x0, edge)
        path.lineTo(x0 + total, edge)
    x = x0
    spans = [] if not any(r.span for r in rows) else [r for r in rows if r.span]
    for width in [0.0, *widths]:
        x += width
        if spans and 0 < x - x0 < total - 0.01:
            continue  # a spanning row (「記載はありません」) has no column rules
        path.moveTo(x, top)
        path.lineTo(x, edge)
    canvas.drawPath(path, stroke=1, fill=0)
    return y


class _Encoder:
    """Text for the page stream, each distinct string encoded once per print.

    What `PDFTextObject.textOut` does for a TrueType font (its subset codes, escaped, and a
    font switch where the subset changes), with the encoding kept: a 索引簿 repeats its 受持区,
    続柄, 簿冊番号 and 組・班 thousands of times, and encoding was a third of its time. It writes
    into the text object's operator list (ReportLab's `_code`, `_curSubset`), so it is pinned
    with ReportLab (requirements.lock) and the forms' tests read every print back."""

    def __init__(self, canvas: Canvas) -> None:
        self.font = getFont(FONT)
        self.doc = canvas._doc
        self.escape = canvas._escape
        self.pieces: dict[str, list[tuple[int, str]]] = {}

    def place(self, text: PDFTextObject, line: str, x: float, y: float, size: float) -> None:
        pieces = self.pieces.get(line)
        if pieces is None:
            pieces = [
                (subset, self.escape(t)) for subset, t in self.font.splitString(line, self.doc)
            ]
            self.pieces[line] = pieces
        code = text._code
        code.append(f"1 0 0 1 {fp_str(x, y)} Tm")
        for subset, escaped in pieces:
            if subset != text._curSubset:
                name = self.font.getSubsetInternalName(subset, self.doc)
                code.append(f"{name} {fp_str(size)} Tf {fp_str(text._leading)} TL")
                text._curSubset = subset
            code.append(f"({escaped}) Tj")


def _place(
    encoder: _Encoder,
    text: PDFTextObject,
    line: str,
    x: float,
    baseline: float,
    width: float,
    column: Column,
) -> None:
    if column.align == "left":
        left = x + PAD
    else:
        measured = stringWidth(line, FONT, column.size)
        right = column.align == "right"
        left = x + width - PAD - measured if right else x + (width - measured) / 2
    encoder.place(text, line, left, baseline, column.size)


def _draw_closing(canvas: Canvas, lines: list[str], top: float, width: float) -> None:
    height = len(lines) * LINE + 2 * PAD
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN, top - height, width, height, stroke=1, fill=0)
    for i, line in enumerate(lines):
        draw_fitted(canvas, line, MARGIN + PAD, top - PAD - (i + 1) * LINE + 1, width, size=9)
