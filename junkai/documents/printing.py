"""Printing the forms: scope, the data, the PDF, and the audit events — one function per form.

Every print goes through a junkai.access function (404 alike for absent and out of scope) and
is recorded (EventType.PRINT_FORM, details naming the form) as one event naming every household
whose personal data it shows, so it appears in that household's 閲覧記録, and on the post, building or station
printed for. The events are written only once the PDF has been built, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from junkai.access.purposes import StatedPurpose
from junkai.access.units import access_beat, access_data_use_station, access_register_post
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.disclosures.access import data_uses_visible_to
from junkai.disclosures.accounting import access_accounting, releases_of
from junkai.disclosures.models import filter_register
from junkai.documents import card as card_form
from junkai.documents.ledger import Column, Ledger, Section, render_ledger
from junkai.documents.maps import (
    MapPage,
    blocks_of,
    natural_key,
    render_building_map,
    render_household_map,
    street_key,
)
from junkai.documents.pdf import MM, footer_text
from junkai.households.access import access_building, access_household, purpose_of_read
from junkai.households.models import (
    Building,
    CardStatus,
    ContactCard,
    Household,
    HouseholdStatus,
    Resident,
)
from junkai.lib.dates import DateFormatError, parse_date
from junkai.lib.geometry import polygons
from junkai.lib.kana import fold
from junkai.lib.months import current_month, month_bounds, month_label, parse_month
from junkai.lib.wareki import format_wareki
from junkai.org.models import Assignment, Officer, Post, PostKind, Role, Station
from junkai.registers.access import access_loss_report
from junkai.registers.actions import loss_recipients
from junkai.registers.models import (
    BinderCheckout,
    CheckoutBinder,
    CheckoutMonthReview,
    LossReportHousehold,
    LossReportStatus,
)


@dataclass(frozen=True)
class Printed:
    """A built form: the PDF and a file name with no personal data in it."""

    content: bytes
    filename: str


def _when(moment: dt.datetime | None, sep: str = "\n") -> str:
    """令和8年5月1日 09:30 (in a ruled column: the time on its own line)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{format_wareki(local.date())}{sep}{local:%H:%M}"


def record_household_prints(
    officer: Officer,
    households: Iterable[Household],
    form: str,
    *,
    stated: StatedPurpose | None = None,
    **details: Any,
) -> None:
    """One PRINT_FORM naming every household a print shows (their ids in the audit log's
    (event, household) rows, their digest in the event), so each household's 閲覧記録 lists it
    while a 交番's 索引簿 stays one row, not 1,500. Every printed form and sheet records its
    prints through here."""
    shown = list(households)
    if not shown:
        return
    stations = {h.station_id for h in shown}
    record(
        EventType.PRINT_FORM,
        actor=officer,
        obj=shown[0] if len(shown) == 1 else None,
        object_type="" if len(shown) == 1 else "households",
        object_id="" if len(shown) == 1 else str(len(shown)),
        station_id=stations.pop() if len(stations) == 1 else None,
        # A card printed outside his beats carries the purpose he stated (its note by digest).
        purpose=stated.label if stated is not None else f"{form}の印刷",
        details={"form": form, **details, **(stated.details() if stated is not None else {})},
        household_ids=[h.id for h in shown],
    )


def _record_unit(
    officer: Officer, obj: models.Model | None, station_id: int | None, form: str, **details: Any
) -> None:
    record(
        EventType.PRINT_FORM,
        actor=officer,
        obj=obj,
        object_type="" if obj is not None else "form",
        object_id="" if obj is not None else "blank-card",
        station_id=station_id,
        purpose=f"{form}の印刷",
        details={"form": form, **details},
    )


# --- 第1号様式 ---------------------------------------------------------------------------


def print_card(
    officer: Officer,
    household_id: int,
    *,
    stated: StatedPurpose | Mapping[int, StatedPurpose] | None = None,
) -> Printed:
    """The household's 巡回連絡カード as held (a household without a card: its address part).
    Outside his own beats only with a stated purpose (PurposeRequired), as any read of a card."""
    household = access_household(officer, household_id, record_read=False)
    purpose = purpose_of_read(officer, household, stated)
    card = (
        ContactCard.objects.filter(household=household, status=CardStatus.ACTIVE)
        .select_related("accepted_by")
        .prefetch_related("residents", "contacts", "vehicles")
        .first()
    )
    pdf = card_form.render_card(card_form.content_of(household, card), footer_text(officer))
    with transaction.atomic():
        record_household_prints(
            officer,
            [household],
            card_form.FORM,
            stated=purpose,
            card=card.id if card else None,
        )
    return Printed(pdf, f"card-{household.id}.pdf")


