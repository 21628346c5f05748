"""The one way to start a printed form: A4, IPAex Gothic embedded, and the print footer.

ReportLab embeds TrueType-outline fonts only; IPAex Gothic (junkai/documents/fonts, IPA Font
License) is TrueType and ships with the package, so a pip-only install prints Japanese.
Every page carries who printed it and when (要領: prints are accounted for like reads).
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

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
    """「印刷者 巡査 山田 太郎（yamada） 2026年11月27日 14:05」 — on every page of every print."""
    when = timezone.localtime(printed_at or timezone.now())
    return (
        f"印刷者 {officer.get_rank_display()} {officer.full_name}（{officer.username}）"
        f"　{when:%Y年%m月%d日 %H:%M}"
    )


def draw_footer(canvas: Canvas, text: str, *, page: int | None = None) -> None:
    width, _ = canvas._pagesize
    canvas.saveState()
    canvas.setFont(FONT, 7.5)
    canvas.drawString(28, 18, text)
    if page is not None:
        canvas.drawRightString(width - 28, 18, f"{page} 頁")
    canvas.restoreState()
