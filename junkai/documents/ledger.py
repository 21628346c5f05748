"""Ruled registers (第4〜7号様式): a title, header boxes, a ruled table that runs over as many
A4 pages as it needs (its heading repeated), blank ruled lines to the foot of the last page as
on the paper book, and the print footer on every page (「1 / 3 頁」)."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from reportlab.pdfgen.canvas import Canvas

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


@dataclass(frozen=True)
class Column:
    label: str
    weight: float
    align: str = "left"
    size: float = 8.0


@dataclass
class Section:
    """A run of rows under its own heading (「索引番号順」「50音順」)."""

    heading: str
    rows: list[list[str]]
    columns: list[Column] | None = None  # the ledger's when None


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


@dataclass
class _Row:
    lines: list[list[str]]
    height: float
    span: bool = False  # one cell across the table (「記載はありません」)


@dataclass
class _Page:
    heading: str
    columns: list[Column]
    rows: list[_Row] = field(default_factory=list)
    last: bool = False


def _widths(columns: list[Column], table_width: float) -> list[float]:
    total = sum(c.weight for c in columns)
    return [table_width * c.weight / total for c in columns]


def _layout(canvas: Canvas, ledger: Ledger, table_width: float, room: float) -> list[_Page]:
    pages: list[_Page] = []
    closing_height = (len(ledger.closing) * LINE + 2 * PAD) if ledger.closing else 0.0
    for section in ledger.sections:
        columns = section.columns or ledger.columns
        widths = _widths(columns, table_width)
        page = _Page(section.heading, columns)
        pages.append(page)
        used = 0.0
        if not section.rows:
            page.rows.append(_Row([[ledger.empty_text]], MIN_ROW, span=True))
            used += MIN_ROW
        for cells in section.rows:
            lines = [
                wrap_text(canvas, text, width - 2 * PAD, column.size)[:MAX_LINES]
                for text, width, column in zip(cells, widths, columns, strict=True)
            ]
            height = max(MIN_ROW, max(len(cell) for cell in lines) * LINE + 2 * PAD)
            if used + height > room and page.rows:
                page = _Page(section.heading, columns)
                pages.append(page)
                used = 0.0
            page.rows.append(_Row(lines, height))
            used += height
    if pages:
        pages[-1].last = True
        if ledger.closing:
            used = sum(r.height for r in pages[-1].rows)
            if used + closing_height + 4 * MM > room:
                pages.append(_Page(pages[-1].heading, pages[-1].columns, last=True))
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
    for number, page in enumerate(pages, start=1):
        widths = _widths(page.columns, table_width)
        draw_title(canvas, ledger.title, ledger.form_number, top=top)
        header_width = boxes_width(canvas, ledger.header)
        draw_boxes(canvas, ledger.header, x=page_width - MARGIN - header_width, top=top - 11 * MM)
        y = table_top
        if page.heading:
            canvas.setFont(FONT, 10)
            canvas.drawString(MARGIN, y - 4 * MM, f"【{page.heading}】")
        y -= 6 * MM
        y = _draw_head(canvas, page.columns, widths, y)
        for row in page.rows:
            y = _draw_row(canvas, page.columns, widths, y, row)
        if page.last:
            closing_height = (len(ledger.closing) * LINE + 2 * PAD) if ledger.closing else 0.0
            # Blank ruled lines to the foot of the page, as in the paper book.
            while y - MIN_ROW - closing_height - (4 * MM if closing_height else 0) >= bottom:
                y = _draw_row(canvas, page.columns, widths, y, _Row([[] for _ in widths], MIN_ROW))
            if ledger.closing:
                _draw_closing(canvas, ledger.closing, y - 3 * MM, table_width)
        draw_footer(canvas, footer, page=number, pages=len(pages))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_head(canvas: Canvas, columns: list[Column], widths: list[float], y: float) -> float:
    """Column headings, on two lines where a heading is longer than its column."""
    x = MARGIN
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
    return y - HEAD_ROW


def _draw_row(
    canvas: Canvas, columns: list[Column], widths: list[float], y: float, row: _Row
) -> float:
    x = MARGIN
    canvas.setLineWidth(0.5)
    if row.span:
        canvas.rect(x, y - row.height, sum(widths), row.height, stroke=1, fill=0)
        draw_fitted(
            canvas, row.lines[0][0], x, y - PAD - LINE + 1, sum(widths), size=9, align="center"
        )
        return y - row.height
    for column, width, lines in zip(columns, widths, row.lines, strict=True):
        canvas.rect(x, y - row.height, width, row.height, stroke=1, fill=0)
        for i, line in enumerate(lines):
            draw_fitted(
                canvas,
                line,
                x + PAD,
                y - PAD - (i + 1) * LINE + 1,
                width - 2 * PAD,
                size=column.size,
                align=column.align,
            )
        x += width
    return y - row.height


def _draw_closing(canvas: Canvas, lines: list[str], top: float, width: float) -> None:
    height = len(lines) * LINE + 2 * PAD
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN, top - height, width, height, stroke=1, fill=0)
    for i, line in enumerate(lines):
        draw_fitted(canvas, line, MARGIN + PAD, top - PAD - (i + 1) * LINE + 1, width, size=9)
