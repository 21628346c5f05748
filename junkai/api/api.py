"""django-ninja API under /api/v1/ (OpenAPI at /api/v1/openapi.json).

Endpoints call the same actions and access functions as the pages. Each operation declares
its access rule with `declare_access`, as views do.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from junkai.access.declare import declare_access
from junkai.access.http import signed_in_view
from junkai.accounts import actions as account_actions
from junkai.accounts.models import ApiToken
from junkai.accounts.throttle import THROTTLED, retry_after
from junkai.api.auth import BearerToken, VerifiedSession, request_officer
from junkai.api.boundary import BoundaryError, BoundaryParser
from junkai.api.dashboards import router as dashboards_router
from junkai.api.devices import router as devices_router
from junkai.api.disclosures import router as disclosures_router
from junkai.api.documents import router as documents_router
from junkai.api.errors import (
    GENERAL,
    HTTP_ERROR_DETAILS,
    error_body,
    invalid_body,
    schema_errors_body,
)
from junkai.api.households import router as households_router
from junkai.api.losses import router as losses_router
from junkai.api.planning import router as planning_router
from junkai.api.registers import router as registers_router
from junkai.api.routes import router as routes_router
from junkai.api.schemas import AssignmentOut, MeOut, Message, TokenIn, TokenOut, UnitOut
from junkai.api.visits import router as visits_router
from junkai.devices.actions import CheckoutGone
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Officer


class JunkaiAPI(NinjaAPI):
    """The API whose OpenAPI document names every refusal any operation can give (the one
    error shape of junkai/api/errors.py): the boundary's 400/413/422, authentication's 401,
    the scope funnels' 403/404, the sign-in throttle's 429 and the database out of reach's 503
    (junkai/serving/unavailable.py, with Retry-After)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        errors = {"$ref": "#/components/schemas/ErrorsOut"}
        message = {"$ref": "#/components/schemas/Message"}
        common = {
            400: ("リクエストの本文をJSONとして読めません", errors),
            401: ("認証が必要です", message),
            403: ("権限がありません（理由は detail）", message),
            413: ("リクエストが大きすぎます", errors),
            422: ("入力内容に誤りがあります（項目ごとの理由は errors）", errors),
            503: (
                "データベースに接続できません（Retry-After 秒後に再試行。書き込みは保存されたか"
                "確かめてから送り直す）",
                errors,
            ),
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, (text, body) in common.items():
                    responses.setdefault(
                        code,
                        {"description": text, "content": {"application/json": {"schema": body}}},
                    )
                responses[503]["headers"] = {
                    "Retry-After": {
                        "description": "再試行までの秒数",
                        "schema": {"type": "integer"},
                    }
                }
                # Every operation can name something absent or out of scope: in its path, or
                # an id in its body or query (a household of a route, a binder to take out).
                responses.setdefault(
                    404,
                    {
                        "description": "見つかりません",
                        "content": {"application/json": {"schema": message}},
                    },
                )
        return schema


api = JunkaiAPI(
    title="Junkai API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), VerifiedSession()],
    docs_url="/docs",
    # The API's documentation only to signed-in officers (its operations name what the system
    # holds); Swagger UI from django-ninja's own static files (pinned with it), not a CDN.
    docs_decorator=signed_in_view,
    parser=BoundaryParser(),
)
api.add_router("/", households_router)
api.add_router("/", visits_router)
api.add_router("/", registers_router)
api.add_router("/", losses_router)
api.add_router("/", disclosures_router)
api.add_router("/", documents_router)
api.add_router("/", planning_router)
api.add_router("/", routes_router)
api.add_router("/", dashboards_router)
api.add_router("/", devices_router)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "見つかりません"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "認証が必要です"}, status=401)


