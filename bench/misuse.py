"""Misuse scan: what one run of `junkai misuse-scan` costs over a day of audit events.

DATABASE_URL=postgres:///junkai .venv/bin/python -m bench.misuse [EVENTS_PER_DAY]

BENCH_QUERIES=1 prints each run's slowest queries; BENCH_EXPLAIN=1 (PostgreSQL) also prints the
plan, with its timing, of the query that finds the tasks on the reads' households (by
`details["household"]`: audit 0015's expression index).

Builds the demo station, writes two days of events straight into the audit log (reads of
households by every officer, work lists, visits), then times a first scan of a day (which raises
the flags), the periodic run (`scan()`, what the 5-minute timer runs) first with no watermark,
then after 5 more minutes of events (the steady state, with the day's flags open), then with
nothing new, and a rescan of the day.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import os
import pstats
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.common import bench_database


def _events(
    rng: random.Random,
    households: list[tuple[int, int]],
    officers: list[int],
    count: int,
    start: dt.datetime,
    seconds: float,
) -> Iterator[Any]:
    from junkai.audit.models import AuditEvent, EventType

    for _ in range(count):
        at = start + dt.timedelta(seconds=rng.uniform(0, seconds))
        household, station = rng.choice(households)
        kind = rng.random()
        if kind < 0.6:
            event_type, details = EventType.READ_HOUSEHOLD, {}
        elif kind < 0.8:
            event_type, details = EventType.VISIT_RECORDED, {"household": household}
        else:
            event_type, details = EventType.LIST_HOUSEHOLDS, {"count": 0}
        yield AuditEvent(
            created_at=at,
            actor_id=rng.choice(officers),
            event_type=event_type,
            object_type=(
                "org.beat" if event_type == EventType.LIST_HOUSEHOLDS else "households.household"
            ),
            object_id=str(household) if event_type != EventType.LIST_HOUSEHOLDS else "1",
            station_id=station,
            purpose="作業リスト" if event_type == EventType.LIST_HOUSEHOLDS else "閲覧",
            details=details,
        )


#: The tasks query of junkai.disclosures.misuse._work_for (as Django writes it for PostgreSQL).
_TASKS_BY_DETAILS = '"audit_auditevent"."details" -> %s) IN'


def _wait_for_commit_line() -> float:
    """PostgreSQL: wait until every event written so far lies below the oldest open transaction
    (another session's long transaction on the shared cluster holds the line back)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(xid), 0) FROM audit_auditevent")
        top = cursor.fetchone()[0]
        while time.perf_counter() - t0 < 300:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > top:
                break
            time.sleep(0.5)
    return time.perf_counter() - t0


def main(per_day: int) -> None:
    with bench_database() as backend:
        from django.db import connection
        from django.utils import timezone

        from junkai.audit.models import AuditEvent
        from junkai.audit.seal import seal_pending
        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import build_demo
        from junkai.disclosures.misuse import scan
        from junkai.disclosures.models import MisuseFlag
        from junkai.households.models import Household
        from junkai.org.models import Officer

        build_demo_households(build_demo(), count=2000)
        rng = random.Random(16)  # noqa: S311 (synthetic data)
        households = list(Household.objects.values_list("id", "station_id"))
        officers = list(Officer.objects.values_list("id", flat=True))
        now = timezone.now()
        events = _events(
            rng, households, officers, 2 * per_day, now - dt.timedelta(days=2), 2 * 86400
        )
        AuditEvent.objects.bulk_create(events, batch_size=5000)
        # Seal them now: the scan's first flag would otherwise seal the whole backlog.
        seal_pending()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"backend: {backend}; {2 * per_day:,} events over two days, {len(officers)} officers")
        day = timezone.now() - dt.timedelta(hours=24)

        def new_events() -> str:
            count = per_day // 288  # five minutes' worth
            AuditEvent.objects.bulk_create(
                _events(
                    rng, households, officers, count, timezone.now() - dt.timedelta(minutes=5), 300
                )
            )
            seal_pending()
            waited = _wait_for_commit_line()
            return f"{count} new events" + (
                f", waited {waited:.1f} s for the commit line" if waited > 1 else ""
            )

        runs: list[tuple[str, dict[str, Any], Callable[[], str] | None]] = [
            ("first scan of 24 h (raises the flags)", {"since": day}, None),
            ("the periodic run, first (no watermark yet)", {}, None),
            ("the periodic run after 5 minutes of events", {}, new_events),
            ("the periodic run after 5 minutes of events, again", {}, new_events),
            ("the periodic run, nothing new", {}, None),
            ("rescan of 24 h (nothing new)", {"since": day}, None),
        ]
        for label, kwargs, before in runs:
            note = before() if before is not None else ""
            open_flags = MisuseFlag.objects.filter(reviewed_at__isnull=True).count()
            timed: list[tuple[float, str]] = []

            def timer(
                execute: Any,
                sql: str,
                params: Any,
                many: bool,
                context: Any,
                timed: list[tuple[float, str]] = timed,
            ) -> Any:
                start = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    timed.append((time.perf_counter() - start, sql))
                    explain = os.environ.get("BENCH_EXPLAIN") and not sql.startswith("EXPLAIN")
                    if explain and _TASKS_BY_DETAILS in sql:
                        with connection.cursor() as cursor:
                            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                            plan = [row[0] for row in cursor.fetchall()]
                        print("  the tasks query's plan:")
                        print("\n".join(f"    {line}" for line in plan))

            watch = connection.execute_wrapper(timer)
            if os.environ.get("BENCH_QUERIES"):
                watch.__enter__()
            profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            t0 = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            result = scan(**kwargs)
            elapsed = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            if os.environ.get("BENCH_QUERIES"):
                watch.__exit__(None, None, None)
                print(f"  {len(timed)} queries, {sum(s for s, _ in timed):.2f} s in the database")
                for seconds, sql in sorted(timed, reverse=True)[:6]:
                    print(f"  {seconds:.3f} s  {sql[:300]}")
            print(
                f"{label}{f' ({note})' if note else ''}: {result.reads:,} reads judged in "
                f"{elapsed:.2f} s with {open_flags} flags open, {len(result.flags)} flags raised, "
                f"{len(result.settled)} settled"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