def print_blank_card(officer: Officer) -> Printed:
    # Handed to residents to fill in: no printer's name or login ID on it (the print is still
    # recorded below).
    pdf = card_form.render_card(card_form.CardContent(), "", blank=True)
    _record_unit(officer, None, None, "第1号様式（記入用）")
    return Printed(pdf, "blank-card.pdf")


# --- 第2号・第3号様式 ---------------------------------------------------------------------


def print_household_map(
    officer: Officer, beat_id: int, *, town: str = "", block_group: str = ""
) -> Printed:
    """世帯分布略図 of a beat: one page per 町名 and 組・班 (narrowed by `town`, `block_group`)."""
    beat = access_beat(officer, beat_id)
    town, block_group = town.strip(), block_group.strip()
    households = (
        Household.objects.filter(beat=beat)
        .exclude(status=HouseholdStatus.MOVED_OUT)
        .select_related("building")
    )
    if town:
        households = households.filter(town=town)
    if block_group:
        households = households.filter(block_group=block_group)
    rows = list(households)
    if not rows:
        errors = {}
        if town and not Household.objects.filter(beat=beat, town=town).exists():
            errors["town"] = f"この受持区に町名「{town}」の世帯はありません"
        else:
            label = f"組・班「{block_group}」" if block_group else "町名・組・班"
            errors["block_group" if block_group else "town"] = (
                f"この受持区に該当する{label}の世帯はありません"
            )
        raise ValidationError(errors)
    groups: dict[tuple[str, str], list[Household]] = {}
    for h in rows:
        groups.setdefault((h.town, h.block_group), []).append(h)
    # To orient by: the beat's outline and its post (DESIGN: use what the outline and the
    # addresses give; the addresses label the streets on the page).
    outline = (
        [ring for polygon in polygons(beat.outline) for ring in polygon] if beat.outline else []
    )
    post = beat.post
    landmarks = (
        [(post.name, float(post.longitude), float(post.latitude))]
        if post.latitude is not None and post.longitude is not None
        else []
    )
    # Every 番 of the beat at the middle of its doors (a block's number, no household's data):
    # the blocks around a page's doors are named too.
    blocks = blocks_of(
        (town_, chome, banchi, float(lon or 0), float(lat or 0))
        for town_, chome, banchi, lon, lat in Household.objects.filter(
            beat=beat, latitude__isnull=False, longitude__isnull=False
        )
        .exclude(status=HouseholdStatus.MOVED_OUT)
        .values_list("town", "chome", "banchi", "longitude", "latitude")
    )
    pages = [
        MapPage(t, g, sorted(hs, key=street_key), outline, landmarks, blocks)
        for (t, g), hs in sorted(groups.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1])))
    ]
    unit = f"{beat.post.name}　{beat.name}"
    pdf = render_household_map(pages, unit=unit, footer=footer_text(officer))
    with transaction.atomic():
        record_household_prints(officer, rows, "第2号様式", beat=beat.id)
    return Printed(pdf, f"household-map-{beat.id}.pdf")


def _card_marks(households: list[Household]) -> dict[int, str]:
    marks: dict[int, str] = {h.id: "未把握（カードなし）" for h in households}
    for c in ContactCard.objects.filter(household__in=households, status=CardStatus.ACTIVE):
        marks[c.household_id] = (
            f"カード 索引{c.index_number}" if c.index_number is not None else "カード作成済"
        )
    return marks


def print_building_map(officer: Officer, building_id: int) -> Printed:
    """アパート等居住分布略図: the building's floors × rooms with the household in each."""
    building = access_building(officer, building_id)
    households = list(
        Household.objects.filter(building=building).exclude(status=HouseholdStatus.MOVED_OUT)
    )
    pdf = render_building_map(
        building, households, _card_marks(households), footer=footer_text(officer)
    )
    with transaction.atomic():
        record_household_prints(officer, households, "第3号様式", building=building.id)
        _record_unit(officer, building, building.post.station_id, "第3号様式")
    return Printed(pdf, f"building-map-{building.id}.pdf")


