"""Load: simulated beat officers through gunicorn (production settings, 127.0.0.1), each in a
loop of work list → household → record a visit over the API, for a bounded time.

    # small, on a throw-away database it fills with `junkai synth` (a few minutes):
    DATABASE_URL=postgres:///junkai_load .venv/bin/python -m bench.load --households 20000
    # full size, on the 500,000-household database `junkai synth` filled (kept):
    DATABASE_URL=postgres:///junkai_synth .venv/bin/python -m bench.load --reuse

Prints, per step: requests, errors, p50/p95; the whole throughput; the queries each step
costs (counted in this process through the same code); the work list through gunicorn at rest
against its bare SQL (the statement the API sends, run alone); and the scans of visits_visit's
indexes (pg_stat_user_indexes) after the run. Targets (issue 14, 2-core box): 0 errors,
≥ 100 requests/s, work list API ≤ 3× its SQL, hot paths ≤ 5 queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import django

from bench.common import bench_database, figures
from bench.server import Http, gunicorn, production_env, use_env

JST = ZoneInfo("Asia/Tokyo")
STEPS = ("worklist", "household", "visit")


def daytime_start() -> str:
    """A moment today (or yesterday) at 10:00 in Tokyo: daytime, never in the future."""
    now = dt.datetime.now(JST)
    day = now.date() if now.hour >= 11 else now.date() - dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=JST).isoformat()


def database_url(settings_dict: dict[str, Any]) -> str:
    host = (settings_dict.get("HOST") or "").replace("/", "%2F")
    user = settings_dict.get("USER") or ""
    port = settings_dict.get("PORT") or ""
    auth = f"{user}@" if user else ""
    return f"postgres://{auth}{host}{':' + str(port) if port else ''}/{settings_dict['NAME']}"


def officers_with_tokens(count: int) -> list[tuple[str, list[int]]]:
    """(token, some household ids of his beats) for up to `count` beat officers."""
    from junkai.accounts.actions import do_issue_api_token
    from junkai.households.models import Household, HouseholdStatus
    from junkai.org.models import Assignment, Role

    found = []
    seen: set[int] = set()
    for a in (
        Assignment.objects.current()
        .filter(role=Role.BEAT_OFFICER, beats__isnull=False)
        .select_related("officer")
        .order_by("id")
    ):
        if a.officer_id in seen:
            continue
        seen.add(a.officer_id)
        ids = list(
            Household.objects.filter(
                beat__in=a.beats.all(), status=HouseholdStatus.ACTIVE
            ).values_list("id", flat=True)[:200]
        )
        if ids:
            token, _ = do_issue_api_token(a.officer)
            found.append((token, ids))
        if len(found) >= count:
            break
    return found


#: Statements of the audit sealer's pass after a commit (at most one pass per process per
#: HOOK_INTERVAL, sealing what every request meanwhile wrote) and transaction control.
SEALER = ("advisory", "audit_auditseal", "pg_snapshot_xmin")


def sealer_or_control(sql: str) -> bool:
    return sql in ("BEGIN", "COMMIT") or any(s in sql for s in SEALER)


def in_process_queries(token: str, household_id: int) -> tuple[dict[str, str], str]:
    """Queries per step, counted through Django's own client (the same code the server runs),
    and the work list's households statement as sent: the request's own statements, and those
    of a sealer pass when one ran in the request (amortised over many requests under load)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(
        headers={
            "Authorization": f"Bearer {token}",
            "X-Forwarded-Proto": "https",
            "Host": "127.0.0.1",
        }
    )
    body = {
        "household_id": household_id,
        "started_at": daytime_start(),
        "method": "VISIT",
        "outcome": "MET",
        "guidance_topics": [1],
    }
    sends: dict[str, Callable[[], Any]] = {
        "worklist": lambda: client.get("/api/v1/worklist"),
        "household": lambda: client.get(f"/api/v1/households/{household_id}"),
        "visit": lambda: client.post("/api/v1/visits", body, content_type="application/json"),
    }
    counts = {}
    worklist_sql = ""
    for name, send in sends.items():
        send()
        with CaptureQueriesContext(connection) as queries:
            response = send()
        assert response.status_code < 400, (name, response.status_code, response.content[:300])
        own = [q for q in queries.captured_queries if not sealer_or_control(q["sql"])]
        extra = len(queries.captured_queries) - len(own)
        counts[name] = f"{len(own)}" + (f" (+{extra} sealing/BEGIN/COMMIT)" if extra else "")
        if os.environ.get("BENCH_SHOW_SQL"):
            for q in queries.captured_queries:
                print(f"  {name}: {q['sql'][:150]}")
        if name == "worklist":
            worklist_sql = next(
                q["sql"] for q in queries.captured_queries if "next_due" in q["sql"]
            )
    return counts, worklist_sql


