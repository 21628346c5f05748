"""The handover of a beat (第4-6 新任受持警察官の措置): what the new officer needs to know, read
from the records. A selector (reads only), as worklist.py is for the work list; the page
records the read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from junkai.households.models import Category, Household, HouseholdStatus, Outcome
from junkai.households.schedule import covered_q, current_policy
from junkai.org.models import Assignment, Beat, today
from junkai.visits.models import Concern, ConcernStatus, HandoverNote, Visit

#: Overdue and 未把握 households listed by name; the rest are counted.
HANDOVER_LIST_LIMIT = 50


def handover_context(beat: Beat) -> dict[str, Any]:
    """Coverage by category, the overdue and 未把握 households, recent refusals, open concerns,
    the notes left, who walks the beat and last year's visits."""
    now = today()
    households = Household.objects.filter(beat=beat, status=HouseholdStatus.ACTIVE)
    coverage = _coverage(households, now)
    overdue = households.filter(next_due__lt=now).select_related("building")
    unknown = households.filter(category=Category.UNKNOWN).select_related("building")
    unknown_count = next(c["n"] for c in coverage["categories"] if c["value"] == Category.UNKNOWN)
    return {
        "beat": beat,
        "coverage": coverage,
        "overdue_more": max(coverage["total"]["overdue"] - HANDOVER_LIST_LIMIT, 0),
        "unknown_count": unknown_count,
        "unknown_more": max(unknown_count - HANDOVER_LIST_LIMIT, 0),
        "overdue": list(overdue.order_by("priority", "next_due", "id")[:HANDOVER_LIST_LIMIT]),
        "unknown": list(unknown.order_by("next_due", "id")[:HANDOVER_LIST_LIMIT]),
        "refusals": _recent_refusals(beat),
        "concerns": _open_concerns(beat),
        "notes": list(HandoverNote.objects.filter(beat=beat).select_related("author")),
        "assigned": _assigned(beat),
        "last_year": _last_year(beat),
        "today": now,
    }


def _recent_refusals(beat: Beat) -> list[Visit]:
    return list(
        Visit.objects.filter(household__beat=beat, outcome=Outcome.REFUSED)
        .select_related("household", "household__building", "officer")
        .order_by("-started_at")[:20]
    )


def _open_concerns(beat: Beat) -> list[Concern]:
    return list(
        Concern.objects.filter(household__beat=beat)
        .exclude(status=ConcernStatus.RESOLVED)
        .select_related("household", "household__building", "owner", "visit")
        .order_by("visit__started_at", "id")
    )


def _assigned(beat: Beat) -> list[Any]:
    assigned = (
        Assignment.objects.current()
        .filter(beats=beat)
        .select_related("officer")
        .order_by("officer__username")
    )
    return [a.officer for a in assigned]


def _last_year(beat: Beat) -> dict[str, Any]:
    year_ago = timezone.now() - dt.timedelta(days=365)
    return Visit.objects.filter(household__beat=beat, started_at__gte=year_ago).aggregate(
        total=Count("id"), met=Count("id", filter=Q(outcome=Outcome.MET))
    )


def _coverage(households: QuerySet[Household], now: dt.date) -> dict[str, Any]:
    """Per category: households, those met within their interval (schedule.covered_q, as the
    dashboards count them), overdue ones."""
    covered = covered_q(current_policy(), now)
    rows = {
        row["category"]: row
        for row in households.order_by()
        .values("category")
        .annotate(
            n=Count("id"),
            covered=Count("id", filter=covered),
            overdue=Count("id", filter=Q(next_due__lt=now)),
        )
    }
    categories = []
    for value, label in Category.choices:
        row = rows.get(value, {})
        n, met = row.get("n", 0), row.get("covered", 0)
        categories.append(
            {
                "value": value,
                "label": label,
                "n": n,
                "covered": met,
                "overdue": row.get("overdue", 0),
                "rate": round(100 * met / n) if n else None,
            }
        )
    n = sum(c["n"] for c in categories)
    met = sum(c["covered"] for c in categories)
    total = {
        "n": n,
        "covered": met,
        "overdue": sum(c["overdue"] for c in categories),
        "rate": round(100 * met / n) if n else None,
    }
    return {"categories": categories, "total": total}
