"""A database connection lost under a request (PostgreSQL restarted, the backend terminated)
or refused (nothing listening) leaves no broken worker: the next request succeeds, a read is
tried again once, a write never, and what still fails is a 503 with Retry-After — the page
made without the database, the API in its one error shape — logged as one JSON line.

On PostgreSQL only, through Django's WSGI handler as gunicorn calls it (the test client turns
off the per-request connection handling this is about). The backend is terminated from a
second connection with pg_terminate_backend, as an administrator or a restart would; a refused
connection is the test database's settings pointed at a port nothing listens on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import sqlite3
import time
import unittest
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import psycopg
import time_machine
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, connections
from django.test import RequestFactory

from junkai.accounts.actions import do_issue_api_token
from junkai.api.errors import UNAVAILABLE_READ, UNAVAILABLE_WRITE
from junkai.audit.models import AuditEvent, EventType
from junkai.serving.logs import JsonFormatter
from junkai.testing import JunkaiTransactionTestCase, PersonaMixin, other_connection
from junkai.visits.models import RefusalReport, Visit

DAY = dt.datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def terminate(pid: int) -> None:
    """Terminate the backend `pid` from another session and wait until it is gone."""
    with other_connection(autocommit=True) as other:
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def refused_database() -> Iterator[mock.MagicMock]:
    """The default database's settings pointed at a port nothing listens on (a server down);
    yields the count of connection attempts (Django's get_new_connection)."""
    conn = connections["default"]
    saved = {key: conn.settings_dict.get(key) for key in ("HOST", "PORT")}
    conn.close()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(_free_port()))
    try:
        with mock.patch.object(
            conn, "get_new_connection", wraps=conn.get_new_connection
        ) as attempts:
            yield attempts
    finally:
        conn.close()
        conn.settings_dict.update(saved)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class JsonLines(logging.Handler):
    """The junkai.serving log as the servers write it: one JSON object a line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


class ThroughWsgi(PersonaMixin, JunkaiTransactionTestCase):
    def setUp(self) -> None:
        traveller = time_machine.travel(DAY, tick=True)  # by day: no night approval needed
        traveller.start()
        self.addCleanup(traveller.stop)
        self.build_personas()
        self.token, _ = do_issue_api_token(self.officer("officer1a"))
        self.handler = WSGIHandler()
        self.log = JsonLines()
        served = logging.getLogger("junkai.serving")
        served.addHandler(self.log)
        self.addCleanup(served.removeHandler, self.log)

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        cookies: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        """One request through the WSGI handler, as gunicorn's worker sends it: with the
        officer's bearer token, or with a signed-in browser's cookies."""
        factory = RequestFactory()
        headers = {"cookie": cookies} if cookies else {"authorization": f"Bearer {self.token}"}
        if method == "GET":
            request = factory.get(path, headers=headers)
        elif form is not None:
            request = factory.post(path, form, headers=headers)
        else:
            request = factory.post(
                path, json.dumps(body), content_type="application/json", headers=headers
            )
        started: list[Any] = []

        def start_response(line: str, response_headers: list[tuple[str, str]], *args: Any) -> Any:
            started.append((int(line.split()[0]), dict(response_headers)))
            return None

        result = self.handler(request.environ, start_response)
        content = b"".join(result)
        result.close()  # request_finished, as the server sends it
        return Answer(started[0][0], started[0][1], content)

    def household(self) -> str:
        return f"/api/v1/households/{self.aoki.id}"

    def visit_body(self, **fields: Any) -> dict[str, Any]:
        return {
            "household_id": self.aoki.id,
            "started_at": (DAY - dt.timedelta(hours=1)).isoformat(),
            "method": "VISIT",
            "outcome": "MET",
            "guidance_topics": [1],
            "note": "",
            **fields,
        }

    def signed_in_cookies(self, username: str = "officer1a") -> str:
        client = self.client_for(username)
        return "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())

    def assert_unavailable(self, answer: Answer, detail: str) -> None:
        self.assertEqual(answer.status, 503, answer.body[:300])
        self.assertEqual(answer.headers["Retry-After"], "5")
        self.assertIn("no-store", answer.headers["Cache-Control"])
        self.assertEqual(answer.json(), {"detail": detail, "errors": {}})

    def assert_one_line(self, **fields: Any) -> dict[str, Any]:
        self.assertEqual(len(self.log.lines), 1, self.log.lines)
        [line] = self.log.lines
        self.assertEqual(line["level"], "WARNING")
        self.assertEqual(line["logger"], "junkai.serving")
        self.assertRegex(line["request_id"], r"^[0-9a-f]{32}$")
        self.assertEqual({k: line.get(k) for k in fields}, fields)
        self.assertNotIn("exception", line)
        self.log.lines.clear()
        return line


class DatabaseErrorTests(ThroughWsgi):
    """On both backends: the database out of reach as each driver says it (SQLite busy past its
    timeout; PostgreSQL shutting down) is the 503; any other database error stays a 500 and is
    not tried again."""

    def failing(self, driver_error: Exception) -> Callable[..., Any]:
        calls: list[str] = []

        def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            if 'FROM "households_household"' in sql:
                calls.append(sql)
                raise OperationalError(str(driver_error)) from driver_error
            return execute(sql, *args)

        wrapper.calls = calls  # type: ignore[attr-defined]
        return wrapper

    def out_of_reach(self) -> Exception:
        if connection.vendor == "postgresql":
            return psycopg.errors.AdminShutdown(
                "terminating connection due to administrator command"
            )
        busy = sqlite3.OperationalError("database is locked")
        busy.sqlite_errorname = "SQLITE_BUSY"
        return busy

    def other_error(self) -> Exception:
        if connection.vendor == "postgresql":
            return psycopg.errors.DeadlockDetected("deadlock detected")
        return sqlite3.OperationalError("no such column: x")

    def test_the_database_out_of_reach_is_503_after_one_more_try(self) -> None:
        wrapper = self.failing(self.out_of_reach())
        with connection.execute_wrapper(wrapper), self.assertNoLogs("django.request", "ERROR"):
            answer = self.send("GET", self.household())
        self.assertEqual(len(wrapper.calls), 2)  # type: ignore[attr-defined]
        self.assert_unavailable(answer, UNAVAILABLE_READ)
        self.assert_one_line(status=503, database="lost", retried=True)

    def test_any_other_database_error_stays_a_500_tried_once(self) -> None:
        wrapper = self.failing(self.other_error())
        with (
            connection.execute_wrapper(wrapper),
            self.assertLogs("django.request", "ERROR"),
            self.assertNoLogs("junkai.serving", "WARNING"),
        ):
            answer = self.send("GET", self.household())
        self.assertEqual(len(wrapper.calls), 1)  # type: ignore[attr-defined]
        self.assertEqual(answer.status, 500)
        self.assertNotIn("Retry-After", answer.headers)


@unittest.skipUnless(connection.vendor == "postgresql", "PostgreSQL's backends")
class LostConnectionTests(ThroughWsgi):
    # --- lost: the backend terminated ------------------------------------------------------

    def test_a_connection_killed_between_requests_is_replaced_before_the_next(self) -> None:
        self.assertEqual(self.send("GET", self.household()).status, 200)
        terminate(connection.connection.info.backend_pid)
        with self.assertNoLogs("junkai.serving", "WARNING"):
            self.assertEqual(self.send("GET", self.household()).status, 200)

    def test_a_read_whose_connection_dies_midway_is_tried_again_once(self) -> None:
        self.assertEqual(self.send("GET", self.household()).status, 200)
        with (
            connection.execute_wrapper(KillBefore('FROM "households_household"')),
            self.assertNoLogs("django.request", "ERROR"),
        ):
            self.assertEqual(self.send("GET", self.household()).status, 200)
        line = self.assert_one_line(
            method="GET", path=self.household(), status=200, database="lost", retried=True
        )
        self.assertIn("一度だけ再試行して応答しました", line["message"])
        self.assertEqual(self.send("GET", self.household()).status, 200)

    def test_a_read_is_tried_again_only_once_then_answered_503(self) -> None:
        kill = KillBefore('FROM "households_household"', times=3)
        with connection.execute_wrapper(kill), self.assertNoLogs("django.request", "ERROR"):
            answer = self.send("GET", self.household())
        self.assertEqual(kill.left, 1)  # two tries, not three
        self.assert_unavailable(answer, UNAVAILABLE_READ)
        self.assert_one_line(status=503, database="lost", retried=True)
        self.assertEqual(self.send("GET", self.household()).status, 200)

    def test_a_write_whose_connection_dies_is_not_sent_again(self) -> None:
        before = Visit.objects.count()
        kill = KillBefore('INSERT INTO "visits_visit"', times=2)
        with connection.execute_wrapper(kill), self.assertNoLogs("django.request", "ERROR"):
            answer = self.send("POST", "/api/v1/visits", self.visit_body())
        self.assertEqual(kill.left, 1)  # one try only
        self.assert_unavailable(answer, UNAVAILABLE_WRITE)
        line = self.assert_one_line(
            method="POST", path="/api/v1/visits", status=503, database="lost", retried=False
        )
        self.assertIn("再試行はしません", line["message"])
        self.assertEqual(self.send("GET", self.household()).status, 200)
        self.assertEqual(Visit.objects.count(), before)  # nothing half-written

    def test_a_write_that_committed_before_its_connection_died_is_there_once(self) -> None:
        # The answer is read after the commit (a refusal's report): the connection dies there.
        body = self.visit_body(outcome="REFUSED", refusal_explanation="趣旨を説明したが断られた")
        kill = KillBefore('FROM "visits_refusalreport"', times=2)
        # The audit log outlives each test's flush (append-only): count this test's events.
        since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        with connection.execute_wrapper(kill):
            answer = self.send("POST", "/api/v1/visits", body)
        self.assertEqual(kill.left, 1)
        self.assert_unavailable(answer, UNAVAILABLE_WRITE)
        self.assert_one_line(status=503, database="lost", retried=False)
        # Saved once, with its report and its event: never sent again by the server.
        self.assertEqual(Visit.objects.filter(household=self.aoki).count(), 1)
        self.assertEqual(RefusalReport.objects.count(), 1)
        recorded = AuditEvent.objects.filter(event_type=EventType.VISIT_RECORDED, id__gt=since)
        self.assertEqual(recorded.count(), 1)

    # --- refused: nothing listens where the settings point ----------------------------------

    def test_a_refused_connection_answers_the_api_503(self) -> None:
        with refused_database() as attempts:
            read = self.send("GET", self.household())
        self.assertEqual(attempts.call_count, 2)  # tried again once
        self.assert_unavailable(read, UNAVAILABLE_READ)
        self.assert_one_line(
            method="GET", path=self.household(), status=503, database="refused", retried=True
        )
        before = Visit.objects.count()
        with refused_database() as attempts:
            write = self.send("POST", "/api/v1/visits", self.visit_body())
        self.assertEqual(attempts.call_count, 1)  # a write never twice
        self.assert_unavailable(write, UNAVAILABLE_WRITE)
        self.assert_one_line(status=503, database="refused", retried=False)
        self.assertEqual(Visit.objects.count(), before)
        # The database back: the same worker answers.
        self.assertEqual(self.send("GET", self.household()).status, 200)

    def test_a_refused_connection_answers_a_signed_in_officer_the_503_page(self) -> None:
        cookies = self.signed_in_cookies()
        self.assertEqual(self.send("GET", "/worklist/", cookies=cookies).status, 200)
        with refused_database() as attempts, self.assertNoLogs("django.request", "ERROR"):
            answer = self.send("GET", "/worklist/", cookies=cookies)
        # One attempt a try: nothing on the way out (the page, the context processors, the
        # session, the no-store check) asked the database again.
        self.assertEqual(attempts.call_count, 2)
        self.assertEqual(answer.status, 503)
        self.assertEqual(answer.headers["Retry-After"], "5")
        self.assertTrue(answer.headers["Content-Type"].startswith("text/html"))
        self.assertIn("ただいま処理できません", answer.text)
        self.assertIn("5秒ほど待ってから", answer.text)
        self.assertIn('name="viewport"', answer.text)
        self.assertNotIn("保存されていない可能性", answer.text)  # a read
        # No personal data, no navigation: nothing of the officer or his beats.
        officer = self.officer("officer1a")
        self.assertNotIn(officer.full_name, answer.text)
        self.assertNotIn(self.aoki.name, answer.text)
        self.assertNotIn("サインアウト", answer.text)
        self.assert_one_line(path="/worklist/", status=503, database="refused", retried=True)

        # A form sent meanwhile: said that it may not have been saved; sent once.
        form = {"csrfmiddlewaretoken": "x" * 32, "outcome": "MET"}
        with refused_database() as attempts:
            posted = self.send(
                "POST",
                f"/households/{self.aoki.id}/visit/",
                cookies=f"{cookies}; {settings.CSRF_COOKIE_NAME}={'x' * 32}",
                form=form,
            )
        self.assertEqual(attempts.call_count, 1)
        self.assertEqual(posted.status, 503)
        self.assertIn("保存されていない可能性があります", posted.text)
        self.assert_one_line(method="POST", status=503, database="refused", retried=False)
        self.assertEqual(self.send("GET", "/worklist/", cookies=cookies).status, 200)
