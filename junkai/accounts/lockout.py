"""What a locked-out sign-in gets back (django-axes AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from junkai.accounts.throttle import keyed

MESSAGE = "サインインの失敗が続いたため、このログインIDは10分間ロックされています。"


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": MESSAGE}, status=429)
    return render(request, "accounts/locked_out.html", {"message": MESSAGE}, status=429)


def lockout_key(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The key django-axes counts failures under and stores: a keyed digest of the typed ID."""
    username = str((credentials or {}).get("username", ""))[:150]
    return keyed(username.strip())