def post_buildings(officer: Officer, post_id: int) -> tuple[Post, list[Building]]:
    """The post's アパート等 with their count of households (for the API and 第4号様式)."""
    post = access_register_post(officer, post_id, purpose="", record_read=False)
    living = Q(households__status__in=[HouseholdStatus.ACTIVE, HouseholdStatus.VACANT])
    buildings: list[Building] = []
    buildings.extend(
        Building.objects.filter(post=post)
        .select_related("beat")
        .annotate(
            household_count=Count("households", filter=living, distinct=True),
            card_count=Count(
                "households__cards",
                filter=living & Q(households__cards__status=CardStatus.ACTIVE),
                distinct=True,
            ),
        )
    )
    buildings.sort(key=lambda b: (b.town, natural_key(b.chome), natural_key(b.banchi), b.name))
    return post, buildings


def list_buildings(officer: Officer, post_id: int) -> tuple[Post, list[Building]]:
    post, buildings = post_buildings(officer, post_id)
    record(
        EventType.LIST_HOUSEHOLDS,
        actor=officer,
        obj=post,
        station_id=post.station_id,
        purpose="アパート等の一覧",
        details={"count": len(buildings)},
    )
    return post, buildings


def _today_header(post: Post) -> list[tuple[str, str, float]]:
    return [
        ("交番等", post.name, 38 * MM),
        ("作成日", format_wareki(timezone.localdate()), 34 * MM),
    ]


def print_building_list(officer: Officer, post_id: int) -> Printed:
    """アパート等一覧表 (第4号様式) of a post."""
    post, buildings = post_buildings(officer, post_id)
    columns = [
        Column("番号", 0.6, "right"),
        Column("名称", 2.4),
        Column("所在地", 2.6),
        Column("受持区", 1.3),
        Column("組・班", 1.0),
        Column("階数", 0.6, "right"),
        Column("各階の室数", 0.9, "right"),
        Column("入居世帯", 0.9, "right"),
        Column("カード数", 0.9, "right"),
        Column("管理人・所有者の連絡先", 3.0),
    ]
    groups = _building_groups(buildings)
    rows = [
        [
            str(i),
            b.name,
            b.address,
            b.beat.name,
            groups.get(b.id, ""),
            str(b.floors),
            str(b.rooms_per_floor),
            str(b.household_count),  # type: ignore[attr-defined]
            str(b.card_count),  # type: ignore[attr-defined]
            b.manager_contact,
        ]
        for i, b in enumerate(buildings, start=1)
    ]
    ledger = Ledger(
        "アパート等一覧表",
        "第4号様式",
        _today_header(post),
        columns,
        [Section("", rows)],
        empty_text="登録されたアパート等はありません",
    )
    pdf = render_ledger(ledger, footer_text(officer))
    _record_unit(officer, post, post.station_id, "第4号様式", count=len(buildings))
    return Printed(pdf, f"building-list-{post.id}.pdf")


def _building_groups(buildings: list[Building]) -> dict[int, str]:
    found: dict[int, set[str]] = {}
    for building_id, group in Household.objects.filter(building__in=buildings).values_list(
        "building_id", "block_group"
    ):
        if group:
            found.setdefault(building_id, set()).add(group)
    return {k: "・".join(sorted(v, key=natural_key)) for k, v in found.items()}


# --- 第5号様式 ---------------------------------------------------------------------------

GOJUON = [
    ("あ", "あいうえおぁぃぅぇぉゔ"),
    ("か", "かきくけこゕゖ"),
    ("さ", "さしすせそ"),
    ("た", "たちつてとっ"),
    ("な", "なにぬねの"),
    ("は", "はひふへほ"),
    ("ま", "まみむめも"),
    ("や", "やゆよゃゅょ"),
    ("ら", "らりるれろ"),
    ("わ", "わをんゎゐゑ"),
]


def gojuon_row(kana: str) -> str:
    """「すずき」→「さ行」; 「」 or a reading not in kana →「その他」."""
    folded = fold(kana)
    if not folded:
        return "その他"
    first = unicodedata.normalize("NFD", folded[0])[0]
    for head, members in GOJUON:
        if first in members:
            return f"{head}行"
    return "その他"


@dataclass
class IndexEntry:
    card: ContactCard
    household: Household
    name: str
    kana: str
    # Every resident (name, kana, relation) for the 50音順 part; the household's own name for
    # a business with none.
    people: list[tuple[str, str, str]]


