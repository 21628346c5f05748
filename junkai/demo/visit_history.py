"""Years of visit history for the synthetic prefecture (`junkai synth`, `junkai synth-visits`).

Benchmarks of the work list, visit recording and dashboards must run over a realistic history:
at 500,000 households, ten years is about five million visits. Each household is visited by the
beat officer of its beat at roughly its 別表 interval, late by up to 75 % (so some households end
overdue, as in life), with absences retried after the policy's short delay. 未把握 households are
hard to reach: tried about twice a year, mostly absent.
At 500,000 households this gives about five million visits. Refusals are left out: each real one
carries a RefusalReport and an explanation, which a benchmark of reads does not need.

Rows go in as plain tuples (COPY on PostgreSQL) through households.bulk.TableWriter, then each
household's schedule fields (last visit, last contact, next due) are set from its newest
visits in one statement, as the visit actions would have left them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.households.bulk import TableWriter
from junkai.households.models import Household, HouseholdStatus, Outcome, SchedulePolicy
from junkai.households.schedule import current_policy, due_date
from junkai.lib.dates import add_months
from junkai.org.models import Assignment, Role, Station
from junkai.visits.models import Method, Visit

#: Households handled per chunk (their visits are generated, then written with one COPY).
CHUNK = 5000
#: A 未把握 household is tried about every six months (its 3-month interval is an aim).
UNKNOWN_TRY_MONTHS = 6

_VISIT_FIELDS = (
    "household_id",
    "post_id",
    "station_id",
    "officer_id",
    "started_at",
    "method",
    "outcome",
    "guidance_topics",
    "note",
    "refusal_explanation",
    "created_at",
)


@dataclass(frozen=True)
class HistoryResult:
    households: int
    visits: int


def _officers_by_beat(stations: list[Station]) -> tuple[dict[int, int], dict[int, int]]:
    """Each beat's officer, and one officer per post for beats without one."""
    by_beat: dict[int, int] = {}
    by_post: dict[int, int] = {}
    for a in (
        Assignment.objects.current()
        .filter(station__in=stations, role=Role.BEAT_OFFICER)
        .prefetch_related("beats")
    ):
        if a.post_id is not None:
            by_post.setdefault(a.post_id, a.officer_id)
        for beat in a.beats.all():
            by_beat.setdefault(beat.id, a.officer_id)
    return by_beat, by_post


