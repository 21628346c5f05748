"""No copy of personal data in any cache: every answer to a signed-in officer or to the API is
`Cache-Control: no-store` (ASVS 14.3). One rule for every page, export, PDF and API answer;
only the static files (served before this by WhiteNoise, with their long cache) are exempt,
and the sign-in page before anyone is signed in."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def carries_personal_data(request: HttpRequest) -> bool:
    """Whether the answer may hold personal data: anything an officer or a token asked for."""
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False)) or request.path.startswith("/api/")


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # An answer already marked no-store (the 503 of a database out of reach) needs no
        # question: asking who is signed in would read the session from the database.
        if "no-store" in response.get("Cache-Control", ""):
            return response
        if carries_personal_data(request):
            add_never_cache_headers(response)
        return response
