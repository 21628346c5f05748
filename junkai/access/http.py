"""Typed requests and the signed-in guard for function views (as Healthchecks does)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from junkai.org.models import Officer


class AuthenticatedHttpRequest(HttpRequest):
    user: Officer


View = Callable[..., HttpResponse]


def signed_in_view(view: Callable[..., HttpResponse]) -> View:
    """Only for a signed-in, active officer; everyone else goes to the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated or not request.user.is_active:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
