"""The monthly report (月次報告) of a station: the dashboard's figures as Excel and as PDF.

Both formats carry the same tables (report_tables) and who printed them when; each export is
recorded (EXPORT_MONTHLY_REPORT). For a past month the household figures are those of the
month-end snapshot when one was taken (junkai dashboard-snapshot), otherwise today's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.pdfgen.canvas import Canvas

from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.dashboards import figures
from junkai.dashboards.figures import (
    Board,
    OfficerRow,
    RegisterFigures,
    Tally,
    index_text,
    percent,
)
from junkai.dashboards.models import BeatMonthSnapshot
from junkai.documents.pdf import FONT, draw_fitted, draw_footer, footer_text, new_canvas
from junkai.lib.months import month_label
from junkai.lib.spreadsheet import append_row
from junkai.lib.wareki import format_wareki
from junkai.org.models import Officer, Post, Station


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[object]]
    widths: list[float]  # relative, for the PDF
    text_columns: int = 1  # the leading columns that name something (left-aligned)


def _household_basis(board: Board) -> str:
    """Apply the month-end snapshot to a past month's board; say what the figures are."""
    now = timezone.localtime(board.computed_at)
    live = f"現在（{format_wareki(now.date())} {now:%H:%M} 集計）"
    if board.live:
        return live
    snaps = {
        s.beat_id: s
        for s in BeatMonthSnapshot.objects.filter(station=board.station, month=board.month)
    }
    if not snaps:
        return f"{live}　※{month_label(board.month)}末の集計がないため現在の値"
    for beat, tally in board.beats:
        snap = snaps.get(beat.id)
        tally.households = snap.households if snap else 0
        tally.covered = snap.covered if snap else 0
        tally.carded = snap.carded if snap else 0
        tally.overdue = snap.overdue if snap else 0
    board.total = Tally()
    for i, (post, _, regs) in enumerate(board.posts):
        tally = figures.post_tally(post, board.beats)
        board.posts[i] = (post, tally, regs)
        board.total.add(tally)
    taken = timezone.localtime(max(s.taken_at for s in snaps.values()))
    return f"{month_label(board.month)}末の集計（{format_wareki(taken.date())} {taken:%H:%M} 作成）"


UNIT_HEADERS = [
    "世帯数", "実施率", "把握率", "期限超過", "未把握",
    "実施件数", "面接", "不在", "拒否", "新規カード", "補正", "困りごと等解決", "未対応困りごと等",
]  # fmt: skip


def _unit_cells(t: Tally) -> list[object]:
    return [
        t.households, percent(t.coverage), percent(t.card_rate), t.overdue, t.unknown,
        t.visits, t.met, t.absent, t.refused, t.new_cards, t.corrections,
        t.concerns_resolved, t.open_concerns,
    ]  # fmt: skip


def _post_row(p: Post, t: Tally, r: RegisterFigures) -> list[object]:
    last = format_wareki(r.last_inspected) if r.last_inspected else "なし"
    return [
        p.name, *_unit_cells(t), r.binders_out, r.overdue_returns, r.unsigned_months,
        r.pending_approvals, last,
    ]  # fmt: skip


def _officer_row(r: OfficerRow) -> list[object]:
    t = r.tally
    return [
        r.officer.full_name, r.post.name if r.post else "―",
        "、".join(b.name for b in r.beats) or "―",
        t.visits, t.met, t.new_cards, t.corrections, t.concerns_resolved, f"{t.expected:.1f}",
        index_text(t.visit_index), index_text(t.met_index),
        r.target if r.target is not None else "―", percent(r.plan_rate), t.open_concerns,
    ]  # fmt: skip


def report_tables(board: Board) -> tuple[str, list[Table]]:
    basis = _household_basis(board)
    regs = board.registers
    summary = Table(
        "総括",
        ["項目", "値"],
        [
            ["世帯数（居住・営業中）", board.total.households],
            ["実施率（間隔内に面接済）", percent(board.total.coverage)],
            ["把握率（カードあり）", percent(board.total.card_rate)],
            ["期限超過", board.total.overdue],
            ["未把握世帯", board.total.unknown],
            ["実施件数", board.total.visits],
            ["うち面接", board.total.met],
            ["うち拒否", board.total.refused],
            ["新規カード", board.total.new_cards],
            ["補正", board.total.corrections],
            ["困りごと等の解決", board.total.concerns_resolved],
            ["未対応の困りごと等", board.total.open_concerns],
            ["持出中の簿冊", regs.binders_out],
            ["返却期限超過", regs.overdue_returns],
            ["持出確認簿の月次確認の未了", regs.unsigned_months],
            ["承認・報告待ち", regs.pending_approvals],
            ["点検予定の交番等", board.inspections_due],
        ],
        [3, 1.5],
    )
    posts = Table(
        "交番等別",
        ["交番等", *UNIT_HEADERS, "持出中", "返却超過", "月次未確認", "承認待ち", "最終点検"],
        [_post_row(p, t, r) for p, t, r in board.posts],
        [2.2, *[1] * len(UNIT_HEADERS), 1, 1, 1, 1, 1.8],
    )
    beats = Table(
        "受持区別",
        ["交番等", "受持区", *UNIT_HEADERS, "標準実施数/月"],
        [[b.post.name, b.name, *_unit_cells(t), f"{t.expected:.1f}"] for b, t in board.beats],
        [2, 1.6, *[1] * len(UNIT_HEADERS), 1.2],
        text_columns=2,
    )
    officers = Table(
        "職員別（評価）",
        [
            "氏名",
            "交番等",
            "受持区",
            "実施件数",
            "面接",
            "新規カード",
            "補正",
            "困りごと等解決",
            "標準実施数/月",
            "実施指数",
            "面接指数",
            "計画件数",
            "計画達成率",
            "未対応困りごと等",
        ],
        [_officer_row(r) for r in board.officers],
        [1.8, 1.8, 2, 1, 1, 1, 1, 1, 1.2, 1, 1, 1, 1, 1.2],
        text_columns=3,
    )
    return basis, [summary, posts, beats, officers]


