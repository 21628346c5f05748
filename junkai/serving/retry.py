"""A request whose database connection was lost (PostgreSQL restarted, its backend terminated,
a network cut) leaves no broken worker behind, and a read is tried again once.

Django already starts each request by checking a kept connection (`CONN_HEALTH_CHECKS`), so a
connection that died while the worker was idle is replaced before the request uses it. This
middleware covers the one that dies *during* a request: the request fails (500); if a
connection it used no longer answers, the connection is closed here — so the worker's next
request opens a fresh one — and a read (GET, HEAD, OPTIONS) is run once more and answered as if
nothing had happened. A write (POST, PUT, PATCH, DELETE) is never run again: whether it
committed before the connection went is unknown to the server, so the officer gets the error
and checks before sending it again (the device's sync push is idempotent by its client ids and
may be resent as it is).

A read tried twice may leave its audit event twice (when the first try's event committed
before the connection went): the record errs on the side of more, never less.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("junkai.serving")

#: Methods that change nothing a retry could do twice (their audit events aside, see above).
READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Set in the request's environ when it failed on the database's connection.
LOST = "junkai.connection_lost"


def _connection_error(exc: BaseException | None) -> bool:
    """Whether the exception, or one it was raised from, is the database's connection failing
    (Django's OperationalError or InterfaceError: the server gone, the connection closed)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _note_lost(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception: sent while Django turns the exception into the 500."""
    if request is not None and _connection_error(sys.exc_info()[1]):
        request.META[LOST] = True


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
        got_request_exception.connect(_note_lost, dispatch_uid="junkai.serving.retry")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 500 or not request.META.pop(LOST, False):
            return response
        # Django closed a connection whose rollback failed; one that died outside a
        # transaction is closed here. Either way the next use opens a fresh one.
        close_lost_connections()
        if request.method not in READS:
            logger.warning("書き込みの要求中にデータベース接続が切れました。再試行はしません")
            return response
        logger.warning("読み取りの要求中にデータベース接続が切れました。一度だけ再試行します")
        response = self.get_response(request)
        if response.status_code >= 500 and request.META.pop(LOST, False):
            close_lost_connections()
        return response
