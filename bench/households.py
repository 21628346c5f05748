"""Households at prefecture scale: the bulk import, search, and a beat's household list page.

    DATABASE_URL=postgres:///junkai_bench .venv/bin/python -m bench.households [--households N]
    DATABASE_URL=postgres:///junkai_synth .venv/bin/python -m bench.households --reuse

Without --reuse it builds a throw-away database (bench.common): the organisation of
`junkai synth`, then N generated households through bulk.do_bulk_load (timed: the import
figure), then the reads. With --reuse it reads a database `junkai synth` has filled.

Search: junkai.households.search.search_households as a beat officer (scope: his post) and as
a station chief (his station), with surname, full-name, reading (hiragana and katakana) and
phone-number queries taken from the data. List: GET /beats/<id>/households/ through the Django
test client as the beat officer. Each figure includes the audit event the read writes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import django

from bench.common import bench_database, figures


def _queries(residents: list[tuple[str, str, str]], rng: random.Random, count: int) -> list[str]:
    """What an officer types: a surname, a whole name, a reading, the end of a phone number."""
    import jaconv

    queries: list[str] = []
    while len(queries) < count:
        name, kana, phone = rng.choice(residents)
        surname = name.partition(" ")[0]
        kana_surname, _, kana_given = kana.partition(" ")
        digits = "".join(c for c in phone if c.isdigit())
        choices = [
            surname,
            name.replace(" ", ""),
            name,
            kana_surname,
            jaconv.hira2kata(kana),
            f"{kana_surname}{kana_given}",
        ]
        if len(digits) >= 10:
            choices += [digits[-4:], digits]
        queries.append(rng.choice(choices))
    return queries


def _timed(call: Callable[[Any], Any], arguments: list[Any]) -> list[float]:
    seconds = []
    for argument in arguments:
        t0 = time.perf_counter()
        call(argument)
        seconds.append(time.perf_counter() - t0)
    return seconds


def run_import(households: int, stations: int | None, seed: int) -> None:
    from junkai.demo.households import CENTRE, beat_specs, generate_rows, post_officers
    from junkai.demo.management.commands.synth import build_synth_org
    from junkai.households.bulk import do_bulk_load

    stations = stations or max(1, round(households / 25_000))
    t0 = time.perf_counter()
    org = build_synth_org(households, stations)
    print(
        f"organisation: {len(org.stations)} stations, {len(org.beats)} beats in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    officers = post_officers(sorted({b.post_id for b in org.beats}))
    specs = []
    for i, station in enumerate(org.stations):
        centre = (CENTRE[0] + (i // 5) * 0.135, CENTRE[1] + (i % 5) * 0.16)
        specs += beat_specs(
            [b for b in org.beats if b.post.station_id == station.id], officers, centre=centre
        )
    t0 = time.perf_counter()
    rows = list(generate_rows(specs, count=households, seed=seed, history=False))
    print(f"generated {len(rows):,} rows in {time.perf_counter() - t0:.1f} s (not timed below)")
    result = do_bulk_load(rows, acting_officer=None, source="bench")
    print(
        f"import (do_bulk_load): {result.households:,} households, {result.cards:,} cards, "
        f"{result.residents:,} residents, {result.contacts:,} contacts, "
        f"{result.buildings:,} buildings in {result.seconds:.1f} s "
        f"= {result.households / result.seconds:,.0f} households/s"
    )
    del rows
    from django.db import connection

    if connection.vendor == "postgresql":
        # Autovacuum does this soon after a load (insert thresholds, PostgreSQL ≥ 13); done here
        # at once, so that search reads the residents' covering index alone (index-only scans
        # need the visibility map) as it would an hour after an import.
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) households_resident, households_household")
        print(
            f"vacuum after the load (autovacuum's work, not timed above): {time.perf_counter() - t0:.1f} s"
        )


def run_reads(queries_per_persona: int, page_loads: int, seed: int) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from junkai.accounts.middleware import LOGIN_AT
    from junkai.households.models import CardStatus, Household, Resident
    from junkai.households.rows import beat_list_households
    from junkai.households.search import search_households
    from junkai.org.models import Beat, Officer, Station

    rng = random.Random(seed)  # noqa: S311 (choosing test queries)
    station = Station.objects.filter(code__startswith="SYN").order_by("code").first()
    if station is None:
        raise SystemExit("no SYN station: run `junkai synth` first or drop --reuse")
    print(
        f"data: {Household.objects.count():,} households, {Resident.objects.count():,} "
        f"residents; station {station.code}: "
        f"{Household.objects.filter(station=station).count():,} households"
    )
    number = station.code.removeprefix("SYN")
    chief = Officer.objects.get(username=f"syn{number}_chief")
    walker = (
        Officer.objects.filter(
            username__startswith=f"syn{number}_k", assignments__beats__isnull=False
        )
        .order_by("username")
        .first()
    )
    assert walker is not None
    post_id = walker.current_assignments()[0].post_id
    assert post_id is not None
    for persona, officer, scope in (
        ("beat officer", walker, {"post_id": post_id}),
        ("station chief", chief, {"post__station": station}),
    ):
        sample = list(
            Resident.objects.filter(**scope, card__status=CardStatus.ACTIVE)
            .order_by("?")
            .values_list("name", "kana", "phone")[:500]
        )
        queries = _queries(sample, rng, queries_per_persona)
        for q in queries[:10]:  # warm the caches
            search_households(Officer.objects.get(id=officer.id), q)
        hits: list[int] = []

        def search(q: str, officer_id: int = officer.id, hits: list[int] = hits) -> None:
            # A fresh officer each time, as a request has: his scope is looked up again.
            hits.append(len(search_households(Officer.objects.get(id=officer_id), q)))

        seconds = _timed(search, queries)
        print(
            figures(f"search as {persona}", seconds) + f" (mean {statistics.mean(hits):.1f} hits)"
        )

    beats = list(Beat.objects.filter(post_id=post_id).order_by("code"))
    sizes = dict(
        Household.objects.filter(beat__in=beats)
        .values_list("beat_id")
        .annotate(n=Count("id"))
        .values_list("beat_id", "n")
    )
    print(
        "beats of the officer's post: "
        + ", ".join(f"{b.code} {sizes.get(b.id, 0)} households" for b in beats)
    )

    def query(beat: Beat) -> int:
        return len(beat_list_households(beat))

    query(beats[0])
    loads = [beats[i % len(beats)] for i in range(page_loads)]
    seconds = _timed(query, loads)
    print(figures("beat list ORM query (households + card status)", seconds))
    try:
        reverse("beat_households", args=[beats[0].id])
    except NoReverseMatch:
        print("beat list page: /beats/<id>/households/ does not exist yet (ORM query above only)")
        return
    client = Client()
    client.force_login(walker)
    session = client.session
    session[LOGIN_AT] = time.time()
    session.save()
    for beat in beats:
        response = client.get(f"/beats/{beat.id}/households/")
        assert response.status_code == 200, response.status_code

    def page(beat: Beat) -> None:
        response = client.get(f"/beats/{beat.id}/households/")
        assert response.status_code == 200

    seconds = _timed(page, loads)
    print(
        figures("beat list page GET /beats/<id>/households/", seconds) + f" ({connection.vendor})"
    )


def _allow_test_client() -> None:
    """The test client's host, without setup_test_environment(): that instruments every
    template render (a signal each), which would inflate the page figure."""
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--stations", type=int, default=None)
    parser.add_argument("--reuse", action="store_true", help="read the database as it is")
    parser.add_argument("--queries", type=int, default=200, help="searches per persona")
    parser.add_argument("--pages", type=int, default=100, help="beat list page loads")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.reuse:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
        django.setup()
        from django.db import connection

        _allow_test_client()
        print(f"backend: {connection.vendor} ({connection.settings_dict['NAME']}), reused")
        run_reads(args.queries, args.pages, args.seed)
        return
    with bench_database() as backend:
        _allow_test_client()
        print(f"backend: {backend}")
        run_import(args.households, args.stations, args.seed)
        run_reads(args.queries, args.pages, args.seed)


if __name__ == "__main__":
    main()
