"""The one way to start a printed form: A4, IPAex Gothic embedded, and the print footer.

ReportLab embeds TrueType-outline fonts only; IPAex Gothic (junkai/documents/fonts, IPA Font
License) is TrueType and ships with the package, so a pip-only install prints Japanese.
Every page carries who printed it and when (要領: prints are accounted for like reads).
"""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from pathlib import Path

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from junkai.lib.wareki import format_wareki
from junkai.org.models import Officer

FONT = "IPAexGothic"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "ipaexg.ttf"
PAGE_WIDTH, PAGE_HEIGHT = A4


def register_font() -> str:
    """Register IPAex Gothic once per process; returns its ReportLab name."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


def new_canvas(buffer: BytesIO, *, title: str, landscape: bool = False) -> Canvas:
    register_font()
    size = (PAGE_HEIGHT, PAGE_WIDTH) if landscape else (PAGE_WIDTH, PAGE_HEIGHT)
    canvas = Canvas(buffer, pagesize=size, pageCompression=1, initialFontName=FONT)
    canvas.setTitle(title)
    canvas.setAuthor("Junkai")
    canvas.setFont(FONT, 10)
    return canvas


def footer_text(officer: Officer, printed_at: dt.datetime | None = None) -> str:
    """「印刷者 巡査 山田 太郎（yamada） 令和8年11月27日 14:05」 — on every page of every print."""
    when = timezone.localtime(printed_at or timezone.now())
    return (
        f"印刷者 {officer.get_rank_display()} {officer.full_name}（{officer.username}）"
        f"　{format_wareki(when)} {when:%H:%M}"
    )


def draw_footer(
    canvas: Canvas,
    text: str,
    *,
    page: int | None = None,
    pages: int | None = None,
    confidential: bool = True,
) -> None:
    width, _ = canvas._pagesize
    canvas.saveState()
    canvas.setFont(FONT, 7.5)
    if text:
        canvas.drawString(28, 18, text)
    numbering = "取扱注意（巡回連絡個人情報）" if confidential else ""
    if page is not None:
        numbering += f"　{page} / {pages} 頁" if pages else f"　{page} 頁"
    canvas.drawRightString(width - 28, 18, numbering)
    canvas.restoreState()


# --- drawing helpers shared by the forms ------------------------------------------------

MM = 72 / 25.4
MIN_SIZE = 5.0


def fit_size(canvas: Canvas, text: str, width: float, size: float) -> float:
    """The largest font size ≤ `size` (down to MIN_SIZE) at which `text` fits `width`."""
    natural = float(canvas.stringWidth(text, FONT, size))
    if natural <= width or natural == 0:
        return size
    return max(MIN_SIZE, size * width / natural)


def clip_text(canvas: Canvas, text: str, width: float, size: float) -> str:
    """`text` cut with 「…」 so that it fits `width` at `size`."""
    if canvas.stringWidth(text, FONT, size) <= width:
        return text
    # The longest prefix that fits with the 「…」, by halving: dropping one character at a time
    # measures the text once per character (34 s for a 20,000-character field).
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if canvas.stringWidth(text[:middle] + "…", FONT, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


def draw_fitted(
    canvas: Canvas,
    text: str,
    x: float,
    y: float,
    width: float,
    *,
    size: float = 9,
    align: str = "left",
) -> None:
    """One line of text in a box `width` wide: shrunk to fit, then cut; x is the box's left."""
    if not text:
        return
    fitted = fit_size(canvas, text, width, size)
    text = clip_text(canvas, text, width, fitted)
    canvas.setFont(FONT, fitted)
    if align == "center":
        canvas.drawCentredString(x + width / 2, y, text)
    elif align == "right":
        canvas.drawRightString(x + width, y, text)
    else:
        canvas.drawString(x, y, text)


#: Runs never broken across lines: a phone number (097-123-4567), a code, a Latin word.
_UNBROKEN = re.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ()+＋#＃.\-‐－]+|.", re.DOTALL)


def wrap_text(canvas: Canvas, text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width`. Japanese has no spaces, so a line breaks between
    any two characters — but never inside a run of digits and Latin letters (a phone number,
    a plate, a code), unless the run alone is wider than the line."""
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        if canvas.stringWidth(paragraph, FONT, size) <= width:
            lines.append(paragraph)  # the usual case: no need to measure piece by piece
            continue
        line = ""
        for piece in _UNBROKEN.findall(paragraph):
            if canvas.stringWidth(line + piece, FONT, size) <= width or not line:
                line += piece
            else:
                lines.append(line)
                line = piece
            # A run wider than a whole line is broken after all, character by character.
            while len(line) > 1 and canvas.stringWidth(line, FONT, size) > width:
                cut = len(line) - 1
                while cut > 1 and canvas.stringWidth(line[:cut], FONT, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def draw_title(canvas: Canvas, title: str, form_number: str, *, top: float) -> None:
    """The form's number at the top left (「第2号様式」) and its title centred, as on paper."""
    width, _ = canvas._pagesize
    canvas.setFont(FONT, 9)
    canvas.drawString(15 * MM, top, form_number)
    canvas.setFont(FONT, 16)
    # Short titles are spaced out as on paper (character spacing, so the text stays one word).
    spacing = 6.0 if len(title) <= 8 else 0.0
    canvas.drawCentredString(width / 2, top - 8 * MM, title, charSpace=spacing)


def draw_boxes(
    canvas: Canvas,
    cells: list[tuple[str, str, float]],
    *,
    x: float,
    top: float,
    height: float = 8 * MM,
    label_size: float = 8,
    value_size: float = 10,
    label_width: float | None = None,
) -> float:
    """A row of header boxes (label | value, value width in points) like the paper form's
    heading; returns the x of its right edge."""
    fixed = label_width
    for label, value, value_width in cells:
        label_width = fixed or max(canvas.stringWidth(label, FONT, label_size) + 4 * MM, 12 * MM)
        canvas.setFillGray(0.92)
        canvas.rect(x, top - height, label_width, height, stroke=1, fill=1)
        canvas.setFillGray(0)
        canvas.rect(x + label_width, top - height, value_width, height, stroke=1, fill=0)
        draw_fitted(
            canvas,
            label,
            x + 1.5 * MM,
            top - height / 2 - label_size / 3,
            label_width - 3 * MM,
            size=label_size,
            align="center",
        )
        draw_fitted(
            canvas,
            value,
            x + label_width + 1.5 * MM,
            top - height / 2 - value_size / 3,
            value_width - 3 * MM,
            size=value_size,
        )
        x += label_width + value_width
    return x


def boxes_width(
    canvas: Canvas, cells: list[tuple[str, str, float]], label_size: float = 8
) -> float:
    return float(
        sum(
            max(canvas.stringWidth(label, FONT, label_size) + 4 * MM, 12 * MM) + value_width
            for label, _, value_width in cells
        )
    )
