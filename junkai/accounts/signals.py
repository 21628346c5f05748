"""Sign-in success and failure reach the audit log through Django's auth signals."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from junkai.accounts.throttle import note_failure
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.org.models import Officer


def _channel(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return "api" if request.path.startswith("/api/") else "web"


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(EventType.SIGN_IN, actor=user, obj=user, details={"channel": _channel(request)})


@receiver(user_logged_out)
def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(EventType.SIGN_OUT, actor=user, obj=user, details={"channel": _channel(request)})


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Never the typed text itself: a password typed into the ID field would stay in an
    # append-only table for good. A known account is named by id; anything else by a keyed
    # digest, enough to see repeated attempts on the same string.
    username = str(credentials.get("username", ""))[:150]
    officer_id = Officer.objects.filter(username=username).values_list("id", flat=True).first()
    digest = hmac.new(
        settings.JUNKAI_AUDIT_KEY.encode(), username.encode(), hashlib.sha256
    ).hexdigest()[:16]
    locked = bool(getattr(request, "axes_locked_out", False))
    note_failure(request, username)
    record(
        EventType.LOCKED_OUT if locked else EventType.SIGN_IN_FAILED,
        object_type="org.officer",
        object_id=str(officer_id) if officer_id else "",
        details={"known": officer_id is not None, "attempt": digest, "channel": _channel(request)},
    )
