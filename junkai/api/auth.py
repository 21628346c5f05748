"""API authentication: a bearer token (devices, scripts) or the browser's session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from junkai.accounts.actions import hash_token, officer_for_token
from junkai.accounts.middleware import MFA_PENDING
from junkai.org.models import Officer


def request_officer(request: HttpRequest) -> Officer:
    """The officer an authenticated operation runs as (both authenticators set request.user)."""
    officer = request.user
    assert isinstance(officer, Officer)
    return officer


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        officer = officer_for_token(token)
        if officer is None:
            return None
        request.user = officer
        request.junkai_token_hash = hash_token(token)  # type: ignore[attr-defined]
        return officer


class VerifiedSession(SessionAuth):
    """The browser session, once past the second factor where one is needed (CSRF-checked)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        # Not before the steps a sign-in owes: the second factor, and the change of a password
        # someone else issued (the pages' middleware holds them to the same).
        if (
            user.is_authenticated
            and not request.session.get(MFA_PENDING)
            and not getattr(user, "password_change_required", False)
        ):
            return user
        return None