@api.exception_handler(PermissionDeniedError)
def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(CheckoutGone)
def gone(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A returned or revoked device checkout: the device must delete what it holds. A revoked
    one (lost, stolen) is also told so by the browser's own means, which a tampered app
    cannot skip once the response reaches it."""
    assert isinstance(exc, CheckoutGone)
    response = api.create_response(
        request, {"detail": str(exc), "errors": {}, "wipe": True}, status=410
    )
    if exc.revoked:
        response["Clear-Site-Data"] = '"storage"'
    return response


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: Exception) -> HttpResponse:
    assert isinstance(exc, ValidationError)
    return api.create_response(request, invalid_body(exc), status=422)


@api.exception_handler(BoundaryError)
def refused_input(request: HttpRequest, exc: Exception) -> HttpResponse:
    assert isinstance(exc, BoundaryError)
    return api.create_response(request, error_body({exc.field: [exc.message]}), status=422)


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    detail = HTTP_ERROR_DETAILS[413]
    return api.create_response(request, error_body({GENERAL: [detail]}, detail=detail), status=413)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # ninja's own refusals carry English text ("Cannot parse request body"): said in Japanese,
    # in the one error shape. A body refused at the boundary arrives here wrapped by ninja.
    assert isinstance(exc, HttpError)
    if isinstance(exc.__cause__, BoundaryError):
        return refused_input(request, exc.__cause__)
    if isinstance(exc.__cause__, RequestDataTooBig):
        detail = HTTP_ERROR_DETAILS[413]
        return api.create_response(
            request, error_body({GENERAL: [detail]}, detail=detail), status=413
        )
    detail = HTTP_ERROR_DETAILS.get(exc.status_code, "リクエストを処理できません")
    return api.create_response(
        request, error_body({GENERAL: [detail]}, detail=detail), status=exc.status_code
    )


@api.exception_handler(NinjaValidationError)
def invalid_schema(request: HttpRequest, exc: Exception) -> HttpResponse:
    assert isinstance(exc, NinjaValidationError)
    return api.create_response(request, schema_errors_body(exc.errors), status=422)


BAD_CREDENTIALS = "ログインIDまたはパスワードが正しくありません"


@api.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: Message, 403: Message, 429: Message},
    tags=["auth"],
)
@declare_access("public")
def issue_token(request: HttpRequest, payload: TokenIn) -> tuple[int, object]:
    """A bearer token for `Authorization: Bearer …`. Lockout applies as on the sign-in page."""
    if (wait := retry_after(request)) is not None:
        return 429, {"detail": f"{THROTTLED}（{wait}秒後）"}
    user = authenticate(request, username=payload.username, password=payload.password)
    if not isinstance(user, Officer):
        # Unknown user and wrong password answer alike; a lockout becomes 429 (axes).
        return 401, {"detail": BAD_CREDENTIALS}
    if user.password_change_required:
        return 403, {
            "detail": "発行されたパスワードのままです。画面からサインインして変更してください"
        }
    if account_actions.second_factor_required(user):
        if account_actions.confirmed_device(user) is None:
            return 403, {"detail": "二要素認証が未登録です。画面からサインインして登録してください"}
        if not payload.otp:
            return 401, {"detail": "確認コード（otp）が必要です"}
        if not account_actions.verify_second_factor(user, payload.otp, channel="api"):
            return 401, {"detail": "確認コードが正しくありません"}
    token, api_token = account_actions.do_sign_in_api(user)
    return 200, {"token": token, "expires_at": api_token.expires_at}


@api.delete("/auth/token", response={204: None}, auth=[BearerToken()], tags=["auth"])
@declare_access("signed_in")
def revoke_token(request: HttpRequest) -> tuple[int, None]:
    """Revoke the token this request was made with."""
    api_token = ApiToken.objects.get(key_hash=request.junkai_token_hash)  # type: ignore[attr-defined]
    account_actions.do_revoke_api_token(api_token, acting_officer=request_officer(request))
    return 204, None


@api.get("/me", response=MeOut, tags=["auth"])
@declare_access("signed_in")
def me(request: HttpRequest) -> MeOut:
    officer = request_officer(request)
    assignments = [
        AssignmentOut(
            role=a.role,
            role_label=a.role_label,
            unit=UnitOut(
                kind=a.unit_kind,
                id=a.post_id if a.post_id is not None else a.station_id,
                name=a.unit_label,
            ),
            post_id=a.post_id,
            station_id=a.station_id,
            beat_ids=[b.id for b in a.beats.all()],
            valid_from=a.valid_from,
            valid_to=a.valid_to,
        )
        for a in officer.current_assignments()
    ]
    return MeOut(
        id=officer.id,
        username=officer.username,
        full_name=officer.full_name,
        full_name_kana=officer.full_name_kana,
        rank=officer.rank,
        rank_label=officer.get_rank_display(),
        staff_number=officer.staff_number,
        police_phone=officer.police_phone,
        mfa_enrolled=account_actions.confirmed_device(officer) is not None,
        assignments=assignments,
    )
