"""The rows of a beat's household list, rendered once in Python.

A beat has about 800 doors; through the template engine each row cost ~0.1 ms of tag and
filter dispatch (three get_*_display calls, filters, ifs), most of the page's time at 500,000
households. The same markup built with escape() is a few microseconds a row. Everything
interpolated is escaped here; the template marks only the joined result safe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from junkai.households.models import (
    Building,
    CardStatus,
    Category,
    ContactCard,
    Household,
    HouseholdStatus,
    LeaderRole,
)
from junkai.lib.wareki import format_wareki
from junkai.org.models import Beat

_CATEGORY = dict(Category.choices)
_STATUS = dict(HouseholdStatus.choices)
_LEADER = dict(LeaderRole.choices)


def beat_list_households(beat: Beat) -> QuerySet[Household]:
    """The list's households in 町名・丁目・組・班・整理番号 order, with `has_card`."""
    return (
        Household.objects.filter(beat=beat)
        # Only what the list shows: a beat has ~800 rows and each field costs.
        .only(
            "id",
            "town",
            "chome",
            "banchi",
            "go",
            "room",
            "block_group",
            "map_number",
            "name",
            "status",
            "leader_role",
            "category",
            "last_visit_at",
            "building",
        )
        # Buildings by a second query on their ids: joined, PostgreSQL hashed the whole
        # buildings table for one beat's rows.
        .prefetch_related(Prefetch("building", Building.objects.only("id", "name")))
        .annotate(
            has_card=Exists(
                ContactCard.objects.filter(household=OuterRef("pk"), status=CardStatus.ACTIVE)
            )
        )
        .order_by("town", "chome", "block_group", "map_number", "id")
    )


def row_html(household: Household, url: str) -> str:
    status = (
        ""
        if household.status == HouseholdStatus.ACTIVE
        else f' <span class="badge warn">{escape(_STATUS.get(household.status, ""))}</span>'
    )
    leader = (
        f' <span class="badge">{escape(_LEADER.get(household.leader_role, ""))}</span>'
        if household.leader_role
        else ""
    )
    card = (
        "作成済"
        if getattr(household, "has_card", False)
        else '<span class="badge warn">未作成</span>'
    )
    last = household.last_visit_at
    last_text = format_wareki(timezone.localdate(last)) if last else "―"
    category = household.category
    return (
        f"<tr><td>{'' if household.map_number is None else household.map_number}</td>"
        f'<td><a href="{escape(url)}">{escape(household.address)}</a>{status}</td>'
        f"<td>{escape(household.name)}{leader}</td>"
        f'<td><span class="cat cat-{escape(category.lower())}">'
        f"{escape(_CATEGORY.get(category, ''))}</span></td>"
        f"<td>{card}</td>"
        f'<td class="muted">{last_text}</td></tr>'
    )


def rows_html(households: Iterable[tuple[Household, str]]) -> SafeString:
    # Safe: every value in row_html passes through escape().
    return mark_safe("".join(row_html(h, url) for h, url in households))  # noqa: S308


@dataclass(frozen=True)
class RowGroup:
    """One 町名 and 組・班 of the list, its rows already rendered."""

    town: str
    block_group: str
    count: int
    rows: SafeString