def _index_entries(post: Post) -> list[IndexEntry]:
    cards = (
        ContactCard.objects.filter(post=post, status=CardStatus.ACTIVE)
        .select_related("household", "household__beat", "household__building")
        # Only what the book prints: 1,500 cards with their residents are ~9,000 objects, and
        # building each in full was half the time of a 交番's print.
        .only(
            "index_number",
            "binder_number",
            "household",
            "household__beat",
            "household__building",
            "household__station",  # the print's audit event names the station
            "household__name",
            "household__town",
            "household__chome",
            "household__banchi",
            "household__go",
            "household__room",
            "household__block_group",
            "household__map_number",
            "household__building__name",
            "household__beat__name",
        )
    )
    # The residents as plain tuples (3,400 at a busy 交番), grouped by card in their order.
    people_of: dict[int, list[tuple[str, str, str]]] = {}
    for card_id, name, kana, relation in (
        Resident.objects.filter(card__post=post, card__status=CardStatus.ACTIVE)
        .order_by("card_id", "position")
        .values_list("card_id", "name", "kana", "relation")
    ):
        people_of.setdefault(card_id, []).append((name, kana, relation))
    entries = []
    for c in cards:
        residents = people_of.get(c.id, [])
        head = next((r for r in residents if r[2] == "世帯主"), None) or (
            residents[0] if residents else None
        )
        name = head[0] if head else c.household.name
        kana = head[1] if head and head[1] else ""
        people = [(n or "（氏名未記入）", k, rel) for n, k, rel in residents] or [
            (c.household.name or "（氏名未記入）", "", "")
        ]
        entries.append(IndexEntry(c, c.household, name or "（氏名未記入）", kana, people))
    return entries


#: The 索引簿 is a book of thousands of lines: small type, tight lines (about 35 a page, two
#: lists side by side in the 50音順 part), not the 20 of the other registers.
INDEX_SIZE = 6.8
INDEX_LINE = 3.0 * MM
INDEX_ROW = 3.9 * MM


def print_card_index(officer: Officer, post_id: int) -> Printed:
    """巡回連絡カード索引簿 (第5号様式): by index number, then every resident in 50音 order with
    his card's index number and 受持区."""
    post = access_register_post(officer, post_id, purpose="", record_read=False)
    entries = _index_entries(post)
    by_number = sorted(
        entries,
        key=lambda e: (
            e.card.index_number is None,
            e.card.index_number or 0,
            natural_key(e.card.binder_number),
        ),
    )
    rows_by_number = [
        [
            str(e.card.index_number or "―"),
            e.card.binder_number,
            e.name,
            e.kana,
            e.household.address,
            e.household.block_group,
            str(e.household.map_number or ""),
            e.household.beat.name,
        ]
        for e in by_number
    ]
    people = [
        (fold(kana), name, kana, relation, e) for e in entries for name, kana, relation in e.people
    ]
    people.sort(key=lambda p: (not p[2], p[0], p[1], p[4].card.index_number or 0))
    rows_by_kana = []
    previous = ""
    for _, name, kana, relation, e in people:
        row = gojuon_row(kana)
        rows_by_kana.append(
            [
                row if row != previous else "",
                name,
                kana,
                relation,
                str(e.card.index_number or "―"),
                e.card.binder_number,
                e.household.beat.name,
            ]
        )
        previous = row
    size = INDEX_SIZE
    number_columns = [
        Column("索引番号", 0.8, "right", size),
        Column("簿冊番号", 0.7, "center", size),
        Column("世帯主・事業所名", 2.0, size=size),
        Column("ふりがな", 2.0, size=size),
        Column("住所（所在地）", 4.4, size=size),
        Column("組・班", 0.8, size=size),
        Column("整理番号", 0.7, "right", size),
        Column("受持区", 1.2, size=size),
    ]
    kana_columns = [
        Column("行", 0.6, "center", size, wrap=False),
        Column("氏名", 1.9, size=size),
        Column("ふりがな", 2.0, size=size),
        Column("続柄", 0.8, size=size),
        Column("索引番号", 0.95, "right", size),
        Column("簿冊", 0.55, "center", size),
        Column("受持区", 1.3, size=size),
    ]
    ledger = Ledger(
        "巡回連絡カード索引簿",
        "第5号様式",
        [
            *_today_header(post),
            ("カード", f"{len(entries)}枚", 18 * MM),
            ("世帯員", f"{len(people)}人", 18 * MM),
        ],
        number_columns,
        [
            Section("索引番号順", rows_by_number, number_columns),
            Section("50音順（世帯員全員）", rows_by_kana, kana_columns, blocks=2),
        ],
        empty_text="作成済のカードはありません",
        line=INDEX_LINE,
        min_row=INDEX_ROW,
    )
    pdf = render_ledger(ledger, footer_text(officer))
    with transaction.atomic():
        record_household_prints(officer, [e.household for e in entries], "第5号様式", post=post.id)
        _record_unit(officer, post, post.station_id, "第5号様式", count=len(entries))
    return Printed(pdf, f"card-index-{post.id}.pdf")


