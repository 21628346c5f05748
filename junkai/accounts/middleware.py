"""Session limits and the second-factor gate."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

LOGIN_AT = "junkai_login_at"
#: Set at sign-in when the officer must still pass TOTP; cleared by otp_login.
MFA_PENDING = "junkai_mfa_pending"
#: When the idle limit was last pushed back. The session is written (its expiry moved) at most
#: once a minute, not on every request: three statements a page saved (savepoint, UPDATE,
#: release), and the idle limit is 30 minutes give or take one.
TOUCHED_AT = "junkai_touched_at"
TOUCH_SECONDS = 60

# Paths a signed-in officer may reach before the steps he owes (password change, second factor).
_ALWAYS_OPEN = ("/logout/", "/static/", "/api/")
PASSWORD_CHANGE_PATH = "/account/password/"  # noqa: S105 (a URL path, not a password)


class SessionLimitsMiddleware:
    """Absolute session limit (12 hours) on top of the idle limit (SESSION_COOKIE_AGE), which
    a request pushes back when the last push is a minute old."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(LOGIN_AT)
            if started is None or time.time() - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(settings.LOGIN_URL)
            now = time.time()
            touched = request.session.get(TOUCHED_AT, started)  # the sign-in wrote it last
            if now - float(touched) >= TOUCH_SECONDS:
                request.session[TOUCHED_AT] = now
        return self.get_response(request)


class RequireSecondFactorMiddleware:
    """A signed-in officer reaches nothing but the step he owes: first the change of a password
    someone else issued (/account/password/), then his second factor (/mfa/)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(_ALWAYS_OPEN):
            if getattr(user, "password_change_required", False):
                if request.path != PASSWORD_CHANGE_PATH:
                    return redirect("password_change")
            elif request.session.get(MFA_PENDING) and not request.path.startswith("/mfa/"):
                return redirect("mfa")
        return self.get_response(request)
