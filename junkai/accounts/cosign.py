"""A second officer's signature on the same device (DESIGN.md, "Second officer on the same
device"): the 持出確認者 on the 交番's shared tablet types his own ID and password — and his TOTP
code where MFA is on — and the step is recorded as his. It goes through the sign-in's own
throttle (spraying, the global ceiling) and per-ID lockout (django-axes, through `authenticate`),
and never touches the session: the tablet stays signed in as the first officer."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest

from junkai.accounts.actions import confirmed_device, second_factor_required, verify_second_factor
from junkai.accounts.lockout import MESSAGE as LOCKED
from junkai.accounts.throttle import THROTTLED, retry_after
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.org.models import Officer

WRONG = "確認者のログインIDまたはパスワードが正しくありません。"


class CoSignRefused(Exception):
    """Why the second officer was not accepted; `status` as the sign-in would answer."""

    def __init__(self, message: str, *, status: int, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def co_signer(request: HttpRequest, *, username: str, password: str, otp_token: str) -> Officer:
    """The officer whose credentials were typed, or CoSignRefused. Failures count as the
    sign-in's do (axes per ID, the spraying and global counters, the audit log)."""
    wait = retry_after(request)
    if wait is not None:
        raise CoSignRefused(f"{THROTTLED}（{wait}秒後）。", status=429, retry_after=wait)
    user = authenticate(request, username=username.strip(), password=password)
    if getattr(request, "axes_locked_out", False):
        raise CoSignRefused(LOCKED, status=429)
    if not isinstance(user, Officer) or not user.is_active:
        raise CoSignRefused(WRONG, status=401)
    if second_factor_required(user):
        if confirmed_device(user) is None:
            raise CoSignRefused(
                "確認者は二要素認証を登録してから確認してください（本人の端末でサインインして登録）。",
                status=403,
            )
        if not verify_second_factor(user, otp_token, channel="co-sign"):
            raise CoSignRefused("確認者の確認コード（6桁）が正しくありません。", status=401)
    signed_in = getattr(request, "user", None)
    record(
        EventType.SIGN_IN,
        actor=user,
        obj=user,
        details={
            "channel": "co-sign",
            "device_officer": signed_in.id if isinstance(signed_in, Officer) else None,
        },
    )
    return user