def bare_sql(sql: str, runs: int) -> list[float]:
    from django.db import connection

    seconds = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            t0 = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            seconds.append(time.perf_counter() - t0)
    return seconds


def index_scans() -> list[tuple[str, int, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelname, idx_scan, pg_size_pretty(pg_relation_size(indexrelid))"
            " FROM pg_stat_user_indexes WHERE relname = 'visits_visit' ORDER BY indexrelname"
        )
        return [(str(n), int(s), str(z)) for n, s, z in cursor.fetchall()]


def run_load(
    port: int, officers: list[tuple[str, list[int]]], users: int, seconds: float
) -> dict[str, Any]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    started_at = daytime_start()

    def user(n: int) -> None:
        token, ids = officers[n % len(officers)]
        client = Http(port, token)
        rng = random.Random(n)  # noqa: S311 (a load pattern, not a secret)
        while time.monotonic() < deadline:
            picked = None
            for step in STEPS:
                try:
                    if step == "worklist":
                        status, body, took = client.request("GET", "/api/v1/worklist")
                        items = body.get("items", []) if isinstance(body, dict) else []
                        picked = rng.choice(items)["household_id"] if items else rng.choice(ids)
                    elif step == "household":
                        status, body, took = client.request("GET", f"/api/v1/households/{picked}")
                    else:
                        status, body, took = client.request(
                            "POST",
                            "/api/v1/visits",
                            {
                                "household_id": picked,
                                "started_at": started_at,
                                "method": "VISIT",
                                "outcome": rng.choice(["MET", "MET", "ABSENT"]),
                                "guidance_topics": [1, 3],
                            },
                        )
                except Exception as exc:  # a broken connection is an error of this step
                    with lock:
                        errors[step] += 1
                        if len(samples) < 5:
                            samples.append(f"{step}: {exc!r}")
                    break
                with lock:
                    timings[step].append(took)
                    if status >= 400:
                        errors[step] += 1
                        if len(samples) < 5:
                            samples.append(f"{step}: {status} {str(body)[:200]}")
        client.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.monotonic() - t0
    return {"timings": timings, "errors": errors, "samples": samples, "elapsed": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--visit-years", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="measure DATABASE_URL as it is")
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--rest-runs", type=int, default=100)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres:///junkai_load")
    env = production_env(base_url)
    use_env(env)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from junkai.households.models import Household
    from junkai.visits.models import Visit

    def measure() -> None:
        print(f"backend: {connection.vendor} ({connection.settings_dict['NAME']})")
        if connection.vendor != "postgresql":
            raise SystemExit("bench.load is PostgreSQL's (DATABASE_URL=postgres:///…)")
        print(f"data: {Household.objects.count():,} households, {Visit.objects.count():,} visits")
        officers = officers_with_tokens(args.officers)
        print(
            f"officers: {args.officers} simulated over {len(officers)} beat officers' tokens; "
            f"gunicorn {args.workers} sync workers, production settings, 127.0.0.1"
        )
        counts, sql = in_process_queries(officers[0][0], officers[0][1][0])
        print("queries per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        sql_times = bare_sql(sql, args.rest_runs)
        server_env = {**env, "DATABASE_URL": database_url(connection.settings_dict)}
        connection.close()
        with gunicorn(server_env, workers=args.workers, name="load") as server:
            rest = Http(server.port, officers[0][0])
            at_rest = []
            for _ in range(args.rest_runs):
                status, _, took = rest.request("GET", "/api/v1/worklist")
                assert status == 200, status
                at_rest.append(took)
            rest.close()
            api_p50, sql_p50 = statistics.median(at_rest), statistics.median(sql_times)
            print(figures("work list SQL alone", sql_times))
            print(figures("work list API at rest (gunicorn)", at_rest))
            print(f"work list API / its SQL (p50): {api_p50 / sql_p50:.1f}× (target ≤ 3×)")
            result = run_load(server.port, officers, args.officers, args.seconds)
        total = sum(len(v) for v in result["timings"].values())
        errors = sum(result["errors"].values())
        print(
            f"load: {args.officers} officers for {result['elapsed']:.0f} s: {total:,} requests, "
            f"{total / result['elapsed']:.1f} requests/s (target ≥ 100), {errors} errors"
        )
        for step in STEPS:
            print("  " + figures(step, result["timings"].get(step, [0.0])))
        for sample in result["samples"]:
            print(f"  error: {sample}")
        print("visits_visit indexes after the run (name, scans, size):")
        for name, scans, size in index_scans():
            print(f"  {name}: {scans:,} scans, {size}")

    if args.reuse:
        measure()
        return
    with bench_database():
        call_command("synth", households=args.households, visit_years=args.visit_years, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        measure()


if __name__ == "__main__":
    main()
