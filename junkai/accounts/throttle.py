"""Sign-in throttling beside the per-ID lockout (django-axes, 5 failures lock that ID).

Officers at a post share one address behind NAT, so an address is never locked out: one
officer's typos must not shut the 交番 out. Instead two signals slow sign-in down:

- password spraying: failures for many different IDs from one source (SPRAY_IDS within the
  window) — that source may then try once per SPRAY_PACE_S;
- a global ceiling: failures across all sources beyond GLOBAL_FAILURES within the window —
  every source may then try once per GLOBAL_PACE_S.

A throttled attempt is answered 429 with Retry-After, before any password is checked. The
source is the client's address, from X-Forwarded-For only when the request came through the
proxy named in JUNKAI_FORWARDED_ALLOW_IPS (docs/deploy.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from junkai.accounts.models import SignInFailure

WINDOW = dt.timedelta(minutes=10)
SPRAY_IDS = 10
SPRAY_PACE_S = 10.0
GLOBAL_FAILURES = 500
GLOBAL_PACE_S = 2.0
THROTTLED = "サインインの試行が多いため、しばらく待ってから再度お試しください"


def keyed(value: str) -> str:
    """A keyed digest (the audit key): the same value gives the same digest, nothing more."""
    return hmac.new(settings.JUNKAI_AUDIT_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for item in settings.JUNKAI_FORWARDED_ALLOW_IPS:
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return nets


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    try:
        via_proxy = any(ipaddress.ip_address(remote) in net for net in _trusted_proxies())
    except ValueError:
        via_proxy = False
    if via_proxy and forwarded:
        # nginx overwrites the header with the address it saw: the last entry is its own.
        return forwarded.split(",")[-1].strip()
    return remote


def retry_after(request: HttpRequest) -> int | None:
    """Seconds this source must wait before its next attempt, or None when it may try now."""
    now = timezone.now()
    since = now - WINDOW
    source = keyed(client_address(request))
    recent = SignInFailure.objects.filter(at__gte=since)
    pace = 0.0
    mine = recent.filter(source=source)
    if mine.values("attempt").distinct().count() >= SPRAY_IDS:
        pace = SPRAY_PACE_S
    if recent.count() >= GLOBAL_FAILURES:
        pace = max(pace, GLOBAL_PACE_S)
    if not pace:
        return None
    last = mine.order_by("-at").values_list("at", flat=True).first()
    if last is None:
        return None
    wait = pace - (now - last).total_seconds()
    return math.ceil(wait) if wait > 0 else None


def note_failure(request: HttpRequest | None, username: str) -> None:
    """Record a failed sign-in (called from the auth signal); old rows go as new ones come."""
    now = timezone.now()
    SignInFailure.objects.filter(at__lt=now - WINDOW).delete()
    source = keyed(client_address(request)) if request is not None else keyed("")
    SignInFailure.objects.create(at=now, source=source, attempt=keyed(username))
