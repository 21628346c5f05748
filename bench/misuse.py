"""Misuse scan: what one run of `junkai misuse-scan` costs over a day of audit events.

DATABASE_URL=postgres:///junkai .venv/bin/python -m bench.misuse [EVENTS_PER_DAY]

Builds the demo station, writes two days of events straight into the audit log (reads of
households by every officer, work lists, visits), then times a first scan (which raises the
flags) and the steady state every 5 minutes brings (a rescan with nothing new).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import os
import pstats
import random
import sys
import time

from bench.common import bench_database


def main(per_day: int) -> None:
    with bench_database() as backend:
        from django.db import connection
        from django.utils import timezone

        from junkai.audit.models import AuditEvent, EventType
        from junkai.audit.seal import seal_pending
        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import build_demo
        from junkai.disclosures.misuse import scan
        from junkai.households.models import Household
        from junkai.org.models import Officer

        build_demo_households(build_demo(), count=2000)
        rng = random.Random(16)  # noqa: S311 (synthetic data)
        households = list(Household.objects.values_list("id", "station_id"))
        officers = list(Officer.objects.values_list("id", flat=True))
        now = timezone.now()
        rows = []
        for _ in range(2 * per_day):
            at = now - dt.timedelta(seconds=rng.uniform(0, 2 * 86400))
            household, station = rng.choice(households)
            kind = rng.random()
            if kind < 0.6:
                event_type, details = EventType.READ_HOUSEHOLD, {}
            elif kind < 0.8:
                event_type, details = EventType.VISIT_RECORDED, {"household": household}
            else:
                event_type, details = EventType.LIST_HOUSEHOLDS, {"count": 0}
            rows.append(
                AuditEvent(
                    created_at=at,
                    actor_id=rng.choice(officers),
                    event_type=event_type,
                    object_type=(
                        "org.beat"
                        if event_type == EventType.LIST_HOUSEHOLDS
                        else "households.household"
                    ),
                    object_id=str(household) if event_type != EventType.LIST_HOUSEHOLDS else "1",
                    station_id=station,
                    purpose="作業リスト" if event_type == EventType.LIST_HOUSEHOLDS else "閲覧",
                    details=details,
                )
            )
            if len(rows) == 5000:
                AuditEvent.objects.bulk_create(rows)
                rows = []
        AuditEvent.objects.bulk_create(rows)
        # Seal them now: the scan's first flag would otherwise seal the whole backlog.
        seal_pending()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"backend: {backend}; {2 * per_day:,} events over two days, {len(officers)} officers")
        day = now - dt.timedelta(hours=24)
        for label, since in (
            ("first scan of 24 h (raises the flags)", day),
            ("the 5-minute run (last JUNKAI_MISUSE_SCAN_HOURS)", None),
            ("rescan of 24 h (nothing new)", day),
        ):
            profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            t0 = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            result = scan(since=since)
            elapsed = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            print(
                f"{label}: {result.reads:,} reads judged in {elapsed:.2f} s, "
                f"{len(result.flags)} flags raised, {len(result.settled)} settled"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
