"""The request id: taken from the proxy when well-formed, else made here; echoed back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from junkai.serving.logs import (
    ENVIRON_OFFICER_ID,
    ENVIRON_REQUEST_ID,
    officer_id_var,
    request_id_var,
)

HEADER = "X-Request-ID"
#: What nginx's $request_id (32 hex) and common proxies send; anything else is replaced, so a
#: client cannot write arbitrary text (or a second log line) into the log through the header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,127}")


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every line a request causes, redirects included, carries it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        request.META[ENVIRON_REQUEST_ID] = request_id
        request_token = request_id_var.set(request_id)
        officer_token = officer_id_var.set(None)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            officer_id_var.reset(officer_token)
        response[HEADER] = request_id
        return response

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        # By now the session and sign-in middleware have looked at request.user, so reading it
        # costs no query; lines written before this point (middleware refusals) carry no officer.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            officer_id_var.set(user.pk)
            request.META[ENVIRON_OFFICER_ID] = user.pk
