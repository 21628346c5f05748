"""Visits, the officer's work list, night-visit approvals and refusal reports over the API.

Every operation reads through junkai.access (scope, 404 alike for absent and out of scope, the
read recorded with its purpose) and writes through junkai.visits.actions, as the pages do. A
rule of the 要領 that refuses a write answers 422 naming the field (refusal without the note of
how the purpose was explained, a phone contact for a household without a community leader) or
403 with the reason (a night visit without an approval, a reader in scope who may not write).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.records import record_read, record_refusal
from junkai.access.roles import (
    own_beats,
    report_recipient_units,
    reports_addressed_to,
)
from junkai.access.units import access_beat
from junkai.api.auth import request_officer
from junkai.api.boundary import MAX_ITEMS, DateTime, Id, In, Int, Text, one_of
from junkai.api.schemas import ErrorsOut, Message, OfficerRef, render_json
from junkai.audit.models import EventType
from junkai.households.access import (
    access_household,
    household_for_action,
    households_visible_to,
    record_list_read,
)
from junkai.households.models import (
    Household,
    HouseholdStatus,
    Outcome,
    Priority,
    format_full_address,
)
from junkai.households.schedule import current_policy
from junkai.lib.errors import PermissionDeniedError
from junkai.visits import actions
from junkai.visits.access import access_night_approval, access_refusal_report
from junkai.visits.models import (
    ConcernKind,
    GuidanceTopic,
    Method,
    NightVisitApproval,
    RefusalReport,
    Visit,
)
from junkai.visits.worklist import due_rows

router = Router(tags=["visits"])

MAX_TEXT = 2000
MAX_HORIZON_DAYS = 365


# --- schemas ---------------------------------------------------------------------------


class ConcernIn(In):
    kind: Text = Field(
        json_schema_extra=one_of(ConcernKind.values),
        description="TROUBLE（困りごと）/ OPINION（意見）/ REQUEST（要望）",
    )
    text: Text = Field(max_length=MAX_TEXT)
    owner_id: Id | None = Field(None, description="対応する職員（省略時は記録する職員）")


class VisitIn(In):
    household_id: Id
    started_at: DateTime = Field(description="実施日時（時差付き ISO 8601）")
    method: Text = Field(
        "VISIT", json_schema_extra=one_of(Method.values), description="VISIT（訪問）/ PHONE（電話）"
    )
    outcome: Text = Field(
        json_schema_extra=one_of(Outcome.values),
        description="MET（面接）/ ABSENT（不在）/ REFUSED（拒否）",
    )
    guidance_topics: list[
        Annotated[Int, Field(json_schema_extra={"enum": GuidanceTopic.values})]
    ] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="指導連絡・情報提供事項（第4-4 (1)〜(6)）",
    )
    note: Text = Field("", max_length=MAX_TEXT)
    refusal_explanation: Text = Field(
        "", max_length=MAX_TEXT, description="拒否の場合、趣旨をどのように説明したか（必須）"
    )
    concerns: list[ConcernIn] = Field(default_factory=list, max_length=20)
    observations: list[Annotated[Text, Field(max_length=MAX_TEXT)]] = Field(
        default_factory=list, max_length=20, description="見聞きした情報（地域課長へ報告）"
    )
    card_revision_id: Id | None = Field(None, description="この巡回連絡で行ったカードの補正")


class ConcernOut(Schema):
    id: int
    kind: str
    text: str
    status: str
    owner_id: int


class VisitOut(Schema):
    id: int
    household_id: int
    started_at: dt.datetime
    method: str
    outcome: str
    guidance_topics: list[int]
    note: str
    refusal_explanation: str
    concerns: list[ConcernOut]
    observations: int
    refusal_report_id: int | None
    night_approval_id: int | None
    next_due: dt.date | None


class WorklistParams(Schema):
    beat: Id | None = Field(None, description="受持区ID（省略時は自分の受持区すべて）")
    town: Text | None = Field(None, max_length=50, description="町名")
    block_group: Text | None = Field(None, max_length=20, description="組・班")
    horizon_days: int | None = Field(
        None, ge=0, le=MAX_HORIZON_DAYS, description="何日先の予定までを含めるか（既定は基準の値）"
    )


class WorkItem(Schema):
    household_id: int
    address: str
    town: str
    block_group: str
    map_number: int | None
    beat_id: int
    priority: str = Field(description="HIGH / MEDIUM / LOW（実施の必要性）")
    category: str
    due_date: dt.date
    days_overdue: int
    last_outcome: str | None
    last_visit_at: dt.datetime | None
    open_concerns: int
    preferred_times: str
    preferred_days: str


class Worklist(Schema):
    items: list[WorkItem]
    count: int


class NightApprovalIn(In):
    household_id: Id
    planned_start: DateTime
    planned_end: DateTime
    reason: Text = Field(max_length=200, description="夜間に実施する理由（住民等の都合）")


class NightApprovalOut(Schema):
    id: int
    household_id: int
    status: str
    needs_koban_head: bool
    planned_start: dt.datetime
    planned_end: dt.datetime
    manager_approved: bool
    koban_head_approved: bool


class RefusalReportParams(Schema):
    pending: bool = Field(False, description="確認が済んでいないものだけ")
    limit: int = Field(200, ge=1, le=1000, description="新しいものから何件")


class RefusalReportOut(Schema):
    id: int
    household_id: int
    post_id: int
    visit_id: int
    started_at: dt.datetime
    officer: OfficerRef
    explanation: str
    needs_koban_head: bool
    manager_acknowledged: bool
    koban_head_acknowledged: bool


class RefusalReportList(Schema):
    items: list[RefusalReportOut]


class RefusalAckOut(Schema):
    id: int
    needs_koban_head: bool
    manager_acknowledged: bool
    koban_head_acknowledged: bool
    fully_acknowledged: bool


# --- helpers ---------------------------------------------------------------------------


def _visit_out(
    visit: Visit, household: Household, *, given: VisitIn | None = None
) -> dict[str, Any]:
    """`given`: the request that just recorded the visit. What the visit holds besides itself
    is then known without asking where none was given (a refusal report only for a refusal),
    so an ordinary visit's answer costs no query."""
    report = (
        RefusalReport.objects.filter(visit=visit).values_list("id", flat=True).first()
        if given is None or visit.outcome == Outcome.REFUSED
        else None
    )
    concerns = list(visit.concerns.order_by("id")) if given is None or given.concerns else []
    observations = (
        visit.info_reports.count()
        if given is None or any(o.strip() for o in given.observations)
        else 0
    )
    return {
        "id": visit.id,
        "household_id": household.id,
        "started_at": visit.started_at,
        "method": visit.method,
        "outcome": visit.outcome,
        "guidance_topics": visit.guidance_topics,
        "note": visit.note,
        "refusal_explanation": visit.refusal_explanation,
        "concerns": [
            {"id": c.id, "kind": c.kind, "text": c.text, "status": c.status, "owner_id": c.owner_id}
            for c in concerns
        ],
        "observations": observations,
        "refusal_report_id": report,
        "night_approval_id": visit.night_approval_id,
        "next_due": household.next_due,
    }