@transaction.atomic
def do_build_visit_history(
    stations: list[Station],
    *,
    years: int = 10,
    seed: int = 11,
    progress: Callable[[int], object] | None = None,
) -> HistoryResult:
    """Visits over the last `years` for every active household of `stations` (synthetic
    stations only: the caller checks), and each household's schedule fields to match."""
    if Visit.objects.filter(station__in=stations).exists():
        raise ValueError("これらの警察署には既に巡回連絡の記録があります")
    rng = random.Random(seed)  # noqa: S311  (reproducible benchmark data, not secrets)
    policy = current_policy()
    now = timezone.now()
    start = now - dt.timedelta(days=round(365.25 * years))
    by_beat, by_post = _officers_by_beat(stations)
    households = Household.objects.filter(
        station__in=stations, status=HouseholdStatus.ACTIVE
    ).values_list("id", "beat_id", "post_id", "station_id", "category", "leader_role")
    ids = list(households.order_by("id"))
    vendor = connection.vendor
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            # Check the foreign keys as rows go in: deferred to the commit, five million rows'
            # checks ran there alone for minutes.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    writer = TableWriter(raw.cursor() if vendor == "postgresql" else connection.cursor(), vendor)
    topics = [1, 2, 3, 4, 5, 6]
    zone = timezone.get_current_timezone()
    topic_json: dict[tuple[int, ...], str] = {}  # a few hundred distinct lists, rendered once
    visits = 0
    schedule: list[tuple[Any, ...]] = []

    def history(row: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        household_id, beat_id, post_id, station_id, category, leader_role = row
        officer_id = by_beat.get(beat_id) or by_post.get(post_id)
        if officer_id is None:
            return
        unknown = category == "UNKNOWN"
        months = (
            UNKNOWN_TRY_MONTHS if unknown else policy.months_for(category, leader=bool(leader_role))
        )
        met_share = 0.35 if unknown else 0.88
        day = start.date() + dt.timedelta(days=rng.randint(0, months * 30))
        last_visit: dt.datetime | None = None
        last_met: dt.datetime | None = None
        last_outcome = ""
        while True:
            when = dt.datetime.combine(
                day, dt.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), tzinfo=zone
            )
            if when >= now:
                break
            met = rng.random() < met_share
            outcome = Outcome.MET if met else Outcome.ABSENT
            if met:
                chosen = tuple(sorted(rng.sample(topics, k=rng.randint(1, 3))))
                guidance = topic_json.get(chosen)
                if guidance is None:
                    guidance = topic_json[chosen] = json.dumps(list(chosen))
                last_met = when
                day = add_months(day, round(months * rng.uniform(1.0, 1.75)))
            elif unknown:
                guidance = "[]"
                day = add_months(day, round(months * rng.uniform(1.0, 1.75)))
            else:
                guidance = "[]"
                day += dt.timedelta(days=policy.absent_retry_days + rng.randint(0, 10))
            last_visit, last_outcome = when, outcome
            yield (
                household_id,
                post_id,
                station_id,
                officer_id,
                when,
                Method.VISIT,
                outcome,
                guidance,
                "",
                "",
                when + dt.timedelta(minutes=20),
            )
        if last_visit is not None:
            schedule.append(
                (household_id, category, leader_role, last_visit, last_met, last_outcome)
            )

    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset : offset + CHUNK]
        rows = [v for row in chunk for v in history(row)]
        writer.insert(Visit, _VISIT_FIELDS, rows)
        visits += len(rows)
        if progress is not None:
            progress(len(chunk))
    _store_schedule(writer, schedule, start, policy)
    record(
        EventType.HOUSEHOLDS_IMPORTED,
        details={"source": "synth-visits", "visits": visits, "years": years},
    )
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE visits_visit")
            cursor.execute("ANALYZE households_household")
    return HistoryResult(households=len(schedule), visits=visits)


def _store_schedule(
    writer: TableWriter,
    schedule: list[tuple[Any, ...]],
    start: dt.datetime,
    policy: SchedulePolicy,
) -> None:
    """last_visit_at, last_outcome, last_met_at and next_due as the visit actions leave them;
    created_at moves back to the start of the history (a household is not visited before it
    is on record)."""
    rows = []
    for household_id, category, leader_role, last_visit, last_met, last_outcome in schedule:
        probe = Household(
            category=category,
            leader_role=leader_role,
            created_at=start,
            last_visit_at=last_visit,
            last_met_at=last_met,
            last_outcome=last_outcome,
        )
        rows.append((household_id, last_visit, last_outcome, last_met, due_date(probe, policy)))
    cursor = writer.cursor
    if writer.vendor == "postgresql":
        cursor.execute(
            "CREATE TEMP TABLE synth_schedule (id bigint, last_visit_at timestamptz,"
            " last_outcome varchar(8), last_met_at timestamptz, next_due date) ON COMMIT DROP"
        )
        with cursor.copy("COPY synth_schedule FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE households_household h SET last_visit_at = s.last_visit_at,"
            " last_outcome = s.last_outcome, last_met_at = s.last_met_at,"
            " next_due = s.next_due, created_at = LEAST(h.created_at, %s)"
            " FROM synth_schedule s WHERE h.id = s.id",
            [start],
        )
        return
    adapt = connection.ops.adapt_datetimefield_value
    cursor.executemany(
        "UPDATE households_household SET last_visit_at = %s, last_outcome = %s,"
        " last_met_at = %s, next_due = %s, created_at = MIN(created_at, %s) WHERE id = %s",
        [(adapt(v), o, adapt(m), d, adapt(start), i) for i, v, o, m, d in rows],
    )
