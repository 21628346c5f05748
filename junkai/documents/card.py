"""第1号様式 巡回連絡カード: filled from a household's card, or blank for residents to fill in.

One A4 page laid out like the paper card: the office-use boxes (簿冊番号, 索引番号, 整理番号,
組・班) at the top right, the purpose statement for residents, the address, the residents, the
emergency contacts and vehicles, the wishes and remarks, and the acceptance record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from django.utils import timezone
from reportlab.pdfgen.canvas import Canvas

from junkai.documents.pdf import (
    FONT,
    MM,
    draw_boxes,
    draw_fitted,
    draw_footer,
    draw_title,
    new_canvas,
    wrap_text,
)
from junkai.households.models import CardRevision, ContactCard, Household, RevisionBasis
from junkai.lib.wareki import format_wareki, format_wareki_abbrev

FORM = "第1号様式"
TITLE = "巡回連絡カード"
MARGIN = 14 * MM

PURPOSE = (
    "このカードは、事件・事故・災害などの際の緊急の連絡、防犯・交通安全などの情報提供、"
    "困りごとの相談などに役立てるためのもので、これ以外の目的には使用しません。"
    "差し支えのない範囲でご記入ください。"
)


@dataclass
class CardContent:
    """What the card shows; empty strings print as blank boxes (the blank card)."""

    address: str = ""
    block_group: str = ""
    map_number: str = ""
    name: str = ""
    kind: str = ""
    binder_number: str = ""
    index_number: str = ""
    residents: list[list[str]] = field(default_factory=list)  # kana, name, relation, …
    contacts: list[list[str]] = field(default_factory=list)
    vehicles: list[list[str]] = field(default_factory=list)
    preferred: str = ""
    support: str = ""
    requests: str = ""
    remarks: str = ""
    accepted: str = ""
    source: str = ""
    version: str = ""
    # 異動・補正: the dates of the card's corrections (令8.5.1), newest last.
    revisions: list[str] = field(default_factory=list)


def content_of(household: Household, card: ContactCard | None) -> CardContent:
    content = CardContent(
        address=household.address,
        block_group=household.block_group,
        map_number=str(household.map_number or ""),
        name=household.name,
        kind=household.get_kind_display(),
    )
    if card is None:
        return content
    content.binder_number = card.binder_number
    content.index_number = str(card.index_number or "")
    # 異動・補正 (第5-3(2)): each correction's date, on the card and beside the residents it
    # touched (a revision's changes name residents by position: "residents.2.phone").
    revisions = list(
        CardRevision.objects.filter(card=card)
        .exclude(basis=RevisionBasis.NEW)
        .order_by("revised_at", "id")
        .values_list("revised_at", "changes")
    )
    touched: dict[int, list[str]] = {}
    for revised_at, changes in revisions:
        day = format_wareki_abbrev(timezone.localtime(revised_at))
        positions = {_resident_of(c) for c in changes or []}
        for i in sorted(p for p in positions if p is not None):
            if day not in touched.setdefault(i, []):
                touched[i].append(day)
    content.revisions = list(
        dict.fromkeys(format_wareki_abbrev(timezone.localtime(r)) for r, _ in revisions)
    )
    content.residents = [
        [
            r.kana,
            r.name,
            r.relation,
            format_wareki(r.birth_date) if r.birth_date else "",
            r.get_sex_display() if r.sex else "",
            r.workplace,
            r.phone,
            "・".join(touched.get(i, [])[-2:]),
        ]
        for i, r in enumerate(card.residents.all())
    ]
    content.contacts = [[c.name, c.relation, c.phone] for c in card.contacts.all()]
    content.vehicles = [[v.description, v.plate] for v in card.vehicles.all()]
    content.preferred = "　".join(x for x in (card.preferred_days, card.preferred_times) if x)
    content.support = "要援護（災害時に支援が必要）・本人同意あり" if card.needs_support else "なし"
    content.requests = card.requests
    content.remarks = card.remarks
    content.accepted = f"{format_wareki(card.accepted_on)}　{card.accepted_by}"
    content.source = card.get_source_display()
    content.version = f"第{card.version}版"
    return content


def _resident_of(change: dict[str, object]) -> int | None:
    path = str(change.get("field", "") if isinstance(change, dict) else "")
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] == "residents" and parts[1].isdigit():
        return int(parts[1])
    return None


ERAS = "明・大・昭・平・令"


def _era_boxes(canvas: Canvas, x: float, top: float, width: float, height: float) -> None:
    """A blank birth date as on the paper card: the eras to circle, then 年 月 日."""
    canvas.setFont(FONT, 6.5)
    canvas.drawString(x + 1.2 * MM, top - height * 0.36, ERAS)
    canvas.setFont(FONT, 7.5)
    step = (width - 2.4 * MM) / 3
    for i, unit in enumerate("年月日"):
        canvas.drawRightString(x + 1.2 * MM + step * (i + 1), top - height + 1.8 * MM, unit)


def _cell(
    canvas: Canvas,
    x: float,
    top: float,
    width: float,
    height: float,
    text: str,
    *,
    label: bool = False,
    size: float = 10,
    align: str = "left",
) -> None:
    if label:
        canvas.setFillGray(0.92)
        canvas.rect(x, top - height, width, height, stroke=1, fill=1)
        canvas.setFillGray(0)
        draw_fitted(
            canvas,
            text,
            x + 1.2 * MM,
            top - height / 2 - 3,
            width - 2.4 * MM,
            size=8,
            align="center",
        )
    else:
        canvas.rect(x, top - height, width, height, stroke=1, fill=0)
        draw_fitted(
            canvas,
            text,
            x + 1.5 * MM,
            top - height / 2 - size / 3,
            width - 3 * MM,
            size=size,
            align=align,
        )


def _table(
    canvas: Canvas,
    top: float,
    heading: str,
    labels: list[str],
    weights: list[float],
    rows: list[list[str]],
    *,
    row_height: float,
    minimum: int,
) -> float:
    width = canvas._pagesize[0] - 2 * MARGIN
    total = sum(weights)
    widths = [width * w / total for w in weights]
    canvas.setFont(FONT, 10)
    canvas.drawString(MARGIN, top - 4 * MM, heading)
    y = top - 6 * MM
    x = MARGIN
    for text, w in zip(labels, widths, strict=True):
        _cell(canvas, x, y, w, 6 * MM, text, label=True)
        x += w
    y -= 6 * MM
    padded = rows + [[""] * len(labels)] * max(0, minimum - len(rows))
    for row in padded:
        x = MARGIN
        for text, w in zip(row, widths, strict=True):
            _cell(canvas, x, y, w, row_height, text, size=9)
            x += w
        y -= row_height
    return y


def _residents(canvas: Canvas, top: float, rows: list[list[str]], minimum: int) -> float:
    """世帯員: ふりがな over 氏名 in one cell, as on the paper card."""
    width = canvas._pagesize[0] - 2 * MARGIN
    labels = ["ふりがな／氏名", "続柄", "生年月日", "性別", "勤務先・学校", "電話", "異動・補正"]
    weights = [3.2, 0.9, 2.0, 0.6, 2.3, 2.1, 1.5]
    total = sum(weights)
    widths = [width * w / total for w in weights]
    canvas.setFont(FONT, 10)
    canvas.drawString(MARGIN, top - 4 * MM, "2　世帯員（事業所にあっては従業員等の代表者）")
    y = top - 6 * MM
    x = MARGIN
    for text, w in zip(labels, widths, strict=True):
        _cell(canvas, x, y, w, 6 * MM, text, label=True)
        x += w
    y -= 6 * MM
    count = max(minimum, len(rows))
    row_height = 10 * MM if count <= 8 else max(6 * MM, 80 * MM / count)
    for row in rows + [[""] * 8] * (count - len(rows)):
        kana, name, *rest = row
        x = MARGIN
        canvas.rect(x, y - row_height, widths[0], row_height, stroke=1, fill=0)
        canvas.setLineWidth(0.3)
        canvas.setDash(1, 2)
        canvas.line(x, y - row_height * 0.38, x + widths[0], y - row_height * 0.38)
        canvas.setDash()
        canvas.setLineWidth(0.8)
        draw_fitted(
            canvas, kana, x + 1.5 * MM, y - row_height * 0.38 + 1.2 * MM, widths[0] - 3 * MM, size=7
        )
        draw_fitted(
            canvas, name, x + 1.5 * MM, y - row_height + 1.8 * MM, widths[0] - 3 * MM, size=11
        )
        x += widths[0]
        for column, (text, w) in enumerate(zip(rest, widths[1:], strict=True), start=1):
            size = 7 if column == 6 else 9
            _cell(canvas, x, y, w, row_height, text, size=size)
            if column == 2 and not text:
                _era_boxes(canvas, x, y, w, row_height)
            x += w
        y -= row_height
    return y


def _text_box(canvas: Canvas, top: float, label: str, text: str, height: float) -> float:
    width = canvas._pagesize[0] - 2 * MARGIN
    label_width = 28 * MM
    _cell(canvas, MARGIN, top, label_width, height, label, label=True)
    canvas.rect(MARGIN + label_width, top - height, width - label_width, height, stroke=1, fill=0)
    lines = wrap_text(canvas, text, width - label_width - 3 * MM, 9)
    canvas.setFont(FONT, 9)
    for i, line in enumerate(lines[: int(height // (4 * MM))]):
        canvas.drawString(MARGIN + label_width + 1.5 * MM, top - 4 * MM - i * 4 * MM, line)
    return top - height


def render_card(content: CardContent, footer: str, *, blank: bool = False) -> bytes:
    buffer = BytesIO()
    title = TITLE + ("（記入用）" if blank else "")
    canvas = new_canvas(buffer, title=title)
    page_width, page_height = canvas._pagesize
    width = page_width - 2 * MARGIN
    top = page_height - 12 * MM
    canvas.setLineWidth(0.8)
    draw_title(canvas, TITLE, FORM, top=top)
    # Office use (警察記入欄), top right.
    office = [
        ("簿冊番号", content.binder_number, 18 * MM),
        ("索引番号", content.index_number, 18 * MM),
    ]
    office2 = [("組・班", content.block_group, 18 * MM), ("整理番号", content.map_number, 18 * MM)]
    right = page_width - MARGIN - 2 * (16 * MM + 18 * MM)
    canvas.setLineWidth(1.4)
    draw_boxes(canvas, office, x=right, top=top - 12 * MM, height=6.5 * MM, label_width=16 * MM)
    draw_boxes(canvas, office2, x=right, top=top - 18.5 * MM, height=6.5 * MM, label_width=16 * MM)
    canvas.setLineWidth(0.8)
    canvas.setFont(FONT, 7)
    canvas.drawString(right, top - 28 * MM, "※ 太枠内は警察で記入します")
    # The purpose, for residents.
    canvas.setFont(FONT, 8)
    for i, line in enumerate(wrap_text(canvas, PURPOSE, right - MARGIN - 4 * MM, 8)):
        canvas.drawString(MARGIN, top - 15 * MM - i * 3.8 * MM, line)
    y = top - 31 * MM
    # 1 所在地
    canvas.setFont(FONT, 10)
    canvas.drawString(MARGIN, y - 4 * MM, "1　所在地・世帯")
    y -= 6 * MM
    label = 28 * MM
    _cell(canvas, MARGIN, y, label, 10 * MM, "住所（所在地）", label=True)
    _cell(canvas, MARGIN + label, y, width - label, 10 * MM, content.address, size=11)
    y -= 10 * MM
    half = (width - 2 * label) / 2
    _cell(canvas, MARGIN, y, label, 9 * MM, "世帯主・事業所名", label=True)
    _cell(canvas, MARGIN + label, y, half + 20 * MM, 9 * MM, content.name, size=11)
    _cell(canvas, MARGIN + label + half + 20 * MM, y, label - 8 * MM, 9 * MM, "種別", label=True)
    kind = content.kind or "居住 ・ 事業所等"
    _cell(
        canvas,
        MARGIN + 2 * label + half + 12 * MM,
        y,
        half - 12 * MM,
        9 * MM,
        kind,
        size=9,
        align="center",
    )
    y -= 9 * MM
    # 2 世帯員
    y = _residents(canvas, y - 2 * MM, content.residents, 8 if blank else 6)
    # 3 緊急連絡先, 4 車両
    y = _table(
        canvas,
        y - 2 * MM,
        "3　緊急連絡先（別居の親族等）",
        ["氏名", "続柄", "連絡先（電話番号）"],
        [3, 1.2, 4],
        content.contacts,
        row_height=7.5 * MM,
        minimum=3 if blank else 2,
    )
    y = _table(
        canvas,
        y - 2 * MM,
        "4　車両",
        ["車種・色", "登録番号"],
        [3, 3],
        content.vehicles,
        row_height=7 * MM,
        minimum=2 if blank else 1,
    )
    # 5 wishes and remarks
    canvas.setFont(FONT, 10)
    canvas.drawString(MARGIN, y - 6 * MM, "5　その他")
    y -= 8 * MM
    _cell(canvas, MARGIN, y, label, 7 * MM, "訪問希望の曜日・時間帯", label=True)
    _cell(canvas, MARGIN + label, y, width - label, 7 * MM, content.preferred, size=9)
    y -= 7 * MM
    support = content.support or "□ 災害時に支援が必要　　□ 支援のための登録に同意する"
    _cell(canvas, MARGIN, y, label, 7 * MM, "要援護", label=True)
    _cell(canvas, MARGIN + label, y, width - label, 7 * MM, support, size=9)
    y -= 7 * MM
    y = _text_box(canvas, y, "警察への要望・困りごと", content.requests, 12 * MM)
    y = _text_box(canvas, y, "備考", content.remarks, 10 * MM)
    # Acceptance (警察記入欄)
    y -= 3 * MM
    canvas.setLineWidth(1.4)
    cells = [
        ("受理日・受理者", content.accepted, 62 * MM),
        ("記入者", content.source, 30 * MM),
        ("版", content.version, 14 * MM),
    ]
    draw_boxes(canvas, cells, x=MARGIN, top=y, height=7 * MM)
    # 異動・補正の年月日 (第5-3(2)), the newest that fit; blank lines to write in on paper.
    shown = "、".join(content.revisions[-8:])
    if len(content.revisions) > 8:
        shown = f"ほか{len(content.revisions) - 8}回、" + shown
    draw_boxes(
        canvas, [("異動・補正の年月日", shown, width - 30 * MM)], x=MARGIN, top=y - 7 * MM,
        height=7 * MM, label_width=30 * MM,
    )  # fmt: skip
    canvas.setLineWidth(0.8)
    # The blank card goes to residents: no printer's ID, no 取扱注意 (nothing is on it yet).
    if blank:
        draw_footer(canvas, "", confidential=False)
    else:
        draw_footer(canvas, footer, page=1, pages=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