# --- 第6号様式 ---------------------------------------------------------------------------


def _month_or_422(text: str | None) -> dt.date:
    if not text:
        return current_month()
    try:
        month = parse_month(text)
    except ValueError as exc:
        raise ValidationError({"month": str(exc)}) from exc
    # A register month that has not begun holds nothing (and 9999-12 has no next month).
    if month > current_month():
        raise ValidationError({"month": "対象月に未来の月は指定できません"})
    return month


def print_checkouts(officer: Officer, post_id: int, *, month: str | None = None) -> Printed:
    """巡回連絡カード持出確認簿 (第6号様式) of a post for one month, with its monthly review."""
    first = _month_or_422(month)
    post = access_register_post(officer, post_id, purpose="", record_read=False)
    start, end = month_bounds(first)
    entries = list(
        BinderCheckout.objects.filter(post=post, declared_at__gte=start, declared_at__lt=end)
        .select_related(
            "borrower",
            "declared_to",
            "out_confirmed_by",
            "return_confirmed_by",
            "device_checkout__device",
            "device_checkout__beat",
        )
        .prefetch_related(
            Prefetch("lines", queryset=CheckoutBinder.objects.select_related("binder"))
        )
        .order_by("declared_at", "id")
    )
    returned_to = _return_managers(post, entries)
    rows = []
    for i, e in enumerate(entries, start=1):
        numbers = sorted((line.binder.number for line in e.lines.all()), key=lambda n: (len(n), n))
        # A device that carried a beat (junkai.devices) is named where a binder number goes.
        device = getattr(e, "device_checkout", None)
        if device is not None:
            numbers = [f"端末 {device.device.label}", f"受持区 {device.beat.name}"]
        note = []
        if e.self_confirmed:
            note.append("本人確認（一人勤務の駐在所）")
        if e.is_overdue():
            note.append("返却期限超過")
        for line in e.lines.all():
            if line.loss_report_id is not None:
                note.append(f"簿冊 {line.binder.number} 亡失・盗難（報告 #{line.loss_report_id}）")
        if e.lost_at is not None:
            note.append("亡失により終了")
        elif e.revoked_at is not None:
            # Not a return: the device was taken out of use; nothing came back to confirm.
            note.append("使用停止により終了（返却ではない）")
        rows.append(
            [
                str(i),
                _when(e.declared_at),
                ("\n" if device is not None else "・").join(numbers),
                str(e.borrower),
                e.purpose,
                str(e.declared_to) if e.declared_to else "",
                "\n".join(
                    x for x in (str(e.out_confirmed_by or ""), _when(e.out_confirmed_at)) if x
                ),
                # Revoked: when, where the return date goes, marked so it is not read as one.
                _when(e.returned_at)
                if e.revoked_at is None
                else f"（使用停止）\n{_when(e.revoked_at)}",
                returned_to.get(e.id, ""),
                "\n".join(
                    x for x in (str(e.return_confirmed_by or ""), _when(e.return_confirmed_at)) if x
                ),
                "\n".join(note),
            ]
        )
    review = (
        CheckoutMonthReview.objects.filter(post=post, month=first)
        .select_related("reviewed_by")
        .first()
    )
    # The monthly review (第5-3(3)エ): filled when signed in Junkai; else the line the
    # 管理責任者 signs on paper, with room for his name and the date.
    closing = [
        "管理責任者の確認（要領 第5-3(3)エ・毎月1回）　"
        + (
            f"確認した記載 {review.entry_count}件（うち返却未確認 {review.open_count}件）"
            if review
            else "未確認"
        ),
        (
            f"確認者（管理責任者）氏名　{review.reviewed_by}　　"
            f"確認年月日　{_when(review.reviewed_at, ' ')}"
            if review
            else "確認者（管理責任者）氏名　＿＿＿＿＿＿＿＿＿＿＿＿　　"
            "確認年月日　令和　　年　　月　　日　　　印"
        ),
    ]
    columns = [
        Column("番号", 0.5, "right"),
        Column("持出日時（申告）", 1.6),
        Column("簿冊番号", 1.0),
        Column("持出警察官", 1.4),
        Column("目的", 1.8),
        Column("申告先（管理責任者）", 1.4),
        Column("持出確認者・日時", 1.6),
        Column("返却日時", 1.5),
        Column("返却時の申告先（管理責任者）", 1.4),
        Column("返却確認者・日時", 1.6),
        Column("備考", 1.1),
    ]
    ledger = Ledger(
        "巡回連絡カード持出確認簿",
        "第6号様式",
        [("交番等", post.name, 38 * MM), ("対象月", month_label(first), 30 * MM)],
        columns,
        [Section("", rows)],
        closing=closing,
        empty_text="この月の持出しはありません",
    )
    pdf = render_ledger(ledger, footer_text(officer))
    _record_unit(officer, post, post.station_id, "第6号様式", month=f"{first:%Y-%m}")
    return Printed(pdf, f"checkouts-{post.id}-{first:%Y-%m}.pdf")