def _approval_out(approval: NightVisitApproval) -> dict[str, Any]:
    return {
        "id": approval.id,
        "household_id": approval.household_id,
        "status": approval.status,
        "needs_koban_head": approval.needs_koban_head,
        "planned_start": approval.planned_start,
        "planned_end": approval.planned_end,
        "manager_approved": approval.manager_approved_at is not None,
        "koban_head_approved": approval.koban_head_approved_at is not None,
    }


def _concern_in(concern: ConcernIn) -> actions.ConcernIn:
    data = actions.ConcernIn(kind=concern.kind, text=concern.text)
    if concern.owner_id is not None:
        data["owner_id"] = concern.owner_id
    return data


# --- operations ------------------------------------------------------------------------


@router.post("/visits", response={201: VisitOut, 403: Message, 404: Message, 422: ErrorsOut})
@declare_access("scoped")
def record_visit(request: HttpRequest, payload: VisitIn) -> tuple[int, dict[str, Any]]:
    """巡回連絡の記録. 拒否は趣旨説明が必須（拒否の報告が地域課長・交番所長へ）; 電話は地域の役職
    のある世帯に限る; 夜間（既定 19:00〜07:00）は事前の承認が必要（なければ 403）."""
    officer = request_officer(request)
    # The read of the household goes to the audit log with the visit's event (one INSERT).
    with household_for_action(officer, payload.household_id, purpose="巡回連絡の記録") as target:
        household = target.household
        visit = actions.do_record_visit(
            household,
            acting_officer=officer,
            started_at=payload.started_at,
            method=payload.method,
            outcome=payload.outcome,
            guidance_topics=payload.guidance_topics,
            note=payload.note,
            refusal_explanation=payload.refusal_explanation,
            concerns=[_concern_in(c) for c in payload.concerns],
            observations=payload.observations,
            card_revision_id=payload.card_revision_id,
            along=[target.read],
        )
    return 201, _visit_out(visit, household, given=payload)


