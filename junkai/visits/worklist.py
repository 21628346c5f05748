"""The work list query, one for the page and the API: households of some beats due by a day,
HIGH priority first, then by due date, with open concerns and the card's preferred times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from junkai.households.models import (
    Building,
    CardStatus,
    ContactCard,
    Household,
    HouseholdStatus,
)
from junkai.visits.models import Concern, ConcernStatus


def due_households(households: QuerySet[Household], until: dt.date) -> QuerySet[Household]:
    """`households` (already scoped) that are active and due by `until`, in work-list order.

    Annotates `open_concerns`, `preferred_times`, `preferred_days` (subqueries, not a query
    per row). Every household has a stored `next_due` (actions and the bulk loader keep it).
    """
    open_concerns = (
        Concern.objects.filter(household=OuterRef("pk"))
        .exclude(status=ConcernStatus.RESOLVED)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    card = ContactCard.objects.filter(household=OuterRef("pk"), status=CardStatus.ACTIVE)
    return (
        households.filter(status=HouseholdStatus.ACTIVE, next_due__lte=until)
        .annotate(
            open_concerns=Coalesce(Subquery(open_concerns, output_field=IntegerField()), Value(0)),
            preferred_times=Coalesce(Subquery(card.values("preferred_times")[:1]), Value("")),
            preferred_days=Coalesce(Subquery(card.values("preferred_days")[:1]), Value("")),
        )
        # Buildings by a second query on their ids: joined, PostgreSQL hashed the whole
        # buildings table for a few hundred rows (10 ms of 27 at 500,000 households).
        .prefetch_related("building")
        .order_by("priority", "next_due", "id")
    )


#: The fields of a work-list row as plain values (due_rows).
ROW_FIELDS = (
    "id", "town", "chome", "banchi", "go", "room", "block_group", "map_number", "beat_id",
    "priority", "category", "next_due", "last_outcome", "last_visit_at",
    "open_concerns", "preferred_times", "preferred_days", "building_name",
)  # fmt: skip


def due_rows(households: QuerySet[Household], until: dt.date) -> list[dict[str, Any]]:
    """due_households() as plain values, the building's name by a subquery: one query and no
    model instances (building ~200 Household objects was half of the API's time)."""
    building = Building.objects.filter(pk=OuterRef("building_id")).order_by().values("name")[:1]
    return list(
        due_households(households, until)
        .prefetch_related(None)
        .annotate(building_name=Coalesce(Subquery(building), Value("")))
        .values(*ROW_FIELDS)
    )
