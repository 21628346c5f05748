"""Excel export of a beat's cards. Every sheet names the exporting officer, the time and the
purpose (on the sheet and in its printed header), and every household exported is recorded in
its access log."""

from __future__ import annotations

from io import BytesIO

from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.models import CardStatus, ContactCard, Household
from junkai.lib.spreadsheet import append_row
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat, Officer

HOUSEHOLD_COLUMNS = [
    "世帯ID", "町名", "住所", "組・班", "整理番号", "区分", "世帯主・事業所名",
    "簿冊番号", "索引番号", "受理日", "版",
    "氏名", "ふりがな", "続柄", "生年月日", "性別", "勤務先・学校", "電話",
]  # fmt: skip
CONTACT_COLUMNS = ["世帯ID", "住所", "氏名", "続柄", "連絡先"]


def _stamp(sheet: Worksheet, who: str, when: str, purpose: str, width: int) -> None:
    line = f"出力者: {who}　出力日時: {when}　目的: {purpose}"
    append_row(sheet, [line])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True)
    sheet.oddHeader.center.text = line
    sheet.oddFooter.center.text = "取扱注意（巡回連絡個人情報） &P / &N"


@transaction.atomic
def export_beat_cards(officer: Officer, beat: Beat, *, purpose: str) -> bytes:
    now = timezone.localtime()
    who = f"{officer}（{officer.username}）"
    when = f"{format_wareki(now.date())} {now:%H:%M}"
    households = list(
        Household.objects.filter(beat=beat).order_by(
            "town", "chome", "block_group", "map_number", "id"
        )
    )
    cards = {
        c.household_id: c
        for c in ContactCard.objects.filter(
            household__beat=beat, status=CardStatus.ACTIVE
        ).prefetch_related("residents", "contacts")
    }
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "世帯員"
    _stamp(sheet, who, when, purpose, len(HOUSEHOLD_COLUMNS))
    append_row(sheet, HOUSEHOLD_COLUMNS)
    contacts_sheet = book.create_sheet("緊急連絡先")
    _stamp(contacts_sheet, who, when, purpose, len(CONTACT_COLUMNS))
    append_row(contacts_sheet, CONTACT_COLUMNS)
    for household in households:
        card = cards.get(household.id)
        head = [
            household.id, household.town, household.address, household.block_group,
            household.map_number, household.get_category_display(), household.name,
        ]  # fmt: skip
        if card is None:
            append_row(sheet, [*head, "", "", "", "（カードなし）"])
        else:
            meta = [
                card.binder_number,
                card.index_number,
                card.accepted_on.isoformat(),
                card.version,
            ]
            for r in card.residents.all():
                append_row(
                    sheet,
                    [
                        *head,
                        *meta,
                        r.name,
                        r.kana,
                        r.relation,
                        r.birth_date.isoformat() if r.birth_date else "",
                        r.get_sex_display() if r.sex else "",
                        r.workplace,
                        r.phone,
                    ],
                )
            for c in card.contacts.all():
                append_row(
                    contacts_sheet, [household.id, household.address, c.name, c.relation, c.phone]
                )
        record(
            EventType.EXPORT_CARDS,
            actor=officer,
            obj=household,
            station_id=household.station_id,
            purpose=purpose,
            details={"format": "xlsx", "beat": beat.id},
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