@router.get("/worklist", response={200: Worklist, 404: Message})
@declare_access("scoped")
def worklist(request: HttpRequest, params: Query[WorklistParams]) -> HttpResponse:
    """作業リスト: 自分の受持区（`beat` で範囲内の受持区）で期間内に予定日が来る世帯.

    実施の必要性（高→低）、予定日、ID の順。一覧の閲覧として記録されます。
    """
    officer = request_officer(request)
    households = households_visible_to(officer).filter(status=HouseholdStatus.ACTIVE)
    beat = None
    if params.beat is not None:
        beat = access_beat(officer, params.beat)
        households = households.filter(beat=beat)
    else:
        households = households.filter(beat__in=own_beats(officer).values("id"))
    if params.town:
        households = households.filter(town=params.town)
    if params.block_group:
        households = households.filter(block_group=params.block_group)
    policy = current_policy()
    horizon = policy.horizon_days if params.horizon_days is None else params.horizon_days
    today = timezone.localdate()
    until = today + dt.timedelta(days=horizon)
    items = []
    priorities = {p.value: p.name for p in Priority}
    for h in due_rows(households, until):
        due = h["next_due"]
        items.append(
            {
                "household_id": h["id"],
                "address": format_full_address(
                    h["town"], h["chome"], h["banchi"], h["go"], h["building_name"], h["room"]
                ),
                "town": h["town"],
                "block_group": h["block_group"],
                "map_number": h["map_number"],
                "beat_id": h["beat_id"],
                "priority": priorities[h["priority"]],
                "category": h["category"],
                "due_date": due,
                "days_overdue": max((today - due).days, 0),
                "last_outcome": h["last_outcome"] or None,
                "last_visit_at": h["last_visit_at"],
                "open_concerns": h["open_concerns"],
                "preferred_times": h["preferred_times"],
                "preferred_days": h["preferred_days"],
            }
        )
    record_list_read(
        officer,
        beat=beat,
        count=len(items),
        purpose="作業リスト",
        household_ids=[item["household_id"] for item in items],
    )
    # Rendered as the schema's renderer would, without validating hundreds of rows we built
    # to the schema again (a quarter of the operation's time); a test holds the two equal.
    return render_json(request, {"items": items, "count": len(items)})


