"""Sync runs killed at random points, server side (issue 18: "1,000 sync runs killed at random
points: 0 lost and 0 duplicated changes").

    .venv/bin/python -m bench.sync_kill --runs 1000            # PostgreSQL (shared cluster)
    .venv/bin/python -m bench.sync_kill --runs 1000 --sqlite   # SQLite (var/bench/…)

Builds a throw-away database (PostgreSQL: `junkai_synckill_<pid>` on the machine's cluster,
dropped at the end; `--sqlite`: a file under var/bench/), the demo station with `--households`
generated households, a device of the busiest beat's post taken out onto it (declared by one
officer, confirmed by another) and serves it with gunicorn (production settings, 2 workers,
127.0.0.1 only). Then `--runs` sync runs, each as a device would make it: its outbox (1–8 new
visits and, one run in five, a card correction from the version it last saw; one run in five
also sends again changes acknowledged before, as a device that lost its acknowledgements does),
pushed once and interrupted at a random point —

- `body cut`: the connection closed part-way through the request (headers or body);
- `sent, no answer read`: the whole request sent, the connection closed at once;
- `answer cut`: the connection closed after the first bytes of the answer;
- `worker killed`: SIGKILL to a gunicorn worker (ours) while the push is in flight;
- `none`: not interrupted, the answer read (and then ignored one time in ten, as a tab closed)

— then the same batch sent again until it is answered (as the device's next sync does). Each
change's answer must be the same every time (the same visit id, the same card version). At the
end, from the database: every change sent is there exactly once (one SyncChange per client id,
its visit or card revision present, with its audit event), and the officer has no visit and the
cards no revision that no change accounts for. Prints the figures; exits 1 on any fault.
Bounded by `--max-seconds`, each push by 30 attempts.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django
import psycopg

from bench.server import VAR, Http, gunicorn, manage, production_env, use_env

MODES = ("none", "body cut", "sent, no answer read", "answer cut", "worker killed")
WEIGHTS = (3, 3, 3, 2, 1)
PATH = "/api/v1/sync/push"


def pick_start(rng: random.Random) -> str:
    """A daytime moment (10:00–16:59 Tokyo) in the last 200 days: no night approval needed."""
    day = dt.datetime.now(ZoneInfo("Asia/Tokyo")) - dt.timedelta(days=rng.randint(1, 200))
    return day.replace(hour=rng.randint(10, 16), minute=rng.randint(0, 59), second=0).isoformat()


def raw_request(token: str, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def interrupted(mode: str, port: int, data: bytes, rng: random.Random, server: Any) -> bool:
    """One push cut short as `mode` says; True when its answer was read whole (mode none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        if mode == "body cut":
            sock.sendall(data[: rng.randint(1, len(data) - 1)])
            return False
        sock.sendall(data)
        if mode == "sent, no answer read":
            return False
        if mode == "answer cut":
            sock.recv(rng.randint(1, 64))
            return False
        if mode == "worker killed":
            time.sleep(rng.uniform(0, 0.15))
            pids = server.worker_pids()
            if pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(rng.choice(pids), signal.SIGKILL)
            return False
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b" 200 " in b"".join(chunks)[:20]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 (chaos, not a secret)

    database = f"junkai_synckill_{os.getpid()}"
    sqlite_path = VAR / "sync_kill.sqlite3"
    if args.sqlite:
        VAR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite_path}"
    else:
        with psycopg.connect("dbname=postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        url = f"postgres:///{database}"
    env = production_env(url)
    try:
        run(args, env, rng, "SQLite (file, WAL)" if args.sqlite else "PostgreSQL 15")
    finally:
        if not args.sqlite:
            with psycopg.connect("dbname=postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args: argparse.Namespace, env: dict[str, str], rng: random.Random, backend: str) -> None:
    manage(env, "migrate", "--no-input", "-v", "0")
    use_env(env)
    django.setup()
    from django.db import connection
    from django.db.models import Count

    from junkai.accounts.actions import do_issue_api_token
    from junkai.demo.households import build_demo_households
    from junkai.demo.organisation import build_demo
    from junkai.devices import actions
    from junkai.households import cards
    from junkai.households.models import CardStatus, ContactCard, Household, HouseholdStatus
    from junkai.org.models import Assignment, Beat, Role

    station = build_demo()
    build_demo_households(station, count=args.households)
    busiest = (
        Household.objects.filter(status=HouseholdStatus.ACTIVE)
        .values("beat_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    beat = Beat.objects.select_related("post").get(id=busiest["beat_id"])
    officers = [
        a.officer
        for a in Assignment.objects.current()
        .filter(post=beat.post, role=Role.BEAT_OFFICER)
        .select_related("officer")
        .order_by("officer_id")
    ]
    borrower, confirmer = officers[0], officers[-1]
    device = actions.do_register_device(beat.post, acting_officer=None, label="KILL-01")
    checkout = actions.do_declare_device_checkout(device, beat, acting_officer=borrower)
    actions.do_confirm_device_out(checkout, acting_officer=confirmer)
    token, _ = do_issue_api_token(borrower)
    households = list(
        Household.objects.filter(beat=beat, status=HouseholdStatus.ACTIVE).values_list(
            "id", flat=True
        )
    )
    card_ids = dict(
        ContactCard.objects.filter(
            household_id__in=households, status=CardStatus.ACTIVE
        ).values_list("household_id", "id")
    )
    # The device's copy of each card it may correct: content and the version it last saw.
    device_cards = {
        h: {**snap, "version": ContactCard.objects.get(id=card_ids[h]).version}
        for h, snap in (
            (h, cards.snapshots([card_ids[h]])[card_ids[h]]) for h in list(card_ids)[:200]
        )
    }
    first_visit = _next_id("visits", "visit")
    first_revision = _next_id("households", "cardrevision")
    connection.close()
    print(
        f"backend: {backend}; beat {beat.name}: {len(households)} households "
        f"({len(card_ids)} cards); gunicorn {args.workers} workers, production settings, "
        f"127.0.0.1; {args.runs} sync runs"
    )

    answers: dict[str, dict[str, Any]] = {}  # client id → its first answer
    sent: dict[str, dict[str, Any]] = {}  # client id → the change
    modes: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    faults: list[str] = []
    seconds: list[float] = []
    deadline = time.monotonic() + args.max_seconds
    with gunicorn(env, workers=args.workers, name="sync_kill") as server:
        client = Http(server.port, token, timeout=30)
        for n in range(args.runs):
            if time.monotonic() > deadline:
                faults.append(f"stopped by --max-seconds after {n} runs")
                break
            batch: list[dict[str, Any]] = []
            for i in range(rng.randint(1, 8)):
                batch.append(
                    {
                        "client_id": f"r{n}-v{i}",
                        "kind": "visit",
                        "household_id": rng.choice(households),
                        "visit": {
                            "started_at": pick_start(rng),
                            "outcome": rng.choice(["MET", "ABSENT"]),
                            "guidance_topics": [rng.randint(1, 6)],
                        },
                    }
                )
            if device_cards and rng.random() < 0.2:
                household = rng.choice(list(device_cards))
                card = device_cards[household]
                batch.append(
                    {
                        "client_id": f"r{n}-c",
                        "kind": "card",
                        "household_id": household,
                        "card": {**card, "remarks": f"端末での補正 r{n}"},
                    }
                )
            if answers and rng.random() < 0.2:
                batch = [sent[c] for c in rng.sample(sorted(answers), min(3, len(answers)))] + batch
            for change in batch:
                sent.setdefault(change["client_id"], change)
            payload = {"checkout_id": checkout.id, "changes": batch}
            data = raw_request(token, json.dumps(payload).encode())
            mode = rng.choices(MODES, WEIGHTS)[0]
            modes[mode] += 1
            t0 = time.perf_counter()
            try:
                answered = interrupted(mode, server.port, data, rng, server)
            except OSError:
                answered = False
            if mode == "none" and answered and rng.random() < 0.9:
                seconds.append(time.perf_counter() - t0)
            body = None
            for _attempt in range(30):
                try:
                    status, body, _ = client.request("POST", PATH, payload)
                except Exception:
                    retries["no answer"] += 1
                    time.sleep(0.3)
                    continue
                if status == 200:
                    break
                retries[f"HTTP {status}"] += 1
                body = None
                time.sleep(0.3)
            if body is None:
                faults.append(f"run {n}: never answered")
                continue
            for result in body["results"]:
                cid = result["client_id"]
                kept = {k: v for k, v in result.items() if k != "replayed"}
                if cid not in answers:
                    answers[cid] = kept
                    if result["kind"] == "card" and result["status"] == "applied":
                        household = result["household_id"]
                        device_cards[household] = {
                            **sent[cid]["card"],
                            "version": result["card_version"],
                        }
                elif answers[cid] != kept:
                    faults.append(f"{cid}: answered {kept}, before {answers[cid]}")
            if len(body["results"]) != len(batch):
                faults.append(f"run {n}: {len(body['results'])} answers for {len(batch)} changes")
        client.close()

    faults += check(checkout.id, sent, answers, first_visit, first_revision)
    statuses = Counter(a["status"] for a in answers.values())
    print("interruptions: " + ", ".join(f"{m} {modes[m]}" for m in MODES))
    print("retries refused or unanswered: " + (", ".join(f"{k} {v}" for k, v in sorted(retries.items())) or "none"))  # fmt: skip
    print(
        f"changes sent: {len(sent)} ({sum(c['kind'] == 'visit' for c in sent.values())} visits, "
        f"{sum(c['kind'] == 'card' for c in sent.values())} card corrections); answers: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    )
    if seconds:
        from bench.common import figures

        print(figures("uninterrupted push (1–11 changes)", seconds))
    print(f"lost: {sum('missing' in f for f in faults)}; duplicated: {sum('duplicate' in f for f in faults)}; faults: {len(faults)}")  # fmt: skip
    for fault in faults[:20]:
        print(f"  {fault}")
    connection.close()
    if faults:
        raise SystemExit(1)


def _next_id(app: str, model: str) -> int:
    from django.apps import apps

    found = apps.get_model(app, model).objects.order_by("-id").values_list("id", flat=True).first()
    return (found or 0) + 1


def check(
    checkout_id: int,
    sent: dict[str, dict[str, Any]],
    answers: dict[str, dict[str, Any]],
    first_visit: int,
    first_revision: int,
) -> list[str]:
    """From the database: each change once, nothing unaccounted for."""
    from junkai.audit.models import AuditEvent, EventType
    from junkai.devices.models import CardConflict, SyncChange
    from junkai.households.models import CardRevision
    from junkai.visits.models import Visit

    faults = []
    stored = {s.client_id: s for s in SyncChange.objects.filter(checkout_id=checkout_id)}
    for cid in sent:
        if cid not in stored:
            faults.append(f"{cid}: missing (no stored change)")
        elif cid not in answers:
            faults.append(f"{cid}: missing (never answered)")
    extra = set(stored) - set(sent)
    faults += [f"{cid}: duplicate or unknown stored change" for cid in sorted(extra)]
    visit_ids = [s.result.get("visit_id") for s in stored.values() if s.kind == "visit"]
    applied_visits = [v for v in visit_ids if v is not None]
    new_visits = set(Visit.objects.filter(id__gte=first_visit).values_list("id", flat=True))
    if len(applied_visits) != len(set(applied_visits)):
        faults.append("duplicate: two changes answered with the same visit")
    faults += [f"visit {v}: missing" for v in sorted(set(applied_visits) - new_visits)]
    faults += [f"visit {v}: duplicate (no change accounts for it)" for v in sorted(new_visits - set(applied_visits))]  # fmt: skip
    audited = set(
        AuditEvent.objects.filter(
            event_type=EventType.VISIT_RECORDED, object_type="visits.visit"
        ).values_list("object_id", flat=True)
    )
    faults += [f"visit {v}: missing its audit event" for v in sorted(new_visits) if str(v) not in audited]  # fmt: skip
    card_changes = [s for s in stored.values() if s.kind == "card"]
    applied_cards = [s for s in card_changes if s.status == "applied"]
    revisions = CardRevision.objects.filter(id__gte=first_revision).count()
    if revisions != len(applied_cards):
        faults.append(
            f"duplicate or missing: {revisions} card revisions for {len(applied_cards)} "
            "applied corrections"
        )
    conflicts = CardConflict.objects.filter(checkout_id=checkout_id).count()
    if conflicts != sum(s.status == "conflict" for s in card_changes):
        faults.append(f"duplicate or missing: {conflicts} conflicts kept")
    return faults


if __name__ == "__main__":
    main()