def _return_managers(post: Post, entries: list[BinderCheckout]) -> dict[int, str]:
    """返却時の申告先 (第5-3(3)イ): the post's 管理責任者 on the day of each return — whom the
    return was declared to, as the declaration names the 管理責任者 of its day (`declared_to`).
    From the dated assignments, in one query for the month."""
    returned = [e for e in entries if e.returned_at is not None]
    if not returned:
        return {}
    if post.kind == PostKind.KANBU_KOBAN:
        where = Q(post=post)
    else:
        where = Q(station_id=post.station_id, post__isnull=True)
    assignments = list(
        Assignment.objects.filter(where, role=Role.MANAGER, cancelled=False)
        .select_related("officer")
        .order_by("officer_id")
    )
    found = {}
    for e in returned:
        assert e.returned_at is not None
        day = timezone.localtime(e.returned_at).date()
        manager = next((a.officer for a in assignments if a.is_valid_on(day)), None)
        found[e.id] = str(manager) if manager is not None else ""
    return found


# --- 亡失・盗難の事故報告書 ----------------------------------------------------------------


def print_loss_report(officer: Officer, report_id: int) -> Printed:
    """亡失・盗難事故報告書: the facts, who it went to, and the households whose cards the
    binder (or device) held when it was lost, each with its follow-up."""
    report = access_loss_report(officer, report_id, record_read=False)
    entries = list(
        LossReportHousehold.objects.filter(report=report)
        .select_related("household", "household__building")
        .order_by("index_number", "household_id")
    )
    post = report.post
    recipients = loss_recipients(post)
    names = {
        o.id: str(o)
        for o in Officer.objects.filter(id__in=[i for ids in recipients.values() for i in ids])
    }

    def named(ids: list[int]) -> str:
        return "、".join(names[i] for i in ids) or "（配置なし）"

    checkout = report.checkout
    facts = [
        ["区分", report.get_kind_display()],
        ["亡失したもの", f"{report.subject}（{post.name}）"],
        ["発生日時", _when(report.occurred_at, " ")],
        ["発生場所", report.place],
        ["状況", report.circumstances],
        ["措置（届出・捜索）", report.measures],
        [
            "持出確認簿",
            f"持出中の亡失（{_when(checkout.declared_at, ' ')} 申告、持出警察官 {checkout.borrower}）"
            if checkout is not None
            else "持出中ではない（保管中の亡失・盗難）",
        ],
        ["報告者・報告日時", f"{report.reported_by}　{_when(report.reported_at, ' ')}"],
        ["対象世帯", f"{len(entries)}世帯（報告時に{report.held_by}カード）"],
        [
            "発見",
            f"{_when(report.found_at, ' ')}　{report.found_place}" if report.found_at else "未発見",
        ],
        ["通知先（地域課長）", named(recipients["section_chiefs"])],
        ["通知先（署長）", named(recipients["station_chiefs"])],
        ["通知先（本部地域課）", named(recipients["hq"])],
    ]
    rows = []
    for i, e in enumerate(entries, start=1):
        h = e.household
        recreated = _when(e.card_recreated_at, " ")
        if not recreated and report.found_at:
            recreated = "不要（発見済）"
        rows.append(
            [
                str(i),
                str(e.index_number or ""),
                h.address,
                h.name,
                f"第{e.card_version}版",
                " ".join(
                    x for x in (_when(e.informed_at, " "), e.get_informed_method_display()) if x
                ),
                recreated,
                "済" if e.is_done(report) else "未了",
            ]
        )
    status = (
        f"完了（{_when(report.closed_at, ' ')} {report.closed_by}）"
        if report.status == LossReportStatus.CLOSED
        else "対応中"
    )
    ledger = Ledger(
        "巡回連絡カード亡失・盗難事故報告書",
        f"報告 #{report.id}",
        [("交番等", post.name, 38 * MM), ("状態", status, 60 * MM)],
        [Column("項目", 1.2), Column("内容", 5.0, size=9.0)],
        [
            Section("事案の概要", facts),
            Section(
                f"カードが{'端末にあった' if report.device_id else '綴られていた'}世帯と対応状況",
                rows,
                columns=[
                    Column("番号", 0.4, "right"),
                    Column("索引番号", 0.6, "right"),
                    Column("所在地", 2.6),
                    Column("世帯主・事業所名", 1.4),
                    Column("カード", 0.6),
                    Column("住民等への連絡", 1.6),
                    Column("カード再作成", 1.3),
                    Column("対応", 0.5),
                ],
            ),
        ],
        landscape=True,
        closing=[
            "管理責任者（地域課長）確認　　　　　　　　　　統括管理責任者（署長）確認",
        ],
        empty_text="端末に同期されていたカードはありません"
        if report.device_id
        else "綴られていたカードはありません",
    )
    pdf = render_ledger(ledger, footer_text(officer))
    with transaction.atomic():
        if entries:
            record_household_prints(
                officer, [e.household for e in entries], "亡失・盗難事故報告書", report=report.id
            )
        else:
            _record_unit(officer, report, post.station_id, "亡失・盗難事故報告書")
    return Printed(pdf, f"loss-report-{report.id}.pdf")