@router.post(
    "/night-visit-approvals",
    response={201: NightApprovalOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def request_night_approval(
    request: HttpRequest, payload: NightApprovalIn
) -> tuple[int, dict[str, Any]]:
    """夜間実施の承認の申請（事前に。地域課長、交番勤務員は交番所長も承認します）."""
    officer = request_officer(request)
    household = access_household(officer, payload.household_id, purpose="夜間実施の承認申請")
    approval = actions.do_request_night_approval(
        household,
        acting_officer=officer,
        planned_start=payload.planned_start,
        planned_end=payload.planned_end,
        reason=payload.reason,
    )
    return 201, _approval_out(approval)


@router.post(
    "/night-visit-approvals/{approval_id}/approve",
    response={200: NightApprovalOut, 403: Message, 404: Message, 422: ErrorsOut},
)
@declare_access("scoped")
def approve_night_visit(request: HttpRequest, approval_id: Id) -> tuple[int, dict[str, Any]]:
    """夜間実施の承認. 必要な承認者（地域課長・交番所長）がそろうと status は APPROVED."""
    officer = request_officer(request)
    approval = access_night_approval(officer, approval_id)
    approval = actions.do_approve_night_visit(approval, acting_officer=officer)
    return 200, _approval_out(approval)


@router.get("/refusal-reports", response={200: RefusalReportList, 403: Message})
@declare_access("scoped")
def refusal_reports(request: HttpRequest, params: Query[RefusalReportParams]) -> dict[str, Any]:
    """拒否の報告: 地域課長には署の全件、交番所長にはその交番の分（新しい順）."""
    officer = request_officer(request)
    units = report_recipient_units(officer)
    if units.empty:
        record_refusal(
            officer, object_type="visits.refusalreport", station_id=None, purpose="拒否の報告の一覧"
        )
        raise PermissionDeniedError("拒否の報告は地域課長と交番所長が確認します")
    reports = RefusalReport.objects.filter(reports_addressed_to(units))
    if params.pending:
        reports = reports.filter(
            Q(manager_ack_at__isnull=True)
            | Q(needs_koban_head=True, koban_head_ack_at__isnull=True)
        )
    page = list(
        reports.select_related("visit", "visit__officer").order_by("-visit__started_at", "-id")[
            : params.limit
        ]
    )
    # The reports name households: a list read like any other (filed under the station when
    # the reader answers for one station only).
    one_station = len(units.station_ids) == 1 and not units.post_ids
    record_read(
        officer,
        EventType.LIST_HOUSEHOLDS,
        station_id=next(iter(units.station_ids)) if one_station else None,
        purpose="拒否の報告",
        count=len(page),
    )
    return {
        "items": [
            {
                "id": r.id,
                "household_id": r.visit.household_id,
                "post_id": r.post_id,
                "visit_id": r.visit_id,
                "started_at": r.visit.started_at,
                "officer": {
                    "id": r.visit.officer.id,
                    "username": r.visit.officer.username,
                    "full_name": r.visit.officer.full_name,
                },
                "explanation": r.visit.refusal_explanation,
                "needs_koban_head": r.needs_koban_head,
                "manager_acknowledged": r.manager_ack_at is not None,
                "koban_head_acknowledged": r.koban_head_ack_at is not None,
            }
            for r in page
        ]
    }


@router.post(
    "/refusal-reports/{report_id}/acknowledge",
    response={200: RefusalAckOut, 403: Message, 404: Message},
)
@declare_access("scoped")
def acknowledge_refusal(request: HttpRequest, report_id: Id) -> dict[str, Any]:
    """拒否の報告の確認（地域課長、交番勤務員の分は交番所長も）."""
    officer = request_officer(request)
    report = actions.do_acknowledge_refusal(
        access_refusal_report(officer, report_id), acting_officer=officer
    )
    return {
        "id": report.id,
        "needs_koban_head": report.needs_koban_head,
        "manager_acknowledged": report.manager_ack_at is not None,
        "koban_head_acknowledged": report.koban_head_ack_at is not None,
        "fully_acknowledged": report.fully_acknowledged,
    }
