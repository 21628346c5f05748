"""Devices, device checkouts, the key lease and sync over the API (offline field use).

A tablet that carries a beat is a binder: it is registered to the post by its 取扱責任者,
taken out under the 持出確認簿 (a second officer confirms with his own credentials; the
borrower himself only at a single-officer 駐在所), and returned the same way. While it is out,
its borrower leases the checkout's data key for a shift, pulls the beat and pushes his outbox.
Pull, push and lease answer 410 once the checkout is returned or revoked; a revoked device is
also sent `Clear-Site-Data: "storage"` (and `wipe: true`). README "Offline (server side)".
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Body, Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.purposes import ReadPurpose
from junkai.access.records import record_refusal
from junkai.access.units import access_beat, access_register_post, record_register_read
from junkai.accounts.cosign import CoSignRefused, co_signer
from junkai.accounts.middleware import LOGIN_AT
from junkai.accounts.models import ApiToken
from junkai.api.auth import request_officer
from junkai.api.boundary import FAR_DATE, YEAR_MAX, YEAR_MIN, Id, In, Text
from junkai.api.households import CardIn
from junkai.api.registers import CheckoutOut, _entry
from junkai.api.schemas import ErrorsOut, Message
from junkai.api.visits import ConcernIn, VisitIn
from junkai.devices import actions, keys, sync
from junkai.devices.access import access_device, access_device_checkout, devices_visible_to
from junkai.devices.models import Device, DeviceCheckout
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Officer
from junkai.visits.actions import ConcernIn as ConcernData

router = Router(tags=["devices"])

MAX_CHANGES = 200
MAX_READS = 1000
HEX64 = r"^[0-9a-f]{64}$"
CLIENT_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


# --- schemas ---------------------------------------------------------------------------


class GoneOut(Schema):
    detail: str
    errors: dict[str, list[str]]
    wipe: bool = Field(description="端末内のデータを消去すること（常に true）")


class DeviceIn(In):
    post_id: Id
    label: Text = Field(max_length=64, description="端末名（交番等の中で一意、64文字以内）")


class DeviceOut(Schema):
    id: int
    post_id: int
    label: str
    registered_at: dt.datetime
    registered_by_id: int
    revoked: bool
    revoked_at: dt.datetime | None
    checkout_id: int | None = Field(description="持出中（返却確認前）の持出しのID")
    loss_report_id: int | None = Field(
        None, description="亡失・盗難の報告（発見まで使用停止: 持ち出せません）"
    )


class DeviceList(Schema):
    items: list[DeviceOut]


class DeviceParams(Schema):
    post_id: Id | None = Field(None, description="交番等ID（省略時は範囲内のすべて）")


class RevokeIn(In):
    reason: Text = Field(max_length=200, description="理由（紛失・盗難・廃棄など）")


class DeviceCheckoutIn(In):
    device_id: Id
    beat_id: Id = Field(description="持ち出す受持区（端末と同じ交番等）")
    purpose: Text = Field(actions.DEFAULT_PURPOSE, max_length=200, description="目的")


class CoSignerIn(In):
    username: Text = Field(max_length=150, description="確認者のログインID")
    password: Text = Field(max_length=128, description="確認者のパスワード")
    otp_token: Text = Field("", max_length=8, description="確認者の確認コード（二要素認証）")


class StepIn(In):
    co_signer: CoSignerIn | None = Field(
        None,
        description=(
            "同じ端末（交番の共用タブレット）で持出確認者・返却確認者が自分の認証で確認するとき:"
            " その警察官のログインIDとパスワード（二要素認証を使う者は確認コードも）. サインインと"
            "同じロックアウト・制限を受け、確認は確認者の名前で記録されます（端末のサインインは"
            "そのまま）. 省略時はこの要求の認証の警察官が確認します"
        ),
    )


class DeviceCheckoutOut(Schema):
    id: int
    device_id: int
    device_label: str
    beat_id: int
    beat_name: str
    revoked: bool
    syncable: bool = Field(description="同期・鍵の貸与ができる（持出確認済・返却前・取消なし）")
    entry: CheckoutOut = Field(description="持出確認簿の記載（簿冊の持出しと同じ4段階）")


class LeaseOut(Schema):
    lease_id: int
    checkout_id: int
    algorithm: str = Field(description="AES-256-GCM")
    issued_at: dt.datetime
    expires_at: dt.datetime = Field(description="貸与の終わり（最長12時間、サインインの期限まで）")
    lease_key: str = Field(description="貸与鍵（32バイト、base64url）: 取り出し不可として取り込む")
    wrapped_data_key: str = Field(
        description="データ鍵を貸与鍵で AES-GCM 暗号化したもの（base64url）"
    )
    iv: str = Field(description="12バイト（base64url）")
    aad: str = Field(description="additionalData（ASCII）")


class PullParams(Schema):
    checkout: Id = Field(description="端末の持出しのID")
    cursor: Text | None = Field(
        None, max_length=500, description="前回の応答の cursor（その後の変更だけを返す）"
    )


class PostPlaceOut(Schema):
    name: str
    latitude: float
    longitude: float


class BeatOut(Schema):
    id: int
    code: str
    name: str
    outline: dict[str, Any] | None
    post: PostPlaceOut | None = Field(
        None, description="交番等の位置（地図に表示。未登録なら null）"
    )


class PullOut(Schema):
    checkout_id: int
    server_time: dt.datetime
    cursor: str = Field(description="次回の取得に渡す")
    full: bool = Field(description="true: 全世帯を送った（端末は置き換える）")
    beat: BeatOut
    household_ids: list[int] = Field(description="受持区の世帯の全ID（ないものは端末から削除）")
    households: list[dict[str, Any]] = Field(description="変更のあった世帯とカード")
    worklist: list[dict[str, Any]]
    night_approvals: list[dict[str, Any]] = Field(description="事前に得た夜間実施の承認")
    rules: dict[str, Any] = Field(description="端末で規則を確かめるためのデータ")


class VisitChangeIn(VisitIn):
    household_id: Id | None = Field(  # type: ignore[assignment]
        None, description="無視されます（変更の household_id を使います）"
    )


class ChangeIn(In):
    client_id: str = Field(pattern=CLIENT_ID, description="端末が付けた変更のID（一意）")
    kind: Literal["visit", "card"]
    household_id: Id
    visit: VisitChangeIn | None = None
    card: CardIn | None = None


class ReadEntryIn(In):
    seq: int = Field(ge=1, le=2**62)
    household_id: Id
    read_at: Text = Field(
        max_length=40, description="閲覧日時（時差付き ISO 8601、端末の記録のまま）"
    )
    purpose: ReadPurpose
    prev: str = Field(pattern=HEX64, description="前の記録のハッシュ（最初は genesis）")
    hash: str = Field(pattern=HEX64)


class PushIn(In):
    checkout_id: Id
    changes: list[ChangeIn] = Field(default_factory=list, max_length=MAX_CHANGES)
    read_log: list[ReadEntryIn] = Field(default_factory=list, max_length=MAX_READS)


class ChangeResult(Schema):
    client_id: str
    kind: str
    status: str = Field(description="applied / conflict（両方の版を保存）/ refused")
    replayed: bool = Field(description="同じ client_id の変更は既に受け付け済み（結果を再送）")
    household_id: int | None = None
    visit_id: int | None = None
    card_version: int | None = None
    conflict_id: int | None = None
    conflict_url: str | None = Field(None, description="競合の画面（両方の版を並べて選ぶ）")
    current_version: int | None = None
    submitted_version: int | None = None
    detail: str | None = None
    errors: dict[str, list[str]] | None = None


class ReadLogOut(Schema):
    accepted: int
    duplicates: int
    flagged: list[str] = Field(description="欠落・改変（管理責任者に通知）")
    head_seq: int
    head_hash: str


class PushOut(Schema):
    checkout_id: int
    results: list[ChangeResult]
    read_log: ReadLogOut


# --- helpers ---------------------------------------------------------------------------


def _device_out(device: Device) -> dict[str, Any]:
    open_ = actions.open_checkouts(device)
    lost = actions.lost_device_report(device)
    return {
        "id": device.id,
        "post_id": device.post_id,
        "label": device.label,
        "registered_at": device.registered_at,
        "registered_by_id": device.registered_by_id,
        "revoked": device.revoked_at is not None,
        "revoked_at": device.revoked_at,
        "checkout_id": open_[0].id if open_ else None,
        "loss_report_id": lost.id if lost is not None else None,
    }


def _checkout_out(checkout: DeviceCheckout) -> dict[str, Any]:
    return {
        "id": checkout.id,
        "device_id": checkout.device_id,
        "device_label": checkout.device.label,
        "beat_id": checkout.beat_id,
        "beat_name": checkout.beat.name,
        "revoked": checkout.revoked_at is not None,
        "syncable": checkout.syncable,
        "entry": _entry(checkout.entry, []),
    }


def _credential_end(request: HttpRequest) -> dt.datetime | None:
    """When the credential this request came with ends: a lease never outlives it."""
    token_hash = getattr(request, "junkai_token_hash", None)
    if token_hash is not None:
        return (
            ApiToken.objects.filter(key_hash=token_hash)
            .values_list("expires_at", flat=True)
            .first()
        )
    # A browser session: its absolute end (12 h from sign-in), not the idle one, which each
    # request moves on.
    session = getattr(request, "session", None)
    started = session.get(LOGIN_AT) if session is not None else None
    if started is None:
        return None
    return dt.datetime.fromtimestamp(float(started), tz=dt.UTC) + dt.timedelta(
        seconds=settings.SESSION_ABSOLUTE_SECONDS
    )


def _visit_kwargs(visit: VisitChangeIn) -> dict[str, Any]:
    def concern(c: ConcernIn) -> ConcernData:
        data = ConcernData(kind=c.kind, text=c.text)
        if c.owner_id is not None:
            data["owner_id"] = c.owner_id
        return data

    return {
        "started_at": visit.started_at,
        "method": visit.method,
        "outcome": visit.outcome,
        "guidance_topics": visit.guidance_topics,
        "note": visit.note,
        "refusal_explanation": visit.refusal_explanation,
        "concerns": [concern(c) for c in visit.concerns],
        "observations": visit.observations,
        "card_revision_id": visit.card_revision_id,
    }


def _change(change: ChangeIn, index: int) -> actions.Change:
    out = actions.Change(
        client_id=change.client_id, kind=change.kind, household_id=change.household_id
    )
    if change.kind == "visit":
        if change.visit is None:
            raise ValidationError({f"changes.{index}.visit": "必須の項目です。入力してください"})
        out.visit = _visit_kwargs(change.visit)
    else:
        if change.card is None:
            raise ValidationError({f"changes.{index}.card": "必須の項目です。入力してください"})
        card = change.card
        if len(card.note) > 200:
            raise ValidationError({f"changes.{index}.card.note": "200文字以内で入力してください"})
        out.card = card.model_dump(exclude={"version", "id", "basis", "note"})
        out.version, out.basis, out.note = card.version, card.basis, card.note
    return out


def _read_entry(entry: ReadEntryIn, index: int) -> actions.ReadEntry:
    try:
        moment = dt.datetime.fromisoformat(entry.read_at)
    except ValueError as exc:
        raise ValidationError(
            {
                f"read_log.{index}.read_at": "日時の形式が正しくありません（例: 2026-06-10T10:00:00+09:00）"
            }
        ) from exc
    if timezone.is_naive(moment):
        raise ValidationError({f"read_log.{index}.read_at": "日時は時差付きで指定してください"})
    if not YEAR_MIN <= moment.year <= YEAR_MAX:  # year 1 at +09:00 is before year 1 in UTC
        raise ValidationError({f"read_log.{index}.read_at": FAR_DATE})
    if moment > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({f"read_log.{index}.read_at": "閲覧日時が未来になっています"})
    return actions.ReadEntry(
        seq=entry.seq,
        household_id=entry.household_id,
        read_at=moment,
        read_at_text=entry.read_at,
        purpose=entry.purpose.value,
        prev=entry.prev,
        hash=entry.hash,
    )


def _holder_checkout(officer: Officer, checkout_id: int) -> DeviceCheckout:
    return access_device_checkout(officer, checkout_id)


# --- devices -----------------------------------------------------------------------------


@router.post("/devices", response={201: DeviceOut, 403: Message, 404: Message, 422: ErrorsOut})
@declare_access("scoped")
def register_device(request: HttpRequest, payload: DeviceIn) -> tuple[int, dict[str, Any]]:
    """端末の登録（取扱責任者・交番所長・管理責任者）. 同じ交番等で同じ端末名は 422."""
    officer = request_officer(request)
    post = access_register_post(officer, payload.post_id, purpose="端末の登録", record_read=False)
    device = actions.do_register_device(post, acting_officer=officer, label=payload.label)
    return 201, _device_out(device)


@router.get("/devices", response={200: DeviceList, 404: Message})
@declare_access("scoped")
def list_devices(request: HttpRequest, params: Query[DeviceParams]) -> dict[str, Any]:
    """端末の一覧（範囲内の交番等）と持出中かどうか."""
    officer = request_officer(request)
    found = devices_visible_to(officer)
    post = None
    if params.post_id is not None:
        post = access_register_post(
            officer, params.post_id, purpose="端末の一覧", record_read=False
        )
        found = found.filter(post=post)
    devices = list(found.order_by("post_id", "label"))
    record_register_read(officer, post=post, purpose="端末の一覧")
    return {"items": [_device_out(d) for d in devices]}


@router.post(
    "/devices/{device_id}/revoke",
    response={200: DeviceOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def revoke_device(request: HttpRequest, device_id: Id, payload: RevokeIn) -> dict[str, Any]:
    """端末の使用停止（廃棄・故障など）. 持出中なら持出しも取り消され、端末は次の接続で
    消去を指示されます（それまでは鍵の貸与が期限で切れるだけ）. 返却ではないため、持出確認簿の
    記載は「使用停止により終了」となり、返却期限の超過として扱われません（返却の申告済みの
    記載は返却の確認を待ちます）. 紛失・盗難は亡失・盗難の報告で（記載は「亡失により終了」）."""
    officer = request_officer(request)
    device = access_device(officer, device_id)
    return _device_out(
        actions.do_revoke_device(device, acting_officer=officer, reason=payload.reason)
    )


# --- device checkouts ------------------------------------------------------------------------


@router.post(
    "/device-checkouts",
    response={201: DeviceCheckoutOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def declare_device_checkout(
    request: HttpRequest, payload: DeviceCheckoutIn
) -> tuple[int, dict[str, Any]]:
    """端末への受持区の持出しの申告（持出確認簿に記載）. 範囲外の端末・受持区は 404."""
    officer = request_officer(request)
    device = access_device(officer, payload.device_id)
    beat = access_beat(officer, payload.beat_id)
    checkout = actions.do_declare_device_checkout(
        device, beat, acting_officer=officer, purpose=payload.purpose
    )
    return 201, _checkout_out(actions.reloaded(checkout))


@router.get(
    "/device-checkouts/{device_checkout_id}", response={200: DeviceCheckoutOut, 404: Message}
)
@declare_access("scoped")
def device_checkout(request: HttpRequest, device_checkout_id: Id) -> dict[str, Any]:
    """端末の持出し（持出確認簿の記載と、同期できるか）."""
    officer = request_officer(request)
    checkout = access_device_checkout(officer, device_checkout_id)
    record_register_read(officer, post=checkout.entry.post, purpose="端末の持出し", obj=checkout)
    return _checkout_out(checkout)


STEPS = {
    "confirm_out": actions.do_confirm_device_out,
    "return": actions.do_record_device_return,
    "confirm_return": actions.do_confirm_device_return,
}


def _step(
    request: HttpRequest, device_checkout_id: Id, step: str, payload: StepIn | None = None
) -> tuple[int, dict[str, Any]]:
    officer = request_officer(request)
    checkout = access_device_checkout(officer, device_checkout_id)
    acting = officer
    if payload is not None and payload.co_signer is not None:
        # The second officer on this device, by his own credentials (accounts.cosign, as on
        # the 持出確認簿 page): the step is his, the device stays signed in as the first.
        given = payload.co_signer
        try:
            acting = co_signer(
                request,
                username=given.username,
                password=given.password,
                otp_token=given.otp_token,
            )
        except CoSignRefused as refused:
            return refused.status, {"detail": str(refused)}
    try:
        done = STEPS[step](checkout, acting_officer=acting)
    except PermissionDeniedError:
        record_refusal(
            acting, checkout, station_id=checkout.entry.post.station_id, purpose=STEP_NAMES[step]
        )
        raise
    return 200, _checkout_out(done)


STEP_NAMES = {
    "confirm_out": "端末の持出確認",
    "return": "端末の返却",
    "confirm_return": "端末の返却確認",
}
STEP_RESPONSES: dict[int, Any] = {
    200: DeviceCheckoutOut,
    403: Message,
    404: Message,
    422: ErrorsOut,
}
CO_SIGN_RESPONSES: dict[int, Any] = {**STEP_RESPONSES, 401: Message, 429: Message}


@router.post("/device-checkouts/{device_checkout_id}/confirm-out", response=CO_SIGN_RESPONSES)
@declare_access("scoped")
def confirm_device_out(
    request: HttpRequest, device_checkout_id: Id, payload: Body[StepIn | None] = None
) -> tuple[int, dict[str, Any]]:
    """持出確認者の確認（持出警察官以外が自分の認証で。一人勤務の駐在所では本人）.
    共用の端末では `co_signer` に確認者のログインID・パスワード（と確認コード）を渡します:
    誤りは 401、ロックアウト・制限は 429、二要素認証の未登録は 403."""
    return _step(request, device_checkout_id, "confirm_out", payload)


@router.post("/device-checkouts/{device_checkout_id}/return", response=STEP_RESPONSES)
@declare_access("scoped")
def record_device_return(
    request: HttpRequest, device_checkout_id: Id
) -> tuple[int, dict[str, Any]]:
    """返却の記録（持出警察官本人。端末は同期して消去してから）. 以後の同期は 410."""
    return _step(request, device_checkout_id, "return")


@router.post("/device-checkouts/{device_checkout_id}/confirm-return", response=CO_SIGN_RESPONSES)
@declare_access("scoped")
def confirm_device_return(
    request: HttpRequest, device_checkout_id: Id, payload: Body[StepIn | None] = None
) -> tuple[int, dict[str, Any]]:
    """返却確認者の確認. 確認が済むと端末は再び持ち出せます. 共用の端末では `co_signer`
    （持出確認と同じ）."""
    return _step(request, device_checkout_id, "confirm_return", payload)


@router.post(
    "/device-checkouts/{device_checkout_id}/lease",
    response={201: LeaseOut, 403: Message, 404: Message, 410: GoneOut},
)
@declare_access("scoped")
def issue_lease(request: HttpRequest, device_checkout_id: Id) -> tuple[int, dict[str, Any]]:
    """データ鍵の貸与（この勤務の間、最長12時間）: 新しい貸与鍵と、それで包んだデータ鍵.
    同じ持出しには何度でも同じデータ鍵を包み直して渡します（再サインイン後も端末のデータを
    読める）. 持出警察官本人のみ、持出確認の後、返却・取消の前."""
    officer = request_officer(request)
    checkout = _holder_checkout(officer, device_checkout_id)
    issued = actions.do_issue_lease(
        checkout, acting_officer=officer, not_after=_credential_end(request)
    )
    lease, key = issued.lease, issued.key
    return 201, {
        "lease_id": lease.id,
        "checkout_id": checkout.id,
        "algorithm": keys.ALGORITHM,
        "issued_at": lease.issued_at,
        "expires_at": lease.expires_at,
        "lease_key": keys.b64url(key.lease_key),
        "wrapped_data_key": keys.b64url(key.wrapped),
        "iv": keys.b64url(key.iv),
        "aad": key.aad,
    }


# --- sync --------------------------------------------------------------------------------


@router.get(
    "/sync/pull",
    response={200: PullOut, 403: Message, 404: Message, 410: GoneOut, 422: ErrorsOut},
)
@declare_access("scoped")
def pull(request: HttpRequest, params: Query[PullParams]) -> dict[str, Any]:
    """受持区の世帯・カード・作業リスト・夜間実施の承認・規則のデータ（`cursor` があれば
    その後に変わった世帯だけ）. 送った世帯は1件の閲覧記録として各世帯の閲覧記録に残ります."""
    officer = request_officer(request)
    checkout = _holder_checkout(officer, params.checkout)
    actions.require_syncable(checkout, officer)
    try:
        data = sync.build_pull(checkout, officer, params.cursor)
    except sync.CursorInvalid as invalid:
        raise ValidationError({"cursor": str(invalid)}) from invalid
    actions.do_record_pull(
        checkout,
        acting_officer=officer,
        household_ids=[h["id"] for h in data.households],
        full=data.full,
    )
    return {
        "checkout_id": checkout.id,
        "server_time": timezone.now(),
        "cursor": data.cursor,
        "full": data.full,
        "beat": data.beat,
        "household_ids": data.household_ids,
        "households": data.households,
        "worklist": data.worklist,
        "night_approvals": data.night_approvals,
        "rules": data.rules,
    }


@router.post(
    "/sync/push",
    response={200: PushOut, 403: Message, 404: Message, 410: GoneOut, 422: ErrorsOut},
)
@declare_access("scoped")
def push(request: HttpRequest, payload: PushIn) -> dict[str, Any]:
    """端末の送信待ちの変更を送った順に反映（client_id ごとに一度だけ: 同じ変更を再送しても
    記録は1件、最初の結果を返します）. すべての規則をサーバーで確かめ直します. カードの補正が
    競合したときは両方の版を保存し（status conflict）、競合の画面で選びます. read_log は端末
    での閲覧記録（ハッシュの連鎖）: 各世帯の閲覧記録に加え、欠落・改変は管理責任者に通知."""
    officer = request_officer(request)
    checkout = _holder_checkout(officer, payload.checkout_id)
    actions.require_syncable(checkout, officer)
    changes = [_change(c, i) for i, c in enumerate(payload.changes)]
    reads = [_read_entry(e, i) for i, e in enumerate(payload.read_log)]
    result = actions.do_push(checkout, acting_officer=officer, changes=changes, read_log=reads)
    merged = result.read_log
    for item in result.results:
        if item.get("conflict_id"):
            item["conflict_url"] = reverse(
                "device_card_conflict", kwargs={"conflict_id": item["conflict_id"]}
            )
    return {
        "checkout_id": checkout.id,
        "results": result.results,
        "read_log": {
            "accepted": merged.accepted,
            "duplicates": merged.duplicates,
            "flagged": merged.flagged,
            "head_seq": merged.head_seq,
            "head_hash": merged.head_hash,
        },
    }
