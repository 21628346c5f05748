"""Queries per request on the officer's hot paths (issue 14: at most five where it can be).

Each path is asked through HTTP as a beat officer does it, counted with Django's query capture,
with a beat of a few households and again after twenty more (with cards, buildings, concerns):
the count must stay the same. The figures are PostgreSQL's, the production engine, where the
audit append is one INSERT (its (event, household) rows in the same statement) sealed after
commit; SQLite's append seals inline (savepoint, head, pending, seal, release), so its counts are
higher by that and are only held fixed. Inside a test every action's transaction is a savepoint
(two statements production does not send), counted here as well.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from junkai.accounts.actions import do_issue_api_token
from junkai.households import actions as household_actions
from junkai.households.models import Building
from junkai.testing import PersonaTestCase
from junkai.visits.actions import do_record_visit

JST = ZoneInfo("Asia/Tokyo")
DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=JST)

#: PostgreSQL's count per path, with what each query is.
BUDGET = {
    # token (with its officer), assignments with their beats, the policy (horizon), the
    # households with concerns, card times and building name as subqueries, the audit append.
    "worklist API": 5,
    # token, assignments, the household, the read's event, the card, its residents, emergency
    # contacts and vehicles.
    "household API": 8,
    # token, assignments, the household, the read's event, [savepoint], the policy, the day's
    # card revision, the visit, the household's schedule, the visit's event, [release].
    "record a visit API": 11,
    # session, officer, assignments, the household, the read's event, the card with residents,
    # contacts and vehicles, the card revisions, the remembered purposes' beats.
    "household page": 12,  # with its 直近の巡回 panel
}


class HotPathTests(PersonaTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(DAY, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        token, _ = do_issue_api_token(self.officer("officer1a"))
        self.api = Client(headers={"Authorization": f"Bearer {token}"})
        self.page = self.client_for("officer1a")

    def count(self, send: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = send()
        self.assertLess(response.status_code, 400, response.content[:300])
        return len(queries.captured_queries)

    def paths(self) -> dict[str, Any]:
        household = self.aoki
        body = {
            "household_id": household.id,
            "started_at": (DAY - dt.timedelta(hours=1)).isoformat(),
            "method": "VISIT",
            "outcome": "MET",
            "guidance_topics": [1],
            "note": "",
        }
        return {
            "worklist API": lambda: self.api.get("/api/v1/worklist"),
            "household API": lambda: self.api.get(f"/api/v1/households/{household.id}"),
            "record a visit API": lambda: self.api.post(
                "/api/v1/visits", json.dumps(body), content_type="application/json"
            ),
            "household page": lambda: self.page.get(f"/households/{household.id}/"),
        }

    def counts(self) -> dict[str, int]:
        found = {}
        for name, send in self.paths().items():
            send()  # the first request of a session also stamps it
            found[name] = self.count(send)
        return found

    def grow_the_beat(self, count: int, first: int = 30) -> None:
        beat = self.beat("K1-1")
        officer1a = self.officer("officer1a")
        building = Building.objects.create(
            post=beat.post, beat=beat, name="コーポ駅前", town="駅前町"
        )
        for n in range(first, first + count):
            household = household_actions.do_create_household(
                beat, acting_officer=None, kind="RESIDENCE", town="駅前町", banchi=str(n)
            )
            if n % 3 == 0:
                household.building = building
                household.save(update_fields=["building"])
            if n % 2:
                household_actions.do_save_card(
                    household,
                    {"residents": [{"name": f"住民 {n}"}], "preferred_times": "午前"},
                    acting_officer=officer1a,
                    expected_version=None,
                )
            if n % 4 == 1:
                do_record_visit(
                    household,
                    acting_officer=officer1a,
                    started_at=DAY - dt.timedelta(days=400),
                    outcome="ABSENT",
                    concerns=[{"kind": "TROUBLE", "text": "騒音"}],
                )

    def test_counts_stay_within_budget_and_do_not_grow(self) -> None:
        self.grow_the_beat(1, first=1)  # one due on the work list
        small = self.counts()
        if connection.vendor == "postgresql":
            self.assertEqual(small, BUDGET)
        listed = self.api.get("/api/v1/worklist").json()["count"]
        self.grow_the_beat(20)
        self.assertEqual(self.counts(), small)
        self.assertGreaterEqual(self.api.get("/api/v1/worklist").json()["count"], listed + 20)

    def test_worklist_api_within_five(self) -> None:
        n = self.count(self.paths()["worklist API"])
        if connection.vendor == "postgresql":
            self.assertLessEqual(n, 5)

    def test_the_session_is_written_once_a_minute(self) -> None:
        household = f"/households/{self.aoki.id}/"
        self.page.get(household)
        writes = []
        for shift in (10, 20, 65):
            with (
                time_machine.travel(DAY + dt.timedelta(seconds=shift), tick=False),
                CaptureQueriesContext(connection) as queries,
            ):
                self.page.get(household)
            writes.append(
                sum('UPDATE "django_session"' in q["sql"] for q in queries.captured_queries)
            )
        self.assertEqual(writes, [0, 0, 1])