# --- 第7号様式 ---------------------------------------------------------------------------


MAX_PERIOD_DAYS = 366


def _period(since: str | None, until: str | None) -> tuple[dt.date, dt.date]:
    """from/to as typed (西暦 or 和暦); by default the 年度 so far."""
    today = timezone.localdate()
    errors: dict[str, str] = {}
    parsed: dict[str, dt.date] = {}
    for name, text in (("from", since), ("to", until)):
        if text:
            try:
                parsed[name] = parse_date(text)
            except DateFormatError as exc:
                label = "期間の始め" if name == "from" else "期間の終わり"
                errors[name] = f"{label}: {exc}"
    if errors:
        raise ValidationError(errors)
    earliest, latest = dt.date(2000, 1, 1), dt.date(today.year + 1, 12, 31)
    for name, day in parsed.items():
        if not earliest <= day <= latest:
            label = "期間の始め" if name == "from" else "期間の終わり"
            errors[name] = (
                f"{label}は{format_wareki(earliest)}から{format_wareki(latest)}までの日付で"
                "指定してください"
            )
    if errors:
        raise ValidationError(errors)
    start_of_year = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    start = parsed.get("from", start_of_year)
    end = parsed.get("to", today)
    if start > end:
        raise ValidationError({"from": "期間の始め（from）が終わり（to）より後になっています"})
    # One print is at most a year (the register is kept by 年度): a longer one is printed in
    # parts, so no request builds a PDF of every entry the station ever recorded.
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"to": f"期間は{MAX_PERIOD_DAYS}日以内で指定してください"})
    return start, end


