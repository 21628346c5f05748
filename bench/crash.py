"""Crash: acknowledged writes survive SIGKILL of app-server workers and database backends.

    .venv/bin/python -m bench.crash --writes 1000             # PostgreSQL, a private cluster
    .venv/bin/python -m bench.crash --writes 1000 --sqlite    # SQLite (var/bench/crash.sqlite3)

PostgreSQL: initdb's a cluster of its own under var/bench/pgcrash (owned by postgres, its own
port and socket, never the machine's shared cluster), migrates it and adds the demo station,
serves it with gunicorn (production settings, 127.0.0.1). Writers send visits and card
corrections over the API until `--writes` have been acknowledged (201/200); meanwhile a killer
sends SIGKILL at random to a gunicorn worker or to one of the database's backends (which makes
PostgreSQL restart every backend and recover). Then gunicorn and the cluster are stopped and
started again, and every acknowledged write is looked for: the visit with its audit event, the
card revision with its event; nothing half-written (every visit and every card version of the
database with its event, each card at its newest revision); `audit-seal` then `audit-verify`.
SQLite: the same with only gunicorn's workers killed (the database is a file in the process).
Bounded: at most `--max-seconds` of writing and 20 attempts per write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django

from bench.server import VAR, Cluster, Http, gunicorn, manage, production_env, use_env

KINDS = ("visit", "card")


def pick_start(rng: random.Random) -> str:
    """A daytime moment (10:00–16:59 Tokyo) in the last 300 days: no night approval needed."""
    day = dt.datetime.now(ZoneInfo("Asia/Tokyo")) - dt.timedelta(days=rng.randint(1, 300))
    return day.replace(hour=rng.randint(10, 16), minute=rng.randint(0, 59), second=0).isoformat()


class Killer(threading.Thread):
    """SIGKILLs, at random moments, a gunicorn worker or (PostgreSQL) a backend of our cluster."""

    def __init__(self, server: Any, cluster: Cluster | None, database: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.cluster, self.database = server, cluster, database
        self.rng = random.Random(seed)  # noqa: S311 (chaos, not a secret)
        self.stopping = threading.Event()
        self.kills = {"gunicorn worker": 0, "database backend": 0}

    def backends(self) -> list[int]:
        assert self.cluster is not None
        try:
            sql = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            out = self.cluster.psql(sql.replace("%s", f"'{self.database}'"))
        except Exception:
            return []  # recovering: try again later
        return [int(p) for p in out.split()]

    def run(self) -> None:
        # A kill every 1.5–4.5 s: a worker needs a few seconds to start again, and writes must
        # get through between the kills to be acknowledged at all.
        while not self.stopping.wait(self.rng.uniform(1.5, 4.5)):
            if self.cluster is not None and self.rng.random() < 0.5:
                pids, kind = self.backends(), "database backend"
            else:
                pids, kind = self.server.worker_pids(), "gunicorn worker"
            if not pids:
                continue
            try:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
                self.kills[kind] += 1
            except ProcessLookupError:
                pass


def write_loop(
    port: int,
    token: str,
    households: list[int],
    want: int,
    acked: list[dict[str, Any]],
    counts: dict[str, int],
    lock: threading.Lock,
    deadline: float,
    seed: int,
) -> None:
    rng = random.Random(seed)  # noqa: S311 (a write pattern, not a secret)
    client = Http(port, token, timeout=20)
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= want:
                break
        household = rng.choice(households)
        kind = rng.choice(KINDS)
        for _attempt in range(20):
            if time.monotonic() >= deadline:
                break
            try:
                if kind == "visit":
                    status, body, _ = client.request(
                        "POST",
                        "/api/v1/visits",
                        {
                            "household_id": household,
                            "started_at": pick_start(rng),
                            "method": "VISIT",
                            "outcome": rng.choice(["MET", "ABSENT"]),
                            "guidance_topics": [2],
                        },
                    )
                    if status == 201:
                        with lock:
                            acked.append(
                                {"kind": "visit", "id": body["id"], "household": household}
                            )
                        break
                else:
                    status, body, _ = client.request("GET", f"/api/v1/households/{household}")
                    if status != 200 or body.get("card") is None:
                        with lock:
                            counts[f"read {status}"] = counts.get(f"read {status}", 0) + 1
                        continue
                    card = body["card"]
                    mark = f"crash-{seed}-{rng.randrange(10**9)}"
                    status, body, _ = client.request(
                        "PUT",
                        f"/api/v1/households/{household}/card",
                        {**card, "remarks": mark},
                    )
                    if status in (200, 201):
                        with lock:
                            acked.append(
                                {
                                    "kind": "card",
                                    "household": household,
                                    "version": body["version"],
                                    "mark": mark,
                                }
                            )
                        break
                with lock:
                    counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1
            except Exception:
                with lock:
                    counts[f"{kind} no answer"] = counts.get(f"{kind} no answer", 0) + 1
                time.sleep(0.2)
    client.close()


def check(acked: list[dict[str, Any]], first: dict[str, int]) -> list[str]:
    """Every acknowledged write with its audit event; nothing half-written among the rows the
    run wrote (ids from `first` on: the demo's history was written without the API)."""
    from django.db.models import CharField, Exists, F, Max, OuterRef
    from django.db.models.functions import Cast

    from junkai.audit.models import AuditEvent, EventType
    from junkai.households.models import CardRevision, CardStatus, ContactCard
    from junkai.visits.models import Visit

    faults = []
    visit_ids = [a["id"] for a in acked if a["kind"] == "visit"]
    found = set(Visit.objects.filter(id__in=visit_ids).values_list("id", flat=True))
    faults += [f"acknowledged visit {i} missing" for i in visit_ids if i not in found]
    events = AuditEvent.objects.filter(
        event_type=EventType.VISIT_RECORDED,
        object_type="visits.visit",
        object_id=Cast(OuterRef("id"), CharField()),
    )
    orphans = Visit.objects.filter(id__gte=first["visit"]).exclude(Exists(events)).count()
    if orphans:
        faults.append(f"{orphans} visits without their audit event")
    for a in (a for a in acked if a["kind"] == "card"):
        card = ContactCard.objects.filter(
            household_id=a["household"], status=CardStatus.ACTIVE
        ).first()
        revision = (
            CardRevision.objects.filter(card=card, version=a["version"]).first() if card else None
        )
        if revision is None:
            faults.append(f"acknowledged correction {a['household']} v{a['version']} missing")
    card_events = set(
        AuditEvent.objects.filter(object_type="households.contactcard").values_list(
            "object_id", "details__version"
        )
    )
    unaudited = 0
    for card_id, version in CardRevision.objects.filter(id__gte=first["revision"]).values_list(
        "card_id", "version"
    ):
        if (str(card_id), version) not in card_events and (str(card_id), None) not in card_events:
            unaudited += 1
    if unaudited:
        faults.append(f"{unaudited} card revisions without an audit event naming their card")
    behind = (
        ContactCard.objects.annotate(newest=Max("revisions__version"))
        .exclude(newest=None)
        .exclude(version=F("newest"))
        .count()
    )
    if behind:
        faults.append(f"{behind} cards not at their newest revision")
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--households", type=int, default=600)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    cluster: Cluster | None = None
    database = "junkai_crash"
    if args.sqlite:
        path = VAR / "crash.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        VAR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    else:
        cluster = Cluster(VAR / "pgcrash")
        cluster.init()
        cluster.start()
        cluster.psql(f"CREATE DATABASE {database}")
        url = cluster.url(database)
    env = production_env(url)
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        use_env(env)
        django.setup()
        from django.db import connection

        from junkai.access.roles import own_beats
        from junkai.accounts.actions import do_issue_api_token
        from junkai.demo.households import build_demo_households
        from junkai.demo.organisation import build_demo
        from junkai.households.models import Household, HouseholdStatus
        from junkai.org.models import Officer

        station = build_demo()
        build_demo_households(station, count=args.households)
        officer = Officer.objects.get(username="officer1a")
        token, _ = do_issue_api_token(officer)
        households = list(
            Household.objects.filter(
                beat__in=own_beats(officer), status=HouseholdStatus.ACTIVE
            ).values_list("id", flat=True)
        )
        from junkai.households.models import CardRevision
        from junkai.visits.models import Visit

        first = {
            "visit": (Visit.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
            "revision": (
                CardRevision.objects.order_by("-id").values_list("id", flat=True).first() or 0
            )
            + 1,
        }
        connection.close()
        print(
            f"backend: {'SQLite (file)' if cluster is None else 'PostgreSQL 15, private cluster'}"
            f"; {len(households)} households written to by {args.writers} writers; gunicorn "
            f"{args.workers} workers (production settings, 127.0.0.1)"
        )
        acked: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        lock = threading.Lock()
        t0 = time.monotonic()
        with gunicorn(env, workers=args.workers, name="crash") as server:
            killer = Killer(server, cluster, database, args.seed)
            killer.start()
            deadline = time.monotonic() + args.max_seconds
            writers = [
                threading.Thread(
                    target=write_loop,
                    args=(
                        server.port,
                        token,
                        households,
                        args.writes,
                        acked,
                        counts,
                        lock,
                        deadline,
                        args.seed * 100 + n,
                    ),
                )
                for n in range(args.writers)
            ]
            for w in writers:
                w.start()
            for w in writers:
                w.join(args.max_seconds + 120)
            killer.stopping.set()
            killer.join(10)
        elapsed = time.monotonic() - t0
        if cluster is not None:
            cluster.stop(mode="immediate")  # as a power cut would leave it
            cluster.start()
        print(
            f"writes acknowledged: {len(acked)} ({sum(a['kind'] == 'visit' for a in acked)} "
            f"visits, {sum(a['kind'] == 'card' for a in acked)} card corrections) in "
            f"{elapsed:.0f} s; kills: " + ", ".join(f"{k} {v}" for k, v in killer.kills.items())
        )
        print(
            "refused or unanswered attempts: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
        faults = check(acked, first)
        connection.close()
        manage(env, "audit-seal")
        manage(env, "audit-verify")
        print(f"after restart: {len(faults)} faults")
        for fault in faults[:20]:
            print(f"  {fault}")
        if faults or len(acked) < args.writes:
            raise SystemExit(1)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
