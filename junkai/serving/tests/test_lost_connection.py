"""A database connection lost under a request (PostgreSQL restarted, the backend terminated)
leaves no broken worker: the next request succeeds, a read is tried again once, a write never.

On PostgreSQL only, through Django's WSGI handler as gunicorn calls it (the test client turns
off the per-request connection handling this is about). The backend is terminated from a
second connection with pg_terminate_backend, as an administrator or a restart would.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import unittest
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import time_machine
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from junkai.accounts.actions import do_issue_api_token
from junkai.testing import JunkaiTransactionTestCase, PersonaMixin
from junkai.visits.models import Visit

DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _other_connection() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
    )


def terminate(pid: int) -> None:
    """Terminate the backend `pid` from another session and wait until it is gone."""
    with _other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(200):
            row = other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if row is None:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} still there")


class KillBefore:
    """An execute wrapper: terminates this connection's backend just before the first `times`
    statements containing `fragment` are sent (each try of the request meets one)."""

    def __init__(self, fragment: str, times: int = 1) -> None:
        self.fragment, self.left = fragment, times

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.left and self.fragment in sql:
            self.left -= 1
            terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


@unittest.skipUnless(connection.vendor == "postgresql", "PostgreSQL's backends")
class LostConnectionTests(PersonaMixin, JunkaiTransactionTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(DAY, tick=True)  # by day: no night approval needed
        traveller.start()
        self.addCleanup(traveller.stop)
        self.build_personas()
        self.token, _ = do_issue_api_token(self.officer("officer1a"))
        self.handler = WSGIHandler()

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> int:
        """One request through the WSGI handler, as gunicorn's worker sends it."""
        factory = RequestFactory()
        headers = {"authorization": f"Bearer {self.token}"}
        if method == "GET":
            request = factory.get(path, headers=headers)
        else:
            request = factory.post(
                path, json.dumps(body), content_type="application/json", headers=headers
            )
        status: list[int] = []

        def start_response(line: str, *args: Any) -> Any:
            status.append(int(line.split()[0]))
            return None

        result = self.handler(request.environ, start_response)
        b"".join(result)
        result.close()  # request_finished, as the server sends it
        return status[0]

    def household(self) -> str:
        return f"/api/v1/households/{self.aoki.id}"

    def test_a_connection_killed_between_requests_is_replaced_before_the_next(self) -> None:
        self.assertEqual(self.send("GET", self.household()), 200)
        terminate(connection.connection.info.backend_pid)
        with self.assertNoLogs("junkai.serving", "WARNING"):
            self.assertEqual(self.send("GET", self.household()), 200)

    def test_a_read_whose_connection_dies_midway_is_tried_again_once(self) -> None:
        self.assertEqual(self.send("GET", self.household()), 200)
        with (
            connection.execute_wrapper(KillBefore('FROM "households_household"')),
            self.assertLogs("junkai.serving", "WARNING") as warned,
            self.assertLogs("django.request", "ERROR"),
        ):
            self.assertEqual(self.send("GET", self.household()), 200)
        self.assertIn("一度だけ再試行します", warned.output[0])
        self.assertEqual(self.send("GET", self.household()), 200)

    def test_a_read_is_tried_again_only_once(self) -> None:
        kill = KillBefore('FROM "households_household"', times=3)
        with (
            connection.execute_wrapper(kill),
            self.assertLogs("junkai.serving", "WARNING"),
            self.assertLogs("django.request", "ERROR"),
        ):
            self.assertEqual(self.send("GET", self.household()), 500)
        self.assertEqual(kill.left, 1)  # two tries, not three
        self.assertEqual(self.send("GET", self.household()), 200)

    def test_a_write_whose_connection_dies_is_not_sent_again(self) -> None:
        body = {
            "household_id": self.aoki.id,
            "started_at": (DAY - dt.timedelta(hours=1)).isoformat(),
            "method": "VISIT",
            "outcome": "MET",
            "guidance_topics": [1],
            "note": "",
        }
        before = Visit.objects.count()
        kill = KillBefore('INSERT INTO "visits_visit"', times=2)
        with (
            connection.execute_wrapper(kill),
            self.assertLogs("junkai.serving", "WARNING") as warned,
            self.assertLogs("django.request", "ERROR"),
        ):
            self.assertEqual(self.send("POST", "/api/v1/visits", body), 500)
        self.assertEqual(kill.left, 1)  # one try only
        self.assertIn("再試行はしません", warned.output[0])
        self.assertEqual(self.send("GET", self.household()), 200)
        self.assertEqual(Visit.objects.count(), before)  # nothing half-written
