"""Visits at prefecture scale: a beat's work list and recording a visit.

    DATABASE_URL=postgres:///junkai_synth .venv/bin/python -m bench.visits

Reuses a database `junkai synth` filled (migrated to the current schema). The work list reads
the stored, indexed due date, so its cost does not depend on how many visits lie behind it;
recording a visit writes the visit, the household's schedule and one audit event.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import django

from bench.common import figures


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from junkai.access.roles import own_beats
    from junkai.accounts.middleware import LOGIN_AT
    from junkai.households.models import Household, HouseholdStatus
    from junkai.households.schedule import current_policy
    from junkai.org.models import Assignment, Role
    from junkai.visits.actions import do_record_visit
    from junkai.visits.models import Visit
    from junkai.visits.worklist import due_households

    assignment = (
        Assignment.objects.current()
        .filter(role=Role.BEAT_OFFICER, beats__isnull=False)
        .select_related("officer")
        .first()
    )
    if assignment is None:
        raise SystemExit("no beat officer: fill the database with `junkai synth` first")
    officer = assignment.officer
    beats = own_beats(officer)
    households = Household.objects.filter(beat__in=beats)
    print(f"backend: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(
        f"data: {Household.objects.count():,} households, {Visit.objects.count():,} visits; "
        f"officer {officer.username}: {households.count():,} households in his beats"
    )
    until = timezone.localdate() + dt.timedelta(days=current_policy().horizon_days)
    query = []
    for _ in range(100):
        t0 = time.perf_counter()
        rows = list(due_households(households, until)[:500])
        query.append(time.perf_counter() - t0)
    print(figures(f"work list query ({len(rows)} rows due)", query))

    client = Client()
    client.force_login(officer)
    session = client.session
    session[LOGIN_AT] = time.time()
    session.save()
    page = []
    for _ in range(100):
        t0 = time.perf_counter()
        response = client.get("/worklist/")
        page.append(time.perf_counter() - t0)
        assert response.status_code == 200
    print(figures("work list page GET /worklist/", page))

    # Yesterday 10:00 local: daytime (no night approval) and not in the future.
    started = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    started -= dt.timedelta(days=1)
    targets = list(households.filter(status=HouseholdStatus.ACTIVE).order_by("id")[:200])
    record = []
    for household in targets:
        t0 = time.perf_counter()
        do_record_visit(
            household,
            acting_officer=officer,
            started_at=started,
            outcome="MET",
            guidance_topics=[1, 2],
        )
        record.append(time.perf_counter() - t0)
    print(figures("recording a visit (do_record_visit, committed)", record))


if __name__ == "__main__":
    main()