def print_data_uses(
    officer: Officer, station_id: int, *, since: str | None = None, until: str | None = None
) -> Printed:
    """巡回連絡カード利用確認簿 (第7号様式) of a station for a period: the entries the officer
    may read there (the whole station's, or his post's)."""
    start, end = _period(since, until)
    station: Station = access_data_use_station(officer, station_id)
    entries = list(
        filter_register(
            data_uses_visible_to(officer), station_id=station.id, since=start, until=end
        )
        .select_related(
            "post",
            "station",
            "recorded_by",
            "verified_by",
            "approved_by",
            "released_by",
            "refused_by",
        )
        .prefetch_related(
            Prefetch("households", queryset=Household.objects.select_related("building"))
        )
        .order_by("recorded_at", "id")
    )
    rows = []
    shown: dict[int, Household] = {}
    for e in entries:
        households = list(e.households.all())
        shown.update({h.id: h for h in households})
        released = dict(e.released_groups())
        if not e.other_prefecture:
            approval = "不要（本県）"
        elif e.approved_at:
            approval = f"{e.approved_by}\n{_when(e.approved_at)}"
        elif e.refused_at:
            approval = f"不承認 {e.refused_by}\n{e.refusal_reason}"
        else:
            approval = "未承認"
        if e.released_at:
            groups = "・".join(sorted({g for gs in released.values() for g in gs}))
            release = (
                f"{_when(e.released_at)} {e.get_release_method_display()}\n{groups}\n"
                f"{e.released_by or ''}"
            )
        elif e.refused_at:
            release = "提供せず"
        else:
            release = "未提供"
        rows.append(
            [
                f"{e.label}\n{_when(e.recorded_at)}\n{e.unit_label}・{e.recorded_by}",
                f"{e.requester_prefecture}警察 {e.requester_unit}\n{e.requester_name}",
                e.police_phone,
                e.purpose,
                "\n".join(h.address for h in households),
                (
                    f"{_when(e.verified_at)}\n{e.verified_by}\n☎ {e.callback_number}"
                    if e.verified_at
                    else "未確認"
                ),
                approval,
                release,
            ]
        )
    columns = [
        Column("番号・受付日時・受付者", 1.9, size=7.5),
        Column("利用者の所属・氏名", 1.7, size=7.5),
        Column("警察電話番号", 1.3, size=7.5),
        Column("利用目的", 1.6, size=7.5),
        Column("対象の世帯（所在地）", 1.9, size=7.5),
        Column("警察職員であることの確認（折り返し）", 1.6, size=7.5),
        Column("承認（管理責任者）", 1.5, size=7.5),
        Column("提供した内容", 1.9, size=7.5),
    ]
    period = f"{format_wareki(start)} ～ {format_wareki(end)}"
    ledger = Ledger(
        "巡回連絡カード利用確認簿",
        "第7号様式",
        [("警察署", station.name, 36 * MM), ("期間", period, 62 * MM)],
        columns,
        [Section("", rows)],
        empty_text="この期間の記録はありません",
    )
    pdf = render_ledger(ledger, footer_text(officer))
    with transaction.atomic():
        record_household_prints(officer, shown.values(), "第7号様式", station=station.id)
        _record_unit(
            officer,
            station,
            station.id,
            "第7号様式",
            period=f"{start.isoformat()}/{end.isoformat()}",
            count=len(entries),
        )
    return Printed(pdf, f"data-uses-{station.id}-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


# --- 提供の記録 (disclosure accounting, for the resident) -----------------------------------

ACCOUNTING_FORM = "提供の記録"


def print_disclosure_accounting(officer: Officer, household_id: int) -> Printed:
    """Every release and print of one household's data, for its 管理責任者 or the 署長 to hand
    to the resident. The print is itself a print of the household (it lists itself next time)."""
    household = access_accounting(officer, household_id)
    rows = [
        [
            _when(r.at),
            r.kind,
            r.recipient,
            r.purpose,
            r.content,
            r.by,
            r.reference,
        ]
        for r in releases_of(household)
    ]
    ledger = Ledger(
        "巡回連絡個人情報の提供の記録",
        "",
        [
            ("所在地", household.address, 70 * MM),
            ("世帯主・事業所名", household.name or "―", 46 * MM),
            ("作成日", format_wareki(timezone.localdate()), 36 * MM),
        ],
        [
            Column("日時", 1.1, size=7.5),
            Column("種別", 1.7, size=7.5),
            Column("提供先・請求者", 2.2, size=7.5),
            Column("目的", 2.0, size=7.5),
            Column("内容", 1.9, size=7.5),
            Column("取扱者", 1.5, size=7.5),
            Column("記録", 1.2, size=7.5),
        ],
        [Section("", rows)],
        closing=[
            "この世帯の巡回連絡個人情報の利用確認簿（第7号様式）による提供、",
            "他の行政機関からの照会に対する提供及びこの世帯を記載した様式の印刷・出力のすべてです。",
        ],
        empty_text="提供・印刷した記録はありません",
    )
    pdf = render_ledger(ledger, footer_text(officer))
    with transaction.atomic():
        record_household_prints(officer, [household], ACCOUNTING_FORM)
    return Printed(pdf, f"disclosures-{household.id}.pdf")