METHOD = [
    "実施率 = 居住・営業中の世帯のうち、最後の面接が区分の実施間隔内（本日のNか月前の同日以降）の世帯 ÷ 世帯数",
    "把握率 = 受理済みの巡回連絡カードがある世帯 ÷ 世帯数（未把握世帯以外の割合）",
    "期限超過 = 次回予定日（作業リストの並び順の日付）が本日より前の世帯",
    "標準実施数/月 = Σ 1 ÷ 各世帯の実施間隔（月）。受持区を複数の職員で受け持つ場合は人数で等分",
    "実施指数 = 当月の実施件数 ÷ 標準実施数（1.00 で実施間隔どおりの進度）。面接指数は面接件数で同じ",
]


def _title(station: Station, month: dt.date) -> str:
    return f"巡回連絡 月次報告 {station.name} {month_label(month)}"


@transaction.atomic
def report_workbook(officer: Officer, station: Station, month: dt.date) -> bytes:
    board = figures.board(station, month=month)
    basis, tables = report_tables(board)
    now = timezone.localtime()
    stamp = (
        f"出力者: {officer}（{officer.username}）　出力日時: {format_wareki(now.date())} "
        f"{now:%H:%M}　{_title(station, month)}"
    )
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in tables:
        sheet = book.create_sheet(table.title)
        append_row(sheet, [stamp])
        sheet["A1"].font = Font(bold=True)
        append_row(sheet, [f"世帯の数値: {basis}　活動の数値: {month_label(month)}の実績"])
        append_row(sheet, table.headers)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            append_row(sheet, row)
        sheet.oddHeader.center.text = stamp
        sheet.oddFooter.center.text = "取扱注意 &P / &N"
        sheet.column_dimensions["A"].width = 28
    method = book.create_sheet("算出方法")
    append_row(method, [stamp])
    for line in METHOD:
        append_row(method, [line])
    buffer = BytesIO()
    book.save(buffer)
    _record_export(officer, station, month, "xlsx")
    return buffer.getvalue()


@transaction.atomic
def report_pdf(officer: Officer, station: Station, month: dt.date) -> bytes:
    board = figures.board(station, month=month)
    basis, tables = report_tables(board)
    buffer = BytesIO()
    canvas = new_canvas(buffer, title=_title(station, month), landscape=True)
    width, height = (float(v) for v in canvas._pagesize)
    footer = footer_text(officer)
    margin, line = 28.0, 13.0
    page = 1
    y = height - margin

    def new_page() -> float:
        nonlocal page
        draw_footer(canvas, footer, page=page)
        canvas.showPage()
        page += 1
        return height - margin

    canvas.setFont(FONT, 14)
    canvas.drawString(margin, y - 6, _title(station, month))
    y -= 24
    canvas.setFont(FONT, 8)
    canvas.drawString(margin, y, f"世帯の数値: {basis}　活動の数値: {month_label(month)}の実績")
    y -= 18
    for table in tables:
        if y < margin + 6 * line:
            y = new_page()
        canvas.setFont(FONT, 11)
        canvas.drawString(margin, y, table.title)
        y -= line + 2
        total = sum(table.widths)
        scale = (width - 2 * margin) / total
        if table.title == "総括":
            scale = 220 / total
        xs = [margin]
        for w in table.widths:
            xs.append(xs[-1] + w * scale)
        _draw_row(canvas, list(table.headers), xs, y, line=line, header=True)
        y -= line
        for cells in table.rows:
            if y < margin + 2 * line:
                y = new_page()
                # The header again at the top of the new page.
                _draw_row(canvas, list(table.headers), xs, y, line=line, header=True)
                y -= line
            _draw_row(canvas, cells, xs, y, line=line, text_columns=table.text_columns)
            y -= line
        y -= line
    if y < margin + 7 * line:
        y = new_page()
    canvas.setFont(FONT, 10)
    canvas.drawString(margin, y, "算出方法")
    y -= line
    for text in METHOD:
        draw_fitted(canvas, text, margin, y, width - 2 * margin, size=7.5)
        y -= line
    draw_footer(canvas, footer, page=page)
    canvas.save()
    _record_export(officer, station, month, "pdf")
    return buffer.getvalue()


def _draw_row(
    canvas: Canvas,
    cells: list[object],
    xs: list[float],
    y: float,
    *,
    line: float,
    header: bool = False,
    text_columns: int = 1,
) -> None:
    if header:
        canvas.setFillGray(0.9)
        canvas.rect(xs[0], y - 3, xs[-1] - xs[0], line, stroke=0, fill=1)
        canvas.setFillGray(0)
    for c, value in enumerate(cells):
        align = "center" if header else "left" if c < text_columns else "right"
        draw_fitted(canvas, str(value), xs[c] + 2, y, xs[c + 1] - xs[c] - 4, size=7.5, align=align)


def _record_export(officer: Officer, station: Station, month: dt.date, fmt: str) -> None:
    record(
        EventType.EXPORT_MONTHLY_REPORT,
        actor=officer,
        obj=station,
        station_id=station.id,
        purpose="月次報告の出力",
        details={"month": month.isoformat(), "format": fmt},
    )
