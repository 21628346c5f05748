"""A request whose database connection was lost (PostgreSQL restarted, its backend terminated,
a network cut) or refused leaves no broken worker behind, a read is tried again once, and what
still fails answers 503 with Retry-After (junkai/serving/unavailable.py), never a 500.

Django already starts each request by checking a kept connection (`CONN_HEALTH_CHECKS`), so a
connection that died while the worker was idle is replaced before the request uses it. This
middleware covers the one that dies *during* a request, and the one that cannot be opened: the
request fails; a connection it used that no longer answers is closed here — so the worker's
next request opens a fresh one — and a read (GET, HEAD, OPTIONS) is run once more and, if the
database answers by then, answered as if nothing had happened. A write (POST, PUT, PATCH,
DELETE) is never run again: whether it committed before the connection went is unknown to the
server, so the officer gets the 503 and checks before sending it again (the device's sync push
is idempotent by its client ids and may be resent as it is).

Each such request writes one log line (JSON, junkai/serving/logs.py): WARNING, logger
junkai.serving, with method, path, the final status, `database` ("lost" or "refused") and
`retried`.

A read tried twice may leave its audit event twice (when the first try's event committed
before the connection went): the record errs on the side of more, never less.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import connections
from django.http import HttpRequest, HttpResponse

from junkai.serving import unavailable

logger = logging.getLogger("junkai.serving")

READS = unavailable.READS

MESSAGES = {
    # (retried, answered)
    (False, False): "書き込みの要求中にデータベースに接続できませんでした。再試行はしません",
    (True, False): "読み取りの要求中にデータベースに接続できませんでした。一度だけ再試行しても"
    "接続できません",
    (True, True): "読み取りの要求中にデータベースに接続できませんでした。一度だけ再試行して"
    "応答しました",
}


def close_lost_connections() -> list[str]:
    """Close every connection of this thread that no longer answers; their aliases. One still
    inside a transaction block is left to whoever opened it (a test's; a request holds none
    once it is answered)."""
    lost = []
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable():
            conn.close()
            lost.append(conn.alias)
    return lost


class LostConnectionMiddleware:
    """Second in MIDDLEWARE (after the request id, so both tries log under one id)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(unavailable.note, dispatch_uid="junkai.serving.retry")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        cause = request.META.pop(unavailable.CAUSE, None)
        if response.status_code < 500 or cause is None:
            return response
        # Django closed a connection whose rollback failed; one that died outside a
        # transaction is closed here. Either way the next use opens a fresh one.
        close_lost_connections()
        retried = request.method in READS
        if retried:
            response = self.get_response(request)
            if (again := request.META.pop(unavailable.CAUSE, None)) is not None:
                cause = again
                close_lost_connections()
        logger.warning(
            MESSAGES[(retried, response.status_code < 500)],
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "database": cause,
                "retried": retried,
            },
        )
        return response
