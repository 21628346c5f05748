"""Visit history for the demo station: without it every demo household would be years overdue.

Each household with a card gets a past MET visit by an officer of its post, some within and some
beyond their 別表 interval (so the work list has due and overdue rows), plus a few absences.
Bulk-created (demo data), with one audit event for the load.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.models import CardStatus, Household, Outcome
from junkai.households.schedule import current_policy, due_date
from junkai.org.models import Assignment, Role, Station
from junkai.visits.models import Visit


@transaction.atomic
def build_demo_visits(station: Station, *, seed: int = 11) -> int:
    if Visit.objects.filter(station=station).exists():
        return 0
    rng = random.Random(seed)  # noqa: S311  (reproducible demo data, not secrets)
    policy = current_policy()
    officers_by_post: dict[int, list[int]] = {}
    for a in Assignment.objects.current().filter(post__station=station, role=Role.BEAT_OFFICER):
        assert a.post_id is not None
        officers_by_post.setdefault(a.post_id, []).append(a.officer_id)
    now = timezone.now()
    visits: list[Visit] = []
    households = list(
        Household.objects.filter(station=station, cards__status=CardStatus.ACTIVE).distinct()
    )
    for household in households:
        officers = officers_by_post.get(household.post_id)
        if not officers:
            continue
        months = policy.months_for(household.category, leader=household.is_leader)
        # Mostly within the interval, a fifth overdue by up to a few months.
        days_ago = rng.randint(5, months * 30 - 10 if rng.random() < 0.8 else months * 30 + 90)
        when = (now - dt.timedelta(days=days_ago)).replace(
            hour=rng.randint(9, 17), minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0
        )
        outcome = Outcome.MET if rng.random() < 0.9 else Outcome.ABSENT
        visits.append(
            Visit(
                household=household,
                post_id=household.post_id,
                station_id=household.station_id,
                officer_id=rng.choice(officers),
                started_at=when,
                outcome=outcome,
                guidance_topics=sorted(rng.sample([1, 2, 3, 4, 5, 6], k=rng.randint(1, 3)))
                if outcome == Outcome.MET
                else [],
            )
        )
        household.last_visit_at = when
        household.last_outcome = outcome
        household.last_met_at = when if outcome == Outcome.MET else None
        household.next_due = due_date(household, policy)
    Visit.objects.bulk_create(visits, batch_size=2000)
    Household.objects.bulk_update(
        households, ["last_visit_at", "last_outcome", "last_met_at", "next_due"], batch_size=2000
    )
    record(
        EventType.HOUSEHOLDS_IMPORTED,
        station_id=station.id,
        details={"source": "demo-visits", "visits": len(visits)},
    )
    return len(visits)
