"""Post-wide prints: the 巡回連絡カード索引簿 (第5号様式) of the 交番 with the most cards.

    .venv/bin/python -m bench.prints [--households N] [--runs R]
    DATABASE_URL=postgres:///junkai_bench .venv/bin/python -m bench.prints

Builds a throw-away database (bench.common) with the demo station and N generated households
(default 10,000: about 1,500 cards at the busiest 交番), serves it with gunicorn (production
settings, 127.0.0.1, as users meet it) and fetches the 索引簿 PDF through the API as a beat
officer of that post: one first request (a fresh worker), then R timed ones. Prints the timings,
the cards printed and the audit rows each print writes (one event naming the households, plus
one (event, household) row each). Target: ≤ 2 s (p95) for a 1,500-card 交番.
"""

from __future__ import annotations

import argparse
import os

import django

from bench.common import bench_database, figures
from bench.load import database_url
from bench.server import Http, gunicorn, production_env, use_env


def main(households: int, runs: int, workers: int) -> None:
    env = production_env(os.environ.get("DATABASE_URL", "sqlite:///var/bench.sqlite3"))
    use_env(env)
    django.setup()
    with bench_database() as backend:
        from django.db import connection
        from django.db.models import Count

        from junkai.accounts.actions import do_issue_api_token
        from junkai.audit.models import AuditEvent, AuditEventHousehold
        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import build_demo
        from junkai.households.models import CardStatus, ContactCard
        from junkai.org.models import Assignment, Post, Role

        station = build_demo()
        build_demo_households(station, count=households)
        busiest = (
            ContactCard.objects.filter(status=CardStatus.ACTIVE)
            .values("household__post_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        assert busiest is not None
        post = Post.objects.get(id=busiest["household__post_id"])
        officer = (
            Assignment.objects.current()
            .filter(post=post, role=Role.BEAT_OFFICER)
            .select_related("officer")
            .first()
        )
        assert officer is not None
        token, _ = do_issue_api_token(officer.officer)
        url = f"/api/v1/posts/{post.id}/card-index.pdf"
        events_before = AuditEvent.objects.count()
        rows_before = AuditEventHousehold.objects.count()
        settings = connection.settings_dict
        server_url = (
            database_url(settings)
            if connection.vendor == "postgresql"
            else f"sqlite:///{settings['NAME']}"
        )
        connection.close()
        with gunicorn(
            {**env, "DATABASE_URL": server_url}, workers=workers, name="prints"
        ) as server:
            http = Http(server.port, token, timeout=120)
            status, content, first = http.request("GET", url)
            assert status == 200, content[:200]
            seconds = []
            for _ in range(runs):
                status, content, took = http.request("GET", url)
                assert status == 200, content[:200]
                seconds.append(took)
            http.close()
        size = len(content)
        runs += 1
        print(f"backend: {backend}; {post.name}: {busiest['n']:,} cards; PDF {size / 1024:.0f} KiB")
        print(
            f"gunicorn {workers} workers, production settings; first request {first * 1000:.0f} ms"
        )
        print(figures("索引簿 (第5号様式) via the API", seconds))
        print("each (ms): " + " ".join(f"{t * 1000:.0f}" for t in seconds))
        print(
            f"audit per print: {(AuditEvent.objects.count() - events_before) / runs:.0f} event(s), "
            f"{(AuditEventHousehold.objects.count() - rows_before) / runs:,.0f} household rows"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    main(args.households, args.runs, args.workers)
