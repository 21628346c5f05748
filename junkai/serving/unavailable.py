"""A database that cannot be reached answers 503 with `Retry-After`, in Japanese, not a 500.

Two causes, told apart for the log: the request's connection was *lost* (PostgreSQL restarting
its backends after a crash, a backend terminated, the network cut) or no connection could be
opened at all, *refused* (the server down or still recovering, a wrong address). Any other
database error (a deadlock, a timeout, a missing table) stays the 500 it was.

The answer is made without the database: a page rendered from `503.html` with no request
context (the context processors and the signed-in officer would read the session, i.e. the
database), no personal data on it; for the API the one error shape of junkai/api/errors.py,
handed in by junkai/urls.py (the API stands above this layer). Django's own log line for the
error is left out: junkai/serving/retry.py writes one JSON line for the event instead. With
DEBUG on, Django's debug page is shown as for any error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

#: Seconds a client waits before trying again: PostgreSQL is back within seconds of a crash.
RETRY_AFTER_SECONDS = 5
#: Set in the request's environ when it failed on the database: "lost" or "refused".
CAUSE = "junkai.database_unavailable"
#: Methods that change nothing a retry could do twice (their audit events aside).
READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: SQLite's own "cannot be reached": busy past the timeout, locked, the file unreadable.
_SQLITE_UNAVAILABLE = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB"}
)


def _database_error(exc: BaseException | None) -> BaseException | None:
    """Django's OperationalError or InterfaceError among the exception and its causes."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _while_connecting(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "get_new_connection":
            return True
        tb = tb.tb_next
    return False


def cause_of(exc: BaseException | None) -> str | None:
    """ "refused", "lost", or None when the error is not the database being out of reach."""
    error = _database_error(exc)
    if error is None:
        return None
    if _while_connecting(error):
        return "refused"
    if isinstance(error, InterfaceError):  # the connection already closed under it
        return "lost"
    driver = error.__cause__
    if hasattr(driver, "sqlstate"):
        # psycopg: no SQLSTATE is the client's own "server closed the connection"; class 08 is
        # a connection exception, 57P01–57P03 the server shutting down, crashed or starting.
        state: str | None = getattr(driver, "sqlstate", None)
        return "lost" if state is None or state.startswith(("08", "57P")) else None
    return "lost" if getattr(driver, "sqlite_errorname", "") in _SQLITE_UNAVAILABLE else None


def note(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception (sent before handler500 is asked for the answer): marks the
    request whose error was the database out of reach."""
    if request is not None and (cause := cause_of(sys.exc_info()[1])) is not None:
        request.META[CAUSE] = cause


def _finish(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Nothing here may be kept by a cache; and junkai.serving.privacy need not ask who is
    # signed in (the session is in the database).
    response["Cache-Control"] = "no-store"
    # retry.LostConnectionMiddleware logs the event once; Django's "Service Unavailable" line
    # with the traceback would be a second line for it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def page(request: HttpRequest) -> HttpResponse:
    """The 503 page: a template rendered without the request (no context processors)."""
    html = loader.get_template("503.html").render(
        {"write": request.method not in READS, "retry_after": RETRY_AFTER_SECONDS}
    )
    return _finish(HttpResponse(html, status=503, content_type="text/html; charset=utf-8"))


def server_error_view(
    api_body: Callable[[bool], dict[str, Any]],
) -> Callable[[HttpRequest], HttpResponse]:
    """handler500: the database out of reach answers 503 (`api_body(write)` under /api/),
    anything else Django's 500 page (500.html)."""

    def server_error(request: HttpRequest) -> HttpResponse:
        if request.META.get(CAUSE) is None:
            return defaults.server_error(request)
        if request.path.startswith("/api/"):
            body = api_body(request.method not in READS)
            return _finish(JsonResponse(body, status=503))
        return page(request)

    return server_error
