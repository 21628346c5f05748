"""The rows of a beat's household list, read as plain values and rendered once in Python.

A beat has about 800 doors. Through the template engine each row cost ~0.1 ms of tag and
filter dispatch; as model instances, ~0.05 ms more to build them. Here the query returns
plain values (`beat_list_households`) and the markup is built with html.escape, a few
microseconds a row. Everything interpolated is escaped here; the template marks only the
joined result safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from junkai.households.models import (
    Building,
    CardStatus,
    Category,
    ContactCard,
    Household,
    HouseholdStatus,
    LeaderRole,
    format_full_address,
)
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat

_CATEGORY = dict(Category.choices)
_STATUS = dict(HouseholdStatus.choices)
_LEADER = dict(LeaderRole.choices)
_ACTIVE = HouseholdStatus.ACTIVE.value


@dataclass(slots=True)
class ListRow:
    """What the list shows of one household (its columns in this order, then has_card)."""

    id: int
    town: str
    chome: str
    banchi: str
    go: str
    room: str
    block_group: str
    map_number: int | None
    name: str
    status: str
    leader_role: str
    category: str
    last_visit_at: dt.datetime | None
    building_id: int | None
    has_card: bool
    building_name: str = ""

    @property
    def address(self) -> str:
        return format_full_address(
            self.town, self.chome, self.banchi, self.go, self.building_name, self.room
        )


_COLUMNS = tuple(f for f in ListRow.__dataclass_fields__ if f not in ("has_card", "building_name"))


def beat_list_households(beat: Beat, *, town: str = "", block_group: str = "") -> list[ListRow]:
    """The list's households in 町名・丁目・組・班・整理番号 order, optionally of one town and
    組・班: one query for the rows, one for the names of their buildings."""
    households = Household.objects.filter(beat=beat)
    if town:
        households = households.filter(town=town)
    if block_group:
        households = households.filter(block_group=block_group)
    values = (
        households.annotate(
            has_card=Exists(
                ContactCard.objects.filter(household=OuterRef("pk"), status=CardStatus.ACTIVE)
            )
        )
        .order_by("town", "chome", "block_group", "map_number", "id")
        .values_list(*_COLUMNS, "has_card")
    )
    rows = [ListRow(*v) for v in values]
    # Buildings by their ids: joined, PostgreSQL hashed the whole buildings table.
    ids = {r.building_id for r in rows if r.building_id is not None}
    if ids:
        names = dict(Building.objects.filter(id__in=ids).values_list("id", "name"))
        for r in rows:
            if r.building_id is not None:
                r.building_name = names.get(r.building_id, "")
    return rows


def row_html(
    row: ListRow, url: str, last_visit: str, record: str = "", *, marked: bool = False
) -> str:
    """One row; `record` is the link of its 記録 button ("" for none), `marked` 次の世帯."""
    status = (
        ""
        if row.status == _ACTIVE
        else f' <span class="badge warn">{escape(_STATUS.get(row.status, ""))}</span>'
    )
    leader = (
        f' <span class="badge">{escape(_LEADER.get(row.leader_role, ""))}</span>'
        if row.leader_role
        else ""
    )
    card = "作成済" if row.has_card else '<span class="badge warn">未作成</span>'
    category = row.category
    button = f'<a class="button record" href="{escape(record)}">記録</a>' if record else ""
    next_mark = '<span class="badge next">次の世帯</span> ' if marked else ""
    row_class = ' class="is-next"' if marked else ""
    return (
        # data-label: the stacked rows of a phone (junkai.css, "layout: tables")
        f'<tr id="h-{row.id}"{row_class}>'
        f'<td data-label="整理番号">{"" if row.map_number is None else row.map_number}</td>'
        f'<td data-label="住所">{next_mark}<a href="{escape(url)}">{escape(row.address)}</a>{status}</td>'
        f'<td data-label="世帯主・事業所名">{escape(row.name)}{leader}</td>'
        f'<td data-label="区分"><span class="cat cat-{escape(category.lower())}">'
        f"{escape(_CATEGORY.get(category, ''))}</span></td>"
        f'<td data-label="カード">{card}</td>'
        f'<td class="muted" data-label="最終訪問">{last_visit}</td>'
        f'<td class="record-cell">{button}</td></tr>'
    )


def rows_html(
    rows: Iterable[tuple[ListRow, str]],
    records: dict[int, str] | None = None,
    marked: int | None = None,
) -> SafeString:
    """The rows; `records`: each household's 記録 link by id (none for a reader), `marked`:
    the household shown as 次の世帯."""
    days: dict[dt.date, str] = {}  # 和暦 once per day: a beat's visits fall on few days
    tz = timezone.get_current_timezone()  # once: each lookup goes through a context-local
    parts = []
    for row, url in rows:
        last = row.last_visit_at
        if last is None:
            last_visit = "―"
        else:
            day = last.astimezone(tz).date()
            last_visit = days.get(day) or days.setdefault(day, format_wareki(day))
        record = records.get(row.id, "") if records else ""
        parts.append(row_html(row, url, last_visit, record, marked=row.id == marked))
    # Safe: every value in row_html passes through escape().
    return mark_safe("".join(parts))  # noqa: S308


@dataclass(frozen=True)
class RowGroup:
    """One 町名 and 組・班 of the list, its rows already rendered."""

    town: str
    block_group: str
    count: int
    rows: SafeString
    number: int = 0
    #: Shown open: the only group, or the one holding 次の世帯.
    open: bool = False
