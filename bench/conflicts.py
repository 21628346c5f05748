"""Conflicts: pairs of officers correcting one card at the same moment, through gunicorn.

    DATABASE_URL=postgres:///junkai_conflicts .venv/bin/python -m bench.conflicts --pairs 1000
    .venv/bin/python -m bench.conflicts --pairs 1000        # SQLite (var/bench.sqlite3)

Builds a throw-away database (bench.common) with the demo station, serves it with gunicorn
(production settings, 127.0.0.1), and for each pair has two beat officers of one 交番 read the
card at the same version and send their corrections (one the 備考, the other the 要望) at once,
released together by a barrier. Each save must land (200) or be refused with 409 and nothing
saved; after each pair the card must hold the one that landed, at the next version. A lost update
(both 200, or a 200 whose change is not on the card) is counted and fails the run.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from typing import Any

import django

from bench.common import bench_database, figures
from bench.load import database_url
from bench.server import Http, gunicorn, production_env, use_env


def put_at_once(clients: list[Http], path: str, bodies: list[Any]) -> list[Any]:
    """Each client PUTs its body, released together by a barrier: (status, body, seconds)."""
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [(0, "no answer", 0.0)] * len(clients)

    def send(n: int) -> None:
        barrier.wait()
        try:
            results[n] = clients[n].request("PUT", path, bodies[n])
        except Exception as exc:
            results[n] = (0, repr(exc), 0.0)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=10, help="cards the pairs take turns on")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "sqlite:///var/bench.sqlite3")
    env = production_env(url)
    use_env(env)
    django.setup()
    from django.db import connection

    from junkai.access.roles import own_beats
    from junkai.accounts.actions import do_issue_api_token
    from junkai.demo.households import build_demo_households
    from junkai.demo.organisation import build_demo
    from junkai.households.models import CardStatus, ContactCard
    from junkai.org.models import Officer

    with bench_database() as backend:
        station = build_demo()
        build_demo_households(station, count=600)
        a, b = Officer.objects.get(username="officer1a"), Officer.objects.get(username="officer1b")
        tokens = [do_issue_api_token(a)[0], do_issue_api_token(b)[0]]
        households = list(
            ContactCard.objects.filter(status=CardStatus.ACTIVE, household__beat__in=own_beats(a))
            .order_by("id")
            .values_list("household_id", flat=True)[: args.cards]
        )
        settings = connection.settings_dict
        server_url = (
            database_url(settings)
            if connection.vendor == "postgresql"
            else f"sqlite:///{settings['NAME']}"
        )
        connection.close()
        print(f"backend: {backend}; {args.pairs} pairs over {len(households)} cards")
        outcomes: Counter[str] = Counter()
        put_seconds: list[float] = []
        problems: list[str] = []
        with gunicorn(
            {**env, "DATABASE_URL": server_url}, workers=args.workers, name="conflicts"
        ) as server:
            clients = [Http(server.port, t) for t in tokens]
            reader = Http(server.port, tokens[0])
            t_start = time.monotonic()
            for pair in range(args.pairs):
                household = households[pair % len(households)]
                status, body, _ = reader.request("GET", f"/api/v1/households/{household}")
                assert status == 200, (status, body)
                card = body["card"]
                version = card["version"]
                edits = [
                    {**card, "version": version, "remarks": f"A{pair}"},
                    {**card, "version": version, "requests": f"B{pair}"},
                ]
                results = put_at_once(clients, f"/api/v1/households/{household}/card", edits)
                statuses = [r[0] for r in results]
                for status, _, took in results:
                    outcomes[str(status)] += 1
                    put_seconds.append(took)
                status, after, _ = reader.request("GET", f"/api/v1/households/{household}")
                now = after["card"]
                landed = [n for n in (0, 1) if statuses[n] == 200]
                fine = (
                    len(landed) == 1
                    and all(s in (200, 409) for s in statuses)
                    and now["version"] == version + 1
                    and (
                        now["remarks"] == f"A{pair}"
                        if landed[0] == 0
                        else now["requests"] == f"B{pair}"
                    )
                )
                if len(landed) == 0 and all(s == 409 for s in statuses):
                    fine = False  # neither landed: not lost, but not what two saves should give
                if not fine:
                    problems.append(f"pair {pair}: {statuses} version {version}→{now['version']}")
            elapsed = time.monotonic() - t_start
            for client in (*clients, reader):
                client.close()
        lost = sum(1 for p in problems if "[200, 200]" in p)
        print(
            f"pairs: {args.pairs} in {elapsed:.1f} s; saves: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        )
        print(figures("PUT card (each of a pair)", put_seconds))
        print(f"lost updates: {lost}; pairs not one 200 + one 409: {len(problems)}")
        for problem in problems[:10]:
            print(f"  {problem}")
        if problems:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
