"""Sign-in (password, then TOTP), sign-out, and the officer's own second-factor settings."""

from __future__ import annotations

import time
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from junkai.access.declare import declare_access
from junkai.access.http import AuthenticatedHttpRequest, signed_in_view
from junkai.access.records import record_refusal
from junkai.access.roles import own_beat_ids
from junkai.access.units import access_officer_record
from junkai.accounts import actions
from junkai.accounts.middleware import LOGIN_AT, MFA_PENDING
from junkai.accounts.throttle import THROTTLED, retry_after
from junkai.lib.errors import PermissionDeniedError
from junkai.lib.forms import apply_errors
from junkai.org.models import Officer


class SignInForm(forms.Form):
    username = forms.CharField(label="ログインID", max_length=64)
    password = forms.CharField(label="パスワード", widget=forms.PasswordInput, strip=False)


class OtpForm(forms.Form):
    token = forms.CharField(
        label="確認コード（6桁）",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={
            "min_length": "確認コードは6桁で入力してください",
            "max_length": "確認コードは6桁で入力してください",
            "required": "確認コードを入力してください",
        },
    )


def landing(user: object) -> str:
    """Where sign-in lands: a beat officer on his work list (巡回予定), everyone else on home."""
    if isinstance(user, Officer) and own_beat_ids(user):
        return reverse("worklist")
    return reverse("home")


def _requested_next(request: HttpRequest) -> str:
    """The page asked for before sign-in, if any and on this site. The bare address ("/") is
    no particular page: it lands where the officer's day starts."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and target != "/" and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return ""


def _safe_next(request: HttpRequest) -> str:
    return _requested_next(request) or landing(request.user)


@declare_access("public")
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not request.session.get(MFA_PENDING):
        return redirect("home")
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and (wait := retry_after(request)) is not None:
        response = render(
            request,
            "accounts/locked_out.html",
            {"message": f"{THROTTLED}（{wait}秒後）。"},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if isinstance(user, Officer):
            login(request, user)
            request.session[LOGIN_AT] = time.time()
            if actions.second_factor_required(user):
                request.session[MFA_PENDING] = True
                return redirect("mfa")
            return redirect(_safe_next(request))
        # One message for an unknown ID and a wrong password: nothing tells which.
        error = "ログインIDまたはパスワードが正しくありません。"
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "error": error, "next": _requested_next(request)},
        status=200 if not error else 401,
    )


@declare_access("signed_in")
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "サインアウトしました。")
    return redirect("login")


@declare_access("signed_in")
@never_cache
@signed_in_view
def mfa(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step: verify a code, or enroll first when none is set up yet."""
    if not request.session.get(MFA_PENDING):
        return redirect("home")
    officer = request.user
    if officer.password_change_required:
        return redirect("password_change")
    device = actions.confirmed_device(officer)
    if device is None:
        return _enroll(request, then_verified=True)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.verify_second_factor(officer, form.cleaned_data["token"], channel="web"):
            otp_login(request, device)
            request.session.pop(MFA_PENDING, None)
            # A new session id once both factors are proven (ASVS 7.2.4): an id seen before
            # the second factor is worth nothing after it.
            request.session.cycle_key()
            return redirect(landing(officer))
        form.add_error(
            "token", "確認コードが正しくありません。時刻のずれがないか確認してください。"
        )
    return render(request, "accounts/mfa_verify.html", {"form": form})


def _enroll(request: AuthenticatedHttpRequest, *, then_verified: bool) -> HttpResponse:
    officer = request.user
    device: TOTPDevice | None = None
    device_id = request.session.get("junkai_enroll_device")
    if device_id is not None:
        device = TOTPDevice.objects.filter(user=officer, id=device_id, confirmed=False).first()
    if device is None:
        device = actions.do_start_totp_enrollment(officer)
        request.session["junkai_enroll_device"] = device.id
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.do_confirm_totp(device, form.cleaned_data["token"]):
            request.session.pop("junkai_enroll_device", None)
            otp_login(request, device)
            request.session.pop(MFA_PENDING, None)
            request.session.cycle_key()
            messages.success(
                request, "二要素認証を登録しました。次回からサインイン時に確認コードが必要です。"
            )
            return redirect("home")
        form.add_error(
            "token", "確認コードが正しくありません。アプリに表示された6桁を入力してください。"
        )
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(
        request,
        "accounts/mfa_enroll.html",
        {"form": form, "qr_svg": qr_svg, "secret": _base32(device), "required": then_verified},
    )


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


@declare_access("signed_in")
@never_cache
@signed_in_view
def mfa_enroll(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Voluntary enrollment from the account page (every officer may)."""
    if actions.confirmed_device(request.user) is not None:
        messages.info(request, "二要素認証は登録済みです。")
        return redirect("account")
    return _enroll(request, then_verified=False)


class PasswordChangeForm(forms.Form):
    current = forms.CharField(
        label="現在のパスワード",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        max_length=256,
    )
    new = forms.CharField(
        label="新しいパスワード",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=256,
        help_text="10文字以上。漏えいしたパスワードの一覧にあるもの、数字だけのもの、氏名やIDに似たものは使えません。",
    )
    again = forms.CharField(
        label="新しいパスワード（確認）",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=256,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("new") and cleaned.get("again") and cleaned["new"] != cleaned["again"]:
            self.add_error("again", "確認のため同じパスワードをもう一度入力してください")
        return cleaned


@declare_access("signed_in")
@sensitive_post_parameters("current", "new", "again")
@never_cache
@signed_in_view
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The officer changes his own password; at the first sign-in with an issued one he must."""
    officer = request.user
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_change_password(
                officer, current=form.cleaned_data["current"], new=form.cleaned_data["new"]
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            # Keeps this session (with a new id); every other session of his ends.
            update_session_auth_hash(request, officer)
            messages.success(request, "パスワードを変更しました。")
            if request.session.get(MFA_PENDING):
                return redirect("mfa")
            return redirect("account")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "required": officer.password_change_required},
        status=422 if form.errors else 200,
    )


# --- an officer's credentials, reset by his manager (a forgotten password, a lost phone) ----


def _station_of(officer: Officer) -> int | None:
    return next((a.station_id for a in officer.current_assignments() if a.station_id), None)


@declare_access("station_admin")
@signed_in_view
@require_POST
def officer_password_reissue(request: AuthenticatedHttpRequest, officer_id: int) -> HttpResponse:
    """A new issued password, shown on this answer only (never stored in the session or a
    message, never in a URL) for the manager to hand over in person."""
    target = access_officer_record(request.user, officer_id)
    try:
        password = actions.do_reissue_password(target, acting_officer=request.user)
    except PermissionDeniedError:
        record_refusal(
            request.user, target, station_id=_station_of(target), purpose="パスワードの再発行"
        )
        raise
    return render(request, "accounts/reissued.html", {"target": target, "password": password})


@declare_access("station_admin")
@signed_in_view
@require_POST
def officer_totp_reset(request: AuthenticatedHttpRequest, officer_id: int) -> HttpResponse:
    target = access_officer_record(request.user, officer_id)
    try:
        actions.do_remove_totp(target, acting_officer=request.user)
    except PermissionDeniedError:
        record_refusal(
            request.user, target, station_id=_station_of(target), purpose="二要素認証の再登録"
        )
        raise
    messages.success(
        request,
        f"{target}の二要素認証を削除しました。次のサインインで新しい端末を登録します"
        "（すべてのセッションとAPIトークンは無効になりました）。",
    )
    return redirect("org_officer", officer_id=target.id)
