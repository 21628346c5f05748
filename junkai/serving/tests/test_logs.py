"""Log lines: one JSON object each, printed once, with the request id and the officer, and
never a query string."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from gunicorn.config import Config

from junkai.serving.gunicorn_logging import JsonLogger
from junkai.serving.logs import JsonFormatter
from junkai.testing import PersonaTestCase


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("壊れた処理\n二行目")


urlpatterns = [path("fails/", _fails)]


@contextmanager
def captured_log(level: int = logging.INFO) -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, at `level`."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    out = io.StringIO()
    old_stream, old_level = handler.setStream(out), handler.level  # type: ignore[attr-defined]
    handler.setLevel(level)
    try:
        yield out
    finally:
        handler.setStream(old_stream)  # type: ignore[attr-defined]
        handler.setLevel(old_level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


class RequestLogTests(PersonaTestCase):
    def test_a_warning_is_one_json_line_with_the_request_id(self) -> None:
        with captured_log() as out:
            response = self.client.get("/no-such-page/?name=青木一郎")
        self.assertEqual(response.status_code, 404)
        entries = lines(out)
        self.assertEqual(len(entries), 1, out.getvalue())
        entry = entries[0]
        self.assertEqual(
            set(entry), {"time", "level", "logger", "message", "request_id", "officer_id"}
        )
        self.assertEqual(entry["level"], "WARNING")
        self.assertEqual(entry["logger"], "django.request")
        self.assertEqual(entry["message"], "Not Found: /no-such-page/")
        self.assertEqual(entry["request_id"], response["X-Request-ID"])
        self.assertIsNone(entry["officer_id"])
        self.assertTrue(entry["time"].endswith("+00:00"))
        self.assertNotIn("青木", out.getvalue())
        self.assertNotIn("name=", out.getvalue())

    @override_settings(DEBUG=True)
    def test_printed_once_when_debug_too(self) -> None:
        # Django's own console handler (DEBUG only) printed every line a second time.
        with captured_log() as out:
            self.client.get("/no-such-page/")
        self.assertEqual(len(lines(out)), 1, out.getvalue())
        self.assertEqual(logging.getLogger("django").handlers, [])

    def test_the_officer_is_named_by_id(self) -> None:
        client = self.client_for("officer1a")
        with captured_log() as out:
            response = client.get(f"/households/{self.other['household'].id}/")
        self.assertEqual(response.status_code, 404)
        [entry] = [e for e in lines(out) if e["logger"] == "django.request"]
        self.assertEqual(entry["officer_id"], self.officer("officer1a").id)
        self.assertEqual(entry["request_id"], response["X-Request-ID"])
        self.assertNotIn("遠野", out.getvalue())

    def test_request_id_from_the_proxy_when_well_formed(self) -> None:
        given = "0123456789abcdef0123456789abcdef"
        response = self.client.get("/healthz", headers={"X-Request-ID": given})
        self.assertEqual(response["X-Request-ID"], given)
        for bad in ("short", "x" * 200, "abc def ghij", 'abcdefgh"}\n{"level":"ERROR"'):
            with self.subTest(bad=bad):
                response = self.client.get("/healthz", headers={"X-Request-ID": bad})
                self.assertRegex(response["X-Request-ID"], r"^[0-9a-f]{32}$")
        # Two requests, two ids.
        first = self.client.get("/healthz")["X-Request-ID"]
        self.assertNotEqual(first, self.client.get("/healthz")["X-Request-ID"])

    @override_settings(ROOT_URLCONF=__name__)
    def test_an_error_with_its_traceback_is_one_line(self) -> None:
        client = Client(raise_request_exception=False)
        with captured_log() as out:
            response = client.get("/fails/?q=secret")
        self.assertEqual(response.status_code, 500)
        self.assertEqual(len(out.getvalue().splitlines()), 1, out.getvalue())
        [entry] = lines(out)
        self.assertEqual(entry["level"], "ERROR")
        self.assertEqual(entry["message"], "Internal Server Error: /fails/")
        self.assertIn("RuntimeError: 壊れた処理", entry["exception"])
        self.assertEqual(entry["request_id"], response["X-Request-ID"])
        self.assertNotIn("secret", out.getvalue())


class FormatterTests(PersonaTestCase):
    def test_query_strings_are_cut_from_messages(self) -> None:
        record = logging.LogRecord(
            "x", logging.WARNING, __file__, 1, "GET %s", ("/search/?q=青木&page=2",), None
        )
        entry = json.loads(JsonFormatter().format(record))
        self.assertEqual(entry["message"], "GET /search/")


class GunicornAccessLogTests(PersonaTestCase):
    def test_access_line_is_json_without_the_query_string(self) -> None:
        cfg = Config()
        cfg.set("accesslog", "-")
        logger = JsonLogger(cfg)
        out = io.StringIO()
        [handler] = logger.access_log.handlers
        handler.setStream(out)
        logger.access(
            SimpleNamespace(status="404 Not Found", sent=1033, headers=[]),
            SimpleNamespace(headers=[]),
            {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": "/search/",
                "QUERY_STRING": "q=青木",
                "RAW_URI": "/search/?q=青木",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "junkai.request_id": "abcdef0123456789",
                "junkai.officer_id": 7,
            },
            dt.timedelta(milliseconds=12, microseconds=340),
        )
        [entry] = lines(out)
        self.assertEqual(entry["logger"], "gunicorn.access")
        self.assertEqual(entry["message"], "GET /search/ 404")
        self.assertEqual(
            {k: entry[k] for k in ("method", "path", "status", "bytes", "duration_ms")},
            {
                "method": "GET",
                "path": "/search/",
                "status": 404,
                "bytes": 1033,
                "duration_ms": 12.3,
            },
        )
        self.assertEqual((entry["request_id"], entry["officer_id"]), ("abcdef0123456789", 7))
        self.assertNotIn("青木", out.getvalue())
        self.assertIsNone(re.search(r"\?", out.getvalue()))
