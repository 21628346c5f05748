"""亡失・盗難の報告 over the API: report a binder or a device lost or stolen, read the report
with the households whose cards it held, and record each household's follow-up, the find and
the close (one report over binders and devices).

Reads through junkai.registers.access (404 alike for absent and out of scope, the read
recorded with the households it shows), writes through junkai.registers.actions. A rule that
refuses answers 403 with the reason (recorded through access.records.record_refusal), bad input
422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import Field, Router, Schema

from junkai.access.declare import declare_access
from junkai.access.records import record_refusal
from junkai.api.auth import request_officer
from junkai.api.boundary import DateTime, Id, In, Text, most, one_of
from junkai.api.schemas import ErrorsOut, Message
from junkai.devices import actions as device_actions
from junkai.devices.access import access_device
from junkai.lib.errors import PermissionDeniedError
from junkai.org.models import Officer
from junkai.registers import actions
from junkai.registers.access import access_binders, access_loss_report
from junkai.registers.actions import MAX_NOTE, MAX_PLACE, MAX_TEXT
from junkai.registers.models import InformMethod, LossKind, LossReport, LossReportHousehold

router = Router(tags=["registers"])

T = TypeVar("T")
WRITE_RESPONSES: dict[int, object] = {403: Message, 404: Message, 422: ErrorsOut}


class LossIn(In):
    kind: Text = Field(
        json_schema_extra=one_of(LossKind.values), description="LOST（亡失・紛失）/ STOLEN（盗難）"
    )
    occurred_at: DateTime = Field(description="発生日時（判明した日時。時差付き）")
    place: Text = Field(json_schema_extra=most(MAX_PLACE), description="発生場所")
    circumstances: Text = Field(json_schema_extra=most(MAX_TEXT), description="状況")
    measures: Text = Field(
        json_schema_extra=most(MAX_TEXT), description="措置: 遺失届・被害届の届出先、捜索の状況"
    )


class InformedIn(In):
    method: Text = Field(
        json_schema_extra=one_of(InformMethod.values),
        description="IN_PERSON（面接）/ PHONE（電話）/ LETTER（文書）/ OTHER",
    )
    note: Text = Field(
        "", json_schema_extra=most(MAX_NOTE), description="連絡の内容・相手方（OTHER では必須）"
    )


class RecreatedIn(In):
    note: Text = Field("", json_schema_extra=most(MAX_NOTE), description="備考")


class FoundIn(In):
    place: Text = Field(json_schema_extra=most(MAX_PLACE), description="発見場所")
    note: Text = Field("", json_schema_extra=most(MAX_TEXT), description="発見時の状況")


class LossHouseholdOut(Schema):
    household_id: int
    card_id: int = Field(description="亡失時に綴られていたカード")
    card_version: int = Field(description="そのカードの版（亡失時）")
    index_number: int | None
    informed_at: dt.datetime | None = Field(description="住民等への連絡日時")
    informed_method: str = Field(description="連絡の方法（未連絡は空）")
    card_recreated_at: dt.datetime | None = Field(description="カード再作成日時")
    card_revision_id: int | None = Field(description="再作成した補正（あれば）")
    done: bool = Field(description="対応済（連絡と再作成。発見後は連絡のみ）")


class LossOut(Schema):
    id: int
    post_id: int
    binder_id: int | None
    binder_number: str
    device_id: int | None = Field(description="端末の亡失・盗難なら端末のID（簿冊なら null）")
    device_label: str = Field(description="端末名（簿冊なら空）")
    checkout_id: int | None = Field(description="持出中の亡失なら持出確認簿の記載")
    kind: str
    occurred_at: dt.datetime
    place: str
    circumstances: str
    measures: str
    reported_by_id: int
    reported_at: dt.datetime
    found_at: dt.datetime | None
    found_place: str
    status: str = Field(description="OPEN（対応中）/ CLOSED（完了）")
    closed_at: dt.datetime | None
    pending_count: int = Field(description="対応が済んでいない世帯の数")
    households: list[LossHouseholdOut] = Field(
        description="報告時に簿冊に綴られていた（端末なら、持出中に端末へ同期された）カードの世帯"
        "（後の増減で変わらない）"
    )


def _out(report: LossReport) -> dict[str, Any]:
    entries = list(
        LossReportHousehold.objects.filter(report=report).order_by("index_number", "household_id")
    )
    households = [
        {
            "household_id": e.household_id,
            "card_id": e.card_id,
            "card_version": e.card_version,
            "index_number": e.index_number,
            "informed_at": e.informed_at,
            "informed_method": e.informed_method,
            "card_recreated_at": e.card_recreated_at,
            "card_revision_id": e.card_revision_id,
            "done": e.is_done(report),
        }
        for e in entries
    ]
    return {
        "id": report.id,
        "post_id": report.post_id,
        "binder_id": report.binder_id,
        "binder_number": report.binder.number if report.binder else "",
        "device_id": report.device_id,
        "device_label": report.device.label if report.device else "",
        "checkout_id": report.checkout_id,
        "kind": report.kind,
        "occurred_at": report.occurred_at,
        "place": report.place,
        "circumstances": report.circumstances,
        "measures": report.measures,
        "reported_by_id": report.reported_by_id,
        "reported_at": report.reported_at,
        "found_at": report.found_at,
        "found_place": report.found_place,
        "status": report.status,
        "closed_at": report.closed_at,
        "pending_count": sum(1 for h in households if not h["done"]),
        "households": households,
    }


def _refusal_recorded(
    officer: Officer, obj: Any, station_id: int, what: str, do: Callable[[], T]
) -> T:
    try:
        return do()
    except PermissionDeniedError:
        record_refusal(officer, obj, station_id=station_id, purpose=what)
        raise


def _report(request: HttpRequest, loss_report_id: Id) -> tuple[Officer, LossReport]:
    officer = request_officer(request)
    return officer, access_loss_report(officer, loss_report_id, record_read=False)


def _fresh(officer: Officer, loss_report_id: int) -> dict[str, Any]:
    """The report after a change, as the caller now sees it (the read recorded)."""
    return _out(access_loss_report(officer, loss_report_id))


@router.post("/binders/{binder_id}/loss-reports", response={201: LossOut, **WRITE_RESPONSES})
@declare_access("scoped")
def report_loss(request: HttpRequest, binder_id: Id, payload: LossIn) -> tuple[int, dict[str, Any]]:
    """亡失・盗難の報告（簿冊を持ち出している警察官、または取扱責任者・交番所長・管理責任者）.
    簿冊は使用停止となり、持出中なら持出確認簿の記載に亡失として記録されます. 報告時に綴られて
    いたカードの世帯が報告に記録されます. 地域課長・署長・本部に通知されます."""
    officer = request_officer(request)
    binder = access_binders(officer, [binder_id])[0]
    report = _refusal_recorded(
        officer,
        binder,
        binder.post.station_id,
        "亡失・盗難の報告",
        lambda: actions.do_report_loss(
            binder,
            acting_officer=officer,
            kind=payload.kind,
            occurred_at=payload.occurred_at,
            place=payload.place,
            circumstances=payload.circumstances,
            measures=payload.measures,
        ),
    )
    return 201, _fresh(officer, report.id)


@router.post("/devices/{device_id}/loss-reports", response={201: LossOut, **WRITE_RESPONSES})
@declare_access("scoped")
def report_device_loss(
    request: HttpRequest, device_id: Id, payload: LossIn
) -> tuple[int, dict[str, Any]]:
    """端末の亡失・盗難の報告（端末を持ち出している警察官、または取扱責任者・交番所長・管理責任者）.
    簿冊と同じ報告です: 持出中の端末に同期された世帯（カードのあるもの）が報告に記録され、
    その持出しは直ちに取り消されます（端末は次の接続で消去を指示され、それまでは鍵の貸与が
    期限で切れるだけ）. 持出確認簿の記載は亡失により終了し、端末は発見まで使用停止. 地域課長・
    署長・本部に通知されます."""
    officer = request_officer(request)
    device = access_device(officer, device_id)
    report = _refusal_recorded(
        officer,
        device,
        device.post.station_id,
        "亡失・盗難の報告",
        lambda: device_actions.do_report_device_loss(
            device,
            acting_officer=officer,
            kind=payload.kind,
            occurred_at=payload.occurred_at,
            place=payload.place,
            circumstances=payload.circumstances,
            measures=payload.measures,
        ),
    )
    return 201, _fresh(officer, report.id)


@router.get("/loss-reports/{loss_report_id}", response={200: LossOut, 404: Message})
@declare_access("scoped")
def loss_report(request: HttpRequest, loss_report_id: Id) -> dict[str, Any]:
    """亡失・盗難の報告と対象世帯（報告時に綴られていたカードの世帯）の対応状況."""
    officer = request_officer(request)
    return _out(access_loss_report(officer, loss_report_id))


@router.post(
    "/loss-reports/{loss_report_id}/households/{household_id}/informed",
    response={200: LossOut, **WRITE_RESPONSES},
)
@declare_access("scoped")
def household_informed(
    request: HttpRequest, loss_report_id: Id, household_id: Id, payload: InformedIn
) -> dict[str, Any]:
    """住民等への連絡（いつ・どの方法で）. この交番等の警察官または地域課長."""
    officer, report = _report(request, loss_report_id)
    _refusal_recorded(
        officer,
        report,
        report.post.station_id,
        "住民等への連絡",
        lambda: actions.do_record_household_informed(
            report, household_id, acting_officer=officer, method=payload.method, note=payload.note
        ),
    )
    return _fresh(officer, report.id)


@router.post(
    "/loss-reports/{loss_report_id}/households/{household_id}/card-recreated",
    response={200: LossOut, **WRITE_RESPONSES},
)
@declare_access("scoped")
def card_recreated(
    request: HttpRequest, loss_report_id: Id, household_id: Id, payload: RecreatedIn
) -> dict[str, Any]:
    """カードの再作成. 亡失後にその世帯のカードの補正があれば、最新のものに結び付けます."""
    officer, report = _report(request, loss_report_id)
    _refusal_recorded(
        officer,
        report,
        report.post.station_id,
        "カードの再作成",
        lambda: actions.do_record_card_recreated(
            report, household_id, acting_officer=officer, note=payload.note
        ),
    )
    return _fresh(officer, report.id)


@router.post("/loss-reports/{loss_report_id}/found", response={200: LossOut, **WRITE_RESPONSES})
@declare_access("scoped")
def found(request: HttpRequest, loss_report_id: Id, payload: FoundIn) -> dict[str, Any]:
    """発見の記録. 簿冊（端末）は再び使用でき、カードの再作成は不要になります（住民等への連絡は
    必要）. 端末の取り消された持出しは戻りません（新たに持出しを申告します）."""
    officer, report = _report(request, loss_report_id)
    _refusal_recorded(
        officer,
        report,
        report.post.station_id,
        "発見の記録",
        lambda: actions.do_record_loss_found(
            report, acting_officer=officer, place=payload.place, note=payload.note
        ),
    )
    return _fresh(officer, report.id)


@router.post("/loss-reports/{loss_report_id}/close", response={200: LossOut, **WRITE_RESPONSES})
@declare_access("scoped")
def close(request: HttpRequest, loss_report_id: Id) -> dict[str, Any]:
    """報告の完了（地域課長）. 対応が済んでいない世帯があれば 422."""
    officer, report = _report(request, loss_report_id)
    _refusal_recorded(
        officer,
        report,
        report.post.station_id,
        "亡失・盗難の報告の完了",
        lambda: actions.do_close_loss_report(report, acting_officer=officer),
    )
    return _fresh(officer, report.id)
