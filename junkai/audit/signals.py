"""Sign-in success and failure reach the audit log through Django's auth signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from junkai.audit.chain import record
from junkai.audit.models import EventType


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
    # Only the login id typed (never the password); it names an account, not a resident.
    username = str(credentials.get("username", ""))[:64]
    locked = bool(getattr(request, "axes_locked_out", False))
    record(
        EventType.LOCKED_OUT if locked else EventType.SIGN_IN_FAILED,
        object_type="org.officer",
        details={"username": username, "channel": _channel(request)},
    )
