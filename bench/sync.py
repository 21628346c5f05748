"""Offline sync, server side: pulling a beat of ~800 households with their cards onto a device,
and pushing 50 visits from its outbox.

    .venv/bin/python -m bench.sync [--households N] [--runs R] [--profile]
    DATABASE_URL=postgres:///junkai_bench .venv/bin/python -m bench.sync

Builds a throw-away database (bench.common) with the demo station and N generated households
(default 10,000: the busiest beat has 800 or more), registers a device at that beat's post, takes
the beat out (declared by a beat officer, confirmed by another officer of the post), then
through the API: a full pull R times, a pull with the cursor (nothing changed), one push of 50
visits, and the same push again (every change answered from its stored result, nothing
recorded twice). Targets of issue 18 (server side): the pull well inside 5 s, the push ≤ 2 s.
Each line names the SQL statements the request ran; `--profile` adds the 25 functions that
took the most time in the last full pull and in the push (Junkai's own, cumulative; any, by
own time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.common import bench_database, figures

CPU: list[float] = []


def timed(do: Callable[[], Any], profile: bool) -> tuple[Any, float, int, str]:
    """(result, seconds, SQL statements, profile text or ""). The CPU time of this process
    (the request's Python, not the database's) goes into `CPU` for a shared, busy machine."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as queries:
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        result = do()
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - t0
        CPU.append(time.process_time() - c0)
    text = ""
    if profiler is not None:
        out = io.StringIO()
        shapes = Counter(re.sub(r"\d+", "N", q["sql"])[:110] for q in queries.captured_queries)
        out.write("SQL statements by shape:\n")
        for shape, n in shapes.most_common(20):
            out.write(f"  {n:5d}  {shape}\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"junkai/(?!serving|accounts/middleware)", 25)
        stats.sort_stats("tottime").print_stats(15)
        text = out.getvalue()
    return result, elapsed, len(queries), text


def main(households: int, runs: int, profile: bool = False) -> None:
    with bench_database() as backend:
        from django.db.models import Count
        from django.test import Client
        from django.utils import timezone

        from junkai.accounts.actions import do_issue_api_token
        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import build_demo
        from junkai.devices import actions
        from junkai.households.models import Household, HouseholdStatus
        from junkai.org.models import Assignment, Beat, Role
        from junkai.visits.models import Visit

        station = build_demo()
        build_demo_households(station, count=households)
        busiest = (
            Household.objects.filter(status=HouseholdStatus.ACTIVE)
            .values("beat_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        assert busiest is not None
        beat = Beat.objects.select_related("post").get(id=busiest["beat_id"])
        post = beat.post
        officers = [
            a.officer
            for a in Assignment.objects.current()
            .filter(post=post, role=Role.BEAT_OFFICER)
            .select_related("officer")
            .order_by("officer_id")
        ]
        borrower, confirmer = officers[0], officers[-1]
        device = actions.do_register_device(post, acting_officer=None, label="BENCH-01")
        checkout = actions.do_declare_device_checkout(device, beat, acting_officer=borrower)
        if confirmer.id == borrower.id and not post.single_officer:
            raise SystemExit("the busiest beat's post has one beat officer: no second officer")
        actions.do_confirm_device_out(checkout, acting_officer=confirmer)
        token, _ = do_issue_api_token(borrower)
        client = Client(headers={"Authorization": f"Bearer {token}"})

        pull_url = f"/api/v1/sync/pull?checkout={checkout.id}"
        seconds, size, body, statements, profiled = [], 0, {}, 0, ""
        for _ in range(runs):
            response, elapsed, statements, profiled = timed(lambda: client.get(pull_url), profile)
            seconds.append(elapsed)
            assert response.status_code == 200, response.content[:300]
            size, body = len(response.content), response.json()
        cards = sum(1 for h in body["households"] if h["card"])
        print(
            f"backend: {backend}; {beat.name}: {len(body['households']):,} households, "
            f"{cards:,} cards; answer {size / 1024:.0f} KiB"
        )
        print(
            figures("pull, whole beat", seconds)
            + f"; {statements} SQL statements; CPU p50 {sorted(CPU)[len(CPU) // 2] * 1000:.0f} ms"
        )
        if profiled:
            print(profiled)
        t0 = time.perf_counter()
        quiet = client.get(f"{pull_url}&cursor={body['cursor']}")
        print(
            f"pull with cursor (nothing changed): {(time.perf_counter() - t0) * 1000:.0f} ms, "
            f"{len(quiet.json()['households'])} households sent"
        )

        morning = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
        if morning > timezone.now():
            morning -= dt.timedelta(days=1)
        ids = body["household_ids"][:50]
        changes = [
            {
                "client_id": f"bench-{i}",
                "kind": "visit",
                "household_id": household_id,
                "visit": {
                    "started_at": (morning + dt.timedelta(minutes=i)).isoformat(),
                    "outcome": "MET",
                    "guidance_topics": [1],
                },
            }
            for i, household_id in enumerate(ids)
        ]
        payload = json.dumps({"checkout_id": checkout.id, "changes": changes})
        for label in ("push of 50 visits", "the same push again (replayed)"):
            before = Visit.objects.count()
            response, elapsed, statements, profiled = timed(
                lambda: client.post("/api/v1/sync/push", payload, content_type="application/json"),
                profile and label.startswith("push"),
            )
            assert response.status_code == 200, response.content[:300]
            statuses = [r["status"] for r in response.json()["results"]]
            print(
                f"{label}: {elapsed * 1000:.0f} ms (CPU {CPU[-1] * 1000:.0f} ms), "
                f"{statements} SQL statements; "
                f"{statuses.count('applied')} applied, "
                f"{Visit.objects.count() - before} visits recorded"
            )
            if profiled:
                print(profiled)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    main(args.households, args.runs, args.profile)
