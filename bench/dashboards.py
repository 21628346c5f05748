"""Progress dashboards at prefecture scale: a station's dashboard and HQ's, query and page.

    DATABASE_URL=postgres:///junkai_bench .venv/bin/python -m bench.dashboards [--households N]
    DATABASE_URL=postgres:///junkai_synth .venv/bin/python -m bench.dashboards --reuse

Without --reuse it builds a throw-away database (bench.common) filled by `junkai synth` (N
households with ten years of visits), takes the month-end snapshots of the last 12 months
(timed: the `junkai dashboard-snapshot` backfill), then measures. With --reuse it reads a
database `junkai synth` filled and writes nothing to it: the read's audit event is left out
(patched to a no-op; in a request it shares the request's commit), and when the database has
no snapshot table (not migrated for dashboards) the trend query is skipped too.

Figures: junkai.dashboards.figures.board (+ trend) for the largest station, and the page
(the view called with a RequestFactory request: figures, template, charts' JSON); the same
for HQ (every station, aggregate only).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import django

from bench.common import figures as timings


def _timed(call: Callable[[], Any], count: int) -> list[float]:
    call()  # warm the caches once, as a running server would be
    seconds = []
    for _ in range(count):
        t0 = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - t0)
    return seconds


def build(households: int, years: int) -> None:
    from django.core.management import call_command

    from junkai.dashboards.actions import do_take_month_snapshot
    from junkai.lib.months import current_month, months_back

    t0 = time.perf_counter()
    call_command("synth", households=households, visit_years=years, verbosity=0)
    print(f"junkai synth --households {households} --visit-years {years}: "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    months = months_back(current_month(), 13)[1:]
    seconds = []
    for month in reversed(months):
        t0 = time.perf_counter()
        do_take_month_snapshot(month)
        seconds.append(time.perf_counter() - t0)
    print(timings("dashboard-snapshot (one month, from the visits)", seconds))


def measure(pages: int, *, reuse: bool) -> None:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from junkai.access import units as access_units
    from junkai.dashboards import figures, views
    from junkai.dashboards.models import BeatMonthSnapshot
    from junkai.households.models import Household
    from junkai.org.models import Assignment, Role, Station
    from junkai.visits.models import Visit

    if reuse:
        # Nothing is written to a reused database: the read's audit event is left out.
        setattr(access_units, "record", lambda *args, **kwargs: None)  # noqa: B010
        if BeatMonthSnapshot._meta.db_table not in connection.introspection.table_names():
            print("no snapshot table in this database: the trend query is left out")
            empty: dict[str, Any] = {"labels": [], "coverage": [], "card_rate": []}
            figures.trend = lambda **kwargs: {**empty, "last_snapshot": None, "taken_at": None}
    print(
        f"data: {Household.objects.count():,} households, {Visit.objects.count():,} visits, "
        f"{Station.objects.count()} stations"
    )
    chief_of = (
        Assignment.objects.current()
        .filter(role=Role.STATION_CHIEF)
        .select_related("officer", "station")
    )
    sizes = {
        row["station_id"]: row["n"]
        for row in Household.objects.order_by().values("station_id").annotate(n=Count("id"))
    }
    assignment = max(chief_of, key=lambda a: sizes.get(a.station_id, 0), default=None)
    if assignment is None or assignment.station is None:
        raise SystemExit("no station chief: fill the database with `junkai synth` first")
    station, chief = assignment.station, assignment.officer
    print(f"station {station.code}: {sizes.get(station.id, 0):,} households")

    factory = RequestFactory()

    def page(path: str, view: Callable[..., Any], user: Any, **kwargs: Any) -> Callable[[], Any]:
        def call() -> Any:
            request = factory.get(path)
            request.user = user
            response = view(request, **kwargs)
            assert response.status_code == 200, response.status_code
            return response

        return call

    def station_query() -> None:
        board = figures.board(station)
        figures.trend(station_ids=[station.id], live=board.total)

    print(timings("station dashboard query (figures.board + trend)", _timed(station_query, pages)))
    station_page = page(
        f"/dashboard/stations/{station.id}/", views.station_dashboard, chief, station_id=station.id
    )

    def queries(call: Callable[[], Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            call()
        return len(captured)

    settings.JUNKAI_DASHBOARD_STATION_SECONDS = 0
    print(f"station dashboard page, computed each time: {queries(station_page)} queries")
    print(timings("station dashboard page, computed each time", _timed(station_page, pages)))
    settings.JUNKAI_DASHBOARD_STATION_SECONDS = figures.STATION_CACHE_SECONDS
    station_page()  # computed once, then shared through the cache
    print(f"station dashboard page, figures cached: {queries(station_page)} queries")
    print(
        timings("station dashboard page, figures cached (≤ 5 min old)", _timed(station_page, pages))
    )

    def hq_query() -> None:
        _, total = figures.hq_board()
        figures.trend(live=total)

    hq_pages = max(10, pages // 3)
    print(timings("HQ dashboard query (figures.hq_board + trend)", _timed(hq_query, hq_pages)))
    chief.is_superuser = True  # in memory only: HQ's page for a superuser, nothing saved
    hq_page = page("/dashboard/hq/", views.hq_dashboard, chief)
    settings.JUNKAI_DASHBOARD_HQ_SECONDS = 0
    print(timings("HQ dashboard page, computed each time", _timed(hq_page, hq_pages)))
    settings.JUNKAI_DASHBOARD_HQ_SECONDS = figures.HQ_CACHE_SECONDS
    print(timings("HQ dashboard page, figures cached (≤ 1 min old)", _timed(hq_page, pages)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--visit-years", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="read the database as it is")
    parser.add_argument("--pages", type=int, default=50, help="station page loads")
    args = parser.parse_args()
    if args.reuse:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
        from django.conf import settings

        # Nothing is written to a reused database: the shared cache is this process's memory.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        django.setup()
        from django.db import connection

        print(f"backend: {connection.vendor} ({connection.settings_dict['NAME']}), reused")
        measure(args.pages, reuse=True)
        return
    from bench.common import bench_database

    with bench_database() as backend:
        print(f"backend: {backend}")
        build(args.households, args.visit_years)
        measure(args.pages, reuse=False)


if __name__ == "__main__":
    main()
