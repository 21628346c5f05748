"""The 利用確認簿 (第7号様式), requests from other agencies and misuse signals over the API.

Every operation reads through junkai.access (scope of the recording unit, 404
alike for absent and out of scope, the read recorded) and writes through
junkai.disclosures.actions, as the pages do. A refusal is 403 (who may not, or not yet: no
callback verification, no manager's approval) or 422 naming the field, with the reason in
Japanese. Missing text fields reach the action, so the 422 names them in Japanese too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, UploadedFile

from junkai.access.declare import declare_access
from junkai.access.records import record_read
from junkai.access.roles import may_see_misuse_flags
from junkai.api.auth import request_officer
from junkai.api.boundary import Date, Id, In, Text, one_of
from junkai.api.schemas import ErrorsOut, Message, OfficerRef
from junkai.audit.models import AuditEvent, EventType
from junkai.disclosures import actions
from junkai.disclosures.access import (
    access_agency_request,
    access_data_use,
    access_misuse_flag,
    agency_requests_visible_to,
    data_uses_visible_to,
    misuse_flags_visible_to,
)
from junkai.disclosures.models import (
    FIELD_GROUPS,
    AgencyRequest,
    DataUse,
    DecisionStatus,
    MisuseFlag,
    ReleaseMethod,
    UnitScoped,
    filter_register,
)
from junkai.households.access import record_households_out_of_scope
from junkai.org.models import Officer

router = Router(tags=["disclosures"])


# --- schemas ---------------------------------------------------------------------------


class ReleasedItem(In):
    household_id: Id
    groups: list[Annotated[Text, Field(json_schema_extra=one_of(FIELD_GROUPS))]] = Field(
        max_length=len(FIELD_GROUPS),
        description="names 世帯員の氏名 / birth_dates 生年月日 / phones 電話番号 / address 住所 / "
        "workplaces 勤務先・学校 / emergency_contacts 緊急連絡先 / vehicles 車両 / "
        "remarks 備考・要望 / support 要援護の情報",
    )


class DataUseIn(In):
    requester_name: Text = Field("", max_length=200, description="利用者の氏名")
    requester_unit: Text = Field("", max_length=200, description="利用者の所属")
    requester_prefecture: Text = Field(
        "", max_length=20, description="都道府県警察（例: 大分県・福岡県・警視庁）"
    )
    police_phone: Text = Field("", max_length=64, description="警察電話番号")
    purpose: Text = Field("", max_length=400, description="利用目的")
    household_ids: list[Id] = Field(default_factory=list, max_length=200)


class VerifyIn(In):
    callback_number: Text = Field("", max_length=64, description="折り返し電話をかけた番号")
    note: Text = Field("", max_length=400)


class RefuseIn(In):
    reason: Text = Field("", max_length=400)


class ReleaseIn(In):
    items: list[ReleasedItem] = Field(default_factory=list, max_length=200)
    method: Text = Field(
        "SHOWN",
        json_schema_extra=one_of(ReleaseMethod.values),
        description="SHOWN（閲覧）/ GIVEN（写しの交付）/ ORAL（口頭）",
    )
    note: Text = Field("", max_length=400)


class EntryOut(Schema):
    id: int
    label: str
    fiscal_year: int
    number: int
    station_id: int
    post_id: int | None
    unit: str
    status: str
    recorded_at: dt.datetime
    recorded_by: OfficerRef
    purpose: str
    household_ids: list[int]
    released_at: dt.datetime | None
    released_by: OfficerRef | None
    release_method: str
    released_items: list[ReleasedItem]


class DataUseOut(EntryOut):
    requester_name: str
    requester_unit: str
    requester_prefecture: str
    other_prefecture: bool
    police_phone: str
    verified_at: dt.datetime | None
    verified_by: OfficerRef | None
    callback_number: str
    verification_note: str
    needs_approval: bool
    approved_at: dt.datetime | None
    approved_by: OfficerRef | None
    refused_at: dt.datetime | None
    refusal_reason: str


class AgencyRequestIn(In):
    agency_name: Text = Field("", max_length=200, description="照会した行政機関")
    recipient_name: Text = Field("", max_length=200, description="提供を受ける者の氏名")
    recipient_contact: Text = Field("", max_length=200, description="提供を受ける者の連絡先")
    purpose: Text = Field("", max_length=400, description="利用目的")
    legal_basis: Text = Field("", max_length=400, description="法令上の根拠")
    household_ids: list[Id] = Field(default_factory=list, max_length=200)


class DecideIn(In):
    decision: Text = Field(
        "",
        json_schema_extra=one_of((DecisionStatus.APPROVED, DecisionStatus.REFUSED)),
        description="APPROVED（提供可）/ REFUSED（提供不可）",
    )
    reason: Text = Field("", max_length=400)


class AgencyRequestOut(EntryOut):
    agency_name: str
    recipient_name: str
    recipient_contact: str
    legal_basis: str
    has_document: bool
    document_type: str
    document_size: int | None
    document_sha256: str
    decided_at: dt.datetime | None
    decided_by: OfficerRef | None
    decision_reason: str


class RegisterParams(Schema):
    station_id: Id | None = Field(None, description="警察署（省略時は範囲内のすべて）")
    unit: str | None = Field(
        None,
        pattern=r"^(station|[1-9][0-9]{0,17})$",
        description="station（地域課）または交番等のID",
    )
    since: Date | None = Field(None, description="この日以降に受け付けたもの")
    until: Date | None = Field(None, description="この日までに受け付けたもの")
    limit: int = Field(200, ge=1, le=1000)


class MisuseEventOut(Schema):
    id: int
    seq: int | None = Field(None, description="ハッシュチェーン上の連番（封印前は null）")
    at: dt.datetime
    event_type: str
    object_type: str
    object_id: str
    purpose: str


class MisuseFlagOut(Schema):
    id: int
    station_id: int
    post_id: int | None
    officer: OfficerRef
    kind: str
    kind_label: str
    window_start: dt.datetime
    window_end: dt.datetime
    event_ids: list[int]
    household_count: int
    raised_at: dt.datetime
    reviewed_at: dt.datetime | None
    reviewed_by: OfficerRef | None
    note: str


class MisuseFlagDetailOut(MisuseFlagOut):
    events: list[MisuseEventOut]


class FlagReviewIn(In):
    note: Text = Field("", max_length=2000, description="確認結果")


# --- helpers ---------------------------------------------------------------------------


def _ref(officer: Officer | None) -> dict[str, Any] | None:
    if officer is None:
        return None
    return {"id": officer.id, "username": officer.username, "full_name": officer.full_name}


def _entry_out(entry: UnitScoped) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "label": entry.label,
        "fiscal_year": entry.fiscal_year,
        "number": entry.number,
        "station_id": entry.station_id,
        "post_id": entry.post_id,
        "unit": entry.unit_label,
        "status": entry.status,  # type: ignore[attr-defined]
        "recorded_at": entry.recorded_at,
        "recorded_by": _ref(entry.recorded_by),
        "purpose": entry.purpose,
        "household_ids": sorted(h.id for h in entry.households.all()),  # type: ignore[attr-defined]
        "released_at": entry.released_at,
        "released_by": _ref(entry.released_by),
        "release_method": entry.release_method,
        "released_items": [
            {"household_id": i["household"], "groups": i["groups"]} for i in entry.released_items
        ],
    }


def _data_use_out(entry: DataUse) -> dict[str, Any]:
    return _entry_out(entry) | {
        "requester_name": entry.requester_name,
        "requester_unit": entry.requester_unit,
        "requester_prefecture": entry.requester_prefecture,
        "other_prefecture": entry.other_prefecture,
        "police_phone": entry.police_phone,
        "verified_at": entry.verified_at,
        "verified_by": _ref(entry.verified_by),
        "callback_number": entry.callback_number,
        "verification_note": entry.verification_note,
        "needs_approval": entry.needs_approval,
        "approved_at": entry.approved_at,
        "approved_by": _ref(entry.approved_by),
        "refused_at": entry.refused_at,
        "refusal_reason": entry.refusal_reason,
    }


def _agency_out(entry: AgencyRequest) -> dict[str, Any]:
    return _entry_out(entry) | {
        "agency_name": entry.agency_name,
        "recipient_name": entry.recipient_name,
        "recipient_contact": entry.recipient_contact,
        "legal_basis": entry.legal_basis,
        "has_document": entry.has_document,
        "document_type": entry.document_type,
        "document_size": entry.document_size,
        "document_sha256": entry.document_sha256,
        "decided_at": entry.decided_at,
        "decided_by": _ref(entry.decided_by),
        "decision_reason": entry.decision_reason,
    }


def _items(payload: ReleaseIn) -> dict[int, list[str]]:
    items: dict[int, list[str]] = {}
    for item in payload.items:
        items.setdefault(item.household_id, []).extend(item.groups)
    return items


def _filtered(entries: Any, params: RegisterParams) -> Any:
    return filter_register(
        entries,
        station_id=params.station_id,
        unit=params.unit,
        since=params.since,
        until=params.until,
    )


# --- 利用確認簿 ----------------------------------------------------------------------------


@router.get("/data-uses", response={200: list[DataUseOut]})
@declare_access("scoped")
def list_data_uses(request: HttpRequest, params: Query[RegisterParams]) -> list[dict[str, Any]]:
    """利用確認簿: 範囲内の単位（交番等・地域課）の記録を新しい順に。期間・単位で絞り込み."""
    officer = request_officer(request)
    entries = _filtered(data_uses_visible_to(officer), params)
    rows = list(
        entries.select_related(
            "station", "post", "recorded_by", "verified_by", "approved_by", "released_by"
        ).prefetch_related("households")[: params.limit]
    )
    record_read(officer, EventType.READ_DISCLOSURE, purpose="利用確認簿の閲覧", count=len(rows))
    return [_data_use_out(e) for e in rows]


@router.post("/data-uses", response={201: DataUseOut, 403: Message, 422: ErrorsOut})
@declare_access("scoped")
def create_data_use(request: HttpRequest, payload: DataUseIn) -> tuple[int, dict[str, Any]]:
    """受付: 本県の他の所属・他の都道府県警察からの申出。世帯は受付者の受持範囲に限る."""
    officer = request_officer(request)
    record_households_out_of_scope(officer, payload.household_ids)
    entry = actions.do_record_data_use(acting_officer=officer, **payload.model_dump())
    return 201, _data_use_out(entry)


@router.get("/data-uses/{data_use_id}", response={200: DataUseOut, 404: Message})
@declare_access("scoped")
def get_data_use(request: HttpRequest, data_use_id: Id) -> dict[str, Any]:
    entry = access_data_use(request_officer(request), data_use_id)
    return _data_use_out(entry)


@router.post(
    "/data-uses/{data_use_id}/verify-identity",
    response={200: DataUseOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def verify_identity(
    request: HttpRequest, data_use_id: Id, payload: VerifyIn
) -> tuple[int, dict[str, Any]]:
    """警察電話への折り返しで警察職員であることを確認した（呼び出した職員が確認者）."""
    officer = request_officer(request)
    entry = access_data_use(officer, data_use_id, record_read=False)
    entry = actions.do_verify_identity(
        entry,
        acting_officer=officer,
        callback_number=payload.callback_number,
        note=payload.note,
    )
    return 200, _data_use_out(entry)


@router.post(
    "/data-uses/{data_use_id}/approve",
    response={200: DataUseOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def approve_data_use(request: HttpRequest, data_use_id: Id) -> tuple[int, dict[str, Any]]:
    """他の都道府県警察への提供の承認（管理責任者のみ。他は 403）."""
    officer = request_officer(request)
    entry = access_data_use(officer, data_use_id, record_read=False)
    entry = actions.do_approve_data_use(entry, acting_officer=officer)
    return 200, _data_use_out(entry)


@router.post(
    "/data-uses/{data_use_id}/refuse",
    response={200: DataUseOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def refuse_data_use(
    request: HttpRequest, data_use_id: Id, payload: RefuseIn
) -> tuple[int, dict[str, Any]]:
    officer = request_officer(request)
    entry = access_data_use(officer, data_use_id, record_read=False)
    entry = actions.do_refuse_data_use(entry, acting_officer=officer, reason=payload.reason)
    return 200, _data_use_out(entry)


@router.post(
    "/data-uses/{data_use_id}/release",
    response={200: DataUseOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def release_data_use(
    request: HttpRequest, data_use_id: Id, payload: ReleaseIn
) -> tuple[int, dict[str, Any]]:
    """提供: 世帯ごとに見せた・渡した項目。折り返し確認の前（他県は承認の前）は 403.

    提供は各世帯の閲覧記録（/households/{id}/access-log）に DATA_USE_RELEASED として残ります。
    """
    officer = request_officer(request)
    entry = access_data_use(officer, data_use_id, record_read=False)
    entry = actions.do_release_data_use(
        entry,
        acting_officer=officer,
        items=_items(payload),
        method=payload.method,
        note=payload.note,
    )
    return 200, _data_use_out(entry)


# --- 他の行政機関からの照会 -----------------------------------------------------------------


@router.get("/agency-requests", response={200: list[AgencyRequestOut]})
@declare_access("scoped")
def list_agency_requests(
    request: HttpRequest, params: Query[RegisterParams]
) -> list[dict[str, Any]]:
    officer = request_officer(request)
    entries = _filtered(agency_requests_visible_to(officer), params)
    rows = list(
        entries.select_related(
            "station", "post", "recorded_by", "decided_by", "released_by"
        ).prefetch_related("households")[: params.limit]
    )
    record_read(officer, EventType.READ_DISCLOSURE, purpose="照会の一覧", count=len(rows))
    return [_agency_out(e) for e in rows]


@router.post("/agency-requests", response={201: AgencyRequestOut, 403: Message, 422: ErrorsOut})
@declare_access("scoped")
def create_agency_request(
    request: HttpRequest, payload: AgencyRequestIn
) -> tuple[int, dict[str, Any]]:
    """受付: 提供を受ける者の氏名・連絡先、利用目的、法令上の根拠がそろわなければ 422."""
    officer = request_officer(request)
    record_households_out_of_scope(officer, payload.household_ids)
    entry = actions.do_record_agency_request(acting_officer=officer, **payload.model_dump())
    return 201, _agency_out(entry)


@router.get("/agency-requests/{agency_request_id}", response={200: AgencyRequestOut, 404: Message})
@declare_access("scoped")
def get_agency_request(request: HttpRequest, agency_request_id: Id) -> dict[str, Any]:
    entry = access_agency_request(request_officer(request), agency_request_id)
    return _agency_out(entry)


@router.post(
    "/agency-requests/{agency_request_id}/document",
    response={200: AgencyRequestOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def attach_document(
    request: HttpRequest,
    agency_request_id: Id,
    file: File[UploadedFile | None] = None,
) -> tuple[int, dict[str, Any]]:
    """照会文書（multipart、フィールド `file`）: PDF・画像（先頭のバイトで判定）、10MB まで."""
    officer = request_officer(request)
    entry = access_agency_request(officer, agency_request_id, record_read=False)
    if file is None:
        raise ValidationError({"file": "照会文書のファイル（file）を添付してください"})
    entry = actions.do_attach_agency_document(entry, acting_officer=officer, upload=file)
    return 200, _agency_out(entry)


@router.post(
    "/agency-requests/{agency_request_id}/decide",
    response={200: AgencyRequestOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def decide_agency_request(
    request: HttpRequest, agency_request_id: Id, payload: DecideIn
) -> tuple[int, dict[str, Any]]:
    """提供の可否（管理責任者のみ。他は 403）。照会文書が添付されていなければ 422."""
    officer = request_officer(request)
    entry = access_agency_request(officer, agency_request_id, record_read=False)
    entry = actions.do_decide_agency_request(
        entry, acting_officer=officer, decision=payload.decision, reason=payload.reason
    )
    return 200, _agency_out(entry)


@router.post(
    "/agency-requests/{agency_request_id}/release",
    response={200: AgencyRequestOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def release_agency_request(
    request: HttpRequest, agency_request_id: Id, payload: ReleaseIn
) -> tuple[int, dict[str, Any]]:
    """提供（提供可と判断された後のみ。前は 403）: 各世帯の閲覧記録に残ります."""
    officer = request_officer(request)
    entry = access_agency_request(officer, agency_request_id, record_read=False)
    entry = actions.do_release_agency_request(
        entry,
        acting_officer=officer,
        items=_items(payload),
        method=payload.method or "GIVEN",
        note=payload.note,
    )
    return 200, _agency_out(entry)


# --- misuse signals ------------------------------------------------------------------


def _flag_out(flag: MisuseFlag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "station_id": flag.station_id,
        "post_id": flag.post_id,
        "officer": _ref(flag.officer),
        "kind": flag.kind,
        "kind_label": flag.get_kind_display(),
        "window_start": flag.window_start,
        "window_end": flag.window_end,
        "event_ids": flag.event_ids,
        "household_count": flag.household_count,
        "raised_at": flag.raised_at,
        "reviewed_at": flag.reviewed_at,
        "reviewed_by": _ref(flag.reviewed_by),
        "note": flag.note,
    }


class FlagParams(Schema):
    reviewed: bool | None = Field(None, description="true: 確認済みのみ / false: 未確認のみ")
    limit: int = Field(200, ge=1, le=1000)


@router.get("/misuse-flags", response={200: list[MisuseFlagOut]})
@declare_access("scoped")
def list_misuse_flags(request: HttpRequest, params: Query[FlagParams]) -> list[dict[str, Any]]:
    """不適正利用の兆候（管理責任者・署長の所管分。他の職員には空）."""
    officer = request_officer(request)
    flags = misuse_flags_visible_to(officer).select_related("officer", "reviewed_by")
    if params.reviewed is not None:
        flags = flags.filter(reviewed_at__isnull=not params.reviewed)
    rows = list(flags.order_by("reviewed_at", "-window_start", "-id")[: params.limit])
    if may_see_misuse_flags(officer):
        record_read(
            officer, EventType.READ_AUDIT_LOG, purpose="不適正利用の兆候の一覧", count=len(rows)
        )
    return [_flag_out(f) for f in rows]


@router.get(
    "/misuse-flags/{misuse_flag_id}",
    response={200: MisuseFlagDetailOut, 403: Message, 404: Message},
)
@declare_access("scoped")
def get_misuse_flag(request: HttpRequest, misuse_flag_id: Id) -> dict[str, Any]:
    """兆候と、その根拠となった監査記録."""
    flag = access_misuse_flag(request_officer(request), misuse_flag_id)
    events = AuditEvent.objects.filter(id__in=flag.event_ids).select_related("seal").order_by("id")
    return _flag_out(flag) | {
        "events": [
            {
                "id": e.id,
                "seq": e.chain_seq,
                "at": e.created_at,
                "event_type": EventType(e.event_type).name,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "purpose": e.purpose,
            }
            for e in events
        ]
    }


@router.post(
    "/misuse-flags/{misuse_flag_id}/review",
    response={200: MisuseFlagOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def review_misuse_flag(
    request: HttpRequest, misuse_flag_id: Id, payload: FlagReviewIn
) -> tuple[int, dict[str, Any]]:
    """確認結果の記録（管理責任者。本人についての兆候は署長）."""
    officer = request_officer(request)
    flag = access_misuse_flag(officer, misuse_flag_id)
    flag = actions.do_review_misuse_flag(flag, acting_officer=officer, note=payload.note)
    return 200, _flag_out(flag)
