"""Sign-in side changes: API tokens and second factors, each audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.access.roles import credentials_reset_refusal
from junkai.accounts.models import ApiToken
from junkai.accounts.throttle import keyed
from junkai.audit.chain import record
from junkai.audit.models import EventType
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.passwords import issued_password
from junkai.org.actions import do_end_sessions
from junkai.org.models import Officer, load_officer


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def do_issue_api_token(officer: Officer) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    api_token = ApiToken.objects.create(
        officer=officer,
        key_hash=hash_token(token),
        auth_hash=officer.get_session_auth_hash(),
        created_at=now,
        expires_at=now + settings.API_TOKEN_TTL,
    )
    record(
        EventType.API_TOKEN_ISSUED,
        actor=officer,
        obj=api_token,
        details={"expires_at": api_token.expires_at},
    )
    return token, api_token


@transaction.atomic
def do_sign_in_api(officer: Officer) -> tuple[str, ApiToken]:
    """A device or script signed in with its credentials (and second factor): the sign-in is
    on the record like a page's, and it receives a bearer token."""
    record(EventType.SIGN_IN, actor=officer, obj=officer, details={"channel": "api"})
    return do_issue_api_token(officer)


@transaction.atomic
def do_revoke_api_token(api_token: ApiToken, *, acting_officer: Officer) -> None:
    if api_token.revoked_at is not None:
        return
    api_token.revoked_at = timezone.now()
    api_token.save(update_fields=["revoked_at"])
    record(EventType.API_TOKEN_REVOKED, actor=acting_officer, obj=api_token)


def officer_for_token(token: str, *, now: datetime | None = None) -> Officer | None:
    """The officer a bearer token stands for, or None if unknown, expired, revoked or stale."""
    now = now or timezone.now()
    # The token, its officer and his assignments valid today (which the hash covers and the
    # scope needs) in one query.
    found = load_officer(
        {
            "api_tokens__key_hash": hash_token(token),
            "api_tokens__revoked_at__isnull": True,
            "api_tokens__expires_at__gt": now,
        },
        {"auth_hash": "api_tokens__auth_hash"},
    )
    if found is None:
        return None
    officer, token_row = found
    if not officer.is_active or not constant_time_compare(
        str(token_row["auth_hash"]), officer.get_session_auth_hash()
    ):
        return None
    return officer


@transaction.atomic
def do_start_totp_enrollment(officer: Officer) -> TOTPDevice:
    """A fresh unconfirmed device; it counts only once the officer proves a code from it."""
    TOTPDevice.objects.filter(user=officer, confirmed=False).delete()
    return TOTPDevice.objects.create(user=officer, name="Junkai", confirmed=False)


@transaction.atomic
def do_confirm_totp(device: TOTPDevice, token: str) -> bool:
    officer = device.user
    if not device.verify_token(token):
        record(EventType.OTP_FAILED, actor=officer, obj=officer, details={"step": "enroll"})
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(EventType.OTP_ENROLLED, actor=officer, obj=officer)
    return True


@transaction.atomic
def do_remove_totp(officer: Officer, *, acting_officer: Officer) -> None:
    """Reset his second factor (a lost or replaced phone): he enrols again at his next
    sign-in (JUNKAI_REQUIRE_MFA) and every session and token of his ends now."""
    _refuse_reset(officer, acting_officer)
    TOTPDevice.objects.filter(user=officer).delete()
    record(EventType.OTP_REMOVED, actor=acting_officer, obj=officer)
    do_end_sessions(officer, acting_officer=acting_officer, reason="second factor reset")


@transaction.atomic
def do_reissue_password(officer: Officer, *, acting_officer: Officer) -> str:
    """A forgotten password: a new issued one, returned once for the manager to hand over in
    person, changed at the officer's first sign-in; his sessions and tokens end, and a lockout
    of his login ID is lifted. The password itself is in no log and no audit row."""
    _refuse_reset(officer, acting_officer)
    password = issued_password()
    officer.set_password(password)
    officer.password_change_required = True
    officer.save(update_fields=["password", "password_change_required"])
    record(
        EventType.PASSWORD_CHANGED,
        actor=acting_officer,
        obj=officer,
        purpose="パスワードの再発行",
        details={"issued": True},
    )
    do_end_sessions(officer, acting_officer=acting_officer, reason="password reissued")
    AccessAttempt.objects.filter(username=keyed(officer.username)).delete()
    return password


def _refuse_reset(officer: Officer, acting_officer: Officer) -> None:
    refusal = credentials_reset_refusal(acting_officer, officer)
    if refusal is not None:
        raise PermissionDeniedError(refusal)


def confirmed_device(officer: Officer) -> TOTPDevice | None:
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=officer, confirmed=True).first()
    return device


def verify_second_factor(officer: Officer, token: str, *, channel: str) -> bool:
    """Check a TOTP code against the officer's confirmed device (django-otp throttles)."""
    device = confirmed_device(officer)
    ok = bool(device is not None and token and device.verify_token(token.strip()))
    record(
        EventType.OTP_VERIFIED if ok else EventType.OTP_FAILED,
        actor=officer,
        obj=officer,
        details={"channel": channel},
    )
    return ok


def second_factor_required(officer: Officer) -> bool:
    """Everyone who enrolled must use it; with JUNKAI_REQUIRE_MFA, everyone must enroll."""
    return bool(settings.JUNKAI_REQUIRE_MFA) or confirmed_device(officer) is not None


@transaction.atomic
def do_change_password(officer: Officer, *, current: str, new: str) -> None:
    """The officer's own password change: the current one proves it is him; the new one passes
    every validator (length, common, numeric, similar to his name, breached). His API tokens
    end (they are bound to the password); the caller keeps his page session."""
    errors: dict[str, list[str]] = {}
    if not officer.check_password(current):
        errors["current"] = ["現在のパスワードが正しくありません"]
    if new == current:
        errors["new"] = ["現在のパスワードと異なるものにしてください"]
    else:
        try:
            validate_password(new, officer)
        except ValidationError as invalid:
            errors["new"] = list(invalid.messages)
    if errors:
        raise ValidationError(errors)
    officer.set_password(new)
    officer.password_change_required = False
    officer.save(update_fields=["password", "password_change_required"])
    record(EventType.PASSWORD_CHANGED, actor=officer, obj=officer)
